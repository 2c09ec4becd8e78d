//! The emitter side of `atomics.rs`.

use crate::*;

impl<B: Backend> crate::Cg<B> {
    /// Validates an atomic access: a power-of-two-sized scalar the target can
    /// access lock-free, naturally aligned (or more), with no hint flags.
    fn atomic_access(&self, call: &'static str, access: &MemAccess, addr_space: u32) -> Result<ResolvedAccess> {
        let resolved = self.resolve_access(call, access, addr_space)?;
        let size = self.types.layout(access.ty).map_or(0, |l| l.size);
        if self.types.int_width(access.ty) == Some(crate::IntWidth::I1) {
            return Err(self.mismatch(call, "access type", Expected::ByteSizedScalar, access.ty));
        }
        let hints = access.flags.intersection(MemFlags::NONTEMPORAL | MemFlags::INVARIANT);
        if !hints.is_empty() {
            let e = ErrorKind::InvalidMemFlags { op: MemOp::Atomic, flags: hints };
            return Err(self.ferr(call, e).operand("access"));
        }
        if !size.is_power_of_two() || !self.target.supports_atomic_bits(size * 8) {
            let feature = TargetFeature::LockFreeAtomic(size * 8);
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
            let e = ErrorKind::UnderalignedAtomic { align: resolved.align, size };
            return Err(self.ferr(call, e).operand("access"));
        }
        Ok(resolved)
    }

    fn check_ordering(
        &self,
        call: &'static str,
        op: AtomicOp,
        ordering: AtomicOrdering,
        forbidden: &[AtomicOrdering],
    ) -> Result<()> {
        if forbidden.contains(&ordering) {
            return Err(self.ferr(call, ErrorKind::InvalidOrdering { op, ordering }));
        }
        Ok(())
    }

    /// Pops an address and pushes the value atomically loaded from it.
    pub fn atomic_load(&mut self, access: MemAccess, ordering: AtomicOrdering, scope: SyncScope) -> Result<()> {
        const CALL: &str = "atomic_load";
        self.require_open(CALL)?;
        self.check_ordering(CALL, AtomicOp::Load, ordering, &[AtomicOrdering::Release, AtomicOrdering::AcqRel])?;
        let a = self.peek_addr(CALL, 1, 0)?;
        let resolved = self.atomic_access(CALL, &access, a.addr_space)?;
        self.ensure_block(CALL)?;
        let v = self.backend.atomic_load(a.addr, &resolved, ordering, scope).map_err(|k| self.ferr(CALL, k))?;
        self.pop_n(1);
        self.push_value(access.ty, v);
        Ok(())
    }

    /// Pops a value, then an address, and stores atomically.
    pub fn atomic_store(&mut self, access: MemAccess, ordering: AtomicOrdering, scope: SyncScope) -> Result<()> {
        const CALL: &str = "atomic_store";
        self.require_open(CALL)?;
        self.check_ordering(CALL, AtomicOp::Store, ordering, &[AtomicOrdering::Acquire, AtomicOrdering::AcqRel])?;
        let a = self.peek_addr(CALL, 2, 1)?;
        let resolved = self.atomic_access(CALL, &access, a.addr_space)?;
        let v = self.peek_value(CALL, 2, 0, "value", Some(access.ty))?;
        self.ensure_block(CALL)?;
        self.backend.atomic_store(a.addr, v, &resolved, ordering, scope).map_err(|k| self.ferr(CALL, k))?;
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
            return Err(self.mismatch(CALL, "access type", Expected::AtomicRmwOperand(op), access.ty));
        }
        let v = self.peek_value(CALL, 2, 0, "operand", Some(access.ty))?;
        self.ensure_block(CALL)?;
        let old = self.backend.atomic_rmw(op, a.addr, v, &resolved, ordering, scope).map_err(|k| self.ferr(CALL, k))?;
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
        let failure_forbidden = [AtomicOrdering::Release, AtomicOrdering::AcqRel];
        self.check_ordering(CALL, AtomicOp::CmpxchgFailure, failure, &failure_forbidden)?;
        let a = self.peek_addr(CALL, 3, 2)?;
        let resolved = self.atomic_access(CALL, &access, a.addr_space)?;
        if matches!(self.types.kind(access.ty), TypeKind::Float(_)) {
            return Err(self.mismatch(CALL, "access type", Expected::IntegerOrPointer, access.ty));
        }
        let expected = self.peek_value(CALL, 3, 1, "expected value", Some(access.ty))?;
        let new = self.peek_value(CALL, 3, 0, "new value", Some(access.ty))?;
        let i1 = self.ty_i1()?;
        self.ensure_block(CALL)?;
        let (old, ok) = self
            .backend
            .cmpxchg(a.addr, expected, new, &resolved, success, failure, weak, scope)
            .map_err(|k| self.ferr(CALL, k))?;
        self.pop_n(3);
        self.push_value(access.ty, old);
        self.push_value(i1, ok);
        Ok(())
    }

    /// A memory fence.
    pub fn fence(&mut self, ordering: AtomicOrdering, scope: SyncScope) -> Result<()> {
        const CALL: &str = "fence";
        self.require_open(CALL)?;
        self.check_ordering(CALL, AtomicOp::Fence, ordering, &[AtomicOrdering::Relaxed])?;
        self.ensure_block(CALL)?;
        self.backend.fence(ordering, scope).map_err(|k| self.ferr(CALL, k))?;
        Ok(())
    }
}
