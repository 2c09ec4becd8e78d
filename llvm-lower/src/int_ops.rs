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
        use crate::llvm_sys::LLVMOpcode::*;
        // One instruction (a masked shift ANDs its amount with width - 1 first), or an intrinsic.
        let (opcode, masked) = match op {
            IntBinOp::Add => (LLVMAdd, false),
            IntBinOp::Sub => (LLVMSub, false),
            IntBinOp::Mul => (LLVMMul, false),
            IntBinOp::And => (LLVMAnd, false),
            IntBinOp::Or => (LLVMOr, false),
            IntBinOp::Xor => (LLVMXor, false),
            IntBinOp::Shl => (LLVMShl, false),
            IntBinOp::LShr => (LLVMLShr, false),
            IntBinOp::AShr => (LLVMAShr, false),
            IntBinOp::SDiv => (LLVMSDiv, false),
            IntBinOp::UDiv => (LLVMUDiv, false),
            IntBinOp::SRem => (LLVMSRem, false),
            IntBinOp::URem => (LLVMURem, false),
            IntBinOp::ShlMasked => (LLVMShl, true),
            IntBinOp::LShrMasked => (LLVMLShr, true),
            IntBinOp::AShrMasked => (LLVMAShr, true),
            IntBinOp::SMin
            | IntBinOp::SMax
            | IntBinOp::UMin
            | IntBinOp::UMax
            | IntBinOp::RotL
            | IntBinOp::RotR
            | IntBinOp::SAddSat
            | IntBinOp::UAddSat
            | IntBinOp::SSubSat
            | IntBinOp::USubSat => return self.int_binop_intrinsic(op, lhs, rhs),
        };
        let rhs = if masked {
            let ty = lhs.into_int_value().get_type();
            let mask = ty.const_int(u64::from(ty.get_bit_width() - 1), false).into();
            ffi::build_int_binop(&self.builder, LLVMAnd, rhs, mask)
        } else {
            rhs
        };
        let v = ffi::build_int_binop(&self.builder, opcode, lhs, rhs);
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

    /// The integer operations LLVM has an intrinsic for (no flags apply).
    fn int_binop_intrinsic(
        &mut self,
        op: IntBinOp,
        l: BasicValueEnum<'ctx>,
        r: BasicValueEnum<'ctx>,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        let (name, args): (&str, &[BasicValueEnum<'ctx>]) = match op {
            IntBinOp::SMin => ("llvm.smin", &[l, r]),
            IntBinOp::SMax => ("llvm.smax", &[l, r]),
            IntBinOp::UMin => ("llvm.umin", &[l, r]),
            IntBinOp::UMax => ("llvm.umax", &[l, r]),
            IntBinOp::RotL => ("llvm.fshl", &[l, l, r]),
            IntBinOp::RotR => ("llvm.fshr", &[l, l, r]),
            IntBinOp::SAddSat => ("llvm.sadd.sat", &[l, r]),
            IntBinOp::UAddSat => ("llvm.uadd.sat", &[l, r]),
            IntBinOp::SSubSat => ("llvm.ssub.sat", &[l, r]),
            IntBinOp::USubSat => ("llvm.usub.sat", &[l, r]),
            _ => return Err(refused(format!("{op:?} is not an intrinsic operation"))),
        };
        self.call_intrinsic(name, &[l.get_type()], args)
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
