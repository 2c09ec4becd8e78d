//! wasm32, the C ABI as clang emits it (the WebAssembly tool-conventions
//! "BasicCABI"): empty aggregates are dropped, an aggregate that is a single
//! scalar (through nested single-field records and one-element arrays) travels
//! as that scalar, every other one `byval` (arguments) or through `sret`.

use cfree_facade::{AbiExt, TargetInfo};

use super::{scalar_ext, ArgAbi, LeafKind, Piece, RetAbi, Shape, SigAbi};

fn piece(kind: LeafKind) -> Piece {
    match kind {
        LeafKind::Int(w) => Piece::Int(w.bits().max(8)),
        LeafKind::Ptr => Piece::Ptr,
        LeafKind::F32 => Piece::F32,
        LeafKind::F64 => Piece::F64,
    }
}

pub(super) fn classify(
    target: &TargetInfo,
    params: &[(Shape, AbiExt, bool)],
    result: Option<&(Shape, AbiExt)>,
) -> SigAbi {
    let result = match result {
        None => RetAbi::Void,
        Some((shape @ Shape::Scalar(_), ext)) => RetAbi::Scalar(scalar_ext(target, shape, *ext)),
        Some((Shape::Aggregate(agg), _)) if agg.size == 0 => RetAbi::Void,
        Some((Shape::Aggregate(agg), _)) => match agg.single_element {
            Some(k) => RetAbi::Direct(vec![(piece(k), 0)]),
            None => RetAbi::Sret { align: agg.align },
        },
    };
    let params = params
        .iter()
        .map(|(shape, ext, _)| match shape {
            Shape::Scalar(_) => ArgAbi::Scalar(scalar_ext(target, shape, *ext)),
            Shape::Aggregate(agg) if agg.size == 0 => ArgAbi::Ignore,
            Shape::Aggregate(agg) => match agg.single_element {
                Some(k) => ArgAbi::Direct(vec![(piece(k), 0)]),
                None => ArgAbi::Indirect { byval: true, align: agg.align },
            },
        })
        .collect();
    SigAbi { params, result, stack_args: Some(false) }
}
