//! cfree-wasm against wasmtime (Cranelift, default `Config`), in one process,
//! on the same modules: compile time of the spec suite's modules and of a
//! generated module, and run time of C kernels compiled to wasm32, with the
//! native build of the same C as the limit. Run through `ci/bench-wasm`; the
//! figures are in `doc/performance.md`.
//!
//! ```text
//! cfree-wasm-bench-wasmtime compile SPEC_DIR FUNCS
//! cfree-wasm-bench-wasmtime run REPS KERNEL_DIR NAME:N...
//! ```
//!
//! `run` expects `KERNEL_DIR/NAME.wasm` (exports `run(i32) -> i32`, imports
//! `env.putchar(i32)`) and the native executable `KERNEL_DIR/NAME` (takes N
//! as its argument, writes the same bytes to stdout).

use std::cell::RefCell;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use cfree_facade::TargetSpec;
use cfree_llvm_lower::OptLevel;
use cfree_wasm::decode::{FuncType, ValType};
use cfree_wasm::runtime::{run_on_wasm_thread, Extern, Func, Options, Store, Val};

thread_local! {
    static OUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn take_output() -> Vec<u8> {
    OUT.with(|o| std::mem::take(&mut *o.borrow_mut()))
}

extern "C" fn cfree_putchar(_vmctx: *mut u64, c: i32) {
    OUT.with(|o| o.borrow_mut().push(c as u8));
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    run_on_wasm_thread(move || match args.first().map(String::as_str) {
        Some("compile") if args.len() == 3 => compile_bench(Path::new(&args[1]), args[2].parse()?),
        Some("run") if args.len() >= 4 => run_bench(args[1].parse()?, Path::new(&args[2]), &args[3..]),
        _ => bail!("usage: compile SPEC_DIR FUNCS | run REPS KERNEL_DIR NAME:N..."),
    })
}

// ---------------------------------------------------------------- compile time

/// The modules of every `.wast` file in `dir` that wasmparser accepts (what
/// both engines are asked to compile: `module` directives, not the
/// `assert_invalid` ones).
fn spec_modules(dir: &Path) -> Result<Vec<Vec<u8>>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wast"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f)?;
        let mut lexer = wast::lexer::Lexer::new(&text);
        lexer.allow_confusing_unicode(true);
        let Ok(buf) = wast::parser::ParseBuffer::new_with_lexer(lexer) else { continue };
        let Ok(script) = wast::parser::parse::<wast::Wast<'_>>(&buf) else { continue };
        for d in script.directives {
            if let wast::WastDirective::Module(mut m) = d {
                if let Ok(bytes) = m.encode() {
                    if cfree_wasm::decode::decode(&bytes).is_ok() {
                        out.push(bytes);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// A module of `n` functions: each a counted loop of loads, stores, integer
/// and float arithmetic, an `if` and a call to the previous one.
fn generated_module(n: usize) -> Result<Vec<u8>> {
    let mut s = String::from("(module (memory 1) (global $g (mut i32) (i32.const 0))\n");
    for i in 0..n {
        let call = if i == 0 {
            "(i32.wrap_i64 (local.get 3))".to_string()
        } else {
            format!("(call $f{} (local.get 0) (i32.shr_u (local.get 1) (i32.const 1)))", i - 1)
        };
        s += &format!(
            "(func $f{i} (export \"f{i}\") (param i32 i32) (result i32) (local i32 i64 f64)
  (local.set 2 (i32.const {i}))
  (block (loop
    (br_if 1 (i32.ge_u (local.get 2) (local.get 1)))
    (i32.store (i32.and (i32.add (local.get 0) (local.get 2)) (i32.const 0xfffc))
      (i32.add (i32.load (i32.and (local.get 2) (i32.const 0xfffc))) (i32.mul (local.get 2) (i32.const {i}))))
    (local.set 3 (i64.add (local.get 3) (i64.extend_i32_u (i32.rotl (local.get 2) (i32.const 3)))))
    (local.set 4 (f64.add (f64.mul (local.get 4) (f64.const 0.5)) (f64.convert_i32_s (local.get 2))))
    (global.set $g (i32.xor (global.get $g) (i32.trunc_sat_f64_s (local.get 4))))
    (local.set 2 (i32.add (local.get 2) (i32.const 1)))
    (br 0)))
  (if (result i32) (i32.and (local.get 0) (i32.const 1))
    (then {call})
    (else (i32.add (i32.wrap_i64 (local.get 3)) (global.get $g)))))\n"
        );
    }
    s += ")";
    let buf = wast::parser::ParseBuffer::new(&s).map_err(|e| anyhow!("{e}"))?;
    let mut wat = wast::parser::parse::<wast::Wat<'_>>(&buf).map_err(|e| anyhow!("{e}"))?;
    wat.encode().map_err(|e| anyhow!("{e}"))
}

fn wasmtime_engine(parallel: bool) -> Result<wasmtime::Engine> {
    let mut config = wasmtime::Config::new();
    config.parallel_compilation(parallel);
    Ok(wasmtime::Engine::new(&config)?)
}

/// Seconds to compile every module of `mods` with each engine:
/// [wasmtime, wasmtime 1 thread, cfree O0, cfree O2].
fn compile_all(mods: &[Vec<u8>]) -> Result<[f64; 4]> {
    let mut t = [0.0; 4];
    for (i, parallel) in [true, false].into_iter().enumerate() {
        let engine = wasmtime_engine(parallel)?;
        let start = Instant::now();
        for m in mods {
            wasmtime::Module::new(&engine, m)?;
        }
        t[i] = secs(start.elapsed());
    }
    let host = TargetSpec::host();
    for (i, level) in [(2, OptLevel::O0), (3, OptLevel::O2)] {
        let start = Instant::now();
        for m in mods {
            cfree_wasm::aot::compile_object(m, &host, level).map_err(|e| anyhow!("{e}"))?;
        }
        t[i] = secs(start.elapsed());
    }
    Ok(t)
}

fn compile_bench(spec: &Path, funcs: usize) -> Result<()> {
    let mods = spec_modules(spec)?;
    let bytes: usize = mods.iter().map(Vec::len).sum();
    let generated = generated_module(funcs)?;
    println!("compile time (s; ratios against wasmtime with its default parallel compilation)");
    println!(
        "{:<34} {:>9} {:>11} {:>9} {:>9} {:>8} {:>8}",
        "modules", "wasmtime", "wasmtime-1t", "cfree-O0", "cfree-O2", "O0/wt", "O2/wt"
    );
    for (name, set) in [
        (format!("spec suite: {} modules, {} KiB", mods.len(), bytes / 1024), mods.as_slice()),
        (format!("generated: {} funcs, {} KiB", funcs, generated.len() / 1024), std::slice::from_ref(&generated)),
    ] {
        let t = compile_all(set)?;
        println!(
            "{:<34} {:>9.3} {:>11.3} {:>9.3} {:>9.3} {:>8.2} {:>8.2}",
            name,
            t[0],
            t[1],
            t[2],
            t[3],
            t[2] / t[0],
            t[3] / t[0]
        );
    }
    Ok(())
}

// ---------------------------------------------------------------- run time

fn run_native(exe: &Path, n: i32) -> Result<(f64, Vec<u8>)> {
    let start = Instant::now();
    let out = Command::new(exe).arg(n.to_string()).output().with_context(|| format!("{}", exe.display()))?;
    let t = secs(start.elapsed());
    if !out.status.success() {
        bail!("{} failed", exe.display());
    }
    Ok((t, out.stdout))
}

/// (compile + instantiate seconds, run seconds, output).
fn run_wasmtime(bytes: &[u8], n: i32) -> Result<(f64, f64, Vec<u8>)> {
    let start = Instant::now();
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::new(&engine, bytes)?;
    let mut store = wasmtime::Store::new(&engine, ());
    let mut linker = wasmtime::Linker::new(&engine);
    linker.func_wrap("env", "putchar", |c: i32| OUT.with(|o| o.borrow_mut().push(c as u8)))?;
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    let compile = secs(start.elapsed());
    take_output();
    let start = Instant::now();
    run.call(&mut store, n)?;
    Ok((compile, secs(start.elapsed()), take_output()))
}

fn run_cfree(bytes: &[u8], n: i32, level: OptLevel) -> Result<(f64, f64, Vec<u8>)> {
    let start = Instant::now();
    let mut store = Store::new(Options::new(level)).map_err(|e| anyhow!("{e}"))?;
    let ty = FuncType { params: vec![ValType::I32], results: Vec::new() };
    // SAFETY: `cfree_putchar` is `extern "C" fn(*mut u64, i32)`, ignores the
    // vmctx, returns nothing and does not unwind, as `ty` says.
    let putchar = unsafe { Func::host(&mut store, cfree_putchar as *const () as usize as u64, ty) };
    let instance = store
        .instantiate(bytes, &mut |m, name| (m == "env" && name == "putchar").then(|| Extern::Func(putchar.clone())))
        .map_err(|e| anyhow!("{e}"))?;
    let Some(Extern::Func(run)) = instance.export("run") else { bail!("no export `run`") };
    let compile = secs(start.elapsed());
    take_output();
    let start = Instant::now();
    let r = store.call(run, &[Val::I32(n)]).map_err(|e| anyhow!("{e}"))?;
    let t = secs(start.elapsed());
    if r != [Val::I32(0)] {
        bail!("run returned {r:?}");
    }
    Ok((compile, t, take_output()))
}

fn run_bench(reps: usize, dir: &Path, kernels: &[String]) -> Result<()> {
    println!("run time (s, best of {reps}; compile = compile + instantiate, not in run)");
    println!(
        "{:<20} {:>8} {:>9} {:>9} {:>9} {:>8} {:>8} {:>10} {:>10} {:>8}",
        "kernel", "native", "wasmtime", "cfree-O2", "cfree-O0", "O2/nat", "wt/nat", "O2/wt", "compile-wt", "c-O2"
    );
    for k in kernels {
        let (name, n) = k.split_once(':').ok_or_else(|| anyhow!("{k}: NAME:N expected"))?;
        let n: i32 = n.parse()?;
        let bytes = std::fs::read(dir.join(format!("{name}.wasm")))?;
        let mut best = [f64::INFINITY; 4];
        let mut compile = [f64::INFINITY; 2];
        for _ in 0..reps {
            let (t, expected) = run_native(&dir.join(name), n)?;
            best[0] = best[0].min(t);
            let (c, t, out) = run_wasmtime(&bytes, n)?;
            check(name, "wasmtime", &expected, &out)?;
            best[1] = best[1].min(t);
            compile[0] = compile[0].min(c);
            let (c, t, out) = run_cfree(&bytes, n, OptLevel::O2)?;
            check(name, "cfree-wasm -O2", &expected, &out)?;
            best[2] = best[2].min(t);
            compile[1] = compile[1].min(c);
        }
        // O0 once: it is for scale, not a goal.
        let (n0, out) = {
            let (_, t, out) = run_cfree(&bytes, n, OptLevel::O0)?;
            (t, out)
        };
        let (_, expected) = run_native(&dir.join(name), n)?;
        check(name, "cfree-wasm -O0", &expected, &out)?;
        best[3] = n0;
        println!(
            "{:<20} {:>8.3} {:>9.3} {:>9.3} {:>9.3} {:>8.2} {:>8.2} {:>10.2} {:>10.3} {:>8.3}",
            format!("{name} {n}"),
            best[0],
            best[1],
            best[2],
            best[3],
            best[2] / best[0],
            best[1] / best[0],
            best[2] / best[1],
            compile[0],
            compile[1]
        );
    }
    println!("outputs: wasmtime, cfree-wasm -O2 and -O0 identical to native for every kernel");
    Ok(())
}

fn check(kernel: &str, engine: &str, expected: &[u8], got: &[u8]) -> Result<()> {
    if expected != got {
        bail!("{kernel}: {engine} output differs from native ({} bytes against {})", got.len(), expected.len());
    }
    Ok(())
}
