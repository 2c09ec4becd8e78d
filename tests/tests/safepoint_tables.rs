//! One safepoint table builder for the JIT and for AOT executables, with the
//! target's registers: a managed module emitted for AArch64 (on any host) is
//! compiled and inspected the way publish does it (`cfree_jit_orc::compile`:
//! the JIT's object reader, function starts from relocations, the AArch64
//! stack map registers picked from the module's target), then the same object
//! is linked by the AArch64 linker into a non-PIE executable at a fixed
//! address and its `.llvm_stackmaps` is loaded the way the toy runtime's AOT
//! loader does it (`cfree_toy_rt::aot::StackMaps`, function addresses from the
//! linked section). Both tables must agree entry by entry.
//!
//! Needs `aarch64-linux-gnu-ld` (binutils for AArch64, installed by
//! `ci/bootstrap`); a missing linker fails the test with a message naming it.

use std::process::Command;

use cfree_facade::*;
use cfree_jit_orc::{Error, ObjectError, ObjectInfo};
use cfree_llvm_lower::{LlvmContext, LlvmModule, OptLevel};
use cfree_statepoint::{Arch, Slot, TableError};
use cfree_tests::emit::counted_loop;
use cfree_toy_rt::aot::StackMaps;
use object::{Object, ObjectSection, ObjectSymbol};

const TRIPLE: &str = "aarch64-unknown-linux-gnu";
const ALLOC_ID: u64 = 0xa110c;
const CALL_ID: u64 = 0xca11;
const POLL_ID: u64 = 0x9011;

/// `cons(next, v)` allocates a node (`next` is live across the allocation)
/// and `build(n)` conses `n` nodes onto an explicit root slot, polling after each.
fn module(llvm: &LlvmContext) -> LlvmModule<'_> {
    let mut cg = llvm.module("tables", &TargetSpec::triple(TRIPLE)).unwrap();
    cg.set_address_space_policy(1, AddrSpacePolicy::managed_moving()).unwrap();
    let (i64t, i8t) = (cg.ty_int(IntWidth::I64).unwrap(), cg.ty_int(IntWidth::I8).unwrap());
    let obj = cg.ty_ptr(i8t, 1).unwrap();
    let func = |cg: &mut Cg<_>, name: &str, params: &[TypeId], result, role| {
        let sig = cg.ty_func(FuncSig::new(params, result)).unwrap();
        cg.declare_func(name, FuncDecl::new(sig).gc(role)).unwrap()
    };
    let alloc = func(&mut cg, "toy_alloc", &[i64t, i64t], Some(obj), GcRole::Runtime);
    let poll = func(&mut cg, "toy_poll", &[], None, GcRole::Runtime);
    cg.set_gc_runtime(GcRuntime::new(alloc).poll(poll)).unwrap();
    let cons = func(&mut cg, "cons", &[obj, i64t], Some(obj), GcRole::Safepoints);
    let build = func(&mut cg, "build", &[i64t], Some(i64t), GcRole::Safepoints);

    cg.func_begin(cons).unwrap();
    let (next, v) = (cg.param_slot(0, "next").unwrap(), cg.param_slot(1, "v").unwrap());
    let node = cg.local_slot(obj, "node", 0).unwrap();
    cg.push_local(node).unwrap();
    cg.set_safepoint_id(ALLOC_ID).unwrap();
    cg.gc_alloc(cfree_toy_rt::record_header(16, 1) as i64, 16).unwrap();
    cg.store(MemAccess::new(obj)).unwrap();
    let get = |cg: &mut Cg<_>, l, ty| {
        cg.push_local(l).unwrap();
        cg.load(MemAccess::new(ty)).unwrap();
    };
    get(&mut cg, node, obj);
    get(&mut cg, next, obj);
    cg.store(MemAccess::new(obj)).unwrap();
    get(&mut cg, node, obj);
    cg.addr_offset(8, obj).unwrap();
    get(&mut cg, v, i64t);
    cg.store(MemAccess::new(i64t)).unwrap();
    get(&mut cg, node, obj);
    cg.ret().unwrap();
    cg.func_end().unwrap();

    cg.func_begin(build).unwrap();
    let n = cg.param_slot(0, "n").unwrap();
    let head = cg.gc_root_slot(obj, "head").unwrap();
    let i = cg.local_slot(i64t, "i", 0).unwrap();
    counted_loop(&mut cg, i, n, |cg| {
        cg.push_local(head)?;
        cg.push_local(head)?;
        cg.load(MemAccess::new(obj))?;
        cg.push_local(i)?;
        cg.load(MemAccess::new(i64t))?;
        cg.set_safepoint_id(CALL_ID)?;
        cg.call(Callee::Direct(cons), 2)?;
        cg.store(MemAccess::new(obj))?;
        cg.set_safepoint_id(POLL_ID)?;
        cg.safepoint()
    })
    .unwrap();
    get(&mut cg, n, i64t);
    cg.ret().unwrap();
    cg.func_end().unwrap();
    cfree_llvm_lower::finish(cg).unwrap()
}

/// Links `object` for AArch64 at a fixed address (runtime functions left unresolved)
/// and returns the executable's bytes.
fn link(object: &[u8], tag: &str) -> Vec<u8> {
    let dir = cfree_tests::aot::scratch_dir(tag).unwrap();
    let (obj, exe) = (dir.join("tables.o"), dir.join("tables"));
    std::fs::write(&obj, object).unwrap();
    let out = Command::new("aarch64-linux-gnu-ld")
        .args(["-static", "-Ttext=0x410000", "-e", "0", "--unresolved-symbols=ignore-all", "-o"])
        .arg(&exe)
        .arg(&obj)
        .output()
        .unwrap_or_else(|e| panic!("aarch64-linux-gnu-ld cannot run ({e}): install binutils-aarch64-linux-gnu"));
    assert!(out.status.success(), "linking: {}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&exe).unwrap();
    let _ = std::fs::remove_dir_all(dir);
    bytes
}

fn check(level: OptLevel) {
    let llvm = LlvmContext::new();
    let module = module(&llvm);
    // The JIT side: emission, object reader and table builder as publish runs them.
    let (object, jit) = cfree_jit_orc::compile(&module, &[], level).unwrap();
    let jit_table = jit.safepoints.entries();

    // The AOT side: the linked executable's own section, through the toy runtime's loader.
    let exe = link(&object, &format!("tables-{level:?}"));
    let file = object::File::parse(&*exe).unwrap();
    let section = file.section_by_name(".llvm_stackmaps").unwrap().data().unwrap();
    let aot = StackMaps::parse_for(Arch::AArch64, section).unwrap();
    let aot_table = aot.table().entries();

    // Where the linker put the object's code: `build`'s address minus its offset in the object.
    let linked_build = file.symbols().find(|s| s.name() == Ok("build")).unwrap().address();
    let object_build = jit.functions.iter().find(|f| f.name == "build").unwrap();
    let text = linked_build - (jit.layout_base(object_build.section).unwrap() + object_build.offset);

    assert_eq!(jit_table.len(), aot_table.len());
    for (j, a) in jit_table.iter().zip(aot_table) {
        assert_eq!(j.pc + text, a.pc, "{j:?}");
        assert_eq!((j.id, j.function, j.record, j.stack_size), (a.id, a.function, a.record, a.stack_size));
        assert_eq!(j.safepoint, a.safepoint, "{j:?}");
        assert!(j.safepoint.is_some(), "every record of a managed module is a safepoint: {j:?}");
    }
    // Each function's records name it.
    for (k, f) in jit.stack_map_functions.iter().enumerate() {
        let linked = file.symbols().find(|s| s.name() == Ok(f.name.as_str())).unwrap().address();
        assert_eq!(jit.layout_base(f.section).unwrap() + f.offset + text, linked, "function {k} `{}`", f.name);
    }

    // What the records hold, decoded with AArch64's registers (SP = 31, FP = 29).
    let ids: Vec<u64> = jit_table.iter().map(|e| e.id).collect();
    for id in [ALLOC_ID, CALL_ID, POLL_ID] {
        assert!(ids.contains(&id), "{id:#x} in {ids:x?}");
    }
    let at = |id| jit_table.iter().find(|e| e.id == id).and_then(|e| e.safepoint.as_ref()).unwrap();
    assert!(!at(ALLOC_ID).live.is_empty(), "`next` is live across the allocation");
    assert!(at(ALLOC_ID).live.iter().all(|p| matches!(p.base, Slot::Sp(_) | Slot::Fp(_))));
    assert_eq!(at(CALL_ID).roots.len(), 1, "the root slot at the call");
    assert_eq!(at(CALL_ID).roots, at(POLL_ID).roots, "the same slot at the poll");
    assert!(jit_table.iter().all(|e| e.safepoint.as_ref().unwrap().frame_size == Some(e.stack_size)));

    // The same object read with x86-64's register numbers does not decode: the Arch matters.
    let e = ObjectInfo::parse(&object, Some(Arch::X86_64)).unwrap_err();
    assert!(matches!(e, ObjectError::Table(TableError::Undecodable { .. })), "{e}");
}

#[test]
fn aarch64_jit_and_aot_tables_agree_o0() {
    check(OptLevel::O0);
}

#[test]
fn aarch64_jit_and_aot_tables_agree_o2() {
    check(OptLevel::O2);
}

#[test]
fn a_host_jit_refuses_the_foreign_module() {
    if cfg!(target_arch = "aarch64") {
        return;
    }
    let llvm = LlvmContext::new();
    let jit = cfree_jit_orc::Jit::new().unwrap();
    let e = jit.publish(&module(&llvm), OptLevel::O0).unwrap_err();
    assert!(matches!(e, Error::WrongTarget { .. }), "{e}");
    assert_eq!(e.code(), 3);
}
