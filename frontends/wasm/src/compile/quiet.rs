//! Which float values are known not to be signalling NaNs (`doc/wasm.md`,
//! "NaNs"). Arithmetic quiets a NaN result only when an operand may be
//! signalling: with quiet operands, the hardware's results and LLVM's folds
//! (`x * 1` to `x`, `llvm.minimum` returning an operand) are quiet already.
//!
//! A value is known quiet if it is the result of quieted arithmetic
//! (`add sub mul div min max`, `demote`), a conversion from an integer, a
//! constant that is not a signalling NaN, or a read of a local that only
//! ever holds such values. Locals are found by a pass over the body before
//! emission: a declared float local (zero at entry) is quiet if every
//! `local.set`/`local.tee` of it directly follows an operator that produces
//! a quiet value, a fixpoint over reads of other locals. Parameters never
//! are. The emitter quiets a value stored into a quiet local that it does
//! not know to be quiet, so the pass only decides speed, never results.

use wasmparser::{FunctionBody, Operator};

use super::ops::{conversion, float_bin};
use crate::decode::ValType;
use crate::error::{Error, Result};
use cfree_facade::{CastOp, FloatBinOp};

/// Whether the value `op` pushes is quiet, given which locals are.
pub(super) fn produces_quiet(op: &Operator<'_>, quiet_locals: &[bool]) -> bool {
    match op {
        Operator::F32Const { value } => !is_signalling_f32(value.bits()),
        Operator::F64Const { value } => !is_signalling_f64(value.bits()),
        Operator::LocalGet { local_index } => quiet_locals.get(*local_index as usize).copied().unwrap_or(false),
        _ => {
            if let Some((_, bin)) = float_bin(op) {
                return bin != FloatBinOp::CopySign;
            }
            matches!(conversion(op), Some((_, _, CastOp::FpTrunc | CastOp::SIToFP | CastOp::UIToFP)))
        }
    }
}

fn is_signalling_f32(bits: u32) -> bool {
    bits & 0x7f80_0000 == 0x7f80_0000 && bits & 0x007f_ffff != 0 && bits & 0x0040_0000 == 0
}

fn is_signalling_f64(bits: u64) -> bool {
    let exp = 0x7ff0_0000_0000_0000;
    bits & exp == exp && bits & 0x000f_ffff_ffff_ffff != 0 && bits & 0x0008_0000_0000_0000 == 0
}

/// For each local (parameters first), whether it only ever holds quiet
/// values: float locals only, parameters never.
pub(super) fn quiet_locals(body: &FunctionBody<'_>, locals: &[ValType], params: usize) -> Result<Vec<bool>> {
    let mut quiet: Vec<bool> =
        locals.iter().enumerate().map(|(i, t)| i >= params && matches!(t, ValType::F32 | ValType::F64)).collect();
    // Each set of a candidate local, with the operator before it (`None`: none).
    let mut sets: Vec<(usize, Option<usize>)> = Vec::new();
    let mut ops = Vec::new();
    let mut reader = body.get_operators_reader().map_err(Error::Invalid)?;
    while !reader.eof() {
        let op = reader.read().map_err(Error::Invalid)?;
        if let Operator::LocalSet { local_index } | Operator::LocalTee { local_index } = op {
            let l = local_index as usize;
            if quiet.get(l).copied().unwrap_or(false) {
                sets.push((l, ops.len().checked_sub(1)));
            }
        }
        ops.push(op);
    }
    loop {
        let mut changed = false;
        for &(l, before) in &sets {
            if quiet[l] && !before.is_some_and(|i| produces_quiet(&ops[i], &quiet)) {
                quiet[l] = false;
                changed = true;
            }
        }
        if !changed {
            return Ok(quiet);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signalling_nans_are_recognised() {
        assert!(is_signalling_f32(0x7fa0_0000) && is_signalling_f32(0xff80_0001));
        assert!(!is_signalling_f32(0x7fc0_0000) && !is_signalling_f32(0x7f80_0000) && !is_signalling_f32(0));
        assert!(is_signalling_f64(0x7ff4_0000_0000_0000) && is_signalling_f64(0xfff0_0000_0000_0001));
        assert!(!is_signalling_f64(0x7ff8_0000_0000_0000) && !is_signalling_f64(0x7ff0_0000_0000_0000));
    }
}
