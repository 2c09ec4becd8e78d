//! A finished module: verification, the optimisation pipeline (LLVM's new
//! pass manager) and emission of objects, assembly and IR text; and the
//! JIT's view of it ([`ObjectModule`]), which emits from a copy.

use cfree_facade::{Cg, FuncExport, JitRename, ObjectModule, OptLevel, TargetInfo};
use inkwell::module::Module;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{FileType, TargetMachine};
use inkwell::values::AnyValue;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use inkwell::OptimizationLevel;

use crate::{Error, LlvmBackend, Result};

/// The new pass manager's pipeline name of `level`.
fn pipeline(level: OptLevel) -> &'static str {
    match level {
        OptLevel::O0 => "default<O0>",
        OptLevel::O1 => "default<O1>",
        OptLevel::O2 => "default<O2>",
        OptLevel::O3 => "default<O3>",
        OptLevel::Os => "default<Os>",
    }
}

/// The code generator's level for `level`.
pub(crate) fn codegen_level(level: OptLevel) -> OptimizationLevel {
    match level {
        OptLevel::O0 => OptimizationLevel::None,
        OptLevel::O1 => OptimizationLevel::Less,
        OptLevel::O2 | OptLevel::Os => OptimizationLevel::Default,
        OptLevel::O3 => OptimizationLevel::Aggressive,
    }
}

/// Completes emission: checks the module (see [`Cg::finish`]) and returns it ready to emit.
pub fn finish(cg: Cg<LlvmBackend<'_>>) -> Result<LlvmModule<'_>> {
    let mut finished = cg.finish()?;
    finished.backend.finalize();
    Ok(LlvmModule { backend: finished.backend, exports: finished.exports, level: OptLevel::O0, verifier: true })
}

/// A complete LLVM module with its exported signatures.
#[derive(Debug)]
pub struct LlvmModule<'ctx> {
    backend: LlvmBackend<'ctx>,
    exports: Vec<FuncExport>,
    level: OptLevel,
    /// Whether compiling runs LLVM's verifier first ([`Self::set_verifier`]).
    verifier: bool,
}

impl<'ctx> LlvmModule<'ctx> {
    /// A copy of the module in the same context. LLVM's `CloneModule` maps a
    /// `blockaddress` in a global initializer before the function's body is
    /// cloned and leaves it naming the original module's block (the copy then
    /// fails with "Undefined temporary symbol"), so a module with label data
    /// is copied through in-memory bitcode instead.
    fn copy_module(&self) -> Result<Module<'ctx>> {
        if !self.backend.has_label_data {
            return Ok(self.backend.module.clone());
        }
        let bitcode = self.backend.module.write_bitcode_to_memory();
        Module::parse_bitcode_from_buffer(&bitcode, self.backend.module.get_context())
            .map_err(|e| Error::Emit(format!("copying the module through bitcode: {e}")))
    }

    /// The target the module was emitted for.
    pub fn target(&self) -> &TargetInfo {
        &self.backend.resolved.info
    }

    /// Defined functions visible outside the module, with their signatures.
    pub fn exports(&self) -> &[FuncExport] {
        &self.exports
    }

    /// The module's name.
    pub fn name(&self) -> String {
        self.backend.module.get_name().to_string_lossy().into_owned()
    }

    /// The IR text of the function or global `name`, if the module has it.
    pub fn symbol_ir(&self, name: &str) -> Option<String> {
        let m = &self.backend.module;
        match m.get_function(name) {
            Some(f) => Some(f.print_to_string().to_string()),
            None => m.get_global(name).map(|g| g.print_to_string().to_string()),
        }
    }

    /// The LLVM module, for this crate (read-only by convention: emission goes through the facade).
    pub(crate) fn llvm(&self) -> &Module<'ctx> {
        &self.backend.module
    }

    /// The inkwell module, for tests that inject IR the facade would refuse.
    /// Anything built through it bypasses validation: it exists only with
    /// the `test-hooks` feature and is not part of the API.
    #[cfg(feature = "test-hooks")]
    #[doc(hidden)]
    pub fn inkwell_for_tests(&self) -> &Module<'ctx> {
        &self.backend.module
    }

    /// Keeps a frame pointer in every defined function (`"frame-pointer"="all"`),
    /// so stack walkers (GC, code reclamation, profilers) can follow the chain.
    pub fn force_frame_pointers(&mut self) {
        force_frame_pointers(&self.backend.module);
    }

    /// Renames the definition of `name` to `body_name` and redirects every use
    /// in the module (including recursion) to a fresh declaration of `name`,
    /// so that calls go through whatever `name` resolves to at link time (a
    /// stable entry); a protected function's direct calls stay on its body
    /// (`doc/jit.md`, "Protected functions"). Returns an error if `name` is
    /// not defined here.
    pub fn make_replaceable(&mut self, name: &str, body_name: &str) -> Result<()> {
        make_replaceable(&self.backend.module, name, body_name, name)
    }

    /// The module as LLVM IR text.
    pub fn ir(&self) -> String {
        self.backend.module.print_to_string().to_string()
    }

    /// Runs LLVM's verifier.
    pub fn verify(&self) -> Result<()> {
        self.backend.module.verify().map_err(|m| Error::Verify(m.to_string()))
    }

    /// Whether compiling ([`Self::optimize`], [`Self::object`], the JIT
    /// objects) runs LLVM's verifier first: on by default. The facade checks
    /// every operation as it is emitted, so the verifier is a second line of
    /// defence against a bug of ours, at about the cost of emitting the
    /// module (`doc/performance.md`, "Compile latency side by side"). A
    /// frontend that publishes many small units and trusts that defence may
    /// turn it off; builds with debug assertions (every test) verify anyway.
    /// Off, IR that a bug of ours made invalid reaches LLVM, which may then
    /// abort.
    pub fn set_verifier(&mut self, on: bool) {
        self.verifier = on;
    }

    /// [`Self::verify`] unless [`Self::set_verifier`] turned it off (in a release build).
    fn checked(&self) -> Result<()> {
        if self.verifier || cfg!(debug_assertions) {
            self.verify()
        } else {
            Ok(())
        }
    }

    /// The target machine for `level`, made once per thread and reused for every
    /// module of the same target (as ORC's `SimpleCompiler` reuses one): creating
    /// one costs more than optimising a small function at O0.
    fn machine(&self, level: OptLevel) -> Result<Rc<TargetMachine>> {
        type Key = (String, String, String, OptLevel);
        thread_local! {
            static MACHINES: RefCell<HashMap<Key, Rc<TargetMachine>>> = RefCell::new(HashMap::new());
        }
        let info = &self.backend.resolved.info;
        let key = (info.triple.clone(), info.cpu.clone(), info.features.clone(), level);
        if let Some(tm) = MACHINES.with(|m| m.borrow().get(&key).cloned()) {
            return Ok(tm);
        }
        let tm = Rc::new(crate::target::machine(
            &self.backend.resolved.target,
            &info.triple,
            &info.cpu,
            &info.features,
            codegen_level(level),
        )?);
        MACHINES.with(|m| m.borrow_mut().insert(key, tm.clone()));
        Ok(tm)
    }

    /// Verifies, then runs the `level` pipeline in place. Later code generation uses `level` too.
    pub fn optimize(&mut self, level: OptLevel) -> Result<()> {
        self.checked()?;
        let tm = self.machine(level)?;
        optimize(&self.backend.module, &tm, level, self.backend.has_gc)?;
        self.level = level;
        Ok(())
    }

    fn emit(&self, file_type: FileType) -> Result<Vec<u8>> {
        self.checked()?;
        let tm = self.machine(self.level)?;
        write(&tm, &self.backend.module, file_type)
    }

    /// Object file bytes for the module's target (relocatable, position independent).
    pub fn object(&self) -> Result<Vec<u8>> {
        self.emit(FileType::Object)
    }

    /// Assembly text for the module's target.
    pub fn assembly(&self) -> Result<String> {
        let bytes = self.emit(FileType::Assembly)?;
        String::from_utf8(bytes).map_err(|e| Error::Emit(format!("assembly is not UTF-8: {e}")))
    }

    /// [`Self::optimize`] at `level`, then [`Self::object`], verifying once:
    /// LLVM's passes keep the module valid, so code generation does not check
    /// again what `optimize` just checked.
    pub fn emit_object(&mut self, level: OptLevel) -> Result<Vec<u8>> {
        self.optimize(level)?;
        let tm = self.machine(self.level)?;
        write(&tm, &self.backend.module, FileType::Object)
    }
}

impl ObjectModule for LlvmModule<'_> {
    type Error = Error;

    fn name(&self) -> &str {
        self.backend.module.get_name().to_str().unwrap_or_default()
    }

    fn target(&self) -> &TargetInfo {
        LlvmModule::target(self)
    }

    fn exports(&self) -> &[FuncExport] {
        LlvmModule::exports(self)
    }

    /// Verifies the module, then renames, forces frame pointers, optimises
    /// and emits a copy of it (`copy_module`): `self` is left as it was.
    fn emit_jit_object(&self, renames: &[JitRename], level: OptLevel) -> Result<Vec<u8>> {
        // Verify first: cloning an invalid module is not supported by LLVM (inkwell asserts).
        self.verify()?;
        let copy = self.copy_module()?;
        self.jit_object_of(&copy, renames, level)
    }
}

impl LlvmModule<'_> {
    /// [`ObjectModule::emit_jit_object`] without the copy: renames, optimises
    /// and emits the module itself, which is consumed. Copying the module costs
    /// about as much as generating O0 code for it (`doc/performance.md`,
    /// "Compile latency side by side"), so a caller that has no use for the
    /// module afterwards (no retry, no second publish) saves that.
    pub fn into_jit_object(self, renames: &[JitRename], level: OptLevel) -> Result<Vec<u8>> {
        self.checked()?;
        self.jit_object_of(&self.backend.module, renames, level)
    }

    /// The JIT object of `module` (this module or its copy, verified): renamed,
    /// with frame pointers, optimised at `level` and emitted.
    fn jit_object_of(&self, module: &Module<'_>, renames: &[JitRename], level: OptLevel) -> Result<Vec<u8>> {
        for r in renames {
            make_replaceable(module, &r.export, &r.body, &r.entry)?;
        }
        force_frame_pointers(module);
        // The renaming is ours and keeps the module valid: checked in debug builds
        // (every test), not paid again by each publish of a release build.
        if cfg!(debug_assertions) {
            module.verify().map_err(|m| Error::Verify(m.to_string()))?;
        }
        let tm = self.machine(level)?;
        optimize(module, &tm, level, self.backend.has_gc)?;
        write(&tm, module, FileType::Object)
    }
}

/// Keeps a frame pointer in every function defined in `module`.
fn force_frame_pointers(module: &Module<'_>) {
    let ctx = module.get_context();
    let attr = ctx.create_string_attribute("frame-pointer", "all");
    for f in module.get_functions().filter(|f| f.get_first_basic_block().is_some()) {
        f.add_attribute(inkwell::attributes::AttributeLoc::Function, attr);
    }
}

/// See [`LlvmModule::make_replaceable`]; uses of `name` refer to `entry`.
fn make_replaceable(module: &Module<'_>, name: &str, body_name: &str, entry: &str) -> Result<()> {
    let body = module
        .get_function(name)
        .filter(|f| f.get_first_basic_block().is_some())
        .ok_or_else(|| Error::Emit(format!("`{name}` is not defined in this module")))?;
    if module.get_function(body_name).is_some() {
        return Err(Error::Emit(format!("`{body_name}` already exists in this module")));
    }
    if entry != name && module.get_function(entry).is_some() {
        return Err(Error::Emit(format!("`{entry}` already exists in this module")));
    }
    body.as_global_value().set_name(body_name);
    let decl = module.add_function(entry, body.get_type(), Some(inkwell::module::Linkage::External));
    for (i, attrs) in
        (0..body.count_params()).map(|i| (i, body.attributes(inkwell::attributes::AttributeLoc::Param(i))))
    {
        for a in attrs {
            decl.add_attribute(inkwell::attributes::AttributeLoc::Param(i), a);
        }
    }
    for a in body.attributes(inkwell::attributes::AttributeLoc::Return) {
        decl.add_attribute(inkwell::attributes::AttributeLoc::Return, a);
    }
    crate::ffi::replace_function_uses(body, decl);
    // Protected: visible but not preemptible. Calls inside the unit bind to the body
    // (so LLVM may inline them); other uses, and every other unit, see the entry.
    if body.as_global_value().get_visibility() == inkwell::GlobalVisibility::Protected {
        crate::ffi::redirect_direct_calls(decl, body);
    }
    Ok(())
}

/// Runs the `level` pipeline on `module` (verified by the caller).
pub(crate) fn optimize(module: &Module<'_>, tm: &TargetMachine, level: OptLevel, has_gc: bool) -> Result<()> {
    // At O0, slots whose address never escapes become SSA values (`mem2reg`): the
    // facade keeps every local in a stack slot, and without this its O0 code loads
    // and stores each one around every use. Managed code needs it at every level
    // (the statepoint rewrite tracks SSA values only), then has its calls rewritten
    // into statepoints after all other optimisation.
    let mut pipeline = pipeline(level).to_string();
    if level == OptLevel::O0 || has_gc {
        pipeline.push_str(",function(mem2reg)");
    }
    if has_gc {
        pipeline.push_str(",rewrite-statepoints-for-gc");
    }
    module.run_passes(&pipeline, tm, PassBuilderOptions::create()).map_err(|m| Error::Passes(m.to_string()))
}

/// Code generation of `module` into memory.
pub(crate) fn write(tm: &TargetMachine, module: &Module<'_>, file_type: FileType) -> Result<Vec<u8>> {
    let sink = crate::ffi::diagnostics(module.get_context());
    if let Some(s) = sink {
        s.take();
    }
    let buf = tm.write_to_memory_buffer(module, file_type).map_err(|m| Error::Emit(m.to_string()))?;
    // Errors LLVM reported through the context (e.g. inline assembly the assembler
    // rejects) leave the output unusable even though writing "succeeded".
    let errors = sink.map(crate::ffi::Diagnostics::take).unwrap_or_default();
    if !errors.is_empty() {
        return Err(Error::Emit(errors.join("; ")));
    }
    Ok(buf.as_slice().to_vec())
}
