//! Operator tables: which facade operation each wasm operator is. Every
//! table is a `match` over the operators it covers; the emitter
//! (`body.rs`) handles the rest one by one.

use cfree_facade::{CastOp, FloatBinOp, FloatCmp, FloatUnOp, IntBinOp, IntCmp};
use wasmparser::{MemArg, Operator};

use crate::decode::ValType;

pub(super) fn int_cmp(op: &Operator<'_>) -> Option<IntCmp> {
    use Operator::*;
    Some(match op {
        I32Eq | I64Eq => IntCmp::Eq,
        I32Ne | I64Ne => IntCmp::Ne,
        I32LtS | I64LtS => IntCmp::Slt,
        I32LtU | I64LtU => IntCmp::Ult,
        I32GtS | I64GtS => IntCmp::Sgt,
        I32GtU | I64GtU => IntCmp::Ugt,
        I32LeS | I64LeS => IntCmp::Sle,
        I32LeU | I64LeU => IntCmp::Ule,
        I32GeS | I64GeS => IntCmp::Sge,
        I32GeU | I64GeU => IntCmp::Uge,
        _ => return None,
    })
}

pub(super) fn float_cmp(op: &Operator<'_>) -> Option<FloatCmp> {
    use Operator::*;
    Some(match op {
        F32Eq | F64Eq => FloatCmp::Oeq,
        F32Ne | F64Ne => FloatCmp::Une,
        F32Lt | F64Lt => FloatCmp::Olt,
        F32Gt | F64Gt => FloatCmp::Ogt,
        F32Le | F64Le => FloatCmp::Ole,
        F32Ge | F64Ge => FloatCmp::Oge,
        _ => return None,
    })
}

pub(super) fn int_bin(op: &Operator<'_>) -> Option<(ValType, IntBinOp)> {
    use Operator::*;
    use ValType::{I32 as A, I64 as B};
    Some(match op {
        I32Add => (A, IntBinOp::Add),
        I64Add => (B, IntBinOp::Add),
        I32Sub => (A, IntBinOp::Sub),
        I64Sub => (B, IntBinOp::Sub),
        I32Mul => (A, IntBinOp::Mul),
        I64Mul => (B, IntBinOp::Mul),
        I32And => (A, IntBinOp::And),
        I64And => (B, IntBinOp::And),
        I32Or => (A, IntBinOp::Or),
        I64Or => (B, IntBinOp::Or),
        I32Xor => (A, IntBinOp::Xor),
        I64Xor => (B, IntBinOp::Xor),
        I32Shl => (A, IntBinOp::ShlMasked),
        I64Shl => (B, IntBinOp::ShlMasked),
        I32ShrS => (A, IntBinOp::AShrMasked),
        I64ShrS => (B, IntBinOp::AShrMasked),
        I32ShrU => (A, IntBinOp::LShrMasked),
        I64ShrU => (B, IntBinOp::LShrMasked),
        I32Rotl => (A, IntBinOp::RotL),
        I64Rotl => (B, IntBinOp::RotL),
        I32Rotr => (A, IntBinOp::RotR),
        I64Rotr => (B, IntBinOp::RotR),
        _ => return None,
    })
}

pub(super) fn float_bin(op: &Operator<'_>) -> Option<(ValType, FloatBinOp)> {
    use Operator::*;
    use ValType::{F32 as A, F64 as B};
    Some(match op {
        F32Add => (A, FloatBinOp::Add),
        F64Add => (B, FloatBinOp::Add),
        F32Sub => (A, FloatBinOp::Sub),
        F64Sub => (B, FloatBinOp::Sub),
        F32Mul => (A, FloatBinOp::Mul),
        F64Mul => (B, FloatBinOp::Mul),
        F32Div => (A, FloatBinOp::Div),
        F64Div => (B, FloatBinOp::Div),
        F32Min => (A, FloatBinOp::Minimum),
        F64Min => (B, FloatBinOp::Minimum),
        F32Max => (A, FloatBinOp::Maximum),
        F64Max => (B, FloatBinOp::Maximum),
        F32Copysign => (A, FloatBinOp::CopySign),
        F64Copysign => (B, FloatBinOp::CopySign),
        _ => return None,
    })
}

pub(super) fn float_un(op: &Operator<'_>) -> Option<(ValType, FloatUnOp)> {
    use Operator::*;
    use ValType::{F32 as A, F64 as B};
    Some(match op {
        F32Neg => (A, FloatUnOp::Neg),
        F64Neg => (B, FloatUnOp::Neg),
        F32Abs => (A, FloatUnOp::Abs),
        F64Abs => (B, FloatUnOp::Abs),
        F32Sqrt => (A, FloatUnOp::Sqrt),
        F64Sqrt => (B, FloatUnOp::Sqrt),
        F32Ceil => (A, FloatUnOp::Ceil),
        F64Ceil => (B, FloatUnOp::Ceil),
        F32Floor => (A, FloatUnOp::Floor),
        F64Floor => (B, FloatUnOp::Floor),
        F32Trunc => (A, FloatUnOp::Trunc),
        F64Trunc => (B, FloatUnOp::Trunc),
        F32Nearest => (A, FloatUnOp::RoundEven),
        F64Nearest => (B, FloatUnOp::RoundEven),
        _ => return None,
    })
}

/// Simple conversions: (from, to, op).
pub(super) fn conversion(op: &Operator<'_>) -> Option<(ValType, ValType, CastOp)> {
    use Operator::*;
    use ValType::*;
    Some(match op {
        I32WrapI64 => (I64, I32, CastOp::Trunc),
        I64ExtendI32S => (I32, I64, CastOp::SExt),
        I64ExtendI32U => (I32, I64, CastOp::ZExt),
        F32ConvertI32S => (I32, F32, CastOp::SIToFP),
        F32ConvertI32U => (I32, F32, CastOp::UIToFP),
        F32ConvertI64S => (I64, F32, CastOp::SIToFP),
        F32ConvertI64U => (I64, F32, CastOp::UIToFP),
        F64ConvertI32S => (I32, F64, CastOp::SIToFP),
        F64ConvertI32U => (I32, F64, CastOp::UIToFP),
        F64ConvertI64S => (I64, F64, CastOp::SIToFP),
        F64ConvertI64U => (I64, F64, CastOp::UIToFP),
        F32DemoteF64 => (F64, F32, CastOp::FpTrunc),
        F64PromoteF32 => (F32, F64, CastOp::FpExt),
        I32ReinterpretF32 => (F32, I32, CastOp::Bitcast),
        I64ReinterpretF64 => (F64, I64, CastOp::Bitcast),
        F32ReinterpretI32 => (I32, F32, CastOp::Bitcast),
        F64ReinterpretI64 => (I64, F64, CastOp::Bitcast),
        I32TruncSatF32S => (F32, I32, CastOp::FPToSISat),
        I32TruncSatF32U => (F32, I32, CastOp::FPToUISat),
        I32TruncSatF64S => (F64, I32, CastOp::FPToSISat),
        I32TruncSatF64U => (F64, I32, CastOp::FPToUISat),
        I64TruncSatF32S => (F32, I64, CastOp::FPToSISat),
        I64TruncSatF32U => (F32, I64, CastOp::FPToUISat),
        I64TruncSatF64S => (F64, I64, CastOp::FPToSISat),
        I64TruncSatF64U => (F64, I64, CastOp::FPToUISat),
        _ => return None,
    })
}

/// Trapping float-to-int conversions: (to, signed).
pub(super) fn trapping_trunc(op: &Operator<'_>) -> Option<(ValType, bool)> {
    use Operator::*;
    use ValType::*;
    Some(match op {
        I32TruncF32S => (I32, true),
        I32TruncF32U => (I32, false),
        I32TruncF64S => (I32, true),
        I32TruncF64U => (I32, false),
        I64TruncF32S => (I64, true),
        I64TruncF32U => (I64, false),
        I64TruncF64S => (I64, true),
        I64TruncF64U => (I64, false),
        _ => return None,
    })
}

/// Memory access shape: (value type, bytes accessed, sign-extend narrow loads).
#[derive(Clone, Copy)]
pub(super) struct Access {
    pub ty: ValType,
    pub bytes: u32,
    pub signed: bool,
}

pub(super) fn load_access(op: &Operator<'_>) -> Option<(Access, MemArg)> {
    use Operator::*;
    use ValType::*;
    let a = |ty, bytes, signed| Access { ty, bytes, signed };
    Some(match *op {
        I32Load { memarg } => (a(I32, 4, false), memarg),
        I64Load { memarg } => (a(I64, 8, false), memarg),
        F32Load { memarg } => (a(F32, 4, false), memarg),
        F64Load { memarg } => (a(F64, 8, false), memarg),
        I32Load8S { memarg } => (a(I32, 1, true), memarg),
        I32Load8U { memarg } => (a(I32, 1, false), memarg),
        I32Load16S { memarg } => (a(I32, 2, true), memarg),
        I32Load16U { memarg } => (a(I32, 2, false), memarg),
        I64Load8S { memarg } => (a(I64, 1, true), memarg),
        I64Load8U { memarg } => (a(I64, 1, false), memarg),
        I64Load16S { memarg } => (a(I64, 2, true), memarg),
        I64Load16U { memarg } => (a(I64, 2, false), memarg),
        I64Load32S { memarg } => (a(I64, 4, true), memarg),
        I64Load32U { memarg } => (a(I64, 4, false), memarg),
        _ => return None,
    })
}

pub(super) fn store_access(op: &Operator<'_>) -> Option<(Access, MemArg)> {
    use Operator::*;
    use ValType::*;
    let a = |ty, bytes| Access { ty, bytes, signed: false };
    Some(match *op {
        I32Store { memarg } => (a(I32, 4), memarg),
        I64Store { memarg } => (a(I64, 8), memarg),
        F32Store { memarg } => (a(F32, 4), memarg),
        F64Store { memarg } => (a(F64, 8), memarg),
        I32Store8 { memarg } => (a(I32, 1), memarg),
        I32Store16 { memarg } => (a(I32, 2), memarg),
        I64Store8 { memarg } => (a(I64, 1), memarg),
        I64Store16 { memarg } => (a(I64, 2), memarg),
        I64Store32 { memarg } => (a(I64, 4), memarg),
        _ => return None,
    })
}
