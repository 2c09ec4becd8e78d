//! Running the suite in-process through the ORC JIT.

use cfree_facade::TargetSpec;
use cfree_jit_orc::Jit;
use cfree_llvm_lower::{LlvmContext, OptLevel};

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
