//! RISC-V LP64/LP64D (psABI "Hardware Floating-point Calling Convention"):
//! a struct that flattens to one or two floats, or a float and an integer of
//! at most XLEN, travels in FP (and integer) registers while enough are left;
//! other aggregates up to 2×XLEN in integer registers (a 2×XLEN-aligned one
//! as one 128-bit integer), larger ones by reference. Registers are tracked
//! as clang does, because the FP choice depends on what is left.

use cfree_facade::{AbiExt, IntWidth, TargetInfo};

use super::shape::Aggregate;
use super::{scalar_ext, ArgAbi, LeafKind, Piece, RetAbi, Shape, SigAbi};

const XLEN: u64 = 8;

fn leaf_piece(kind: LeafKind) -> Piece {
    match kind {
        LeafKind::F32 => Piece::F32,
        LeafKind::F64 => Piece::F64,
        LeafKind::Ptr => Piece::Ptr,
        LeafKind::Int(w) => Piece::Int(w.bits().max(8)),
    }
}

/// Pieces of an FP-convention struct with the (GPRs, FPRs) they need.
type FpPieces = (Vec<(Piece, u64)>, u32, u32);

/// The FP-convention pieces of `agg` and the registers they need.
fn fp_candidate(agg: &Aggregate, flen: u64) -> Option<FpPieces> {
    if flen == 0 || agg.size == 0 {
        return None;
    }
    let leaves = agg.leaves.as_ref()?;
    if leaves.is_empty() || leaves.len() > 2 {
        return None;
    }
    // "One floating-point real and one integer": a pointer is not an integer
    // here (gcc's riscv_flatten_aggregate_field takes INTEGRAL_TYPE_P, clang's
    // detectFPCCEligibleStruct isIntegralOrEnumerationType).
    if leaves.iter().any(|l| l.kind == LeafKind::Ptr) {
        return None;
    }
    let floats = leaves.iter().filter(|l| l.kind.is_float()).count() as u32;
    let ints = leaves.len() as u32 - floats;
    if floats == 0 || ints > 1 {
        return None;
    }
    if leaves.iter().any(|l| if l.kind.is_float() { l.size > flen } else { l.size > XLEN }) {
        return None;
    }
    let pieces = leaves.iter().map(|l| (leaf_piece(l.kind), l.offset)).collect();
    Some((pieces, ints, floats))
}

/// The integer-convention classification of an aggregate (no register accounting).
fn integer_aggregate(agg: &Aggregate) -> ArgAbi {
    if agg.size > 2 * XLEN {
        return ArgAbi::Indirect { byval: false, align: agg.align };
    }
    if agg.size <= XLEN {
        ArgAbi::Direct(vec![(Piece::Int(64), 0)])
    } else if agg.align == 2 * XLEN {
        ArgAbi::Direct(vec![(Piece::Int(128), 0)])
    } else {
        ArgAbi::Array(Piece::Int(64), 2)
    }
}

struct Regs {
    gprs: u32,
    fprs: u32,
    stack: bool,
}

impl Regs {
    fn take_gprs(&mut self, n: u32) {
        if n > self.gprs {
            self.stack = true;
        }
        self.gprs = self.gprs.saturating_sub(n);
    }
}

fn classify_arg(shape: &Shape, ext: AbiExt, fixed: bool, flen: u64, regs: &mut Regs, target: &TargetInfo) -> ArgAbi {
    match shape {
        Shape::Scalar(kind) => {
            let size = match kind {
                LeafKind::F32 => 4,
                LeafKind::F64 => 8,
                LeafKind::Int(IntWidth::I128) => 16,
                _ => 8,
            };
            if fixed && kind.is_float() && flen >= size && regs.fprs > 0 {
                regs.fprs -= 1;
            } else {
                let align16 = *kind == LeafKind::Int(IntWidth::I128);
                let needed = if !fixed && align16 {
                    2 + regs.gprs % 2
                } else if size > XLEN {
                    2
                } else {
                    1
                };
                regs.take_gprs(needed);
            }
            ArgAbi::Scalar(scalar_ext(target, shape, ext))
        }
        Shape::Aggregate(agg) if agg.size == 0 => ArgAbi::Ignore,
        Shape::Aggregate(agg) => {
            if fixed {
                if let Some((pieces, g, f)) = fp_candidate(agg, flen) {
                    if g <= regs.gprs && f <= regs.fprs {
                        regs.gprs -= g;
                        regs.fprs -= f;
                        return ArgAbi::Direct(pieces);
                    }
                }
            }
            let needed = if !fixed && agg.align == 2 * XLEN {
                2 + regs.gprs % 2
            } else if agg.size > XLEN && agg.size <= 2 * XLEN {
                2
            } else {
                1
            };
            regs.take_gprs(needed);
            integer_aggregate(agg)
        }
    }
}

pub(super) fn classify(
    target: &TargetInfo,
    flen: u64,
    params: &[(Shape, AbiExt, bool)],
    result: Option<&(Shape, AbiExt)>,
) -> SigAbi {
    let result = match result {
        None => RetAbi::Void,
        Some((shape, ext)) => {
            let mut regs = Regs { gprs: 2, fprs: if flen > 0 { 2 } else { 0 }, stack: false };
            match classify_arg(shape, *ext, true, flen, &mut regs, target) {
                ArgAbi::Scalar(e) => RetAbi::Scalar(e),
                ArgAbi::Direct(p) => RetAbi::Direct(p),
                ArgAbi::Array(p, n) => RetAbi::Array(p, n),
                ArgAbi::Ignore => RetAbi::Void,
                ArgAbi::Indirect { align, .. } => RetAbi::Sret { align },
            }
        }
    };
    let sret = matches!(result, RetAbi::Sret { .. });
    let mut regs = Regs { gprs: if sret { 7 } else { 8 }, fprs: if flen > 0 { 8 } else { 0 }, stack: false };
    let params =
        params.iter().map(|(shape, ext, fixed)| classify_arg(shape, *ext, *fixed, flen, &mut regs, target)).collect();
    SigAbi { params, result, stack_args: Some(regs.stack) }
}
