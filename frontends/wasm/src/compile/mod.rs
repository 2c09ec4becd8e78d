//! One wasm module to one facade module.
//!
//! Symbols (all internal except the init function, so LLVM may inline and
//! drop them): `f{i}` for defined function `i`, `w{i}` for the entry
//! wrapper of exported (or start) function `i`, and `{prefix}init`, which
//! stores the defined functions' references and the wrappers into a vmctx
//! (see [`crate::abi`]).

mod body;
mod ops;
mod quiet;

use cfree_facade::{
    Backend, Callee, Cg, DataDecl, FloatWidth, FuncDecl, FuncSig, IntWidth, Linkage, MemAccess, SlotFlags, Sym, TypeId,
};

use crate::abi::{VmLayout, MEMORY_GROW_FN, STACK_LIMIT, TRAP_FN};
use crate::decode::{ExportKind, ModuleInfo, ValType};
use crate::error::{Error, Result};

impl From<cfree_facade::Error> for Error {
    fn from(source: cfree_facade::Error) -> Error {
        Error::Codegen { func: None, source }
    }
}

/// The facade types the compiler uses.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Types {
    pub i8: TypeId,
    pub i16: TypeId,
    pub i32: TypeId,
    pub i64: TypeId,
    pub f32: TypeId,
    pub f64: TypeId,
    pub ptr: TypeId,
}

impl Types {
    fn new<B: Backend>(cg: &mut Cg<B>) -> Result<Types> {
        let i8 = cg.ty_int(IntWidth::I8)?;
        Ok(Types {
            i8,
            i16: cg.ty_int(IntWidth::I16)?,
            i32: cg.ty_int(IntWidth::I32)?,
            i64: cg.ty_int(IntWidth::I64)?,
            f32: cg.ty_float(FloatWidth::F32)?,
            f64: cg.ty_float(FloatWidth::F64)?,
            ptr: cg.ty_ptr(i8, 0)?,
        })
    }

    pub fn val(&self, t: ValType) -> TypeId {
        match t {
            ValType::I32 => self.i32,
            ValType::I64 => self.i64,
            ValType::F32 => self.f32,
            ValType::F64 => self.f64,
        }
    }
}

/// What function bodies need to know about their module.
pub(crate) struct Env<'m, 'a> {
    pub m: &'m ModuleInfo<'a>,
    pub layout: VmLayout,
    pub t: Types,
    /// Facade signature of each wasm type index.
    pub sigs: Vec<TypeId>,
    /// The symbol of each defined function (`None` for imports).
    pub funcs: Vec<Option<Sym>>,
    /// Canonical (process-wide) id of each wasm type index.
    pub type_ids: &'m [u64],
    pub trap: Sym,
    pub memory_grow: Sym,
    pub stack_limit: Sym,
    /// Most results of any function type (size of a call's return area).
    pub max_results: u32,
    pub checks: BoundsChecks,
    /// Alias scope of wasm memory accesses.
    pub heap_scope: u32,
    /// Alias scope of accesses to runtime structures.
    pub vm_scope: u32,
}

/// The layout of `m`'s vmctx.
pub fn layout(m: &ModuleInfo<'_>) -> VmLayout {
    VmLayout { globals: m.globals.len() as u32, funcs: m.funcs.len() as u32 }
}

/// The functions that get entry wrappers: the exported ones and the start function.
pub fn wrapped_functions(m: &ModuleInfo<'_>) -> Vec<u32> {
    let mut v: Vec<u32> =
        m.exports.iter().filter_map(|(_, k)| if let ExportKind::Func(f) = k { Some(*f) } else { None }).collect();
    v.extend(m.start);
    v.sort_unstable();
    v.dedup();
    v
}

/// How memory accesses are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BoundsChecks {
    /// Every load and store compares its end with the memory size and traps
    /// past it (the default, and the only safe choice).
    #[default]
    Explicit,
    /// No checks at all: an out-of-bounds access is undefined behaviour.
    /// Only for measuring what the checks cost (`doc/wasm.md`).
    UncheckedForMeasurement,
}

/// Emits `m` into `cg`; returns the name of its init function.
/// `type_ids[i]` is the canonical id of type index `i`.
pub fn compile<B: Backend>(
    cg: &mut Cg<B>,
    m: &ModuleInfo<'_>,
    prefix: &str,
    type_ids: &[u64],
    checks: BoundsChecks,
) -> Result<String> {
    let t = Types::new(cg)?;
    let mut sigs = Vec::with_capacity(m.types.len());
    for ty in &m.types {
        let mut params = vec![t.ptr];
        if ty.results.len() > 1 {
            params.push(t.ptr);
        }
        params.extend(ty.params.iter().map(|&p| t.val(p)));
        let result = if ty.results.len() == 1 { Some(t.val(ty.results[0])) } else { None };
        sigs.push(cg.ty_func(FuncSig::new(&params, result))?);
    }
    let trap_sig = cg.ty_func(FuncSig::new(&[t.i32], None))?;
    let trap = cg.declare_func(TRAP_FN, FuncDecl::new(trap_sig))?;
    let grow_sig = cg.ty_func(FuncSig::new(&[t.ptr, t.i32], Some(t.i32)))?;
    let memory_grow = cg.declare_func(MEMORY_GROW_FN, FuncDecl::new(grow_sig))?;
    let stack_limit = cg.declare_data(STACK_LIMIT, DataDecl::new(t.i64))?;

    let mut funcs = vec![None; m.imported_funcs as usize];
    for i in m.imported_funcs..m.funcs.len() as u32 {
        let sig = sigs[m.funcs[i as usize] as usize];
        funcs.push(Some(cg.declare_func(&format!("{prefix}f{i}"), FuncDecl::new(sig).linkage(Linkage::Internal))?));
    }
    let wrapper_sig = cg.ty_func(FuncSig::new(&[t.ptr, t.ptr], None))?;
    let mut wrappers = Vec::new();
    for f in wrapped_functions(m) {
        let decl = FuncDecl::new(wrapper_sig).linkage(Linkage::Internal);
        wrappers.push((f, cg.declare_func(&format!("{prefix}w{f}"), decl)?));
    }
    let init_sig = cg.ty_func(FuncSig::new(&[t.ptr], None))?;
    let init_name = format!("{prefix}init");
    let init = cg.declare_func(&init_name, FuncDecl::new(init_sig))?;

    let heap_scope = cg.alias_scope("wasm.memory")?;
    let vm_scope = cg.alias_scope("wasm.runtime")?;
    let max_results = m.types.iter().map(|ty| ty.results.len() as u32).max().unwrap_or(0);
    let env = Env {
        m,
        layout: layout(m),
        t,
        sigs,
        funcs,
        type_ids,
        trap,
        memory_grow,
        stack_limit,
        max_results,
        checks,
        heap_scope,
        vm_scope,
    };
    for (i, body) in m.bodies.iter().enumerate() {
        let index = m.imported_funcs + i as u32;
        body::emit(cg, &env, index, body).map_err(|e| match e {
            Error::Codegen { func: None, source } => Error::Codegen { func: Some(index), source },
            other => other,
        })?;
    }
    for &(f, sym) in &wrappers {
        emit_wrapper(cg, &env, f, sym)?;
    }
    emit_init(cg, &env, init, &wrappers)?;
    Ok(init_name)
}

/// `void w(vmctx, u64 *vals)`: arguments from `vals[i]`, results to `vals[i]`.
fn emit_wrapper<B: Backend>(cg: &mut Cg<B>, env: &Env<'_, '_>, f: u32, sym: Sym) -> Result<()> {
    let t = env.t;
    let ty = env.m.func_type(f).clone();
    cg.func_begin(sym)?;
    let vmctx = cg.param_slot_with(0, "vmctx", SlotFlags::NONE)?;
    let vals = cg.param_slot_with(1, "vals", SlotFlags::NONE)?;
    let push_ptr = |cg: &mut Cg<B>, local| -> Result<()> {
        cg.push_local(local)?;
        cg.load(MemAccess::new(t.ptr))?;
        Ok(())
    };
    let callee = match env.funcs[f as usize] {
        Some(sym) => {
            push_ptr(cg, vmctx)?;
            Callee::Direct(sym)
        }
        None => {
            for off in [0, 8] {
                push_ptr(cg, vmctx)?;
                cg.addr_offset(env.layout.func(f) + off, t.ptr)?;
                cg.load(MemAccess::new(t.ptr))?;
            }
            Callee::Indirect(env.sigs[env.m.funcs[f as usize] as usize])
        }
    };
    let multi = ty.results.len() > 1;
    if multi {
        push_ptr(cg, vals)?;
    }
    for (i, &p) in ty.params.iter().enumerate() {
        push_ptr(cg, vals)?;
        cg.addr_offset(8 * i as i64, t.ptr)?;
        cg.load(MemAccess::new(t.val(p)))?;
    }
    cg.call(callee, 1 + u32::from(multi) + ty.params.len() as u32)?;
    if ty.results.len() == 1 {
        push_ptr(cg, vals)?;
        cg.swap()?;
        cg.store(MemAccess::new(t.val(ty.results[0])))?;
    }
    cg.ret()?;
    cg.func_end()?;
    Ok(())
}

/// `void init(vmctx)`: stores each defined function's reference and each wrapper.
fn emit_init<B: Backend>(cg: &mut Cg<B>, env: &Env<'_, '_>, init: Sym, wrappers: &[(u32, Sym)]) -> Result<()> {
    let t = env.t;
    cg.func_begin(init)?;
    let vmctx = cg.param_slot_with(0, "vmctx", SlotFlags::NONE)?;
    let slot = |cg: &mut Cg<B>, offset: i64| -> Result<()> {
        cg.push_local(vmctx)?;
        cg.load(MemAccess::new(t.ptr))?;
        cg.addr_offset(offset, t.ptr)?;
        Ok(())
    };
    for (f, sym) in env.funcs.iter().enumerate() {
        let Some(sym) = *sym else { continue };
        let at = env.layout.func(f as u32);
        slot(cg, at)?;
        cg.push_sym_addr(sym)?;
        cg.store(MemAccess::new(t.ptr))?;
        slot(cg, at + 8)?;
        cg.push_local(vmctx)?;
        cg.load(MemAccess::new(t.ptr))?;
        cg.store(MemAccess::new(t.ptr))?;
        slot(cg, at + 16)?;
        cg.push_int(t.i64, i128::from(env.type_ids[env.m.funcs[f] as usize]))?;
        cg.store(MemAccess::new(t.i64))?;
    }
    for &(f, sym) in wrappers {
        slot(cg, env.layout.wrapper(f))?;
        cg.push_sym_addr(sym)?;
        cg.store(MemAccess::new(t.ptr))?;
    }
    cg.ret()?;
    cg.func_end()?;
    Ok(())
}
