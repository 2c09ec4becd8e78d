//! Ahead-of-time output: a wasm module compiled to a relocatable object.
//!
//! The object holds the module's functions (internal), their entry wrappers
//! and `cfree_wasm_m1_init`, and refers to the runtime symbols of
//! [`crate::abi`]; canonical type ids are the module's own type indices after
//! deduplication. Linking it into an executable needs a runtime providing
//! those symbols and building the instance context; `tests/aarch64.rs`
//! generates a minimal one in C per module (no imports, no table), and a
//! general AOT runtime is not done yet (`doc/wasm.md`).

use cfree_facade::TargetSpec;
use cfree_llvm_lower::{LlvmContext, OptLevel};

use crate::compile;
use crate::decode;
use crate::error::{Error, Result};

/// Compiles `bytes` for `target` at `level`; the object file's bytes.
pub fn compile_object(bytes: &[u8], target: &TargetSpec, level: OptLevel) -> Result<Vec<u8>> {
    let m = decode::decode(bytes)?;
    let mut canonical: Vec<&decode::FuncType> = Vec::new();
    let type_ids: Vec<u64> = m
        .types
        .iter()
        .map(|t| match canonical.iter().position(|c| *c == t) {
            Some(i) => i as u64,
            None => {
                canonical.push(t);
                (canonical.len() - 1) as u64
            }
        })
        .collect();
    let llvm = LlvmContext::new();
    let prefix = "cfree_wasm_m1_";
    let mut cg = llvm.module(prefix, target).map_err(|e| Error::Backend(e.to_string()))?;
    compile::compile(&mut cg, &m, prefix, &type_ids, compile::BoundsChecks::Explicit)?;
    let mut module = cfree_llvm_lower::finish(cg).map_err(|e| Error::Backend(e.to_string()))?;
    module.emit_object(level).map_err(|e| Error::Backend(e.to_string()))
}
