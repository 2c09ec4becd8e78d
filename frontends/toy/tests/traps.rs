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
                .env("CFREE_TOY_POLLS", "off")
                .output()
                .unwrap();
            assert!(built.status.success(), "{what}: {}", text(built.stderr));
            let out = Command::new(&exe).arg("3").output().unwrap();
            let inlined = level == "-O2";
            check_nil_report(&text(out.stderr), out.status.code(), &file, &format!("executable {what}"), inlined);

            let sites = cfree_toy_rt::aot::read_trap_sites(&exe).unwrap();
            if level == "-O2" {
                // Built without polls: `walk`'s loop is a `for`, whose strip-mined chunks
                // would keep the panic-flag check of the inlined `get` between the nil check
                // and the load, which stops the implicit check (`doc/runtime.md`,
                // "Safepoint polls"); `loops_keep_implicit_nil_checks` covers polled loops.
                assert_eq!(!sites.is_empty(), checks == "implicit", "{what}: trap sites {sites:?}");
            }
        }
    }
}

/// The loop of `walk` as a `while`, which polls at every iteration, keeps the
/// inlined access's implicit nil check at O2: the poll call promises not to
/// touch the panic flag (a call-site noalias scope), so the flag's check is
/// hoisted out of the loop.
#[test]
fn loops_keep_implicit_nil_checks() {
    let dir = Scratch::new("traps-loops");
    let while_source =
        NIL_SOURCE.replace("    for i in 0..steps {\n", "    let i = 0;\n    while i < steps {\n        i = i + 1;\n");
    assert_ne!(while_source, NIL_SOURCE);
    let (name, source) = ("while", while_source.as_str());
    let file = dir.path(&format!("{name}.toy"));
    std::fs::write(&file, source).unwrap();
    let exe = dir.path(name);
    let built = Command::new(env!("CARGO_BIN_EXE_cfree-toy"))
        .arg("build")
        .arg(&file)
        .args(["-O2", "-o"])
        .arg(&exe)
        .env("CFREE_TOY_POLLS", "on")
        .output()
        .unwrap();
    assert!(built.status.success(), "{name}: {}", text(built.stderr));
    let out = Command::new(&exe).arg("3").output().unwrap();
    check_nil_report(&text(out.stderr), out.status.code(), &file, name, true);
    let sites = cfree_toy_rt::aot::read_trap_sites(&exe).unwrap();
    assert!(!sites.is_empty(), "{name}: no implicit nil check");
}
