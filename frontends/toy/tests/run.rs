//! Toy programs compiled through the CG facade and run in the JIT by the
//! `cfree-toy` binary, with the moving collector of `cfree-toy-rt`: outputs
//! compared with the reference outputs (the Benchmarks Game's for
//! binary-trees), at O0 and O2, and under GC stress (a collection at every
//! allocation) with the collector's statistics checked.

use std::process::Command;

mod common;
use common::{example, gc_stats, shared_binarytrees};

fn run(file: &str, args: &[&str], env: &[(&str, &str)]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_cfree-toy"))
        .arg("run")
        .arg(example(file))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("cfree-toy runs");
    (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap(), out.status.code().unwrap_or(-1))
}

fn expect(file: &str, args: &[&str], expected: &str) {
    let (stdout, stderr, code) = run(file, args, &[]);
    assert_eq!(code, 0, "{file} {args:?}: {stderr}");
    assert_eq!(stdout, expected, "{file} {args:?}");
}

#[test]
fn binarytrees_matches_the_reference_at_o0_and_o2() {
    for n in [10u32, 16] {
        let expected = shared_binarytrees(n);
        let n_arg = n.to_string();
        expect("binarytrees.toy", &[&n_arg, "-O2"], &expected);
        expect("binarytrees.toy", &[&n_arg, "-O0"], &expected);
    }
}

#[test]
fn peano_and_basics_match_their_outputs() {
    let read = |f: &str| std::fs::read_to_string(example(f)).unwrap();
    for level in ["-O0", "-O2"] {
        expect("peano.toy", &["9", level], &read("peano.9.out"));
        expect("basics.toy", &["5", level], &read("basics.5.out"));
    }
}

#[test]
fn gc_stress_gives_identical_output_and_really_moves_objects() {
    for level in ["-O0", "-O2"] {
        common::check_stress_run(run("binarytrees.toy", &["6", level], &common::STRESS_ENV), level);
    }
}

#[test]
fn runtime_errors_name_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("cfree-toy-rt-err-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("nil.toy");
    std::fs::write(
        &file,
        "type N { next: N }\nfn main(n: int) -> int {\n    let x: N = nil;\n    let y = x.next;\n    return 0;\n}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cfree-toy")).arg("run").arg(&file).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(101), "{stderr}");
    assert!(stderr.contains("nil.toy:4:13: runtime error: nil dereference"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn runtime_errors_show_the_managed_call_stack_from_safepoint_ids() {
    let dir = common::Scratch::new("trace");
    let file = dir.path("deep.toy");
    std::fs::write(&file, common::DEEP_SOURCE).unwrap();
    // With debug information (the default) every call shows, inlined or not;
    // with -g0 the safepoint IDs alone lose the calls LLVM inlined at O2.
    for (args, all_frames) in
        [(["-O0", "-g"], true), (["-O2", "-g"], true), (["-O0", "-g0"], true), (["-O2", "-g0"], false)]
    {
        let out = Command::new(env!("CARGO_BIN_EXE_cfree-toy")).arg("run").arg(&file).args(args).output().unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(101), "{args:?}: {stderr}");
        common::check_deep_backtrace(&stderr, all_frames);
    }
}

/// The same backtrace from an executable at O2: the runtime reads the
/// executable's own DWARF for the calls LLVM inlined.
#[test]
fn optimised_executables_show_inlined_calls_in_backtraces() {
    let dir = common::Scratch::new("trace-aot");
    let file = dir.path("deep.toy");
    std::fs::write(&file, common::DEEP_SOURCE).unwrap();
    let exe = dir.path("deep");
    let built = Command::new(env!("CARGO_BIN_EXE_cfree-toy"))
        .arg("build")
        .arg(&file)
        .arg("-O2")
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let out = Command::new(&exe).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(101), "{stderr}");
    common::check_deep_backtrace(&stderr, true);
}

#[test]
fn reference_stores_go_through_the_checked_card_marking_barrier() {
    let expected = std::fs::read_to_string(example("basics.5.out")).unwrap();
    let (stdout, stderr, code) =
        run("basics.toy", &["5", "-O2"], &[("CFREE_GC_STRESS", "1"), ("CFREE_TOY_STATS", "1")]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, expected);
    let stats = gc_stats(&stderr);
    assert!(stats.barriers > 0, "stores of references into objects call the barrier: {stderr}");
    assert!(stats.dirty_cards > 0, "collections find the cards the barrier marked: {stderr}");
}
