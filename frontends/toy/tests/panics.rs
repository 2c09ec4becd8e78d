//! `panic`, `defer` and `recover` (doc/toy.md, doc/runtime.md "Panics, defer
//! and recover"): through the JIT and as executables, at O0 and O2, with and
//! without GC stress. Expected outputs are written by hand from Go's
//! semantics: deferred calls run in reverse order on return and on panic,
//! `recover` in a deferred call stops the panic and the recovering function
//! returns its zero value, a panic raised while another unwinds carries it
//! as its predecessor, an unrecovered panic reports and exits with 101.

use std::path::Path;
use std::process::Command;

mod common;
use common::{example, gc_stats, Scratch};

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

/// `(stdout, stderr, status)` of `file` run with `n` in every mode: the JIT
/// and an executable, O0 and O2, with and without GC stress (statistics on).
fn every_mode(dir: &Scratch, file: &Path, n: &str) -> Vec<(String, (String, String, i32))> {
    let mut runs = Vec::new();
    for level in ["-O0", "-O2"] {
        let exe = dir.path(&format!("{}{level}", file.file_stem().unwrap().to_string_lossy()));
        let built = Command::new(env!("CARGO_BIN_EXE_cfree-toy"))
            .arg("build")
            .arg(file)
            .arg("-o")
            .arg(&exe)
            .arg(level)
            .output()
            .unwrap();
        assert!(built.status.success(), "{level}: {}", text(built.stderr));
        for stress in ["0", "1"] {
            let env = [("CFREE_GC_STRESS", stress), ("CFREE_TOY_STATS", "1")];
            let jit = Command::new(env!("CARGO_BIN_EXE_cfree-toy"))
                .arg("run")
                .arg(file)
                .args([n, level])
                .envs(env)
                .output()
                .unwrap();
            let aot = Command::new(&exe).arg(n).envs(env).output().unwrap();
            for (how, out) in [("JIT", jit), ("executable", aot)] {
                let what = format!("{how} {level} stress={stress}");
                runs.push((what, (text(out.stdout), text(out.stderr), out.status.code().unwrap_or(-1))));
            }
        }
    }
    runs
}

#[test]
fn recover_example_resumes_and_continues_in_every_mode() {
    let dir = Scratch::new("panics-example");
    let expected = std::fs::read_to_string(example("recover.10.out")).unwrap();
    for (what, (stdout, stderr, code)) in every_mode(&dir, &example("recover.toy"), "10") {
        assert_eq!(code, 0, "{what}: {stderr}");
        assert_eq!(stdout, expected, "{what}");
        let stats = gc_stats(&stderr);
        if what.ends_with("stress=1") {
            // churn allocates during four unwinds: every allocation collected.
            assert!(stats.collections > 200 && stats.copied > 0, "{what}: {stderr}");
        }
    }
}

/// `inner` panics under two frames with defers; nothing recovers.
const UNRECOVERED: &str = "fn cleanup(k: int) {
    print(\"cleanup \", k);
}
fn inner(n: int) -> int {
    defer cleanup(2);
    if n > 0 {
        panic(\"unrecovered\");
    }
    return 1;
}
fn outer(n: int) -> int {
    defer cleanup(1);
    return inner(n) + 1;
}
fn main(n: int) -> int {
    print(\"start\");
    return outer(n);
}
";

#[test]
fn an_unrecovered_panic_runs_the_defers_then_reports_and_exits_101() {
    let dir = Scratch::new("panics-unrecovered");
    let file = dir.path("unrecovered.toy");
    std::fs::write(&file, UNRECOVERED).unwrap();
    let f = file.display();
    for (what, (stdout, stderr, code)) in every_mode(&dir, &file, "1") {
        assert_eq!(code, 101, "{what}: {stderr}");
        assert_eq!(stdout, "start\ncleanup 2\ncleanup 1\n", "{what}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("gc: ")).collect();
        assert_eq!(lines[0], format!("{f}:7:9: panic: unrecovered"), "{what}: {stderr}");
        let callers = [format!("    called from {f}:13:12"), format!("    called from {f}:17:12")];
        if what.contains("-O0") {
            assert_eq!(lines[1..], callers, "{what}: {stderr}");
        } else {
            // Inlined calls have no frames: a subsequence.
            let mut rest = callers.iter();
            assert!(lines[1..].iter().all(|l| rest.any(|c| c == l)), "{what}: {stderr}");
        }
    }
    // n = 0: no panic, both defers on the normal return; status is main's result.
    let out = Command::new(env!("CARGO_BIN_EXE_cfree-toy")).arg("run").arg(&file).arg("0").output().unwrap();
    assert_eq!((text(out.stdout), out.status.code()), ("start\ncleanup 2\ncleanup 1\n".into(), Some(2)));
}

/// A division by zero in `f`; while it unwinds, `f`'s deferred call panics.
const NESTED: &str = "fn explode() {
    panic(\"second\");
}
fn f(n: int) -> int {
    defer explode();
    return 10 / n;
}
fn main(n: int) -> int {
    print(\"before\");
    return f(n);
}
";

#[test]
fn a_panic_in_a_deferred_call_while_unwinding_reports_both() {
    let dir = Scratch::new("panics-nested");
    let file = dir.path("nested.toy");
    std::fs::write(&file, NESTED).unwrap();
    let f = file.display();
    for (what, (stdout, stderr, code)) in every_mode(&dir, &file, "0") {
        assert_eq!(code, 101, "{what}: {stderr}");
        assert_eq!(stdout, "before\n", "{what}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("gc: ")).collect();
        let first = format!("{f}:2:5: panic: second");
        let previous = format!(
            "{f}:6:12: runtime error: division by zero or overflow [interrupted by the panic above, in a deferred call]"
        );
        if what.contains("-O0") {
            let expected = [
                first,
                format!("    called from {f}:5:5"),
                format!("    called from {f}:10:12"),
                previous,
                format!("    called from {f}:10:12"),
            ];
            assert_eq!(lines, expected, "{what}: {stderr}");
        } else {
            assert_eq!(lines[0], first, "{what}: {stderr}");
            assert!(lines.contains(&previous.as_str()), "{what}: {stderr}");
        }
    }
}

/// A nil dereference through the implicit check (the trap table at O2) and
/// through an explicit one, recovered by a deferred call. (The loaded value
/// is used before the flag check of the inlined call `show`: otherwise LLVM
/// sinks the access below that check and the nil check stays explicit,
/// `doc/runtime.md`.)
const NIL_RECOVERED: &str = "type N { next: N, v: int }
fn guard() {
    print(\"recover: \", recover());
}
fn show(x: N) {
    print(x.v);
}
fn safe_show(x: N) {
    defer guard();
    show(x);
}
fn build(n: int) -> N {
    let head: N = nil;
    for i in 0..n { head = new N { next: head, v: i + 1 }; }
    return head;
}
fn main(n: int) -> int {
    let l = build(n - 1);
    safe_show(l);
    safe_show(l.next.next);
    safe_show(l.next);
    return 0;
}
";

#[test]
fn a_nil_dereference_is_recovered_with_implicit_and_explicit_checks() {
    let dir = Scratch::new("panics-nil");
    let file = dir.path("nil.toy");
    std::fs::write(&file, NIL_RECOVERED).unwrap();
    let expected = "2\nrecover: false\nrecover: true\n1\nrecover: false\n";
    for checks in ["implicit", "explicit"] {
        for level in ["-O0", "-O2"] {
            let out = Command::new(env!("CARGO_BIN_EXE_cfree-toy"))
                .arg("run")
                .arg(&file)
                .args(["3", level])
                .env("CFREE_TOY_CHECKS", checks)
                .output()
                .unwrap();
            let what = format!("JIT {checks} {level}");
            assert_eq!(out.status.code(), Some(0), "{what}: {}", text(out.stderr));
            assert_eq!(text(out.stdout), expected, "{what}");
            let exe = dir.path(&format!("nil-{checks}{level}"));
            let built = Command::new(env!("CARGO_BIN_EXE_cfree-toy"))
                .arg("build")
                .arg(&file)
                .arg("-o")
                .arg(&exe)
                .arg(level)
                .env("CFREE_TOY_CHECKS", checks)
                .output()
                .unwrap();
            assert!(built.status.success(), "{what}: {}", text(built.stderr));
            let out = Command::new(&exe).arg("3").output().unwrap();
            assert_eq!(out.status.code(), Some(0), "executable {what}: {}", text(out.stderr));
            assert_eq!(text(out.stdout), expected, "executable {what}");
            if level == "-O2" && checks == "implicit" {
                let sites = cfree_toy_rt::aot::read_trap_sites(&exe).unwrap();
                assert!(!sites.is_empty(), "the nil check went through the trap table");
            }
        }
    }
}

/// Every misuse is a compile error with its message.
#[test]
fn misuse_is_a_compile_error() {
    let cases = [
        (
            "fn f() {}\nfn main(n: int) -> int {\n    while true { defer f(); }\n    return 0;\n}\n",
            "3:18",
            "`defer` is allowed only at the top level of a function body",
        ),
        (
            "fn main(n: int) -> int {\n    if n > 0 {\n        defer main(1);\n    }\n    return 0;\n}\n",
            "3:9",
            "`defer` is allowed only at the top level",
        ),
        (
            "fn main(n: int) -> int {\n    defer n + 1;\n    return 0;\n}\n",
            "2:11",
            "`defer` needs a call of a function declared in the program",
        ),
        (
            "fn main(n: int) -> int {\n    defer sqrt(1.0);\n    return 0;\n}\n",
            "2:11",
            "`defer` needs a call of a function",
        ),
        ("fn main(n: int) -> int {\n    panic(n);\n}\n", "2:11", "`panic` needs a string literal message, found `int`"),
        (
            "fn main(n: int) -> int {\n    panic(\"a\", \"b\");\n}\n",
            "2:5",
            "`panic` takes 1 string literal message but 2 were given",
        ),
        (
            "fn main(n: int) -> int {\n    panic();\n}\n",
            "2:5",
            "`panic` takes 1 string literal message but 0 were given",
        ),
        (
            "fn main(n: int) -> int {\n    let r = recover(1);\n    return 0;\n}\n",
            "2:13",
            "`recover` takes no arguments but 1 was given",
        ),
        (
            "fn main(n: int) -> int {\n    let r: int = recover();\n    return 0;\n}\n",
            "2:18",
            "expected `int`, found `bool`",
        ),
        ("fn main(n: int) -> int {\n    panic(\"x\");\n    return 0;\n}\n", "3:5", "unreachable statement"),
        ("fn main(n: int) -> int {\n    let defer = 1;\n    return 0;\n}\n", "2:9", "expected a variable name"),
    ];
    for (source, at, message) in cases {
        let errors = cfree_toy::check("t.toy", source).expect_err(source);
        let rendered = cfree_toy::diag::render_all(&errors, source);
        assert!(rendered.contains(&format!("t.toy:{at}: error: ")), "{source}: {rendered}");
        assert!(rendered.contains(message), "{source}: {rendered}");
    }
    // `recover();` as a statement, and a function that ends in `panic` needs no `return`.
    let ok =
        "fn f() -> int {\n    recover();\n    panic(\"no value\");\n}\nfn main(n: int) -> int {\n    return 0;\n}\n";
    cfree_toy::check("t.toy", ok).unwrap_or_else(|e| panic!("{}", cfree_toy::diag::render_all(&e, ok)));
}
