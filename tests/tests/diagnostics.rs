//! One test per diagnostic class: the call returns the documented error
//! (naming the call, the function and the operand), nothing panics, the
//! emitter is unchanged by the failed call, and emission can continue to a
//! module that passes LLVM's verifier and runs.

use cfree_facade::*;
use cfree_jit_orc::Jit;
use cfree_llvm_lower::{LlvmBackend, LlvmContext, OptLevel};

struct Fixture<'c> {
    cg: Cg<LlvmBackend<'c>>,
    i32t: TypeId,
    i64t: TypeId,
    unary: TypeId,
}

fn fixture(llvm: &LlvmContext) -> Fixture<'_> {
    let mut cg = llvm.module("diag", &TargetSpec::host()).expect("host module");
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let unary = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    Fixture { cg, i32t, i64t, unary }
}

impl Fixture<'_> {
    /// Begins `name(i64 x) -> i64` and returns the param slot.
    fn begin(&mut self, name: &str) -> (Sym, Local) {
        let f = self.cg.declare_func(name, FuncDecl::new(self.unary)).unwrap();
        self.cg.func_begin(f).unwrap();
        (f, self.cg.param_slot(0, "x").unwrap())
    }

    /// Returns `x + k` and ends the function.
    fn finish_body(&mut self, x: Local, k: i128) {
        self.cg.push_local(x).unwrap();
        self.cg.load(MemAccess::new(self.i64t)).unwrap();
        self.cg.push_int(self.i64t, k).unwrap();
        self.cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
        self.cg.ret().unwrap();
        self.cg.func_end().unwrap();
    }
}

/// Finishes the module, verifies it, runs `name(x)` in the JIT and returns the result.
fn run(fx: Fixture<'_>, name: &str, x: i64) -> i64 {
    let module = cfree_llvm_lower::finish(fx.cg).expect("module completes after recovery");
    module.verify().expect("verifier accepts the recovered module");
    let jit = Jit::new().unwrap();
    jit.publish(&module, OptLevel::O1).unwrap();
    let f = jit.get::<unsafe extern "C" fn(i64) -> i64>(name).unwrap();
    // SAFETY: the function only reads its argument.
    unsafe { f.call(x) }
}

fn assert_err<T: std::fmt::Debug>(r: Result<T>, call: &str, function: Option<&str>) -> ErrorKind {
    let e = r.expect_err("call must be refused");
    assert_eq!(e.call(), call, "{e}");
    assert_eq!(e.function(), function, "{e}");
    assert!(!e.to_string().is_empty());
    e.kind().clone()
}

#[test]
fn stack_underflow() {
    let llvm = LlvmContext::new();
    let mut fx = fixture(&llvm);
    let (_, x) = fx.begin("f");
    fx.cg.push_int(fx.i64t, 1).unwrap();
    let k = assert_err(fx.cg.int_op(IntBinOp::Add, IntFlags::NONE), "int_op", Some("f"));
    assert_eq!(k, ErrorKind::StackUnderflow { needed: 2, available: 1 });
    assert_eq!(fx.cg.stack_depth(), 1, "refused call leaves the stack as it was");
    fx.cg.discard().unwrap();
    let k = assert_err(fx.cg.ret(), "ret", Some("f"));
    assert_eq!(k, ErrorKind::StackUnderflow { needed: 1, available: 0 });
    fx.finish_body(x, 5);
    assert_eq!(run(fx, "f", 10), 15);
}

#[test]
fn type_mismatch() {
    let llvm = LlvmContext::new();
    let mut fx = fixture(&llvm);
    let (_, x) = fx.begin("f");
    fx.cg.push_int(fx.i64t, 1).unwrap();
    fx.cg.push_int(fx.i32t, 2).unwrap();
    let e = fx.cg.int_op(IntBinOp::Mul, IntFlags::NONE).unwrap_err();
    assert_eq!(e.operand_name(), Some("right operand"));
    let ErrorKind::TypeMismatch { expected: Expected::Type(want), found } = e.kind() else { panic!("{e}") };
    assert_eq!((want.id, want.spelling.as_str()), (fx.i64t, "i64"));
    assert_eq!((found.id, found.spelling.as_str()), (fx.i32t, "i32"));
    assert_eq!(e.code(), 203);
    assert_eq!(fx.cg.stack_depth(), 2);
    // Storing an i32 through an i64 access is refused too.
    fx.cg.discard().unwrap();
    fx.cg.discard().unwrap();
    fx.cg.push_local(x).unwrap();
    fx.cg.push_int(fx.i32t, 7).unwrap();
    let e = fx.cg.store(MemAccess::new(fx.i64t)).unwrap_err();
    assert_eq!(e.operand_name(), Some("value"));
    // A place where a value is needed: the frontend must load explicitly.
    fx.cg.discard().unwrap();
    fx.cg.push_int(fx.i64t, 1).unwrap();
    let k = assert_err(fx.cg.int_op(IntBinOp::Add, IntFlags::NONE), "int_op", Some("f"));
    assert_eq!(k, ErrorKind::WrongValueCategory { expected: Category::Value, found: Category::Place });
    fx.cg.discard().unwrap();
    fx.cg.discard().unwrap();
    fx.finish_body(x, -3);
    assert_eq!(run(fx, "f", 10), 7);
}

#[test]
fn branch_to_label_never_placed() {
    let llvm = LlvmContext::new();
    let mut fx = fixture(&llvm);
    let (_, x) = fx.begin("f");
    let target = fx.cg.new_label().unwrap();
    fx.cg.br(target).unwrap();
    let k = assert_err(fx.cg.func_end(), "func_end", Some("f"));
    assert_eq!(k, ErrorKind::LabelNeverPlaced { label: 0 });
    // Recover: the function is still open; place the label and finish.
    fx.cg.place_label(target).unwrap();
    let k = assert_err(fx.cg.place_label(target), "place_label", Some("f"));
    assert_eq!(k, ErrorKind::LabelPlacedTwice { label: 0 });
    fx.finish_body(x, 1);
    assert_eq!(run(fx, "f", 41), 42);
}

#[test]
fn falling_off_the_end() {
    let llvm = LlvmContext::new();
    let mut fx = fixture(&llvm);
    let (_, x) = fx.begin("f");
    let k = assert_err(fx.cg.func_end(), "func_end", Some("f"));
    assert_eq!(k, ErrorKind::FallsOffEnd);
    // A placed label nobody jumps to still counts as reachable fallthrough.
    let l = fx.cg.new_label().unwrap();
    fx.cg.place_label(l).unwrap();
    assert_eq!(assert_err(fx.cg.func_end(), "func_end", Some("f")), ErrorKind::FallsOffEnd);
    fx.finish_body(x, 2);
    assert_eq!(run(fx, "f", 1), 3);
}

#[test]
fn dead_code_after_a_terminator_is_closed_as_unreachable() {
    let llvm = LlvmContext::new();
    let mut fx = fixture(&llvm);
    let (_, x) = fx.begin("f");
    fx.cg.push_local(x).unwrap();
    fx.cg.load(MemAccess::new(fx.i64t)).unwrap();
    fx.cg.ret().unwrap();
    // `return x; x + 1;` - unreachable code after a return is accepted, then closed.
    fx.cg.push_int(fx.i64t, 1).unwrap();
    fx.cg.discard().unwrap();
    fx.cg.func_end().unwrap();
    assert_eq!(run(fx, "f", 9), 9);
}

#[test]
fn handles_from_another_function_or_module() {
    let llvm = LlvmContext::new();
    let mut fx = fixture(&llvm);
    let (_, x) = fx.begin("f");
    let label_f = fx.cg.new_label().unwrap();
    let local_f = fx.cg.local_slot(fx.i64t, "t", 0).unwrap();
    fx.finish_body(x, 0);

    let (_, y) = fx.begin("g");
    let k = assert_err(fx.cg.br(label_f), "br", Some("g"));
    assert!(matches!(k, ErrorKind::ForeignHandle { what: HandleKind::Label, .. }), "{k:?}");
    let k = assert_err(fx.cg.push_local(local_f), "push_local", Some("g"));
    assert!(matches!(k, ErrorKind::ForeignHandle { what: HandleKind::Local, .. }), "{k:?}");

    let other_llvm = LlvmContext::new();
    let mut other = fixture(&other_llvm);
    let foreign_sym = other.cg.declare_func("h", FuncDecl::new(other.unary)).unwrap();
    let foreign_ty = other.cg.ty_array(other.i64t, 4).unwrap();
    let k = assert_err(fx.cg.push_int(foreign_ty, 1), "push_int", Some("g"));
    assert!(matches!(k, ErrorKind::ForeignHandle { what: HandleKind::Type, .. }), "{k:?}");
    fx.cg.push_local(y).unwrap();
    fx.cg.load(MemAccess::new(fx.i64t)).unwrap();
    let k = assert_err(fx.cg.call(Callee::Direct(foreign_sym), 1), "call", Some("g"));
    assert!(matches!(k, ErrorKind::ForeignHandle { what: HandleKind::Symbol, .. }), "{k:?}");
    assert_eq!(fx.cg.stack_depth(), 1);
    fx.cg.discard().unwrap();
    // A handle forged from bits is caught the same way.
    let forged = Label::from_bits(0xdead_0000_0007);
    assert!(matches!(fx.cg.br(forged).unwrap_err().kind(), ErrorKind::ForeignHandle { what: HandleKind::Label, .. }));
    fx.finish_body(y, 100);
    assert_eq!(run(fx, "g", 1), 101);
}

#[test]
fn types_not_supported_on_the_target() {
    let llvm = LlvmContext::new();
    // i128 storage follows clang's __int128: absent on 32-bit x86.
    let mut cg = llvm.module("i686", &TargetSpec::triple("i686-unknown-linux-gnu")).unwrap();
    let k = assert_err(cg.ty_int(IntWidth::I128), "ty_int", None);
    assert_eq!(
        k,
        ErrorKind::UnsupportedOnTarget {
            feature: TargetFeature::IntWidth(128),
            triple: "i686-unknown-linux-gnu".into()
        }
    );
    // ...and present on wasm32 and 64-bit targets.
    let mut wasm = llvm.module("wasm", &TargetSpec::triple("wasm32-unknown-unknown")).unwrap();
    wasm.ty_int(IntWidth::I128).expect("wasm32 has i128");
    // Protected visibility exists only in ELF.
    let i32t = wasm.ty_int(IntWidth::I32).unwrap();
    let k =
        assert_err(wasm.declare_data("x", DataDecl::new(i32t).visibility(Visibility::Protected)), "declare_data", None);
    assert!(matches!(k, ErrorKind::UnsupportedOnTarget { .. }), "{k:?}");
    // Records by value where no C ABI rules exist here (Apple AArch64): refused, not miscompiled.
    let mut apple = llvm.module("apple", &TargetSpec::triple("aarch64-apple-darwin")).unwrap();
    let a32 = apple.ty_int(IntWidth::I32).unwrap();
    let rec = apple.ty_record(&[a32, a32]).unwrap();
    let k = assert_err(apple.ty_func(FuncSig::new(&[rec], None)), "ty_func", None);
    assert!(matches!(k, ErrorKind::UnsupportedOnTarget { feature: TargetFeature::AggregateByValue, .. }), "{k:?}");
    // An unknown triple is a target error, not an abort.
    let err = llvm.module("bad", &TargetSpec::triple("nonsense-none-none")).unwrap_err();
    assert!(matches!(err, cfree_llvm_lower::Error::Target { .. }), "{err}");
}

#[test]
fn duplicate_symbols_and_definitions() {
    let llvm = LlvmContext::new();
    let mut fx = fixture(&llvm);
    let (f, x) = fx.begin("f");
    fx.finish_body(x, 1);
    let k = assert_err(fx.cg.declare_func("f", FuncDecl::new(fx.unary)), "declare_func", None);
    assert_eq!(k, ErrorKind::DuplicateSymbol { name: "f".into() });
    let k = assert_err(fx.cg.declare_data("f", DataDecl::new(fx.i64t)), "declare_data", None);
    assert_eq!(k, ErrorKind::DuplicateSymbol { name: "f".into() });
    let k = assert_err(fx.cg.func_begin(f), "func_begin", None);
    assert_eq!(k, ErrorKind::DuplicateDefinition { name: "f".into() });
    let d = fx.cg.declare_data("d", DataDecl::new(fx.i64t)).unwrap();
    fx.cg.define_data(d, &DataInit::zeroed(8)).unwrap();
    let k = assert_err(fx.cg.define_data(d, &DataInit::zeroed(8)), "define_data", None);
    assert_eq!(k, ErrorKind::DuplicateDefinition { name: "d".into() });
    assert_eq!(run(fx, "f", 1), 2);
}

#[test]
fn misuse_outside_and_inside_functions() {
    let llvm = LlvmContext::new();
    let mut fx = fixture(&llvm);
    assert_eq!(assert_err(fx.cg.push_int(fx.i64t, 1), "push_int", None), ErrorKind::NoOpenFunction);
    assert_eq!(assert_err(fx.cg.ret(), "ret", None), ErrorKind::NoOpenFunction);
    // Names: empty, NUL, and LLVM's reserved intrinsic namespace.
    let names = [
        ("", NameProblem::Empty),
        ("a\0b", NameProblem::ContainsNul),
        ("llvm.memcpy.p0.p0.i64", NameProblem::Reserved),
        ("llvm.trap", NameProblem::Reserved),
    ];
    for (bad, problem) in names {
        let k = assert_err(fx.cg.declare_func(bad, FuncDecl::new(fx.unary)), "declare_func", None);
        assert_eq!(k, ErrorKind::InvalidName { name: bad.into(), problem }, "{bad:?}");
    }
    let e = fx.cg.declare_data("llvm.trap", DataDecl::new(fx.i64t)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "declare_data: invalid name \"llvm.trap\": names starting with `llvm.` are reserved for intrinsics"
    );
    let (_, x) = fx.begin("f");
    let k = assert_err(fx.cg.push_int(fx.i32t, 1 << 32), "push_int", Some("f"));
    assert!(matches!(k, ErrorKind::ConstantOutOfRange { .. }), "{k:?}");
    fx.cg.push_int(fx.i32t, -1).expect("negative constants are bit patterns");
    fx.cg.push_int(fx.i32t, 0xffff_ffff).expect("so are large unsigned ones");
    fx.cg.discard().unwrap();
    fx.cg.discard().unwrap();
    let k = assert_err(fx.cg.local_slot(fx.i64t, "t", 3), "local_slot", Some("f"));
    assert_eq!(k, ErrorKind::InvalidAlignment { align: 3 });
    let k = assert_err(fx.cg.int_op(IntBinOp::Xor, IntFlags::NSW | IntFlags::EXACT), "int_op", Some("f"));
    assert_eq!(k, ErrorKind::InvalidIntFlags { op: IntBinOp::Xor, flags: IntFlags::NSW | IntFlags::EXACT });
    fx.cg.push_local(x).unwrap();
    fx.cg.push_int(fx.i64t, 1).unwrap();
    let k = assert_err(fx.cg.store(MemAccess::new(fx.i64t).flags(MemFlags::INVARIANT)), "store", Some("f"));
    assert_eq!(k, ErrorKind::InvalidMemFlags { op: MemOp::Store, flags: MemFlags::INVARIANT });
    fx.cg.discard().unwrap();
    fx.cg.discard().unwrap();
    fx.cg.push_int(fx.i64t, 1).unwrap();
    let k = assert_err(fx.cg.call(Callee::Indirect(fx.unary), 1), "call", Some("f"));
    assert_eq!(k, ErrorKind::StackUnderflow { needed: 2, available: 1 });
    let k = assert_err(fx.cg.cast(CastOp::SExt, fx.i32t), "cast", Some("f"));
    assert!(matches!(k, ErrorKind::InvalidConversion { op: CastOp::SExt, .. }), "{k:?}");
    let k = assert_err(fx.cg.func_end(), "func_end", Some("f"));
    assert_eq!(k, ErrorKind::StackNotEmpty { count: 1 });
    fx.cg.discard().unwrap();
    let k = assert_err(fx.cg.param_slot(1, "y"), "param_slot", Some("f"));
    assert_eq!(k, ErrorKind::NoSuchParam { index: 1, count: 1 });
    fx.finish_body(x, 0);
    assert_eq!(run(fx, "f", 77), 77);
}

#[test]
fn incomplete_modules_and_data() {
    let llvm = LlvmContext::new();
    let mut fx = fixture(&llvm);
    let d = fx.cg.declare_data("d", DataDecl::new(fx.i64t).linkage(Linkage::Internal)).unwrap();
    let k = assert_err(fx.cg.define_data(d, &DataInit::zeroed(4)), "define_data", None);
    assert_eq!(k, ErrorKind::DataSize { expected: 8, found: 4 });
    let k = assert_err(fx.cg.check_complete(), "finish", None);
    assert_eq!(k, ErrorKind::NeverDefined { name: "d".into(), linkage: Linkage::Internal });
    fx.cg.define_data(d, &DataInit::new().bytes(&7i64.to_le_bytes())).unwrap();
    // An abandoned body leaves a declaration; the name can be defined afresh.
    let (f, _) = fx.begin("f");
    fx.cg.push_int(fx.i64t, 1).unwrap();
    fx.cg.func_abandon().unwrap();
    fx.cg.func_begin(f).unwrap();
    let x = fx.cg.param_slot(0, "x").unwrap();
    fx.cg.push_global(d).unwrap();
    fx.cg.load(MemAccess::new(fx.i64t)).unwrap();
    fx.cg.push_local(x).unwrap();
    fx.cg.load(MemAccess::new(fx.i64t)).unwrap();
    fx.cg.int_op(IntBinOp::Mul, IntFlags::NONE).unwrap();
    fx.cg.ret().unwrap();
    fx.cg.func_end().unwrap();
    assert_eq!(run(fx, "f", 6), 42);
}

/// Regression (found by `random_calls`): defining a data object while the open
/// function's stack holds its address must not leave a dangling LLVM value.
#[test]
fn data_defined_while_its_address_is_on_the_stack() {
    let llvm = LlvmContext::new();
    let mut fx = fixture(&llvm);
    let d = fx.cg.declare_data("late", DataDecl::new(fx.i64t)).unwrap();
    let (_, x) = fx.begin("f");
    fx.cg.push_global(d).unwrap();
    fx.cg.push_sym_addr(d).unwrap();
    fx.cg.define_data(d, &DataInit::new().bytes(&40i64.to_le_bytes())).unwrap();
    fx.cg.discard().unwrap();
    fx.cg.load(MemAccess::new(fx.i64t)).unwrap();
    fx.cg.push_local(x).unwrap();
    fx.cg.load(MemAccess::new(fx.i64t)).unwrap();
    fx.cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    fx.cg.ret().unwrap();
    fx.cg.func_end().unwrap();
    assert_eq!(run(fx, "f", 2), 42);
}

#[test]
fn huge_frames_and_deep_types_are_refused_or_cheap() {
    let llvm = LlvmContext::new();
    let mut fx = fixture(&llvm);
    let i8t = fx.cg.ty_int(IntWidth::I8).unwrap();
    // A 2^40-byte slot used to reach LLVM, which printed "stack frame size exceeds limit".
    let huge = fx.cg.ty_array(i8t, 1 << 40).unwrap();
    let (_, x) = fx.begin("f");
    let k = assert_err(fx.cg.local_slot(huge, "big", 0), "local_slot", Some("f"));
    assert!(matches!(k, ErrorKind::TooLarge { what: Quantity::LocalSize, .. }), "{k:?}");
    // A type nested 100,000 deep: a short message (Display used to overflow the stack), and a
    // slot LLVM sees as `[1 x i8]` (nested LLVM arrays took 55 s at O0).
    let mut deep = i8t;
    for _ in 0..100_000 {
        deep = fx.cg.ty_array(deep, 1).unwrap();
    }
    let e = fx.cg.push_int(deep, 0).unwrap_err();
    assert!(e.to_string().len() < 300, "{e}");
    let slot = fx.cg.local_slot(deep, "deep", 0).unwrap();
    fx.cg.push_local(slot).unwrap();
    fx.cg.push_int(i8t, 5).unwrap();
    fx.cg.store(MemAccess::new(i8t)).unwrap();
    fx.finish_body(x, 1);
    assert_eq!(run(fx, "f", 41), 42);
}

#[test]
fn address_of_a_slot_declared_without_address_taken() {
    let llvm = LlvmContext::new();
    let mut fx = fixture(&llvm);
    let f = fx.cg.declare_func("f", FuncDecl::new(fx.unary)).unwrap();
    fx.cg.func_begin(f).unwrap();
    let x = fx.cg.param_slot_with(0, "x", SlotFlags::NONE).unwrap();
    let pair = fx.cg.ty_array(fx.i64t, 2).unwrap();
    let plain = fx.cg.local_slot_with(pair, "plain", 0, SlotFlags::ARTIFICIAL).unwrap();
    let taken = fx.cg.local_slot(fx.i64t, "taken", 0).unwrap();
    assert_eq!(fx.cg.local_flags(x).unwrap(), SlotFlags::NONE);
    assert_eq!(fx.cg.local_flags(plain).unwrap(), SlotFlags::ARTIFICIAL);
    assert_eq!(fx.cg.local_flags(taken).unwrap(), SlotFlags::ADDRESS_TAKEN);
    assert_eq!(SlotFlags::from_bits(16), None);
    assert_eq!(SlotFlags::from_bits(15).map(SlotFlags::bits), Some(15));
    // The parameter itself, and a place derived from a local, are refused...
    fx.cg.push_local(x).unwrap();
    let k = assert_err(fx.cg.addr_of(), "addr_of", Some("f"));
    assert_eq!(k, ErrorKind::AddressNotTaken { index: 0 });
    assert_eq!(fx.cg.stack_depth(), 1, "the refused call leaves the place");
    fx.cg.discard().unwrap();
    fx.cg.push_local(plain).unwrap();
    fx.cg.addr_offset(8, fx.i64t).unwrap();
    let k = assert_err(fx.cg.addr_of(), "addr_of", Some("f"));
    assert_eq!(k, ErrorKind::AddressNotTaken { index: 1 });
    // ... but loads and stores through them are fine: plain[1] = x + 1.
    fx.cg.push_local(x).unwrap();
    fx.cg.load(MemAccess::new(fx.i64t)).unwrap();
    fx.cg.push_int(fx.i64t, 1).unwrap();
    fx.cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    fx.cg.store(MemAccess::new(fx.i64t)).unwrap();
    // An address-taken slot's address is a value: *(&taken) = plain[1].
    fx.cg.push_local(taken).unwrap();
    fx.cg.addr_of().unwrap();
    fx.cg.deref(fx.i64t).unwrap();
    fx.cg.push_local(plain).unwrap();
    fx.cg.addr_offset(8, fx.i64t).unwrap();
    fx.cg.load(MemAccess::new(fx.i64t)).unwrap();
    fx.cg.store(MemAccess::new(fx.i64t)).unwrap();
    fx.finish_body(taken, 10);
    assert_eq!(run(fx, "f", 5), 16);
}
