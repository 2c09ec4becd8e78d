//! Names that LLVM would cut, ignore with a warning on stderr, or abort on later
//! are refused with a precise error when the module is created; valid names still
//! compile. The stderr checks run this test binary again as a child process and
//! read what the child wrote.

use cfree_facade::{ErrorKind, FuncDecl, FuncSig, IntWidth, NameProblem, TargetSpec};
use cfree_llvm_lower::{Error, LlvmContext, OptLevel};

/// The error of creating a module for `spec`, which must fail with `Error::Target`.
fn target_error(spec: &TargetSpec) -> String {
    let llvm = LlvmContext::new();
    let message = match llvm.module("m", spec) {
        Err(Error::Target { message, .. }) => message,
        Err(other) => panic!("{spec:?}: expected a target error, got {other}"),
        Ok(_) => panic!("{spec:?}: accepted"),
    };
    message
}

/// A module with one function, compiled to an object at O2 for `spec`.
fn compiles(spec: &TargetSpec) -> Vec<u8> {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("m", spec).unwrap_or_else(|e| panic!("{spec:?}: {e}"));
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i32t], Some(i32t))).unwrap();
    let f = cg.declare_func("f", FuncDecl::new(sig)).unwrap();
    cg.func_begin(f).unwrap();
    let x = cg.param_slot(0, "x").unwrap();
    cg.push_local(x).unwrap();
    cg.load(cfree_facade::MemAccess::new(i32t)).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    let mut module = cfree_llvm_lower::finish(cg).unwrap();
    module.emit_object(OptLevel::O2).unwrap()
}

#[test]
fn module_names_with_nul_or_empty_are_refused() {
    let llvm = LlvmContext::new();
    for name in ["mod\0ule", "", "\0"] {
        match llvm.module(name, &TargetSpec::host()) {
            Err(Error::Cg(e)) => {
                assert_eq!(e.call(), "module");
                assert_eq!(e.operand_name(), Some("name"));
                let problem = NameProblem::of(name).unwrap();
                assert_eq!(e.kind(), &ErrorKind::InvalidName { name: name.to_string(), problem });
            }
            Err(other) => panic!("{name:?}: wrong error {other}"),
            Ok(_) => panic!("{name:?} accepted"),
        }
    }
    let cg = llvm.module("module", &TargetSpec::host()).unwrap();
    let module = cfree_llvm_lower::finish(cg).unwrap();
    assert_eq!(module.name(), "module");
}

const TRIPLES: [&str; 4] =
    ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu", "riscv64-unknown-linux-gnu", "wasm32-unknown-unknown"];

#[test]
fn unknown_cpus_and_features_are_refused_by_name() {
    let m = target_error(&TargetSpec::host().with_cpu("no-such-cpu"));
    assert_eq!(m, "unknown CPU `no-such-cpu` for this target");
    let m = target_error(&TargetSpec::host().with_features("+sse2,+nosuchfeature"));
    assert_eq!(m, "unknown feature `+nosuchfeature` for this target");
    for triple in TRIPLES {
        let spec = TargetSpec::triple(triple);
        let m = target_error(&spec.clone().with_cpu("no-such-cpu"));
        assert!(m.contains("`no-such-cpu`"), "{triple}: {m}");
        let m = target_error(&spec.clone().with_features("-nosuchfeature"));
        assert!(m.contains("`-nosuchfeature`"), "{triple}: {m}");
        // The same bad names again: refused again (only good combinations are remembered).
        let m = target_error(&spec.clone().with_cpu("no-such-cpu"));
        assert!(m.contains("`no-such-cpu`"), "{triple}: {m}");
    }
    // A feature of another architecture is unknown here.
    let m = target_error(&TargetSpec::triple("aarch64-unknown-linux-gnu").with_features("+avx2"));
    assert!(m.contains("`+avx2`"), "{m}");
}

#[test]
fn names_that_would_abort_code_generation_are_refused() {
    let x86 = TargetSpec::triple("x86_64-unknown-linux-gnu");
    for cpu in ["i686", "pentium4", "i386"] {
        let m = target_error(&x86.clone().with_cpu(cpu));
        assert!(m.contains(&format!("`{cpu}`")) && m.contains("cannot generate code"), "{m}");
    }
    let m = target_error(&TargetSpec::triple("riscv64-unknown-linux-gnu").with_cpu("generic-rv32"));
    assert!(m.contains("`generic-rv32`"), "{m}");
    let m = target_error(&TargetSpec::triple("riscv32-unknown-elf").with_cpu("generic-rv64"));
    assert!(m.contains("`generic-rv64`"), "{m}");
    assert!(target_error(&x86.clone().with_features("-64bit")).contains("`-64bit`"));
    assert!(target_error(&x86.clone().with_features("-64bit-mode")).contains("`-64bit-mode`"));
    let rv = TargetSpec::triple("riscv64-unknown-linux-gnu");
    assert!(target_error(&rv.with_features("+m,+32bit")).contains("`+32bit`"));
    assert!(target_error(&x86.clone().with_cpu("help")).contains("`help`"));
    assert!(target_error(&x86.clone().with_features("+help")).contains("`+help`"));
    assert!(target_error(&x86.clone().with_features("+cpuhelp")).contains("`+cpuhelp`"));
    let m = target_error(&x86.with_features("avx2"));
    assert_eq!(m, "feature `avx2` needs a leading `+` or `-`");
}

#[test]
fn known_names_still_compile() {
    let specs = [
        TargetSpec::triple("x86_64-unknown-linux-gnu").with_cpu("skylake").with_features("+avx2,-avx512f"),
        TargetSpec::triple("i686-unknown-linux-gnu").with_cpu("i686"),
        TargetSpec::triple("aarch64-unknown-linux-gnu").with_cpu("cortex-a72").with_features("+crc"),
        TargetSpec::triple("riscv64-unknown-linux-gnu").with_cpu("sifive-u74").with_features("+m,+a,+f,+d,+c"),
        TargetSpec::triple("riscv32-unknown-elf").with_cpu("generic-rv32").with_features("+m"),
        TargetSpec::triple("wasm32-unknown-unknown").with_cpu("mvp").with_features("+simd128"),
        TargetSpec::host(),
        cfree_llvm_lower::host_spec(),
    ];
    for spec in &specs {
        assert!(compiles(spec).len() > 16, "{spec:?}");
        // Twice: the second machine comes from the remembered combination.
        assert!(compiles(spec).len() > 16, "{spec:?}");
    }
}

/// Set in the child process: which refusal to perform.
const CHILD: &str = "CFREE_TARGET_NAMES_CHILD";

/// In the child: refuses each bad name, then compiles a good module. In the parent: does
/// nothing (the parent runs it through `refusals_print_nothing_on_stderr`).
#[test]
fn child_refuses_bad_names() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    for triple in TRIPLES {
        let spec = TargetSpec::triple(triple);
        target_error(&spec.clone().with_cpu("no-such-cpu"));
        target_error(&spec.clone().with_features("+nosuchfeature"));
        target_error(&spec.with_cpu("no-such-cpu").with_features("+nosuchfeature"));
    }
    target_error(&TargetSpec::host().with_cpu("no-such-cpu"));
    compiles(&TargetSpec::host());
    eprintln!("child done");
}

#[test]
fn refusals_print_nothing_on_stderr() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_refuses_bad_names", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed: {stderr}\n{}", String::from_utf8_lossy(&out.stdout));
    // What the child wrote on purpose reaches stderr (the capture is undone); nothing else does.
    assert_eq!(stderr.trim(), "child done", "stderr of the child: {stderr:?}");
}
