//! Constants: integers as bit patterns, floats by their exact bits, zero and null.

use crate::*;

impl<B: Backend> crate::Cg<B> {
    /// Pushes an integer constant. `value` must fit `ty` as a signed or unsigned number.
    #[inline]
    pub fn push_int(&mut self, ty: TypeId, value: i128) -> Result<()> {
        // The common case, inline: an integer type of this module and a value that fits.
        if self.ready_for_code() {
            if let Some(w) = self.types.int_width(ty) {
                if int_fits(w, value) {
                    return match self.backend.const_int(ty, value as u128) {
                        Ok(v) => {
                            self.push_value(ty, v);
                            Ok(())
                        }
                        Err(k) => Err(self.ferr("push_int", k)),
                    };
                }
            }
        }
        self.push_int_checked(ty, value)
    }

    #[inline(never)]
    fn push_int_checked(&mut self, ty: TypeId, value: i128) -> Result<()> {
        const CALL: &str = "push_int";
        self.begin_op(CALL)?;
        self.check_type(CALL, ty, "type")?;
        let Some(w) = self.types.int_width(ty) else {
            return Err(self.mismatch(CALL, "type", Expected::Integer, ty));
        };
        if !int_fits(w, value) {
            return Err(self.ferr(CALL, ErrorKind::ConstantOutOfRange { value, ty: self.types.name(ty) }));
        }
        self.ensure_block(CALL)?;
        let v = self.backend.const_int(ty, value as u128).map_err(|k| self.ferr(CALL, k))?;
        self.push_value(ty, v);
        Ok(())
    }

    /// Pushes an f32 constant with exactly the bits of `value`.
    pub fn push_f32(&mut self, value: f32) -> Result<()> {
        const CALL: &str = "push_f32";
        self.begin_op(CALL)?;
        let ty = self.ty_float(crate::FloatWidth::F32)?;
        self.ensure_block(CALL)?;
        let v = self.backend.const_f32(value.to_bits()).map_err(|k| self.ferr(CALL, k))?;
        self.push_value(ty, v);
        Ok(())
    }

    /// Pushes an f64 constant with exactly the bits of `value`.
    pub fn push_f64(&mut self, value: f64) -> Result<()> {
        const CALL: &str = "push_f64";
        self.begin_op(CALL)?;
        let ty = self.ty_float(crate::FloatWidth::F64)?;
        self.ensure_block(CALL)?;
        let v = self.backend.const_f64(value.to_bits()).map_err(|k| self.ferr(CALL, k))?;
        self.push_value(ty, v);
        Ok(())
    }

    /// Pushes the zero of a scalar type (the null pointer for pointer types).
    pub fn push_zero(&mut self, ty: TypeId) -> Result<()> {
        const CALL: &str = "push_zero";
        self.begin_op(CALL)?;
        self.check_type(CALL, ty, "type")?;
        if !self.types.is_scalar(ty) {
            return Err(self.mismatch(CALL, "type", Expected::Scalar, ty));
        }
        self.ensure_block(CALL)?;
        let v = self.backend.const_zero(ty).map_err(|k| self.ferr(CALL, k))?;
        self.push_value(ty, v);
        Ok(())
    }

    /// Pushes the null pointer of pointer type `ty`.
    pub fn push_null(&mut self, ty: TypeId) -> Result<()> {
        const CALL: &str = "push_null";
        self.begin_op(CALL)?;
        self.check_type(CALL, ty, "type")?;
        if self.types.ptr_addr_space(ty).is_none() {
            return Err(self.mismatch(CALL, "type", Expected::Pointer, ty));
        }
        self.ensure_block(CALL)?;
        let v = self.backend.const_zero(ty).map_err(|k| self.ferr(CALL, k))?;
        self.push_value(ty, v);
        Ok(())
    }
}

/// Whether `value` fits `w` bits as a signed or an unsigned number.
#[inline(always)]
fn int_fits(w: IntWidth, value: i128) -> bool {
    let bits = w.bits();
    bits == 128 || (value >= -(1i128 << (bits - 1)) && value < (1i128 << bits))
}
