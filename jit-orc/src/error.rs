//! The crate's error: one enum whose variants carry what went wrong as data
//! and keep the lower layer's error as their [`source`](std::error::Error::source)
//! (the module's emitter, the object reader, the stack map table builder).
//! Only ORC's own messages, which LLVM gives as text, stay text. Every variant
//! has a stable numeric [`code`](Error::code) (`doc/jit.md`, "Errors").

use std::fmt;
use std::path::PathBuf;

use crate::{ObjectError, UnitId, UnitState};

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// JIT failures. A failed publish leaves the session exactly as it was.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// ORC's LLJIT could not be created.
    Create {
        /// LLVM's message.
        message: String,
    },
    /// The perf map file (`JitOptions::perf_map`) could not be opened.
    PerfMap {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The module was built for another architecture than the JIT's.
    WrongTarget {
        /// The module's triple.
        module: String,
        /// The JIT's triple.
        jit: String,
    },
    /// A signature differs from the declared one (lookup or replacement).
    SignatureMismatch {
        /// The function.
        name: String,
        /// Declared parameter and result classes.
        declared: String,
        /// Requested ones.
        requested: String,
    },
    /// The module's backend failed to emit its object (verifier, passes, code
    /// generation); the backend's error is the source.
    Emit {
        /// The module.
        unit: String,
        /// The backend's error (for `LlvmModule`, a `cfree_llvm_lower::Error`).
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// Building the stable entries of new exports failed.
    StableEntries(cfree_llvm_lower::Error),
    /// The object or its runtime metadata (`.llvm_stackmaps`) is malformed or unusable.
    Metadata {
        /// The module.
        unit: String,
        /// What is wrong.
        source: ObjectError,
    },
    /// ORC refused the object or could not resolve it (duplicate or unresolved symbols).
    Link {
        /// The module.
        unit: String,
        /// The symbol whose lookup failed, if the failure came from a lookup.
        symbol: Option<String>,
        /// ORC's messages, the lookup's first, then the session's.
        messages: Vec<String>,
    },
    /// ORC refused a host symbol definition (e.g. the name is already defined).
    HostSymbol {
        /// The symbol.
        name: String,
        /// ORC's message.
        message: String,
    },
    /// No exported function of that name.
    NoSuchFunction(String),
    /// No unit with that id.
    NoSuchUnit(UnitId),
    /// Only a replaced unit can be retired.
    NotReplaced {
        /// The unit.
        unit: UnitId,
        /// Its state.
        state: UnitState,
    },
    /// ORC failed to release a reclaimed unit's memory.
    Release {
        /// The unit.
        unit: UnitId,
        /// ORC's message.
        message: String,
    },
}

impl Error {
    /// A stable number for the variant, for C callers and logs: it never
    /// changes meaning, and new variants get new numbers (`doc/jit.md`, "Errors").
    pub fn code(&self) -> u32 {
        match self {
            Error::Create { .. } => 1,
            Error::PerfMap { .. } => 2,
            Error::WrongTarget { .. } => 3,
            Error::SignatureMismatch { .. } => 4,
            Error::Emit { .. } => 5,
            Error::StableEntries(_) => 6,
            Error::Metadata { .. } => 7,
            Error::Link { .. } => 8,
            Error::HostSymbol { .. } => 9,
            Error::NoSuchFunction(_) => 10,
            Error::NoSuchUnit(_) => 11,
            Error::NotReplaced { .. } => 12,
            Error::Release { .. } => 13,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Create { message } => write!(f, "creating the JIT: {message}"),
            Error::PerfMap { path, source } => write!(f, "opening the perf map {}: {source}", path.display()),
            Error::WrongTarget { module, jit } => write!(f, "module targets `{module}` but the JIT runs `{jit}`"),
            Error::SignatureMismatch { name, declared, requested } => {
                write!(f, "`{name}` is declared {declared} but was requested as {requested}")
            }
            Error::Emit { unit, source } => write!(f, "compiling `{unit}` (nothing was added): {source}"),
            Error::StableEntries(e) => write!(f, "building stable entries (nothing was added): {e}"),
            Error::Metadata { unit, source } => {
                write!(f, "malformed runtime metadata in `{unit}` (nothing was added): {source}")
            }
            Error::Link { unit, symbol, messages } => {
                write!(f, "linking `{unit}` into the JIT failed (nothing was added)")?;
                if let Some(s) = symbol {
                    write!(f, " resolving `{s}`")?;
                }
                write!(f, ": {}", messages.join("; "))
            }
            Error::HostSymbol { name, message } => write!(f, "defining host symbol `{name}`: {message}"),
            Error::NoSuchFunction(n) => write!(f, "no exported function `{n}` in the JIT"),
            Error::NoSuchUnit(u) => write!(f, "no unit {}", u.0),
            Error::NotReplaced { unit, state } => {
                write!(f, "unit {} is {state:?}; only replaced units can retire", unit.0)
            }
            Error::Release { unit, message } => write!(f, "releasing unit {}: {message}", unit.0),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::PerfMap { source, .. } => Some(source),
            Error::Emit { source, .. } => Some(&**source),
            Error::StableEntries(e) => Some(e),
            Error::Metadata { source, .. } => Some(source),
            Error::Create { .. }
            | Error::WrongTarget { .. }
            | Error::SignatureMismatch { .. }
            | Error::Link { .. }
            | Error::HostSymbol { .. }
            | Error::NoSuchFunction(_)
            | Error::NoSuchUnit(_)
            | Error::NotReplaced { .. }
            | Error::Release { .. } => None,
        }
    }
}
