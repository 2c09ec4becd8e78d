//! `cfree-jit-orc`: run cfree CG modules in-process through LLVM's ORC LLJIT.
//!
//! A module is compiled to a position-independent object (the bytes an AOT
//! build would write) and published as a *unit*: linked under its own
//! resource tracker, all its symbols resolved at once, its functions and
//! stack maps entered in the runtime metadata [`Registry`]. Publish is all or
//! nothing. Exported functions are called through stable entries, so a later
//! publish of the same name replaces the body while running frames finish in
//! the old one; retired units are reclaimed once no veto (e.g. a stack scan
//! with [`stack::return_addresses`]) keeps them. See `doc/jit.md`.
//!
//! ```
//! use cfree_facade::*;
//! use cfree_jit_orc::Jit;
//! use cfree_llvm_lower::{LlvmContext, OptLevel};
//!
//! let llvm = LlvmContext::new();
//! let mut cg = llvm.module("sq", &TargetSpec::host())?;
//! let i64t = cg.ty_int(IntWidth::I64)?;
//! let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t)))?;
//! let square = cg.declare_func("square", FuncDecl::new(sig))?;
//! cg.func_begin(square)?;
//! let x = cg.param_slot(0, "x")?;
//! cg.push_local(x)?;
//! cg.load(MemAccess::new(i64t))?;
//! cg.dup()?;
//! cg.int_op(IntBinOp::Mul, IntFlags::NONE)?;
//! cg.ret()?;
//! cg.func_end()?;
//! let mut module = cfree_llvm_lower::finish(cg)?;
//!
//! let mut jit = Jit::new()?;
//! jit.publish(&mut module, OptLevel::O2)?;
//! let f = jit.get::<unsafe extern "C" fn(i64) -> i64>("square")?;
//! // SAFETY: `square` reads only its argument.
//! assert_eq!(unsafe { f.call(12) }, 144);
//! // A wrong Rust type is refused before any call.
//! assert!(jit.get::<unsafe extern "C" fn(i32) -> i64>("square").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod ffi;
mod object_info;
mod registry;
mod session;
mod signature;
pub mod stack;
mod stubs;

use std::fmt;

pub use registry::{FunctionInfo, Registry, StackMapInfo, SymbolInfo, TrapInfo, UnitId, UnitInfo, UnitState};
pub use session::{Jit, JitOptions, Published, ReclaimVeto, TypedFunc};
pub use signature::{AbiResult, AbiScalar, JitFn};

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// JIT failures. A failed publish leaves the session exactly as it was.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Compiling the module failed (verifier, passes, code generation).
    Lower(cfree_llvm_lower::Error),
    /// ORC could not be created.
    Create(String),
    /// The module was built for another target than the JIT's.
    WrongTarget {
        /// The module's triple.
        module: String,
        /// The JIT's triple.
        jit: String,
    },
    /// Linking failed (duplicate or unresolved symbols, bad object).
    Link(String),
    /// The object's runtime metadata (e.g. `.llvm_stackmaps`) is malformed.
    Metadata(String),
    /// No exported function of that name.
    NoSuchFunction(String),
    /// A signature differs from the declared one (lookup or replacement).
    SignatureMismatch {
        /// The function.
        name: String,
        /// Declared parameter and result classes.
        declared: String,
        /// Requested ones.
        requested: String,
    },
    /// A lifetime transition that does not apply (e.g. retiring an active unit).
    Lifetime(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Lower(e) => write!(f, "{e}"),
            Error::Create(m) => write!(f, "creating the JIT: {m}"),
            Error::WrongTarget { module, jit } => write!(f, "module targets `{module}` but the JIT runs `{jit}`"),
            Error::Link(m) => write!(f, "linking into the JIT failed (nothing was added): {m}"),
            Error::Metadata(m) => write!(f, "malformed runtime metadata (nothing was added): {m}"),
            Error::NoSuchFunction(n) => write!(f, "no exported function `{n}` in the JIT"),
            Error::SignatureMismatch { name, declared, requested } => {
                write!(f, "`{name}` is declared {declared} but was requested as {requested}")
            }
            Error::Lifetime(m) => write!(f, "code lifetime: {m}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Lower(e) => Some(e),
            _ => None,
        }
    }
}

impl From<cfree_llvm_lower::Error> for Error {
    fn from(e: cfree_llvm_lower::Error) -> Self {
        Error::Lower(e)
    }
}
