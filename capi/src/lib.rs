//! The C API of cfree-llvm (`capi/include/cfree.h`, `doc/capi.md`): the CG
//! emitter as `cfree_cg_*` and the JIT as `cfree_jit_*`, over integer
//! handles, for frontends written in C and hosts that embed through a C FFI.
//!
//! Every function returns a status (0, or the structured error code of
//! `doc/errors.md`; this crate's own codes are 2001-2006) and leaves the
//! details in a per-thread error record. No panic crosses the boundary, and a
//! null, stale, foreign or freed handle is an error, never undefined behaviour.
//! The `extern "C"` functions and every raw pointer are in [`ffi`].

#![warn(missing_docs)]

mod error;
pub mod ffi;
mod handles;

pub use error::CapiError;

/// The API version this library implements (`CFREE_VERSION` in the header).
pub const VERSION: u32 = 2;
