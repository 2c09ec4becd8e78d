//! Debug information from ordinary CG calls (`doc/debuginfo.md`), checked three
//! ways on one small two-file program: `gimli` reads the DWARF of the linked
//! executable back (compile unit, files, functions, parameters, locals in a
//! lexical block, a record with member names and offsets, a global, a line
//! row for every position set; at O2 an inlined subroutine and monotone
//! sequences); `llvm-dwarfdump-19 --verify` finds no error in the objects of
//! x86_64, aarch64 and riscv64 at O0 and O2; and a real gdb, in batch mode,
//! breaks at a source line, prints arguments, locals and a record through a
//! pointer, walks the backtrace and finishes with the returned value.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use cfree_facade::*;
use cfree_llvm_lower::{LlvmContext, OptLevel};
use cfree_tests::aot::{scratch_dir, LinuxTarget};
use cfree_tests::debug_program::{build, GEOM_SRC, MAIN_SRC};
use gimli::{AttributeValue, EndianSlice, LittleEndian};
use object::{Object, ObjectSection};

/// The lines each file's code is emitted at (what the line table must show).
const GEOM_CODE_LINES: [u32; 5] = [4, 5, 7, 8, 9];
const MAIN_CODE_LINES: [u32; 3] = [2, 3, 4];

fn emit(triple: &str, level: OptLevel, dir: &Path) -> Vec<u8> {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("geom", &TargetSpec::triple(triple)).unwrap();
    build(&mut cg, dir, level != OptLevel::O0, "main").unwrap();
    let mut module = cfree_llvm_lower::finish(cg).unwrap();
    module.emit_object(level).unwrap()
}

/// Writes the sources and the object, links them with `target`'s gcc.
fn executable(target: LinuxTarget, level: OptLevel, tag: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = scratch_dir(tag).unwrap();
    std::fs::write(dir.join("geom.src"), GEOM_SRC).unwrap();
    std::fs::write(dir.join("main.src"), MAIN_SRC).unwrap();
    let obj = dir.join("geom.o");
    std::fs::write(&obj, emit(target.triple(), level, &dir)).unwrap();
    let exe = dir.join("geom");
    let gcc = match target {
        LinuxTarget::X86_64 => "gcc",
        LinuxTarget::Aarch64 => "aarch64-linux-gnu-gcc",
        LinuxTarget::Riscv64 => "riscv64-linux-gnu-gcc",
    };
    let mut cmd = Command::new(gcc);
    cmd.arg(&obj).arg("-o").arg(&exe);
    if target != LinuxTarget::X86_64 {
        cmd.arg("-static");
    }
    let out = cmd.output().expect("running gcc");
    assert!(out.status.success(), "linking: {}", String::from_utf8_lossy(&out.stderr));
    (dir, exe)
}

// ---- a small DWARF reader on gimli ----

#[derive(Debug)]
struct Die {
    tag: gimli::DwTag,
    name: Option<String>,
    depth: isize,
    offset: usize,
    attrs: BTreeMap<u16, u64>,
    /// DW_AT_type / DW_AT_abstract_origin as unit offsets.
    refs: BTreeMap<u16, usize>,
}

#[derive(Debug, Default)]
struct Dwarf {
    dies: Vec<Die>,
    /// (file name, line, address, end of sequence).
    rows: Vec<(String, u64, u64, bool)>,
    language: u64,
    producer: String,
}

fn read_dwarf(exe: &Path) -> Dwarf {
    let data = std::fs::read(exe).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let load = |id: gimli::SectionId| -> Result<Cow<'_, [u8]>, gimli::Error> {
        Ok(file.section_by_name(id.name()).and_then(|s| s.uncompressed_data().ok()).unwrap_or(Cow::Borrowed(&[])))
    };
    let owned = gimli::DwarfSections::load(load).unwrap();
    let dwarf = owned.borrow(|s| EndianSlice::new(s, LittleEndian));
    let mut out = Dwarf::default();
    let mut units = dwarf.units();
    while let Some(header) = units.next().unwrap() {
        let unit = dwarf.unit(header).unwrap();
        let mut entries = unit.entries();
        let mut depth = 0;
        let mut is_ours = false;
        while let Some((delta, entry)) = entries.next_dfs().unwrap() {
            depth += delta;
            if depth == 0 {
                // Only our unit: the C runtime's objects may carry DWARF too.
                let producer = entry.attr_value(gimli::DW_AT_producer).unwrap();
                let producer =
                    producer.and_then(|v| dwarf.attr_string(&unit, v).ok()).map(|s| s.to_string_lossy().into_owned());
                is_ours = producer.as_deref() == Some("cfree-tests debug_info");
                if is_ours {
                    out.producer = producer.unwrap();
                    if let Some(AttributeValue::Language(l)) = entry.attr_value(gimli::DW_AT_language).unwrap() {
                        out.language = l.0.into();
                    }
                }
            }
            if !is_ours {
                continue;
            }
            let mut die = Die {
                tag: entry.tag(),
                name: None,
                depth,
                offset: entry.offset().0,
                attrs: BTreeMap::new(),
                refs: BTreeMap::new(),
            };
            let mut attrs = entry.attrs();
            while let Some(a) = attrs.next().unwrap() {
                match a.value() {
                    AttributeValue::UnitRef(o) => {
                        die.refs.insert(a.name().0, o.0);
                    }
                    AttributeValue::Flag(f) => {
                        die.attrs.insert(a.name().0, u64::from(f));
                    }
                    AttributeValue::Encoding(e) => {
                        die.attrs.insert(a.name().0, u64::from(e.0));
                    }
                    v => {
                        if a.name() == gimli::DW_AT_name {
                            die.name = dwarf.attr_string(&unit, v).ok().map(|s| s.to_string_lossy().into_owned());
                        } else {
                            // Values that are not numbers (expressions, lists) are recorded as present.
                            die.attrs.insert(a.name().0, v.udata_value().unwrap_or(u64::MAX));
                        }
                    }
                }
            }
            out.dies.push(die);
        }
        if !is_ours {
            continue;
        }
        let program = unit.line_program.clone().expect("a line program");
        let mut rows = program.rows();
        while let Some((header, row)) = rows.next_row().unwrap() {
            let name = row
                .file(header)
                .and_then(|f| dwarf.attr_string(&unit, f.path_name()).ok())
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.rows.push((name, row.line().map_or(0, |l| l.get()), row.address(), row.end_sequence()));
        }
    }
    out
}

impl Dwarf {
    fn named(&self, tag: gimli::DwTag, name: &str) -> &Die {
        self.dies
            .iter()
            .find(|d| d.tag == tag && d.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no {tag} `{name}` in {:#?}", self.dies))
    }

    fn at(&self, offset: usize) -> &Die {
        self.dies.iter().find(|d| d.offset == offset).expect("a referenced DIE")
    }

    /// The DIE `die`'s DW_AT_type names.
    fn type_of(&self, die: &Die) -> &Die {
        self.at(die.refs[&gimli::DW_AT_type.0])
    }

    /// The DIEs nested in `die` (its subtree), with their depth.
    fn children(&self, die: &Die) -> Vec<&Die> {
        let start = self.dies.iter().position(|d| d.offset == die.offset).unwrap();
        self.dies[start + 1..].iter().take_while(|d| d.depth > die.depth).collect()
    }

    fn lines_of(&self, file: &str) -> Vec<u64> {
        self.rows.iter().filter(|r| r.0 == file && !r.3).map(|r| r.1).collect()
    }
}

#[test]
fn dwarf_from_cg_calls_reads_back_at_o0() {
    let (_dir, exe) = executable(LinuxTarget::X86_64, OptLevel::O0, "dwarf-o0");
    let d = read_dwarf(&exe);
    assert_eq!(d.language, u64::from(SourceLanguage::C99.dwarf()));
    assert_eq!(d.producer, "cfree-tests debug_info");
    assert_eq!(d.dies[0].name.as_deref(), Some("geom.src"), "the compile unit's name");

    let dist2 = d.named(gimli::DW_TAG_subprogram, "dist2");
    assert_eq!(dist2.attrs.get(&gimli::DW_AT_decl_line.0), Some(&3));
    assert!(!dist2.attrs.contains_key(&gimli::DW_AT_external.0), "dist2 is internal");
    let main = d.named(gimli::DW_TAG_subprogram, "main");
    assert_eq!(main.attrs.get(&gimli::DW_AT_decl_line.0), Some(&1));
    assert!(main.attrs.contains_key(&gimli::DW_AT_external.0));

    // Parameters and locals, with their types; `sum` is in the lexical block.
    let inside = d.children(dist2);
    let params: Vec<_> = inside.iter().filter(|x| x.tag == gimli::DW_TAG_formal_parameter).collect();
    assert_eq!(params.iter().map(|x| x.name.as_deref().unwrap()).collect::<Vec<_>>(), ["p", "scale"]);
    let p_type = d.type_of(params[0]);
    assert_eq!(p_type.tag, gimli::DW_TAG_pointer_type);
    let record = d.type_of(p_type);
    assert_eq!((record.tag, record.name.as_deref()), (gimli::DW_TAG_structure_type, Some("Point")));
    assert_eq!(record.attrs.get(&gimli::DW_AT_byte_size.0), Some(&16));
    let members: Vec<(String, u64, String)> = d
        .children(record)
        .iter()
        .map(|m| {
            let offset = m.attrs[&gimli::DW_AT_data_member_location.0];
            (m.name.clone().unwrap(), offset, d.type_of(m).name.clone().unwrap())
        })
        .collect();
    assert_eq!(members, [("x".into(), 0, "i32".into()), ("y".into(), 8, "f64".into())]);
    let scale_type = d.type_of(params[1]);
    assert_eq!((scale_type.name.as_deref(), scale_type.attrs.get(&gimli::DW_AT_byte_size.0)), (Some("i64"), Some(&8)));
    assert_eq!(scale_type.attrs.get(&gimli::DW_AT_encoding.0), Some(&u64::from(gimli::DW_ATE_signed.0)));
    let locals: Vec<(&str, isize)> = inside
        .iter()
        .filter(|x| x.tag == gimli::DW_TAG_variable)
        .map(|x| (x.name.as_deref().unwrap(), x.depth - dist2.depth))
        .collect();
    assert_eq!(locals, [("dx", 1), ("dy", 1), ("sum", 2)], "sum is declared inside the block");
    assert!(inside.iter().any(|x| x.tag == gimli::DW_TAG_lexical_block));
    let dy = inside.iter().find(|x| x.name.as_deref() == Some("dy")).unwrap();
    assert_eq!(dy.attrs.get(&gimli::DW_AT_decl_line.0), Some(&5), "{dy:?}");
    assert!(d.children(main).iter().any(|x| x.name.as_deref() == Some("pt")));
    // Slot flags: a compiler temporary is artificial; an optimised-out
    // variable is described without a location.
    let in_main = d.children(main);
    let temp = in_main.iter().find(|x| x.name.as_deref() == Some("tmp.0")).expect("tmp.0");
    assert_eq!(temp.attrs.get(&gimli::DW_AT_artificial.0), Some(&1));
    let gone = in_main.iter().find(|x| x.name.as_deref() == Some("gone")).expect("gone is described");
    assert!(!gone.attrs.contains_key(&gimli::DW_AT_location.0), "{gone:?}");
    let pt = in_main.iter().find(|x| x.name.as_deref() == Some("pt")).unwrap();
    assert!(pt.attrs.contains_key(&gimli::DW_AT_location.0), "{pt:?}");

    // The global, at CU level, with a location.
    let counter = d.named(gimli::DW_TAG_variable, "counter");
    assert_eq!(counter.depth, 1);
    assert_eq!(counter.attrs.get(&gimli::DW_AT_decl_line.0), Some(&2));
    assert_eq!(d.type_of(counter).name.as_deref(), Some("i64"));

    // A row for every line code was emitted at, in the right file.
    let (geom, main_lines) = (d.lines_of("geom.src"), d.lines_of("main.src"));
    for l in GEOM_CODE_LINES {
        assert!(geom.contains(&u64::from(l)), "no row for geom.src:{l} in {geom:?}");
    }
    for l in MAIN_CODE_LINES {
        assert!(main_lines.contains(&u64::from(l)), "no row for main.src:{l} in {main_lines:?}");
    }
    assert!(geom.iter().chain(&main_lines).all(|&l| l <= 11), "a row for a line never set");
}

#[test]
fn optimised_code_keeps_inlined_subroutines_and_monotone_sequences() {
    let (_dir, exe) = executable(LinuxTarget::X86_64, OptLevel::O2, "dwarf-o2");
    let d = read_dwarf(&exe);
    let dist2 = d.named(gimli::DW_TAG_subprogram, "dist2");
    let main = d.named(gimli::DW_TAG_subprogram, "main");
    let inlined: Vec<_> = d.children(main).into_iter().filter(|x| x.tag == gimli::DW_TAG_inlined_subroutine).collect();
    assert!(!inlined.is_empty(), "dist2 is inlined into main at O2");
    let origin = inlined[0].refs[&gimli::DW_AT_abstract_origin.0];
    assert_eq!(origin, dist2.offset, "the inlined call names dist2");
    assert_eq!(inlined[0].attrs.get(&gimli::DW_AT_call_line.0), Some(&3), "called from main.src:3");
    // Addresses never go back within a sequence.
    let mut last = None;
    for &(_, _, address, end) in &d.rows {
        if let Some(prev) = last {
            assert!(address >= prev, "line table goes back from {prev:#x} to {address:#x}");
        }
        last = if end { None } else { Some(address) };
    }
    // What is left of dist2 after folding, the update of `counter`, keeps its position.
    assert!(d.lines_of("geom.src").contains(&8), "the inlined store lost its row: {:?}", d.rows);
}

#[test]
fn dwarfdump_verifies_objects_on_three_targets() {
    for target in LinuxTarget::ALL {
        for level in [OptLevel::O0, OptLevel::O2] {
            let dir = scratch_dir("dwarf-verify").unwrap();
            let obj = dir.join("geom.o");
            std::fs::write(&obj, emit(target.triple(), level, &dir)).unwrap();
            let out = Command::new("llvm-dwarfdump-19").arg("--verify").arg(&obj).output().expect("llvm-dwarfdump-19");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && text.contains("No errors."),
                "{} {level:?}: {text}{}",
                target.triple(),
                String::from_utf8_lossy(&out.stderr)
            );
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// gdb in batch mode on the O0 executable.
#[test]
fn gdb_breaks_at_a_source_line_and_shows_variables() {
    let (dir, exe) = executable(LinuxTarget::X86_64, OptLevel::O0, "dwarf-gdb");
    let out = Command::new("gdb")
        .current_dir(&dir)
        .args(["-nx", "-batch", "-ex", "break geom.src:7", "-ex", "run"])
        .args(["-ex", "info args", "-ex", "info locals", "-ex", "print *p", "-ex", "print counter"])
        .args(["-ex", "bt", "-ex", "finish", "-ex", "print counter"])
        .arg(&exe)
        .output()
        .expect("gdb (ci/bootstrap installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    let expect = |needle: &str| assert!(text.contains(needle), "gdb output lacks `{needle}`:\n{text}");
    expect("Breakpoint 1, dist2 (p=0x");
    expect(", scale=2) at geom.src:7");
    expect("7\t        let sum: i64 = dx + dy as i64");
    expect("scale = 2");
    expect("dx = 6");
    expect("dy = 4.5");
    expect("= {x = 3, y = 4.5}");
    expect("$2 = 7");
    expect("#1  ");
    expect(" in main () at ");
    expect("main.src:3\n");
    expect("Value returned is $3 = 10");
    expect("$4 = 8");
    let _ = std::fs::remove_dir_all(dir);
}

/// gdb on JIT code: the same program published in a JIT with debugger
/// support (`src/bin/jit_debug_target.rs`); a pending breakpoint by source
/// line resolves when the unit is registered, and gdb shows arguments,
/// locals, a backtrace from the JIT frames into the Rust caller, and the
/// returned value.
#[test]
fn gdb_debugs_jit_code_through_the_jit_interface() {
    let dir = scratch_dir("dwarf-jit-gdb").unwrap();
    std::fs::write(dir.join("geom.src"), GEOM_SRC).unwrap();
    std::fs::write(dir.join("main.src"), MAIN_SRC).unwrap();
    let out = Command::new("gdb")
        .current_dir(&dir)
        .args(["-nx", "-batch", "-ex", "set breakpoint pending on", "-ex", "break geom.src:7", "-ex", "run"])
        .args(["-ex", "info args", "-ex", "info locals", "-ex", "bt 3", "-ex", "finish", "-ex", "continue"])
        .arg(env!("CARGO_BIN_EXE_jit-debug-target"))
        .output()
        .expect("gdb (ci/bootstrap installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    let expect = |needle: &str| assert!(text.contains(needle), "gdb output lacks `{needle}`:\n{text}");
    expect("Breakpoint 1, dist2 (p=0x");
    expect(", scale=2) at geom.src:7");
    expect("dx = 6");
    expect("dy = 4.5");
    expect(" in geom_main () at ");
    expect("main.src:3\n");
    expect("TypedFunc");
    expect("Value returned is $1 = 10");
    expect("geom_main returned 0");
    let _ = std::fs::remove_dir_all(dir);
}

/// perf's JIT dump: the header, then for every published function its line
/// table (for code with debug information) and its code, read back with a
/// small reader; the code bytes are the ones the JIT runs.
#[test]
fn jitdump_names_every_function_with_its_code_and_lines() {
    use cfree_jit_orc::{Jit, JitOptions};
    let dir = scratch_dir("jitdump").unwrap();
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("geom", &TargetSpec::host()).unwrap();
    build(&mut cg, &dir, false, "geom_main").unwrap();
    let module = cfree_llvm_lower::finish(cg).unwrap();
    let jit = Jit::with_options(JitOptions { jitdump_dir: Some(dir.clone()), ..JitOptions::default() }).unwrap();
    jit.publish(&module, OptLevel::O0).unwrap();
    let path = jit.jitdump_path().unwrap();
    assert_eq!(path, dir.join(format!("jit-{}.dump", std::process::id())));
    let data = std::fs::read(&path).unwrap();

    let u32_at = |o: usize| u32::from_ne_bytes(data[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_ne_bytes(data[o..o + 8].try_into().unwrap());
    let cstr_at = |o: usize| {
        let end = o + data[o..].iter().position(|&b| b == 0).unwrap();
        (String::from_utf8(data[o..end].to_vec()).unwrap(), end + 1)
    };
    assert_eq!(u32_at(0), 0x4A69_5444, "magic");
    assert_eq!((u32_at(4), u32_at(8)), (1, 40), "version and header size");
    assert_eq!(u32_at(12), 62, "EM_X86_64");
    assert_eq!(u32_at(20), std::process::id());

    let mut loads = Vec::new(); // (name, addr, code)
    let mut lines = Vec::new(); // (code_addr, [(addr, line, file)])
    let mut at = 40;
    while at < data.len() {
        let (id, size) = (u32_at(at), u32_at(at + 4) as usize);
        let body = at + 16;
        match id {
            0 => {
                let (addr, len) = (u64_at(body + 16), u64_at(body + 24) as usize);
                let (name, code_at) = cstr_at(body + 40);
                loads.push((name, addr, data[code_at..code_at + len].to_vec()));
                assert_eq!(code_at + len, at + size, "a load record ends with its code");
            }
            2 => {
                let (addr, n) = (u64_at(body), u64_at(body + 8));
                let mut o = body + 16;
                let mut rows = Vec::new();
                for _ in 0..n {
                    let (a, line) = (u64_at(o), u32_at(o + 8));
                    let (file, next) = cstr_at(o + 16);
                    rows.push((a, line, file));
                    o = next;
                }
                lines.push((addr, rows));
            }
            other => panic!("unexpected record {other}"),
        }
        at += size;
    }
    let registry = jit.registry();
    for f in registry.functions() {
        let (_, addr, code) =
            loads.iter().find(|l| l.0 == *f.name).unwrap_or_else(|| panic!("no record for {}", f.name));
        assert_eq!(*addr, f.start);
        // SAFETY: the function is published and stays loaded while `jit` lives.
        let live = unsafe { std::slice::from_raw_parts(f.start as *const u8, (f.end - f.start) as usize) };
        assert_eq!(code.as_slice(), live, "{}'s code", f.name);
    }
    let dist2 = loads.iter().find(|l| l.0 == "dist2").unwrap().1;
    let (_, rows) = lines.iter().find(|l| l.0 == dist2).expect("dist2's line table");
    let geom: Vec<u32> = rows.iter().filter(|r| r.2.ends_with("geom.src")).map(|r| r.1).collect();
    for line in [4, 5, 7, 8, 9] {
        assert!(geom.contains(&line), "no row for geom.src:{line} in {rows:?}");
    }
    assert!(rows.windows(2).all(|w| w[0].0 <= w[1].0), "rows in address order");
    let _ = std::fs::remove_dir_all(dir);
}

/// DWARF 4 on request: the units say version 4 and still verify.
#[test]
fn dwarf_version_4_on_request() {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("v4", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    let mut options = DebugOptions::new(SourceLanguage::C11, "v4", "v4.c", "/src");
    options.version = DwarfVersion::V4;
    let file = cg.enable_debug_info(options).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    cg.set_loc(SrcLoc::new(file, 1, 1)).unwrap();
    let f = cg.declare_func("twice", FuncDecl::new(sig)).unwrap();
    cg.func_begin(f).unwrap();
    let x = cg.param_slot(0, "x").unwrap();
    cg.set_loc(SrcLoc::new(file, 2, 5)).unwrap();
    cg.push_local(x).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.dup().unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    let mut module = cfree_llvm_lower::finish(cg).unwrap();
    let dir = scratch_dir("dwarf-v4").unwrap();
    let obj = dir.join("v4.o");
    std::fs::write(&obj, module.emit_object(OptLevel::O0).unwrap()).unwrap();
    let info = Command::new("llvm-dwarfdump-19").arg("--debug-info").arg(&obj).output().unwrap();
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(text.contains("version = 0x0004"), "{text}");
    let verify = Command::new("llvm-dwarfdump-19").arg("--verify").arg(&obj).output().unwrap();
    assert!(String::from_utf8_lossy(&verify.stdout).contains("No errors."));
    let _ = std::fs::remove_dir_all(dir);
}
