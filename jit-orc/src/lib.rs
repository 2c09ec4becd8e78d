//! `cfree-jit-orc`: run cfree CG modules in-process through LLVM's ORC LLJIT.
//!
//! A module is compiled to a position-independent object (the bytes an AOT
//! build would write) and published as a *unit*: linked under its own
//! resource tracker, all its symbols resolved at once, its functions and
//! stack maps entered in the runtime metadata [`Registry`]. Publish is all or
//! nothing. Exported functions are called through stable entries, so a later
//! publish of the same name replaces the body while running frames finish in
//! the old one; retired units are reclaimed once no veto (e.g. a stack scan
//! with [`stack::return_addresses`]) keeps them. [`Jit::publish_owned`]
//! compiles a module in place instead of a copy, [`Jit::publish_batch`]
//! builds and compiles units on a pool of threads, [`Jit::publish_lazy`]
//! compiles a unit on the first call of one of its functions and
//! [`Jit::publish_tiered`] recompiles hot ones at a higher level. See `doc/jit.md`.
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
//! let module = cfree_llvm_lower::finish(cg)?;
//!
//! let mut jit = Jit::new()?;
//! jit.publish(&module, OptLevel::O2)?;
//! let f = jit.get::<unsafe extern "C" fn(i64) -> i64>("square")?;
//! // SAFETY: `square` reads only its argument.
//! assert_eq!(unsafe { f.call(12) }, 144);
//! // A wrong Rust type is refused before any call.
//! assert!(jit.get::<unsafe extern "C" fn(i32) -> i64>("square").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod batch;
mod chunked;
mod error;
mod ffi;
mod jitdump;
mod lazy;
mod object_info;
mod publish;
mod registry;
mod session;
mod signature;
mod source;
pub mod stack;
mod stubs;

pub use error::{Error, Result};
pub use lazy::{LazyFailure, LazyPublished, LazyStats, LazyUnit, TierPolicy, Tiering};
pub use object_info::{ObjectError, ObjectFunction, ObjectInfo, StackMapFunction};
pub use publish::{compile, PhaseTimes, PublishStats, Published};
pub use registry::{
    FunctionInfo, Registry, RegistryCounts, StackMapInfo, SymbolInfo, TrapInfo, UnitId, UnitInfo, UnitState,
};
pub use session::{Jit, JitOptions, ReclaimVeto, TypedFunc};
pub use signature::{AbiResult, AbiScalar, JitFn};
pub use source::SourceIndex;
