//! Toy programs built ahead of time by `cfree-toy build` (an x86-64 Linux
//! executable linked with the runtime library) and run directly: outputs
//! compared with the reference outputs (the Benchmarks Game's for
//! binary-trees) at O0 and O2, GC stress in the executable with the
//! collector's statistics checked, runtime errors with file:line:column, and
//! the failures of `build` itself (type errors, no linker, no runtime library).

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::{example, shared_binarytrees, Scratch};

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

/// Runs `cfree-toy build FILE -o OUT ARGS...`.
fn cfree_toy_build(file: &Path, out: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cfree-toy"))
        .arg("build")
        .arg(file)
        .arg("-o")
        .arg(out)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("cfree-toy runs")
}

/// Builds `file` at `level` into `out`, or fails the test with cfree-toy's message.
fn build(file: &Path, out: &Path, level: &str) {
    let o = cfree_toy_build(file, out, &[level], &[]);
    assert!(o.status.success(), "building {} {level}: {}", file.display(), text(o.stderr));
    assert!(out.is_file(), "{} was not created", out.display());
}

fn run(exe: &Path, args: &[&str], env: &[(&str, &str)]) -> (String, String, i32) {
    let out = Command::new(exe).args(args).envs(env.iter().copied()).output().expect("the executable runs");
    (text(out.stdout), text(out.stderr), out.status.code().unwrap_or(-1))
}

fn expect(exe: &Path, args: &[&str], expected: &str) {
    let (stdout, stderr, code) = run(exe, args, &[]);
    assert_eq!(code, 0, "{} {args:?}: {stderr}", exe.display());
    assert!(stdout == expected, "{} {args:?}: output differs from the expected one:\n{stdout}", exe.display());
}

#[test]
fn binarytrees_matches_the_reference_at_o0_and_o2() {
    let expected = shared_binarytrees;
    let dir = Scratch::new("binarytrees");
    let (o2, o0) = (dir.path("binarytrees-O2"), dir.path("binarytrees-O0"));
    build(&example("binarytrees.toy"), &o2, "-O2");
    build(&example("binarytrees.toy"), &o0, "-O0");
    expect(&o2, &["10"], &expected(10));
    expect(&o2, &["16"], &expected(16));
    expect(&o0, &["10"], &expected(10));
    expect(&o0, &["16"], &expected(16));
}

#[test]
fn peano_and_basics_match_their_outputs() {
    let read = |f: &str| std::fs::read_to_string(example(f)).unwrap();
    let dir = Scratch::new("peano-basics");
    for level in ["-O0", "-O2"] {
        let (peano, basics) = (dir.path(&format!("peano{level}")), dir.path(&format!("basics{level}")));
        build(&example("peano.toy"), &peano, level);
        build(&example("basics.toy"), &basics, level);
        expect(&peano, &["9"], &read("peano.9.out"));
        expect(&basics, &["5"], &read("basics.5.out"));
    }
}

#[test]
fn gc_stress_in_the_executable_gives_identical_output_and_really_moves_objects() {
    let dir = Scratch::new("stress");
    for level in ["-O0", "-O2"] {
        let exe = dir.path(&format!("binarytrees{level}"));
        build(&example("binarytrees.toy"), &exe, level);
        common::check_stress_run(run(&exe, &["6"], &common::STRESS_ENV), level);
    }
}

#[test]
fn runtime_errors_name_file_line_and_column() {
    let dir = Scratch::new("runtime-error");
    let file = dir.path("bounds.toy");
    std::fs::write(&file, "fn main(n: int) -> int {\n    let a = new [int](3);\n    return a[n];\n}\n").unwrap();
    let exe = dir.path("bounds");
    build(&file, &exe, "-O2");
    let (_, stderr, code) = run(&exe, &["3"], &[]);
    assert_eq!(code, 101, "{stderr}");
    let expected = format!("{}:3:12: runtime error: index out of bounds", file.display());
    assert!(stderr.lines().next() == Some(expected.as_str()), "expected {expected:?} first in {stderr:?}");
    // In bounds: main's result is the exit status.
    let (_, stderr, code) = run(&exe, &["2"], &[]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn exit_status_is_the_result_modulo_256_and_bad_arguments_are_usage_errors() {
    let dir = Scratch::new("status");
    let file = dir.path("status.toy");
    std::fs::write(&file, "fn main(n: int) -> int {\n    return n + 44;\n}\n").unwrap();
    let exe = dir.path("status");
    build(&file, &exe, "-O1");
    assert_eq!(run(&exe, &[], &[]).2, 44, "N defaults to 0");
    assert_eq!(run(&exe, &["256"], &[]).2, 44);
    assert_eq!(run(&exe, &["-40"], &[]).2, 4);
    let (_, stderr, code) = run(&exe, &["many"], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`many` is not an integer"), "{stderr}");
    assert_eq!(run(&exe, &["1", "2"], &[]).2, 2);
}

#[test]
fn a_type_error_is_reported_and_creates_no_executable() {
    let dir = Scratch::new("type-error");
    let file = dir.path("bad.toy");
    std::fs::write(&file, "fn main(n: int) -> int {\n    return true;\n}\n").unwrap();
    let exe = dir.path("bad");
    let o = cfree_toy_build(&file, &exe, &[], &[]);
    let stderr = text(o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("{}:2:12: error:", file.display())), "{stderr}");
    assert!(!exe.exists(), "no executable after a type error");
}

#[test]
fn missing_tools_are_clear_errors() {
    let dir = Scratch::new("missing");
    let exe = dir.path("never");
    let file = example("basics.toy");
    // No `cc` on PATH.
    let o = cfree_toy_build(&file, &exe, &[], &[("PATH", "/nonexistent")]);
    let stderr = text(o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("`cc` was not found"), "{stderr}");
    // A runtime library that does not exist.
    let o = cfree_toy_build(&file, &exe, &[], &[("CFREE_TOY_RT_LIB", "/nonexistent/libcfree_toy_rt.a")]);
    let stderr = text(o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("/nonexistent/libcfree_toy_rt.a"), "{stderr}");
    // A cfree-toy with no runtime library beside it says where it looked.
    let lonely = dir.path("cfree-toy");
    std::fs::copy(env!("CARGO_BIN_EXE_cfree-toy"), &lonely).unwrap();
    let o = Command::new(&lonely).arg("build").arg(&file).arg("-o").arg(&exe).env_remove("CFREE_TOY_RT_LIB").output();
    let o = o.unwrap();
    let stderr = text(o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    let tried = dir.path("libcfree_toy_rt.a");
    assert!(stderr.contains("runtime library was not found") && stderr.contains(&*tried.to_string_lossy()), "{stderr}");
    assert!(!exe.exists(), "no executable after a failed build");
}

#[test]
fn usage_errors() {
    let file = example("basics.toy");
    for args in [&["-O7"][..], &["-o"], &["extra"]] {
        let o = Command::new(env!("CARGO_BIN_EXE_cfree-toy")).arg("build").arg(&file).args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(o.stderr));
    }
}
