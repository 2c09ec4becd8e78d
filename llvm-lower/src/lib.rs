//! `cfree-llvm-lower`: the LLVM backend of the cfree CG contract.
//!
//! [`LlvmBackend`] implements [`cfree_facade::Backend`]: each facade call
//! becomes a few LLVM instructions at once, through inkwell. A finished
//! module ([`LlvmModule`]) is optimised with the new pass manager and emitted
//! as an object file or assembly for any target the installed LLVM supports.
//!
//! ```
//! use cfree_facade::*;
//! use cfree_llvm_lower::{LlvmContext, OptLevel};
//!
//! let llvm = LlvmContext::new();
//! let mut cg = llvm.module("demo", &TargetSpec::triple("aarch64-unknown-linux-gnu"))?;
//! let i32t = cg.ty_int(IntWidth::I32)?;
//! let sig = cg.ty_func(FuncSig::new(&[i32t], Some(i32t)))?;
//! let double = cg.declare_func("double_it", FuncDecl::new(sig))?;
//! cg.func_begin(double)?;
//! let x = cg.param_slot(0, "x")?;
//! cg.push_local(x)?;
//! cg.load(MemAccess::new(i32t))?;
//! cg.dup()?;
//! cg.int_op(IntBinOp::Add, IntFlags::NONE)?;
//! cg.ret()?;
//! cg.func_end()?;
//!
//! let mut module = cfree_llvm_lower::finish(cg)?;
//! let object = module.emit_object(OptLevel::O2)?;
//! assert_eq!(&object[..4], b"\x7fELF");
//! # Ok::<(), cfree_llvm_lower::Error>(())
//! ```

#![warn(missing_docs)]

#[cfg(all(feature = "llvm19", feature = "llvm22"))]
compile_error!("features `llvm19` and `llvm22` are mutually exclusive: pick one LLVM major");
#[cfg(not(any(feature = "llvm19", feature = "llvm22")))]
compile_error!("enable exactly one of the features `llvm19` or `llvm22`");

#[cfg(feature = "llvm19")]
pub extern crate llvm_sys_191 as llvm_sys;
#[cfg(feature = "llvm22")]
pub extern crate llvm_sys_221 as llvm_sys;

mod abi;
mod asm;
mod atomics;
mod backend;
mod calls;
mod casts;
mod context;
mod control;
mod debug;
mod error;
mod ffi;
mod float_ops;
mod gc;
mod int_ops;
pub mod isolate;
mod memory_ops;
mod module;
mod stack_check;
mod symbols;
mod target;
mod types;

pub use backend::LlvmBackend;
pub use cfree_facade::{ObjectModule, OptLevel};
pub use context::{disable_statepoint_rematerialization, init_targets, LlvmContext};
pub use error::{Error, Result};
pub use isolate::IsolatedCodegen;
pub use module::{finish, LlvmModule};
pub use target::host_spec;

/// The LLVM major version this crate was built against.
pub const LLVM_MAJOR: u32 = if cfg!(feature = "llvm22") { 22 } else { 19 };
