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
    /// A file for perf (`JitOptions::perf_map`, `JitOptions::jitdump_dir`) could not be opened.
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
    /// The unit defines or uses thread-local data, which this JIT cannot link
    /// (LLJIT without an ORC platform runtime has no TLS support: some TLS
    /// relocations are refused, others would resolve to wrong addresses).
    ThreadLocal {
        /// The unit.
        unit: String,
        /// The first thread-local symbol found.
        symbol: String,
    },
    /// A batch's module builder failed for one unit ([`crate::Jit::publish_batch`]);
    /// its error is the source.
    Build {
        /// The unit's index in the batch.
        index: usize,
        /// The builder's error.
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// Lazy units need stable entries this host's JIT cannot write yet (x86-64 only).
    LazyUnsupported {
        /// The JIT's triple.
        triple: String,
    },
    /// A lazy publish declared a function twice, or one the session already has.
    LazyExportTaken {
        /// The function.
        name: String,
    },
    /// A lazy unit's built module does not export exactly what was declared for it.
    LazyMismatch {
        /// The unit.
        unit: String,
        /// The first function that differs (declared and missing or changed, or undeclared).
        function: String,
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
            Error::ThreadLocal { .. } => 14,
            Error::Build { .. } => 15,
            Error::LazyUnsupported { .. } => 16,
            Error::LazyExportTaken { .. } => 17,
            Error::LazyMismatch { .. } => 18,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Create { message } => write!(f, "creating the JIT: {message}"),
            Error::PerfMap { path, source } => write!(f, "opening {} for perf: {source}", path.display()),
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
            Error::ThreadLocal { unit, symbol } => {
                write!(f, "`{unit}` has thread-local data (`{symbol}`), which the JIT cannot link (nothing was added)")
            }
            Error::Build { index, source } => write!(f, "building unit {index} (nothing was added): {source}"),
            Error::LazyUnsupported { triple } => write!(f, "lazy units are not supported on `{triple}` (x86-64 only)"),
            Error::LazyExportTaken { name } => {
                write!(f, "`{name}` is already published or declared twice (nothing was added)")
            }
            Error::LazyMismatch { unit, function } => {
                write!(f, "lazy unit `{unit}` was built with exports that differ from its declaration at `{function}`")
            }
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
            Error::Build { source, .. } => Some(&**source),
            Error::Create { .. }
            | Error::WrongTarget { .. }
            | Error::SignatureMismatch { .. }
            | Error::Link { .. }
            | Error::HostSymbol { .. }
            | Error::NoSuchFunction(_)
            | Error::NoSuchUnit(_)
            | Error::NotReplaced { .. }
            | Error::Release { .. }
            | Error::ThreadLocal { .. }
            | Error::LazyUnsupported { .. }
            | Error::LazyExportTaken { .. }
            | Error::LazyMismatch { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    fn lower() -> cfree_llvm_lower::Error {
        cfree_llvm_lower::Error::Verify("bad block".into())
    }

    /// Every variant: its stable code, its message, and whether it keeps a source.
    #[test]
    fn codes_messages_and_sources() {
        let io = || std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let cases: Vec<(Error, u32, &str, bool)> = vec![
            (Error::Create { message: "no target".into() }, 1, "creating the JIT: no target", false),
            (
                Error::PerfMap { path: "/tmp/p.map".into(), source: io() },
                2,
                "opening /tmp/p.map for perf: denied",
                true,
            ),
            (
                Error::WrongTarget { module: "aarch64-unknown-linux-gnu".into(), jit: "x86_64-pc-linux-gnu".into() },
                3,
                "module targets `aarch64-unknown-linux-gnu` but the JIT runs `x86_64-pc-linux-gnu`",
                false,
            ),
            (
                Error::SignatureMismatch { name: "f".into(), declared: "fn(I64) -> ()".into(), requested: "fn() -> ()".into() },
                4,
                "`f` is declared fn(I64) -> () but was requested as fn() -> ()",
                false,
            ),
            (
                Error::Emit { unit: "m".into(), source: Box::new(lower()) },
                5,
                "compiling `m` (nothing was added): LLVM verifier: bad block",
                true,
            ),
            (Error::StableEntries(lower()), 6, "building stable entries (nothing was added): LLVM verifier: bad block", true),
            (
                Error::Metadata { unit: "m".into(), source: ObjectError::NoArch },
                7,
                "malformed runtime metadata in `m` (nothing was added): .llvm_stackmaps: no statepoint decoding for this \
                 architecture",
                true,
            ),
            (
                Error::Link { unit: "m".into(), symbol: Some("g".into()), messages: vec!["one".into(), "two".into()] },
                8,
                "linking `m` into the JIT failed (nothing was added) resolving `g`: one; two",
                false,
            ),
            (
                Error::Link { unit: "m".into(), symbol: None, messages: vec!["dup".into()] },
                8,
                "linking `m` into the JIT failed (nothing was added): dup",
                false,
            ),
            (
                Error::HostSymbol { name: "h".into(), message: "duplicate".into() },
                9,
                "defining host symbol `h`: duplicate",
                false,
            ),
            (Error::NoSuchFunction("f".into()), 10, "no exported function `f` in the JIT", false),
            (Error::NoSuchUnit(UnitId(4)), 11, "no unit 4", false),
            (
                Error::NotReplaced { unit: UnitId(4), state: UnitState::Active },
                12,
                "unit 4 is Active; only replaced units can retire",
                false,
            ),
            (Error::Release { unit: UnitId(4), message: "busy".into() }, 13, "releasing unit 4: busy", false),
            (
                Error::ThreadLocal { unit: "m".into(), symbol: "t".into() },
                14,
                "`m` has thread-local data (`t`), which the JIT cannot link (nothing was added)",
                false,
            ),
            (
                Error::Build { index: 3, source: Box::new(lower()) },
                15,
                "building unit 3 (nothing was added): LLVM verifier: bad block",
                true,
            ),
            (
                Error::LazyUnsupported { triple: "aarch64-unknown-linux-gnu".into() },
                16,
                "lazy units are not supported on `aarch64-unknown-linux-gnu` (x86-64 only)",
                false,
            ),
            (
                Error::LazyExportTaken { name: "f".into() },
                17,
                "`f` is already published or declared twice (nothing was added)",
                false,
            ),
            (
                Error::LazyMismatch { unit: "u".into(), function: "g".into() },
                18,
                "lazy unit `u` was built with exports that differ from its declaration at `g`",
                false,
            ),
        ];
        let mut codes = Vec::new();
        for (e, code, text, has_source) in cases {
            assert_eq!(e.code(), code, "{e:?}");
            assert_eq!(e.to_string(), text, "{e:?}");
            assert_eq!(e.source().is_some(), has_source, "{e:?}");
            codes.push(code);
        }
        codes.dedup();
        assert_eq!(codes, (1..=18).collect::<Vec<u32>>(), "one case per variant, codes dense and stable");
    }

    #[test]
    fn sources_keep_the_lower_layers_error() {
        let e = Error::Emit { unit: "m".into(), source: Box::new(lower()) };
        let lower = e.source().and_then(|s| s.downcast_ref::<cfree_llvm_lower::Error>());
        assert!(matches!(lower, Some(cfree_llvm_lower::Error::Verify(_))));
        let table = cfree_statepoint::TableError::DynamicFrame { function: 2, address: 0x40 };
        let e = Error::Metadata { unit: "m".into(), source: ObjectError::Table(table.clone()) };
        let inner = e.source().and_then(|s| s.source()).and_then(|s| s.downcast_ref::<cfree_statepoint::TableError>());
        assert_eq!(inner, Some(&table));
    }
}
