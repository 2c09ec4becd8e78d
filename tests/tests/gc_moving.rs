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

use std::cell::RefCell;
use std::sync::Arc;

use cfree_facade::*;
use cfree_jit_orc::{Jit, Registry};
use cfree_llvm_lower::{LlvmContext, LlvmModule, OptLevel};
use cfree_statepoint::{enter_runtime, relocate, runtime_entries, walk_frames};

const SPACE_WORDS: usize = 1 << 16;
const FORWARDED: u64 = 1 << 63;
const POISON: u64 = 0xdead_beef_dead_beef;

/// Object layout: one header word (`words | nptrs << 32`), then `nptrs`
/// managed pointers, then raw words. A forwarded object's header is
/// `FORWARDED | new address`.
struct Heap {
    spaces: [Vec<u64>; 2],
    from: usize,
    top: usize,
    registry: Option<Arc<Registry>>,
    collections: u64,
    words_copied: u64,
    roots_seen: u64,
    max_frames: usize,
}

thread_local! {
    static HEAP: RefCell<Heap> = RefCell::new(Heap {
        spaces: [vec![0; SPACE_WORDS], vec![0; SPACE_WORDS]],
        from: 0,
        top: 0,
        registry: None,
        collections: 0,
        words_copied: 0,
        roots_seen: 0,
        max_frames: 0,
    });
    static JIT: RefCell<Option<Arc<Jit>>> = const { RefCell::new(None) };
}

impl Heap {
    fn base(&self, space: usize) -> u64 {
        self.spaces[space].as_ptr() as u64
    }

    fn in_space(&self, space: usize, addr: u64) -> bool {
        (self.base(space)..self.base(space) + (SPACE_WORDS * 8) as u64).contains(&addr)
    }

    /// Copies the object at `addr` (if it is in from-space and not yet copied) and returns its new address.
    fn forward(&mut self, to: usize, top: &mut usize, addr: u64) -> u64 {
        if !self.in_space(self.from, addr) {
            return addr;
        }
        let from_idx = ((addr - self.base(self.from)) / 8) as usize;
        let header = self.spaces[self.from][from_idx];
        if header & FORWARDED != 0 {
            return header & !FORWARDED;
        }
        let words = (header & 0xffff_ffff) as usize;
        let new = self.base(to) + (*top as u64) * 8;
        let (src, dst) = if self.from == 0 {
            let (a, b) = self.spaces.split_at_mut(1);
            (&a[0], &mut b[0])
        } else {
            let (a, b) = self.spaces.split_at_mut(1);
            (&b[0], &mut a[0])
        };
        dst[*top..*top + words].copy_from_slice(&src[from_idx..from_idx + words]);
        *top += words;
        self.words_copied += words as u64;
        self.spaces[self.from][from_idx] = FORWARDED | new;
        new
    }

    /// Cheney collection with the roots of the managed frames above every runtime entry.
    fn collect(&mut self) {
        let registry = self.registry.clone().expect("registry installed");
        let mut frames = Vec::new();
        for entry_fp in runtime_entries() {
            // SAFETY: every entry record is the frame pointer of a live trampoline called from
            // managed code (which keeps frame pointers); the stack does not change meanwhile.
            let run = unsafe { walk_frames(entry_fp, |pc| registry.safepoint_at(pc).is_some()) };
            assert!(!run.is_empty(), "each runtime entry sits above a managed frame");
            frames.extend(run);
        }
        self.max_frames = self.max_frames.max(frames.len());
        let with_maps: Vec<_> = frames.iter().map(|f| (*f, registry.safepoint_at(f.pc).unwrap())).collect();
        self.roots_seen += with_maps.iter().map(|(_, s)| s.live.len() as u64).sum::<u64>();
        let to = 1 - self.from;
        let mut top = 0;
        // SAFETY: frames and safepoints were just computed for this stack.
        unsafe { relocate(&with_maps, |old| self.forward(to, &mut top, old)) };
        let mut scan = 0;
        while scan < top {
            let header = self.spaces[to][scan];
            let (words, nptrs) = ((header & 0xffff_ffff) as usize, (header >> 32) as usize);
            for k in 1..=nptrs {
                let field = self.spaces[to][scan + k];
                let moved = self.forward(to, &mut top, field);
                self.spaces[to][scan + k] = moved;
            }
            scan += words;
        }
        self.spaces[self.from].fill(POISON);
        self.from = to;
        self.top = top;
        self.collections += 1;
    }
}

/// The runtime allocator JIT code calls (through its trampoline, which passes
/// `entry`): collects at every call (GC stress), then bump-allocates.
extern "C" fn gc_alloc(entry: u64, words: i64, nptrs: i64) -> u64 {
    let _entry = enter_runtime(entry);
    HEAP.with(|h| {
        let mut h = h.borrow_mut();
        h.collect();
        let words = words as usize;
        assert!(h.top + words <= SPACE_WORDS, "heap exhausted");
        let at = h.top;
        let from = h.from;
        h.spaces[from][at] = words as u64 | (nptrs as u64) << 32;
        h.spaces[from][at + 1..at + words].fill(0);
        h.top += words;
        h.base(from) + at as u64 * 8
    })
}

/// A runtime function that calls back into managed code (`inner(k)`).
extern "C" fn reenter(entry: u64, k: i64) -> i64 {
    let _entry = enter_runtime(entry);
    let jit = JIT.with(|j| j.borrow().clone()).expect("jit installed");
    let inner = jit.get::<unsafe extern "C" fn(i64) -> i64>("inner").unwrap();
    // SAFETY: `inner` allocates through `gc_alloc` on this thread's heap. A different
    // length than the outer list, so a stale outer pointer cannot read a look-alike list.
    unsafe { inner.call(k + 7) }
}

struct Program<'c> {
    module: LlvmModule<'c>,
}

/// `build(n)`: a list of n nodes {header, next, value=i}; `sum(list)`; `run(n)`:
/// builds, takes a derived pointer to the head's value field, allocates again
/// (a collection moves everything), then returns `sum * 1000 + *derived`.
fn program(llvm: &LlvmContext) -> Program<'_> {
    let mut cg = llvm.module("gc_list", &TargetSpec::host()).unwrap();
    cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving()).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let i8t = cg.ty_int(IntWidth::I8).unwrap();
    let obj = cg.ty_ptr(i8t, 1).unwrap();
    let alloc_sig = cg.ty_func(FuncSig::new(&[i64t, i64t], Some(obj))).unwrap();
    let alloc = cg.declare_func("gc_alloc", FuncDecl::new(alloc_sig).gc(GcRole::Runtime)).unwrap();
    let reenter_sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let reenter = cg.declare_func("reenter", FuncDecl::new(reenter_sig).gc(GcRole::Runtime)).unwrap();
    let build_sig = cg.ty_func(FuncSig::new(&[i64t], Some(obj))).unwrap();
    let sum_sig = cg.ty_func(FuncSig::new(&[obj], Some(i64t))).unwrap();
    let run_sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let build = cg.declare_func("build", FuncDecl::new(build_sig).gc(GcRole::Safepoints)).unwrap();
    let sum = cg.declare_func("sum", FuncDecl::new(sum_sig).gc(GcRole::Safepoints)).unwrap();
    let run = cg.declare_func("run", FuncDecl::new(run_sig).gc(GcRole::Safepoints)).unwrap();
    let get = |cg: &mut Cg<_>, l, ty| {
        cg.push_local(l).unwrap();
        cg.load(MemAccess::new(ty)).unwrap();
    };

    cg.func_begin(build).unwrap();
    let n = cg.param_slot(0, "n").unwrap();
    let (list, i, node) = (
        cg.local_slot(obj, "list", 0).unwrap(),
        cg.local_slot(i64t, "i", 0).unwrap(),
        cg.local_slot(obj, "node", 0).unwrap(),
    );
    cg.push_local(list).unwrap();
    cg.push_null(obj).unwrap();
    cg.store(MemAccess::new(obj)).unwrap();
    cg.push_local(i).unwrap();
    cg.push_int(i64t, 0).unwrap();
    cg.store(MemAccess::new(i64t)).unwrap();
    let (head, body, done) = (cg.new_label().unwrap(), cg.new_label().unwrap(), cg.new_label().unwrap());
    cg.place_label(head).unwrap();
    get(&mut cg, i, i64t);
    get(&mut cg, n, i64t);
    cg.int_cmp(IntCmp::Slt).unwrap();
    cg.cond_br(body, done).unwrap();
    cg.place_label(body).unwrap();
    cg.push_local(node).unwrap();
    cg.push_int(i64t, 3).unwrap();
    cg.push_int(i64t, 1).unwrap();
    cg.call(Callee::Direct(alloc), 2).unwrap();
    cg.store(MemAccess::new(obj)).unwrap();
    get(&mut cg, node, obj);
    cg.addr_offset(8, obj).unwrap();
    get(&mut cg, list, obj);
    cg.store(MemAccess::new(obj)).unwrap();
    get(&mut cg, node, obj);
    cg.addr_offset(16, obj).unwrap();
    get(&mut cg, i, i64t);
    cg.store(MemAccess::new(i64t)).unwrap();
    cg.push_local(list).unwrap();
    get(&mut cg, node, obj);
    cg.store(MemAccess::new(obj)).unwrap();
    cg.push_local(i).unwrap();
    get(&mut cg, i, i64t);
    cg.push_int(i64t, 1).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.store(MemAccess::new(i64t)).unwrap();
    cg.br(head).unwrap();
    cg.place_label(done).unwrap();
    get(&mut cg, list, obj);
    cg.ret().unwrap();
    cg.func_end().unwrap();

    cg.func_begin(sum).unwrap();
    let p = cg.param_slot(0, "list").unwrap();
    let acc = cg.local_slot(i64t, "acc", 0).unwrap();
    cg.push_local(acc).unwrap();
    cg.push_int(i64t, 0).unwrap();
    cg.store(MemAccess::new(i64t)).unwrap();
    let (head, body, done) = (cg.new_label().unwrap(), cg.new_label().unwrap(), cg.new_label().unwrap());
    cg.place_label(head).unwrap();
    get(&mut cg, p, obj);
    cg.push_null(obj).unwrap();
    cg.int_cmp(IntCmp::Ne).unwrap();
    cg.cond_br(body, done).unwrap();
    cg.place_label(body).unwrap();
    cg.push_local(acc).unwrap();
    get(&mut cg, acc, i64t);
    get(&mut cg, p, obj);
    cg.addr_offset(16, obj).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.store(MemAccess::new(i64t)).unwrap();
    cg.push_local(p).unwrap();
    get(&mut cg, p, obj);
    cg.addr_offset(8, obj).unwrap();
    cg.load(MemAccess::new(obj)).unwrap();
    cg.store(MemAccess::new(obj)).unwrap();
    cg.br(head).unwrap();
    cg.place_label(done).unwrap();
    get(&mut cg, acc, i64t);
    cg.ret().unwrap();
    cg.func_end().unwrap();

    cg.func_begin(run).unwrap();
    let n = cg.param_slot(0, "n").unwrap();
    let (l, field) = (cg.local_slot(obj, "l", 0).unwrap(), cg.local_slot(obj, "field", 0).unwrap());
    cg.push_local(l).unwrap();
    get(&mut cg, n, i64t);
    cg.call(Callee::Direct(build), 1).unwrap();
    cg.store(MemAccess::new(obj)).unwrap();
    // A derived pointer (into the head's value field), live across the next allocation.
    cg.push_local(field).unwrap();
    get(&mut cg, l, obj);
    cg.addr_offset(16, obj).unwrap();
    cg.store(MemAccess::new(obj)).unwrap();
    cg.push_int(i64t, 2).unwrap();
    cg.push_int(i64t, 0).unwrap();
    cg.call(Callee::Direct(alloc), 2).unwrap();
    cg.discard().unwrap();
    get(&mut cg, l, obj);
    cg.call(Callee::Direct(sum), 1).unwrap();
    cg.push_int(i64t, 1000).unwrap();
    cg.int_op(IntBinOp::Mul, IntFlags::NONE).unwrap();
    get(&mut cg, field, obj);
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    // inner(k) = sum(build(k)); outer(n): a = build(n); r = reenter(n) (host calls inner,
    // which collects while `a` is live only in outer's frame); sum(a) * 1000 + r.
    let inner = cg.declare_func("inner", FuncDecl::new(run_sig).gc(GcRole::Safepoints)).unwrap();
    cg.func_begin(inner).unwrap();
    let k = cg.param_slot(0, "k").unwrap();
    get(&mut cg, k, i64t);
    cg.call(Callee::Direct(build), 1).unwrap();
    cg.call(Callee::Direct(sum), 1).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    let outer = cg.declare_func("outer", FuncDecl::new(run_sig).gc(GcRole::Safepoints)).unwrap();
    cg.func_begin(outer).unwrap();
    let n = cg.param_slot(0, "n").unwrap();
    let a = cg.local_slot(obj, "a", 0).unwrap();
    cg.push_local(a).unwrap();
    get(&mut cg, n, i64t);
    cg.call(Callee::Direct(build), 1).unwrap();
    cg.store(MemAccess::new(obj)).unwrap();
    get(&mut cg, n, i64t);
    cg.call(Callee::Direct(reenter), 1).unwrap();
    get(&mut cg, a, obj);
    cg.call(Callee::Direct(sum), 1).unwrap();
    cg.push_int(i64t, 1000).unwrap();
    cg.int_op(IntBinOp::Mul, IntFlags::NONE).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    Program { module: cfree_llvm_lower::finish(cg).unwrap() }
}

fn session(level: OptLevel) -> Arc<Jit> {
    let llvm = LlvmContext::new();
    let mut p = program(&llvm);
    let jit = Arc::new(Jit::new().unwrap());
    jit.define_host_symbol("gc_alloc", gc_alloc as *const () as usize as u64).unwrap();
    jit.define_host_symbol("reenter", reenter as *const () as usize as u64).unwrap();
    jit.publish(&mut p.module, level).unwrap();
    HEAP.with(|h| h.borrow_mut().registry = Some(jit.registry()));
    JIT.with(|j| *j.borrow_mut() = Some(jit.clone()));
    jit
}

fn check(level: OptLevel) {
    let jit = session(level);
    let registry = jit.registry();
    let safepoints = registry.stackmaps().iter().filter(|s| s.safepoint.is_some()).count();
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
    cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving()).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let obj = cg.ty_ptr(i64t, 1).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[obj], Some(i64t))).unwrap();
    let f = cg.declare_func("f", FuncDecl::new(sig).gc(GcRole::Safepoints)).unwrap();
    cg.func_begin(f).unwrap();
    let p = cg.param_slot(0, "p").unwrap();
    cg.push_local(p).unwrap();
    cg.load(MemAccess::new(obj)).unwrap();
    assert!(matches!(cg.cast(CastOp::PtrToInt, i64t).unwrap_err().kind(), ErrorKind::TypeMismatch { .. }));
    cg.discard().unwrap();
    let rv = llvm.module("rv", &TargetSpec::triple("riscv64-unknown-linux-gnu"));
    let mut rv = rv.unwrap();
    let i64r = rv.ty_int(IntWidth::I64).unwrap();
    let s = rv.ty_func(FuncSig::new(&[], Some(i64r))).unwrap();
    let e = rv.declare_func("g", FuncDecl::new(s).gc(GcRole::Safepoints)).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::UnsupportedOnTarget { .. }), "{e}");
}
