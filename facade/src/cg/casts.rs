//! Conversions (`CastOp`), checked float-to-integer conversion and `freeze`.

use super::func::Entry;
use crate::*;

impl<B: Backend> crate::Cg<B> {
    /// Pops a scalar and pushes it converted by `op` to type `to`.
    #[inline]
    pub fn cast(&mut self, op: CastOp, to: TypeId) -> Result<()> {
        // The common case, inline: an integer widened or narrowed.
        if self.ready_for_code() && matches!(op, CastOp::SExt | CastOp::ZExt | CastOp::Trunc) {
            if let Some(&Entry::Value { ty: from, v }) = self.func.stack.last() {
                if let (Some(f), Some(t)) = (self.types.int_width(from), self.types.int_width(to)) {
                    let valid = if op == CastOp::Trunc { f > t } else { f < t };
                    if valid {
                        return match self.backend.cast(op, v, to) {
                            Ok(out) => {
                                if let Some(top) = self.func.stack.last_mut() {
                                    *top = Entry::Value { ty: to, v: out };
                                }
                                Ok(())
                            }
                            Err(k) => Err(self.ferr("cast", k)),
                        };
                    }
                }
            }
        }
        self.cast_all(op, to)
    }

    #[inline(never)]
    fn cast_all(&mut self, op: CastOp, to: TypeId) -> Result<()> {
        const CALL: &str = "cast";
        self.begin_op(CALL)?;
        self.check_type(CALL, to, "target type")?;
        let (from, v) = self.peek_typed(CALL, 1, 0, "operand", None)?;
        let managed_int_cast = matches!(op, CastOp::PtrToInt | CastOp::IntToPtr | CastOp::Bitcast)
            && (self.is_managed_ptr(from) || self.is_managed_ptr(to));
        if managed_int_cast || !self.valid_cast(op, from, to) {
            let (from, to) = (self.types.name(from), self.types.name(to));
            return Err(self.ferr(CALL, ErrorKind::InvalidConversion { op, from, to }));
        }
        self.ensure_block(CALL)?;
        let out = self.backend.cast(op, v, to).map_err(|k| self.ferr(CALL, k))?;
        self.pop_n(1);
        self.push_value(to, out);
        Ok(())
    }

    fn valid_cast(&self, op: CastOp, from: TypeId, to: TypeId) -> bool {
        let t = &self.types;
        let (fw, tw) = (t.int_width(from), t.int_width(to));
        let float_bits = |ty| match t.kind(ty) {
            TypeKind::Float(w) => Some(w.bits()),
            _ => None,
        };
        let (ff, tf) = (float_bits(from), float_bits(to));
        let (fp, tp) = (t.ptr_addr_space(from).is_some(), t.ptr_addr_space(to).is_some());
        let bits = |ty| t.int_width(ty).map(|w| w.bits()).or(float_bits(ty));
        match op {
            CastOp::SExt | CastOp::ZExt => matches!((fw, tw), (Some(f), Some(t)) if f < t),
            CastOp::Trunc => matches!((fw, tw), (Some(f), Some(t)) if f > t),
            CastOp::PtrToInt => fp && tw.is_some(),
            CastOp::IntToPtr => fw.is_some() && tp,
            CastOp::FpExt => matches!((ff, tf), (Some(f), Some(t)) if f < t),
            CastOp::FpTrunc => matches!((ff, tf), (Some(f), Some(t)) if f > t),
            CastOp::SIToFP | CastOp::UIToFP => fw.is_some_and(|w| w.bits() > 1) && tf.is_some(),
            CastOp::FPToSI | CastOp::FPToUI | CastOp::FPToSISat | CastOp::FPToUISat => {
                ff.is_some() && tw.is_some_and(|w| w.bits() > 1)
            }
            CastOp::Bitcast => (ff.is_some() || tf.is_some()) && bits(from).is_some() && bits(from) == bits(to),
        }
    }

    /// Pops a float and pushes its conversion toward zero to integer type `to`
    /// (saturated, NaN to 0), then an `i1` that is 1 when the value did not fit
    /// (or was NaN). `op` is `FPToSI` or `FPToUI`.
    pub fn cast_checked(&mut self, op: CastOp, to: TypeId) -> Result<()> {
        const CALL: &str = "cast_checked";
        self.begin_op(CALL)?;
        self.check_type(CALL, to, "target type")?;
        let (from, v) = self.peek_typed(CALL, 1, 0, "operand", None)?;
        if !matches!(op, CastOp::FPToSI | CastOp::FPToUI) || !self.valid_cast(op, from, to) {
            let (from, to) = (self.types.name(from), self.types.name(to));
            return Err(self.ferr(CALL, ErrorKind::InvalidConversion { op, from, to }));
        }
        let i1 = self.ty_i1()?;
        self.ensure_block(CALL)?;
        let (out, overflow) = self.backend.cast_checked(op == CastOp::FPToSI, v, to).map_err(|k| self.ferr(CALL, k))?;
        self.pop_n(1);
        self.push_value(to, out);
        self.push_value(i1, overflow);
        Ok(())
    }

    /// Pops a scalar and pushes it frozen: poison or undef become an arbitrary but fixed value.
    pub fn freeze(&mut self) -> Result<()> {
        const CALL: &str = "freeze";
        self.begin_op(CALL)?;
        let (ty, v) = self.peek_typed(CALL, 1, 0, "operand", None)?;
        self.ensure_block(CALL)?;
        let out = self.backend.freeze(v).map_err(|k| self.ferr(CALL, k))?;
        self.pop_n(1);
        self.push_value(ty, out);
        Ok(())
    }
}
