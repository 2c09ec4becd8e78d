//! `cfree-jit-orc`: run cfree CG modules in-process through LLVM's ORC LLJIT.
//!
//! Modules are compiled to a position-independent object (the same bytes an
//! AOT build would write) and linked into the JIT under their own resource
//! tracker. Adding is all-or-nothing: every exported function is resolved at
//! once, and on any failure the unit is removed, leaving the JIT as it was.
//! Functions are looked up through [`Jit::get`], which checks the Rust
//! function-pointer type against the signature the module declared.
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
//! jit.add_module(&mut module, OptLevel::O2)?;
//! let f = jit.get::<unsafe extern "C" fn(i64) -> i64>("square")?;
//! // SAFETY: `square` reads only its argument.
//! assert_eq!(unsafe { f.call(12) }, 144);
//! // A wrong Rust type is refused before any call.
//! assert!(jit.get::<unsafe extern "C" fn(i32) -> i64>("square").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod ffi;
mod signature;

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

use cfree_facade::{FuncExport, ScalarType};
use cfree_llvm_lower::{LlvmModule, OptLevel};

pub use signature::{AbiResult, AbiScalar, JitFn};

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// JIT failures.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Compiling the module failed.
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
    /// Linking failed (duplicate or unresolved symbols, bad object); nothing was added.
    Link(String),
    /// No exported function of that name.
    NoSuchFunction(String),
    /// The Rust type does not match the declared signature.
    SignatureMismatch {
        /// The function.
        name: String,
        /// Declared parameter and result classes.
        declared: String,
        /// Requested ones.
        requested: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Lower(e) => write!(f, "{e}"),
            Error::Create(m) => write!(f, "creating the JIT: {m}"),
            Error::WrongTarget { module, jit } => write!(f, "module targets `{module}` but the JIT runs `{jit}`"),
            Error::Link(m) => write!(f, "linking into the JIT failed (nothing was added): {m}"),
            Error::NoSuchFunction(n) => write!(f, "no exported function `{n}` in the JIT"),
            Error::SignatureMismatch { name, declared, requested } => {
                write!(f, "`{name}` is declared {declared} but was requested as {requested}")
            }
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

struct Export {
    addr: u64,
    sig: FuncExport,
}

/// An in-process JIT for the host.
pub struct Jit {
    // Field order matters: trackers are released before the LLJIT that owns them is disposed.
    units: Vec<ffi::Tracker>,
    exports: HashMap<String, Export>,
    orc: ffi::OrcJit,
}

impl fmt::Debug for Jit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jit").field("units", &self.units.len()).field("exports", &self.exports.len()).finish()
    }
}

fn describe(params: &[ScalarType], result: Option<ScalarType>) -> String {
    let p: Vec<String> = params.iter().map(|s| format!("{s:?}")).collect();
    format!("fn({}) -> {}", p.join(", "), result.map_or("()".to_string(), |r| format!("{r:?}")))
}

fn arch_of(triple: &str) -> &str {
    triple.split('-').next().unwrap_or("")
}

impl Jit {
    /// A JIT for the host, resolving undefined symbols against the host process.
    pub fn new() -> Result<Self> {
        Ok(Self { units: Vec::new(), exports: HashMap::new(), orc: ffi::OrcJit::new().map_err(Error::Create)? })
    }

    /// Optimises `module` at `level`, compiles it and links it in. See [`Self::add_object`].
    pub fn add_module(&mut self, module: &mut LlvmModule<'_>, level: OptLevel) -> Result<()> {
        let (module_triple, jit_triple) = (module.target().triple.clone(), self.orc.triple());
        if arch_of(&module_triple) != arch_of(&jit_triple) {
            return Err(Error::WrongTarget { module: module_triple, jit: jit_triple });
        }
        let object = module.emit_object(level)?;
        let name = module.inkwell().get_name().to_string_lossy().into_owned();
        self.add_object(&object, module.exports(), &name)
    }

    /// Links a host object whose exported functions are `exports`. All of them
    /// are resolved at once; if any fails (unresolved external, duplicate
    /// definition, malformed object) the whole object is removed and the JIT
    /// is unchanged.
    pub fn add_object(&mut self, object: &[u8], exports: &[FuncExport], name: &str) -> Result<()> {
        if let Some(dup) = exports.iter().find(|e| self.exports.contains_key(&e.name)) {
            return Err(Error::Link(format!("duplicate definition of `{}`", dup.name)));
        }
        self.orc.take_session_errors();
        let tracker = self.orc.add_object(object, name).map_err(Error::Link)?;
        let mut resolved = Vec::with_capacity(exports.len());
        for e in exports {
            match self.orc.lookup(&e.name) {
                Ok(addr) => resolved.push(Export { addr, sig: e.clone() }),
                Err(msg) => {
                    let mut details = self.orc.take_session_errors();
                    details.insert(0, msg);
                    let _ = tracker.remove();
                    return Err(Error::Link(details.join("; ")));
                }
            }
        }
        for r in resolved {
            self.exports.insert(r.sig.name.clone(), r);
        }
        self.units.push(tracker);
        Ok(())
    }

    /// The entry address of an exported function.
    pub fn address(&self, name: &str) -> Result<u64> {
        self.exports.get(name).map(|e| e.addr).ok_or_else(|| Error::NoSuchFunction(name.to_string()))
    }

    /// A typed handle to `name`, checked against its declared signature.
    pub fn get<F: JitFn>(&self, name: &str) -> Result<TypedFunc<'_, F>> {
        let export = self.exports.get(name).ok_or_else(|| Error::NoSuchFunction(name.to_string()))?;
        let (params, result) = (F::params(), F::result());
        if export.sig.variadic || params != export.sig.params || result != export.sig.result {
            return Err(Error::SignatureMismatch {
                name: name.to_string(),
                declared: describe(&export.sig.params, export.sig.result),
                requested: describe(&params, result),
            });
        }
        // SAFETY: the code at `addr` was compiled from a definition with this exact signature
        // (checked above) and stays loaded while `self` is borrowed.
        let f = unsafe { F::from_addr(export.addr) };
        Ok(TypedFunc { f, _jit: PhantomData })
    }
}

/// A function in the JIT with a checked signature; borrows the JIT so the code stays loaded.
#[derive(Clone, Copy)]
pub struct TypedFunc<'jit, F> {
    f: F,
    _jit: PhantomData<&'jit Jit>,
}

impl<F> fmt::Debug for TypedFunc<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TypedFunc")
    }
}

impl<F: JitFn> TypedFunc<'_, F> {
    /// The raw function pointer: calling it is `unsafe`, and it must not be used after the JIT drops.
    pub fn as_fn(&self) -> F {
        self.f
    }
}
