//! A process for debugger tests of JIT code (`tests/tests/debug_info.rs`):
//! publishes the debug program (`cfree_tests::debug_program`) at the level
//! given as the only argument (`O0` by default) in a JIT with debugger
//! support, calls its entry `geom_main` and prints what it returned.

use cfree_facade::TargetSpec;
use cfree_jit_orc::{Jit, JitOptions};
use cfree_llvm_lower::{LlvmContext, OptLevel};

fn main() -> Result<(), String> {
    let level = match std::env::args().nth(1).as_deref() {
        None | Some("O0") => OptLevel::O0,
        Some("O2") => OptLevel::O2,
        Some(other) => return Err(format!("unknown level {other} (O0 or O2)")),
    };
    let dir = std::env::current_dir().map_err(|e| e.to_string())?;
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("geom", &TargetSpec::host()).map_err(|e| e.to_string())?;
    cfree_tests::debug_program::build(&mut cg, &dir, level != OptLevel::O0, "geom_main").map_err(|e| e.to_string())?;
    let module = cfree_llvm_lower::finish(cg).map_err(|e| e.to_string())?;
    let jit = Jit::with_options(JitOptions { debugger: true, ..JitOptions::default() }).map_err(|e| e.to_string())?;
    jit.publish(&module, level).map_err(|e| e.to_string())?;
    let entry = jit.get::<unsafe extern "C" fn() -> i32>("geom_main").map_err(|e| e.to_string())?;
    // SAFETY: the program was compiled through the facade with this signature
    // and touches only its own data.
    let result = unsafe { entry.call() };
    println!("geom_main returned {result}");
    Ok(())
}
