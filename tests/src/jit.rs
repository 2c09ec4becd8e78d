//! Running the suite in-process through the ORC JIT.

use cfree_facade::{FuncDecl, FuncSig, IntBinOp, IntFlags, IntWidth, MemAccess, TargetSpec};
use cfree_jit_orc::Jit;
use cfree_llvm_lower::{LlvmContext, LlvmModule, OptLevel};

use crate::programs::{emit_suite, Case};

/// Emits the suite for the host, JIT-compiles it at `level` and runs `cases`.
pub fn run_suite(level: OptLevel, cases: &[Case]) -> Result<Vec<(Case, i64)>, Box<dyn std::error::Error>> {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("suite", &TargetSpec::host())?;
    emit_suite(&mut cg)?;
    let module = cfree_llvm_lower::finish(cg)?;
    module.verify()?;
    let jit = Jit::new()?;
    jit.publish(&module, level)?;
    cases
        .iter()
        .map(|c| {
            let f = jit.get::<unsafe extern "C" fn(i64, i64) -> i64>(c.func)?;
            // SAFETY: the suite's entry points only touch their own stack, their own data
            // objects and each other, and accept any arguments.
            Ok((*c, unsafe { f.call(c.a, c.b) }))
        })
        .collect()
}

/// A unit of `n` functions `prefix_k(x)`, each a chain of `work` multiply-rotate steps
/// (the JIT tests' and benchmarks' load for publishing).
pub fn work_unit<'c>(llvm: &'c LlvmContext, prefix: &str, n: usize, work: usize) -> LlvmModule<'c> {
    let mut cg = llvm.module(prefix, &TargetSpec::host()).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    for k in 0..n {
        let f = cg.declare_func(&format!("{prefix}_{k}"), FuncDecl::new(sig)).unwrap();
        cg.func_begin(f).unwrap();
        let x = cg.param_slot(0, "x").unwrap();
        cg.push_local(x).unwrap();
        cg.load(MemAccess::new(i64t)).unwrap();
        for _ in 0..work {
            cg.push_int(i64t, k as i128 | 1).unwrap();
            cg.int_op(IntBinOp::Mul, IntFlags::NONE).unwrap();
            cg.push_int(i64t, 1).unwrap();
            cg.int_op(IntBinOp::RotL, IntFlags::NONE).unwrap();
        }
        cg.ret().unwrap();
        cg.func_end().unwrap();
    }
    cfree_llvm_lower::finish(cg).unwrap()
}
