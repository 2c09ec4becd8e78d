//! What the registry needs from a compiled object, read before it is linked:
//! its functions (section, offset, size) and its safepoint table
//! ([`SafepointTable::build`], the builder AOT runtimes use too), with each
//! stack map function's start resolved through the relocations of
//! `.llvm_stackmaps`.
//!
//! The object is not loaded yet, so its sections have no addresses: the table
//! is built over a *layout* that places the object's code sections one after
//! another from 0 in index order (an object with one `.text`, LLVM's default,
//! has its section offsets as PCs). Publish moves each entry to its section's
//! linked address.

use std::fmt;

use cfree_statepoint::{Arch, FaultMapSection, FaultSite, OtherRecords, SafepointTable, StackMapSection, TableError};
use object::{Object, ObjectSection, ObjectSymbol, RelocationTarget, SectionIndex, SymbolKind};

/// A function defined in the object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectFunction {
    /// Symbol name.
    pub name: String,
    /// Index of its section in the object.
    pub section: usize,
    /// Offset of its first byte in the section.
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
}

/// The function a `StkSizeRecord` of `.llvm_stackmaps` describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackMapFunction {
    /// Symbol name (empty if no function symbol starts there).
    pub name: String,
    /// Index of its section in the object.
    pub section: usize,
    /// Offset of its first byte in the section.
    pub offset: u64,
}

/// Functions and safepoints of a relocatable object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Defined functions.
    pub functions: Vec<ObjectFunction>,
    /// Per `StkSizeRecord` of `.llvm_stackmaps`, in order: its function.
    pub stack_map_functions: Vec<StackMapFunction>,
    /// The stack map records with their safepoints, PCs in the object's layout
    /// (see [`ObjectInfo::layout_base`]).
    pub safepoints: SafepointTable,
    /// Implicit checks from `.llvm_faultmaps`: each function with its sites.
    pub faults: Vec<(StackMapFunction, Vec<FaultSite>)>,
    /// `(section, base)` of each code section in the layout.
    layout: Vec<(usize, u64)>,
}

/// Why an object's functions or stack maps cannot be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum ObjectError {
    /// The object file itself.
    Object(object::Error),
    /// The contents of `.llvm_stackmaps`.
    SectionData(object::Error),
    /// `.llvm_stackmaps` is not a valid stack map section.
    StackMaps(cfree_statepoint::Error),
    /// `.llvm_faultmaps` is not a valid fault map section.
    FaultMaps(cfree_statepoint::Error),
    /// A function entry of `.llvm_stackmaps` has no relocation (its address is unknown).
    NoRelocation {
        /// Index of the function entry.
        function: usize,
    },
    /// A function entry is relocated to something other than a symbol.
    NotASymbol {
        /// Index of the function entry.
        function: usize,
    },
    /// A function entry's relocation names a symbol that cannot be read.
    Symbol {
        /// Index of the function entry.
        function: usize,
        /// The reader's error.
        source: object::Error,
    },
    /// A function entry's symbol is not defined in a section.
    NoSection {
        /// Index of the function entry.
        function: usize,
    },
    /// The object has stack maps but its target has no statepoint decoding.
    NoArch,
    /// The records do not make a safepoint table (a root the walk cannot reach, a dynamic frame, ...).
    Table(TableError),
}

impl fmt::Display for ObjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectError::Object(e) => write!(f, "object file: {e}"),
            ObjectError::SectionData(e) => write!(f, ".llvm_stackmaps: {e}"),
            ObjectError::StackMaps(e) => write!(f, ".llvm_stackmaps: {e}"),
            ObjectError::FaultMaps(e) => write!(f, ".llvm_faultmaps: {e}"),
            ObjectError::NoRelocation { function } => {
                write!(f, ".llvm_stackmaps: no relocation for function entry {function}")
            }
            ObjectError::NotASymbol { function } => {
                write!(f, ".llvm_stackmaps: function entry {function} is not relocated to a symbol")
            }
            ObjectError::Symbol { function, source } => {
                write!(f, ".llvm_stackmaps: the symbol of function entry {function}: {source}")
            }
            ObjectError::NoSection { function } => {
                write!(f, ".llvm_stackmaps: the symbol of function entry {function} is not in a section")
            }
            ObjectError::NoArch => f.write_str(".llvm_stackmaps: no statepoint decoding for this architecture"),
            ObjectError::Table(e) => write!(f, ".llvm_stackmaps: {e}"),
        }
    }
}

impl std::error::Error for ObjectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ObjectError::Object(e) | ObjectError::SectionData(e) | ObjectError::Symbol { source: e, .. } => Some(e),
            ObjectError::StackMaps(e) | ObjectError::FaultMaps(e) => Some(e),
            ObjectError::Table(e) => Some(e),
            ObjectError::NoRelocation { .. }
            | ObjectError::NotASymbol { .. }
            | ObjectError::NoSection { .. }
            | ObjectError::NoArch => None,
        }
    }
}

impl ObjectInfo {
    /// Reads the functions and the safepoint table of the relocatable object
    /// `bytes`, whose stack map locations use `arch`'s registers (`None`: a
    /// target without statepoint decoding, whose objects must have no stack
    /// maps). Records that are not statepoints are kept without a safepoint.
    pub fn parse(bytes: &[u8], arch: Option<Arch>) -> Result<ObjectInfo, ObjectError> {
        let file = object::File::parse(bytes).map_err(ObjectError::Object)?;
        let functions: Vec<ObjectFunction> = file
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Text && s.is_definition())
            .filter_map(|s| {
                Some(ObjectFunction {
                    name: s.name().ok()?.to_string(),
                    section: s.section_index()?.0,
                    offset: s.address(),
                    size: s.size(),
                })
            })
            .collect();
        let mut info = ObjectInfo { functions, ..ObjectInfo::default() };
        if let Some(section) = file.section_by_name(".llvm_faultmaps") {
            let data = section.data().map_err(ObjectError::SectionData)?;
            let maps = FaultMapSection::parse(data).map_err(ObjectError::FaultMaps)?;
            for (i, f) in maps.functions.into_iter().enumerate() {
                let function = stack_map_function(&file, &section, i, f.address_offset as u64, &info.functions)?;
                info.faults.push((function, f.sites));
            }
        }
        let Some(section) = file.section_by_name(".llvm_stackmaps") else {
            return Ok(info);
        };
        let data = section.data().map_err(ObjectError::SectionData)?;
        let maps = StackMapSection::parse(data).map_err(ObjectError::StackMaps)?;
        for f in maps.functions() {
            info.stack_map_functions.push(stack_map_function(
                &file,
                &section,
                f.index,
                f.offset as u64,
                &info.functions,
            )?);
        }
        info.layout = layout(&file, &info.stack_map_functions);
        if maps.num_records() == 0 {
            return Ok(info);
        }
        let arch = arch.ok_or(ObjectError::NoArch)?;
        let starts: Vec<u64> =
            info.stack_map_functions.iter().map(|f| info.layout_base(f.section).unwrap_or(0) + f.offset).collect();
        info.safepoints =
            SafepointTable::build(arch, &maps, &starts, OtherRecords::Keep).map_err(ObjectError::Table)?;
        Ok(info)
    }

    /// Where the layout places `section` (a code section with stack maps).
    pub fn layout_base(&self, section: usize) -> Option<u64> {
        self.layout.iter().find(|(s, _)| *s == section).map(|(_, b)| *b)
    }
}

/// The function whose address the `StkSizeRecord` at `offset` of `section` holds, as a relocation.
fn stack_map_function(
    file: &object::File<'_>,
    section: &object::Section<'_, '_>,
    index: usize,
    offset: u64,
    functions: &[ObjectFunction],
) -> Result<StackMapFunction, ObjectError> {
    let (_, reloc) =
        section.relocations().find(|(at, _)| *at == offset).ok_or(ObjectError::NoRelocation { function: index })?;
    let RelocationTarget::Symbol(idx) = reloc.target() else {
        return Err(ObjectError::NotASymbol { function: index });
    };
    let sym = file.symbol_by_index(idx).map_err(|source| ObjectError::Symbol { function: index, source })?;
    let SectionIndex(sec) = sym.section_index().ok_or(ObjectError::NoSection { function: index })?;
    let base = if sym.kind() == SymbolKind::Section { 0 } else { sym.address() };
    let start = base.wrapping_add(reloc.addend() as u64);
    let name = functions.iter().find(|g| g.section == sec && g.offset == start).map(|g| g.name.clone());
    Ok(StackMapFunction { name: name.unwrap_or_default(), section: sec, offset: start })
}

/// Bases of the sections holding stack map functions, one after another from 0
/// in index order (each aligned as the section requires, at least to 16 bytes).
fn layout(file: &object::File<'_>, functions: &[StackMapFunction]) -> Vec<(usize, u64)> {
    let mut sections: Vec<usize> = functions.iter().map(|f| f.section).collect();
    sections.sort_unstable();
    sections.dedup();
    let mut next = 0u64;
    sections
        .into_iter()
        .map(|s| {
            let (size, align) =
                file.section_by_index(SectionIndex(s)).map(|sec| (sec.size(), sec.align().max(16))).unwrap_or((0, 16));
            let base = next.next_multiple_of(align);
            next = base + size;
            (s, base)
        })
        .collect()
}
