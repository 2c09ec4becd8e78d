//! Explicit GC roots, explicit safepoints, safepoint IDs and inline bump
//! allocation, run under the toy language's moving collector
//! (`cfree-toy-rt`, roots only from the JIT registry's stack maps).
//!
//! `build(n)` keeps a list head in an explicit root slot (`gc_root_slot`)
//! whose address it passes to `push(slot, i)`, a managed function that
//! allocates a node inline (`gc_alloc` with `InlineAlloc`) and stores it
//! through the slot pointer; `build` polls (`safepoint`) after every push.
//! With a collection at every allocation and poll, the caller's slot is only
//! right afterwards if the collector updated it through the slot's stack map
//! entry: from-space is poisoned, so a stale head gives a wrong sum.

use std::sync::Arc;

use cfree_facade::*;
use cfree_jit_orc::Jit;
use cfree_llvm_lower::{LlvmContext, OptLevel};
use cfree_statepoint::Safepoint;
use cfree_toy_rt::{Context, Settings, Stats};

const PUSH_ID: u64 = 0x5055_5348; // the call of `push` in `build`
const POLL_ID: u64 = 0x504f_4c4c; // the explicit safepoint in `build`
const ALLOC_ID: u64 = 0x414c_4c43; // the allocation's slow path in `push`

fn publish(level: OptLevel, buffer: &'static Context) -> Jit {
    let llvm = LlvmContext::new();
    let m = module(&llvm);
    let jit = Jit::new().unwrap();
    for (name, addr) in cfree_toy_rt::symbols() {
        jit.define_host_symbol(name, addr).unwrap();
    }
    jit.define_host_symbol("toy_alloc_buffer", buffer.address()).unwrap();
    jit.publish(&m, level).unwrap();
    jit
}

/// `push` and `build`, lowered (not yet optimised) for x86-64 Linux.
fn module(llvm: &LlvmContext) -> cfree_llvm_lower::LlvmModule<'_> {
    let mut cg = llvm.module("roots", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving()).unwrap();
    let (i64t, i8t, i32t) =
        (cg.ty_int(IntWidth::I64).unwrap(), cg.ty_int(IntWidth::I8).unwrap(), cg.ty_int(IntWidth::I32).unwrap());
    let obj = cg.ty_ptr(i8t, 1).unwrap();
    let raw = cg.ty_ptr(obj, 0).unwrap();
    let func = |cg: &mut Cg<_>, name: &str, params: &[TypeId], result, role| {
        let sig = cg.ty_func(FuncSig::new(params, result)).unwrap();
        cg.declare_func(name, FuncDecl::new(sig).gc(role)).unwrap()
    };
    let alloc = func(&mut cg, "toy_alloc", &[i64t, i64t], Some(obj), GcRole::Runtime);
    let poll = func(&mut cg, "toy_poll", &[], None, GcRole::Runtime);
    let barrier = func(&mut cg, "toy_write_barrier", &[obj, i64t, obj, i32t], None, GcRole::Leaf);
    let buffer_ty = cg.ty_array(i64t, 2).unwrap();
    let buffer_sym = cg.declare_data("toy_alloc_buffer", DataDecl::new(buffer_ty)).unwrap();
    let inline = InlineAlloc { buffer: Some(buffer_sym), header_bytes: 8 };
    cg.set_gc_runtime(GcRuntime::new(alloc).write_barrier(barrier).poll(poll).inline_alloc(inline)).unwrap();
    let push = func(&mut cg, "push", &[raw, i64t], None, GcRole::Safepoints);
    let build = func(&mut cg, "build", &[i64t], Some(i64t), GcRole::Safepoints);

    // push(slot, i): node = new {next, value}; node.next = *slot (barriered); node.value = i; *slot = node
    cg.func_begin(push).unwrap();
    let (slot, i) = (cg.param_slot(0, "slot").unwrap(), cg.param_slot(1, "i").unwrap());
    let node = cg.local_slot(obj, "node", 0).unwrap();
    cg.push_local(node).unwrap();
    cg.set_safepoint_id(ALLOC_ID).unwrap();
    cg.gc_alloc(cfree_toy_rt::record_header(16, 1) as i64, 16).unwrap();
    cg.store(MemAccess::new(obj)).unwrap();
    cg.push_local(node).unwrap();
    cg.load(MemAccess::new(obj)).unwrap();
    cg.push_local(slot).unwrap();
    cg.load(MemAccess::new(raw)).unwrap();
    cg.deref(obj).unwrap();
    cg.load(MemAccess::new(obj)).unwrap();
    cg.managed_store(MemAccess::new(obj), 0, PointerKind::Strong).unwrap();
    cg.push_local(node).unwrap();
    cg.load(MemAccess::new(obj)).unwrap();
    cg.push_local(i).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.managed_store(MemAccess::new(i64t), 8, PointerKind::Strong).unwrap();
    cg.push_local(slot).unwrap();
    cg.load(MemAccess::new(raw)).unwrap();
    cg.deref(obj).unwrap();
    cg.push_local(node).unwrap();
    cg.load(MemAccess::new(obj)).unwrap();
    cg.store(MemAccess::new(obj)).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();

    // build(n): head (root slot) = nil; for k in 0..n { push(&head, k); safepoint }; sum the list
    cg.func_begin(build).unwrap();
    let n = cg.param_slot(0, "n").unwrap();
    let head = cg.gc_root_slot(obj, "head").unwrap();
    let (k, acc, cur) = (
        cg.local_slot(i64t, "k", 0).unwrap(),
        cg.local_slot(i64t, "acc", 0).unwrap(),
        cg.local_slot(obj, "cur", 0).unwrap(),
    );
    let set = |cg: &mut Cg<_>, l, v| {
        cg.push_local(l).unwrap();
        cg.push_int(i64t, v).unwrap();
        cg.store(MemAccess::new(i64t)).unwrap();
    };
    set(&mut cg, k, 0);
    set(&mut cg, acc, 0);
    let (head_l, body, done) = (cg.new_label().unwrap(), cg.new_label().unwrap(), cg.new_label().unwrap());
    cg.place_label(head_l).unwrap();
    cg.push_local(k).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.push_local(n).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.int_cmp(IntCmp::Slt).unwrap();
    cg.cond_br(body, done).unwrap();
    cg.place_label(body).unwrap();
    cg.push_local(head).unwrap();
    cg.addr_of().unwrap();
    cg.push_local(k).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.set_safepoint_id(PUSH_ID).unwrap();
    cg.call(Callee::Direct(push), 2).unwrap();
    cg.set_safepoint_id(POLL_ID).unwrap();
    cg.safepoint().unwrap();
    cg.push_local(k).unwrap();
    cg.push_local(k).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.push_int(i64t, 1).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.store(MemAccess::new(i64t)).unwrap();
    cg.br(head_l).unwrap();
    cg.place_label(done).unwrap();
    // cur = head; while cur != nil { acc += cur.value; cur = cur.next }
    cg.push_local(cur).unwrap();
    cg.push_local(head).unwrap();
    cg.load(MemAccess::new(obj)).unwrap();
    cg.store(MemAccess::new(obj)).unwrap();
    let (walk, step, end) = (cg.new_label().unwrap(), cg.new_label().unwrap(), cg.new_label().unwrap());
    cg.place_label(walk).unwrap();
    cg.push_local(cur).unwrap();
    cg.load(MemAccess::new(obj)).unwrap();
    cg.push_null(obj).unwrap();
    cg.int_cmp(IntCmp::Ne).unwrap();
    cg.cond_br(step, end).unwrap();
    cg.place_label(step).unwrap();
    cg.push_local(acc).unwrap();
    cg.push_local(acc).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.push_local(cur).unwrap();
    cg.load(MemAccess::new(obj)).unwrap();
    cg.addr_offset(8, obj).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.store(MemAccess::new(i64t)).unwrap();
    cg.push_local(cur).unwrap();
    cg.push_local(cur).unwrap();
    cg.load(MemAccess::new(obj)).unwrap();
    cg.load(MemAccess::new(obj)).unwrap();
    cg.store(MemAccess::new(obj)).unwrap();
    cg.br(walk).unwrap();
    cg.place_label(end).unwrap();
    cg.push_local(acc).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();

    cfree_llvm_lower::finish(cg).unwrap()
}

fn run(level: OptLevel, settings: Settings, n: i64) -> (Jit, Stats) {
    let buffer = Context::leak_new();
    let jit = publish(level, buffer);
    cfree_tests::toy_rt::install(&jit, settings, buffer);
    let build = jit.get::<unsafe extern "C" fn(i64) -> i64>("build").unwrap();
    // SAFETY: `build` allocates through this thread's toy runtime, installed above.
    let got = unsafe { build.call(n) };
    assert_eq!(got, n * (n - 1) / 2, "at {level:?} {settings:?}");
    (jit, cfree_toy_rt::finish())
}

#[test]
fn explicit_roots_survive_a_collection_at_every_safepoint() {
    for level in [OptLevel::O0, OptLevel::O2] {
        let n = 300;
        let (jit, stats) = run(level, Settings { stress: true, stress_polls: false, poison: true }, n);
        // One collection per allocation and per poll: every object moved out of the nursery
        // (promoted) once, and (under stress every collection is also a major one) marked
        // every time.
        assert_eq!(stats.collections, 2 * n as u64, "at {level:?}: {stats:?}");
        assert!(stats.words_copied >= 3 * n as u64, "at {level:?}: {stats:?}");
        assert!(stats.words_marked > (n * n) as u64, "at {level:?}: {stats:?}");
        assert!(stats.poisoned);
        // Each node's `next` store went through the checked barrier.
        assert_eq!(stats.barriers, n as u64, "at {level:?}");
        let registry = jit.registry();
        let with_id = |id: u64| -> Vec<Arc<Safepoint>> {
            registry.stackmaps().filter(|s| s.id == id).filter_map(|s| s.safepoint.clone()).collect()
        };
        for id in [PUSH_ID, POLL_ID] {
            let sps = with_id(id);
            assert_eq!(sps.len(), 1, "one record with id {id:#x} at {level:?}");
            assert_eq!(sps[0].id, id, "the decoded safepoint keeps its id");
            assert_eq!(sps[0].roots.len(), 1, "the root slot is reported at {id:#x}");
        }
        assert_eq!(with_id(ALLOC_ID).len(), 1, "the allocation's slow path carries its id at {level:?}");
        assert!(with_id(ALLOC_ID)[0].roots.is_empty(), "push has no root slots");
    }
}

#[test]
fn inline_allocation_fills_the_buffer_without_the_runtime() {
    let n = 40_000;
    let (_, stats) = run(OptLevel::O2, Settings { stress: false, stress_polls: false, poison: true }, n);
    // 40,000 nodes of 3 words exceed the first 64 Ki-word space: a few collections, each
    // on a full buffer (or an explicit poll on a full space), not one per allocation.
    assert!(stats.collections >= 1 && stats.collections < 20, "{stats:?}");
    assert_eq!(stats.words_allocated, 3 * n as u64, "inline allocations are accounted: {stats:?}");
}

#[test]
fn array_element_pointers_survive_collections_with_rematerialisation() {
    for level in [OptLevel::O0, OptLevel::O2] {
        let jit = cfree_tests::element_pointers::publish(level);
        let stats = cfree_tests::element_pointers::run_under_stress(&jit, 200);
        assert_eq!(stats.collections, 201, "at {level:?}");
    }
}

/// The facade's lowering of inline allocation (fast path, slow-path call with
/// its ID), a root slot (null in the entry, `deopt` operand and `noinline` on
/// each safepoint call, `noinline` function), barriered stores and the poll.
/// Executed by the tests above.
#[test]
fn lowered_ir_of_inline_allocation_roots_and_ids() {
    let llvm = LlvmContext::new();
    let m = module(&llvm);
    m.verify().expect("verifier");
    // The whole module: the attribute groups carry the IDs and `noinline`s.
    let ir = m.ir();
    insta::with_settings!({ snapshot_suffix => format!("llvm{}", cfree_llvm_lower::LLVM_MAJOR), prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("gc_inline_alloc_roots_ids", ir);
    });
}

/// Misuse of the GC calls is a precise error that changes nothing.
#[test]
fn gc_misuse_is_a_precise_error() {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("misuse", &TargetSpec::host()).unwrap();
    cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving()).unwrap();
    let (i64t, i8t) = (cg.ty_int(IntWidth::I64).unwrap(), cg.ty_int(IntWidth::I8).unwrap());
    let obj = cg.ty_ptr(i8t, 1).unwrap();
    let alloc_sig = cg.ty_func(FuncSig::new(&[i64t, i64t], Some(obj))).unwrap();
    let alloc = cg.declare_func("toy_alloc", FuncDecl::new(alloc_sig).gc(GcRole::Runtime)).unwrap();
    let void = cg.ty_func(FuncSig::new(&[], None)).unwrap();
    let leaf_poll = cg.declare_func("not_runtime", FuncDecl::new(void).gc(GcRole::Leaf)).unwrap();
    let pair = cg.ty_array(i64t, 2).unwrap();
    let one = cg.ty_array(i64t, 1).unwrap();
    let small = cg.declare_data("small", DataDecl::new(one)).unwrap();
    let constant = cg.declare_data("constant", DataDecl::new(pair).readonly()).unwrap();
    let buffer = cg.declare_data("buffer", DataDecl::new(pair)).unwrap();
    let with = |inline| GcRuntime::new(alloc).inline_alloc(inline);
    let e = cg.set_gc_runtime(with(InlineAlloc { buffer: Some(small), header_bytes: 8 })).unwrap_err();
    let small_buffer = ErrorKind::InvalidAllocBuffer { name: "small".into(), size: 8, needed: 16, readonly: false };
    assert_eq!(e.kind(), &small_buffer);
    let e = cg.set_gc_runtime(with(InlineAlloc { buffer: Some(constant), header_bytes: 8 })).unwrap_err();
    let read_only = ErrorKind::InvalidAllocBuffer { name: "constant".into(), size: 16, needed: 16, readonly: true };
    assert_eq!(e.kind(), &read_only);
    let e = cg.set_gc_runtime(with(InlineAlloc { buffer: Some(buffer), header_bytes: 4 })).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidHeaderBytes { header_bytes: 4 });
    let e = cg.set_gc_runtime(with(InlineAlloc { buffer: Some(alloc), header_bytes: 8 })).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::WrongSymbolKind { .. }), "{e}");
    let e = cg.set_gc_runtime(GcRuntime::new(alloc).poll(leaf_poll)).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::TypeMismatch { .. }), "a poll must be GcRole::Runtime: {e}");
    cg.set_gc_runtime(with(InlineAlloc { buffer: Some(buffer), header_bytes: 8 })).unwrap();

    // Outside a managed function.
    let sig = cg.ty_func(FuncSig::new(&[], Some(i64t))).unwrap();
    let plain = cg.declare_func("plain", FuncDecl::new(sig)).unwrap();
    cg.func_begin(plain).unwrap();
    for e in [
        cg.gc_root_slot(obj, "r").map(|_| ()).unwrap_err(),
        cg.set_safepoint_id(1).unwrap_err(),
        cg.safepoint().unwrap_err(),
    ] {
        assert!(e.kind() == &ErrorKind::NotManagedFunction && e.function() == Some("plain"), "{e}");
    }
    cg.push_int(i64t, 0).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();

    let managed = cg.declare_func("managed", FuncDecl::new(sig).gc(GcRole::Safepoints)).unwrap();
    let vsig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t)).variadic()).unwrap();
    let variadic = cg.declare_func("variadic", FuncDecl::new(vsig)).unwrap();
    let variadic_leaf = cg.declare_func("variadic_leaf", FuncDecl::new(vsig).gc(GcRole::Leaf)).unwrap();
    cg.func_begin(managed).unwrap();
    let e = cg.gc_root_slot(i64t, "r").unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::TypeMismatch { .. }) && e.operand_name() == Some("type"), "{e}");
    assert_eq!(cg.safepoint().unwrap_err().kind(), &ErrorKind::NoPollFunction);
    let e = cg.gc_alloc(0, 1 << 33).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::TooLarge { .. }), "{e}");
    assert_eq!(cg.stack_depth(), 0, "failed calls push nothing");
    // LLVM cannot make a statepoint of a variadic call with a result (found by the call fuzzer).
    cg.push_int(i64t, 1).unwrap();
    let e = cg.call(Callee::Direct(variadic), 1).unwrap_err();
    let unsupported = ErrorKind::Unsupported(Unimplemented::VariadicSafepointWithResult);
    assert!(e.kind() == &unsupported && e.operand_name() == Some("callee"), "{e}");
    assert_eq!(cg.stack_depth(), 1, "the argument is still there");
    cg.call(Callee::Direct(variadic_leaf), 1).unwrap();
    cg.discard().unwrap();
    cg.push_int(i64t, 7).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    let m = cfree_llvm_lower::finish(cg).unwrap();
    m.verify().expect("the module is whole after the failed calls");
    let jit = Jit::new().unwrap();
    extern "C" fn identity(x: i64) -> i64 {
        x
    }
    jit.define_host_symbol("variadic_leaf", identity as *const () as usize as u64).unwrap();
    jit.publish(&m, OptLevel::O1).unwrap();
    let f = jit.get::<unsafe extern "C" fn() -> i64>("managed").unwrap();
    // SAFETY: `managed` returns a constant.
    assert_eq!(unsafe { f.call() }, 7);
}

static SLOW_ALLOCS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static SLOW_OBJECT: [u64; 8] = [0; 8];

/// The slow path of `gc_alloc_in_uses_the_buffer_operand`: counts its calls.
extern "C" fn counting_alloc(_entry: u64, _descriptor: i64, _size: i64) -> u64 {
    SLOW_ALLOCS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    SLOW_OBJECT.as_ptr() as u64 + 8
}

/// `gc_alloc_in` bump-allocates from the buffer whose address is its operand
/// (one per thread, as the toy runtime's contexts), not from the
/// `InlineAlloc` symbol, and takes the slow path when that buffer is full.
#[test]
fn gc_alloc_in_uses_the_buffer_operand() {
    for level in [OptLevel::O0, OptLevel::O2] {
        let llvm = LlvmContext::new();
        let mut cg = llvm.module("alloc_in", &TargetSpec::host()).unwrap();
        cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving()).unwrap();
        let (i64t, i8t) = (cg.ty_int(IntWidth::I64).unwrap(), cg.ty_int(IntWidth::I8).unwrap());
        let obj = cg.ty_ptr(i8t, 1).unwrap();
        let raw = cg.ty_ptr(i8t, 0).unwrap();
        let alloc_sig = cg.ty_func(FuncSig::new(&[i64t, i64t], Some(obj))).unwrap();
        let alloc = cg.declare_func("counting_alloc", FuncDecl::new(alloc_sig).gc(GcRole::Runtime)).unwrap();
        // Buffers come only through operands: no buffer symbol.
        let inline = InlineAlloc { buffer: None, header_bytes: 8 };
        cg.set_gc_runtime(GcRuntime::new(alloc).inline_alloc(inline)).unwrap();
        let sig = cg.ty_func(FuncSig::new(&[raw], None)).unwrap();
        let f = cg.declare_func("f", FuncDecl::new(sig).gc(GcRole::Safepoints)).unwrap();
        cg.func_begin(f).unwrap();
        let buf = cg.param_slot(0, "buf").unwrap();
        // A non-pointer operand is refused, and nothing is popped.
        cg.push_int(i64t, 0).unwrap();
        let e = cg.gc_alloc_in(7, 16).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::TypeMismatch { .. }) && e.operand_name() == Some("buffer"), "{e}");
        cg.discard().unwrap();
        // Without a buffer symbol, the symbol form is refused.
        let e = cg.gc_alloc(7, 16).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::NoAllocBufferSymbol), "{e}");
        cg.push_local(buf).unwrap();
        cg.load(MemAccess::new(raw)).unwrap();
        cg.gc_alloc_in(0x77, 16).unwrap();
        cg.discard().unwrap();
        cg.ret().unwrap();
        cg.func_end().unwrap();
        let m = cfree_llvm_lower::finish(cg).unwrap();
        assert!(!m.symbol_ir("f").unwrap().contains("unused_buffer"), "the symbol is not the buffer");
        let jit = Jit::new().unwrap();
        jit.define_host_symbol("counting_alloc", counting_alloc as *const () as usize as u64).unwrap();
        jit.define_host_symbol("unused_buffer", SLOW_OBJECT.as_ptr() as u64).unwrap();
        jit.publish(&m, level).unwrap();
        let f = jit.get::<unsafe extern "C" fn(*mut u64)>("f").unwrap();
        // Room for the object: [next, limit] over `space`; `next` is one word past a header.
        let mut space = [0u64; 8];
        let base = space.as_mut_ptr() as u64;
        let mut buffer = [base + 8, base + 64];
        let before = SLOW_ALLOCS.load(std::sync::atomic::Ordering::Relaxed);
        // SAFETY: `buffer` describes free words of `space`, which outlives the call.
        unsafe { f.call(buffer.as_mut_ptr()) };
        assert_eq!(buffer, [base + 8 + 24, base + 64], "at {level:?}: bumped by header and payload");
        assert_eq!(space[0], 0x77, "at {level:?}: the header");
        assert_eq!(SLOW_ALLOCS.load(std::sync::atomic::Ordering::Relaxed), before);
        // A full buffer: the slow path, and the buffer is left alone.
        let mut full = [base + 8, base + 8];
        // SAFETY: as above; the slow path returns a static object.
        unsafe { f.call(full.as_mut_ptr()) };
        assert_eq!(full, [base + 8, base + 8]);
        assert_eq!(SLOW_ALLOCS.load(std::sync::atomic::Ordering::Relaxed), before + 1, "at {level:?}");
    }
}
