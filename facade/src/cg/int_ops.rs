//! Integer operations: arithmetic with its flags, bit
//! counting, checked arithmetic, comparisons.

use super::func::Entry;
use crate::*;

impl<B: Backend> crate::Cg<B> {
    /// Pops two integers (or pointers, for comparisons) of one type: the left operand first pushed.
    #[inline]
    pub(crate) fn peek_pair(&self, call: &'static str, allow_ptr: bool) -> Result<(TypeId, B::Value, B::Value)> {
        // The common case, checked inline: two values of one integer type.
        let stack = &self.func.stack;
        if let [.., Entry::Value { ty: lt, v: lhs }, Entry::Value { ty: rt, v: rhs }] = stack[..] {
            if lt == rt && self.types.int_width(lt).is_some() {
                return Ok((lt, lhs, rhs));
            }
        }
        self.peek_pair_slow(call, allow_ptr)
    }

    #[inline(never)]
    fn peek_pair_slow(&self, call: &'static str, allow_ptr: bool) -> Result<(TypeId, B::Value, B::Value)> {
        let (lt, lhs) = self.peek_typed(call, 2, 1, "left operand", None)?;
        let ok = self.types.int_width(lt).is_some() || (allow_ptr && self.types.ptr_addr_space(lt).is_some());
        if !ok {
            let expected = if allow_ptr { Expected::IntegerOrPointer } else { Expected::Integer };
            return Err(self.mismatch(call, "left operand", expected, lt));
        }
        let rhs = self.peek_value(call, 2, 0, "right operand", Some(lt))?;
        Ok((lt, lhs, rhs))
    }

    /// Pops two integers of one type and pushes `lhs op rhs`. `flags` must be allowed for `op`.
    #[inline]
    pub fn int_op(&mut self, op: IntBinOp, flags: IntFlags) -> Result<()> {
        // The common case, inline: two integers of one type, flags the operation allows.
        if self.ready_for_code() && op.allowed_flags().contains(flags) {
            if let [.., Entry::Value { ty, v: lhs }, Entry::Value { ty: rt, v: rhs }] = self.func.stack[..] {
                if ty == rt && self.types.int_width(ty).is_some() {
                    return match self.backend.int_binop(op, flags, lhs, rhs) {
                        Ok(v) => {
                            self.pop_n(1);
                            if let Some(top) = self.func.stack.last_mut() {
                                *top = Entry::Value { ty, v };
                            }
                            Ok(())
                        }
                        Err(k) => Err(self.ferr("int_op", k)),
                    };
                }
            }
        }
        self.int_op_checked(op, flags)
    }

    #[inline(never)]
    fn int_op_checked(&mut self, op: IntBinOp, flags: IntFlags) -> Result<()> {
        const CALL: &str = "int_op";
        self.require_open(CALL)?;
        let allowed = op.allowed_flags();
        if !allowed.contains(flags) {
            return Err(self.ferr(CALL, ErrorKind::InvalidIntFlags { op, flags: flags.without(allowed) }));
        }
        let (ty, lhs, rhs) = self.peek_pair(CALL, false)?;
        self.ensure_block(CALL)?;
        let v = self.backend.int_binop(op, flags, lhs, rhs).map_err(|k| self.ferr(CALL, k))?;
        self.pop_n(2);
        self.push_value(ty, v);
        Ok(())
    }

    /// Pops two integers or two pointers of one type and pushes the `i1` comparison.
    pub fn int_cmp(&mut self, pred: IntCmp) -> Result<()> {
        const CALL: &str = "int_cmp";
        self.require_open(CALL)?;
        let (_, lhs, rhs) = self.peek_pair(CALL, true)?;
        let i1 = self.ty_i1()?;
        self.ensure_block(CALL)?;
        let v = self.backend.int_cmp(pred, lhs, rhs).map_err(|k| self.ferr(CALL, k))?;
        self.pop_n(2);
        self.push_value(i1, v);
        Ok(())
    }

    /// Pops an integer and pushes `op` of it (same type; `Bswap` needs a multiple of 16 bits).
    pub fn int_unop(&mut self, op: IntUnOp) -> Result<()> {
        const CALL: &str = "int_unop";
        self.require_open(CALL)?;
        let (ty, v) = self.peek_typed(CALL, 1, 0, "operand", None)?;
        let Some(w) = self.types.int_width(ty) else {
            return Err(self.mismatch(CALL, "operand", Expected::Integer, ty));
        };
        if op == IntUnOp::Bswap && w.bits() % 16 != 0 {
            return Err(self.mismatch(CALL, "operand", Expected::IntegerMultipleOf16, ty));
        }
        self.ensure_block(CALL)?;
        let out = self.backend.int_unop(op, v).map_err(|k| self.ferr(CALL, k))?;
        self.pop_n(1);
        self.push_value(ty, out);
        Ok(())
    }

    /// Pops two integers of one type and pushes the result of `op`, then an `i1`
    /// overflow flag (see [`CheckedOp`]).
    pub fn checked(&mut self, op: CheckedOp) -> Result<()> {
        const CALL: &str = "checked";
        self.require_open(CALL)?;
        let (ty, lhs, rhs) = self.peek_pair(CALL, false)?;
        let i1 = self.ty_i1()?;
        self.ensure_block(CALL)?;
        let (out, overflow) = self.backend.checked(op, ty, lhs, rhs).map_err(|k| self.ferr(CALL, k))?;
        self.pop_n(2);
        self.push_value(ty, out);
        self.push_value(i1, overflow);
        Ok(())
    }
}
