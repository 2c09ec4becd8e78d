//! The JIT session: the writer state, host symbols, code lifetime and typed
//! lookup (publish is in `publish.rs`). Writers (the commit phase of
//! publish, retire, reclaim, host symbols) are serialised by one mutex;
//! readers (lookups, calls, registry queries) never take it, and publishes
//! compile before they take it.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwap;
use cfree_facade::FuncExport;

use crate::publish::Counters;
use crate::registry::{Registry, UnitId, UnitInfo, UnitState};
use crate::{ffi, Error, JitFn, Result};

/// Decides whether a retired unit must be kept: return `true` to veto reclamation
/// (e.g. because a suspended thread's stack still holds a return address in it).
pub type ReclaimVeto = Box<dyn Fn(&UnitInfo) -> bool + Send + Sync>;

/// Session options.
#[derive(Clone, Debug, Default)]
pub struct JitOptions {
    /// Append every published function to `/tmp/perf-<pid>.map` so `perf` can name JIT frames.
    pub perf_map: bool,
    /// Register every published unit with debuggers (gdb's JIT interface), so
    /// a debugger sees JIT code compiled with debug information as it sees
    /// a shared library's: breakpoints by source line, locals, backtraces
    /// (`doc/debuginfo.md`). Units are unregistered when they are reclaimed.
    pub debugger: bool,
    /// Write perf's JIT dump (`<dir>/jit-<pid>.dump`): every published
    /// function's code and, for code with debug information, its line table,
    /// for `perf record -k 1` and `perf inject --jit` (`doc/debuginfo.md`).
    pub jitdump_dir: Option<std::path::PathBuf>,
}

pub(crate) struct Writer {
    pub(crate) trackers: HashMap<UnitId, ffi::Tracker>,
    /// Stable entries live as long as the session.
    pub(crate) stub_trackers: Vec<ffi::Tracker>,
    pub(crate) vetoes: Vec<ReclaimVeto>,
    /// Stable entries of new exports (x86-64 hosts).
    pub(crate) pool: crate::stubs::EntryPool,
    pub(crate) perf_map: Option<std::fs::File>,
    pub(crate) jitdump: Option<crate::jitdump::JitDump>,
    // Last: trackers must be released before the LLJIT that owns them.
    pub(crate) orc: ffi::OrcJit,
}

/// An in-process JIT for the host, with transactional publish and hot replacement.
///
/// `Jit` is `Send + Sync`: publish and replace from any thread while others call
/// published code and query the registry.
pub struct Jit {
    pub(crate) shared: Arc<Shared>,
}

/// The session's state. Lazy entries (`lazy.rs`) hold it weakly: code that compiles
/// on its first call reaches the session through them.
pub(crate) struct Shared {
    pub(crate) registry: ArcSwap<Registry>,
    pub(crate) writer: Mutex<Writer>,
    /// The triple ORC compiles for (the host's).
    pub(crate) triple: String,
    /// Unit ids are taken when a publish starts compiling (a failed publish skips one).
    pub(crate) next_unit: AtomicU64,
    /// The next entry pool slot a publish may reserve.
    pub(crate) next_slot: std::sync::atomic::AtomicUsize,
    pub(crate) counters: Counters,
    /// Debug information of the live units (`source.rs`).
    pub(crate) sources: Arc<crate::SourceIndex>,
    /// Lazy units and the failures of their compilation.
    pub(crate) lazy: crate::lazy::LazyState,
}

impl fmt::Debug for Jit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.shared.registry.load();
        f.debug_struct("Jit").field("generation", &r.generation).field("units", &r.counts().units).finish()
    }
}

/// A signature as error messages show it.
pub(crate) fn describe(e: &FuncExport) -> String {
    let p: Vec<String> = e.params.iter().map(|s| format!("{s:?}")).collect();
    format!("fn({}) -> {}", p.join(", "), e.result.map_or("()".to_string(), |r| format!("{r:?}")))
}

impl Jit {
    /// A JIT for the host with default options.
    pub fn new() -> Result<Self> {
        Self::with_options(JitOptions::default())
    }

    /// A JIT for the host.
    pub fn with_options(options: JitOptions) -> Result<Self> {
        let perf_map = if options.perf_map {
            let path = std::env::temp_dir().join(format!("perf-{}.map", std::process::id()));
            let file = std::fs::OpenOptions::new().create(true).append(true).open(&path);
            Some(file.map_err(|source| Error::PerfMap { path, source })?)
        } else {
            None
        };
        let jitdump = match &options.jitdump_dir {
            Some(dir) => Some(crate::jitdump::JitDump::create(dir).map_err(|source| Error::PerfMap {
                path: dir.join(format!("jit-{}.dump", std::process::id())),
                source,
            })?),
            None => None,
        };
        cfree_llvm_lower::init_targets();
        let orc = ffi::OrcJit::new(options.debugger).map_err(|message| Error::Create { message })?;
        let triple = orc.triple();
        let writer = Writer {
            trackers: HashMap::new(),
            stub_trackers: Vec::new(),
            vetoes: Vec::new(),
            pool: crate::stubs::EntryPool::default(),
            perf_map,
            jitdump,
            orc,
        };
        let shared = Shared {
            registry: ArcSwap::from_pointee(Registry::default()),
            writer: Mutex::new(writer),
            triple,
            next_unit: AtomicU64::new(1),
            next_slot: std::sync::atomic::AtomicUsize::new(0),
            counters: Counters::default(),
            sources: Arc::default(),
            lazy: crate::lazy::LazyState::default(),
        };
        Ok(Self { shared: Arc::new(shared) })
    }

    pub(crate) fn writer(&self) -> MutexGuard<'_, Writer> {
        // A panic while holding the lock cannot leave the registry half-updated (it is
        // swapped whole), so a poisoned lock is still consistent.
        self.shared.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The triple the JIT compiles for.
    pub fn triple(&self) -> &str {
        &self.shared.triple
    }

    /// The current registry snapshot (never blocks).
    pub fn registry(&self) -> Arc<Registry> {
        self.shared.registry.load_full()
    }

    /// Defines a host function or object that JIT code can reference by `name`.
    pub fn define_host_symbol(&self, name: &str, address: u64) -> Result<()> {
        self.writer()
            .orc
            .define_absolute(name, address)
            .map_err(|message| Error::HostSymbol { name: name.to_string(), message })
    }

    /// Registers a veto consulted before any retired unit is reclaimed.
    pub fn add_reclaim_veto(&self, veto: ReclaimVeto) {
        self.writer().vetoes.push(veto);
    }

    /// Marks a replaced unit retired: it may be reclaimed once nothing vetoes.
    pub fn retire(&self, unit: UnitId) -> Result<()> {
        let _w = self.writer();
        let mut next = (*self.shared.registry.load_full()).clone();
        let info = next.unit_mut(unit).ok_or(Error::NoSuchUnit(unit))?;
        if info.state != UnitState::Replaced {
            return Err(Error::NotReplaced { unit, state: info.state });
        }
        info.state = UnitState::Retired;
        self.shared.registry.store(Arc::new(next));
        Ok(())
    }

    /// Releases the memory of every retired unit that no veto keeps; returns them.
    pub fn reclaim(&self) -> Result<Vec<UnitId>> {
        let mut w = self.writer();
        let mut next = (*self.shared.registry.load_full()).clone();
        let candidates: Vec<UnitInfo> = next.units().filter(|u| u.state == UnitState::Retired).cloned().collect();
        let mut reclaimed = Vec::new();
        for u in candidates {
            if w.vetoes.iter().any(|veto| veto(&u)) {
                continue;
            }
            if let Some(t) = w.trackers.remove(&u.id) {
                if let Some(message) = t.remove() {
                    return Err(Error::Release { unit: u.id, message });
                }
            }
            self.shared.sources.remove(u.id);
            next.remove_unit_code(u.id);
            if let Some(info) = next.unit_mut(u.id) {
                info.state = UnitState::Reclaimed;
                info.ranges.clear();
            }
            reclaimed.push(u.id);
        }
        if !reclaimed.is_empty() {
            self.shared.registry.store(Arc::new(next));
        }
        Ok(reclaimed)
    }

    /// The JIT dump this session writes, if `JitOptions::jitdump_dir` asked for one.
    pub fn jitdump_path(&self) -> Option<std::path::PathBuf> {
        self.writer().jitdump.as_ref().map(|d| d.path().to_path_buf())
    }

    /// Source positions of the published code, for backtraces that name
    /// inlined calls (units compiled with debug information; `doc/debuginfo.md`).
    pub fn sources(&self) -> Arc<crate::SourceIndex> {
        self.shared.sources.clone()
    }

    /// The stable entry of an exported function.
    pub fn address(&self, name: &str) -> Result<u64> {
        self.shared.registry.load().symbol(name).map(|s| s.entry).ok_or_else(|| Error::NoSuchFunction(name.to_string()))
    }

    /// A typed handle to `name`'s stable entry, checked against its declared signature.
    pub fn get<F: JitFn>(&self, name: &str) -> Result<TypedFunc<'_, F>> {
        let registry = self.shared.registry.load();
        let symbol = registry.symbol(name).ok_or_else(|| Error::NoSuchFunction(name.to_string()))?;
        let (params, result) = (F::params(), F::result());
        let export = &symbol.signature;
        if export.variadic || params != export.params || result != export.result {
            let requested = FuncExport { params, result, ..export.clone() };
            return Err(Error::SignatureMismatch {
                name: name.to_string(),
                declared: describe(export),
                requested: describe(&requested),
            });
        }
        // SAFETY: the stable entry forwards to a body compiled from a definition with this
        // exact signature (checked above); entries live as long as the session.
        let f = unsafe { F::from_addr(symbol.entry) };
        Ok(TypedFunc { f, cell: symbol.cell, _jit: PhantomData })
    }
}

/// A function in the JIT with a checked signature; borrows the JIT so the code stays loaded.
#[derive(Clone, Copy)]
pub struct TypedFunc<'jit, F> {
    /// The stable entry.
    pub(crate) f: F,
    /// The cell holding the active body (read by `call`).
    pub(crate) cell: u64,
    pub(crate) _jit: PhantomData<&'jit Jit>,
}

/// Reinterprets a body address read from a cell as the handle's function type.
pub(crate) trait BodyOf<F> {
    /// # Safety
    /// `addr` must be a body with the handle's signature.
    unsafe fn body(addr: u64) -> F;
}

impl<F: JitFn> BodyOf<F> for TypedFunc<'_, F> {
    unsafe fn body(addr: u64) -> F {
        // SAFETY: forwarded contract.
        unsafe { F::from_addr(addr) }
    }
}

impl<F> fmt::Debug for TypedFunc<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TypedFunc")
    }
}

impl<F: JitFn> TypedFunc<'_, F> {
    /// The stable entry as a raw function pointer (hand it to code that calls it later):
    /// calling it is `unsafe`, and it must not be used after the JIT drops.
    pub fn as_fn(&self) -> F {
        self.f
    }
}
