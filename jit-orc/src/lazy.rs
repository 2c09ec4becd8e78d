//! Lazy publish: units compiled on the first call of one of their functions
//! (`doc/jit.md`, "Lazy units").
//!
//! [`Jit::publish_lazy`] takes the units' names and exported signatures and a
//! builder, and compiles nothing: each export gets its stable entry at once,
//! with its cell pointing to a small thunk instead of a body (`stubs.rs`,
//! x86-64 only). The first call through the entry (or through `TypedFunc`,
//! which reads the same cell) reaches the thunk, which saves the argument
//! registers and calls [`LazyFunction::resolve`]: it builds the unit on the
//! calling thread (a fresh LLVM context, the builder, [`Jit::publish_owned`]),
//! which switches the unit's cells to the bodies exactly as a replacement
//! does, then jumps to the body with the arguments restored. Later calls go
//! straight to the body. Each unit compiles once: callers racing on the same
//! unit wait for the first; different units compile in parallel.
//!
//! A unit whose build or publish fails stays uncompiled: the error is
//! recorded ([`Jit::take_lazy_failures`]), the call returns zero (`rax`,
//! `rdx`, `xmm0`, `xmm1`) and the next call tries again.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use cfree_facade::FuncExport;
use cfree_llvm_lower::{LlvmContext, LlvmModule, OptLevel};

use crate::registry::{SymbolInfo, UnitId, UnitInfo, UnitState};
use crate::session::Shared;
use crate::{ffi, stubs, Error, Jit, Published, Result};

/// One unit of a lazy publish: its name and the functions its module will export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LazyUnit {
    /// The unit's name (for errors and the registry).
    pub name: String,
    /// Its exported functions, exactly as the built module exports them.
    pub exports: Vec<FuncExport>,
}

/// What a lazy publish created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LazyPublished {
    /// The registry's unit of each lazy unit, in order (no code until it compiles).
    pub units: Vec<UnitId>,
    /// The new generation.
    pub generation: u64,
}

/// A lazy unit that failed to compile on a call.
#[derive(Debug)]
pub struct LazyFailure {
    /// The unit.
    pub unit: String,
    /// Why (the builder's error is [`Error::Build`]).
    pub error: Error,
}

/// Counters of a session's lazy units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LazyStats {
    /// Units published lazily.
    pub units: u64,
    /// Units compiled (on a first call).
    pub compiled: u64,
    /// Failed attempts to compile one (first compilations and tier-ups).
    pub failures: u64,
    /// Tiered units recompiled at their policy's level.
    pub tiered_up: u64,
}

/// Builds a unit's module in a given context (object-safe form of the builder closure).
trait Build: Send + Sync {
    fn build<'c>(
        &self,
        llvm: &'c LlvmContext,
        index: usize,
    ) -> std::result::Result<LlvmModule<'c>, Box<dyn std::error::Error + Send + Sync>>;
}

struct BuildFn<F, E>(F, PhantomData<fn() -> E>);

impl<F, E> Build for BuildFn<F, E>
where
    F: for<'c> Fn(&'c LlvmContext, usize) -> std::result::Result<LlvmModule<'c>, E> + Send + Sync,
    E: std::error::Error + Send + Sync + 'static,
{
    fn build<'c>(
        &self,
        llvm: &'c LlvmContext,
        index: usize,
    ) -> std::result::Result<LlvmModule<'c>, Box<dyn std::error::Error + Send + Sync>> {
        (self.0)(llvm, index).map_err(|e| Box::new(e) as _)
    }
}

/// A unit waiting for its first call.
struct PendingUnit {
    session: Weak<Shared>,
    index: usize,
    name: String,
    exports: Vec<FuncExport>,
    level: OptLevel,
    build: Arc<dyn Build>,
    /// The bodies of `exports`, once compiled.
    bodies: Mutex<Option<Vec<u64>>>,
    /// For a tiered unit: when and how to recompile it.
    tier: Option<Tier>,
}

/// When a tiered unit is hot enough to recompile, and whether it was.
struct Tier {
    policy: TierPolicy,
    /// The addresses of its exports' call counters, set when linked.
    counters: std::sync::OnceLock<Vec<u64>>,
    done: std::sync::atomic::AtomicBool,
}

/// How [`Jit::publish_tiered`] units move up: once the calls through their
/// stable entries reach `threshold`, [`Jit::tier_up`] recompiles them at `level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TierPolicy {
    /// Calls (summed over the unit's exports) that make a unit hot.
    pub threshold: u64,
    /// The level hot units are recompiled at.
    pub level: OptLevel,
}

impl Default for TierPolicy {
    fn default() -> Self {
        TierPolicy { threshold: 1000, level: OptLevel::O2 }
    }
}

/// What a thunk passes to the resolver: one export of a pending unit.
pub(crate) struct LazyFunction {
    unit: Arc<PendingUnit>,
    export: usize,
}

/// The session's lazy state.
#[derive(Default)]
pub(crate) struct LazyState {
    /// Every thunk's `LazyFunction`, kept as long as the session (the code holds their addresses).
    functions: Mutex<Vec<Arc<LazyFunction>>>,
    failures: Mutex<Vec<LazyFailure>>,
    /// Tiered units, for [`Jit::tier_up`].
    tiered: Mutex<Vec<Arc<PendingUnit>>>,
    units: AtomicU64,
    tiered_up: AtomicU64,
    compiled: AtomicU64,
    failed: AtomicU64,
}

impl LazyFunction {
    /// The body to jump to, compiling the unit first if this is its first call;
    /// 0 if compiling failed (the failure is recorded).
    pub(crate) fn resolve(&self) -> u64 {
        let unit = &self.unit;
        let mut bodies = unit.bodies.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = &*bodies {
            return b[self.export];
        }
        let Some(shared) = unit.session.upgrade() else { return 0 };
        let jit = Jit { shared };
        match unit.compile(&jit, unit.level) {
            Ok((b, _)) => {
                jit.shared.lazy.compiled.fetch_add(1, Ordering::Relaxed);
                let body = b[self.export];
                *bodies = Some(b);
                body
            }
            Err(error) => {
                jit.shared.lazy.record_failure(&unit.name, error);
                0
            }
        }
    }
}

impl LazyState {
    fn record_failure(&self, unit: &str, error: Error) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let failure = LazyFailure { unit: unit.to_string(), error };
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).push(failure);
    }
}

impl PendingUnit {
    /// Builds the unit and publishes it at `level`: its exports' new bodies, and the publish.
    fn compile(&self, jit: &Jit, level: OptLevel) -> Result<(Vec<u64>, Published)> {
        let llvm = LlvmContext::new();
        let module =
            self.build.build(&llvm, self.index).map_err(|source| Error::Build { index: self.index, source })?;
        let built = module.exports();
        let differs = |e: &FuncExport| !built.iter().any(|b| b == e);
        if let Some(function) =
            self.exports.iter().find(|e| differs(e)).map(|e| e.name.clone()).or_else(|| {
                built.iter().find(|b| !self.exports.iter().any(|e| e.name == b.name)).map(|b| b.name.clone())
            })
        {
            return Err(Error::LazyMismatch { unit: self.name.clone(), function });
        }
        let published = jit.publish_owned(module, level)?;
        let registry = jit.registry();
        Ok((self.exports.iter().map(|e| registry.symbol(&e.name).map_or(0, |s| s.body)).collect(), published))
    }
}

impl Jit {
    /// Publishes `units` without compiling them: unit `i` is built by
    /// `build(context, i)` and published at `level` when one of its functions is
    /// first called, on the calling thread. Every export is callable at once
    /// through its stable entry (and [`Self::get`]); the registry lists each
    /// lazy unit as a unit without code named `lazy:<name>` until it is
    /// compiled, which replaces it like any replacement (the compiled unit is
    /// a new unit; the lazy one becomes `Replaced`).
    ///
    /// The built module must export exactly the declared functions
    /// ([`Error::LazyMismatch`] otherwise, recorded on the call). Exports must be
    /// new to the session and unique ([`Error::LazyExportTaken`]). Only on
    /// x86-64 hosts ([`Error::LazyUnsupported`] elsewhere). Nothing is added
    /// when this returns an error.
    ///
    /// A unit's build must not call functions of lazy units that are still
    /// uncompiled and would need the same unit (it would wait for itself).
    pub fn publish_lazy<E, F>(&self, units: Vec<LazyUnit>, level: OptLevel, build: F) -> Result<LazyPublished>
    where
        F: for<'c> Fn(&'c LlvmContext, usize) -> std::result::Result<LlvmModule<'c>, E> + Send + Sync + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        self.publish_deferred(units, level, None, Arc::new(BuildFn(build, PhantomData)))
    }

    /// Tiered compilation: [`Self::publish_lazy`] at O0, with stable entries
    /// that count their calls; [`Self::tier_up`] (or the thread of
    /// [`Self::start_tiering`]) recompiles the units whose calls reached
    /// `policy.threshold` at `policy.level` and swaps them in through
    /// replacement (frames in the O0 code finish there). Calls through
    /// [`crate::TypedFunc::call`] read the cell and skip the counting entry;
    /// calls through the entry ([`crate::TypedFunc::as_fn`], [`Self::address`],
    /// JIT code) count.
    pub fn publish_tiered<E, F>(&self, units: Vec<LazyUnit>, policy: TierPolicy, build: F) -> Result<LazyPublished>
    where
        F: for<'c> Fn(&'c LlvmContext, usize) -> std::result::Result<LlvmModule<'c>, E> + Send + Sync + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        self.publish_deferred(units, OptLevel::O0, Some(policy), Arc::new(BuildFn(build, PhantomData)))
    }

    /// One pass of tiering: recompiles every tiered unit that is compiled,
    /// not yet tiered up and hot (see [`Self::publish_tiered`]). Returns the
    /// units published; a failure is recorded ([`Self::take_lazy_failures`]),
    /// leaves the O0 code in place and is retried on the next pass.
    pub fn tier_up(&self) -> Vec<Published> {
        let units = self.shared.lazy.tiered.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut outcomes = Vec::new();
        for unit in units {
            let Some(tier) = &unit.tier else { continue };
            if tier.done.load(Ordering::Acquire) {
                continue;
            }
            let calls: u64 = tier.counters.get().map_or(0, |c| c.iter().map(|&a| ffi::read_counter(a)).sum());
            if calls < tier.policy.threshold {
                continue;
            }
            let mut bodies = unit.bodies.lock().unwrap_or_else(|p| p.into_inner());
            if bodies.is_none() {
                continue; // counted calls that all failed to compile it: nothing to replace yet
            }
            match unit.compile(self, tier.policy.level) {
                Ok((b, published)) => {
                    *bodies = Some(b);
                    tier.done.store(true, Ordering::Release);
                    self.shared.lazy.tiered_up.fetch_add(1, Ordering::Relaxed);
                    outcomes.push(published);
                }
                Err(error) => self.shared.lazy.record_failure(&unit.name, error),
            }
        }
        outcomes
    }

    /// Starts a thread that runs [`Self::tier_up`] every `interval` until the
    /// returned handle or the session is dropped.
    pub fn start_tiering(&self, interval: std::time::Duration) -> Tiering {
        let session = Arc::downgrade(&self.shared);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || loop {
            std::thread::park_timeout(interval);
            if flag.load(Ordering::Acquire) {
                break;
            }
            let Some(shared) = session.upgrade() else { break };
            let _ = Jit { shared }.tier_up();
        });
        Tiering { stop, thread: Some(thread) }
    }

    fn publish_deferred(
        &self,
        units: Vec<LazyUnit>,
        level: OptLevel,
        tier: Option<TierPolicy>,
        build: Arc<dyn Build>,
    ) -> Result<LazyPublished> {
        if !cfg!(target_arch = "x86_64") {
            return Err(Error::LazyUnsupported { triple: self.shared.triple.clone() });
        }
        let mut names = std::collections::HashSet::new();
        for e in units.iter().flat_map(|u| &u.exports) {
            if !names.insert(e.name.as_str()) {
                return Err(Error::LazyExportTaken { name: e.name.clone() });
            }
        }
        let (mut functions, mut pending) = (Vec::new(), Vec::new());
        for (index, u) in units.iter().enumerate() {
            let unit = Arc::new(PendingUnit {
                session: Arc::downgrade(&self.shared),
                index,
                name: u.name.clone(),
                exports: u.exports.clone(),
                level,
                build: build.clone(),
                bodies: Mutex::new(None),
                tier: tier.map(|policy| Tier {
                    policy,
                    counters: std::sync::OnceLock::new(),
                    done: std::sync::atomic::AtomicBool::new(false),
                }),
            });
            functions.extend((0..u.exports.len()).map(|export| Arc::new(LazyFunction { unit: unit.clone(), export })));
            pending.push(unit);
        }
        let entries: Vec<(String, u64)> =
            functions.iter().map(|f| (f.unit.exports[f.export].name.clone(), Arc::as_ptr(f) as u64)).collect();
        let layout = stubs::LazyLayout { n: entries.len(), counting: tier.is_some() };
        let object = stubs::x86_64_lazy_object(&entries, ffi::lazy_resolve as *const () as usize as u64, layout)
            .map_err(Error::StableEntries)?;

        let mut w = self.writer();
        let current = self.shared.registry.load_full();
        if let Some((name, _)) = entries.iter().find(|(n, _)| current.symbol(n).is_some()) {
            return Err(Error::LazyExportTaken { name: name.clone() });
        }
        // The code refers to the functions by address: keep them before it can run.
        self.shared.lazy.functions.lock().unwrap_or_else(|p| p.into_inner()).extend(functions.iter().cloned());
        let unit_name = format!("lazy:{}", units.first().map_or("", |u| u.name.as_str()));
        w.orc.take_session_errors();
        let tracker =
            w.orc.add_object(&object, &unit_name).map_err(|m| crate::publish::link_error(&w, &unit_name, None, m))?;
        let mut resolved = Vec::with_capacity(entries.len());
        for (name, _) in &entries {
            let cell_name = format!("{name}{}", stubs::CELL_SUFFIX);
            let count_name = format!("{name}{}", stubs::COUNT_SUFFIX);
            let found = w.orc.lookup(name).and_then(|entry| {
                let counter = if tier.is_some() { w.orc.lookup(&count_name)? } else { 0 };
                Ok((entry, (w.orc.lookup(&cell_name)?, counter)))
            });
            match found {
                Ok(pair) => resolved.push(pair),
                Err(m) => {
                    let error = crate::publish::link_error(&w, &unit_name, Some(name.clone()), m);
                    let _ = tracker.remove();
                    return Err(error);
                }
            }
        }
        let mut next = (*current).clone();
        next.generation += 1;
        let generation = next.generation;
        // One registry unit per lazy unit (named `lazy:<unit>`, no code): its compiled unit
        // replaces it export by export, as any replacement does.
        let ids: Vec<UnitId> =
            units.iter().map(|_| UnitId(self.shared.next_unit.fetch_add(1, Ordering::Relaxed))).collect();
        let mut infos = Vec::with_capacity(units.len());
        for (u, &id) in units.iter().zip(&ids) {
            infos.push(UnitInfo {
                id,
                generation,
                name: format!("lazy:{}", u.name),
                ranges: Vec::new(),
                state: UnitState::Active,
                active_exports: u.exports.iter().map(|e| e.name.clone()).collect(),
            });
        }
        next.set_units(infos);
        let mut symbols = Vec::with_capacity(functions.len());
        let mut counters: Vec<Vec<u64>> = units.iter().map(|_| Vec::new()).collect();
        for (i, (f, (entry, (cell, counter)))) in functions.iter().zip(resolved).enumerate() {
            counters[f.unit.index].push(counter);
            // The thunk, in the same section as the stub: the body until the unit compiles.
            let thunk = entry - layout.stub(i) + layout.thunk(i);
            let signature = f.unit.exports[f.export].clone();
            let unit = ids[f.unit.index];
            let info = SymbolInfo { entry, cell, body: thunk, generation, unit, signature };
            symbols.push(info);
        }
        next.set_symbols(symbols);
        if tier.is_some() {
            for unit in &pending {
                if let Some(t) = &unit.tier {
                    let _ = t.counters.set(std::mem::take(&mut counters[unit.index]));
                }
            }
            self.shared.lazy.tiered.lock().unwrap_or_else(|p| p.into_inner()).extend(pending);
        }
        w.stub_trackers.push(tracker);
        self.shared.registry.store(Arc::new(next));
        self.shared.lazy.units.fetch_add(units.len() as u64, Ordering::Relaxed);
        Ok(LazyPublished { units: ids, generation })
    }

    /// Drains the failures of lazy units' compilation recorded so far.
    pub fn take_lazy_failures(&self) -> Vec<LazyFailure> {
        std::mem::take(&mut *self.shared.lazy.failures.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The counters of this session's lazy units.
    pub fn lazy_stats(&self) -> LazyStats {
        let l = &self.shared.lazy;
        LazyStats {
            units: l.units.load(Ordering::Relaxed),
            compiled: l.compiled.load(Ordering::Relaxed),
            failures: l.failed.load(Ordering::Relaxed),
            tiered_up: l.tiered_up.load(Ordering::Relaxed),
        }
    }
}

/// The tiering thread of [`Jit::start_tiering`]; dropping it stops the thread.
#[derive(Debug)]
pub struct Tiering {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Tiering {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}
