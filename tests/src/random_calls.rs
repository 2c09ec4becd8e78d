//! Random CG call sequences for the robustness property (any sequence of
//! calls, valid or not, never panics, and whatever the facade accepts forms a
//! module LLVM verifies and compiles). One [`check`] serves the proptest in
//! `tests/random_calls.rs`, the fuzz target `fuzz/fuzz_targets/cg_calls.rs`
//! and the corpus replay in `tests/fuzz_corpus.rs`. The module has a managed
//! address space, managed functions and a GC runtime with inline allocation,
//! so the GC calls and the statepoint rewrite are exercised too.

use cfree_facade::*;
use cfree_llvm_lower::{LlvmBackend, LlvmContext, OptLevel};

use crate::diff::catalog::INT_BIN as OPS;

/// One CG call, with small numbers choosing its operands among the module's
/// types, symbols, locals and labels (or foreign and forged handles).
#[derive(Clone, Debug)]
#[allow(missing_docs)]
pub enum Step {
    BeginFunc(u8),
    EndFunc,
    Local(u8),
    Label,
    Place(u8),
    Br(u8),
    CondBr(u8, u8),
    Ret,
    Unreachable,
    PushInt(u8, i64),
    PushLocal(u8),
    PushGlobal(u8),
    PushSymAddr(u8),
    AddrOf,
    Deref(u8),
    AddrOffset(i8, u8),
    Load(u8, u8),
    Store(u8, u8),
    IntOp(u8, u8),
    Cmp(u8),
    Cast(u8, u8),
    CallDirect(u8, u8),
    CallIndirect(u8, u8),
    Discard,
    Dup,
    DefineData(u8, u8),
    Swap,
    IntUn(u8),
    Checked(u8),
    FloatOp(u8, u8),
    FloatCmp(u8),
    CastChecked(u8, u8),
    Memcpy(u8, u8),
    AtomicRmw(u8, u8),
    Cmpxchg(u8, bool),
    Fence(u8),
    Freeze,
    GcAlloc(i8, u8),
    GcRootSlot(u8),
    SafepointId(u64),
    Safepoint,
    ManagedStore(u8, i8),
    Switch(u8, u8),
    Select,
    TailCall(u8, u8),
    CallWith(u8, u8, u8),
    VaOp(u8, u8),
    /// Declares data with placement facts picked by the flag bits (`doc/symbols.md`).
    DeclarePlaced(u8, u8),
    DeclareAlias(u8, u8),
    InitFini(u8, u8),
    LabelAddr(u8),
    IndirectBr(u8, u8),
    DynStack(u8, u8),
    Asm(u8, u8, u8),
    /// A source position in file `.0 % 4` (0: none; 3 is never registered).
    SetLoc(u8, u16),
    ScopeBegin,
    ScopeEnd,
    /// A decoration of a type: a name and `.1 % 4` member names.
    DescribeType(u8, u8),
}

const CASTS: [CastOp; 14] = [
    CastOp::SExt,
    CastOp::ZExt,
    CastOp::Trunc,
    CastOp::PtrToInt,
    CastOp::IntToPtr,
    CastOp::FpExt,
    CastOp::FpTrunc,
    CastOp::SIToFP,
    CastOp::UIToFP,
    CastOp::FPToSI,
    CastOp::FPToUI,
    CastOp::FPToSISat,
    CastOp::FPToUISat,
    CastOp::Bitcast,
];
const ORDERINGS: [AtomicOrdering; 5] = [
    AtomicOrdering::Relaxed,
    AtomicOrdering::Acquire,
    AtomicOrdering::Release,
    AtomicOrdering::AcqRel,
    AtomicOrdering::SeqCst,
];

struct World {
    types: Vec<TypeId>,
    syms: Vec<Sym>,
    locals: Vec<Local>,
    labels: Vec<Label>,
}

fn pick<T: Copy>(v: &[T], i: u8) -> Option<T> {
    (!v.is_empty()).then(|| v[i as usize % v.len()])
}

fn setup(cg: &mut Cg<LlvmBackend<'_>>) -> World {
    cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving()).unwrap();
    let i1 = cg.ty_int(IntWidth::I1).unwrap();
    let i8 = cg.ty_int(IntWidth::I8).unwrap();
    let i32 = cg.ty_int(IntWidth::I32).unwrap();
    let i64 = cg.ty_int(IntWidth::I64).unwrap();
    let f64 = cg.ty_float(FloatWidth::F64).unwrap();
    let ptr = cg.ty_ptr(i8, 0).unwrap();
    let arr = cg.ty_array(i32, 4).unwrap();
    let rec = cg.ty_record(&[i8, i64]).unwrap();
    let f0 = cg.ty_func(FuncSig::new(&[], None)).unwrap();
    let f1 = cg.ty_func(FuncSig::new(&[i64, ptr], Some(i32))).unwrap();
    let fv = cg.ty_func(FuncSig::new(&[i32], Some(i32)).variadic()).unwrap();
    let f32 = cg.ty_float(FloatWidth::F32).unwrap();
    let obj = cg.ty_ptr(i8, 1).unwrap();
    let fm = cg.ty_func(FuncSig::new(&[obj, i64], Some(obj))).unwrap();
    let falloc = cg.ty_func(FuncSig::new(&[i64, i64], Some(obj))).unwrap();
    let fbarrier = cg.ty_func(FuncSig::new(&[obj, i64, obj, i32], None)).unwrap();
    let pair = cg.ty_array(i64, 2).unwrap();
    // Records by value (in registers and in memory), a tailcc and a nest signature.
    let big = cg.ty_record_aligned(&[i8, arr, f64], 16).unwrap();
    let frec = cg.ty_func(FuncSig::new(&[rec, i32, big], Some(rec))).unwrap();
    let fbig = cg.ty_func(FuncSig::new(&[big, f32], Some(big))).unwrap();
    let ftail = cg.ty_func(FuncSig::new(&[i64], Some(i64)).conv(CallConv::Tail)).unwrap();
    let nest = ParamAttrs { nest: true, nonnull: true, ..ParamAttrs::default() };
    let fnest = cg.ty_func(FuncSig::with_params(vec![Param::new(ptr).attrs(nest), Param::new(i64)], None)).unwrap();
    let va_list = cg.ty_va_list().unwrap();
    let types = vec![
        i1, i8, i32, i64, f64, ptr, arr, rec, f0, f1, fv, f32, obj, fm, pair, big, frec, fbig, ftail, fnest, va_list,
    ];
    let syms = vec![
        cg.declare_func("f0", FuncDecl::new(f0)).unwrap(),
        cg.declare_func("f1", FuncDecl::new(f1).linkage(Linkage::Weak)).unwrap(),
        cg.declare_func("fv", FuncDecl::new(fv)).unwrap(),
        cg.declare_func("f2", FuncDecl::new(f1).linkage(Linkage::ExternalWeak)).unwrap(),
        cg.declare_data("d0", DataDecl::new(i64)).unwrap(),
        cg.declare_data("d1", DataDecl::new(rec).readonly()).unwrap(),
        cg.declare_data("d2", DataDecl::new(ptr)).unwrap(),
        cg.declare_func("m0", FuncDecl::new(fm).gc(GcRole::Safepoints)).unwrap(),
        cg.declare_func("m1", FuncDecl::new(f1).gc(GcRole::Safepoints)).unwrap(),
        cg.declare_func("rt_alloc", FuncDecl::new(falloc).gc(GcRole::Runtime)).unwrap(),
        cg.declare_func("rt_poll", FuncDecl::new(f0).gc(GcRole::Runtime)).unwrap(),
        cg.declare_func("rt_barrier", FuncDecl::new(fbarrier).gc(GcRole::Leaf)).unwrap(),
        cg.declare_data("rt_buffer", DataDecl::new(pair)).unwrap(),
        cg.declare_func("frec", FuncDecl::new(frec)).unwrap(),
        cg.declare_func("fbig", FuncDecl::new(fbig).attrs(FuncAttrs { noinline: true, ..FuncAttrs::default() }))
            .unwrap(),
        cg.declare_func("ftail", FuncDecl::new(ftail)).unwrap(),
        cg.declare_func("fnest", FuncDecl::new(fnest)).unwrap(),
        cg.declare_func("fvdef", FuncDecl::new(fv)).unwrap(),
    ];
    let (alloc, poll, barrier, buffer) = (syms[9], syms[10], syms[11], syms[12]);
    let inline = InlineAlloc { buffer: Some(buffer), header_bytes: 8 };
    cg.set_gc_runtime(GcRuntime::new(alloc).poll(poll).write_barrier(barrier).inline_alloc(inline)).unwrap();
    World { types, syms, locals: Vec::new(), labels: Vec::new() }
}

fn apply(cg: &mut Cg<LlvmBackend<'_>>, w: &mut World, foreign: &World, c: &Step) {
    // One handle in eight comes from the other module, to exercise ownership checks.
    // Half the types are i32 or i64, so that longer chains of operations type-check.
    let ty = |i: u8| match i % 8 {
        7 => pick(&foreign.types, i).unwrap(),
        0 | 2 => w.types[2],
        4 | 6 => w.types[3],
        5 => w.types[4],
        _ => pick(&w.types, i / 8).unwrap(),
    };
    let sym = |i: u8| if i % 8 == 7 { pick(&foreign.syms, i).unwrap() } else { pick(&w.syms, i).unwrap() };
    let _ = match c {
        Step::BeginFunc(i) => {
            let r = cg.func_begin(sym(*i));
            if r.is_ok() {
                w.locals.clear();
                w.labels.clear();
                for p in 0..4 {
                    if let Ok(l) = cg.param_slot(p, "p") {
                        w.locals.push(l);
                    }
                }
            }
            r
        }
        Step::EndFunc => cg.func_end(),
        Step::Local(t) if *t >= 128 => {
            // Flags (the address-taken promise checked by `addr_of`), 16 = unknown bits.
            let flags = SlotFlags::from_bits(u32::from(*t >> 3) % 17).unwrap_or(SlotFlags::NONE);
            cg.local_slot_with(ty(*t), "l", 0, flags).map(|l| w.locals.push(l))
        }
        Step::Local(t) => cg.local_slot(ty(*t), "l", 0).map(|l| w.locals.push(l)),
        Step::Label => cg.new_label().map(|l| w.labels.push(l)),
        Step::Place(i) => pick(&w.labels, *i).map_or(Ok(()), |l| cg.place_label(l)),
        Step::Br(i) => pick(&w.labels, *i).map_or(Ok(()), |l| cg.br(l)),
        Step::CondBr(a, b) => match (pick(&w.labels, *a), pick(&w.labels, *b)) {
            (Some(x), Some(y)) => cg.cond_br(x, y),
            _ => Ok(()),
        },
        Step::Ret => cg.ret(),
        Step::Unreachable => cg.unreachable(),
        Step::PushInt(t, v) => cg.push_int(ty(*t), i128::from(*v)),
        Step::PushLocal(i) => pick(&w.locals, *i).map_or(Ok(()), |l| cg.push_local(l)),
        Step::PushGlobal(i) => cg.push_global(sym(*i)),
        Step::PushSymAddr(i) => cg.push_sym_addr(sym(*i)),
        Step::AddrOf => cg.addr_of(),
        Step::Deref(t) => cg.deref(ty(*t)),
        Step::AddrOffset(o, t) => cg.addr_offset(i64::from(*o), ty(*t)),
        Step::Load(t, a) => cg.load(MemAccess::new(ty(*t)).align(u32::from(*a % 17))),
        Step::Store(t, a) => cg.store(MemAccess::new(ty(*t)).align(u32::from(*a % 17))),
        Step::IntOp(o, f) => {
            let flags = if *f < 192 { IntFlags::NONE } else { IntFlags::from_bits(f % 8).unwrap() };
            cg.int_op(OPS[*o as usize % OPS.len()], flags)
        }
        Step::Cmp(p) => cg.int_cmp([IntCmp::Eq, IntCmp::Slt, IntCmp::Ugt][*p as usize % 3]),
        Step::Cast(o, t) => cg.cast(CASTS[*o as usize % CASTS.len()], ty(*t)),
        Step::CallDirect(s, n) => cg.call(Callee::Direct(sym(*s)), u32::from(n % 4)),
        Step::CallIndirect(t, n) => cg.call(Callee::Indirect(ty(*t)), u32::from(n % 4)),
        Step::Discard => cg.discard(),
        Step::Dup => cg.dup(),
        Step::DefineData(s, n) => {
            let init = match (n % 4, pick(&w.labels, *n)) {
                (0, _) => DataInit::zeroed(8),
                (1, _) => DataInit::new().bytes(&[1; 9]).reloc_in(sym(*s), 3, u32::from(*n >> 2) % 300).zeros(7),
                (3, Some(l)) => DataInit::new().label_addr(l),
                _ => DataInit::new().reloc(sym(*n), -1),
            };
            cg.define_data(sym(*s), &init)
        }
        Step::Swap => cg.swap(),
        Step::IntUn(o) => cg.int_unop(
            [IntUnOp::Clz, IntUnOp::Ctz, IntUnOp::Popcount, IntUnOp::Bswap, IntUnOp::BitReverse][*o as usize % 5],
        ),
        Step::Checked(o) => {
            cg.checked([CheckedOp::SAdd, CheckedOp::UMul, CheckedOp::SDiv, CheckedOp::URem][*o as usize % 4])
        }
        Step::FloatOp(o, f) => {
            let fm = FastMath::from_bits(f & 127).unwrap();
            match o % 4 {
                0 => cg.float_op([FloatBinOp::Add, FloatBinOp::Rem, FloatBinOp::Minimum][*o as usize / 4 % 3], fm),
                1 => cg.float_unop([FloatUnOp::Neg, FloatUnOp::Sqrt, FloatUnOp::RoundEven][*o as usize / 4 % 3], fm),
                2 => cg.fma(fm),
                _ => cg.push_f64(f64::from(*f) / 3.0),
            }
        }
        Step::FloatCmp(p) => {
            cg.float_cmp([FloatCmp::Olt, FloatCmp::Uno, FloatCmp::Une][*p as usize % 3], FastMath::NONE)
        }
        Step::CastChecked(o, t) => {
            cg.cast_checked([CastOp::FPToSI, CastOp::FPToUI, CastOp::SExt][*o as usize % 3], ty(*t))
        }
        Step::Memcpy(n, a) => {
            let access = MemAccess::new(ty(*a)).align(u32::from(a % 9));
            match n % 3 {
                0 => cg.memcpy(u64::from(*n), access, access),
                1 => cg.memmove(u64::from(*n), access, access),
                _ => cg.memset(*n, u64::from(*a), access),
            }
        }
        Step::AtomicRmw(o, t) => {
            let op = [AtomicRmwOp::Add, AtomicRmwOp::Xchg, AtomicRmwOp::FAdd, AtomicRmwOp::UMax][*o as usize % 4];
            cg.atomic_rmw(op, MemAccess::new(ty(*t)), ORDERINGS[*t as usize % 5], SyncScope::System)
        }
        Step::Cmpxchg(t, weak) => cg.cmpxchg(
            MemAccess::new(ty(*t)),
            ORDERINGS[*t as usize % 5],
            ORDERINGS[*t as usize / 5 % 5],
            *weak,
            SyncScope::SingleThread,
        ),
        Step::Fence(o) => cg.fence(ORDERINGS[*o as usize % 5], SyncScope::System),
        Step::Freeze => cg.freeze(),
        Step::Switch(d, n) => match pick(&w.labels, *d) {
            // Case values step by 3 from a small negative start: some collide at i1/i8.
            Some(default) => {
                let cases: Vec<(i128, Label)> = (0..*n % 6)
                    .filter_map(|k| pick(&w.labels, d.wrapping_add(k)).map(|l| (i128::from(k) * 3 - 4, l)))
                    .collect();
                cg.switch(default, &cases)
            }
            None => Ok(()),
        },
        Step::Select => cg.select(),
        Step::TailCall(s, n) => cg.tail_call(Callee::Direct(sym(*s)), u32::from(n % 4)),
        Step::CallWith(s, n, a) => {
            let tail = [TailPolicy::None, TailPolicy::Tail, TailPolicy::NoTail][*a as usize % 3];
            let callee = if a % 2 == 0 { Callee::Direct(sym(*s)) } else { Callee::Indirect(ty(*s)) };
            cg.call_with(callee, u32::from(n % 4), CallAttrs { tail, cold: a % 5 == 0, ..CallAttrs::default() })
        }
        Step::VaOp(o, t) => match o % 6 {
            0 => cg.va_start(),
            1 => cg.va_end(),
            2 => cg.va_copy(),
            3 => cg.va_arg(ty(*t)),
            4 => cg.va_list_arg(),
            _ => pick(&w.locals, *t).map_or(Ok(()), |l| cg.va_list_of_param(l)),
        },
        Step::LabelAddr(i) => pick(&w.labels, *i).map_or(Ok(()), |l| cg.push_label_addr(l)),
        Step::Asm(a, b, c) => {
            // Mostly refused by validation; whatever is accepted must compile.
            let dirs = [AsmDir::In, AsmDir::LateOut(ty(*b)), AsmDir::Out(ty(*c)), AsmDir::InOut, AsmDir::InLateOut];
            let locs = [
                AsmLoc::Class(RegClass::Reg),
                AsmLoc::Class(RegClass::XmmReg),
                AsmLoc::Class(RegClass::RegAbcd),
                AsmLoc::Reg("rax".into()),
                AsmLoc::Reg("rsp".into()),
                AsmLoc::Tied(0),
            ];
            let mut block =
                AsmBlock::new(&[AsmArch::X86_64], ["nop", "# {0}", "# {0} {1}", "# {1} {0} {2}"][*a as usize % 4]);
            for k in 0..(a / 4) % 4 {
                let d = dirs[(b.wrapping_add(k * 3)) as usize % dirs.len()];
                let l = locs[(c.wrapping_add(k * 5)) as usize % locs.len()].clone();
                block = block.operand(d, l);
            }
            if a & 0x40 != 0 {
                block = block.clobber_abi(ClobberAbi::C);
            }
            if a & 0x80 != 0 {
                block = block.options(AsmOptions { pure: true, nomem: true, ..AsmOptions::default() });
            }
            cg.asm(&block)
        }
        Step::SetLoc(f, line) => cg.set_loc(SrcLoc::new(FileId(u32::from(f % 4)), u32::from(*line), 3)),
        Step::ScopeBegin => cg.scope_begin(),
        Step::ScopeEnd => cg.scope_end(),
        Step::DescribeType(t, n) => {
            let fields = (0..n % 4).map(|i| format!("m{i}")).collect();
            cg.describe_type(ty(*t), TypeDebugInfo { name: Some(format!("T{t}")), fields, encoding: None })
        }
        Step::IndirectBr(i, n) => {
            let dests: Vec<Label> = (0..*n % 4).filter_map(|k| pick(&w.labels, i.wrapping_add(k))).collect();
            cg.indirect_br(&dests)
        }
        Step::DynStack(o, a) => match o % 3 {
            0 => cg.alloca(u32::from(*a % 33)),
            1 => cg.stack_save(),
            _ => cg.stack_restore(),
        },
        Step::GcAlloc(d, n) => cg.gc_alloc(i64::from(*d), u64::from(*n)),
        Step::GcRootSlot(t) => cg.gc_root_slot(ty(*t), "r").map(|l| w.locals.push(l)),
        Step::SafepointId(id) => cg.set_safepoint_id(*id),
        Step::Safepoint => cg.safepoint(),
        Step::ManagedStore(t, o) => cg.managed_store(MemAccess::new(ty(*t)), i64::from(*o), PointerKind::Strong),
        Step::DeclarePlaced(t, f) => {
            const SECTIONS: [&str; 5] = [".data.fz", ".bss.fz", "a\0b", ".text.fz", ""];
            const KINDS: [ComdatKind; 5] = [
                ComdatKind::Any,
                ComdatKind::NoDeduplicate,
                ComdatKind::Largest,
                ComdatKind::ExactMatch,
                ComdatKind::SameSize,
            ];
            const MODELS: [TlsModel; 4] =
                [TlsModel::GeneralDynamic, TlsModel::LocalDynamic, TlsModel::InitialExec, TlsModel::LocalExec];
            let mut d = DataDecl::new(ty(*t));
            if f & 1 != 0 {
                d = d.comdat(Comdat::new(format!("g{}", f >> 5), KINDS[usize::from(f >> 4) % 5]));
            }
            if f & 2 != 0 {
                d = d.section(SECTIONS[usize::from(f >> 3) % 5]);
            }
            if f & 4 != 0 {
                d = d.thread_local(MODELS[usize::from(f >> 5) % 4]);
            }
            if f & 8 != 0 {
                d = d.readonly().mergeable();
            }
            if f & 16 != 0 {
                d = d.retain(if f & 32 != 0 { Retain::Linker } else { Retain::Compiler });
            }
            if f & 64 != 0 {
                d = d.linkage(Linkage::Internal);
            }
            if f & 128 != 0 {
                d = d.partition(["p", "", "q\"", "part"][usize::from(f >> 2) % 4]);
            }
            cg.declare_data(&format!("placed{}", w.syms.len()), d).map(|s| w.syms.push(s))
        }
        Step::DeclareAlias(s, l) => {
            let linkage = [Linkage::External, Linkage::Weak, Linkage::Internal, Linkage::ExternalWeak][*l as usize % 4];
            let name = format!("alias{}", w.syms.len());
            cg.declare_alias(&name, sym(*s), AliasDecl::new().linkage(linkage)).map(|a| w.syms.push(a))
        }
        Step::InitFini(s, p) => {
            let kind = if p % 2 == 0 { InitFini::Constructor } else { InitFini::Destructor };
            cg.add_init_fini(kind, sym(*s), [65535, 101, 100, 200, 0, 70000][*p as usize % 6])
        }
    };
}

/// Applies `calls` to a fresh module, closes it as a frontend would, and
/// checks that whatever the facade accepted verifies and compiles. An `Err`
/// is a finding; a panic or crash is one too.
pub fn check(calls: &[Step]) -> Result<(), String> {
    let llvm = LlvmContext::new();
    let mut other = llvm.module("other", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    let foreign = setup(&mut other);
    let mut cg = llvm.module("random", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    // Half the cases carry debug information (files 1 and 2; positions in file 3 are refused).
    if calls.len() % 4 < 2 {
        cg.enable_debug_info(DebugOptions::new(SourceLanguage::C11, "random", "r.c", "/r")).unwrap();
        cg.debug_file("r.h", "/r").unwrap();
    }
    let mut w = setup(&mut cg);
    // Half the cases start in the weak `f1`, half in the managed `m1`.
    apply(&mut cg, &mut w, &foreign, &Step::BeginFunc(if calls.len() % 2 == 0 { 1 } else { 8 }));
    for c in calls {
        apply(&mut cg, &mut w, &foreign, c);
    }
    // Try to close the open function the way a frontend would, else drop it.
    if cg.func_end().is_err() {
        while cg.discard().is_ok() {}
        let _ = cg.push_int(w.types[2], 0);
        let _ = cg.ret();
        if cg.func_end().is_err() {
            let _ = cg.func_abandon();
        }
    }
    // The weak `f1` needs a definition; give it a trivial one if the calls left none.
    let f1 = cg.symbol_by_name("f1").unwrap();
    if !cg.symbol(f1).unwrap().defined {
        cg.func_begin(f1).unwrap();
        cg.unreachable().unwrap();
        cg.func_end().unwrap();
    }
    // Internal data, COMDAT members and alias targets need definitions at `finish`: give them trivial
    // ones, as a frontend would; one that cannot be defined leaves a refused module.
    for _ in 0..64 {
        let missing = match cg.check_complete().map_err(|e| e.kind().clone()) {
            Err(ErrorKind::InvalidComdat { problem: ComdatProblem::MemberNeverDefined(n), .. }) => n,
            Err(ErrorKind::InvalidAlias { problem: AliasProblem::TargetNeverDefined(n), .. }) => n,
            Err(ErrorKind::NeverDefined { name, .. }) => name,
            _ => break,
        };
        let s = cg.symbol_by_name(&missing).unwrap();
        let defined = match &cg.symbol(s).unwrap().kind {
            SymbolKind::Data(d) => {
                let size = cg.layout(d.ty).map_or(0, |l| l.size);
                cg.define_data(s, &DataInit::zeroed(size))
            }
            SymbolKind::Func(_) => cg.func_begin(s).and_then(|()| cg.unreachable()).and_then(|()| cg.func_end()),
        };
        if defined.is_err() {
            let _ = cg.func_abandon();
            return Ok(());
        }
    }
    let mut module = cfree_llvm_lower::finish(cg).map_err(|e| e.to_string())?;
    if let Err(e) = module.verify() {
        return Err(format!("accepted calls produced invalid IR: {e}\n{}", module.ir()));
    }
    // O0 and O1 take different instruction selectors (and RS4GC runs after each pipeline).
    let level = if calls.len() % 3 == 0 { OptLevel::O0 } else { OptLevel::O1 };
    module.emit_object(level).map_err(|e| e.to_string())?;
    Ok(())
}

/// Decodes arbitrary bytes (a fuzzer's input) into calls: one byte picks the
/// call, the next ones its operands; missing bytes read as zero.
pub fn steps_from_bytes(bytes: &[u8]) -> Vec<Step> {
    let mut r = Bytes(bytes);
    let mut steps = Vec::new();
    while !r.0.is_empty() && steps.len() < 200 {
        let (a, b) = (r.u8(), r.u8());
        steps.push(match r.u8() % 59 {
            0 => Step::BeginFunc(a),
            1 => Step::EndFunc,
            2 => Step::Local(a),
            3 => Step::Label,
            4 => Step::Place(a),
            5 => Step::Br(a),
            6 => Step::CondBr(a, b),
            7 => Step::Ret,
            8 => Step::Unreachable,
            9 => Step::PushInt(a, i64::from(b as i8) * i64::from(r.u8())),
            10 => Step::PushLocal(a),
            11 => Step::PushGlobal(a),
            12 => Step::PushSymAddr(a),
            13 => Step::AddrOf,
            14 => Step::Deref(a),
            15 => Step::AddrOffset(a as i8, b),
            16 => Step::Load(a, b),
            17 => Step::Store(a, b),
            18 => Step::IntOp(a, b),
            19 => Step::Cmp(a),
            20 => Step::Cast(a, b),
            21 => Step::CallDirect(a, b),
            22 => Step::CallIndirect(a, b),
            23 => Step::Discard,
            24 => Step::Dup,
            25 => Step::DefineData(a, b),
            26 => Step::Swap,
            27 => Step::IntUn(a),
            28 => Step::Checked(a),
            29 => Step::FloatOp(a, b),
            30 => Step::FloatCmp(a),
            31 => Step::CastChecked(a, b),
            32 => Step::Memcpy(a, b),
            33 => Step::AtomicRmw(a, b),
            34 => Step::Cmpxchg(a, b % 2 == 1),
            35 => Step::Fence(a),
            36 => Step::Freeze,
            37 => Step::GcAlloc(a as i8, b),
            38 => Step::GcRootSlot(a),
            39 => Step::SafepointId(u64::from(a) << 8 | u64::from(b)),
            40 => Step::Safepoint,
            41 => Step::ManagedStore(a, b as i8),
            42 => Step::Switch(a, b),
            43 => Step::Select,
            44 => Step::TailCall(a, b),
            45 => Step::CallWith(a, b, r.u8()),
            46 => Step::VaOp(a, b),
            48 => Step::DeclarePlaced(a, b),
            49 => Step::DeclareAlias(a, b),
            50 => Step::InitFini(a, b),
            47 => Step::LabelAddr(a),
            52 => Step::IndirectBr(a, b),
            53 => Step::DynStack(a, b),
            54 => Step::Asm(a, b, r.u8()),
            55 => Step::SetLoc(a, u16::from(b)),
            56 => Step::ScopeBegin,
            57 => Step::ScopeEnd,
            58 => Step::DescribeType(a, b),
            _ => Step::IntOp(a, b),
        });
    }
    steps
}

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
}
