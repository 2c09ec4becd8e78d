//! Parallel compilation: `publish_owned` from several threads at once and
//! `publish_batch` on a worker pool. Every published function is called and
//! checked, and the registry must describe exactly what was published.

use cfree_facade::*;
use cfree_jit_orc::{Error, Jit, Published, Registry};
use cfree_llvm_lower::{LlvmContext, LlvmModule, OptLevel};

type Unary = unsafe extern "C" fn(i64) -> i64;

/// A unit of `n` functions `<prefix>_k(x) = (x ^ k) * (2k + 1) + <callee>(x)`, where the
/// callee is the unit's previous function (for k > 0) or `import` (for k = 0, if given).
fn unit<'c>(llvm: &'c LlvmContext, prefix: &str, n: usize, import: Option<&str>) -> LlvmModule<'c> {
    let mut cg = llvm.module(prefix, &TargetSpec::host()).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let mut previous = import.map(|name| cg.declare_func(name, FuncDecl::new(sig)).unwrap());
    for k in 0..n {
        let f = cg.declare_func(&format!("{prefix}_{k}"), FuncDecl::new(sig)).unwrap();
        cg.func_begin(f).unwrap();
        let x = cg.param_slot(0, "x").unwrap();
        cg.push_local(x).unwrap();
        cg.load(MemAccess::new(i64t)).unwrap();
        cg.push_int(i64t, k as i128).unwrap();
        cg.int_op(IntBinOp::Xor, IntFlags::NONE).unwrap();
        cg.push_int(i64t, 2 * k as i128 + 1).unwrap();
        cg.int_op(IntBinOp::Mul, IntFlags::NONE).unwrap();
        if let Some(callee) = previous {
            cg.push_local(x).unwrap();
            cg.load(MemAccess::new(i64t)).unwrap();
            cg.call(Callee::Direct(callee), 1).unwrap();
            cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
        }
        cg.ret().unwrap();
        cg.func_end().unwrap();
        previous = Some(f);
    }
    cfree_llvm_lower::finish(cg).unwrap()
}

/// What `unit(.., n, import)`'s function `k` returns for `x`, with `import(x)` = `base`.
fn expected(k: usize, x: i64, base: Option<i64>) -> i64 {
    let own = (x ^ k as i64).wrapping_mul(2 * k as i64 + 1);
    match (k, base) {
        (0, None) => own,
        (0, Some(b)) => own.wrapping_add(b),
        _ => own.wrapping_add(expected(k - 1, x, base)),
    }
}

fn call(jit: &Jit, name: &str, x: i64) -> i64 {
    let f = jit.get::<Unary>(name).unwrap();
    // SAFETY: the test functions compute on their argument and call each other.
    unsafe { f.call(x) }
}

/// The registry describes exactly `units` (each exporting `per_unit` functions named
/// `<prefix>_k`): one unit per publish, every export's symbol in its unit, every body
/// located by its address, code ranges disjoint, one generation per publish.
fn assert_consistent(registry: &Registry, units: &[(String, Published)], per_unit: usize) {
    assert_eq!(registry.units().count(), units.len());
    let mut generations: Vec<u64> = units.iter().map(|(_, p)| p.generation).collect();
    generations.sort_unstable();
    assert_eq!(generations, (1..=units.len() as u64).collect::<Vec<_>>(), "one generation per publish");
    assert_eq!(registry.generation(), units.len() as u64);
    for (prefix, p) in units {
        assert!(p.replaced.is_empty());
        for k in 0..per_unit {
            let symbol = registry.symbol(&format!("{prefix}_{k}")).expect("exported symbol");
            assert_eq!(symbol.unit, p.unit, "{prefix}_{k}");
            let function = registry.function_at(symbol.body).expect("body located");
            assert_eq!(function.unit, p.unit);
            assert_eq!(&*function.name, format!("{prefix}_{k}.cfree.u{}", p.unit.0));
        }
    }
    let functions: Vec<_> = registry.functions().collect();
    assert!(functions.windows(2).all(|w| w[0].end <= w[1].start), "code ranges sorted and disjoint");
}

#[test]
fn publish_owned_from_several_threads() {
    const THREADS: usize = 4;
    const UNITS: usize = 6;
    const PER_UNIT: usize = 5;
    let jit = Jit::new().unwrap();
    let published = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (jit, published) = (&jit, &published);
            s.spawn(move || {
                let llvm = LlvmContext::new();
                for u in 0..UNITS {
                    let prefix = format!("t{t}u{u}");
                    let level = if u % 2 == 0 { OptLevel::O0 } else { OptLevel::O2 };
                    let p = jit.publish_owned(unit(&llvm, &prefix, PER_UNIT, None), level).unwrap();
                    published.lock().unwrap().push((prefix, p));
                }
            });
        }
    });
    let published = published.into_inner().unwrap();
    let stats = jit.publish_stats();
    assert_eq!((stats.published, stats.failed, stats.compiling), ((THREADS * UNITS) as u64, 0, 0));
    assert_consistent(&jit.registry(), &published, PER_UNIT);
    for (prefix, _) in &published {
        for k in 0..PER_UNIT {
            for x in [0, 7, -3, i64::MAX] {
                assert_eq!(call(&jit, &format!("{prefix}_{k}"), x), expected(k, x, None), "{prefix}_{k}({x})");
            }
        }
    }
}

#[test]
fn publish_batch_publishes_every_unit_in_index_order() {
    const UNITS: usize = 12;
    const PER_UNIT: usize = 4;
    let jit = Jit::new().unwrap();
    // Every unit imports `root`, published first: calls cross units through its stable entry.
    jit.publish_owned(unit(&LlvmContext::new(), "root", 1, None), OptLevel::O0).unwrap();
    let outcomes = jit.publish_batch(UNITS, 3, OptLevel::O1, |llvm, i| {
        Ok::<_, cfree_llvm_lower::Error>(unit(llvm, &format!("b{i}"), PER_UNIT, Some("root_0")))
    });
    assert_eq!(outcomes.len(), UNITS);
    let published: Vec<(String, Published)> =
        outcomes.into_iter().enumerate().map(|(i, o)| (format!("b{i}"), o.unwrap())).collect();
    let registry = jit.registry();
    assert_eq!(registry.generation(), 1 + UNITS as u64);
    for (prefix, p) in &published {
        for k in 0..PER_UNIT {
            let symbol = registry.symbol(&format!("{prefix}_{k}")).unwrap();
            assert_eq!(symbol.unit, p.unit, "outcome {prefix} describes its own unit");
            for x in [1, -100, 1 << 40] {
                let root = expected(0, x, None);
                assert_eq!(call(&jit, &format!("{prefix}_{k}"), x), expected(k, x, Some(root)), "{prefix}_{k}({x})");
            }
        }
    }
    let stats = jit.publish_stats();
    assert_eq!((stats.published, stats.failed), (1 + UNITS as u64, 0));
}

#[test]
fn one_failing_unit_of_a_batch_does_not_stop_the_others() {
    #[derive(Debug)]
    struct Refused;
    impl std::fmt::Display for Refused {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("refused by the builder")
        }
    }
    impl std::error::Error for Refused {}

    let jit = Jit::new().unwrap();
    let outcomes = jit.publish_batch(6, 2, OptLevel::O0, |llvm, i| match i {
        2 => Err(Refused),
        // Imports a function nobody defines: refused at link time.
        4 => Ok(unit(llvm, "b4", 2, Some("missing"))),
        _ => Ok(unit(llvm, &format!("b{i}"), 2, None)),
    });
    for (i, o) in outcomes.iter().enumerate() {
        match (i, o) {
            (2, Err(e @ Error::Build { index: 2, .. })) => {
                assert_eq!(e.code(), 15);
                let source = std::error::Error::source(e).unwrap();
                assert!(source.downcast_ref::<Refused>().is_some());
            }
            (4, Err(e @ Error::Link { .. })) => assert_eq!(e.code(), 8),
            (2 | 4, other) => panic!("unit {i}: expected an error, got {other:?}"),
            (_, Ok(_)) => assert_eq!(call(&jit, &format!("b{i}_1"), 5), expected(1, 5, None)),
            (_, Err(e)) => panic!("unit {i}: {e}"),
        }
    }
    let registry = jit.registry();
    assert_eq!(registry.units().count(), 4, "the failed units left nothing behind");
    assert!(registry.symbol("b2_0").is_none() && registry.symbol("b4_0").is_none());
    let stats = jit.publish_stats();
    assert_eq!((stats.published, stats.failed), (4, 2));
    // The name the failed link took is free again: the unit publishes once `missing` exists.
    jit.publish_owned(unit(&LlvmContext::new(), "missing", 1, None), OptLevel::O0).unwrap();
    jit.publish_owned(unit(&LlvmContext::new(), "b4", 2, Some("missing_0")), OptLevel::O0).unwrap();
    assert_eq!(call(&jit, "b4_1", 5), expected(1, 5, Some(expected(0, 5, None))));
}

#[test]
fn a_failed_publish_owned_leaves_the_image_unchanged() {
    let jit = Jit::new().unwrap();
    jit.publish_owned(unit(&LlvmContext::new(), "a", 2, None), OptLevel::O0).unwrap();
    let before = (*jit.registry()).clone();
    let err = jit.publish_owned(unit(&LlvmContext::new(), "c", 2, Some("nowhere")), OptLevel::O2).unwrap_err();
    assert!(matches!(err, Error::Link { .. }), "{err}");
    assert_eq!(*jit.registry(), before);
    assert_eq!(call(&jit, "a_1", 3), expected(1, 3, None));
}

#[test]
fn an_empty_batch_publishes_nothing() {
    let jit = Jit::new().unwrap();
    let outcomes = jit.publish_batch(0, 4, OptLevel::O0, |llvm, i| {
        Ok::<_, cfree_llvm_lower::Error>(unit(llvm, &format!("e{i}"), 1, None))
    });
    assert!(outcomes.is_empty());
    assert_eq!(jit.registry().generation(), 0);
}
