//! Publish as a transaction, in two phases (`doc/jit.md`, "Publish").
//!
//! [`Jit::prepare`] runs without the writer lock, so publishes from several
//! threads compile at the same time: it checks the target and the signatures
//! against a registry snapshot, takes a unit id, has the module emit its
//! object (the module is not changed), reads the object's functions and
//! safepoint table and builds the stable entries of new exports.
//!
//! [`Jit::commit`] runs under the writer lock: it re-checks the signatures
//! against the current registry, links the object and the entries through a
//! [`LinkTransaction`] (whose drop removes everything it added unless it is
//! committed: the one rollback path), resolves every symbol, derives the next
//! registry from the current one, swaps it in and finally switches the cells.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use cfree_facade::{FuncExport, JitRename, ObjectModule, OptLevel, TargetInfo};
use cfree_llvm_lower::LlvmModule;

use crate::registry::{FunctionInfo, Registry, StackMapInfo, SymbolInfo, TrapInfo, UnitId, UnitInfo, UnitState};
use crate::session::{describe, Writer};
use crate::{ffi, stubs, Error, Jit, ObjectInfo, Result};

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

/// Counters of a session's publishes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublishStats {
    /// Successful publishes.
    pub published: u64,
    /// Failed publishes.
    pub failed: u64,
    /// Publishes in their compile phase (outside the writer lock) right now.
    pub compiling: usize,
    /// The most publishes ever seen in their compile phase at the same time.
    pub max_concurrent_compiles: usize,
    /// Where publishes spent their time, summed over all of them.
    pub phases: PhaseTimes,
}

/// Time spent in each step of publishing, summed over a session's publishes
/// (successful or not), in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhaseTimes {
    /// Compiling the module: renaming, verifier, pass pipeline, code generation.
    pub compile: u64,
    /// Reading the object's functions, stack maps and trap sites.
    pub inspect: u64,
    /// Building the stable entries of new exports.
    pub entries: u64,
    /// Waiting for the writer lock.
    pub lock: u64,
    /// Linking the unit and its entries (ORC adds and symbol lookups).
    pub link: u64,
    /// Deriving and storing the next registry and switching the cells.
    pub registry: u64,
}

/// The publish counters of a [`Jit`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    published: AtomicU64,
    failed: AtomicU64,
    compiling: AtomicUsize,
    max_compiling: AtomicUsize,
    /// [`PhaseTimes`], in its field order.
    phases: [AtomicU64; 6],
}

/// An index into [`Counters::phases`].
#[derive(Clone, Copy)]
enum Phase {
    Compile,
    Inspect,
    Entries,
    Lock,
    Link,
    Registry,
}

impl Counters {
    /// Adds the time since `since` to `phase`; returns now.
    fn lap(&self, phase: Phase, since: Instant) -> Instant {
        let now = Instant::now();
        self.phases[phase as usize].fetch_add((now - since).as_nanos() as u64, Ordering::Relaxed);
        now
    }

    /// Counts a publish that failed before it started (e.g. its module could not be built).
    pub(crate) fn count_failure(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> PublishStats {
        PublishStats {
            published: self.published.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            compiling: self.compiling.load(Ordering::Relaxed),
            max_concurrent_compiles: self.max_compiling.load(Ordering::Relaxed),
            phases: {
                let t = |p: Phase| self.phases[p as usize].load(Ordering::Relaxed);
                PhaseTimes {
                    compile: t(Phase::Compile),
                    inspect: t(Phase::Inspect),
                    entries: t(Phase::Entries),
                    lock: t(Phase::Lock),
                    link: t(Phase::Link),
                    registry: t(Phase::Registry),
                }
            },
        }
    }
}

/// Counts one publish in its compile phase while alive.
struct Compiling<'a>(&'a Counters);

impl<'a> Compiling<'a> {
    fn enter(counters: &'a Counters) -> Self {
        let now = counters.compiling.fetch_add(1, Ordering::Relaxed) + 1;
        counters.max_compiling.fetch_max(now, Ordering::Relaxed);
        Compiling(counters)
    }
}

impl Drop for Compiling<'_> {
    fn drop(&mut self) {
        self.0.compiling.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A unit compiled and inspected, ready to link.
struct Prepared {
    unit: UnitId,
    name: String,
    exports: Vec<FuncExport>,
    /// `body_names[i]` defines `exports[i]`.
    body_names: Vec<String>,
    object: Vec<u8>,
    info: ObjectInfo,
    /// The stable entries built for the exports new in the snapshot: their names and object.
    stubs: Option<(Vec<String>, Vec<u8>)>,
    /// The pool slot each export's uses refer to (exports new in the snapshot, x86-64 hosts).
    slots: Vec<Option<usize>>,
}

/// Everything a publish added to ORC, removed on drop unless committed.
#[derive(Default)]
struct LinkTransaction {
    unit: Option<ffi::Tracker>,
    stubs: Option<ffi::Tracker>,
}

impl LinkTransaction {
    /// Keeps what was added: returns the trackers of the unit and of its stable entries.
    fn commit(mut self) -> (Option<ffi::Tracker>, Option<ffi::Tracker>) {
        (self.unit.take(), self.stubs.take())
    }
}

impl Drop for LinkTransaction {
    fn drop(&mut self) {
        // Entries first: they refer to the unit's bodies. Removal frees the code and the names;
        // an error here has nowhere to go and leaves nothing reachable (the registry was not touched).
        for tracker in [self.stubs.take(), self.unit.take()].into_iter().flatten() {
            let _ = tracker.remove();
        }
    }
}

/// The symbol of the body of `export` in `unit`.
pub(crate) fn body_name(export: &str, unit: UnitId) -> String {
    format!("{export}.cfree.u{}", unit.0)
}

/// Every export already published keeps its signature.
fn check_signatures(registry: &Registry, exports: &[FuncExport]) -> Result<()> {
    for e in exports {
        if let Some(s) = registry.symbol(&e.name) {
            if s.signature != *e {
                return Err(Error::SignatureMismatch {
                    name: e.name.clone(),
                    declared: describe(&s.signature),
                    requested: describe(e),
                });
            }
        }
    }
    Ok(())
}

/// The exports (with their bodies) that have no stable entry in `registry`.
fn new_entries(registry: &Registry, exports: &[FuncExport], body_names: &[String]) -> Vec<(FuncExport, String)> {
    exports
        .iter()
        .zip(body_names)
        .filter(|(e, _)| registry.symbol(&e.name).is_none())
        .map(|(e, b)| (e.clone(), b.clone()))
        .collect()
}

fn arch_of(triple: &str) -> &str {
    triple.split('-').next().unwrap_or("")
}

/// The statepoint decoding of a target architecture, if it has one.
fn statepoint_arch(arch: cfree_facade::Arch) -> Option<cfree_statepoint::Arch> {
    match arch {
        cfree_facade::Arch::X86_64 => Some(cfree_statepoint::Arch::X86_64),
        cfree_facade::Arch::Aarch64 => Some(cfree_statepoint::Arch::AArch64),
        cfree_facade::Arch::X86
        | cfree_facade::Arch::Arm
        | cfree_facade::Arch::Riscv64
        | cfree_facade::Arch::Riscv32
        | cfree_facade::Arch::Wasm32
        | cfree_facade::Arch::Wasm64
        | cfree_facade::Arch::Other => None,
    }
}

/// What a publish adds to `current`: the next registry, the cells to switch
/// (`(cell, new body)`) and the replaced exports.
struct RegistryUpdate {
    next: Registry,
    /// The unit's functions.
    functions: Vec<FunctionInfo>,
    cell_updates: Vec<(u64, u64)>,
    replaced: Vec<String>,
}

/// Section load addresses of the linked unit `p`, from its bodies' addresses
/// (bodies are always exported and linked).
fn section_bases(p: &Prepared, bodies: &[u64]) -> HashMap<usize, u64> {
    let mut bases = HashMap::new();
    for (body, addr) in p.body_names.iter().zip(bodies) {
        if let Some(f) = p.info.functions.iter().find(|f| &f.name == body) {
            bases.insert(f.section, addr.wrapping_sub(f.offset));
        }
    }
    bases
}

/// Derives the next registry from `current` for the linked unit `p`, whose
/// bodies resolved to `bodies` and whose new stable entries to `entries`
/// (`(entry, cell)` by export name).
fn next_registry(
    current: &Registry,
    p: &Prepared,
    bodies: &[u64],
    entries: &HashMap<String, (u64, u64)>,
) -> RegistryUpdate {
    let generation = current.generation + 1;
    let unit = p.unit;
    let bases = section_bases(p, bodies);
    let mut next = current.clone();
    next.generation = generation;
    let mut ranges = Vec::new();
    let mut functions = Vec::new();
    for f in &p.info.functions {
        if let Some(base) = bases.get(&f.section) {
            let (start, end) = (base + f.offset, base + f.offset + f.size.max(1));
            ranges.push((start, end));
            functions.push(FunctionInfo { name: Arc::from(f.name.as_str()), start, end, generation, unit });
        }
    }
    let mut stackmaps = Vec::new();
    for e in p.info.safepoints.entries() {
        let f = &p.info.stack_map_functions[e.function];
        let (Some(base), Some(layout)) = (bases.get(&f.section), p.info.layout_base(f.section)) else { continue };
        stackmaps.push(StackMapInfo {
            pc: base + (e.pc - layout),
            function: Arc::from(f.name.as_str()),
            id: e.id,
            stack_size: e.stack_size,
            locations: Arc::from(e.locations.as_slice()),
            safepoint: e.safepoint.clone().map(Arc::new),
            unit,
        });
    }
    let mut traps = Vec::new();
    for (f, sites) in &p.info.faults {
        let Some(base) = bases.get(&f.section) else { continue };
        let start = base + f.offset;
        for s in sites {
            traps.push(TrapInfo {
                pc: start + u64::from(s.fault_offset),
                handler: start + u64::from(s.handler_offset),
                kind: s.kind,
                function: Arc::from(f.name.as_str()),
                unit,
            });
        }
    }
    next.add_code(functions.clone(), stackmaps, traps);
    let mut replaced = Vec::new();
    let mut cell_updates = Vec::new();
    let mut symbols = Vec::with_capacity(p.exports.len());
    for (e, body) in p.exports.iter().zip(bodies) {
        let (entry, cell) = match current.symbol(&e.name) {
            Some(s) => {
                replaced.push(e.name.clone());
                if let Some(u) = next.unit_mut(s.unit) {
                    u.active_exports.retain(|n| n != &e.name);
                    if u.active_exports.is_empty() && u.state == UnitState::Active {
                        u.state = UnitState::Replaced;
                    }
                }
                cell_updates.push((s.cell, *body));
                (s.entry, s.cell)
            }
            // `commit` resolved an entry for every export without a symbol.
            None => entries.get(&e.name).copied().unwrap_or_default(),
        };
        symbols.push(SymbolInfo { entry, cell, body: *body, generation, unit, signature: e.clone() });
    }
    next.set_symbols(symbols);
    next.set_units(vec![UnitInfo {
        id: unit,
        generation,
        name: p.name.clone(),
        ranges,
        state: if p.exports.is_empty() { UnitState::Replaced } else { UnitState::Active },
        active_exports: p.exports.iter().map(|e| e.name.clone()).collect(),
    }]);
    RegistryUpdate { next, functions, cell_updates, replaced }
}

/// What publish does before it links: emits `module`'s JIT object at `level`
/// with `renames` ([`ObjectModule::emit_jit_object`]) and reads its functions
/// and safepoint table ([`ObjectInfo::parse`]) with the stack map registers
/// of the module's target architecture. The module may target any
/// architecture: this is how a foreign object's table can be inspected.
pub fn compile<M: ObjectModule + ?Sized>(
    module: &M,
    renames: &[JitRename],
    level: OptLevel,
) -> Result<(Vec<u8>, ObjectInfo)> {
    let object = module.emit_jit_object(renames, level).map_err(|e| emit_error(module.name(), e))?;
    inspect(object, module.name(), module.target().arch)
}

fn emit_error<E: std::error::Error + Send + Sync + 'static>(unit: &str, e: E) -> Error {
    Error::Emit { unit: unit.to_string(), source: Box::new(e) }
}

/// Reads the functions and safepoint table of `unit`'s `object`, compiled for `arch`.
fn inspect(object: Vec<u8>, unit: &str, arch: cfree_facade::Arch) -> Result<(Vec<u8>, ObjectInfo)> {
    if let Some(symbol) = thread_local_symbol(&object) {
        return Err(Error::ThreadLocal { unit: unit.to_string(), symbol });
    }
    let info = ObjectInfo::parse(&object, statepoint_arch(arch))
        .map_err(|source| Error::Metadata { unit: unit.to_string(), source })?;
    Ok((object, info))
}

/// The first thread-local symbol (defined or referenced) of `object`, if any.
/// An object the reader cannot parse has none here: [`ObjectInfo::parse`]
/// reports it next.
fn thread_local_symbol(object: &[u8]) -> Option<String> {
    use object::{Object, ObjectSymbol};
    let file = object::File::parse(object).ok()?;
    let tls = file.symbols().find(|s| s.kind() == object::SymbolKind::Tls)?;
    Some(tls.name().unwrap_or("").to_string())
}

impl Jit {
    /// Compiles `module` at `level` and links it in, all or nothing.
    ///
    /// Every exported function becomes replaceable: calls (from the host through
    /// [`Self::get`], and from JIT code, including the module's own) go through a
    /// stable entry to the active body. Publishing a function already published
    /// replaces it (same signature required); the older unit stays callable by
    /// frames running it until it is retired and reclaimed.
    ///
    /// The module is not changed: a publish that failed can be retried with the
    /// same module (e.g. once a missing host symbol is defined), and publishing
    /// a module again replaces its functions. Compilation runs outside the
    /// session's lock, so publishes from several threads compile in parallel.
    ///
    /// On any failure (signature change, emission, malformed metadata, duplicate
    /// or unresolved symbol) the image and the registry are exactly as before
    /// and whatever the unit took, names included, is freed.
    pub fn publish<M: ObjectModule + ?Sized>(&self, module: &M, level: OptLevel) -> Result<Published> {
        let emit =
            |renames: &[JitRename]| module.emit_jit_object(renames, level).map_err(|e| emit_error(module.name(), e));
        self.count(self.prepare(module.name(), module.target(), module.exports(), emit).and_then(|p| self.commit(p)))
    }

    /// [`Self::publish`] of a module the caller is done with: it is compiled in
    /// place ([`LlvmModule::into_jit_object`]) instead of copied first, which
    /// saves about as much as O0 code generation costs. The transaction is the
    /// same (a failure leaves the image and the registry as they were), but the
    /// module is gone either way: to retry, build it again.
    pub fn publish_owned(&self, module: LlvmModule<'_>, level: OptLevel) -> Result<Published> {
        let (name, target, exports) = (module.name(), module.target().clone(), module.exports().to_vec());
        let unit = name.clone();
        let emit =
            move |renames: &[JitRename]| module.into_jit_object(renames, level).map_err(|e| emit_error(&unit, e));
        self.count(self.prepare(&name, &target, &exports, emit).and_then(|p| self.commit(p)))
    }

    fn count(&self, outcome: Result<Published>) -> Result<Published> {
        let counter = if outcome.is_ok() { &self.shared.counters.published } else { &self.shared.counters.failed };
        counter.fetch_add(1, Ordering::Relaxed);
        outcome
    }

    /// The counters of this session's publishes.
    pub fn publish_stats(&self) -> PublishStats {
        self.shared.counters.snapshot()
    }

    /// Phase 1, without the lock: checks, emission (`emit` with the renames),
    /// inspection, stable entries, for the unit `name` of `target` with `exports`.
    fn prepare(
        &self,
        name: &str,
        target: &TargetInfo,
        exports: &[FuncExport],
        emit: impl FnOnce(&[JitRename]) -> Result<Vec<u8>>,
    ) -> Result<Prepared> {
        let _compiling = Compiling::enter(&self.shared.counters);
        if arch_of(&target.triple) != arch_of(&self.shared.triple) {
            return Err(Error::WrongTarget { module: target.triple.clone(), jit: self.shared.triple.clone() });
        }
        let snapshot = self.shared.registry.load_full();
        let exports = exports.to_vec();
        check_signatures(&snapshot, &exports)?;
        let unit = UnitId(self.shared.next_unit.fetch_add(1, Ordering::Relaxed));
        let body_names: Vec<String> = exports.iter().map(|e| body_name(&e.name, unit)).collect();
        // An export new in the snapshot takes a pooled entry, which the unit's code uses under
        // the slot's own name: the export's name is defined only once the unit has linked.
        let slots: Vec<Option<usize>> = exports
            .iter()
            .map(|e| {
                let fresh = stubs::EntryPool::SUPPORTED && snapshot.symbol(&e.name).is_none();
                fresh.then(|| self.shared.next_slot.fetch_add(1, Ordering::Relaxed))
            })
            .collect();
        let renames: Vec<JitRename> = exports
            .iter()
            .zip(&body_names)
            .zip(&slots)
            .map(|((e, b), slot)| JitRename {
                export: e.name.clone(),
                body: b.clone(),
                entry: slot.map_or_else(|| e.name.clone(), stubs::slot_name),
            })
            .collect();
        let counters = &self.shared.counters;
        let t = Instant::now();
        let object = emit(&renames);
        let t = counters.lap(Phase::Compile, t);
        let (object, info) = inspect(object?, name, target.arch)?;
        let t = counters.lap(Phase::Inspect, t);
        let fresh = new_entries(&snapshot, &exports, &body_names);
        let stubs = if fresh.is_empty() || stubs::EntryPool::SUPPORTED {
            None
        } else {
            Some((fresh.iter().map(|(e, _)| e.name.clone()).collect(), stubs::stub_object(&fresh)?))
        };
        counters.lap(Phase::Entries, t);
        Ok(Prepared { unit, name: name.to_string(), exports, body_names, object, info, stubs, slots })
    }

    /// Phase 2, under the lock: re-check, link, resolve, swap the registry, switch the cells.
    fn commit(&self, p: Prepared) -> Result<Published> {
        let counters = &self.shared.counters;
        let t = Instant::now();
        let mut w = self.writer();
        let t = counters.lap(Phase::Lock, t);
        let current = self.shared.registry.load_full();
        check_signatures(&current, &p.exports)?;
        // Another publish may have created some of the entries since the snapshot.
        let fresh = new_entries(&current, &p.exports, &p.body_names);
        let fresh_names: Vec<String> = fresh.iter().map(|(e, _)| e.name.clone()).collect();
        // Hosts without the pool link stubs and cells of their own for the new exports.
        let stub_object = match p.stubs.as_ref() {
            _ if fresh.is_empty() || stubs::EntryPool::SUPPORTED => None,
            Some((names, bytes)) if *names == fresh_names => Some(std::borrow::Cow::Borrowed(bytes.as_slice())),
            _ => Some(std::borrow::Cow::Owned(stubs::stub_object(&fresh)?)),
        };

        w.orc.take_session_errors();
        let mut txn = LinkTransaction::default();
        // The pool's chunks for the slots this unit's code uses.
        let writer = &mut *w;
        let mut slots = Vec::with_capacity(p.slots.len());
        for slot in &p.slots {
            let found = slot.map(|s| writer.pool.slot(s, &mut writer.orc, &mut writer.stub_trackers)).transpose();
            slots.push(found.map_err(|m| link_error(writer, &p.name, None, m))?);
        }
        txn.unit = Some(w.orc.add_object(&p.object, &p.name).map_err(|m| link_error(&w, &p.name, None, m))?);
        if let Some(bytes) = &stub_object {
            txn.stubs = Some(w.orc.add_object(bytes, "cfree.stubs").map_err(|m| link_error(&w, &p.name, None, m))?);
        }
        let lookup = |symbol: String| w.orc.lookup(&symbol).map_err(|m| link_error(&w, &p.name, Some(symbol), m));
        let bodies = p.body_names.iter().map(|b| lookup(b.clone())).collect::<Result<Vec<u64>>>()?;
        let mut entries = HashMap::new();
        let mut names = Vec::new();
        for (i, e) in p.exports.iter().enumerate() {
            let fresh = fresh_names.contains(&e.name);
            let target = match (slots[i], fresh) {
                // The pooled entry becomes the export's: named below, its cell the body.
                (Some(slot), true) => {
                    entries.insert(e.name.clone(), slot);
                    names.push((e.name.clone(), slot.0));
                    bodies[i]
                }
                // Another publish created the export since the snapshot: this unit's code
                // reaches it through its slot, which forwards to that entry.
                (Some(_), false) => current.symbol(&e.name).map_or(bodies[i], |s| s.entry),
                (None, true) => {
                    let entry = lookup(e.name.clone())?;
                    entries.insert(e.name.clone(), (entry, lookup(format!("{}{}", e.name, stubs::CELL_SUFFIX))?));
                    continue;
                }
                (None, false) => continue,
            };
            let (_, cell) = slots[i].unwrap_or_default();
            // SAFETY: `cell` is a pointer-sized, pointer-aligned cell of a linked pool chunk,
            // which lives as long as the session; stubs read it atomically. Nothing reaches
            // this slot yet (its name is defined below, the unit's code runs after the publish).
            unsafe { AtomicU64::from_ptr(cell as *mut u64) }.store(target, Ordering::Release);
        }
        // Last, when nothing can fail any more: the new exports' names, all at once.
        if !names.is_empty() {
            w.orc.define_absolutes(&names).map_err(|m| link_error(&w, &p.name, None, m))?;
        }

        let t = counters.lap(Phase::Link, t);
        let RegistryUpdate { next, functions, cell_updates, replaced } = next_registry(&current, &p, &bodies, &entries);
        let generation = next.generation;
        if let Some(unit) = next.unit(p.unit) {
            self.shared.sources.add(p.unit, &p.object, &section_bases(&p, &bodies), &unit.ranges);
        }
        if let Some(file) = w.perf_map.as_mut() {
            for f in &functions {
                let _ = writeln!(file, "{:x} {:x} {}", f.start, f.end - f.start, f.name);
            }
        }
        if let Some(dump) = w.jitdump.as_mut() {
            let source = self.shared.sources.map_of(p.unit);
            for f in &functions {
                // SAFETY: the unit was just linked (its symbols resolved) and
                // nothing unloads it while the writer lock is held.
                let code = unsafe { ffi::code_bytes(f.start, f.end - f.start) };
                let _ = dump.function(&f.name, f.start, &code, source.as_ref().and_then(|s| s.map()));
            }
        }
        // Commit: metadata first, so any call that reaches new code finds it; then the cells.
        let (unit_tracker, stub_tracker) = txn.commit();
        w.trackers.extend(unit_tracker.map(|t| (p.unit, t)));
        w.stub_trackers.extend(stub_tracker);
        self.shared.registry.store(Arc::new(next));
        for (cell, body) in cell_updates {
            // SAFETY: `cell` is the address of a linked, pointer-sized, pointer-aligned global
            // (`<name>.cfree.cell`) that lives as long as the session; stubs read it atomically.
            let cell = unsafe { AtomicU64::from_ptr(cell as *mut u64) };
            cell.store(body, Ordering::Release);
        }
        counters.lap(Phase::Registry, t);
        Ok(Published { unit: p.unit, generation, replaced })
    }
}

/// A link failure of `unit`: ORC's `message`, then the session errors it reported meanwhile.
pub(crate) fn link_error(w: &Writer, unit: &str, symbol: Option<String>, message: String) -> Error {
    let mut messages = vec![message];
    messages.extend(w.orc.take_session_errors());
    Error::Link { unit: unit.to_string(), symbol, messages }
}
