//! Stable entries of replaceable functions, emitted through the CG facade:
//! for each function `f` a cell `f.cfree.cell` holding the active body's
//! address (initialised by relocation to the first body) and a stub `f` that
//! loads the cell (acquire) and calls through it. At O2 the call becomes a
//! tail jump, so a call through the entry costs one PC-relative load and one
//! indirect jump (x86-64: `mov cell(%rip), %rax; jmp *%rax`).
//!
//! Replacement stores the new body's address into the cell with release
//! ordering after the body is fully linked; a caller's acquire load then sees
//! either the old or the new body, both complete. Frames already in the old
//! body return into it, so it stays mapped until reclaimed.

use cfree_facade::{
    AtomicOrdering, Callee, DataDecl, DataInit, FuncDecl, FuncExport, FuncSig, IntWidth, MemAccess, Param, ScalarType,
    SyncScope, TargetSpec, TypeId,
};
use cfree_llvm_lower::{LlvmBackend, LlvmContext, OptLevel};

/// Suffix of a cell's symbol.
pub(crate) const CELL_SUFFIX: &str = ".cfree.cell";

fn scalar(cg: &mut cfree_facade::Cg<LlvmBackend<'_>>, s: ScalarType) -> cfree_facade::Result<TypeId> {
    match s {
        ScalarType::Int(width) => cg.ty_int(width),
        ScalarType::Float(width) => cg.ty_float(width),
        ScalarType::Ptr(space) => {
            let i8 = cg.ty_int(IntWidth::I8)?;
            cg.ty_ptr(i8, space)
        }
    }
}

/// Object code with a stub and a cell for each `(export, first body name)`.
pub(crate) fn stub_object(entries: &[(FuncExport, String)]) -> crate::Result<Vec<u8>> {
    build(entries).map_err(crate::Error::StableEntries)
}

fn build(entries: &[(FuncExport, String)]) -> Result<Vec<u8>, cfree_llvm_lower::Error> {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("cfree.stubs", &TargetSpec::host())?;
    let lower = cfree_llvm_lower::Error::from;
    for (export, body_name) in entries {
        let mut params = Vec::new();
        for (p, ext) in export.params.iter().zip(&export.param_ext) {
            params.push(Param::new(scalar(&mut cg, *p).map_err(lower)?).ext(*ext));
        }
        let result = match export.result {
            Some(r) => Some(Param::new(scalar(&mut cg, r).map_err(lower)?).ext(export.result_ext)),
            None => None,
        };
        let sig = FuncSig { params, result, variadic: false, conv: cfree_facade::CallConv::C };
        let n = sig.params.len();
        let sig = cg.ty_func(sig).map_err(lower)?;
        let body = cg.declare_func(body_name, FuncDecl::new(sig)).map_err(lower)?;
        let i8 = cg.ty_int(IntWidth::I8).map_err(lower)?;
        let ptr = cg.ty_ptr(i8, 0).map_err(lower)?;
        // Protected: still exported (ORC can look it up) but not preemptible, so the stub
        // reads it PC-relative instead of through the GOT.
        let cell_decl = DataDecl::new(ptr).visibility(cfree_facade::Visibility::Protected);
        let cell = cg.declare_data(&format!("{}{CELL_SUFFIX}", export.name), cell_decl).map_err(lower)?;
        cg.define_data(cell, &DataInit::new().reloc(body, 0)).map_err(lower)?;
        let stub = cg.declare_func(&export.name, FuncDecl::new(sig)).map_err(lower)?;
        cg.func_begin(stub).map_err(lower)?;
        let slots: Vec<_> = (0..n as u32).map(|i| cg.param_slot(i, "")).collect::<Result<_, _>>().map_err(lower)?;
        cg.push_global(cell).map_err(lower)?;
        cg.atomic_load(MemAccess::new(ptr), AtomicOrdering::Acquire, SyncScope::System).map_err(lower)?;
        for (slot, p) in slots.iter().zip(&export.params) {
            let ty = scalar(&mut cg, *p).map_err(lower)?;
            cg.push_local(*slot).map_err(lower)?;
            cg.load(MemAccess::new(ty)).map_err(lower)?;
        }
        cg.call(Callee::Indirect(sig), n as u32).map_err(lower)?;
        cg.ret().map_err(lower)?;
        cg.func_end().map_err(lower)?;
    }
    // No forced frame pointers: a stub tail-jumps, leaving no frame a stack walk could meet.
    let mut module = cfree_llvm_lower::finish(cg)?;
    module.emit_object(OptLevel::O2)
}
