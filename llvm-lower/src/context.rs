//! The owner of LLVM state for a family of modules.

use std::sync::Once;

use cfree_facade::{Cg, TargetSpec};
use inkwell::context::Context;
use inkwell::targets::{InitializationConfig, Target};

use crate::{LlvmBackend, Result};

/// Registers the targets this crate supports with LLVM (x86, AArch64, RISC-V,
/// WebAssembly), once per process. Called by everything that needs them.
pub fn init_targets() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let config = InitializationConfig::default();
        Target::initialize_x86(&config);
        Target::initialize_aarch64(&config);
        Target::initialize_riscv(&config);
        Target::initialize_webassembly(&config);
    });
}

/// Refuses a module name LLVM would silently cut or accept meaninglessly: an empty
/// name, or one containing NUL (LLVM's C API reads names as C strings, so
/// `"mod\0ule"` would become `"mod"`). The error is the facade's
/// [`cfree_facade::ErrorKind::InvalidName`] for the call `module`, operand `name`,
/// like every other name the frontend supplies.
pub(crate) fn check_module_name(name: &str) -> Result<()> {
    match cfree_facade::NameProblem::of(name) {
        Some(problem) => {
            let kind = cfree_facade::ErrorKind::InvalidName { name: name.to_string(), problem };
            Err(cfree_facade::Error::new("module", kind).operand("name").into())
        }
        None => Ok(()),
    }
}

/// Makes RewriteStatepointsForGC keep every derived pointer live across a
/// safepoint as a (base, derived) pair instead of recomputing it from its base
/// after the call (LLVM's `-spp-rematerialization-threshold=0`). LLVM options
/// are process-wide: call this once, before compiling, in a process that wants it.
pub fn disable_statepoint_rematerialization() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| crate::ffi::set_llvm_option(crate::ffi::LlvmOption::NoStatepointRematerialization));
}

/// Turns on LLVM's implicit null check pass for the process: it rewrites only
/// the branches `Cg::check_nonnull` marks `!make.implicit`, so code without
/// implicit checks is unaffected.
fn enable_implicit_null_checks() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| crate::ffi::set_llvm_option(crate::ffi::LlvmOption::ImplicitNullChecks));
}

/// Owns an LLVM context. Modules borrow it, so it outlives every module made from it.
#[derive(Debug)]
pub struct LlvmContext {
    // Dropped before `_diagnostics`, which its handler points to (kept only for that).
    context: Context,
    _diagnostics: Box<crate::ffi::Diagnostics>,
}

impl Default for LlvmContext {
    fn default() -> Self {
        Self::new()
    }
}

impl LlvmContext {
    /// A fresh context.
    pub fn new() -> Self {
        init_targets();
        enable_implicit_null_checks();
        let context = Context::create();
        let diagnostics = Box::<crate::ffi::Diagnostics>::default();
        crate::ffi::install_diagnostics(&context, &diagnostics);
        Self { context, _diagnostics: diagnostics }
    }

    /// The inkwell context, for code that mixes in hand-written inkwell.
    pub fn inkwell(&self) -> &Context {
        &self.context
    }

    /// Starts a module named `name` for `target`, returning its emitter.
    pub fn module(&self, name: &str, target: &TargetSpec) -> Result<Cg<LlvmBackend<'_>>> {
        Ok(Cg::new(LlvmBackend::new(&self.context, name, target)?))
    }
}
