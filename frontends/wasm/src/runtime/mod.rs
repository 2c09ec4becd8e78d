//! Instances: compiling, linking and running wasm modules in the JIT.
//!
//! A [`Store`] owns one JIT session and every instance made in it (instances
//! live as long as the store: their functions may sit in other instances'
//! tables). Instantiation follows Wasm 1.0: imports are resolved and
//! type-checked, the module is compiled and published, its vmctx filled,
//! then every element and data segment is bounds-checked before any is
//! written (a failure is a link error), then the start function runs.

mod ffi;
pub mod spectest;

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use cfree_facade::TargetSpec;
use cfree_jit_orc::Jit;
use cfree_llvm_lower::{LlvmContext, OptLevel};

pub use ffi::FuncRef;
use ffi::{GlobalCell, Memory, Table};

use crate::abi::{Trap, VmLayout};
use crate::compile::{self, BoundsChecks};
use crate::decode::{self, ConstExpr, ExportKind, FuncType, GlobalType, ImportKind, Limits, ModuleInfo, ValType};
use crate::error::{Error, Result};

/// Stack size of the thread that runs compiled wasm code (see [`run_on_wasm_thread`]).
pub const STACK_SIZE: usize = 64 << 20;

/// Most pages a memory may have here (1 GiB): the spec lets `memory.grow` fail.
pub const MAX_PAGES: u64 = 16384;

/// Runs `f` on a fresh thread with a [`STACK_SIZE`] stack: compiled code may
/// use [`ffi::STACK_BUDGET`] bytes of it below the first invoke before it
/// traps with "call stack exhausted".
pub fn run_on_wasm_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(STACK_SIZE)
            .spawn_scoped(s, f)
            .expect("spawning the wasm thread")
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// A wasm value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Val {
    /// i32
    I32(i32),
    /// i64
    I64(i64),
    /// f32, as bits
    F32(u32),
    /// f64, as bits
    F64(u64),
}

impl Val {
    /// Its type.
    pub fn ty(self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
        }
    }

    fn to_bits(self) -> u64 {
        match self {
            Val::I32(v) => v as u32 as u64,
            Val::I64(v) => v as u64,
            Val::F32(v) => u64::from(v),
            Val::F64(v) => v,
        }
    }

    fn from_bits(ty: ValType, bits: u64) -> Val {
        match ty {
            ValType::I32 => Val::I32(bits as u32 as i32),
            ValType::I64 => Val::I64(bits as i64),
            ValType::F32 => Val::F32(bits as u32),
            ValType::F64 => Val::F64(bits),
        }
    }
}

impl std::fmt::Display for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Val::I32(v) => write!(f, "{v}:i32"),
            Val::I64(v) => write!(f, "{v}:i64"),
            Val::F32(b) => write!(f, "{}:f32", f32::from_bits(b)),
            Val::F64(b) => write!(f, "{}:f64", f64::from_bits(b)),
        }
    }
}

/// A function that can be imported or invoked.
#[derive(Clone, Debug)]
pub struct Func {
    /// The reference compiled code calls.
    pub fref: FuncRef,
    /// Its type.
    pub ty: FuncType,
    /// Entry wrapper and the vmctx to call it with (exports of compiled modules), if any.
    entry: Option<(u64, u64)>,
    /// The store whose JIT holds the code and whose type ids `fref` uses.
    store: u64,
}

impl Func {
    /// A host function of type `ty` for `store`, to be passed as an import.
    ///
    /// # Safety
    ///
    /// `code` must be the address of an `extern "C"` function that takes a
    /// `*mut u64` (the calling instance's vmctx, to be ignored or used only
    /// as documented in `doc/wasm.md`) followed by `ty`'s parameters as
    /// `i32`/`i64`/`f32`/`f64`, and returns nothing or `ty`'s single result;
    /// `ty` must have at most one result. It must not unwind.
    pub unsafe fn host(store: &mut Store, code: u64, ty: FuncType) -> Func {
        let fref = FuncRef { code, vmctx: 0, type_id: store.type_id(&ty) };
        Func { fref, ty, entry: None, store: store.id }
    }
}

/// A global: its cell and type.
#[derive(Clone, Debug)]
pub struct Global {
    cell: Rc<GlobalCell>,
    /// Its type.
    pub ty: GlobalType,
}

impl Global {
    /// The current value.
    pub fn get(&self) -> Val {
        Val::from_bits(self.ty.ty, self.cell.get())
    }
}

/// Something an instance exports or a host module provides.
#[derive(Clone, Debug)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// The table.
    Table(Rc<Table>),
    /// The memory.
    Memory(Rc<Memory>),
    /// A global.
    Global(Global),
}

impl Extern {
    /// The store it belongs to, for functions and tables (their code and type
    /// ids are that store's); memories and globals are plain data, usable anywhere.
    fn store(&self) -> Option<u64> {
        match self {
            Extern::Func(f) => Some(f.store),
            Extern::Table(t) => Some(t.store),
            Extern::Memory(_) | Extern::Global(_) => None,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Extern::Func(_) => "function",
            Extern::Table(_) => "table",
            Extern::Memory(_) => "memory",
            Extern::Global(_) => "global",
        }
    }
}

/// An instantiated module.
#[derive(Debug)]
pub struct Instance {
    /// Read by compiled code only; kept alive here.
    _vmctx: Box<[u64]>,
    exports: HashMap<String, Extern>,
    _memory: Option<Rc<Memory>>,
    _table: Option<Rc<Table>>,
    _globals: Vec<Rc<GlobalCell>>,
}

impl Instance {
    /// The export `name`.
    pub fn export(&self, name: &str) -> Option<&Extern> {
        self.exports.get(name)
    }

    /// The names of its exports (unordered).
    pub fn export_names(&self) -> impl Iterator<Item = &str> {
        self.exports.keys().map(String::as_str)
    }
}

/// How to compile.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// LLVM optimisation level.
    pub opt: OptLevel,
    /// How memory accesses are checked.
    pub checks: BoundsChecks,
}

impl Options {
    /// Explicit bounds checks at `opt`.
    pub fn new(opt: OptLevel) -> Options {
        Options { opt, checks: BoundsChecks::Explicit }
    }
}

/// A JIT session and its instances.
pub struct Store {
    id: u64,
    llvm: LlvmContext,
    jit: Jit,
    options: Options,
    types: Vec<FuncType>,
    instances: Vec<Rc<Instance>>,
    modules: usize,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("instances", &self.instances.len()).finish()
    }
}

impl Store {
    /// A store whose modules are compiled with `options`.
    pub fn new(options: Options) -> Result<Store> {
        let jit = Jit::new().map_err(|e| Error::Backend(e.to_string()))?;
        for (name, addr) in ffi::runtime_symbols() {
            jit.define_host_symbol(name, addr).map_err(|e| Error::Backend(e.to_string()))?;
        }
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Ok(Store { id, llvm: LlvmContext::new(), jit, options, types: Vec::new(), instances: Vec::new(), modules: 0 })
    }

    /// The canonical id of a function type (equal types, equal ids, across modules).
    pub fn type_id(&mut self, ty: &FuncType) -> u64 {
        match self.types.iter().position(|t| t == ty) {
            Some(i) => i as u64,
            None => {
                self.types.push(ty.clone());
                (self.types.len() - 1) as u64
            }
        }
    }

    /// Decodes, validates, links, compiles and instantiates `bytes`;
    /// `resolve(module, name)` provides the imports.
    pub fn instantiate(
        &mut self,
        bytes: &[u8],
        resolve: &mut dyn FnMut(&str, &str) -> Option<Extern>,
    ) -> Result<Rc<Instance>> {
        let m = decode::decode(bytes)?;
        let imports = self.link(&m, resolve)?;
        let type_ids: Vec<u64> = m.types.iter().map(|t| self.type_id(t)).collect();
        let init = self.compile(&m, &type_ids)?;
        self.instantiate_compiled(&m, imports, init)
    }

    fn link(&self, m: &ModuleInfo<'_>, resolve: &mut dyn FnMut(&str, &str) -> Option<Extern>) -> Result<Vec<Extern>> {
        let mut out = Vec::with_capacity(m.imports.len());
        for imp in &m.imports {
            let what = format!("import `{}` `{}`", imp.module, imp.name);
            let Some(ext) = resolve(&imp.module, &imp.name) else {
                return Err(Error::Link(format!("unknown import: {what}")));
            };
            if ext.store().is_some_and(|s| s != self.id) {
                return Err(Error::Link(format!("{what}: a {} of another store", ext.kind())));
            }
            let ok = match (&imp.kind, &ext) {
                (ImportKind::Func(t), Extern::Func(f)) => m.types[*t as usize] == f.ty,
                (ImportKind::Global(g), Extern::Global(h)) => *g == h.ty,
                (ImportKind::Table(l), Extern::Table(t)) => limits_match(*l, t.len(), t.max),
                (ImportKind::Memory(l), Extern::Memory(mem)) => limits_match(*l, mem.pages(), mem.declared_max),
                _ => false,
            };
            if !ok {
                return Err(Error::Link(format!("incompatible import type: {what} is a {}", ext.kind())));
            }
            out.push(ext);
        }
        Ok(out)
    }

    fn compile(&mut self, m: &ModuleInfo<'_>, type_ids: &[u64]) -> Result<u64> {
        self.modules += 1;
        let prefix = format!("cfree_wasm_m{}_", self.modules);
        let mut cg = self.llvm.module(&prefix, &TargetSpec::host()).map_err(|e| Error::Backend(e.to_string()))?;
        let init = compile::compile(&mut cg, m, &prefix, type_ids, self.options.checks)?;
        let module = cfree_llvm_lower::finish(cg).map_err(|e| Error::Backend(e.to_string()))?;
        self.jit.publish(&module, self.options.opt).map_err(|e| Error::Backend(e.to_string()))?;
        self.jit.address(&init).map_err(|e| Error::Backend(e.to_string()))
    }

    fn instantiate_compiled(&mut self, m: &ModuleInfo<'_>, imports: Vec<Extern>, init: u64) -> Result<Rc<Instance>> {
        let layout: VmLayout = compile::layout(m);
        let mut vmctx = vec![0u64; layout.slots()].into_boxed_slice();
        let (mut memory, mut table) = (None, None);
        let mut globals = Vec::new();
        let mut funcs = Vec::new();
        for ext in imports {
            match ext {
                Extern::Func(f) => funcs.push(f),
                Extern::Table(t) => table = Some(t),
                Extern::Memory(mem) => memory = Some(mem),
                Extern::Global(g) => globals.push(g),
            }
        }
        if let (Some(l), false) = (m.memory, m.memory_imported) {
            let mem =
                Memory::new(l.min, l.max, MAX_PAGES).ok_or_else(|| Error::Link("cannot allocate the memory".into()))?;
            memory = Some(Rc::new(mem));
        }
        if let (Some(l), false) = (m.table, m.table_imported) {
            table = Some(Rc::new(Table::new(l.min, l.max, self.id)));
        }
        for (i, init) in m.global_inits.iter().enumerate() {
            let ty = m.globals[m.imported_globals as usize + i];
            let bits = match *init {
                ConstExpr::I32(v) => v as u32 as u64,
                ConstExpr::I64(v) => v as u64,
                ConstExpr::F32(b) => u64::from(b),
                ConstExpr::F64(b) => b,
                ConstExpr::GlobalGet(g) => globals[g as usize].cell.get(),
            };
            globals.push(Global { cell: Rc::new(GlobalCell::new(bits)), ty });
        }
        if let Some(mem) = &memory {
            vmctx[0] = mem.def_address();
        }
        if let Some(t) = &table {
            vmctx[1] = t.def_address();
        }
        for (g, global) in globals.iter().enumerate() {
            vmctx[(layout.global(g as u32) / 8) as usize] = global.cell.address();
        }
        for (f, func) in funcs.iter().enumerate() {
            let at = (layout.func(f as u32) / 8) as usize;
            vmctx[at] = func.fref.code;
            vmctx[at + 1] = func.fref.vmctx;
            vmctx[at + 2] = func.fref.type_id;
        }
        // `init` is the init function of the module just published for this layout.
        ffi::call_init(init, &mut vmctx);
        let vm_addr = vmctx.as_ptr() as u64;
        let func_ref = |vmctx: &[u64], f: u32| {
            let at = (layout.func(f) / 8) as usize;
            FuncRef {
                code: ffi::vmctx_slot(vmctx, at),
                vmctx: ffi::vmctx_slot(vmctx, at + 1),
                type_id: ffi::vmctx_slot(vmctx, at + 2),
            }
        };
        // Wasm 1.0: every segment must fit before any is written.
        let eval = |e: ConstExpr| -> u64 {
            match e {
                ConstExpr::I32(v) => u64::from(v as u32),
                ConstExpr::GlobalGet(g) => globals[g as usize].cell.get() & 0xffff_ffff,
                _ => unreachable!("validated offsets are i32"),
            }
        };
        for seg in &m.elems {
            let len = table.as_ref().map_or(0, |t| t.len());
            if eval(seg.offset) + seg.funcs.len() as u64 > len {
                return Err(Error::Link("elements segment does not fit".into()));
            }
        }
        for seg in &m.datas {
            let len = memory.as_ref().map_or(0, |mem| mem.pages() * crate::abi::PAGE_SIZE);
            if eval(seg.offset) + seg.bytes.len() as u64 > len {
                return Err(Error::Link("data segment does not fit".into()));
            }
        }
        for seg in &m.elems {
            let t = table.as_ref().expect("checked above");
            let offset = eval(seg.offset);
            for (i, &f) in seg.funcs.iter().enumerate() {
                t.set(offset + i as u64, func_ref(&vmctx, f));
            }
        }
        for seg in &m.datas {
            let mem = memory.as_ref().expect("checked above");
            let written = mem.write(eval(seg.offset), seg.bytes);
            debug_assert!(written, "checked above");
        }
        let mut exports = HashMap::new();
        for (name, kind) in &m.exports {
            let ext = match *kind {
                ExportKind::Func(f) => {
                    let wrapper = ffi::vmctx_slot(&vmctx, (layout.wrapper(f) / 8) as usize);
                    Extern::Func(Func {
                        fref: func_ref(&vmctx, f),
                        ty: m.func_type(f).clone(),
                        entry: Some((wrapper, vm_addr)),
                        store: self.id,
                    })
                }
                ExportKind::Table => Extern::Table(table.clone().expect("validated")),
                ExportKind::Memory => Extern::Memory(memory.clone().expect("validated")),
                ExportKind::Global(g) => Extern::Global(globals[g as usize].clone()),
            };
            exports.insert(name.clone(), ext);
        }
        let start = m.start.map(|f| {
            let wrapper = ffi::vmctx_slot(&vmctx, (layout.wrapper(f) / 8) as usize);
            let ty = m.func_type(f).clone();
            Func { fref: func_ref(&vmctx, f), ty, entry: Some((wrapper, vm_addr)), store: self.id }
        });
        let instance = Rc::new(Instance {
            _vmctx: vmctx,
            exports,
            _memory: memory,
            _table: table,
            _globals: globals.iter().map(|g| g.cell.clone()).collect(),
        });
        self.instances.push(instance.clone());
        if let Some(start) = start {
            self.call(&start, &[])?;
        }
        Ok(instance)
    }

    /// Calls `func` with `args`; a trap is `Error::Trap`.
    pub fn call(&self, func: &Func, args: &[Val]) -> Result<Vec<Val>> {
        if func.store != self.id {
            return Err(Error::Usage("the function belongs to another store".into()));
        }
        let Some((wrapper, vmctx)) = func.entry else {
            return Err(Error::Usage("host functions cannot be invoked directly".into()));
        };
        if args.len() != func.ty.params.len() || args.iter().zip(&func.ty.params).any(|(a, &p)| a.ty() != p) {
            return Err(Error::Usage(format!(
                "wrong arguments: expected {:?}, got {:?}",
                func.ty.params,
                args.iter().map(|a| a.ty()).collect::<Vec<_>>()
            )));
        }
        let mut vals = vec![0u64; func.ty.params.len().max(func.ty.results.len()).max(1)];
        for (slot, a) in vals.iter_mut().zip(args) {
            *slot = a.to_bits();
        }
        // `wrapper` and `vmctx` come from an instance this store keeps alive (with its
        // memory, table and globals); `vals` is as long as the parameters and results.
        let code = ffi::invoke(wrapper, vmctx, &mut vals);
        if code != 0 {
            return Err(Error::Trap(Trap::from_code(code).unwrap_or(Trap::Unreachable)));
        }
        Ok(func.ty.results.iter().zip(&vals).map(|(&t, &b)| Val::from_bits(t, b)).collect())
    }
}

fn limits_match(import: Limits, actual_min: u64, actual_max: Option<u64>) -> bool {
    actual_min >= import.min
        && match import.max {
            None => true,
            Some(m) => actual_max.is_some_and(|a| a <= m),
        }
}
