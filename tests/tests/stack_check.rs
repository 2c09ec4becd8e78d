//! Prologue stack checks (`StackCheck`, `doc/stacks.md`), executed through the
//! JIT at O0 and O2: the host's grow function gives the callee more room
//! (by lowering the limit) and resumes it; arguments of every register class
//! and results (value and void) go through the frame buffer; a recursion
//! grows as often as its depth needs; bad declarations are refused.
//! Switching to a real new stack segment is the toy runtime's part
//! (`frontends/toy-rt`, tested by the toy's task tests).

use std::cell::Cell;

use cfree_facade::*;
use cfree_jit_orc::Jit;
use cfree_llvm_lower::{LlvmBackend, LlvmContext, LlvmModule, OptLevel, LLVM_MAJOR};
use cfree_tests::emit::get;

/// Offset of the limit in the test's context (not 0, to test the offset).
const LIMIT_OFFSET: u32 = 8;
/// What each growth adds below the current stack pointer.
const ROOM: usize = 64 << 10;

#[repr(C)]
struct Ctx {
    other: u64,
    limit: Cell<usize>,
}

thread_local! {
    static CTX: Ctx = const { Ctx { other: 0, limit: Cell::new(0) } };
    static GROWS: Cell<u32> = const { Cell::new(0) };
}

/// The host's grow function: `ROOM` more below the current stack pointer, then resume.
extern "C" fn test_grow(resume: extern "C" fn(*mut u8), frame: *mut u8) {
    GROWS.with(|g| g.set(g.get() + 1));
    let here = 0u8;
    let sp = std::ptr::addr_of!(here) as usize;
    let old = CTX.with(|c| c.limit.replace(sp.saturating_sub(ROOM)));
    resume(frame);
    CTX.with(|c| c.limit.set(old));
}

struct T {
    i32: TypeId,
    i64: TypeId,
    f64: TypeId,
    ptr: TypeId,
}

fn declare(cg: &mut Cg<LlvmBackend<'_>>, name: &str, params: &[TypeId], result: Option<TypeId>, grow: Sym) -> Sym {
    let sig = cg.ty_func(FuncSig::new(params, result)).unwrap();
    let check = StackCheck { limit_param: 0, limit_offset: LIMIT_OFFSET, grow, safepoint_id: 7 };
    cg.declare_func(name, FuncDecl::new(sig).stack_check(check)).unwrap()
}

fn open(cg: &mut Cg<LlvmBackend<'_>>, f: Sym, count: u32) -> Vec<Local> {
    cg.func_begin(f).unwrap();
    (0..count).map(|i| cg.param_slot(i, &format!("p{i}")).unwrap()).collect()
}

/// `mix(ctx, a: i64, b: f64, c: i32) -> f64 = a + b * c`; `depth(ctx, n) = n == 0 ? 0 : depth(ctx, n - 1) + 1`;
/// `touch(ctx, p: ptr)` stores 7 at `p`.
fn module(llvm: &LlvmContext) -> LlvmModule<'_> {
    let mut cg = llvm.module("stack_check", &TargetSpec::host()).unwrap();
    let i8t = cg.ty_int(IntWidth::I8).unwrap();
    let t = T {
        i32: cg.ty_int(IntWidth::I32).unwrap(),
        i64: cg.ty_int(IntWidth::I64).unwrap(),
        f64: cg.ty_float(FloatWidth::F64).unwrap(),
        ptr: cg.ty_ptr(i8t, 0).unwrap(),
    };
    let grow_sig = cg.ty_func(FuncSig::new(&[t.ptr, t.ptr], None)).unwrap();
    let grow = cg.declare_func("test_grow", FuncDecl::new(grow_sig)).unwrap();

    let mix = declare(&mut cg, "mix", &[t.ptr, t.i64, t.f64, t.i32], Some(t.f64), grow);
    let p = open(&mut cg, mix, 4);
    get(&mut cg, p[1], t.i64);
    cg.cast(CastOp::SIToFP, t.f64).unwrap();
    get(&mut cg, p[2], t.f64);
    get(&mut cg, p[3], t.i32);
    cg.cast(CastOp::SIToFP, t.f64).unwrap();
    cg.float_op(FloatBinOp::Mul, FastMath::NONE).unwrap();
    cg.float_op(FloatBinOp::Add, FastMath::NONE).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();

    let depth = declare(&mut cg, "depth", &[t.ptr, t.i64], Some(t.i64), grow);
    let p = open(&mut cg, depth, 2);
    let (base, rec) = (cg.new_label().unwrap(), cg.new_label().unwrap());
    get(&mut cg, p[1], t.i64);
    cg.push_int(t.i64, 0).unwrap();
    cg.int_cmp(IntCmp::Eq).unwrap();
    cg.cond_br(base, rec).unwrap();
    cg.place_label(base).unwrap();
    cg.push_int(t.i64, 0).unwrap();
    cg.ret().unwrap();
    cg.place_label(rec).unwrap();
    get(&mut cg, p[0], t.ptr);
    get(&mut cg, p[1], t.i64);
    cg.push_int(t.i64, 1).unwrap();
    cg.int_op(IntBinOp::Sub, IntFlags::NONE).unwrap();
    cg.call(Callee::Direct(depth), 2).unwrap();
    cg.push_int(t.i64, 1).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();

    let touch = declare(&mut cg, "touch", &[t.ptr, t.ptr], None, grow);
    let p = open(&mut cg, touch, 2);
    get(&mut cg, p[1], t.ptr);
    cg.push_int(t.i64, 7).unwrap();
    cg.store(MemAccess::new(t.i64)).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    cfree_llvm_lower::finish(cg).unwrap()
}

fn snapshot(name: &str, ir: String) {
    insta::with_settings!({ snapshot_suffix => format!("llvm{LLVM_MAJOR}"), prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, ir);
    });
}

#[test]
fn the_prologue_compares_the_stack_pointer_with_the_limit() {
    let llvm = LlvmContext::new();
    let m = module(&llvm);
    m.verify().unwrap();
    snapshot("stack_check_mix_o0", m.symbol_ir("mix").unwrap());
    snapshot("stack_check_mix_resume_o0", m.symbol_ir("mix.resume").unwrap());
}

/// Runs `f` with the context's limit at `limit`; returns the growths it took.
fn with_limit<R>(limit: usize, f: impl FnOnce(*const Ctx) -> R) -> (R, u32) {
    GROWS.with(|g| g.set(0));
    let ctx = CTX.with(|c| {
        c.limit.set(limit);
        c as *const Ctx
    });
    let r = f(ctx);
    (r, GROWS.with(|g| g.get()))
}

#[test]
fn functions_resume_with_their_arguments_after_growing() {
    let llvm = LlvmContext::new();
    for level in [OptLevel::O0, OptLevel::O2] {
        let m = module(&llvm);
        m.verify().unwrap();
        let jit = Jit::new().unwrap();
        jit.define_host_symbol("test_grow", test_grow as *const () as usize as u64).unwrap();
        jit.publish(&m, level).unwrap();
        let mix = jit.get::<unsafe extern "C" fn(*const Ctx, i64, f64, i32) -> f64>("mix").unwrap();
        let touch = jit.get::<unsafe extern "C" fn(*const Ctx, *mut i64)>("touch").unwrap();
        let depth = jit.get::<unsafe extern "C" fn(*const Ctx, i64) -> i64>("depth").unwrap();
        for (a, b, c) in [(3i64, 0.5f64, -7i32), (i64::MIN, f64::INFINITY, 0), (1 << 40, -2.25, i32::MAX)] {
            let want = a as f64 + b * f64::from(c);
            // SAFETY: `mix` takes a context and three numbers.
            let (got, grows) = with_limit(usize::MAX, |ctx| unsafe { mix.call(ctx, a, b, c) });
            assert_eq!((got.to_bits(), grows), (want.to_bits(), 1), "{level:?} mix({a}, {b}, {c})");
            // SAFETY: as above.
            let (got, grows) = with_limit(0, |ctx| unsafe { mix.call(ctx, a, b, c) });
            assert_eq!((got.to_bits(), grows), (want.to_bits(), 0), "{level:?} mix({a}, {b}, {c}), room");
        }
        let mut cell = 0i64;
        // SAFETY: `touch` stores an i64 at its second argument.
        let ((), grows) = with_limit(usize::MAX, |ctx| unsafe { touch.call(ctx, &mut cell) });
        assert_eq!((cell, grows), (7, 1), "{level:?} touch");
        // A recursion that starts with `ROOM` below it grows about once per `ROOM` of frames.
        let here = 0u8;
        let sp = std::ptr::addr_of!(here) as usize;
        let n = 20_000;
        // SAFETY: `depth` takes a context and a count; 20,000 small frames fit the test thread's stack.
        let (got, grows) = with_limit(sp - ROOM, |ctx| unsafe { depth.call(ctx, n) });
        assert_eq!(got, n, "{level:?} depth");
        assert!(grows >= 2, "{level:?}: {grows} growths for {n} frames");
    }
}

#[test]
fn bad_stack_checks_are_refused() {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("bad", &TargetSpec::host()).unwrap();
    let i8t = cg.ty_int(IntWidth::I8).unwrap();
    let (i64t, ptr) = (cg.ty_int(IntWidth::I64).unwrap(), cg.ty_ptr(i8t, 0).unwrap());
    let grow_sig = cg.ty_func(FuncSig::new(&[ptr, ptr], None)).unwrap();
    let grow = cg.declare_func("grow", FuncDecl::new(grow_sig)).unwrap();
    let bad_grow_sig = cg.ty_func(FuncSig::new(&[ptr], None)).unwrap();
    let bad_grow = cg.declare_func("bad_grow", FuncDecl::new(bad_grow_sig)).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[ptr, i64t], Some(i64t))).unwrap();
    let check = StackCheck { limit_param: 0, limit_offset: 0, grow, safepoint_id: 0 };
    let cases: [(&str, FuncDecl, AttrProblem); 4] = [
        (
            "no_param",
            FuncDecl::new(sig).stack_check(StackCheck { limit_param: 2, ..check }),
            AttrProblem::NoSuchParam(2),
        ),
        ("not_ptr", FuncDecl::new(sig).stack_check(StackCheck { limit_param: 1, ..check }), AttrProblem::NotPointer),
        ("grow_sig", FuncDecl::new(sig).stack_check(StackCheck { grow: bad_grow, ..check }), AttrProblem::GrowFunction),
        (
            "naked",
            FuncDecl {
                attrs: FuncAttrs { naked: true, ..FuncAttrs::default() },
                ..FuncDecl::new(sig).stack_check(check)
            },
            AttrProblem::Conflicts("naked"),
        ),
    ];
    for (name, decl, want) in cases {
        let e = cg.declare_func(name, decl).unwrap_err();
        assert_eq!(e.operand_name(), Some("stack_check"), "{name}: {e}");
        match e.kind() {
            ErrorKind::InvalidAttribute { attr: "stack_check", problem } => assert_eq!(*problem, want, "{name}: {e}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    // A grow symbol of another module is a foreign handle.
    let mut other = llvm.module("other", &TargetSpec::host()).unwrap();
    let i8o = other.ty_int(IntWidth::I8).unwrap();
    let po = other.ty_ptr(i8o, 0).unwrap();
    let sig_o = other.ty_func(FuncSig::new(&[po], None)).unwrap();
    let e = other.declare_func("f", FuncDecl::new(sig_o).stack_check(check)).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::ForeignHandle { what: HandleKind::Symbol, .. }), "{e}");
}
