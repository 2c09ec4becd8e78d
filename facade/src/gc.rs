//! Managed allocation and stores, explicit roots, safepoints and their IDs
//! (the GC contract, `doc/gc.md`). Allocation and barriers lower to ordinary
//! operations plus calls of runtime functions the embedder names, so a
//! frontend never open-codes barrier or allocation sequences.

use crate::Sym;

/// The runtime functions (and allocation buffer) managed operations use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcRuntime {
    /// `alloc(descriptor: i64, size: i64) -> ptr addrspace(1)`: a new zeroed
    /// object; `descriptor` is the frontend's (e.g. a type id or header word).
    /// Usually declared `GcRole::Runtime` (allocation may collect).
    pub alloc: Sym,
    /// `barrier(object: ptr addrspace(1), offset: i64, value: ptr addrspace(1), kind: i32)`,
    /// called after every store of a managed pointer into a managed object.
    pub write_barrier: Option<Sym>,
    /// `poll()`, a `GcRole::Runtime` function called by [`crate::Cg::safepoint`].
    pub poll: Option<Sym>,
    /// Bump allocation inline in managed code, with `alloc` as the slow path.
    pub inline_alloc: Option<InlineAlloc>,
}

impl GcRuntime {
    /// Allocation through `alloc` only: no barrier, poll or inline allocation.
    pub fn new(alloc: Sym) -> Self {
        Self { alloc, write_barrier: None, poll: None, inline_alloc: None }
    }

    /// Sets the write barrier.
    pub fn write_barrier(mut self, barrier: Sym) -> Self {
        self.write_barrier = Some(barrier);
        self
    }

    /// Sets the poll function of explicit safepoints.
    pub fn poll(mut self, poll: Sym) -> Self {
        self.poll = Some(poll);
        self
    }

    /// Allocates inline from `buffer` (see [`InlineAlloc`]).
    pub fn inline_alloc(mut self, inline: InlineAlloc) -> Self {
        self.inline_alloc = Some(inline);
        self
    }
}

/// Inline bump allocation. A buffer is two pointers in raw memory that the
/// runtime maintains: either the data symbol `buffer` (at least two
/// pointers, for `gc_alloc`) or memory whose address `gc_alloc_in` pops
/// (one buffer per mutator thread; `buffer` may then be `None`). The two
/// pointers are `next`, where the reference to the next object goes, and
/// `limit`, the end of the free area. An object of `size` bytes (rounded up
/// to 8) fits if `next + size <= limit`; the generated code then stores
/// `descriptor` as the 8-byte header word at `next - 8` (if `header_bytes` is
/// 8), zeroes the payload, sets `next += size + header_bytes` and uses the old
/// `next` as the object. Otherwise it calls `alloc(descriptor, size)`, which
/// may collect and refill the buffer. Stress testing sets `limit = next`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InlineAlloc {
    /// The `[next, limit]` data symbol, if `gc_alloc` uses one.
    pub buffer: Option<Sym>,
    /// Bytes of header before each object's reference: 0 or 8.
    pub header_bytes: u32,
}

/// How a stored managed pointer refers to its target, passed to the barrier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum PointerKind {
    /// An ordinary reference.
    #[default]
    Strong,
    /// A reference the collector may clear.
    Weak,
}
