//! A derived pointer into an array element, live across a collection, under
//! the toy language's moving collector (`cfree-toy-rt`).
//!
//! `elems(n)`: `arr = new [int](n)`; for each `i`, `p = &arr[i]` (a run-time
//! indexed interior pointer), `old = *p`, then an allocation (a collection
//! under stress: `arr` moves), then `*p = old + 3 * i + 1` through the same
//! pointer; returns the sum of `arr` read through its base. With from-space
//! poisoned, a `p` not relocated with its base writes into the old copy and
//! the sum comes out wrong.

use cfree_facade::*;
use cfree_jit_orc::Jit;
use cfree_llvm_lower::{LlvmContext, OptLevel};
use cfree_toy_rt::{Context, Settings, Stats};

use crate::emit::counted_loop;

/// `elems`' result for `n`.
pub fn expected(n: i64) -> i64 {
    (0..n).map(|i| 3 * i + 1).sum()
}

/// Publishes `elems` at `level`.
pub fn publish(level: OptLevel) -> Jit {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("elems", &TargetSpec::host()).unwrap();
    cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving()).unwrap();
    let (i64t, i8t) = (cg.ty_int(IntWidth::I64).unwrap(), cg.ty_int(IntWidth::I8).unwrap());
    let obj = cg.ty_ptr(i8t, 1).unwrap();
    let alloc_sig = cg.ty_func(FuncSig::new(&[i64t, i64t], Some(obj))).unwrap();
    let alloc = cg.declare_func("toy_alloc", FuncDecl::new(alloc_sig).gc(GcRole::Runtime)).unwrap();
    let alloc_array = cg.declare_func("toy_alloc_array", FuncDecl::new(alloc_sig).gc(GcRole::Runtime)).unwrap();
    cg.set_gc_runtime(GcRuntime::new(alloc)).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let f = cg.declare_func("elems", FuncDecl::new(sig).gc(GcRole::Safepoints)).unwrap();
    cg.func_begin(f).unwrap();
    let n = cg.param_slot(0, "n").unwrap();
    let (arr, i, acc, old) = (
        cg.local_slot(obj, "arr", 0).unwrap(),
        cg.local_slot(i64t, "i", 0).unwrap(),
        cg.local_slot(i64t, "acc", 0).unwrap(),
        cg.local_slot(i64t, "old", 0).unwrap(),
    );
    let p = cg.local_slot(obj, "p", 0).unwrap();
    let get = |cg: &mut Cg<_>, l, ty| {
        cg.push_local(l).unwrap();
        cg.load(MemAccess::new(ty)).unwrap();
    };
    let set_int = |cg: &mut Cg<_>, l, v| {
        cg.push_local(l).unwrap();
        cg.push_int(i64t, v).unwrap();
        cg.store(MemAccess::new(i64t)).unwrap();
    };
    cg.push_local(arr).unwrap();
    get(&mut cg, n, i64t);
    cg.push_int(i64t, 0).unwrap();
    cg.call(Callee::Direct(alloc_array), 2).unwrap();
    cg.store(MemAccess::new(obj)).unwrap();
    set_int(&mut cg, acc, 0);
    counted_loop(&mut cg, i, n, |cg| {
        // p = &arr[i]; old = *p
        cg.push_local(p)?;
        get(cg, arr, obj);
        cg.addr_offset(8, obj)?;
        get(cg, i, i64t);
        cg.addr_index(8, obj)?;
        cg.store(MemAccess::new(obj))?;
        cg.push_local(old)?;
        get(cg, p, obj);
        cg.load(MemAccess::new(i64t))?;
        cg.store(MemAccess::new(i64t))?;
        // A record nobody keeps: a collection under stress, with p live across it.
        cg.gc_alloc(cfree_toy_rt::record_header(8, 0) as i64, 8)?;
        cg.discard()?;
        // *p = old + 3 * i + 1
        get(cg, p, obj);
        get(cg, old, i64t);
        get(cg, i, i64t);
        cg.push_int(i64t, 3)?;
        cg.int_op(IntBinOp::Mul, IntFlags::NONE)?;
        cg.int_op(IntBinOp::Add, IntFlags::NONE)?;
        cg.push_int(i64t, 1)?;
        cg.int_op(IntBinOp::Add, IntFlags::NONE)?;
        cg.store(MemAccess::new(i64t))
    })
    .unwrap();
    // acc = sum of arr[k] through the base
    counted_loop(&mut cg, i, n, |cg| {
        cg.push_local(acc)?;
        get(cg, acc, i64t);
        get(cg, arr, obj);
        cg.addr_offset(8, obj)?;
        get(cg, i, i64t);
        cg.addr_index(8, obj)?;
        cg.load(MemAccess::new(i64t))?;
        cg.int_op(IntBinOp::Add, IntFlags::NONE)?;
        cg.store(MemAccess::new(i64t))
    })
    .unwrap();
    get(&mut cg, acc, i64t);
    cg.ret().unwrap();
    cg.func_end().unwrap();
    let m = cfree_llvm_lower::finish(cg).unwrap();
    let jit = Jit::new().unwrap();
    for (name, addr) in cfree_toy_rt::symbols() {
        jit.define_host_symbol(name, addr).unwrap();
    }
    jit.publish(&m, level).unwrap();
    jit
}

/// Safepoints of `jit` that carry a derived pointer as a (base, derived) pair.
pub fn derived_pairs(jit: &Jit) -> usize {
    let registry = jit.registry();
    registry
        .stackmaps()
        .filter_map(|s| s.safepoint.as_ref())
        .flat_map(|sp| sp.live.iter())
        .filter(|p| p.base != p.derived)
        .count()
}

/// Runs `elems(n)` under a collection at every allocation, checks its result
/// and returns the collector's statistics.
pub fn run_under_stress(jit: &Jit, n: i64) -> Stats {
    crate::toy_rt::install(jit, Settings { stress: true, stress_polls: false, poison: true }, Context::leak_new());
    let elems = jit.get::<unsafe extern "C" fn(i64) -> i64>("elems").unwrap();
    // SAFETY: `elems` allocates through this thread's toy runtime, installed above.
    let got = unsafe { elems.call(n) };
    assert_eq!(got, expected(n));
    cfree_toy_rt::finish()
}
