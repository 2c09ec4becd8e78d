//! A test runtime for managed code: a semispace copying (Cheney) collector
//! whose roots come only from the JIT registry's stack maps, reached through
//! runtime entry records; a stress mode that collects at every allocation;
//! and a managed program (linked lists, a derived pointer kept across a
//! collection, managed -> host -> managed re-entry) emitted through the facade.

use std::cell::RefCell;
use std::sync::Arc;

use cfree_facade::*;
use cfree_jit_orc::{Jit, Registry};
use cfree_llvm_lower::{LlvmContext, LlvmModule, OptLevel};
use cfree_statepoint::{enter_runtime, relocate, runtime_entries, walk_frames};

/// Words per semispace.
pub const SPACE_WORDS: usize = 1 << 16;
/// Header bit of a forwarded object.
pub const FORWARDED: u64 = 1 << 63;
/// What from-space is filled with after a collection.
pub const POISON: u64 = 0xdead_beef_dead_beef;

/// Object layout: one header word (`words | nptrs << 32`), then `nptrs`
/// managed pointers, then raw words. A forwarded object's header is
/// `FORWARDED | new address`.
/// The collector's state (one per thread).
#[derive(Debug)]
pub struct Heap {
    /// See the module docs.
    pub spaces: [Vec<u64>; 2],
    /// See the module docs.
    pub from: usize,
    /// See the module docs.
    pub top: usize,
    /// See the module docs.
    pub registry: Option<Arc<Registry>>,
    /// See the module docs.
    pub collections: u64,
    /// See the module docs.
    pub words_copied: u64,
    /// See the module docs.
    pub roots_seen: u64,
    /// See the module docs.
    pub max_frames: usize,
}

thread_local! {
    /// This thread's heap.
    pub static HEAP: RefCell<Heap> = RefCell::new(Heap {
        spaces: [vec![0; SPACE_WORDS], vec![0; SPACE_WORDS]],
        from: 0,
        top: 0,
        registry: None,
        collections: 0,
        words_copied: 0,
        roots_seen: 0,
        max_frames: 0,
    });
    /// The session the host callback re-enters.
    pub static JIT: RefCell<Option<Arc<Jit>>> = const { RefCell::new(None) };
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
pub extern "C" fn gc_alloc(entry: u64, words: i64, nptrs: i64) -> u64 {
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

/// `GcRuntime::alloc` for the facade's `gc_alloc`: `descriptor` is the number
/// of pointer fields, `size` the bytes after the header.
pub extern "C" fn gc_new(entry: u64, descriptor: i64, size: i64) -> u64 {
    gc_alloc(entry, 1 + size / 8, descriptor)
}

thread_local! {
    /// Write-barrier calls seen on this thread.
    pub static BARRIERS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The write barrier (a checked counter): verifies the store happened, counts it.
pub extern "C" fn gc_barrier(object: u64, offset: i64, value: u64, kind: i32) {
    // SAFETY: `object + offset` is the field managed code just stored `value` into.
    let stored = unsafe { *((object as i64 + offset) as *const u64) };
    assert_eq!(stored, value, "barrier runs after the store");
    assert_eq!(kind, 0, "strong pointers only in this program");
    BARRIERS.with(|b| b.set(b.get() + 1));
}

/// A runtime function that calls back into managed code (`inner(k)`).
pub extern "C" fn reenter(entry: u64, k: i64) -> i64 {
    let _entry = enter_runtime(entry);
    let jit = JIT.with(|j| j.borrow().clone()).expect("jit installed");
    let inner = jit.get::<unsafe extern "C" fn(i64) -> i64>("inner").unwrap();
    // SAFETY: `inner` allocates through `gc_alloc` on this thread's heap. A different
    // length than the outer list, so a stale outer pointer cannot read a look-alike list.
    unsafe { inner.call(k + 7) }
}

/// The emitted program.
#[derive(Debug)]
pub struct Program<'c> {
    /// Its module.
    pub module: LlvmModule<'c>,
}

/// `build(n)`: a list of n nodes {header, next, value=i}; `sum(list)`; `run(n)`:
/// builds, takes a derived pointer to the head's value field, allocates again
/// (a collection moves everything), then returns `sum * 1000 + *derived`.
pub fn program(llvm: &LlvmContext) -> Program<'_> {
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
    // build2(n): like build, through the facade's managed operations.
    let new_sig = cg.ty_func(FuncSig::new(&[i64t, i64t], Some(obj))).unwrap();
    let gc_new = cg.declare_func("gc_new", FuncDecl::new(new_sig).gc(GcRole::Runtime)).unwrap();
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let barrier_sig = cg.ty_func(FuncSig::new(&[obj, i64t, obj, i32t], None)).unwrap();
    let barrier = cg.declare_func("gc_barrier", FuncDecl::new(barrier_sig).gc(GcRole::Leaf)).unwrap();
    cg.set_gc_runtime(GcRuntime::new(gc_new).write_barrier(barrier)).unwrap();
    let build2 = cg.declare_func("build2", FuncDecl::new(run_sig).gc(GcRole::Safepoints)).unwrap();
    cg.func_begin(build2).unwrap();
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
    cg.gc_alloc(1, 16).unwrap();
    cg.store(MemAccess::new(obj)).unwrap();
    get(&mut cg, node, obj);
    get(&mut cg, list, obj);
    cg.managed_store(MemAccess::new(obj), 8, PointerKind::Strong).unwrap();
    get(&mut cg, node, obj);
    get(&mut cg, i, i64t);
    cg.managed_store(MemAccess::new(i64t), 16, PointerKind::Strong).unwrap();
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
    cg.call(Callee::Direct(sum), 1).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    Program { module: cfree_llvm_lower::finish(cg).unwrap() }
}

/// A JIT with the runtime's host symbols and the program published at `level`.
pub fn session(level: OptLevel) -> Arc<Jit> {
    let llvm = LlvmContext::new();
    let p = program(&llvm);
    let jit = Arc::new(Jit::new().unwrap());
    jit.define_host_symbol("gc_alloc", gc_alloc as *const () as usize as u64).unwrap();
    jit.define_host_symbol("reenter", reenter as *const () as usize as u64).unwrap();
    jit.define_host_symbol("gc_new", gc_new as *const () as usize as u64).unwrap();
    jit.define_host_symbol("gc_barrier", gc_barrier as *const () as usize as u64).unwrap();
    jit.publish(&p.module, level).unwrap();
    HEAP.with(|h| h.borrow_mut().registry = Some(jit.registry()));
    JIT.with(|j| *j.borrow_mut() = Some(jit.clone()));
    jit
}
