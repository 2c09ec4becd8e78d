//! The tiered JIT (`cfree-toy run --tiered`): the base tier at O0 starts at
//! once, the top tier at O2 is compiled in the background and takes over
//! every call made after its redirects are published.
//!
//! - Every example prints its reference output when the switch happens
//!   mid-run and when the whole program runs in the top tier.
//! - Collections walk top-tier frames (the runtime finds their safepoints),
//!   also under GC stress while the switch happens, and with tasks.
//! - A program that runs long enough really switches while `main` runs.
//! - A nil dereference in top-tier code is caught through the top tier's trap
//!   table: the program panics and recovers as it does in one tier.
//! - A frame running a long `while` or `for` loop in the base tier moves to
//!   the top tier at the loop's head (on-stack replacement), with its
//!   variables of every kind, a `for` loop's counter and bound, its result
//!   and its panics.

use std::process::Command;

mod common;
use common::{example, gc_stat};

fn toy() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cfree-toy"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The tiers line of `CFREE_TOY_STATS=1`: (top ready ms, main returned ms, top-tier frames walked).
fn tiers(stderr: &str) -> (Option<f64>, f64, u64) {
    let line = stderr.lines().find(|l| l.starts_with("tiers: ")).unwrap_or_else(|| panic!("no tiers line: {stderr}"));
    let number_after = |key: &str| -> Option<f64> {
        let rest = &line[line.find(key)? + key.len()..];
        rest.split(|c: char| !(c.is_ascii_digit() || c == '.')).next()?.parse().ok()
    };
    let frames = line.rsplit(", ").next().and_then(|s| s.split(' ').next()).and_then(|s| s.parse().ok());
    (
        number_after("top (O2) at "),
        number_after("main returned at ").unwrap_or_else(|| panic!("{line}")),
        frames.unwrap_or_else(|| panic!("{line}")),
    )
}

/// Runs `file n --tiered` with `env`; returns stdout and stderr, asserting success.
fn run_tiered(file: &std::path::Path, n: &str, env: &[(&str, &str)]) -> (String, String) {
    let out = toy()
        .arg("run")
        .arg(file)
        .args([n, "--tiered"])
        .env("CFREE_TOY_STATS", "1")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{} {n} {env:?}: {stderr}", file.display());
    assert!(!stderr.contains("base tier only"), "{stderr}");
    (text(&out.stdout), stderr)
}

#[test]
fn examples_print_their_reference_output_in_both_tiers() {
    let cases = [
        ("basics", "5"),
        ("binarytrees", "10"),
        ("fannkuchredux", "7"),
        ("nbody", "1000"),
        ("peano", "9"),
        ("recover", "10"),
        ("spectralnorm", "100"),
    ];
    for (name, n) in cases {
        let expected = std::fs::read_to_string(example(&format!("{name}.{n}.out"))).unwrap();
        let file = example(&format!("{name}.toy"));
        for wait in ["0", "1"] {
            let (stdout, stderr) = run_tiered(&file, n, &[("CFREE_TOY_TIER_WAIT", wait)]);
            assert_eq!(stdout, expected, "{name} {n}, wait {wait}");
            assert!(tiers(&stderr).0.is_some(), "{name}: no top tier: {stderr}");
        }
    }
}

#[test]
fn collections_walk_top_tier_frames_while_the_switch_happens() {
    // At every allocation: the first collections walk base-tier frames, later
    // ones frames of both tiers (base callers of top-tier callees), then top only.
    let expected = std::fs::read_to_string(example("binarytrees.4.out")).unwrap();
    let file = example("binarytrees.toy");
    for wait in ["0", "1"] {
        let (stdout, stderr) = run_tiered(&file, "4", &[("CFREE_GC_STRESS", "1"), ("CFREE_TOY_TIER_WAIT", wait)]);
        assert_eq!(stdout, expected, "wait {wait}");
        let (_, _, frames) = tiers(&stderr);
        assert!(frames > 1_000, "wait {wait}: collections walked {frames} top-tier frames: {stderr}");
        assert!(gc_stat(&stderr, "collections") > 1_000, "{stderr}");
    }
}

#[test]
fn tasks_run_in_the_top_tier_under_gc_stress() {
    let expected = std::fs::read_to_string(example("binarytrees.4.out")).unwrap();
    let file = example("binarytrees_spawn.toy");
    let env = [("CFREE_GC_STRESS_POLLS", "1"), ("CFREE_TOY_TIER_WAIT", "1"), ("CFREE_TOY_THREADS", "2")];
    let (stdout, stderr) = run_tiered(&file, "4", &env);
    assert_eq!(stdout, expected);
    let (_, _, frames) = tiers(&stderr);
    assert!(frames > 100, "{frames} top-tier frames walked: {stderr}");
    assert!(gc_stat(&stderr, "tasks") > 0, "{stderr}");
}

#[test]
fn a_long_run_switches_tiers_while_main_runs() {
    // peano 10 runs for seconds in the base tier; the top tier takes a
    // fraction of that to compile, even on a loaded machine.
    let file = example("peano.toy");
    let out = toy().arg("run").arg(&file).args(["10", "-O2"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (stdout, stderr) = run_tiered(&file, "10", &[]);
    assert_eq!(stdout, text(&out.stdout));
    let (top, main_returned, frames) = tiers(&stderr);
    let top = top.unwrap_or_else(|| panic!("no top tier: {stderr}"));
    assert!(top < main_returned, "the switch did not happen while main ran: {stderr}");
    assert!(frames > 0, "{stderr}");
}

#[test]
fn nil_dereferences_in_the_top_tier_are_caught_by_its_trap_table() {
    let source = "type Box { value: int }
fn read(b: Box) -> int {
    return b.value;
}
fn guarded(b: Box) -> int {
    defer fallback();
    return read(b);
}
fn fallback() {
    if recover() {
        print(\"recovered\");
    }
}
fn main(n: int) -> int {
    let total = 0;
    let i = 0;
    while i < n {
        let b: Box = nil;
        if i % 2 == 0 {
            b = new Box { value: i };
        }
        total = total + guarded(b);
        i = i + 1;
    }
    print(total);
    return 0;
}
";
    let dir = common::Scratch::new("tiered-traps");
    let file = dir.path("traps.toy");
    std::fs::write(&file, source).unwrap();
    let out = toy().arg("run").arg(&file).args(["6", "-O2"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expected = text(&out.stdout);
    assert_eq!(expected.matches("recovered").count(), 3, "{expected}");
    let (stdout, _) = run_tiered(&file, "6", &[("CFREE_TOY_TIER_WAIT", "1")]);
    assert_eq!(stdout, expected);
}

/// Runs `source` (written to a scratch file) at O2: (stdout, stderr, exit code).
fn run_o2(dir: &common::Scratch, name: &str, source: &str, n: &str) -> (String, String, Option<i32>) {
    let file = dir.path(name);
    std::fs::write(&file, source).unwrap();
    let out = toy().arg("run").arg(&file).args([n, "-O2"]).output().unwrap();
    (text(&out.stdout), text(&out.stderr), out.status.code())
}

/// A loop in `main` that calls no function: only on-stack replacement can
/// move it to the top tier, and the collections its allocations cause then
/// walk top-tier frames. Its variables are an int, a float and a reference.
const LOOP_IN_MAIN: &str = "type Cell { value: int }
fn main(n: int) -> int {
    let total = 0;
    let f = 0.5;
    let keep = new Cell { value: 1 };
    let i = 0;
    while i < n {
        let a = new [int](4);
        a[1] = i;
        total = total + a[1] + keep.value;
        f = f + 0.25;
        if i % 100000 == 0 {
            keep = new Cell { value: keep.value + 1 };
        }
        i = i + 1;
    }
    print(total, \" \", f, \" \", keep.value);
    return 0;
}
";

/// Runs `source` (a program whose `main` loops without calling anything)
/// with `n` at O2, then tiered with `env`: the same output, and collections
/// walked top-tier frames, which only a moved `main` can have, while `main`
/// ran. Returns the tiered run's stderr.
fn assert_main_moves(dir: &common::Scratch, source: &str, n: &str, env: &[(&str, &str)]) -> String {
    let (expected, _, code) = run_o2(dir, "loop.toy", source, n);
    assert_eq!(code, Some(0));
    let (stdout, stderr) = run_tiered(&dir.path("loop.toy"), n, env);
    assert_eq!(stdout, expected, "{env:?}");
    let (top, main_returned, frames) = tiers(&stderr);
    assert!(top.is_some_and(|t| t < main_returned), "{env:?}: no switch while main ran: {stderr}");
    assert!(frames > 0, "{env:?}: main's loop never ran in the top tier: {stderr}");
    stderr
}

#[test]
fn a_running_loop_moves_to_the_top_tier() {
    let dir = common::Scratch::new("tiered-osr");
    // 20 million iterations: about a second in the base tier alone, against
    // 40-80 ms for the top tier to be ready.
    assert_main_moves(&dir, LOOP_IN_MAIN, "20000000", &[]);
    // A moving collection at every allocation, before and after the move.
    let stderr = assert_main_moves(&dir, LOOP_IN_MAIN, "20000", &[("CFREE_GC_STRESS", "1")]);
    assert!(gc_stat(&stderr, "collections") > 20_000, "{stderr}");
}

/// As [`LOOP_IN_MAIN`] with a `for` loop, whose hidden counter and bound
/// move along (assigning to the loop variable does not change the iteration).
const FOR_LOOP_IN_MAIN: &str = "type Cell { value: int }
fn main(n: int) -> int {
    let total = 0;
    let f = 0.5;
    let keep = new Cell { value: 1 };
    for i in 3..n {
        let a = new [int](4);
        a[1] = i;
        total = total + a[1] + keep.value;
        f = f + 0.25;
        if i % 100000 == 0 {
            keep = new Cell { value: keep.value + 1 };
        }
        i = i + 5;
    }
    print(total, \" \", f, \" \", keep.value);
    return 0;
}
";

#[test]
fn a_running_for_loop_moves_to_the_top_tier() {
    let dir = common::Scratch::new("tiered-osr-for");
    // Loop heads that poll check once per chunk of iterations; without polls, at every one.
    for polls in ["on", "off"] {
        assert_main_moves(&dir, FOR_LOOP_IN_MAIN, "20000000", &[("CFREE_TOY_POLLS", polls)]);
    }
}

/// A function with parameters, a float result and a loop that may panic on
/// its last iteration (when `n % 7 == 3`).
const LOOP_IN_FUNCTION: &str = "type Cell { value: int }
fn work(n: int, scale: float) -> float {
    let f = 0.5;
    let keep = new Cell { value: 1 };
    let i = 0;
    while i < n {
        let a = new [int](4);
        a[1] = i;
        f = f + scale * 0.25 + 0.0 * float(a[1] + keep.value);
        if i % 100000 == 0 {
            keep = new Cell { value: keep.value + 1 };
        }
        if i == n - 1 && n % 7 == 3 {
            a[7] = 1;
        }
        i = i + 1;
    }
    return f + float(keep.value);
}
fn main(n: int) -> int {
    print(work(n, 2.0));
    return 0;
}
";

#[test]
fn a_moved_frame_returns_its_result_and_reports_its_panic() {
    let dir = common::Scratch::new("tiered-osr-fn");
    for n in ["20000003", "20000004"] {
        let (expected_out, expected_err, code) = run_o2(&dir, "work.toy", LOOP_IN_FUNCTION, n);
        let out = toy()
            .arg("run")
            .arg(dir.path("work.toy"))
            .args([n, "--tiered"])
            .env("CFREE_TOY_STATS", "1")
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(text(&out.stdout), expected_out, "n = {n}: {stderr}");
        assert_eq!(out.status.code(), code, "n = {n}: {stderr}");
        if code == Some(0) {
            let (top, main_returned, frames) = tiers(&stderr);
            assert!(top.is_some_and(|t| t < main_returned), "n = {n}: no switch while main ran: {stderr}");
            assert!(frames > 0, "n = {n}: the loop never ran in the top tier: {stderr}");
        } else {
            let report = expected_err.lines().find(|l| l.contains("runtime error")).expect("the O2 run's report");
            assert!(stderr.lines().any(|l| l == report), "n = {n}: expected `{report}` in: {stderr}");
        }
    }
}
