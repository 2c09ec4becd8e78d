//! wasm32 execution: the suite's programs (the same entry points the JIT and
//! the x86_64, aarch64 and riscv64 executables run) compiled for
//! `wasm32-unknown-unknown`, linked with `wasm-ld` and compiler-rt's builtins,
//! and called in wasmi at O0 and O2, against the Rust oracle.

use cfree_llvm_lower::OptLevel;
use cfree_tests::programs;

#[test]
fn suite_runs_in_a_webassembly_engine() {
    let cases = programs::cases();
    for level in [OptLevel::O0, OptLevel::O2] {
        let results =
            cfree_tests::wasm::build_and_run(level, &cases).unwrap_or_else(|e| panic!("wasm32 at {level:?}: {e}"));
        assert_eq!(results.len(), cases.len());
        for (case, got) in results {
            assert_eq!(got, case.expected(), "{case:?} on wasm32 at {level:?}");
        }
    }
}
