//! Compiles the invoke trampoline (`src/runtime/trampoline.c`): `setjmp` and
//! `longjmp` cannot be written in Rust.

fn main() {
    println!("cargo:rerun-if-changed=src/runtime/trampoline.c");
    cc::Build::new().file("src/runtime/trampoline.c").opt_level(2).compile("cfree_wasm_trampoline");
}
