//! C ABI facts for scalar arguments and results. LLVM does not classify C
//! arguments; the frontend's `signext`/`zeroext` facts plus the target's own
//! rules decide the attributes here.

use cfree_facade::{AbiExt, Arch, IntWidth, TargetInfo};

/// The extension attribute for an integer of `width` with frontend fact `ext`.
///
/// - `i1` is C `_Bool`: always zero-extended (as clang does on every target).
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
