//! Diagnostics. Every error names the API call, the function being emitted
//! (when one is open) and the operand at fault. A failed call has no effect:
//! the emitter's state is as it was before the call.

use std::fmt;

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
    pub fn new(call: &'static str, kind: ErrorKind) -> Self {
        Self(Box::new(Inner { call, function: None, operand: None, kind }))
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

/// The classes of misuse and unsupported requests.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An instruction-emitting call was made with no function open.
    NoOpenFunction,
    /// `func_begin` while another function is open.
    FunctionAlreadyOpen {
        /// The open function.
        open: String,
    },
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
        expected: String,
        /// What it found.
        found: String,
    },
    /// An operand is an lvalue where a value is needed, or the reverse.
    WrongValueCategory {
        /// What the call expected.
        expected: &'static str,
        /// What it found.
        found: &'static str,
    },
    /// A handle from another module or function, or out of range.
    ForeignHandle {
        /// Kind of handle: "type", "symbol", "label", "local".
        what: &'static str,
        /// The handle's bits.
        handle: u64,
    },
    /// A branch targets a label that was never placed in the function.
    LabelNeverPlaced {
        /// The label.
        label: u32,
    },
    /// A label placed a second time.
    LabelPlacedTwice {
        /// The label.
        label: u32,
    },
    /// Control reaches the end of the function without a terminator.
    FallsOffEnd,
    /// The target cannot lower a well-formed request.
    UnsupportedOnTarget {
        /// What was asked for.
        feature: String,
        /// The target.
        triple: String,
    },
    /// The API cannot lower this yet on any target.
    Unsupported {
        /// What was asked for.
        feature: String,
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
        expected: &'static str,
    },
    /// A symbol with internal linkage was declared but never defined.
    UndefinedInternal {
        /// The linkage name.
        name: String,
    },
    /// An empty name or one containing NUL.
    InvalidName {
        /// The name.
        name: String,
    },
    /// An integer constant does not fit the type.
    ConstantOutOfRange {
        /// The constant.
        value: i128,
        /// The type.
        ty: String,
    },
    /// Alignment is not a power of two (or zero where allowed) or too large.
    InvalidAlignment {
        /// The alignment.
        align: u64,
    },
    /// Address space out of range or not the pointer's.
    InvalidAddressSpace {
        /// The address space.
        addr_space: u32,
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
    /// Operation flags that do not apply to the operation.
    InvalidFlags {
        /// The operation.
        op: String,
        /// The offending flags.
        flags: String,
    },
    /// A type without a size (function type) where storage is needed.
    Unsized {
        /// The type.
        ty: String,
    },
    /// A size beyond what the emitter accepts.
    TooLarge {
        /// What overflowed.
        what: &'static str,
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
    /// The backend refused (e.g. unknown triple or CPU).
    Backend(String),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ErrorKind::*;
        match self {
            NoOpenFunction => write!(f, "no function is open (call func_begin first)"),
            FunctionAlreadyOpen { open } => write!(f, "function `{open}` is still open"),
            StackUnderflow { needed, available } => {
                write!(f, "value stack underflow: needs {needed}, has {available}")
            }
            StackNotEmpty { count } => write!(f, "{count} value(s) left on the value stack"),
            TypeMismatch { expected, found } => write!(f, "type mismatch: expected {expected}, found {found}"),
            WrongValueCategory { expected, found } => write!(f, "expected {expected}, found {found}"),
            ForeignHandle { what, handle } => {
                write!(f, "{what} handle {handle:#x} belongs to another module or function, or is out of range")
            }
            LabelNeverPlaced { label } => write!(f, "label L{label} is branched to but never placed"),
            LabelPlacedTwice { label } => write!(f, "label L{label} is already placed"),
            FallsOffEnd => write!(f, "control reaches the end of the function without a terminator"),
            UnsupportedOnTarget { feature, triple } => write!(f, "{feature} is not supported on {triple}"),
            Unsupported { feature } => write!(f, "{feature} is not supported"),
            DuplicateSymbol { name } => write!(f, "symbol `{name}` is already declared"),
            DuplicateDefinition { name } => write!(f, "symbol `{name}` is already defined"),
            WrongSymbolKind { name, expected } => write!(f, "symbol `{name}` is not a {expected}"),
            UndefinedInternal { name } => write!(f, "internal symbol `{name}` is declared but never defined"),
            InvalidName { name } => write!(f, "invalid symbol name {name:?} (empty or contains NUL)"),
            ConstantOutOfRange { value, ty } => write!(f, "constant {value} does not fit in {ty}"),
            InvalidAlignment { align } => write!(f, "invalid alignment {align} (must be a power of two up to 2^30)"),
            InvalidAddressSpace { addr_space } => write!(f, "invalid address space {addr_space}"),
            ArgumentCount { expected, found, variadic } => {
                let atleast = if *variadic { "at least " } else { "" };
                write!(f, "expected {atleast}{expected} argument(s), got {found}")
            }
            InvalidFlags { op, flags } => write!(f, "flags {flags} do not apply to {op}"),
            Unsized { ty } => write!(f, "type {ty} has no size"),
            TooLarge { what } => write!(f, "{what} is too large"),
            DataSize { expected, found } => {
                write!(f, "initializer is {found} bytes but the declared type is {expected} bytes")
            }
            NoSuchParam { index, count } => write!(f, "parameter {index} does not exist (function has {count})"),
            Backend(msg) => write!(f, "backend: {msg}"),
        }
    }
}
