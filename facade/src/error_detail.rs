//! The structured fields of [`crate::ErrorKind`]: what was expected, which
//! handle, which limit. Each is data a frontend (or the C API) can act on; the
//! `Display` impls only render it.

use std::fmt;

use crate::{AtomicOrdering, Linkage, TypeId, Visibility};

/// A type named in a diagnostic: its id and a bounded spelling (deeply nested
/// types are elided, so a message never grows with the type's depth).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeName {
    /// The type's handle in its module.
    pub id: TypeId,
    /// A short spelling such as `i32`, `ptr addrspace(1)` or `[4 x {i8, …}]`.
    pub spelling: String,
}

impl fmt::Display for TypeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spelling)
    }
}

/// What an operand's type should have been.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expected {
    /// Exactly this type (or, for pointers, any pointer into the same address space).
    Type(TypeName),
    /// An integer type.
    Integer,
    /// An integer type whose width is a multiple of 16 bits (`bswap`).
    IntegerMultipleOf16,
    /// An integer or a pointer type.
    IntegerOrPointer,
    /// A floating-point type.
    Float,
    /// A pointer type.
    Pointer,
    /// A pointer type into this address space.
    PointerInSpace(u32),
    /// A scalar type (integer, float or pointer).
    Scalar,
    /// A scalar of at least one byte (atomics cannot access `i1`).
    ByteSizedScalar,
    /// A type the atomic read-modify-write operation applies to.
    AtomicRmwOperand(crate::AtomicRmwOp),
    /// A function type.
    Function,
    /// A record type.
    Record,
    /// A pointer into the managed address space.
    ManagedPointer,
    /// The signature a GC runtime function must have.
    RuntimeSignature(RuntimeFunction),
    /// A type `va_arg` reads: one that C's default argument promotions leave
    /// alone (i32, i64, i128, a pointer, f64) or a record or array.
    VarArg,
    /// The signature of a constructor or destructor: no parameters, no result.
    InitFiniSignature,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Type(t) => write!(f, "{t}"),
            Expected::VarArg => f.write_str("i32, i64, i128, a pointer, f64 or an aggregate (C promotes the others)"),
            Expected::Integer => f.write_str("an integer type"),
            Expected::IntegerMultipleOf16 => f.write_str("an integer type of a multiple of 16 bits"),
            Expected::IntegerOrPointer => f.write_str("an integer or pointer type"),
            Expected::Float => f.write_str("a float type"),
            Expected::Pointer => f.write_str("a pointer type"),
            Expected::PointerInSpace(space) => write!(f, "a pointer type in address space {space}"),
            Expected::Scalar => f.write_str("a scalar type"),
            Expected::ByteSizedScalar => f.write_str("a byte-sized scalar type (not i1)"),
            Expected::AtomicRmwOperand(op) => write!(f, "a type atomic {op:?} applies to"),
            Expected::Function => f.write_str("a function type"),
            Expected::Record => f.write_str("a record type"),
            Expected::ManagedPointer => f.write_str("a managed pointer type"),
            Expected::RuntimeSignature(r) => write!(f, "the signature {}", r.signature()),
            Expected::InitFiniSignature => f.write_str("a function without parameters or result"),
        }
    }
}

/// The functions of a GC runtime (see [`crate::GcRuntime`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuntimeFunction {
    /// `alloc(descriptor, size)`.
    Alloc,
    /// `write_barrier(object, offset, value, kind)`.
    WriteBarrier,
    /// `poll()`.
    Poll,
}

impl RuntimeFunction {
    /// The signature the facade requires.
    pub fn signature(self) -> &'static str {
        match self {
            RuntimeFunction::Alloc => "fn(i64, i64) -> managed pointer",
            RuntimeFunction::WriteBarrier => "fn(managed pointer, i64, managed pointer, i32)",
            RuntimeFunction::Poll => "fn() declared GcRole::Runtime",
        }
    }

    /// The field of [`crate::GcRuntime`] that names it.
    pub fn field(self) -> &'static str {
        match self {
            RuntimeFunction::Alloc => "alloc",
            RuntimeFunction::WriteBarrier => "write_barrier",
            RuntimeFunction::Poll => "poll",
        }
    }
}

/// Whether a value-stack entry is a value or a place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// An rvalue.
    Value,
    /// A place (lvalue): an address with an object type.
    Place,
    /// A pointer value (as opposed to a place).
    PointerValue,
    /// A function pointer value.
    FunctionPointer,
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Category::Value => "a value",
            Category::Place => "a place (lvalue)",
            Category::PointerValue => "a pointer value",
            Category::FunctionPointer => "a function pointer value",
        })
    }
}

/// The kinds of handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HandleKind {
    /// A [`crate::TypeId`].
    Type,
    /// A [`crate::Sym`].
    Symbol,
    /// A [`crate::Label`].
    Label,
    /// A [`crate::Local`].
    Local,
    /// An alias scope id from [`crate::Cg::alias_scope`].
    AliasScope,
}

impl fmt::Display for HandleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HandleKind::Type => "type",
            HandleKind::Symbol => "symbol",
            HandleKind::Label => "label",
            HandleKind::Local => "local",
            HandleKind::AliasScope => "alias scope",
        })
    }
}

/// Why a name was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NameProblem {
    /// The name is empty where one is required.
    Empty,
    /// The name contains a NUL byte.
    ContainsNul,
    /// The name is in LLVM's reserved `llvm.` namespace (it would declare an intrinsic).
    Reserved,
}

impl NameProblem {
    /// What is wrong with `name` as a linkage (or module) name, if anything:
    /// it must be non-empty and free of NUL bytes, since C strings carry it.
    pub fn of(name: &str) -> Option<NameProblem> {
        if name.is_empty() {
            Some(NameProblem::Empty)
        } else if name.contains('\0') {
            Some(NameProblem::ContainsNul)
        } else {
            None
        }
    }
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameProblem::Empty => "it is empty",
            NameProblem::ContainsNul => "it contains a NUL byte",
            NameProblem::Reserved => "names starting with `llvm.` are reserved for intrinsics",
        })
    }
}

/// Symbol kinds, for [`crate::ErrorKind::WrongSymbolKind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SymbolClass {
    /// A function.
    Function,
    /// A data object.
    Data,
}

impl fmt::Display for SymbolClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SymbolClass::Function => "function",
            SymbolClass::Data => "data object",
        })
    }
}

/// Why a symbol cannot be given a definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NoDefinitionReason {
    /// Its linkage names a definition elsewhere (`ExternalWeak`).
    Linkage(Linkage),
    /// It is a `GcRole::Runtime` function, implemented by the host.
    RuntimeFunction,
}

/// Quantities with an upper limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Quantity {
    /// An array's size in bytes.
    ArraySize,
    /// A record's size in bytes.
    RecordSize,
    /// A managed object's size in bytes (`gc_alloc`).
    ObjectSize,
    /// The element size of `addr_index`.
    ElementSize,
    /// A local slot's size in bytes.
    LocalSize,
    /// The total size of a function's fixed stack slots.
    FrameSize,
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Quantity::ArraySize => "array size",
            Quantity::RecordSize => "record size",
            Quantity::ObjectSize => "object size",
            Quantity::ElementSize => "element size",
            Quantity::LocalSize => "local slot size",
            Quantity::FrameSize => "stack frame size",
        })
    }
}

/// Memory operations, for flags that do not apply to them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemOp {
    /// `store` (invariant applies to loads only).
    Store,
    /// An atomic access (no hints).
    Atomic,
    /// `memcpy`, `memmove` or `memset` (no hints).
    Bulk,
}

impl fmt::Display for MemOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MemOp::Store => "a store",
            MemOp::Atomic => "an atomic access",
            MemOp::Bulk => "a bulk memory operation",
        })
    }
}

/// Atomic operations, for orderings that do not apply to them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    /// `atomic_load`.
    Load,
    /// `atomic_store`.
    Store,
    /// The failure ordering of `cmpxchg`.
    CmpxchgFailure,
    /// `fence`.
    Fence,
}

impl fmt::Display for AtomicOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AtomicOp::Load => "an atomic load",
            AtomicOp::Store => "an atomic store",
            AtomicOp::CmpxchgFailure => "the failure ordering of cmpxchg",
            AtomicOp::Fence => "a fence",
        })
    }
}

/// A well-formed request the selected target cannot lower.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TargetFeature {
    /// Integer storage of this width (i128 needs the C ABI's `__int128`).
    IntWidth(u32),
    /// Lock-free atomic access of this many bits.
    LockFreeAtomic(u64),
    /// This linkage in the target's object format.
    Linkage(Linkage),
    /// This visibility in the target's object format.
    Visibility(Visibility),
    /// GC safepoints (statepoints), x86-64 and AArch64 only.
    GcSafepoints,
    /// This calling convention.
    CallConv(crate::CallConv),
    /// A `nest` (static chain) parameter.
    NestParameter,
    /// Inline stack probes.
    StackProbes,
    /// Guaranteed tail calls (`musttail`; WebAssembly needs `+tail-call`).
    GuaranteedTailCall,
    /// Records and arrays by value (no C ABI rules for this target yet).
    AggregateByValue,
    /// Reading variadic arguments (`va_arg`; no `va_list` rules for this target yet).
    VariadicDefinitions,
    /// A record or array of size zero (MSVC targets: C there has none, and clang's
    /// extension gives them 4 bytes).
    ZeroSizedType,
    /// COMDAT groups with this selection kind (`TargetInfo::supports_comdat`).
    Comdat(crate::ComdatKind),
    /// Thread-local data with this model (`TargetInfo::supports_tls`).
    ThreadLocal(crate::TlsModel),
    /// Explicit sections, aliases or constructor priorities in an object format
    /// LLVM has no rules for here.
    ObjectFormatFeature(&'static str),
    /// Pointers into this address space (`TargetInfo::supports_address_space`).
    AddressSpace(u32),
    /// Symbol addresses in data as pointers into this address space
    /// (`TargetInfo::supports_address_constants_in`).
    AddressConstantIn(u32),
}

impl fmt::Display for TargetFeature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetFeature::IntWidth(bits) => write!(f, "i{bits} storage"),
            TargetFeature::LockFreeAtomic(bits) => write!(f, "lock-free atomic access of {bits} bits"),
            TargetFeature::Linkage(l) => write!(f, "{l:?} linkage"),
            TargetFeature::Visibility(v) => write!(f, "{v:?} visibility"),
            TargetFeature::GcSafepoints => f.write_str("GC safepoints (statepoints)"),
            TargetFeature::CallConv(c) => write!(f, "the {c:?} calling convention"),
            TargetFeature::NestParameter => f.write_str("a nest (static chain) parameter"),
            TargetFeature::StackProbes => f.write_str("inline stack probes"),
            TargetFeature::GuaranteedTailCall => f.write_str("guaranteed tail calls"),
            TargetFeature::AggregateByValue => f.write_str("records and arrays by value (no C ABI rules)"),
            TargetFeature::VariadicDefinitions => f.write_str("reading variadic arguments (no va_list rules)"),
            TargetFeature::ZeroSizedType => f.write_str("records and arrays of size zero (MSVC C has none)"),
            TargetFeature::Comdat(k) => write!(f, "COMDAT selection {k:?}"),
            TargetFeature::ThreadLocal(m) => write!(f, "thread-local data ({m:?})"),
            TargetFeature::ObjectFormatFeature(what) => f.write_str(what),
            TargetFeature::AddressSpace(s) => write!(f, "pointers into address space {s}"),
            TargetFeature::AddressConstantIn(s) => {
                write!(f, "symbol addresses in data as pointers into address space {s}")
            }
        }
    }
}

/// A request no target supports yet; each names the issue or rule behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unimplemented {
    /// A record or array by value in the signature of a managed (`GcRole::Safepoints`)
    /// or GC runtime function: statepoints and runtime trampolines forward scalars only.
    AggregateAtSafepoint(TypeName),
    /// Defining a variadic function that is managed or not of the C convention.
    VariadicDefinition,
    /// A managed address space other than 1 (the one LLVM's statepoint lowering tracks).
    ManagedSpace(u32),
    /// A safepoint call of a variadic function with a result (LLVM cannot wrap it in a
    /// statepoint); declare the callee `GcRole::Leaf` if it cannot collect.
    VariadicSafepointWithResult,
}

impl fmt::Display for Unimplemented {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unimplemented::AggregateAtSafepoint(t) => write!(
                f,
                "{t} by value in a managed or GC runtime function's signature is not supported \
                 (pass a pointer to it)"
            ),
            Unimplemented::VariadicDefinition => {
                f.write_str("variadic definitions must be unmanaged and of the C calling convention")
            }
            Unimplemented::ManagedSpace(s) => {
                write!(f, "managed address space {s} is not supported (the managed space must be 1)")
            }
            Unimplemented::VariadicSafepointWithResult => f.write_str(
                "a safepoint call of a variadic function with a result is not supported \
                 (declare the callee GcRole::Leaf if it cannot collect)",
            ),
        }
    }
}

/// What is wrong with a COMDAT group ([`crate::ErrorKind::InvalidComdat`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ComdatProblem {
    /// An earlier member declared the group with another selection kind.
    KindConflict {
        /// The kind the group already has.
        first: crate::ComdatKind,
    },
    /// The group's name is empty or contains a NUL byte.
    BadName,
    /// A member symbol can never be defined here (`ExternalWeak`).
    Undefinable(String),
    /// At `finish`, this member has no definition (LLVM puts only definitions in groups).
    MemberNeverDefined(String),
    /// At `finish`, no member carries the group's name (COFF needs this key symbol).
    NoKeySymbol,
}

impl fmt::Display for ComdatProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComdatProblem::KindConflict { first } => write!(f, "the group was declared with selection {first:?}"),
            ComdatProblem::BadName => f.write_str("the group name is empty or contains a NUL byte"),
            ComdatProblem::Undefinable(n) => write!(f, "member `{n}` is ExternalWeak and cannot be defined"),
            ComdatProblem::MemberNeverDefined(n) => write!(f, "member `{n}` is never defined"),
            ComdatProblem::NoKeySymbol => {
                f.write_str("no member has the group's name (COFF groups need that key symbol)")
            }
        }
    }
}

/// What is wrong with a section name ([`crate::ErrorKind::InvalidSection`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SectionProblem {
    /// Empty, or contains a NUL byte or a newline.
    BadName,
    /// Mach-O needs `segment,section`, each 1 to 16 characters.
    MachOSpecifier,
    /// A zero-fill section (ELF `.bss`, `.sbss`, `.tbss` names) holding code or
    /// non-zero data.
    ZeroFillOnly,
    /// A name the object format reserves for other contents (wasm `.init_array`,
    /// or a `.text` name for wasm data).
    Reserved,
}

impl fmt::Display for SectionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SectionProblem::BadName => f.write_str("is empty or contains a NUL byte or a newline"),
            SectionProblem::MachOSpecifier => {
                f.write_str("is not a Mach-O `segment,section` pair of 1 to 16 characters each")
            }
            SectionProblem::ZeroFillOnly => f.write_str("is a zero-fill section: it holds only zero-initialised data"),
            SectionProblem::Reserved => f.write_str("is reserved by the object format for other contents"),
        }
    }
}

/// What is wrong with a partition ([`crate::ErrorKind::InvalidPartition`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PartitionProblem {
    /// Empty, or not printable ASCII without `"` and `\\`.
    BadName,
    /// The symbol is not a default-visibility definition that other
    /// partitions could load (internal, hidden, protected or extern_weak):
    /// the linker would ignore the request.
    NotAnEntryPoint,
}

impl fmt::Display for PartitionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PartitionProblem::BadName => f.write_str("is empty or not printable ASCII without quotes and backslashes"),
            PartitionProblem::NotAnEntryPoint => {
                f.write_str("names a symbol that is not an exported definition (internal, hidden or extern_weak)")
            }
        }
    }
}

/// What is wrong with an alias ([`crate::ErrorKind::InvalidAlias`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AliasProblem {
    /// An alias cannot have this linkage (`ExternalWeak`).
    Linkage(Linkage),
    /// The target is thread-local data.
    ThreadLocalTarget,
    /// The target is an alias a strong definition elsewhere may replace (`Weak`).
    InterposableTarget,
    /// At `finish`, the target has no definition in this module.
    TargetNeverDefined(String),
}

impl fmt::Display for AliasProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AliasProblem::Linkage(l) => write!(f, "an alias cannot have {l:?} linkage"),
            AliasProblem::ThreadLocalTarget => f.write_str("the target is thread-local data"),
            AliasProblem::InterposableTarget => f.write_str("the target is a weak alias (alias its target instead)"),
            AliasProblem::TargetNeverDefined(t) => write!(f, "its target `{t}` is never defined in this module"),
        }
    }
}

pub(crate) fn ordering_name(o: AtomicOrdering) -> &'static str {
    match o {
        AtomicOrdering::Relaxed => "relaxed",
        AtomicOrdering::Acquire => "acquire",
        AtomicOrdering::Release => "release",
        AtomicOrdering::AcqRel => "acq_rel",
        AtomicOrdering::SeqCst => "seq_cst",
    }
}
