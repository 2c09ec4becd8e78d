//! i686 System V (the i386 psABI as Linux uses it, §2.2 "Function Calling
//! Sequence"): every argument on the stack; an aggregate of at most 16 bytes
//! whose fields are all 4- or 8-byte scalars without padding is passed as
//! those fields (clang's expansion, same stack image), others `byval` aligned
//! to 4; every aggregate result through a hidden pointer (`sret`), which the
//! callee pops.

use cfree_facade::{AbiExt, TargetInfo};

use super::shape::Aggregate;
use super::{scalar_ext, ArgAbi, LeafKind, Piece, RetAbi, Shape, SigAbi};

fn expansion(agg: &Aggregate, pointer: u64) -> Option<Vec<(Piece, u64)>> {
    if agg.size > 16 {
        return None;
    }
    let fields = agg.scalar_fields.as_ref()?;
    let mut offset = 0;
    let mut pieces = Vec::with_capacity(fields.len());
    for kind in fields {
        let (piece, size) = match kind {
            LeafKind::Int(w) if w.bits() == 32 || w.bits() == 64 => (Piece::Int(w.bits()), u64::from(w.bits() / 8)),
            LeafKind::Ptr => (Piece::Ptr, pointer),
            LeafKind::F32 => (Piece::F32, 4),
            LeafKind::F64 => (Piece::F64, 8),
            LeafKind::Int(_) => return None,
        };
        pieces.push((piece, offset));
        offset += size;
    }
    (offset == agg.size).then_some(pieces)
}

pub(super) fn classify(
    target: &TargetInfo,
    params: &[(Shape, AbiExt, bool)],
    result: Option<&(Shape, AbiExt)>,
) -> SigAbi {
    let result = match result {
        None => RetAbi::Void,
        Some((shape @ Shape::Scalar(_), ext)) => RetAbi::Scalar(scalar_ext(target, shape, *ext)),
        Some((Shape::Aggregate(agg), _)) => RetAbi::Sret { align: agg.align },
    };
    let params = params
        .iter()
        .map(|(shape, ext, _)| match shape {
            Shape::Scalar(_) => ArgAbi::Scalar(scalar_ext(target, shape, *ext)),
            Shape::Aggregate(agg) if agg.size == 0 => ArgAbi::Ignore,
            Shape::Aggregate(agg) => match expansion(agg, target.pointer.size) {
                Some(pieces) => ArgAbi::Direct(pieces),
                None => ArgAbi::Indirect { byval: true, align: 4 },
            },
        })
        .collect();
    SigAbi { params, result, stack_args: Some(true) }
}
