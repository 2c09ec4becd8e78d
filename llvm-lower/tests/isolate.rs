//! Isolated compilation (`doc/isolation.md`): the worker's object is the in-process
//! object byte for byte; a worker that LLVM crashes gives `Error::WorkerCrashed`
//! and this process goes on compiling.

use cfree_facade::*;
use cfree_llvm_lower::{Error, IsolatedCodegen, LlvmContext, LlvmModule, OptLevel};
#[cfg(feature = "test-hooks")]
use inkwell::values::BasicValue;

fn isolated() -> IsolatedCodegen {
    IsolatedCodegen::new(env!("CARGO_BIN_EXE_cfree-codegen-worker"))
}

/// `sum(n)`: a loop adding 0..n, `pick(a, b)`: calls `sum` and selects, and an
/// initialised data object referring to `sum`: enough for O2 to change the code.
fn plain_module<'c>(llvm: &'c LlvmContext, triple: &str) -> LlvmModule<'c> {
    let mut cg = llvm.module("plain", &TargetSpec::triple(triple)).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let sum = cg.declare_func("sum", FuncDecl::new(sig)).unwrap();
    cg.func_begin(sum).unwrap();
    let n = cg.param_slot(0, "n").unwrap();
    let (i, acc) = (cg.local_slot(i64t, "i", 0).unwrap(), cg.local_slot(i64t, "acc", 0).unwrap());
    for l in [i, acc] {
        cg.push_local(l).unwrap();
        cg.push_int(i64t, 0).unwrap();
        cg.store(MemAccess::new(i64t)).unwrap();
    }
    let (head, done) = (cg.new_label().unwrap(), cg.new_label().unwrap());
    cg.place_label(head).unwrap();
    for l in [i, n] {
        cg.push_local(l).unwrap();
        cg.load(MemAccess::new(i64t)).unwrap();
    }
    cg.int_cmp(IntCmp::Sge).unwrap();
    let body = cg.new_label().unwrap();
    cg.cond_br(done, body).unwrap();
    cg.place_label(body).unwrap();
    cg.push_local(acc).unwrap();
    for l in [acc, i] {
        cg.push_local(l).unwrap();
        cg.load(MemAccess::new(i64t)).unwrap();
    }
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.store(MemAccess::new(i64t)).unwrap();
    cg.push_local(i).unwrap();
    cg.push_local(i).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.push_int(i64t, 1).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.store(MemAccess::new(i64t)).unwrap();
    cg.br(head).unwrap();
    cg.place_label(done).unwrap();
    cg.push_local(acc).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    cfree_llvm_lower::finish(cg).unwrap()
}

/// A managed function keeping a GC reference live across a call: the pipeline
/// ends with the statepoint rewrite, and the object has a stack map section.
fn managed_module<'c>(llvm: &'c LlvmContext, triple: &str) -> LlvmModule<'c> {
    let mut cg = llvm.module("managed", &TargetSpec::triple(triple)).unwrap();
    cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving()).unwrap();
    let i8t = cg.ty_int(IntWidth::I8).unwrap();
    let obj = cg.ty_ptr(i8t, 1).unwrap();
    let void = cg.ty_func(FuncSig::new(&[], None)).unwrap();
    let work = cg.declare_func("work", FuncDecl::new(void)).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[obj], Some(obj))).unwrap();
    let keep = cg.declare_func("keep", FuncDecl::new(sig).gc(GcRole::Safepoints)).unwrap();
    cg.func_begin(keep).unwrap();
    let p = cg.param_slot(0, "p").unwrap();
    cg.call(Callee::Direct(work), 0).unwrap();
    cg.push_local(p).unwrap();
    cg.load(MemAccess::new(obj)).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    cfree_llvm_lower::finish(cg).unwrap()
}

#[test]
fn isolated_objects_are_the_in_process_objects() {
    let worker = isolated();
    for triple in ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] {
        for level in [OptLevel::O0, OptLevel::O2] {
            for managed in [false, true] {
                let build = |llvm| if managed { managed_module(llvm, triple) } else { plain_module(llvm, triple) };
                let llvm = LlvmContext::new();
                let module = build(&llvm);
                let isolated = worker.emit_object(&module, level).unwrap();
                let mut module = module;
                let local = module.emit_object(level).unwrap();
                assert_eq!(&local[..4], b"\x7fELF");
                assert!(local == isolated, "{triple} {level:?} managed={managed}: objects differ");
                if managed {
                    let has_stackmaps = local.windows(15).any(|w| w == b".llvm_stackmaps");
                    assert!(has_stackmaps, "{triple} {level:?}: the statepoint rewrite ran");
                }
            }
        }
    }
}

/// Adds `crash(ptr) -> i32` to `module` with inkwell, bypassing the lowering: a
/// `!nontemporal` i8 load, zero-extended and incremented, which crashes x86 instruction
/// selection at O2 (LLVM 19 and 22; `doc/isolation.md`). Needs the `test-hooks`
/// feature, which `cargo test --workspace` enables (through cfree-tests).
#[cfg(feature = "test-hooks")]
fn add_crashing_function(module: &LlvmModule<'_>) {
    let m = module.inkwell_for_tests();
    let ctx = m.get_context();
    let (i8t, i32t, ptr) = (ctx.i8_type(), ctx.i32_type(), ctx.ptr_type(inkwell::AddressSpace::default()));
    let f = m.add_function("crash", i32t.fn_type(&[ptr.into()], false), None);
    let b = ctx.create_builder();
    b.position_at_end(ctx.append_basic_block(f, "entry"));
    let p = f.get_first_param().unwrap().into_pointer_value();
    let v = b.build_load(i8t, p, "").unwrap();
    let load = v.as_instruction_value().unwrap();
    let one = ctx.metadata_node(&[i32t.const_int(1, false).into()]);
    load.set_metadata(one, ctx.get_kind_id("nontemporal")).unwrap();
    let wide = b.build_int_z_extend(v.into_int_value(), i32t, "").unwrap();
    let sum = b.build_int_add(wide, i32t.const_int(1, false), "").unwrap();
    b.build_return(Some(&sum)).unwrap();
}

#[cfg(feature = "test-hooks")]
#[test]
fn a_crashing_worker_is_an_error_and_compilation_goes_on() {
    let worker = isolated();
    for round in 0..2 {
        let llvm = LlvmContext::new();
        let module = plain_module(&llvm, "x86_64-unknown-linux-gnu");
        add_crashing_function(&module);
        module.verify().unwrap();
        match worker.emit_object(&module, OptLevel::O2) {
            Err(Error::WorkerCrashed { signal: Some(signal), status: None, stderr }) => {
                assert_eq!(signal, 11, "SIGSEGV in round {round}; stderr: {stderr}");
                // LLVM's pretty stack trace names the pass that crashed.
                assert!(stderr.contains("crash"), "the function is named: {stderr}");
                let e = Error::WorkerCrashed { signal: Some(signal), status: None, stderr };
                assert!(e.to_string().starts_with("code generation worker killed by signal 11"));
            }
            other => panic!("expected a crash, got {:?}", other.map(|o| o.len())),
        }
        // The same worker compiles a good module afterwards, and so does this process.
        let llvm = LlvmContext::new();
        let mut good = plain_module(&llvm, "x86_64-unknown-linux-gnu");
        let isolated = worker.emit_object(&good, OptLevel::O2).unwrap();
        assert_eq!(isolated, good.emit_object(OptLevel::O2).unwrap());
    }
}

#[test]
fn worker_errors_are_precise() {
    let llvm = LlvmContext::new();
    let module = plain_module(&llvm, "x86_64-unknown-linux-gnu");
    let missing = IsolatedCodegen::new("/nonexistent/cfree-codegen-worker");
    match missing.emit_object(&module, OptLevel::O0) {
        Err(Error::Worker(m)) => assert!(m.contains("cannot run the worker"), "{m}"),
        other => panic!("{:?}", other.map(|o| o.len())),
    }
    // A worker that is not one: `false` exits 1 without output.
    let wrong = IsolatedCodegen::new("/bin/false");
    match wrong.emit_object(&module, OptLevel::O0) {
        Err(Error::WorkerCrashed { signal: None, status: Some(1), .. }) => {}
        other => panic!("{:?}", other.map(|o| o.len())),
    }
    // The worker refuses a request that is not one, with its own message.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cfree-codegen-worker"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a cfree code generation request"));
    assert!(out.stdout.is_empty());
}

/// The CPU tables of `target.rs` are complete: every CPU this LLVM lists for the
/// target (`llc -mcpu=help`, the oracle) is either refused when the module is created
/// or compiles at O0 and O2. Compilation runs in the worker, so a CPU that makes LLVM
/// abort fails this test instead of ending it.
#[test]
fn every_cpu_llvm_lists_is_refused_or_compiles() {
    let llc = format!("/usr/lib/llvm-{}/bin/llc", cfree_llvm_lower::LLVM_MAJOR);
    let worker = isolated();
    for triple in ["x86_64-unknown-linux-gnu", "riscv64-unknown-linux-gnu", "riscv32-unknown-elf"] {
        let help = std::process::Command::new(&llc)
            .args([&format!("-mtriple={triple}"), "-mcpu=help", "/dev/null", "-o", "/dev/null"])
            .output()
            .expect("llc of the same LLVM major (ci/bootstrap installs it)");
        let text = String::from_utf8_lossy(&help.stderr).into_owned() + &String::from_utf8_lossy(&help.stdout);
        let cpus: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("Available CPUs"))
            .skip(1)
            .take_while(|l| !l.starts_with("Available features"))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert!(cpus.len() > 20, "{triple}: llc listed {} CPUs", cpus.len());
        let (mut refused, mut compiled) = (0, 0);
        for cpu in cpus {
            let llvm = LlvmContext::new();
            let spec = TargetSpec::triple(triple).with_cpu(cpu);
            let Ok(mut cg) = llvm.module("cpu", &spec) else {
                refused += 1;
                continue;
            };
            let i32t = cg.ty_int(IntWidth::I32).unwrap();
            let sig = cg.ty_func(FuncSig::new(&[i32t], Some(i32t))).unwrap();
            let f = cg.declare_func("f", FuncDecl::new(sig)).unwrap();
            cg.func_begin(f).unwrap();
            let x = cg.param_slot(0, "x").unwrap();
            cg.push_local(x).unwrap();
            cg.load(MemAccess::new(i32t)).unwrap();
            cg.push_int(i32t, 3).unwrap();
            cg.int_op(IntBinOp::Mul, IntFlags::NONE).unwrap();
            cg.ret().unwrap();
            cg.func_end().unwrap();
            let module = cfree_llvm_lower::finish(cg).unwrap();
            for level in [OptLevel::O0, OptLevel::O2] {
                if let Err(e) = worker.emit_object(&module, level) {
                    panic!("{triple} with CPU `{cpu}` at {level:?} is accepted but does not compile: {e}");
                }
            }
            compiled += 1;
        }
        // Each of these triples has CPUs that LLVM lists but cannot use for it.
        assert!(compiled > 0 && refused > 0, "{triple}: {compiled} compiled, {refused} refused");
    }
}
