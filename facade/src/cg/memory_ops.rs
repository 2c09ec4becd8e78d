//! Block memory operations and alias scopes. Each takes the same
//! [`MemAccess`] descriptor as loads and stores; its type supplies the natural
//! alignment when `align` is 0.

use crate::*;

impl<B: Backend> crate::Cg<B> {
    /// A new alias scope of this module, for [`MemAccess::in_scope`] and
    /// [`MemAccess::noalias`]. Ids start at 1; 0 means "no scope".
    pub fn alias_scope(&mut self, name: &str) -> Result<u32> {
        const CALL: &str = "alias_scope";
        if name.contains('\0') {
            return Err(Error::new(
                CALL,
                ErrorKind::InvalidName { name: name.into(), problem: NameProblem::ContainsNul },
            ));
        }
        let defined = self.backend.define_alias_scope(self.alias_scopes + 1, name);
        defined.map_err(|k| Error::new(CALL, k))?;
        self.alias_scopes += 1;
        Ok(self.alias_scopes)
    }

    fn block_access(
        &self,
        call: &'static str,
        access: &MemAccess,
        addr_space: u32,
        operand: &str,
    ) -> Result<ResolvedAccess> {
        let resolved = self.resolve_any_access(call, access, addr_space, operand)?;
        let hints = access.flags.intersection(MemFlags::NONTEMPORAL | MemFlags::INVARIANT);
        if !hints.is_empty() {
            let e = ErrorKind::InvalidMemFlags { op: MemOp::Bulk, flags: hints };
            return Err(self.ferr(call, e).operand(operand.to_string()));
        }
        Ok(resolved)
    }

    fn copy(&mut self, call: &'static str, overlapping: bool, size: u64, dst: MemAccess, src: MemAccess) -> Result<()> {
        self.require_open(call)?;
        let d = self.peek_addr(call, 2, 1)?;
        let s = self.peek_addr(call, 2, 0)?;
        let dst = self.block_access(call, &dst, d.addr_space, "destination")?;
        let src = self.block_access(call, &src, s.addr_space, "source")?;
        self.ensure_block(call)?;
        self.backend.mem_copy(overlapping, d.addr, s.addr, size, &dst, &src).map_err(|k| self.ferr(call, k))?;
        self.pop_n(2);
        Ok(())
    }

    /// Pops the source address, then the destination address, and copies
    /// `size` bytes; the ranges must not overlap (else use [`Self::memmove`]).
    pub fn memcpy(&mut self, size: u64, dst: MemAccess, src: MemAccess) -> Result<()> {
        self.copy("memcpy", false, size, dst, src)
    }

    /// As [`Self::memcpy`], for ranges that may overlap.
    pub fn memmove(&mut self, size: u64, dst: MemAccess, src: MemAccess) -> Result<()> {
        self.copy("memmove", true, size, dst, src)
    }

    /// Pops the destination address and fills `size` bytes with `value`.
    pub fn memset(&mut self, value: u8, size: u64, dst: MemAccess) -> Result<()> {
        const CALL: &str = "memset";
        self.require_open(CALL)?;
        let d = self.peek_addr(CALL, 1, 0)?;
        let dst = self.block_access(CALL, &dst, d.addr_space, "destination")?;
        self.ensure_block(CALL)?;
        self.backend.mem_set(d.addr, value, size, &dst).map_err(|k| self.ferr(CALL, k))?;
        self.pop_n(1);
        Ok(())
    }
}
