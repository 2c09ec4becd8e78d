//! `select`: a value-level choice between two operands of one scalar type.

use crate::*;

impl<B: Backend> crate::Cg<B> {
    /// Pops an `i1` condition, then the value for false, then the value for
    /// true (pushed in that order: true value, false value, condition); pushes
    /// the true value if the condition is 1, else the false value. Both values
    /// have one scalar type (pointers: one address space); nothing else is
    /// evaluated conditionally (both operands are already computed).
    pub fn select(&mut self) -> Result<()> {
        const CALL: &str = "select";
        self.require_open(CALL)?;
        let i1 = self.ty_i1()?;
        let cond = self.peek_value(CALL, 3, 0, "condition", Some(i1))?;
        let (ty, when_true) = self.peek_typed(CALL, 3, 2, "true value", None)?;
        if !self.types.is_scalar(ty) {
            return Err(self.mismatch(CALL, "true value", Expected::Scalar, ty));
        }
        let when_false = self.peek_value(CALL, 3, 1, "false value", Some(ty))?;
        self.ensure_block(CALL)?;
        let v = self.backend.select(cond, when_true, when_false);
        let v = self.lowered(CALL, v)?;
        self.pop_n(3);
        self.push_value(ty, v);
        Ok(())
    }
}
