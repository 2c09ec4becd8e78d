//! Atomics (cg-ext §11): orderings, scopes and read-modify-write operations.
//! Every atomic takes a [`crate::MemAccess`] like any other memory access.

use crate::{Backend, ErrorKind, MemAccess, MemFlags, ResolvedAccess, Result, TypeKind};

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
    fn on_floats(self) -> bool {
        matches!(self, AtomicRmwOp::FAdd | AtomicRmwOp::FSub | AtomicRmwOp::FMin | AtomicRmwOp::FMax)
    }
}

impl<B: Backend> crate::Cg<B> {
    /// Validates an atomic access: a power-of-two-sized scalar the target can
    /// access lock-free, naturally aligned (or more), with no hint flags.
    fn atomic_access(&self, call: &'static str, access: &MemAccess, addr_space: u32) -> Result<ResolvedAccess> {
        let resolved = self.resolve_access(call, access, addr_space)?;
        let size = self.types.layout(access.ty).map_or(0, |l| l.size);
        if self.types.int_width(access.ty) == Some(crate::IntWidth::I1) {
            return Err(self.mismatch(call, "access type", "byte-sized scalar (not i1)".into(), access.ty));
        }
        if access.flags.contains(MemFlags::NONTEMPORAL) || access.flags.contains(MemFlags::INVARIANT) {
            let flags = format!("{:?}", access.flags);
            return Err(self
                .ferr(call, ErrorKind::InvalidFlags { op: "atomic access".into(), flags })
                .operand("access"));
        }
        if !size.is_power_of_two() || !self.target.supports_atomic_bits(size * 8) {
            let feature = format!("lock-free atomic access of {} bits", size * 8);
            let triple = self.target.triple.clone();
            return Err(self.ferr(call, ErrorKind::UnsupportedOnTarget { feature, triple }).operand("access"));
        }
        // For atomics, alignment 0 means the access size (natural alignment of the
        // atomic, which can exceed the type's ABI alignment: i64 on i686 is 4-aligned).
        let mut resolved = resolved;
        if access.align == 0 {
            resolved.align = resolved.align.max(size);
        }
        if resolved.align < size {
            return Err(self
                .ferr(call, ErrorKind::InvalidAlignment { align: resolved.align })
                .operand("atomic accesses must be naturally aligned"));
        }
        Ok(resolved)
    }

    fn check_ordering(&self, call: &'static str, ordering: AtomicOrdering, forbidden: &[AtomicOrdering]) -> Result<()> {
        if forbidden.contains(&ordering) {
            return Err(
                self.ferr(call, ErrorKind::InvalidFlags { op: call.into(), flags: format!("{ordering:?} ordering") })
            );
        }
        Ok(())
    }

    /// Pops an address and pushes the value atomically loaded from it.
    pub fn atomic_load(&mut self, access: MemAccess, ordering: AtomicOrdering, scope: SyncScope) -> Result<()> {
        const CALL: &str = "atomic_load";
        self.require_open(CALL)?;
        self.check_ordering(CALL, ordering, &[AtomicOrdering::Release, AtomicOrdering::AcqRel])?;
        let a = self.peek_addr(CALL, 1, 0)?;
        let resolved = self.atomic_access(CALL, &access, a.addr_space)?;
        self.ensure_block();
        let v = self.backend.atomic_load(a.addr, &resolved, ordering, scope);
        self.pop_n(1);
        self.push_value(access.ty, v);
        Ok(())
    }

    /// Pops a value, then an address, and stores atomically.
    pub fn atomic_store(&mut self, access: MemAccess, ordering: AtomicOrdering, scope: SyncScope) -> Result<()> {
        const CALL: &str = "atomic_store";
        self.require_open(CALL)?;
        self.check_ordering(CALL, ordering, &[AtomicOrdering::Acquire, AtomicOrdering::AcqRel])?;
        let a = self.peek_addr(CALL, 2, 1)?;
        let resolved = self.atomic_access(CALL, &access, a.addr_space)?;
        let v = self.peek_value(CALL, 2, 0, "value", Some(access.ty))?;
        self.ensure_block();
        self.backend.atomic_store(a.addr, v, &resolved, ordering, scope);
        self.pop_n(2);
        Ok(())
    }

    /// Pops an operand, then an address; applies `op` atomically and pushes the old value.
    pub fn atomic_rmw(
        &mut self,
        op: AtomicRmwOp,
        access: MemAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    ) -> Result<()> {
        const CALL: &str = "atomic_rmw";
        self.require_open(CALL)?;
        let a = self.peek_addr(CALL, 2, 1)?;
        let resolved = self.atomic_access(CALL, &access, a.addr_space)?;
        let kind = self.types.kind(access.ty);
        let ok = match kind {
            TypeKind::Float(_) => op.on_floats() || op == AtomicRmwOp::Xchg,
            TypeKind::Int(_) => !op.on_floats(),
            TypeKind::Ptr { .. } => op == AtomicRmwOp::Xchg,
            _ => false,
        };
        if !ok {
            let expected = format!("a type {op:?} applies to");
            return Err(self.mismatch(CALL, "access type", expected, access.ty));
        }
        let v = self.peek_value(CALL, 2, 0, "operand", Some(access.ty))?;
        self.ensure_block();
        let old = self.backend.atomic_rmw(op, a.addr, v, &resolved, ordering, scope);
        self.pop_n(2);
        self.push_value(access.ty, old);
        Ok(())
    }

    /// Pops the new value, the expected value and the address (pushed in that
    /// order: address first); pushes the old value, then an `i1` that is 1 on
    /// success. A weak exchange may fail spuriously (use it in a loop).
    #[allow(clippy::too_many_arguments)]
    pub fn cmpxchg(
        &mut self,
        access: MemAccess,
        success: AtomicOrdering,
        failure: AtomicOrdering,
        weak: bool,
        scope: SyncScope,
    ) -> Result<()> {
        const CALL: &str = "cmpxchg";
        self.require_open(CALL)?;
        self.check_ordering(CALL, success, &[])?;
        self.check_ordering(CALL, failure, &[AtomicOrdering::Release, AtomicOrdering::AcqRel])?;
        let a = self.peek_addr(CALL, 3, 2)?;
        let resolved = self.atomic_access(CALL, &access, a.addr_space)?;
        if matches!(self.types.kind(access.ty), TypeKind::Float(_)) {
            let expected = "integer or pointer type".to_string();
            return Err(self.mismatch(CALL, "access type", expected, access.ty));
        }
        let expected = self.peek_value(CALL, 3, 1, "expected value", Some(access.ty))?;
        let new = self.peek_value(CALL, 3, 0, "new value", Some(access.ty))?;
        let i1 = self.ty_i1()?;
        self.ensure_block();
        let (old, ok) = self.backend.cmpxchg(a.addr, expected, new, &resolved, success, failure, weak, scope);
        self.pop_n(3);
        self.push_value(access.ty, old);
        self.push_value(i1, ok);
        Ok(())
    }

    /// A memory fence.
    pub fn fence(&mut self, ordering: AtomicOrdering, scope: SyncScope) -> Result<()> {
        const CALL: &str = "fence";
        self.require_open(CALL)?;
        self.check_ordering(CALL, ordering, &[AtomicOrdering::Relaxed])?;
        self.ensure_block();
        self.backend.fence(ordering, scope);
        Ok(())
    }
}
