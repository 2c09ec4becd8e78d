//! The JIT's publish transaction, generations, metadata registry, code
//! lifetime and hot replacement, exercised for real: one fault-injection case
//! per failure class, replacement under load from several threads, an old
//! frame blocked in a host callback keeping its code alive, and registry
//! lookups checked address by address.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use cfree_facade::*;
use cfree_jit_orc::{stack, Error, Jit, Registry, UnitState};
use cfree_llvm_lower::{LlvmContext, LlvmModule, OptLevel};
use inkwell::values::BasicMetadataValueEnum;

type Unary = unsafe extern "C" fn(i64) -> i64;

/// `name(x) = x * mul + add`, optionally calling `callee(x)` first (then `callee(x) * mul + add`).
fn unary<'c>(llvm: &'c LlvmContext, name: &str, mul: i64, add: i64, callee: Option<&str>) -> LlvmModule<'c> {
    let mut cg = llvm.module(name, &TargetSpec::host()).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let f = cg.declare_func(name, FuncDecl::new(sig)).unwrap();
    let ext = callee.map(|c| cg.declare_func(c, FuncDecl::new(sig)).unwrap());
    cg.func_begin(f).unwrap();
    let x = cg.param_slot(0, "x").unwrap();
    cg.push_local(x).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    if let Some(e) = ext {
        cg.call(Callee::Direct(e), 1).unwrap();
    }
    cg.push_int(i64t, i128::from(mul)).unwrap();
    cg.int_op(IntBinOp::Mul, IntFlags::NONE).unwrap();
    cg.push_int(i64t, i128::from(add)).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    cfree_llvm_lower::finish(cg).unwrap()
}

/// A module exporting `name` and defining the data object `data_name` (8 bytes).
fn with_data<'c>(llvm: &'c LlvmContext, name: &str, data_name: &str) -> LlvmModule<'c> {
    let mut cg = llvm.module(name, &TargetSpec::host()).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let d = cg.declare_data(data_name, DataDecl::new(i64t)).unwrap();
    cg.define_data(d, &DataInit::new().bytes(&5i64.to_le_bytes())).unwrap();
    let f = cg.declare_func(name, FuncDecl::new(sig)).unwrap();
    cg.func_begin(f).unwrap();
    let x = cg.param_slot(0, "x").unwrap();
    cg.push_local(x).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.push_global(d).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    cfree_llvm_lower::finish(cg).unwrap()
}

fn call(jit: &Jit, name: &str, x: i64) -> i64 {
    let f = jit.get::<Unary>(name).unwrap();
    // SAFETY: the test functions compute on their argument (and call each other).
    unsafe { f.call(x) }
}

/// Earlier code still runs with the same results and the registry is unchanged.
fn assert_untouched(jit: &Jit, before: &Registry) {
    assert_eq!(&*jit.registry(), before, "registry changed after a failed publish");
    assert_eq!(call(jit, "base", 4), 4 * 3 + 1);
    assert_eq!(call(jit, "user", 4), (4 * 3 + 1) * 2);
}

fn session(llvm: &LlvmContext) -> Jit {
    let jit = Jit::new().unwrap();
    jit.publish(&unary(llvm, "base", 3, 1, None), OptLevel::O1).unwrap();
    jit.publish(&unary(llvm, "user", 2, 0, Some("base")), OptLevel::O1).unwrap();
    jit
}

#[test]
fn fault_injection_leaves_the_image_unchanged() {
    let llvm = LlvmContext::new();
    let jit = session(&llvm);
    let before = (*jit.registry()).clone();
    assert_eq!(before.generation(), 2);

    // Verifier: a body with a block that has no terminator (injected below the facade).
    let m = unary(&llvm, "fresh", 1, 0, None);
    {
        let ctx = m.inkwell_for_tests().get_context();
        let bad = m.inkwell_for_tests().add_function("broken", ctx.void_type().fn_type(&[], false), None);
        ctx.append_basic_block(bad, "no_terminator");
    }
    let e = jit.publish(&m, OptLevel::O0).unwrap_err();
    assert!(matches!(e, Error::Emit { ref unit, .. } if unit == "fresh") && e.code() == 5, "{e}");
    let source = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<cfree_llvm_lower::Error>());
    assert!(matches!(source, Some(cfree_llvm_lower::Error::Verify(_))), "{e}");
    assert_untouched(&jit, &before);

    // Unresolved external.
    let e = jit.publish(&unary(&llvm, "fresh", 1, 0, Some("cfree_nowhere")), OptLevel::O0).unwrap_err();
    assert!(matches!(e, Error::Link { symbol: Some(_), .. }) && e.to_string().contains("cfree_nowhere"), "{e}");
    assert_untouched(&jit, &before);

    // Duplicate definition: data objects are not replaceable.
    jit.publish(&with_data(&llvm, "d1", "shared_counter"), OptLevel::O0).unwrap();
    let before = (*jit.registry()).clone();
    let e = jit.publish(&with_data(&llvm, "fresh", "shared_counter"), OptLevel::O0).unwrap_err();
    assert!(matches!(e, Error::Link { .. }), "{e}");
    assert_untouched(&jit, &before);

    // Malformed metadata: a `.llvm_stackmaps` section that is not a stack map.
    let m = unary(&llvm, "fresh", 1, 0, None);
    {
        let ctx = m.inkwell_for_tests().get_context();
        let bytes = ctx.const_string(b"\x07garbage!garbage!", false);
        let g = m.inkwell_for_tests().add_global(bytes.get_type(), None, "bogus_stackmaps");
        g.set_initializer(&bytes);
        g.set_section(Some(".llvm_stackmaps"));
    }
    let e = jit.publish(&m, OptLevel::O0).unwrap_err();
    assert!(matches!(e, Error::Metadata { source: cfree_jit_orc::ObjectError::StackMaps(_), .. }), "{e}");
    assert_eq!(e.code(), 7);
    assert!(std::error::Error::source(&e).and_then(|s| s.source()).is_some(), "the parser's error is kept: {e}");
    assert_untouched(&jit, &before);

    // Replacement with another signature.
    let mut cg = llvm.module("base", &TargetSpec::host()).unwrap();
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i32t], Some(i32t))).unwrap();
    let f = cg.declare_func("base", FuncDecl::new(sig)).unwrap();
    cg.func_begin(f).unwrap();
    cg.push_int(i32t, 0).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    let e = jit.publish(&cfree_llvm_lower::finish(cg).unwrap(), OptLevel::O0).unwrap_err();
    assert!(matches!(e, Error::SignatureMismatch { .. }), "{e}");
    assert_untouched(&jit, &before);

    // The corrected unit, with the names the failures tried to take, publishes.
    jit.publish(&unary(&llvm, "fresh", 10, 0, None), OptLevel::O0).unwrap();
    assert_eq!(call(&jit, "fresh", 4), 40);
    assert_eq!(jit.registry().generation(), before.generation() + 1);
}

#[test]
fn generations_follow_a_chain_of_replacements() {
    let llvm = LlvmContext::new();
    let jit = session(&llvm);
    let reader = jit.registry();
    for k in 1..=5 {
        let p = jit.publish(&unary(&llvm, "base", 3, 100 * k, None), OptLevel::O0).unwrap();
        assert_eq!(p.replaced, vec!["base".to_string()]);
        let now = jit.registry();
        assert_eq!(now.generation(), 2 + k as u64);
        assert_eq!(now.symbol("base").unwrap().generation, now.generation());
        assert_eq!(now.symbol("user").unwrap().generation, 2, "untouched symbols keep theirs");
        assert_eq!(call(&jit, "base", 1), 3 + 100 * k);
        assert_eq!(call(&jit, "user", 1), (3 + 100 * k) * 2, "JIT callers reach the new body");
    }
    assert_eq!(reader.generation(), 2, "an old snapshot stays as it was");
    let states: Vec<UnitState> = jit.registry().units().map(|u| u.state).collect();
    assert_eq!(states.iter().filter(|s| **s == UnitState::Replaced).count(), 5);
}

#[test]
fn replacement_under_load() {
    const VERSIONS: i64 = 1000;
    let llvm = LlvmContext::new();
    let jit = Jit::new().unwrap();
    // f(x) = x * 0 + version; g(x) = f(x) * 1 + 0 calls f through its stable entry.
    jit.publish(&unary(&llvm, "f", 0, 1, None), OptLevel::O0).unwrap();
    jit.publish(&unary(&llvm, "g", 1, 0, Some("f")), OptLevel::O0).unwrap();
    let f = jit.get::<Unary>("f").unwrap().as_fn();
    let g = jit.get::<Unary>("g").unwrap().as_fn();
    let done = AtomicBool::new(false);
    let calls = AtomicI64::new(0);
    std::thread::scope(|s| {
        for t in 0..3 {
            let (done, calls) = (&done, &calls);
            s.spawn(move || {
                let entry = if t % 2 == 0 { f } else { g };
                let mut last = 0;
                while !done.load(Ordering::Acquire) {
                    // SAFETY: f and g compute on their argument; the JIT outlives the scope.
                    let v = unsafe { entry(7) };
                    assert!((1..=VERSIONS).contains(&v), "result {v} is no published version");
                    assert!(v >= last, "went back from version {last} to {v}");
                    last = v;
                    calls.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        for version in 2..=VERSIONS {
            jit.publish(&unary(&llvm, "f", 0, version, None), OptLevel::O0).unwrap();
        }
        done.store(true, Ordering::Release);
    });
    assert_eq!(call(&jit, "f", 0), VERSIONS);
    assert_eq!(call(&jit, "g", 0), VERSIONS);
    assert!(calls.load(Ordering::Relaxed) > 1000, "the callers ran during the replacements");
}

static GATE: Mutex<bool> = Mutex::new(false);
static OPEN: Condvar = Condvar::new();
static BLOCKED_FP: AtomicU64 = AtomicU64::new(0);

/// Host callback: records its frame pointer, then waits until the test opens the gate.
extern "C" fn wait_here(x: i64) -> i64 {
    BLOCKED_FP.store(stack::current_frame_pointer(), Ordering::Release);
    let mut open = GATE.lock().unwrap();
    while !*open {
        open = OPEN.wait(open).unwrap();
    }
    BLOCKED_FP.store(0, Ordering::Release);
    x
}

#[test]
fn old_frame_keeps_its_code_alive_until_it_returns() {
    let llvm = LlvmContext::new();
    let jit = Arc::new(Jit::new().unwrap());
    jit.define_host_symbol("wait_here", wait_here as *const () as usize as u64).unwrap();
    // The veto: the blocked thread's stack, walked from its recorded frame pointer.
    jit.add_reclaim_veto(Box::new(|unit| {
        let fp = BLOCKED_FP.load(Ordering::Acquire);
        // SAFETY: a non-zero fp belongs to a thread blocked in `wait_here` until the gate opens,
        // and every frame on its chain keeps frame pointers.
        fp != 0 && unsafe { stack::return_addresses(fp, 64) }.iter().any(|ra| unit.contains(*ra))
    }));
    let v1 = jit.publish(&unary(&llvm, "f", 1, 1, Some("wait_here")), OptLevel::O1).unwrap();
    let f = jit.get::<Unary>("f").unwrap().as_fn();
    // SAFETY: f calls the host callback and computes on its argument.
    let old = std::thread::spawn(move || unsafe { f(10) });
    while BLOCKED_FP.load(Ordering::Acquire) == 0 {
        std::thread::yield_now();
    }
    jit.publish(&unary(&llvm, "f", 1, 2, None), OptLevel::O1).unwrap();
    assert_eq!(call(&jit, "f", 10), 12, "new calls reach the new body");
    assert_eq!(jit.registry().unit(v1.unit).unwrap().state, UnitState::Replaced);
    jit.retire(v1.unit).unwrap();
    assert!(jit.reclaim().unwrap().is_empty(), "the blocked frame vetoes reclamation");
    assert_eq!(jit.registry().unit(v1.unit).unwrap().state, UnitState::Retired);
    *GATE.lock().unwrap() = true;
    OPEN.notify_all();
    assert_eq!(old.join().unwrap(), 11, "the old frame returned into the old body");
    assert_eq!(jit.reclaim().unwrap(), vec![v1.unit]);
    let r = jit.registry();
    assert_eq!(r.unit(v1.unit).unwrap().state, UnitState::Reclaimed);
    assert!(r.functions().all(|f| f.unit != v1.unit), "reclaimed code left the registry");
    assert_eq!(call(&jit, "f", 1), 3);
    let active = r.symbol("f").unwrap().unit;
    let e = jit.retire(active).unwrap_err();
    assert!(matches!(e, Error::NotReplaced { unit, state: UnitState::Active } if unit == active), "{e}");
    let e = jit.retire(cfree_jit_orc::UnitId(999)).unwrap_err();
    assert!(matches!(e, Error::NoSuchUnit(cfree_jit_orc::UnitId(999))) && e.code() == 11, "{e}");
}

#[test]
fn registry_maps_every_code_address_and_stack_map() {
    let llvm = LlvmContext::new();
    let jit = Jit::new().unwrap();
    // A function with stack map records, added below the facade (statepoints come with the GC issue).
    let m = unary(&llvm, "mapped", 2, 0, None);
    {
        let module = m.inkwell_for_tests();
        let ctx = module.get_context();
        let i64t = ctx.i64_type();
        let intrinsic = inkwell::intrinsics::Intrinsic::find("llvm.experimental.stackmap").unwrap();
        let sm = intrinsic.get_declaration(module, &[]).unwrap();
        let host = module.add_function("labs", i64t.fn_type(&[i64t.into()], false), None);
        let f = module.add_function("with_maps", i64t.fn_type(&[i64t.into()], false), None);
        let b = ctx.create_builder();
        b.position_at_end(ctx.append_basic_block(f, "entry"));
        let x = f.get_nth_param(0).unwrap();
        let r = b.build_call(host, &[x.into()], "").unwrap().try_as_basic_value().basic().unwrap();
        let args: Vec<BasicMetadataValueEnum<'_>> =
            vec![i64t.const_int(77, false).into(), ctx.i32_type().const_zero().into(), r.into()];
        b.build_call(sm, &args, "").unwrap();
        b.build_return(Some(&r)).unwrap();
    }
    jit.publish(&m, OptLevel::O1).unwrap();
    jit.publish(&unary(&llvm, "other", 3, 0, None), OptLevel::O1).unwrap();
    let r = jit.registry();
    assert!(r.counts().functions >= 3);
    for f in r.functions() {
        for pc in [f.start, (f.start + f.end) / 2, f.end - 1] {
            assert_eq!(r.function_at(pc).map(|g| &g.name), Some(&f.name), "{pc:#x}");
        }
        assert_ne!(r.function_at(f.end).map(|g| &g.name), Some(&f.name));
        assert!(r.function_at(f.start - 1).is_none_or(|g| g.name != f.name));
    }
    assert!(r.function_at(0).is_none() && r.function_at(u64::MAX).is_none());
    assert_eq!(r.counts().stackmaps, 1);
    let sm = r.stackmaps().next().unwrap();
    assert_eq!(sm.id, 77);
    assert_eq!(&*sm.function, "with_maps");
    assert_eq!(r.stackmap_at(sm.pc), Some(sm));
    assert!(r.stackmap_at(sm.pc + 1).is_none());
    let owner = r.function_at(sm.pc).unwrap();
    assert_eq!(&*owner.name, "with_maps", "the record's PC lies in its function");
    assert!(r.trap_at(sm.pc).is_none());
    // The registry's address is the real entry: call it (it is not exported, so not in `get`).
    // SAFETY: `owner.start` is the linked entry of `with_maps: fn(i64) -> i64` (labs of its argument).
    let with_maps = unsafe { std::mem::transmute::<usize, Unary>(owner.start as usize) };
    // SAFETY: as above.
    assert_eq!(unsafe { with_maps(-5) }, 5);
}

#[test]
fn perf_map_names_published_functions() {
    let llvm = LlvmContext::new();
    let jit = Jit::with_options(cfree_jit_orc::JitOptions { perf_map: true, ..Default::default() }).unwrap();
    let published = jit.publish(&unary(&llvm, "profiled_fn", 1, 0, None), OptLevel::O0).unwrap();
    let path = std::env::temp_dir().join(format!("perf-{}.map", std::process::id()));
    let text = std::fs::read_to_string(&path).unwrap();
    let body = jit.registry().symbol("profiled_fn").unwrap().body;
    assert!(
        text.lines().any(|l| l.starts_with(&format!("{body:x} "))
            && l.ends_with(&format!("profiled_fn.cfree.u{}", published.unit.0))),
        "{text}"
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn publish_lookup_and_call_from_several_threads() {
    let jit = Jit::new().unwrap();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for t in 0..2 {
            let jit = &jit;
            s.spawn(move || {
                let llvm = LlvmContext::new();
                for k in 0..40 {
                    let name = format!("t{t}_{k}");
                    jit.publish(&unary(&llvm, &name, 2, k, None), OptLevel::O0).unwrap();
                    // Replace it once too.
                    jit.publish(&unary(&llvm, &name, 3, k, None), OptLevel::O0).unwrap();
                    assert_eq!(call(jit, &name, 5), 15 + k);
                }
            });
        }
        let (jit, stop) = (&jit, &stop);
        s.spawn(move || {
            let mut last = 0;
            while !stop.load(Ordering::Acquire) {
                let r = jit.registry();
                assert!(r.generation() >= last, "generations only grow");
                last = r.generation();
                for f in r.functions() {
                    assert_eq!(r.function_at(f.start).map(|g| g.start), Some(f.start));
                }
            }
        });
        // Let the publishers finish, then stop the reader.
        while jit.registry().generation() < 160 {
            std::thread::yield_now();
        }
        stop.store(true, Ordering::Release);
    });
    assert_eq!(jit.registry().generation(), 160);
}

extern "C" fn late_host(x: i64) -> i64 {
    x + 100
}

#[test]
fn a_failed_publish_is_retried_with_the_same_module() {
    let llvm = LlvmContext::new();
    let jit = Jit::new().unwrap();
    // `late(x) = late_host(x) * 2`, before the host defines `late_host`.
    let m = unary(&llvm, "late", 2, 0, Some("late_host"));
    let ir = m.ir();
    let e = jit.publish(&m, OptLevel::O1).unwrap_err();
    assert!(matches!(e, Error::Link { symbol: Some(_), .. }) && e.to_string().contains("late_host"), "{e}");
    assert_eq!(e.code(), 8);
    assert_eq!(m.ir(), ir, "a failed publish leaves the module as it was");
    assert_eq!(jit.publish_stats().failed, 1);
    jit.define_host_symbol("late_host", late_host as *const () as usize as u64).unwrap();
    let e = jit.define_host_symbol("late_host", 0).unwrap_err();
    assert!(matches!(e, Error::HostSymbol { ref name, .. } if name == "late_host") && e.code() == 9, "{e}");
    jit.publish(&m, OptLevel::O1).unwrap();
    assert_eq!(call(&jit, "late", 5), 210);
    let stats = jit.publish_stats();
    assert_eq!((stats.published, stats.failed, stats.compiling), (1, 1, 0));
}

#[test]
fn publishing_the_same_module_twice_replaces_it() {
    let llvm = LlvmContext::new();
    let jit = Jit::new().unwrap();
    let m = unary(&llvm, "twice", 3, 1, None);
    let ir = m.ir();
    let first = jit.publish(&m, OptLevel::O2).unwrap();
    assert_eq!(m.ir(), ir, "publish leaves the module as it was");
    let second = jit.publish(&m, OptLevel::O2).unwrap();
    assert_ne!(first.unit, second.unit);
    assert_eq!(second.replaced, ["twice".to_string()]);
    assert_eq!(second.generation, first.generation + 1);
    let r = jit.registry();
    assert_eq!(r.unit(first.unit).unwrap().state, UnitState::Replaced);
    assert_eq!(r.symbol("twice").unwrap().unit, second.unit);
    assert_eq!(call(&jit, "twice", 4), 13);
    jit.retire(first.unit).unwrap();
    assert_eq!(jit.reclaim().unwrap(), [first.unit]);
    assert_eq!(call(&jit, "twice", 4), 13, "the second copy runs on its own");
}

/// Two threads publishing big units compile at the same time: the session's
/// gauge of publishes in their compile phase (outside the writer lock) reaches 2.
#[test]
fn publishes_from_two_threads_compile_concurrently() {
    const ATTEMPTS: usize = 5;
    let mut seen = Vec::new();
    for attempt in 0..ATTEMPTS {
        let jit = Jit::new().unwrap();
        let ready = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            for t in 0..2 {
                let (jit, ready) = (&jit, &ready);
                s.spawn(move || {
                    let llvm = LlvmContext::new();
                    let m = cfree_tests::jit::work_unit(&llvm, &format!("c{attempt}t{t}"), 150, 8);
                    ready.wait();
                    jit.publish(&m, OptLevel::O2).unwrap();
                });
            }
        });
        let stats = jit.publish_stats();
        assert_eq!((stats.published, stats.failed, stats.compiling), (2, 0, 0));
        assert_eq!(jit.registry().generation(), 2);
        assert_eq!(call(&jit, &format!("c{attempt}t1_0"), 3), 3u64.rotate_left(8) as i64);
        seen.push(stats.max_concurrent_compiles);
        if stats.max_concurrent_compiles == 2 {
            return;
        }
    }
    panic!("no two publishes ever compiled at the same time: {seen:?}");
}

#[test]
fn a_module_with_its_verifier_off_compiles_and_runs() {
    // Release builds skip the verifier for such a module; test builds (debug
    // assertions) verify anyway, so this checks that the switch changes nothing else.
    let llvm = LlvmContext::new();
    let jit = session(&llvm);
    let mut m = unary(&llvm, "unverified", 3, 4, None);
    m.set_verifier(false);
    let before = jit.publish_stats().phases;
    jit.publish_owned(m, OptLevel::O2).unwrap();
    assert_eq!(call(&jit, "unverified", 5), 19);
    // The publish's time is attributed to its steps.
    let after = jit.publish_stats().phases;
    assert!(after.compile > before.compile && after.link > before.link && after.registry > before.registry);
    assert!(after.inspect >= before.inspect && after.entries > before.entries, "{before:?} -> {after:?}");
    let mut m = unary(&llvm, "unverified_object", 3, 4, None);
    m.set_verifier(false);
    let object = m.emit_object(OptLevel::O0).unwrap();
    assert!(object.starts_with(b"\x7fELF"), "an ELF object");
}

#[test]
fn new_exports_take_pooled_entries_across_chunks_and_a_failed_publish_names_none() {
    let llvm = LlvmContext::new();
    let jit = Jit::new().unwrap();
    // 600 functions `chain_k(x) = chain_{k-1}(x) * 1 + k`: more new exports than two
    // chunks of the x86-64 entry pool, each calling the previous through its entry.
    let mut cg = llvm.module("chain", &TargetSpec::host()).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let mut previous = None;
    for k in 0..600 {
        let f = cg.declare_func(&format!("chain_{k}"), FuncDecl::new(sig)).unwrap();
        cg.func_begin(f).unwrap();
        let x = cg.param_slot(0, "x").unwrap();
        cg.push_local(x).unwrap();
        cg.load(MemAccess::new(i64t)).unwrap();
        if let Some(p) = previous {
            cg.call(Callee::Direct(p), 1).unwrap();
        }
        cg.push_int(i64t, k).unwrap();
        cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
        cg.ret().unwrap();
        cg.func_end().unwrap();
        previous = Some(f);
    }
    jit.publish_owned(cfree_llvm_lower::finish(cg).unwrap(), OptLevel::O0).unwrap();
    assert_eq!(call(&jit, "chain_599", 7), 7 + (0..600).sum::<i64>());
    let r = jit.registry();
    let mut entries: Vec<u64> = (0..600).map(|k| r.symbol(&format!("chain_{k}")).unwrap().entry).collect();
    entries.sort_unstable();
    entries.dedup();
    assert_eq!(entries.len(), 600, "one entry per export");
    // Replacing one keeps its entry; callers reach the new body.
    jit.publish(&unary(&llvm, "chain_0", 1, 1000, None), OptLevel::O0).unwrap();
    assert_eq!(call(&jit, "chain_599", 7), 7 + 1000 + (0..600).sum::<i64>());

    // A publish that fails to link leaves no name behind: a module importing its new
    // export still fails as unresolved, and the export can be published afterwards.
    let failing = unary(&llvm, "late", 2, 0, Some("late_missing"));
    assert!(matches!(jit.publish(&failing, OptLevel::O0), Err(Error::Link { .. })));
    let user = unary(&llvm, "late_user", 1, 0, Some("late"));
    assert!(matches!(jit.publish(&user, OptLevel::O0), Err(Error::Link { .. })), "`late` was left defined");
    jit.publish(&unary(&llvm, "late_missing", 1, 5, None), OptLevel::O0).unwrap();
    jit.publish(&failing, OptLevel::O0).unwrap();
    jit.publish(&user, OptLevel::O0).unwrap();
    assert_eq!(call(&jit, "late_user", 3), (3 + 5) * 2);
}
