//! Cross-crate test support for cfree-llvm: the shared suite of programs
//! emitted through the CG facade ([`programs`]), their Rust oracle, and the
//! runners that execute them in the JIT ([`jit`]) and as linked AOT binaries
//! on x86_64, aarch64 and riscv64 ([`aot`]). The tests in `tests/`, the demo
//! (`cfree-demo`) and the benchmarks build on these.

pub mod abi_shapes;
pub mod aot;
pub mod debug_program;
pub mod diff;
pub mod element_pointers;
pub mod emit;
pub mod gc_runtime;
pub mod jit;
pub mod programs;
pub mod random_calls;
pub mod targets;
pub mod toy_rt;
pub mod wasm;

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
