//! Memory facts and ABI rules that were compiled but never run, executed on
//! x86_64, aarch64 and riscv64 (qemu-user) at O0 and O2 against Rust oracles:
//! nontemporal loads and stores (AArch64 keeps the hint: `ldnp`/`stnp`),
//! invariant loads from a read-only table, volatile loads and stores (all of
//! them survive O2), and the riscv64 rule that every `i32` travels
//! sign-extended, checked by calling gcc-compiled C that relies on it (gcc's
//! `(long)(int)x` of an `unsigned` parameter is a bare `ret` there).

use cfree_facade::*;
use cfree_llvm_lower::{LlvmBackend, LlvmContext, OptLevel};
use cfree_tests::aot::{link_with, scratch_dir, LinuxTarget};

type G<'a> = Cg<LlvmBackend<'a>>;

const TABLE: [i64; 8] = [3, 1, 4, 1, 5, 9, 2, 6];

fn begin(cg: &mut G<'_>, name: &str, params: &[TypeId], result: Option<TypeId>) -> Vec<Local> {
    cfree_tests::emit::begin(cg, name, params, result)
}

fn module(target: LinuxTarget, level: OptLevel) -> (Vec<u8>, String) {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("facts", &TargetSpec::triple(target.triple())).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let ptr = cg.ty_ptr(i64t, 0).unwrap();
    let nt = |ty| MemAccess::new(ty).flags(MemFlags::NONTEMPORAL);
    let vol = |ty| MemAccess::new(ty).flags(MemFlags::VOLATILE);

    // nt_copy_sum(dst, src, n): dst[i] = src[i] (nontemporal both ways); returns the sum.
    let p = begin(&mut cg, "nt_copy_sum", &[ptr, ptr, i64t], Some(i64t));
    let (i, acc) = (cg.local_slot(i64t, "i", 0).unwrap(), cg.local_slot(i64t, "acc", 0).unwrap());
    cg.push_local(acc).unwrap();
    cg.push_int(i64t, 0).unwrap();
    cg.store(MemAccess::new(i64t)).unwrap();
    cfree_tests::emit::counted_loop(&mut cg, i, p[2], |cg| {
        let elem = |cg: &mut G<'_>, base: Local| -> Result<()> {
            cg.push_local(base)?;
            cg.load(MemAccess::new(ptr))?;
            cg.push_local(i)?;
            cg.load(MemAccess::new(i64t))?;
            cg.addr_index(8, ptr)?;
            cg.deref(i64t)
        };
        elem(cg, p[0])?;
        elem(cg, p[1])?;
        cg.load(nt(i64t))?;
        cg.store(nt(i64t))?;
        cg.push_local(acc)?;
        cg.push_local(acc)?;
        cg.load(MemAccess::new(i64t))?;
        elem(cg, p[0])?;
        cg.load(nt(i64t))?;
        cg.int_op(IntBinOp::Add, IntFlags::NONE)?;
        cg.store(MemAccess::new(i64t))
    })
    .unwrap();
    cg.push_local(acc).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();

    // lookup(k): invariant loads from a read-only table, k, k+1 and k again.
    let table_ty = cg.ty_array(i64t, TABLE.len() as u64).unwrap();
    let table = cg.declare_data("table", DataDecl::new(table_ty).readonly().linkage(Linkage::Internal)).unwrap();
    let bytes: Vec<u8> = TABLE.iter().flat_map(|v| v.to_le_bytes()).collect();
    cg.define_data(table, &DataInit::new().bytes(&bytes)).unwrap();
    let p = begin(&mut cg, "lookup", &[i64t], Some(i64t));
    for (k, delta) in [0i128, 1, 0].iter().enumerate() {
        cg.push_global(table).unwrap();
        cg.push_local(p[0]).unwrap();
        cg.load(MemAccess::new(i64t)).unwrap();
        cg.push_int(i64t, *delta).unwrap();
        cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
        cg.addr_index(8, i64t).unwrap();
        cg.load(MemAccess::new(i64t).flags(MemFlags::INVARIANT)).unwrap();
        if k > 0 {
            cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
        }
    }
    cg.ret().unwrap();
    cg.func_end().unwrap();

    // vol(p, v): *p = v; *p = v + 1 (volatile); returns three volatile reads summed.
    let p = begin(&mut cg, "vol", &[ptr, i64t], Some(i64t));
    for add in [0, 1] {
        cg.push_local(p[0]).unwrap();
        cg.load(MemAccess::new(ptr)).unwrap();
        cg.deref(i64t).unwrap();
        cg.push_local(p[1]).unwrap();
        cg.load(MemAccess::new(i64t)).unwrap();
        cg.push_int(i64t, add).unwrap();
        cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
        cg.store(vol(i64t)).unwrap();
    }
    for k in 0..3 {
        cg.push_local(p[0]).unwrap();
        cg.load(MemAccess::new(ptr)).unwrap();
        cg.deref(i64t).unwrap();
        cg.load(vol(i64t)).unwrap();
        if k > 0 {
            cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
        }
    }
    cg.ret().unwrap();
    cg.func_end().unwrap();

    // The i32 rule: pass 0xFFFFFFFF, declared zero-extended, to gcc's as_long.
    let as_long_ty =
        cg.ty_func(FuncSig::with_params(vec![Param::new(i32t).ext(AbiExt::Zero)], Some(Param::new(i64t)))).unwrap();
    let as_long = cg.declare_func("as_long", FuncDecl::new(as_long_ty)).unwrap();
    let p = begin(&mut cg, "call_as_long", &[i32t], Some(i64t));
    cg.push_local(p[0]).unwrap();
    cg.load(MemAccess::new(i32t)).unwrap();
    cg.call(Callee::Direct(as_long), 1).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    // ... and receive an unsigned from gcc: widen(x) = (i64)(i32)x.
    let widen_ty =
        cg.ty_func(FuncSig::with_params(vec![Param::new(i32t).ext(AbiExt::Zero)], Some(Param::new(i64t)))).unwrap();
    let widen = cg.declare_func("widen", FuncDecl::new(widen_ty)).unwrap();
    cg.func_begin(widen).unwrap();
    let x = cg.param_slot(0, "x").unwrap();
    cg.push_local(x).unwrap();
    cg.load(MemAccess::new(i32t)).unwrap();
    cg.cast(CastOp::ZExt, i64t).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();

    let mut m = cfree_llvm_lower::finish(cg).unwrap();
    m.optimize(level).unwrap();
    let ir = m.ir();
    (m.object().unwrap(), ir)
}

const DRIVER: &str = r#"
#include <stdio.h>
long long nt_copy_sum(long long *, long long *, long long), lookup(long long), vol(long long *, long long);
long long call_as_long(unsigned), widen(unsigned);
/* gcc relies on the psABI: on riscv64 the unsigned argument is already sign-extended. */
long as_long(unsigned x) { return (long)(int)x; }
int main(void) {
    long long src[64], dst[64];
    for (int i = 0; i < 64; i++) { src[i] = i * 1000003LL - 7; dst[i] = 0; }
    long long s = nt_copy_sum(dst, src, 64), same = 1;
    for (int i = 0; i < 64; i++) same &= dst[i] == src[i];
    printf("nt %lld %lld\n", s, same);
    printf("lookup %lld %lld\n", lookup(0), lookup(5));
    long long cell = 0;
    long long v = vol(&cell, 40);
    printf("vol %lld %lld\n", v, cell);
    printf("i32 %lld %lld\n", call_as_long(0xFFFFFFFFu), widen(0xFFFFFFFFu));
    return 0;
}
"#;

fn expected() -> String {
    let src: Vec<i64> = (0..64).map(|i| i * 1_000_003 - 7).collect();
    let lookup = |k: usize| TABLE[k] + TABLE[k + 1] + TABLE[k];
    format!(
        "nt {} 1\nlookup {} {}\nvol {} 41\ni32 -1 4294967295\n",
        src.iter().sum::<i64>(),
        lookup(0),
        lookup(5),
        3 * 41
    )
}

fn run(target: LinuxTarget) {
    for level in [OptLevel::O0, OptLevel::O2] {
        let (object, ir) = module(target, level);
        let vol_body: String =
            ir.lines().skip_while(|l| !l.starts_with("define i64 @vol")).take_while(|l| *l != "}").collect();
        assert_eq!(vol_body.matches("load volatile").count(), 3, "volatile loads kept at {level:?}:\n{vol_body}");
        assert_eq!(vol_body.matches("store volatile").count(), 2, "volatile stores kept at {level:?}:\n{vol_body}");
        let dir = scratch_dir("facts").unwrap();
        let exe = link_with(target, &object, DRIVER, &dir).unwrap();
        let out = target.command(&exe).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{} at {level:?}: {}\n{text}", target.triple(), out.status);
        assert_eq!(text, expected(), "{} at {level:?}", target.triple());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn memory_facts_on_x86_64() {
    run(LinuxTarget::X86_64);
}

#[test]
fn memory_facts_on_aarch64() {
    run(LinuxTarget::Aarch64);
}

#[test]
fn memory_facts_on_riscv64() {
    run(LinuxTarget::Riscv64);
}
