//! Capability answers checked against what LLVM actually produces, on the
//! seven triples of `doc/targets.md`, and the document checked against the
//! queries (`CFREE_BLESS=1` rewrites its matrix).
//!
//! - fast unaligned access: an `align 1` i64 load is one instruction, or
//!   byte loads (riscv64 gains it with `+unaligned-scalar-mem`);
//! - red zone: a leaf function's O0 frame moves the stack pointer only where
//!   there is none, or with `no_red_zone`;
//! - hardware floats: an f64 add is an instruction, or a `__adddf3` call;
//! - records by value: a record signature is accepted exactly where the
//!   query says;
//! - (conventions, `nest`, tail calls: `abi_diagnostics.rs`; stack probes:
//!   `control_stack.rs`.)

use cfree_facade::*;
use cfree_llvm_lower::{LlvmContext, OptLevel};
use cfree_tests::targets::{matrix, TRIPLES};

/// The body of `name` in `asm` (from its label to the next blank line or directive block end).
fn body<'a>(asm: &'a str, name: &str) -> &'a str {
    let label = asm.find(&format!("\n{name}:")).or_else(|| asm.find(&format!("\n_{name}:"))).expect("function label");
    let rest = &asm[label + 1..];
    let end = rest.find(".Lfunc_end").or_else(|| rest.find("\n\n")).unwrap_or(rest.len());
    &rest[..end]
}

fn assembly(
    spec: &TargetSpec,
    build: impl FnOnce(&mut Cg<cfree_llvm_lower::LlvmBackend<'_>>),
    level: OptLevel,
) -> String {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("caps", spec).unwrap();
    build(&mut cg);
    let mut m = cfree_llvm_lower::finish(cg).unwrap();
    m.optimize(level).unwrap();
    m.assembly().unwrap()
}

fn unaligned_load(cg: &mut Cg<cfree_llvm_lower::LlvmBackend<'_>>) {
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let ptr = cg.ty_ptr(i64t, 0).unwrap();
    let p = cfree_tests::emit::begin(cg, "unaligned", &[ptr], Some(i64t));
    cg.push_local(p[0]).unwrap();
    cg.load(MemAccess::new(ptr)).unwrap();
    cg.deref(i64t).unwrap();
    cg.load(MemAccess::new(i64t).align(1)).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
}

fn byte_loads(body: &str) -> usize {
    ["lbu", "ldrb", "movzbl", "i64.load8_u", "movzbq"].iter().map(|m| body.matches(m).count()).sum()
}

#[test]
fn unaligned_access_answers_match_code() {
    let mut specs: Vec<TargetSpec> = TRIPLES.iter().map(|t| TargetSpec::triple(*t)).collect();
    specs.push(TargetSpec::triple("riscv64-unknown-linux-gnu").with_features("+m,+a,+f,+d,+c,+unaligned-scalar-mem"));
    for spec in specs {
        let llvm = LlvmContext::new();
        let fast = llvm.module("q", &spec).unwrap().target().fast_unaligned_access();
        let asm = assembly(&spec, unaligned_load, OptLevel::O2);
        let b = body(&asm, "unaligned");
        assert_eq!(byte_loads(b) == 0, fast, "{spec:?}: answer {fast}, code:\n{b}");
    }
}

fn leaf_with_local(cg: &mut Cg<cfree_llvm_lower::LlvmBackend<'_>>, no_red_zone: bool) {
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let attrs = FuncAttrs { no_red_zone, ..FuncAttrs::default() };
    let f = cg.declare_func("leaf", FuncDecl::new(sig).attrs(attrs)).unwrap();
    cg.func_begin(f).unwrap();
    let x = cg.param_slot(0, "x").unwrap();
    let l = cg.local_slot(i64t, "l", 0).unwrap();
    cg.push_local(l).unwrap();
    cg.push_local(x).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.store(MemAccess::new(i64t)).unwrap();
    cg.push_local(l).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
}

/// Whether the function moves its stack pointer down.
fn moves_sp(body: &str) -> bool {
    body.lines().any(|l| {
        let l = l.trim();
        l.starts_with("subq") && l.ends_with("%rsp")
            || l.starts_with("sub\tsp, sp")
            || l.starts_with("sub sp, sp")
            || l.starts_with("addi\tsp, sp, -")
            || l.starts_with("subl") && l.ends_with("%esp")
            || l.starts_with("pushq") && l.contains("%rax")
    })
}

#[test]
fn red_zone_answers_match_code() {
    for triple in [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "riscv64-unknown-linux-gnu",
        "x86_64-pc-windows-msvc",
        "x86_64-apple-darwin",
        "i686-unknown-linux-gnu",
    ] {
        let spec = TargetSpec::triple(triple);
        let llvm = LlvmContext::new();
        let zone = llvm.module("q", &spec).unwrap().target().red_zone_bytes();
        let with = assembly(&spec, |cg| leaf_with_local(cg, false), OptLevel::O0);
        let without = assembly(&spec, |cg| leaf_with_local(cg, true), OptLevel::O0);
        let (a, b) = (body(&with, "leaf"), body(&without, "leaf"));
        assert_eq!(!moves_sp(a), zone > 0, "{triple}: red zone {zone}, code:\n{a}");
        assert!(moves_sp(b), "{triple}: no_red_zone must move the stack pointer:\n{b}");
    }
}

#[test]
fn hardware_float_answers_match_code() {
    let mut specs: Vec<TargetSpec> = TRIPLES.iter().map(|t| TargetSpec::triple(*t)).collect();
    specs.push(TargetSpec::triple("riscv64-unknown-linux-gnu").with_features("+m,+a,+c"));
    for spec in specs {
        let llvm = LlvmContext::new();
        let hw = llvm.module("q", &spec).unwrap().target().has_hardware_float(FloatWidth::F64);
        let asm = assembly(
            &spec,
            |cg| {
                let f64t = cg.ty_float(FloatWidth::F64).unwrap();
                let p = cfree_tests::emit::begin(cg, "fadd", &[f64t, f64t], Some(f64t));
                cfree_tests::emit::get(cg, p[0], f64t);
                cfree_tests::emit::get(cg, p[1], f64t);
                cg.float_op(FloatBinOp::Add, FastMath::NONE).unwrap();
                cg.ret().unwrap();
                cg.func_end().unwrap();
            },
            OptLevel::O2,
        );
        let b = body(&asm, "fadd");
        assert_eq!(!b.contains("__adddf3"), hw, "{spec:?}: hardware f64 {hw}, code:\n{b}");
    }
}

#[test]
fn records_by_value_answers_match_the_facade() {
    for triple in TRIPLES.iter().chain(&["aarch64-apple-darwin", "aarch64-pc-windows-msvc"]) {
        let llvm = LlvmContext::new();
        let mut cg = llvm.module("q", &TargetSpec::triple(*triple)).unwrap();
        let yes = cg.target().supports_aggregates_by_value();
        let i32t = cg.ty_int(IntWidth::I32).unwrap();
        let rec = cg.ty_record(&[i32t, i32t]).unwrap();
        let r = cg.ty_func(FuncSig::new(&[rec], Some(rec)));
        assert_eq!(r.is_ok(), yes, "{triple}: {r:?}");
        if !yes {
            assert_eq!(r.unwrap_err().code(), 901);
        }
    }
}

#[test]
fn targets_doc_matches_the_queries() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../doc/targets.md");
    let doc = std::fs::read_to_string(path).unwrap_or_default();
    let table = matrix();
    const BEGIN: &str = "<!-- capability matrix: generated by tests/tests/capabilities.rs -->\n";
    const END: &str = "<!-- end of capability matrix -->\n";
    let current = doc.split_once(BEGIN).and_then(|(_, rest)| rest.split_once(END)).map(|(t, _)| t);
    if current == Some(table.as_str()) {
        return;
    }
    if std::env::var("CFREE_BLESS").is_ok() {
        let (head, tail) = match doc.split_once(BEGIN) {
            Some((h, rest)) => (h.to_string(), rest.split_once(END).map_or(String::new(), |(_, t)| t.to_string())),
            None => (doc.clone(), String::new()),
        };
        std::fs::write(path, format!("{head}{BEGIN}{table}{END}{tail}")).unwrap();
        return;
    }
    panic!("doc/targets.md's matrix differs from the queries; rerun with CFREE_BLESS=1 and review:\n{table}");
}
