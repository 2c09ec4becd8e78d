//! Source positions of JIT code (`doc/debuginfo.md`): for each published unit
//! whose object carries DWARF, the object and its sections' load addresses,
//! read into a [`SourceMap`] the first time a position inside the unit is
//! asked for (a backtrace), so publishing pays only for keeping the bytes.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use cfree_statepoint::{SourceMap, SourcePos};
use object::{Object, SectionIndex};

use crate::registry::UnitId;

/// One unit's debug information, read on first use.
#[derive(Debug)]
pub(crate) struct UnitSource {
    object: Vec<u8>,
    /// Load address of each code section, by section index.
    bases: HashMap<usize, u64>,
    /// The unit's code ranges.
    ranges: Vec<(u64, u64)>,
    map: OnceLock<Option<SourceMap>>,
}

impl UnitSource {
    pub(crate) fn map(&self) -> Option<&SourceMap> {
        self.map
            .get_or_init(|| {
                let base = |i: SectionIndex| self.bases.get(&i.0).copied();
                SourceMap::from_relocatable(&self.object, base).ok().flatten()
            })
            .as_ref()
    }
}

/// Source positions of the JIT's live units; shared with runtimes
/// ([`crate::Jit::sources`]) so a backtrace can name inlined calls.
#[derive(Debug, Default)]
pub struct SourceIndex {
    units: RwLock<HashMap<UnitId, Arc<UnitSource>>>,
}

impl SourceIndex {
    /// Keeps `object` for `unit` if it has debug information.
    pub(crate) fn add(&self, unit: UnitId, object: &[u8], bases: &HashMap<usize, u64>, ranges: &[(u64, u64)]) {
        let has_dwarf = object::File::parse(object).is_ok_and(|f| f.section_by_name(".debug_info").is_some());
        if !has_dwarf {
            return;
        }
        let source =
            UnitSource { object: object.to_vec(), bases: bases.clone(), ranges: ranges.to_vec(), map: OnceLock::new() };
        if let Ok(mut units) = self.units.write() {
            units.insert(unit, Arc::new(source));
        }
    }

    /// The debug information of `unit`, if it has some.
    pub(crate) fn map_of(&self, unit: UnitId) -> Option<Arc<UnitSource>> {
        self.units.read().ok()?.get(&unit).cloned()
    }

    /// Forgets a reclaimed unit.
    pub(crate) fn remove(&self, unit: UnitId) {
        if let Ok(mut units) = self.units.write() {
            units.remove(&unit);
        }
    }

    /// The positions at `pc` in JIT code, innermost first: where `pc` is, then
    /// each call its code was inlined at ([`SourceMap::frames`]). Empty if no
    /// unit with debug information holds `pc`. For a return address, ask for
    /// `pc - 1` (the call).
    pub fn frames(&self, pc: u64) -> Vec<SourcePos> {
        let unit = {
            let Ok(units) = self.units.read() else { return Vec::new() };
            units.values().find(|u| u.ranges.iter().any(|&(s, e)| s <= pc && pc < e)).cloned()
        };
        unit.and_then(|u| u.map().map(|m| m.frames(pc))).unwrap_or_default()
    }
}
