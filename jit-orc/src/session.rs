//! The JIT session: transactional publish, replacement through stable
//! entries, the metadata registry and code lifetime. Writers (publish,
//! retire, reclaim, host symbols) are serialised by one mutex; readers
//! (lookups, calls, registry queries) never take it.

use std::collections::HashMap;
use std::fmt;
use std::io::Write as _;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwap;
use cfree_facade::FuncExport;
use cfree_llvm_lower::{LlvmModule, OptLevel};

use crate::registry::{FunctionInfo, Registry, StackMapInfo, SymbolInfo, UnitId, UnitInfo, UnitState};
use crate::{ffi, object_info, stubs, Error, JitFn, Result};

/// Decides whether a retired unit must be kept: return `true` to veto reclamation
/// (e.g. because a suspended thread's stack still holds a return address in it).
pub type ReclaimVeto = Box<dyn Fn(&UnitInfo) -> bool + Send + Sync>;

/// Session options.
#[derive(Clone, Debug, Default)]
pub struct JitOptions {
    /// Append every published function to `/tmp/perf-<pid>.map` so `perf` can name JIT frames.
    pub perf_map: bool,
}

/// What a successful publish created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// The new unit.
    pub unit: UnitId,
    /// The new generation.
    pub generation: u64,
    /// Exported functions that replaced an earlier body.
    pub replaced: Vec<String>,
}

struct Writer {
    trackers: HashMap<UnitId, ffi::Tracker>,
    /// Stable entries live as long as the session.
    stub_trackers: Vec<ffi::Tracker>,
    next_unit: u64,
    vetoes: Vec<ReclaimVeto>,
    perf_map: Option<std::fs::File>,
    // Last: trackers must be released before the LLJIT that owns them.
    orc: ffi::OrcJit,
}

/// An in-process JIT for the host, with transactional publish and hot replacement.
///
/// `Jit` is `Send + Sync`: publish and replace from any thread while others call
/// published code and query the registry.
pub struct Jit {
    registry: ArcSwap<Registry>,
    writer: Mutex<Writer>,
}

impl fmt::Debug for Jit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.registry.load();
        f.debug_struct("Jit").field("generation", &r.generation).field("units", &r.units.len()).finish()
    }
}

fn describe(e: &FuncExport) -> String {
    let p: Vec<String> = e.params.iter().map(|s| format!("{s:?}")).collect();
    format!("fn({}) -> {}", p.join(", "), e.result.map_or("()".to_string(), |r| format!("{r:?}")))
}

fn arch_of(triple: &str) -> &str {
    triple.split('-').next().unwrap_or("")
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
            Some(file.map_err(|e| Error::Create(format!("{}: {e}", path.display())))?)
        } else {
            None
        };
        cfree_llvm_lower::init_targets();
        let orc = ffi::OrcJit::new().map_err(Error::Create)?;
        let writer = Writer {
            trackers: HashMap::new(),
            stub_trackers: Vec::new(),
            next_unit: 1,
            vetoes: Vec::new(),
            perf_map,
            orc,
        };
        Ok(Self { registry: ArcSwap::from_pointee(Registry::default()), writer: Mutex::new(writer) })
    }

    fn writer(&self) -> MutexGuard<'_, Writer> {
        // A panic while holding the lock cannot leave the registry half-updated (it is
        // swapped whole), so a poisoned lock is still consistent.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current registry snapshot (never blocks).
    pub fn registry(&self) -> Arc<Registry> {
        self.registry.load_full()
    }

    /// Defines a host function or object that JIT code can reference by `name`.
    pub fn define_host_symbol(&self, name: &str, address: u64) -> Result<()> {
        self.writer().orc.define_absolute(name, address).map_err(Error::Link)
    }

    /// Registers a veto consulted before any retired unit is reclaimed.
    pub fn add_reclaim_veto(&self, veto: ReclaimVeto) {
        self.writer().vetoes.push(veto);
    }

    /// Compiles `module` at `level` and links it in, all or nothing.
    ///
    /// Every exported function becomes replaceable: calls (from the host through
    /// [`Self::get`], and from JIT code, including the module's own) go through a
    /// stable entry to the active body. Publishing a function already published
    /// replaces it (same signature required); the older unit stays callable by
    /// frames running it until it is retired and reclaimed.
    ///
    /// On any failure (signature change, verifier, code generation, malformed
    /// metadata, duplicate or unresolved symbol) the image and the registry are
    /// exactly as before and whatever the unit took, names included, is freed.
    pub fn publish(&self, module: &mut LlvmModule<'_>, level: OptLevel) -> Result<Published> {
        let mut w = self.writer();
        let old = self.registry.load_full();
        let generation = old.generation + 1;
        let (module_triple, jit_triple) = (module.target().triple.clone(), w.orc.triple());
        if arch_of(&module_triple) != arch_of(&jit_triple) {
            return Err(Error::WrongTarget { module: module_triple, jit: jit_triple });
        }
        let exports = module.exports().to_vec();
        for e in &exports {
            if let Some(s) = old.symbols.get(&e.name) {
                if s.signature != *e {
                    return Err(Error::SignatureMismatch {
                        name: e.name.clone(),
                        declared: describe(&s.signature),
                        requested: describe(e),
                    });
                }
            }
        }
        let body_names: Vec<String> = exports.iter().map(|e| format!("{}.cfree.g{generation}", e.name)).collect();
        for (e, body) in exports.iter().zip(&body_names) {
            module.make_replaceable(&e.name, body)?;
        }
        module.force_frame_pointers();
        let object = module.emit_object(level)?;
        let (functions, stackmaps) = object_info::inspect(&object).map_err(Error::Metadata)?;
        let new_entries: Vec<(FuncExport, String)> = exports
            .iter()
            .zip(&body_names)
            .filter(|(e, _)| !old.symbols.contains_key(&e.name))
            .map(|(e, b)| (e.clone(), b.clone()))
            .collect();
        let stub_object = if new_entries.is_empty() { None } else { Some(stubs::stub_object(&new_entries)?) };

        // Link: the unit, then its new stable entries; undo both on any failure.
        let unit = UnitId(w.next_unit);
        let name = module.inkwell().get_name().to_string_lossy().into_owned();
        w.orc.take_session_errors();
        let tracker = w.orc.add_object(&object, &name).map_err(Error::Link)?;
        let stub_tracker = match &stub_object {
            Some(bytes) => match w.orc.add_object(bytes, "cfree.stubs") {
                Ok(t) => Some(t),
                Err(e) => {
                    let _ = tracker.remove();
                    return Err(Error::Link(e));
                }
            },
            None => None,
        };
        let resolved = Self::resolve(&w, &body_names, &new_entries);
        let (bodies, entries) = match resolved {
            Ok(r) => r,
            Err(msg) => {
                let mut details = w.orc.take_session_errors();
                details.insert(0, msg);
                if let Some(t) = stub_tracker {
                    let _ = t.remove();
                }
                let _ = tracker.remove();
                return Err(Error::Link(details.join("; ")));
            }
        };

        // Section bases at run time, from the bodies (always exported and linked).
        let mut bases = HashMap::new();
        for (body, addr) in body_names.iter().zip(&bodies) {
            if let Some(f) = functions.iter().find(|f| &f.name == body) {
                bases.insert(f.section, addr.wrapping_sub(f.offset));
            }
        }
        let mut next = (*old).clone();
        next.generation = generation;
        let mut ranges = Vec::new();
        for f in &functions {
            if let Some(base) = bases.get(&f.section) {
                let start = base + f.offset;
                ranges.push((start, start + f.size.max(1)));
                next.functions.push(FunctionInfo {
                    name: Arc::from(f.name.as_str()),
                    start,
                    end: start + f.size.max(1),
                    generation,
                    unit,
                });
            }
        }
        for s in &stackmaps {
            // A record that looks like a statepoint but cannot be walked would hide roots: refuse it.
            let safepoint = match cfree_statepoint::Safepoint::decode(cfree_statepoint::Arch::X86_64, &s.locations) {
                Ok(sp) => {
                    let frame_size = (s.stack_size != u64::MAX).then_some(s.stack_size);
                    Some(Arc::new(cfree_statepoint::Safepoint { id: s.id, frame_size, ..sp }))
                }
                Err(cfree_statepoint::DecodeError::NotAStatepoint) => None,
                Err(e) => {
                    let _ = tracker.remove();
                    if let Some(t) = stub_tracker {
                        let _ = t.remove();
                    }
                    return Err(Error::Metadata(format!("stack map record {} in `{}`: {e:?}", s.id, s.function)));
                }
            };
            if let Some(base) = bases.get(&s.section) {
                next.stackmaps.push(StackMapInfo {
                    pc: base + s.pc_offset,
                    function: Arc::from(s.function.as_str()),
                    id: s.id,
                    stack_size: s.stack_size,
                    locations: Arc::from(s.locations.clone()),
                    safepoint,
                    unit,
                });
            }
        }
        let mut replaced = Vec::new();
        let mut cell_updates = Vec::new();
        for (i, e) in exports.iter().enumerate() {
            let (entry, cell) = match next.symbols.get(&e.name) {
                Some(s) => {
                    replaced.push(e.name.clone());
                    let previous = s.unit;
                    if let Some(u) = next.units.get_mut(&previous) {
                        u.active_exports.retain(|n| n != &e.name);
                        if u.active_exports.is_empty() && u.state == UnitState::Active {
                            u.state = UnitState::Replaced;
                        }
                    }
                    cell_updates.push((s.cell, bodies[i]));
                    (s.entry, s.cell)
                }
                None => {
                    let k = new_entries.iter().position(|(n, _)| n.name == e.name).expect("new entry");
                    entries[k]
                }
            };
            next.symbols.insert(
                e.name.clone(),
                SymbolInfo { entry, cell, body: bodies[i], generation, unit, signature: e.clone() },
            );
        }
        next.units.insert(
            unit,
            UnitInfo {
                id: unit,
                generation,
                name: name.clone(),
                ranges,
                state: if exports.is_empty() { UnitState::Replaced } else { UnitState::Active },
                active_exports: exports.iter().map(|e| e.name.clone()).collect(),
            },
        );
        next.sort();

        if let Some(file) = w.perf_map.as_mut() {
            for f in next.functions.iter().filter(|f| f.unit == unit) {
                let _ = writeln!(file, "{:x} {:x} {}", f.start, f.end - f.start, f.name);
            }
        }
        // Commit: metadata first, so any call that reaches new code finds it; then the cells.
        w.next_unit += 1;
        w.trackers.insert(unit, tracker);
        w.stub_trackers.extend(stub_tracker);
        self.registry.store(Arc::new(next));
        for (cell, body) in cell_updates {
            // SAFETY: `cell` is the address of a linked, pointer-sized, pointer-aligned global
            // (`<name>.cfree.cell`) that lives as long as the session; stubs read it atomically.
            let cell = unsafe { AtomicU64::from_ptr(cell as *mut u64) };
            cell.store(body, Ordering::Release);
        }
        Ok(Published { unit, generation, replaced })
    }

    /// Looks up every body, and the entry and cell of every new stable entry.
    #[allow(clippy::type_complexity)]
    fn resolve(
        w: &Writer,
        body_names: &[String],
        new_entries: &[(FuncExport, String)],
    ) -> std::result::Result<(Vec<u64>, Vec<(u64, u64)>), String> {
        let bodies = body_names.iter().map(|b| w.orc.lookup(b)).collect::<std::result::Result<Vec<_>, _>>()?;
        let entries = new_entries
            .iter()
            .map(|(e, _)| {
                let entry = w.orc.lookup(&e.name)?;
                let cell = w.orc.lookup(&format!("{}{}", e.name, stubs::CELL_SUFFIX))?;
                Ok((entry, cell))
            })
            .collect::<std::result::Result<Vec<_>, String>>()?;
        Ok((bodies, entries))
    }

    /// Marks a replaced unit retired: it may be reclaimed once nothing vetoes.
    pub fn retire(&self, unit: UnitId) -> Result<()> {
        let _w = self.writer();
        let mut next = (*self.registry.load_full()).clone();
        let info = next.units.get_mut(&unit).ok_or_else(|| Error::Lifetime(format!("no unit {unit:?}")))?;
        if info.state != UnitState::Replaced {
            return Err(Error::Lifetime(format!("unit {unit:?} is {:?}; only replaced units can retire", info.state)));
        }
        info.state = UnitState::Retired;
        self.registry.store(Arc::new(next));
        Ok(())
    }

    /// Releases the memory of every retired unit that no veto keeps; returns them.
    pub fn reclaim(&self) -> Result<Vec<UnitId>> {
        let mut w = self.writer();
        let mut next = (*self.registry.load_full()).clone();
        let candidates: Vec<UnitInfo> =
            next.units.values().filter(|u| u.state == UnitState::Retired).cloned().collect();
        let mut reclaimed = Vec::new();
        for u in candidates {
            if w.vetoes.iter().any(|veto| veto(&u)) {
                continue;
            }
            if let Some(t) = w.trackers.remove(&u.id) {
                if let Some(e) = t.remove() {
                    return Err(Error::Lifetime(format!("releasing {:?}: {e}", u.id)));
                }
            }
            next.remove_unit_code(u.id);
            if let Some(info) = next.units.get_mut(&u.id) {
                info.state = UnitState::Reclaimed;
                info.ranges.clear();
            }
            reclaimed.push(u.id);
        }
        if !reclaimed.is_empty() {
            self.registry.store(Arc::new(next));
        }
        Ok(reclaimed)
    }

    /// The stable entry of an exported function.
    pub fn address(&self, name: &str) -> Result<u64> {
        self.registry.load().symbols.get(name).map(|s| s.entry).ok_or_else(|| Error::NoSuchFunction(name.to_string()))
    }

    /// A typed handle to `name`'s stable entry, checked against its declared signature.
    pub fn get<F: JitFn>(&self, name: &str) -> Result<TypedFunc<'_, F>> {
        let registry = self.registry.load();
        let symbol = registry.symbols.get(name).ok_or_else(|| Error::NoSuchFunction(name.to_string()))?;
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
