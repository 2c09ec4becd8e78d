//! Checks through the JIT: `check_nonnull` lowered explicitly and implicitly
//! (a faulting load in the trap table, resumed at the handler by the fault
//! handler of `cfree-statepoint`), and `check` with a computed condition,
//! every result compared with a Rust oracle at O0 and O2. A fault that is not
//! in the trap table still ends the process (checked in a child process).
//! Objects for x86_64 and aarch64 carry `.llvm_faultmaps`, riscv64 keeps the
//! branches (its capability query says so).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use cfree_facade::*;
use cfree_jit_orc::Jit;
use cfree_llvm_lower::{LlvmBackend, LlvmContext, OptLevel};

type G<'a> = Cg<LlvmBackend<'a>>;

static JIT: OnceLock<Jit> = OnceLock::new();
/// Faults resumed at a handler.
static RESUMED: AtomicUsize = AtomicUsize::new(0);

/// One JIT for the whole test binary: the fault handler reads its registry.
fn jit() -> &'static Jit {
    JIT.get_or_init(|| {
        let jit = Jit::new().unwrap();
        cfree_statepoint::install_trap_handler(|pc| {
            let handler = JIT.get()?.registry().trap_at(pc)?.handler;
            RESUMED.fetch_add(1, Ordering::Relaxed);
            Some(handler)
        })
        .unwrap();
        jit
    })
}

/// `{prefix}_field(p, dflt)`: `p ? p[1] : dflt` (i64 words), with the check lowered as `lowering`.
fn field(cg: &mut G<'_>, name: &str, lowering: CheckLowering) {
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let ptr = cg.ty_ptr(i64t, 0).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[ptr, i64t], Some(i64t))).unwrap();
    let f = cg.declare_func(name, FuncDecl::new(sig)).unwrap();
    cg.func_begin(f).unwrap();
    let p = cg.param_slot(0, "p").unwrap();
    let dflt = cg.param_slot(1, "dflt").unwrap();
    let null = cg.new_label().unwrap();
    cg.push_local(p).unwrap();
    cg.load(MemAccess::new(ptr)).unwrap();
    cg.check_nonnull(null, lowering).unwrap();
    cg.addr_offset(8, ptr).unwrap();
    cg.deref(i64t).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.ret().unwrap();
    cg.place_label(null).unwrap();
    cg.push_local(dflt).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
}

/// `{name}(node)`: sums `node->value` along `node->next` (node = {i64 value, ptr next});
/// the end of the list is found by the null check, and the sum returned by the handler.
fn list_sum(cg: &mut G<'_>, name: &str, lowering: CheckLowering) {
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let ptr = cg.ty_ptr(i64t, 0).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[ptr], Some(i64t))).unwrap();
    let f = cg.declare_func(name, FuncDecl::new(sig)).unwrap();
    cg.func_begin(f).unwrap();
    let node = cg.param_slot(0, "node").unwrap();
    let acc = cg.local_slot(i64t, "acc", 0).unwrap();
    cg.push_local(acc).unwrap();
    cg.push_int(i64t, 0).unwrap();
    cg.store(MemAccess::new(i64t)).unwrap();
    let (top, end) = (cg.new_label().unwrap(), cg.new_label().unwrap());
    cg.place_label(top).unwrap();
    // acc += node->value (the access the check folds into)
    cg.push_local(acc).unwrap();
    cg.push_local(node).unwrap();
    cg.load(MemAccess::new(ptr)).unwrap();
    cg.check_nonnull(end, lowering).unwrap();
    cg.deref(i64t).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.push_local(acc).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.store(MemAccess::new(i64t)).unwrap();
    // node = node->next
    cg.push_local(node).unwrap();
    cg.push_local(node).unwrap();
    cg.load(MemAccess::new(ptr)).unwrap();
    cg.addr_offset(8, ptr).unwrap();
    cg.deref(ptr).unwrap();
    cg.load(MemAccess::new(ptr)).unwrap();
    cg.store(MemAccess::new(ptr)).unwrap();
    cg.br(top).unwrap();
    cg.place_label(end).unwrap();
    cg.push_local(acc).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
}

/// `{name}(a, b)`: `a / b`, or -1 when `b == 0` (a `check` on a computed condition).
fn checked_div(cg: &mut G<'_>, name: &str) {
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t, i64t], Some(i64t))).unwrap();
    let f = cg.declare_func(name, FuncDecl::new(sig)).unwrap();
    cg.func_begin(f).unwrap();
    let a = cg.param_slot(0, "a").unwrap();
    let b = cg.param_slot(1, "b").unwrap();
    let zero = cg.new_label().unwrap();
    cg.push_local(a).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.push_local(b).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.dup().unwrap();
    cg.push_int(i64t, 0).unwrap();
    cg.int_cmp(IntCmp::Eq).unwrap();
    cg.check(zero).unwrap();
    cg.int_op(IntBinOp::UDiv, IntFlags::NONE).unwrap();
    cg.ret().unwrap();
    cg.place_label(zero).unwrap();
    cg.push_int(i64t, -1).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
}

#[repr(C)]
struct Node {
    value: i64,
    next: *const Node,
}

/// Publishes the checks at `level`; returns the unit's trap entries.
fn build(level: OptLevel) -> Vec<cfree_jit_orc::TrapInfo> {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module(&format!("checks_{level:?}"), &TargetSpec::host()).unwrap();
    for (tag, lowering) in [("explicit", CheckLowering::Explicit), ("implicit", CheckLowering::Implicit)] {
        field(&mut cg, &format!("field_{tag}_{level:?}"), lowering);
        list_sum(&mut cg, &format!("sum_{tag}_{level:?}"), lowering);
    }
    checked_div(&mut cg, &format!("div_{level:?}"));
    let module = cfree_llvm_lower::finish(cg).unwrap();
    let unit = jit().publish(&module, level).unwrap().unit;
    jit().registry().traps().filter(|t| t.unit == unit).cloned().collect()
}

fn run(level: OptLevel) {
    let traps = build(level);
    let host = TargetSpec::host();
    let implicit_folds = LlvmContext::new().module("q", &host).unwrap().target().supports_implicit_null_checks();
    let registry = jit().registry();
    if level == OptLevel::O2 && implicit_folds {
        // The straight-line check always folds; the loop's may (LLVM keeps a
        // branch where it cannot move the access up, e.g. past a prologue).
        assert!(traps.iter().any(|t| t.function.starts_with("field_implicit_O2")), "{traps:#?}");
    }
    for t in &traps {
        assert!(t.function.contains("implicit"), "only implicit checks fault: {t:?}");
        assert!(registry.function_at(t.handler).is_some_and(|f| *f.name == *t.function));
    }
    let words = [11i64, 22];
    let nodes: Vec<Box<Node>> = (1..=100).map(|v| Box::new(Node { value: v * 3, next: std::ptr::null() })).collect();
    let mut head: *const Node = std::ptr::null();
    for n in nodes.iter().rev() {
        // SAFETY: each node is a live Box, relinked before any read.
        unsafe { (*(n.as_ref() as *const Node as *mut Node)).next = head };
        head = n.as_ref();
    }
    let oracle: i64 = (1..=100).map(|v| v * 3).sum();
    for tag in ["explicit", "implicit"] {
        let f = jit().get::<unsafe extern "C" fn(*const i64, i64) -> i64>(&format!("field_{tag}_{level:?}")).unwrap();
        let s = jit().get::<unsafe extern "C" fn(*const Node) -> i64>(&format!("sum_{tag}_{level:?}")).unwrap();
        for _ in 0..1000 {
            // SAFETY: the functions read `words` or the list, or find null and return.
            unsafe {
                assert_eq!(f.call(words.as_ptr(), 7), 22, "{tag} {level:?}");
                assert_eq!(f.call(std::ptr::null(), 7), 7, "{tag} {level:?}: null reaches the handler");
                assert_eq!(s.call(head), oracle, "{tag} {level:?}");
                assert_eq!(s.call(std::ptr::null()), 0, "{tag} {level:?}");
            }
        }
    }
    if level == OptLevel::O2 && implicit_folds {
        assert!(RESUMED.load(Ordering::Relaxed) >= 1000, "null pointers reached the handlers through faults");
    }
    let d = jit().get::<unsafe extern "C" fn(i64, i64) -> i64>(&format!("div_{level:?}")).unwrap();
    for (a, b) in [(7i64, 2i64), (-9, 3), (5, 0), (0, 0), (i64::MIN, -1)] {
        let expected = if b == 0 { -1 } else { (a as u64 / b as u64) as i64 };
        // SAFETY: a pure function of its arguments.
        assert_eq!(unsafe { d.call(a, b) }, expected, "{a} / {b}");
    }
}

#[test]
fn checks_run_through_the_jit_at_o0_and_o2() {
    run(OptLevel::O0);
    run(OptLevel::O2);
}

/// In a child: a null load the trap table does not know must still kill the process.
#[test]
fn a_fault_outside_the_trap_table_is_still_a_crash() {
    if std::env::var_os("CFREE_TRAP_CHILD").is_some() {
        build(OptLevel::O2);
        let p: *const i64 = std::hint::black_box(std::ptr::null());
        // SAFETY: deliberately faults; the parent expects this process to die of SIGSEGV.
        let v = unsafe { std::ptr::read_volatile(p) };
        println!("survived with {v}");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args(["--exact", "a_fault_outside_the_trap_table_is_still_a_crash", "--nocapture"])
        .env("CFREE_TRAP_CHILD", "1")
        .output()
        .unwrap();
    use std::os::unix::process::ExitStatusExt;
    const SIGSEGV: i32 = 11; // Linux
    assert_eq!(out.status.signal(), Some(SIGSEGV), "{:?}\n{}", out.status, String::from_utf8_lossy(&out.stdout));
}

/// x86_64 and aarch64 objects carry the trap table, riscv64 keeps branches.
#[test]
fn objects_carry_fault_maps_where_the_target_folds_checks() {
    for triple in ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu", "riscv64-unknown-linux-gnu"] {
        let llvm = LlvmContext::new();
        let mut cg = llvm.module("fm", &TargetSpec::triple(triple)).unwrap();
        let folds = cg.target().supports_implicit_null_checks();
        field(&mut cg, "field", CheckLowering::Implicit);
        let mut m = cfree_llvm_lower::finish(cg).unwrap();
        let obj = m.emit_object(OptLevel::O2).unwrap();
        let file = object::File::parse(&*obj).unwrap();
        use object::{Object, ObjectSection};
        let section = file.section_by_name(".llvm_faultmaps");
        assert_eq!(section.is_some(), folds, "{triple}");
        if let Some(s) = section {
            let maps = cfree_statepoint::FaultMapSection::parse(s.data().unwrap()).unwrap();
            assert_eq!(maps.functions.len(), 1);
            assert_eq!(maps.functions[0].sites.len(), 1, "{triple}");
            assert_eq!(maps.functions[0].sites[0].kind, cfree_statepoint::FaultKind::Load);
        }
    }
}

/// Trap entries live and die with their unit: a replacement's explicit check
/// serves new calls, and reclaiming the old unit drops its entries.
#[test]
fn trap_entries_follow_their_unit() {
    let publish = |lowering| {
        let llvm = LlvmContext::new();
        let mut cg = llvm.module("replaced_checks", &TargetSpec::host()).unwrap();
        field(&mut cg, "replaced_field", lowering);
        let module = cfree_llvm_lower::finish(cg).unwrap();
        jit().publish(&module, OptLevel::O2).unwrap()
    };
    let first = publish(CheckLowering::Implicit);
    let entries = |unit| jit().registry().traps().filter(|t| t.unit == unit).count();
    let folds = LlvmContext::new().module("q", &TargetSpec::host()).unwrap().target().supports_implicit_null_checks();
    assert_eq!(entries(first.unit) > 0, folds);
    let second = publish(CheckLowering::Explicit);
    assert_eq!(second.replaced, vec!["replaced_field".to_string()]);
    assert_eq!(entries(second.unit), 0);
    let f = jit().get::<unsafe extern "C" fn(*const i64, i64) -> i64>("replaced_field").unwrap();
    // SAFETY: reads the array or finds null.
    unsafe {
        assert_eq!(f.call([1i64, 2].as_ptr(), 9), 2);
        assert_eq!(f.call(std::ptr::null(), 9), 9);
    }
    jit().retire(first.unit).unwrap();
    assert!(jit().reclaim().unwrap().contains(&first.unit));
    assert_eq!(entries(first.unit), 0, "reclaimed with its code");
}
