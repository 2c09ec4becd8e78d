//! What the registry needs from a compiled object: its functions (section,
//! offset, size) and its stack map records, resolved to function offsets
//! through the relocations of `.llvm_stackmaps`.

use cfree_statepoint::{Location, StackMapSection};
use object::{Object, ObjectSection, ObjectSymbol, RelocationTarget, SectionIndex, SymbolKind};

/// A function defined in the object.
#[derive(Clone, Debug)]
pub(crate) struct ObjFunction {
    pub(crate) name: String,
    pub(crate) section: SectionIndex,
    pub(crate) offset: u64,
    pub(crate) size: u64,
}

/// A stack map record, located relative to its function's section.
#[derive(Clone, Debug)]
pub(crate) struct ObjStackMap {
    pub(crate) section: SectionIndex,
    /// Offset of the record's PC (function start + instruction offset) in the section.
    pub(crate) pc_offset: u64,
    pub(crate) function: String,
    pub(crate) id: u64,
    pub(crate) stack_size: u64,
    pub(crate) locations: Vec<Location>,
}

/// Functions and stack maps of `bytes`.
pub(crate) fn inspect(bytes: &[u8]) -> Result<(Vec<ObjFunction>, Vec<ObjStackMap>), String> {
    let file = object::File::parse(bytes).map_err(|e| format!("object: {e}"))?;
    let functions: Vec<ObjFunction> = file
        .symbols()
        .filter(|s| s.kind() == SymbolKind::Text && s.is_definition())
        .filter_map(|s| {
            Some(ObjFunction {
                name: s.name().ok()?.to_string(),
                section: s.section_index()?,
                offset: s.address(),
                size: s.size(),
            })
        })
        .collect();
    let Some(section) = file.section_by_name(".llvm_stackmaps") else {
        return Ok((functions, Vec::new()));
    };
    let data = section.data().map_err(|e| format!(".llvm_stackmaps: {e}"))?;
    let maps = StackMapSection::parse(data).map_err(|e| format!(".llvm_stackmaps: {e}"))?;
    // The FunctionAddress field of each StkSizeRecord is a relocation: find its target.
    let mut targets = Vec::new();
    for f in maps.functions() {
        let reloc = section
            .relocations()
            .find(|(off, _)| *off == f.offset as u64)
            .ok_or_else(|| format!(".llvm_stackmaps: no relocation for function entry {}", f.index))?
            .1;
        let RelocationTarget::Symbol(idx) = reloc.target() else {
            return Err(format!(".llvm_stackmaps: function entry {} is not relocated to a symbol", f.index));
        };
        let sym = file.symbol_by_index(idx).map_err(|e| format!(".llvm_stackmaps: {e}"))?;
        let sec = sym.section_index().ok_or(".llvm_stackmaps: function symbol without a section")?;
        let base = if sym.kind() == SymbolKind::Section { 0 } else { sym.address() };
        let start = base.wrapping_add(reloc.addend() as u64);
        let name = functions
            .iter()
            .find(|g| g.section == sec && g.offset == start)
            .map(|g| g.name.clone())
            .unwrap_or_default();
        targets.push((sec, start, name, f.stack_size, f.record_count));
    }
    let mut out = Vec::new();
    let mut records = maps.records();
    for (sec, start, name, stack_size, count) in targets {
        for _ in 0..count {
            let r = records.next().ok_or(".llvm_stackmaps: fewer records than the functions claim")?;
            out.push(ObjStackMap {
                section: sec,
                pc_offset: start + u64::from(r.instruction_offset),
                function: name.clone(),
                id: r.id,
                stack_size,
                locations: r.locations().collect(),
            });
        }
    }
    Ok((functions, out))
}
