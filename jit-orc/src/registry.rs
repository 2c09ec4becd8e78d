//! The runtime metadata registry: immutable snapshots, swapped atomically on
//! every publish and reclaim, so readers never wait for a writer. Lookups by
//! PC are binary searches over sorted, chunked tables; a new snapshot shares
//! every chunk its change does not touch.

use std::sync::Arc;

use cfree_facade::FuncExport;
use cfree_statepoint::{Location, Safepoint};

use crate::chunked::{name_key, Chunked, Keyed};

/// Identifies a published unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitId(pub u64);

/// Where a unit's code is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitState {
    /// At least one of its exported bodies is the active one.
    Active,
    /// All its exported bodies were replaced; frames may still run it.
    Replaced,
    /// The embedder retired it: it may be reclaimed once no frame runs it.
    Retired,
    /// Its memory was released; its code and metadata are gone.
    Reclaimed,
}

/// A published unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitInfo {
    /// Its id.
    pub id: UnitId,
    /// The generation its publish created.
    pub generation: u64,
    /// The module name.
    pub name: String,
    /// Code ranges `[start, end)` of its functions.
    pub ranges: Vec<(u64, u64)>,
    /// Lifetime state.
    pub state: UnitState,
    /// Exported functions whose active body is in this unit.
    pub active_exports: Vec<String>,
}

impl UnitInfo {
    /// Whether `pc` lies in this unit's code.
    pub fn contains(&self, pc: u64) -> bool {
        self.ranges.iter().any(|(s, e)| (*s..*e).contains(&pc))
    }
}

/// A function's code range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionInfo {
    /// Symbol name in the object (bodies of replaceable functions are `name.cfree.u<unit>`).
    pub name: Arc<str>,
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
    /// Generation of the publish that created it.
    pub generation: u64,
    /// Its unit.
    pub unit: UnitId,
}

/// A stack map record at a return address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackMapInfo {
    /// The PC the record describes (a call's return address).
    pub pc: u64,
    /// The function it is in.
    pub function: Arc<str>,
    /// The record ID (statepoint ID).
    pub id: u64,
    /// The function's fixed frame size (`u64::MAX` if dynamic).
    pub stack_size: u64,
    /// The record's locations.
    pub locations: Arc<[Location]>,
    /// The live managed pointers, if the record is a GC statepoint.
    pub safepoint: Option<Arc<Safepoint>>,
    /// Its unit.
    pub unit: UnitId,
}

/// An implicit check: a memory access that faults when the checked pointer
/// is null, and where to resume when it does (`doc/runtime.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrapInfo {
    /// The faulting instruction.
    pub pc: u64,
    /// The check's failure path: a fault handler resumes the thread here.
    pub handler: u64,
    /// The kind of access.
    pub kind: cfree_statepoint::FaultKind,
    /// Its function.
    pub function: Arc<str>,
    /// Its unit.
    pub unit: UnitId,
}

/// A replaceable function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolInfo {
    /// Its stable entry: call this; it always reaches the active body.
    pub entry: u64,
    /// The cell holding the active body's address.
    pub cell: u64,
    /// The active body.
    pub body: u64,
    /// Generation of the active body.
    pub generation: u64,
    /// Unit of the active body.
    pub unit: UnitId,
    /// Declared signature.
    pub signature: FuncExport,
}

/// One consistent view of everything the JIT has published.
///
/// Tables are chunked and copy-on-write ([`Chunked`]): deriving the next
/// snapshot copies the chunks a publish touches, not the whole registry
/// (`doc/jit.md`, "Runtime metadata registry").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registry {
    pub(crate) generation: u64,
    /// By start address.
    functions: Chunked<FunctionInfo>,
    /// By PC.
    stackmaps: Chunked<StackMapInfo>,
    /// By faulting PC.
    traps: Chunked<TrapInfo>,
    /// By [`name_key`] of the export's name.
    symbols: Chunked<Arc<SymbolInfo>>,
    /// By id, so oldest first.
    units: Chunked<Arc<UnitInfo>>,
}

impl Keyed for FunctionInfo {
    fn key(&self) -> u64 {
        self.start
    }
}

impl Keyed for StackMapInfo {
    fn key(&self) -> u64 {
        self.pc
    }
}

impl Keyed for TrapInfo {
    fn key(&self) -> u64 {
        self.pc
    }
}

impl Keyed for Arc<SymbolInfo> {
    fn key(&self) -> u64 {
        name_key(&self.signature.name)
    }
}

impl Keyed for Arc<UnitInfo> {
    fn key(&self) -> u64 {
        self.id.0
    }
}

impl Registry {
    /// The generation: incremented by every successful publish.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The function whose code contains `pc`.
    pub fn function_at(&self, pc: u64) -> Option<&FunctionInfo> {
        self.functions.at_or_below(pc).filter(|f| pc < f.end)
    }

    /// The stack map record whose PC is exactly `pc`.
    pub fn stackmap_at(&self, pc: u64) -> Option<&StackMapInfo> {
        self.stackmaps.find(pc, |_| true)
    }

    /// The GC safepoint whose return address is exactly `pc`.
    pub fn safepoint_at(&self, pc: u64) -> Option<&Safepoint> {
        self.stackmap_at(pc)?.safepoint.as_deref()
    }

    /// Every implicit check's faulting access, sorted by PC.
    pub fn traps(&self) -> impl DoubleEndedIterator<Item = &TrapInfo> + '_ {
        self.traps.iter()
    }

    /// The trap record at `pc`.
    pub fn trap_at(&self, pc: u64) -> Option<&TrapInfo> {
        self.traps.find(pc, |_| true)
    }

    /// A replaceable function by name.
    pub fn symbol(&self, name: &str) -> Option<&SymbolInfo> {
        self.symbols.find(name_key(name), |s| s.signature.name == name).map(|s| &**s)
    }

    /// A unit by id.
    pub fn unit(&self, id: UnitId) -> Option<&UnitInfo> {
        self.units.find(id.0, |_| true).map(|u| &**u)
    }

    /// All units, oldest first.
    pub fn units(&self) -> impl DoubleEndedIterator<Item = &UnitInfo> + '_ {
        self.units.iter().map(|u| &**u)
    }

    /// All functions, by address.
    pub fn functions(&self) -> impl DoubleEndedIterator<Item = &FunctionInfo> + '_ {
        self.functions.iter()
    }

    /// All stack map records, by PC.
    pub fn stackmaps(&self) -> impl DoubleEndedIterator<Item = &StackMapInfo> + '_ {
        self.stackmaps.iter()
    }

    /// The number of functions, stack map records, traps, symbols and units.
    pub fn counts(&self) -> RegistryCounts {
        RegistryCounts {
            functions: self.functions.len(),
            stackmaps: self.stackmaps.len(),
            traps: self.traps.len(),
            symbols: self.symbols.len(),
            units: self.units.len(),
        }
    }

    /// Adds a unit's code: its functions, stack map records and traps.
    pub(crate) fn add_code(
        &mut self,
        functions: Vec<FunctionInfo>,
        stackmaps: Vec<StackMapInfo>,
        traps: Vec<TrapInfo>,
    ) {
        self.functions.insert(functions);
        self.stackmaps.insert(stackmaps);
        self.traps.insert(traps);
    }

    /// Adds symbols, or replaces those of the same names.
    pub(crate) fn set_symbols(&mut self, infos: Vec<SymbolInfo>) {
        self.symbols.upsert_all(infos.into_iter().map(Arc::new).collect(), |a, b| a.signature.name == b.signature.name);
    }

    /// Adds units, or replaces those with their ids.
    pub(crate) fn set_units(&mut self, infos: Vec<UnitInfo>) {
        self.units.upsert_all(infos.into_iter().map(Arc::new).collect(), |_, _| true);
    }

    /// A unit to change (copied if an older snapshot shares it).
    pub(crate) fn unit_mut(&mut self, id: UnitId) -> Option<&mut UnitInfo> {
        self.units.find_mut(id.0, |_| true).map(Arc::make_mut)
    }

    pub(crate) fn remove_unit_code(&mut self, unit: UnitId) {
        self.functions.remove_where(|f| f.unit == unit);
        self.stackmaps.remove_where(|s| s.unit == unit);
        self.traps.remove_where(|t| t.unit == unit);
    }

    /// A registry of synthetic functions (for lookup benchmarks): `n` functions
    /// of `size` bytes from `base`, each with one stack map record at `start + 8`.
    #[doc(hidden)]
    pub fn synthetic(n: usize, base: u64, size: u64) -> Registry {
        let name: Arc<str> = Arc::from("f");
        let locations: Arc<[Location]> = Arc::from(Vec::new());
        let functions = (0..n as u64)
            .map(|i| FunctionInfo {
                name: name.clone(),
                start: base + i * size,
                end: base + (i + 1) * size - 4,
                generation: 1,
                unit: UnitId(1),
            })
            .collect();
        let stackmaps = (0..n as u64)
            .map(|i| StackMapInfo {
                pc: base + i * size + 8,
                function: name.clone(),
                id: i,
                stack_size: 16,
                locations: locations.clone(),
                safepoint: None,
                unit: UnitId(1),
            })
            .collect();
        let mut r = Registry { generation: 1, ..Registry::default() };
        r.add_code(functions, stackmaps, Vec::new());
        r
    }
}

/// How many entries each of a registry's tables holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegistryCounts {
    /// Functions with code.
    pub functions: usize,
    /// Stack map records.
    pub stackmaps: usize,
    /// Trap records.
    pub traps: usize,
    /// Replaceable (exported) functions.
    pub symbols: usize,
    /// Units, in every state.
    pub units: usize,
}
