//! Nil checks through the trap table: a nil dereference reports its kind,
//! position and managed call stack whether the check is implicit (a faulting
//! load resumed at the check's failure path by the runtime's fault handler)
//! or explicit (`CFREE_TOY_CHECKS=explicit`), at O0 and O2, in the JIT and in
//! executables. The O2 executable carries the trap table exactly when checks
//! are implicit.

use std::path::Path;
use std::process::Command;

mod common;
use common::Scratch;

const NIL_SOURCE: &str = "type N { next: N, v: int }
fn get(x: N) -> int {
    return x.v;
}
fn build(n: int) -> N {
    let head: N = nil;
    for i in 0..n { head = new N { next: head, v: i }; }
    return head;
}
fn walk(l: N, steps: int) -> int {
    let s = 0;
    let p = l;
    for i in 0..steps {
        s = s + get(p);
        p = p.next;
    }
    return s;
}
fn main(n: int) -> int {
    return walk(build(n), n + 1);
}
";

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

/// At O2 everything is inlined into the entry, whose frame is not shown.
fn check_nil_report(stderr: &str, code: Option<i32>, file: &Path, what: &str, inlined: bool) {
    assert_eq!(code, Some(101), "{what}: {stderr}");
    let first = format!("{}:3:12: runtime error: nil dereference", file.display());
    assert_eq!(stderr.lines().next(), Some(first.as_str()), "{what}: {stderr}");
    if !inlined {
        for (line, col) in [(14, 17), (20, 12)] {
            let call = format!("called from {}:{line}:{col}", file.display());
            assert!(stderr.contains(&call), "{what}: {call}: {stderr}");
        }
    }
}

#[test]
fn nil_dereferences_report_position_and_stack_with_either_lowering() {
    let dir = Scratch::new("traps");
    let file = dir.path("nil.toy");
    std::fs::write(&file, NIL_SOURCE).unwrap();
    for checks in ["implicit", "explicit"] {
        for level in ["-O0", "-O2"] {
            let what = format!("{checks} {level}");
            let out = Command::new(env!("CARGO_BIN_EXE_cfree-toy"))
                .args(["run"])
                .arg(&file)
                .args(["3", level])
                .env("CFREE_TOY_CHECKS", checks)
                .output()
                .unwrap();
            check_nil_report(&text(out.stderr), out.status.code(), &file, &format!("JIT {what}"), level == "-O2");

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
            let inlined = level == "-O2";
            check_nil_report(&text(out.stderr), out.status.code(), &file, &format!("executable {what}"), inlined);

            let sites = cfree_toy_rt::aot::read_trap_sites(&exe).unwrap();
            if level == "-O2" {
                assert_eq!(!sites.is_empty(), checks == "implicit", "{what}: trap sites {sites:?}");
            }
        }
    }
}
