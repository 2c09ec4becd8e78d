//! The numeric Benchmarks Game programs ported to Toy (n-body, spectral-norm,
//! fannkuch-redux: floats, `sqrt`, shifts, `for`, `break`, globals, arrays of
//! records), against the outputs of the C programs in the shared test data:
//! through the JIT at O0 and O2, under GC stress, and as executables. Sizes
//! are small (the whole file takes seconds); `frontends/toy/bench/compare-c`
//! runs the benchmark sizes against gcc.

use std::path::Path;
use std::process::Command;

mod common;
use common::{example, gc_stats, shared_output, Scratch};

const PROGRAMS: [(&str, u32, u32); 3] = [("nbody", 1000, 100_000), ("spectralnorm", 100, 500), ("fannkuchredux", 7, 9)];

fn run(exe: &Path, args: &[&str], env: &[(&str, &str)]) -> (String, String, i32) {
    let o = Command::new(exe).args(args).envs(env.iter().copied()).output().expect("the program runs");
    (String::from_utf8(o.stdout).unwrap(), String::from_utf8(o.stderr).unwrap(), o.status.code().unwrap_or(-1))
}

fn cfree_toy() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cfree-toy"))
}

fn expect((stdout, stderr, code): (String, String, i32), expected: &str, what: &str) -> String {
    assert_eq!(code, 0, "{what}: {stderr}");
    assert!(stdout == expected, "{what}: got\n{stdout}expected\n{expected}");
    stderr
}

#[test]
fn jit_outputs_match_the_c_programs_at_o0_and_o2() {
    for (name, small, large) in PROGRAMS {
        let file = example(&format!("{name}.toy"));
        let file = file.to_str().unwrap();
        for level in ["-O0", "-O2"] {
            let out = run(cfree_toy(), &["run", file, &small.to_string(), level], &[]);
            expect(out, &shared_output(name, small), &format!("{name} {small} {level}"));
        }
        let out = run(cfree_toy(), &["run", file, &large.to_string(), "-O2"], &[]);
        expect(out, &shared_output(name, large), &format!("{name} {large} -O2"));
    }
}

#[test]
fn gc_stress_gives_identical_outputs() {
    for (name, small, _) in PROGRAMS {
        let file = example(&format!("{name}.toy"));
        for level in ["-O0", "-O2"] {
            let args = ["run", file.to_str().unwrap(), &small.to_string(), level];
            let stderr = expect(run(cfree_toy(), &args, &common::STRESS_ENV), &shared_output(name, small), name);
            let stats = gc_stats(&stderr);
            // Every allocation collects; the programs' arrays and records are live across them.
            assert!(stats.collections >= 3 && stats.copied > 0, "{name} {level}: {stderr}");
        }
    }
}

#[test]
fn executables_match_the_c_programs() {
    let dir = Scratch::new("benchmarks");
    for (name, small, large) in PROGRAMS {
        let exe = dir.path(name);
        let mut build = Command::new(cfree_toy());
        build.arg("build").arg(example(&format!("{name}.toy"))).arg("-o").arg(&exe).arg("-O2");
        let o = build.output().unwrap();
        assert!(o.status.success(), "building {name}: {}", String::from_utf8_lossy(&o.stderr));
        for n in [small, large] {
            expect(run(&exe, &[&n.to_string()], &[]), &shared_output(name, n), &format!("{name} {n} executable"));
        }
    }
}
