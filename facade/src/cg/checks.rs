//! Checks: a failure condition branches to a frontend's handler label while
//! the value stack carries on in a fresh block (`doc/runtime.md`).

use crate::*;

/// How [`crate::Cg::check_nonnull`] is lowered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum CheckLowering {
    /// A compare and a branch to the handler.
    #[default]
    Explicit,
    /// Folded, where the target can (`TargetInfo::supports_implicit_null_checks`),
    /// into the first access through the pointer that follows: a null pointer
    /// makes that access fault, and the runtime's fault handler resumes at the
    /// handler through the trap table. Elsewhere lowered as `Explicit`.
    Implicit,
}

impl<B: Backend> crate::Cg<B> {
    /// Pops an `i1` that is true when a check fails; branches to `handler`
    /// when it is (the branch is marked unlikely). The rest of the stack stays:
    /// execution carries on in a new block that only the check reaches. The
    /// handler is an ordinary label (the stack is empty when it is placed);
    /// a frontend calls its panic routine there.
    pub fn check(&mut self, handler: Label) -> Result<()> {
        const CALL: &str = "check";
        self.require_open(CALL)?;
        self.check_label(CALL, handler)?;
        let i1 = self.ty_i1()?;
        let failed = self.peek_value(CALL, 1, 0, "condition", Some(i1))?;
        self.ensure_block(CALL)?;
        let handler_block = self.func.labels[handler.index()].block;
        let branched = self.backend.check_branch(failed, handler_block, false);
        self.lowered(CALL, branched)?;
        self.func.stack.pop();
        self.func.labels[handler.index()].used = true;
        Ok(())
    }

    /// Branches to `handler` if the pointer value on top of the stack is null;
    /// the pointer stays on the stack. See [`CheckLowering`] for `lowering`:
    /// an implicit check needs the runtime's fault handler (`doc/runtime.md`),
    /// and only an access within the first 4 KiB from the pointer stands in
    /// for it (LLVM keeps the branch otherwise).
    pub fn check_nonnull(&mut self, handler: Label, lowering: CheckLowering) -> Result<()> {
        const CALL: &str = "check_nonnull";
        self.require_open(CALL)?;
        self.check_label(CALL, handler)?;
        let (ty, p) = self.peek_typed(CALL, 1, 0, "pointer", None)?;
        if self.types.ptr_addr_space(ty).is_none() {
            return Err(self.mismatch(CALL, "pointer", Expected::Pointer, ty));
        }
        self.ensure_block(CALL)?;
        let null = self.backend.const_zero(ty).map_err(|k| self.ferr(CALL, k))?;
        let failed = self.backend.int_cmp(IntCmp::Eq, p, null).map_err(|k| self.ferr(CALL, k))?;
        let implicit = lowering == CheckLowering::Implicit && self.target.supports_implicit_null_checks();
        let handler_block = self.func.labels[handler.index()].block;
        let branched = self.backend.check_branch(failed, handler_block, implicit);
        self.lowered(CALL, branched)?;
        self.func.labels[handler.index()].used = true;
        Ok(())
    }
}
