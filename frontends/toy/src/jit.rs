//! Running a checked program in the JIT with the toy runtime.

use std::sync::Arc;

use cfree_facade::TargetSpec;
use cfree_jit_orc::{Jit, Registry, SourceIndex};
use cfree_llvm_lower::{LlvmContext, OptLevel};
use cfree_statepoint::Safepoint;
use cfree_toy_rt::{SafepointSource, Settings, Stats};

use crate::codegen;
use crate::typed::TypedProgram;

struct Snapshot(Arc<Registry>, Arc<SourceIndex>);

impl SafepointSource for Snapshot {
    fn safepoint_at(&self, pc: u64) -> Option<&Safepoint> {
        self.0.safepoint_at(pc)
    }

    fn source_frames(&self, pc: u64) -> Vec<cfree_statepoint::SourcePos> {
        self.1.frames(pc)
    }
}

/// What a run produced.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    /// `main`'s result.
    pub result: i64,
    /// The collector's statistics.
    pub stats: Stats,
}

/// Stack size of the thread that runs managed code (deep recursion is normal in Toy).
pub const STACK_SIZE: usize = 1 << 30;

/// Compiles `program` at `level`, publishes it and calls `main(n)` on a fresh
/// thread with a [`STACK_SIZE`] stack. Output goes to stdout; runtime errors
/// and unrecovered panics
/// exit the process with status 101 after printing `file:line:col: runtime error: ...`
/// (or `panic: ...`).
pub fn run(
    program: &TypedProgram,
    n: i64,
    level: OptLevel,
    settings: Settings,
    options: &codegen::Options,
) -> Result<Outcome, String> {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(STACK_SIZE)
            .spawn_scoped(s, || run_here(program, n, level, settings, options))
            .map_err(|e| format!("starting the program thread: {e}"))?
            .join()
            .map_err(|_| "the program thread panicked".to_string())?
    })
}

fn run_here(
    program: &TypedProgram,
    n: i64,
    level: OptLevel,
    settings: Settings,
    options: &codegen::Options,
) -> Result<Outcome, String> {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module(&program.file_name, &TargetSpec::host()).map_err(|e| e.to_string())?;
    codegen::emit(program, &mut cg, options).map_err(|e| format!("code generation: {e}"))?;
    let module = cfree_llvm_lower::finish(cg).map_err(|e| e.to_string())?;
    let jit = Jit::new().map_err(|e| e.to_string())?;
    for (name, addr) in cfree_toy_rt::symbols() {
        jit.define_host_symbol(name, addr).map_err(|e| e.to_string())?;
    }
    jit.publish(&module, level).map_err(|e| e.to_string())?;
    let traps = jit.registry().traps().map(|t| (t.pc, t.handler)).collect();
    cfree_toy_rt::set_trap_table(traps)?;
    cfree_toy_rt::set_file_name(&program.file_name);
    let main =
        jit.get::<unsafe extern "C" fn(*const u8, i64) -> i64>(codegen::ENTRY_SYMBOL).map_err(|e| e.to_string())?;
    let ctx = cfree_toy_rt::install(Arc::new(Snapshot(jit.registry(), jit.sources())), settings);
    #[allow(unsafe_code)]
    // SAFETY: the program was type-checked and compiled with run-time checks; it allocates
    // only through the runtime installed above, whose context `ctx` is this thread's, and
    // on the task threads the runtime registers.
    let result = unsafe { main.call(ctx as *const u8, n) };
    // A panic that no deferred call recovered: its report, and status 101.
    cfree_toy_rt::panic::exit_if_unrecovered();
    Ok(Outcome { result, stats: cfree_toy_rt::finish() })
}
