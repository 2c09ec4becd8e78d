//! Growable task stacks (`doc/runtime.md`, "Growable stacks"):
//!
//! - 100,000 tasks alive at once, each suspended in `join` on its own small
//!   stack, while the last recurses 10^6 deep; the memory an idle task costs
//!   is measured (two runs, 1,000 and 100,000 tasks) and bounded.
//! - Recursions in four tasks that allocate at every level and keep each
//!   object across the recursive call, under GC stress (a collection at
//!   every allocation and poll): collections walk frames on many segments
//!   of several tasks and move the objects, and the sums match values
//!   computed here, at O0 and O2.
//! - Tasks suspended in `join` hold references that collections relocate; a
//!   collector that leaves one suspended task's frames out must fail.
//! - Outside a task the limit is never reached (the main thread's stack does not grow).

use std::process::{Command, Output};

mod common;
use common::{example, gc_stat as stat, gc_stats, Scratch};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn toy(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("timeout");
    cmd.arg("300").arg(env!("CARGO_BIN_EXE_cfree-toy")).args(args).env("CFREE_TOY_STATS", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn a_hundred_thousand_live_tasks_and_one_deep_recursion() {
    let file = example("chain_tasks.toy");
    let file = file.to_str().unwrap();
    let mut resident = Vec::new();
    for n in [1_000u64, 100_000] {
        let out = toy(&["run", file, &n.to_string(), "-O2"], &[]);
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{n}: {stderr}");
        assert_eq!(text(&out.stdout), format!("{}\n", 1_000_000 + n), "{n}");
        assert_eq!(stat(&stderr, "peak live tasks"), n + 1, "all tasks alive at once: {stderr}");
        // The 10^6 frames of the deep recursion do not fit the first segment.
        assert!(stat(&stderr, "stack growths") >= 5, "{stderr}");
        resident.push(stat(&stderr, "KiB peak resident"));
    }
    let per_task = (resident[1] as f64 - resident[0] as f64) * 1024.0 / 99_000.0;
    eprintln!("resident memory per idle task: {per_task:.0} bytes ({resident:?} KiB)");
    // A task's first segment is 32 KiB; an idle one touches the pages of its few frames only.
    assert!(per_task < 12.0 * 1024.0, "{per_task} bytes per idle task");
}

/// Four tasks each build a list by recursion, holding each new cell across
/// the call that builds the rest.
const DEEP_SOURCE: &str = "type Cell { next: Cell, value: int }
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
fn work(k: int, n: int) -> int {
    let keep = build(n, k + 10);
    return sum(build(n, k)) + sum(keep);
}
fn holder(k: int, n: int) -> int {
    let mine = build(50, k + 20);
    let t = spawn work(k, n);
    let r = join(t);
    return r + sum(mine);
}
fn main(n: int) -> int {
    let t1 = spawn holder(1, n);
    let t2 = spawn holder(2, n);
    let t3 = spawn holder(3, n);
    let t4 = spawn holder(4, n);
    print(join(t1), \" \", join(t2), \" \", join(t3), \" \", join(t4));
    return 0;
}
";

fn sum_of(k: i64, n: i64) -> i64 {
    (1..=n).map(|i| k * 100_000 + i).sum()
}

fn holder(k: i64, n: i64) -> i64 {
    sum_of(k, n) + sum_of(k + 10, n) + sum_of(k + 20, 50)
}

fn deep_run(file: &str, level: &str, n: i64, skip_task: bool) -> Output {
    let mut env = vec![("CFREE_GC_STRESS_POLLS", "1"), ("CFREE_TOY_THREADS", "4")];
    if skip_task {
        env.push(("CFREE_TOY_GC_SKIP_TASK", "1"));
    }
    toy(&["run", file, &n.to_string(), level], &env)
}

#[test]
fn deep_recursions_in_tasks_survive_gc_stress_across_segments() {
    let dir = Scratch::new("stacks-deep");
    let file = dir.path("deep.toy");
    std::fs::write(&file, DEEP_SOURCE).unwrap();
    let file = file.to_str().unwrap();
    let n = 500;
    let expected = format!("{} {} {} {}\n", holder(1, n), holder(2, n), holder(3, n), holder(4, n));
    for level in ["-O0", "-O2"] {
        let out = deep_run(file, level, n, false);
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{level}: {stderr}");
        assert_eq!(text(&out.stdout), expected, "{level}");
        let stats = gc_stats(&stderr);
        assert!(stats.collections > 4 * n as u64, "{level}: {stderr}");
        let allocated = stat(&stderr, "words allocated");
        assert!(stats.copied * 10 >= allocated * 9, "{level}: live objects moved: {stderr}");
        assert!(stat(&stderr, "stack growths") >= 4, "{level}: recursions crossed segments: {stderr}");
        assert!(stat(&stderr, "suspended tasks") >= 1, "{level}: collections walked suspended tasks: {stderr}");
        // Every collection at depth d walks all d frames, across segment boundaries.
        assert!(stats.frames > 100 * n as u64, "{level}: {stderr}");
    }
    // The collector leaves one suspended task's frames out: its `mine` is not
    // updated, so it reads a moved (poisoned) object and the run fails.
    let out = deep_run(file, "-O2", n, true);
    let failed = !out.status.success() || text(&out.stdout) != expected;
    assert!(failed, "a run that misses a suspended task's frames must fail: {}", text(&out.stderr));
}

#[test]
fn the_main_thread_recursion_does_not_grow() {
    let dir = Scratch::new("stacks-main");
    let file = dir.path("main.toy");
    std::fs::write(
        &file,
        "fn deep(n: int) -> int {\n    if n == 0 {\n        return 0;\n    }\n    return deep(n - 1) + 1;\n}\nfn main(n: int) -> int {\n    print(deep(n));\n    return 0;\n}\n",
    )
    .unwrap();
    let out = toy(&["run", file.to_str().unwrap(), "1000000", "-O2"], &[]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(text(&out.stdout), "1000000\n");
    assert_eq!(stat(&stderr, "stack growths"), 0, "{stderr}");
}
