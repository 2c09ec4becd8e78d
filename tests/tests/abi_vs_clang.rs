//! The facade's lowered signatures of generated prototypes (records by value
//! as parameters and results, scalars mixed) against clang's, for targets we
//! cannot run (Win64, i686 Linux, wasm32) and, as an extra check, the three
//! Linux targets `abi_interop` runs.
//!
//! For each prototype, clang-19 `-O0 -S -emit-llvm` of a C definition gives
//! the defining signature; the facade defines the same prototype. The two
//! `define` lines must agree on the LLVM parameter and result types and the
//! ABI attributes (`sret`, `byval`, `align N`, `inreg`, `signext`,
//! `zeroext`), after normalising away names, linkage and attributes that do
//! not change the ABI (`noundef`, `noalias`, `nocapture`, `dead_on_unwind`,
//! `writable`, `nonnull`, `dereferenceable`) and the type inside
//! `byval(..)`/`sret(..)` (clang's `%struct.S` against our `[N x i8]`: the
//! C prototype fixes the size).

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};

use cfree_facade::*;
use cfree_llvm_lower::{LlvmBackend, LlvmContext};
use cfree_tests::abi_shapes::{build, protos, Arg, Built, Proto, Record, Rng, ShapeGen};

const DEFAULT_SEED: u64 = 0x0c1a_0617_5eed_0019;
const SHAPES: usize = 200;
const PROTOS: usize = 200;

fn seed() -> u64 {
    cfree_tests::abi_shapes::seed(DEFAULT_SEED)
}

fn param(cg: &mut Cg<LlvmBackend<'_>>, a: Arg, built: &[Built]) -> Result<Param> {
    Ok(match a {
        Arg::Record(i) => Param::new(built[i].ty),
        Arg::I8s => Param::new(cg.ty_int(IntWidth::I8)?).ext(AbiExt::Sign),
        Arg::U16z => Param::new(cg.ty_int(IntWidth::I16)?).ext(AbiExt::Zero),
        Arg::I32 => Param::new(cg.ty_int(IntWidth::I32)?),
        Arg::I64 => Param::new(cg.ty_int(IntWidth::I64)?),
        Arg::F32 => Param::new(cg.ty_float(FloatWidth::F32)?),
        Arg::F64 => Param::new(cg.ty_float(FloatWidth::F64)?),
    })
}

/// Defines `f_k` with a body that returns zeroes (the signature is what counts).
fn define(cg: &mut Cg<LlvmBackend<'_>>, k: usize, p: &Proto, built: &[Built]) -> Result<()> {
    let params = p.params.iter().map(|a| param(cg, *a, built)).collect::<Result<Vec<_>>>()?;
    let result = p.result.map(|a| param(cg, a, built)).transpose()?;
    let sig = cg.ty_func(FuncSig::with_params(params.clone(), result))?;
    // Internal: `Cg::finish` panics on exported definitions with records (see
    // abi_interop's `finish_accepts_exported_functions_with_records`); the
    // IR before optimisation keeps the C signature either way.
    let f = cg.declare_func(&format!("f_{k}"), FuncDecl::new(sig).linkage(Linkage::Internal))?;
    cg.func_begin(f)?;
    match result {
        None => {}
        Some(r) if cg.types().is_scalar(r.ty) => cg.push_zero(r.ty)?,
        Some(r) => {
            let l = cg.local_slot(r.ty, "r", 0)?;
            cg.push_local(l)?;
        }
    }
    cg.ret()?;
    cg.func_end()?;
    // `c_k` passes its own parameters on to `f_k` and returns its result: the call site.
    let caller = cg.declare_func(&format!("c_{k}"), FuncDecl::new(sig).linkage(Linkage::Internal))?;
    cg.func_begin(caller)?;
    let dest = match result {
        Some(r) if !cg.types().is_scalar(r.ty) => {
            let l = cg.local_slot(r.ty, "r", 0)?;
            cg.push_local(l)?;
            Some(l)
        }
        _ => None,
    };
    for (i, p) in params.iter().enumerate() {
        let slot = cg.param_slot(i as u32, "")?;
        cg.push_local(slot)?;
        if cg.types().is_scalar(p.ty) {
            cg.load(MemAccess::new(p.ty))?;
        }
    }
    cg.call(Callee::Direct(f), params.len() as u32)?;
    if let Some(l) = dest {
        cg.push_local(l)?;
    }
    cg.ret()?;
    cg.func_end()?;
    // `vc_k` passes the same values as variadic extras of `v_k(int, ...)`,
    // promoted as C promotes them (float to double, narrow integers to int).
    let (i32t, i64t, f64t) = (cg.ty_int(IntWidth::I32)?, cg.ty_int(IntWidth::I64)?, cg.ty_float(FloatWidth::F64)?);
    let v_sig = cg.ty_func(FuncSig::new(&[i32t], Some(i64t)).variadic())?;
    let v = cg.declare_func(&format!("v_{k}"), FuncDecl::new(v_sig))?;
    let vc_params: Vec<TypeId> = params.iter().map(|p| p.ty).collect();
    let vc_sig = cg.ty_func(FuncSig::new(&vc_params, Some(i64t)))?;
    let vc = cg.declare_func(&format!("vc_{k}"), FuncDecl::new(vc_sig).linkage(Linkage::Internal))?;
    cg.func_begin(vc)?;
    cg.push_int(i32t, 1)?;
    for (i, (p, a)) in params.iter().zip(&p.params).enumerate() {
        let slot = cg.param_slot(i as u32, "")?;
        cg.push_local(slot)?;
        if !cg.types().is_scalar(p.ty) {
            continue;
        }
        cg.load(MemAccess::new(p.ty))?;
        match a {
            Arg::F32 => cg.cast(CastOp::FpExt, f64t)?,
            Arg::I8s => cg.cast(CastOp::SExt, i32t)?,
            Arg::U16z => cg.cast(CastOp::ZExt, i32t)?,
            _ => {}
        }
    }
    cg.call(Callee::Direct(v), 1 + params.len() as u32)?;
    cg.ret()?;
    cg.func_end()
}

/// The normalised call of `@callee` inside `@caller`'s body: (result, arguments).
fn call_site(ir: &str, caller: &str, callee: &str) -> Option<(String, Vec<String>, String)> {
    let start = ir.lines().position(|l| l.starts_with("define ") && l.contains(&format!("@{caller}(")))?;
    let needle = format!("@{callee}(");
    let line =
        ir.lines().skip(start).take_while(|l| *l != "}").find(|l| l.contains(" call ") && l.contains(&needle))?;
    let from = line.find(" call ")? + " call ".len();
    let at = line.find(&needle)?;
    let result = normalise(&line[from..at], false);
    let rest = &line[at + needle.len()..];
    let mut depth = 1;
    let end = rest.char_indices().find_map(|(i, c)| {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        (depth == 0).then_some(i)
    })?;
    let args = split_top(&rest[..end], Some(',')).iter().map(|p| normalise(p, true)).collect();
    Some((result, args, line.trim().to_string()))
}

/// Splits at whitespace (or `sep`) outside brackets.
fn split_top(s: &str, sep: Option<char>) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    for ch in s.chars() {
        match ch {
            '(' | '[' | '{' | '<' => depth += 1,
            ')' | ']' | '}' | '>' => depth -= 1,
            _ => {}
        }
        let split = depth == 0 && (if let Some(c) = sep { ch == c } else { ch.is_whitespace() });
        if split {
            if !cur.trim().is_empty() {
                out.push(cur.trim().to_string());
            }
            cur.clear();
        } else {
            cur.push(ch);
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// Tokens that say nothing about where a value travels.
fn ignored(tok: &str) -> bool {
    const WORDS: [&str; 12] = [
        "noundef",
        "noalias",
        "nocapture",
        "dead_on_unwind",
        "writable",
        "nonnull",
        "dso_local",
        "internal",
        "hidden",
        "local_unnamed_addr",
        "unnamed_addr",
        "readonly",
    ];
    WORDS.contains(&tok) || tok.starts_with("dereferenceable(")
}

/// Normalised tokens of one parameter or of the result part.
fn normalise(part: &str, param: bool) -> String {
    let toks = split_top(part, None);
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i].as_str();
        i += 1;
        // A parameter's name comes last; the result's `%struct.S` is a type.
        if ignored(t) || (param && t.starts_with('%') && i == toks.len()) {
            continue;
        }
        if let Some(kind) = ["byval(", "sret("].iter().find(|k| t.starts_with(**k)) {
            out.push(kind.trim_end_matches('(').to_string());
        } else if t == "align" && i < toks.len() {
            out.push(format!("align {}", toks[i]));
            i += 1;
        } else {
            out.push(t.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    out.join(" ")
}

/// The normalised signature of `@name` in `ir`: (result, parameters).
fn signature(ir: &str, name: &str) -> Option<(String, Vec<String>, String)> {
    let needle = format!("@{name}(");
    let line = ir.lines().find(|l| l.starts_with("define ") && l.contains(&needle))?;
    let at = line.find(&needle)?;
    let result = normalise(&line["define ".len()..at], false);
    let rest = &line[at + needle.len()..];
    let mut depth = 1;
    let end = rest.char_indices().find_map(|(i, c)| {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        (depth == 0).then_some(i)
    })?;
    let params = split_top(&rest[..end], Some(',')).iter().map(|p| normalise(p, true)).collect();
    Some((result, params, line.to_string()))
}

/// Where clang's AArch64 IR differs from ours with the same ABI:
/// - an HFA result is clang's `%struct.S` (LLVM returns a struct of N equal
///   floats in v0-v3, exactly like `[N x float]`), made `[N x T]`;
/// - `alignstack(8)` on an HFA argument: LLVM's AArch64 backend aligns every
///   stack block to at least 8 outside Darwin (`CC_AArch64_Custom_Block`), so
///   the attribute changes nothing there (`alignstack(16)` is kept).
fn aarch64_equivalent(
    ir: &str,
    (result, params, line): (String, Vec<String>, String),
) -> (String, Vec<String>, String) {
    let result = match result.strip_prefix('%') {
        Some(_) => match flatten(ir, &result).as_deref() {
            Some([first, rest @ ..]) if (first == "float" || first == "double") && rest.iter().all(|t| t == first) => {
                format!("[{} x {first}]", rest.len() + 1)
            }
            _ => result,
        },
        None => result,
    };
    let params = params.into_iter().map(|p| p.replace(" alignstack(8)", "")).collect();
    (result, params, line)
}

/// The scalar leaves of an IR type, resolving `%struct.X = type {..}` in `ir`.
fn flatten(ir: &str, ty: &str) -> Option<Vec<String>> {
    let ty = ty.trim();
    if ty.starts_with('%') {
        let def = format!("{ty} = type ");
        let body = ir.lines().find_map(|l| l.strip_prefix(&def))?;
        return flatten(ir, body);
    }
    if let Some(inner) = ty.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        let mut out = Vec::new();
        for field in split_top(inner, Some(',')) {
            out.extend(flatten(ir, &field)?);
        }
        return Some(out);
    }
    if let Some(inner) = ty.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        let (n, elem) = inner.split_once(" x ")?;
        let leaves = flatten(ir, elem)?;
        return Some((0..n.trim().parse::<usize>().ok()?).flat_map(|_| leaves.clone()).collect());
    }
    Some(vec![ty.to_string()])
}

fn c_source(shapes: &[Record], protos: &[Proto]) -> String {
    let mut c = String::new();
    for (i, s) in shapes.iter().enumerate() {
        c.push_str(&s.c_decls(&format!("S{i}")));
    }
    for (k, p) in protos.iter().enumerate() {
        let body = match p.result {
            None => String::new(),
            Some(Arg::Record(_)) => {
                format!(" {} r; __builtin_memset(&r, 0, sizeof r); return r; ", p.result.expect("a result").c())
            }
            Some(_) => " return 0; ".into(),
        };
        let _ = writeln!(c, "{} {{{body}}}", p.c(&format!("f_{k}")));
        let args: Vec<String> = (0..p.params.len()).map(|i| format!("p{i}")).collect();
        let call = format!("f_{k}({})", args.join(", "));
        let body = if p.result.is_some() { format!(" return {call}; ") } else { format!(" {call}; ") };
        let _ = writeln!(c, "{} {{{body}}}", p.c(&format!("c_{k}")));
        let vc = Proto { params: p.params.clone(), result: Some(Arg::I64) }.c(&format!("vc_{k}"));
        let extras: String = args.iter().map(|a| format!(", {a}")).collect();
        let _ = writeln!(c, "long long v_{k}(int, ...);\n{vc} {{ return v_{k}(1{extras}); }}");
    }
    c
}

fn clang_ir(triple: &str, c: &str) -> std::result::Result<String, String> {
    let spawned = Command::new("clang-19")
        .args(["-S", "-emit-llvm", "-O0", "-x", "c", "-std=gnu11", "-w", "-o", "-", "-"])
        .arg(format!("--target={triple}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = spawned.map_err(|e| format!("SKIP: cannot run clang-19 ({e}); run ci/bootstrap"))?;
    child.stdin.take().expect("piped").write_all(c.as_bytes()).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("clang-19 --target={triple} failed:\n{}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn check(triple: &str) {
    let seed = seed();
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("abi", &TargetSpec::triple(triple)).unwrap();
    let int128 = cg.target().supports_int_width(128);
    // MSVC's C has no empty records (clang gives them size 4 there); the facade refuses them.
    let gen = ShapeGen::new(seed, int128);
    let mut gen = if triple.contains("msvc") { gen.without_empty_records() } else { gen };
    let shapes = gen.shapes(SHAPES);
    let protos = protos(&mut Rng(seed ^ 0x7072_6f74), &shapes, PROTOS);
    let built: Vec<Built> = shapes.iter().map(|s| build(&mut cg, s).unwrap()).collect();
    let mut refused = String::new();
    for (k, p) in protos.iter().enumerate() {
        if let Err(e) = define(&mut cg, k, p, &built) {
            let _ = writeln!(refused, "  {}: {e}", p.c(&format!("f_{k}")));
            // Drop a half-emitted body, if any, so the next function can begin.
            let _ = cg.func_abandon();
        }
    }
    let ours = cfree_llvm_lower::finish(cg).unwrap().ir();
    let c = c_source(&shapes, &protos);
    let theirs = match clang_ir(triple, &c) {
        Ok(ir) => ir,
        Err(e) if e.starts_with("SKIP") => {
            eprintln!("SKIPPED abi_vs_clang {triple}: {e}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let mut failures = String::new();
    for (k, p) in protos.iter().enumerate() {
        let name = format!("f_{k}");
        let (Some(a), Some(b)) = (signature(&ours, &name), signature(&theirs, &name)) else {
            if !refused.contains(&format!(" {name}(")) {
                let _ = writeln!(failures, "--- {}: no define line on one side", p.c(&name));
            }
            continue;
        };
        let b = if triple.starts_with("aarch64") { aarch64_equivalent(&theirs, b) } else { b };
        // The call site in `c_k` must pass the same way as the definition takes.
        let caller = format!("c_{k}");
        match (call_site(&ours, &caller, &name), call_site(&theirs, &caller, &name)) {
            (Some(x), Some(y)) => {
                let y = if triple.starts_with("aarch64") { aarch64_equivalent(&theirs, y) } else { y };
                if (&x.0, &x.1) != (&y.0, &y.1) {
                    let _ = writeln!(failures, "--- call in {}\n  facade: {}\n  clang:  {}", p.c(&caller), x.2, y.2);
                }
            }
            _ => {
                let _ = writeln!(failures, "--- {}: no call of {name} on one side", p.c(&caller));
            }
        }
        let (vcaller, vname) = (format!("vc_{k}"), format!("v_{k}"));
        let theirs_call = call_site(&theirs, &vcaller, &vname);
        let theirs_call = if triple.starts_with("aarch64") {
            theirs_call.map(|y| aarch64_equivalent(&theirs, y))
        } else {
            theirs_call
        };
        match (call_site(&ours, &vcaller, &vname), theirs_call) {
            (Some(x), Some(y)) if (&x.0, &x.1) == (&y.0, &y.1) => {}
            (Some(x), Some(y)) => {
                let _ = writeln!(
                    failures,
                    "--- variadic call in vc_{k} ({})\n  facade: {}\n  clang:  {}",
                    p.c(&vname),
                    x.2,
                    y.2
                );
            }
            _ => {
                let _ = writeln!(failures, "--- vc_{k}: no call of {vname} on one side");
            }
        }
        if (&a.0, &a.1) == (&b.0, &b.1) {
            continue;
        }
        let _ = writeln!(failures, "--- {}\n  facade: {}\n  clang:  {}", p.c(&name), a.2, b.2);
        let _ = writeln!(
            failures,
            "  normalised facade: {} ({})\n  normalised clang:  {} ({})",
            a.0,
            a.1.join(", "),
            b.0,
            b.1.join(", ")
        );
        for r in p.records() {
            let _ = writeln!(failures, "  S{r} = {} (size {})", shapes[r].describe(), built[r].size);
        }
    }
    println!(
        "abi_vs_clang {triple}: seed {seed:#x}, {SHAPES} shapes, {PROTOS} prototypes and their call sites compared"
    );
    assert!(refused.is_empty(), "{triple} seed {seed:#x}: the facade refused\n{refused}");
    assert!(failures.is_empty(), "{triple} seed {seed:#x}: signatures differ from clang's\n{failures}");
}

/// Without empty records, which the facade refuses on `*-windows-msvc`.
#[test]
fn win64() {
    check("x86_64-pc-windows-msvc");
}

#[test]
fn i686_linux() {
    check("i686-unknown-linux-gnu");
}

#[test]
fn wasm32() {
    check("wasm32-unknown-unknown");
}

#[test]
fn x86_64_linux() {
    check("x86_64-unknown-linux-gnu");
}

#[test]
fn aarch64_linux() {
    check("aarch64-unknown-linux-gnu");
}

#[test]
fn riscv64_linux() {
    check("riscv64-unknown-linux-gnu");
}

/// The normaliser keeps what matters and drops what does not.
#[test]
fn normalisation() {
    let clang = "define dso_local void @f_1(ptr dead_on_unwind noalias writable sret(%struct.S1) align 8 %0, i32 noundef signext %1, ptr noundef byval(%struct.S2) align 4 %2, [2 x i64] %3) #0 {";
    let ours = "define internal void @f_1(ptr sret([24 x i8]) align 8 %0, i32 signext %1, ptr byval([12 x i8]) align 4 %2, [2 x i64] %p3) {";
    let (a, b) = (signature(clang, "f_1").unwrap(), signature(ours, "f_1").unwrap());
    assert_eq!((&a.0, &a.1), (&b.0, &b.1));
    assert_eq!(a.1, ["ptr sret align 8", "i32 signext", "ptr byval align 4", "[2 x i64]"]);
    let other = "define internal { double, i64 } @f_1(ptr sret([24 x i8]) align 16 %0, i32 %1, ptr %2, [2 x i64] %3) {";
    let c = signature(other, "f_1").unwrap();
    assert_eq!(c.0, "{ double, i64 }");
    assert_ne!(a.1, c.1);
}
