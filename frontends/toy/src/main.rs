//! The `cfree-toy` command: `check`, `run` (JIT) and `build` (an AOT
//! executable for x86-64 or AArch64 Linux, linked by `cc` or
//! `aarch64-linux-gnu-gcc` with the runtime library `libcfree_toy_rt.a` of
//! the same target, found beside this executable or at `$CFREE_TOY_RT_LIB`).
//!
//! Exit status: for `run`, `main`'s result modulo 256; otherwise 0 success,
//! 1 diagnostics, an unreadable file or a failed build (code generation,
//! runtime library, linking), 2 usage errors.

#![deny(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cfree_llvm_lower::OptLevel;

const USAGE: &str = "usage: cfree-toy check FILE
       cfree-toy run FILE [N] [-O0|-O1|-O2|-O3|--tiered] [-g0]
                       (--tiered: start at O0, move to O2 compiled in the background)
       cfree-toy build FILE [-o OUTPUT] [-O0|-O1|-O2|-O3] [-g0] [--target x86_64-unknown-linux-gnu|aarch64-unknown-linux-gnu]
                       (OUTPUT defaults to FILE's stem, the target to the host;
                        debug information is on unless -g0)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, file, rest) = match args.as_slice() {
        [command, file, rest @ ..] if matches!(command.as_str(), "check" | "run" | "build") => {
            (command.as_str(), file, rest)
        }
        [flag] if flag == "-h" || flag == "--help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => return usage(None),
    };
    // Debug information is on by default; `-g` says so explicitly, `-g0` turns it off.
    let options = cfree_toy::codegen::Options { debug_info: !rest.iter().any(|a| a == "-g0"), ..Default::default() };
    let rest: Vec<String> = rest.iter().filter(|a| *a != "-g0" && *a != "-g").cloned().collect();
    let rest = rest.as_slice();
    let action = match command {
        "check" if rest.is_empty() => Action::Check,
        "check" => return usage(None),
        "run" if rest.iter().any(|a| a == "--tiered") => match run_options(rest) {
            Ok((n, None)) => Action::RunTiered { n },
            Ok((_, Some(_))) => return usage(Some("--tiered chooses the levels: no -O option with it")),
            Err(e) => return usage(Some(&e)),
        },
        "run" => match run_options(rest) {
            Ok((n, level)) => Action::Run { n, level: level.unwrap_or(OptLevel::O2) },
            Err(e) => return usage(Some(&e)),
        },
        _ => match build_options(file, rest) {
            Ok((out, level, target)) => Action::Build { out, level, target },
            Err(e) => return usage(Some(&e)),
        },
    };
    let source = match std::fs::read_to_string(file) {
        Ok(source) => source,
        Err(err) => {
            eprintln!("cfree-toy: cannot read {file}: {err}");
            return ExitCode::from(1);
        }
    };
    let program = match cfree_toy::check(file, &source) {
        Ok(program) => program,
        Err(diagnostics) => {
            eprint!("{}", cfree_toy::diag::render_all(&diagnostics, &source));
            return ExitCode::from(1);
        }
    };
    match action {
        Action::Check => {
            println!("ok");
            ExitCode::SUCCESS
        }
        Action::Run { n, level } => run(&program, n, level, &options),
        Action::RunTiered { n } => run_tiered(&program, n, &options),
        Action::Build { out, level, target } => match cfree_toy::aot::build(&program, level, &out, &target, &options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("cfree-toy: {e}");
                ExitCode::from(1)
            }
        },
    }
}

enum Action {
    Check,
    Run { n: i64, level: OptLevel },
    RunTiered { n: i64 },
    Build { out: PathBuf, level: OptLevel, target: cfree_toy::aot::Target },
}

fn usage(problem: Option<&str>) -> ExitCode {
    match problem {
        Some(p) => eprintln!("cfree-toy: {p}\n{USAGE}"),
        None => eprintln!("{USAGE}"),
    }
    ExitCode::from(2)
}

fn opt_level(arg: &str) -> Option<OptLevel> {
    match arg {
        "-O0" => Some(OptLevel::O0),
        "-O1" => Some(OptLevel::O1),
        "-O2" => Some(OptLevel::O2),
        "-O3" => Some(OptLevel::O3),
        _ => None,
    }
}

/// `run FILE [N] [-O0|-O1|-O2|-O3|--tiered]`: N defaults to 0, the level to
/// -O2 (`None` here).
fn run_options(rest: &[String]) -> Result<(i64, Option<OptLevel>), String> {
    let mut n = 0i64;
    let mut level = None;
    for arg in rest.iter().filter(|a| *a != "--tiered") {
        match opt_level(arg) {
            Some(l) => level = Some(l),
            None => n = arg.parse().map_err(|_| format!("`{arg}` is neither an integer argument nor -O0..-O3"))?,
        }
    }
    Ok((n, level))
}

/// `build FILE [-o OUTPUT] [-O0|-O1|-O2|-O3] [--target TRIPLE]`: OUTPUT
/// defaults to FILE's stem (in the current directory), the level to -O2, the
/// target to the host.
fn build_options(file: &str, rest: &[String]) -> Result<(PathBuf, OptLevel, cfree_toy::aot::Target), String> {
    let mut out = None;
    let mut level = OptLevel::O2;
    let mut triple = None;
    let mut args = rest.iter();
    while let Some(arg) = args.next() {
        if let Some(l) = opt_level(arg) {
            level = l;
        } else if arg == "-o" {
            let path = args.next().ok_or("-o needs an output file name")?;
            out = Some(PathBuf::from(path));
        } else if arg == "--target" {
            triple = Some(args.next().ok_or("--target needs a target triple")?.as_str());
        } else {
            return Err(format!("`{arg}` is neither -o OUTPUT, -O0..-O3 nor --target TRIPLE"));
        }
    }
    let target = cfree_toy::aot::Target::new(triple)?;
    let out = match out {
        Some(out) => out,
        None => Path::new(file)
            .file_stem()
            .map(PathBuf::from)
            .ok_or_else(|| format!("cannot name the executable after `{file}`: use -o OUTPUT"))?,
    };
    if same_file(&out, Path::new(file)) {
        return Err(format!("the executable would overwrite the source file `{file}`: use -o OUTPUT"));
    }
    Ok((out, level, target))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Runs `main(n)` in two tiers; `CFREE_TOY_STATS=1` also reports when each was ready.
fn run_tiered(program: &cfree_toy::TypedProgram, n: i64, options: &cfree_toy::codegen::Options) -> ExitCode {
    // A test switch: start `main` only once the top tier is in place.
    let wait = std::env::var("CFREE_TOY_TIER_WAIT").is_ok_and(|v| v == "1");
    match cfree_toy::jit::run_tiered(program, n, cfree_toy_rt::Settings::from_env(), options, wait) {
        Ok((outcome, tiers)) => {
            if std::env::var("CFREE_TOY_STATS").is_ok_and(|v| v == "1") {
                eprintln!("{}", outcome.stats);
                eprintln!("{tiers}");
            }
            if let Some(e) = &tiers.top_error {
                eprintln!("cfree-toy: warning: the program ran in the base tier only: {e}");
            }
            ExitCode::from((outcome.result & 0xff) as u8)
        }
        Err(e) => {
            eprintln!("cfree-toy: {e}");
            ExitCode::from(1)
        }
    }
}

/// JIT-compiles and runs `main(n)`.
fn run(program: &cfree_toy::TypedProgram, n: i64, level: OptLevel, options: &cfree_toy::codegen::Options) -> ExitCode {
    match cfree_toy::jit::run(program, n, level, cfree_toy_rt::Settings::from_env(), options) {
        Ok(outcome) => {
            if std::env::var("CFREE_TOY_STATS").is_ok_and(|v| v == "1") {
                eprintln!("{}", outcome.stats);
                eprintln!("jit: main started at {:.1} ms", outcome.ready.as_secs_f64() * 1e3);
            }
            ExitCode::from((outcome.result & 0xff) as u8)
        }
        Err(e) => {
            eprintln!("cfree-toy: {e}");
            ExitCode::from(1)
        }
    }
}
