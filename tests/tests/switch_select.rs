//! `switch` and `select` executed over their whole input range through the
//! JIT at O0 and O2 (the suite's `t_switch_dense`, `t_switch_sparse` and
//! `t_select`), against the Rust oracle; the AOT paths (x86_64, aarch64,
//! riscv64) run the suite's cases in `aot_suite.rs`. Misuse is in
//! `facade/tests/diagnostics.rs`.

use cfree_llvm_lower::OptLevel;
use cfree_tests::programs::{Case, SPARSE_CASES};
use cfree_tests::{jit, programs};

fn inputs() -> Vec<Case> {
    let mut cases = Vec::new();
    // Every i8 value twice over (the dense switch truncates), with two `b`s.
    for a in -384..=384 {
        for b in [5, -1 << 40] {
            cases.push(Case { func: "t_switch_dense", a, b });
        }
    }
    // Each sparse case, its neighbours, values equal to a case only in the low 32 bits,
    // and a spread of other i32 values.
    for c in SPARSE_CASES {
        for d in [-1i64, 0, 1] {
            let a = i64::from(c) + d;
            cases.push(Case { func: "t_switch_sparse", a, b: 7 });
            cases.push(Case { func: "t_switch_sparse", a: a + (1 << 32), b: -7 });
        }
    }
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        cases.push(Case { func: "t_switch_sparse", a: x as i64, b: 3 });
        cases.push(Case { func: "t_select", a: (x as i64) >> 40, b: ((x >> 20) as i64) >> 44 });
    }
    for (a, b) in [(i64::MIN, i64::MAX), (i64::MAX, i64::MIN), (0, 0), (-1, 1), (i64::MIN, i64::MIN)] {
        cases.push(Case { func: "t_select", a, b });
    }
    cases
}

fn check(level: OptLevel) {
    let cases = inputs();
    let results = jit::run_suite(level, &cases).unwrap_or_else(|e| panic!("JIT at {level:?}: {e}"));
    assert_eq!(results.len(), cases.len());
    let mut hits = [0usize; SPARSE_CASES.len()];
    for (case, got) in results {
        assert_eq!(got, programs::oracle(case.func, case.a, case.b), "{case:?} at {level:?}");
        if case.func == "t_switch_sparse" {
            if let Some(k) = SPARSE_CASES.iter().position(|&c| c == case.a as i32) {
                hits[k] += 1;
            }
        }
    }
    assert!(hits.iter().all(|&h| h == 2), "every sparse case is taken, also through high bits: {hits:?}");
}

#[test]
fn switch_and_select_jit_o0() {
    check(OptLevel::O0);
}

#[test]
fn switch_and_select_jit_o2() {
    check(OptLevel::O2);
}
