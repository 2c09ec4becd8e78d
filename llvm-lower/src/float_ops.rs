//! Lowering of floating-point operations, comparisons and float/int
//! conversions, with per-operation fast-math flags.

use cfree_facade::{BackendResult, FastMath, FloatBinOp, FloatCmp, FloatUnOp};
use inkwell::types::{FloatType, IntType};
use inkwell::values::{BasicValueEnum, FloatValue};
use inkwell::FloatPredicate;

use crate::backend::{Built, LlvmBackend};
use crate::ffi;

fn float_predicate(p: FloatCmp) -> FloatPredicate {
    match p {
        FloatCmp::Oeq => FloatPredicate::OEQ,
        FloatCmp::Ogt => FloatPredicate::OGT,
        FloatCmp::Oge => FloatPredicate::OGE,
        FloatCmp::Olt => FloatPredicate::OLT,
        FloatCmp::Ole => FloatPredicate::OLE,
        FloatCmp::One => FloatPredicate::ONE,
        FloatCmp::Ord => FloatPredicate::ORD,
        FloatCmp::Ueq => FloatPredicate::UEQ,
        FloatCmp::Ugt => FloatPredicate::UGT,
        FloatCmp::Uge => FloatPredicate::UGE,
        FloatCmp::Ult => FloatPredicate::ULT,
        FloatCmp::Ule => FloatPredicate::ULE,
        FloatCmp::Une => FloatPredicate::UNE,
        FloatCmp::Uno => FloatPredicate::UNO,
    }
}

/// LLVM 19's InstSimplify crashes (fixed by LLVM 22) on `op(copysign(x, y), op(x, y))` for
/// `op` in minnum/maxnum/minimum/maximum, with the operands of either call in any
/// order, whether `y` is a constant or not; the pattern also forms after mem2reg
/// or constant propagation, so it cannot be recognised at emission. With LLVM 19
/// copysign is therefore never an intrinsic call: see [`LlvmBackend::lower_copysign_bits`].
const COPYSIGN_AS_BITS: bool = cfg!(feature = "llvm19");

impl<'ctx> LlvmBackend<'ctx> {
    /// `copysign(mag, sign)` without `llvm.copysign`, bit for bit the same result
    /// (copysign only replaces the sign bit, NaN payloads included): `fabs(mag)`
    /// for a constant `sign` with a clear sign bit, `fneg(fabs(mag))` for one with
    /// it set, otherwise `(bits(mag) & !SIGN) | (bits(sign) & SIGN)` on the integer
    /// image. LLVM 19 turns the mask of `mag` into `fabs` but never re-forms the
    /// copysign call, and x86 selects the same `andps`/`orps` as for the intrinsic.
    fn lower_copysign_bits(
        &self,
        mag: FloatValue<'ctx>,
        sign: FloatValue<'ctx>,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        let fty = mag.get_type();
        let fabs = || -> BackendResult<FloatValue<'ctx>> {
            Ok(self.call_intrinsic("llvm.fabs", &[fty.into()], &[mag.into()])?.into_float_value())
        };
        let b = &self.builder;
        match ffi::const_float_sign(self.ctx, sign) {
            Some(false) => return Ok(fabs()?.into()),
            Some(true) => return Ok(b.build_float_neg(fabs()?, "").built()?.into()),
            None => {}
        }
        let width = if fty == self.ctx.f32_type() { 32 } else { 64 };
        let ity = crate::types::int_type(self.ctx, width);
        let sign_bit = ity.const_int(1u64 << (width - 1), false);
        let mag_bits = b.build_bit_cast(mag, ity, "").built()?.into_int_value();
        let sign_bits = b.build_bit_cast(sign, ity, "").built()?.into_int_value();
        let magnitude_mask = ity.const_int((1u64 << (width - 1)) - 1, false);
        let magnitude = b.build_and(mag_bits, magnitude_mask, "").built()?;
        let sign_only = b.build_and(sign_bits, sign_bit, "").built()?;
        let bits = b.build_or(magnitude, sign_only, "").built()?;
        b.build_bit_cast(bits, fty, "").built()
    }

    pub(crate) fn lower_float_binop(
        &self,
        op: FloatBinOp,
        fm: FastMath,
        l: FloatValue<'ctx>,
        r: FloatValue<'ctx>,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        let b = &self.builder;
        let intrinsic = |name: &str| self.call_intrinsic(name, &[l.get_type().into()], &[l.into(), r.into()]);
        let v: BasicValueEnum<'ctx> = match op {
            FloatBinOp::Add => b.build_float_add(l, r, "").built()?.into(),
            FloatBinOp::Sub => b.build_float_sub(l, r, "").built()?.into(),
            FloatBinOp::Mul => b.build_float_mul(l, r, "").built()?.into(),
            FloatBinOp::Div => b.build_float_div(l, r, "").built()?.into(),
            FloatBinOp::Rem => b.build_float_rem(l, r, "").built()?.into(),
            FloatBinOp::CopySign if COPYSIGN_AS_BITS => self.lower_copysign_bits(l, r)?,
            FloatBinOp::CopySign => intrinsic("llvm.copysign")?,
            FloatBinOp::MinNum => intrinsic("llvm.minnum")?,
            FloatBinOp::MaxNum => intrinsic("llvm.maxnum")?,
            FloatBinOp::Minimum => intrinsic("llvm.minimum")?,
            FloatBinOp::Maximum => intrinsic("llvm.maximum")?,
        };
        ffi::set_fast_math(v, fm);
        Ok(v)
    }

    pub(crate) fn lower_float_unop(
        &self,
        op: FloatUnOp,
        fm: FastMath,
        v: FloatValue<'ctx>,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        let intrinsic = |name: &str| self.call_intrinsic(name, &[v.get_type().into()], &[v.into()]);
        let out: BasicValueEnum<'ctx> = match op {
            FloatUnOp::Neg => self.builder.build_float_neg(v, "").built()?.into(),
            FloatUnOp::Abs => intrinsic("llvm.fabs")?,
            FloatUnOp::Sqrt => intrinsic("llvm.sqrt")?,
            FloatUnOp::Floor => intrinsic("llvm.floor")?,
            FloatUnOp::Ceil => intrinsic("llvm.ceil")?,
            FloatUnOp::Trunc => intrinsic("llvm.trunc")?,
            FloatUnOp::Round => intrinsic("llvm.round")?,
            FloatUnOp::RoundEven => intrinsic("llvm.roundeven")?,
        };
        ffi::set_fast_math(out, fm);
        Ok(out)
    }

    pub(crate) fn lower_fma(
        &self,
        fm: FastMath,
        a: FloatValue<'ctx>,
        b: FloatValue<'ctx>,
        c: FloatValue<'ctx>,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        let v = self.call_intrinsic("llvm.fma", &[a.get_type().into()], &[a.into(), b.into(), c.into()])?;
        ffi::set_fast_math(v, fm);
        Ok(v)
    }

    pub(crate) fn lower_float_cmp(
        &self,
        pred: FloatCmp,
        fm: FastMath,
        l: FloatValue<'ctx>,
        r: FloatValue<'ctx>,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        let v = self.builder.build_float_compare(float_predicate(pred), l, r, "").built()?.into();
        ffi::set_fast_math(v, fm);
        Ok(v)
    }

    /// `fptosi.sat`/`fptoui.sat` of `v` to `to`.
    pub(crate) fn lower_fp_to_int_sat(
        &self,
        signed: bool,
        v: FloatValue<'ctx>,
        to: IntType<'ctx>,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        let name = if signed { "llvm.fptosi.sat" } else { "llvm.fptoui.sat" };
        self.call_intrinsic(name, &[to.into(), v.get_type().into()], &[v.into()])
    }

    /// Saturating conversion plus an overflow flag: the truncated value must lie in
    /// [lo, hi), with lo and hi powers of two (exact in f32 and f64, or +inf).
    pub(crate) fn lower_fp_to_int_checked(
        &self,
        signed: bool,
        v: FloatValue<'ctx>,
        to: IntType<'ctx>,
    ) -> BackendResult<(BasicValueEnum<'ctx>, BasicValueEnum<'ctx>)> {
        let value = self.lower_fp_to_int_sat(signed, v, to)?;
        let fty: FloatType<'ctx> = v.get_type();
        let bits = to.get_bit_width() as i32;
        let (lo, hi) = if signed { (-(2f64.powi(bits - 1)), 2f64.powi(bits - 1)) } else { (0.0, 2f64.powi(bits)) };
        let t = self.call_intrinsic("llvm.trunc", &[fty.into()], &[v.into()])?.into_float_value();
        let b = &self.builder;
        let above = b.build_float_compare(FloatPredicate::OGE, t, fty.const_float(lo), "").built()?;
        let below = b.build_float_compare(FloatPredicate::OLT, t, fty.const_float(hi), "").built()?;
        let fits = b.build_and(above, below, "").built()?;
        let overflow = b.build_not(fits, "").built()?;
        Ok((value, overflow.into()))
    }
}
