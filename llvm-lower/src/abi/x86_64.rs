//! x86-64: the System V psABI (§3.2.3, "Parameter Passing": eightbyte
//! classes INTEGER/SSE/MEMORY, merged per eightbyte, 16-byte limit, all or
//! nothing in registers) and the Microsoft x64 convention (aggregates of 1, 2,
//! 4 or 8 bytes in a register, all others by reference).

use cfree_facade::{AbiExt, IntWidth, TargetInfo};

use super::shape::Aggregate;
use super::{scalar_ext, ArgAbi, Leaf, LeafKind, Piece, RetAbi, Shape, SigAbi};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // the psABI's own class names
enum Class {
    NoClass,
    Integer,
    Sse,
    Memory,
}

fn merge(a: Class, b: Class) -> Class {
    use Class::*;
    match (a, b) {
        (x, y) if x == y => x,
        (NoClass, x) | (x, NoClass) => x,
        (Memory, _) | (_, Memory) => Memory,
        (Integer, _) | (_, Integer) => Integer,
        _ => Sse,
    }
}

/// The classes of the (at most two) eightbytes of an aggregate.
fn classify_eightbytes(agg: &Aggregate) -> Option<[Class; 2]> {
    if agg.size > 16 || agg.size == 0 {
        return None;
    }
    let leaves = agg.leaves.as_ref()?;
    let mut classes = [Class::NoClass; 2];
    for l in leaves {
        let class = if l.kind.is_float() { Class::Sse } else { Class::Integer };
        let first = (l.offset / 8) as usize;
        let last = ((l.offset + l.size - 1) / 8) as usize;
        for c in &mut classes[first..=last.min(1)] {
            *c = merge(*c, class);
        }
    }
    Some(classes)
}

/// No leaf overlaps bytes `[from, to)`.
fn no_user_data(leaves: &[Leaf], from: u64, to: u64) -> bool {
    leaves.iter().all(|l| l.offset + l.size <= from || l.offset >= to)
}

/// clang's `GetINTEGERTypeAtOffset` over flattened leaves.
fn integer_piece(agg: &Aggregate, leaves: &[Leaf], offset: u64, pointer: u64) -> Piece {
    if let Some(l) = leaves.iter().find(|l| l.offset == offset) {
        match l.kind {
            LeafKind::Ptr if pointer == 8 => return Piece::Ptr,
            LeafKind::Int(IntWidth::I64) => return Piece::Int(64),
            LeafKind::Int(w @ (IntWidth::I8 | IntWidth::I16 | IntWidth::I32))
                if no_user_data(leaves, offset + l.size, offset + 8) =>
            {
                return Piece::Int(w.bits());
            }
            _ => {}
        }
    }
    Piece::Int(((agg.size - offset).min(8) * 8) as u32)
}

/// clang's `GetSSETypeAtOffset`: float, `<2 x float>` or double.
fn sse_piece(leaves: &[Leaf], offset: u64) -> Piece {
    if no_user_data(leaves, offset + 4, offset + 8) {
        return Piece::F32;
    }
    let float_at = |o: u64| leaves.iter().any(|l| l.offset == o && l.kind == LeafKind::F32);
    if float_at(offset) && float_at(offset + 4) {
        Piece::F32x2
    } else {
        Piece::F64
    }
}

/// Pieces of a register-class aggregate, and the registers it needs (int, sse).
fn register_pieces(agg: &Aggregate, classes: [Class; 2], pointer: u64) -> (Vec<(Piece, u64)>, u32, u32) {
    let leaves = agg.leaves.as_deref().unwrap_or(&[]);
    let mut pieces = Vec::new();
    let (mut ints, mut sses) = (0, 0);
    for (i, class) in classes.iter().enumerate() {
        let offset = i as u64 * 8;
        match class {
            Class::Integer => {
                pieces.push((integer_piece(agg, leaves, offset, pointer), offset));
                ints += 1;
            }
            Class::Sse => {
                pieces.push((sse_piece(leaves, offset), offset));
                sses += 1;
            }
            Class::NoClass | Class::Memory => {}
        }
    }
    (pieces, ints, sses)
}

/// Registers a scalar needs (int, sse).
fn scalar_regs(kind: LeafKind) -> (u32, u32) {
    match kind {
        LeafKind::F32 | LeafKind::F64 => (0, 1),
        LeafKind::Int(IntWidth::I128) => (2, 0),
        LeafKind::Int(_) | LeafKind::Ptr => (1, 0),
    }
}

pub(super) fn classify_sysv(
    target: &TargetInfo,
    params: &[(Shape, AbiExt, bool)],
    result: Option<&(Shape, AbiExt)>,
) -> SigAbi {
    let pointer = target.pointer.size;
    let (mut free_int, mut free_sse) = (6u32, 8u32);
    let result = match result {
        None => RetAbi::Void,
        Some((shape @ Shape::Scalar(_), ext)) => RetAbi::Scalar(scalar_ext(target, shape, *ext)),
        Some((Shape::Aggregate(agg), _)) if agg.size == 0 => RetAbi::Void,
        Some((Shape::Aggregate(agg), _)) => match classify_eightbytes(agg).filter(|c| !c.contains(&Class::Memory)) {
            Some(classes) => {
                let (pieces, _, _) = register_pieces(agg, classes, pointer);
                if pieces.is_empty() {
                    RetAbi::Void
                } else {
                    RetAbi::Direct(pieces)
                }
            }
            None => {
                free_int -= 1;
                RetAbi::Sret { align: agg.align }
            }
        },
    };
    let mut stack = false;
    let params = params
        .iter()
        .map(|(shape, ext, _)| match shape {
            Shape::Scalar(kind) => {
                let (i, s) = scalar_regs(*kind);
                if free_int >= i && free_sse >= s {
                    free_int -= i;
                    free_sse -= s;
                } else {
                    stack = true;
                    // An i128 that finds one register left goes to the stack and leaves
                    // that register to later arguments (psABI, as gcc does); LLVM 19 would
                    // burn the register, so the value travels as an explicit stack copy.
                    if i == 2 && free_int == 1 {
                        return ArgAbi::Indirect { byval: true, align: 16 };
                    }
                }
                ArgAbi::Scalar(scalar_ext(target, shape, *ext))
            }
            Shape::Aggregate(agg) if agg.size == 0 => ArgAbi::Ignore,
            Shape::Aggregate(agg) => {
                let classes = classify_eightbytes(agg).filter(|c| !c.contains(&Class::Memory));
                if let Some(classes) = classes {
                    let (pieces, i, s) = register_pieces(agg, classes, pointer);
                    if pieces.is_empty() {
                        return ArgAbi::Ignore;
                    }
                    if free_int >= i && free_sse >= s {
                        free_int -= i;
                        free_sse -= s;
                        return ArgAbi::Direct(pieces);
                    }
                }
                stack = true;
                // clang: an aggregate of at most eight bytes, 8-aligned, that goes to memory
                // once no integer register is left travels as an integer on the stack.
                let align = agg.align.max(8);
                if free_int == 0 && align == 8 && agg.size <= 8 {
                    return ArgAbi::Direct(vec![(Piece::Int((agg.size * 8) as u32), 0)]);
                }
                ArgAbi::Indirect { byval: true, align }
            }
        })
        .collect();
    SigAbi { params, result, stack_args: Some(stack) }
}

/// The register-sized aggregates of the Microsoft x64 convention.
fn win64_register(agg: &Aggregate) -> Option<Piece> {
    matches!(agg.size, 1 | 2 | 4 | 8).then(|| Piece::Int((agg.size * 8) as u32))
}

/// Microsoft x64 leaves the bits above a narrow integer unspecified (the
/// receiver extends): only `_Bool` is `zeroext`, as clang emits.
fn win64_ext(target: &TargetInfo, shape: &Shape, ext: AbiExt) -> AbiExt {
    match shape {
        Shape::Scalar(LeafKind::Int(IntWidth::I1)) => scalar_ext(target, shape, ext),
        _ => AbiExt::None,
    }
}

pub(super) fn classify_win64(
    target: &TargetInfo,
    params: &[(Shape, AbiExt, bool)],
    result: Option<&(Shape, AbiExt)>,
) -> SigAbi {
    let result = match result {
        None => RetAbi::Void,
        Some((shape @ Shape::Scalar(_), ext)) => RetAbi::Scalar(win64_ext(target, shape, *ext)),
        Some((Shape::Aggregate(agg), _)) => match win64_register(agg) {
            Some(p) => RetAbi::Direct(vec![(p, 0)]),
            None => RetAbi::Sret { align: agg.align },
        },
    };
    let sret = usize::from(matches!(result, RetAbi::Sret { .. }));
    let params: Vec<ArgAbi> = params
        .iter()
        .map(|(shape, ext, _)| match shape {
            Shape::Scalar(_) => ArgAbi::Scalar(win64_ext(target, shape, *ext)),
            Shape::Aggregate(agg) => match win64_register(agg) {
                Some(p) => ArgAbi::Direct(vec![(p, 0)]),
                None => ArgAbi::Indirect { byval: false, align: agg.align },
            },
        })
        .collect();
    // Four register slots, shared by the hidden result pointer.
    let stack = params.len() + sret > 4;
    SigAbi { params, result, stack_args: Some(stack) }
}
