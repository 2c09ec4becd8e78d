//! Every diagnostic class at the facade level, without LLVM: each test
//! triggers one `ErrorKind`, checks its call, stable code and text, and shows
//! that the failed call changed nothing (the emitter goes on and finishes).
//! `Refusing` proves the backend trait's error path with a backend that
//! lacks a capability.

use cfree_facade::*;

fn lp64() -> TargetInfo {
    let s = |size, align| ScalarLayout { size, align };
    TargetInfo {
        triple: "x86_64-unknown-linux-gnu".into(),
        cpu: "generic".into(),
        features: String::new(),
        arch: Arch::X86_64,
        object_format: ObjectFormat::Elf,
        big_endian: false,
        pointer: s(8, 8),
        ints: [s(1, 1), s(1, 1), s(2, 2), s(4, 4), s(8, 8), s(16, 16)],
        f32: s(4, 4),
        f64: s(8, 8),
        max_atomic_bits: 64,
    }
}

fn ilp32() -> TargetInfo {
    let s = |size, align| ScalarLayout { size, align };
    TargetInfo {
        triple: "i686-unknown-linux-gnu".into(),
        arch: Arch::X86,
        pointer: s(4, 4),
        ints: [s(1, 1), s(1, 1), s(2, 2), s(4, 4), s(8, 4), s(16, 16)],
        f64: s(8, 4),
        max_atomic_bits: 64,
        ..lp64()
    }
}

struct Fx {
    cg: Cg<CheckOnly>,
    i32t: TypeId,
    i64t: TypeId,
    unary: TypeId,
}

fn fx() -> Fx {
    let mut cg = Cg::new(CheckOnly::new(lp64()));
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let unary = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    Fx { cg, i32t, i64t, unary }
}

impl Fx {
    /// Opens `name(i64) -> i64`; returns its parameter.
    fn begin(&mut self, name: &str) -> Local {
        let f = self.cg.declare_func(name, FuncDecl::new(self.unary)).unwrap();
        self.cg.func_begin(f).unwrap();
        self.cg.param_slot(0, "x").unwrap()
    }

    /// Returns the parameter and ends the function.
    fn end(&mut self, x: Local) {
        self.cg.push_local(x).unwrap();
        self.cg.load(MemAccess::new(self.i64t)).unwrap();
        self.cg.ret().unwrap();
        self.cg.func_end().unwrap();
    }
}

/// Checks call, code and text of a failed call; returns its kind.
#[track_caller]
fn check<T: std::fmt::Debug>(r: Result<T>, call: &str, code: u32, text: &str) -> ErrorKind {
    let e = r.unwrap_err();
    assert_eq!(e.call(), call, "{e}");
    assert_eq!(e.code(), code, "{e}");
    assert_eq!(e.kind().code(), code, "{e}");
    assert!(e.to_string().contains(text), "`{e}` does not contain `{text}`");
    e.kind().clone()
}

#[test]
fn emitter_state() {
    let mut f = fx();
    check(f.cg.push_int(f.i64t, 1), "push_int", 101, "no function is open");
    let x = f.begin("f");
    let g = f.cg.declare_func("g", FuncDecl::new(f.unary)).unwrap();
    let k = check(f.cg.func_begin(g), "func_begin", 102, "function `f` is still open");
    assert_eq!(k, ErrorKind::FunctionAlreadyOpen { open: "f".into() });
    check(f.cg.set_safepoint_id(3), "set_safepoint_id", 103, "not managed");
    f.end(x);
    check(
        f.cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving()),
        "set_address_space_policy",
        104,
        "before",
    );
    f.cg.finish().unwrap();
}

#[test]
fn value_stack_and_types() {
    let mut f = fx();
    let x = f.begin("f");
    let k = check(f.cg.int_op(IntBinOp::Add, IntFlags::NONE), "int_op", 201, "needs 2, has 0");
    assert_eq!(k, ErrorKind::StackUnderflow { needed: 2, available: 0 });
    f.cg.push_int(f.i64t, 1).unwrap();
    f.cg.push_int(f.i32t, 2).unwrap();
    let k = check(f.cg.int_op(IntBinOp::Add, IntFlags::NONE), "int_op", 203, "expected i64, found i32");
    let ErrorKind::TypeMismatch { expected: Expected::Type(want), found } = k else { panic!() };
    assert_eq!((want.id, found.id), (f.i64t, f.i32t));
    let k = check(f.cg.cast(CastOp::SExt, f.i32t), "cast", 205, "SExt does not convert i32 to i32");
    assert!(matches!(k, ErrorKind::InvalidConversion { op: CastOp::SExt, .. }));
    let k = check(f.cg.addr_of(), "addr_of", 204, "expected a place (lvalue), found a value");
    assert_eq!(k, ErrorKind::WrongValueCategory { expected: Category::Place, found: Category::Value });
    assert_eq!(f.cg.stack_depth(), 2, "failed calls pop nothing");
    let k = check(f.cg.func_end(), "func_end", 202, "2 value(s) left");
    assert_eq!(k, ErrorKind::StackNotEmpty { count: 2 });
    f.cg.discard().unwrap();
    f.cg.discard().unwrap();
    check(f.cg.local_slot(f.unary, "t", 0), "local_slot", 206, "type fn(i64) -> i64 has no size");
    let rec = f.cg.ty_record(&[f.i32t, f.i64t]).unwrap();
    assert_eq!(f.cg.field_offset(rec, 1).unwrap(), 8);
    let k = check(f.cg.field_offset(rec, 2), "field_offset", 207, "field 2 does not exist ({i32, i64} has 2 fields)");
    assert!(matches!(k, ErrorKind::NoSuchField { index: 2, count: 2, .. }));
    check(f.cg.field_offset(f.i64t, 0), "field_offset", 203, "expected a record type, found i64");
    f.end(x);
    f.cg.finish().unwrap();
}

#[test]
fn handles_and_control_flow() {
    let mut f = fx();
    let mut other = fx();
    let x = f.begin("f");
    let foreign = other.cg.ty_array(other.i64t, 4).unwrap();
    let k = check(f.cg.push_int(foreign, 1), "push_int", 301, "type handle");
    assert!(matches!(k, ErrorKind::ForeignHandle { what: HandleKind::Type, .. }));
    let l = f.cg.new_label().unwrap();
    f.cg.place_label(l).unwrap();
    let k = check(f.cg.place_label(l), "place_label", 303, "label L0 is already placed");
    assert_eq!(k, ErrorKind::LabelPlacedTwice { label: 0 });
    let never = f.cg.new_label().unwrap();
    f.cg.br(never).unwrap();
    check(f.cg.func_end(), "func_end", 302, "label L1 is branched to but never placed");
    f.cg.place_label(never).unwrap();
    check(f.cg.func_end(), "func_end", 304, "without a terminator");
    f.end(x);
    f.cg.finish().unwrap();
}

#[test]
fn symbols() {
    let mut f = fx();
    let k = check(f.cg.declare_func("", FuncDecl::new(f.unary)), "declare_func", 401, "it is empty");
    assert_eq!(k, ErrorKind::InvalidName { name: String::new(), problem: NameProblem::Empty });
    check(f.cg.declare_data("a\0b", DataDecl::new(f.i64t)), "declare_data", 401, "NUL");
    f.cg.declare_func("f", FuncDecl::new(f.unary)).unwrap();
    check(f.cg.declare_func("f", FuncDecl::new(f.unary)), "declare_func", 402, "symbol `f` is already declared");
    let d = f.cg.declare_data("d", DataDecl::new(f.i64t)).unwrap();
    let k = check(f.cg.func_begin(d), "func_begin", 404, "symbol `d` is not a function");
    assert_eq!(k, ErrorKind::WrongSymbolKind { name: "d".into(), expected: SymbolClass::Function });
    f.cg.define_data(d, &DataInit::zeroed(8)).unwrap();
    check(f.cg.define_data(d, &DataInit::zeroed(8)), "define_data", 403, "symbol `d` is already defined");
    let ew = f.cg.declare_func("ew", FuncDecl::new(f.unary).linkage(Linkage::ExternalWeak)).unwrap();
    check(f.cg.func_begin(ew), "func_begin", 406, "ExternalWeak linkage and cannot be defined");
    let rt = f.cg.declare_func("rt", FuncDecl::new(f.unary).gc(GcRole::Runtime)).unwrap();
    let k = check(f.cg.func_begin(rt), "func_begin", 406, "GcRole::Runtime");
    assert_eq!(k, ErrorKind::NotDefinable { name: "rt".into(), reason: NoDefinitionReason::RuntimeFunction });
    let hidden_internal = FuncDecl::new(f.unary).linkage(Linkage::Internal).visibility(Visibility::Hidden);
    check(f.cg.declare_func("hi", hidden_internal), "declare_func", 407, "Hidden visibility");
    let weak = f.cg.declare_func("w", FuncDecl::new(f.unary).linkage(Linkage::Weak)).unwrap();
    let k = check(f.cg.check_complete(), "finish", 405, "symbol `w` has Weak linkage, which needs a definition");
    assert_eq!(k, ErrorKind::NeverDefined { name: "w".into(), linkage: Linkage::Weak });
    f.cg.func_begin(weak).unwrap();
    let x = f.cg.param_slot(0, "x").unwrap();
    f.end(x);
    let fresh = f.cg.declare_func("f2", FuncDecl::new(f.unary)).unwrap();
    f.cg.func_begin(fresh).unwrap();
    let x = f.cg.param_slot(0, "").unwrap();
    f.end(x);
    f.cg.finish().unwrap();
}

#[test]
fn constants_sizes_and_alignment() {
    let mut f = fx();
    let x = f.begin("f");
    let i8t = f.cg.ty_int(IntWidth::I8).unwrap();
    let k = check(f.cg.push_int(i8t, 256), "push_int", 501, "constant 256 does not fit in i8");
    assert!(matches!(k, ErrorKind::ConstantOutOfRange { value: 256, .. }));
    check(f.cg.local_slot(f.i64t, "t", 3), "local_slot", 502, "invalid alignment 3");
    check(f.cg.ty_ptr(i8t, 1 << 24), "ty_ptr", 504, "invalid address space 16777216");
    let far = f.cg.ty_ptr(i8t, 7).unwrap();
    f.cg.push_int(f.i64t, 0).unwrap();
    f.cg.cast(CastOp::IntToPtr, far).unwrap();
    let access = MemAccess { addr_space: Some(0), ..MemAccess::new(f.i64t) };
    let k = check(f.cg.load(access), "load", 505, "names address space 0 but the address is in address space 7");
    assert_eq!(k, ErrorKind::AddressSpaceMismatch { access: 0, pointer: 7 });
    let k = check(
        f.cg.atomic_load(MemAccess::new(f.i64t).align(4), AtomicOrdering::SeqCst, SyncScope::System),
        "atomic_load",
        503,
        "aligned to 4",
    );
    assert_eq!(k, ErrorKind::UnderalignedAtomic { align: 4, size: 8 });
    f.cg.discard().unwrap();
    let huge = f.cg.ty_array(i8t, 1 << 40).unwrap();
    let k = check(f.cg.local_slot(huge, "big", 0), "local_slot", 506, "local slot size of 1099511627776 bytes");
    assert!(matches!(k, ErrorKind::TooLarge { what: Quantity::LocalSize, .. }));
    let half = f.cg.ty_array(i8t, 600 << 20).unwrap();
    f.cg.local_slot(half, "a", 0).unwrap();
    let k = check(f.cg.local_slot(half, "b", 0), "local_slot", 506, "stack frame size");
    assert!(matches!(k, ErrorKind::TooLarge { what: Quantity::FrameSize, .. }));
    check(f.cg.ty_array(huge, 1 << 20), "ty_array", 506, "array size");
    let big = f.cg.ty_array(i8t, 1 << 47).unwrap();
    let k = check(f.cg.ty_record(&[big, big, i8t]), "ty_record", 506, "record size");
    assert!(matches!(k, ErrorKind::TooLarge { what: Quantity::RecordSize, limit: 281_474_976_710_656, .. }));
    check(f.cg.param_slot(1, "y"), "param_slot", 508, "parameter 1 does not exist (function has 1)");
    f.cg.push_int(f.i64t, 1).unwrap();
    f.cg.push_int(f.i64t, 1).unwrap();
    let k = check(f.cg.call(Callee::Indirect(f.unary), 2), "call", 509, "expected 1 argument(s), got 2");
    assert_eq!(k, ErrorKind::ArgumentCount { expected: 1, found: 2, variadic: false });
    f.cg.discard().unwrap();
    f.cg.discard().unwrap();
    f.end(x);
    let d = f.cg.declare_data("d", DataDecl::new(f.i64t)).unwrap();
    let k = check(f.cg.define_data(d, &DataInit::zeroed(4)), "define_data", 507, "initializer is 4 bytes");
    assert_eq!(k, ErrorKind::DataSize { expected: 8, found: 4 });
    f.cg.finish().unwrap();
}

#[test]
fn operation_facts() {
    let mut f = fx();
    let x = f.begin("f");
    f.cg.push_int(f.i64t, 1).unwrap();
    f.cg.push_int(f.i64t, 2).unwrap();
    let k = check(f.cg.int_op(IntBinOp::And, IntFlags::NSW), "int_op", 601, "do not apply to And");
    assert_eq!(k, ErrorKind::InvalidIntFlags { op: IntBinOp::And, flags: IntFlags::NSW });
    f.cg.discard().unwrap();
    f.cg.discard().unwrap();
    f.cg.push_local(x).unwrap();
    let k = check(
        f.cg.atomic_load(
            MemAccess::new(f.i64t).flags(MemFlags::NONTEMPORAL),
            AtomicOrdering::SeqCst,
            SyncScope::System,
        ),
        "atomic_load",
        602,
        "do not apply to an atomic access",
    );
    assert_eq!(k, ErrorKind::InvalidMemFlags { op: MemOp::Atomic, flags: MemFlags::NONTEMPORAL });
    let k = check(
        f.cg.atomic_load(MemAccess::new(f.i64t), AtomicOrdering::Release, SyncScope::System),
        "atomic_load",
        603,
        "release ordering does not apply to an atomic load",
    );
    assert_eq!(k, ErrorKind::InvalidOrdering { op: AtomicOp::Load, ordering: AtomicOrdering::Release });
    f.cg.discard().unwrap();
    check(
        f.cg.fence(AtomicOrdering::Relaxed, SyncScope::System),
        "fence",
        603,
        "relaxed ordering does not apply to a fence",
    );
    f.end(x);
    f.cg.finish().unwrap();
}

#[test]
fn managed_code() {
    let mut cg = Cg::new(CheckOnly::new(lp64()));
    let moving_raw = AddrSpacePolicy { managed: false, movable: true, interior: false };
    let k = check(cg.set_address_space_policy(3, moving_raw), "set_address_space_policy", 701, "address space 3");
    assert_eq!(k, ErrorKind::MovableWithoutManaged { space: 3 });
    let k = check(
        cg.set_address_space_policy(2, AddrSpacePolicy::managed_moving()),
        "set_address_space_policy",
        902,
        "managed address space 2",
    );
    assert_eq!(k, ErrorKind::Unsupported(Unimplemented::ManagedSpace(2)));
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let obj = cg.ty_ptr(i64t, 1).unwrap();
    let alloc_sig = cg.ty_func(FuncSig::new(&[i64t, i64t], Some(obj))).unwrap();
    let alloc = cg.declare_func("alloc", FuncDecl::new(alloc_sig).gc(GcRole::Runtime)).unwrap();
    check(cg.set_gc_runtime(GcRuntime::new(alloc)), "set_gc_runtime", 702, "no managed address space");

    let mut cg = Cg::new(CheckOnly::new(lp64()));
    cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving()).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let obj = cg.ty_ptr(i64t, 1).unwrap();
    let alloc_sig = cg.ty_func(FuncSig::new(&[i64t, i64t], Some(obj))).unwrap();
    let alloc = cg.declare_func("alloc", FuncDecl::new(alloc_sig).gc(GcRole::Runtime)).unwrap();
    let one = cg.ty_array(i64t, 1).unwrap();
    let small = cg.declare_data("small", DataDecl::new(one)).unwrap();
    let with =
        |buffer, header_bytes| GcRuntime::new(alloc).inline_alloc(InlineAlloc { buffer: Some(buffer), header_bytes });
    let k = check(
        cg.set_gc_runtime(with(small, 8)),
        "set_gc_runtime",
        705,
        "`small` is 8 bytes; it must be writable and hold 16",
    );
    assert_eq!(k, ErrorKind::InvalidAllocBuffer { name: "small".into(), size: 8, needed: 16, readonly: false });
    let pair = cg.ty_array(i64t, 2).unwrap();
    let buffer = cg.declare_data("buffer", DataDecl::new(pair)).unwrap();
    check(cg.set_gc_runtime(with(buffer, 4)), "set_gc_runtime", 706, "header of 4 bytes");
    let sig = cg.ty_func(FuncSig::new(&[], Some(obj))).unwrap();
    let f = cg.declare_func("f", FuncDecl::new(sig).gc(GcRole::Safepoints)).unwrap();
    cg.func_begin(f).unwrap();
    check(cg.gc_alloc(0, 8), "gc_alloc", 703, "no GC runtime is set");
    cg.set_gc_runtime(GcRuntime::new(alloc)).unwrap();
    check(cg.safepoint(), "safepoint", 704, "no poll function");
    check(cg.gc_alloc(0, 1 << 33), "gc_alloc", 506, "object size");
    cg.gc_alloc(0, 8).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    cg.finish().unwrap();
}

#[test]
fn unsupported_requests() {
    let mut cg = Cg::new(CheckOnly::new(ilp32()));
    let k = check(cg.ty_int(IntWidth::I128), "ty_int", 901, "i128 storage is not supported on i686-unknown-linux-gnu");
    assert_eq!(
        k,
        ErrorKind::UnsupportedOnTarget {
            feature: TargetFeature::IntWidth(128),
            triple: "i686-unknown-linux-gnu".into()
        }
    );
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[], None)).unwrap();
    check(cg.declare_func("m", FuncDecl::new(sig).gc(GcRole::Safepoints)), "declare_func", 901, "GC safepoints");
    let vsig = cg.ty_func(FuncSig::new(&[i32t], None).variadic()).unwrap();
    let v = cg.declare_func("v", FuncDecl::new(vsig)).unwrap();
    cg.func_begin(v).unwrap();
    cg.func_abandon().unwrap();
    let rec = cg.ty_record(&[i32t, i32t]).unwrap();
    let by_value = cg.ty_func(FuncSig::new(&[rec], None)).unwrap();
    let k = check(
        cg.declare_func("r", FuncDecl::new(by_value).gc(GcRole::Runtime)),
        "declare_func",
        902,
        "{i32, i32} by value in a managed or GC runtime function's signature",
    );
    assert!(matches!(k, ErrorKind::Unsupported(Unimplemented::AggregateAtSafepoint(_))));
    // Display names are debug names: any text without NUL.
    let mut named = FuncDecl::new(sig);
    named.display_name = Some("pretty".into());
    cg.declare_func("n", named).unwrap();
    let mut bad = FuncDecl::new(sig);
    bad.display_name = Some("a\0b".into());
    check(cg.declare_func("n2", bad), "declare_func", 401, "contains a NUL");
    cg.finish().unwrap();
}

/// Debug information's misuse: each refusal has its code and leaves the
/// module usable; with debug information off the same calls are accepted.
#[test]
fn debug_information_misuse() {
    let mut cg = Cg::new(CheckOnly::new(lp64()));
    // Off: files and positions are tracked and validated all the same.
    let f = cg.debug_file("a.src", "/src").unwrap();
    assert_eq!(f, FileId(1));
    cg.set_loc(SrcLoc::new(f, 3, 1)).unwrap();
    check(cg.set_loc(SrcLoc::new(FileId(2), 1, 1)), "set_loc", 802, "file 2, but only files 1..=1");
    assert!(!cg.debug_info_enabled());
    let unit = cg.enable_debug_info(DebugOptions::new(SourceLanguage::C11, "t", "main.src", "/src")).unwrap();
    assert_eq!(unit, FileId(2), "the unit's file is registered after the ones before");
    assert_eq!(cg.loc(), SrcLoc::new(f, 3, 1), "positions keep their file ids");
    let again = DebugOptions::new(SourceLanguage::C11, "t", "main.src", "/src");
    check(cg.enable_debug_info(again), "enable_debug_info", 801, "already on");
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let rec = cg.ty_record(&[i32t]).unwrap();
    let names = TypeDebugInfo { fields: vec!["a".into(), "b".into()], ..TypeDebugInfo::default() };
    check(cg.describe_type(rec, names), "describe_type", 804, "2 member names for {i32}, which has 1 fields");
    let sig = cg.ty_func(FuncSig::new(&[i32t], Some(i32t))).unwrap();
    let g = cg.declare_func("g", FuncDecl::new(sig)).unwrap();
    cg.func_begin(g).unwrap();
    check(cg.scope_end(), "scope_end", 805, "without an open scope_begin");
    cg.param_slot(0, "x").unwrap(); // describes i32
    check(cg.describe_type(i32t, TypeDebugInfo::default()), "describe_type", 803, "already used in debug information");
    cg.scope_begin().unwrap();
    cg.push_int(i32t, 1).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap(); // closes the open scope
    check(cg.scope_begin(), "scope_begin", 101, "no function is open");
    cg.finish().unwrap();
}

/// A backend without fused multiply-add: the facade reports its refusal as the
/// call's error and the emitter's state is unchanged.
#[derive(Debug)]
struct Refusing(CheckOnly);

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(fn $name(&mut self, $($arg: $ty),*) -> $ret { self.0.$name($($arg),*) })*
    };
}

impl Backend for Refusing {
    type Value = ();
    type Block = ();
    fn target(&self) -> &TargetInfo {
        self.0.target()
    }
    fn fma(&mut self, _: FastMath, _: (), _: (), _: ()) -> BackendResult<()> {
        Err(ErrorKind::BackendRefused { backend: "refusing", reason: "no fused multiply-add".into() }.into())
    }
    fn set_name(&mut self, v: (), name: &str) {
        self.0.set_name(v, name)
    }
    fn abandon_function(&mut self) {
        self.0.abandon_function()
    }
    delegate! {
        set_address_space_policy(s: u32, p: &AddrSpacePolicy) -> BackendResult<()>;
        define_type(id: TypeId, k: &TypeKind, t: &TypeTable) -> BackendResult<()>;
        declare_function(s: Sym, n: &str, d: &FuncDecl, t: &TypeTable) -> BackendResult<()>;
        declare_data(s: Sym, n: &str, d: &DataDecl, t: &TypeTable) -> BackendResult<()>;
        define_data(s: Sym, i: &DataInit, l: &[()]) -> BackendResult<()>;
        declare_alias(s: Sym, n: &str, t: Sym, d: &AliasDecl) -> BackendResult<()>;
        add_init_fini(k: InitFini, f: Sym, p: u16) -> BackendResult<()>;
        debug_init(o: &DebugOptions, f: FileId) -> BackendResult<()>;
        debug_file(i: FileId, n: &str, d: &str) -> BackendResult<()>;
        debug_type(i: TypeId, t: &DebugType<'_>) -> BackendResult<()>;
        debug_function(f: &DebugFunction<'_>) -> BackendResult<()>;
        debug_set_loc(l: SrcLoc) -> BackendResult<()>;
        debug_variable(s: (), v: &DebugVariable<'_>) -> BackendResult<()>;
        debug_scope_begin(l: SrcLoc) -> BackendResult<()>;
        debug_scope_end() -> BackendResult<()>;
        debug_global(s: Sym, g: &DebugGlobal<'_>) -> BackendResult<()>;
        begin_function(s: Sym, p: &[TypeId], slots: &mut Vec<()>) -> BackendResult<()>;
        local_slot(t: TypeId, a: u64, n: &str, k: SlotKind) -> BackendResult<()>;
        new_block() -> BackendResult<()>;
        place_block(b: (), f: bool) -> BackendResult<()>;
        br(b: ()) -> BackendResult<()>;
        cond_br(c: (), t: (), e: ()) -> BackendResult<()>;
        check_branch(c: (), h: (), i: bool) -> BackendResult<()>;
        ret(v: Option<()>) -> BackendResult<()>;
        switch(v: (), t: TypeId, d: (), c: &[(u128, ())]) -> BackendResult<()>;
        select(c: (), t: (), f: ()) -> BackendResult<()>;
        inline_asm(a: &ResolvedAsm, i: &[()], o: &mut Vec<()>) -> BackendResult<()>;
        begin_naked_function(s: Sym) -> BackendResult<()>;
        unreachable() -> BackendResult<()>;
        end_function(u: &[()]) -> BackendResult<()>;
        const_int(t: TypeId, b: u128) -> BackendResult<()>;
        const_f32(b: u32) -> BackendResult<()>;
        const_f64(b: u64) -> BackendResult<()>;
        const_zero(t: TypeId) -> BackendResult<()>;
        sym_addr(s: Sym) -> BackendResult<()>;
        load(a: (), r: &ResolvedAccess) -> BackendResult<()>;
        store(a: (), v: (), r: &ResolvedAccess) -> BackendResult<()>;
        addr_offset(a: (), o: i64) -> BackendResult<()>;
        addr_index(a: (), i: (), s: u64) -> BackendResult<()>;
        int_binop(o: IntBinOp, f: IntFlags, l: (), r: ()) -> BackendResult<()>;
        int_cmp(p: IntCmp, l: (), r: ()) -> BackendResult<()>;
        int_unop(o: IntUnOp, v: ()) -> BackendResult<()>;
        checked(o: CheckedOp, t: TypeId, l: (), r: ()) -> BackendResult<((), ())>;
        freeze(v: ()) -> BackendResult<()>;
        cast(o: CastOp, v: (), t: TypeId) -> BackendResult<()>;
        cast_checked(s: bool, v: (), t: TypeId) -> BackendResult<((), ())>;
        float_binop(o: FloatBinOp, f: FastMath, l: (), r: ()) -> BackendResult<()>;
        float_unop(o: FloatUnOp, f: FastMath, v: ()) -> BackendResult<()>;
        float_cmp(p: FloatCmp, f: FastMath, l: (), r: ()) -> BackendResult<()>;
        define_alias_scope(i: u32, n: &str) -> BackendResult<()>;
        mem_copy(o: bool, d: (), s: (), n: u64, da: &ResolvedAccess, sa: &ResolvedAccess) -> BackendResult<()>;
        mem_set(d: (), v: u8, n: u64, a: &ResolvedAccess) -> BackendResult<()>;
        atomic_load(a: (), r: &ResolvedAccess, o: AtomicOrdering, s: SyncScope) -> BackendResult<()>;
        atomic_store(a: (), v: (), r: &ResolvedAccess, o: AtomicOrdering, s: SyncScope) -> BackendResult<()>;
        atomic_rmw(op: AtomicRmwOp, a: (), v: (), r: &ResolvedAccess, o: AtomicOrdering, s: SyncScope) -> BackendResult<()>;
        cmpxchg(a: (), e: (), n: (), r: &ResolvedAccess, so: AtomicOrdering, fo: AtomicOrdering, w: bool, s: SyncScope) -> BackendResult<((), ())>;
        fence(o: AtomicOrdering, s: SyncScope) -> BackendResult<()>;
        call_direct(c: Sym, s: &CallSite<'_, ()>) -> BackendResult<Option<()>>;
        va_start(l: ()) -> BackendResult<()>;
        label_addr(b: ()) -> BackendResult<()>;
        indirect_br(a: (), d: &[()]) -> BackendResult<()>;
        dynamic_alloca(s: (), a: u64) -> BackendResult<()>;
        stack_save() -> BackendResult<()>;
        stack_restore(s: ()) -> BackendResult<()>;
        va_end(l: ()) -> BackendResult<()>;
        va_copy(d: (), s: ()) -> BackendResult<()>;
        va_arg(l: (), t: TypeId, d: Option<()>) -> BackendResult<Option<()>>;
        call_indirect(t: TypeId, c: (), s: &CallSite<'_, ()>) -> BackendResult<Option<()>>;
    }
}

#[test]
fn backend_refusals_are_errors_of_the_call() {
    let mut cg = Cg::new(Refusing(CheckOnly::new(lp64())));
    let f64t = cg.ty_float(FloatWidth::F64).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[], Some(f64t))).unwrap();
    let f = cg.declare_func("f", FuncDecl::new(sig)).unwrap();
    cg.func_begin(f).unwrap();
    for _ in 0..3 {
        cg.push_f64(1.5).unwrap();
    }
    let e = cg.fma(FastMath::NONE).unwrap_err();
    assert_eq!((e.call(), e.function(), e.code()), ("fma", Some("f"), 903));
    assert_eq!(e.to_string(), "fma in function `f`: the refusing backend refused: no fused multiply-add");
    assert_eq!(cg.stack_depth(), 3, "a refused call consumes nothing");
    cg.float_op(FloatBinOp::Mul, FastMath::NONE).unwrap();
    cg.float_op(FloatBinOp::Add, FastMath::NONE).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    cg.finish().unwrap();
}

#[test]
fn codes_are_distinct() {
    use std::collections::HashSet;
    let t = TypeName { id: Cg::new(CheckOnly::new(lp64())).ty_int(IntWidth::I8).unwrap(), spelling: "i8".into() };
    let kinds = [
        ErrorKind::NoOpenFunction,
        ErrorKind::FunctionAlreadyOpen { open: String::new() },
        ErrorKind::NotManagedFunction,
        ErrorKind::PolicyAfterDeclarations,
        ErrorKind::StackUnderflow { needed: 0, available: 0 },
        ErrorKind::StackNotEmpty { count: 0 },
        ErrorKind::TypeMismatch { expected: Expected::Integer, found: t.clone() },
        ErrorKind::WrongValueCategory { expected: Category::Value, found: Category::Place },
        ErrorKind::InvalidConversion { op: CastOp::SExt, from: t.clone(), to: t.clone() },
        ErrorKind::Unsized { ty: t.clone() },
        ErrorKind::NoSuchField { record: t.clone(), index: 0, count: 0 },
        ErrorKind::ForeignHandle { what: HandleKind::Type, handle: 0 },
        ErrorKind::LabelNeverPlaced { label: 0 },
        ErrorKind::LabelPlacedTwice { label: 0 },
        ErrorKind::FallsOffEnd,
        ErrorKind::InvalidName { name: String::new(), problem: NameProblem::Empty },
        ErrorKind::DuplicateSymbol { name: String::new() },
        ErrorKind::DuplicateDefinition { name: String::new() },
        ErrorKind::WrongSymbolKind { name: String::new(), expected: SymbolClass::Data },
        ErrorKind::NeverDefined { name: String::new(), linkage: Linkage::Weak },
        ErrorKind::NotDefinable { name: String::new(), reason: NoDefinitionReason::RuntimeFunction },
        ErrorKind::VisibilityOnInternal { visibility: Visibility::Hidden },
        ErrorKind::ConstantOutOfRange { value: 0, ty: t.clone() },
        ErrorKind::InvalidAlignment { align: 3 },
        ErrorKind::UnderalignedAtomic { align: 1, size: 2 },
        ErrorKind::InvalidAddressSpace { addr_space: 0 },
        ErrorKind::AddressSpaceMismatch { access: 0, pointer: 1 },
        ErrorKind::TooLarge { what: Quantity::ArraySize, size: 0, limit: 0 },
        ErrorKind::DataSize { expected: 0, found: 1 },
        ErrorKind::NoSuchParam { index: 0, count: 0 },
        ErrorKind::ArgumentCount { expected: 0, found: 1, variadic: false },
        ErrorKind::DuplicateCase { value: 0, first: 0 },
        ErrorKind::NotVariadic,
        ErrorKind::InvalidAttribute { attr: "nest", problem: AttrProblem::Duplicate },
        ErrorKind::MustTail { problem: MustTailProblem::Safepoint },
        ErrorKind::AggregateNotPlace { ty: TypeName { id: TypeId::from_bits(0), spelling: String::new() } },
        ErrorKind::AsmTargetMismatch { arch: Arch::Wasm32, written_for: vec![AsmArch::X86_64] },
        ErrorKind::AsmDialectUnsupported { dialect: AsmDialect::Intel, arch: Arch::Aarch64 },
        ErrorKind::AsmOptions { problem: AsmOptionProblem::NomemAndReadonly },
        ErrorKind::AsmRegClassUnsupported { class: RegClass::XmmReg, arch: Arch::Aarch64 },
        ErrorKind::AsmUnknownRegister { name: String::new() },
        ErrorKind::AsmReservedRegister { name: String::new(), role: "stack pointer" },
        ErrorKind::AsmOperandType { class: RegClass::Reg, found: t.clone() },
        ErrorKind::AsmDuplicateRegister { name: "rax" },
        ErrorKind::AsmTiedOperand { output: 0, problem: AsmTieProblem::NotAnOutput },
        ErrorKind::AsmTemplate { offset: 0, problem: AsmTemplateProblem::Malformed },
        ErrorKind::AsmRegisterPressure { class: RegClass::Reg, needed: 2, available: 1 },
        ErrorKind::NakedFunctionBody,
        ErrorKind::InvalidIntFlags { op: IntBinOp::Add, flags: IntFlags::EXACT },
        ErrorKind::InvalidMemFlags { op: MemOp::Store, flags: MemFlags::INVARIANT },
        ErrorKind::InvalidOrdering { op: AtomicOp::Fence, ordering: AtomicOrdering::Relaxed },
        ErrorKind::MovableWithoutManaged { space: 0 },
        ErrorKind::NoManagedSpace,
        ErrorKind::NoGcRuntime,
        ErrorKind::NoPollFunction,
        ErrorKind::InvalidAllocBuffer { name: String::new(), size: 0, needed: 16, readonly: false },
        ErrorKind::InvalidHeaderBytes { header_bytes: 1 },
        ErrorKind::UnsupportedOnTarget { feature: TargetFeature::GcSafepoints, triple: String::new() },
        ErrorKind::Unsupported(Unimplemented::VariadicDefinition),
        ErrorKind::BackendRefused { backend: "x", reason: String::new() },
        ErrorKind::InvalidComdat { comdat: "g".into(), problem: ComdatProblem::NoKeySymbol },
        ErrorKind::InvalidSection { section: "s".into(), problem: SectionProblem::BadName },
        ErrorKind::InvalidAlias { name: "a".into(), problem: AliasProblem::ThreadLocalTarget },
        ErrorKind::InvalidPriority { priority: 7 },
        ErrorKind::NoDestinations,
    ];
    let codes: HashSet<u32> = kinds.iter().map(ErrorKind::code).collect();
    assert_eq!(codes.len(), kinds.len(), "every kind has its own code");
    assert!(kinds.iter().all(|k| !k.to_string().is_empty()));
}

#[test]
fn type_queries_with_foreign_ids_answer_none() {
    let a = fx();
    let mut b = fx();
    let rec = b.cg.ty_record(&[b.i64t]).unwrap();
    // Same index in another module, and a forged id: neither answers for another type.
    let t = a.cg.types();
    for id in [b.i64t, rec, TypeId::from_bits(0xffff_ffff_0000_0001)] {
        assert_eq!(t.get(id), None);
        assert_eq!(t.layout(id), None);
        assert_eq!(t.field_offsets(id), None);
        assert_eq!(t.int_width(id), None);
        assert_eq!(t.ptr_addr_space(id), None);
        assert!(t.func_sig(id).is_none());
        assert!(!t.compatible(id, id));
        assert!(!t.is_scalar(id));
        assert!(t.check(id).is_err());
    }
    assert_eq!(a.cg.types().int_width(a.i64t), Some(IntWidth::I64));
    let _ = a.cg.layout(b.i64t).unwrap_err();
}

#[test]
fn deeply_nested_types_have_short_spellings() {
    let mut f = fx();
    let i8t = f.cg.ty_int(IntWidth::I8).unwrap();
    let (mut arr, mut rec) = (i8t, i8t);
    for _ in 0..100_000 {
        arr = f.cg.ty_array(arr, 1).unwrap();
        rec = f.cg.ty_record(&[rec, i8t]).unwrap();
    }
    let x = f.begin("f");
    // A type error naming the deep types: the message stays short (it used to overflow the stack).
    let e = f.cg.push_int(arr, 0).unwrap_err();
    assert!(e.to_string().len() < 300, "{e}");
    assert!(e.to_string().contains("[1 x [1 x [1 x [1 x …]]]]"), "{e}");
    let e = f.cg.push_int(rec, 0).unwrap_err();
    assert!(e.to_string().len() < 300, "{e}");
    f.cg.local_slot(arr, "deep", 0).unwrap();
    f.end(x);
    f.cg.finish().unwrap();
}

/// Records what each safepoint call tells the backend; values are numbered in
/// creation order so the test can name them.
#[derive(Debug, Default)]
struct Recording {
    next: u32,
    slots: Vec<(u32, SlotKind)>,
    safepoints: Vec<SeenSafepoint>,
    calls: usize,
}

/// One safepoint as the backend saw it.
#[derive(Clone, Debug)]
struct SeenSafepoint {
    id: Option<u64>,
    roots: Vec<u32>,
    live: Vec<u32>,
    managed_slots: Vec<u32>,
}

impl Recording {
    fn fresh(&mut self) -> BackendResult<u32> {
        self.next += 1;
        Ok(self.next)
    }
}

macro_rules! values {
    ($($name:ident($($arg:ty),*);)*) => {
        $(fn $name(&mut self, $(_: $arg),*) -> BackendResult<u32> { self.fresh() })*
    };
}
macro_rules! units {
    ($($name:ident($($arg:ty),*);)*) => {
        $(fn $name(&mut self, $(_: $arg),*) -> BackendResult<()> { Ok(()) })*
    };
}
macro_rules! pairs {
    ($($name:ident($($arg:ty),*);)*) => {
        $(fn $name(&mut self, $(_: $arg),*) -> BackendResult<(u32, u32)> { Ok((self.fresh()?, self.fresh()?)) })*
    };
}

impl Backend for Recording {
    type Value = u32;
    type Block = u32;
    fn target(&self) -> &TargetInfo {
        static TARGET: std::sync::OnceLock<TargetInfo> = std::sync::OnceLock::new();
        TARGET.get_or_init(lp64)
    }
    fn debug_init(&mut self, _: &DebugOptions, _: FileId) -> BackendResult<()> {
        Ok(())
    }
    fn debug_file(&mut self, _: FileId, _: &str, _: &str) -> BackendResult<()> {
        Ok(())
    }
    fn debug_type(&mut self, _: TypeId, _: &DebugType<'_>) -> BackendResult<()> {
        Ok(())
    }
    fn debug_function(&mut self, _: &DebugFunction<'_>) -> BackendResult<()> {
        Ok(())
    }
    fn debug_set_loc(&mut self, _: SrcLoc) -> BackendResult<()> {
        Ok(())
    }
    fn debug_variable(&mut self, _: u32, _: &DebugVariable<'_>) -> BackendResult<()> {
        Ok(())
    }
    fn debug_scope_begin(&mut self, _: SrcLoc) -> BackendResult<()> {
        Ok(())
    }
    fn debug_scope_end(&mut self) -> BackendResult<()> {
        Ok(())
    }
    fn debug_global(&mut self, _: Sym, _: &DebugGlobal<'_>) -> BackendResult<()> {
        Ok(())
    }
    fn begin_function(&mut self, _: Sym, params: &[TypeId], slots: &mut Vec<u32>) -> BackendResult<()> {
        for _ in params {
            let v = self.fresh()?;
            slots.push(v);
        }
        Ok(())
    }
    fn local_slot(&mut self, _: TypeId, _: u64, _: &str, kind: SlotKind) -> BackendResult<u32> {
        let v = self.fresh()?;
        self.slots.push((v, kind));
        Ok(v)
    }
    fn set_name(&mut self, _: u32, _: &str) {}
    fn abandon_function(&mut self) {}
    fn call_direct(&mut self, _: Sym, site: &CallSite<'_, u32>) -> BackendResult<Option<u32>> {
        self.calls += 1;
        if let Some(sp) = site.safepoint {
            let seen = SeenSafepoint {
                id: sp.id,
                roots: sp.roots.to_vec(),
                live: sp.live.to_vec(),
                managed_slots: sp.managed_slots.to_vec(),
            };
            self.safepoints.push(seen);
        }
        Ok(Some(self.fresh()?))
    }
    fn label_addr(&mut self, _: u32) -> BackendResult<u32> {
        self.fresh()
    }
    fn indirect_br(&mut self, _: u32, _: &[u32]) -> BackendResult<()> {
        Ok(())
    }
    fn dynamic_alloca(&mut self, _: u32, _: u64) -> BackendResult<u32> {
        self.fresh()
    }
    fn stack_save(&mut self) -> BackendResult<u32> {
        self.fresh()
    }
    fn stack_restore(&mut self, _: u32) -> BackendResult<()> {
        Ok(())
    }
    fn va_start(&mut self, _: u32) -> BackendResult<()> {
        Ok(())
    }
    fn va_end(&mut self, _: u32) -> BackendResult<()> {
        Ok(())
    }
    fn va_copy(&mut self, _: u32, _: u32) -> BackendResult<()> {
        Ok(())
    }
    fn va_arg(&mut self, _: u32, _: TypeId, dest: Option<u32>) -> BackendResult<Option<u32>> {
        Ok(if dest.is_some() { None } else { Some(self.fresh()?) })
    }
    fn call_indirect(&mut self, _: TypeId, _: u32, _: &CallSite<'_, u32>) -> BackendResult<Option<u32>> {
        Ok(Some(self.fresh()?))
    }
    values! {
        new_block();
        const_int(TypeId, u128);
        const_f32(u32);
        const_f64(u64);
        const_zero(TypeId);
        sym_addr(Sym);
        load(u32, &ResolvedAccess);
        addr_offset(u32, i64);
        addr_index(u32, u32, u64);
        int_binop(IntBinOp, IntFlags, u32, u32);
        int_cmp(IntCmp, u32, u32);
        int_unop(IntUnOp, u32);
        freeze(u32);
        cast(CastOp, u32, TypeId);
        float_binop(FloatBinOp, FastMath, u32, u32);
        float_unop(FloatUnOp, FastMath, u32);
        fma(FastMath, u32, u32, u32);
        float_cmp(FloatCmp, FastMath, u32, u32);
        atomic_load(u32, &ResolvedAccess, AtomicOrdering, SyncScope);
        atomic_rmw(AtomicRmwOp, u32, u32, &ResolvedAccess, AtomicOrdering, SyncScope);
        select(u32, u32, u32);
    }
    fn inline_asm(&mut self, asm: &ResolvedAsm, _: &[u32], outputs: &mut Vec<u32>) -> BackendResult<()> {
        for _ in &asm.outputs {
            let v = self.fresh()?;
            outputs.push(v);
        }
        Ok(())
    }
    fn begin_naked_function(&mut self, _: Sym) -> BackendResult<()> {
        Ok(())
    }
    units! {
        set_address_space_policy(u32, &AddrSpacePolicy);
        define_type(TypeId, &TypeKind, &TypeTable);
        declare_function(Sym, &str, &FuncDecl, &TypeTable);
        declare_data(Sym, &str, &DataDecl, &TypeTable);
        define_data(Sym, &DataInit, &[u32]);
        declare_alias(Sym, &str, Sym, &AliasDecl);
        add_init_fini(InitFini, Sym, u16);
        place_block(u32, bool);
        br(u32);
        cond_br(u32, u32, u32);
        check_branch(u32, u32, bool);
        ret(Option<u32>);
        switch(u32, TypeId, u32, &[(u128, u32)]);
        unreachable();
        end_function(&[u32]);
        store(u32, u32, &ResolvedAccess);
        define_alias_scope(u32, &str);
        mem_copy(bool, u32, u32, u64, &ResolvedAccess, &ResolvedAccess);
        mem_set(u32, u8, u64, &ResolvedAccess);
        atomic_store(u32, u32, &ResolvedAccess, AtomicOrdering, SyncScope);
        fence(AtomicOrdering, SyncScope);
    }
    pairs! {
        checked(CheckedOp, TypeId, u32, u32);
        cast_checked(bool, u32, TypeId);
        cmpxchg(u32, u32, u32, &ResolvedAccess, AtomicOrdering, AtomicOrdering, bool, SyncScope);
    }
}

#[test]
fn safepoint_calls_carry_every_managed_fact() {
    let mut cg = Cg::new(Recording::default());
    cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving()).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let obj = cg.ty_ptr(i64t, 1).unwrap();
    let may_collect = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let g = cg.declare_func("g", FuncDecl::new(may_collect)).unwrap();
    let leaf = cg.declare_func("leaf", FuncDecl::new(may_collect).gc(GcRole::Leaf)).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[obj], Some(obj))).unwrap();
    let f = cg.declare_func("f", FuncDecl::new(sig).gc(GcRole::Safepoints)).unwrap();
    cg.func_begin(f).unwrap(); // the parameter's slot is value 1
    let p = cg.param_slot(0, "p").unwrap();
    cg.local_slot(obj, "t", 0).unwrap(); // 2: a managed slot
    let _plain = cg.local_slot(i64t, "n", 0).unwrap(); // 3: not managed
    let r = cg.gc_root_slot(obj, "r").unwrap(); // 4: an explicit root
    cg.push_local(p).unwrap();
    cg.load(MemAccess::new(obj)).unwrap(); // 5: a managed value, live across the call
    cg.push_int(i64t, 7).unwrap(); // 6: the argument
    cg.set_safepoint_id(42).unwrap();
    cg.call(Callee::Direct(leaf), 1).unwrap(); // not a safepoint: keeps the ID
    cg.push_int(i64t, 8).unwrap();
    cg.call(Callee::Direct(g), 1).unwrap();
    assert_eq!(cg.backend().calls, 2);
    let slot_kinds: Vec<SlotKind> = cg.backend().slots.iter().map(|(_, k)| *k).collect();
    assert_eq!(slot_kinds, [SlotKind::Plain, SlotKind::Plain, SlotKind::GcRoot]);
    let first = cg.backend().safepoints[0].clone();
    assert_eq!(first.id, Some(42));
    assert_eq!(first.roots, [4]);
    assert_eq!(first.live, [5], "the managed value under the call's operands, not the i64s");
    assert_eq!(first.managed_slots, [1, 2], "the parameter's and t's slots; not the i64 slot, not the root");
    // The ID is consumed by the safepoint that used it.
    cg.discard().unwrap();
    cg.discard().unwrap();
    cg.push_int(i64t, 9).unwrap();
    cg.call(Callee::Direct(g), 1).unwrap();
    assert_eq!(cg.backend().safepoints[1].id, None);
    assert_eq!(cg.backend().safepoints[1].live, [5]);
    cg.discard().unwrap();
    cg.discard().unwrap();
    cg.push_local(r).unwrap();
    cg.load(MemAccess::new(obj)).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    cg.finish().unwrap();
}

#[test]
fn switch_and_select_misuse() {
    let mut f = fx();
    let x = f.begin("f");
    let i8t = f.cg.ty_int(IntWidth::I8).unwrap();
    let (a, b, d) = (f.cg.new_label().unwrap(), f.cg.new_label().unwrap(), f.cg.new_label().unwrap());
    f.cg.push_int(i8t, 3).unwrap();
    // -1 and 255 are the same i8.
    let k = check(f.cg.switch(d, &[(-1, a), (255, b)]), "switch", 510, "case value 255 repeats case 0");
    assert_eq!(k, ErrorKind::DuplicateCase { value: 255, first: 0 });
    check(f.cg.switch(d, &[(256, a)]), "switch", 501, "constant 256 does not fit in i8");
    let mut other = fx();
    let o = other.begin("g");
    let foreign = other.cg.new_label().unwrap();
    check(f.cg.switch(d, &[(1, foreign)]), "switch", 301, "label handle");
    f.cg.push_int(f.i64t, 1).unwrap();
    check(f.cg.switch(d, &[]), "switch", 202, "1 value(s) left");
    f.cg.discard().unwrap();
    f.cg.push_f64(1.0).unwrap();
    check(f.cg.switch(d, &[]), "switch", 203, "expected an integer type, found f64");
    f.cg.discard().unwrap();
    assert_eq!(f.cg.stack_depth(), 1, "failed switches consume nothing");
    // select: true value, false value, condition.
    f.cg.push_int(f.i64t, 10).unwrap();
    f.cg.push_int(f.i32t, 20).unwrap();
    f.cg.push_int(i8t, 0).unwrap();
    check(f.cg.select(), "select", 203, "expected i1, found i8");
    f.cg.discard().unwrap();
    let i1 = f.cg.ty_int(IntWidth::I1).unwrap();
    f.cg.push_int(i1, 1).unwrap();
    let k = check(f.cg.select(), "select", 203, "expected i64, found i32");
    assert!(matches!(k, ErrorKind::TypeMismatch { .. }));
    assert_eq!(f.cg.stack_depth(), 4);
    f.cg.discard().unwrap();
    f.cg.discard().unwrap();
    f.cg.push_int(f.i64t, 20).unwrap();
    f.cg.push_int(i1, 0).unwrap();
    f.cg.select().unwrap();
    f.cg.discard().unwrap();
    // A valid switch: the i8 operand is still there.
    f.cg.switch(d, &[(-1, a), (7, b)]).unwrap();
    for l in [a, b, d] {
        f.cg.place_label(l).unwrap();
        f.cg.push_local(x).unwrap();
        f.cg.load(MemAccess::new(f.i64t)).unwrap();
        f.cg.ret().unwrap();
    }
    f.cg.func_end().unwrap();
    f.cg.finish().unwrap();
    other.end(o);
}
