//! A precise, moving collector driven only by the metadata the facade's GC
//! contract produces: managed code (address space 1, `GcRole::Safepoints`)
//! builds a linked list through a runtime allocator written in Rust; every
//! allocation collects (stress mode), copying all live objects to the other
//! semispace (Cheney), poisoning the old one, and finding roots only through
//! the stack maps in the JIT registry (frame walk + statepoint records). A
//! derived pointer into an object stays live across a collection. Results
//! are checked at O0 and O2, and the objects are shown to have moved.
//! Runtime functions are entered through trampolines (`GcRole::Runtime`) that
//! pass the managed frame, recorded as entry records, so the walk needs no
//! host frame pointers and covers managed -> host -> managed re-entry.

use cfree_facade::*;
use cfree_llvm_lower::{LlvmContext, OptLevel};
use cfree_tests::gc_runtime::{session, BARRIERS, HEAP, POISON};

fn check(level: OptLevel) {
    let jit = session(level);
    let registry = jit.registry();
    let safepoints = registry.stackmaps().filter(|s| s.safepoint.is_some()).count();
    assert!(safepoints >= 3, "statepoints in build and run ({safepoints})");
    let run = jit.get::<unsafe extern "C" fn(i64) -> i64>("run").unwrap();
    let n = 200i64;
    // SAFETY: `run` allocates through `gc_alloc` on this thread's heap.
    let got = unsafe { run.call(n) };
    assert_eq!(got, n * (n - 1) / 2 * 1000 + (n - 1), "at {level:?}");
    HEAP.with(|h| {
        let h = h.borrow();
        assert_eq!(h.collections, n as u64 + 1, "a collection per allocation");
        assert!(h.words_copied > n as u64 * 3, "live objects were copied ({})", h.words_copied);
        assert!(h.roots_seen > n as u64, "roots came from the stack maps ({})", h.roots_seen);
        let old = &h.spaces[1 - h.from];
        assert!(old.iter().all(|w| *w == POISON), "from-space is poisoned");
    });
}

fn check_reentry(level: OptLevel) {
    let jit = session(level);
    let outer = jit.get::<unsafe extern "C" fn(i64) -> i64>("outer").unwrap();
    let n = 50i64;
    // SAFETY: `outer` allocates and re-enters through this thread's runtime.
    let got = unsafe { outer.call(n) };
    let list = n * (n - 1) / 2;
    let inner_list = (n + 7) * (n + 6) / 2;
    assert_eq!(got, list * 1000 + inner_list, "at {level:?}");
    HEAP.with(|h| {
        let h = h.borrow();
        // build + inner above the inner entry, outer above the outer one.
        assert!(h.max_frames >= 3, "collections saw both runs of managed frames ({})", h.max_frames);
        assert_eq!(h.collections, 2 * n as u64 + 7);
    });
}

#[test]
fn reentry_collection_updates_outer_frames_o0() {
    check_reentry(OptLevel::O0);
}

#[test]
fn reentry_collection_updates_outer_frames_o2() {
    check_reentry(OptLevel::O2);
}

#[test]
fn moving_collection_through_stack_maps_o0() {
    check(OptLevel::O0);
}

#[test]
fn moving_collection_through_stack_maps_o2() {
    check(OptLevel::O2);
}

#[test]
fn non_gc_code_lowers_as_before() {
    // Declaring a managed space and GC functions leaves other functions' IR untouched.
    let llvm = LlvmContext::new();
    let plain = |managed: bool| {
        let mut cg = llvm.module("m", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
        if managed {
            cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving()).unwrap();
        }
        cfree_tests::programs::emit_suite(&mut cg).unwrap();
        let mut m = cfree_llvm_lower::finish(cg).unwrap();
        m.optimize(OptLevel::O2).unwrap();
        let ir = m.ir();
        ir.lines().filter(|l| !l.starts_with("target datalayout")).collect::<Vec<_>>().join("\n")
    };
    assert_eq!(plain(false), plain(true));
}

#[test]
fn managed_pointers_are_not_integers() {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("m", &TargetSpec::host()).unwrap();
    assert!(cg.set_address_space_policy(2, AddrSpacePolicy::managed_moving()).is_err(), "only space 1 is managed");
    let moving_raw = AddrSpacePolicy { managed: false, movable: true, interior: false };
    let e = cg.set_address_space_policy(3, moving_raw).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::MovableWithoutManaged { space: 3 }, "only managed objects move: {e}");
    cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving()).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let obj = cg.ty_ptr(i64t, 1).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[obj], Some(i64t))).unwrap();
    let f = cg.declare_func("f", FuncDecl::new(sig).gc(GcRole::Safepoints)).unwrap();
    cg.func_begin(f).unwrap();
    let p = cg.param_slot(0, "p").unwrap();
    cg.push_local(p).unwrap();
    cg.load(MemAccess::new(obj)).unwrap();
    assert!(matches!(
        cg.cast(CastOp::PtrToInt, i64t).unwrap_err().kind(),
        ErrorKind::InvalidConversion { op: CastOp::PtrToInt, .. }
    ));
    cg.discard().unwrap();
    let rv = llvm.module("rv", &TargetSpec::triple("riscv64-unknown-linux-gnu"));
    let mut rv = rv.unwrap();
    let i64r = rv.ty_int(IntWidth::I64).unwrap();
    let s = rv.ty_func(FuncSig::new(&[], Some(i64r))).unwrap();
    let e = rv.declare_func("g", FuncDecl::new(s).gc(GcRole::Safepoints)).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::UnsupportedOnTarget { .. }), "{e}");
}

#[test]
fn managed_alloc_and_barriered_stores() {
    for level in [OptLevel::O0, OptLevel::O2] {
        let jit = session(level);
        let build2 = jit.get::<unsafe extern "C" fn(i64) -> i64>("build2").unwrap();
        let (c0, b0) = (HEAP.with(|h| h.borrow().collections), BARRIERS.with(|b| b.get()));
        // SAFETY: `build2` allocates through this thread's runtime.
        let got = unsafe { build2.call(120) };
        assert_eq!(got, 120 * 119 / 2, "at {level:?}");
        assert_eq!(HEAP.with(|h| h.borrow().collections) - c0, 120);
        // Only pointer stores are barriered: one per node (the `next` field).
        assert_eq!(BARRIERS.with(|b| b.get()) - b0, 120, "at {level:?}");
    }
}
