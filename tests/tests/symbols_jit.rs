//! Thread-local data in the JIT: LLJIT as `cfree-jit-orc` configures it (no
//! ORC platform runtime) cannot link TLS. Measured with LLVM 19 before the
//! refusal existed: local-dynamic, initial-exec and local-exec relocations
//! were refused at materialisation, and a general-dynamic variable linked but
//! read and wrote the wrong storage (a silent miscompile). So every publish of
//! a unit with thread-local data, defined or referenced, is refused with
//! `Error::ThreadLocal` (code 14), and the JIT stays usable.

use cfree_facade::*;
use cfree_jit_orc::{Error, Jit};
use cfree_llvm_lower::{LlvmContext, OptLevel};

/// `bump(x)`: `t += x; return t` over data `t` (thread-local with `model`, defined
/// here unless `external`).
fn bump_module(llvm: &LlvmContext, model: Option<TlsModel>, external: bool) -> cfree_llvm_lower::LlvmModule<'_> {
    let mut cg = llvm.module("tls", &TargetSpec::host()).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let mut decl = DataDecl::new(i64t);
    if let Some(m) = model {
        decl = decl.thread_local(m);
    }
    let t = cg.declare_data(if external { "host_tls" } else { "t" }, decl).unwrap();
    if !external {
        cg.define_data(t, &DataInit::new().bytes(&7i64.to_le_bytes())).unwrap();
    }
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let f = cg.declare_func("bump", FuncDecl::new(sig)).unwrap();
    cg.func_begin(f).unwrap();
    cg.push_global(t).unwrap();
    cg.push_global(t).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    let x = cg.param_slot(0, "x").unwrap();
    cg.push_local(x).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.store(MemAccess::new(i64t)).unwrap();
    cg.push_global(t).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    cfree_llvm_lower::finish(cg).unwrap()
}

#[test]
fn thread_local_data_is_refused_and_the_jit_stays_usable() {
    let jit = Jit::new().unwrap();
    let models = [TlsModel::GeneralDynamic, TlsModel::LocalDynamic, TlsModel::InitialExec, TlsModel::LocalExec];
    for model in models {
        for external in [false, true] {
            let llvm = LlvmContext::new();
            let module = bump_module(&llvm, Some(model), external);
            let err = jit.publish(&module, OptLevel::O1).expect_err("TLS must be refused");
            assert_eq!(err.code(), 14, "{model:?} external={external}: {err}");
            let want = if external { "host_tls" } else { "t" };
            assert!(matches!(&err, Error::ThreadLocal { symbol, .. } if symbol == want), "{err}");
            assert!(jit.get::<unsafe extern "C" fn(i64) -> i64>("bump").is_err(), "nothing was added");
        }
    }
    // The same program without thread-locals publishes and runs in the same JIT.
    let llvm = LlvmContext::new();
    let module = bump_module(&llvm, None, false);
    jit.publish(&module, OptLevel::O1).unwrap();
    let f = jit.get::<unsafe extern "C" fn(i64) -> i64>("bump").unwrap();
    // SAFETY: `bump` only touches its own data object.
    assert_eq!(unsafe { f.call(1) }, 8);
    // SAFETY: as above.
    assert_eq!(unsafe { f.call(2) }, 10);
}

/// A partition is a linker matter: the JIT links the unit's `.llvm_sympart`
/// section (not loaded) and runs the function.
#[test]
fn partitioned_functions_run_in_the_jit() {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("part", &TargetSpec::host()).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let d = cg.declare_data("part_k", DataDecl::new(i64t).partition("extra")).unwrap();
    cg.define_data(d, &DataInit::new().bytes(&40i64.to_le_bytes())).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let f = cg.declare_func("part_add", FuncDecl::new(sig).partition("extra")).unwrap();
    cg.func_begin(f).unwrap();
    let x = cg.param_slot(0, "x").unwrap();
    cg.push_local(x).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.push_global(d).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    let module = cfree_llvm_lower::finish(cg).unwrap();
    let jit = Jit::new().unwrap();
    jit.publish(&module, OptLevel::O2).unwrap();
    let add = jit.get::<unsafe extern "C" fn(i64) -> i64>("part_add").unwrap();
    // SAFETY: the function reads its argument and a global of this unit.
    assert_eq!(unsafe { add.call(2) }, 42);
}
