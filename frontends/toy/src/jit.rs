//! Running a checked program in the JIT with the toy runtime.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

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

/// The safepoints of a tiered run: the base tier's registry until the top
/// tier is published, then the registry that holds both (set before any top
/// tier code can run: the redirects are published after it).
struct Tiers {
    base: Arc<Registry>,
    top: OnceLock<Arc<Registry>>,
    sources: Arc<SourceIndex>,
    /// Frames of top-tier code the runtime asked about (collections, backtraces).
    top_frames: AtomicU64,
}

impl SafepointSource for Tiers {
    fn safepoint_at(&self, pc: u64) -> Option<&Safepoint> {
        let Some(top) = self.top.get() else { return self.base.safepoint_at(pc) };
        let found = top.safepoint_at(pc);
        if found.is_some() && self.base.function_at(pc).is_none() {
            self.top_frames.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    fn source_frames(&self, pc: u64) -> Vec<cfree_statepoint::SourcePos> {
        self.sources.frames(pc)
    }
}

/// When the tiers of a [`run_tiered`] run were ready, measured from its start.
#[derive(Clone, Debug)]
pub struct TierReport {
    /// The base tier published at O0: `main` starts then.
    pub base_ready: Duration,
    /// `main` returned.
    pub main_returned: Duration,
    /// The redirects were published: calls from then on ran the top tier.
    /// `None` if the top tier failed ([`Self::top_error`]).
    pub top_ready: Option<Duration>,
    /// Why the top tier was not used, if it was not (the run went on in the base tier).
    pub top_error: Option<String>,
    /// Frames of top-tier code that collections and backtraces walked.
    pub top_frames: u64,
}

impl std::fmt::Display for TierReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(f, "tiers: base (O0) ready at {:.1} ms, ", ms(self.base_ready))?;
        match self.top_ready {
            Some(t) => write!(f, "top (O2) at {:.1} ms, ", ms(t))?,
            None => write!(f, "top failed, ")?,
        }
        write!(f, "main returned at {:.1} ms, {} top-tier frames walked", ms(self.main_returned), self.top_frames)
    }
}

/// What a run produced.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    /// `main`'s result.
    pub result: i64,
    /// The collector's statistics.
    pub stats: Stats,
    /// From the start of the run (code generation, publish) until `main` started.
    pub ready: Duration,
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
    on_program_thread(|| run_here(program, n, level, settings, options))
}

/// Runs `f` on a fresh thread with a [`STACK_SIZE`] stack.
fn on_program_thread<T: Send>(f: impl FnOnce() -> Result<T, String> + Send) -> Result<T, String> {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(STACK_SIZE)
            .spawn_scoped(s, f)
            .map_err(|e| format!("starting the program thread: {e}"))?
            .join()
            .map_err(|_| "the program thread panicked".to_string())?
    })
}

/// Like [`run`], in two tiers (`doc/toy.md`, "Tiered JIT"): the base tier
/// is published at O0 and `main` starts at once; meanwhile a background
/// thread compiles the top tier at O2, publishes it, and switches every
/// function's stable entry to it, so calls made from then on run O2 code
/// (frames already running finish in the base tier). With
/// `wait_for_top`, `main` starts only once the top tier is in place (for
/// tests: then all of the program but the entry runs in the top tier).
pub fn run_tiered(
    program: &TypedProgram,
    n: i64,
    settings: Settings,
    options: &codegen::Options,
    wait_for_top: bool,
) -> Result<(Outcome, TierReport), String> {
    on_program_thread(|| run_tiered_here(program, n, settings, options, wait_for_top))
}

fn publish_tier(
    jit: &Jit,
    program: &TypedProgram,
    options: &codegen::Options,
    tier: codegen::Tier,
    level: OptLevel,
) -> Result<(), String> {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module(&program.file_name, &TargetSpec::host()).map_err(|e| e.to_string())?;
    let options = codegen::Options { tier, ..options.clone() };
    let which = if tier == codegen::Tier::Whole { String::new() } else { format!(" ({tier:?} tier)") };
    codegen::emit(program, &mut cg, &options).map_err(|e| format!("code generation{which}: {e}"))?;
    let module = cfree_llvm_lower::finish(cg).map_err(|e| e.to_string())?;
    jit.publish_owned(module, level).map_err(|e| e.to_string())?;
    Ok(())
}

/// A JIT session holding the program's first (or only) module, `tier` at
/// `level`, with the runtime's symbols, the trap table and the file name set.
fn start_session(
    program: &TypedProgram,
    options: &codegen::Options,
    tier: codegen::Tier,
    level: OptLevel,
    host: &[(&str, u64)],
) -> Result<Jit, String> {
    let jit = Jit::new().map_err(|e| e.to_string())?;
    for (name, addr) in cfree_toy_rt::symbols().into_iter().chain(host.iter().copied()) {
        jit.define_host_symbol(name, addr).map_err(|e| e.to_string())?;
    }
    publish_tier(&jit, program, options, tier, level)?;
    let traps = jit.registry().traps().map(|t| (t.pc, t.handler)).collect();
    cfree_toy_rt::set_trap_table(traps)?;
    cfree_toy_rt::set_file_name(&program.file_name);
    Ok(jit)
}

/// Publishes the top tier, makes its safepoints and traps known, fills the
/// OSR table (base-tier frames in OSR loops move over at their next
/// iteration), then switches the entries.
fn tier_up(
    jit: &Jit,
    program: &TypedProgram,
    options: &codegen::Options,
    tiers: &Tiers,
    osr_table: &[AtomicU64],
) -> Result<(), String> {
    publish_tier(jit, program, options, codegen::Tier::Top, OptLevel::O2)?;
    let registry = jit.registry();
    cfree_toy_rt::set_trap_table(registry.traps().map(|t| (t.pc, t.handler)).collect())?;
    let _ = tiers.top.set(registry);
    for (word, name) in osr_table.iter().zip(crate::osr::entries(program)) {
        let entry = jit.address(&name).map_err(|e| format!("the top tier's OSR entry `{name}`: {e}"))?;
        // Release: a base-tier frame that sees the entry sees the linked code behind it.
        word.store(entry, Ordering::Release);
    }
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("toy.redirects", &TargetSpec::host()).map_err(|e| e.to_string())?;
    codegen::emit_redirects(program, &mut cg).map_err(|e| format!("code generation (redirects): {e}"))?;
    let module = cfree_llvm_lower::finish(cg).map_err(|e| e.to_string())?;
    jit.publish_owned(module, OptLevel::O2).map_err(|e| format!("publishing the redirects: {e}"))?;
    Ok(())
}

fn run_tiered_here(
    program: &TypedProgram,
    n: i64,
    settings: Settings,
    options: &codegen::Options,
    wait_for_top: bool,
) -> Result<(Outcome, TierReport), String> {
    let start = Instant::now();
    // The base tier's OSR table (`crate::osr`): a word per OSR loop, filled by
    // `tier_up`. Declared before the session, so it outlives the code using it.
    let osr_table: Vec<AtomicU64> = (0..crate::osr::entries(program).len().max(1)).map(|_| AtomicU64::new(0)).collect();
    let host = [(crate::osr::TABLE_SYMBOL, osr_table.as_ptr() as u64)];
    let jit = start_session(program, options, codegen::Tier::Base, OptLevel::O0, &host)?;
    let main =
        jit.get::<unsafe extern "C" fn(*const u8, i64) -> i64>(codegen::ENTRY_SYMBOL).map_err(|e| e.to_string())?;
    let tiers = Arc::new(Tiers {
        base: jit.registry(),
        top: OnceLock::new(),
        sources: jit.sources(),
        top_frames: AtomicU64::new(0),
    });
    let ctx = cfree_toy_rt::install(tiers.clone(), settings);
    let base_ready = start.elapsed();
    let (result, main_returned, top) = std::thread::scope(|s| {
        let mut handle =
            Some(s.spawn(|| tier_up(&jit, program, options, &tiers, &osr_table).map(|()| start.elapsed())));
        let early = if wait_for_top { handle.take().map(|h| h.join()) } else { None };
        #[allow(unsafe_code)]
        // SAFETY: as in `run_here`; the top tier and the redirects have the
        // base tier's signatures (the JIT checked them), and the runtime knows
        // their safepoints and traps before any of their code can run.
        let result = unsafe { main.call(ctx as *const u8, n) };
        let main_returned = start.elapsed();
        let top = match (early, handle) {
            (Some(top), _) => top,
            (None, Some(h)) => h.join(),
            (None, None) => Ok(Err("the top tier was not started".to_string())),
        };
        (result, main_returned, top)
    });
    cfree_toy_rt::panic::exit_if_unrecovered();
    let top = top.unwrap_or_else(|_| Err("the top tier's thread panicked".to_string()));
    let report = TierReport {
        base_ready,
        main_returned,
        top_ready: top.as_ref().ok().copied(),
        top_error: top.err(),
        top_frames: tiers.top_frames.load(Ordering::Relaxed),
    };
    Ok((Outcome { result, stats: cfree_toy_rt::finish(), ready: base_ready }, report))
}

fn run_here(
    program: &TypedProgram,
    n: i64,
    level: OptLevel,
    settings: Settings,
    options: &codegen::Options,
) -> Result<Outcome, String> {
    let start = Instant::now();
    let jit = start_session(program, options, options.tier, level, &[])?;
    let main =
        jit.get::<unsafe extern "C" fn(*const u8, i64) -> i64>(codegen::ENTRY_SYMBOL).map_err(|e| e.to_string())?;
    let ctx = cfree_toy_rt::install(Arc::new(Snapshot(jit.registry(), jit.sources())), settings);
    let ready = start.elapsed();
    #[allow(unsafe_code)]
    // SAFETY: the program was type-checked and compiled with run-time checks; it allocates
    // only through the runtime installed above, whose context `ctx` is this thread's, and
    // on the task threads the runtime registers.
    let result = unsafe { main.call(ctx as *const u8, n) };
    // A panic that no deferred call recovered: its report, and status 101.
    cfree_toy_rt::panic::exit_if_unrecovered();
    Ok(Outcome { result, stats: cfree_toy_rt::finish(), ready })
}
