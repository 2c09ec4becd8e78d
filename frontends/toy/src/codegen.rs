//! Code generation: the typed program lowered through the cfree CG facade.
//!
//! Every sub-expression is evaluated into a compiler temporary (a local slot,
//! promoted to SSA by the backend), so run-time checks (nil, bounds,
//! division) can branch with an empty value stack. Values are `i64` (`int`
//! and `bool` as 0/1), `f64`, or managed references `ptr addrspace(1)`;
//! functions are managed (`GcRole::Safepoints`). Every function takes the
//! running thread's context (`cfree_toy_rt::Context`) as a hidden first
//! parameter, as Go passes `g`: its allocation buffer, poll word and panic
//! flag. Records are bump-allocated inline from the context's buffer
//! (`gc_alloc_in`, slow path `toy_alloc`), arrays through
//! `toy_alloc_array`; stores of references into existing objects go through
//! `managed_store` and the runtime's card-marking barrier, while the stores
//! that initialise a new record follow its allocation with no safepoint in
//! between and need none. Every safepoint carries its source position as its
//! stack map ID ([`cfree_toy_rt::safepoint_id`]), which runtime errors use
//! for a backtrace (see `cfree-toy-rt`).
//!
//! Globals live in one internal data object, `toy.globals`, one word each,
//! references first. The exported entry point [`ENTRY_SYMBOL`] registers
//! their reference words with the runtime as roots (`toy_register_globals`,
//! a leaf), runs the initializers in source order, then calls `main`: user
//! functions, `main` included, are all internal.
//!
//! Panics unwind through explicit panic edges (`doc/runtime.md`): the
//! runtime's panic routines record the panic, set the context's panic flag and
//! return; a failure path, `panic(...)`, and every call of a toy function
//! that finds the flag set, branch to the function's unwind path, which runs
//! the armed deferred calls (between `toy_defer_begin` and `toy_defer_end`)
//! and returns the zero value of the result type. Each `defer` statement
//! (only at a function body's top level, so it registers at most once per
//! call) has hidden slots: an "armed" word and its evaluated arguments.

use std::collections::HashMap;

use cfree_facade::{
    AddrSpacePolicy, AtomicOrdering, Backend, CallAttrs, Callee, CastOp, Cg, CheckLowering, CheckedOp, DataDecl,
    DataInit, DebugOptions, FastMath, FileId, FloatBinOp, FloatCmp, FloatUnOp, FloatWidth, FuncDecl, FuncSig, GcRole,
    GcRuntime, InlineAlloc, IntBinOp, IntCmp, IntFlags, IntWidth, Label, Linkage, Local, MemAccess, MemFlags,
    PointerKind, Result, SourceLanguage, SrcLoc, StackCheck, Sym, SyncScope, TypeDebugInfo, TypeId,
};

use crate::diag::Span;
use crate::typed::{
    ArithOp, BitOp, CmpOp, Expr, ExprKind, FloatFn, FuncId, Function, GlobalId, LocalId, PlaceKind, PrintArg, Stmt,
    StmtKind, TypeKind, TypedProgram, ARRAY_DATA_OFFSET, ARRAY_LENGTH_OFFSET, WORD,
};

/// The exported entry point: `i64 toy.entry(ptr ctx, i64 n)` initialises the
/// globals, then returns `main(n)`; `ctx` is the calling thread's context
/// (`cfree_toy_rt::install`).
pub const ENTRY_SYMBOL: &str = "toy.entry";

/// Runtime error kinds (indices into `cfree_toy_rt::PANIC_MESSAGES`).
const NIL: i64 = 0;
const BOUNDS: i64 = 1;
const DIVISION: i64 = 2;
const NEGATIVE_LENGTH: i64 = 3;

/// The linkage name of a toy function.
pub fn symbol_name(name: &str) -> String {
    format!("toy_{name}")
}

struct Runtime {
    alloc_array: Sym,
    print_int: Sym,
    print_float: Sym,
    print_bool: Sym,
    print_str: Sym,
    panic: Sym,
    panic_msg: Sym,
    defer_begin: Sym,
    defer_end: Sym,
    recover: Sym,
    /// `toy_poll`, the GC runtime's poll.
    poll: Sym,
    /// `toy_spawn(code, nargs, a0..a5)`, a leaf.
    spawn: Sym,
    /// `toy_join(task)`, which may wait (and collect).
    join: Sym,
    register_globals: Sym,
    /// The prologue check of every function (`toy_grow` runs it on a new stack segment).
    stack_check: Option<StackCheck>,
}

/// One `spawn f(args)`: the wrapper `i64 toy.task.N(ctx, args)` the runtime
/// calls on a pool thread, which loads the arguments and calls `f`.
struct TaskSite {
    wrapper: Sym,
    func: FuncId,
}

/// The hidden slots of one `defer` statement.
#[derive(Clone)]
struct DeferSlots {
    /// 1 once the statement ran, until its call starts.
    armed: Local,
    /// The evaluated arguments, with their types.
    args: Vec<(Local, TypeId)>,
    func: FuncId,
    span: Span,
}

struct Gen<'p, 'c, B: Backend> {
    p: &'p TypedProgram,
    cg: &'c mut Cg<B>,
    i64: TypeId,
    f64: TypeId,
    reference: TypeId,
    raw_ptr: TypeId,
    /// The signature of spawn sites' wrappers.
    task_sig: TypeId,
    rt: Runtime,
    /// The open function's context parameter.
    ctx: Option<Local>,
    /// Spawn sites: their wrappers, emitted after the functions.
    tasks: Vec<TaskSite>,
    funcs: Vec<Sym>,
    strings: HashMap<String, Sym>,
    locals: Vec<Local>,
    /// The data object of the globals.
    globals: Sym,
    /// (break, continue) targets of the enclosing loops, innermost last.
    loops: Vec<(Label, Label)>,
    /// The alias scope of the panic flag's loads; every other access is outside it.
    flag_scope: u32,
    /// How nil checks are lowered.
    nil_checks: CheckLowering,
    /// Failure paths of the open function's checks: (label, kind, position),
    /// emitted after its body, out of the hot path.
    failures: Vec<(Label, i64, Span)>,
    /// Safepoint polls of the open function's loop heads: (poll path, where it resumes, position).
    polls: Vec<(Label, Label, Span)>,
    /// Whether loop heads poll for requested collections.
    poll_loops: bool,
    /// The open function's unwind path, once something branches to it.
    unwind: Option<Label>,
    /// The open function's `defer` statements, in source order.
    defers: Vec<DeferSlots>,
    /// In a function with defers, where `return` goes (after storing its
    /// value in the slot): the defers run there.
    exit: Option<(Label, Option<Local>)>,
    /// The open function's result type.
    ret: Option<TypeId>,
    /// The source file's id, when debug information is on.
    file: Option<FileId>,
    /// On-stack replacement in a tiered run (`crate::osr`).
    osr: Osr,
}

/// A `for` loop's hidden counter and bound slots, which an OSR transfer carries.
type ForState = (Local, Local);

/// On-stack replacement state of code generation (`doc/toy.md`, "On-stack replacement").
#[derive(Default)]
struct Osr {
    /// The base tier's host table of top-tier entries ([`crate::osr::TABLE_SYMBOL`]).
    table: Option<Sym>,
    /// Each function's first table index.
    first: Vec<u32>,
    /// The open function's index, whether its loops are OSR loops, and the
    /// number of the next one.
    func: usize,
    eligible: bool,
    next: u32,
    /// Base tier: the open function's transfers to the top tier: label, loop
    /// number, and a `for` loop's counter and bound slots.
    paths: Vec<(Label, u32, Option<ForState>)>,
    /// Top tier, in `toy_f.osr.k`: k, the label its entry jumps to, and its
    /// last two parameters (a `for` loop's counter and bound).
    target: Option<(u32, Label, Local, Local)>,
}

/// Nil checks are implicit (a faulting access and the trap table) unless
/// `CFREE_TOY_CHECKS=explicit` asks for compare-and-branch checks.
/// Iterations of a `for` loop between two polls.
const POLL_CHUNK: i128 = 4096;

/// Loop heads poll for collections other threads request unless
/// `CFREE_TOY_POLLS=off` (a measurement switch: a loop without calls then
/// holds a collection off until it ends).
fn loop_polls_from_env() -> bool {
    std::env::var("CFREE_TOY_POLLS").as_deref() != Ok("off")
}

/// Functions check their stack limit (for tasks' growable stacks) unless
/// `CFREE_TOY_STACK_CHECKS=off` (a measurement switch: tasks then overflow
/// their first segment).
fn stack_checks_from_env() -> bool {
    std::env::var("CFREE_TOY_STACK_CHECKS").as_deref() != Ok("off")
}

fn nil_checks_from_env() -> CheckLowering {
    match std::env::var("CFREE_TOY_CHECKS").as_deref() {
        Ok("explicit") => CheckLowering::Explicit,
        _ => CheckLowering::Implicit,
    }
}

/// How a program is compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// DWARF for debuggers (`doc/toy.md`): positions of statements and calls,
    /// functions under their Toy names, parameters and variables. On by
    /// default; `-g0` turns it off.
    pub debug_info: bool,
    /// Which module of the program to emit (whole, or one tier of a tiered JIT run).
    pub tier: Tier,
}

impl Default for Options {
    fn default() -> Self {
        Self { debug_info: true, tier: Tier::Whole }
    }
}

/// Which module of a program [`emit`] builds. A tiered JIT run
/// (`crate::jit::run_tiered`, `doc/toy.md`, "Tiered JIT") publishes the base
/// tier at O0, then the top tier at O2, then [`emit_redirects`]'s module,
/// which switches every function's stable entry to the top tier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tier {
    /// The whole program in one module: functions internal, calls direct.
    #[default]
    Whole,
    /// Functions exported, so every call goes through the function's stable
    /// entry (which the redirects replace); the globals exported; the entry.
    Base,
    /// Functions internal (calls direct and inlinable), each behind an
    /// exported wrapper [`top_symbol_name`]; the base tier's globals; no entry.
    Top,
}

/// The exported wrapper of a toy function in the top tier.
pub fn top_symbol_name(name: &str) -> String {
    format!("toy_{name}.top")
}

/// The compilation directory debug information names: the current directory.
fn compilation_dir() -> String {
    std::env::current_dir().map(|d| d.to_string_lossy().into_owned()).unwrap_or_else(|_| ".".into())
}

/// Emits the whole program into `cg` (which must be fresh).
pub fn emit<B: Backend>(p: &TypedProgram, cg: &mut Cg<B>, options: &Options) -> Result<()> {
    cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving())?;
    let file = if options.debug_info {
        let producer = concat!("cfree-toy ", env!("CARGO_PKG_VERSION"));
        let mut debug = DebugOptions::new(SourceLanguage::C99, producer, &p.file_name, &compilation_dir());
        // gdb names C functions by their linkage name (`toy_main`) when one is given.
        debug.linkage_names = false;
        Some(cg.enable_debug_info(debug)?)
    } else {
        None
    };
    let i64 = cg.ty_int(IntWidth::I64)?;
    let f64 = cg.ty_float(FloatWidth::F64)?;
    let i8 = cg.ty_int(IntWidth::I8)?;
    // A reference points at an object's words (the pointee is advisory: it
    // only shows in debug information).
    let reference = cg.ty_ptr(i64, 1)?;
    if file.is_some() {
        // Toy's words as a debugger should print them (`bool` shares `int`'s word).
        let named = |name: &str| TypeDebugInfo { name: Some(name.into()), ..TypeDebugInfo::default() };
        cg.describe_type(i64, named("int"))?;
        cg.describe_type(f64, named("float"))?;
        cg.describe_type(reference, named("ref"))?;
    }
    let raw_ptr = cg.ty_ptr(i8, 0)?;
    let declare = |cg: &mut Cg<B>, name: &str, params: &[TypeId], result: Option<TypeId>, role| {
        let sig = cg.ty_func(FuncSig::new(params, result))?;
        cg.declare_func(name, FuncDecl::new(sig).gc(role))
    };
    let alloc = declare(cg, "toy_alloc", &[i64, i64], Some(reference), GcRole::Runtime)?;
    // A spawn site's wrapper: `i64 toy.task.N(ptr ctx, ptr args)`.
    let task_sig = cg.ty_func(FuncSig::new(&[raw_ptr, raw_ptr], Some(i64)))?;
    let task_code = cg.ty_ptr(task_sig, 0)?;
    let i32t = cg.ty_int(IntWidth::I32)?;
    let barrier = declare(cg, "toy_write_barrier", &[reference, i64, reference, i32t], None, GcRole::Leaf)?;
    // Each thread's buffer is in its context (`gc_alloc_in`): no buffer symbol.
    let inline = InlineAlloc { buffer: None, header_bytes: 8 };
    let poll = declare(cg, "toy_poll", &[], None, GcRole::Runtime)?;
    cg.set_gc_runtime(GcRuntime::new(alloc).write_barrier(barrier).inline_alloc(inline).poll(poll))?;
    let rt = Runtime {
        alloc_array: declare(cg, "toy_alloc_array", &[i64, i64], Some(reference), GcRole::Runtime)?,
        print_int: declare(cg, "toy_print_int", &[i64], None, GcRole::Leaf)?,
        print_float: declare(cg, "toy_print_float", &[f64], None, GcRole::Leaf)?,
        print_bool: declare(cg, "toy_print_bool", &[i64], None, GcRole::Leaf)?,
        print_str: declare(cg, "toy_print_str", &[raw_ptr, i64], None, GcRole::Leaf)?,
        panic: declare(cg, "toy_panic", &[i64, i64, i64], None, GcRole::Runtime)?,
        panic_msg: declare(cg, "toy_panic_msg", &[raw_ptr, i64, i64, i64], None, GcRole::Runtime)?,
        defer_begin: declare(cg, "toy_defer_begin", &[], None, GcRole::Leaf)?,
        defer_end: declare(cg, "toy_defer_end", &[], None, GcRole::Leaf)?,
        recover: declare(cg, "toy_recover", &[], Some(i64), GcRole::Leaf)?,
        poll,
        spawn: declare(cg, "toy_spawn", &[task_code, i64, i64, i64, i64, i64, i64, i64], Some(i64), GcRole::Leaf)?,
        join: declare(cg, "toy_join", &[i64], Some(i64), GcRole::Runtime)?,
        register_globals: declare(cg, "toy_register_globals", &[raw_ptr, i64], None, GcRole::Leaf)?,
        stack_check: None,
    };
    let mut rt = rt;
    if stack_checks_from_env() {
        let grow = declare(cg, "toy_grow", &[raw_ptr, raw_ptr], None, GcRole::Runtime)?;
        rt.stack_check = Some(StackCheck {
            limit_param: 0,
            limit_offset: cfree_toy_rt::CONTEXT_STACK_LIMIT,
            grow,
            safepoint_id: cfree_toy_rt::GROW_SAFEPOINT_ID,
        });
    }
    let words = p.globals.len().max(1) as u64;
    let globals_ty = cg.ty_array(i64, words)?;
    // Tiers share the base tier's globals.
    let shared = if options.tier == Tier::Whole { Linkage::Internal } else { Linkage::External };
    let globals = cg.declare_data("toy.globals", DataDecl::new(globals_ty).linkage(shared))?;
    if options.tier != Tier::Top {
        cg.define_data(globals, &DataInit::zeroed(words * u64::from(WORD)))?;
    }
    let osr_count = crate::osr::entries(p).len() as u64;
    let osr_table = if options.tier == Tier::Base && osr_count > 0 {
        let table_ty = cg.ty_array(raw_ptr, osr_count)?;
        Some(cg.declare_data(crate::osr::TABLE_SYMBOL, DataDecl::new(table_ty))?)
    } else {
        None
    };
    // Only the runtime writes the panic flag: no access of the program's own
    // touches it, which lets LLVM keep the flag's value across inlined calls
    // (their checks then fold away) instead of reloading it after every store.
    let flag_scope = cg.alias_scope("toy.panic_flag")?;
    let mut g = Gen {
        p,
        cg,
        i64,
        f64,
        reference,
        raw_ptr,
        task_sig,
        rt,
        ctx: None,
        tasks: Vec::new(),
        funcs: Vec::new(),
        strings: HashMap::new(),
        locals: Vec::new(),
        globals,
        loops: Vec::new(),
        flag_scope,
        nil_checks: nil_checks_from_env(),
        failures: Vec::new(),
        polls: Vec::new(),
        poll_loops: loop_polls_from_env(),
        unwind: None,
        defers: Vec::new(),
        exit: None,
        ret: None,
        file,
        osr: Osr { table: osr_table, first: crate::osr::first_indices(p), ..Osr::default() },
    };
    let mut sigs = Vec::with_capacity(p.functions.len());
    for f in &p.functions {
        let (sig, _) = signature(&mut *g.cg, p, f, g.i64, g.f64, g.reference, g.raw_ptr)?;
        sigs.push(sig);
        // Outside the base tier only the entry is exported: functions are internal, so calls
        // to them are direct (and inlinable) in the JIT too, where exported functions are
        // called through their replaceable stable entries.
        let linkage = if options.tier == Tier::Base { Linkage::External } else { Linkage::Internal };
        let mut decl = FuncDecl::new(sig).gc(GcRole::Safepoints).linkage(linkage);
        decl.display_name = Some(f.name.clone());
        decl.stack_check = g.rt.stack_check;
        g.position(f.span)?;
        g.funcs.push(g.cg.declare_func(&symbol_name(&f.name), decl)?);
    }
    for (i, f) in p.functions.iter().enumerate() {
        g.function(FuncId(i as u32), f)?;
    }
    if options.tier == Tier::Top {
        for (i, f) in p.functions.iter().enumerate() {
            for k in 0..crate::osr::loops(f) {
                g.osr_function(FuncId(i as u32), f, k)?;
            }
        }
        g.top_wrappers(&sigs)?;
    } else {
        g.entry()?;
    }
    g.task_wrappers()
}

/// The type of a Toy value of type `t`: a word, a float or a reference.
fn value_type(p: &TypedProgram, t: crate::typed::TypeId, i64: TypeId, f64: TypeId, reference: TypeId) -> TypeId {
    match p.types.kind(t) {
        TypeKind::Int | TypeKind::Bool => i64,
        TypeKind::Float => f64,
        TypeKind::Record(_) | TypeKind::Array(_) => reference,
        TypeKind::Error => unreachable!("checked programs have no error types"),
    }
}

/// `f`'s signature: the context, then its parameters.
fn signature<B: Backend>(
    cg: &mut Cg<B>,
    p: &TypedProgram,
    f: &Function,
    i64: TypeId,
    f64: TypeId,
    reference: TypeId,
    raw_ptr: TypeId,
) -> Result<(TypeId, Vec<TypeId>)> {
    let ty = |t| value_type(p, t, i64, f64, reference);
    let params: Vec<TypeId> = std::iter::once(raw_ptr).chain(f.param_types().map(ty)).collect();
    Ok((cg.ty_func(FuncSig::new(&params, f.ret.map(ty)))?, params))
}

/// The module that moves a tiered program to its top tier: for each function
/// `toy_f`, an exported `toy_f` that tail-calls the top tier's `toy_f.top`.
/// Publishing it replaces the base tier's bodies behind the stable entries, so
/// every call made from then on (from base code too) runs top-tier code. The
/// redirects have no frame, so no stack map describes them.
pub fn emit_redirects<B: Backend>(p: &TypedProgram, cg: &mut Cg<B>) -> Result<()> {
    cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving())?;
    let i64 = cg.ty_int(IntWidth::I64)?;
    let f64 = cg.ty_float(FloatWidth::F64)?;
    let reference = cg.ty_ptr(i64, 1)?;
    let i8 = cg.ty_int(IntWidth::I8)?;
    let raw_ptr = cg.ty_ptr(i8, 0)?;
    for f in &p.functions {
        let (sig, params) = signature(cg, p, f, i64, f64, reference, raw_ptr)?;
        let top = cg.declare_func(&top_symbol_name(&f.name), FuncDecl::new(sig))?;
        let redirect = cg.declare_func(&symbol_name(&f.name), FuncDecl::new(sig))?;
        cg.func_begin(redirect)?;
        for (i, &ty) in params.iter().enumerate() {
            let param = cg.param_slot(i as u32, "")?;
            cg.push_local(param)?;
            cg.load(MemAccess::new(ty))?;
        }
        cg.tail_call(Callee::Direct(top), params.len() as u32)?;
        cg.func_end()?;
    }
    Ok(())
}

impl<B: Backend> Gen<'_, '_, B> {
    fn ty(&self, t: crate::typed::TypeId) -> TypeId {
        value_type(self.p, t, self.i64, self.f64, self.reference)
    }

    /// An access of the program's memory (never the panic flag).
    fn mem(&self, ty: TypeId) -> MemAccess {
        MemAccess::new(ty).noalias(self.flag_scope)
    }

    /// The load of an array's length word (offset 0), which never changes
    /// after allocation (a moved array keeps it): invariant, so stores to the
    /// elements do not force a reload before every bounds check.
    fn length_access(&self) -> MemAccess {
        self.mem(self.i64).flags(MemFlags::INVARIANT)
    }

    fn tmp(&mut self, ty: TypeId) -> Result<Local> {
        self.cg.local_slot(ty, "", 0)
    }

    /// Stores the top of the stack into a new temporary of type `ty`.
    fn spill(&mut self, ty: TypeId) -> Result<Local> {
        let l = self.tmp(ty)?;
        self.cg.push_local(l)?;
        self.cg.swap()?;
        self.cg.store(self.mem(ty))?;
        Ok(l)
    }

    fn get(&mut self, l: Local, ty: TypeId) -> Result<()> {
        self.cg.push_local(l)?;
        self.cg.load(self.mem(ty))
    }

    /// `spawn f(args)`: declares the site's wrapper (emitted by
    /// [`Self::task_wrappers`]) and queues a call of it with the arguments as
    /// words (a `float` by its bits); pushes the task's handle.
    fn spawn(&mut self, func: FuncId, args: &[Expr]) -> Result<()> {
        let temps: Vec<(Local, TypeId)> =
            args.iter().map(|a| Ok((self.value(a)?, self.ty(a.ty)))).collect::<Result<_>>()?;
        let name = format!("toy.task.{}", self.tasks.len());
        let mut decl = FuncDecl::new(self.task_sig).gc(GcRole::Safepoints).linkage(Linkage::Internal);
        decl.stack_check = self.rt.stack_check;
        let wrapper = self.cg.declare_func(&name, decl)?;
        self.tasks.push(TaskSite { wrapper, func });
        self.cg.push_sym_addr(wrapper)?;
        self.cg.push_int(self.i64, temps.len() as i128)?;
        for i in 0..cfree_toy_rt::MAX_TASK_ARGS {
            match temps.get(i) {
                Some(&(t, ty)) => {
                    self.get(t, ty)?;
                    if ty == self.f64 {
                        self.cg.cast(CastOp::Bitcast, self.i64)?;
                    }
                }
                None => self.cg.push_int(self.i64, 0)?,
            }
        }
        self.cg.call(Callee::Direct(self.rt.spawn), 2 + cfree_toy_rt::MAX_TASK_ARGS as u32)
    }

    /// The wrappers of the spawn sites: `toy.task.N(ctx, args)` loads the
    /// arguments from the words at `args` and returns `f`'s result (0 for
    /// none). A panic in `f` leaves the flag set for the runtime, which ends
    /// the program.
    fn task_wrappers(&mut self) -> Result<()> {
        for site in std::mem::take(&mut self.tasks) {
            let f = self.p.function(site.func);
            self.position(f.span)?;
            self.begin_generated(site.wrapper)?;
            let words = self.cg.param_slot(1, "")?;
            self.push_ctx()?;
            let params: Vec<TypeId> = f.param_types().map(|t| self.ty(t)).collect();
            for (i, &ty) in params.iter().enumerate() {
                self.get(words, self.raw_ptr)?;
                self.cg.addr_offset(8 * i as i64, self.raw_ptr)?;
                self.cg.load(self.mem(self.i64))?;
                if ty == self.f64 {
                    self.cg.cast(CastOp::Bitcast, self.f64)?;
                }
            }
            // Like the entry's, the wrapper's frame is not part of the program's backtraces.
            self.cg.set_safepoint_id(cfree_toy_rt::ENTRY_SAFEPOINT_ID)?;
            self.cg.call(Callee::Direct(self.funcs[site.func.index()]), params.len() as u32 + 1)?;
            if f.ret.is_none() {
                self.cg.push_int(self.i64, 0)?;
            }
            self.cg.ret()?;
            self.cg.func_end()?;
        }
        Ok(())
    }

    /// The top tier's exported wrappers: `toy_f.top(ctx, args)` returns
    /// `toy_f(ctx, args)` (the internal function, usually inlined into it).
    fn top_wrappers(&mut self, sigs: &[TypeId]) -> Result<()> {
        for (i, f) in self.p.functions.iter().enumerate() {
            let mut decl = FuncDecl::new(sigs[i]).gc(GcRole::Safepoints);
            decl.stack_check = self.rt.stack_check;
            let wrapper = self.cg.declare_func(&top_symbol_name(&f.name), decl)?;
            self.position(f.span)?;
            self.cg.func_begin(wrapper)?;
            self.locals.clear();
            self.ctx = Some(self.cg.param_slot(0, "")?);
            self.push_ctx()?;
            for k in 0..f.params {
                let param = self.cg.param_slot(k + 1, "")?;
                let ty = self.ty(f.locals[k as usize].ty);
                self.get(param, ty)?;
            }
            // Like the entry's, the wrapper's frame is not part of the program's backtraces.
            self.cg.set_safepoint_id(cfree_toy_rt::ENTRY_SAFEPOINT_ID)?;
            self.cg.call(Callee::Direct(self.funcs[i]), f.params + 1)?;
            self.cg.ret()?;
            self.cg.func_end()?;
        }
        Ok(())
    }

    /// Opens a compiler-made function (the entry, a task wrapper) that takes
    /// the context first and returns an `i64`, with no locals, defers or unwind path yet.
    fn begin_generated(&mut self, f: Sym) -> Result<()> {
        self.cg.func_begin(f)?;
        self.locals.clear();
        self.unwind = None;
        self.defers.clear();
        self.exit = None;
        self.ret = Some(self.i64);
        self.ctx = Some(self.cg.param_slot(0, "")?);
        Ok(())
    }

    /// Pushes the open function's context.
    fn push_ctx(&mut self) -> Result<()> {
        let ctx = self.ctx.expect("functions take a context");
        self.cg.push_local(ctx)?;
        self.cg.load(self.mem(self.raw_ptr))
    }

    /// Pushes the address of the context's word at `offset`.
    fn ctx_word(&mut self, offset: u32) -> Result<()> {
        self.push_ctx()?;
        self.cg.addr_offset(i64::from(offset), self.raw_ptr)
    }

    fn function(&mut self, id: FuncId, f: &Function) -> Result<()> {
        self.position(f.span)?;
        self.cg.func_begin(self.funcs[id.index()])?;
        self.locals.clear();
        // Unnamed: no debug variable, so debuggers show the Toy parameters only.
        self.ctx = Some(self.cg.param_slot(0, "")?);
        for (i, local) in f.locals.iter().enumerate() {
            let l = if i < f.params as usize {
                self.cg.param_slot(i as u32 + 1, &local.name)?
            } else {
                let ty = self.ty(local.ty);
                self.cg.local_slot(ty, &local.name, 0)?
            };
            self.locals.push(l);
        }
        // Reference slots start as nil, so a collection never sees garbage in them.
        for (i, local) in f.locals.iter().enumerate().skip(f.params as usize) {
            if local.is_ref {
                self.cg.push_local(self.locals[i])?;
                self.cg.push_null(self.reference)?;
                self.cg.store(self.mem(self.reference))?;
            }
        }
        self.function_body(id, f)
    }

    /// The top tier's `toy_f.osr.k` (`crate::osr::symbol`): `f`'s body
    /// entered at the head of its `k`-th OSR loop, with every variable a
    /// parameter (the values the base-tier frame had there).
    fn osr_function(&mut self, id: FuncId, f: &Function, k: u32) -> Result<()> {
        let sig = self.osr_signature(f)?.0;
        let mut decl = FuncDecl::new(sig).gc(GcRole::Safepoints);
        decl.display_name = Some(f.name.clone());
        decl.stack_check = self.rt.stack_check;
        self.position(f.span)?;
        let sym = self.cg.declare_func(&crate::osr::symbol(&f.name, k), decl)?;
        self.cg.func_begin(sym)?;
        self.locals.clear();
        self.ctx = Some(self.cg.param_slot(0, "")?);
        for (i, local) in f.locals.iter().enumerate() {
            let slot = self.cg.param_slot(i as u32 + 1, &local.name)?;
            self.locals.push(slot);
        }
        let n = f.locals.len() as u32;
        let (counter, bound) = (self.cg.param_slot(n + 1, "")?, self.cg.param_slot(n + 2, "")?);
        let entry = self.cg.new_label()?;
        self.cg.br(entry)?;
        self.osr.target = Some((k, entry, counter, bound));
        let body = self.function_body(id, f);
        self.osr.target = None;
        body
    }

    /// The open function's body and its out-of-line paths, up to `func_end`
    /// (its slots are set up).
    fn function_body(&mut self, id: FuncId, f: &Function) -> Result<()> {
        self.osr.func = id.index();
        self.osr.eligible = crate::osr::loops(f) > 0;
        self.osr.next = 0;
        self.unwind = None;
        self.ret = f.ret.map(|t| self.ty(t));
        self.defer_slots(f)?;
        self.block(&f.body)?;
        if f.ret.is_some() {
            self.cg.unreachable()?;
        } else if let Some((exit, _)) = self.exit {
            self.cg.br(exit)?;
        } else {
            self.cg.ret()?;
        }
        if let Some((exit, result)) = self.exit {
            // Every `return`: the defers, then the value it stored.
            self.cg.place_label(exit)?;
            self.run_defers(false)?;
            if let (Some(result), Some(ty)) = (result, self.ret) {
                self.get(result, ty)?;
            }
            self.cg.ret()?;
        }
        self.osr_paths(f)?;
        self.failure_paths()?;
        self.poll_paths()?;
        self.unwind_path()?;
        self.cg.func_end()
    }

    /// The hidden slots of `f`'s defer statements (disarmed, references nil)
    /// and, if it has any, its exit label and result slot.
    fn defer_slots(&mut self, f: &Function) -> Result<()> {
        self.defers.clear();
        self.exit = None;
        for s in &f.body {
            let StmtKind::Defer { func, .. } = &s.kind else { continue };
            let armed = self.tmp(self.i64)?;
            self.cg.push_local(armed)?;
            self.cg.push_int(self.i64, 0)?;
            self.cg.store(self.mem(self.i64))?;
            let params: Vec<crate::typed::TypeId> = self.p.function(*func).param_types().collect();
            let mut args = Vec::new();
            for t in params {
                let ty = self.ty(t);
                let slot = self.tmp(ty)?;
                if self.p.types.is_ref(t) {
                    self.cg.push_local(slot)?;
                    self.cg.push_null(self.reference)?;
                    self.cg.store(self.mem(self.reference))?;
                }
                args.push((slot, ty));
            }
            self.defers.push(DeferSlots { armed, args, func: *func, span: s.span });
        }
        if !self.defers.is_empty() {
            let exit = self.cg.new_label()?;
            let result = match self.ret {
                Some(ty) => {
                    let slot = self.tmp(ty)?;
                    self.cg.push_local(slot)?;
                    self.push_zero(ty)?;
                    self.cg.store(self.mem(ty))?;
                    Some(slot)
                }
                None => None,
            };
            self.exit = Some((exit, result));
        }
        Ok(())
    }

    /// Pushes the zero value of `ty` (0, 0.0 or nil).
    fn push_zero(&mut self, ty: TypeId) -> Result<()> {
        if ty == self.f64 {
            self.cg.push_f64(0.0)
        } else if ty == self.reference {
            self.cg.push_null(self.reference)
        } else {
            self.cg.push_int(self.i64, 0)
        }
    }

    /// Runs the armed defers in reverse order, disarming each before its
    /// call. On the unwind path each call runs between `toy_defer_begin` and
    /// `toy_defer_end`; on a normal return a call that panics sends the
    /// function to its unwind path (which runs the defers still armed).
    fn run_defers(&mut self, unwinding: bool) -> Result<()> {
        for d in self.defers.clone().into_iter().rev() {
            let (run, next) = (self.cg.new_label()?, self.cg.new_label()?);
            self.truthy(d.armed)?;
            self.cg.cond_br(run, next)?;
            self.cg.place_label(run)?;
            self.cg.push_local(d.armed)?;
            self.cg.push_int(self.i64, 0)?;
            self.cg.store(self.mem(self.i64))?;
            if unwinding {
                self.cg.call(Callee::Direct(self.rt.defer_begin), 0)?;
            }
            self.push_ctx()?;
            for &(slot, ty) in &d.args {
                self.get(slot, ty)?;
            }
            self.at(d.span)?;
            self.cg.call(Callee::Direct(self.funcs[d.func.index()]), d.args.len() as u32 + 1)?;
            if self.p.function(d.func).ret.is_some() {
                self.cg.discard()?;
            }
            if unwinding {
                self.cg.call(Callee::Direct(self.rt.defer_end), 0)?;
            } else {
                self.panic_check()?;
            }
            self.cg.br(next)?;
            self.cg.place_label(next)?;
        }
        Ok(())
    }

    /// The label of the open function's unwind path.
    fn unwind_label(&mut self) -> Result<Label> {
        match self.unwind {
            Some(l) => Ok(l),
            None => {
                let l = self.cg.new_label()?;
                self.unwind = Some(l);
                Ok(l)
            }
        }
    }

    /// Branches to the unwind path if a panic is in flight (after a call of a
    /// toy function; the stack above the flag stays).
    fn panic_check(&mut self) -> Result<()> {
        let unwind = self.unwind_label()?;
        self.ctx_word(cfree_toy_rt::CONTEXT_PANIC)?;
        self.cg.load(MemAccess::new(self.i64).in_scope(self.flag_scope))?;
        self.cg.push_int(self.i64, 0)?;
        self.cg.int_cmp(IntCmp::Ne)?;
        self.cg.check(unwind)
    }

    /// The unwind path, if anything branches to it: the armed defers, then
    /// the zero value of the result type (the caller sees the flag, if still set).
    fn unwind_path(&mut self) -> Result<()> {
        let Some(unwind) = self.unwind.take() else { return Ok(()) };
        self.cg.place_label(unwind)?;
        self.run_defers(true)?;
        if let Some(ty) = self.ret {
            self.push_zero(ty)?;
        }
        self.cg.ret()
    }

    /// `toy.entry(n)`: registers the globals' reference words as roots, runs the
    /// initializers in source order, then returns `main(n)`.
    fn entry(&mut self) -> Result<()> {
        // The entry is compiler-made; a debugger shows it at `main`'s declaration.
        self.position(self.p.function(self.p.main).span)?;
        let sig = self.cg.ty_func(FuncSig::new(&[self.raw_ptr, self.i64], Some(self.i64)))?;
        let entry = self.cg.declare_func(ENTRY_SYMBOL, FuncDecl::new(sig).gc(GcRole::Safepoints))?;
        self.begin_generated(entry)?;
        let n = self.cg.param_slot(1, "n")?;
        self.cg.push_sym_addr(self.globals)?;
        self.cg.push_int(self.i64, i128::from(self.p.global_refs))?;
        self.cg.call(Callee::Direct(self.rt.register_globals), 2)?;
        for (i, global) in self.p.globals.iter().enumerate() {
            let v = self.value(&global.init)?;
            self.store_global(GlobalId(i as u32), v)?;
        }
        self.push_ctx()?;
        self.get(n, self.i64)?;
        // The entry's own frame is not part of the program's backtraces.
        self.cg.set_safepoint_id(cfree_toy_rt::ENTRY_SAFEPOINT_ID)?;
        self.cg.call(Callee::Direct(self.funcs[self.p.main.index()]), 2)?;
        self.cg.ret()?;
        self.failure_paths()?;
        self.poll_paths()?;
        self.unwind_path()?;
        self.cg.func_end()
    }

    /// Pushes the place of global `g`.
    fn global_place(&mut self, g: GlobalId) -> Result<TypeId> {
        let global = self.p.global(g);
        let (slot, ty) = (global.slot, self.ty(global.ty));
        self.cg.push_global(self.globals)?;
        self.cg.addr_offset(i64::from(slot * WORD), ty)?;
        Ok(ty)
    }

    /// Stores the temporary `v` into global `g` (a root: no barrier).
    fn store_global(&mut self, g: GlobalId, v: Local) -> Result<()> {
        let ty = self.global_place(g)?;
        self.get(v, ty)?;
        self.cg.store(self.mem(ty))
    }

    fn block(&mut self, stmts: &[Stmt]) -> Result<()> {
        stmts.iter().try_for_each(|s| self.stmt(s))
    }

    /// Calls the runtime's panic with `kind` at `span` if the `i1` on the stack is 1.
    fn check(&mut self, kind: i64, span: Span) -> Result<()> {
        let fail = self.cg.new_label()?;
        self.cg.check(fail)?;
        self.failures.push((fail, kind, span));
        Ok(())
    }

    /// Emits the failure paths of the function's checks (after its last
    /// terminator): each calls the runtime's panic with its kind and position.
    fn failure_paths(&mut self) -> Result<()> {
        for (fail, kind, span) in std::mem::take(&mut self.failures) {
            self.cg.place_label(fail)?;
            let (line, col) = self.p.position(span);
            self.at(span)?;
            self.cg.push_int(self.i64, i128::from(kind))?;
            self.cg.push_int(self.i64, i128::from(line))?;
            self.cg.push_int(self.i64, i128::from(col))?;
            self.cg.call(Callee::Direct(self.rt.panic), 3)?;
            let unwind = self.unwind_label()?;
            self.cg.br(unwind)?;
        }
        Ok(())
    }

    /// At a loop head: if the thread's poll word is set (a collection is
    /// requested or stopping the world), go to a poll (emitted after the body,
    /// out of the hot path) that answers it and comes back. One load of the
    /// context and a cold branch per iteration.
    fn loop_poll(&mut self, span: Span) -> Result<()> {
        if !self.poll_loops {
            return Ok(());
        }
        let poll = self.cg.new_label()?;
        self.ctx_word(cfree_toy_rt::CONTEXT_REQUEST)?;
        // Volatile, not a relaxed atomic: LLVM's alias analysis treats an
        // ordered load as touching all memory, which would keep the panic
        // flag's loads (and the checks of inlined calls) inside the loop.
        self.cg.load(MemAccess::new(self.i64).noalias(self.flag_scope).volatile())?;
        self.cg.push_int(self.i64, 0)?;
        self.cg.int_cmp(IntCmp::Ne)?;
        self.cg.check(poll)?;
        // The poll path comes back here, past the check: a thread whose word
        // stays set (collecting at every poll under stress) still makes progress.
        let resume = self.cg.new_label()?;
        self.cg.br(resume)?;
        self.cg.place_label(resume)?;
        self.polls.push((poll, resume, span));
        Ok(())
    }

    /// The outer loop of a strip-mined `for`: polls, leaves for `done` when
    /// `counter` reached `hi`, else sets the chunk's end,
    /// `counter + min(hi - counter, POLL_CHUNK)` (the difference taken unsigned,
    /// so it cannot overflow). Returns the end's slot and the outer head.
    fn chunk_limit(&mut self, counter: Local, hi: Local, done: Label, span: Span) -> Result<(Local, Label)> {
        let (outer, more) = (self.cg.new_label()?, self.cg.new_label()?);
        self.cg.place_label(outer)?;
        self.loop_poll(span)?;
        self.get(counter, self.i64)?;
        self.get(hi, self.i64)?;
        self.cg.int_cmp(IntCmp::Slt)?;
        self.cg.cond_br(more, done)?;
        self.cg.place_label(more)?;
        let limit = self.tmp(self.i64)?;
        self.cg.push_local(limit)?;
        self.get(counter, self.i64)?;
        self.get(hi, self.i64)?;
        self.get(counter, self.i64)?;
        self.cg.int_op(IntBinOp::Sub, IntFlags::NONE)?;
        self.cg.push_int(self.i64, POLL_CHUNK)?;
        self.cg.int_op(IntBinOp::UMin, IntFlags::NONE)?;
        self.cg.int_op(IntBinOp::Add, IntFlags::NONE)?;
        self.cg.store(self.mem(self.i64))?;
        Ok((limit, outer))
    }

    /// The poll paths of the function's loops: a safepoint (the runtime's
    /// `toy_poll`, which collects), then back past the loop head's check.
    fn poll_paths(&mut self) -> Result<()> {
        for (poll, resume, span) in std::mem::take(&mut self.polls) {
            self.cg.place_label(poll)?;
            self.at(span)?;
            // The poll never touches the panic flag: its loads stay hoisted out of the loop.
            let attrs = CallAttrs { noalias_scope: self.flag_scope, ..CallAttrs::default() };
            self.cg.call_with(Callee::Direct(self.rt.poll), 0, attrs)?;
            self.cg.br(resume)?;
        }
        Ok(())
    }

    /// The next safepoint's stack map ID is the source position of `span`,
    /// which is also the debug position of what follows.
    fn at(&mut self, span: Span) -> Result<()> {
        let (line, col) = self.p.position(span);
        self.position(span)?;
        self.cg.set_safepoint_id(cfree_toy_rt::safepoint_id(line, col))
    }

    /// Code from here on is at `span` (with debug information on).
    fn position(&mut self, span: Span) -> Result<()> {
        let Some(file) = self.file else { return Ok(()) };
        let (line, column) = self.p.position(span);
        self.cg.set_loc(SrcLoc::new(file, line, column))
    }

    /// Checks that reference `r` is not nil; implicit by default, so the
    /// access through `r` that follows faults instead (`doc/runtime.md`).
    fn nil_check(&mut self, r: Local, span: Span) -> Result<()> {
        let fail = self.cg.new_label()?;
        self.get(r, self.reference)?;
        self.cg.check_nonnull(fail, self.nil_checks)?;
        self.cg.discard()?;
        self.failures.push((fail, NIL, span));
        Ok(())
    }

    /// Evaluates `e` into a new temporary.
    fn value(&mut self, e: &Expr) -> Result<Local> {
        self.expr(e)?;
        let ty = self.ty(e.ty);
        self.spill(ty)
    }

    /// The address of element `index` of `array` (checked), as a derived reference on the stack.
    fn element_addr(&mut self, array: Local, index: Local, span: Span) -> Result<()> {
        self.nil_check(array, span)?;
        self.get(index, self.i64)?;
        self.get(array, self.reference)?;
        self.cg.load(self.length_access())?;
        self.cg.int_cmp(IntCmp::Uge)?;
        self.check(BOUNDS, span)?;
        self.get(array, self.reference)?;
        self.cg.addr_offset(i64::from(ARRAY_DATA_OFFSET), self.reference)?;
        self.get(index, self.i64)?;
        self.cg.addr_index(u64::from(WORD), self.reference)
    }

    fn stmt(&mut self, s: &Stmt) -> Result<()> {
        self.position(s.span)?;
        match &s.kind {
            StmtKind::Let { local, init } => {
                let v = self.value(init)?;
                self.store_local(*local, v, init.ty)
            }
            StmtKind::Assign { target, value } => {
                let ty = self.ty(target.ty);
                match &target.kind {
                    PlaceKind::Local(l) => {
                        let v = self.value(value)?;
                        self.store_local(*l, v, target.ty)
                    }
                    PlaceKind::Global(g) => {
                        let v = self.value(value)?;
                        self.store_global(*g, v)
                    }
                    PlaceKind::Field { object, field } => {
                        let o = self.value(object)?;
                        let v = self.value(value)?;
                        self.nil_check(o, target.span)?;
                        self.get(o, self.reference)?;
                        self.get(v, ty)?;
                        self.cg.managed_store(self.mem(ty), i64::from(field.offset), PointerKind::Strong)
                    }
                    PlaceKind::Index { array, index } => {
                        let a = self.value(array)?;
                        let i = self.value(index)?;
                        let v = self.value(value)?;
                        // The element's address stands for the object (offset 0): the barrier
                        // marks the card of the stored-to word.
                        self.element_addr(a, i, target.span)?;
                        self.get(v, ty)?;
                        self.cg.managed_store(self.mem(ty), 0, PointerKind::Strong)
                    }
                }
            }
            StmtKind::If { cond, then_block, else_block } => {
                let c = self.value(cond)?;
                let (yes, no, join) = (self.cg.new_label()?, self.cg.new_label()?, self.cg.new_label()?);
                self.truthy(c)?;
                self.cg.cond_br(yes, no)?;
                self.cg.place_label(yes)?;
                self.block(then_block)?;
                self.cg.br(join)?;
                self.cg.place_label(no)?;
                self.block(else_block)?;
                self.cg.br(join)?;
                self.cg.place_label(join)
            }
            StmtKind::While { cond, body } => {
                let osr = self.osr_loop();
                let (head, yes, done) = (self.cg.new_label()?, self.cg.new_label()?, self.cg.new_label()?);
                self.osr_entry(osr, None)?;
                self.cg.place_label(head)?;
                self.loop_poll(s.span)?;
                self.osr_check(osr, None)?;
                let c = self.value(cond)?;
                self.truthy(c)?;
                self.cg.cond_br(yes, done)?;
                self.cg.place_label(yes)?;
                self.loop_body(body, done, head)?;
                self.cg.br(head)?;
                self.cg.place_label(done)
            }
            StmtKind::For { var, start, end, body } => {
                let osr = self.osr_loop();
                let (lo, hi) = (self.value(start)?, self.value(end)?);
                // The hidden counter: assignments to the variable do not change the iteration.
                let counter = self.tmp(self.i64)?;
                self.cg.push_local(counter)?;
                self.get(lo, self.i64)?;
                self.cg.store(self.mem(self.i64))?;
                // An OSR loop is entered and left here, with the counter and the bound.
                self.osr_entry(osr, Some((counter, hi)))?;
                let (head, yes) = (self.cg.new_label()?, self.cg.new_label()?);
                let (next, done) = (self.cg.new_label()?, self.cg.new_label()?);
                // Strip-mined when loops poll: the outer loop polls once per chunk of
                // POLL_CHUNK iterations, so the inner loop keeps no call on any path
                // (a poll there would stop LLVM keeping values in registers across it).
                // The inner loop runs to `limit`, then goes back to `exit`.
                let (limit, exit) =
                    if self.poll_loops { self.chunk_limit(counter, hi, done, s.span)? } else { (hi, done) };
                // Once per chunk (which starts again from the counter), or per iteration.
                if self.poll_loops {
                    self.osr_check(osr, Some((counter, hi)))?;
                }
                self.cg.place_label(head)?;
                if !self.poll_loops {
                    self.osr_check(osr, Some((counter, hi)))?;
                }
                self.get(counter, self.i64)?;
                self.get(limit, self.i64)?;
                self.cg.int_cmp(IntCmp::Slt)?;
                self.cg.cond_br(yes, exit)?;
                self.cg.place_label(yes)?;
                self.cg.push_local(self.locals[var.index()])?;
                self.get(counter, self.i64)?;
                self.cg.store(self.mem(self.i64))?;
                self.loop_body(body, done, next)?;
                self.cg.place_label(next)?;
                // counter < hi here, so counter + 1 cannot overflow.
                self.cg.push_local(counter)?;
                self.get(counter, self.i64)?;
                self.cg.push_int(self.i64, 1)?;
                self.cg.int_op(IntBinOp::Add, IntFlags::NONE)?;
                self.cg.store(self.mem(self.i64))?;
                self.cg.br(head)?;
                self.cg.place_label(done)
            }
            StmtKind::Break | StmtKind::Continue => {
                let &(done, next) = self.loops.last().expect("the checker allows them only in loops");
                self.cg.br(if matches!(s.kind, StmtKind::Break) { done } else { next })
            }
            StmtKind::Return(v) if self.exit.is_some() => {
                let (exit, result) = self.exit.expect("checked");
                if let (Some(v), Some(slot)) = (v, result) {
                    let t = self.value(v)?;
                    let ty = self.ty(v.ty);
                    self.cg.push_local(slot)?;
                    self.get(t, ty)?;
                    self.cg.store(self.mem(ty))?;
                }
                self.cg.br(exit)
            }
            StmtKind::Return(v) => {
                if let Some(v) = v {
                    let t = self.value(v)?;
                    let ty = self.ty(v.ty);
                    self.get(t, ty)?;
                }
                self.cg.ret()
            }
            StmtKind::Print(args) => {
                // Every value first (a call among them may print its own line), then the line.
                let values: Vec<Option<Local>> = args
                    .iter()
                    .map(|a| match a {
                        PrintArg::Str(_) => Ok(None),
                        PrintArg::Int(e) | PrintArg::Float(e) | PrintArg::Bool(e) => self.value(e).map(Some),
                    })
                    .collect::<Result<_>>()?;
                for (a, v) in args.iter().zip(values) {
                    self.print(a, v)?;
                }
                self.print_text("\n")
            }
            StmtKind::Call { func, args } => {
                self.call(*func, args, s.span)?;
                if self.p.function(*func).ret.is_some() {
                    self.cg.discard()?;
                }
                Ok(())
            }
            StmtKind::Panic(message) => {
                let (line, col) = self.p.position(s.span);
                let text = self.string_literal(message)?;
                self.cg.push_sym_addr(text)?;
                self.cg.push_int(self.i64, message.len() as i128)?;
                self.cg.push_int(self.i64, i128::from(line))?;
                self.cg.push_int(self.i64, i128::from(col))?;
                self.at(s.span)?;
                self.cg.call(Callee::Direct(self.rt.panic_msg), 4)?;
                let unwind = self.unwind_label()?;
                self.cg.br(unwind)
            }
            StmtKind::Defer { index, args, .. } => {
                // Arguments now, into the statement's slots; then armed.
                let values: Vec<Local> = args.iter().map(|a| self.value(a)).collect::<Result<_>>()?;
                let slots = self.defers[*index as usize].clone();
                for (v, (slot, ty)) in values.into_iter().zip(slots.args) {
                    self.cg.push_local(slot)?;
                    self.get(v, ty)?;
                    self.cg.store(self.mem(ty))?;
                }
                self.cg.push_local(slots.armed)?;
                self.cg.push_int(self.i64, 1)?;
                self.cg.store(self.mem(self.i64))
            }
            StmtKind::Recover => {
                self.cg.call(Callee::Direct(self.rt.recover), 0)?;
                self.cg.discard()
            }
        }
    }

    /// The number of the `while` or `for` loop being emitted among the open
    /// function's OSR loops, if it is one (it is outside every other loop).
    fn osr_loop(&mut self) -> Option<u32> {
        if !self.osr.eligible || !self.loops.is_empty() {
            return None;
        }
        self.osr.next += 1;
        Some(self.osr.next - 1)
    }

    /// The signature of `f`'s OSR entries (the context, every variable, a
    /// `for` loop's counter and bound (0 for a `while` loop); `f`'s result)
    /// and its parameter types.
    fn osr_signature(&mut self, f: &Function) -> Result<(TypeId, Vec<TypeId>)> {
        let variables = f.locals.iter().map(|l| self.ty(l.ty));
        let types: Vec<TypeId> = std::iter::once(self.raw_ptr).chain(variables).chain([self.i64, self.i64]).collect();
        let sig = self.cg.ty_func(FuncSig::new(&types, f.ret.map(|t| self.ty(t))))?;
        Ok((sig, types))
    }

    /// Pushes the OSR table's word for the open function's loop `k` (an acquire load).
    fn load_osr_entry(&mut self, table: Sym, k: u32) -> Result<()> {
        let index = self.osr.first[self.osr.func] + k;
        self.cg.push_global(table)?;
        self.cg.addr_offset(i64::from(index) * i64::from(WORD), self.raw_ptr)?;
        let access = MemAccess::new(self.raw_ptr).noalias(self.flag_scope);
        self.cg.atomic_load(access, AtomicOrdering::Acquire, SyncScope::System)
    }

    /// Top tier, in the OSR function of loop `osr`: where its entry jumps to,
    /// setting a `for` loop's counter and bound slots from its last parameters.
    fn osr_entry(&mut self, osr: Option<u32>, for_state: Option<ForState>) -> Result<()> {
        let (Some(k), Some((target, entry, counter, bound))) = (osr, self.osr.target) else { return Ok(()) };
        if k != target {
            return Ok(());
        }
        self.cg.place_label(entry)?;
        if let Some((counter_slot, bound_slot)) = for_state {
            for (slot, param) in [(counter_slot, counter), (bound_slot, bound)] {
                self.cg.push_local(slot)?;
                self.get(param, self.i64)?;
                self.cg.store(self.mem(self.i64))?;
            }
        }
        Ok(())
    }

    /// Base tier, at the head of OSR loop `osr`: once the top tier's entry for
    /// it is in the table, leave for it (out of line, [`Self::osr_paths`]),
    /// taking a `for` loop's counter and bound along.
    fn osr_check(&mut self, osr: Option<u32>, for_state: Option<ForState>) -> Result<()> {
        let (Some(k), Some(table)) = (osr, self.osr.table) else { return Ok(()) };
        self.load_osr_entry(table, k)?;
        self.cg.push_null(self.raw_ptr)?;
        self.cg.int_cmp(IntCmp::Ne)?;
        let transfer = self.cg.new_label()?;
        self.cg.check(transfer)?;
        self.osr.paths.push((transfer, k, for_state));
        Ok(())
    }

    /// Base tier: each transfer calls the top tier's entry with the context
    /// and every variable, and returns what it returns. Its frame is left
    /// out of backtraces (the top tier's frame shows the same function).
    fn osr_paths(&mut self, f: &Function) -> Result<()> {
        let paths = std::mem::take(&mut self.osr.paths);
        if paths.is_empty() {
            return Ok(());
        }
        let (sig, types) = self.osr_signature(f)?;
        let table = self.osr.table.expect("transfers exist only with the table");
        for (transfer, k, for_state) in paths {
            self.cg.place_label(transfer)?;
            self.load_osr_entry(table, k)?;
            self.push_ctx()?;
            for (slot, &ty) in self.locals.clone().into_iter().zip(&types[1..]) {
                self.get(slot, ty)?;
            }
            match for_state {
                Some((counter, bound)) => {
                    self.get(counter, self.i64)?;
                    self.get(bound, self.i64)?;
                }
                None => {
                    self.cg.push_int(self.i64, 0)?;
                    self.cg.push_int(self.i64, 0)?;
                }
            }
            self.cg.set_safepoint_id(cfree_toy_rt::ENTRY_SAFEPOINT_ID)?;
            self.cg.call(Callee::Indirect(sig), types.len() as u32)?;
            self.panic_check()?;
            self.cg.ret()?;
        }
        Ok(())
    }

    /// A loop body with `break` going to `done` and `continue` to `next`.
    fn loop_body(&mut self, body: &[Stmt], done: Label, next: Label) -> Result<()> {
        self.loops.push((done, next));
        let result = self.block(body);
        self.loops.pop();
        result
    }

    fn store_local(&mut self, l: LocalId, v: Local, t: crate::typed::TypeId) -> Result<()> {
        let ty = self.ty(t);
        self.cg.push_local(self.locals[l.index()])?;
        self.get(v, ty)?;
        self.cg.store(self.mem(ty))
    }

    /// Pushes `i1` for a bool temporary.
    fn truthy(&mut self, c: Local) -> Result<()> {
        self.get(c, self.i64)?;
        self.cg.push_int(self.i64, 0)?;
        self.cg.int_cmp(IntCmp::Ne)
    }

    fn print_text(&mut self, text: &str) -> Result<()> {
        let sym = self.string_literal(text)?;
        self.cg.push_sym_addr(sym)?;
        self.cg.push_int(self.i64, text.len() as i128)?;
        self.cg.call(Callee::Direct(self.rt.print_str), 2)
    }

    /// The read-only data of a string literal (one per distinct text).
    fn string_literal(&mut self, text: &str) -> Result<Sym> {
        Ok(match self.strings.get(text) {
            Some(s) => *s,
            None => {
                let name = format!("toy.str.{}", self.strings.len());
                let i8 = self.cg.ty_int(IntWidth::I8)?;
                let arr = self.cg.ty_array(i8, text.len().max(1) as u64)?;
                let decl = DataDecl::new(arr).linkage(Linkage::Internal).readonly();
                let s = self.cg.declare_data(&name, decl)?;
                let bytes = if text.is_empty() { vec![0] } else { text.as_bytes().to_vec() };
                self.cg.define_data(s, &DataInit::new().bytes(&bytes))?;
                self.strings.insert(text.to_string(), s);
                s
            }
        })
    }

    /// Writes one argument of `print`, whose value (if not a string) is in `value`.
    fn print(&mut self, a: &PrintArg, value: Option<Local>) -> Result<()> {
        let (e, f) = match a {
            PrintArg::Str(s) => return self.print_text(s),
            PrintArg::Int(e) => (e, self.rt.print_int),
            PrintArg::Float(e) => (e, self.rt.print_float),
            PrintArg::Bool(e) => (e, self.rt.print_bool),
        };
        let ty = self.ty(e.ty);
        self.get(value.expect("values are evaluated first"), ty)?;
        self.cg.call(Callee::Direct(f), 1)
    }

    fn call(&mut self, func: FuncId, args: &[Expr], span: Span) -> Result<()> {
        let temps: Vec<(Local, TypeId)> =
            args.iter().map(|a| Ok((self.value(a)?, self.ty(a.ty)))).collect::<Result<_>>()?;
        self.push_ctx()?;
        for (t, ty) in &temps {
            self.get(*t, *ty)?;
        }
        self.at(span)?;
        self.cg.call(Callee::Direct(self.funcs[func.index()]), args.len() as u32 + 1)?;
        self.panic_check()
    }

    /// Pushes the value of `e`.
    fn expr(&mut self, e: &Expr) -> Result<()> {
        let (i64, f64, reference) = (self.i64, self.f64, self.reference);
        match &e.kind {
            ExprKind::Int(v) => self.cg.push_int(i64, i128::from(*v)),
            ExprKind::Float(v) => self.cg.push_f64(*v),
            ExprKind::Bool(b) => self.cg.push_int(i64, i128::from(*b)),
            ExprKind::Nil => self.cg.push_null(reference),
            ExprKind::Local(l) => {
                let ty = self.ty(e.ty);
                self.get(self.locals[l.index()], ty)
            }
            ExprKind::Global(g) => {
                let ty = self.global_place(*g)?;
                self.cg.load(self.mem(ty))
            }
            ExprKind::Call { func, args } => self.call(*func, args, e.span),
            ExprKind::Field { object, field } => {
                let o = self.value(object)?;
                self.nil_check(o, e.span)?;
                self.get(o, reference)?;
                self.cg.addr_offset(i64::from(field.offset), reference)?;
                self.cg.load(self.mem(self.ty(e.ty)))
            }
            ExprKind::Index { array, index } => {
                let a = self.value(array)?;
                let i = self.value(index)?;
                self.element_addr(a, i, e.span)?;
                self.cg.load(self.mem(self.ty(e.ty)))
            }
            ExprKind::Len(array) => {
                let a = self.value(array)?;
                self.nil_check(a, e.span)?;
                self.get(a, reference)?;
                self.cg.addr_offset(i64::from(ARRAY_LENGTH_OFFSET), reference)?;
                self.cg.load(self.length_access())
            }
            ExprKind::NewRecord { record, fields } => {
                // Field values first, so nothing can collect between the allocation and
                // the initialising stores (which therefore need no barrier).
                let values: Vec<(u32, Local)> =
                    fields.iter().map(|(index, init)| Ok((*index, self.value(init)?))).collect::<Result<_>>()?;
                let layout = self.p.record(*record);
                let header = cfree_toy_rt::record_header(u64::from(layout.size), u64::from(layout.ref_fields));
                self.at(e.span)?;
                self.push_ctx()?;
                self.cg.gc_alloc_in(header as i64, u64::from(layout.size))?;
                let obj = self.spill(reference)?;
                for (index, v) in values {
                    let f = &self.p.record(*record).fields[index as usize];
                    let (offset, ty) = (f.offset, self.ty(f.ty));
                    self.get(obj, reference)?;
                    self.cg.addr_offset(i64::from(offset), reference)?;
                    self.get(v, ty)?;
                    self.cg.store(self.mem(ty))?;
                }
                self.get(obj, reference)
            }
            ExprKind::NewArray(len) => {
                let n = self.value(len)?;
                self.get(n, i64)?;
                self.cg.push_int(i64, 0)?;
                self.cg.int_cmp(IntCmp::Slt)?;
                self.check(NEGATIVE_LENGTH, e.span)?;
                let elem = self.p.types.array_elem(e.ty).expect("array type");
                self.get(n, i64)?;
                self.cg.push_int(i64, i128::from(self.p.types.is_ref(elem)))?;
                self.at(e.span)?;
                self.cg.call(Callee::Direct(self.rt.alloc_array), 2)
            }
            ExprKind::IntArith(op, l, r) => {
                let (a, b) = (self.value(l)?, self.value(r)?);
                self.get(a, i64)?;
                self.get(b, i64)?;
                match op {
                    ArithOp::Add => self.cg.int_op(IntBinOp::Add, IntFlags::NONE),
                    ArithOp::Sub => self.cg.int_op(IntBinOp::Sub, IntFlags::NONE),
                    ArithOp::Mul => self.cg.int_op(IntBinOp::Mul, IntFlags::NONE),
                    ArithOp::Div | ArithOp::Rem => {
                        let op = if *op == ArithOp::Div { CheckedOp::SDiv } else { CheckedOp::SRem };
                        // [result, overflow]: keep both in temporaries, then branch on the flag.
                        self.cg.checked(op)?;
                        let i1 = self.cg.ty_int(IntWidth::I1)?;
                        let flag = self.spill(i1)?;
                        let result = self.spill(i64)?;
                        self.get(flag, i1)?;
                        self.check(DIVISION, e.span)?;
                        self.get(result, i64)
                    }
                }
            }
            ExprKind::FloatArith(op, l, r) => {
                let (a, b) = (self.value(l)?, self.value(r)?);
                self.get(a, f64)?;
                self.get(b, f64)?;
                let op = match op {
                    ArithOp::Add => FloatBinOp::Add,
                    ArithOp::Sub => FloatBinOp::Sub,
                    ArithOp::Mul => FloatBinOp::Mul,
                    ArithOp::Div => FloatBinOp::Div,
                    ArithOp::Rem => FloatBinOp::Rem,
                };
                self.cg.float_op(op, FastMath::NONE)
            }
            ExprKind::IntNeg(x) => {
                let v = self.value(x)?;
                self.cg.push_int(i64, 0)?;
                self.get(v, i64)?;
                self.cg.int_op(IntBinOp::Sub, IntFlags::NONE)
            }
            ExprKind::FloatNeg(x) => {
                let v = self.value(x)?;
                self.get(v, f64)?;
                self.cg.float_unop(FloatUnOp::Neg, FastMath::NONE)
            }
            ExprKind::Compare(op, l, r) => {
                let ty = self.ty(l.ty);
                let (a, b) = (self.value(l)?, self.value(r)?);
                self.get(a, ty)?;
                self.get(b, ty)?;
                if ty == f64 {
                    let pred = match op {
                        CmpOp::Eq => FloatCmp::Oeq,
                        CmpOp::Ne => FloatCmp::Une,
                        CmpOp::Lt => FloatCmp::Olt,
                        CmpOp::Le => FloatCmp::Ole,
                        CmpOp::Gt => FloatCmp::Ogt,
                        CmpOp::Ge => FloatCmp::Oge,
                    };
                    self.cg.float_cmp(pred, FastMath::NONE)?;
                } else {
                    let pred = match op {
                        CmpOp::Eq => IntCmp::Eq,
                        CmpOp::Ne => IntCmp::Ne,
                        CmpOp::Lt => IntCmp::Slt,
                        CmpOp::Le => IntCmp::Sle,
                        CmpOp::Gt => IntCmp::Sgt,
                        CmpOp::Ge => IntCmp::Sge,
                    };
                    self.cg.int_cmp(pred)?;
                }
                self.cg.cast(CastOp::ZExt, i64)
            }
            ExprKind::And(l, r) | ExprKind::Or(l, r) => {
                // result = l; if (l is the deciding value) skip r; else result = r.
                let is_and = matches!(e.kind, ExprKind::And(..));
                let result = self.value(l)?;
                let (eval_right, done) = (self.cg.new_label()?, self.cg.new_label()?);
                self.truthy(result)?;
                if is_and {
                    self.cg.cond_br(eval_right, done)?;
                } else {
                    self.cg.cond_br(done, eval_right)?;
                }
                self.cg.place_label(eval_right)?;
                let rv = self.value(r)?;
                self.cg.push_local(result)?;
                self.get(rv, i64)?;
                self.cg.store(self.mem(i64))?;
                self.cg.br(done)?;
                self.cg.place_label(done)?;
                self.get(result, i64)
            }
            ExprKind::Not(x) => {
                let v = self.value(x)?;
                self.get(v, i64)?;
                self.cg.push_int(i64, 1)?;
                self.cg.int_op(IntBinOp::Xor, IntFlags::NONE)
            }
            ExprKind::IntToFloat(x) => {
                let v = self.value(x)?;
                self.get(v, i64)?;
                self.cg.cast(CastOp::SIToFP, f64)
            }
            ExprKind::FloatToInt(x) => {
                let v = self.value(x)?;
                self.get(v, f64)?;
                self.cg.cast(CastOp::FPToSISat, i64)
            }
            ExprKind::Bitwise(op, l, r) => {
                let (a, b) = (self.value(l)?, self.value(r)?);
                self.get(a, i64)?;
                self.get(b, i64)?;
                let op = match op {
                    BitOp::And => IntBinOp::And,
                    BitOp::Or => IntBinOp::Or,
                    BitOp::Xor => IntBinOp::Xor,
                    BitOp::Shl => IntBinOp::ShlMasked,
                    BitOp::Shr => IntBinOp::AShrMasked,
                    BitOp::UShr => IntBinOp::LShrMasked,
                };
                self.cg.int_op(op, IntFlags::NONE)
            }
            ExprKind::BitNot(x) => {
                let v = self.value(x)?;
                self.get(v, i64)?;
                self.cg.push_int(i64, -1)?;
                self.cg.int_op(IntBinOp::Xor, IntFlags::NONE)
            }
            ExprKind::FloatFn(f, x) => {
                let v = self.value(x)?;
                self.get(v, f64)?;
                let op = match f {
                    FloatFn::Sqrt => FloatUnOp::Sqrt,
                    FloatFn::Abs => FloatUnOp::Abs,
                    FloatFn::Floor => FloatUnOp::Floor,
                    FloatFn::Ceil => FloatUnOp::Ceil,
                };
                self.cg.float_unop(op, FastMath::NONE)
            }
            ExprKind::IntAbs(x) => {
                // (x ^ s) - s with s = x >> 63: wraps for MIN, like the other int arithmetic.
                let v = self.value(x)?;
                self.get(v, i64)?;
                self.cg.push_int(i64, 63)?;
                self.cg.int_op(IntBinOp::AShr, IntFlags::NONE)?;
                let sign = self.spill(i64)?;
                self.get(v, i64)?;
                self.get(sign, i64)?;
                self.cg.int_op(IntBinOp::Xor, IntFlags::NONE)?;
                self.get(sign, i64)?;
                self.cg.int_op(IntBinOp::Sub, IntFlags::NONE)
            }
            ExprKind::Recover => self.cg.call(Callee::Direct(self.rt.recover), 0),
            ExprKind::Spawn { func, args } => self.spawn(*func, args),
            ExprKind::Join(task) => {
                let t = self.value(task)?;
                self.get(t, i64)?;
                self.at(e.span)?;
                self.cg.call(Callee::Direct(self.rt.join), 1)
            }
            ExprKind::MinMax(is_max, l, r) => {
                let ty = self.ty(l.ty);
                let (a, b) = (self.value(l)?, self.value(r)?);
                self.get(a, ty)?;
                self.get(b, ty)?;
                match (ty == f64, is_max) {
                    (true, false) => self.cg.float_op(FloatBinOp::Minimum, FastMath::NONE),
                    (true, true) => self.cg.float_op(FloatBinOp::Maximum, FastMath::NONE),
                    (false, false) => self.cg.int_op(IntBinOp::SMin, IntFlags::NONE),
                    (false, true) => self.cg.int_op(IntBinOp::SMax, IntFlags::NONE),
                }
            }
        }
    }
}
