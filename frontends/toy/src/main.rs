//! The `cfree-toy` command: `check`, `run` (JIT), and the `build` placeholder.
//!
//! Exit status: 0 success, 1 diagnostics or an unreadable file, 2 usage
//! errors and not-yet-implemented subcommands.

#![deny(unsafe_code)]

use std::process::ExitCode;

const USAGE: &str = "usage: cfree-toy check FILE
       cfree-toy run FILE [N]
       cfree-toy build FILE [-o OUTPUT]";

const NOT_IMPLEMENTED: &str =
    "not implemented yet: AOT executables (`build`) need the runtime as a static library; use `run`";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, file) = match args.as_slice() {
        [command, file, ..] if matches!(command.as_str(), "check" | "run" | "build") => (command.as_str(), file),
        [flag] if flag == "-h" || flag == "--help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if command == "check" && args.len() != 2 {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let source = match std::fs::read_to_string(file) {
        Ok(source) => source,
        Err(err) => {
            eprintln!("cfree-toy: cannot read {file}: {err}");
            return ExitCode::from(1);
        }
    };
    if let Err(diagnostics) = cfree_toy::check(file, &source) {
        eprint!("{}", cfree_toy::diag::render_all(&diagnostics, &source));
        return ExitCode::from(1);
    }
    if command == "check" {
        println!("ok");
        return ExitCode::SUCCESS;
    }
    if command == "build" {
        eprintln!("{NOT_IMPLEMENTED}");
        return ExitCode::from(2);
    }
    run(file, &source, &args[2..])
}

/// `run FILE [N] [-O0|-O1|-O2|-O3]`: JIT-compiles and runs `main(N)` (N defaults to 0).
fn run(file: &str, source: &str, rest: &[String]) -> ExitCode {
    let program = match cfree_toy::check(file, source) {
        Ok(p) => p,
        Err(_) => unreachable!("checked above"),
    };
    let mut n = 0i64;
    let mut level = cfree_llvm_lower::OptLevel::O2;
    for arg in rest {
        match arg.as_str() {
            "-O0" => level = cfree_llvm_lower::OptLevel::O0,
            "-O1" => level = cfree_llvm_lower::OptLevel::O1,
            "-O2" => level = cfree_llvm_lower::OptLevel::O2,
            "-O3" => level = cfree_llvm_lower::OptLevel::O3,
            other => match other.parse() {
                Ok(v) => n = v,
                Err(_) => {
                    eprintln!("cfree-toy: `{other}` is neither an integer argument nor -O0..-O3\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
        }
    }
    match cfree_toy::jit::run(&program, n, level, cfree_toy_rt::Settings::from_env()) {
        Ok(outcome) => {
            if std::env::var("CFREE_TOY_STATS").is_ok_and(|v| v == "1") {
                let s = outcome.stats;
                eprintln!(
                    "gc: {} collections, {} words copied, {} roots, {} words allocated, {} frames walked, {:.3} s collecting",
                    s.collections,
                    s.words_copied,
                    s.roots,
                    s.words_allocated,
                    s.frames_walked,
                    s.collect_nanos as f64 / 1e9
                );
            }
            ExitCode::from((outcome.result & 0xff) as u8)
        }
        Err(e) => {
            eprintln!("cfree-toy: {e}");
            ExitCode::from(1)
        }
    }
}
