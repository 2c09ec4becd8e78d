//! Safepoint polls at loop heads: a collection requested by another thread
//! (`CFREE_TOY_GC_REQUEST_MS`, the runtime's requester) is answered while a
//! loop that never allocates runs, through the JIT and in an executable, at
//! O0 and O2, for `while` loops (a poll per iteration) and strip-mined `for`
//! loops (a poll per chunk); with `CFREE_TOY_POLLS=off` none is, which is
//! what the polls are for. The collections really move the live object.

use std::process::Command;

mod common;
use common::Scratch;

const WHILE_SOURCE: &str = "type Node { next: Node, value: int }
fn main(n: int) -> int {
    let keep = new Node { next: nil, value: 7 };
    let s = 0;
    let i = 0;
    while i < n {
        s = s + i % 7;
        i = i + 1;
    }
    print(s, \" \", keep.value);
    return 0;
}
";

const FOR_SOURCE: &str = "type Node { next: Node, value: int }
fn main(n: int) -> int {
    let keep = new Node { next: nil, value: 7 };
    let s = 0;
    for i in 0..n {
        s = s + i % 7;
    }
    print(s, \" \", keep.value);
    return 0;
}
";

/// `sum(i % 7 for i < n)`, as the programs print it.
fn expected(n: i64) -> String {
    let s: i64 = (0..n).map(|i| i % 7).sum();
    format!("{s} 7\n")
}

/// `(requests answered, collections)` from the statistics line.
fn answered(stderr: &str) -> (u64, u64) {
    (common::gc_stat(stderr, "requests answered"), common::gc_stats(stderr).collections)
}

fn run(args: &[&str], exe: Option<&std::path::Path>, polls: &str) -> (String, String) {
    let mut cmd = match exe {
        Some(exe) => Command::new(exe),
        None => Command::new(env!("CARGO_BIN_EXE_cfree-toy")),
    };
    let out = cmd
        .args(args)
        .env("CFREE_TOY_GC_REQUEST_MS", "1")
        .env("CFREE_TOY_STATS", "1")
        .env("CFREE_TOY_POLLS", polls)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn loops_answer_collections_requested_by_another_thread() {
    let dir = Scratch::new("polls");
    // Loops long enough (tens of milliseconds or more) to outlast a request interval.
    let n = 30_000_000i64;
    for (name, source) in [("while.toy", WHILE_SOURCE), ("for.toy", FOR_SOURCE)] {
        let file = dir.path(name);
        std::fs::write(&file, source).unwrap();
        let file = file.to_str().unwrap();
        for (level, n) in [("-O0", n), ("-O2", 10 * n)] {
            let (stdout, stderr) = run(&["run", file, &n.to_string(), level], None, "on");
            assert_eq!(stdout, expected(n), "{name} {level}");
            let (requests, collections) = answered(&stderr);
            assert!(requests >= 1, "{name} {level}: no request answered during the loop: {stderr}");
            assert!(collections >= requests, "{name} {level}: {stderr}");
        }
        // Without polls the loop holds every request off until it ends (none is answered:
        // the run finishes first).
        let (stdout, stderr) = run(&["run", file, &n.to_string(), "-O0"], None, "off");
        assert_eq!(stdout, expected(n));
        assert_eq!(answered(&stderr).0, 0, "{name}: {stderr}");
    }
}

#[test]
fn executables_answer_requests_too() {
    let dir = Scratch::new("polls-aot");
    let file = dir.path("for.toy");
    std::fs::write(&file, FOR_SOURCE).unwrap();
    let exe = dir.path("for");
    let built = Command::new(env!("CARGO_BIN_EXE_cfree-toy"))
        .arg("build")
        .arg(&file)
        .args(["-O2", "-o"])
        .arg(&exe)
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let n = 200_000_000i64;
    let (stdout, stderr) = run(&[&n.to_string()], Some(&exe), "on");
    assert_eq!(stdout, expected(n));
    assert!(answered(&stderr).0 >= 1, "{stderr}");
}
