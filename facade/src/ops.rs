//! Operation vocabulary. Backends map these with exhaustive matches.

/// Two-operand integer operations on values of one integer type. Signedness
/// is on the operation. See `doc/semantics.md` for the edge cases of each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntBinOp {
    /// Wrapping addition.
    Add,
    /// Wrapping subtraction.
    Sub,
    /// Wrapping multiplication.
    Mul,
    /// Bitwise and.
    And,
    /// Bitwise or.
    Or,
    /// Bitwise exclusive or.
    Xor,
    /// Left shift; an amount of at least the width gives poison (use `ShlMasked`).
    Shl,
    /// Logical right shift; an amount of at least the width gives poison.
    LShr,
    /// Arithmetic right shift; an amount of at least the width gives poison.
    AShr,
    /// Left shift by the amount modulo the width (Rust `wrapping_shl`); always defined.
    ShlMasked,
    /// Logical right shift by the amount modulo the width; always defined.
    LShrMasked,
    /// Arithmetic right shift by the amount modulo the width; always defined.
    AShrMasked,
    /// Signed division, rounding toward zero; divisor 0 and MIN / -1 are undefined behaviour.
    SDiv,
    /// Unsigned division; divisor 0 is undefined behaviour.
    UDiv,
    /// Signed remainder (sign of the dividend); divisor 0 and MIN % -1 are undefined behaviour.
    SRem,
    /// Unsigned remainder; divisor 0 is undefined behaviour.
    URem,
    /// Signed minimum.
    SMin,
    /// Signed maximum.
    SMax,
    /// Unsigned minimum.
    UMin,
    /// Unsigned maximum.
    UMax,
    /// Rotate left by the amount modulo the width.
    RotL,
    /// Rotate right by the amount modulo the width.
    RotR,
    /// Signed saturating addition.
    SAddSat,
    /// Unsigned saturating addition.
    UAddSat,
    /// Signed saturating subtraction.
    SSubSat,
    /// Unsigned saturating subtraction.
    USubSat,
}

impl IntBinOp {
    /// Flags that may be attached to this operation.
    pub fn allowed_flags(self) -> IntFlags {
        use IntBinOp::*;
        match self {
            Add | Sub | Mul | Shl => IntFlags::NSW | IntFlags::NUW,
            SDiv | UDiv | LShr | AShr => IntFlags::EXACT,
            And | Or | Xor | SRem | URem | ShlMasked | LShrMasked | AShrMasked | SMin | SMax | UMin | UMax | RotL
            | RotR | SAddSat | UAddSat | SSubSat | USubSat => IntFlags::NONE,
        }
    }
}

/// One-operand integer operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntUnOp {
    /// Count leading zeros; the width for 0.
    Clz,
    /// Count trailing zeros; the width for 0.
    Ctz,
    /// Number of set bits.
    Popcount,
    /// Reverse the bytes (widths that are a multiple of 16 bits).
    Bswap,
    /// Reverse the bits.
    BitReverse,
}

/// Arithmetic that reports failure: pushes the result, then an `i1` that is 1
/// when the operation overflowed (or, for division, was undefined: divisor 0,
/// or MIN / -1, in which case the result is 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckedOp {
    /// Signed addition.
    SAdd,
    /// Unsigned addition.
    UAdd,
    /// Signed subtraction.
    SSub,
    /// Unsigned subtraction.
    USub,
    /// Signed multiplication.
    SMul,
    /// Unsigned multiplication.
    UMul,
    /// Signed division.
    SDiv,
    /// Unsigned division.
    UDiv,
    /// Signed remainder.
    SRem,
    /// Unsigned remainder.
    URem,
}

/// Two-operand floating-point operations on values of one float type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FloatBinOp {
    /// IEEE addition.
    Add,
    /// IEEE subtraction.
    Sub,
    /// IEEE multiplication.
    Mul,
    /// IEEE division.
    Div,
    /// Remainder with the sign of the dividend, truncated quotient (C `fmod`, Rust `%`).
    Rem,
    /// The magnitude of the left operand with the sign of the right.
    CopySign,
    /// IEEE 754-2008 minNum: a quiet NaN operand is ignored; min(-0, +0) may be either
    /// zero; with a signaling NaN operand the result may be a quiet NaN (AArch64 `fminnm`).
    MinNum,
    /// IEEE 754-2008 maxNum: a quiet NaN operand is ignored; max(-0, +0) may be either
    /// zero; with a signaling NaN operand the result may be a quiet NaN (AArch64 `fmaxnm`).
    MaxNum,
    /// IEEE 754-2019 minimum: NaN if either operand is NaN; -0 is less than +0.
    Minimum,
    /// IEEE 754-2019 maximum: NaN if either operand is NaN; +0 is greater than -0.
    Maximum,
}

/// One-operand floating-point operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FloatUnOp {
    /// Sign flip (also of NaN and zero).
    Neg,
    /// Clear the sign bit.
    Abs,
    /// Correctly rounded square root.
    Sqrt,
    /// Round toward negative infinity.
    Floor,
    /// Round toward positive infinity.
    Ceil,
    /// Round toward zero.
    Trunc,
    /// Round to nearest, ties away from zero (C `round`).
    Round,
    /// Round to nearest, ties to even (IEEE roundTiesToEven).
    RoundEven,
}

/// Floating-point comparisons; the result is `i1`. Ordered predicates are false
/// when either operand is NaN, unordered ones true.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FloatCmp {
    /// Ordered and equal.
    Oeq,
    /// Ordered and greater.
    Ogt,
    /// Ordered and greater or equal.
    Oge,
    /// Ordered and less.
    Olt,
    /// Ordered and less or equal.
    Ole,
    /// Ordered and not equal.
    One,
    /// Neither is NaN.
    Ord,
    /// Unordered or equal.
    Ueq,
    /// Unordered or greater.
    Ugt,
    /// Unordered or greater or equal.
    Uge,
    /// Unordered or less.
    Ult,
    /// Unordered or less or equal.
    Ule,
    /// Unordered or not equal.
    Une,
    /// Either is NaN.
    Uno,
}

/// Fast-math facts, per operation. The default (none) is strict IEEE semantics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct FastMath(u8);

impl FastMath {
    /// Strict: no facts.
    pub const NONE: FastMath = FastMath(0);
    /// Reassociation is allowed.
    pub const REASSOC: FastMath = FastMath(1);
    /// Operands and result are not NaN (else poison).
    pub const NNAN: FastMath = FastMath(2);
    /// Operands and result are not infinite (else poison).
    pub const NINF: FastMath = FastMath(4);
    /// The sign of zero does not matter.
    pub const NSZ: FastMath = FastMath(8);
    /// Division may use the reciprocal.
    pub const ARCP: FastMath = FastMath(16);
    /// Multiply and add may be fused.
    pub const CONTRACT: FastMath = FastMath(32);
    /// Approximate functions are allowed.
    pub const AFN: FastMath = FastMath(64);
    /// All of them.
    pub const FAST: FastMath = FastMath(127);

    /// The raw bits.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Flags from raw bits; `None` if unknown bits are set.
    pub fn from_bits(bits: u8) -> Option<Self> {
        (bits & !127 == 0).then_some(FastMath(bits))
    }

    /// Whether every flag in `other` is set.
    pub fn contains(self, other: FastMath) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for FastMath {
    type Output = FastMath;
    fn bitor(self, rhs: FastMath) -> FastMath {
        FastMath(self.0 | rhs.0)
    }
}

/// Integer operation flags: facts the frontend guarantees (violations give poison).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct IntFlags(u8);

impl IntFlags {
    /// No facts.
    pub const NONE: IntFlags = IntFlags(0);
    /// No signed wrap.
    pub const NSW: IntFlags = IntFlags(1);
    /// No unsigned wrap.
    pub const NUW: IntFlags = IntFlags(2);
    /// Division or right shift loses no set bits.
    pub const EXACT: IntFlags = IntFlags(4);

    /// Whether every flag in `other` is set.
    pub fn contains(self, other: IntFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The raw bits.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Flags from raw bits; `None` if unknown bits are set.
    pub fn from_bits(bits: u8) -> Option<Self> {
        (bits & !7 == 0).then_some(IntFlags(bits))
    }

    /// The flags set here but not in `other`.
    pub fn without(self, other: IntFlags) -> IntFlags {
        IntFlags(self.0 & !other.0)
    }
}

impl std::ops::BitOr for IntFlags {
    type Output = IntFlags;
    fn bitor(self, rhs: IntFlags) -> IntFlags {
        IntFlags(self.0 | rhs.0)
    }
}

/// Integer and pointer comparisons; the result is `i1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntCmp {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Signed less than.
    Slt,
    /// Signed less or equal.
    Sle,
    /// Signed greater than.
    Sgt,
    /// Signed greater or equal.
    Sge,
    /// Unsigned less than.
    Ult,
    /// Unsigned less or equal.
    Ule,
    /// Unsigned greater than.
    Ugt,
    /// Unsigned greater or equal.
    Uge,
}

/// Conversions between scalar types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CastOp {
    /// Sign extension to a wider integer.
    SExt,
    /// Zero extension to a wider integer.
    ZExt,
    /// Truncation to a narrower integer.
    Trunc,
    /// Pointer to integer (any integer width; truncates or zero-extends).
    PtrToInt,
    /// Integer to pointer (truncates or zero-extends to pointer width).
    IntToPtr,
    /// f32 to f64, exact.
    FpExt,
    /// f64 to f32, rounded to nearest even.
    FpTrunc,
    /// Signed integer to float, rounded to nearest even.
    SIToFP,
    /// Unsigned integer to float, rounded to nearest even.
    UIToFP,
    /// Float to signed integer, toward zero; NaN or out of range gives poison.
    FPToSI,
    /// Float to unsigned integer, toward zero; NaN or out of range gives poison.
    FPToUI,
    /// Float to signed integer, toward zero, saturating; NaN gives 0 (Rust `as`).
    FPToSISat,
    /// Float to unsigned integer, toward zero, saturating; NaN gives 0 (Rust `as`).
    FPToUISat,
    /// Reinterpret the bits as another scalar type of the same width (integer and float).
    Bitcast,
}

/// The target of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Callee {
    /// A declared function symbol.
    Direct(crate::Sym),
    /// A function pointer on the value stack below the arguments, called with this function type.
    Indirect(crate::TypeId),
}
