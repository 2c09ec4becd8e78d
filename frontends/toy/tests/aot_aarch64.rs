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

use std::path::Path;
use std::process::Command;

mod common;
use common::{example, gc_stats, shared_binarytrees, shared_output, Scratch};

const TRIPLE: &str = "aarch64-unknown-linux-gnu";

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

#[test]
fn aarch64_executables_match_the_references() {
    let dir = Scratch::new("a64-outputs");
    let read = |f: &str| std::fs::read_to_string(example(f)).unwrap();
    for level in ["-O0", "-O2"] {
        let bt = dir.path(&format!("binarytrees{level}"));
        build(&example("binarytrees.toy"), &bt, level);
        expect(&bt, &["10"], &shared_binarytrees(10));
        let peano = dir.path(&format!("peano{level}"));
        build(&example("peano.toy"), &peano, level);
        expect(&peano, &["9"], &read("peano.9.out"));
        let basics = dir.path(&format!("basics{level}"));
        build(&example("basics.toy"), &basics, level);
        expect(&basics, &["5"], &read("basics.5.out"));
    }
}

#[test]
fn aarch64_collections_under_stress_move_objects_found_through_stack_maps() {
    let dir = Scratch::new("a64-stress");
    for level in ["-O0", "-O2"] {
        let exe = dir.path(&format!("bt{level}"));
        build(&example("binarytrees.toy"), &exe, level);
        let stats = common::check_stress_run(run(&exe, &["6"], &common::STRESS_ENV), level);
        // Every managed frame above each collection was walked (recursion depth up to 7).
        assert!(stats.frames > stats.collections * 3, "the walk climbs the recursion ({stats:?})");
    }
}

#[test]
fn aarch64_numeric_benchmarks_and_globals_survive_stress() {
    // Floats, `sqrt`, shifts, `for`, `break`, globals: built for AArch64, under stress.
    let dir = Scratch::new("a64-numeric");
    for (name, n) in [("nbody", 1000u32), ("spectralnorm", 100), ("fannkuchredux", 7)] {
        let exe = dir.path(name);
        build(&example(&format!("{name}.toy")), &exe, "-O2");
        let (stdout, stderr, code) = run(&exe, &[&n.to_string()], &common::STRESS_ENV);
        assert_eq!(code, 0, "{name}: {stderr}");
        assert!(stdout == shared_output(name, n), "{name} {n}: output differs:\n{stdout}");
        assert!(gc_stats(&stderr).collections >= 3, "{name}: {stderr}");
    }
    // A global holding a list is a root at every collection.
    let file = dir.path("globals.toy");
    std::fs::write(&file, common::GLOBALS_SOURCE).unwrap();
    let exe = dir.path("globals");
    build(&file, &exe, "-O2");
    let (stdout, stderr, code) = run(&exe, &["10"], &common::STRESS_ENV);
    assert_eq!((code, stdout.as_str()), (0, common::GLOBALS_OUTPUT), "{stderr}");
    assert!(gc_stats(&stderr).collections > 10, "{stderr}");
}

#[test]
fn aarch64_runtime_errors_carry_their_backtrace() {
    let dir = Scratch::new("a64-errors");
    let file = dir.path("deep.toy");
    std::fs::write(&file, common::DEEP_SOURCE).unwrap();
    // At O2 the calls LLVM inlined come from the executable's DWARF.
    for level in ["-O0", "-O2"] {
        let exe = dir.path(&format!("deep{level}"));
        build(&file, &exe, level);
        let (_, stderr, code) = run(&exe, &[], &[]);
        assert_eq!(code, 101, "{level}: {stderr}");
        common::check_deep_backtrace(&stderr, true);
    }
}

/// `panic`, `defer` and `recover` on AArch64: the recover example (panics
/// recovered, a nil dereference recovered, allocation during unwinds) with
/// and without GC stress, and an unrecovered panic's report and status.
#[test]
fn aarch64_panics_unwind_run_defers_and_recover() {
    let dir = Scratch::new("a64-panics");
    let expected = std::fs::read_to_string(example("recover.10.out")).unwrap();
    let unrecovered = dir.path("unrecovered.toy");
    std::fs::write(
        &unrecovered,
        "fn bye() {\n    print(\"bye\");\n}\nfn main(n: int) -> int {\n    defer bye();\n    panic(\"stop\");\n}\n",
    )
    .unwrap();
    for level in ["-O0", "-O2"] {
        let exe = dir.path(&format!("recover{level}"));
        build(&example("recover.toy"), &exe, level);
        for stress in ["0", "1"] {
            let (stdout, stderr, code) = run(&exe, &["10"], &[("CFREE_GC_STRESS", stress), ("CFREE_TOY_STATS", "1")]);
            assert_eq!(code, 0, "{level} stress={stress}: {stderr}");
            assert_eq!(stdout, expected, "{level} stress={stress}");
            if stress == "1" {
                assert!(gc_stats(&stderr).collections > 200, "{stderr}");
            }
        }
        let exe = dir.path(&format!("unrecovered{level}"));
        build(&unrecovered, &exe, level);
        let (stdout, stderr, code) = run(&exe, &[], &[]);
        assert_eq!((stdout.as_str(), code), ("bye\n", 101), "{level}: {stderr}");
        assert_eq!(stderr, format!("{}:6:5: panic: stop\n", unrecovered.display()), "{level}");
    }
}

/// Tasks on AArch64: binary-trees split across 4 pool threads, with a
/// collection at every allocation and poll, stopping every thread and
/// walking each one's AArch64 frames; the output is the sequential program's.
#[test]
fn aarch64_tasks_under_stress_stop_every_thread() {
    let dir = Scratch::new("a64-tasks");
    let exe = dir.path("bt-spawn");
    build(&example("binarytrees_spawn.toy"), &exe, "-O2");
    let env = [("CFREE_GC_STRESS_POLLS", "1"), ("CFREE_TOY_THREADS", "4"), ("CFREE_TOY_STATS", "1")];
    let (stdout, stderr, code) = run(&exe, &["6"], &env);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, std::fs::read_to_string(example("binarytrees.4.out")).unwrap());
    let stat = |name: &str| common::gc_stat(&stderr, name);
    assert!(stat("collections") > 1000, "{stderr}");
    assert!(stat("threads stopped") >= 2, "collections stopped several threads: {stderr}");
    assert_eq!(stat("tasks"), 16, "{stderr}");
}

/// Task stacks grow on AArch64 too: 1,000 live tasks and a 10^6-deep
/// recursion; then recursions that allocate at every level under GC stress,
/// whose collections walk frames across segments (`tests/stacks.rs` has the
/// x86-64 versions).
#[test]
fn aarch64_task_stacks_grow_under_stress() {
    let dir = Scratch::new("a64-stacks");
    let exe = dir.path("chain");
    build(&example("chain_tasks.toy"), &exe, "-O2");
    let (stdout, stderr, code) = run(&exe, &["1000"], &[("CFREE_TOY_STATS", "1")]);
    assert_eq!((code, stdout.as_str()), (0, "1001000\n"), "{stderr}");
    let stat = |stderr: &str, name: &str| common::gc_stat(stderr, name);
    assert_eq!(stat(&stderr, "peak live tasks"), 1001, "{stderr}");
    assert!(stat(&stderr, "stack growths") >= 5, "{stderr}");

    let source = "type Cell { next: Cell, value: int }
fn build(n: int, k: int) -> Cell {
    if n == 0 {
        return nil;
    }
    let c = new Cell { next: nil, value: k * 100000 + n };
    c.next = build(n - 1, k);
    return c;
}
fn sum(c: Cell) -> int {
    let s = 0;
    while c != nil {
        s = s + c.value;
        c = c.next;
    }
    return s;
}
fn work(n: int, k: int) -> int {
    return sum(build(n, k));
}
fn main(n: int) -> int {
    let t1 = spawn work(n, 1);
    let t2 = spawn work(n, 2);
    print(join(t1), \" \", join(t2));
    return 0;
}
";
    let file = dir.path("deep.toy");
    std::fs::write(&file, source).unwrap();
    let exe = dir.path("deep");
    build(&file, &exe, "-O2");
    let n = 400i64;
    let env = [("CFREE_GC_STRESS_POLLS", "1"), ("CFREE_TOY_THREADS", "2"), ("CFREE_TOY_STATS", "1")];
    let (stdout, stderr, code) = run(&exe, &[&n.to_string()], &env);
    let sum = |k: i64| (1..=n).map(|i| k * 100_000 + i).sum::<i64>();
    assert_eq!((code, stdout), (0, format!("{} {}\n", sum(1), sum(2))), "{stderr}");
    assert!(stat(&stderr, "collections") > 2 * n as u64, "{stderr}");
    assert!(stat(&stderr, "stack growths") >= 2, "{stderr}");
}
