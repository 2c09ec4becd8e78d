//! Floating-point operations (`doc/semantics.md`): arithmetic, IEEE functions and
//! comparisons, each with per-operation fast-math facts (strict by default).

use crate::*;

impl<B: Backend> crate::Cg<B> {
    fn peek_float(
        &self,
        call: &'static str,
        needed: usize,
        from_top: usize,
        operand: &str,
    ) -> Result<(TypeId, B::Value)> {
        let (ty, v) = self.peek_typed(call, needed, from_top, operand, None)?;
        if !matches!(self.types.kind(ty), TypeKind::Float(_)) {
            return Err(self.mismatch(call, operand, Expected::Float, ty));
        }
        Ok((ty, v))
    }

    fn peek_float_pair(&self, call: &'static str) -> Result<(TypeId, B::Value, B::Value)> {
        let (ty, lhs) = self.peek_float(call, 2, 1, "left operand")?;
        let rhs = self.peek_value(call, 2, 0, "right operand", Some(ty))?;
        Ok((ty, lhs, rhs))
    }

    /// Pops two floats of one type and pushes `lhs op rhs`.
    pub fn float_op(&mut self, op: FloatBinOp, fm: FastMath) -> Result<()> {
        const CALL: &str = "float_op";
        self.require_open(CALL)?;
        let (ty, lhs, rhs) = self.peek_float_pair(CALL)?;
        self.ensure_block(CALL)?;
        let v = self.backend.float_binop(op, fm, lhs, rhs).map_err(|k| self.ferr(CALL, k))?;
        self.pop_n(2);
        self.push_value(ty, v);
        Ok(())
    }

    /// Pops a float and pushes `op` of it.
    pub fn float_unop(&mut self, op: FloatUnOp, fm: FastMath) -> Result<()> {
        const CALL: &str = "float_unop";
        self.require_open(CALL)?;
        let (ty, v) = self.peek_float(CALL, 1, 0, "operand")?;
        self.ensure_block(CALL)?;
        let out = self.backend.float_unop(op, fm, v).map_err(|k| self.ferr(CALL, k))?;
        self.pop_n(1);
        self.push_value(ty, out);
        Ok(())
    }

    /// Pops `c`, `b`, `a` (pushed in that order: `a` first) and pushes `a * b + c`
    /// with a single rounding.
    pub fn fma(&mut self, fm: FastMath) -> Result<()> {
        const CALL: &str = "fma";
        self.require_open(CALL)?;
        let (ty, a) = self.peek_float(CALL, 3, 2, "a")?;
        let b = self.peek_value(CALL, 3, 1, "b", Some(ty))?;
        let c = self.peek_value(CALL, 3, 0, "c", Some(ty))?;
        self.ensure_block(CALL)?;
        let v = self.backend.fma(fm, a, b, c).map_err(|k| self.ferr(CALL, k))?;
        self.pop_n(3);
        self.push_value(ty, v);
        Ok(())
    }

    /// Pops two floats of one type and pushes the `i1` comparison.
    pub fn float_cmp(&mut self, pred: FloatCmp, fm: FastMath) -> Result<()> {
        const CALL: &str = "float_cmp";
        self.require_open(CALL)?;
        let (_, lhs, rhs) = self.peek_float_pair(CALL)?;
        let i1 = self.ty_i1()?;
        self.ensure_block(CALL)?;
        let v = self.backend.float_cmp(pred, fm, lhs, rhs).map_err(|k| self.ferr(CALL, k))?;
        self.pop_n(2);
        self.push_value(i1, v);
        Ok(())
    }
}
