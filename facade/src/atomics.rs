//! Atomics (`doc/semantics.md`): orderings, scopes and read-modify-write operations.
//! Every atomic takes a [`crate::MemAccess`] like any other memory access.

/// Memory orderings, weakest first (the C++11 model).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AtomicOrdering {
    /// Atomic, no ordering (`monotonic` in LLVM).
    Relaxed,
    /// Later accesses stay after it (loads, RMW, fences).
    Acquire,
    /// Earlier accesses stay before it (stores, RMW, fences).
    Release,
    /// Both (RMW, fences).
    AcqRel,
    /// Sequentially consistent.
    SeqCst,
}

/// Which threads an atomic synchronises with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SyncScope {
    /// All threads.
    #[default]
    System,
    /// Only the current thread (signal handlers).
    SingleThread,
}

/// Atomic read-modify-write operations; all push the old value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AtomicRmwOp {
    /// Store the operand.
    Xchg,
    /// Wrapping integer addition.
    Add,
    /// Wrapping integer subtraction.
    Sub,
    /// Bitwise and.
    And,
    /// Bitwise or.
    Or,
    /// Bitwise xor.
    Xor,
    /// Bitwise not-and.
    Nand,
    /// Signed minimum.
    SMin,
    /// Signed maximum.
    SMax,
    /// Unsigned minimum.
    UMin,
    /// Unsigned maximum.
    UMax,
    /// Float addition.
    FAdd,
    /// Float subtraction.
    FSub,
    /// Float minNum (NaN ignored).
    FMin,
    /// Float maxNum (NaN ignored).
    FMax,
}

impl AtomicRmwOp {
    pub(crate) fn on_floats(self) -> bool {
        matches!(self, AtomicRmwOp::FAdd | AtomicRmwOp::FSub | AtomicRmwOp::FMin | AtomicRmwOp::FMax)
    }
}
