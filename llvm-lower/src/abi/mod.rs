//! C ABI classification: how each parameter and result of a signature travels
//! on the target (`doc/abi.md`). LLVM does not classify C aggregates for its
//! users; these modules do, per psABI, as clang does, in pure Rust over the
//! facade's layouts. `lower.rs` turns the classification into LLVM types,
//! attributes and the loads and stores that move aggregates.

mod aarch64;
pub(crate) mod lower;
mod riscv;
mod shape;
mod va_arg;
mod wasm;
mod x86;
mod x86_64;

use cfree_facade::*;

pub(crate) use shape::{Leaf, LeafKind, Shape};

/// One LLVM scalar a coerced aggregate travels as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// An integer of this many bits (a multiple of 8, up to 128).
    Int(u32),
    /// A pointer in address space 0.
    Ptr,
    F32,
    F64,
    /// `<2 x float>` (an x86-64 SSE eightbyte holding two floats).
    F32x2,
}

impl Piece {
    /// Bytes the piece covers in memory.
    pub(crate) fn size(self, pointer: u64) -> u64 {
        match self {
            Piece::Int(bits) => u64::from(bits).div_ceil(8),
            Piece::Ptr => pointer,
            Piece::F32 => 4,
            Piece::F64 | Piece::F32x2 => 8,
        }
    }
}

/// How one parameter travels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ArgAbi {
    /// A scalar passed as itself, with an extension fact.
    Scalar(AbiExt),
    /// An aggregate loaded as pieces at byte offsets, each one LLVM parameter.
    Direct(Vec<(Piece, u64)>),
    /// An aggregate loaded as one LLVM array `[count x piece]` (AArch64
    /// composites and HFAs: all in registers or all on the stack).
    Array(Piece, u32),
    /// A pointer to a copy: `byval` (LLVM copies into the argument area) or a
    /// copy the caller makes in its own frame.
    Indirect { byval: bool, align: u64 },
    /// Nothing is passed (an empty aggregate).
    Ignore,
}

/// How the result travels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RetAbi {
    /// No result, or an empty aggregate.
    Void,
    /// A scalar returned as itself, with an extension fact.
    Scalar(AbiExt),
    /// An aggregate returned as one piece, or a literal struct of pieces.
    Direct(Vec<(Piece, u64)>),
    /// An aggregate returned as one LLVM array.
    Array(Piece, u32),
    /// Written through a hidden first parameter (`sret`) aligned to `align`.
    Sret { align: u64 },
}

/// A signature's classification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SigAbi {
    pub(crate) params: Vec<ArgAbi>,
    pub(crate) result: RetAbi,
    /// Whether some argument is passed on the stack (known where the
    /// classifier tracks registers; `None` where the backend decides alone).
    pub(crate) stack_args: Option<bool>,
}

/// Which rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rules {
    SysV64,
    Win64,
    I686,
    Aapcs64,
    /// RISC-V LP64 with this FLEN in bytes (8 for LP64D, 0 for soft float).
    Riscv64 {
        flen: u64,
    },
    Wasm32,
}

/// The rules for `conv` on `target`, or `None` where aggregates by value are
/// not classified (they are refused).
pub(crate) fn rules(target: &TargetInfo, conv: CallConv, riscv_lp64d: bool) -> Option<Rules> {
    let windows = target.triple.contains("windows");
    let darwin = target.triple.contains("apple") || target.triple.contains("darwin");
    Some(match (target.arch, conv) {
        (Arch::X86_64, CallConv::Win64) => Rules::Win64,
        (Arch::X86_64, CallConv::SysV64) => Rules::SysV64,
        (Arch::X86_64, _) if windows => Rules::Win64,
        (Arch::X86_64, _) => Rules::SysV64,
        (Arch::X86, _) if !windows && !darwin => Rules::I686,
        (Arch::Aarch64, _) if !windows && !darwin => Rules::Aapcs64,
        (Arch::Riscv64, _) => Rules::Riscv64 { flen: if riscv_lp64d { 8 } else { 0 } },
        (Arch::Wasm32, _) => Rules::Wasm32,
        _ => return None,
    })
}

/// Classifies parameters (shape, extension fact, fixed rather than a variadic
/// extra) and result under `rules`.
pub(crate) fn classify(
    rules: Rules,
    target: &TargetInfo,
    params: &[(Shape, AbiExt, bool)],
    result: Option<&(Shape, AbiExt)>,
) -> SigAbi {
    match rules {
        Rules::SysV64 => x86_64::classify_sysv(target, params, result),
        Rules::Win64 => x86_64::classify_win64(target, params, result),
        Rules::I686 => x86::classify(target, params, result),
        Rules::Aapcs64 => aarch64::classify(target, params, result),
        Rules::Riscv64 { flen } => riscv::classify(target, flen, params, result),
        Rules::Wasm32 => wasm::classify(target, params, result),
    }
}

/// The extension attribute for an integer of `width` with frontend fact `ext`.
///
/// - `i1` is C `_Bool`: always zero-extended (as clang does on every target
///   whose rules extend at all: AAPCS64 and Win64 drop narrow facts in their
///   classifiers).
/// - RV64 keeps 32-bit integers sign-extended in registers, even unsigned ones
///   (RISC-V psABI, "Integer Calling Convention"), so i32 is always `signext`.
/// - Otherwise the frontend's fact applies to integers narrower than 32 bits;
///   it is meaningless (and dropped) on wider ones.
pub(crate) fn int_ext(target: &TargetInfo, width: IntWidth, ext: AbiExt) -> AbiExt {
    match width {
        IntWidth::I1 => AbiExt::Zero,
        IntWidth::I8 | IntWidth::I16 => ext,
        IntWidth::I32 if target.arch == Arch::Riscv64 => AbiExt::Sign,
        IntWidth::I32 | IntWidth::I64 | IntWidth::I128 => AbiExt::None,
    }
}

/// The extension of a scalar `shape` with frontend fact `ext`.
pub(crate) fn scalar_ext(target: &TargetInfo, shape: &Shape, ext: AbiExt) -> AbiExt {
    match shape {
        Shape::Scalar(LeafKind::Int(width)) => int_ext(target, *width, ext),
        _ => AbiExt::None,
    }
}
