//! Computed control and dynamic stack, executed on x86_64, aarch64 and
//! riscv64 (qemu-user) at O0 and O2 against Rust oracles:
//!
//! - a threaded bytecode interpreter: every handler dispatches itself with
//!   `indirect_br` through a table of label addresses (in a local and in
//!   data), also through the JIT (whose module copy must keep the data's
//!   label addresses);
//! - `alloca` in a loop with `stack_save`/`stack_restore`, a million
//!   iterations of up to 127 bytes each (over 60 MiB without the release, far
//!   beyond the 8 MiB stack) in bounded stack;
//! - a 1 MiB frame plus a 2 MiB dynamic allocation with inline stack probes
//!   (x86_64, aarch64: the probe loop is in the assembly; riscv64 refuses the
//!   request, as its capability query says, and runs the frame unprobed).

use cfree_facade::*;
use cfree_llvm_lower::{LlvmBackend, LlvmContext, OptLevel};
use cfree_tests::aot::{link_with, scratch_dir, LinuxTarget};

type G<'a> = Cg<LlvmBackend<'a>>;

const ITERATIONS: i64 = 1_000_000;
const FRAME: u64 = 1 << 20;

fn get(cg: &mut G<'_>, l: Local, ty: TypeId) {
    cg.push_local(l).unwrap();
    cg.load(MemAccess::new(ty)).unwrap();
}

fn set(cg: &mut G<'_>, l: Local, ty: TypeId, value: impl FnOnce(&mut G<'_>)) {
    cg.push_local(l).unwrap();
    value(cg);
    cg.store(MemAccess::new(ty)).unwrap();
}

fn add_to(cg: &mut G<'_>, l: Local, ty: TypeId, k: i128) {
    set(cg, l, ty, |cg| {
        get(cg, l, ty);
        cg.push_int(ty, k).unwrap();
        cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    });
}

/// The interpreter's program: INC, DOUBLE, LOOP (back to 0 while the counter
/// is not zero), HALT.
const PROGRAM: [u8; 4] = [0, 1, 2, 3];

fn interp_oracle(n: i64) -> i64 {
    let mut acc: i64 = 0;
    for _ in 0..n {
        acc = acc.wrapping_add(1).wrapping_mul(2);
    }
    acc
}

/// `interp(n)`: runs PROGRAM with the counter at `n` (n >= 1); the dispatch
/// table is a local filled at entry, or (`interp_data`) read-only data
/// defined with the labels' addresses.
fn interpreter(cg: &mut G<'_>, name: &str, table_in_data: bool) {
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let i8t = cg.ty_int(IntWidth::I8).unwrap();
    let ptr = cg.ty_ptr(i8t, 0).unwrap();
    let prog_ty = cg.ty_array(i8t, PROGRAM.len() as u64).unwrap();
    let table_ty = cg.ty_array(ptr, 4).unwrap();
    let prog = cg
        .declare_data(&format!("{name}_program"), DataDecl::new(prog_ty).readonly().linkage(Linkage::Internal))
        .unwrap();
    cg.define_data(prog, &DataInit::new().bytes(&PROGRAM)).unwrap();
    let data_table = cg
        .declare_data(&format!("{name}_table"), DataDecl::new(table_ty).readonly().linkage(Linkage::Internal))
        .unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let f = cg.declare_func(name, FuncDecl::new(sig)).unwrap();
    cg.func_begin(f).unwrap();
    // No slot's address is taken (the facade checks the promise); the
    // dispatch table is the compiler's own.
    let n = cg.param_slot_with(0, "n", SlotFlags::NONE).unwrap();
    let (pc, acc, cnt) = (
        cg.local_slot_with(i64t, "pc", 0, SlotFlags::NONE).unwrap(),
        cg.local_slot_with(i64t, "acc", 0, SlotFlags::NONE).unwrap(),
        cg.local_slot_with(i64t, "cnt", 0, SlotFlags::NONE).unwrap(),
    );
    let table = cg.local_slot_with(table_ty, "table", 0, SlotFlags::ARTIFICIAL | SlotFlags::COMPILER_TEMP).unwrap();
    let handlers: Vec<Label> = (0..4).map(|_| cg.new_label().unwrap()).collect();
    if table_in_data {
        let init = handlers.iter().fold(DataInit::new(), |init, l| init.label_addr(*l));
        cg.define_data(data_table, &init).unwrap();
    } else {
        cg.define_data(data_table, &DataInit::zeroed(32)).unwrap();
        for (k, l) in handlers.iter().enumerate() {
            cg.push_local(table).unwrap();
            cg.addr_offset(8 * k as i64, ptr).unwrap();
            cg.push_label_addr(*l).unwrap();
            cg.store(MemAccess::new(ptr)).unwrap();
        }
    }
    set(cg, pc, i64t, |cg| cg.push_int(i64t, 0).unwrap());
    set(cg, acc, i64t, |cg| cg.push_int(i64t, 0).unwrap());
    set(cg, cnt, i64t, |cg| get(cg, n, i64t));
    // Each handler ends with its own dispatch: table[program[pc]].
    let dispatch = |cg: &mut G<'_>| {
        if table_in_data {
            cg.push_global(data_table).unwrap();
        } else {
            cg.push_local(table).unwrap();
        }
        cg.push_global(prog).unwrap();
        get(cg, pc, i64t);
        cg.addr_index(1, i8t).unwrap();
        cg.load(MemAccess::new(i8t)).unwrap();
        cg.cast(CastOp::ZExt, i64t).unwrap();
        cg.addr_index(8, ptr).unwrap();
        cg.load(MemAccess::new(ptr)).unwrap();
        cg.indirect_br(&handlers).unwrap();
    };
    dispatch(cg);
    // INC
    cg.place_label(handlers[0]).unwrap();
    add_to(cg, acc, i64t, 1);
    add_to(cg, pc, i64t, 1);
    dispatch(cg);
    // DOUBLE
    cg.place_label(handlers[1]).unwrap();
    set(cg, acc, i64t, |cg| {
        get(cg, acc, i64t);
        cg.push_int(i64t, 2).unwrap();
        cg.int_op(IntBinOp::Mul, IntFlags::NONE).unwrap();
    });
    add_to(cg, pc, i64t, 1);
    dispatch(cg);
    // LOOP
    cg.place_label(handlers[2]).unwrap();
    add_to(cg, cnt, i64t, -1);
    let (again, done) = (cg.new_label().unwrap(), cg.new_label().unwrap());
    get(cg, cnt, i64t);
    cg.push_int(i64t, 0).unwrap();
    cg.int_cmp(IntCmp::Ne).unwrap();
    cg.cond_br(again, done).unwrap();
    cg.place_label(again).unwrap();
    set(cg, pc, i64t, |cg| cg.push_int(i64t, 0).unwrap());
    dispatch(cg);
    cg.place_label(done).unwrap();
    add_to(cg, pc, i64t, 1);
    dispatch(cg);
    // HALT
    cg.place_label(handlers[3]).unwrap();
    get(cg, acc, i64t);
    cg.ret().unwrap();
    cg.func_end().unwrap();
}

/// `vla_sum(n)`: for i in 0..n, a fresh `alloca(64 + i % 64)` holds i, released each turn.
fn vla_loop(cg: &mut G<'_>) {
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let i8t = cg.ty_int(IntWidth::I8).unwrap();
    let ptr = cg.ty_ptr(i8t, 0).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let f = cg.declare_func("vla_sum", FuncDecl::new(sig)).unwrap();
    cg.func_begin(f).unwrap();
    let n = cg.param_slot(0, "n").unwrap();
    let (i, acc, saved, p) = (
        cg.local_slot(i64t, "i", 0).unwrap(),
        cg.local_slot(i64t, "acc", 0).unwrap(),
        cg.local_slot(ptr, "saved", 0).unwrap(),
        cg.local_slot(ptr, "p", 0).unwrap(),
    );
    set(cg, acc, i64t, |cg| cg.push_int(i64t, 0).unwrap());
    cfree_tests::emit::counted_loop(cg, i, n, |cg| {
        cg.push_local(saved)?;
        cg.stack_save()?;
        cg.store(MemAccess::new(ptr))?;
        cg.push_local(p)?;
        cg.push_local(i)?;
        cg.load(MemAccess::new(i64t))?;
        cg.push_int(i64t, 63)?;
        cg.int_op(IntBinOp::And, IntFlags::NONE)?;
        cg.push_int(i64t, 64)?;
        cg.int_op(IntBinOp::Add, IntFlags::NONE)?;
        cg.alloca(8)?;
        cg.store(MemAccess::new(ptr))?;
        cg.push_local(p)?;
        cg.load(MemAccess::new(ptr))?;
        cg.deref(i64t)?;
        cg.push_local(i)?;
        cg.load(MemAccess::new(i64t))?;
        cg.store(MemAccess::new(i64t))?;
        cg.push_local(acc)?;
        cg.push_local(acc)?;
        cg.load(MemAccess::new(i64t))?;
        cg.push_local(p)?;
        cg.load(MemAccess::new(ptr))?;
        cg.deref(i64t)?;
        cg.load(MemAccess::new(i64t))?;
        cg.int_op(IntBinOp::Add, IntFlags::NONE)?;
        cg.store(MemAccess::new(i64t))?;
        cg.push_local(saved)?;
        cg.load(MemAccess::new(ptr))?;
        cg.stack_restore()
    })
    .unwrap();
    get(cg, acc, i64t);
    cg.ret().unwrap();
    cg.func_end().unwrap();
}

/// `big_frame(k)`: a 1 MiB slot written at both ends and a k-byte dynamic
/// allocation written at both ends; returns the sum of the four reads.
fn big_frame(cg: &mut G<'_>, probes: bool) {
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let i8t = cg.ty_int(IntWidth::I8).unwrap();
    let ptr = cg.ty_ptr(i8t, 0).unwrap();
    let frame_ty = cg.ty_array(i8t, FRAME).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let attrs = FuncAttrs { stack_probes: probes, noinline: true, ..FuncAttrs::default() };
    let f = cg.declare_func("big_frame", FuncDecl::new(sig).attrs(attrs)).unwrap();
    cg.func_begin(f).unwrap();
    let k = cg.param_slot(0, "k").unwrap();
    let frame = cg.local_slot(frame_ty, "frame", 0).unwrap();
    let dynamic = cg.local_slot(ptr, "dynamic", 0).unwrap();
    cg.push_local(dynamic).unwrap();
    get(cg, k, i64t);
    cg.alloca(16).unwrap();
    cg.store(MemAccess::new(ptr)).unwrap();
    let ends = |cg: &mut G<'_>, base: &dyn Fn(&mut G<'_>), size: &dyn Fn(&mut G<'_>), value: i128| {
        base(cg);
        cg.push_int(i64t, value).unwrap();
        cg.store(MemAccess::new(i64t)).unwrap();
        base(cg);
        size(cg);
        cg.push_int(i64t, 8).unwrap();
        cg.int_op(IntBinOp::Sub, IntFlags::NONE).unwrap();
        cg.addr_index(1, i64t).unwrap();
        cg.push_int(i64t, value + 1).unwrap();
        cg.store(MemAccess::new(i64t)).unwrap();
    };
    let frame_base = |cg: &mut G<'_>| {
        cg.push_local(frame).unwrap();
        cg.addr_offset(0, i64t).unwrap();
    };
    let frame_size = |cg: &mut G<'_>| cg.push_int(i64t, i128::from(FRAME)).unwrap();
    ends(cg, &frame_base, &frame_size, 10);
    let dyn_base = |cg: &mut G<'_>| {
        cg.push_local(dynamic).unwrap();
        cg.load(MemAccess::new(ptr)).unwrap();
        cg.deref(i64t).unwrap();
    };
    let dyn_size = |cg: &mut G<'_>| get(cg, k, i64t);
    ends(cg, &dyn_base, &dyn_size, 20);
    // Read all four back.
    let read_end = |cg: &mut G<'_>, base: &dyn Fn(&mut G<'_>), size: &dyn Fn(&mut G<'_>)| {
        base(cg);
        cg.load(MemAccess::new(i64t)).unwrap();
        base(cg);
        size(cg);
        cg.push_int(i64t, 8).unwrap();
        cg.int_op(IntBinOp::Sub, IntFlags::NONE).unwrap();
        cg.addr_index(1, i64t).unwrap();
        cg.load(MemAccess::new(i64t)).unwrap();
        cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    };
    read_end(cg, &frame_base, &frame_size);
    read_end(cg, &dyn_base, &dyn_size);
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
}

const DRIVER: &str = r#"
#include <stdio.h>
long long interp(long long), interp_data(long long), vla_sum(long long), big_frame(long long);
int main(void) {
    printf("interp %lld %lld %lld\n", interp(1), interp(7), interp(100000));
    printf("interp %lld %lld %lld\n", interp_data(1), interp_data(7), interp_data(100000));
    printf("vla %lld\n", vla_sum(1000000));
    printf("frame %lld\n", big_frame(2 << 20));
    return 0;
}
"#;

fn run(target: LinuxTarget) {
    for level in [OptLevel::O0, OptLevel::O2] {
        let llvm = LlvmContext::new();
        let mut cg = llvm.module("control_stack", &TargetSpec::triple(target.triple())).unwrap();
        let probes = cg.target().supports_stack_probes();
        interpreter(&mut cg, "interp", false);
        interpreter(&mut cg, "interp_data", true);
        vla_loop(&mut cg);
        if !probes {
            let ty = cg.ty_func(FuncSig::new(&[], None)).unwrap();
            let attrs = FuncAttrs { stack_probes: true, ..FuncAttrs::default() };
            assert_eq!(cg.declare_func("probed", FuncDecl::new(ty).attrs(attrs)).unwrap_err().code(), 901);
        }
        big_frame(&mut cg, probes);
        let mut m = cfree_llvm_lower::finish(cg).unwrap();
        m.optimize(level).unwrap();
        let asm = m.assembly().unwrap();
        if probes {
            // A loop stepping the stack pointer one 4 KiB page at a time.
            assert!(
                asm.contains("4096") || asm.contains("#1, lsl #12"),
                "no probe loop for {}:\n{asm}",
                target.triple()
            );
        }
        let object = m.object().unwrap();
        let dir = scratch_dir("control-stack").unwrap();
        let exe = link_with(target, &object, DRIVER, &dir).unwrap();
        let out = target.command(&exe).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{} at {level:?}: {}\n{text}", target.triple(), out.status);
        let interp = format!("interp {} {} {}\n", interp_oracle(1), interp_oracle(7), interp_oracle(100_000));
        let expected = format!("{interp}{interp}vla {}\nframe {}\n", (0..ITERATIONS).sum::<i64>(), 10 + 11 + 20 + 21);
        assert_eq!(text, expected, "{} at {level:?}", target.triple());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn control_and_stack_on_x86_64() {
    run(LinuxTarget::X86_64);
}

#[test]
fn control_and_stack_on_aarch64() {
    run(LinuxTarget::Aarch64);
}

#[test]
fn control_and_stack_on_riscv64() {
    run(LinuxTarget::Riscv64);
}

#[test]
fn misuse() {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("m", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let f64t = cg.ty_float(FloatWidth::F64).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[], None)).unwrap();
    let f = cg.declare_func("f", FuncDecl::new(sig)).unwrap();
    cg.func_begin(f).unwrap();
    let l = cg.new_label().unwrap();
    cg.push_label_addr(l).unwrap();
    assert_eq!(cg.indirect_br(&[]).unwrap_err().code(), 512, "no destinations");
    cg.discard().unwrap();
    cg.push_int(i64t, 3).unwrap();
    assert_eq!(cg.indirect_br(&[l]).unwrap_err().code(), 203, "an integer is not an address");
    cg.discard().unwrap();
    cg.push_f64(1.0).unwrap();
    assert_eq!(cg.alloca(0).unwrap_err().code(), 203, "a float size");
    cg.discard().unwrap();
    cg.push_int(i64t, 8).unwrap();
    assert_eq!(cg.alloca(3).unwrap_err().code(), 502, "alignment 3");
    cg.alloca(0).unwrap();
    cg.discard().unwrap();
    cg.push_f64(1.0).unwrap();
    assert_eq!(cg.stack_restore().unwrap_err().code(), 203, "a float is not a saved position");
    cg.discard().unwrap();
    // A label whose address was taken must be placed.
    assert_eq!(cg.ret().map(|_| ()).and_then(|_| cg.func_end()).unwrap_err().code(), 302);
    cg.place_label(l).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    // A label address in data needs its function open.
    let ptr_ty = cg.ty_ptr(i64t, 0).unwrap();
    let d = cg.declare_data("table", DataDecl::new(ptr_ty).linkage(Linkage::Internal)).unwrap();
    assert_eq!(cg.define_data(d, &DataInit::new().label_addr(l)).unwrap_err().code(), 101);
    cg.define_data(d, &DataInit::zeroed(8)).unwrap();
    let _ = f64t;
    cfree_llvm_lower::finish(cg).unwrap().emit_object(OptLevel::O2).unwrap();
}

/// The interpreters through the JIT, which renames exported bodies behind
/// stable entries: the label addresses in the dispatch tables (in a local
/// and in data) must still be the body's blocks.
#[test]
fn computed_goto_through_the_jit() {
    for level in [OptLevel::O0, OptLevel::O2] {
        let llvm = LlvmContext::new();
        let mut cg = llvm.module("interp_jit", &TargetSpec::host()).unwrap();
        interpreter(&mut cg, "interp", false);
        interpreter(&mut cg, "interp_data", true);
        let module = cfree_llvm_lower::finish(cg).unwrap();
        let jit = cfree_jit_orc::Jit::new().unwrap();
        jit.publish(&module, level).unwrap();
        for name in ["interp", "interp_data"] {
            let f = jit.get::<unsafe extern "C" fn(i64) -> i64>(name).unwrap();
            for n in [1, 7, 100_000] {
                // SAFETY: the interpreter reads only its own tables.
                assert_eq!(unsafe { f.call(n) }, interp_oracle(n), "{name}({n}) at {level:?}");
            }
        }
    }
}
