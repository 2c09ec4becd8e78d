//! The language features ordinary programs need (math built-ins, bitwise and
//! shift operators, `for`, `break`/`continue`, globals, `print`'s evaluation
//! order): each program's expected output is written out here, confirmed by
//! the reference interpreter (`oracle`), then compared with the compiled
//! program's through the JIT at O0 and O2, under GC stress where the program
//! holds references, and as an executable for globals. Then the checker's
//! errors for their misuse.

use std::path::Path;
use std::process::Command;

mod common;
mod oracle;
use common::{gc_stats, Scratch};

fn cfree_toy(args: &[&str], file: &Path, env: &[(&str, &str)]) -> (String, String, i32) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cfree-toy"));
    command.arg(args[0]).arg(file).args(&args[1..]).envs(env.iter().copied());
    let o = command.output().expect("cfree-toy runs");
    (String::from_utf8(o.stdout).unwrap(), String::from_utf8(o.stderr).unwrap(), o.status.code().unwrap_or(-1))
}

/// Checks `source`'s output for `main(n)` with the oracle, then compiled at O0
/// and O2 (and under GC stress at both if `stress`).
fn check(name: &str, source: &str, n: i64, expected: &str, stress: bool) {
    let program = cfree_toy::check(name, source)
        .unwrap_or_else(|errors| panic!("{}", cfree_toy::diag::render_all(&errors, source)));
    let outcome = oracle::run(&program, n).unwrap_or_else(|(e, out)| panic!("{name}: oracle: {e} after {out}"));
    assert_eq!(outcome.stdout, expected, "{name}: the oracle disagrees with the expected output");
    let dir = Scratch::new(name);
    let file = dir.path(&format!("{name}.toy"));
    std::fs::write(&file, source).unwrap();
    let n = n.to_string();
    for level in ["-O0", "-O2"] {
        let (stdout, stderr, code) = cfree_toy(&["run", &n, level], &file, &[]);
        assert_eq!((code, stdout.as_str()), (0, expected), "{name} {level}: {stderr}");
        if stress {
            let (stdout, stderr, code) = cfree_toy(&["run", &n, level], &file, &common::STRESS_ENV);
            assert_eq!((code, stdout.as_str()), (0, expected), "{name} {level} under stress: {stderr}");
            assert!(gc_stats(&stderr).collections > 3, "{name} {level}: collections under stress ({stderr})");
        }
    }
}

#[test]
fn math_builtins() {
    let source = "fn main(n: int) -> int {
    let x = float(n);
    print(sqrt(x), \" \", sqrt(2.0), \" \", sqrt(-0.0), \" \", sqrt(-1.0));
    print(abs(-x), \" \", abs(x), \" \", abs(-n), \" \", abs(n - 100), \" \", abs(-9223372036854775807 - 1));
    print(floor(2.5), \" \", floor(-2.5), \" \", ceil(2.5), \" \", ceil(-2.5), \" \", floor(x / 0.0));
    print(min(3, n), \" \", max(3, n), \" \", min(-1.5, x), \" \", max(-1.5, x));
    print(min(0.0, -0.0), \" \", max(-0.0, 0.0), \" \", min(1.0, 0.0 / 0.0), \" \", max(0.0 / 0.0, 1.0));
    return 0;
}
";
    let expected = "\
3.000000000 1.414213562 -0.000000000 nan
9.000000000 9.000000000 9 91 -9223372036854775808
2.000000000 -3.000000000 3.000000000 -2.000000000 inf
3 9 -1.500000000 9.000000000
-0.000000000 0.000000000 nan nan
";
    check("math", source, 9, expected, false);
}

#[test]
fn bitwise_and_shift_operators() {
    let source = "fn main(n: int) -> int {
    print(n & 6, \" \", n | 6, \" \", n ^ 6, \" \", ~n, \" \", ~0);
    print(1 << n, \" \", 1 << 64, \" \", 1 << 65, \" \", 1 << 63, \" \", 3 << -1);
    print(-64 >> n, \" \", -64 >>> 58, \" \", 64 >> 70, \" \", -1 >>> 0);
    print(1 + 2 << 3, \" \", 6 & 3 == 2, \" \", 1 | 2 ^ 3 & 4, \" \", n * 2 >> 1);
    print(true & false, \" \", true | false, \" \", true ^ true);
    return 0;
}
";
    let expected = "\
4 7 3 -6 -1
32 1 2 -9223372036854775808 -9223372036854775808
-2 63 1 -1
24 true 3 5
false true false
";
    check("bits", source, 5, expected, false);
}

#[test]
fn for_loops_break_and_continue() {
    let source = "fn bound(calls: [int]) -> int {
    calls[0] = calls[0] + 1;
    return 4;
}
fn main(n: int) -> int {
    let calls = new [int](1);
    let s = 0;
    for i in 0..bound(calls) {
        s = s * 10 + i;
        i = 100;
    }
    print(s, \" \", calls[0]);
    for i in 5..2 {
        print(\"never\");
    }
    let found = -1;
    for i in 0..n {
        if i % 2 == 0 {
            continue;
        }
        for j in 0..n {
            if j == 2 {
                break;
            }
            s = s + j;
        }
        if i * i > 20 {
            found = i;
            break;
        }
    }
    print(found, \" \", s);
    let k = 0;
    while true {
        k = k + 1;
        if k < 5 {
            continue;
        }
        break;
    }
    let total = 0;
    for v in 9223372036854775805..9223372036854775807 {
        total = total + v % 10;
    }
    print(k, \" \", total);
    return 0;
}
";
    // s: 0123, then 3 odd i (1, 3, 5) each add 0 + 1; total: 5 + 6.
    let expected = "123 1\n5 126\n5 11\n";
    check("loops", source, 10, expected, false);
}

#[test]
fn globals_hold_values_and_references_across_collections() {
    let (source, expected) = (common::GLOBALS_SOURCE, common::GLOBALS_OUTPUT);
    check("globals", source, 10, expected, true);

    // The executable registers its globals with the same runtime.
    let dir = Scratch::new("globals-exe");
    let file = dir.path("globals.toy");
    std::fs::write(&file, source).unwrap();
    let exe = dir.path("globals");
    let (_, stderr, code) = cfree_toy(&["build", "-o", exe.to_str().unwrap()], &file, &[]);
    assert_eq!(code, 0, "{stderr}");
    let o = Command::new(&exe).arg("10").envs(common::STRESS_ENV.iter().copied()).output().unwrap();
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert_eq!((o.status.code(), String::from_utf8(o.stdout).unwrap().as_str()), (Some(0), expected), "{stderr}");
    assert!(gc_stats(&stderr).collections > 10, "{stderr}");
}

#[test]
fn print_evaluates_every_argument_before_writing() {
    let source = "fn noisy(x: int) -> int {
    print(\"in noisy \", x);
    return x * 10;
}
fn main(n: int) -> int {
    print(\"a \", noisy(n), \" b \", noisy(n + 1), \" \", n > 1);
    return 0;
}
";
    check("print_order", source, 2, "in noisy 2\nin noisy 3\na 20 b 30 true\n", false);
}

#[test]
fn runtime_errors_in_global_initializers_and_backtraces_skip_the_entry() {
    let source = "let zero = 0;\nlet bad = 1 / zero;\nfn main(n: int) -> int {\n    return bad;\n}\n";
    let dir = Scratch::new("global-error");
    let file = dir.path("g.toy");
    std::fs::write(&file, source).unwrap();
    let (_, stderr, code) = cfree_toy(&["run", "0", "-O0"], &file, &[]);
    assert_eq!(code, 101, "{stderr}");
    let expected = format!("{}:2:11: runtime error: division by zero or overflow\n", file.display());
    assert_eq!(stderr, expected);
}

fn errors(source: &str) -> Vec<String> {
    match cfree_toy::check("e.toy", source) {
        Ok(_) => panic!("no error in {source}"),
        Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn misuse_is_a_clear_compile_error() {
    let main = |body: &str| format!("fn main(n: int) -> int {{\n{body}\n    return 0;\n}}\n");
    let cases = [
        (main("    break;"), "e.toy:2:5: error: `break` outside of a loop"),
        (main("    if n > 0 { continue; }"), "e.toy:2:16: error: `continue` outside of a loop"),
        (main("    for i in 0..1.5 { }"), "e.toy:2:17: error: a `for` range needs `int` bounds, found `float`"),
        (main("    let x = sqrt(n);"), "e.toy:2:18: error: `sqrt` expects a `float`, found `int`"),
        (
            main("    let x = min(1, 2.0);"),
            "e.toy:2:20: error: `min` expects two values of one type, found `int` and `float`",
        ),
        (
            main("    let x = max(true, false);"),
            "e.toy:2:17: error: `max` expects two `int`s or two `float`s, found `bool`",
        ),
        (main("    let x = abs(1, 2);"), "e.toy:2:13: error: `abs` takes 1 argument but 2 were given"),
        (main("    floor(1.5);"), "e.toy:2:5: error: the result of the built-in function `floor` must be used"),
        (main("    let x = 1.5 << 2.0;"), "e.toy:2:17: error: operator `<<` cannot be applied to `float`"),
        (main("    let x = true >> false;"), "e.toy:2:18: error: operator `>>` cannot be applied to `bool`"),
        (main("    let x = ~true;"), "e.toy:2:13: error: operator `~` cannot be applied to `bool`"),
        (main("    for i in 0..3 { i = 1; }\n    let y = i;"), "e.toy:3:13: error: unknown variable `i`"),
        ("let a = b;\nlet b = 1;\n".to_string() + &main(""), "e.toy:1:9: error: unknown variable `b`"),
        ("let a = 1;\nlet a = 2;\n".to_string() + &main(""), "e.toy:2:5: error: global `a` is declared twice"),
        ("let a = nil;\n".to_string() + &main(""), "e.toy:1:9: error: cannot infer the type of `nil` here"),
        (main("    for i in 0..3 { break; let x = 1; }"), "e.toy:2:28: error: unreachable statement"),
    ];
    for (source, expected) in cases {
        let found = errors(&source);
        assert_eq!(found.first().map(String::as_str), Some(expected), "{source}");
    }
    // A program's own function of a built-in's name takes precedence.
    let own =
        "fn min(a: int, b: int) -> int {\n    return a + b;\n}\nfn main(n: int) -> int {\n    return min(n, 1);\n}\n";
    let program = cfree_toy::check("own.toy", own).unwrap();
    assert_eq!(oracle::run(&program, 4).unwrap().exit, 5);
}
