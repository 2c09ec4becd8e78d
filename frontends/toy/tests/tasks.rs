//! Many mutator threads: `spawn` and `join` on the runtime's thread pool,
//! with stop-the-world collections that walk every thread's stack.
//!
//! - Concurrent binary-trees prints what the sequential program prints,
//!   through the JIT and in an executable.
//! - GC stress with 4 pool threads and the main thread, collecting at every
//!   allocation and every poll: the output matches values computed here at
//!   O0 and O2, objects really move, and collections stop several threads;
//!   a run whose collector leaves one stopped thread's frames out (fault
//!   injection) must fail, so no thread is missed.
//! - A long non-allocating loop in one task does not stall collections the
//!   main thread needs: the time to safepoint is bounded with polls and is
//!   the whole loop without them.
//! - Misuse is a compile error or a runtime error, never a crash.

use std::process::{Command, Output};

mod common;
use common::{example, gc_stat as stat, gc_stats, Scratch};

fn toy() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cfree-toy"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn concurrent_binary_trees_prints_what_the_sequential_program_prints() {
    let expected = std::fs::read_to_string(example("binarytrees.10.out")).unwrap();
    let file = example("binarytrees_spawn.toy");
    for level in ["-O0", "-O2"] {
        let out = toy().arg("run").arg(&file).args(["10", level]).env("CFREE_TOY_STATS", "1").output().unwrap();
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{level}: {stderr}");
        assert_eq!(text(&out.stdout), expected, "{level}");
        // 4 depths, 8 tasks each.
        assert_eq!(stat(&stderr, "tasks"), 32, "{stderr}");
    }
    let dir = Scratch::new("tasks-aot");
    let exe = dir.path("binarytrees_spawn");
    let built = toy().arg("build").arg(&file).args(["-O2", "-o"]).arg(&exe).output().unwrap();
    assert!(built.status.success(), "{}", text(&built.stderr));
    let out = Command::new(&exe).arg("10").env("CFREE_TOY_THREADS", "3").output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), expected);
}

/// Five mutators (four tasks and `main`), each building lists and keeping one
/// alive across collections.
const STRESS_SOURCE: &str = "type Cell { next: Cell, value: int }
fn build(k: int, n: int) -> Cell {
    let head: Cell = nil;
    let i = 0;
    while i < n {
        head = new Cell { next: head, value: k * 1000 + i };
        i = i + 1;
    }
    return head;
}
fn sum(c: Cell) -> int {
    let s = 0;
    let p = c;
    while p != nil {
        s = s + p.value;
        p = p.next;
    }
    return s;
}
fn work(k: int, n: int, rounds: int) -> int {
    let total = 0;
    let keep = build(k, n);
    for r in 0..rounds {
        let tmp = build(k + 10 * r, n);
        total = total + sum(tmp) + sum(keep);
    }
    return total;
}
fn main(n: int) -> int {
    let t1 = spawn work(1, n, 3);
    let t2 = spawn work(2, n, 3);
    let t3 = spawn work(3, n, 3);
    let t4 = spawn work(4, n, 3);
    let mine = work(5, n, 3);
    print(join(t1), \" \", join(t2), \" \", join(t3), \" \", join(t4), \" \", mine);
    return 0;
}
";

/// What `work(k, n, rounds)` returns, computed here.
fn work(k: i64, n: i64, rounds: i64) -> i64 {
    let sum = |k: i64| (0..n).map(|i| k * 1000 + i).sum::<i64>();
    (0..rounds).map(|r| sum(k + 10 * r) + sum(k)).sum()
}

fn stress_run(exe_or_run: &[&str], n: i64, skip_thread: bool) -> Output {
    let mut cmd = Command::new("timeout");
    cmd.arg("300").arg(env!("CARGO_BIN_EXE_cfree-toy")).args(exe_or_run).arg(n.to_string());
    cmd.env("CFREE_GC_STRESS_POLLS", "1").env("CFREE_TOY_THREADS", "4").env("CFREE_TOY_STATS", "1");
    if skip_thread {
        cmd.env("CFREE_TOY_GC_SKIP_THREAD", "1");
    }
    cmd.output().unwrap()
}

#[test]
fn gc_stress_with_four_task_threads_moves_objects_and_misses_no_thread() {
    let dir = Scratch::new("tasks-stress");
    let file = dir.path("stress.toy");
    std::fs::write(&file, STRESS_SOURCE).unwrap();
    let file = file.to_str().unwrap();
    let n = 40;
    let expected =
        format!("{} {} {} {} {}\n", work(1, n, 3), work(2, n, 3), work(3, n, 3), work(4, n, 3), work(5, n, 3));
    for level in ["-O0", "-O2"] {
        let out = stress_run(&["run", file, level], n, false);
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{level}: {stderr}");
        assert_eq!(text(&out.stdout), expected, "{level}");
        let stats = gc_stats(&stderr);
        // A collection at every allocation (5 threads x 4 lists x n cells) and poll.
        assert!(stats.collections > 20 * n as u64, "{level}: {stderr}");
        // Nearly every cell is still live at the collection that follows its
        // allocation, so nearly every allocated word is moved (promoted) once.
        let allocated = stat(&stderr, "words allocated");
        assert!(stats.copied * 10 >= allocated * 9, "{level}: live objects moved: {stderr}");
        assert!(stat(&stderr, "threads stopped") >= 3, "{level}: collections stopped other threads: {stderr}");
    }
    // The collector leaves one stopped thread's frames out: its references are
    // not updated, so it reads moved (poisoned) objects and the run fails.
    let out = stress_run(&["run", file, "-O2"], n, true);
    let failed = !out.status.success() || text(&out.stdout) != expected;
    assert!(failed, "a run that misses a thread's frames must fail: {}", text(&out.stderr));
}

/// A task spins without allocating while `main` allocates enough to collect
/// about thirty times.
const SPIN_SOURCE: &str = "fn spin(n: int) -> int {
    let s = 0;
    let i = 0;
    while i < n {
        s = s + i % 7;
        i = i + 1;
    }
    return s;
}
fn churn(n: int) -> int {
    let c = 0;
    for i in 0..n {
        let a = new [int](8);
        a[0] = i;
        c = c + a[0] % 3;
    }
    return c;
}
fn main(n: int) -> int {
    let t = spawn spin(n);
    let c = churn(300000);
    print(join(t), \" \", c);
    return 0;
}
";

#[test]
fn a_long_loop_in_one_thread_does_not_stall_collections() {
    let dir = Scratch::new("tasks-spin");
    let file = dir.path("spin.toy");
    std::fs::write(&file, SPIN_SOURCE).unwrap();
    let n: i64 = 400_000_000;
    let expected = format!("{} {}\n", (0..n).map(|i| i % 7).sum::<i64>(), (0..300_000i64).map(|i| i % 3).sum::<i64>());
    let mut longest = Vec::new();
    for polls in ["on", "off"] {
        let started = std::time::Instant::now();
        let out = toy()
            .arg("run")
            .arg(&file)
            .args([&n.to_string(), "-O2"])
            .env("CFREE_TOY_POLLS", polls)
            .env("CFREE_TOY_STATS", "1")
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert_eq!(text(&out.stdout), expected);
        assert!(gc_stats(&stderr).collections >= 10, "{stderr}");
        let stop = stat(&stderr, "ns longest stop");
        eprintln!("polls {polls}: longest stop {:.3} ms, run {:.3} s", stop as f64 / 1e6, elapsed.as_secs_f64());
        longest.push(stop);
    }
    // Without polls a collection waits for the whole loop; with them, for one iteration
    // (plus scheduling). The loop takes hundreds of milliseconds at least.
    assert!(longest[1] > 5 * longest[0], "stop with polls {} ns, without {} ns", longest[0], longest[1]);
}

#[test]
fn misuse_is_a_compile_error_or_a_runtime_error() {
    let dir = Scratch::new("tasks-misuse");
    let cases = [
        (
            "type N { v: int }\nfn f(x: N) -> int { return x.v; }\nfn main(n: int) -> int { let t = spawn f(new N { v: 1 }); return join(t); }\n",
            "`spawn` passes only `int`, `float` and `bool` arguments",
        ),
        (
            "fn f(x: int) -> float { return 1.0; }\nfn main(n: int) -> int { let t = spawn f(1); return 0; }\n",
            "`spawn` runs functions that return an `int` or nothing",
        ),
        ("fn main(n: int) -> int { return join(1.5); }\n", "`join` expects a task (an `int`), found `float`"),
        ("fn main(n: int) -> int { let t = spawn g(1); return 0; }\n", "unknown function `g`"),
    ];
    for (i, (source, message)) in cases.iter().enumerate() {
        let file = dir.path(&format!("bad{i}.toy"));
        std::fs::write(&file, source).unwrap();
        let out = toy().arg("check").arg(&file).output().unwrap();
        assert!(!out.status.success(), "{source}");
        assert!(text(&out.stderr).contains(message), "{source}: {}", text(&out.stderr));
    }
    // A handle that names no task is a runtime error with the join's position.
    let file = dir.path("unknown.toy");
    std::fs::write(&file, "fn main(n: int) -> int {\n    return join(n);\n}\n").unwrap();
    let out = toy().arg("run").arg(&file).arg("7").output().unwrap();
    assert_eq!(out.status.code(), Some(101), "{}", text(&out.stderr));
    let first = text(&out.stderr).lines().next().unwrap_or_default().to_string();
    assert!(first.ends_with("unknown.toy:2:12: runtime error: join of 7, which is not a task"), "{first}");
}
