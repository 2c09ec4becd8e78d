//! The numeric spec files (`i32 i64 f32 f64 conversions float_exprs
//! float_misc`) on AArch64: each module is compiled ahead of time at O2 for
//! `aarch64-unknown-linux-gnu` (`cfree_wasm::aot`), linked with a C harness
//! generated from the script's directives (`invoke`, `assert_return` with
//! the NaN patterns, `assert_trap`), and run under qemu-user; NaN and
//! conversion behaviour is where ISAs differ. The harness plays the runtime:
//! it builds the instance context (memory with its data segments, globals),
//! calls `init`, and catches traps with `longjmp` from `cfree_wasm_trap`.
//! Directives that validate or link modules are host-side and run by
//! `tests/spec.rs`; modules with imports or tables (none in these files) would
//! be reported as skipped. Every directive run here must pass.
//!
//! Needs `aarch64-linux-gnu-gcc` and `qemu-aarch64` (installed by
//! `ci/bootstrap`) and the spec suite (`$CFREE_WASM_SPEC` or
//! `../shared/testdata/wasm-spec`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use cfree_facade::TargetSpec;
use cfree_llvm_lower::OptLevel;
use cfree_wasm::abi::{Trap, VmLayout};
use cfree_wasm::decode::{self, ConstExpr, ExportKind, ModuleInfo, ValType};
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::parser::{self, ParseBuffer};
use wast::{Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};

const TRIPLE: &str = "aarch64-unknown-linux-gnu";
const FILES: [&str; 7] = ["i32", "i64", "f32", "f64", "conversions", "float_exprs", "float_misc"];

fn suite_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CFREE_WASM_SPEC") {
        return Some(PathBuf::from(dir));
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/wasm-spec");
    dir.is_dir().then_some(dir)
}

/// One directive the harness runs: a call and what it must give.
struct Call {
    line: usize,
    func: u32,
    args: Vec<u64>,
    expect: Expect,
}

enum Expect {
    /// Any result (an `invoke`), but no trap.
    Nothing,
    /// `assert_return`: one C condition per result on `v[i]`.
    Results(Vec<String>),
    /// `assert_trap` with this trap code.
    Trap(i32),
}

/// Counts of one file.
#[derive(Default, Debug)]
struct Counts {
    passed: usize,
    failed: Vec<String>,
    skipped: Vec<String>,
}

fn arg_bits(a: &WastArg<'_>) -> Option<u64> {
    match a {
        WastArg::Core(WastArgCore::I32(v)) => Some(u64::from(*v as u32)),
        WastArg::Core(WastArgCore::I64(v)) => Some(*v as u64),
        WastArg::Core(WastArgCore::F32(v)) => Some(u64::from(v.bits)),
        WastArg::Core(WastArgCore::F64(v)) => Some(v.bits),
        _ => None,
    }
}

/// The C condition that result slot `v[i]` matches `expected`.
fn condition(i: usize, expected: &WastRetCore<'_>) -> Option<String> {
    let w32 = format!("(uint32_t)v[{i}]");
    let w64 = format!("v[{i}]");
    Some(match expected {
        WastRetCore::I32(e) => format!("{w32} == {}u", *e as u32),
        WastRetCore::I64(e) => format!("{w64} == {}ull", *e as u64),
        WastRetCore::F32(NanPattern::CanonicalNan) => format!("({w32} & 0x7fffffffu) == 0x7fc00000u"),
        WastRetCore::F32(NanPattern::ArithmeticNan) => format!("({w32} & 0x7fc00000u) == 0x7fc00000u"),
        WastRetCore::F32(NanPattern::Value(v)) => format!("{w32} == {}u", v.bits),
        WastRetCore::F64(NanPattern::CanonicalNan) => {
            format!("({w64} & 0x7fffffffffffffffull) == 0x7ff8000000000000ull")
        }
        WastRetCore::F64(NanPattern::ArithmeticNan) => {
            format!("({w64} & 0x7ff8000000000000ull) == 0x7ff8000000000000ull")
        }
        WastRetCore::F64(NanPattern::Value(v)) => format!("{w64} == {}ull", v.bits),
        WastRetCore::Either(alts) => {
            let alts: Option<Vec<String>> = alts.iter().map(|a| condition(i, a)).collect();
            format!("({})", alts?.join(" || "))
        }
        _ => return None,
    })
}

fn trap_code(message: &str) -> Option<i32> {
    Trap::ALL
        .into_iter()
        .find(|t| message.starts_with(t.message()) || t.message().starts_with(message))
        .map(|t| t as i32)
}

/// A module ready to run: its bytes and the calls on it.
struct Pending {
    line: usize,
    bytes: Vec<u8>,
    calls: Vec<Call>,
}

fn const_bits(e: &ConstExpr) -> Option<u64> {
    match *e {
        ConstExpr::I32(v) => Some(u64::from(v as u32)),
        ConstExpr::I64(v) => Some(v as u64),
        ConstExpr::F32(b) => Some(u64::from(b)),
        ConstExpr::F64(b) => Some(b),
        _ => None,
    }
}

/// The C harness of module `m` running `calls`; `None` (with the reason) if
/// the module needs what the harness does not provide.
fn harness(m: &ModuleInfo<'_>, calls: &[Call]) -> Result<String, String> {
    if !m.imports.is_empty() {
        return Err("the module has imports".into());
    }
    if m.table.is_some() {
        return Err("the module has a table".into());
    }
    let layout = VmLayout { globals: m.globals.len() as u32, funcs: m.funcs.len() as u32 };
    let mut c = String::new();
    c.push_str(
        "#include <setjmp.h>\n#include <stdint.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\
         uint64_t cfree_wasm_stack_limit = 0;\n\
         static jmp_buf *trap_env;\nstatic int trap_code;\n\
         void cfree_wasm_trap(int32_t code) { trap_code = code; longjmp(*trap_env, 1); }\n\
         static uint64_t memdef[2];\nstatic uint64_t max_pages = 65536;\n\
         int32_t cfree_wasm_memory_grow(void *vmctx, int32_t delta) {\n\
         \x20   uint64_t old = memdef[1] / 65536, pages = old + (uint32_t)delta;\n\
         \x20   (void)vmctx;\n\
         \x20   if (pages > max_pages) return -1;\n\
         \x20   unsigned char *p = realloc((void *)(uintptr_t)memdef[0], pages * 65536 + 1);\n\
         \x20   if (!p) return -1;\n\
         \x20   memset(p + memdef[1], 0, pages * 65536 - memdef[1]);\n\
         \x20   memdef[0] = (uint64_t)(uintptr_t)p; memdef[1] = pages * 65536;\n\
         \x20   return (int32_t)old;\n}\n\
         void cfree_wasm_m1_init(void *vmctx);\n\
         typedef void (*wrapper)(void *, uint64_t *);\n",
    );
    let _ = writeln!(c, "static uint64_t vmctx[{}];", layout.slots().max(1));
    let _ = writeln!(c, "static uint64_t globals[{}];", m.globals.len().max(1));
    let _ = writeln!(
        c,
        "static int call(uint32_t f, uint64_t *v) {{\n    jmp_buf b;\n    trap_env = &b;\n    if (setjmp(b)) return trap_code;\n    \
         wrapper w = (wrapper)(uintptr_t)vmctx[{} + f];\n    w(vmctx, v);\n    return 0;\n}}",
        layout.wrapper(0) / 8
    );
    c.push_str("int main(void) {\n    int failed = 0, t;\n    uint64_t v[16];\n");
    if let Some(mem) = m.memory {
        if let Some(max) = mem.max {
            let _ = writeln!(c, "    max_pages = {max}ull;");
        }
        let _ = writeln!(
            c,
            "    memdef[1] = {}ull * 65536;\n    memdef[0] = (uint64_t)(uintptr_t)calloc(memdef[1] + 1, 1);\n    vmctx[0] = (uint64_t)(uintptr_t)memdef;",
            mem.min
        );
        for (k, d) in m.datas.iter().enumerate() {
            let ConstExpr::I32(at) = d.offset else { return Err("a data segment at a non-constant offset".into()) };
            if d.bytes.is_empty() {
                continue;
            }
            let bytes: Vec<String> = d.bytes.iter().map(|b| b.to_string()).collect();
            let _ =
                writeln!(c, "    static const unsigned char d{k}[{}] = {{{}}};", d.bytes.len().max(1), bytes.join(","));
            let _ = writeln!(
                c,
                "    memcpy((unsigned char *)(uintptr_t)memdef[0] + {}u, d{k}, {});",
                at as u32,
                d.bytes.len()
            );
        }
    } else if !m.datas.is_empty() {
        return Err("data without a memory".into());
    }
    for (g, init) in m.global_inits.iter().enumerate() {
        let bits = const_bits(init).ok_or("a global initialised from another global")?;
        let _ = writeln!(
            c,
            "    globals[{g}] = {bits}ull;\n    vmctx[{}] = (uint64_t)(uintptr_t)&globals[{g}];",
            layout.global(g as u32) / 8
        );
    }
    c.push_str("    cfree_wasm_m1_init(vmctx);\n");
    if let Some(start) = m.start {
        let _ = writeln!(c, "    if ((t = call({start}, v)) != 0) {{ printf(\"start trapped %d\\n\", t); return 1; }}");
    }
    for call in calls {
        c.push_str("    memset(v, 0, sizeof v);\n");
        for (i, a) in call.args.iter().enumerate() {
            let _ = writeln!(c, "    v[{i}] = {a}ull;");
        }
        let _ = writeln!(c, "    t = call({}, v);", call.func);
        let ok = match &call.expect {
            Expect::Nothing => "t == 0".to_string(),
            Expect::Trap(code) => format!("t == {code}"),
            Expect::Results(conds) if conds.is_empty() => "t == 0".to_string(),
            Expect::Results(conds) => format!("t == 0 && {}", conds.join(" && ")),
        };
        let _ = writeln!(
            c,
            "    if ({ok}) printf(\"pass {line}\\n\"); else {{ failed++; printf(\"FAIL {line}: trap %d, v = %llx %llx\\n\", t, \
             (unsigned long long)v[0], (unsigned long long)v[1]); }}",
            line = call.line
        );
    }
    c.push_str("    return failed != 0;\n}\n");
    Ok(c)
}

/// Compiles, links and runs one module's harness; adds its outcome to `counts`.
fn run_module(file: &str, p: &Pending, dir: &Path, counts: &mut Counts) {
    let skip_all = |counts: &mut Counts, why: &str| {
        for call in &p.calls {
            counts.skipped.push(format!("{file}:{}: {why}", call.line));
        }
    };
    let m = match decode::decode(&p.bytes) {
        Ok(m) => m,
        Err(e) => return skip_all(counts, &format!("module at line {}: {e}", p.line)),
    };
    let source = match harness(&m, &p.calls) {
        Ok(s) => s,
        Err(why) => return skip_all(counts, &format!("module at line {}: {why}", p.line)),
    };
    let spec = TargetSpec::triple(TRIPLE);
    let object = cfree_wasm::aot::compile_object(&p.bytes, &spec, OptLevel::O2)
        .unwrap_or_else(|e| panic!("{file}: module at line {}: {e}", p.line));
    let stem = dir.join(format!("{file}-{}", p.line));
    std::fs::write(stem.with_extension("o"), object).unwrap();
    std::fs::write(stem.with_extension("c"), source).unwrap();
    let exe = stem.with_extension("exe");
    let cc = Command::new("aarch64-linux-gnu-gcc")
        .args(["-O1", "-static", "-o"])
        .arg(&exe)
        .arg(stem.with_extension("c"))
        .arg(stem.with_extension("o"))
        .arg("-lm")
        .output()
        .expect("aarch64-linux-gnu-gcc runs (ci/bootstrap installs it)");
    assert!(
        cc.status.success(),
        "{file}: linking the module at line {}: {}",
        p.line,
        String::from_utf8_lossy(&cc.stderr)
    );
    let out = Command::new("qemu-aarch64").arg(&exe).output().expect("qemu-aarch64 runs (ci/bootstrap installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut seen = 0;
    for line in stdout.lines() {
        seen += 1;
        if line.starts_with("pass ") {
            counts.passed += 1;
        } else {
            counts.failed.push(format!("{file}:{}", line.trim_start_matches("FAIL ")));
        }
    }
    assert_eq!(
        seen,
        p.calls.len(),
        "{file}: the module at line {} ended early ({}): {}",
        p.line,
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn export_index(m: &ModuleInfo<'_>, name: &str) -> Option<u32> {
    m.exports.iter().find_map(|(n, k)| match k {
        ExportKind::Func(f) if n == name => Some(*f),
        _ => None,
    })
}

/// A call of `invoke` on the pending module, or why it cannot be one.
fn call_of(p: &Pending, invoke: &WastInvoke<'_>, line: usize, expect: Expect) -> Result<Call, String> {
    if invoke.module.is_some() {
        return Err("a named module".into());
    }
    let m = decode::decode(&p.bytes).map_err(|e| e.to_string())?;
    let func = export_index(&m, invoke.name).ok_or_else(|| format!("no export `{}`", invoke.name))?;
    let ty = m.func_type(func);
    if ty.params.len() > 16
        || ty.results.len() > 16
        || ty
            .params
            .iter()
            .chain(&ty.results)
            .any(|t| !matches!(t, ValType::I32 | ValType::I64 | ValType::F32 | ValType::F64))
    {
        return Err("a signature the harness does not pass".into());
    }
    let args: Option<Vec<u64>> = invoke.args.iter().map(arg_bits).collect();
    let args = args.ok_or("an argument the harness does not pass")?;
    Ok(Call { line, func, args, expect })
}

fn run_file(dir: &Path, suite: &Path, file: &str) -> Counts {
    let source = std::fs::read_to_string(suite.join(format!("{file}.wast"))).unwrap();
    let buf = ParseBuffer::new(&source).unwrap();
    let script = parser::parse::<Wast<'_>>(&buf).unwrap();
    let mut counts = Counts::default();
    let mut pending: Option<Pending> = None;
    for directive in script.directives {
        let line = directive.span().linecol_in(&source).0 + 1;
        let (invoke, expect) = match directive {
            WastDirective::Module(mut module) => {
                if let Some(p) = pending.take() {
                    run_module(file, &p, dir, &mut counts);
                }
                match module.encode() {
                    Ok(bytes) => pending = Some(Pending { line, bytes, calls: Vec::new() }),
                    Err(e) => counts.skipped.push(format!("{file}:{line}: module does not encode: {e}")),
                }
                continue;
            }
            WastDirective::Invoke(invoke) => (invoke, Expect::Nothing),
            WastDirective::AssertReturn { exec: WastExecute::Invoke(invoke), results, .. } => {
                let conds: Option<Vec<String>> = results
                    .iter()
                    .enumerate()
                    .map(|(i, r)| match r {
                        WastRet::Core(c) => condition(i, c),
                        _ => None,
                    })
                    .collect();
                match conds {
                    Some(conds) => (invoke, Expect::Results(conds)),
                    None => {
                        counts.skipped.push(format!("{file}:{line}: a result the harness does not check"));
                        continue;
                    }
                }
            }
            WastDirective::AssertTrap { exec: WastExecute::Invoke(invoke), message, .. } => match trap_code(message) {
                Some(code) => (invoke, Expect::Trap(code)),
                None => {
                    counts.failed.push(format!("{file}:{line}: no trap code for `{message}`"));
                    continue;
                }
            },
            // Validation, parsing and linking directives are host-side (`tests/spec.rs`).
            _ => continue,
        };
        let Some(p) = pending.as_mut() else {
            counts.failed.push(format!("{file}:{line}: a call before any module"));
            continue;
        };
        match call_of(p, &invoke, line, expect) {
            Ok(call) => p.calls.push(call),
            Err(why) => counts.skipped.push(format!("{file}:{line}: {why}")),
        }
    }
    if let Some(p) = pending.take() {
        run_module(file, &p, dir, &mut counts);
    }
    counts
}

#[test]
fn numeric_spec_files_pass_on_aarch64_at_o2() {
    let Some(suite) = suite_dir() else {
        eprintln!(
            "SKIPPED: the wasm spec suite is absent (set CFREE_WASM_SPEC or provide ../shared/testdata/wasm-spec); \
             nothing was checked"
        );
        return;
    };
    let dir = std::env::temp_dir().join(format!("cfree-wasm-aarch64-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut total_failed = Vec::new();
    let mut total_skipped = Vec::new();
    for file in FILES {
        let counts = run_file(&dir, &suite, file);
        eprintln!(
            "aarch64 O2 {file}.wast: {} passed, {} failed, {} skipped",
            counts.passed,
            counts.failed.len(),
            counts.skipped.len()
        );
        assert!(counts.passed > 0, "{file}: nothing ran");
        total_failed.extend(counts.failed);
        total_skipped.extend(counts.skipped);
    }
    let _ = std::fs::remove_dir_all(&dir);
    for s in &total_skipped {
        eprintln!("skipped: {s}");
    }
    assert!(total_skipped.is_empty(), "{} directives skipped", total_skipped.len());
    assert!(total_failed.is_empty(), "{} failed on AArch64:\n{}", total_failed.len(), total_failed.join("\n"));
}
