//! `cfree-wasm`: run wasm modules and `.wast` scripts through cfree-llvm.
//!
//! ```text
//! cfree-wasm test [-O0|-O2] [-v] FILE.wast...        pass/fail counts per file
//! cfree-wasm run [-O0|-O2] FILE.wasm|FILE.wat --invoke NAME [ARGS...]
//! cfree-wasm compile [-O0|-O2] [--target TRIPLE] FILE.wasm -o OUT.o
//! ```

use std::process::ExitCode;

use cfree_facade::TargetSpec;
use cfree_llvm_lower::OptLevel;
use cfree_wasm::compile::BoundsChecks;
use cfree_wasm::decode::ValType;
use cfree_wasm::runtime::{run_on_wasm_thread, spectest::Spectest, Extern, Options, Store, Val};

const USAGE: &str = "usage:
  cfree-wasm test [-O0|-O2] [-v] FILE.wast...
  cfree-wasm run [-O0|-O2] [--no-bounds-checks] FILE.wasm|FILE.wat --invoke NAME [ARGS...]
      (--no-bounds-checks: only to measure their cost; out-of-bounds accesses are then undefined)
  cfree-wasm compile [-O0|-O2] [--target TRIPLE] FILE.wasm -o OUT.o";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run_on_wasm_thread(move || dispatch(&args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cfree-wasm: {e}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(args: &[String]) -> Result<ExitCode, String> {
    let Some((cmd, rest)) = args.split_first() else { return Err(USAGE.into()) };
    let mut opt = OptLevel::O2;
    let mut verbose = false;
    let mut checks = BoundsChecks::Explicit;
    let mut target = None;
    let mut output = None;
    let mut invoke = None;
    let mut positional = Vec::new();
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-O0" => opt = OptLevel::O0,
            "-O1" => opt = OptLevel::O1,
            "-O2" => opt = OptLevel::O2,
            "-O3" => opt = OptLevel::O3,
            "-v" => verbose = true,
            "--no-bounds-checks" => checks = BoundsChecks::UncheckedForMeasurement,
            "--target" => target = Some(it.next().ok_or("--target needs a triple")?.clone()),
            "-o" => output = Some(it.next().ok_or("-o needs a file")?.clone()),
            "--invoke" => {
                invoke = Some(it.next().ok_or("--invoke needs a function name")?.clone());
                positional.extend(it.by_ref().cloned());
            }
            _ => positional.push(a.clone()),
        }
    }
    match cmd.as_str() {
        "test" => test(&positional, opt, verbose),
        "run" => {
            let (file, args) = positional.split_first().ok_or(USAGE)?;
            run(file, invoke.as_deref().ok_or("run needs --invoke NAME")?, args, opt, checks)
        }
        "compile" => {
            let [file] = positional.as_slice() else { return Err(USAGE.into()) };
            let out = output.ok_or("compile needs -o OUT.o")?;
            let spec = match target {
                Some(t) => TargetSpec { triple: Some(t), ..TargetSpec::host() },
                None => TargetSpec::host(),
            };
            let bytes = read_module(file)?;
            let object = cfree_wasm::aot::compile_object(&bytes, &spec, opt).map_err(|e| format!("{file}: {e}"))?;
            std::fs::write(&out, object).map_err(|e| format!("{out}: {e}"))?;
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(USAGE.into()),
    }
}

fn test(files: &[String], opt: OptLevel, verbose: bool) -> Result<ExitCode, String> {
    if files.is_empty() {
        return Err(USAGE.into());
    }
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for file in files {
        let source = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
        let report = cfree_wasm::script::run(file, &source, opt)?;
        if verbose {
            for f in &report.failures {
                println!("FAIL {f}");
            }
            for s in &report.skipped {
                println!("SKIP {s}");
            }
        }
        println!("{file}: {} passed, {} failed, {} skipped", report.passed, report.failed(), report.skipped.len());
        passed += report.passed;
        failed += report.failed();
        skipped += report.skipped.len();
    }
    if files.len() > 1 {
        println!("total: {passed} passed, {failed} failed, {skipped} skipped");
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn read_module(file: &str) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
    if bytes.starts_with(b"\0") {
        // Binary (text never starts with NUL): the decoder says what is wrong with it.
        return Ok(bytes);
    }
    let text = String::from_utf8(bytes).map_err(|_| format!("{file}: neither a wasm binary nor UTF-8 text"))?;
    let buf = wast::parser::ParseBuffer::new(&text).map_err(|e| format!("{file}: {e}"))?;
    let mut wat = wast::parser::parse::<wast::Wat<'_>>(&buf).map_err(|e| format!("{file}: {e}"))?;
    wat.encode().map_err(|e| format!("{file}: {e}"))
}

fn parse_arg(s: &str, ty: ValType) -> Result<Val, String> {
    let bad = || format!("`{s}` is not a valid {ty:?}");
    Ok(match ty {
        ValType::I32 => Val::I32(s.parse::<i64>().map_err(|_| bad())? as i32),
        ValType::I64 => Val::I64(s.parse::<i128>().map_err(|_| bad())? as i64),
        ValType::F32 => Val::F32(s.parse::<f32>().map_err(|_| bad())?.to_bits()),
        ValType::F64 => Val::F64(s.parse::<f64>().map_err(|_| bad())?.to_bits()),
    })
}

fn run(file: &str, name: &str, args: &[String], opt: OptLevel, checks: BoundsChecks) -> Result<ExitCode, String> {
    let bytes = read_module(file)?;
    let options = Options { opt, checks };
    let mut store = Store::new(options).map_err(|e| e.to_string())?;
    let spectest = Spectest::new(&mut store);
    let instance = store
        .instantiate(&bytes, &mut |module, field| if module == "spectest" { spectest.get(field) } else { None })
        .map_err(|e| format!("{file}: {e}"))?;
    let Some(Extern::Func(f)) = instance.export(name) else {
        let mut names: Vec<&str> = instance.export_names().collect();
        names.sort_unstable();
        return Err(format!("{file}: no exported function `{name}` (exports: {})", names.join(", ")));
    };
    if args.len() != f.ty.params.len() {
        return Err(format!("`{name}` takes {} arguments ({:?}), got {}", f.ty.params.len(), f.ty.params, args.len()));
    }
    let vals = args.iter().zip(&f.ty.params).map(|(a, &t)| parse_arg(a, t)).collect::<Result<Vec<_>, _>>()?;
    match store.call(f, &vals) {
        Ok(results) => {
            for r in results {
                println!("{r}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{file}: {name}: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
