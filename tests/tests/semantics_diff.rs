//! Differential execution of every operation of the semantics contract
//! against Rust's own semantics: in the JIT at O0 and O2 (run-time inputs and
//! constant-folded inputs), and as AOT binaries for x86_64, aarch64 and
//! riscv64 (the latter two under qemu-user). Case counts are printed.

use cfree_llvm_lower::OptLevel;
use cfree_tests::aot::LinuxTarget;
use cfree_tests::diff::{catalog, run};

fn report(path: &str, outcome: run::Outcome) {
    println!("{path}: {} cases checked, {} mismatches", outcome.cases, outcome.mismatches.len());
    let shown: Vec<_> = outcome.mismatches.iter().take(40).collect();
    assert!(
        outcome.mismatches.is_empty(),
        "{path}: {} mismatches, first ones:\n{}",
        outcome.mismatches.len(),
        shown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
    assert!(outcome.cases > 50_000, "{path}: too few cases ({})", outcome.cases);
}

#[test]
fn jit_o0() {
    report("jit O0", run::jit(&catalog::all(), OptLevel::O0).unwrap());
}

#[test]
fn jit_o2() {
    report("jit O2", run::jit(&catalog::all(), OptLevel::O2).unwrap());
}

#[test]
fn aot_x86_64_o2() {
    report("x86_64 O2", run::aot(&catalog::all(), LinuxTarget::X86_64, OptLevel::O2).unwrap());
}

#[test]
fn aot_aarch64_o2_qemu() {
    report("aarch64 O2", run::aot(&catalog::all(), LinuxTarget::Aarch64, OptLevel::O2).unwrap());
}

#[test]
fn aot_riscv64_o2_qemu() {
    report("riscv64 O2", run::aot(&catalog::all(), LinuxTarget::Riscv64, OptLevel::O2).unwrap());
}

#[test]
fn aot_aarch64_o0_qemu() {
    report("aarch64 O0", run::aot(&catalog::all(), LinuxTarget::Aarch64, OptLevel::O0).unwrap());
}
