//! Object-format capabilities of symbols and data checked against what LLVM 19
//! compiles for seven triples, and the misuse of the vocabulary with exact
//! error codes (each followed by a module that still finishes and emits).
//!
//! Every pair a query refuses was measured with `llc-19` to abort the process
//! ("ELF COMDATs only support SelectionKind::Any and SelectionKind::NoDeduplicate",
//! "MachO doesn't support COMDATs", "WebAssembly COMDATs only support
//! SelectionKind::Any", invalid Mach-O section specifiers, "Associative COMDAT
//! symbol does not exist" on COFF): those pairs are refused here by the facade,
//! never handed to LLVM.

use cfree_facade::*;
use cfree_llvm_lower::{LlvmBackend, LlvmContext, OptLevel};

const TRIPLES: [&str; 7] = [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "riscv64-unknown-linux-gnu",
    "i686-unknown-linux-gnu",
    "wasm32-unknown-unknown",
    "x86_64-pc-windows-msvc",
    "x86_64-apple-darwin",
];

const KINDS: [ComdatKind; 5] =
    [ComdatKind::Any, ComdatKind::ExactMatch, ComdatKind::Largest, ComdatKind::NoDeduplicate, ComdatKind::SameSize];

const MODELS: [TlsModel; 4] =
    [TlsModel::GeneralDynamic, TlsModel::LocalDynamic, TlsModel::InitialExec, TlsModel::LocalExec];

type C<'a> = Cg<LlvmBackend<'a>>;

fn emit(cg: C<'_>) -> Vec<u8> {
    let mut m = cfree_llvm_lower::finish(cg).unwrap();
    m.emit_object(OptLevel::O1).unwrap()
}

fn section_name(info: &TargetInfo) -> &'static str {
    if info.object_format == ObjectFormat::MachO {
        "__DATA,__cfree"
    } else {
        ".data.cfree"
    }
}

/// A function and a data object in one group, the group named after the data (COFF's key).
fn comdat_module(cg: &mut C<'_>, kind: ComdatKind) -> Result<()> {
    let i32t = cg.ty_int(IntWidth::I32)?;
    let d = cg.declare_data("grouped", DataDecl::new(i32t).comdat(Comdat::new("grouped", kind)))?;
    cg.define_data(d, &DataInit::new().bytes(&[1, 2, 3, 4]))?;
    let sig = cg.ty_func(FuncSig::new(&[], Some(i32t)))?;
    let f = cg.declare_func("grouped_fn", FuncDecl::new(sig).comdat(Comdat::new("grouped", kind)))?;
    cg.func_begin(f)?;
    cg.push_global(d)?;
    cg.load(MemAccess::new(i32t))?;
    cg.ret()?;
    cg.func_end()
}

#[test]
fn capability_answers_match_what_compiles() {
    let mut measured = Vec::new();
    for triple in TRIPLES {
        let llvm = LlvmContext::new();
        let info = llvm.module("probe", &TargetSpec::triple(triple)).unwrap().target().clone();
        for kind in KINDS {
            let mut cg = llvm.module("comdat", &TargetSpec::triple(triple)).unwrap();
            match comdat_module(&mut cg, kind) {
                Ok(()) => {
                    assert!(info.supports_comdat(kind), "{triple} {kind:?}");
                    assert!(!emit(cg).is_empty());
                    measured.push(format!("{triple} comdat {kind:?}"));
                }
                Err(e) => {
                    assert!(!info.supports_comdat(kind), "{triple} {kind:?}: {e}");
                    assert_eq!(e.code(), 901, "{e}");
                    assert_eq!(
                        e.kind(),
                        &ErrorKind::UnsupportedOnTarget {
                            feature: TargetFeature::Comdat(kind),
                            triple: info.triple.clone()
                        }
                    );
                }
            }
        }
        for model in MODELS {
            assert!(info.supports_tls(model), "{triple}");
            let mut cg = llvm.module("tls", &TargetSpec::triple(triple)).unwrap();
            let i32t = cg.ty_int(IntWidth::I32).unwrap();
            let d = cg.declare_data("tl", DataDecl::new(i32t).thread_local(model)).unwrap();
            cg.define_data(d, &DataInit::new().bytes(&[1, 0, 0, 0])).unwrap();
            let e = cg.declare_data("tl_ext", DataDecl::new(i32t).thread_local(model)).unwrap();
            let sig = cg.ty_func(FuncSig::new(&[], Some(i32t))).unwrap();
            let f = cg.declare_func("read_tl", FuncDecl::new(sig)).unwrap();
            cg.func_begin(f).unwrap();
            for sym in [d, e] {
                cg.push_global(sym).unwrap();
                cg.load(MemAccess::new(i32t)).unwrap();
            }
            cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
            cg.ret().unwrap();
            cg.func_end().unwrap();
            assert!(!emit(cg).is_empty());
        }
        assert!(info.supports_sections() && info.supports_aliases() && info.supports_init_fini_priority());
        assert!(info.supports_mergeable_data());
        let mut cg = llvm.module("placement", &TargetSpec::triple(triple)).unwrap();
        let i32t = cg.ty_int(IntWidth::I32).unwrap();
        let section = section_name(&info);
        let d = cg.declare_data("placed", DataDecl::new(i32t).section(section).retain(Retain::Linker)).unwrap();
        cg.define_data(d, &DataInit::new().bytes(&[1, 0, 0, 0])).unwrap();
        let sig = cg.ty_func(FuncSig::new(&[], None)).unwrap();
        let f = cg.declare_func("init", FuncDecl::new(sig)).unwrap();
        cg.func_begin(f).unwrap();
        cg.ret().unwrap();
        cg.func_end().unwrap();
        cg.add_init_fini(InitFini::Constructor, f, 200).unwrap();
        cg.add_init_fini(InitFini::Destructor, f, 65535).unwrap();
        cg.declare_alias("placed_alias", d, AliasDecl::new()).unwrap();
        cg.declare_alias("init_alias", f, AliasDecl::new()).unwrap();
        let i8t = cg.ty_int(IntWidth::I8).unwrap();
        let s_ty = cg.ty_array(i8t, 4).unwrap();
        let s = cg.declare_data("str", DataDecl::new(s_ty).readonly().mergeable().linkage(Linkage::Internal)).unwrap();
        cg.define_data(s, &DataInit::new().bytes(b"abc\0")).unwrap();
        cg.declare_data("kept_str", DataDecl::new(i32t).retain(Retain::Compiler)).unwrap();
        assert!(!emit(cg).is_empty(), "{triple}");
    }
    // The measured table (doc/symbols.md): ELF Any + NoDeduplicate, COFF all, wasm Any, Mach-O none.
    let count = |t: &str| measured.iter().filter(|m| m.starts_with(t)).count();
    assert_eq!(TRIPLES.map(count), [2, 2, 2, 2, 1, 5, 0], "{measured:#?}");
}

fn check<T: std::fmt::Debug>(r: Result<T>, code: u32) -> ErrorKind {
    let e = r.expect_err("must fail");
    assert_eq!(e.code(), code, "{e}");
    e.kind().clone()
}

#[test]
fn misuse_is_refused_with_exact_codes() {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("misuse", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let void = cg.ty_func(FuncSig::new(&[], None)).unwrap();
    let unary = cg.ty_func(FuncSig::new(&[i32t], Some(i32t))).unwrap();
    // Sections: NUL, newline, empty; code in a zero-fill section; non-zero data there.
    for bad in ["a\0b", "", "x\ny"] {
        let k = check(cg.declare_data("s", DataDecl::new(i32t).section(bad)), 409);
        assert_eq!(k, ErrorKind::InvalidSection { section: bad.into(), problem: SectionProblem::BadName });
    }
    check(cg.declare_func("f_bss", FuncDecl::new(void).section(".bss.code")), 409);
    let z = cg.declare_data("zero_fill", DataDecl::new(i32t).section(".bss.mine")).unwrap();
    let k = check(cg.define_data(z, &DataInit::new().bytes(&[1, 0, 0, 0])), 409);
    assert_eq!(k, ErrorKind::InvalidSection { section: ".bss.mine".into(), problem: SectionProblem::ZeroFillOnly });
    cg.define_data(z, &DataInit::zeroed(4)).unwrap();
    // COMDAT: unsupported kind on ELF, conflicting kinds, bad name, ExternalWeak member.
    let k = check(cg.declare_data("c1", DataDecl::new(i32t).comdat(Comdat::new("g", ComdatKind::Largest))), 901);
    assert!(matches!(k, ErrorKind::UnsupportedOnTarget { feature: TargetFeature::Comdat(ComdatKind::Largest), .. }));
    let c1 = cg.declare_data("c1", DataDecl::new(i32t).comdat(Comdat::any("g"))).unwrap();
    let k = check(cg.declare_data("c2", DataDecl::new(i32t).comdat(Comdat::new("g", ComdatKind::NoDeduplicate))), 408);
    assert_eq!(
        k,
        ErrorKind::InvalidComdat {
            comdat: "g".into(),
            problem: ComdatProblem::KindConflict { first: ComdatKind::Any }
        }
    );
    check(cg.declare_data("c3", DataDecl::new(i32t).comdat(Comdat::any("a\0"))), 408);
    let k =
        check(cg.declare_data("c4", DataDecl::new(i32t).linkage(Linkage::ExternalWeak).comdat(Comdat::any("g"))), 408);
    assert_eq!(k, ErrorKind::InvalidComdat { comdat: "g".into(), problem: ComdatProblem::Undefinable("c4".into()) });
    // A comdat member never defined is refused at finish.
    let k = check(cg.check_complete(), 408);
    assert_eq!(
        k,
        ErrorKind::InvalidComdat { comdat: "g".into(), problem: ComdatProblem::MemberNeverDefined("c1".into()) }
    );
    cg.define_data(c1, &DataInit::zeroed(4)).unwrap();
    // Mergeable needs read-only data without section or TLS.
    let k = check(cg.declare_data("m", DataDecl::new(i32t).mergeable()), 604);
    assert_eq!(k, ErrorKind::InvalidAttribute { attr: "mergeable", problem: AttrProblem::Conflicts("writable") });
    check(cg.declare_data("m", DataDecl::new(i32t).readonly().mergeable().section("x")), 604);
    check(cg.declare_data("m", DataDecl::new(i32t).readonly().mergeable().thread_local(TlsModel::LocalExec)), 604);
    // Constructors: priority range, signature, data symbol, foreign handle.
    let init = cg.declare_func("init", FuncDecl::new(void).linkage(Linkage::Internal)).unwrap();
    cg.func_begin(init).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    for p in [0, 100, 65536] {
        assert_eq!(
            check(cg.add_init_fini(InitFini::Constructor, init, p), 511),
            ErrorKind::InvalidPriority { priority: p }
        );
    }
    let with_param = cg.declare_func("with_param", FuncDecl::new(unary)).unwrap();
    let k = check(cg.add_init_fini(InitFini::Destructor, with_param, 200), 203);
    assert!(matches!(k, ErrorKind::TypeMismatch { expected: Expected::InitFiniSignature, .. }));
    check(cg.add_init_fini(InitFini::Constructor, z, 200), 404);
    let mut other = llvm.module("other", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    let other_void = other.ty_func(FuncSig::new(&[], None)).unwrap();
    let foreign = other.declare_func("foreign", FuncDecl::new(other_void)).unwrap();
    check(cg.add_init_fini(InitFini::Constructor, foreign, 200), 301);
    check(cg.declare_alias("a0", foreign, AliasDecl::new()), 301);
    // Aliases: ExternalWeak alias, TLS target, undefined target at finish.
    let k = check(cg.declare_alias("a1", z, AliasDecl::new().linkage(Linkage::ExternalWeak)), 410);
    assert_eq!(k, ErrorKind::InvalidAlias { name: "a1".into(), problem: AliasProblem::Linkage(Linkage::ExternalWeak) });
    let tl = cg.declare_data("tl", DataDecl::new(i32t).thread_local(TlsModel::InitialExec)).unwrap();
    let k = check(cg.declare_alias("a2", tl, AliasDecl::new()), 410);
    assert_eq!(k, ErrorKind::InvalidAlias { name: "a2".into(), problem: AliasProblem::ThreadLocalTarget });
    check(cg.declare_alias("zero_fill", z, AliasDecl::new()), 402);
    let weak = cg.declare_alias("weak_alias", z, AliasDecl::new().linkage(Linkage::Weak)).unwrap();
    let k = check(cg.declare_alias("a4", weak, AliasDecl::new()), 410);
    assert_eq!(k, ErrorKind::InvalidAlias { name: "a4".into(), problem: AliasProblem::InterposableTarget });
    cg.declare_alias("a3", with_param, AliasDecl::new()).unwrap();
    let k = check(cg.check_complete(), 410);
    assert_eq!(
        k,
        ErrorKind::InvalidAlias { name: "a3".into(), problem: AliasProblem::TargetNeverDefined("with_param".into()) }
    );
    // Recovery: define what is missing, and the module emits.
    cg.func_begin(with_param).unwrap();
    let x = cg.param_slot(0, "x").unwrap();
    cg.push_local(x).unwrap();
    cg.load(MemAccess::new(i32t)).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    cg.add_init_fini(InitFini::Constructor, init, 101).unwrap();
    assert!(!emit(cg).is_empty());
}

#[test]
fn object_format_rules() {
    let llvm = LlvmContext::new();
    // Mach-O: `segment,section`, each 1..=16 characters; no COMDAT at all.
    let mut cg = llvm.module("macho", &TargetSpec::triple("x86_64-apple-darwin")).unwrap();
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    for bad in ["foo", "__DATA,__foo,regular", "__DATA,__a_very_long_section_name", ",__x"] {
        let k = check(cg.declare_data("d", DataDecl::new(i32t).section(bad)), 409);
        assert_eq!(k, ErrorKind::InvalidSection { section: bad.into(), problem: SectionProblem::MachOSpecifier });
    }
    check(cg.declare_data("d", DataDecl::new(i32t).comdat(Comdat::any("d"))), 901);
    let d = cg.declare_data("d", DataDecl::new(i32t).section("__DATA,__cfree")).unwrap();
    cg.define_data(d, &DataInit::zeroed(4)).unwrap();
    assert!(!emit(cg).is_empty());
    // COFF: a group needs a member carrying its name (its key symbol).
    let mut cg = llvm.module("coff", &TargetSpec::triple("x86_64-pc-windows-msvc")).unwrap();
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let d = cg.declare_data("member", DataDecl::new(i32t).comdat(Comdat::new("keyless", ComdatKind::Largest))).unwrap();
    cg.define_data(d, &DataInit::zeroed(4)).unwrap();
    let k = check(cg.check_complete(), 408);
    assert_eq!(k, ErrorKind::InvalidComdat { comdat: "keyless".into(), problem: ComdatProblem::NoKeySymbol });
    let key =
        cg.declare_data("keyless", DataDecl::new(i32t).comdat(Comdat::new("keyless", ComdatKind::Largest))).unwrap();
    cg.define_data(key, &DataInit::zeroed(4)).unwrap();
    assert!(!emit(cg).is_empty());
    // wasm: `.init_array` is the runtime's; data never goes to `.text`.
    let mut cg = llvm.module("wasm", &TargetSpec::triple("wasm32-unknown-unknown")).unwrap();
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    for bad in [".init_array", ".text.data"] {
        let k = check(cg.declare_data("d", DataDecl::new(i32t).section(bad)), 409);
        assert_eq!(k, ErrorKind::InvalidSection { section: bad.into(), problem: SectionProblem::Reserved });
    }
    check(cg.declare_data("d", DataDecl::new(i32t).comdat(Comdat::new("d", ComdatKind::NoDeduplicate))), 901);
    let d = cg.declare_data("d", DataDecl::new(i32t).section(".data.cfree").comdat(Comdat::any("d"))).unwrap();
    cg.define_data(d, &DataInit::zeroed(4)).unwrap();
    assert!(!emit(cg).is_empty());
}

/// Loads, stores and offsets through pointers into `space`, plus (when
/// `constant`) data holding a symbol's address as such a pointer.
fn address_space_module(cg: &mut C<'_>, space: u32, constant: bool) -> Result<()> {
    let i32t = cg.ty_int(IntWidth::I32)?;
    let p = cg.ty_ptr(i32t, space)?;
    let pp = cg.ty_ptr(p, space)?;
    let target = cg.declare_data("target", DataDecl::new(i32t))?;
    cg.define_data(target, &DataInit::new().bytes(&[7, 0, 0, 0]))?;
    if constant {
        let slot = cg.declare_data("slot", DataDecl::new(p))?;
        cg.define_data(slot, &DataInit::new().reloc_in(target, 0, space))?;
    }
    // through(pp, p) { *pp = p; return ((i32*)p)[1]; }
    let sig = cg.ty_func(FuncSig::new(&[pp, p], Some(i32t)))?;
    let f = cg.declare_func("through", FuncDecl::new(sig))?;
    cg.func_begin(f)?;
    let pp_slot = cg.param_slot(0, "pp")?;
    let p_slot = cg.param_slot(1, "p")?;
    cg.push_local(pp_slot)?;
    cg.load(MemAccess::new(pp))?;
    cg.deref(p)?;
    cg.push_local(p_slot)?;
    cg.load(MemAccess::new(p))?;
    cg.store(MemAccess::new(p))?;
    cg.push_local(p_slot)?;
    cg.load(MemAccess::new(p))?;
    cg.addr_offset(4, p)?;
    cg.deref(i32t)?;
    cg.load(MemAccess::new(i32t))?;
    cg.ret()?;
    cg.func_end()
}

/// Every address space a query accepts compiles on its target (loads, stores,
/// offsets; symbol addresses in data where that query accepts them); the
/// refused ones were measured with `llc-19` to abort ("Unsupported expression
/// in static initializer", "Cannot select" loads on wasm's reference-type
/// spaces) or to have another pointer width, and are refused with 901.
#[test]
fn address_space_answers_match_what_compiles() {
    use cfree_tests::targets::ADDRESS_SPACE_PROBES;
    let mut compiled = 0;
    for triple in TRIPLES {
        let llvm = LlvmContext::new();
        let info = llvm.module("probe", &TargetSpec::triple(triple)).unwrap().target().clone();
        for space in ADDRESS_SPACE_PROBES {
            let mut cg = llvm.module("space", &TargetSpec::triple(triple)).unwrap();
            if !info.supports_address_space(space) {
                let i32t = cg.ty_int(IntWidth::I32).unwrap();
                let e = cg.ty_ptr(i32t, space).expect_err("refused space");
                let feature = TargetFeature::AddressSpace(space);
                assert_eq!(e.kind(), &ErrorKind::UnsupportedOnTarget { feature, triple: info.triple.clone() });
                assert_eq!(e.code(), 901);
                let e = cg.set_address_space_policy(space, AddrSpacePolicy::default()).expect_err("refused");
                assert_eq!(e.code(), 901, "{e}");
                continue;
            }
            let constant = info.supports_address_constants_in(space);
            address_space_module(&mut cg, space, constant).unwrap_or_else(|e| panic!("{triple} {space}: {e}"));
            assert!(!emit(cg).is_empty());
            compiled += 1;
            if !constant {
                let mut cg = llvm.module("space", &TargetSpec::triple(triple)).unwrap();
                let e = address_space_module(&mut cg, space, true).expect_err("refused constant");
                let feature = TargetFeature::AddressConstantIn(space);
                assert_eq!(e.kind(), &ErrorKind::UnsupportedOnTarget { feature, triple: info.triple.clone() });
                assert_eq!(e.operand_name(), Some("relocation in piece 0"));
                // The module still finishes and emits after the refusal.
                assert!(!emit(cg).is_empty());
            }
        }
    }
    // x86 (x86_64, i686, Windows and macOS x86_64) and AArch64 refuse the 3
    // mixed-size spaces (LLVM 22's AArch64 layout gives 270 and 271 32-bit
    // pointers), wasm32 three reference/global spaces.
    assert_eq!(compiled, 7 * ADDRESS_SPACE_PROBES.len() - 5 * 3 - 3);
}

#[test]
fn data_cannot_hold_a_thread_local_address() {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("tls", &TargetSpec::host()).unwrap();
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let p = cg.ty_ptr(i32t, 0).unwrap();
    let tl = cg.declare_data("tl", DataDecl::new(i32t).thread_local(TlsModel::GeneralDynamic)).unwrap();
    let slot = cg.declare_data("slot", DataDecl::new(p)).unwrap();
    let kind = check(cg.define_data(slot, &DataInit::new().reloc(tl, 0)), 411);
    assert_eq!(kind, ErrorKind::ThreadLocalInData { name: "tl".into() });
    cg.define_data(slot, &DataInit::new().zeros(8)).unwrap();
    assert!(!emit(cg).is_empty());
}

#[test]
fn partitions_are_refused_outside_elf_and_for_non_entry_points() {
    for triple in TRIPLES {
        let llvm = LlvmContext::new();
        let mut cg = llvm.module("part", &TargetSpec::triple(triple)).unwrap();
        let i32t = cg.ty_int(IntWidth::I32).unwrap();
        let r = cg.declare_data("d", DataDecl::new(i32t).partition("p"));
        if cg.target().supports_partitions() {
            r.unwrap();
            let e = |k: &ErrorKind| match k {
                ErrorKind::InvalidPartition { problem, .. } => problem.clone(),
                other => panic!("{other:?}"),
            };
            for bad in ["", "a\"b", "tab\there", "back\\slash"] {
                let k = check(cg.declare_data("bad", DataDecl::new(i32t).partition(bad)), 412);
                assert_eq!(e(&k), PartitionProblem::BadName, "{bad:?}");
            }
            for decl in [
                DataDecl::new(i32t).partition("p").linkage(Linkage::Internal),
                DataDecl::new(i32t).partition("p").linkage(Linkage::ExternalWeak),
                DataDecl::new(i32t).partition("p").visibility(Visibility::Hidden),
            ] {
                let k = check(cg.declare_data("hidden", decl), 412);
                assert_eq!(e(&k), PartitionProblem::NotAnEntryPoint);
            }
            assert!(!emit(cg).is_empty());
        } else {
            let k = check(r, 901);
            assert!(matches!(k, ErrorKind::UnsupportedOnTarget { feature: TargetFeature::ObjectFormatFeature(_), .. }));
        }
    }
}
