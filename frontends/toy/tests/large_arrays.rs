//! Arrays whose size once did not fit the collector's object header: 2^23
//! references (the old 23-bit pointer count reached bit 63, which reads as
//! "already forwarded", and the first collection crashed), through the JIT at
//! O0 and O2 and as an executable, under GC stress; and arrays too large to
//! allocate, which are runtime errors with the allocation's position.

use std::path::Path;
use std::process::Command;

mod common;
use common::{gc_stats, Scratch, STRESS_ENV};

/// Fills the first and last of `n` references, then allocates twice more
/// (each allocation collects under stress) and reads them back.
const BIG_REF_ARRAY: &str = "type Cell { v: int }
fn main(n: int) -> int {
    let a = new [Cell](n);
    a[0] = new Cell { v: 1 };
    a[n - 1] = new Cell { v: 2 };
    let b = new [int](3);
    b[2] = len(a);
    print(a[0].v, \" \", a[n - 1].v, \" \", b[2]);
    return 0;
}
";

const N: i64 = 1 << 23;

fn output(o: std::process::Output) -> (String, String, i32) {
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (text(o.stdout), text(o.stderr), o.status.code().unwrap_or(-1))
}

fn jit(file: &Path, args: &[&str], env: &[(&str, &str)]) -> (String, String, i32) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cfree-toy"));
    command.arg("run").arg(file).args(args).envs(env.iter().copied());
    output(command.output().expect("cfree-toy runs"))
}

fn check_big_array_run((stdout, stderr, code): (String, String, i32), what: &str) {
    assert_eq!(code, 0, "{what}: {stderr}");
    assert_eq!(stdout, format!("1 2 {N}\n"), "{what}");
    let stats = gc_stats(&stderr);
    // The array itself (allocated in the old space, never copied), then three collections
    // with it live, each (under stress) a major one that scans it whole.
    assert!(stats.collections >= 4, "{what}: {stderr}");
    assert!(stats.major_collections >= 3, "{what}: {stderr}");
    assert!(stats.marked >= 3 * N as u64, "{what}: the array was marked and scanned ({stderr})");
}

#[test]
fn an_array_of_2_pow_23_references_survives_collections() {
    let dir = Scratch::new("big-ref-array");
    let file = dir.path("big.toy");
    std::fs::write(&file, BIG_REF_ARRAY).unwrap();
    let n = N.to_string();
    for level in ["-O0", "-O2"] {
        check_big_array_run(jit(&file, &[&n, level], &STRESS_ENV), &format!("JIT {level}"));
    }
    let exe = dir.path("big");
    let o = Command::new(env!("CARGO_BIN_EXE_cfree-toy")).arg("build").arg(&file).arg("-o").arg(&exe).output();
    let (_, stderr, code) = output(o.unwrap());
    assert_eq!(code, 0, "build: {stderr}");
    let o = Command::new(&exe).arg(&n).envs(STRESS_ENV.iter().copied()).output().unwrap();
    check_big_array_run(output(o), "executable -O2");
}

#[test]
fn arrays_too_large_to_allocate_are_runtime_errors_at_the_allocation() {
    let dir = Scratch::new("huge-array");
    let file = dir.path("huge.toy");
    std::fs::write(&file, "fn make(n: int) -> [int] {\n    return new [int](n);\n}\nfn main(n: int) -> int {\n    let a = make(n);\n    return len(a);\n}\n").unwrap();
    let at = format!("{}:2:12: runtime error: ", file.display());
    let caller = format!("    called from {}:5:13", file.display());
    // Over the language's limit: refused before any memory is requested.
    let (_, stderr, code) = jit(&file, &[&(1i64 << 50).to_string(), "-O0"], &[]);
    assert_eq!(code, 101, "{stderr}");
    let expected = format!("{at}array length {} exceeds the limit of {} elements", 1i64 << 50, (1i64 << 45) - 2);
    assert_eq!(stderr.lines().next(), Some(expected.as_str()), "{stderr}");
    assert_eq!(stderr.lines().nth(1), Some(caller.as_str()), "{stderr}");
    // Within the limit, but 2^40 elements need 32 TiB of semispace: the system's refusal is
    // reported (with Linux's default heuristic overcommit, a request beyond RAM + swap fails).
    let overcommit = std::fs::read_to_string("/proc/sys/vm/overcommit_memory").unwrap_or_default();
    if overcommit.trim() != "1" {
        for level in ["-O0", "-O2"] {
            let (_, stderr, code) = jit(&file, &[&(1i64 << 40).to_string(), level], &[]);
            assert_eq!(code, 101, "{stderr}");
            let expected = format!("{at}out of memory allocating an array of {} elements", 1i64 << 40);
            assert_eq!(stderr.lines().next(), Some(expected.as_str()), "{level}: {stderr}");
        }
    } else {
        eprintln!("vm.overcommit_memory = 1: the out-of-memory case is not checked");
    }
}
