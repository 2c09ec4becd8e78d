//! Stable entries of replaceable functions, emitted through the CG facade:
//! for each function `f` a cell `f.cfree.cell` holding the active body's
//! address (initialised by relocation to the first body) and a stub `f` that
//! loads the cell (acquire) and calls through it. At O2 the call becomes a
//! tail jump, so a call through the entry costs one PC-relative load and one
//! indirect jump (x86-64: `mov cell(%rip), %rax; jmp *%rax`).
//!
//! Replacement stores the new body's address into the cell with release
//! ordering after the body is fully linked; a caller's acquire load then sees
//! either the old or the new body, both complete. Frames already in the old
//! body return into it, so it stays mapped until reclaimed.
//!
//! On an x86-64 host the object is written directly (no LLVM): a stub is
//! `jmp *cell(%rip)`, the same instruction the compiled stub becomes, which
//! needs no signature (the arguments stay where the caller put them) and is
//! an acquire load under x86's ordering. Other hosts compile the stubs
//! through the facade. `doc/jit.md` has the measured difference.

use cfree_facade::{
    AtomicOrdering, Callee, DataDecl, DataInit, FuncDecl, FuncExport, FuncSig, IntWidth, MemAccess, Param, ScalarType,
    SyncScope, TargetSpec, TypeId,
};
use cfree_llvm_lower::{LlvmBackend, LlvmContext, OptLevel};

/// Suffix of a cell's symbol.
pub(crate) const CELL_SUFFIX: &str = ".cfree.cell";

/// Suffix of a counting stub's call counter (tiered units).
pub(crate) const COUNT_SUFFIX: &str = ".cfree.count";

fn scalar(cg: &mut cfree_facade::Cg<LlvmBackend<'_>>, s: ScalarType) -> cfree_facade::Result<TypeId> {
    match s {
        ScalarType::Int(width) => cg.ty_int(width),
        ScalarType::Float(width) => cg.ty_float(width),
        ScalarType::Ptr(space) => {
            let i8 = cg.ty_int(IntWidth::I8)?;
            cg.ty_ptr(i8, space)
        }
    }
}

/// A dynamic-scope symbol of one of the stub objects written here.
fn exported(
    name: &str,
    value: u64,
    size: u64,
    kind: object::SymbolKind,
    section: object::write::SymbolSection,
) -> object::write::Symbol {
    object::write::Symbol {
        name: name.as_bytes().to_vec(),
        value,
        size,
        kind,
        scope: object::SymbolScope::Dynamic,
        weak: false,
        section,
        flags: object::SymbolFlags::None,
    }
}

/// Object code with a stub and a cell for each `(export, first body name)`,
/// compiled through the facade: the stable entries of hosts without the
/// entry pool ([`EntryPool::SUPPORTED`]).
pub(crate) fn stub_object(entries: &[(FuncExport, String)]) -> crate::Result<Vec<u8>> {
    build(entries).map_err(crate::Error::StableEntries)
}

/// Size of one x86-64 stub: `jmp *rel32(%rip)` (6 bytes) padded with `int3`.
const X86_64_STUB: usize = 8;

/// Entries per chunk of the x86-64 entry pool.
pub(crate) const POOL_CHUNK: usize = 256;

/// The symbol of pool slot `slot`'s stub, which a unit's code uses for an
/// export until the export's own name is defined.
pub(crate) fn slot_name(slot: usize) -> String {
    format!("cfree.slot.{slot}")
}

/// Chunk `chunk` of the x86-64 entry pool: [`POOL_CHUNK`] stubs
/// `jmp *cell(%rip)` in `.text`, named [`slot_name`], and their cells,
/// zero, in `.data` from `cfree.pool.<chunk>.cells`.
fn x86_64_pool_chunk(chunk: usize) -> Result<Vec<u8>, cfree_llvm_lower::Error> {
    use object::write::{Object, Relocation, StandardSection, SymbolSection};
    use object::{Architecture, BinaryFormat, Endianness, RelocationFlags, SymbolKind};
    let emit = |e: object::write::Error| cfree_llvm_lower::Error::Emit(format!("entry pool: {e}"));
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    let text = obj.section_id(StandardSection::Text);
    let data = obj.section_id(StandardSection::Data);
    let code: Vec<u8> = (0..POOL_CHUNK).flat_map(|_| [0xff, 0x25, 0, 0, 0, 0, 0xcc, 0xcc]).collect();
    let code_at = obj.append_section_data(text, &code, 16);
    let cells_at = obj.append_section_data(data, &vec![0; POOL_CHUNK * 8], 8);
    let cells_name = format!("cfree.pool.{chunk}.cells");
    let cells_size = POOL_CHUNK as u64 * 8;
    let cells =
        obj.add_symbol(exported(&cells_name, cells_at, cells_size, SymbolKind::Data, SymbolSection::Section(data)));
    let pc32 = RelocationFlags::Elf { r_type: object::elf::R_X86_64_PC32 };
    for i in 0..POOL_CHUNK {
        let stub_at = code_at + (i * X86_64_STUB) as u64;
        let name = slot_name(chunk * POOL_CHUNK + i);
        obj.add_symbol(exported(&name, stub_at, 6, SymbolKind::Text, SymbolSection::Section(text)));
        // jmp *cell(%rip): the displacement is relative to the end of the instruction.
        let addend = (i * 8) as i64 - 4;
        obj.add_relocation(text, Relocation { offset: stub_at + 2, symbol: cells, addend, flags: pc32 })
            .map_err(emit)?;
    }
    obj.write().map_err(emit)
}

/// The x86-64 pool of stable entries: chunks of [`POOL_CHUNK`] stubs and
/// cells, each linked once, so a publish links no stub code of its own
/// (`doc/jit.md`, "Stable entries and replacement").
#[derive(Debug, Default)]
pub(crate) struct EntryPool {
    /// Each linked chunk's first stub and first cell.
    chunks: Vec<(u64, u64)>,
}

impl EntryPool {
    /// Whether this host uses the pool (otherwise each publish links its own stubs).
    pub(crate) const SUPPORTED: bool = cfg!(target_arch = "x86_64");

    /// The stub and cell of `slot`, linking the chunks up to its own into
    /// `orc` first if needed (their trackers go to `trackers`).
    pub(crate) fn slot(
        &mut self,
        slot: usize,
        orc: &mut crate::ffi::OrcJit,
        trackers: &mut Vec<crate::ffi::Tracker>,
    ) -> std::result::Result<(u64, u64), String> {
        while self.chunks.len() <= slot / POOL_CHUNK {
            let chunk = self.chunks.len();
            let object = x86_64_pool_chunk(chunk).map_err(|e| e.to_string())?;
            let tracker = orc.add_object(&object, &format!("cfree.pool.{chunk}"))?;
            let first = slot_name(chunk * POOL_CHUNK);
            match orc.lookup(&first).and_then(|code| Ok((code, orc.lookup(&format!("cfree.pool.{chunk}.cells"))?))) {
                Ok(bases) => {
                    trackers.push(tracker);
                    self.chunks.push(bases);
                }
                Err(m) => {
                    let _ = tracker.remove();
                    return Err(m);
                }
            }
        }
        let (code, cells) = self.chunks[slot / POOL_CHUNK];
        let i = slot % POOL_CHUNK;
        Ok((code + (i * X86_64_STUB) as u64, cells + (i * 8) as u64))
    }
}

/// Size of one lazy thunk: `movabs $function, %r11; jmp resolver` (15 bytes) and `int3`.
const X86_64_THUNK: usize = 16;

/// Where the pieces of a lazy object of `n` entries are in its `.text`: the
/// stubs, then the thunks, then the resolver. Counting stubs
/// (`inc counter(%rip); jmp *cell(%rip)`) take 16 bytes, plain ones 8.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LazyLayout {
    pub(crate) n: usize,
    pub(crate) counting: bool,
}

impl LazyLayout {
    fn stub_size(self) -> usize {
        if self.counting {
            16
        } else {
            X86_64_STUB
        }
    }

    pub(crate) fn stub(self, i: usize) -> u64 {
        (i * self.stub_size()) as u64
    }

    pub(crate) fn thunk(self, i: usize) -> u64 {
        (self.n * self.stub_size() + i * X86_64_THUNK) as u64
    }

    fn resolver(self) -> u64 {
        self.thunk(self.n)
    }
}

/// The shared part of the lazy thunks (x86-64 System V). Entered by a jump with the
/// caller's arguments untouched and `%r11` holding the entry's `LazyFunction`, it
/// saves every argument register (`rdi rsi rdx rcx r8 r9`, `rax` for variadic calls,
/// `xmm0-7`), calls `resolve(%r11)` on a 16-byte aligned stack, restores them and
/// jumps to the body `resolve` returned, so the body runs as if called directly.
/// When `resolve` returns 0 (compiling failed; the error was recorded) it returns
/// to the caller with zero in `rax`, `rdx`, `xmm0` and `xmm1` instead.
fn x86_64_resolver(resolve: u64) -> Vec<u8> {
    let mut c = vec![0x55, 0x48, 0x89, 0xe5]; // push %rbp; mov %rsp, %rbp
                                              // push %rdi, %rsi, %rdx, %rcx, %r8, %r9, %rax: with %rbp, 8 pushes after the call's
                                              // return address, so %rsp is 8 mod 16 here; 136 more bytes make it 0 mod 16.
    c.extend_from_slice(&[0x57, 0x56, 0x52, 0x51, 0x41, 0x50, 0x41, 0x51, 0x50]);
    c.extend_from_slice(&[0x48, 0x81, 0xec, 136, 0, 0, 0]); // sub $136, %rsp
    for k in 0..8u8 {
        c.extend_from_slice(&[0xf3, 0x0f, 0x7f, 0x44 | (k << 3), 0x24, 16 * k]);
        // movdqu %xmmk, 16k(%rsp)
    }
    c.extend_from_slice(&[0x4c, 0x89, 0xdf]); // mov %r11, %rdi
    c.extend_from_slice(&[0x48, 0xb8]); // movabs $resolve, %rax
    c.extend_from_slice(&resolve.to_le_bytes());
    c.extend_from_slice(&[0xff, 0xd0]); // call *%rax
    c.extend_from_slice(&[0x49, 0x89, 0xc3]); // mov %rax, %r11
    for k in 0..8u8 {
        c.extend_from_slice(&[0xf3, 0x0f, 0x6f, 0x44 | (k << 3), 0x24, 16 * k]);
        // movdqu 16k(%rsp), %xmmk
    }
    c.extend_from_slice(&[0x48, 0x81, 0xc4, 136, 0, 0, 0]); // add $136, %rsp
                                                            // pop %rax, %r9, %r8, %rcx, %rdx, %rsi, %rdi, %rbp
    c.extend_from_slice(&[0x58, 0x41, 0x59, 0x41, 0x58, 0x59, 0x5a, 0x5e, 0x5f, 0x5d]);
    c.extend_from_slice(&[0x4d, 0x85, 0xdb, 0x74, 0x03]); // test %r11, %r11; jz failed
    c.extend_from_slice(&[0x41, 0xff, 0xe3]); // jmp *%r11
                                              // failed: xor %eax, %eax; xor %edx, %edx; xorps %xmm0, %xmm0; xorps %xmm1, %xmm1; ret
    c.extend_from_slice(&[0x31, 0xc0, 0x31, 0xd2, 0x0f, 0x57, 0xc0, 0x0f, 0x57, 0xc9, 0xc3]);
    c
}

/// The stable entries of lazily compiled functions as an x86-64 ELF object: for each
/// `(name, function)` a stub `name` jumping through its cell `name.cfree.cell`, the
/// cell initialised to the entry's thunk, which passes `function` (a `LazyFunction`
/// address, `lazy.rs`) to the shared resolver calling `resolve` ([`x86_64_resolver`]).
/// Publishing the compiled unit later switches the cells to the bodies, like a
/// replacement. With `layout.counting`, each stub first increments its
/// counter `name.cfree.count` (not atomically: an approximate count, for tiering).
pub(crate) fn x86_64_lazy_object(
    entries: &[(String, u64)],
    resolve: u64,
    layout: LazyLayout,
) -> Result<Vec<u8>, cfree_llvm_lower::Error> {
    use object::write::{Object, Relocation, StandardSection, SymbolSection};
    use object::{Architecture, BinaryFormat, Endianness, RelocationFlags, SymbolKind};
    let emit = |e: object::write::Error| cfree_llvm_lower::Error::Emit(format!("lazy entries: {e}"));
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    let text = obj.section_id(StandardSection::Text);
    let data = obj.section_id(StandardSection::Data);
    let n = entries.len();
    let resolver_at = layout.resolver();
    let mut code = Vec::with_capacity(resolver_at as usize + 128);
    for _ in entries {
        if layout.counting {
            code.extend_from_slice(&[0x48, 0xff, 0x05, 0, 0, 0, 0]); // incq counter(%rip)
        }
        code.extend_from_slice(&[0xff, 0x25, 0, 0, 0, 0, 0xcc, 0xcc]); // jmp *cell(%rip)
        code.resize(code.len().next_multiple_of(layout.stub_size()), 0xcc);
    }
    for (i, (_, function)) in entries.iter().enumerate() {
        code.extend_from_slice(&[0x49, 0xbb]); // movabs $function, %r11
        code.extend_from_slice(&function.to_le_bytes());
        let next = layout.thunk(i) + 15;
        let rel = i32::try_from(resolver_at as i64 - next as i64)
            .map_err(|_| cfree_llvm_lower::Error::Emit("lazy entries: too many for one object".into()))?;
        code.push(0xe9); // jmp resolver
        code.extend_from_slice(&rel.to_le_bytes());
        code.push(0xcc);
    }
    code.extend_from_slice(&x86_64_resolver(resolve));
    // A single section in the object: its code lands at offset 0 of `.text`.
    let code_at = obj.append_section_data(text, &code, 16);
    let cells_at = obj.append_section_data(data, &vec![0; n * 8], 8);
    let counters_at = if layout.counting { obj.append_section_data(data, &vec![0; n * 8], 8) } else { 0 };
    let text_symbol = obj.section_symbol(text);
    for (i, (name, _)) in entries.iter().enumerate() {
        let stub_at = code_at + layout.stub(i);
        let cell_at = cells_at + (i * 8) as u64;
        obj.add_symbol(exported(name, stub_at, 6, SymbolKind::Text, SymbolSection::Section(text)));
        let cell_name = format!("{name}{CELL_SUFFIX}");
        let cell = obj.add_symbol(exported(&cell_name, cell_at, 8, SymbolKind::Data, SymbolSection::Section(data)));
        let pc32 = RelocationFlags::Elf { r_type: object::elf::R_X86_64_PC32 };
        let jmp_at = if layout.counting {
            let counter_at = counters_at + (i * 8) as u64;
            let counter = obj.add_symbol(exported(
                &format!("{name}{COUNT_SUFFIX}"),
                counter_at,
                8,
                SymbolKind::Data,
                SymbolSection::Section(data),
            ));
            obj.add_relocation(text, Relocation { offset: stub_at + 3, symbol: counter, addend: -4, flags: pc32 })
                .map_err(emit)?;
            stub_at + 7
        } else {
            stub_at
        };
        obj.add_relocation(text, Relocation { offset: jmp_at + 2, symbol: cell, addend: -4, flags: pc32 })
            .map_err(emit)?;
        let abs64 = RelocationFlags::Elf { r_type: object::elf::R_X86_64_64 };
        let thunk = (code_at + layout.thunk(i)) as i64;
        obj.add_relocation(data, Relocation { offset: cell_at, symbol: text_symbol, addend: thunk, flags: abs64 })
            .map_err(emit)?;
    }
    obj.write().map_err(emit)
}

fn build(entries: &[(FuncExport, String)]) -> Result<Vec<u8>, cfree_llvm_lower::Error> {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("cfree.stubs", &TargetSpec::host())?;
    let lower = cfree_llvm_lower::Error::from;
    for (export, body_name) in entries {
        let mut params = Vec::new();
        for (p, ext) in export.params.iter().zip(&export.param_ext) {
            params.push(Param::new(scalar(&mut cg, *p).map_err(lower)?).ext(*ext));
        }
        let result = match export.result {
            Some(r) => Some(Param::new(scalar(&mut cg, r).map_err(lower)?).ext(export.result_ext)),
            None => None,
        };
        let sig = FuncSig { params, result, variadic: false, conv: cfree_facade::CallConv::C };
        let n = sig.params.len();
        let sig = cg.ty_func(sig).map_err(lower)?;
        let body = cg.declare_func(body_name, FuncDecl::new(sig)).map_err(lower)?;
        let i8 = cg.ty_int(IntWidth::I8).map_err(lower)?;
        let ptr = cg.ty_ptr(i8, 0).map_err(lower)?;
        // Protected: still exported (ORC can look it up) but not preemptible, so the stub
        // reads it PC-relative instead of through the GOT.
        let cell_decl = DataDecl::new(ptr).visibility(cfree_facade::Visibility::Protected);
        let cell = cg.declare_data(&format!("{}{CELL_SUFFIX}", export.name), cell_decl).map_err(lower)?;
        cg.define_data(cell, &DataInit::new().reloc(body, 0)).map_err(lower)?;
        let stub = cg.declare_func(&export.name, FuncDecl::new(sig)).map_err(lower)?;
        cg.func_begin(stub).map_err(lower)?;
        let slots: Vec<_> = (0..n as u32).map(|i| cg.param_slot(i, "")).collect::<Result<_, _>>().map_err(lower)?;
        cg.push_global(cell).map_err(lower)?;
        cg.atomic_load(MemAccess::new(ptr), AtomicOrdering::Acquire, SyncScope::System).map_err(lower)?;
        for (slot, p) in slots.iter().zip(&export.params) {
            let ty = scalar(&mut cg, *p).map_err(lower)?;
            cg.push_local(*slot).map_err(lower)?;
            cg.load(MemAccess::new(ty)).map_err(lower)?;
        }
        cg.call(Callee::Indirect(sig), n as u32).map_err(lower)?;
        cg.ret().map_err(lower)?;
        cg.func_end().map_err(lower)?;
    }
    // No forced frame pointers: a stub tail-jumps, leaving no frame a stack walk could meet.
    let mut module = cfree_llvm_lower::finish(cg)?;
    module.emit_object(OptLevel::O2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::{Object, ObjectSection, ObjectSymbol};

    fn export(name: &str) -> FuncExport {
        let i64 = ScalarType::Int(IntWidth::I64);
        FuncExport {
            name: name.into(),
            params: vec![i64, i64],
            param_ext: vec![Default::default(); 2],
            result: Some(i64),
            variadic: false,
            result_ext: Default::default(),
        }
    }

    /// Defined symbols (name, is code) and, per section kind, relocation targets.
    fn shape(bytes: &[u8]) -> (Vec<(String, bool)>, Vec<String>) {
        let file = object::File::parse(bytes).unwrap();
        let mut defined: Vec<(String, bool)> = file
            .symbols()
            .filter(|s| s.is_definition() && s.is_global())
            .map(|s| (s.name().unwrap().to_string(), s.kind() == object::SymbolKind::Text))
            .collect();
        defined.sort();
        let mut targets = Vec::new();
        for section in file.sections() {
            for (_, r) in section.relocations() {
                if let object::RelocationTarget::Symbol(i) = r.target() {
                    let name = file.symbol_by_index(i).unwrap().name().unwrap().to_string();
                    if !name.is_empty() {
                        targets.push(name);
                    }
                }
            }
        }
        targets.sort();
        (defined, targets)
    }

    #[test]
    fn compiled_stubs_define_a_stub_and_a_cell_per_export() {
        let entries = vec![(export("f"), "f.cfree.u1".to_string()), (export("g"), "g.cfree.u1".to_string())];
        let (defined, targets) = shape(&build(&entries).unwrap());
        let cell = |n: &str| (format!("{n}{CELL_SUFFIX}"), false);
        let expected = vec![("f".to_string(), true), cell("f"), ("g".to_string(), true), cell("g")];
        assert_eq!(defined, expected, "the same stubs and cells");
        // Each stub reads its cell; each cell holds its first body.
        for name in ["f", "g"] {
            assert!(targets.contains(&format!("{name}{CELL_SUFFIX}")), "{targets:?}");
            assert!(targets.contains(&format!("{name}.cfree.u1")), "{targets:?}");
        }
    }

    /// A pool chunk names every slot's stub, 8 bytes apart, and each stub's
    /// `jmp *rel32(%rip)` is relocated to its own cell.
    #[test]
    fn pool_chunks_name_every_slot_and_point_each_stub_at_its_cell() {
        let bytes = x86_64_pool_chunk(1).unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        let text = file.section_by_name(".text").unwrap();
        let code = text.data().unwrap();
        assert_eq!(code.len(), POOL_CHUNK * X86_64_STUB);
        for i in 0..POOL_CHUNK {
            let name = slot_name(POOL_CHUNK + i);
            let stub = file.symbols().find(|s| s.name() == Ok(name.as_str())).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(stub.address(), (i * X86_64_STUB) as u64, "{name}");
            assert_eq!(&code[i * X86_64_STUB..i * X86_64_STUB + 2], &[0xff, 0x25], "jmp *rel32(%rip)");
        }
        let relocations: Vec<(u64, String, i64)> = text
            .relocations()
            .map(|(offset, r)| {
                let object::RelocationTarget::Symbol(s) = r.target() else { panic!("a symbol target") };
                (offset, file.symbol_by_index(s).unwrap().name().unwrap().to_string(), r.addend())
            })
            .collect();
        let expected: Vec<(u64, String, i64)> = (0..POOL_CHUNK)
            .map(|i| ((i * X86_64_STUB + 2) as u64, "cfree.pool.1.cells".to_string(), (i * 8) as i64 - 4))
            .collect();
        assert_eq!(relocations, expected);
        let cells = file.section_by_name(".data").unwrap();
        assert_eq!(cells.size(), (POOL_CHUNK * 8) as u64);
        assert!(cells.data().unwrap().iter().all(|b| *b == 0), "cells start at zero");
    }

    /// The lazy object's layout, byte for byte where it matters: each stub (with its
    /// counter when counting) jumps through its cell, each cell starts at its thunk,
    /// each thunk loads its record and jumps to the resolver.
    #[test]
    fn lazy_objects_point_cells_at_thunks_and_thunks_at_the_resolver() {
        for counting in [false, true] {
            let entries: Vec<(String, u64)> =
                (0..3).map(|i| (format!("f{i}"), 0x1111_2222_3333_0000 + i as u64)).collect();
            let layout = LazyLayout { n: 3, counting };
            let bytes = x86_64_lazy_object(&entries, 0xdead_beef_0000, layout).unwrap();
            let file = object::File::parse(&*bytes).unwrap();
            let text = file.section_by_name(".text").unwrap();
            let code = text.data().unwrap();
            let symbol = |name: &str| file.symbols().find(|s| s.name() == Ok(name)).map(|s| s.address());
            for (i, (name, record)) in entries.iter().enumerate() {
                let stub = layout.stub(i) as usize;
                assert_eq!(symbol(name), Some(stub as u64), "{name}");
                assert_eq!(symbol(&format!("{name}{COUNT_SUFFIX}")).is_some(), counting);
                let jmp = if counting {
                    assert_eq!(&code[stub..stub + 3], &[0x48, 0xff, 0x05], "incq counter(%rip)");
                    stub + 7
                } else {
                    stub
                };
                assert_eq!(&code[jmp..jmp + 2], &[0xff, 0x25], "jmp *cell(%rip)");
                let thunk = layout.thunk(i) as usize;
                assert_eq!(&code[thunk..thunk + 2], &[0x49, 0xbb], "movabs $record, %r11");
                assert_eq!(&code[thunk + 2..thunk + 10], &record.to_le_bytes());
                assert_eq!(code[thunk + 10], 0xe9, "jmp resolver");
                let rel = i32::from_le_bytes(code[thunk + 11..thunk + 15].try_into().unwrap());
                assert_eq!((thunk + 15) as i64 + i64::from(rel), layout.resolver() as i64);
            }
            let resolver = layout.resolver() as usize;
            assert_eq!(&code[resolver..resolver + 4], &[0x55, 0x48, 0x89, 0xe5], "push %rbp; mov %rsp, %rbp");
            let call = code[resolver..].windows(2).position(|w| w == [0x48, 0xb8]).unwrap() + resolver;
            assert_eq!(&code[call + 2..call + 10], &0xdead_beef_0000u64.to_le_bytes(), "movabs $resolve, %rax");
            // Cells: one absolute relocation each, to the text section at the thunk's offset.
            let data = file.section_by_name(".data").unwrap();
            let mut cells: Vec<(u64, i64)> = data
                .relocations()
                .map(|(offset, r)| {
                    assert!(matches!(
                        r.target(),
                        object::RelocationTarget::Symbol(_) | object::RelocationTarget::Section(_)
                    ));
                    (offset, r.addend())
                })
                .collect();
            cells.sort();
            let expected: Vec<(u64, i64)> = (0..3).map(|i| ((i * 8) as u64, layout.thunk(i) as i64)).collect();
            assert_eq!(cells, expected);
        }
    }
}
