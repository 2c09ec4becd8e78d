//! The generational collector of `cfree-toy-rt` under Toy programs: young
//! objects reachable only from old ones (a record field, a small array's
//! element, a large array's element: found only through the barrier's cards),
//! promotion of long chains, large arrays allocated in the old space, and a
//! heap that shrinks once its data dies. Each program's output is checked by
//! the reference interpreter (`oracle`), then through the JIT at O0 and O2,
//! under GC stress at both, and as an executable (stress included).

use std::path::Path;
use std::process::Command;

mod common;
mod oracle;
use common::{gc_stats, Scratch, STRESS_ENV};

fn output(o: std::process::Output) -> (String, String, i32) {
    (String::from_utf8(o.stdout).unwrap(), String::from_utf8(o.stderr).unwrap(), o.status.code().unwrap_or(-1))
}

fn jit(file: &Path, n: &str, level: &str, env: &[(&str, &str)]) -> (String, String, i32) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cfree-toy"));
    command.arg("run").arg(file).args([n, level]).envs(env.iter().copied());
    output(command.output().expect("cfree-toy runs"))
}

const STATS: [(&str, &str); 1] = [("CFREE_TOY_STATS", "1")];

/// Runs `source` as `main(n)` (and as `main(n_stress)` under stress) every
/// way; returns the statistics of the JIT runs without stress.
fn check(name: &str, source: &str, n: i64, n_stress: i64, expected: &str) -> Vec<String> {
    let program = cfree_toy::check(name, source)
        .unwrap_or_else(|errors| panic!("{}", cfree_toy::diag::render_all(&errors, source)));
    for k in [n, n_stress] {
        let outcome = oracle::run(&program, k).unwrap_or_else(|(e, out)| panic!("{name}: oracle: {e} after {out}"));
        assert_eq!(outcome.stdout, expected, "{name}({k}): the oracle disagrees with the expected output");
    }
    let dir = Scratch::new(name);
    let file = dir.path(&format!("{name}.toy"));
    std::fs::write(&file, source).unwrap();
    let (n, n_stress) = (n.to_string(), n_stress.to_string());
    let mut stats = Vec::new();
    for level in ["-O0", "-O2"] {
        let (stdout, stderr, code) = jit(&file, &n, level, &STATS);
        assert_eq!((code, stdout.as_str()), (0, expected), "{name} {level}: {stderr}");
        stats.push(stderr);
        let (stdout, stderr, code) = jit(&file, &n_stress, level, &STRESS_ENV);
        assert_eq!((code, stdout.as_str()), (0, expected), "{name} {level} under stress: {stderr}");
        assert!(gc_stats(&stderr).major_collections > 3, "{name} {level}: {stderr}");
    }
    let exe = dir.path(name);
    let o = Command::new(env!("CARGO_BIN_EXE_cfree-toy")).arg("build").arg(&file).arg("-o").arg(&exe).output();
    let (_, stderr, code) = output(o.unwrap());
    assert_eq!(code, 0, "build: {stderr}");
    for (k, env) in [(&n, &STATS[..]), (&n_stress, &STRESS_ENV[..])] {
        let (stdout, stderr, code) = output(Command::new(&exe).arg(k).envs(env.iter().copied()).output().unwrap());
        assert_eq!((code, stdout.as_str()), (0, expected), "{name} executable ({env:?}): {stderr}");
    }
    stats
}

/// Old objects (promoted by `churn`) given young ones: a record field, a small
/// array's element and a large array's (allocated in the old space), then a
/// chain grown by storing each new box into the old one. Without the
/// remembered set, the young boxes are left in the nursery, which is reused.
const REMEMBERED: &str = "type Box { v: int, next: Box }

fn churn(k: int) -> int {
    let s = 0;
    let i = 0;
    while i < k {
        let b = new Box { v: i, next: nil };
        s = s + b.v;
        i = i + 1;
    }
    return s;
}

fn main(n: int) -> int {
    let old = new Box { v: 1, next: nil };
    let small = new [Box](8);
    let big = new [Box](20000);
    if churn(n) < 0 { print(\"never\"); }
    old.next = new Box { v: 42, next: nil };
    small[3] = new Box { v: 7, next: nil };
    big[19999] = new Box { v: 9, next: nil };
    if churn(n) < 0 { print(\"never\"); }
    print(old.next.v, \" \", small[3].v, \" \", big[19999].v);
    let i = 0;
    while i < 1000 {
        old.next = new Box { v: i, next: old.next };
        big[i] = old.next;
        i = i + 1;
    }
    if churn(n) < 0 { print(\"never\"); }
    let s = 0;
    let p = old.next;
    while p != nil {
        s = s + p.v;
        p = p.next;
    }
    let t = 0;
    for j in 0..1000 {
        t = t + big[j].v;
    }
    print(s, \" \", t);
    return 0;
}
";

#[test]
fn young_objects_referenced_only_from_old_ones_survive() {
    let stats = check("remembered", REMEMBERED, 200_000, 40, "42 7 9\n499542 499500\n");
    for stderr in stats {
        let s = gc_stats(&stderr);
        assert!(s.collections >= 6, "minor collections between the stores and the reads: {stderr}");
        assert!(s.dirty_cards >= 3, "the barrier marked the old objects' cards: {stderr}");
    }
}

/// A list of `n` boxes (promoted as it grows), checked, dropped; then large
/// arrays (allocated in the old space) until major collections reclaim it.
const SHRINK: &str = "type Node { v: int, next: Node }

fn build(n: int) -> Node {
    let head: Node = nil;
    for i in 0..n {
        head = new Node { v: i, next: head };
    }
    return head;
}

fn sum(p: Node) -> int {
    let s = 0;
    while p != nil {
        s = s + p.v;
        p = p.next;
    }
    return s;
}

fn main(n: int) -> int {
    let list = build(n);
    print(sum(list) == n * (n - 1) / 2);
    list = nil;
    let total = 0;
    for i in 0..200 {
        let a = new [int](40000);
        a[i] = i;
        total = total + a[i] + len(a);
    }
    print(total);
    let small = build(10);
    print(sum(small));
    return 0;
}
";

/// `NAME` in the statistics line: the number before ` NAME`.
fn stat(stderr: &str, name: &str) -> u64 {
    let line = stderr.lines().find(|l| l.starts_with("gc: ")).unwrap();
    let before = line.split(&format!(" {name}")).next().unwrap();
    before.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn the_heap_shrinks_once_a_large_structure_dies() {
    let n: i64 = 2_000_000; // 48 MB of boxes
    let expected = format!("true\n{}\n45\n", 199 * 200 / 2 + 200 * 40000);
    let stats = check("shrink", SHRINK, n, 3000, &expected);
    for stderr in stats {
        let (heap, peak) = (stat(&stderr, "KiB heap,"), stat(&stderr, "KiB heap peak"));
        assert!(peak >= 48 << 10, "the list was all live at once: {stderr}");
        assert!(heap * 3 < peak, "memory went back to the system: {stderr}");
        assert!(gc_stats(&stderr).major_collections >= 2, "{stderr}");
    }
}
