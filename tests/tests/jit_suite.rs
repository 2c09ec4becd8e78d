//! The suite run in-process through the ORC JIT at O0 and O2, every result
//! compared with the Rust oracle.

use cfree_llvm_lower::OptLevel;
use cfree_tests::{jit, programs};

fn check(level: OptLevel) {
    let cases = programs::cases();
    let results = jit::run_suite(level, &cases).unwrap_or_else(|e| panic!("JIT at {level:?}: {e}"));
    for (case, got) in results {
        assert_eq!(got, case.expected(), "{case:?} at {level:?}");
    }
}

#[test]
fn suite_jit_o0() {
    check(OptLevel::O0);
}

#[test]
fn suite_jit_o2() {
    check(OptLevel::O2);
}

#[test]
fn every_entry_has_cases() {
    let cases = programs::cases();
    for e in programs::ENTRIES {
        assert!(cases.iter().any(|c| c.func == e), "{e} has no case");
    }
}

#[test]
fn suite_jit_o1_o3_os() {
    for level in [OptLevel::O1, OptLevel::O3, OptLevel::Os] {
        check(level);
    }
}
