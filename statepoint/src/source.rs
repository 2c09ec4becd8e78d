//! Source positions of code addresses, from an object's DWARF
//! (`doc/debuginfo.md`): the position at an address and, where code was inlined,
//! the position of each inlined call in its caller, innermost first. A
//! runtime uses it for backtraces that include the frames LLVM inlined away.
//!
//! Linked files are read as they are; a relocatable object (what a JIT
//! loads) first has the relocations of its debug sections applied with the
//! load address of each of its sections, so the DWARF speaks of run-time
//! addresses.

use std::fmt;
use std::sync::{Arc, Mutex};

use gimli::EndianArcSlice;
use gimli::RunTimeEndian;
use object::{Object, ObjectSection, ObjectSymbol, RelocationKind, RelocationTarget, SectionIndex, SymbolSection};

type Reader = EndianArcSlice<RunTimeEndian>;

/// A position in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourcePos {
    /// The file, as the compile unit names it (joined with its directory).
    pub file: String,
    /// 1-based line (0: none).
    pub line: u32,
    /// 1-based column (0: unknown).
    pub column: u32,
    /// The function the position is in, if the DWARF names it.
    pub function: Option<String>,
}

/// Why an object's DWARF could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceMapError(String);

impl fmt::Display for SourceMapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reading debug information: {}", self.0)
    }
}

impl std::error::Error for SourceMapError {}

fn err(e: impl fmt::Display) -> SourceMapError {
    SourceMapError(e.to_string())
}

/// Address-to-source lookups over one object's DWARF.
pub struct SourceMap {
    context: Mutex<addr2line::Context<Reader>>,
}

impl fmt::Debug for SourceMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceMap").finish_non_exhaustive()
    }
}

impl SourceMap {
    /// The DWARF of a linked file (executable or shared object loaded at its
    /// link addresses); `None` if it has none.
    pub fn from_linked(data: &[u8]) -> Result<Option<SourceMap>, SourceMapError> {
        let file = object::File::parse(data).map_err(err)?;
        Self::build(&file, |section| Ok(section.uncompressed_data().map_err(err)?.into_owned()))
    }

    /// The DWARF of relocatable object `data`, whose allocated sections were
    /// loaded at `section_address(index)` (`None`: not loaded; references to
    /// it read as 0). `None` if the object has no DWARF.
    pub fn from_relocatable(
        data: &[u8],
        section_address: impl Fn(SectionIndex) -> Option<u64>,
    ) -> Result<Option<SourceMap>, SourceMapError> {
        let file = object::File::parse(data).map_err(err)?;
        Self::build(&file, |section| relocated(&file, section, &section_address))
    }

    fn build<'d>(
        file: &object::File<'d>,
        contents: impl Fn(&object::Section<'d, '_>) -> Result<Vec<u8>, SourceMapError>,
    ) -> Result<Option<SourceMap>, SourceMapError> {
        if file.section_by_name(".debug_info").is_none() {
            return Ok(None);
        }
        let endian = if file.is_little_endian() { RunTimeEndian::Little } else { RunTimeEndian::Big };
        let load = |id: gimli::SectionId| -> Result<Reader, SourceMapError> {
            let bytes = match file.section_by_name(id.name()) {
                Some(section) => contents(&section)?,
                None => Vec::new(),
            };
            Ok(EndianArcSlice::new(Arc::from(bytes), endian))
        };
        let dwarf = gimli::Dwarf::load(load)?;
        let context = addr2line::Context::from_dwarf(dwarf).map_err(err)?;
        Ok(Some(SourceMap { context: Mutex::new(context) }))
    }

    /// The positions at `pc`, innermost first: where `pc` is, then, if that
    /// code was inlined, the inlined call in its caller, and so on out to the
    /// function that holds the code. Empty if the DWARF does not cover `pc`.
    pub fn frames(&self, pc: u64) -> Vec<SourcePos> {
        let Ok(context) = self.context.lock() else { return Vec::new() };
        let mut out = Vec::new();
        let Ok(mut frames) = context.find_frames(pc).skip_all_loads() else { return out };
        while let Ok(Some(frame)) = frames.next() {
            let function = frame.function.as_ref().and_then(|f| f.raw_name().ok()).map(|n| n.into_owned());
            let (file, line, column) = match frame.location {
                Some(l) => (l.file.unwrap_or("").to_string(), l.line.unwrap_or(0), l.column.unwrap_or(0)),
                None => (String::new(), 0, 0),
            };
            out.push(SourcePos { file, line, column, function });
        }
        out
    }
}

impl SourceMap {
    /// The line-table rows of `start..end`: the address where each row
    /// starts (clamped to `start`), its file and line, in address order.
    pub fn lines(&self, start: u64, end: u64) -> Vec<(u64, String, u32)> {
        let Ok(context) = self.context.lock() else { return Vec::new() };
        let Ok(rows) = context.find_location_range(start, end) else { return Vec::new() };
        let mut out: Vec<(u64, String, u32)> = rows
            .map(|(addr, _len, l)| (addr.max(start), l.file.unwrap_or("").to_string(), l.line.unwrap_or(0)))
            .filter(|r| r.2 != 0)
            .collect();
        out.sort_by_key(|r| r.0);
        out
    }
}

/// The contents of `section` with its relocations applied: debug sections
/// refer to each other by offset (their own addresses are 0) and to code and
/// data at the load addresses `section_address` gives.
fn relocated(
    file: &object::File<'_>,
    section: &object::Section<'_, '_>,
    section_address: &impl Fn(SectionIndex) -> Option<u64>,
) -> Result<Vec<u8>, SourceMapError> {
    let mut bytes = section.uncompressed_data().map_err(err)?.into_owned();
    let little = file.is_little_endian();
    for (offset, r) in section.relocations() {
        let RelocationTarget::Symbol(index) = r.target() else { continue };
        let symbol = file.symbol_by_index(index).map_err(err)?;
        let base = match symbol.section() {
            SymbolSection::Section(target) => {
                let target_section = file.section_by_index(target).map_err(err)?;
                let loaded = target_section.name().is_ok_and(|n| !n.starts_with(".debug"));
                if loaded {
                    section_address(target).unwrap_or(0)
                } else {
                    0
                }
            }
            _ => 0,
        };
        let size = usize::from(r.size() / 8);
        let at = usize::try_from(offset).map_err(err)?;
        let Some(slot) = bytes.get_mut(at..at + size) else {
            return Err(SourceMapError(format!("relocation at {offset:#x} is outside its section")));
        };
        let addend = if r.has_implicit_addend() { read(slot, little) as i64 } else { r.addend() };
        let value = match r.kind() {
            RelocationKind::Absolute => base.wrapping_add(symbol.address()).wrapping_add(addend as u64),
            // Section-relative offsets (DWARF on some targets): the target's own address is 0.
            RelocationKind::SectionOffset => symbol.address().wrapping_add(addend as u64),
            kind => return Err(SourceMapError(format!("unsupported relocation {kind:?} in a debug section"))),
        };
        write(slot, value, little);
    }
    Ok(bytes)
}

fn read(slot: &[u8], little: bool) -> u64 {
    let mut b = [0u8; 8];
    if little {
        b[..slot.len()].copy_from_slice(slot);
        u64::from_le_bytes(b)
    } else {
        b[8 - slot.len()..].copy_from_slice(slot);
        u64::from_be_bytes(b)
    }
}

fn write(slot: &mut [u8], value: u64, little: bool) {
    let n = slot.len();
    if little {
        slot.copy_from_slice(&value.to_le_bytes()[..n]);
    } else {
        slot.copy_from_slice(&value.to_be_bytes()[8 - n..]);
    }
}

// Registries share source maps between threads.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<SourceMap>();
};
