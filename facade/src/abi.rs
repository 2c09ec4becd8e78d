//! Call and ABI vocabulary (`doc/abi.md`): calling conventions, parameter,
//! function and call-site attributes, and the reasons a `musttail` call is
//! refused. Records and arrays by value need no attribute: the backend
//! classifies them for the target's C ABI (`doc/abi.md`).

use std::fmt;

/// Calling conventions. [`crate::TargetInfo::supports_call_conv`] says which a
/// target lowers; the others are refused with `UnsupportedOnTarget`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum CallConv {
    /// The target's C convention.
    #[default]
    C,
    /// The x86-64 System V convention, on any x86-64 target.
    SysV64,
    /// The x86-64 Microsoft convention, on any x86-64 target.
    Win64,
    /// LLVM's `fastcc`: the backend's fastest convention; both sides must agree.
    Fast,
    /// LLVM's `coldcc`: for rarely called functions (more callee-saved registers).
    Cold,
    /// LLVM's `tailcc`: callee-pops, so `musttail` works between any prototypes.
    Tail,
    /// LLVM's `preserve_mostcc`: the callee saves nearly every register.
    PreserveMost,
    /// LLVM's `preserve_allcc`: the callee saves every register, floating point too.
    PreserveAll,
}

impl CallConv {
    /// Every convention, for capability tables.
    pub const ALL: [CallConv; 8] = [
        CallConv::C,
        CallConv::SysV64,
        CallConv::Win64,
        CallConv::Fast,
        CallConv::Cold,
        CallConv::Tail,
        CallConv::PreserveMost,
        CallConv::PreserveAll,
    ];

    /// Whether variadic functions may use this convention.
    pub fn allows_variadic(self) -> bool {
        matches!(self, CallConv::C | CallConv::SysV64 | CallConv::Win64)
    }
}

/// How a narrow integer argument or result is widened at the ABI boundary
/// (`signext`/`zeroext`). Only meaningful on integers narrower than 32 bits,
/// except where the target ABI itself says otherwise (riscv64 sign-extends i32).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AbiExt {
    /// No extension fact: the value is passed as its own width.
    #[default]
    None,
    /// Sign-extend to the register width.
    Sign,
    /// Zero-extend to the register width.
    Zero,
}

/// Facts about a pointer parameter or result the optimizer may rely on. Each
/// is a promise by the frontend: breaking it is undefined behaviour, as in LLVM.
/// Only pointer-typed parameters and results take them (`inreg` excepted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ParamAttrs {
    /// No other pointer visible to the callee accesses the same memory.
    pub noalias: bool,
    /// The callee does not keep the pointer beyond the call.
    pub nocapture: bool,
    /// The callee only reads through the pointer.
    pub readonly: bool,
    /// The callee only writes through the pointer.
    pub writeonly: bool,
    /// The pointer is never null.
    pub nonnull: bool,
    /// This many bytes are dereferenceable (0 = no fact).
    pub dereferenceable: u64,
    /// Null, or this many bytes dereferenceable (0 = no fact).
    pub dereferenceable_or_null: u64,
    /// The pointer is aligned to this power of two (0 = no fact).
    pub align: u64,
    /// Pass in a register where the convention has a choice (i686 `regparm`-style).
    pub inreg: bool,
    /// The static-chain (closure context) pointer: x86-64 `r10`, AArch64 `x18`.
    /// At most one per signature; see [`crate::TargetInfo::supports_nest`].
    pub nest: bool,
}

impl ParamAttrs {
    /// Whether any fact is set.
    pub fn is_empty(&self) -> bool {
        *self == ParamAttrs::default()
    }

    /// Whether any pointer-only fact is set.
    pub(crate) fn has_pointer_facts(&self) -> bool {
        self.noalias
            || self.nocapture
            || self.readonly
            || self.writeonly
            || self.nonnull
            || self.dereferenceable != 0
            || self.dereferenceable_or_null != 0
            || self.align != 0
            || self.nest
    }
}

/// Frame-pointer policy of one function (`frame-pointer` in LLVM).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FramePointer {
    /// Omit where possible.
    None,
    /// Keep in functions that make calls.
    NonLeaf,
    /// Keep everywhere.
    All,
}

/// Per-function attributes. The default is no attribute.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct FuncAttrs {
    /// The function never returns (its calls are followed by `unreachable`).
    pub noreturn: bool,
    /// Rarely executed: optimized for size, laid out apart.
    pub cold: bool,
    /// Frequently executed.
    pub hot: bool,
    /// Never inlined.
    pub noinline: bool,
    /// Always inlined where possible.
    pub alwaysinline: bool,
    /// Optimize for size.
    pub optsize: bool,
    /// Optimize for size above all.
    pub minsize: bool,
    /// Realign the stack to this power of two on entry (0 = the ABI's).
    pub stack_align: u32,
    /// Do not use the red zone below the stack pointer (kernels, signal-heavy code).
    pub no_red_zone: bool,
    /// Touch every page of a large or dynamic frame in order (inline stack
    /// probes), so a stack overflow always hits the guard page; see
    /// [`crate::TargetInfo::supports_stack_probes`].
    pub stack_probes: bool,
    /// Target CPU for this function, e.g. `x86-64-v3` (validated against the target).
    pub target_cpu: Option<String>,
    /// Target features for this function, e.g. `+avx2,+fma` (validated against the target).
    pub target_features: Option<String>,
    /// Frame-pointer policy; `None` = the module's default.
    pub frame_pointer: Option<FramePointer>,
    /// No prologue or epilogue: the body is inline assembly (and `unreachable`)
    /// that reads its arguments from the convention's registers and returns by
    /// itself. Never inlined; excludes `alwaysinline` and GC safepoints
    /// (`doc/asm.md`).
    pub naked: bool,
}

/// Tail-call policy of one call site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum TailPolicy {
    /// No marker: LLVM decides.
    #[default]
    None,
    /// A hint that the callee uses no caller stack memory (LLVM `tail`).
    Tail,
    /// Never a tail call (LLVM `notail`), e.g. to keep the caller's frame in backtraces.
    NoTail,
}

/// Attributes of one call site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CallAttrs {
    /// Tail-call policy. A guaranteed tail call is [`crate::Cg::tail_call`].
    pub tail: TailPolicy,
    /// The call is rarely executed.
    pub cold: bool,
    /// An alias scope (from [`crate::Cg::alias_scope`]; 0 = none) whose
    /// accesses the callee never touches: loads in that scope can be kept or
    /// hoisted across the call (e.g. a runtime poll that never writes a flag
    /// the frontend keeps in its own scope). A promise the frontend makes.
    pub noalias_scope: u32,
}

/// Why a guaranteed tail call ([`crate::Cg::tail_call`]) was refused: every
/// condition LLVM would reject, or abort on, is checked first.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MustTailProblem {
    /// Caller and callee use different calling conventions.
    ConventionMismatch,
    /// Prototypes differ (only `CallConv::Tail` allows that).
    PrototypeMismatch,
    /// Results differ: the caller must return exactly what the callee returns.
    ResultMismatch,
    /// Exactly one of caller and callee is variadic.
    VariadicMismatch,
    /// A record or array passed or returned in memory (it would live in the
    /// caller's frame, which the tail call discards).
    AggregateInMemory,
    /// An argument is passed on the stack, which this target's tail calls cannot do.
    StackArguments,
    /// The call is a GC safepoint (statepoints cannot be tail calls).
    Safepoint,
    /// The callee is a GC runtime function (called through a trampoline).
    RuntimeCallee,
}

impl fmt::Display for MustTailProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MustTailProblem::ConventionMismatch => "caller and callee calling conventions differ",
            MustTailProblem::PrototypeMismatch => {
                "caller and callee prototypes differ (only CallConv::Tail allows different prototypes)"
            }
            MustTailProblem::ResultMismatch => "caller and callee result types differ",
            MustTailProblem::VariadicMismatch => "only one of caller and callee is variadic",
            MustTailProblem::AggregateInMemory => "a record or array is passed or returned in memory",
            MustTailProblem::StackArguments => "an argument is passed on the stack, which this target cannot tail call",
            MustTailProblem::Safepoint => "the call is a GC safepoint (declare the callee GcRole::Leaf)",
            MustTailProblem::RuntimeCallee => "the callee is a GC runtime function",
        })
    }
}

/// What is wrong with an attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttrProblem {
    /// A pointer-only fact on a value of another type.
    NotPointer,
    /// Two attributes that exclude each other.
    Conflicts(&'static str),
    /// A count or alignment that must be a power of two.
    NotPowerOfTwo(u64),
    /// More than one parameter carries it.
    Duplicate,
    /// It needs a function body (a declaration-only symbol cannot take it).
    NotOnThisSymbol,
    /// It names parameter `n`, which the function does not have.
    NoSuchParam(u32),
    /// Its grow function is not a function of type `void(ptr, ptr)` in the C convention.
    GrowFunction,
}

impl fmt::Display for AttrProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrProblem::NotPointer => f.write_str("applies to pointers only"),
            AttrProblem::Conflicts(other) => write!(f, "conflicts with `{other}`"),
            AttrProblem::NotPowerOfTwo(n) => write!(f, "{n} is not a power of two (at most 2^29)"),
            AttrProblem::Duplicate => f.write_str("may appear on one parameter only"),
            AttrProblem::NotOnThisSymbol => f.write_str("does not apply to this symbol"),
            AttrProblem::NoSuchParam(n) => write!(f, "names parameter {n}, which the function does not have"),
            AttrProblem::GrowFunction => {
                f.write_str("needs a grow function of type `void(ptr, ptr)` in the C convention")
            }
        }
    }
}
