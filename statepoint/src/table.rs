//! The safepoint table: a stack map section turned into PC-sorted entries
//! with decoded [`Safepoint`]s. It is the one builder of the workspace: the
//! JIT's registry (function starts resolved from an object's relocations) and
//! an AOT runtime (function starts already in a linked section) both call
//! [`SafepointTable::build`], differing only in where the function addresses
//! come from and whether records that are not statepoints are kept.

use std::fmt;

use crate::{Arch, DecodeError, Location, Safepoint, StackMapSection};

/// What to do with records that are not `gc.statepoint` records
/// (`llvm.experimental.stackmap`, patchpoints): [`DecodeError::NotAStatepoint`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OtherRecords {
    /// Keep them as entries without a safepoint (a JIT registry answers stack
    /// map queries for them too).
    Keep,
    /// Refuse them: the section must describe GC safepoints only (an AOT
    /// runtime whose every record is a safepoint).
    Refuse,
}

/// One stack map record at its return address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableEntry {
    /// The record's PC: its function's start plus its instruction offset (for a
    /// call, the return address).
    pub pc: u64,
    /// Index of the record's function among the section's [`crate::StkSizeRecord`]s.
    pub function: usize,
    /// Index of the record in the section.
    pub record: usize,
    /// The record's ID.
    pub id: u64,
    /// The function's stack size (`u64::MAX` if dynamic).
    pub stack_size: u64,
    /// The record's locations.
    pub locations: Vec<Location>,
    /// The decoded safepoint (ID and frame size set), or `None` for a record
    /// that is not a statepoint (kept with [`OtherRecords::Keep`] only).
    pub safepoint: Option<Safepoint>,
}

/// Why a section cannot become a safepoint table. Every variant names the
/// function (index among the section's functions) and, where there is one,
/// the record (index in the section).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TableError {
    /// The caller resolved a different number of function addresses than the section has functions.
    FunctionCount {
        /// Functions in the section.
        section: usize,
        /// Addresses given.
        given: usize,
    },
    /// A record's PC (function start plus instruction offset) overflows the address space.
    AddressOverflow {
        /// The function.
        function: usize,
        /// The record.
        record: usize,
    },
    /// A record that the collector cannot use (or, with [`OtherRecords::Refuse`], that is not a statepoint).
    Undecodable {
        /// The function.
        function: usize,
        /// The record.
        record: usize,
        /// The record's ID.
        id: u64,
        /// The record's PC.
        pc: u64,
        /// What is wrong with it.
        error: DecodeError,
    },
    /// A function with safepoints has a dynamic frame (`StackSize` is `u64::MAX`),
    /// which the architecture's walk cannot step over ([`Arch::walk_needs_frame_sizes`]).
    DynamicFrame {
        /// The function.
        function: usize,
        /// Its start address.
        address: u64,
    },
    /// Two records at the same PC.
    DuplicatePc {
        /// The PC.
        pc: u64,
        /// The first record.
        first: usize,
        /// The second record.
        second: usize,
    },
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TableError::FunctionCount { section, given } => {
                write!(f, "the section has {section} functions but {given} addresses were resolved")
            }
            TableError::AddressOverflow { function, record } => {
                write!(f, "record {record} of function {function} overflows the address space")
            }
            TableError::Undecodable { function, record, id, pc, error } => write!(
                f,
                "record {record} (id {id:#x}) of function {function} at return address {pc:#x} cannot be used by \
                 the collector: {error}"
            ),
            TableError::DynamicFrame { function, address } => write!(
                f,
                "function {function} at {address:#x} has a dynamic frame, which the frame walk cannot step over"
            ),
            TableError::DuplicatePc { pc, first, second } => {
                write!(f, "records {first} and {second} are both at the return address {pc:#x}")
            }
        }
    }
}

impl std::error::Error for TableError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TableError::Undecodable { error, .. } => Some(error),
            TableError::FunctionCount { .. }
            | TableError::AddressOverflow { .. }
            | TableError::DynamicFrame { .. }
            | TableError::DuplicatePc { .. } => None,
        }
    }
}

/// The records of a stack map section by PC, decoded for one architecture.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SafepointTable {
    pcs: Vec<u64>,
    entries: Vec<TableEntry>,
}

impl SafepointTable {
    /// Builds the table of `maps`, whose locations use `arch`'s DWARF register
    /// numbers. `function_addresses[i]` is the start of the section's function
    /// `i` (a linked section's own `FunctionAddress`, or what a loader resolved
    /// from the object's relocations); records belong to the functions in
    /// order, `record_count` each (the parser checked the counts add up).
    ///
    /// Each record is decoded as a statepoint ([`Safepoint::from_record`]) with
    /// its function's fixed frame size; a record that looks like a statepoint
    /// but cannot be walked (a root in a register, unpaired pointers) is an
    /// error, since it would hide roots. Where the walk needs frame sizes
    /// ([`Arch::walk_needs_frame_sizes`]), a function with safepoints and a
    /// dynamic frame is an error. Two records at one PC are an error.
    pub fn build(
        arch: Arch,
        maps: &StackMapSection<'_>,
        function_addresses: &[u64],
        other: OtherRecords,
    ) -> Result<SafepointTable, TableError> {
        let section_functions = maps.functions().count();
        if section_functions != function_addresses.len() {
            return Err(TableError::FunctionCount { section: section_functions, given: function_addresses.len() });
        }
        let mut entries = Vec::with_capacity(maps.num_records());
        let mut records = maps.records().enumerate();
        for (f, &start) in maps.functions().zip(function_addresses) {
            // `parse` checked that the functions' record counts add up to the records present.
            for (index, r) in records.by_ref().take(usize::try_from(f.record_count).unwrap_or(usize::MAX)) {
                let pc = start
                    .checked_add(u64::from(r.instruction_offset))
                    .ok_or(TableError::AddressOverflow { function: f.index, record: index })?;
                let undecodable =
                    |error| TableError::Undecodable { function: f.index, record: index, id: r.id, pc, error };
                let safepoint = match Safepoint::from_record(arch, &r) {
                    Ok(sp) => {
                        let frame_size = (f.stack_size != u64::MAX).then_some(f.stack_size);
                        if frame_size.is_none() && arch.walk_needs_frame_sizes() {
                            return Err(TableError::DynamicFrame { function: f.index, address: start });
                        }
                        Some(Safepoint { frame_size, ..sp })
                    }
                    Err(DecodeError::NotAStatepoint) => match other {
                        OtherRecords::Keep => None,
                        OtherRecords::Refuse => return Err(undecodable(DecodeError::NotAStatepoint)),
                    },
                    Err(e) => return Err(undecodable(e)),
                };
                entries.push(TableEntry {
                    pc,
                    function: f.index,
                    record: index,
                    id: r.id,
                    stack_size: f.stack_size,
                    locations: r.locations().collect(),
                    safepoint,
                });
            }
        }
        entries.sort_by_key(|e| e.pc);
        if let Some(w) = entries.windows(2).find(|w| w[0].pc == w[1].pc) {
            return Err(TableError::DuplicatePc { pc: w[0].pc, first: w[0].record, second: w[1].record });
        }
        Ok(SafepointTable { pcs: entries.iter().map(|e| e.pc).collect(), entries })
    }

    /// The entries, sorted by PC.
    pub fn entries(&self) -> &[TableEntry] {
        &self.entries
    }

    /// The entries, sorted by PC.
    pub fn into_entries(self) -> Vec<TableEntry> {
        self.entries
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry whose PC is exactly `pc` (binary search).
    pub fn entry_at(&self, pc: u64) -> Option<&TableEntry> {
        self.pcs.binary_search(&pc).ok().map(|i| &self.entries[i])
    }

    /// The safepoint whose return address is exactly `pc`.
    pub fn safepoint_at(&self, pc: u64) -> Option<&Safepoint> {
        self.entry_at(pc)?.safepoint.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{aarch64, x86_64, LivePointer, Slot};

    /// A location as (kind, register, offset).
    type Loc = (u8, u16, i32);

    /// A section: `functions` of (address, stack size, record count), then records
    /// of (id, instruction offset, locations).
    fn section(functions: &[(u64, u64, u64)], records: &[(u64, u32, &[Loc])]) -> Vec<u8> {
        let mut b = vec![3, 0, 0, 0];
        b.extend((functions.len() as u32).to_le_bytes());
        b.extend(0u32.to_le_bytes());
        b.extend((records.len() as u32).to_le_bytes());
        for (addr, size, count) in functions {
            b.extend(addr.to_le_bytes());
            b.extend(size.to_le_bytes());
            b.extend(count.to_le_bytes());
        }
        for (id, offset, locations) in records {
            b.extend(id.to_le_bytes());
            b.extend(offset.to_le_bytes());
            b.extend(0u16.to_le_bytes());
            b.extend((locations.len() as u16).to_le_bytes());
            for (kind, reg, off) in *locations {
                b.extend([*kind, 0]);
                b.extend(8u16.to_le_bytes());
                b.extend(reg.to_le_bytes());
                b.extend(0u16.to_le_bytes());
                b.extend(off.to_le_bytes());
            }
            while b.len() % 8 != 0 {
                b.push(0);
            }
            b.extend([0u8; 4]);
            while b.len() % 8 != 0 {
                b.push(0);
            }
        }
        b
    }

    const C0: Loc = (4, 0, 0);

    #[test]
    fn entries_are_sorted_by_pc_with_frame_sizes_and_ids() {
        let spilled = (3, aarch64::SP, 16);
        let bytes = section(
            &[(0, 48, 2), (0, 32, 1)],
            &[(7, 12, &[C0, C0, C0, spilled, spilled]), (8, 4, &[C0, C0, C0]), (9, 20, &[C0, C0, C0])],
        );
        let maps = StackMapSection::parse(&bytes).unwrap();
        // The second function is placed before the first: entries come out by PC.
        let t = SafepointTable::build(Arch::AArch64, &maps, &[0x2000, 0x1000], OtherRecords::Refuse).unwrap();
        let got: Vec<(u64, usize, usize, u64)> =
            t.entries().iter().map(|e| (e.pc, e.function, e.record, e.id)).collect();
        assert_eq!(got, [(0x1014, 1, 2, 9), (0x2004, 0, 1, 8), (0x200c, 0, 0, 7)]);
        let sp = t.safepoint_at(0x200c).unwrap();
        assert_eq!((sp.id, sp.frame_size), (7, Some(48)));
        assert_eq!(sp.live, [LivePointer { base: Slot::Sp(16), derived: Slot::Sp(16) }]);
        assert_eq!(t.safepoint_at(0x1014).unwrap().frame_size, Some(32));
        assert!(t.safepoint_at(0x2000).is_none());
        // The same locations read with x86-64's register numbers are not walkable.
        let e = SafepointTable::build(Arch::X86_64, &maps, &[0x2000, 0x1000], OtherRecords::Refuse).unwrap_err();
        assert!(matches!(e, TableError::Undecodable { function: 0, record: 0, id: 7, pc: 0x200c, .. }), "{e}");
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn other_records_are_kept_or_refused() {
        let plain: &[Loc] = &[(1, x86_64::RBP, 0)];
        let bytes = section(&[(0, 16, 1)], &[(77, 5, plain)]);
        let maps = StackMapSection::parse(&bytes).unwrap();
        let t = SafepointTable::build(Arch::X86_64, &maps, &[0x100], OtherRecords::Keep).unwrap();
        assert_eq!(t.len(), 1);
        let e = &t.entries()[0];
        assert_eq!((e.pc, e.id, e.stack_size, e.locations.len(), e.safepoint.is_none()), (0x105, 77, 16, 1, true));
        let e = SafepointTable::build(Arch::X86_64, &maps, &[0x100], OtherRecords::Refuse).unwrap_err();
        assert_eq!(
            e,
            TableError::Undecodable { function: 0, record: 0, id: 77, pc: 0x105, error: DecodeError::NotAStatepoint }
        );
        assert!(e.to_string().starts_with("record 0 (id 0x4d) of function 0 at return address 0x105 cannot be used"));
    }

    #[test]
    fn dynamic_frames_count_only_where_the_walk_needs_sizes() {
        let bytes = section(&[(0, u64::MAX, 1)], &[(1, 8, &[C0, C0, C0])]);
        let maps = StackMapSection::parse(&bytes).unwrap();
        let t = SafepointTable::build(Arch::X86_64, &maps, &[0x400], OtherRecords::Refuse).unwrap();
        assert_eq!(t.safepoint_at(0x408).unwrap().frame_size, None);
        let e = SafepointTable::build(Arch::AArch64, &maps, &[0x400], OtherRecords::Refuse).unwrap_err();
        assert_eq!(e, TableError::DynamicFrame { function: 0, address: 0x400 });
        assert_eq!(e.to_string(), "function 0 at 0x400 has a dynamic frame, which the frame walk cannot step over");
    }

    #[test]
    fn counts_overflows_and_duplicates_are_errors() {
        let bytes = section(&[(0, 16, 2)], &[(1, 8, &[C0, C0, C0]), (2, 8, &[C0, C0, C0])]);
        let maps = StackMapSection::parse(&bytes).unwrap();
        let e = SafepointTable::build(Arch::X86_64, &maps, &[], OtherRecords::Keep).unwrap_err();
        assert_eq!(e, TableError::FunctionCount { section: 1, given: 0 });
        let e = SafepointTable::build(Arch::X86_64, &maps, &[0x10], OtherRecords::Keep).unwrap_err();
        assert_eq!(e, TableError::DuplicatePc { pc: 0x18, first: 0, second: 1 });
        let e = SafepointTable::build(Arch::X86_64, &maps, &[u64::MAX - 4], OtherRecords::Keep).unwrap_err();
        assert_eq!(e, TableError::AddressOverflow { function: 0, record: 0 });
        assert_eq!(e.to_string(), "record 0 of function 0 overflows the address space");
    }
}
