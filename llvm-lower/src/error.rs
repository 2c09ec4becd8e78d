//! The backend's error type: facade errors wrapped, plus LLVM's own refusals.

use std::fmt;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong between the facade and an object file.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A rejected CG call.
    Cg(cfree_facade::Error),
    /// The target triple, CPU or features are unknown to this LLVM.
    Target {
        /// The requested triple.
        triple: String,
        /// LLVM's message.
        message: String,
    },
    /// The module failed LLVM's verifier (an internal bug: the facade validates first).
    Verify(String),
    /// The optimisation pipeline failed.
    Passes(String),
    /// Code generation failed.
    Emit(String),
    /// The isolated code generation worker could not be run, or reported an error of its
    /// own (its message): see [`crate::IsolatedCodegen`].
    Worker(String),
    /// The isolated code generation worker died without producing an object: killed by
    /// `signal` (LLVM crashed, or aborted on a fatal error), or exited with an unexpected
    /// `status`. `stderr` is the end of what it printed (LLVM's stack trace names the pass).
    WorkerCrashed {
        /// The signal that ended the worker (Unix).
        signal: Option<i32>,
        /// The exit status, if it exited.
        status: Option<i32>,
        /// The last few KiB of the worker's stderr.
        stderr: String,
    },
}

impl Error {
    /// A stable number for the C API: a wrapped facade error keeps its own code
    /// (101-903, `doc/errors.md`); this crate's refusals are 1001-1006. Numbers
    /// are never reused.
    pub fn code(&self) -> u32 {
        match self {
            Error::Cg(e) => e.code(),
            Error::Target { .. } => 1001,
            Error::Verify(_) => 1002,
            Error::Passes(_) => 1003,
            Error::Emit(_) => 1004,
            Error::Worker(_) => 1005,
            Error::WorkerCrashed { .. } => 1006,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Cg(e) => write!(f, "{e}"),
            Error::Target { triple, message } => write!(f, "target `{triple}`: {message}"),
            Error::Verify(m) => write!(f, "LLVM verifier: {m}"),
            Error::Passes(m) => write!(f, "optimisation pipeline: {m}"),
            Error::Emit(m) => write!(f, "code generation: {m}"),
            Error::Worker(m) => write!(f, "code generation worker: {m}"),
            Error::WorkerCrashed { signal, status, stderr } => {
                match (signal, status) {
                    (Some(s), _) => write!(f, "code generation worker killed by signal {s}")?,
                    (None, Some(c)) => write!(f, "code generation worker exited with status {c}")?,
                    (None, None) => write!(f, "code generation worker ended abnormally")?,
                }
                if !stderr.is_empty() {
                    write!(f, "; its stderr ends with:\n{stderr}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Cg(e) => Some(e),
            _ => None,
        }
    }
}

impl From<cfree_facade::Error> for Error {
    fn from(e: cfree_facade::Error) -> Self {
        Error::Cg(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_texts() {
        let cases = [
            (Error::Target { triple: "t".into(), message: "m".into() }, 1001, "target `t`: m"),
            (Error::Verify("v".into()), 1002, "LLVM verifier: v"),
            (Error::Passes("p".into()), 1003, "optimisation pipeline: p"),
            (Error::Emit("e".into()), 1004, "code generation: e"),
            (Error::Worker("w".into()), 1005, "code generation worker: w"),
            (
                Error::WorkerCrashed { signal: Some(11), status: None, stderr: "trace".into() },
                1006,
                "code generation worker killed by signal 11; its stderr ends with:\ntrace",
            ),
        ];
        for (e, code, text) in cases {
            assert_eq!((e.code(), e.to_string().as_str()), (code, text));
        }
        let cg = Error::from(cfree_facade::Error::new("ret", cfree_facade::ErrorKind::NoOpenFunction));
        assert_eq!(cg.code(), 101);
        assert!(std::error::Error::source(&cg).is_some());
    }
}
