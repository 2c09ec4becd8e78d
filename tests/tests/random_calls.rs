//! Robustness property: any sequence of CG calls, valid or not, with handles
//! from the right module, the wrong module or nowhere, never panics, and
//! whatever the facade accepts forms a module that LLVM's verifier accepts and
//! compiles. This is the check that validation, not LLVM, stops bad input.

use cfree_facade::*;
use cfree_llvm_lower::{LlvmBackend, LlvmContext, OptLevel};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

#[derive(Clone, Debug)]
enum Call {
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
    Call(u8, u8),
    CallIndirect(u8, u8),
    Discard,
    Dup,
    DefineData(u8, u8),
}

fn call_strategy() -> impl Strategy<Value = Call> {
    prop_oneof![
        1 => any::<u8>().prop_map(Call::BeginFunc),
        1 => Just(Call::EndFunc),
        3 => any::<u8>().prop_map(Call::Local),
        3 => Just(Call::Label),
        3 => any::<u8>().prop_map(Call::Place),
        2 => any::<u8>().prop_map(Call::Br),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Call::CondBr(a, b)),
        2 => Just(Call::Ret),
        2 => Just(Call::Unreachable),
        6 => (any::<u8>(), prop_oneof![4 => -300i64..300, 1 => any::<i64>()]).prop_map(|(t, v)| Call::PushInt(t, v)),
        6 => any::<u8>().prop_map(Call::PushLocal),
        2 => any::<u8>().prop_map(Call::PushGlobal),
        2 => any::<u8>().prop_map(Call::PushSymAddr),
        2 => Just(Call::AddrOf),
        2 => any::<u8>().prop_map(Call::Deref),
        2 => (any::<i8>(), any::<u8>()).prop_map(|(o, t)| Call::AddrOffset(o, t)),
        6 => (any::<u8>(), any::<u8>()).prop_map(|(t, a)| Call::Load(t, a)),
        6 => (any::<u8>(), any::<u8>()).prop_map(|(t, a)| Call::Store(t, a)),
        6 => (any::<u8>(), any::<u8>()).prop_map(|(o, f)| Call::IntOp(o, f)),
        6 => any::<u8>().prop_map(Call::Cmp),
        6 => (any::<u8>(), any::<u8>()).prop_map(|(o, t)| Call::Cast(o, t)),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(s, n)| Call::Call(s, n)),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(s, n)| Call::CallIndirect(s, n)),
        2 => Just(Call::Discard),
        2 => Just(Call::Dup),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(s, n)| Call::DefineData(s, n)),
    ]
}

const OPS: [IntBinOp; 13] = [
    IntBinOp::Add,
    IntBinOp::Sub,
    IntBinOp::Mul,
    IntBinOp::And,
    IntBinOp::Or,
    IntBinOp::Xor,
    IntBinOp::Shl,
    IntBinOp::LShr,
    IntBinOp::AShr,
    IntBinOp::SDiv,
    IntBinOp::UDiv,
    IntBinOp::SRem,
    IntBinOp::URem,
];
const CASTS: [CastOp; 5] = [CastOp::SExt, CastOp::ZExt, CastOp::Trunc, CastOp::PtrToInt, CastOp::IntToPtr];

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
    let types = vec![i1, i8, i32, i64, f64, ptr, arr, rec, f0, f1, fv];
    let syms = vec![
        cg.declare_func("f0", FuncDecl::new(f0)).unwrap(),
        cg.declare_func("f1", FuncDecl::new(f1).linkage(Linkage::Weak)).unwrap(),
        cg.declare_func("fv", FuncDecl::new(fv)).unwrap(),
        cg.declare_func("f2", FuncDecl::new(f1).linkage(Linkage::ExternalWeak)).unwrap(),
        cg.declare_data("d0", DataDecl::new(i64)).unwrap(),
        cg.declare_data("d1", DataDecl::new(rec).readonly()).unwrap(),
        cg.declare_data("d2", DataDecl::new(ptr)).unwrap(),
    ];
    World { types, syms, locals: Vec::new(), labels: Vec::new() }
}

fn apply(cg: &mut Cg<LlvmBackend<'_>>, w: &mut World, foreign: &World, c: &Call) {
    // One handle in eight comes from the other module, to exercise ownership checks.
    // Half the types are i32 or i64, so that longer chains of operations type-check.
    let ty = |i: u8| match i % 8 {
        7 => pick(&foreign.types, i).unwrap(),
        0 | 2 => w.types[2],
        4 | 6 => w.types[3],
        _ => pick(&w.types, i / 8).unwrap(),
    };
    let sym = |i: u8| if i % 8 == 7 { pick(&foreign.syms, i).unwrap() } else { pick(&w.syms, i).unwrap() };
    let _ = match c {
        Call::BeginFunc(i) => {
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
        Call::EndFunc => cg.func_end(),
        Call::Local(t) => cg.local_slot(ty(*t), "l", 0).map(|l| w.locals.push(l)),
        Call::Label => cg.new_label().map(|l| w.labels.push(l)),
        Call::Place(i) => pick(&w.labels, *i).map_or(Ok(()), |l| cg.place_label(l)),
        Call::Br(i) => pick(&w.labels, *i).map_or(Ok(()), |l| cg.br(l)),
        Call::CondBr(a, b) => match (pick(&w.labels, *a), pick(&w.labels, *b)) {
            (Some(x), Some(y)) => cg.cond_br(x, y),
            _ => Ok(()),
        },
        Call::Ret => cg.ret(),
        Call::Unreachable => cg.unreachable(),
        Call::PushInt(t, v) => cg.push_int(ty(*t), i128::from(*v)),
        Call::PushLocal(i) => pick(&w.locals, *i).map_or(Ok(()), |l| cg.push_local(l)),
        Call::PushGlobal(i) => cg.push_global(sym(*i)),
        Call::PushSymAddr(i) => cg.push_sym_addr(sym(*i)),
        Call::AddrOf => cg.addr_of(),
        Call::Deref(t) => cg.deref(ty(*t)),
        Call::AddrOffset(o, t) => cg.addr_offset(i64::from(*o), ty(*t)),
        Call::Load(t, a) => cg.load(MemAccess::new(ty(*t)).align(u32::from(*a % 17))),
        Call::Store(t, a) => cg.store(MemAccess::new(ty(*t)).align(u32::from(*a % 17))),
        Call::IntOp(o, f) => {
            let flags = if *f < 192 { IntFlags::NONE } else { IntFlags::from_bits(f % 8).unwrap() };
            cg.int_op(OPS[*o as usize % OPS.len()], flags)
        }
        Call::Cmp(p) => cg.int_cmp([IntCmp::Eq, IntCmp::Slt, IntCmp::Ugt][*p as usize % 3]),
        Call::Cast(o, t) => cg.cast(CASTS[*o as usize % CASTS.len()], ty(*t)),
        Call::Call(s, n) => cg.call(Callee::Direct(sym(*s)), u32::from(n % 4)),
        Call::CallIndirect(t, n) => cg.call(Callee::Indirect(ty(*t)), u32::from(n % 4)),
        Call::Discard => cg.discard(),
        Call::Dup => cg.dup(),
        Call::DefineData(s, n) => {
            let init = match n % 3 {
                0 => DataInit::zeroed(8),
                1 => DataInit::new().bytes(&[1; 9]).reloc(sym(*s), 3).zeros(7),
                _ => DataInit::new().reloc(sym(*n), -1),
            };
            cg.define_data(sym(*s), &init)
        }
    };
}

fn check(calls: &[Call]) -> Result<(), TestCaseError> {
    let llvm = LlvmContext::new();
    let mut other = llvm.module("other", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    let foreign = setup(&mut other);
    let mut cg = llvm.module("random", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    let mut w = setup(&mut cg);
    apply(&mut cg, &mut w, &foreign, &Call::BeginFunc(1));
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
    // Weak symbols need a definition; give the leftovers trivial ones so the module can finish.
    for name in ["f1"] {
        let s = cg.symbol_by_name(name).unwrap();
        if !cg.symbol(s).unwrap().defined {
            cg.func_begin(s).unwrap();
            cg.unreachable().unwrap();
            cg.func_end().unwrap();
        }
    }
    let mut module = cfree_llvm_lower::finish(cg).map_err(|e| TestCaseError::fail(e.to_string()))?;
    if let Err(e) = module.verify() {
        return Err(TestCaseError::fail(format!("accepted calls produced invalid IR: {e}\n{}", module.ir())));
    }
    module.emit_object(OptLevel::O1).map_err(|e| TestCaseError::fail(e.to_string()))?;
    Ok(())
}

#[test]
fn random_call_sequences_never_panic_and_accepted_ones_verify() {
    let cases = std::env::var("CFREE_RANDOM_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    // Deterministic by default so CI is reproducible; CFREE_RANDOM_SEED=random explores further.
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner = match std::env::var("CFREE_RANDOM_SEED").as_deref() {
        Ok("random") => TestRunner::new(config),
        _ => TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha)),
    };
    runner.run(&prop::collection::vec(call_strategy(), 1..80), |calls| check(&calls)).unwrap();
}
