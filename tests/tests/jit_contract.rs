//! The JIT's contract: typed lookup checked against declared signatures,
//! all-or-nothing adds (a failed add leaves the JIT as it was and its names
//! free), host symbols resolved from the process, foreign targets refused.

use cfree_facade::*;
use cfree_jit_orc::{Error, Jit};
use cfree_llvm_lower::{LlvmContext, LlvmModule, OptLevel};

/// A module defining `name(i64) -> i64 = x + k`, optionally calling `callee(i64) -> i64` first.
fn module<'c>(llvm: &'c LlvmContext, spec: &TargetSpec, name: &str, k: i64, callee: Option<&str>) -> LlvmModule<'c> {
    let mut cg = llvm.module(name, spec).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let f = cg.declare_func(name, FuncDecl::new(sig)).unwrap();
    let ext = callee.map(|c| cg.declare_func(c, FuncDecl::new(sig)).unwrap());
    cg.func_begin(f).unwrap();
    let x = cg.param_slot(0, "x").unwrap();
    cg.push_local(x).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    if let Some(e) = ext {
        cg.call(Callee::Direct(e), 1).unwrap();
    }
    cg.push_int(i64t, i128::from(k)).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    cfree_llvm_lower::finish(cg).unwrap()
}

fn call(jit: &Jit, name: &str, x: i64) -> i64 {
    let f = jit.get::<unsafe extern "C" fn(i64) -> i64>(name).unwrap();
    // SAFETY: the test functions compute on their argument (and call `labs`).
    unsafe { f.call(x) }
}

#[test]
fn typed_lookup_checks_the_signature() {
    let llvm = LlvmContext::new();
    let jit = Jit::new().unwrap();
    jit.publish(&module(&llvm, &TargetSpec::host(), "inc", 1, None), OptLevel::O0).unwrap();
    assert_eq!(call(&jit, "inc", 41), 42);
    let e = jit.get::<unsafe extern "C" fn(i32) -> i64>("inc").unwrap_err();
    assert!(matches!(e, Error::SignatureMismatch { .. }), "{e}");
    let e = jit.get::<unsafe extern "C" fn(i64, i64) -> i64>("inc").unwrap_err();
    assert!(matches!(e, Error::SignatureMismatch { .. }), "{e}");
    let e = jit.get::<unsafe extern "C" fn(i64)>("inc").unwrap_err();
    assert!(matches!(e, Error::SignatureMismatch { .. }), "{e}");
    let e = jit.get::<unsafe extern "C" fn(i64) -> f64>("inc").unwrap_err();
    assert!(matches!(e, Error::SignatureMismatch { .. }), "{e}");
    assert!(matches!(jit.get::<unsafe extern "C" fn(i64) -> i64>("nope"), Err(Error::NoSuchFunction(_))));
    assert_eq!(e.code(), 4);
    assert_eq!(jit.address("nope").unwrap_err().code(), 10);
    assert!(jit.address("inc").unwrap() != 0);
}

#[test]
fn unresolved_external_leaves_the_jit_unchanged() {
    let llvm = LlvmContext::new();
    let jit = Jit::new().unwrap();
    jit.publish(&module(&llvm, &TargetSpec::host(), "base", 100, None), OptLevel::O0).unwrap();
    let broken = module(&llvm, &TargetSpec::host(), "user", 1, Some("cfree_no_such_symbol_anywhere"));
    let e = jit.publish(&broken, OptLevel::O0).unwrap_err();
    assert!(matches!(e, Error::Link { .. }), "{e}");
    assert!(e.to_string().contains("cfree_no_such_symbol_anywhere"), "{e}");
    assert!(matches!(jit.get::<unsafe extern "C" fn(i64) -> i64>("user"), Err(Error::NoSuchFunction(_))));
    assert_eq!(call(&jit, "base", 1), 101, "earlier code still runs");
    // The failed unit's names are free again: a corrected module with the same name links.
    jit.publish(&module(&llvm, &TargetSpec::host(), "user", 1, Some("base")), OptLevel::O2).unwrap();
    assert_eq!(call(&jit, "user", 1), 102);
}

#[test]
fn republishing_a_function_replaces_it() {
    let llvm = LlvmContext::new();
    let jit = Jit::new().unwrap();
    jit.publish(&module(&llvm, &TargetSpec::host(), "dup", 1, None), OptLevel::O0).unwrap();
    let p = jit.publish(&module(&llvm, &TargetSpec::host(), "dup", 2, None), OptLevel::O0).unwrap();
    assert_eq!(p.replaced, vec!["dup".to_string()]);
    assert_eq!(call(&jit, "dup", 0), 2, "calls reach the new body");
}

#[test]
fn host_symbols_resolve_from_the_process() {
    let llvm = LlvmContext::new();
    let jit = Jit::new().unwrap();
    // labs(x) + 0, with labs from the C library this process links.
    jit.publish(&module(&llvm, &TargetSpec::host(), "abs_plus", 0, Some("labs")), OptLevel::O2).unwrap();
    assert_eq!(call(&jit, "abs_plus", -42), 42);
}

#[test]
fn foreign_target_modules_are_refused() {
    let llvm = LlvmContext::new();
    let jit = Jit::new().unwrap();
    let foreign = if cfg!(target_arch = "aarch64") { "x86_64-unknown-linux-gnu" } else { "aarch64-unknown-linux-gnu" };
    let e = jit.publish(&module(&llvm, &TargetSpec::triple(foreign), "f", 1, None), OptLevel::O0).unwrap_err();
    assert!(matches!(e, Error::WrongTarget { .. }) && e.code() == 3, "{e}");
}
