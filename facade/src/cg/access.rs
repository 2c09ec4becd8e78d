//! Loads and stores, and the validation of their `MemAccess` descriptors.

use super::func::{BlockState, Entry};
use crate::*;

impl<B: Backend> crate::Cg<B> {
    /// Validates a descriptor for a load or store of a scalar.
    #[inline]
    pub(crate) fn resolve_access(
        &self,
        call: &'static str,
        access: &MemAccess,
        addr_space: u32,
    ) -> Result<ResolvedAccess> {
        // Fast path for the common, valid case; anything unusual takes the checked path below.
        match self.valid_scalar_access(access, addr_space) {
            Some(resolved) => Ok(resolved),
            None => self.resolve_access_slow(call, access, addr_space),
        }
    }

    /// The resolved descriptor if it is valid for a scalar in `addr_space`
    /// without further checks; `None` sends the caller to the checked path.
    #[inline(always)]
    fn valid_scalar_access(&self, access: &MemAccess, addr_space: u32) -> Option<ResolvedAccess> {
        let layout = self.types.scalar_layout(access.ty)?;
        let align = u64::from(access.align);
        let valid = (align == 0 || (align.is_power_of_two() && align <= crate::cg::MAX_ALIGN))
            && access.addr_space.is_none_or(|s| s == addr_space)
            && access.alias_scope <= self.alias_scopes
            && access.noalias_scope <= self.alias_scopes;
        valid.then_some(ResolvedAccess {
            ty: access.ty,
            align: if align == 0 { layout.align } else { align },
            flags: access.flags,
            alias_scope: access.alias_scope,
            noalias_scope: access.noalias_scope,
        })
    }

    /// A function with a body is open and its current block takes
    /// instructions: what the inlined fast paths of the commonest operations
    /// require; otherwise they take the checked path, which reports or fixes it.
    #[inline(always)]
    pub(crate) fn ready_for_code(&self) -> bool {
        self.func.is_open() && !self.func.naked && self.func.block != BlockState::Terminated
    }

    #[inline(never)]
    fn resolve_access_slow(&self, call: &'static str, access: &MemAccess, addr_space: u32) -> Result<ResolvedAccess> {
        self.check_type(call, access.ty, "access type")?;
        if !self.types.is_scalar(access.ty) {
            // Aggregates move with memcpy/memmove.
            return Err(self.mismatch(call, "access type", Expected::Scalar, access.ty));
        }
        self.resolve_any_access(call, access, addr_space, "access")
    }

    /// Validates a descriptor whose type only supplies the natural alignment (memcpy & co).
    pub(crate) fn resolve_any_access(
        &self,
        call: &'static str,
        access: &MemAccess,
        addr_space: u32,
        operand: &str,
    ) -> Result<ResolvedAccess> {
        self.check_type(call, access.ty, "access type")?;
        let Some(layout) = self.types.layout(access.ty) else {
            let ty = self.types.name(access.ty);
            return Err(self.ferr(call, ErrorKind::Unsized { ty }).operand("access type"));
        };
        super::check_align(call, u64::from(access.align)).map_err(|e| e.in_function(self.func.name.clone()))?;
        if let Some(space) = access.addr_space {
            if space != addr_space {
                let e = ErrorKind::AddressSpaceMismatch { access: space, pointer: addr_space };
                return Err(self.ferr(call, e).operand(operand));
            }
        }
        for (what, id) in [("alias scope", access.alias_scope), ("noalias scope", access.noalias_scope)] {
            if id > self.alias_scopes {
                let e = ErrorKind::ForeignHandle { what: HandleKind::AliasScope, handle: u64::from(id) };
                return Err(self.ferr(call, e).operand(format!("{operand} {what}")));
            }
        }
        let align = if access.align == 0 { layout.align } else { u64::from(access.align) };
        Ok(ResolvedAccess {
            ty: access.ty,
            align,
            flags: access.flags,
            alias_scope: access.alias_scope,
            noalias_scope: access.noalias_scope,
        })
    }

    /// Pops an address (place or pointer) and pushes the value loaded from it.
    #[inline]
    pub fn load(&mut self, access: MemAccess) -> Result<()> {
        // The common case, inline: a scalar loaded from a place, replaced by the value.
        if self.ready_for_code() {
            if let Some(&Entry::Place { addr_space, addr, .. }) = self.func.stack.last() {
                if let Some(resolved) = self.valid_scalar_access(&access, addr_space) {
                    return match self.backend.load(addr, &resolved) {
                        Ok(v) => {
                            if let Some(top) = self.func.stack.last_mut() {
                                *top = Entry::Value { ty: access.ty, v };
                            }
                            Ok(())
                        }
                        Err(k) => Err(self.ferr("load", k)),
                    };
                }
            }
        }
        self.load_checked(access)
    }

    #[inline(never)]
    fn load_checked(&mut self, access: MemAccess) -> Result<()> {
        const CALL: &str = "load";
        self.begin_op(CALL)?;
        let a = self.peek_addr(CALL, 1, 0)?;
        let resolved = self.resolve_access(CALL, &access, a.addr_space)?;
        self.ensure_block(CALL)?;
        let v = self.backend.load(a.addr, &resolved).map_err(|k| self.ferr(CALL, k))?;
        self.pop_n(1);
        self.push_value(access.ty, v);
        Ok(())
    }

    /// Pops a value, then an address (place or pointer), and stores the value there.
    #[inline]
    pub fn store(&mut self, access: MemAccess) -> Result<()> {
        // The common case, inline: a plain scalar of exactly the access type into a place.
        if self.ready_for_code() {
            let stack = &self.func.stack;
            if let [.., Entry::Place { addr_space, addr, .. }, Entry::Value { ty, v }] = stack[..] {
                if ty == access.ty && !access.flags.contains(MemFlags::INVARIANT) {
                    if let Some(resolved) = self.valid_scalar_access(&access, addr_space) {
                        if let Err(k) = self.backend.store(addr, v, &resolved) {
                            return Err(self.ferr("store", k));
                        }
                        self.pop_n(2);
                        return Ok(());
                    }
                }
            }
        }
        self.store_checked(access)
    }

    #[inline(never)]
    fn store_checked(&mut self, access: MemAccess) -> Result<()> {
        const CALL: &str = "store";
        self.begin_op(CALL)?;
        self.check_depth(CALL, 2)?;
        let a = self.peek_addr(CALL, 2, 1)?;
        let resolved = self.resolve_access(CALL, &access, a.addr_space)?;
        if resolved.flags.contains(MemFlags::INVARIANT) {
            let e = ErrorKind::InvalidMemFlags { op: MemOp::Store, flags: MemFlags::INVARIANT };
            return Err(self.ferr(CALL, e).operand("access"));
        }
        let v = self.peek_value(CALL, 2, 0, "value", Some(access.ty))?;
        self.ensure_block(CALL)?;
        self.backend.store(a.addr, v, &resolved).map_err(|k| self.ferr(CALL, k))?;
        self.pop_n(2);
        Ok(())
    }
}
