//! `cfree-wasm`: a WebAssembly frontend for cfree-llvm.
//!
//! A wasm module is decoded and validated with wasmparser ([`decode`]),
//! lowered function by function through the cfree facade into one module
//! ([`compile`]), published in the ORC JIT and instantiated ([`runtime`]);
//! [`script`] runs `.wast` spec scripts. The design (vmctx, bounds checks,
//! traps, multi-value, `call_indirect`, stack exhaustion) is in `doc/wasm.md`.
//!
//! ```
//! use cfree_wasm::runtime::{run_on_wasm_thread, Extern, Options, Store, Val};
//! use cfree_llvm_lower::OptLevel;
//!
//! // (module (func (export "add") (param i32 i32) (result i32)
//! //   local.get 0 local.get 1 i32.add))
//! let wasm = [
//!     0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01,
//!     0x7f, 0x03, 0x02, 0x01, 0x00, 0x07, 0x07, 0x01, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x0a, 0x09,
//!     0x01, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b,
//! ];
//! let sum = run_on_wasm_thread(|| {
//!     let mut store = Store::new(Options::new(OptLevel::O2))?;
//!     let instance = store.instantiate(&wasm, &mut |_, _| None)?;
//!     let Some(Extern::Func(add)) = instance.export("add") else { panic!("no add") };
//!     store.call(add, &[Val::I32(40), Val::I32(2)])
//! })?;
//! assert_eq!(sum, vec![Val::I32(42)]);
//! # Ok::<(), cfree_wasm::Error>(())
//! ```

#![warn(missing_docs)]

pub mod abi;
pub mod aot;
pub mod compile;
pub mod decode;
mod error;
pub mod runtime;
pub mod script;

pub use error::{Error, Result};
