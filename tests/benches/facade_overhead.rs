//! Facade overhead: what the validating value-stack emitter costs over
//! driving LLVM through inkwell by hand, and how fast LLVM turns the result
//! into an object file.
//!
//! A deterministic generator (xorshift, fixed seed) describes N functions
//! `i64 fN(i64 a, i64 b)` (default 10,000; `CFREE_BENCH_FUNCS` overrides it),
//! each with 1-3 i64 locals and 20-40 operations: integer arithmetic, logic
//! and masked shifts, udiv/urem by nonzero constants, compare-and-branch
//! diamonds storing into a local, trunc/sext/zext through i32 and i8, a load
//! of the high half of a local through a byte offset, and direct calls to an
//! earlier function or the shared helper `f0`. The description is built once,
//! outside every timed region, then emitted twice per repetition, each time
//! into a fresh context and module:
//!
//! - (a) through the facade: `LlvmContext::module` for the host,
//!   `Cg` calls, `cfree_llvm_lower::finish`, `LlvmModule::verify`;
//! - (b) directly through inkwell, building the IR the backend produces (the
//!   same entry-block allocas and parameter stores, explicitly aligned loads
//!   and stores, the same instructions and block order), with the module's
//!   triple and data layout taken from a host target machine, then `verify`.
//!
//! Emit+verify times are medians over `CFREE_BENCH_REPS` repetitions
//! (default 15, facade and inkwell interleaved). Before timing, one untimed
//! run checks that both modules have the same instruction count and print to
//! the same IR text, so the comparison is like for like. Then the facade's
//! module is optimised and emitted as an object at O0 and at O2 (median of
//! `CFREE_BENCH_OBJ_REPS`, default 3, 0 skips it; fresh module each).
//! `CFREE_BENCH_VERBOSE=1` prints every emit+verify repetition to stderr.
//!
//! Debug information (`doc/debuginfo.md`): the same facade module with `-g`
//! (a compile unit, a position per operation, parameters and locals named),
//! emit+verify and O0/O2 objects side by side with the module without it
//! (`CFREE_BENCH_DEBUG=0` skips this part, e.g. for instruction counts of the
//! two emitters alone under callgrind).
//!
//! Run: `cargo bench -p cfree-tests --bench facade_overhead`
//! (quick: `CFREE_BENCH_FUNCS=500 cargo bench -p cfree-tests --bench facade_overhead`).

use std::time::{Duration, Instant};

use cfree_facade::{
    Backend, Callee, CastOp, Cg, DebugOptions, FileId, FuncDecl, FuncSig, IntBinOp, IntCmp, IntFlags, IntWidth, Local,
    MemAccess, SourceLanguage, SrcLoc, Sym, TargetSpec, TypeId,
};
use cfree_llvm_lower::{LlvmContext, LlvmModule, OptLevel};
use inkwell::builder::Builder;
use inkwell::context::Context;
use inkwell::module::{Linkage, Module};
use inkwell::targets::{CodeModel, RelocMode, Target, TargetMachine, TargetTriple};
use inkwell::types::{FunctionType, IntType};
use inkwell::values::{BasicValue, FunctionValue, IntValue, PointerValue};
use inkwell::IntPredicate;

/// An i64 operand: a parameter, a local or a constant.
#[derive(Clone, Copy, Debug)]
enum Src {
    A,
    B,
    Local(u8),
    Const(i64),
}

/// One statement; every result goes to local `dst`.
#[derive(Clone, Copy, Debug)]
enum Op {
    /// `dst = x op y` (`nsw` only on Add); shift amounts are `y & 63`, divisors nonzero constants.
    Bin { op: IntBinOp, nsw: bool, dst: u8, x: Src, y: Src },
    /// `dst = ext(trunc x)` through i8 or i32, sign- or zero-extended.
    Narrow { dst: u8, x: Src, via_i8: bool, signed: bool },
    /// `dst = sext(*(i32 *)((char *)&local + 4))`: a byte-offset load.
    HighHalf { dst: u8, local: u8 },
    /// `if (x CMPS[pred] y) dst = t; else dst = e;` as a diamond of blocks.
    Diamond { pred: u8, x: Src, y: Src, dst: u8, t: Src, e: Src },
    /// `dst = f<callee>(x, y)` for an earlier function.
    Call { callee: u32, dst: u8, x: Src, y: Src },
}

/// One function: `ops`, then `return l0 ^ l1 ^ l2` (over the locals it has).
#[derive(Debug)]
struct FuncDesc {
    name: String,
    locals: u8,
    ops: Vec<Op>,
}

/// xorshift64*: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// Comparisons, as the facade and (same order) as inkwell spells them.
const CMPS: [IntCmp; 10] = {
    use IntCmp::*;
    [Eq, Ne, Slt, Sle, Sgt, Sge, Ult, Ule, Ugt, Uge]
};
const PREDICATES: [IntPredicate; 10] = {
    use IntPredicate::*;
    [EQ, NE, SLT, SLE, SGT, SGE, ULT, ULE, UGT, UGE]
};
const BINS: [IntBinOp; 9] = {
    use IntBinOp::*;
    [Add, Sub, Mul, And, Or, Xor, Shl, LShr, AShr]
};
const LOCAL_NAMES: [&str; 3] = ["l0", "l1", "l2"];

fn generate(n: usize) -> Vec<FuncDesc> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..n).map(|i| gen_func(&mut rng, i)).collect()
}

fn gen_func(rng: &mut Rng, index: usize) -> FuncDesc {
    let locals = 1 + rng.below(3) as u8;
    let var = |rng: &mut Rng| match rng.below(4) {
        0 => Src::A,
        1 => Src::B,
        _ => Src::Local(rng.below(u64::from(locals)) as u8),
    };
    let src = |rng: &mut Rng| if rng.below(5) == 0 { Src::Const(rng.below(2000) as i64 - 1000) } else { var(rng) };
    // Every local starts defined: l_i = (a or b) ^ (i + 1).
    let mut ops: Vec<Op> = (0..locals)
        .map(|l| Op::Bin {
            op: IntBinOp::Xor,
            nsw: false,
            dst: l,
            x: [Src::A, Src::B][l as usize % 2],
            y: Src::Const(i64::from(l) + 1),
        })
        .collect();
    let count = 20 + rng.below(21) as usize;
    while ops.len() < count {
        let dst = rng.below(u64::from(locals)) as u8;
        let op = match rng.below(100) {
            0..=49 => {
                let op = BINS[rng.below(9) as usize];
                Op::Bin { op, nsw: op == IntBinOp::Add && rng.below(2) == 0, dst, x: var(rng), y: src(rng) }
            }
            50..=59 => {
                let op = if rng.below(2) == 0 { IntBinOp::UDiv } else { IntBinOp::URem };
                Op::Bin { op, nsw: false, dst, x: var(rng), y: Src::Const(1 + rng.below(1000) as i64) }
            }
            60..=69 => Op::Narrow { dst, x: var(rng), via_i8: rng.below(2) == 1, signed: rng.below(2) == 1 },
            70..=74 => Op::HighHalf { dst, local: rng.below(u64::from(locals)) as u8 },
            75..=91 => {
                Op::Diamond { pred: rng.below(10) as u8, x: var(rng), y: src(rng), dst, t: src(rng), e: src(rng) }
            }
            _ if index == 0 => continue,
            _ => {
                let callee = if rng.below(2) == 0 { 0 } else { rng.below(index as u64) as u32 };
                Op::Call { callee, dst, x: var(rng), y: src(rng) }
            }
        };
        ops.push(op);
    }
    FuncDesc { name: format!("f{index}"), locals, ops }
}

// ---------------------------------------------------------------- (a) facade

struct FacadeTypes {
    i8: TypeId,
    i32: TypeId,
    i64: TypeId,
}

/// Lines of the imaginary source each function takes (one per operation).
const LINES_PER_FUNCTION: u32 = 64;

fn emit_facade<'ctx>(llvm: &'ctx LlvmContext, desc: &[FuncDesc]) -> cfree_llvm_lower::Result<LlvmModule<'ctx>> {
    emit_facade_with(llvm, desc, false)
}

/// The facade module, with debug information if `debug`: a position per
/// operation (function `i` starts at line `i * LINES_PER_FUNCTION + 1`).
fn emit_facade_with<'ctx>(
    llvm: &'ctx LlvmContext,
    desc: &[FuncDesc],
    debug: bool,
) -> cfree_llvm_lower::Result<LlvmModule<'ctx>> {
    let mut cg = llvm.module("bench", &TargetSpec::host())?;
    let file = if debug {
        Some(cg.enable_debug_info(DebugOptions::new(SourceLanguage::C11, "facade_overhead", "bench.c", "/bench"))?)
    } else {
        None
    };
    let t =
        FacadeTypes { i8: cg.ty_int(IntWidth::I8)?, i32: cg.ty_int(IntWidth::I32)?, i64: cg.ty_int(IntWidth::I64)? };
    let sig = cg.ty_func(FuncSig::new(&[t.i64, t.i64], Some(t.i64)))?;
    let mut syms = Vec::with_capacity(desc.len());
    for (i, f) in desc.iter().enumerate() {
        let line = file.map(|file| (file, i as u32 * LINES_PER_FUNCTION + 1));
        if let Some((file, line)) = line {
            cg.set_loc(SrcLoc::new(file, line, 1))?;
        }
        let sym = cg.declare_func(&f.name, FuncDecl::new(sig))?;
        facade_body(&mut cg, &t, sym, &syms, f, line)?;
        syms.push(sym);
    }
    cfree_llvm_lower::finish(cg)
}

fn facade_body<B: Backend>(
    cg: &mut Cg<B>,
    t: &FacadeTypes,
    sym: Sym,
    syms: &[Sym],
    f: &FuncDesc,
    debug: Option<(FileId, u32)>,
) -> cfree_facade::Result<()> {
    cg.func_begin(sym)?;
    let (a, b) = (cg.param_slot(0, "a")?, cg.param_slot(1, "b")?);
    let mut locals = [a; 3];
    for (l, name) in locals.iter_mut().zip(LOCAL_NAMES).take(usize::from(f.locals)) {
        *l = cg.local_slot(t.i64, name, 0)?;
    }
    let i64t = t.i64;
    let get = |cg: &mut Cg<B>, l: Local| -> cfree_facade::Result<()> {
        cg.push_local(l)?;
        cg.load(MemAccess::new(i64t))
    };
    let push = |cg: &mut Cg<B>, s: Src| match s {
        Src::A => get(cg, a),
        Src::B => get(cg, b),
        Src::Local(i) => get(cg, locals[usize::from(i)]),
        Src::Const(k) => cg.push_int(i64t, k.into()),
    };
    for (k, op) in f.ops.iter().enumerate() {
        if let Some((file, line)) = debug {
            cg.set_loc(SrcLoc::new(file, line + 1 + k as u32, 5))?;
        }
        match *op {
            Op::Bin { op, nsw, dst, x, y } => {
                cg.push_local(locals[usize::from(dst)])?;
                push(cg, x)?;
                push(cg, y)?;
                if matches!(op, IntBinOp::Shl | IntBinOp::LShr | IntBinOp::AShr) {
                    cg.push_int(i64t, 63)?;
                    cg.int_op(IntBinOp::And, IntFlags::NONE)?;
                }
                cg.int_op(op, if nsw { IntFlags::NSW } else { IntFlags::NONE })?;
                cg.store(MemAccess::new(i64t))?;
            }
            Op::Narrow { dst, x, via_i8, signed } => {
                cg.push_local(locals[usize::from(dst)])?;
                push(cg, x)?;
                cg.cast(CastOp::Trunc, if via_i8 { t.i8 } else { t.i32 })?;
                cg.cast(if signed { CastOp::SExt } else { CastOp::ZExt }, i64t)?;
                cg.store(MemAccess::new(i64t))?;
            }
            Op::HighHalf { dst, local } => {
                cg.push_local(locals[usize::from(dst)])?;
                cg.push_local(locals[usize::from(local)])?;
                cg.addr_offset(4, t.i32)?;
                cg.load(MemAccess::new(t.i32))?;
                cg.cast(CastOp::SExt, i64t)?;
                cg.store(MemAccess::new(i64t))?;
            }
            Op::Diamond { pred, x, y, dst, t: tv, e } => {
                let (then, otherwise, join) = (cg.new_label()?, cg.new_label()?, cg.new_label()?);
                push(cg, x)?;
                push(cg, y)?;
                cg.int_cmp(CMPS[usize::from(pred)])?;
                cg.cond_br(then, otherwise)?;
                cg.place_label(then)?;
                cg.push_local(locals[usize::from(dst)])?;
                push(cg, tv)?;
                cg.store(MemAccess::new(i64t))?;
                cg.br(join)?;
                cg.place_label(otherwise)?;
                cg.push_local(locals[usize::from(dst)])?;
                push(cg, e)?;
                cg.store(MemAccess::new(i64t))?;
                cg.place_label(join)?; // falls through
            }
            Op::Call { callee, dst, x, y } => {
                cg.push_local(locals[usize::from(dst)])?;
                push(cg, x)?;
                push(cg, y)?;
                cg.call(Callee::Direct(syms[callee as usize]), 2)?;
                cg.store(MemAccess::new(i64t))?;
            }
        }
    }
    get(cg, locals[0])?;
    for &l in &locals[1..usize::from(f.locals)] {
        get(cg, l)?;
        cg.int_op(IntBinOp::Xor, IntFlags::NONE)?;
    }
    cg.ret()?;
    cg.func_end()
}

// ------------------------------------------------------- (b) direct inkwell

const POSITIONED: &str = "builder is positioned";

struct Ink<'ctx> {
    ctx: &'ctx Context,
    builder: Builder<'ctx>,
    entry_builder: Builder<'ctx>,
    i8: IntType<'ctx>,
    i32: IntType<'ctx>,
    i64: IntType<'ctx>,
    fn_type: FunctionType<'ctx>,
}

impl<'ctx> Ink<'ctx> {
    fn load(&self, ty: IntType<'ctx>, slot: PointerValue<'ctx>, align: u32) -> IntValue<'ctx> {
        let v = self.builder.build_load(ty, slot, "").expect(POSITIONED);
        v.as_instruction_value().expect("a load").set_alignment(align).expect("load alignment");
        v.into_int_value()
    }

    fn store(&self, slot: PointerValue<'ctx>, v: IntValue<'ctx>) {
        self.builder.build_store(slot, v).expect(POSITIONED).set_alignment(8).expect("store alignment");
    }

    fn body(&self, f: FunctionValue<'ctx>, fns: &[FunctionValue<'ctx>], d: &FuncDesc) {
        let (ctx, b) = (self.ctx, &self.builder);
        let entry = ctx.append_basic_block(f, "entry");
        let start = ctx.append_basic_block(f, "start");
        let eb = &self.entry_builder;
        eb.position_at_end(entry);
        let param_slot = |i: u32, name: &str| {
            let slot = eb.build_alloca(self.i64, name).expect(POSITIONED);
            eb.build_store(slot, f.get_nth_param(i).expect("two params")).expect(POSITIONED);
            slot
        };
        let (a, bp) = (param_slot(0, "a"), param_slot(1, "b"));
        let mut locals = [a; 3];
        for (l, name) in locals.iter_mut().zip(LOCAL_NAMES).take(usize::from(d.locals)) {
            *l = eb.build_alloca(self.i64, name).expect(POSITIONED);
            l.as_instruction().expect("an alloca").set_alignment(8).expect("alloca alignment");
        }
        b.position_at_end(start);
        let val = |s: Src| match s {
            Src::A => self.load(self.i64, a, 8),
            Src::B => self.load(self.i64, bp, 8),
            Src::Local(i) => self.load(self.i64, locals[usize::from(i)], 8),
            Src::Const(k) => self.i64.const_int(k as u64, false),
        };
        for op in &d.ops {
            match *op {
                Op::Bin { op, nsw, dst, x, y } => {
                    let (x, mut y) = (val(x), val(y));
                    if matches!(op, IntBinOp::Shl | IntBinOp::LShr | IntBinOp::AShr) {
                        y = b.build_and(y, self.i64.const_int(63, false), "").expect(POSITIONED);
                    }
                    let r = match op {
                        IntBinOp::Add if nsw => b.build_int_nsw_add(x, y, ""),
                        IntBinOp::Add => b.build_int_add(x, y, ""),
                        IntBinOp::Sub => b.build_int_sub(x, y, ""),
                        IntBinOp::Mul => b.build_int_mul(x, y, ""),
                        IntBinOp::And => b.build_and(x, y, ""),
                        IntBinOp::Or => b.build_or(x, y, ""),
                        IntBinOp::Xor => b.build_xor(x, y, ""),
                        IntBinOp::Shl => b.build_left_shift(x, y, ""),
                        IntBinOp::LShr => b.build_right_shift(x, y, false, ""),
                        IntBinOp::AShr => b.build_right_shift(x, y, true, ""),
                        IntBinOp::UDiv => b.build_int_unsigned_div(x, y, ""),
                        IntBinOp::URem => b.build_int_unsigned_rem(x, y, ""),
                        _ => unreachable!("not generated"),
                    }
                    .expect(POSITIONED);
                    self.store(locals[usize::from(dst)], r);
                }
                Op::Narrow { dst, x, via_i8, signed } => {
                    let n = b.build_int_truncate(val(x), if via_i8 { self.i8 } else { self.i32 }, "");
                    let ext = if signed { Builder::build_int_s_extend } else { Builder::build_int_z_extend };
                    self.store(locals[usize::from(dst)], ext(b, n.expect(POSITIONED), self.i64, "").expect(POSITIONED));
                }
                Op::HighHalf { dst, local } => {
                    let off = self.i64.const_int(4, true);
                    // SAFETY: a GEP without `inbounds` over i8 is plain pointer arithmetic, defined
                    // for every offset, and the builder is positioned in `start` or a later block.
                    let p = unsafe { b.build_gep(self.i8, locals[usize::from(local)], &[off], "") }.expect(POSITIONED);
                    let half = self.load(self.i32, p, 4);
                    self.store(locals[usize::from(dst)], b.build_int_s_extend(half, self.i64, "").expect(POSITIONED));
                }
                Op::Diamond { pred, x, y, dst, t, e } => {
                    let then = ctx.append_basic_block(f, "");
                    let otherwise = ctx.append_basic_block(f, "");
                    let join = ctx.append_basic_block(f, "");
                    let c = b.build_int_compare(PREDICATES[usize::from(pred)], val(x), val(y), "").expect(POSITIONED);
                    b.build_conditional_branch(c, then, otherwise).expect(POSITIONED);
                    b.position_at_end(then);
                    self.store(locals[usize::from(dst)], val(t));
                    b.build_unconditional_branch(join).expect(POSITIONED);
                    b.position_at_end(otherwise);
                    self.store(locals[usize::from(dst)], val(e));
                    b.build_unconditional_branch(join).expect(POSITIONED);
                    b.position_at_end(join);
                }
                Op::Call { callee, dst, x, y } => {
                    let args = [val(x).into(), val(y).into()];
                    let call = b.build_call(fns[callee as usize], &args, "").expect(POSITIONED);
                    let r = call.try_as_basic_value().basic().expect("an i64 result").into_int_value();
                    self.store(locals[usize::from(dst)], r);
                }
            }
        }
        let mut r = val(Src::Local(0));
        for &l in &locals[1..usize::from(d.locals)] {
            r = b.build_xor(r, self.load(self.i64, l, 8), "").expect(POSITIONED);
        }
        b.build_return(Some(&r)).expect(POSITIONED);
        eb.build_unconditional_branch(start).expect(POSITIONED);
    }
}

/// The host target as the backend resolves `TargetSpec::host()`.
struct Host {
    triple: String,
    cpu: String,
    features: String,
}

fn emit_inkwell<'ctx>(ctx: &'ctx Context, host: &Host, desc: &[FuncDesc]) -> Module<'ctx> {
    let triple = TargetTriple::create(&host.triple);
    let target = Target::from_triple(&triple).expect("host target is registered");
    let tm = target
        .create_target_machine(
            &triple,
            &host.cpu,
            &host.features,
            inkwell::OptimizationLevel::Default,
            RelocMode::PIC,
            CodeModel::Default,
        )
        .expect("host target machine");
    let module = ctx.create_module("bench");
    module.set_triple(&tm.get_triple());
    module.set_data_layout(&tm.get_target_data().get_data_layout());
    let i64 = ctx.i64_type();
    let ink = Ink {
        ctx,
        builder: ctx.create_builder(),
        entry_builder: ctx.create_builder(),
        i8: ctx.i8_type(),
        i32: ctx.i32_type(),
        i64,
        fn_type: i64.fn_type(&[i64.into(), i64.into()], false),
    };
    let mut fns = Vec::with_capacity(desc.len());
    for d in desc {
        let f = module.add_function(&d.name, ink.fn_type, Some(Linkage::External));
        ink.body(f, &fns, d);
        fns.push(f);
    }
    module
}

// ------------------------------------------------------------------ driver

fn count_instructions(m: &Module<'_>) -> usize {
    m.get_functions().flat_map(|f| f.get_basic_block_iter()).map(|bb| bb.get_instructions().count()).sum()
}

/// Times of one run: emit (context, module, bodies, finish), verify, and both.
#[derive(Clone, Copy, Debug)]
struct Times {
    emit: Duration,
    verify: Duration,
    total: Duration,
}

impl Times {
    fn since(t0: Instant, emitted: Instant) -> Self {
        let end = Instant::now();
        Times { emit: emitted - t0, verify: end - emitted, total: end - t0 }
    }
}

/// Emit+verify through the facade; `inspect` sees the module after the clock stops.
fn run_facade<T>(desc: &[FuncDesc], inspect: impl FnOnce(&Module<'_>) -> T) -> (Times, T) {
    let t0 = Instant::now();
    let llvm = LlvmContext::new();
    let module = emit_facade(&llvm, desc).expect("facade emission");
    let emitted = Instant::now();
    module.verify().expect("facade module verifies");
    let times = Times::since(t0, emitted);
    (times, inspect(module.inkwell_for_tests()))
}

fn run_inkwell<T>(host: &Host, desc: &[FuncDesc], inspect: impl FnOnce(&Module<'_>) -> T) -> (Times, T) {
    let t0 = Instant::now();
    let ctx = Context::create();
    let module = emit_inkwell(&ctx, host, desc);
    let emitted = Instant::now();
    module.verify().expect("inkwell module verifies");
    let times = Times::since(t0, emitted);
    (times, inspect(&module))
}

/// Emit+verify of the facade module with or without debug information.
fn run_facade_debug(desc: &[FuncDesc], debug: bool) -> Duration {
    let t0 = Instant::now();
    let llvm = LlvmContext::new();
    let module = emit_facade_with(&llvm, desc, debug).expect("facade emission");
    module.verify().expect("facade module verifies");
    t0.elapsed()
}

/// Optimize+object at `level` on a freshly emitted facade module: (time, object bytes).
fn run_object(desc: &[FuncDesc], level: OptLevel) -> (Duration, usize) {
    run_object_with(desc, level, false)
}

/// [`run_object`], with debug information if `debug`.
fn run_object_with(desc: &[FuncDesc], level: OptLevel, debug: bool) -> (Duration, usize) {
    let llvm = LlvmContext::new();
    let mut module = emit_facade_with(&llvm, desc, debug).expect("facade emission");
    let t0 = Instant::now();
    module.optimize(level).expect("pipeline");
    let object = module.object().expect("object emission");
    (t0.elapsed(), object.len())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(s) => s.trim().parse().unwrap_or_else(|_| panic!("{name}={s:?} is not a positive integer")),
        Err(_) => default,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let n = env_usize("CFREE_BENCH_FUNCS", 10_000).max(1);
    let reps = env_usize("CFREE_BENCH_REPS", 15).max(1);
    let obj_reps = env_usize("CFREE_BENCH_OBJ_REPS", 3);
    let spec = cfree_llvm_lower::host_spec();
    let raw_triple = spec.triple.clone().expect("host triple");
    let host = Host {
        triple: TargetMachine::normalize_triple(&TargetTriple::create(&raw_triple)).as_str().to_string_lossy().into(),
        cpu: spec.cpu.clone().expect("host CPU"),
        features: spec.features.clone().expect("host features"),
    };
    let desc = generate(n);
    let ops: usize = desc.iter().map(|f| f.ops.len()).sum();

    // Honesty check (untimed; doubles as warm-up): same instructions, same IR text.
    let summary = |m: &Module<'_>| (count_instructions(m), m.print_to_string().to_string());
    let (_, (facade_insts, facade_ir)) = run_facade(&desc, summary);
    let (_, (ink_insts, ink_ir)) = run_inkwell(&host, &desc, summary);
    assert_eq!(facade_insts, ink_insts, "both emitters must build the same number of instructions");
    if facade_ir != ink_ir {
        let (l, r) = facade_ir.lines().zip(ink_ir.lines()).find(|(l, r)| l != r).unwrap_or(("<eof>", "<eof>"));
        panic!("IR differs:\n  facade:  {l}\n  inkwell: {r}");
    }
    drop((facade_ir, ink_ir));

    let (mut facade, mut ink) = (Vec::with_capacity(reps), Vec::with_capacity(reps));
    for rep in 0..reps {
        // Alternate which goes first, so neither always inherits the other's freed heap.
        if rep % 2 == 1 {
            ink.push(run_inkwell(&host, &desc, |_| ()).0);
        }
        facade.push(run_facade(&desc, |_| ()).0);
        if rep % 2 == 0 {
            ink.push(run_inkwell(&host, &desc, |_| ()).0);
        }
    }
    if std::env::var_os("CFREE_BENCH_VERBOSE").is_some() {
        for (f, i) in facade.iter().zip(&ink) {
            eprintln!("facade {f:?}\ninkwell {i:?}");
        }
    }
    let mut paired: Vec<f64> = facade.iter().zip(&ink).map(|(f, i)| ms(f.total) / ms(i.total)).collect();
    paired.sort_by(f64::total_cmp);
    let paired = paired[paired.len() / 2];
    let stat = |runs: &[Times], pick: fn(&Times) -> Duration| median(runs.iter().map(pick).collect());
    let min_total = |runs: &[Times]| runs.iter().map(|t| t.total).min().expect("reps");
    let ratio = ms(stat(&facade, |t| t.total)) / ms(stat(&ink, |t| t.total));

    let mut objects = Vec::new();
    for level in [OptLevel::O0, OptLevel::O2].into_iter().filter(|_| obj_reps > 0) {
        let runs: Vec<(Duration, usize)> = (0..obj_reps).map(|_| run_object(&desc, level)).collect();
        let size = runs[0].1;
        assert!(runs.iter().all(|r| r.1 == size), "object size is deterministic");
        objects.push((level, median(runs.into_iter().map(|r| r.0).collect()), size));
    }

    println!();
    println!("cfree-llvm facade overhead (LLVM {}, {})", cfree_llvm_lower::LLVM_MAJOR, host.triple);
    println!("host CPU: {}", host.cpu);
    println!("N = {n} functions, {ops} operations, {facade_insts} LLVM instructions per module (identical IR checked)");
    println!("fresh context per run; facade and inkwell interleaved; objects: median of {obj_reps}");
    println!();
    println!("| {reps} runs each | facade | inkwell | facade / inkwell |");
    println!("|---|---:|---:|---:|");
    let rows: [(&str, Duration, Duration); 4] = [
        ("emit (median)", stat(&facade, |t| t.emit), stat(&ink, |t| t.emit)),
        ("verify (median)", stat(&facade, |t| t.verify), stat(&ink, |t| t.verify)),
        ("**emit+verify (median)**", stat(&facade, |t| t.total), stat(&ink, |t| t.total)),
        ("emit+verify (min)", min_total(&facade), min_total(&ink)),
    ];
    for (what, f, i) in rows {
        println!("| {what} | {:.1} ms | {:.1} ms | {:.3} |", ms(f), ms(i), ms(f) / ms(i));
    }
    let per_fn = |runs: &[Times]| ms(stat(runs, |t| t.total)) * 1e3 / n as f64;
    println!("| emit+verify per function | {:.2} µs | {:.2} µs | |", per_fn(&facade), per_fn(&ink));
    println!("| emit+verify, median of paired ratios | | | {paired:.3} |");
    println!();
    println!("| object emission (facade module) | median | functions/s | object size |");
    println!("|---|---:|---:|---:|");
    for (level, t, size) in &objects {
        let rate = n as f64 / t.as_secs_f64();
        println!(
            "| optimize({level:?}) + object() | {:.1} ms | {rate:.0} | {size} bytes ({:.1} KiB) |",
            ms(*t),
            *size as f64 / 1024.0
        );
    }
    if ratio > 1.10 {
        println!("\nnote: facade/inkwell emit+verify ratio {ratio:.3} is above the 1.10 goal");
    }

    if std::env::var("CFREE_BENCH_DEBUG").is_ok_and(|v| v == "0") {
        return;
    }
    // Debug information: the same module with and without `-g`, interleaved.
    let (mut plain, mut with_g) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        plain.push(run_facade_debug(&desc, false));
        with_g.push(run_facade_debug(&desc, true));
    }
    let (plain, with_g) = (median(plain), median(with_g));
    println!();
    println!("| debug information (facade module) | without | with `-g` | with / without |");
    println!("|---|---:|---:|---:|");
    println!(
        "| emit+verify (median of {reps}) | {:.1} ms | {:.1} ms | {:.2} |",
        ms(plain),
        ms(with_g),
        ms(with_g) / ms(plain)
    );
    for level in [OptLevel::O0, OptLevel::O2].into_iter().filter(|_| obj_reps > 0) {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..obj_reps {
            a.push(run_object_with(&desc, level, false));
            b.push(run_object_with(&desc, level, true));
        }
        let (sa, sb) = (a[0].1, b[0].1);
        let (ta, tb) = (median(a.into_iter().map(|r| r.0).collect()), median(b.into_iter().map(|r| r.0).collect()));
        println!("| optimize({level:?}) + object() | {:.1} ms | {:.1} ms | {:.2} |", ms(ta), ms(tb), ms(tb) / ms(ta));
        println!(
            "| object size at {level:?} | {:.1} KiB | {:.1} KiB | {:.2} |",
            sa as f64 / 1024.0,
            sb as f64 / 1024.0,
            sb as f64 / sa as f64
        );
    }
}
