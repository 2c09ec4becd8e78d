//! Toy programs built for AArch64 Linux (`cfree-toy build --target
//! aarch64-unknown-linux-gnu`, linked with the AArch64 build of the runtime)
//! and run under qemu-user: the same moving collector, with the AArch64 frame
//! walk (callers' stack pointers recovered from frame sizes) and AArch64 stack
//! map registers. Outputs against the references at O0 and O2, GC stress with
//! statistics identical to x86-64's, deep recursion, backtraces.
//!
//! Needs `qemu-aarch64`, `aarch64-linux-gnu-gcc`, its libc, and the runtime
//! built with `cargo build -p cfree-toy-rt --target aarch64-unknown-linux-gnu`
//! in the same profile (`ci/test` does all of it); a missing piece fails the
//! test with a message naming it.

use std::path::{Path, PathBuf};
use std::process::Command;

const TRIPLE: &str = "aarch64-unknown-linux-gnu";

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples").join(name)
}

fn shared_binarytrees(n: u32) -> String {
    let dir = std::env::var("CFREE_SHARED_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata"));
    let path = dir.join(format!("bench/binarytrees/generated/{n}_out"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is absent (set CFREE_SHARED_TESTDATA)", path.display()))
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cfree-toy-a64-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Builds `file` for AArch64 at `level` into `out`.
fn build(file: &Path, out: &Path, level: &str) {
    let o = Command::new(env!("CARGO_BIN_EXE_cfree-toy"))
        .arg("build")
        .arg(file)
        .args(["-o"])
        .arg(out)
        .args([level, "--target", TRIPLE])
        .output()
        .expect("cfree-toy runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "building {} for {TRIPLE} {level}: {stderr}", file.display());
}

/// Runs an AArch64 executable under qemu-user.
fn run(exe: &Path, args: &[&str], env: &[(&str, &str)]) -> (String, String, i32) {
    let out = Command::new("qemu-aarch64")
        .args(["-L", "/usr/aarch64-linux-gnu"])
        .arg(exe)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("qemu-aarch64 cannot run ({e}): install qemu-user (ci/bootstrap does)"));
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (text(out.stdout), text(out.stderr), out.status.code().unwrap_or(-1))
}

fn expect(exe: &Path, args: &[&str], expected: &str) {
    let (stdout, stderr, code) = run(exe, args, &[]);
    assert_eq!(code, 0, "{} {args:?}: {stderr}", exe.display());
    assert!(stdout == expected, "{} {args:?}: output differs:\n{stdout}", exe.display());
}

/// The numbers of a `gc: ...` statistics line, in order.
fn stats(stderr: &str) -> Vec<u64> {
    let line = stderr.lines().find(|l| l.starts_with("gc: ")).unwrap_or_else(|| panic!("no statistics: {stderr}"));
    line.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect()
}

#[test]
fn aarch64_executables_match_the_references() {
    let dir = scratch("outputs");
    let read = |f: &str| std::fs::read_to_string(example(f)).unwrap();
    for level in ["-O0", "-O2"] {
        let bt = dir.join(format!("binarytrees{level}"));
        build(&example("binarytrees.toy"), &bt, level);
        expect(&bt, &["10"], &shared_binarytrees(10));
        let peano = dir.join(format!("peano{level}"));
        build(&example("peano.toy"), &peano, level);
        expect(&peano, &["9"], &read("peano.9.out"));
        let basics = dir.join(format!("basics{level}"));
        build(&example("basics.toy"), &basics, level);
        expect(&basics, &["5"], &read("basics.5.out"));
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn aarch64_collections_under_stress_move_objects_found_through_stack_maps() {
    let dir = scratch("stress");
    let expected = std::fs::read_to_string(example("binarytrees.4.out")).unwrap();
    for level in ["-O0", "-O2"] {
        let exe = dir.join(format!("bt{level}"));
        build(&example("binarytrees.toy"), &exe, level);
        let (stdout, stderr, code) = run(&exe, &["6"], &[("CFREE_GC_STRESS", "1"), ("CFREE_TOY_STATS", "1")]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stdout, expected, "stress at {level}");
        let n = stats(&stderr);
        let (collections, copied, roots, frames) = (n[0], n[1], n[2], n[4]);
        assert!(collections > 1000, "a collection per allocation ({stderr})");
        assert!(copied > collections && roots > collections, "objects moved, roots from stack maps ({stderr})");
        // Every managed frame above each collection was walked (recursion depth up to 7).
        assert!(frames > collections * 3, "the walk climbs the recursion ({stderr})");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn aarch64_runtime_errors_carry_their_backtrace() {
    let dir = scratch("errors");
    let file = dir.join("deep.toy");
    let source = "fn g(d: int) -> int {\n    return 1 / d;\n}\nfn f(d: int) -> int {\n    return g(d) + 1;\n}\nfn main(n: int) -> int {\n    return f(n - n);\n}\n";
    std::fs::write(&file, source).unwrap();
    let exe = dir.join("deep");
    build(&file, &exe, "-O0");
    let (_, stderr, code) = run(&exe, &[], &[]);
    assert_eq!(code, 101, "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines[0].ends_with("deep.toy:2:12: runtime error: division by zero or overflow"), "{stderr}");
    let callers: Vec<&str> = lines[1..].iter().map(|l| l.rsplit('/').next().unwrap()).collect();
    assert_eq!(callers, ["deep.toy:5:12", "deep.toy:8:12"], "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}
