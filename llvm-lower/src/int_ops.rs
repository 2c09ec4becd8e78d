//! Lowering of integer operations beyond the plain LLVM instructions:
//! masked shifts, min/max, rotates, saturation, bit counting, checked
//! arithmetic (overflow intrinsics; guarded division).

use cfree_facade::{CheckedOp, IntBinOp, IntUnOp, TypeId};
use inkwell::types::BasicTypeEnum;
use inkwell::values::{BasicValueEnum, IntValue};
use inkwell::IntPredicate;

use crate::backend::{LlvmBackend, POSITIONED};

impl<'ctx> LlvmBackend<'ctx> {
    /// Calls an overloaded intrinsic by name.
    pub(crate) fn call_intrinsic(
        &self,
        name: &str,
        overloads: &[BasicTypeEnum<'ctx>],
        args: &[BasicValueEnum<'ctx>],
    ) -> BasicValueEnum<'ctx> {
        let intrinsic = inkwell::intrinsics::Intrinsic::find(name).expect("intrinsic known to this LLVM");
        let f = intrinsic.get_declaration(&self.module, overloads).expect("intrinsic overload exists");
        let args: Vec<_> = args.iter().map(|a| (*a).into()).collect();
        let call = self.builder.build_call(f, &args, "").expect(POSITIONED);
        call.try_as_basic_value().basic().expect("intrinsic returns a value")
    }

    /// The two-operand integer operations that are not single LLVM instructions.
    pub(crate) fn lower_int_special(&self, op: IntBinOp, l: IntValue<'ctx>, r: IntValue<'ctx>) -> BasicValueEnum<'ctx> {
        let ty = l.get_type();
        let b = &self.builder;
        let masked = |r: IntValue<'ctx>| {
            let mask = ty.const_int(u64::from(ty.get_bit_width() - 1), false);
            b.build_and(r, mask, "").expect(POSITIONED)
        };
        let intrinsic = |name: &str, args: &[BasicValueEnum<'ctx>]| self.call_intrinsic(name, &[ty.into()], args);
        match op {
            IntBinOp::ShlMasked => b.build_left_shift(l, masked(r), "").expect(POSITIONED).into(),
            IntBinOp::LShrMasked => b.build_right_shift(l, masked(r), false, "").expect(POSITIONED).into(),
            IntBinOp::AShrMasked => b.build_right_shift(l, masked(r), true, "").expect(POSITIONED).into(),
            IntBinOp::SMin => intrinsic("llvm.smin", &[l.into(), r.into()]),
            IntBinOp::SMax => intrinsic("llvm.smax", &[l.into(), r.into()]),
            IntBinOp::UMin => intrinsic("llvm.umin", &[l.into(), r.into()]),
            IntBinOp::UMax => intrinsic("llvm.umax", &[l.into(), r.into()]),
            IntBinOp::RotL => intrinsic("llvm.fshl", &[l.into(), l.into(), r.into()]),
            IntBinOp::RotR => intrinsic("llvm.fshr", &[l.into(), l.into(), r.into()]),
            IntBinOp::SAddSat => intrinsic("llvm.sadd.sat", &[l.into(), r.into()]),
            IntBinOp::UAddSat => intrinsic("llvm.uadd.sat", &[l.into(), r.into()]),
            IntBinOp::SSubSat => intrinsic("llvm.ssub.sat", &[l.into(), r.into()]),
            IntBinOp::USubSat => intrinsic("llvm.usub.sat", &[l.into(), r.into()]),
            IntBinOp::Add
            | IntBinOp::Sub
            | IntBinOp::Mul
            | IntBinOp::And
            | IntBinOp::Or
            | IntBinOp::Xor
            | IntBinOp::Shl
            | IntBinOp::LShr
            | IntBinOp::AShr
            | IntBinOp::SDiv
            | IntBinOp::UDiv
            | IntBinOp::SRem
            | IntBinOp::URem => unreachable!("single instructions are lowered in backend.rs"),
        }
    }

    pub(crate) fn lower_int_unop(&self, op: IntUnOp, v: IntValue<'ctx>) -> BasicValueEnum<'ctx> {
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
    ) -> (BasicValueEnum<'ctx>, BasicValueEnum<'ctx>) {
        let ty = l.get_type();
        let b = &self.builder;
        let overflow_intrinsic = |name: &str| {
            let pair = self.call_intrinsic(name, &[ty.into()], &[l.into(), r.into()]).into_struct_value();
            let value = b.build_extract_value(pair, 0, "").expect(POSITIONED);
            let overflow = b.build_extract_value(pair, 1, "").expect(POSITIONED);
            (value, overflow)
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
            CheckedOp::SDiv | CheckedOp::UDiv | CheckedOp::SRem | CheckedOp::URem => {
                // bad = r == 0 || (signed && l == MIN && r == -1); divide by 1 instead, answer 0.
                let signed = matches!(op, CheckedOp::SDiv | CheckedOp::SRem);
                let zero = ty.const_zero();
                let mut bad = b.build_int_compare(IntPredicate::EQ, r, zero, "").expect(POSITIONED);
                if signed {
                    let bits = ty.get_bit_width();
                    let min = if bits > 64 {
                        ty.const_int_arbitrary_precision(&[0, 1 << 63])
                    } else {
                        ty.const_int(1 << (bits - 1), false)
                    };
                    let is_min = b.build_int_compare(IntPredicate::EQ, l, min, "").expect(POSITIONED);
                    let is_neg1 = b.build_int_compare(IntPredicate::EQ, r, ty.const_all_ones(), "").expect(POSITIONED);
                    let both = b.build_and(is_min, is_neg1, "").expect(POSITIONED);
                    bad = b.build_or(bad, both, "").expect(POSITIONED);
                }
                let safe = b.build_select(bad, ty.const_int(1, false), r, "").expect(POSITIONED).into_int_value();
                let q = match op {
                    CheckedOp::SDiv => b.build_int_signed_div(l, safe, ""),
                    CheckedOp::UDiv => b.build_int_unsigned_div(l, safe, ""),
                    CheckedOp::SRem => b.build_int_signed_rem(l, safe, ""),
                    _ => b.build_int_unsigned_rem(l, safe, ""),
                }
                .expect(POSITIONED);
                let value = b.build_select(bad, zero, q, "").expect(POSITIONED);
                (value, bad.into())
            }
        }
    }

    /// Signed multiply with overflow via `umul.with.overflow` of the magnitudes:
    /// the product overflows if the magnitudes' product does, or exceeds 2^(N-1)-1
    /// (2^(N-1) when the result is negative).
    fn smul_overflow_wide(&self, l: IntValue<'ctx>, r: IntValue<'ctx>) -> (BasicValueEnum<'ctx>, BasicValueEnum<'ctx>) {
        let ty = l.get_type();
        let b = &self.builder;
        let zero = ty.const_zero();
        let abs = |v: IntValue<'ctx>| {
            let neg = b.build_int_compare(IntPredicate::SLT, v, zero, "").expect(POSITIONED);
            let negated = b.build_int_sub(zero, v, "").expect(POSITIONED);
            let mag = b.build_select(neg, negated, v, "").expect(POSITIONED).into_int_value();
            (neg, mag)
        };
        let ((ln, lm), (rn, rm)) = (abs(l), abs(r));
        let pair =
            self.call_intrinsic("llvm.umul.with.overflow", &[ty.into()], &[lm.into(), rm.into()]).into_struct_value();
        let mag = b.build_extract_value(pair, 0, "").expect(POSITIONED).into_int_value();
        let umul_overflow = b.build_extract_value(pair, 1, "").expect(POSITIONED).into_int_value();
        let negative = b.build_xor(ln, rn, "").expect(POSITIONED);
        let max = ty.const_int_arbitrary_precision(&[u64::MAX, u64::MAX >> 1]);
        // Allowed magnitude: MAX, or MAX + 1 (= 2^(N-1)) for a negative product.
        let limit =
            b.build_int_add(max, b.build_int_z_extend(negative, ty, "").expect(POSITIONED), "").expect(POSITIONED);
        let too_big = b.build_int_compare(IntPredicate::UGT, mag, limit, "").expect(POSITIONED);
        let overflow = b.build_or(umul_overflow, too_big, "").expect(POSITIONED);
        let value = b.build_int_mul(l, r, "").expect(POSITIONED);
        (value.into(), overflow.into())
    }
}
