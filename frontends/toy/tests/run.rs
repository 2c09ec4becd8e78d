//! Toy programs compiled through the CG facade and run in the JIT by the
//! `cfree-toy` binary, with the moving collector of `cfree-toy-rt`: outputs
//! compared with the reference outputs (the Benchmarks Game's for
//! binary-trees), at O0 and O2, and under GC stress (a collection at every
//! allocation) with the collector's statistics checked.

use std::path::PathBuf;
use std::process::Command;

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples").join(name)
}

fn shared_binarytrees(n: u32) -> Option<String> {
    let dir = std::env::var("CFREE_SHARED_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata"));
    let path = dir.join(format!("bench/binarytrees/generated/{n}_out"));
    std::fs::read_to_string(&path).ok()
}

fn run(file: &str, args: &[&str], env: &[(&str, &str)]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_cfree-toy"))
        .arg("run")
        .arg(example(file))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("cfree-toy runs");
    (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap(), out.status.code().unwrap_or(-1))
}

fn expect(file: &str, args: &[&str], expected: &str) {
    let (stdout, stderr, code) = run(file, args, &[]);
    assert_eq!(code, 0, "{file} {args:?}: {stderr}");
    assert_eq!(stdout, expected, "{file} {args:?}");
}

#[test]
fn binarytrees_matches_the_reference_at_o0_and_o2() {
    for n in [10u32, 16] {
        let expected = shared_binarytrees(n).unwrap_or_else(|| {
            panic!("../shared/testdata/bench/binarytrees/generated/{n}_out is absent (set CFREE_SHARED_TESTDATA)")
        });
        let n_arg = n.to_string();
        expect("binarytrees.toy", &[&n_arg, "-O2"], &expected);
        if n == 10 {
            expect("binarytrees.toy", &[&n_arg, "-O0"], &expected);
        }
    }
}

#[test]
fn peano_and_basics_match_their_outputs() {
    let read = |f: &str| std::fs::read_to_string(example(f)).unwrap();
    for level in ["-O0", "-O2"] {
        expect("peano.toy", &["9", level], &read("peano.9.out"));
        expect("basics.toy", &["5", level], &read("basics.5.out"));
    }
}

#[test]
fn gc_stress_gives_identical_output_and_really_moves_objects() {
    let expected = std::fs::read_to_string(example("binarytrees.4.out")).unwrap();
    for level in ["-O0", "-O2"] {
        let (stdout, stderr, code) =
            run("binarytrees.toy", &["6", level], &[("CFREE_GC_STRESS", "1"), ("CFREE_TOY_STATS", "1")]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stdout, expected, "stress at {level}");
        // gc: C collections, W words copied, R roots, A words allocated
        let nums: Vec<u64> =
            stderr.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
        let (collections, copied, roots) = (nums[0], nums[1], nums[2]);
        assert!(collections > 1000, "a collection per allocation ({stderr})");
        assert!(copied > collections, "live objects were copied ({stderr})");
        assert!(roots > collections, "roots came from stack maps ({stderr})");
    }
}

#[test]
fn runtime_errors_name_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("cfree-toy-rt-err-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("nil.toy");
    std::fs::write(
        &file,
        "type N { next: N }\nfn main(n: int) -> int {\n    let x: N = nil;\n    let y = x.next;\n    return 0;\n}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cfree-toy")).arg("run").arg(&file).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(101), "{stderr}");
    assert!(stderr.contains("nil.toy:4:13: runtime error: nil dereference"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn runtime_errors_show_the_managed_call_stack_from_safepoint_ids() {
    let dir = std::env::temp_dir().join(format!("cfree-toy-rt-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("deep.toy");
    // main calls f at 8:12, f calls g at 5:12, g divides by zero at 2:12 (the division).
    let source = "fn g(d: int) -> int {\n    return 1 / d;\n}\nfn f(d: int) -> int {\n    return g(d) + 1;\n}\nfn main(n: int) -> int {\n    return f(n - n);\n}\n";
    std::fs::write(&file, source).unwrap();
    for level in ["-O0", "-O2"] {
        let out = Command::new(env!("CARGO_BIN_EXE_cfree-toy")).arg("run").arg(&file).arg(level).output().unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(101), "{stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert!(lines[0].ends_with("deep.toy:2:12: runtime error: division by zero or overflow"), "{stderr}");
        let callers: Vec<&str> = lines[1..].iter().map(|l| l.rsplit('/').next().unwrap()).collect();
        if level == "-O0" {
            assert_eq!(callers, ["deep.toy:5:12", "deep.toy:8:12"], "g's caller, then f's: {stderr}");
        } else {
            // LLVM inlines g and f at O2: their call sites have no frames, the rest stay in order.
            let expected = ["deep.toy:5:12", "deep.toy:8:12"];
            let mut rest = expected.iter();
            assert!(callers.iter().all(|c| rest.any(|e| e == c)), "a subsequence of {expected:?}: {stderr}");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn reference_stores_go_through_the_checked_card_marking_barrier() {
    let expected = std::fs::read_to_string(example("basics.5.out")).unwrap();
    let (stdout, stderr, code) =
        run("basics.toy", &["5", "-O2"], &[("CFREE_GC_STRESS", "1"), ("CFREE_TOY_STATS", "1")]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, expected);
    let line = stderr.lines().find(|l| l.starts_with("gc: ")).expect("statistics");
    let field = |name: &str| -> u64 {
        let before = line.split(&format!(" {name}")).next().unwrap();
        before.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert!(field("barriers") > 0, "stores of references into objects call the barrier: {line}");
    assert!(field("dirty") > 0, "collections find the cards the barrier marked: {line}");
}
