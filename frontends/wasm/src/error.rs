//! The crate's error type: what went wrong before or while a module ran.

use std::fmt;

use crate::abi::Trap;

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Errors of decoding, compiling, linking and running wasm modules.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The binary is malformed or does not validate (wasmparser's error, with its offset).
    Invalid(wasmparser::BinaryReaderError),
    /// A well-formed module uses a feature outside the supported set.
    Unsupported {
        /// What.
        what: String,
        /// Byte offset in the binary.
        offset: u64,
    },
    /// The facade refused what the compiler emitted (a bug in this crate).
    Codegen {
        /// The function being compiled (wasm function index).
        func: Option<u32>,
        /// The facade's error.
        source: cfree_facade::Error,
    },
    /// LLVM lowering or the JIT failed.
    Backend(String),
    /// An import could not be resolved or has the wrong type (`assert_unlinkable`).
    Link(String),
    /// The code trapped.
    Trap(Trap),
    /// Running: an export that does not exist or is not a function, wrong arguments.
    Usage(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid(e) => write!(f, "invalid module: {e}"),
            Error::Unsupported { what, offset } => write!(f, "unsupported at offset {offset:#x}: {what}"),
            Error::Codegen { func: Some(i), source } => write!(f, "code generation of function {i}: {source}"),
            Error::Codegen { func: None, source } => write!(f, "code generation: {source}"),
            Error::Backend(e) => write!(f, "backend: {e}"),
            Error::Link(e) => write!(f, "link error: {e}"),
            Error::Trap(t) => write!(f, "trap: {}", t.message()),
            Error::Usage(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Invalid(e) => Some(e),
            Error::Codegen { source, .. } => Some(source),
            _ => None,
        }
    }
}
