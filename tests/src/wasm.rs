//! wasm32 objects linked with `wasm-ld` (and compiler-rt's builtins for the
//! 128-bit helpers) and run in wasmi, a WebAssembly engine used as a library.

use std::path::Path;
use std::process::Command;

use cfree_llvm_lower::OptLevel;

use crate::aot::{scratch_dir, suite_object, AotError};
use crate::programs::Case;

/// compiler-rt's builtins for wasm32 (Debian `libclang-rt-19-dev-wasm32`).
pub const BUILTINS: &str = "/usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a";

/// Links a wasm32 object into a module exporting every defined function.
pub fn link(object: &[u8], dir: &Path) -> Result<Vec<u8>, AotError> {
    if !Path::new(BUILTINS).exists() {
        return Err(format!("{BUILTINS} is missing: run ci/bootstrap (libclang-rt-19-dev-wasm32)"));
    }
    let obj = dir.join("module.o");
    let out = dir.join("module.wasm");
    std::fs::write(&obj, object).map_err(|e| e.to_string())?;
    let result = Command::new("wasm-ld-19")
        .args(["--no-entry", "--export-all", "-o"])
        .arg(&out)
        .arg(&obj)
        .arg(BUILTINS)
        .output()
        .map_err(|e| format!("cannot run wasm-ld-19 ({e}); run ci/bootstrap"))?;
    if !result.status.success() {
        return Err(format!("wasm-ld-19 failed: {}", String::from_utf8_lossy(&result.stderr)));
    }
    std::fs::read(&out).map_err(|e| e.to_string())
}

/// Calls each case's `i64 (i64, i64)` export in a fresh instance of `wasm`.
pub fn run(wasm: &[u8], cases: &[Case]) -> Result<Vec<(Case, i64)>, AotError> {
    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, wasm).map_err(|e| format!("wasmi rejects the module: {e}"))?;
    let mut store = wasmi::Store::new(&engine, ());
    let linker = wasmi::Linker::<()>::new(&engine);
    let instance = linker
        .instantiate(&mut store, &module)
        .and_then(|pre| pre.start(&mut store))
        .map_err(|e| format!("instantiating the module: {e}"))?;
    cases
        .iter()
        .map(|c| {
            let f = instance
                .get_typed_func::<(i64, i64), i64>(&store, c.func)
                .map_err(|e| format!("export {}: {e}", c.func))?;
            let r = f.call(&mut store, (c.a, c.b)).map_err(|e| format!("{c:?} trapped: {e}"))?;
            Ok((*c, r))
        })
        .collect()
}

/// Emits the suite for wasm32 at `level`, links it and runs `cases` in wasmi.
pub fn build_and_run(level: OptLevel, cases: &[Case]) -> Result<Vec<(Case, i64)>, AotError> {
    let object = suite_object("wasm32-unknown-unknown", level)?;
    let dir = scratch_dir("wasm32")?;
    let wasm = link(&object, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    run(&wasm?, cases)
}
