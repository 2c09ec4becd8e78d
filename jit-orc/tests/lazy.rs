//! Lazy units: compiled on the first call of one of their functions, never
//! when nothing calls them; results checked against Rust; failures recorded
//! and retried instead of crashing; arguments in every register class (and on
//! the stack) survive the detour through the compiler.

#![cfg(target_arch = "x86_64")]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use cfree_facade::*;
use cfree_jit_orc::{Error, Jit, LazyUnit, TierPolicy, UnitState};
use cfree_llvm_lower::{LlvmContext, LlvmModule, OptLevel};

type Unary = unsafe extern "C" fn(i64) -> i64;

fn export(name: &str, params: usize) -> FuncExport {
    FuncExport {
        name: name.to_string(),
        params: vec![ScalarType::Int(IntWidth::I64); params],
        result: Some(ScalarType::Int(IntWidth::I64)),
        variadic: false,
        param_ext: vec![AbiExt::None; params],
        result_ext: AbiExt::None,
    }
}

/// Unit `k`: `l{k}_0(x) = x * (k + 2)` and `l{k}_1(x) = l{k}_0(x) + l{k-1}_0(x)` (for k > 0,
/// a call into another lazy unit), `+ 1` for k = 0.
fn unit_module<'c>(llvm: &'c LlvmContext, k: usize) -> LlvmModule<'c> {
    let mut cg = llvm.module(&format!("l{k}"), &TargetSpec::host()).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let other = (k > 0).then(|| cg.declare_func(&format!("l{}_0", k - 1), FuncDecl::new(sig)).unwrap());
    let f0 = cg.declare_func(&format!("l{k}_0"), FuncDecl::new(sig)).unwrap();
    cg.func_begin(f0).unwrap();
    let x = cg.param_slot(0, "x").unwrap();
    cg.push_local(x).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.push_int(i64t, k as i128 + 2).unwrap();
    cg.int_op(IntBinOp::Mul, IntFlags::NONE).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    let f1 = cg.declare_func(&format!("l{k}_1"), FuncDecl::new(sig)).unwrap();
    cg.func_begin(f1).unwrap();
    let x = cg.param_slot(0, "x").unwrap();
    cg.push_local(x).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.call(Callee::Direct(f0), 1).unwrap();
    match other {
        Some(o) => {
            cg.push_local(x).unwrap();
            cg.load(MemAccess::new(i64t)).unwrap();
            cg.call(Callee::Direct(o), 1).unwrap();
        }
        None => cg.push_int(i64t, 1).unwrap(),
    }
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    cfree_llvm_lower::finish(cg).unwrap()
}

fn units(n: usize) -> Vec<LazyUnit> {
    (0..n)
        .map(|k| LazyUnit {
            name: format!("l{k}"),
            exports: vec![export(&format!("l{k}_0"), 1), export(&format!("l{k}_1"), 1)],
        })
        .collect()
}

fn expected(k: usize, x: i64) -> i64 {
    let own = x * (k as i64 + 2);
    own + if k == 0 { 1 } else { x * (k as i64 + 1) }
}

fn call(jit: &Jit, name: &str, x: i64) -> i64 {
    let f = jit.get::<Unary>(name).unwrap();
    // SAFETY: the lazy functions compute on their argument and call each other.
    unsafe { f.call(x) }
}

/// A builder that counts the units it builds, by index.
fn counting(built: Arc<Vec<AtomicUsize>>) -> impl for<'c> Fn(&'c LlvmContext, usize) -> Result<LlvmModule<'c>, Error> {
    move |llvm, k| {
        built[k].fetch_add(1, Ordering::SeqCst);
        Ok(unit_module(llvm, k))
    }
}

#[test]
fn only_called_units_compile_and_they_are_correct() {
    const N: usize = 40;
    let jit = Jit::new().unwrap();
    let built: Arc<Vec<AtomicUsize>> = Arc::new((0..N).map(|_| AtomicUsize::new(0)).collect());
    let lazy = jit.publish_lazy(units(N), OptLevel::O1, counting(built.clone())).unwrap();
    assert!(built.iter().all(|b| b.load(Ordering::SeqCst) == 0), "publish_lazy compiles nothing");
    let registry = jit.registry();
    assert_eq!(lazy.units.len(), N);
    assert_eq!(registry.unit(lazy.units[7]).unwrap().active_exports, ["l7_0", "l7_1"]);
    assert_eq!(registry.unit(lazy.units[7]).unwrap().name, "lazy:l7");
    let entry = registry.symbol("l7_1").unwrap();
    assert!(registry.function_at(entry.body).is_none(), "an uncompiled body is a thunk, not code");

    // l7_1 compiles unit 7, whose code then calls l6_0: unit 6 compiles on that call.
    assert_eq!(call(&jit, "l7_1", 5), expected(7, 5));
    assert_eq!(call(&jit, "l7_0", -3), -3 * 9);
    assert_eq!(call(&jit, "l20_1", 11), expected(20, 11));
    assert_eq!(call(&jit, "l0_1", 2), expected(0, 2));
    // Through the raw entry too (what JIT code and saved pointers call).
    // SAFETY: `l30_1`'s stable entry is an `i64 (i64)` function.
    let entry: Unary = unsafe { std::mem::transmute(jit.address("l30_1").unwrap() as usize) };
    // SAFETY: as above; it computes on its argument.
    assert_eq!(unsafe { entry(4) }, expected(30, 4));

    let compiled: Vec<usize> = (0..N).filter(|&k| built[k].load(Ordering::SeqCst) > 0).collect();
    assert_eq!(compiled, [0, 6, 7, 19, 20, 29, 30], "exactly the units whose functions ran");
    assert!(built.iter().all(|b| b.load(Ordering::SeqCst) <= 1), "each unit compiled once");
    let stats = jit.lazy_stats();
    assert_eq!((stats.units, stats.compiled, stats.failures), (N as u64, 7, 0));
    assert_eq!(jit.publish_stats().published, 7);

    let registry = jit.registry();
    let compiled = registry.symbol("l7_1").unwrap();
    assert_ne!(compiled.unit, lazy.units[7]);
    assert_eq!(registry.unit(lazy.units[7]).unwrap().state, cfree_jit_orc::UnitState::Replaced);
    assert_eq!(&*registry.function_at(compiled.body).unwrap().name, format!("l7_1.cfree.u{}", compiled.unit.0));
    assert_eq!(registry.symbol("l8_1").unwrap().unit, lazy.units[8], "uncalled units stay lazy");
    assert_eq!(registry.unit(lazy.units[8]).unwrap().state, cfree_jit_orc::UnitState::Active);
    // Calls after compilation go straight to the body; results stay right.
    for k in [0, 6, 7, 19, 20, 29, 30] {
        assert_eq!(call(&jit, &format!("l{k}_1"), 9), expected(k, 9));
    }
    assert!(built.iter().all(|b| b.load(Ordering::SeqCst) <= 1));
    assert!(jit.take_lazy_failures().is_empty());
}

#[test]
fn first_calls_racing_on_one_unit_compile_it_once() {
    let jit = Jit::new().unwrap();
    let built: Arc<Vec<AtomicUsize>> = Arc::new((0..4).map(|_| AtomicUsize::new(0)).collect());
    jit.publish_lazy(units(4), OptLevel::O2, counting(built.clone())).unwrap();
    let start = std::sync::Barrier::new(4);
    std::thread::scope(|s| {
        for t in 0..4i64 {
            let (jit, start) = (&jit, &start);
            s.spawn(move || {
                start.wait();
                assert_eq!(call(jit, "l2_0", t), t * 4);
                assert_eq!(call(jit, "l3_1", t), expected(3, t));
            });
        }
    });
    let counts: Vec<usize> = built.iter().map(|b| b.load(Ordering::SeqCst)).collect();
    assert_eq!(counts, [0, 0, 1, 1]);
    assert_eq!(jit.lazy_stats().compiled, 2);
}

#[test]
fn a_failed_lazy_compile_is_reported_and_retried() {
    let jit = Jit::new().unwrap();
    let fail = Arc::new(AtomicBool::new(true));
    let flag = fail.clone();
    jit.publish_lazy(units(2), OptLevel::O0, move |llvm, k| {
        if k == 1 && flag.load(Ordering::SeqCst) {
            Err(Error::NoSuchFunction("the frontend refused".into()))
        } else {
            Ok(unit_module(llvm, k))
        }
    })
    .unwrap();
    assert_eq!(call(&jit, "l1_1", 3), 0, "a unit that cannot compile returns zero");
    let failures = jit.take_lazy_failures();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].unit, "l1");
    assert!(matches!(failures[0].error, Error::Build { index: 1, .. }), "{:?}", failures[0].error);
    let lazy_units = jit.registry().units().filter(|u| u.name.starts_with("lazy:")).count();
    assert_eq!(lazy_units, 2);
    assert!(jit.registry().unit(jit.registry().symbol("l1_1").unwrap().unit).unwrap().name == "lazy:l1");
    fail.store(false, Ordering::SeqCst);
    assert_eq!(call(&jit, "l1_1", 3), expected(1, 3), "the next call compiles it");
    let stats = jit.lazy_stats();
    assert_eq!((stats.compiled, stats.failures), (2, 1));
}

#[test]
fn a_unit_built_with_other_exports_is_refused() {
    let jit = Jit::new().unwrap();
    let mut declared = units(1);
    declared[0].exports[1] = export("l0_1", 2); // declared with two parameters, built with one
    jit.publish_lazy(declared, OptLevel::O0, |llvm, k| Ok::<_, Error>(unit_module(llvm, k))).unwrap();
    let f = jit.get::<unsafe extern "C" fn(i64, i64) -> i64>("l0_1").unwrap();
    // SAFETY: the declared signature; the unit never compiles, so the call returns zero.
    assert_eq!(unsafe { f.call(1, 2) }, 0);
    let failures = jit.take_lazy_failures();
    assert!(
        matches!(&failures[0].error, Error::LazyMismatch { unit, function } if unit == "l0" && function == "l0_1"),
        "{failures:?}"
    );
    assert_eq!(failures[0].error.code(), 18);
    assert_eq!(jit.publish_stats().published, 0, "nothing of the mismatched unit was published");
}

#[test]
fn names_must_be_new_and_unique() {
    let jit = Jit::new().unwrap();
    fn build(llvm: &LlvmContext, k: usize) -> Result<LlvmModule<'_>, Error> {
        Ok(unit_module(llvm, k))
    }
    let mut twice = units(2);
    twice[1].exports[0].name = "l0_0".into();
    let err = jit.publish_lazy(twice, OptLevel::O0, build).unwrap_err();
    assert!(matches!(&err, Error::LazyExportTaken { name } if name == "l0_0"), "{err}");
    assert_eq!(err.code(), 17);
    assert_eq!(jit.registry().generation(), 0, "nothing was added");
    jit.publish_lazy(units(1), OptLevel::O0, build).unwrap();
    let err = jit.publish_lazy(units(1), OptLevel::O0, build).unwrap_err();
    assert!(matches!(err, Error::LazyExportTaken { .. }), "{err}");
    assert_eq!(jit.registry().generation(), 1);
}

/// Seven integer arguments (one on the stack) and two floats pass through the thunk.
#[test]
fn every_argument_register_survives_the_first_call() {
    let jit = Jit::new().unwrap();
    let i64s = ScalarType::Int(IntWidth::I64);
    let f64s = ScalarType::Float(FloatWidth::F64);
    let params = vec![i64s, f64s, i64s, f64s, i64s, i64s, i64s, i64s, i64s];
    let decl = FuncExport {
        name: "mix".into(),
        params: params.clone(),
        result: Some(f64s),
        variadic: false,
        param_ext: vec![AbiExt::None; params.len()],
        result_ext: AbiExt::None,
    };
    let unit = LazyUnit { name: "mix".into(), exports: vec![decl] };
    jit.publish_lazy(vec![unit], OptLevel::O0, |llvm, _| {
        let mut cg = llvm.module("mix", &TargetSpec::host())?;
        let (i64t, f64t) = (cg.ty_int(IntWidth::I64)?, cg.ty_float(FloatWidth::F64)?);
        let kinds = [i64t, f64t, i64t, f64t, i64t, i64t, i64t, i64t, i64t];
        let sig = cg.ty_func(FuncSig::new(&kinds, Some(f64t)))?;
        let f = cg.declare_func("mix", FuncDecl::new(sig))?;
        cg.func_begin(f)?;
        let slots: Vec<Local> = (0..9).map(|i| cg.param_slot(i, "")).collect::<Result<_, _>>()?;
        // sum of int_i * weight_i as f64, plus x * y
        let weights = [1, 0, 2, 0, 3, 5, 7, 11, 13];
        cg.push_f64(0.0)?;
        for (i, w) in weights.iter().enumerate().filter(|(_, w)| **w != 0) {
            cg.push_local(slots[i])?;
            cg.load(MemAccess::new(i64t))?;
            cg.push_int(i64t, *w)?;
            cg.int_op(IntBinOp::Mul, IntFlags::NONE)?;
            cg.cast(CastOp::SIToFP, f64t)?;
            cg.float_op(FloatBinOp::Add, FastMath::NONE)?;
        }
        cg.push_local(slots[1])?;
        cg.load(MemAccess::new(f64t))?;
        cg.push_local(slots[3])?;
        cg.load(MemAccess::new(f64t))?;
        cg.float_op(FloatBinOp::Mul, FastMath::NONE)?;
        cg.float_op(FloatBinOp::Add, FastMath::NONE)?;
        cg.ret()?;
        cg.func_end()?;
        cfree_llvm_lower::finish(cg)
    })
    .unwrap();
    type Mix = unsafe extern "C" fn(i64, f64, i64, f64, i64, i64, i64, i64, i64) -> f64;
    // SAFETY: `mix`'s stable entry has exactly this signature (declared above).
    let mix: Mix = unsafe { std::mem::transmute(jit.address("mix").unwrap() as usize) };
    let expect = |a: i64, x: f64, b: i64, y: f64, c: i64, d: i64, e: i64, g: i64, h: i64| {
        (a + 2 * b + 3 * c + 5 * d + 7 * e + 11 * g + 13 * h) as f64 + x * y
    };
    // SAFETY: as above; the function only computes.
    let first = unsafe { mix(1, 1.5, 2, -4.0, 3, 4, 5, 6, 7) };
    assert!(jit.take_lazy_failures().is_empty());
    assert_eq!(first, expect(1, 1.5, 2, -4.0, 3, 4, 5, 6, 7));
    // SAFETY: as above.
    assert_eq!(unsafe { mix(-9, 0.25, 8, 8.0, 7, -6, 5, -4, 3) }, expect(-9, 0.25, 8, 8.0, 7, -6, 5, -4, 3));
    assert_eq!(jit.lazy_stats().compiled, 1);
}

/// Tiered units start at O0, count the calls through their entries, and the hot
/// ones are recompiled at O2 and swapped in by replacement; cold ones stay.
#[test]
fn hot_tiered_units_are_recompiled_and_swapped_in() {
    let jit = Jit::new().unwrap();
    let built: Arc<Vec<AtomicUsize>> = Arc::new((0..3).map(|_| AtomicUsize::new(0)).collect());
    let policy = TierPolicy { threshold: 50, level: OptLevel::O2 };
    let lazy = jit.publish_tiered(units(3), policy, counting(built.clone())).unwrap();
    // SAFETY: `l1_1` and `l2_0`'s stable entries are `i64 (i64)` functions.
    let (hot, cold): (Unary, Unary) = unsafe {
        (
            std::mem::transmute::<usize, Unary>(jit.address("l1_1").unwrap() as usize),
            std::mem::transmute::<usize, Unary>(jit.address("l2_0").unwrap() as usize),
        )
    };
    for x in 0..100 {
        // SAFETY: as above; both compute on their argument.
        assert_eq!(unsafe { hot(x) }, expected(1, x));
    }
    for x in 0..3 {
        // SAFETY: as above.
        assert_eq!(unsafe { cold(x) }, x * 4);
    }
    let counts = |b: &[AtomicUsize]| b.iter().map(|c| c.load(Ordering::SeqCst)).collect::<Vec<_>>();
    assert_eq!(counts(&built), [1, 1, 1], "every called unit compiled once, at O0");
    let o0 = jit.registry().symbol("l1_1").unwrap().unit;
    assert_ne!(o0, lazy.units[1]);

    // Unit 1 had 100 calls, unit 0 100 (every l1_1 calls l0_0 through its entry), unit 2 three.
    let up = jit.tier_up();
    assert_eq!(up.len(), 2);
    assert_eq!(counts(&built), [2, 2, 1], "the hot units were rebuilt, the cold one not");
    let registry = jit.registry();
    let o2 = registry.symbol("l1_1").unwrap().unit;
    assert_ne!(o2, o0);
    assert!(up.iter().any(|p| p.unit == o2 && p.replaced == ["l1_0", "l1_1"]));
    assert_eq!(registry.unit(o0).unwrap().state, UnitState::Replaced, "the O0 code is replaced, not freed");
    for x in [-7, 0, 1 << 33] {
        // SAFETY: as above.
        assert_eq!(unsafe { hot(x) }, expected(1, x));
    }
    assert!(jit.tier_up().is_empty(), "a unit tiers up once");
    assert_eq!(jit.lazy_stats().tiered_up, 2);
    assert!(jit.take_lazy_failures().is_empty());
}

/// The tiering thread stops with its handle, and when the session is gone.
#[test]
fn the_tiering_thread_stops() {
    let jit = Jit::new().unwrap();
    jit.publish_tiered(
        units(1),
        TierPolicy { threshold: 1, level: OptLevel::O1 },
        counting(Arc::new(vec![AtomicUsize::new(0)])),
    )
    .unwrap();
    let thread = jit.start_tiering(std::time::Duration::from_millis(1));
    assert_eq!(call(&jit, "l0_1", 2), expected(0, 2));
    drop(thread);
    let thread = jit.start_tiering(std::time::Duration::from_millis(1));
    drop(jit);
    drop(thread);
}
