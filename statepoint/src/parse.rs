//! The bounds-checked reader. Every read checks its range; errors carry the
//! byte offset at which the data went wrong.

use std::fmt;

/// A malformed section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// Byte offset in the section.
    pub offset: usize,
    /// What was wrong there.
    pub what: &'static str,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stack map section at byte {}: {}", self.offset, self.what)
    }
}

impl std::error::Error for Error {}

#[derive(Clone, Copy, Debug)]
struct Reader<'data> {
    data: &'data [u8],
}

impl<'data> Reader<'data> {
    fn bytes<const N: usize>(&self, at: usize, what: &'static str) -> Result<[u8; N], Error> {
        at.checked_add(N)
            .and_then(|end| self.data.get(at..end))
            .map(|s| s.try_into().expect("slice of length N"))
            .ok_or(Error { offset: at.min(self.data.len()), what })
    }
    fn u8(&self, at: usize, what: &'static str) -> Result<u8, Error> {
        Ok(self.bytes::<1>(at, what)?[0])
    }
    fn u16(&self, at: usize, what: &'static str) -> Result<u16, Error> {
        Ok(u16::from_le_bytes(self.bytes(at, what)?))
    }
    fn u32(&self, at: usize, what: &'static str) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.bytes(at, what)?))
    }
    fn i32(&self, at: usize, what: &'static str) -> Result<i32, Error> {
        Ok(i32::from_le_bytes(self.bytes(at, what)?))
    }
    fn u64(&self, at: usize, what: &'static str) -> Result<u64, Error> {
        Ok(u64::from_le_bytes(self.bytes(at, what)?))
    }
}

const HEADER: usize = 16;
const SIZE_RECORD: usize = 24;
const LOCATION: usize = 12;
const LIVE_OUT: usize = 4;

fn align8(x: usize) -> usize {
    x.next_multiple_of(8)
}

/// A parsed `.llvm_stackmaps` section (little-endian targets).
#[derive(Clone, Debug)]
pub struct StackMapSection<'data> {
    reader: Reader<'data>,
    num_functions: u32,
    num_constants: u32,
    num_records: u32,
    records_at: usize,
    /// Offset of each record, validated at parse time.
    record_offsets: Vec<usize>,
}

/// Per-function entry: `FunctionAddress`, `StackSize`, `RecordCount`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StkSizeRecord {
    /// Index among the section's functions (matches relocation order in objects).
    pub index: usize,
    /// Byte offset of this entry in the section (its address field is relocated there).
    pub offset: usize,
    /// Function address (0 in an unrelocated object).
    pub function_address: u64,
    /// Fixed frame size, or `u64::MAX` if dynamic.
    pub stack_size: u64,
    /// Number of records that belong to this function (they follow in order).
    pub record_count: u64,
}

/// Kind of a location.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocationKind {
    /// The value is in register `dwarf_reg`.
    Register,
    /// The value is `reg + offset` (an address, e.g. of an alloca).
    Direct,
    /// The value is in memory at `[reg + offset]`.
    Indirect,
    /// The value is the sign-extended `offset` field.
    Constant,
    /// The value is `constants[offset]`.
    ConstantIndex,
}

/// One location of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    /// How to find the value.
    pub kind: LocationKind,
    /// Size in bytes.
    pub size: u16,
    /// DWARF register number.
    pub dwarf_reg: u16,
    /// Offset or small constant.
    pub offset: i32,
}

/// A register live across a patchpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveOut {
    /// DWARF register number.
    pub dwarf_reg: u16,
    /// Size in bytes.
    pub size: u8,
}

/// One stack map record.
#[derive(Clone, Debug)]
pub struct Record<'data> {
    reader: Reader<'data>,
    /// Byte offset of the record in the section.
    pub offset: usize,
    /// The patch point / statepoint ID.
    pub id: u64,
    /// Offset from the function start (for calls: the return address).
    pub instruction_offset: u32,
    num_locations: u16,
    num_live_outs: u16,
    live_outs_at: usize,
}

impl<'data> Record<'data> {
    /// Number of locations.
    pub fn num_locations(&self) -> usize {
        usize::from(self.num_locations)
    }

    /// The locations (validated when the section was parsed).
    pub fn locations(&self) -> impl Iterator<Item = Location> + '_ {
        (0..self.num_locations())
            .map(move |i| location(self.reader, self.offset + 16 + i * LOCATION).expect("validated at parse time"))
    }

    /// The live-out registers.
    pub fn live_outs(&self) -> impl Iterator<Item = LiveOut> + '_ {
        (0..usize::from(self.num_live_outs)).map(move |i| {
            let at = self.live_outs_at + i * LIVE_OUT;
            LiveOut {
                dwarf_reg: self.reader.u16(at, "live-out register").expect("validated"),
                size: self.reader.u8(at + 3, "live-out size").expect("validated"),
            }
        })
    }
}

fn location(r: Reader<'_>, at: usize) -> Result<Location, Error> {
    let kind = match r.u8(at, "location kind")? {
        1 => LocationKind::Register,
        2 => LocationKind::Direct,
        3 => LocationKind::Indirect,
        4 => LocationKind::Constant,
        5 => LocationKind::ConstantIndex,
        _ => return Err(Error { offset: at, what: "unknown location kind" }),
    };
    Ok(Location {
        kind,
        size: r.u16(at + 2, "location size")?,
        dwarf_reg: r.u16(at + 4, "location register")?,
        offset: r.i32(at + 8, "location offset")?,
    })
}

impl<'data> StackMapSection<'data> {
    /// Parses and validates the whole section.
    pub fn parse(data: &'data [u8]) -> Result<Self, Error> {
        let r = Reader { data };
        let version = r.u8(0, "header")?;
        if version != 3 {
            return Err(Error { offset: 0, what: "unsupported stack map version (expected 3)" });
        }
        let num_functions = r.u32(4, "header")?;
        let num_constants = r.u32(8, "header")?;
        let num_records = r.u32(12, "header")?;
        let functions_end = (num_functions as usize)
            .checked_mul(SIZE_RECORD)
            .and_then(|n| n.checked_add(HEADER))
            .ok_or(Error { offset: 4, what: "function count overflows" })?;
        let records_at = (num_constants as usize)
            .checked_mul(8)
            .and_then(|n| n.checked_add(functions_end))
            .ok_or(Error { offset: 8, what: "constant count overflows" })?;
        if records_at > data.len() {
            return Err(Error { offset: data.len(), what: "functions or constants past the end" });
        }
        let mut total = 0u64;
        for i in 0..num_functions as usize {
            total = total.saturating_add(r.u64(HEADER + i * SIZE_RECORD + 16, "record count")?);
        }
        if total != u64::from(num_records) {
            return Err(Error { offset: 12, what: "record count disagrees with the functions' record counts" });
        }
        let mut record_offsets = Vec::with_capacity((num_records as usize).min(data.len() / 16));
        let mut at = records_at;
        for _ in 0..num_records {
            record_offsets.push(at);
            let n_loc = usize::from(r.u16(at + 14, "record header")?);
            for i in 0..n_loc {
                location(r, at + 16 + i * LOCATION)?;
            }
            let live_at = align8(at + 16 + n_loc * LOCATION);
            let n_live = usize::from(r.u16(live_at + 2, "live-out header")?);
            let end = align8(live_at + 4 + n_live * LIVE_OUT);
            if end > data.len() {
                return Err(Error { offset: live_at, what: "live-outs past the end" });
            }
            at = end;
        }
        Ok(Self { reader: r, num_functions, num_constants, num_records, records_at, record_offsets })
    }

    /// The per-function entries.
    pub fn functions(&self) -> StkSizeRecords<'_, 'data> {
        StkSizeRecords { section: self, next: 0 }
    }

    /// The constant pool.
    pub fn constants(&self) -> impl Iterator<Item = u64> + '_ {
        let base = HEADER + self.num_functions as usize * SIZE_RECORD;
        (0..self.num_constants as usize).map(move |i| self.reader.u64(base + i * 8, "constant").expect("validated"))
    }

    /// All records in section order (grouped by function, in function order).
    pub fn records(&self) -> Records<'_, 'data> {
        Records { section: self, next: 0 }
    }

    /// Number of records.
    pub fn num_records(&self) -> usize {
        self.num_records as usize
    }

    /// Byte offset where records start.
    pub fn records_offset(&self) -> usize {
        self.records_at
    }

    fn record(&self, i: usize) -> Record<'data> {
        let r = self.reader;
        let at = self.record_offsets[i];
        let n_loc = r.u16(at + 14, "record").expect("validated");
        let live_outs_at = align8(at + 16 + usize::from(n_loc) * LOCATION) + 4;
        Record {
            reader: r,
            offset: at,
            id: r.u64(at, "record").expect("validated"),
            instruction_offset: r.u32(at + 8, "record").expect("validated"),
            num_locations: n_loc,
            num_live_outs: r.u16(live_outs_at - 2, "record").expect("validated"),
            live_outs_at,
        }
    }
}

/// Iterator over [`StkSizeRecord`]s.
#[derive(Debug)]
pub struct StkSizeRecords<'s, 'data> {
    section: &'s StackMapSection<'data>,
    next: usize,
}

impl Iterator for StkSizeRecords<'_, '_> {
    type Item = StkSizeRecord;
    fn next(&mut self) -> Option<StkSizeRecord> {
        if self.next >= self.section.num_functions as usize {
            return None;
        }
        let i = self.next;
        self.next += 1;
        let at = HEADER + i * SIZE_RECORD;
        let r = self.section.reader;
        Some(StkSizeRecord {
            index: i,
            offset: at,
            function_address: r.u64(at, "function").expect("validated"),
            stack_size: r.u64(at + 8, "function").expect("validated"),
            record_count: r.u64(at + 16, "function").expect("validated"),
        })
    }
}

/// Iterator over [`Record`]s.
#[derive(Debug)]
pub struct Records<'s, 'data> {
    section: &'s StackMapSection<'data>,
    next: usize,
}

impl<'data> Iterator for Records<'_, 'data> {
    type Item = Record<'data>;
    fn next(&mut self) -> Option<Record<'data>> {
        if self.next >= self.section.record_offsets.len() {
            return None;
        }
        self.next += 1;
        Some(self.section.record(self.next - 1))
    }
}
