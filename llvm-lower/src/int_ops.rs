//! Integer operations: the LLVM instruction or intrinsic of each `IntBinOp`
//! (with `nsw`/`nuw`/`exact` where the result is an instruction), bit
//! counting, checked arithmetic (overflow intrinsics; guarded division) and
//! comparisons.

use cfree_facade::{BackendResult, CheckedOp, IntBinOp, IntCmp, IntFlags, IntUnOp, TypeId};
use inkwell::types::BasicTypeEnum;
use inkwell::values::{BasicValueEnum, IntValue};
use inkwell::IntPredicate;

use crate::backend::{refused, Built, LlvmBackend};
use crate::ffi;

type Pair<'ctx> = (BasicValueEnum<'ctx>, BasicValueEnum<'ctx>);

impl<'ctx> LlvmBackend<'ctx> {
    /// Calls an overloaded intrinsic by name.
    pub(crate) fn call_intrinsic(
        &self,
        name: &str,
        overloads: &[BasicTypeEnum<'ctx>],
        args: &[BasicValueEnum<'ctx>],
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        let intrinsic = inkwell::intrinsics::Intrinsic::find(name)
            .ok_or_else(|| refused(format!("intrinsic {name} is unknown to this LLVM")))?;
        let f = intrinsic
            .get_declaration(&self.module, overloads)
            .ok_or_else(|| refused(format!("no overload of {name} for {overloads:?}")))?;
        let args: Vec<_> = args.iter().map(|a| (*a).into()).collect();
        let call = self.builder.build_call(f, &args, "").built()?;
        call.try_as_basic_value().basic().ok_or_else(|| refused(format!("{name} returned no value")))
    }

    pub(crate) fn lower_int_binop(
        &mut self,
        op: IntBinOp,
        flags: IntFlags,
        lhs: BasicValueEnum<'ctx>,
        rhs: BasicValueEnum<'ctx>,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        use crate::llvm_sys::LLVMOpcode;
        // Operations that are one instruction: straight to LLVM.
        let opcode = match op {
            IntBinOp::Add => Some(LLVMOpcode::LLVMAdd),
            IntBinOp::Sub => Some(LLVMOpcode::LLVMSub),
            IntBinOp::Mul => Some(LLVMOpcode::LLVMMul),
            IntBinOp::And => Some(LLVMOpcode::LLVMAnd),
            IntBinOp::Or => Some(LLVMOpcode::LLVMOr),
            IntBinOp::Xor => Some(LLVMOpcode::LLVMXor),
            IntBinOp::Shl => Some(LLVMOpcode::LLVMShl),
            IntBinOp::LShr => Some(LLVMOpcode::LLVMLShr),
            IntBinOp::AShr => Some(LLVMOpcode::LLVMAShr),
            IntBinOp::SDiv => Some(LLVMOpcode::LLVMSDiv),
            IntBinOp::UDiv => Some(LLVMOpcode::LLVMUDiv),
            IntBinOp::SRem => Some(LLVMOpcode::LLVMSRem),
            IntBinOp::URem => Some(LLVMOpcode::LLVMURem),
            _ => None,
        };
        if let Some(opcode) = opcode {
            let v = ffi::build_int_binop(&self.builder, opcode, lhs, rhs);
            if flags != IntFlags::NONE {
                ffi::set_int_flags(
                    v,
                    flags.contains(IntFlags::NSW),
                    flags.contains(IntFlags::NUW),
                    flags.contains(IntFlags::EXACT),
                );
            }
            return Ok(v);
        }
        let (l, r) = (lhs.into_int_value(), rhs.into_int_value());
        let ty = l.get_type();
        let b = &self.builder;
        let masked = |r: IntValue<'ctx>| {
            let mask = ty.const_int(u64::from(ty.get_bit_width() - 1), false);
            b.build_and(r, mask, "").built()
        };
        let intrinsic = |name: &str, args: &[BasicValueEnum<'ctx>]| self.call_intrinsic(name, &[ty.into()], args);
        let instruction = match op {
            IntBinOp::Add => b.build_int_add(l, r, ""),
            IntBinOp::Sub => b.build_int_sub(l, r, ""),
            IntBinOp::Mul => b.build_int_mul(l, r, ""),
            IntBinOp::And => b.build_and(l, r, ""),
            IntBinOp::Or => b.build_or(l, r, ""),
            IntBinOp::Xor => b.build_xor(l, r, ""),
            IntBinOp::Shl => b.build_left_shift(l, r, ""),
            IntBinOp::LShr => b.build_right_shift(l, r, false, ""),
            IntBinOp::AShr => b.build_right_shift(l, r, true, ""),
            IntBinOp::SDiv => b.build_int_signed_div(l, r, ""),
            IntBinOp::UDiv => b.build_int_unsigned_div(l, r, ""),
            IntBinOp::SRem => b.build_int_signed_rem(l, r, ""),
            IntBinOp::URem => b.build_int_unsigned_rem(l, r, ""),
            IntBinOp::ShlMasked => b.build_left_shift(l, masked(r)?, ""),
            IntBinOp::LShrMasked => b.build_right_shift(l, masked(r)?, false, ""),
            IntBinOp::AShrMasked => b.build_right_shift(l, masked(r)?, true, ""),
            IntBinOp::SMin => return intrinsic("llvm.smin", &[l.into(), r.into()]),
            IntBinOp::SMax => return intrinsic("llvm.smax", &[l.into(), r.into()]),
            IntBinOp::UMin => return intrinsic("llvm.umin", &[l.into(), r.into()]),
            IntBinOp::UMax => return intrinsic("llvm.umax", &[l.into(), r.into()]),
            IntBinOp::RotL => return intrinsic("llvm.fshl", &[l.into(), l.into(), r.into()]),
            IntBinOp::RotR => return intrinsic("llvm.fshr", &[l.into(), l.into(), r.into()]),
            IntBinOp::SAddSat => return intrinsic("llvm.sadd.sat", &[l.into(), r.into()]),
            IntBinOp::UAddSat => return intrinsic("llvm.uadd.sat", &[l.into(), r.into()]),
            IntBinOp::SSubSat => return intrinsic("llvm.ssub.sat", &[l.into(), r.into()]),
            IntBinOp::USubSat => return intrinsic("llvm.usub.sat", &[l.into(), r.into()]),
        }
        .built()?;
        let v: BasicValueEnum<'ctx> = instruction.into();
        if flags != IntFlags::NONE {
            ffi::set_int_flags(
                v,
                flags.contains(IntFlags::NSW),
                flags.contains(IntFlags::NUW),
                flags.contains(IntFlags::EXACT),
            );
        }
        Ok(v)
    }

    pub(crate) fn lower_int_unop(&self, op: IntUnOp, v: IntValue<'ctx>) -> BackendResult<BasicValueEnum<'ctx>> {
        let ty = v.get_type();
        // ctlz/cttz of zero is defined (the width): is_zero_poison = false.
        let no_poison = self.ctx.bool_type().const_zero().into();
        let (name, args): (&str, Vec<BasicValueEnum<'ctx>>) = match op {
            IntUnOp::Clz => ("llvm.ctlz", vec![v.into(), no_poison]),
            IntUnOp::Ctz => ("llvm.cttz", vec![v.into(), no_poison]),
            IntUnOp::Popcount => ("llvm.ctpop", vec![v.into()]),
            IntUnOp::Bswap => ("llvm.bswap", vec![v.into()]),
            IntUnOp::BitReverse => ("llvm.bitreverse", vec![v.into()]),
        };
        self.call_intrinsic(name, &[ty.into()], &args)
    }

    pub(crate) fn lower_checked(
        &self,
        op: CheckedOp,
        _ty: TypeId,
        l: IntValue<'ctx>,
        r: IntValue<'ctx>,
    ) -> BackendResult<Pair<'ctx>> {
        let ty = l.get_type();
        let b = &self.builder;
        let overflow_intrinsic = |name: &str| {
            let pair = self.call_intrinsic(name, &[ty.into()], &[l.into(), r.into()])?.into_struct_value();
            let value = b.build_extract_value(pair, 0, "").built()?;
            let overflow = b.build_extract_value(pair, 1, "").built()?;
            Ok((value, overflow))
        };
        match op {
            CheckedOp::SAdd => overflow_intrinsic("llvm.sadd.with.overflow"),
            CheckedOp::UAdd => overflow_intrinsic("llvm.uadd.with.overflow"),
            CheckedOp::SSub => overflow_intrinsic("llvm.ssub.with.overflow"),
            CheckedOp::USub => overflow_intrinsic("llvm.usub.with.overflow"),
            // LLVM lowers the i128 case to compiler-rt's __muloti4, which libgcc lacks, so
            // AOT links fail on aarch64/riscv64: expand it through the unsigned product.
            CheckedOp::SMul if ty.get_bit_width() == 128 => self.smul_overflow_wide(l, r),
            CheckedOp::SMul => overflow_intrinsic("llvm.smul.with.overflow"),
            CheckedOp::UMul => overflow_intrinsic("llvm.umul.with.overflow"),
            CheckedOp::SDiv => self.checked_division(l, r, true, false),
            CheckedOp::UDiv => self.checked_division(l, r, false, false),
            CheckedOp::SRem => self.checked_division(l, r, true, true),
            CheckedOp::URem => self.checked_division(l, r, false, true),
        }
    }

    /// Division or remainder that never traps: bad = r == 0 || (signed && l ==
    /// MIN && r == -1); a bad division divides by 1 instead and answers 0.
    fn checked_division(
        &self,
        l: IntValue<'ctx>,
        r: IntValue<'ctx>,
        signed: bool,
        rem: bool,
    ) -> BackendResult<Pair<'ctx>> {
        let ty = l.get_type();
        let b = &self.builder;
        let zero = ty.const_zero();
        let mut bad = b.build_int_compare(IntPredicate::EQ, r, zero, "").built()?;
        if signed {
            let bits = ty.get_bit_width();
            let min = if bits > 64 {
                ty.const_int_arbitrary_precision(&[0, 1 << 63])
            } else {
                ty.const_int(1 << (bits - 1), false)
            };
            let is_min = b.build_int_compare(IntPredicate::EQ, l, min, "").built()?;
            let is_neg1 = b.build_int_compare(IntPredicate::EQ, r, ty.const_all_ones(), "").built()?;
            let both = b.build_and(is_min, is_neg1, "").built()?;
            bad = b.build_or(bad, both, "").built()?;
        }
        let safe = b.build_select(bad, ty.const_int(1, false), r, "").built()?.into_int_value();
        let q = match (signed, rem) {
            (true, false) => b.build_int_signed_div(l, safe, ""),
            (false, false) => b.build_int_unsigned_div(l, safe, ""),
            (true, true) => b.build_int_signed_rem(l, safe, ""),
            (false, true) => b.build_int_unsigned_rem(l, safe, ""),
        }
        .built()?;
        let value = b.build_select(bad, zero, q, "").built()?;
        Ok((value, bad.into()))
    }

    /// Signed multiply with overflow via `umul.with.overflow` of the magnitudes:
    /// the product overflows if the magnitudes' product does, or exceeds 2^(N-1)-1
    /// (2^(N-1) when the result is negative).
    fn smul_overflow_wide(&self, l: IntValue<'ctx>, r: IntValue<'ctx>) -> BackendResult<Pair<'ctx>> {
        let ty = l.get_type();
        let b = &self.builder;
        let zero = ty.const_zero();
        let abs = |v: IntValue<'ctx>| -> BackendResult<_> {
            let neg = b.build_int_compare(IntPredicate::SLT, v, zero, "").built()?;
            let negated = b.build_int_sub(zero, v, "").built()?;
            let mag = b.build_select(neg, negated, v, "").built()?.into_int_value();
            Ok((neg, mag))
        };
        let ((ln, lm), (rn, rm)) = (abs(l)?, abs(r)?);
        let pair =
            self.call_intrinsic("llvm.umul.with.overflow", &[ty.into()], &[lm.into(), rm.into()])?.into_struct_value();
        let mag = b.build_extract_value(pair, 0, "").built()?.into_int_value();
        let umul_overflow = b.build_extract_value(pair, 1, "").built()?.into_int_value();
        let negative = b.build_xor(ln, rn, "").built()?;
        let max = ty.const_int_arbitrary_precision(&[u64::MAX, u64::MAX >> 1]);
        // Allowed magnitude: MAX, or MAX + 1 (= 2^(N-1)) for a negative product.
        let limit = b.build_int_add(max, b.build_int_z_extend(negative, ty, "").built()?, "").built()?;
        let too_big = b.build_int_compare(IntPredicate::UGT, mag, limit, "").built()?;
        let overflow = b.build_or(umul_overflow, too_big, "").built()?;
        let value = b.build_int_mul(l, r, "").built()?;
        Ok((value.into(), overflow.into()))
    }

    pub(crate) fn lower_int_cmp(
        &mut self,
        pred: IntCmp,
        lhs: BasicValueEnum<'ctx>,
        rhs: BasicValueEnum<'ctx>,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        let p = int_predicate(pred);
        let cmp = match (lhs, rhs) {
            (BasicValueEnum::PointerValue(l), BasicValueEnum::PointerValue(r)) => {
                self.builder.build_int_compare(p, l, r, "")
            }
            (l, r) => self.builder.build_int_compare(p, l.into_int_value(), r.into_int_value(), ""),
        };
        Ok(cmp.built()?.into())
    }
}

fn int_predicate(p: IntCmp) -> IntPredicate {
    match p {
        IntCmp::Eq => IntPredicate::EQ,
        IntCmp::Ne => IntPredicate::NE,
        IntCmp::Slt => IntPredicate::SLT,
        IntCmp::Sle => IntPredicate::SLE,
        IntCmp::Sgt => IntPredicate::SGT,
        IntCmp::Sge => IntPredicate::SGE,
        IntCmp::Ult => IntPredicate::ULT,
        IntCmp::Ule => IntPredicate::ULE,
        IntCmp::Ugt => IntPredicate::UGT,
        IntCmp::Uge => IntPredicate::UGE,
    }
}
