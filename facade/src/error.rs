//! Diagnostics. Every error names the API call, the function being emitted
//! (when one is open) and the operand at fault. A failed call has no effect:
//! the emitter's state is as it was before the call.

use std::fmt;

use crate::error_detail::ordering_name;
use crate::{
    Arch, AsmArch, AsmDialect, AsmOptionProblem, AsmTemplateProblem, AsmTieProblem, AtomicOp, AtomicOrdering, Category,
    Expected, HandleKind, IntBinOp, IntFlags, Linkage, MemFlags, MemOp, NameProblem, NoDefinitionReason, Quantity,
    RegClass, SymbolClass, TargetFeature, TypeName, Unimplemented, Visibility,
};

/// Result alias for the facade.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A rejected API call (boxed: the success path stays one word wide).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    call: &'static str,
    function: Option<String>,
    operand: Option<String>,
    kind: ErrorKind,
}

impl Error {
    /// An error for `call` without function or operand context.
    pub fn new(call: &'static str, kind: impl Into<ErrorKind>) -> Self {
        Self(Box::new(Inner { call, function: None, operand: None, kind: kind.into() }))
    }

    /// Adds the operand at fault.
    pub fn operand(mut self, operand: impl Into<String>) -> Self {
        self.0.operand = Some(operand.into());
        self
    }

    /// Adds the function being emitted.
    pub fn in_function(mut self, function: impl Into<String>) -> Self {
        self.0.function = Some(function.into());
        self
    }

    /// The API call that failed, e.g. `"store"`.
    pub fn call(&self) -> &'static str {
        self.0.call
    }

    /// Linkage name of the function being emitted, if any.
    pub fn function(&self) -> Option<&str> {
        self.0.function.as_deref()
    }

    /// The operand at fault, e.g. `"value"`, `"argument 2"`.
    pub fn operand_name(&self) -> Option<&str> {
        self.0.operand.as_deref()
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.call)?;
        if let Some(func) = &self.0.function {
            write!(f, " in function `{func}`")?;
        }
        if let Some(op) = &self.0.operand {
            write!(f, " ({op})")?;
        }
        write!(f, ": {}", self.0.kind)
    }
}

impl std::error::Error for Error {}

impl Error {
    /// The stable numeric code of the error's kind (see [`ErrorKind::code`]).
    pub fn code(&self) -> u32 {
        self.0.kind.code()
    }
}

/// The classes of misuse and unsupported requests: one variant per
/// precondition, with its facts as data. `doc/errors.md` says, for each, when
/// it happens and what a frontend should do; [`ErrorKind::code`] is its stable
/// number for the C API.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    // ---- emitter state ----
    /// An instruction-emitting call was made with no function open.
    NoOpenFunction,
    /// `func_begin` (or `finish`) while a function is open.
    FunctionAlreadyOpen {
        /// The open function.
        open: String,
    },
    /// A GC operation in a function not declared `GcRole::Safepoints`.
    NotManagedFunction,
    /// `set_address_space_policy` after symbols were declared.
    PolicyAfterDeclarations,
    /// `va_start` in a function that is not variadic.
    NotVariadic,

    // ---- value stack and types ----
    /// Fewer values on the stack than the call consumes.
    StackUnderflow {
        /// Values the call needs.
        needed: usize,
        /// Values present.
        available: usize,
    },
    /// Values are left on the stack where it must be empty (labels, terminators, function end).
    StackNotEmpty {
        /// Values left.
        count: usize,
    },
    /// An operand has the wrong type.
    TypeMismatch {
        /// What the call expected.
        expected: Expected,
        /// What it found.
        found: TypeName,
    },
    /// An operand is a value where a place is needed, or the reverse.
    WrongValueCategory {
        /// What the call expected.
        expected: Category,
        /// What it found.
        found: Category,
    },
    /// A conversion that does not apply to these types.
    InvalidConversion {
        /// The conversion.
        op: crate::CastOp,
        /// The operand's type.
        from: TypeName,
        /// The requested type.
        to: TypeName,
    },
    /// A type without a size (a function type) where storage is needed.
    Unsized {
        /// The type.
        ty: TypeName,
    },
    /// A record field index beyond the record.
    NoSuchField {
        /// The record type.
        record: TypeName,
        /// The index asked for.
        index: usize,
        /// Number of fields.
        count: usize,
    },

    // ---- handles and control flow ----
    /// A handle from another module or function, or out of range.
    ForeignHandle {
        /// Kind of handle.
        what: HandleKind,
        /// The handle's bits (`to_bits`).
        handle: u64,
    },
    /// A branch targets a label that was never placed in the function.
    LabelNeverPlaced {
        /// The label's index.
        label: u32,
    },
    /// A label placed a second time.
    LabelPlacedTwice {
        /// The label's index.
        label: u32,
    },
    /// Control reaches the end of the function without a terminator.
    FallsOffEnd,

    // ---- symbols ----
    /// A name the call cannot use.
    InvalidName {
        /// The name.
        name: String,
        /// Why.
        problem: NameProblem,
    },
    /// A linkage name declared twice.
    DuplicateSymbol {
        /// The linkage name.
        name: String,
    },
    /// A symbol defined (function body or data) twice.
    DuplicateDefinition {
        /// The linkage name.
        name: String,
    },
    /// A symbol of the wrong kind (function vs data) for the call.
    WrongSymbolKind {
        /// The linkage name.
        name: String,
        /// The kind the call needs.
        expected: SymbolClass,
    },
    /// A symbol whose linkage requires a definition in this module has none at `finish`.
    NeverDefined {
        /// The linkage name.
        name: String,
        /// Its linkage (`Internal`, `Weak`, `WeakOdr` or `LinkOnceOdr`).
        linkage: Linkage,
    },
    /// A symbol that cannot have a definition here.
    NotDefinable {
        /// The linkage name.
        name: String,
        /// Why.
        reason: NoDefinitionReason,
    },
    /// Internal linkage with a visibility other than default.
    VisibilityOnInternal {
        /// The visibility asked for.
        visibility: Visibility,
    },
    /// A COMDAT group that cannot be lowered as declared.
    InvalidComdat {
        /// The group's name.
        comdat: String,
        /// What is wrong.
        problem: crate::ComdatProblem,
    },
    /// A section name the object format cannot take for this symbol.
    InvalidSection {
        /// The section name.
        section: String,
        /// What is wrong.
        problem: crate::SectionProblem,
    },
    /// An alias that cannot be lowered as declared.
    InvalidAlias {
        /// The alias's linkage name.
        name: String,
        /// What is wrong.
        problem: crate::AliasProblem,
    },
    /// A data relocation names thread-local data, whose address differs per
    /// thread and is no link-time constant.
    ThreadLocalInData {
        /// The thread-local symbol's linkage name.
        name: String,
    },
    /// A partition name or a partitioned symbol that cannot be lowered.
    InvalidPartition {
        /// The partition name.
        partition: String,
        /// What is wrong.
        problem: crate::PartitionProblem,
    },

    // ---- constants, sizes, alignment ----
    /// An integer constant does not fit the type.
    ConstantOutOfRange {
        /// The constant.
        value: i128,
        /// The type.
        ty: TypeName,
    },
    /// Alignment is not a power of two (or zero where allowed) or above 2^30.
    InvalidAlignment {
        /// The alignment.
        align: u64,
    },
    /// An atomic access aligned below its size.
    UnderalignedAtomic {
        /// The access's alignment.
        align: u64,
        /// Its size in bytes.
        size: u64,
    },
    /// Address space at or above 2^24.
    InvalidAddressSpace {
        /// The address space.
        addr_space: u32,
    },
    /// An access descriptor names another address space than its address operand's.
    AddressSpaceMismatch {
        /// The descriptor's address space.
        access: u32,
        /// The address operand's.
        pointer: u32,
    },
    /// A size beyond what the emitter accepts.
    TooLarge {
        /// What overflowed.
        what: Quantity,
        /// The size asked for, in bytes (saturated at `u128::MAX`).
        size: u128,
        /// The largest size accepted.
        limit: u64,
    },
    /// A data definition whose bytes do not match its declared type's size.
    DataSize {
        /// Size of the declared type.
        expected: u64,
        /// Size of the initializer.
        found: u64,
    },
    /// A parameter index beyond the signature.
    NoSuchParam {
        /// The index.
        index: u32,
        /// Number of parameters.
        count: usize,
    },
    /// Two cases of a `switch` with the same value at the operand's width.
    DuplicateCase {
        /// The later case's value, as given.
        value: i128,
        /// The index of the earlier case with the same bits.
        first: usize,
    },
    /// A constructor or destructor priority outside 101..=65535 (0-100 are reserved
    /// for the C runtime).
    InvalidPriority {
        /// The priority asked for.
        priority: u32,
    },
    /// An `indirect_br` without destinations.
    NoDestinations,
    /// `addr_of` on a slot declared without `SlotFlags::ADDRESS_TAKEN` (or on
    /// a place inside it).
    AddressNotTaken {
        /// The slot's index among the function's parameters and locals.
        index: u32,
    },
    /// Wrong number of call arguments.
    ArgumentCount {
        /// Fixed parameters of the signature.
        expected: usize,
        /// Arguments given.
        found: usize,
        /// Whether the signature is variadic.
        variadic: bool,
    },

    // ---- operation facts ----
    /// Integer flags (`nsw`, `nuw`, `exact`) that do not apply to the operation.
    InvalidIntFlags {
        /// The operation.
        op: IntBinOp,
        /// The flags that do not apply.
        flags: IntFlags,
    },
    /// Memory flags that do not apply to the operation.
    InvalidMemFlags {
        /// The operation.
        op: MemOp,
        /// The flags that do not apply.
        flags: MemFlags,
    },
    /// A memory ordering that does not apply to the atomic operation.
    InvalidOrdering {
        /// The operation.
        op: AtomicOp,
        /// The ordering.
        ordering: AtomicOrdering,
    },
    /// A parameter, result, function or call attribute that does not apply.
    InvalidAttribute {
        /// The attribute.
        attr: &'static str,
        /// What is wrong.
        problem: crate::AttrProblem,
    },
    /// A guaranteed tail call that LLVM could not honour.
    MustTail {
        /// Why.
        problem: crate::MustTailProblem,
    },
    /// A record or array argument or result was given as something other than a place.
    AggregateNotPlace {
        /// The aggregate type.
        ty: TypeName,
    },
    /// An inline assembly block compiled for an architecture its target guard does not name.
    AsmTargetMismatch {
        /// The module's architecture.
        arch: Arch,
        /// The architectures the block is written for.
        written_for: Vec<AsmArch>,
    },
    /// An assembly dialect the target does not have (Intel outside x86-64).
    AsmDialectUnsupported {
        /// The dialect.
        dialect: AsmDialect,
        /// The module's architecture.
        arch: Arch,
    },
    /// Inline assembly options that exclude each other, or that the block's operands contradict.
    AsmOptions {
        /// What is wrong.
        problem: AsmOptionProblem,
    },
    /// A register class the target does not have (or lacks the feature for).
    AsmRegClassUnsupported {
        /// The class.
        class: RegClass,
        /// The module's architecture.
        arch: Arch,
    },
    /// A register name the target's table does not have.
    AsmUnknownRegister {
        /// The name as given.
        name: String,
    },
    /// A register that may not be an operand or clobber (stack, frame or base pointer, ...).
    AsmReservedRegister {
        /// The name as given.
        name: String,
        /// What the register is for.
        role: &'static str,
    },
    /// An inline assembly operand whose type its register (class) cannot hold.
    AsmOperandType {
        /// The operand's class (for an explicit register, the class it belongs to).
        class: RegClass,
        /// The operand's type.
        found: TypeName,
    },
    /// A register used twice: by two inputs, two outputs, or an operand and an explicit clobber.
    AsmDuplicateRegister {
        /// The register's name.
        name: &'static str,
    },
    /// An input tied to an operand it cannot share a register with.
    AsmTiedOperand {
        /// The operand index the input is tied to.
        output: usize,
        /// What is wrong.
        problem: AsmTieProblem,
    },
    /// A template whose placeholders do not match the operands.
    AsmTemplate {
        /// Byte offset of the problem in the template.
        offset: usize,
        /// What is wrong.
        problem: AsmTemplateProblem,
    },
    /// More operands of a register class than the register allocator surely has registers for.
    AsmRegisterPressure {
        /// The class.
        class: RegClass,
        /// Registers the block's operands need.
        needed: usize,
        /// Registers left for them.
        available: usize,
    },
    /// A call other than `asm` and `unreachable` in a naked function.
    NakedFunctionBody,

    // ---- managed code ----
    /// `movable` or `interior` on an address space that is not `managed`.
    MovableWithoutManaged {
        /// The address space.
        space: u32,
    },
    /// A GC runtime set before any managed address space was declared.
    NoManagedSpace,
    /// A managed operation with no GC runtime set (`set_gc_runtime`).
    NoGcRuntime,
    /// `safepoint` with a GC runtime that has no `poll` function.
    NoPollFunction,
    /// `gc_alloc` with an [`crate::InlineAlloc`] that has no buffer symbol
    /// (its buffers are reached through operands: `gc_alloc_in`).
    NoAllocBufferSymbol,
    /// The inline allocation buffer is read-only or smaller than two pointers.
    InvalidAllocBuffer {
        /// The buffer's linkage name.
        name: String,
        /// Its size in bytes.
        size: u64,
        /// The size needed (two pointers).
        needed: u64,
        /// Whether it is declared read-only.
        readonly: bool,
    },
    /// An inline allocation header size other than 0 or 8.
    InvalidHeaderBytes {
        /// The size asked for.
        header_bytes: u32,
    },

    // ---- debug information ----
    /// `enable_debug_info` on a module that has it on already.
    DebugInfoEnabled,
    /// A source position naming a file that was never registered.
    InvalidSrcLoc {
        /// The file id given.
        file: u32,
        /// How many files are registered.
        files: u32,
    },
    /// `describe_type` after the type was used in debug information.
    TypeAlreadyDescribed {
        /// The type.
        ty: TypeName,
    },
    /// More member names than the record has fields.
    TooManyFieldNames {
        /// The record.
        ty: TypeName,
        /// Names given.
        given: usize,
        /// Fields it has.
        fields: usize,
    },
    /// `scope_end` with no scope open.
    NoOpenScope,

    // ---- unsupported ----
    /// The target cannot lower a well-formed request.
    UnsupportedOnTarget {
        /// What was asked for.
        feature: TargetFeature,
        /// The target.
        triple: String,
    },
    /// The API cannot lower this yet on any target.
    Unsupported(Unimplemented),
    /// The backend refused an operation the facade accepted (a backend without
    /// some capability, or a backend's internal failure).
    BackendRefused {
        /// The backend, e.g. `"llvm"`.
        backend: &'static str,
        /// The backend's reason.
        reason: String,
    },
}

impl ErrorKind {
    /// The kind's stable number (for the C API and logs). Numbers are never
    /// reused; new kinds get new numbers. Ranges: 1xx emitter state, 2xx
    /// value stack and types, 3xx handles and control flow, 4xx symbols, 5xx
    /// constants and sizes, 6xx operation facts, 7xx managed code, 8xx debug
    /// information, 9xx unsupported.
    pub fn code(&self) -> u32 {
        use ErrorKind::*;
        match self {
            NoOpenFunction => 101,
            FunctionAlreadyOpen { .. } => 102,
            NotManagedFunction => 103,
            PolicyAfterDeclarations => 104,
            NotVariadic => 105,
            StackUnderflow { .. } => 201,
            StackNotEmpty { .. } => 202,
            TypeMismatch { .. } => 203,
            WrongValueCategory { .. } => 204,
            InvalidConversion { .. } => 205,
            Unsized { .. } => 206,
            NoSuchField { .. } => 207,
            ForeignHandle { .. } => 301,
            LabelNeverPlaced { .. } => 302,
            LabelPlacedTwice { .. } => 303,
            FallsOffEnd => 304,
            InvalidName { .. } => 401,
            DuplicateSymbol { .. } => 402,
            DuplicateDefinition { .. } => 403,
            WrongSymbolKind { .. } => 404,
            NeverDefined { .. } => 405,
            NotDefinable { .. } => 406,
            VisibilityOnInternal { .. } => 407,
            InvalidComdat { .. } => 408,
            InvalidSection { .. } => 409,
            InvalidAlias { .. } => 410,
            ThreadLocalInData { .. } => 411,
            InvalidPartition { .. } => 412,
            ConstantOutOfRange { .. } => 501,
            InvalidAlignment { .. } => 502,
            UnderalignedAtomic { .. } => 503,
            InvalidAddressSpace { .. } => 504,
            AddressSpaceMismatch { .. } => 505,
            TooLarge { .. } => 506,
            DataSize { .. } => 507,
            NoSuchParam { .. } => 508,
            ArgumentCount { .. } => 509,
            DuplicateCase { .. } => 510,
            InvalidPriority { .. } => 511,
            NoDestinations => 512,
            AddressNotTaken { .. } => 513,
            InvalidIntFlags { .. } => 601,
            InvalidMemFlags { .. } => 602,
            InvalidOrdering { .. } => 603,
            InvalidAttribute { .. } => 604,
            MustTail { .. } => 605,
            AggregateNotPlace { .. } => 606,
            AsmTargetMismatch { .. } => 607,
            AsmDialectUnsupported { .. } => 608,
            AsmOptions { .. } => 609,
            AsmRegClassUnsupported { .. } => 610,
            AsmUnknownRegister { .. } => 611,
            AsmReservedRegister { .. } => 612,
            AsmOperandType { .. } => 613,
            AsmDuplicateRegister { .. } => 614,
            AsmTiedOperand { .. } => 615,
            AsmTemplate { .. } => 616,
            AsmRegisterPressure { .. } => 617,
            NakedFunctionBody => 618,
            MovableWithoutManaged { .. } => 701,
            NoManagedSpace => 702,
            NoGcRuntime => 703,
            NoPollFunction => 704,
            InvalidAllocBuffer { .. } => 705,
            InvalidHeaderBytes { .. } => 706,
            NoAllocBufferSymbol => 707,
            DebugInfoEnabled => 801,
            InvalidSrcLoc { .. } => 802,
            TypeAlreadyDescribed { .. } => 803,
            TooManyFieldNames { .. } => 804,
            NoOpenScope => 805,
            UnsupportedOnTarget { .. } => 901,
            Unsupported(_) => 902,
            BackendRefused { .. } => 903,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ErrorKind::*;
        match self {
            NoOpenFunction => write!(f, "no function is open (call func_begin first)"),
            FunctionAlreadyOpen { open } => write!(f, "function `{open}` is still open"),
            NotManagedFunction => write!(f, "the function is not managed (declare it GcRole::Safepoints)"),
            NotVariadic => write!(f, "va_start in a function whose signature is not variadic"),
            PolicyAfterDeclarations => {
                write!(f, "address space policies must be set before any symbol is declared")
            }
            StackUnderflow { needed, available } => {
                write!(f, "value stack underflow: needs {needed}, has {available}")
            }
            StackNotEmpty { count } => write!(f, "{count} value(s) left on the value stack"),
            TypeMismatch { expected, found } => write!(f, "type mismatch: expected {expected}, found {found}"),
            WrongValueCategory { expected, found } => write!(f, "expected {expected}, found {found}"),
            InvalidConversion { op, from, to } => write!(f, "{op:?} does not convert {from} to {to}"),
            Unsized { ty } => write!(f, "type {ty} has no size"),
            NoSuchField { record, index, count } => {
                write!(f, "field {index} does not exist ({record} has {count} fields)")
            }
            ForeignHandle { what, handle } => {
                write!(f, "{what} handle {handle:#x} belongs to another module or function, or is out of range")
            }
            LabelNeverPlaced { label } => write!(f, "label L{label} is branched to but never placed"),
            LabelPlacedTwice { label } => write!(f, "label L{label} is already placed"),
            FallsOffEnd => write!(f, "control reaches the end of the function without a terminator"),
            InvalidName { name, problem } => write!(f, "invalid name {name:?}: {problem}"),
            DuplicateSymbol { name } => write!(f, "symbol `{name}` is already declared"),
            DuplicateDefinition { name } => write!(f, "symbol `{name}` is already defined"),
            WrongSymbolKind { name, expected } => write!(f, "symbol `{name}` is not a {expected}"),
            NeverDefined { name, linkage } => {
                write!(f, "symbol `{name}` has {linkage:?} linkage, which needs a definition, but has none")
            }
            NotDefinable { name, reason: NoDefinitionReason::Linkage(l) } => {
                write!(f, "symbol `{name}` has {l:?} linkage and cannot be defined here")
            }
            NotDefinable { name, reason: NoDefinitionReason::RuntimeFunction } => {
                write!(f, "function `{name}` is GcRole::Runtime (implemented by the host) and cannot be defined here")
            }
            VisibilityOnInternal { visibility } => {
                write!(f, "{visibility:?} visibility does not apply to internal linkage")
            }
            InvalidComdat { comdat, problem } => write!(f, "COMDAT group `{comdat}`: {problem}"),
            InvalidSection { section, problem } => write!(f, "section {section:?} {problem}"),
            InvalidAlias { name, problem } => write!(f, "alias `{name}`: {problem}"),
            InvalidPartition { partition, problem } => write!(f, "partition {partition:?}: {problem}"),
            ThreadLocalInData { name } => {
                write!(f, "data cannot hold the address of thread-local `{name}` (it differs per thread)")
            }
            ConstantOutOfRange { value, ty } => write!(f, "constant {value} does not fit in {ty}"),
            InvalidAlignment { align } => write!(f, "invalid alignment {align} (must be a power of two up to 2^30)"),
            UnderalignedAtomic { align, size } => {
                write!(f, "atomic access of {size} bytes aligned to {align} (atomics must be naturally aligned)")
            }
            InvalidAddressSpace { addr_space } => write!(f, "invalid address space {addr_space} (must be below 2^24)"),
            AddressSpaceMismatch { access, pointer } => {
                write!(f, "the access names address space {access} but the address is in address space {pointer}")
            }
            TooLarge { what, size, limit } => write!(f, "{what} of {size} bytes exceeds the limit of {limit} bytes"),
            DataSize { expected, found } => {
                write!(f, "initializer is {found} bytes but the declared type is {expected} bytes")
            }
            NoSuchParam { index, count } => write!(f, "parameter {index} does not exist (function has {count})"),
            ArgumentCount { expected, found, variadic } => {
                let atleast = if *variadic { "at least " } else { "" };
                write!(f, "expected {atleast}{expected} argument(s), got {found}")
            }
            DuplicateCase { value, first } => {
                write!(f, "case value {value} repeats case {first} (equal at the operand's width)")
            }
            InvalidPriority { priority } => {
                write!(f, "priority {priority} is outside 101..=65535 (0-100 are reserved)")
            }
            NoDestinations => write!(f, "indirect_br needs at least one destination label"),
            AddressNotTaken { index } => {
                write!(f, "the address of slot {index} is taken, but it was declared without ADDRESS_TAKEN")
            }
            InvalidIntFlags { op, flags } => write!(f, "flags {flags:?} do not apply to {op:?}"),
            InvalidMemFlags { op, flags } => write!(f, "memory flags {flags:?} do not apply to {op}"),
            InvalidOrdering { op, ordering } => {
                write!(f, "{} ordering does not apply to {op}", ordering_name(*ordering))
            }
            InvalidAttribute { attr, problem } => write!(f, "attribute `{attr}` {problem}"),
            MustTail { problem } => write!(f, "guaranteed tail call impossible: {problem}"),
            AggregateNotPlace { ty } => {
                write!(f, "{ty} is passed by value from a place (push a local, a global or deref a pointer)")
            }
            AsmTargetMismatch { arch, written_for } => {
                write!(f, "the assembly block is written for {written_for:?}, not {arch:?}")
            }
            AsmDialectUnsupported { dialect, arch } => {
                write!(f, "{dialect:?} assembly syntax does not exist on {arch:?}")
            }
            AsmOptions { problem } => write!(f, "inline assembly options: {problem}"),
            AsmRegClassUnsupported { class, arch } => write!(f, "register class `{class}` does not exist on {arch:?}"),
            AsmUnknownRegister { name } => write!(f, "unknown register `{name}` (see TargetInfo::asm_registers)"),
            AsmReservedRegister { name, role } => {
                write!(f, "register `{name}` ({role}) cannot be an operand or clobber")
            }
            AsmOperandType { class, found } => write!(f, "a `{class}` register cannot hold {found}"),
            AsmDuplicateRegister { name } => write!(f, "register `{name}` is used twice"),
            AsmTiedOperand { output, problem } => write!(f, "tied operand {output} {problem}"),
            AsmTemplate { offset, problem } => write!(f, "template at byte {offset}: {problem}"),
            AsmRegisterPressure { class, needed, available } => {
                write!(f, "the block needs {needed} `{class}` registers but only {available} are free")
            }
            NakedFunctionBody => {
                write!(f, "a naked function's body is inline assembly and `unreachable` only")
            }
            MovableWithoutManaged { space } => {
                write!(f, "address space {space} is movable or interior but not managed (only collected objects move)")
            }
            NoManagedSpace => write!(f, "no managed address space is declared (set_address_space_policy)"),
            NoGcRuntime => write!(f, "no GC runtime is set (set_gc_runtime)"),
            NoPollFunction => write!(f, "the GC runtime has no poll function"),
            NoAllocBufferSymbol => {
                write!(f, "inline allocation has no buffer symbol; pass the buffer's address (gc_alloc_in)")
            }
            InvalidAllocBuffer { name, size, needed, readonly } => {
                let ro = if *readonly { "read-only and " } else { "" };
                write!(f, "allocation buffer `{name}` is {ro}{size} bytes; it must be writable and hold {needed} bytes")
            }
            InvalidHeaderBytes { header_bytes } => {
                write!(f, "inline allocation header of {header_bytes} bytes (must be 0 or 8)")
            }
            DebugInfoEnabled => write!(f, "debug information is already on for this module"),
            InvalidSrcLoc { file, files } => {
                write!(f, "source position in file {file}, but only files 1..={files} are registered")
            }
            TypeAlreadyDescribed { ty } => {
                write!(f, "{ty} is already used in debug information; decorate it before its first use")
            }
            TooManyFieldNames { ty, given, fields } => {
                write!(f, "{given} member names for {ty}, which has {fields} fields")
            }
            NoOpenScope => write!(f, "scope_end without an open scope_begin"),
            UnsupportedOnTarget { feature, triple } => write!(f, "{feature} is not supported on {triple}"),
            Unsupported(what) => write!(f, "{what}"),
            BackendRefused { backend, reason } => write!(f, "the {backend} backend refused: {reason}"),
        }
    }
}
