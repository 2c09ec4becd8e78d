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
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Cg(e) => write!(f, "{e}"),
            Error::Target { triple, message } => write!(f, "target `{triple}`: {message}"),
            Error::Verify(m) => write!(f, "LLVM verifier: {m}"),
            Error::Passes(m) => write!(f, "optimisation pipeline: {m}"),
            Error::Emit(m) => write!(f, "code generation: {m}"),
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
