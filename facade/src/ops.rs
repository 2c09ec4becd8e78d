//! Operation vocabulary. Backends map these with exhaustive matches.

/// Two-operand integer operations. Signedness is on the operation.
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
    /// Left shift; the amount must be less than the width.
    Shl,
    /// Logical right shift; the amount must be less than the width.
    LShr,
    /// Arithmetic right shift; the amount must be less than the width.
    AShr,
    /// Signed division, rounding toward zero; divisor 0 and MIN / -1 are undefined.
    SDiv,
    /// Unsigned division; divisor 0 is undefined.
    UDiv,
    /// Signed remainder (sign of the dividend); divisor 0 and MIN % -1 are undefined.
    SRem,
    /// Unsigned remainder; divisor 0 is undefined.
    URem,
}

impl IntBinOp {
    /// Flags that may be attached to this operation.
    pub fn allowed_flags(self) -> IntFlags {
        use IntBinOp::*;
        match self {
            Add | Sub | Mul | Shl => IntFlags::NSW | IntFlags::NUW,
            SDiv | UDiv | LShr | AShr => IntFlags::EXACT,
            And | Or | Xor | SRem | URem => IntFlags::NONE,
        }
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
}

/// The target of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Callee {
    /// A declared function symbol.
    Direct(crate::Sym),
    /// A function pointer on the value stack below the arguments, called with this function type.
    Indirect(crate::TypeId),
}
