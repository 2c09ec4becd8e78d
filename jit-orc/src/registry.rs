//! The runtime metadata registry: immutable snapshots, swapped atomically on
//! every publish and reclaim, so readers never wait for a writer. Lookups by
//! PC are binary searches over sorted tables.

use std::collections::BTreeMap;
use std::sync::Arc;

use cfree_facade::FuncExport;
use cfree_statepoint::{Location, Safepoint};

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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registry {
    pub(crate) generation: u64,
    pub(crate) functions: Vec<FunctionInfo>,
    pub(crate) stackmaps: Vec<StackMapInfo>,
    pub(crate) traps: Vec<TrapInfo>,
    /// Entries are shared between snapshots: deriving the next registry copies
    /// pointers, not names and signatures (`doc/jit.md`, "Runtime metadata registry").
    pub(crate) symbols: BTreeMap<Arc<str>, Arc<SymbolInfo>>,
    pub(crate) units: BTreeMap<UnitId, Arc<UnitInfo>>,
    /// `functions[i].start`, searched instead of the wide entries.
    pub(crate) function_starts: SortedKeys,
    /// `functions[i].end`, so a miss never touches the wide entries.
    pub(crate) function_ends: Vec<u64>,
    /// `stackmaps[i].pc`, likewise.
    pub(crate) stackmap_pcs: SortedKeys,
}

/// Sorted `u64` keys with a sparse first-level index (every 64th key), so a
/// search touches a small, cache-resident index and then one 512-byte block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SortedKeys {
    keys: Vec<u64>,
    index: Vec<u64>,
}

const BLOCK: usize = 64;

impl SortedKeys {
    fn new(keys: Vec<u64>) -> Self {
        let index = keys.iter().step_by(BLOCK).copied().collect();
        SortedKeys { keys, index }
    }

    /// Number of keys `k` with `pred(k)`, for a predicate true on a prefix.
    fn partition_point(&self, pred: impl Fn(u64) -> bool) -> usize {
        let block = self.index.partition_point(|k| pred(*k));
        if block == 0 {
            return 0;
        }
        let start = (block - 1) * BLOCK;
        let end = (start + BLOCK).min(self.keys.len());
        start + self.keys[start..end].partition_point(|k| pred(*k))
    }
}

impl Registry {
    /// The generation: incremented by every successful publish.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The function whose code contains `pc`.
    pub fn function_at(&self, pc: u64) -> Option<&FunctionInfo> {
        let i = self.function_starts.partition_point(|s| s <= pc).checked_sub(1)?;
        (pc < self.function_ends[i]).then(|| &self.functions[i])
    }

    /// The stack map record whose PC is exactly `pc`.
    pub fn stackmap_at(&self, pc: u64) -> Option<&StackMapInfo> {
        let i = self.stackmap_pcs.partition_point(|p| p < pc);
        (self.stackmap_pcs.keys.get(i) == Some(&pc)).then(|| &self.stackmaps[i])
    }

    /// The GC safepoint whose return address is exactly `pc`.
    pub fn safepoint_at(&self, pc: u64) -> Option<&Safepoint> {
        self.stackmap_at(pc)?.safepoint.as_deref()
    }

    /// Every implicit check's faulting access, sorted by PC.
    pub fn traps(&self) -> &[TrapInfo] {
        &self.traps
    }

    /// The trap record at `pc`.
    pub fn trap_at(&self, pc: u64) -> Option<&TrapInfo> {
        let i = self.traps.partition_point(|t| t.pc < pc);
        self.traps.get(i).filter(|t| t.pc == pc)
    }

    /// A replaceable function by name.
    pub fn symbol(&self, name: &str) -> Option<&SymbolInfo> {
        self.symbols.get(name).map(|s| &**s)
    }

    /// A unit by id.
    pub fn unit(&self, id: UnitId) -> Option<&UnitInfo> {
        self.units.get(&id).map(|u| &**u)
    }

    /// All units, oldest first.
    pub fn units(&self) -> impl Iterator<Item = &UnitInfo> {
        self.units.values().map(|u| &**u)
    }

    /// All functions, by address.
    pub fn functions(&self) -> &[FunctionInfo] {
        &self.functions
    }

    /// All stack map records, by PC.
    pub fn stackmaps(&self) -> &[StackMapInfo] {
        &self.stackmaps
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
        let mut r = Registry { generation: 1, functions, stackmaps, ..Registry::default() };
        r.sort();
        r
    }

    /// Restores the sorted order and the search keys after a change.
    pub(crate) fn sort(&mut self) {
        self.functions.sort_by_key(|f| f.start);
        self.stackmaps.sort_by_key(|s| s.pc);
        self.traps.sort_by_key(|t| t.pc);
        self.function_starts = SortedKeys::new(self.functions.iter().map(|f| f.start).collect());
        self.function_ends = self.functions.iter().map(|f| f.end).collect();
        self.stackmap_pcs = SortedKeys::new(self.stackmaps.iter().map(|s| s.pc).collect());
    }

    pub(crate) fn remove_unit_code(&mut self, unit: UnitId) {
        self.functions.retain(|f| f.unit != unit);
        self.stackmaps.retain(|s| s.unit != unit);
        self.traps.retain(|t| t.unit != unit);
        self.sort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_level_search_agrees_with_plain_binary_search() {
        for n in [0usize, 1, 2, 63, 64, 65, 127, 128, 129, 1000] {
            let keys: Vec<u64> = (0..n as u64).map(|i| 10 + i * 7 - (i % 3)).collect();
            let sk = SortedKeys::new(keys.clone());
            for probe in 0..(n as u64 * 7 + 20) {
                assert_eq!(
                    sk.partition_point(|k| k <= probe),
                    keys.partition_point(|k| *k <= probe),
                    "n={n} p={probe}"
                );
                assert_eq!(sk.partition_point(|k| k < probe), keys.partition_point(|k| *k < probe), "n={n} p={probe}");
            }
        }
    }
}
