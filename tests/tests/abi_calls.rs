//! Calls executed on x86_64, aarch64 and riscv64 (the last two under
//! qemu-user), at O0 and O2: guaranteed tail calls 10 million deep in
//! constant stack (same prototype, and `tailcc` between different ones),
//! records by value in both directions (a callee's changes to its copy are
//! invisible to the caller; results through registers and through `sret`),
//! `nest` context pointers, every calling convention the target supports,
//! and a `noreturn` function. The oracle is Rust arithmetic on the same
//! inputs. Wide record shapes against gcc are in `abi_interop.rs`.

use cfree_facade::*;
use cfree_llvm_lower::{LlvmBackend, LlvmContext, OptLevel};
use cfree_tests::aot::{link_with, scratch_dir, LinuxTarget};

/// Depth of the tail-call recursions: far beyond an 8 MiB stack without tail calls.
const DEPTH: i64 = 10_000_000;

type G<'a> = Cg<LlvmBackend<'a>>;

struct Types {
    i64t: TypeId,
    f64t: TypeId,
    i32t: TypeId,
    ptr: TypeId,
    big: TypeId,
    pair: TypeId,
}

fn field(cg: &mut G<'_>, local: Local, rec: TypeId, index: usize, ty: TypeId) {
    let off = cg.field_offset(rec, index).unwrap();
    cg.push_local(local).unwrap();
    cg.addr_offset(off as i64, ty).unwrap();
}

fn get(cg: &mut G<'_>, local: Local, ty: TypeId) {
    cg.push_local(local).unwrap();
    cg.load(MemAccess::new(ty)).unwrap();
}

fn declare(cg: &mut G<'_>, name: &str, sig: FuncSig) -> Sym {
    let ty = cg.ty_func(sig).unwrap();
    cg.declare_func(name, FuncDecl::new(ty)).unwrap()
}

/// `if n == 0 { return base } else { tail callee(n - 1, ...) }`.
fn countdown(cg: &mut G<'_>, t: &Types, me: Sym, callee: Sym, base: impl Fn(&mut G<'_>), extra: &[i128]) {
    cg.func_begin(me).unwrap();
    let n = cg.param_slot(0, "n").unwrap();
    let (zero, more) = (cg.new_label().unwrap(), cg.new_label().unwrap());
    get(cg, n, t.i64t);
    cg.push_int(t.i64t, 0).unwrap();
    cg.int_cmp(IntCmp::Eq).unwrap();
    cg.cond_br(zero, more).unwrap();
    cg.place_label(zero).unwrap();
    base(cg);
    cg.ret().unwrap();
    cg.place_label(more).unwrap();
    get(cg, n, t.i64t);
    cg.push_int(t.i64t, 1).unwrap();
    cg.int_op(IntBinOp::Sub, IntFlags::NONE).unwrap();
    for v in extra {
        cg.push_int(t.i64t, *v).unwrap();
    }
    cg.tail_call(Callee::Direct(callee), 1 + extra.len() as u32).unwrap();
    cg.func_end().unwrap();
}

/// `is_even`/`is_odd`: C convention, identical prototypes.
fn even_odd(cg: &mut G<'_>, t: &Types) {
    let sig = FuncSig::new(&[t.i64t], Some(t.i64t));
    let even = declare(cg, "is_even", sig.clone());
    let odd = declare(cg, "is_odd", sig);
    let i64t = t.i64t;
    countdown(cg, t, even, odd, |cg| cg.push_int(i64t, 1).unwrap(), &[]);
    countdown(cg, t, odd, even, |cg| cg.push_int(i64t, 0).unwrap(), &[]);
}

/// `t_down(n, acc, pad)` and `t_half(n, acc)`: `tailcc` between different
/// prototypes, summing 1..=n.
fn tailcc_sum(cg: &mut G<'_>, t: &Types) {
    let i = t.i64t;
    let down = declare(cg, "t_down", FuncSig::new(&[i, i, i], Some(i)).conv(CallConv::Tail));
    let half = declare(cg, "t_half", FuncSig::new(&[i, i], Some(i)).conv(CallConv::Tail));
    for (me, callee, pad) in [(down, half, false), (half, down, true)] {
        cg.func_begin(me).unwrap();
        let n = cg.param_slot(0, "n").unwrap();
        let acc = cg.param_slot(1, "acc").unwrap();
        let (zero, more) = (cg.new_label().unwrap(), cg.new_label().unwrap());
        get(cg, n, i);
        cg.push_int(i, 0).unwrap();
        cg.int_cmp(IntCmp::Eq).unwrap();
        cg.cond_br(zero, more).unwrap();
        cg.place_label(zero).unwrap();
        get(cg, acc, i);
        cg.ret().unwrap();
        cg.place_label(more).unwrap();
        get(cg, n, i);
        cg.push_int(i, 1).unwrap();
        cg.int_op(IntBinOp::Sub, IntFlags::NONE).unwrap();
        get(cg, acc, i);
        get(cg, n, i);
        cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
        if pad {
            cg.push_int(i, 7).unwrap();
        }
        cg.tail_call(Callee::Direct(callee), if pad { 3 } else { 2 }).unwrap();
        cg.func_end().unwrap();
    }
    // A C-convention entry point for the driver.
    let entry = declare(cg, "tailcc_sum", FuncSig::new(&[i], Some(i)));
    cg.func_begin(entry).unwrap();
    let n = cg.param_slot(0, "n").unwrap();
    get(cg, n, i);
    cg.push_int(i, 0).unwrap();
    cg.push_int(i, 7).unwrap();
    cg.call(Callee::Direct(down), 3).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
}

/// `bump(Big b)` changes its copy; `byval_check(x)` shows the caller's is intact.
/// `make_big(x)` returns a Big (through `sret` on every target); `sum_made(x)` sums it.
fn big_records(cg: &mut G<'_>, t: &Types) {
    let (i, big) = (t.i64t, t.big);
    let bump = cg.ty_func(FuncSig::new(&[big], Some(i))).unwrap();
    let noinline = FuncAttrs { noinline: true, ..FuncAttrs::default() };
    let bump = cg.declare_func("bump", FuncDecl::new(bump).attrs(noinline)).unwrap();
    cg.func_begin(bump).unwrap();
    let b = cg.param_slot(0, "b").unwrap();
    field(cg, b, big, 0, i);
    field(cg, b, big, 0, i);
    cg.load(MemAccess::new(i)).unwrap();
    cg.push_int(i, 100).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.store(MemAccess::new(i)).unwrap();
    field(cg, b, big, 0, i);
    cg.load(MemAccess::new(i)).unwrap();
    field(cg, b, big, 4, i);
    cg.load(MemAccess::new(i)).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();

    let check = declare(cg, "byval_check", FuncSig::new(&[i], Some(i)));
    cg.func_begin(check).unwrap();
    let x = cg.param_slot(0, "x").unwrap();
    let s = cg.local_slot(big, "s", 0).unwrap();
    for k in 0..5 {
        field(cg, s, big, k, i);
        if k == 0 {
            get(cg, x, i);
        } else {
            cg.push_int(i, k as i128).unwrap();
        }
        cg.store(MemAccess::new(i)).unwrap();
    }
    cg.push_local(s).unwrap();
    cg.call(Callee::Direct(bump), 1).unwrap();
    cg.push_int(i, 1000).unwrap();
    cg.int_op(IntBinOp::Mul, IntFlags::NONE).unwrap();
    field(cg, s, big, 0, i);
    cg.load(MemAccess::new(i)).unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();

    let make = declare(cg, "make_big", FuncSig::new(&[i], Some(big)));
    cg.func_begin(make).unwrap();
    let x = cg.param_slot(0, "x").unwrap();
    let r = cg.local_slot(big, "r", 0).unwrap();
    for k in 0..5 {
        field(cg, r, big, k, i);
        get(cg, x, i);
        cg.push_int(i, k as i128).unwrap();
        cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
        cg.store(MemAccess::new(i)).unwrap();
    }
    cg.push_local(r).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();

    let sum = declare(cg, "sum_made", FuncSig::new(&[i], Some(i)));
    cg.func_begin(sum).unwrap();
    let x = cg.param_slot(0, "x").unwrap();
    let d = cg.local_slot(big, "d", 0).unwrap();
    cg.push_local(d).unwrap();
    get(cg, x, i);
    cg.call(Callee::Direct(make), 1).unwrap();
    cg.push_int(i, 0).unwrap();
    for k in 0..5 {
        field(cg, d, big, k, i);
        cg.load(MemAccess::new(i)).unwrap();
        cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    }
    cg.ret().unwrap();
    cg.func_end().unwrap();
}

/// `pair_twice(Pair p) -> Pair` = `{2 * p.i, p.f + 0.5}`: registers both ways;
/// the driver calls it from C, so it also checks the facade against gcc.
fn pair_record(cg: &mut G<'_>, t: &Types) {
    let (i, f, pair) = (t.i64t, t.f64t, t.pair);
    let twice = declare(cg, "pair_twice", FuncSig::new(&[pair], Some(pair)));
    cg.func_begin(twice).unwrap();
    let p = cg.param_slot(0, "p").unwrap();
    let r = cg.local_slot(pair, "r", 0).unwrap();
    field(cg, r, pair, 0, i);
    field(cg, p, pair, 0, i);
    cg.load(MemAccess::new(i)).unwrap();
    cg.push_int(i, 2).unwrap();
    cg.int_op(IntBinOp::Mul, IntFlags::NONE).unwrap();
    cg.store(MemAccess::new(i)).unwrap();
    field(cg, r, pair, 1, f);
    field(cg, p, pair, 1, f);
    cg.load(MemAccess::new(f)).unwrap();
    cg.push_f64(0.5).unwrap();
    cg.float_op(FloatBinOp::Add, FastMath::NONE).unwrap();
    cg.store(MemAccess::new(f)).unwrap();
    cg.push_local(r).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
}

/// `with_ctx(nest ptr ctx, x) = *ctx + x`, called by `call_ctx(x)` with a context of 40.
fn nest(cg: &mut G<'_>, t: &Types) {
    let i = t.i64t;
    let ctx = Param::new(t.ptr).attrs(ParamAttrs { nest: true, ..ParamAttrs::default() });
    let with = declare(cg, "with_ctx", FuncSig::with_params(vec![ctx, Param::new(i)], Some(Param::new(i))));
    cg.func_begin(with).unwrap();
    let c = cg.param_slot(0, "ctx").unwrap();
    let x = cg.param_slot(1, "x").unwrap();
    get(cg, c, t.ptr);
    cg.deref(i).unwrap();
    cg.load(MemAccess::new(i)).unwrap();
    get(cg, x, i);
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    let call = declare(cg, "call_ctx", FuncSig::new(&[i], Some(i)));
    cg.func_begin(call).unwrap();
    let x = cg.param_slot(0, "x").unwrap();
    let slot = cg.local_slot(i, "c", 0).unwrap();
    cg.push_local(slot).unwrap();
    cg.push_int(i, 40).unwrap();
    cg.store(MemAccess::new(i)).unwrap();
    cg.push_local(slot).unwrap();
    cg.addr_of().unwrap();
    get(cg, x, i);
    cg.call(Callee::Direct(with), 2).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
}

fn conv_name(c: CallConv) -> String {
    format!("{c:?}").to_lowercase()
}

/// For each convention the target supports: `conv_<name>(a, b) = 3a + (i64)b`
/// in that convention, and a C wrapper `call_<name>(a)` passing b = 2.0.
fn conventions(cg: &mut G<'_>, t: &Types) -> Vec<String> {
    let (i, f) = (t.i64t, t.f64t);
    let mut names = Vec::new();
    for conv in CallConv::ALL {
        let result = cg.ty_func(FuncSig::new(&[i, f], Some(i)).conv(conv));
        if !cg.target().supports_call_conv(conv) {
            let err = result.expect_err("an unsupported convention is refused");
            assert_eq!(err.code(), 901, "{conv:?} on {}: {err}", cg.target().triple);
            continue;
        }
        let sig = result.unwrap();
        let name = conv_name(conv);
        let callee = cg.declare_func(&format!("conv_{name}"), FuncDecl::new(sig)).unwrap();
        cg.func_begin(callee).unwrap();
        let a = cg.param_slot(0, "a").unwrap();
        let b = cg.param_slot(1, "b").unwrap();
        get(cg, a, i);
        cg.push_int(i, 3).unwrap();
        cg.int_op(IntBinOp::Mul, IntFlags::NONE).unwrap();
        get(cg, b, f);
        cg.cast(CastOp::FPToSISat, i).unwrap();
        cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
        cg.ret().unwrap();
        cg.func_end().unwrap();
        let wrapper = declare(cg, &format!("call_{name}"), FuncSig::new(&[i], Some(i)));
        cg.func_begin(wrapper).unwrap();
        let a = cg.param_slot(0, "a").unwrap();
        get(cg, a, i);
        cg.push_f64(2.0).unwrap();
        cg.call(Callee::Direct(callee), 2).unwrap();
        cg.ret().unwrap();
        cg.func_end().unwrap();
        names.push(name);
    }
    names
}

/// `die(code)`: noreturn, calls C's `exit` (declared noreturn), then `unreachable`.
fn noreturn(cg: &mut G<'_>, t: &Types) {
    let attrs = FuncAttrs { noreturn: true, cold: true, ..FuncAttrs::default() };
    let exit_ty = cg.ty_func(FuncSig::new(&[t.i32t], None)).unwrap();
    let exit = cg.declare_func("exit", FuncDecl::new(exit_ty).attrs(attrs.clone())).unwrap();
    let die_ty = cg.ty_func(FuncSig::new(&[t.i32t], None)).unwrap();
    let die = cg.declare_func("die", FuncDecl::new(die_ty).attrs(attrs)).unwrap();
    cg.func_begin(die).unwrap();
    let code = cg.param_slot(0, "code").unwrap();
    get(cg, code, t.i32t);
    cg.call_with(Callee::Direct(exit), 1, CallAttrs { cold: true, ..CallAttrs::default() }).unwrap();
    cg.unreachable().unwrap();
    cg.func_end().unwrap();
}

fn module_object(target: LinuxTarget, level: OptLevel) -> (Vec<u8>, Vec<String>, String) {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("abi_calls", &TargetSpec::triple(target.triple())).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let f64t = cg.ty_float(FloatWidth::F64).unwrap();
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let ptr = cg.ty_ptr(i64t, 0).unwrap();
    let big = cg.ty_record(&[i64t; 5]).unwrap();
    let pair = cg.ty_record(&[i64t, f64t]).unwrap();
    let t = Types { i64t, f64t, i32t, ptr, big, pair };
    even_odd(&mut cg, &t);
    if cg.target().supports_call_conv(CallConv::Tail) {
        tailcc_sum(&mut cg, &t);
    }
    big_records(&mut cg, &t);
    pair_record(&mut cg, &t);
    nest(&mut cg, &t);
    let convs = conventions(&mut cg, &t);
    noreturn(&mut cg, &t);
    let mut m = cfree_llvm_lower::finish(cg).unwrap();
    let ir = m.ir();
    (m.emit_object(level).unwrap(), convs, ir)
}

fn driver(convs: &[String], tailcc: bool) -> String {
    let mut c = String::from(
        "#include <stdio.h>\n#include <string.h>\n\
         typedef struct { long long i; double f; } Pair;\n\
         long long is_even(long long), is_odd(long long), byval_check(long long), sum_made(long long);\n\
         long long call_ctx(long long), tailcc_sum(long long);\n\
         Pair pair_twice(Pair);\nvoid die(int);\n",
    );
    for n in convs {
        c.push_str(&format!("long long call_{n}(long long);\n"));
    }
    c.push_str("int main(int argc, char **argv) {\n  if (argc > 1 && !strcmp(argv[1], \"die\")) die(3);\n");
    c.push_str(&format!(
        "  printf(\"even %lld\\n\", is_even({DEPTH}));\n  printf(\"odd %lld\\n\", is_odd({DEPTH}));\n"
    ));
    if tailcc {
        c.push_str(&format!("  printf(\"tailcc %lld\\n\", tailcc_sum({DEPTH}));\n"));
    }
    c.push_str(
        "  printf(\"byval %lld\\n\", byval_check(7));\n  printf(\"sret %lld\\n\", sum_made(11));\n\
         \x20 Pair p = pair_twice((Pair){21, 1.25});\n  printf(\"pair %lld %.17g\\n\", p.i, p.f);\n\
         \x20 printf(\"nest %lld\\n\", call_ctx(2));\n",
    );
    for n in convs {
        c.push_str(&format!("  printf(\"{n} %lld\\n\", call_{n}(5));\n"));
    }
    c.push_str("  return 0;\n}\n");
    c
}

fn expected(convs: &[String], tailcc: bool) -> String {
    let mut e = String::from("even 1\nodd 0\n");
    if tailcc {
        e.push_str(&format!("tailcc {}\n", DEPTH * (DEPTH + 1) / 2));
    }
    e.push_str(&format!("byval {}\nsret {}\npair 42 1.75\nnest 42\n", (7 + 100 + 4) * 1000 + 7, 5 * 11 + 10));
    for n in convs {
        e.push_str(&format!("{n} {}\n", 5 * 3 + 2));
    }
    e
}

fn run(target: LinuxTarget, level: OptLevel) {
    let (object, convs, ir) = module_object(target, level);
    for attr in ["noinline", "noreturn", "cold", "nest", "musttail"] {
        assert!(ir.contains(attr), "{attr} missing from the IR for {}", target.triple());
    }
    let tailcc = convs.iter().any(|c| c == "tail");
    let dir = scratch_dir("abi-calls").unwrap();
    let exe = link_with(target, &object, &driver(&convs, tailcc), &dir).unwrap();
    let out = target.command(&exe).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{} at {level:?}: {}\n{stdout}", target.triple(), out.status);
    assert_eq!(stdout, expected(&convs, tailcc), "{} at {level:?}", target.triple());
    let died = target.command(&exe).arg("die").output().unwrap();
    assert_eq!(died.status.code(), Some(3), "noreturn die(3) on {}", target.triple());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn calls_run_on_x86_64() {
    run(LinuxTarget::X86_64, OptLevel::O0);
    run(LinuxTarget::X86_64, OptLevel::O2);
}

#[test]
fn calls_run_on_aarch64() {
    run(LinuxTarget::Aarch64, OptLevel::O0);
    run(LinuxTarget::Aarch64, OptLevel::O2);
}

#[test]
fn calls_run_on_riscv64() {
    run(LinuxTarget::Riscv64, OptLevel::O0);
    run(LinuxTarget::Riscv64, OptLevel::O2);
}

/// Records by value through the JIT: a function with a record signature is
/// not a typed entry point, but later units call it by name across publishes.
#[test]
fn records_by_value_across_jit_units() {
    use cfree_jit_orc::Jit;
    for level in [OptLevel::O0, OptLevel::O2] {
        let llvm = LlvmContext::new();
        let jit = Jit::new().unwrap();
        let host = TargetSpec::host();
        let mut a = llvm.module("a", &host).unwrap();
        let (i64t, f64t) = (a.ty_int(IntWidth::I64).unwrap(), a.ty_float(FloatWidth::F64).unwrap());
        let i32t = a.ty_int(IntWidth::I32).unwrap();
        let ptr = a.ty_ptr(i64t, 0).unwrap();
        let big = a.ty_record(&[i64t; 5]).unwrap();
        let pair = a.ty_record(&[i64t, f64t]).unwrap();
        let t = Types { i64t, f64t, i32t, ptr, big, pair };
        pair_record(&mut a, &t);
        let a = cfree_llvm_lower::finish(a).unwrap();
        assert!(a.exports().iter().all(|e| e.name != "pair_twice"), "record signatures are not typed entries");
        jit.publish(&a, level).unwrap();

        let mut b = llvm.module("b", &host).unwrap();
        let (i64t, f64t) = (b.ty_int(IntWidth::I64).unwrap(), b.ty_float(FloatWidth::F64).unwrap());
        let pair = b.ty_record(&[i64t, f64t]).unwrap();
        let twice = b.ty_func(FuncSig::new(&[pair], Some(pair))).unwrap();
        let twice = b.declare_func("pair_twice", FuncDecl::new(twice)).unwrap();
        let use_ty = b.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
        let use_pair = b.declare_func("use_pair", FuncDecl::new(use_ty)).unwrap();
        b.func_begin(use_pair).unwrap();
        let x = b.param_slot(0, "x").unwrap();
        let (p, r) = (b.local_slot(pair, "p", 0).unwrap(), b.local_slot(pair, "r", 0).unwrap());
        field(&mut b, p, pair, 0, i64t);
        get(&mut b, x, i64t);
        b.store(MemAccess::new(i64t)).unwrap();
        field(&mut b, p, pair, 1, f64t);
        b.push_f64(1.5).unwrap();
        b.store(MemAccess::new(f64t)).unwrap();
        b.push_local(r).unwrap();
        b.push_local(p).unwrap();
        b.call(Callee::Direct(twice), 1).unwrap();
        field(&mut b, r, pair, 0, i64t);
        b.load(MemAccess::new(i64t)).unwrap();
        field(&mut b, r, pair, 1, f64t);
        b.load(MemAccess::new(f64t)).unwrap();
        b.push_f64(10.0).unwrap();
        b.float_op(FloatBinOp::Mul, FastMath::NONE).unwrap();
        b.cast(CastOp::FPToSISat, i64t).unwrap();
        b.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
        b.ret().unwrap();
        b.func_end().unwrap();
        jit.publish(&cfree_llvm_lower::finish(b).unwrap(), level).unwrap();
        let f = jit.get::<unsafe extern "C" fn(i64) -> i64>("use_pair").unwrap();
        // SAFETY: use_pair computes on its argument through pair_twice.
        let got = unsafe { f.call(21) };
        assert_eq!(got, 42 + 20, "at {level:?}");
    }
}
