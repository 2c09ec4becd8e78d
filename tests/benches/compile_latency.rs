//! Compile latency and throughput, side by side (issue: compile latency): the
//! facade and its JIT against hand-written inkwell and a bare ORC LLJIT, in one
//! process, on one deterministic program.
//!
//! **Workload.** A fixed-seed generator describes N functions
//! `i64 fN(i64 a, i64 b)` of about 60 operations each (50-70): wrapping
//! integer arithmetic and logic, masked shifts, unsigned division and
//! remainder by nonzero constants, truncation through i8/i32 and extension
//! back, compare-and-branch diamonds storing into a local, and calls to
//! earlier functions (at most one call into the general call graph per
//! function, so call trees stay linear; more calls only to leaf functions).
//! The same description is emitted (a) through the facade and (b) by hand
//! with inkwell, building the IR the facade's backend builds (entry-block
//! allocas, explicitly aligned loads and stores, same instructions and block
//! order; the first check below compares the two IR texts).
//!
//! **Correctness.** Every function compiled by either side is called with
//! four argument pairs and compared with a small interpreter of the
//! description (untimed), so no figure comes from wrong code.
//!
//! **Measured** (median per function; both sides interleaved):
//! - whole-module object compile at O0 and O2 (`LlvmModule::emit_object`
//!   against `run_passes` + `write_to_memory_buffer` on the inkwell module);
//! - one-function publish at O0 and O2: functions published one unit each, in
//!   order (a unit imports the earlier functions it calls), `Jit::publish`
//!   against raw codegen + `LLVMOrcLLJITAddObjectFile` + lookup; emission of
//!   the unit is outside the timed region on both sides;
//! - batch publish of one module of 100 and of 2,000 functions, O0 and O2;
//! - both publishes also with the module's verifier off (`LlvmModule::set_verifier`),
//!   as the raw side runs none;
//! - batches also with protected functions, whose calls inside the unit bind
//!   to the bodies (and may be inlined) as the raw module's do;
//! - lazy publish of 2,000 one-function units with 1 % of the functions
//!   called (each call also compiles the units its callees are in), against
//!   publishing the whole module eagerly;
//! - tiered: 200 one-function units published with `publish_tiered`, the
//!   time per call of the last one at O0, of the `tier_up` pass, and at O2;
//! - throughput: the same set of self-contained units published from 1 and
//!   from 2 threads (each thread emits into its own LLVM context), and
//!   `Jit::publish_batch` on a pool of 1 and of 2 workers.
//!
//! The raw side runs the same pass pipeline as the facade (`default<O0>` plus
//! `function(mem2reg)` at O0, `default<O2>` at O2) with a target machine made
//! once, as llvm-lower caches it, so the ratios measure what the facade and
//! the JIT add (verification, copying the module, renaming for stable entries,
//! frame pointers, object inspection, stable entries, transactions, registry).
//!
//! Run: `cargo bench -p cfree-tests --bench compile_latency`. Knobs:
//! `CFREE_BENCH_MODULE_FUNCS` (whole-module size, default 500),
//! `CFREE_BENCH_SINGLE` (one-function publishes per level, default 200),
//! `CFREE_BENCH_REPS` (repetitions of module and batch rows, default 3),
//! `CFREE_BENCH_UNITS` (throughput units, default 40), `CFREE_BENCH_BATCH`
//! (batch sizes, default `100,2000`), `CFREE_BENCH_LEVELS` (default
//! `O0,O2`); `-- module`,
//! `-- single`, `-- batch`, `-- lazy`, `-- tiered`, `-- threads` run one part.

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cfree_facade::{
    AbiExt, Backend, Callee, CastOp, Cg, FuncDecl, FuncExport, FuncSig, IntBinOp, IntCmp, IntFlags, IntWidth, Local,
    MemAccess, ScalarType, Sym, TargetSpec, TypeId, Visibility,
};
use cfree_jit_orc::{Jit, LazyUnit, PhaseTimes, TierPolicy};
use cfree_llvm_lower::{LlvmContext, LlvmModule, OptLevel};
use inkwell::builder::Builder;
use inkwell::context::Context;
use inkwell::module::{Linkage, Module};
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{CodeModel, FileType, RelocMode, Target, TargetMachine, TargetTriple};
use inkwell::types::{FunctionType, IntType};
use inkwell::values::{BasicValue, FunctionValue};
use inkwell::IntPredicate;

// ------------------------------------------------------------- the program

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
    /// `dst = x op y`, wrapping; shift amounts are `y & 63`, divisors nonzero constants.
    Bin { op: IntBinOp, dst: u8, x: Src, y: Src },
    /// `dst = ext(trunc x)` through i8 or i32, sign- or zero-extended.
    Narrow { dst: u8, x: Src, via_i8: bool, signed: bool },
    /// `if (x CMPS[pred] y) dst = t; else dst = e;` as a diamond of blocks.
    Diamond { pred: u8, x: Src, y: Src, dst: u8, t: Src, e: Src },
    /// `dst = f<callee>(x, y)` for an earlier function.
    Call { callee: u32, dst: u8, x: Src, y: Src },
}

/// One function: `ops`, then `return l0 ^ l1 ^ ...` over its locals.
#[derive(Debug)]
struct FuncDesc {
    locals: u8,
    ops: Vec<Op>,
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

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
const MAX_LOCALS: usize = 4;
const LOCAL_NAMES: [&str; MAX_LOCALS] = ["l0", "l1", "l2", "l3"];
/// Every eighth function is a leaf (no calls); others call at most one non-leaf.
fn is_leaf(i: usize) -> bool {
    i % 8 == 0
}

fn generate(n: usize) -> Vec<FuncDesc> {
    let mut rng = Rng(0x5DEE_CE66_D1CE_4E5B);
    (0..n).map(|i| gen_func(&mut rng, i)).collect()
}

fn gen_func(rng: &mut Rng, index: usize) -> FuncDesc {
    let locals = 2 + rng.below(3) as u8;
    let var = |rng: &mut Rng| match rng.below(4) {
        0 => Src::A,
        1 => Src::B,
        _ => Src::Local(rng.below(u64::from(locals)) as u8),
    };
    let src = |rng: &mut Rng| if rng.below(5) == 0 { Src::Const(rng.below(2000) as i64 - 1000) } else { var(rng) };
    let mut ops: Vec<Op> = (0..locals)
        .map(|l| Op::Bin {
            op: IntBinOp::Xor,
            dst: l,
            x: [Src::A, Src::B][l as usize % 2],
            y: Src::Const(i64::from(l) + 1),
        })
        .collect();
    let count = 50 + rng.below(21) as usize;
    let mut deep_call = false;
    while ops.len() < count {
        let dst = rng.below(u64::from(locals)) as u8;
        let op = match rng.below(100) {
            0..=54 => Op::Bin { op: BINS[rng.below(9) as usize], dst, x: var(rng), y: src(rng) },
            55..=64 => {
                let op = if rng.below(2) == 0 { IntBinOp::UDiv } else { IntBinOp::URem };
                Op::Bin { op, dst, x: var(rng), y: Src::Const(1 + rng.below(1000) as i64) }
            }
            65..=74 => Op::Narrow { dst, x: var(rng), via_i8: rng.below(2) == 1, signed: rng.below(2) == 1 },
            75..=93 => {
                Op::Diamond { pred: rng.below(10) as u8, x: var(rng), y: src(rng), dst, t: src(rng), e: src(rng) }
            }
            _ if is_leaf(index) => continue,
            _ => {
                let callee = if deep_call {
                    (rng.below(index.div_ceil(8) as u64) * 8) as u32
                } else {
                    deep_call = true;
                    rng.below(index as u64) as u32
                };
                Op::Call { callee, dst, x: var(rng), y: src(rng) }
            }
        };
        ops.push(op);
    }
    FuncDesc { locals, ops }
}

fn name(prefix: &str, i: usize) -> String {
    format!("{prefix}f{i}")
}

/// The oracle: runs function `i` of `desc` on `(a, b)`.
fn interpret(desc: &[FuncDesc], i: usize, a: i64, b: i64) -> i64 {
    let f = &desc[i];
    let mut l = [0i64; MAX_LOCALS];
    let val = |l: &[i64; MAX_LOCALS], s: Src| match s {
        Src::A => a,
        Src::B => b,
        Src::Local(k) => l[usize::from(k)],
        Src::Const(k) => k,
    };
    for op in &f.ops {
        match *op {
            Op::Bin { op, dst, x, y } => {
                let (x, y) = (val(&l, x), val(&l, y));
                let sh = (y & 63) as u32;
                l[usize::from(dst)] = match op {
                    IntBinOp::Add => x.wrapping_add(y),
                    IntBinOp::Sub => x.wrapping_sub(y),
                    IntBinOp::Mul => x.wrapping_mul(y),
                    IntBinOp::And => x & y,
                    IntBinOp::Or => x | y,
                    IntBinOp::Xor => x ^ y,
                    IntBinOp::Shl => x << sh,
                    IntBinOp::LShr => ((x as u64) >> sh) as i64,
                    IntBinOp::AShr => x >> sh,
                    IntBinOp::UDiv => ((x as u64) / (y as u64)) as i64,
                    IntBinOp::URem => ((x as u64) % (y as u64)) as i64,
                    other => unreachable!("{other:?} is not generated"),
                };
            }
            Op::Narrow { dst, x, via_i8, signed } => {
                let x = val(&l, x);
                l[usize::from(dst)] = match (via_i8, signed) {
                    (true, true) => i64::from(x as i8),
                    (true, false) => i64::from(x as u8),
                    (false, true) => i64::from(x as i32),
                    (false, false) => i64::from(x as u32),
                };
            }
            Op::Diamond { pred, x, y, dst, t, e } => {
                let (x, y) = (val(&l, x), val(&l, y));
                let (ux, uy) = (x as u64, y as u64);
                let c = match CMPS[usize::from(pred)] {
                    IntCmp::Eq => x == y,
                    IntCmp::Ne => x != y,
                    IntCmp::Slt => x < y,
                    IntCmp::Sle => x <= y,
                    IntCmp::Sgt => x > y,
                    IntCmp::Sge => x >= y,
                    IntCmp::Ult => ux < uy,
                    IntCmp::Ule => ux <= uy,
                    IntCmp::Ugt => ux > uy,
                    IntCmp::Uge => ux >= uy,
                };
                l[usize::from(dst)] = val(&l, if c { t } else { e });
            }
            Op::Call { callee, dst, x, y } => {
                let (x, y) = (val(&l, x), val(&l, y));
                l[usize::from(dst)] = interpret(desc, callee as usize, x, y);
            }
        }
    }
    l[..usize::from(f.locals)].iter().fold(0, |acc, v| acc ^ v)
}

const INPUTS: [(i64, i64); 4] = [(0, 0), (1, -1), (123_456_789, -987_654_321), (i64::MIN, 0x7fff_ffff)];

/// Calls the compiled `f<i>` at `addr` with every input and compares with the interpreter.
fn check(desc: &[FuncDesc], i: usize, addr: u64, side: &str) {
    assert_ne!(addr, 0, "{side}: f{i} has no address");
    // SAFETY: `addr` is the linked code of `f<i>`, an `i64 (i64, i64)` function of the C
    // calling convention, compiled from `desc[i]`; its JIT outlives this call.
    let f: extern "C" fn(i64, i64) -> i64 = unsafe { std::mem::transmute(addr as usize) };
    for (a, b) in INPUTS {
        let expected = interpret(desc, i, a, b);
        assert_eq!(f(a, b), expected, "{side}: f{i}({a}, {b})");
    }
}

/// The functions `range` defines call these earlier ones, which it imports.
fn imports(desc: &[FuncDesc], range: &Range<usize>) -> Vec<usize> {
    let mut v: Vec<usize> = desc[range.clone()]
        .iter()
        .flat_map(|f| f.ops.iter())
        .filter_map(|op| match *op {
            Op::Call { callee, .. } if (callee as usize) < range.start => Some(callee as usize),
            _ => None,
        })
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

// ---------------------------------------------------------------- (a) facade

fn emit_facade<'c>(llvm: &'c LlvmContext, prefix: &str, desc: &[FuncDesc], range: Range<usize>) -> LlvmModule<'c> {
    emit_facade_as(llvm, prefix, desc, range, Visibility::Default)
}

/// [`emit_facade`] with the unit's functions of visibility `vis`.
fn emit_facade_as<'c>(
    llvm: &'c LlvmContext,
    prefix: &str,
    desc: &[FuncDesc],
    range: Range<usize>,
    vis: Visibility,
) -> LlvmModule<'c> {
    let unit = format!("{prefix}u{}", range.start);
    let mut cg = llvm.module(&unit, &TargetSpec::host()).expect("module");
    let types = [IntWidth::I8, IntWidth::I32, IntWidth::I64].map(|w| cg.ty_int(w).expect("int type"));
    let sig = cg.ty_func(FuncSig::new(&[types[2], types[2]], Some(types[2]))).expect("signature");
    let mut syms: Vec<Option<Sym>> = vec![None; range.end];
    for i in imports(desc, &range) {
        syms[i] = Some(cg.declare_func(&name(prefix, i), FuncDecl::new(sig)).expect("import"));
    }
    for i in range {
        let sym = cg.declare_func(&name(prefix, i), FuncDecl::new(sig).visibility(vis)).expect("declaration");
        facade_body(&mut cg, types, sym, &syms, &desc[i]).expect("body");
        syms[i] = Some(sym);
    }
    cfree_llvm_lower::finish(cg).expect("finish")
}

fn facade_body<B: Backend>(
    cg: &mut Cg<B>,
    [i8t, i32t, i64t]: [TypeId; 3],
    sym: Sym,
    syms: &[Option<Sym>],
    f: &FuncDesc,
) -> cfree_facade::Result<()> {
    cg.func_begin(sym)?;
    let (a, b) = (cg.param_slot(0, "a")?, cg.param_slot(1, "b")?);
    let mut locals = [a; MAX_LOCALS];
    for (l, name) in locals.iter_mut().zip(LOCAL_NAMES).take(usize::from(f.locals)) {
        *l = cg.local_slot(i64t, name, 0)?;
    }
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
    for op in &f.ops {
        match *op {
            Op::Bin { op, dst, x, y } => {
                cg.push_local(locals[usize::from(dst)])?;
                push(cg, x)?;
                push(cg, y)?;
                if matches!(op, IntBinOp::Shl | IntBinOp::LShr | IntBinOp::AShr) {
                    cg.push_int(i64t, 63)?;
                    cg.int_op(IntBinOp::And, IntFlags::NONE)?;
                }
                cg.int_op(op, IntFlags::NONE)?;
                cg.store(MemAccess::new(i64t))?;
            }
            Op::Narrow { dst, x, via_i8, signed } => {
                cg.push_local(locals[usize::from(dst)])?;
                push(cg, x)?;
                cg.cast(CastOp::Trunc, if via_i8 { i8t } else { i32t })?;
                cg.cast(if signed { CastOp::SExt } else { CastOp::ZExt }, i64t)?;
                cg.store(MemAccess::new(i64t))?;
            }
            Op::Diamond { pred, x, y, dst, t, e } => {
                let (then, otherwise, join) = (cg.new_label()?, cg.new_label()?, cg.new_label()?);
                push(cg, x)?;
                push(cg, y)?;
                cg.int_cmp(CMPS[usize::from(pred)])?;
                cg.cond_br(then, otherwise)?;
                cg.place_label(then)?;
                cg.push_local(locals[usize::from(dst)])?;
                push(cg, t)?;
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
                cg.call(Callee::Direct(syms[callee as usize].expect("callee declared")), 2)?;
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
    fn load(&self, slot: inkwell::values::PointerValue<'ctx>) -> inkwell::values::IntValue<'ctx> {
        let v = self.builder.build_load(self.i64, slot, "").expect(POSITIONED);
        v.as_instruction_value().expect("a load").set_alignment(8).expect("load alignment");
        v.into_int_value()
    }

    fn store(&self, slot: inkwell::values::PointerValue<'ctx>, v: inkwell::values::IntValue<'ctx>) {
        self.builder.build_store(slot, v).expect(POSITIONED).set_alignment(8).expect("store alignment");
    }

    fn body(&self, f: FunctionValue<'ctx>, fns: &[Option<FunctionValue<'ctx>>], d: &FuncDesc) {
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
        let mut locals = [a; MAX_LOCALS];
        for (l, name) in locals.iter_mut().zip(LOCAL_NAMES).take(usize::from(d.locals)) {
            *l = eb.build_alloca(self.i64, name).expect(POSITIONED);
            l.as_instruction().expect("an alloca").set_alignment(8).expect("alloca alignment");
        }
        b.position_at_end(start);
        let val = |s: Src| match s {
            Src::A => self.load(a),
            Src::B => self.load(bp),
            Src::Local(i) => self.load(locals[usize::from(i)]),
            Src::Const(k) => self.i64.const_int(k as u64, false),
        };
        for op in &d.ops {
            match *op {
                Op::Bin { op, dst, x, y } => {
                    let (x, mut y) = (val(x), val(y));
                    if matches!(op, IntBinOp::Shl | IntBinOp::LShr | IntBinOp::AShr) {
                        y = b.build_and(y, self.i64.const_int(63, false), "").expect(POSITIONED);
                    }
                    let r = match op {
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
                        other => unreachable!("{other:?} is not generated"),
                    }
                    .expect(POSITIONED);
                    self.store(locals[usize::from(dst)], r);
                }
                Op::Narrow { dst, x, via_i8, signed } => {
                    let n = b.build_int_truncate(val(x), if via_i8 { self.i8 } else { self.i32 }, "");
                    let ext = if signed { Builder::build_int_s_extend } else { Builder::build_int_z_extend };
                    self.store(locals[usize::from(dst)], ext(b, n.expect(POSITIONED), self.i64, "").expect(POSITIONED));
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
                    let callee = fns[callee as usize].expect("callee declared");
                    let call = b.build_call(callee, &args, "").expect(POSITIONED);
                    let r = call.try_as_basic_value().basic().expect("an i64 result").into_int_value();
                    self.store(locals[usize::from(dst)], r);
                }
            }
        }
        let mut r = val(Src::Local(0));
        for &l in &locals[1..usize::from(d.locals)] {
            r = b.build_xor(r, self.load(l), "").expect(POSITIONED);
        }
        b.build_return(Some(&r)).expect(POSITIONED);
        eb.build_unconditional_branch(start).expect(POSITIONED);
    }
}

/// The raw side's code generator: the host target machine of each level, made once.
struct Raw {
    triple: TargetTriple,
    o0: TargetMachine,
    o2: TargetMachine,
}

impl Raw {
    fn new() -> Self {
        let spec = cfree_llvm_lower::host_spec();
        let triple = TargetMachine::normalize_triple(&TargetTriple::create(spec.triple.as_deref().expect("triple")));
        let target = Target::from_triple(&triple).expect("host target is registered");
        let (cpu, features) = (spec.cpu.expect("host CPU"), spec.features.expect("host features"));
        let machine = |level| {
            target
                .create_target_machine(&triple, &cpu, &features, level, RelocMode::PIC, CodeModel::Default)
                .expect("host target machine")
        };
        let (o0, o2) = (machine(inkwell::OptimizationLevel::None), machine(inkwell::OptimizationLevel::Default));
        Raw { triple, o0, o2 }
    }

    fn machine(&self, level: OptLevel) -> &TargetMachine {
        if level == OptLevel::O0 {
            &self.o0
        } else {
            &self.o2
        }
    }

    fn emit<'ctx>(&self, ctx: &'ctx Context, prefix: &str, desc: &[FuncDesc], range: Range<usize>) -> Module<'ctx> {
        let module = ctx.create_module(&format!("{prefix}u{}", range.start));
        module.set_triple(&self.triple);
        module.set_data_layout(&self.o0.get_target_data().get_data_layout());
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
        let mut fns = vec![None; range.end];
        for i in imports(desc, &range) {
            fns[i] = Some(module.add_function(&name(prefix, i), ink.fn_type, Some(Linkage::External)));
        }
        for i in range {
            let f = module.add_function(&name(prefix, i), ink.fn_type, Some(Linkage::External));
            ink.body(f, &fns, &desc[i]);
            fns[i] = Some(f);
        }
        module
    }

    /// The facade's pipeline for `level`, then code generation.
    fn compile(&self, module: &Module<'_>, level: OptLevel) -> Vec<u8> {
        let pipeline = if level == OptLevel::O0 { "default<O0>,function(mem2reg)" } else { "default<O2>" };
        let tm = self.machine(level);
        module.run_passes(pipeline, tm, PassBuilderOptions::create()).expect("passes");
        tm.write_to_memory_buffer(module, FileType::Object).expect("codegen").as_slice().to_vec()
    }
}

/// A bare ORC LLJIT (the raw side's JIT): add an object, look symbols up.
mod ffi {
    use std::ffi::{c_char, CStr, CString};
    use std::ptr;

    use inkwell::llvm_sys::core::LLVMCreateMemoryBufferWithMemoryRangeCopy;
    use inkwell::llvm_sys::error::{LLVMDisposeErrorMessage, LLVMErrorRef, LLVMGetErrorMessage};
    use inkwell::llvm_sys::orc2::lljit::{
        LLVMOrcCreateLLJIT, LLVMOrcDisposeLLJIT, LLVMOrcLLJITAddObjectFile, LLVMOrcLLJITGetMainJITDylib,
        LLVMOrcLLJITLookup, LLVMOrcLLJITRef,
    };

    fn check(err: LLVMErrorRef, what: &str) {
        if err.is_null() {
            return;
        }
        // SAFETY: a non-null error is ours; LLVMGetErrorMessage consumes it and returns a
        // string we dispose of after copying.
        let text = unsafe {
            let msg = LLVMGetErrorMessage(err);
            let text = CStr::from_ptr(msg).to_string_lossy().into_owned();
            LLVMDisposeErrorMessage(msg);
            text
        };
        panic!("{what}: {text}");
    }

    /// An LLJIT with default settings (JITLink, the host's triple).
    pub struct RawJit(LLVMOrcLLJITRef);

    // SAFETY: LLJIT is internally synchronised; the pointer is only used through `&self`
    // methods that ORC documents as thread-safe (add and lookup lock the session).
    unsafe impl Send for RawJit {}
    // SAFETY: as above.
    unsafe impl Sync for RawJit {}

    impl RawJit {
        pub fn new() -> Self {
            let mut raw = ptr::null_mut();
            // SAFETY: a null builder asks for the default LLJIT, written to `raw` on success.
            check(unsafe { LLVMOrcCreateLLJIT(&mut raw, ptr::null_mut()) }, "LLJIT");
            RawJit(raw)
        }

        pub fn add_object(&self, object: &[u8]) {
            // SAFETY: the LLJIT is live; the buffer copies `object` and ORC owns it from here.
            let err = unsafe {
                let buf = LLVMCreateMemoryBufferWithMemoryRangeCopy(
                    object.as_ptr() as *const c_char,
                    object.len(),
                    c"raw".as_ptr(),
                );
                LLVMOrcLLJITAddObjectFile(self.0, LLVMOrcLLJITGetMainJITDylib(self.0), buf)
            };
            check(err, "add object");
        }

        pub fn lookup(&self, name: &str) -> u64 {
            let name = CString::new(name).expect("no NUL");
            let mut addr = 0;
            // SAFETY: the LLJIT is live; `name` is a C string valid for the call.
            check(unsafe { LLVMOrcLLJITLookup(self.0, &mut addr, name.as_ptr()) }, "lookup");
            addr
        }
    }

    impl Drop for RawJit {
        fn drop(&mut self) {
            // SAFETY: the LLJIT is ours and nothing uses its code after this.
            check(unsafe { LLVMOrcDisposeLLJIT(self.0) }, "dispose");
        }
    }
}
use ffi::RawJit;

// ------------------------------------------------------------------ driver

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(s) => s.trim().parse().unwrap_or_else(|_| panic!("{name}={s:?} is not a number")),
        Err(_) => default,
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

type FnSig = unsafe extern "C" fn(i64, i64) -> i64;

/// One row of the side-by-side table: per-function times of both sides.
fn row(what: &str, n: usize, facade: Duration, raw: Duration) {
    let (f, r) = (us(facade) / n as f64, us(raw) / n as f64);
    println!("| {what} | {f:.1} µs | {r:.1} µs | {:.3} |", f / r);
}

/// Whole-module object compile: facade `emit_object` vs raw passes + codegen.
fn whole_module(raw: &Raw, desc: &[FuncDesc], reps: usize) {
    let n = desc.len();
    // Like for like: the same IR text (untimed).
    {
        let llvm = LlvmContext::new();
        let facade = emit_facade(&llvm, "", desc, 0..n);
        let ctx = Context::create();
        let ink = raw.emit(&ctx, "", desc, 0..n);
        let (a, b) = (facade.ir(), ink.print_to_string().to_string());
        if a != b {
            let (l, r) = a.lines().zip(b.lines()).find(|(l, r)| l != r).unwrap_or(("<eof>", "<eof>"));
            panic!("IR differs:\n  facade:  {l}\n  inkwell: {r}");
        }
    }
    for level in levels() {
        let (mut fe, mut fc, mut re, mut rc) = (vec![], vec![], vec![], vec![]);
        for rep in 0..reps {
            // Alternate which side goes first.
            let facade = |fe: &mut Vec<Duration>, fc: &mut Vec<Duration>| {
                let llvm = LlvmContext::new();
                let mut m = timed(fe, || emit_facade(&llvm, "", desc, 0..n));
                timed(fc, || m.emit_object(level).expect("facade object"))
            };
            let inkwell = |re: &mut Vec<Duration>, rc: &mut Vec<Duration>| {
                let ctx = Context::create();
                let module = timed(re, || raw.emit(&ctx, "", desc, 0..n));
                timed(rc, || raw.compile(&module, level))
            };
            let (object, raw_object) = if rep % 2 == 0 {
                let object = facade(&mut fe, &mut fc);
                (object, inkwell(&mut re, &mut rc))
            } else {
                let raw_object = inkwell(&mut re, &mut rc);
                (facade(&mut fe, &mut fc), raw_object)
            };
            if rep == 0 {
                for (side, object) in [("facade object", &object), ("raw object", &raw_object)] {
                    let jit = RawJit::new();
                    jit.add_object(object);
                    for i in 0..n {
                        check(desc, i, jit.lookup(&name("", i)), side);
                    }
                }
            }
        }
        let (fe, fc, re, rc) = (median(fe), median(fc), median(re), median(rc));
        row(&format!("{n}-function module, emit"), n, fe, re);
        row(&format!("{n}-function module, **{level:?} object compile**"), n, fc, rc);
        row(&format!("{n}-function module, {level:?} emit + compile"), n, fe + fc, re + rc);
    }
}

/// Rows of where `publish_owned` spent its time per function (means over the
/// `functions` of the session; the facade column with the verifier, the raw
/// column without it).
fn phase_rows(what: &str, functions: usize, phases: &[PhaseTimes; 2]) {
    let us = |ns: u64| format!("{:.1} µs", ns as f64 / 1e3 / functions as f64);
    let [on, off] = phases;
    let steps = [
        ("compile", on.compile, off.compile),
        ("inspect", on.inspect, off.inspect),
        ("entries", on.entries, off.entries),
        ("lock", on.lock, off.lock),
        ("link", on.link, off.link),
        ("registry", on.registry, off.registry),
    ];
    for (step, a, b) in steps {
        println!("| {what}: {step} (verifier on / off) | {} | {} | |", us(a), us(b));
    }
}

/// Medians of each side's times.
struct Sides {
    facade_emit: Duration,
    /// `Jit::publish` (compiles a copy of the module).
    publish: Duration,
    /// `Jit::publish_owned` (compiles the module itself).
    owned: Duration,
    /// `Jit::publish_owned` of a module whose verifier is off (`LlvmModule::set_verifier`).
    unverified: Duration,
    /// `Jit::publish_owned` of a module whose functions are protected: calls
    /// inside the unit bind to the bodies (batches only).
    protected: Duration,
    /// The same with the module's verifier off.
    protected_unverified: Duration,
    /// Where the `publish_owned` sessions spent their time (verifier on, off).
    phases: [PhaseTimes; 2],
    raw_emit: Duration,
    raw: Duration,
}

/// Each side's times, one per publish (fields as in [`Sides`]).
#[derive(Default)]
struct Samples {
    facade_emit: Vec<Duration>,
    publish: Vec<Duration>,
    owned: Vec<Duration>,
    raw_emit: Vec<Duration>,
    raw: Vec<Duration>,
    unverified: Vec<Duration>,
    protected: Vec<Duration>,
    protected_unverified: Vec<Duration>,
}

impl Samples {
    fn medians(self) -> Sides {
        Sides {
            facade_emit: median(self.facade_emit),
            publish: median(self.publish),
            owned: median(self.owned),
            raw_emit: median(self.raw_emit),
            raw: median(self.raw),
            unverified: median(self.unverified),
            protected: if self.protected.is_empty() { Duration::ZERO } else { median(self.protected) },
            protected_unverified: if self.protected_unverified.is_empty() {
                Duration::ZERO
            } else {
                median(self.protected_unverified)
            },
            phases: [PhaseTimes::default(); 2],
        }
    }
}

fn timed<T>(samples: &mut Vec<Duration>, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let v = f();
    samples.push(t.elapsed());
    v
}

/// Publishes `range` of `desc` (one unit) through `Jit::publish`, `Jit::publish_owned`
/// (verifier on, off; protected functions for units of several functions) and the raw
/// path, into the given sessions; checks every function of the unit.
#[allow(clippy::too_many_arguments)]
fn publish_unit(
    raw: &Raw,
    jits: [&Jit; 5],
    raw_jit: &RawJit,
    desc: &[FuncDesc],
    range: Range<usize>,
    level: OptLevel,
    s: &mut Samples,
    turn: usize,
) {
    // The sides take turns going first.
    let sides = if range.len() > 1 { 6 } else { 4 };
    for side in (0..sides).map(|k| (k + turn) % sides) {
        match side {
            0 => {
                let llvm = LlvmContext::new();
                let m = timed(&mut s.facade_emit, || emit_facade(&llvm, "", desc, range.clone()));
                timed(&mut s.publish, || jits[0].publish(&m, level).expect("publish"));
            }
            1 => {
                let llvm = LlvmContext::new();
                let m = emit_facade(&llvm, "", desc, range.clone());
                timed(&mut s.owned, || jits[1].publish_owned(m, level).expect("publish_owned"));
            }
            2 => {
                let llvm = LlvmContext::new();
                let mut m = emit_facade(&llvm, "", desc, range.clone());
                m.set_verifier(false);
                timed(&mut s.unverified, || jits[2].publish_owned(m, level).expect("publish_owned"));
            }
            4 => {
                let llvm = LlvmContext::new();
                let m = emit_facade_as(&llvm, "", desc, range.clone(), Visibility::Protected);
                timed(&mut s.protected, || jits[3].publish_owned(m, level).expect("publish_owned"));
            }
            5 => {
                let llvm = LlvmContext::new();
                let mut m = emit_facade_as(&llvm, "", desc, range.clone(), Visibility::Protected);
                m.set_verifier(false);
                timed(&mut s.protected_unverified, || jits[4].publish_owned(m, level).expect("publish_owned"));
            }
            3 => {
                let ctx = Context::create();
                let module = timed(&mut s.raw_emit, || raw.emit(&ctx, "", desc, range.clone()));
                let addrs = timed(&mut s.raw, || {
                    raw_jit.add_object(&raw.compile(&module, level));
                    range.clone().map(|i| raw_jit.lookup(&name("", i))).collect::<Vec<u64>>()
                });
                for (i, addr) in range.clone().zip(addrs) {
                    check(desc, i, addr, "raw JIT");
                }
            }
            _ => unreachable!(),
        }
    }
    let published = if sides == 4 { &jits[..3] } else { &jits[..] };
    for jit in published {
        for i in range.clone() {
            check(desc, i, jit.get::<FnSig>(&name("", i)).expect("typed").as_fn() as usize as u64, "facade JIT");
        }
    }
}

/// Per-function medians of publishing the functions of `desc` one unit each, in order.
fn single(raw: &Raw, desc: &[FuncDesc], level: OptLevel) -> Sides {
    let (copying, owned, unverified) = (Jit::new().expect("jit"), Jit::new().expect("jit"), Jit::new().expect("jit"));
    let raw_jit = RawJit::new();
    let mut s = Samples::default();
    for i in 0..desc.len() {
        // One-function units have no calls inside the unit: no protected sides (the last two sessions).
        let jits = [&copying, &owned, &unverified, &unverified, &unverified];
        publish_unit(raw, jits, &raw_jit, desc, i..i + 1, level, &mut s, i);
    }
    Sides { phases: [owned.publish_stats().phases, unverified.publish_stats().phases], ..s.medians() }
}

/// Publishing one module of `desc.len()` functions, `reps` times into fresh sessions.
fn batch(raw: &Raw, desc: &[FuncDesc], level: OptLevel, reps: usize) -> Sides {
    let mut s = Samples::default();
    let mut phases = [PhaseTimes::default(); 2];
    for rep in 0..reps {
        let jits: [Jit; 5] = std::array::from_fn(|_| Jit::new().expect("jit"));
        publish_unit(raw, jits.each_ref(), &RawJit::new(), desc, 0..desc.len(), level, &mut s, rep);
        phases = [jits[1].publish_stats().phases, jits[2].publish_stats().phases];
    }
    // The last repetition's.
    Sides { phases, ..s.medians() }
}

/// Throughput: `units` self-contained units (the functions of `desc` under a fresh
/// prefix each), emitted and published from `threads` threads.
fn threads(desc: &[FuncDesc], units: usize, level: OptLevel, threads: usize) -> f64 {
    let jit = Jit::new().expect("jit");
    let next = std::sync::atomic::AtomicUsize::new(0);
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let llvm = LlvmContext::new();
                loop {
                    let u = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if u >= units {
                        break;
                    }
                    let m = emit_facade(&llvm, &format!("t{u}_"), desc, 0..desc.len());
                    jit.publish_owned(m, level).expect("publish");
                }
            });
        }
    });
    let rate = units as f64 / t.elapsed().as_secs_f64();
    check_units(&jit, desc, units, "t");
    rate
}

/// The same through `Jit::publish_batch` on a pool of `workers`.
fn pool(desc: &[FuncDesc], units: usize, level: OptLevel, workers: usize) -> f64 {
    let jit = Jit::new().expect("jit");
    let t = Instant::now();
    let results = jit.publish_batch(units, workers, level, |llvm, u| {
        Ok::<_, cfree_llvm_lower::Error>(emit_facade(llvm, &format!("p{u}_"), desc, 0..desc.len()))
    });
    let rate = units as f64 / t.elapsed().as_secs_f64();
    assert!(results.iter().all(Result::is_ok), "every unit published");
    check_units(&jit, desc, units, "p");
    rate
}

fn check_units(jit: &Jit, desc: &[FuncDesc], units: usize, tag: &str) {
    for u in 0..units {
        for i in 0..desc.len() {
            let f = jit.get::<FnSig>(&name(&format!("{tag}{u}_"), i)).expect("typed");
            check(desc, i, f.as_fn() as usize as u64, "threads");
        }
    }
}

/// Lazy publish of `desc` (one unit per function) with every `stride`-th function
/// called once: (publish time, time of the first calls, units compiled), checked.
fn lazy(desc: &Arc<Vec<FuncDesc>>, level: OptLevel, stride: usize) -> (Duration, Duration, u64) {
    let jit = Jit::new().expect("jit");
    let i64s = ScalarType::Int(IntWidth::I64);
    let sig = |i| FuncExport {
        name: name("", i),
        params: vec![i64s, i64s],
        result: Some(i64s),
        variadic: false,
        param_ext: vec![AbiExt::None; 2],
        result_ext: AbiExt::None,
    };
    let units: Vec<LazyUnit> =
        (0..desc.len()).map(|i| LazyUnit { name: format!("u{i}"), exports: vec![sig(i)] }).collect();
    let source = desc.clone();
    let t = Instant::now();
    jit.publish_lazy(units, level, move |llvm, i| {
        Ok::<_, cfree_llvm_lower::Error>(emit_facade(llvm, "", &source, i..i + 1))
    })
    .expect("lazy publish");
    let published = t.elapsed();
    let called: Vec<usize> = (0..desc.len()).filter(|i| i % stride == stride - 1).collect();
    let fns: Vec<FnSig> = called.iter().map(|&i| jit.get::<FnSig>(&name("", i)).expect("typed").as_fn()).collect();
    let t = Instant::now();
    for f in &fns {
        // SAFETY: an `i64 (i64, i64)` function of the generated program; it only computes.
        std::hint::black_box(unsafe { f(1, 2) });
    }
    let first_calls = t.elapsed();
    assert!(jit.take_lazy_failures().is_empty(), "every lazy unit compiled");
    for &i in &called {
        check(desc, i, jit.get::<FnSig>(&name("", i)).expect("typed").as_fn() as usize as u64, "lazy JIT");
    }
    (published, first_calls, jit.lazy_stats().compiled)
}

/// Tiered publish of `desc` (one unit per function, threshold 1,000 calls): time per
/// call of the last function at O0, the tier-up pass, time per call at O2.
fn tiered(desc: &Arc<Vec<FuncDesc>>) -> (f64, Duration, usize, f64) {
    let jit = Jit::new().expect("jit");
    let i64s = ScalarType::Int(IntWidth::I64);
    let units: Vec<LazyUnit> = (0..desc.len())
        .map(|i| LazyUnit {
            name: format!("u{i}"),
            exports: vec![FuncExport {
                name: name("", i),
                params: vec![i64s, i64s],
                result: Some(i64s),
                variadic: false,
                param_ext: vec![AbiExt::None; 2],
                result_ext: AbiExt::None,
            }],
        })
        .collect();
    let source = desc.clone();
    let policy = TierPolicy { threshold: 1_000, level: OptLevel::O2 };
    jit.publish_tiered(units, policy, move |llvm, i| {
        Ok::<_, cfree_llvm_lower::Error>(emit_facade(llvm, "", &source, i..i + 1))
    })
    .expect("tiered publish");
    let last = desc.len() - 1;
    let f = jit.get::<FnSig>(&name("", last)).expect("typed").as_fn();
    let per_call = |calls: i64| {
        let t = Instant::now();
        for k in 0..calls {
            // SAFETY: an `i64 (i64, i64)` function of the generated program; it only computes.
            std::hint::black_box(unsafe { f(std::hint::black_box(k), 3) });
        }
        t.elapsed().as_secs_f64() * 1e9 / calls as f64
    };
    per_call(2_000); // compiles what runs, at O0, and makes it hot
    let o0 = per_call(200_000);
    let t = Instant::now();
    let up = jit.tier_up().len();
    let tier_up = t.elapsed();
    let o2 = per_call(200_000);
    check(desc, last, f as usize as u64, "tiered JIT");
    assert!(jit.take_lazy_failures().is_empty(), "every unit compiled");
    (o0, tier_up, up, o2)
}

/// The levels to measure: `CFREE_BENCH_LEVELS` (e.g. `O0`), default O0 and O2.
fn levels() -> Vec<OptLevel> {
    let all = [OptLevel::O0, OptLevel::O2];
    match std::env::var("CFREE_BENCH_LEVELS") {
        Ok(s) => all.into_iter().filter(|l| s.contains(&format!("{l:?}"))).collect(),
        Err(_) => all.to_vec(),
    }
}

fn main() {
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let part = |p: &str| filter.is_empty() || filter.iter().any(|f| f == p);
    let reps = env_usize("CFREE_BENCH_REPS", 3).max(1);
    let raw = Raw::new();
    let desc = generate(2_000);
    let ops: usize = desc.iter().map(|f| f.ops.len()).sum();
    let calls = desc.iter().flat_map(|f| &f.ops).filter(|o| matches!(o, Op::Call { .. })).count();

    println!();
    println!("cfree-llvm compile latency, facade vs raw inkwell + ORC (LLVM {})", cfree_llvm_lower::LLVM_MAJOR);
    println!(
        "{} functions generated, {:.1} operations and {:.2} calls per function on average",
        desc.len(),
        ops as f64 / desc.len() as f64,
        calls as f64 / desc.len() as f64
    );
    println!("every compiled function checked against the interpreter on {} inputs", INPUTS.len());
    println!();
    println!("| per function (median) | facade | raw | facade / raw |");
    println!("|---|---:|---:|---:|");
    if part("module") {
        let n = env_usize("CFREE_BENCH_MODULE_FUNCS", 500).clamp(1, desc.len());
        whole_module(&raw, &desc[..n], reps);
    }
    if part("single") {
        let n = env_usize("CFREE_BENCH_SINGLE", 200).clamp(1, desc.len());
        for level in levels() {
            let s = single(&raw, &desc[..n], level);
            row(&format!("1-function unit ({n} in order), emit, {level:?}"), 1, s.facade_emit, s.raw_emit);
            row(&format!("1-function `publish` (copies the module), {level:?}"), 1, s.publish, s.raw);
            row(&format!("**1-function `publish_owned`, {level:?}**"), 1, s.owned, s.raw);
            row(&format!("1-function `publish_owned`, verifier off, {level:?}"), 1, s.unverified, s.raw);
            phase_rows(&format!("1-function `publish_owned`, {level:?}"), n, &s.phases);
        }
    }
    if part("batch") {
        let sizes = std::env::var("CFREE_BENCH_BATCH").unwrap_or_else(|_| "100,2000".into());
        for n in sizes.split(',').map(|s| s.trim().parse::<usize>().expect("batch sizes").clamp(1, desc.len())) {
            for level in levels() {
                let s = batch(&raw, &desc[..n], level, reps);
                row(
                    &format!("{n}-function batch, `publish`, {level:?} ({:.1} ms)", ms(s.publish)),
                    n,
                    s.publish,
                    s.raw,
                );
                row(
                    &format!("**{n}-function batch, `publish_owned`, {level:?}** ({:.1} ms)", ms(s.owned)),
                    n,
                    s.owned,
                    s.raw,
                );
                row(
                    &format!(
                        "{n}-function batch, `publish_owned`, verifier off, {level:?} ({:.1} ms)",
                        ms(s.unverified)
                    ),
                    n,
                    s.unverified,
                    s.raw,
                );
                row(
                    &format!(
                        "**{n}-function batch, `publish_owned`, protected functions, {level:?}** ({:.1} ms)",
                        ms(s.protected)
                    ),
                    n,
                    s.protected,
                    s.raw,
                );
                row(
                    &format!(
                        "{n}-function batch, `publish_owned`, protected functions, verifier off, {level:?} ({:.1} ms)",
                        ms(s.protected_unverified)
                    ),
                    n,
                    s.protected_unverified,
                    s.raw,
                );
                phase_rows(&format!("{n}-function batch, `publish_owned`, {level:?}"), n, &s.phases);
            }
        }
    }
    if part("lazy") {
        let n = 2_000.min(desc.len());
        let shared = Arc::new(desc[..n].iter().map(|f| FuncDesc { locals: f.locals, ops: f.ops.clone() }).collect());
        println!();
        println!("| lazy publish, {n} one-function units, 1 % called | publish | first calls | units compiled | eager `publish_owned` of the module |");
        println!("|---|---:|---:|---:|---:|");
        for level in levels() {
            let (published, first, compiled) = lazy(&shared, level, 100);
            let eager = batch(&raw, &desc[..n], level, 1).owned;
            println!(
                "| {level:?} | {:.1} ms | {:.1} ms | {compiled} | {:.1} ms |",
                ms(published),
                ms(first),
                ms(eager)
            );
        }
    }
    if part("tiered") {
        let shared = Arc::new(desc[..200].iter().map(|f| FuncDesc { locals: f.locals, ops: f.ops.clone() }).collect());
        let (o0, tier_up, up, o2) = tiered(&shared);
        println!();
        println!("| tiered, 200 one-function units, calls of f199 | at O0 | tier-up pass | at O2 |");
        println!("|---|---:|---:|---:|");
        println!("| per call | {o0:.0} ns | {:.1} ms ({up} hot units recompiled) | {o2:.0} ns |", ms(tier_up));
    }
    if part("threads") {
        let units = env_usize("CFREE_BENCH_UNITS", 40).max(1);
        let unit = &desc[..10];
        println!();
        println!("| throughput, {units} units of 10 functions, emit + publish | 1 thread | 2 threads | 2 / 1 |");
        println!("|---|---:|---:|---:|");
        for level in levels() {
            let (one, two) = (threads(unit, units, level, 1), threads(unit, units, level, 2));
            println!(
                "| `publish` from N threads, {level:?} | {one:.0} units/s | {two:.0} units/s | {:.2} |",
                two / one
            );
            let (one, two) = (pool(unit, units, level, 1), pool(unit, units, level, 2));
            println!(
                "| `publish_batch` on N workers, {level:?} | {one:.0} units/s | {two:.0} units/s | {:.2} |",
                two / one
            );
        }
    }
}
