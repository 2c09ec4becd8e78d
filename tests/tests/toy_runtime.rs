//! The toy language's runtime (`cfree-toy-rt`) under managed code emitted
//! through the facade: records with a pointer field, arrays of references,
//! collections at every allocation (stress, with from-space poisoning) and
//! heap growth without stress, all with roots from the JIT registry.

use cfree_facade::*;
use cfree_jit_orc::Jit;
use cfree_llvm_lower::{LlvmContext, OptLevel};
use cfree_tests::emit::counted_loop;
use cfree_toy_rt::Settings;

/// `f(n)`: n records {next, value=i} chained, each also stored in an array of n
/// references; returns the sum of values read through the array plus the list length.
fn publish(level: OptLevel) -> Jit {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("toyrt", &TargetSpec::host()).unwrap();
    cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving()).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let i8t = cg.ty_int(IntWidth::I8).unwrap();
    let obj = cg.ty_ptr(i8t, 1).unwrap();
    let alloc_sig = cg.ty_func(FuncSig::new(&[i64t, i64t], Some(obj))).unwrap();
    let alloc = cg.declare_func("toy_alloc", FuncDecl::new(alloc_sig).gc(GcRole::Runtime)).unwrap();
    let alloc_array = cg.declare_func("toy_alloc_array", FuncDecl::new(alloc_sig).gc(GcRole::Runtime)).unwrap();
    // The collector is generational: a reference stored into an object that may be old
    // (the array) goes through the write barrier, or the next minor collection misses it.
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let barrier_sig = cg.ty_func(FuncSig::new(&[obj, i64t, obj, i32t], None)).unwrap();
    let barrier = cg.declare_func("toy_write_barrier", FuncDecl::new(barrier_sig).gc(GcRole::Leaf)).unwrap();
    cg.set_gc_runtime(GcRuntime::new(alloc).write_barrier(barrier)).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let f = cg.declare_func("f", FuncDecl::new(sig).gc(GcRole::Safepoints)).unwrap();
    cg.func_begin(f).unwrap();
    let n = cg.param_slot(0, "n").unwrap();
    let (arr, list, node, i, acc) = (
        cg.local_slot(obj, "arr", 0).unwrap(),
        cg.local_slot(obj, "list", 0).unwrap(),
        cg.local_slot(obj, "node", 0).unwrap(),
        cg.local_slot(i64t, "i", 0).unwrap(),
        cg.local_slot(i64t, "acc", 0).unwrap(),
    );
    let get = |cg: &mut Cg<_>, l, ty| {
        cg.push_local(l).unwrap();
        cg.load(MemAccess::new(ty)).unwrap();
    };
    let set_int = |cg: &mut Cg<_>, l, v| {
        cg.push_local(l).unwrap();
        cg.push_int(i64t, v).unwrap();
        cg.store(MemAccess::new(i64t)).unwrap();
    };
    // arr = new [ref](n); list = nil
    cg.push_local(arr).unwrap();
    get(&mut cg, n, i64t);
    cg.push_int(i64t, 1).unwrap();
    cg.call(Callee::Direct(alloc_array), 2).unwrap();
    cg.store(MemAccess::new(obj)).unwrap();
    cg.push_local(list).unwrap();
    cg.push_null(obj).unwrap();
    cg.store(MemAccess::new(obj)).unwrap();
    set_int(&mut cg, acc, 0);
    counted_loop(&mut cg, i, n, |cg| {
        // node = new {next: list, value: i} (header: 16 bytes, 1 reference field)
        cg.push_local(node)?;
        cg.push_int(i64t, i128::from(cfree_toy_rt::record_header(16, 1)))?;
        cg.push_int(i64t, 16)?;
        cg.call(Callee::Direct(alloc), 2)?;
        cg.store(MemAccess::new(obj))?;
        get(cg, node, obj);
        get(cg, list, obj);
        cg.store(MemAccess::new(obj))?;
        get(cg, node, obj);
        cg.addr_offset(8, obj)?;
        get(cg, i, i64t);
        cg.store(MemAccess::new(i64t))?;
        cg.push_local(list)?;
        get(cg, node, obj);
        cg.store(MemAccess::new(obj))?;
        // arr[i] = node: the element's address is a derived managed pointer (and the
        // barrier's object, at offset 0).
        get(cg, arr, obj);
        cg.addr_offset(8, obj)?;
        get(cg, i, i64t);
        cg.addr_index(8, obj)?;
        get(cg, node, obj);
        cg.managed_store(MemAccess::new(obj), 0, PointerKind::Strong)
    })
    .unwrap();
    // acc = sum of arr[k].value for k in 0..n, then + length of the list.
    counted_loop(&mut cg, i, n, |cg| {
        cg.push_local(acc)?;
        get(cg, acc, i64t);
        get(cg, arr, obj);
        cg.addr_offset(8, obj)?;
        get(cg, i, i64t);
        cg.addr_index(8, obj)?;
        cg.load(MemAccess::new(obj))?;
        cg.addr_offset(8, obj)?;
        cg.load(MemAccess::new(i64t))?;
        cg.int_op(IntBinOp::Add, IntFlags::NONE)?;
        cg.store(MemAccess::new(i64t))
    })
    .unwrap();
    get(&mut cg, acc, i64t);
    get(&mut cg, arr, obj);
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
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

fn run(level: OptLevel, settings: Settings, n: i64) -> cfree_toy_rt::Stats {
    let jit = publish(level);
    cfree_tests::toy_rt::install(&jit, settings, cfree_toy_rt::Context::leak_new());
    let f = jit.get::<unsafe extern "C" fn(i64) -> i64>("f").unwrap();
    // SAFETY: `f` allocates through this thread's toy runtime.
    let got = unsafe { f.call(n) };
    assert_eq!(got, n * (n - 1) / 2 + n, "at {level:?} {settings:?}");
    cfree_toy_rt::finish()
}

#[test]
fn stress_collects_at_every_allocation() {
    for level in [OptLevel::O0, OptLevel::O2] {
        let stats = run(level, Settings { stress: true, stress_polls: false, poison: true }, 300);
        assert_eq!(stats.collections, 301, "one per allocation (array + 300 records)");
        assert!(stats.words_copied > 300 * 3 && stats.poisoned && stats.roots > 300, "{stats:?}");
    }
}

#[test]
fn heap_grows_without_stress() {
    // 60,000 records and a 60,000-element array exceed the initial 64 Ki-word space.
    let stats = run(OptLevel::O2, Settings { stress: false, stress_polls: false, poison: true }, 60_000);
    assert!(stats.collections >= 2, "{stats:?}");
    assert!(stats.words_allocated > 240_000, "{stats:?}");
}
