//! Memory operations, memory facts and atomics, executed: block copies against
//! Rust's slice operations; alias scopes letting O2 forward a store that it
//! cannot without them (an insta pair, both executed); invariant/nontemporal
//! and atomic orderings visible in the IR; multi-threaded counters and CAS
//! loops through the JIT reaching exact totals; precise errors for bad input.

use cfree_facade::*;
use cfree_jit_orc::Jit;
use cfree_llvm_lower::{LlvmBackend, LlvmContext, LlvmModule, OptLevel, LLVM_MAJOR};
use cfree_tests::emit::{begin, get};

struct T {
    i8: TypeId,
    i32: TypeId,
    i64: TypeId,
    f64: TypeId,
    ptr: TypeId,
}

fn types(cg: &mut Cg<LlvmBackend<'_>>) -> T {
    let i8 = cg.ty_int(IntWidth::I8).unwrap();
    T {
        i8,
        i32: cg.ty_int(IntWidth::I32).unwrap(),
        i64: cg.ty_int(IntWidth::I64).unwrap(),
        f64: cg.ty_float(FloatWidth::F64).unwrap(),
        ptr: cg.ty_ptr(i8, 0).unwrap(),
    }
}

fn jit_of(module: LlvmModule<'_>, level: OptLevel) -> Jit {
    module.verify().unwrap();
    let jit = Jit::new().unwrap();
    jit.publish(&module, level).unwrap();
    jit
}

fn snapshot(name: &str, ir: String) {
    insta::with_settings!({ snapshot_suffix => format!("llvm{LLVM_MAJOR}"), prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, ir);
    });
}

/// `copy(dst, src)`: memcpy 13 bytes; `shift(buf)`: memmove buf+3 <- buf, 10 bytes
/// (volatile source); `fill(buf)`: memset 7 bytes of 0xa5 at buf+2.
fn mem_module(llvm: &LlvmContext) -> LlvmModule<'_> {
    let mut cg = llvm.module("mem", &TargetSpec::host()).unwrap();
    let t = types(&mut cg);
    let p = begin(&mut cg, "copy", &[t.ptr, t.ptr], None);
    get(&mut cg, p[0], t.ptr);
    get(&mut cg, p[1], t.ptr);
    cg.memcpy(13, MemAccess::new(t.i8), MemAccess::new(t.i8)).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    let p = begin(&mut cg, "shift", &[t.ptr], None);
    get(&mut cg, p[0], t.ptr);
    cg.addr_offset(3, t.ptr).unwrap();
    get(&mut cg, p[0], t.ptr);
    cg.memmove(10, MemAccess::new(t.i8), MemAccess::new(t.i8).volatile()).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    let p = begin(&mut cg, "fill", &[t.ptr], None);
    get(&mut cg, p[0], t.ptr);
    cg.addr_offset(2, t.ptr).unwrap();
    cg.memset(0xa5, 7, MemAccess::new(t.i32).align(1)).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    cfree_llvm_lower::finish(cg).unwrap()
}

#[test]
fn memcpy_memmove_memset_match_rust() {
    for level in [OptLevel::O0, OptLevel::O2] {
        let llvm = LlvmContext::new();
        let jit = jit_of(mem_module(&llvm), level);
        let copy = jit.get::<unsafe extern "C" fn(*mut u8, *const u8)>("copy").unwrap();
        let shift = jit.get::<unsafe extern "C" fn(*mut u8)>("shift").unwrap();
        let fill = jit.get::<unsafe extern "C" fn(*mut u8)>("fill").unwrap();
        let src: Vec<u8> = (1..=20).collect();
        let mut dst = vec![0u8; 20];
        let mut want = dst.clone();
        want[..13].copy_from_slice(&src[..13]);
        // SAFETY: both buffers hold 20 bytes; the kernels touch at most the first 13.
        unsafe { copy.call(dst.as_mut_ptr(), src.as_ptr()) };
        assert_eq!(dst, want);
        let mut buf: Vec<u8> = (1..=20).collect();
        let mut want = buf.clone();
        want.copy_within(0..10, 3);
        // SAFETY: 20 bytes; the move touches bytes 0..13.
        unsafe { shift.call(buf.as_mut_ptr()) };
        assert_eq!(buf, want);
        let mut want = buf.clone();
        want[2..9].fill(0xa5);
        // SAFETY: 20 bytes; the fill touches bytes 2..9.
        unsafe { fill.call(buf.as_mut_ptr()) };
        assert_eq!(buf, want);
    }
}

/// `f(a, b) { *a = 1; *b = 2; return *a; }`, with or without alias scopes.
fn alias_module(llvm: &LlvmContext, scoped: bool) -> LlvmModule<'_> {
    let mut cg = llvm.module("alias", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    let t = types(&mut cg);
    let (a_scope, b_scope) = if scoped { (cg.alias_scope("a").unwrap(), cg.alias_scope("b").unwrap()) } else { (0, 0) };
    let on_a = MemAccess::new(t.i32).in_scope(a_scope).noalias(b_scope);
    let on_b = MemAccess::new(t.i32).in_scope(b_scope).noalias(a_scope);
    let p = begin(&mut cg, "f", &[t.ptr, t.ptr], Some(t.i32));
    get(&mut cg, p[0], t.ptr);
    cg.push_int(t.i32, 1).unwrap();
    cg.store(on_a).unwrap();
    get(&mut cg, p[1], t.ptr);
    cg.push_int(t.i32, 2).unwrap();
    cg.store(on_b).unwrap();
    get(&mut cg, p[0], t.ptr);
    cg.load(on_a).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    let mut m = cfree_llvm_lower::finish(cg).unwrap();
    m.optimize(OptLevel::O2).unwrap();
    m
}

#[test]
fn alias_scopes_let_o2_forward_the_store() {
    let llvm = LlvmContext::new();
    let (plain, scoped) = (alias_module(&llvm, false), alias_module(&llvm, true));
    let body = |m: &LlvmModule<'_>| m.symbol_ir("f").unwrap();
    let (plain_ir, scoped_ir) = (body(&plain), body(&scoped));
    assert!(plain_ir.contains("load i32"), "without scopes the reload stays:\n{plain_ir}");
    assert!(!scoped_ir.contains("load i32") && scoped_ir.contains("ret i32 1"), "with scopes it folds:\n{scoped_ir}");
    snapshot("alias_without_scopes_o2", plain_ir);
    snapshot("alias_with_scopes_o2", scoped_ir);
    // Both compute 1 for distinct pointers; the unscoped one also for the same pointer twice.
    let llvm_host = LlvmContext::new();
    for scoped in [false, true] {
        let mut cg = llvm_host.module("alias_run", &TargetSpec::host()).unwrap();
        let t = types(&mut cg);
        let (a_scope, b_scope) =
            if scoped { (cg.alias_scope("a").unwrap(), cg.alias_scope("b").unwrap()) } else { (0, 0) };
        let p = begin(&mut cg, "f", &[t.ptr, t.ptr], Some(t.i32));
        get(&mut cg, p[0], t.ptr);
        cg.push_int(t.i32, 1).unwrap();
        cg.store(MemAccess::new(t.i32).in_scope(a_scope).noalias(b_scope)).unwrap();
        get(&mut cg, p[1], t.ptr);
        cg.push_int(t.i32, 2).unwrap();
        cg.store(MemAccess::new(t.i32).in_scope(b_scope).noalias(a_scope)).unwrap();
        get(&mut cg, p[0], t.ptr);
        cg.load(MemAccess::new(t.i32).in_scope(a_scope).noalias(b_scope)).unwrap();
        cg.ret().unwrap();
        cg.func_end().unwrap();
        let jit = jit_of(cfree_llvm_lower::finish(cg).unwrap(), OptLevel::O2);
        let f = jit.get::<unsafe extern "C" fn(*mut i32, *mut i32) -> i32>("f").unwrap();
        let (mut x, mut y) = (0i32, 0i32);
        // SAFETY: two distinct, valid i32 locations.
        assert_eq!(unsafe { f.call(&mut x, &mut y) }, 1);
        assert_eq!((x, y), (1, 2));
        if !scoped {
            // SAFETY: the same location twice is allowed without scopes.
            assert_eq!(unsafe { f.call(&mut x, &mut x) }, 2);
        }
    }
}

#[test]
fn memory_facts_and_atomic_orderings_in_ir() {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("facts", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    let t = types(&mut cg);
    let p = begin(&mut cg, "facts", &[t.ptr, t.ptr], Some(t.i64));
    get(&mut cg, p[1], t.ptr);
    get(&mut cg, p[0], t.ptr);
    cg.load(MemAccess::new(t.i64).flags(MemFlags::INVARIANT)).unwrap();
    cg.store(MemAccess::new(t.i64).flags(MemFlags::NONTEMPORAL)).unwrap();
    get(&mut cg, p[1], t.ptr);
    cg.load(MemAccess::new(t.i64).volatile().align(4)).unwrap();
    cg.discard().unwrap();
    get(&mut cg, p[1], t.ptr);
    cg.push_int(t.i64, 5).unwrap();
    cg.atomic_rmw(AtomicRmwOp::Add, MemAccess::new(t.i64).volatile(), AtomicOrdering::AcqRel, SyncScope::System)
        .unwrap();
    cg.discard().unwrap();
    get(&mut cg, p[1], t.ptr);
    cg.push_int(t.i64, 7).unwrap();
    cg.push_int(t.i64, 8).unwrap();
    cg.cmpxchg(MemAccess::new(t.i64), AtomicOrdering::SeqCst, AtomicOrdering::Acquire, true, SyncScope::SingleThread)
        .unwrap();
    cg.discard().unwrap();
    cg.discard().unwrap();
    cg.fence(AtomicOrdering::Release, SyncScope::System).unwrap();
    get(&mut cg, p[1], t.ptr);
    cg.atomic_load(MemAccess::new(t.i64), AtomicOrdering::Acquire, SyncScope::System).unwrap();
    cg.push_f64(1.5).unwrap();
    cg.push_f64(2.0).unwrap();
    cg.float_op(FloatBinOp::Mul, FastMath::NNAN | FastMath::NSZ).unwrap();
    cg.cast(CastOp::FPToSISat, t.i64).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NSW).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    let m = cfree_llvm_lower::finish(cg).unwrap();
    m.verify().unwrap();
    let ir = { m.symbol_ir("facts").unwrap() };
    for needle in [
        "!invariant.load",
        "!nontemporal",
        "load volatile i64",
        "align 4",
        "atomicrmw volatile add",
        "acq_rel",
        "cmpxchg weak",
        "syncscope(\"singlethread\")",
        "fence release",
        "load atomic i64",
        "acquire",
    ] {
        assert!(ir.contains(needle), "{needle} missing:\n{ir}");
    }
    snapshot("memory_facts_o0", ir);
}

/// `add_n(p, n)`: n atomic increments; `cas_n(p, n)`: n increments by weak CAS
/// loops; `fadd_n(p, n)`: n atomic f64 additions of 1.0.
fn atomic_module(llvm: &LlvmContext) -> LlvmModule<'_> {
    let mut cg = llvm.module("atomics", &TargetSpec::host()).unwrap();
    let t = types(&mut cg);
    let i1 = cg.ty_int(IntWidth::I1).unwrap();
    for (name, kind) in [("add_n", 0), ("cas_n", 1), ("fadd_n", 2)] {
        let p = begin(&mut cg, name, &[t.ptr, t.i64], None);
        let i = cg.local_slot(t.i64, "i", 0).unwrap();
        let old = cg.local_slot(t.i64, "old", 0).unwrap();
        let ok = cg.local_slot(i1, "ok", 0).unwrap();
        cg.push_local(i).unwrap();
        cg.push_int(t.i64, 0).unwrap();
        cg.store(MemAccess::new(t.i64)).unwrap();
        let (head, body, done) = (cg.new_label().unwrap(), cg.new_label().unwrap(), cg.new_label().unwrap());
        cg.place_label(head).unwrap();
        get(&mut cg, i, t.i64);
        get(&mut cg, p[1], t.i64);
        cg.int_cmp(IntCmp::Slt).unwrap();
        cg.cond_br(body, done).unwrap();
        cg.place_label(body).unwrap();
        match kind {
            0 => {
                get(&mut cg, p[0], t.ptr);
                cg.push_int(t.i64, 1).unwrap();
                cg.atomic_rmw(AtomicRmwOp::Add, MemAccess::new(t.i64), AtomicOrdering::Relaxed, SyncScope::System)
                    .unwrap();
                cg.discard().unwrap();
            }
            1 => {
                cg.push_local(old).unwrap();
                get(&mut cg, p[0], t.ptr);
                cg.atomic_load(MemAccess::new(t.i64), AtomicOrdering::Relaxed, SyncScope::System).unwrap();
                cg.store(MemAccess::new(t.i64)).unwrap();
                let retry = cg.new_label().unwrap();
                let next = cg.new_label().unwrap();
                cg.place_label(retry).unwrap();
                get(&mut cg, p[0], t.ptr);
                get(&mut cg, old, t.i64);
                get(&mut cg, old, t.i64);
                cg.push_int(t.i64, 1).unwrap();
                cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
                cg.cmpxchg(
                    MemAccess::new(t.i64),
                    AtomicOrdering::AcqRel,
                    AtomicOrdering::Relaxed,
                    true,
                    SyncScope::System,
                )
                .unwrap();
                // [old', ok]: keep both in locals, then branch.
                cg.push_local(ok).unwrap();
                cg.swap().unwrap();
                cg.store(MemAccess::new(i1)).unwrap();
                cg.push_local(old).unwrap();
                cg.swap().unwrap();
                cg.store(MemAccess::new(t.i64)).unwrap();
                get(&mut cg, ok, i1);
                cg.cond_br(next, retry).unwrap();
                cg.place_label(next).unwrap();
            }
            _ => {
                get(&mut cg, p[0], t.ptr);
                cg.push_f64(1.0).unwrap();
                cg.atomic_rmw(AtomicRmwOp::FAdd, MemAccess::new(t.f64), AtomicOrdering::SeqCst, SyncScope::System)
                    .unwrap();
                cg.discard().unwrap();
            }
        }
        cg.push_local(i).unwrap();
        get(&mut cg, i, t.i64);
        cg.push_int(t.i64, 1).unwrap();
        cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
        cg.store(MemAccess::new(t.i64)).unwrap();
        cg.br(head).unwrap();
        cg.place_label(done).unwrap();
        cg.ret().unwrap();
        cg.func_end().unwrap();
    }
    cfree_llvm_lower::finish(cg).unwrap()
}

#[test]
fn threads_reach_exact_totals() {
    const THREADS: usize = 4;
    const N: i64 = 200_000;
    for level in [OptLevel::O0, OptLevel::O2] {
        let llvm = LlvmContext::new();
        let jit = jit_of(atomic_module(&llvm), level);
        for name in ["add_n", "cas_n"] {
            let f = jit.get::<unsafe extern "C" fn(*mut u8, i64)>(name).unwrap().as_fn();
            let counter = std::sync::atomic::AtomicI64::new(0);
            let addr = counter.as_ptr() as usize;
            std::thread::scope(|s| {
                for _ in 0..THREADS {
                    // SAFETY: `addr` is a live, aligned AtomicI64 that outlives the scope; the
                    // JIT code only performs atomic accesses on it, and the JIT outlives the scope.
                    s.spawn(move || unsafe { f(addr as *mut u8, N) });
                }
            });
            assert_eq!(counter.into_inner(), THREADS as i64 * N, "{name} at {level:?}");
        }
        let f = jit.get::<unsafe extern "C" fn(*mut u8, i64)>("fadd_n").unwrap().as_fn();
        let total = std::sync::atomic::AtomicU64::new(0f64.to_bits());
        let addr = total.as_ptr() as usize;
        std::thread::scope(|s| {
            for _ in 0..THREADS {
                // SAFETY: as above, for an f64 stored in an AtomicU64.
                s.spawn(move || unsafe { f(addr as *mut u8, N) });
            }
        });
        assert_eq!(f64::from_bits(total.into_inner()), (THREADS as i64 * N) as f64, "fadd_n at {level:?}");
    }
}

#[test]
fn bad_input_is_a_precise_error() {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("bad", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    let t = types(&mut cg);
    let i128t = cg.ty_int(IntWidth::I128).unwrap();
    let p = begin(&mut cg, "f", &[t.ptr], None);
    // A float where an integer operation needs an integer.
    cg.push_f64(1.0).unwrap();
    cg.push_f64(2.0).unwrap();
    let e = cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::TypeMismatch { .. }), "{e}");
    assert_eq!(cg.stack_depth(), 2);
    let e = cg.int_unop(IntUnOp::Clz).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::TypeMismatch { .. }), "{e}");
    cg.discard().unwrap();
    cg.discard().unwrap();
    cg.push_int(t.i32, 1).unwrap();
    cg.push_int(t.i32, 2).unwrap();
    let e = cg.float_op(FloatBinOp::Add, FastMath::NONE).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::TypeMismatch { .. }), "{e}");
    cg.discard().unwrap();
    cg.discard().unwrap();
    // i128 atomics need cmpxchg16b, absent from the generic x86-64 CPU.
    get(&mut cg, p[0], t.ptr);
    let e = cg.atomic_load(MemAccess::new(i128t), AtomicOrdering::SeqCst, SyncScope::System).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::UnsupportedOnTarget { .. }), "{e}");
    // Under-aligned atomics and orderings the operation cannot have.
    let e = cg.atomic_load(MemAccess::new(t.i64).align(4), AtomicOrdering::SeqCst, SyncScope::System).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::UnderalignedAtomic { align: 4, size: 8 }, "{e}");
    let e = cg.atomic_load(MemAccess::new(t.i64), AtomicOrdering::Release, SyncScope::System).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidOrdering { op: AtomicOp::Load, ordering: AtomicOrdering::Release });
    // Alignment that is not a power of two.
    let e = cg.load(MemAccess::new(t.i64).align(6)).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidAlignment { align: 6 });
    // An alias scope that was never created.
    let e = cg.load(MemAccess::new(t.i64).in_scope(9)).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::ForeignHandle { what: HandleKind::AliasScope, .. }), "{e}");
    // Bswap needs whole bytes pairs; float-to-int checked casts need a float.
    cg.discard().unwrap();
    cg.push_int(t.i8, 1).unwrap();
    assert!(matches!(cg.int_unop(IntUnOp::Bswap).unwrap_err().kind(), ErrorKind::TypeMismatch { .. }));
    assert!(matches!(cg.cast_checked(CastOp::FPToSI, t.i32).unwrap_err().kind(), ErrorKind::InvalidConversion { .. }));
    assert!(matches!(cg.cast(CastOp::Bitcast, t.i32).unwrap_err().kind(), ErrorKind::InvalidConversion { .. }));
    cg.discard().unwrap();
    cg.fence(AtomicOrdering::Relaxed, SyncScope::System).unwrap_err();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    cfree_llvm_lower::finish(cg).unwrap().verify().unwrap();
    // The host CPU (with cmpxchg16b) does offer 128-bit atomics.
    let host = llvm.module("host", &TargetSpec::host()).unwrap();
    let host_has_cx16 = host.target().features.split(',').any(|f| f == "+cx16");
    assert_eq!(host.target().supports_atomic_bits(128), host_has_cx16 || host.target().arch == Arch::Aarch64);
}

#[test]
fn fast_math_is_per_operation_and_strict_by_default() {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("fm", &TargetSpec::host()).unwrap();
    let t = types(&mut cg);
    let p = begin(&mut cg, "fm", &[t.f64, t.f64], Some(t.f64));
    get(&mut cg, p[0], t.f64);
    get(&mut cg, p[1], t.f64);
    cg.float_op(FloatBinOp::Mul, FastMath::NNAN | FastMath::NSZ).unwrap();
    get(&mut cg, p[1], t.f64);
    cg.float_op(FloatBinOp::Add, FastMath::NONE).unwrap();
    get(&mut cg, p[0], t.f64);
    cg.float_op(FloatBinOp::Div, FastMath::ARCP).unwrap();
    cg.freeze().unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    let m = cfree_llvm_lower::finish(cg).unwrap();
    let ir = m.ir();
    assert!(ir.contains("fmul nnan nsz double"), "{ir}");
    assert!(ir.contains("fadd double"), "strict add carries no flags:\n{ir}");
    assert!(ir.contains("fdiv arcp double"), "{ir}");
    assert!(ir.contains("freeze double"), "{ir}");
    let jit = jit_of(m, OptLevel::O2);
    let f = jit.get::<unsafe extern "C" fn(f64, f64) -> f64>("fm").unwrap();
    // SAFETY: pure arithmetic.
    assert_eq!(unsafe { f.call(3.0, 4.0) }, (3.0 * 4.0 + 4.0) / 3.0);
}

#[test]
fn block_ops_in_other_address_spaces_verify_and_compile() {
    for triple in ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] {
        let llvm = LlvmContext::new();
        let mut cg = llvm.module("as", &TargetSpec::triple(triple)).unwrap();
        let t = types(&mut cg);
        let far = cg.ty_ptr(t.i8, 7).unwrap();
        let p = begin(&mut cg, "f", &[far, t.ptr], None);
        get(&mut cg, p[0], far);
        get(&mut cg, p[1], t.ptr);
        cg.memcpy(16, MemAccess::new(t.i64), MemAccess::new(t.i64)).unwrap();
        get(&mut cg, p[0], far);
        cg.memset(0, 8, MemAccess::new(t.i64).volatile()).unwrap();
        get(&mut cg, p[0], far);
        cg.push_int(t.i64, 1).unwrap();
        let e = cg.store(MemAccess { addr_space: Some(0), ..MemAccess::new(t.i64) }).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::AddressSpaceMismatch { access: 0, pointer: 7 }, "{e}");
        cg.store(MemAccess { addr_space: Some(7), ..MemAccess::new(t.i64) }).unwrap();
        cg.ret().unwrap();
        cg.func_end().unwrap();
        let mut m = cfree_llvm_lower::finish(cg).unwrap();
        m.verify().unwrap();
        let ir = m.ir();
        assert!(ir.contains("@llvm.memcpy.p7.p0.i64") && ir.contains("@llvm.memset.p7.i64"), "{ir}");
        m.emit_object(OptLevel::O2).unwrap();
    }
}

const INT_RMW: [AtomicRmwOp; 11] = [
    AtomicRmwOp::Xchg,
    AtomicRmwOp::Add,
    AtomicRmwOp::Sub,
    AtomicRmwOp::And,
    AtomicRmwOp::Or,
    AtomicRmwOp::Xor,
    AtomicRmwOp::Nand,
    AtomicRmwOp::SMin,
    AtomicRmwOp::SMax,
    AtomicRmwOp::UMin,
    AtomicRmwOp::UMax,
];

/// What memory holds after `op` with operand `v` on `old` (the facts Rust's atomics state).
fn rmw_model(op: AtomicRmwOp, old: i64, v: i64, bits: u32) -> i64 {
    let sext = |x: i64| (x << (64 - bits)) >> (64 - bits);
    let zext = |x: i64| ((x as u64) << (64 - bits) >> (64 - bits)) as i64;
    let (o, w) = (sext(old), sext(v));
    sext(match op {
        AtomicRmwOp::Xchg => w,
        AtomicRmwOp::Add => o.wrapping_add(w),
        AtomicRmwOp::Sub => o.wrapping_sub(w),
        AtomicRmwOp::And => o & w,
        AtomicRmwOp::Or => o | w,
        AtomicRmwOp::Xor => o ^ w,
        AtomicRmwOp::Nand => !(o & w),
        AtomicRmwOp::SMin => o.min(w),
        AtomicRmwOp::SMax => o.max(w),
        AtomicRmwOp::UMin => ((zext(o) as u64).min(zext(w) as u64)) as i64,
        AtomicRmwOp::UMax => ((zext(o) as u64).max(zext(w) as u64)) as i64,
        AtomicRmwOp::FAdd | AtomicRmwOp::FSub | AtomicRmwOp::FMin | AtomicRmwOp::FMax => unreachable!("integers only"),
    })
}

/// Per width (i8, i64): `rmw_<op>_<bits>(p, v)` returning the old value sign-extended;
/// `store_load_<bits>(p, v)`: single-thread-scope release store, a fence, an acquire load;
/// `cas_<bits>(p, expected, new)`: strong cmpxchg returning `old * 2 + ok`.
fn rmw_module(llvm: &LlvmContext) -> LlvmModule<'_> {
    let mut cg = llvm.module("rmw", &TargetSpec::host()).unwrap();
    let t = types(&mut cg);
    for (ty, bits) in [(t.i8, 8), (t.i64, 64)] {
        let widen = |cg: &mut Cg<LlvmBackend<'_>>| {
            if bits < 64 {
                cg.cast(CastOp::SExt, t.i64).unwrap();
            }
        };
        let narrow = |cg: &mut Cg<LlvmBackend<'_>>| {
            if bits < 64 {
                cg.cast(CastOp::Trunc, ty).unwrap();
            }
        };
        for op in INT_RMW {
            let p = begin(&mut cg, &format!("rmw_{op:?}_{bits}"), &[t.ptr, t.i64], Some(t.i64));
            get(&mut cg, p[0], t.ptr);
            get(&mut cg, p[1], t.i64);
            narrow(&mut cg);
            cg.atomic_rmw(op, MemAccess::new(ty), AtomicOrdering::AcqRel, SyncScope::System).unwrap();
            widen(&mut cg);
            cg.ret().unwrap();
            cg.func_end().unwrap();
        }
        let p = begin(&mut cg, &format!("store_load_{bits}"), &[t.ptr, t.i64], Some(t.i64));
        get(&mut cg, p[0], t.ptr);
        get(&mut cg, p[1], t.i64);
        narrow(&mut cg);
        cg.atomic_store(MemAccess::new(ty), AtomicOrdering::Release, SyncScope::SingleThread).unwrap();
        cg.fence(AtomicOrdering::SeqCst, SyncScope::System).unwrap();
        get(&mut cg, p[0], t.ptr);
        cg.atomic_load(MemAccess::new(ty), AtomicOrdering::Acquire, SyncScope::SingleThread).unwrap();
        widen(&mut cg);
        cg.ret().unwrap();
        cg.func_end().unwrap();
        let p = begin(&mut cg, &format!("cas_{bits}"), &[t.ptr, t.i64, t.i64], Some(t.i64));
        let ok = cg.local_slot(t.i64, "ok", 0).unwrap();
        get(&mut cg, p[0], t.ptr);
        get(&mut cg, p[1], t.i64);
        narrow(&mut cg);
        get(&mut cg, p[2], t.i64);
        narrow(&mut cg);
        cg.cmpxchg(MemAccess::new(ty), AtomicOrdering::SeqCst, AtomicOrdering::Relaxed, false, SyncScope::System)
            .unwrap();
        cg.cast(CastOp::ZExt, t.i64).unwrap();
        cg.push_local(ok).unwrap();
        cg.swap().unwrap();
        cg.store(MemAccess::new(t.i64)).unwrap();
        widen(&mut cg);
        cg.push_int(t.i64, 2).unwrap();
        cg.int_op(IntBinOp::Mul, IntFlags::NONE).unwrap();
        get(&mut cg, ok, t.i64);
        cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
        cg.ret().unwrap();
        cg.func_end().unwrap();
    }
    cfree_llvm_lower::finish(cg).unwrap()
}

#[test]
fn every_integer_rmw_store_fence_and_strong_cmpxchg_run() {
    let values: [i64; 9] = [0, 1, -1, 7, -128, 127, 0x55, i64::MIN, i64::MAX - 3];
    for level in [OptLevel::O0, OptLevel::O2] {
        let llvm = LlvmContext::new();
        let jit = jit_of(rmw_module(&llvm), level);
        for bits in [8u32, 64] {
            let sext = |x: i64| (x << (64 - bits)) >> (64 - bits);
            let cell = std::sync::atomic::AtomicI64::new(0);
            let p = cell.as_ptr().cast::<u8>();
            let relaxed = std::sync::atomic::Ordering::Relaxed;
            for op in INT_RMW {
                let f = jit.get::<unsafe extern "C" fn(*mut u8, i64) -> i64>(&format!("rmw_{op:?}_{bits}")).unwrap();
                for (old, v) in values.iter().flat_map(|a| values.iter().map(move |b| (*a, *b))) {
                    cell.store(old, relaxed);
                    // SAFETY: `p` points to `cell`, a live AtomicI64; the function accesses its low `bits` atomically.
                    let got = unsafe { f.call(p, v) };
                    assert_eq!(got, sext(old), "{op:?} i{bits} old at {level:?}");
                    assert_eq!(
                        sext(cell.load(relaxed)),
                        rmw_model(op, old, v, bits),
                        "{op:?} i{bits} {old} {v} at {level:?}"
                    );
                }
            }
            let store_load =
                jit.get::<unsafe extern "C" fn(*mut u8, i64) -> i64>(&format!("store_load_{bits}")).unwrap();
            let cas = jit.get::<unsafe extern "C" fn(*mut u8, i64, i64) -> i64>(&format!("cas_{bits}")).unwrap();
            for &v in &values {
                // SAFETY: as above.
                assert_eq!(unsafe { store_load.call(p, v) }, sext(v), "store/load i{bits} at {level:?}");
                cell.store(v, relaxed);
                // SAFETY: as above. A strong exchange with the right expected value never fails.
                let hit = unsafe { cas.call(p, v, v ^ 3) };
                assert_eq!(hit, sext(v).wrapping_mul(2).wrapping_add(1), "cas hit i{bits} at {level:?}");
                assert_eq!(sext(cell.load(relaxed)), sext(v ^ 3));
                // SAFETY: as above; a wrong expected value leaves memory unchanged.
                assert_eq!(unsafe { cas.call(p, v, 5) }, sext(v ^ 3).wrapping_mul(2), "cas miss i{bits} at {level:?}");
                assert_eq!(sext(cell.load(relaxed)), sext(v ^ 3));
            }
        }
    }
}

/// `f(a, g)`: `x = *a; g(); return x - *a;` with `a`'s loads in scope `s` and
/// the call of `g` promising (or not) to touch nothing in `s`.
fn call_scope_module(llvm: &LlvmContext, promise: bool) -> LlvmModule<'_> {
    let mut cg = llvm.module("call_scope", &TargetSpec::host()).unwrap();
    let t = types(&mut cg);
    let s = cg.alias_scope("s").unwrap();
    let g_ty = cg.ty_func(FuncSig::new(&[], None)).unwrap();
    let p = begin(&mut cg, "f", &[t.ptr, t.ptr], Some(t.i64));
    get(&mut cg, p[0], t.ptr);
    cg.load(MemAccess::new(t.i64).in_scope(s)).unwrap();
    get(&mut cg, p[1], t.ptr);
    let attrs = CallAttrs { noalias_scope: if promise { s } else { 0 }, ..CallAttrs::default() };
    cg.call_with(Callee::Indirect(g_ty), 0, attrs).unwrap();
    get(&mut cg, p[0], t.ptr);
    cg.load(MemAccess::new(t.i64).in_scope(s)).unwrap();
    cg.int_op(IntBinOp::Sub, IntFlags::NONE).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    cfree_llvm_lower::finish(cg).unwrap()
}

static CALL_SCOPE_CELL: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(5);

extern "C" fn bump_cell() {
    CALL_SCOPE_CELL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

#[test]
fn a_call_site_noalias_scope_keeps_loads_across_the_call() {
    let llvm = LlvmContext::new();
    for promise in [false, true] {
        let mut m = call_scope_module(&llvm, promise);
        assert_eq!(m.ir().contains("!noalias"), promise, "{}", m.ir());
        m.optimize(OptLevel::O2).unwrap();
        let ir = m.symbol_ir("f").unwrap();
        // With the promise the reload folds into the first load (the result is 0).
        assert_eq!(ir.matches("load i64").count(), if promise { 0 } else { 2 }, "{ir}");
    }
    // Executed: without the promise the callee's write is seen; with it, kept out.
    for (promise, want) in [(false, -1), (true, 0)] {
        let jit = jit_of(call_scope_module(&llvm, promise), OptLevel::O2);
        let f = jit.get::<unsafe extern "C" fn(*const i64, *const u8) -> i64>("f").unwrap();
        // SAFETY: a valid i64 cell and a callee of type `void()`.
        let got = unsafe { f.call(CALL_SCOPE_CELL.as_ptr(), bump_cell as *const u8) };
        assert_eq!(got, want, "promise {promise}");
    }
    // A scope the module never made is refused.
    let mut cg = llvm.module("bad_scope", &TargetSpec::host()).unwrap();
    let t = types(&mut cg);
    let g_ty = cg.ty_func(FuncSig::new(&[], None)).unwrap();
    let p = begin(&mut cg, "f", &[t.ptr], None);
    get(&mut cg, p[0], t.ptr);
    let e =
        cg.call_with(Callee::Indirect(g_ty), 0, CallAttrs { noalias_scope: 3, ..CallAttrs::default() }).unwrap_err();
    assert_eq!(e.operand_name(), Some("noalias scope"), "{e}");
    assert!(matches!(e.kind(), ErrorKind::ForeignHandle { what: HandleKind::AliasScope, handle: 3 }), "{e}");
}
