//! Conversions: `CastOp` as LLVM casts (saturating ones as intrinsics), the
//! checked float-to-integer conversion and `freeze`.

use cfree_facade::*;
use inkwell::values::BasicValueEnum;

use crate::backend::{Built, LlvmBackend};
use crate::ffi;

impl<'ctx> LlvmBackend<'ctx> {
    pub(crate) fn lower_cast(
        &mut self,
        op: CastOp,
        value: BasicValueEnum<'ctx>,
        to: TypeId,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        let to_ty = self.basic(to);
        let b = &self.builder;
        match op {
            CastOp::SExt => b.build_int_s_extend(value.into_int_value(), to_ty.into_int_type(), "").map(Into::into),
            CastOp::ZExt => b.build_int_z_extend(value.into_int_value(), to_ty.into_int_type(), "").map(Into::into),
            CastOp::Trunc => b.build_int_truncate(value.into_int_value(), to_ty.into_int_type(), "").map(Into::into),
            CastOp::PtrToInt => {
                b.build_ptr_to_int(value.into_pointer_value(), to_ty.into_int_type(), "").map(Into::into)
            }
            CastOp::IntToPtr => {
                b.build_int_to_ptr(value.into_int_value(), to_ty.into_pointer_type(), "").map(Into::into)
            }
            CastOp::FpExt => b.build_float_ext(value.into_float_value(), to_ty.into_float_type(), "").map(Into::into),
            CastOp::FpTrunc => {
                b.build_float_trunc(value.into_float_value(), to_ty.into_float_type(), "").map(Into::into)
            }
            CastOp::SIToFP => {
                b.build_signed_int_to_float(value.into_int_value(), to_ty.into_float_type(), "").map(Into::into)
            }
            CastOp::UIToFP => {
                b.build_unsigned_int_to_float(value.into_int_value(), to_ty.into_float_type(), "").map(Into::into)
            }
            CastOp::FPToSI => {
                b.build_float_to_signed_int(value.into_float_value(), to_ty.into_int_type(), "").map(Into::into)
            }
            CastOp::FPToUI => {
                b.build_float_to_unsigned_int(value.into_float_value(), to_ty.into_int_type(), "").map(Into::into)
            }
            CastOp::FPToSISat => {
                return self.lower_fp_to_int_sat(true, value.into_float_value(), to_ty.into_int_type())
            }
            CastOp::FPToUISat => {
                return self.lower_fp_to_int_sat(false, value.into_float_value(), to_ty.into_int_type())
            }
            CastOp::Bitcast => b.build_bit_cast(value, to_ty, ""),
        }
        .built()
    }

    pub(crate) fn lower_cast_checked(
        &mut self,
        signed: bool,
        value: BasicValueEnum<'ctx>,
        to: TypeId,
    ) -> BackendResult<(BasicValueEnum<'ctx>, BasicValueEnum<'ctx>)> {
        self.lower_fp_to_int_checked(signed, value.into_float_value(), self.basic(to).into_int_type())
    }

    pub(crate) fn lower_freeze(&mut self, value: BasicValueEnum<'ctx>) -> BasicValueEnum<'ctx> {
        ffi::build_freeze(&self.builder, value)
    }
}
