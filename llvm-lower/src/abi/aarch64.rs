//! AArch64, the AAPCS64 procedure call standard (§6.8 "Parameter passing"):
//! homogeneous floating-point aggregates of up to four members in SIMD
//! registers, other composites up to 16 bytes in general registers (16-byte
//! aligned ones in an even pair), larger ones by reference to a caller copy,
//! results over 16 bytes through `x8`. The backend allocates LLVM arrays to
//! consecutive registers all or nothing, so no register tracking is needed.

use cfree_facade::{AbiExt, TargetInfo};

use super::shape::Aggregate;
use super::{ArgAbi, LeafKind, Piece, RetAbi, Shape, SigAbi};

/// The base type and member count of a homogeneous floating-point aggregate.
fn hfa(agg: &Aggregate) -> Option<(Piece, u32)> {
    let leaves = agg.leaves.as_ref()?;
    if agg.zero_length_array || leaves.is_empty() || leaves.len() > 4 {
        return None;
    }
    let base = leaves[0].kind;
    if !base.is_float() || leaves.iter().any(|l| l.kind != base) {
        return None;
    }
    // No padding: the members fill the aggregate.
    if leaves[0].size * leaves.len() as u64 != agg.size {
        return None;
    }
    let piece = if base == LeafKind::F32 { Piece::F32 } else { Piece::F64 };
    Some((piece, leaves.len() as u32))
}

fn composite_arg(agg: &Aggregate) -> ArgAbi {
    if agg.size == 0 {
        return ArgAbi::Ignore;
    }
    if let Some((piece, n)) = hfa(agg) {
        return ArgAbi::Array(piece, n);
    }
    if agg.size <= 16 {
        let unit = if agg.natural_align < 16 { 8 } else { 16 };
        let size = agg.size.next_multiple_of(unit);
        let bits = (unit * 8) as u32;
        return if size == unit {
            ArgAbi::Direct(vec![(Piece::Int(bits), 0)])
        } else {
            ArgAbi::Array(Piece::Int(bits), 2)
        };
    }
    ArgAbi::Indirect { byval: false, align: agg.align }
}

fn composite_result(agg: &Aggregate) -> RetAbi {
    if agg.size == 0 {
        return RetAbi::Void;
    }
    if let Some((piece, n)) = hfa(agg) {
        return RetAbi::Array(piece, n);
    }
    if agg.size <= 8 {
        return RetAbi::Direct(vec![(Piece::Int((agg.size * 8) as u32), 0)]);
    }
    if agg.size <= 16 {
        return if agg.align < 16 {
            RetAbi::Array(Piece::Int(64), 2)
        } else {
            RetAbi::Direct(vec![(Piece::Int(128), 0)])
        };
    }
    RetAbi::Sret { align: agg.align }
}

/// AAPCS64 leaves the bits of a register above a narrow integer unspecified
/// (C.16, and §6.9 for results): the receiver extends, so no integer carries
/// `signext`/`zeroext` (clang emits none; gcc's callers and callees extend
/// nothing, so an LLVM caller that trusted `zeroext` on a gcc result would read
/// garbage). Apple's arm64 differs, but has no classification rules here.
pub(super) fn classify(
    _target: &TargetInfo,
    params: &[(Shape, AbiExt, bool)],
    result: Option<&(Shape, AbiExt)>,
) -> SigAbi {
    let result = match result {
        None => RetAbi::Void,
        Some((Shape::Scalar(_), _)) => RetAbi::Scalar(AbiExt::None),
        Some((Shape::Aggregate(agg), _)) => composite_result(agg),
    };
    let params = params
        .iter()
        .map(|(shape, _, _)| match shape {
            Shape::Scalar(_) => ArgAbi::Scalar(AbiExt::None),
            Shape::Aggregate(agg) => composite_arg(agg),
        })
        .collect();
    SigAbi { params, result, stack_args: None }
}
