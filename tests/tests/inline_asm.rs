//! Inline assembly and naked functions (`doc/asm.md`), executed: on x86_64
//! natively and through the JIT, on aarch64 and riscv64 as AOT executables
//! under qemu-user, at O0 and O2, each checked against an oracle (gcc's
//! `<cpuid.h>` and `__rdtsc`, Rust arithmetic). Then every refusal with its
//! exact code, and a property test: random operand and constraint
//! combinations are refused by the facade or compile to an object (an LLVM
//! abort on a constraint would kill this process, which is the failure
//! guarded against).

use cfree_facade::*;
use cfree_jit_orc::Jit;
use cfree_llvm_lower::{LlvmBackend, LlvmContext, OptLevel};
use cfree_tests::aot::{link_with, scratch_dir, LinuxTarget};

type C<'a> = Cg<LlvmBackend<'a>>;

const LIVE: usize = 16;

fn arch(t: LinuxTarget) -> AsmArch {
    match t {
        LinuxTarget::X86_64 => AsmArch::X86_64,
        LinuxTarget::Aarch64 => AsmArch::Aarch64,
        LinuxTarget::Riscv64 => AsmArch::Riscv64,
    }
}

/// Declares `name(params) -> result` with `attrs` and opens its body.
fn begin(cg: &mut C<'_>, name: &str, params: &[TypeId], result: Option<TypeId>, attrs: FuncAttrs) -> Sym {
    let sig = cg.ty_func(FuncSig::new(params, result)).unwrap();
    let mut decl = FuncDecl::new(sig);
    decl.attrs = attrs;
    let f = cg.declare_func(name, decl).unwrap();
    cg.func_begin(f).unwrap();
    f
}

fn param(cg: &mut C<'_>, i: u32, ty: TypeId) {
    let l = cg.param_slot(i, "").unwrap();
    cg.push_local(l).unwrap();
    cg.load(MemAccess::new(ty)).unwrap();
}

fn finish_ret(cg: &mut C<'_>) {
    cg.ret().unwrap();
    cg.func_end().unwrap();
}

/// The ISA's add of two registers, the first operand also the destination.
fn add_template(t: LinuxTarget) -> &'static str {
    match t {
        LinuxTarget::X86_64 => "add {1}, {0}",
        LinuxTarget::Aarch64 | LinuxTarget::Riscv64 => "add {0}, {0}, {1}",
    }
}

/// Registers the zapping template overwrites with all ones: the integer and
/// float caller-saved registers of the C convention.
fn zapped(t: LinuxTarget) -> Vec<String> {
    match t {
        LinuxTarget::X86_64 => {
            let mut r: Vec<String> =
                ["rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11"].iter().map(|s| s.to_string()).collect();
            r.extend((0..16).map(|i| format!("xmm{i}")));
            r
        }
        LinuxTarget::Aarch64 => {
            let mut r: Vec<String> = (0..18).map(|i| format!("x{i}")).collect();
            r.push("x30".into());
            r.extend((0..32).map(|i| format!("v{i}")));
            r
        }
        LinuxTarget::Riscv64 => {
            let mut r: Vec<String> = ["ra", "t0", "t1", "t2", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"]
                .iter()
                .chain(&["t3", "t4", "t5", "t6"])
                .map(|s| s.to_string())
                .collect();
            r.extend((0..8).map(|i| format!("ft{i}")));
            r.extend((0..8).map(|i| format!("fa{i}")));
            r.extend((8..12).map(|i| format!("ft{i}")));
            r
        }
    }
}

fn zap_template(t: LinuxTarget) -> String {
    let mut s = String::new();
    for r in zapped(t) {
        let line = match t {
            LinuxTarget::X86_64 if r.starts_with("xmm") => format!("pcmpeqd %{r}, %{r}\n"),
            LinuxTarget::X86_64 => format!("mov $-1, %{r}\n"),
            LinuxTarget::Aarch64 if r.starts_with('v') => format!("movi {r}.2d, #0xffffffffffffffff\n"),
            LinuxTarget::Aarch64 => format!("mov {r}, #-1\n"),
            LinuxTarget::Riscv64 if r.starts_with('f') => format!("fmv.d.x {r}, t0\n"),
            LinuxTarget::Riscv64 => format!("li {r}, -1\n"),
        };
        s.push_str(&line);
    }
    s
}

/// `name(x, y) = sum(x * (i + 3)) + (i64)sum(y * (i + 2))` over `LIVE` values
/// of each kind, all live across a block that overwrites every caller-saved
/// register, declared by explicit clobbers or by `clobber_abi("C")`.
fn emit_zap(cg: &mut C<'_>, t: LinuxTarget, name: &str, abi: bool) {
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let f64t = cg.ty_float(FloatWidth::F64).unwrap();
    begin(cg, name, &[i64t, f64t], Some(i64t), FuncAttrs::default());
    for i in 0..LIVE {
        param(cg, 0, i64t);
        cg.push_int(i64t, i as i128 + 3).unwrap();
        cg.int_op(IntBinOp::Mul, IntFlags::NONE).unwrap();
    }
    for i in 0..LIVE {
        param(cg, 1, f64t);
        cg.push_f64(i as f64 + 2.0).unwrap();
        cg.float_op(FloatBinOp::Mul, FastMath::NONE).unwrap();
    }
    let mut block = AsmBlock::new(&[arch(t)], zap_template(t));
    if abi {
        block = block.clobber_abi(ClobberAbi::C);
    } else {
        for r in zapped(t) {
            block = block.clobber(&r);
        }
    }
    cg.asm(&block).unwrap();
    for _ in 1..LIVE {
        cg.float_op(FloatBinOp::Add, FastMath::NONE).unwrap();
    }
    cg.cast(CastOp::FPToSI, i64t).unwrap();
    for _ in 0..LIVE {
        cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    }
    finish_ret(cg);
}

fn zap_oracle(x: i64, y: f64) -> i64 {
    let ints: i64 = (0..LIVE as i64).map(|i| x.wrapping_mul(i + 3)).fold(0, i64::wrapping_add);
    let floats: f64 = (0..LIVE).map(|i| y * (i as f64 + 2.0)).sum();
    ints.wrapping_add(floats as i64)
}

/// Every function of the executed tests for `t`.
fn emit_module(cg: &mut C<'_>, t: LinuxTarget) {
    let a = arch(t);
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let nomem = AsmOptions { pure: true, nomem: true, nostack: true, ..AsmOptions::default() };

    // asm_add(a, b): `inout(reg) a`, `in(reg) b`.
    begin(cg, "asm_add", &[i64t, i64t], Some(i64t), FuncAttrs::default());
    param(cg, 0, i64t);
    param(cg, 1, i64t);
    let add = AsmBlock::new(&[a], add_template(t))
        .operand(AsmDir::InOut, AsmLoc::Class(RegClass::Reg))
        .input(RegClass::Reg)
        .options(nomem);
    cg.asm(&add).unwrap();
    finish_ret(cg);

    // asm_add_tied(a, b): `lateout(reg) r`, an input tied to it, `in(reg) b`.
    begin(cg, "asm_add_tied", &[i64t, i64t], Some(i64t), FuncAttrs::default());
    param(cg, 0, i64t);
    param(cg, 1, i64t);
    let tied = AsmBlock::new(&[a], add_template(t))
        .operand(AsmDir::LateOut(i64t), AsmLoc::Class(RegClass::Reg))
        .operand(AsmDir::In, AsmLoc::Tied(0))
        .operand(AsmDir::In, AsmLoc::Class(RegClass::Reg))
        .options(nomem);
    // Operand 0 is the output (and the tied input), operand 2 the addend.
    let tied = AsmBlock { template: tied.template.replace("{1}", "{2}"), ..tied };
    cg.asm(&tied).unwrap();
    finish_ret(cg);

    emit_zap(cg, t, "zap_explicit", false);
    emit_zap(cg, t, "zap_abi", true);

    // naked_inc(x) = x + 1, a `noreturn` block; naked_add(a, b) = a + b, a block and `unreachable`.
    let naked = FuncAttrs { naked: true, ..FuncAttrs::default() };
    let (inc, add2) = match t {
        LinuxTarget::X86_64 => ("lea 1(%rdi), %rax\nret", "lea (%rdi,%rsi), %rax\nret"),
        LinuxTarget::Aarch64 => ("add x0, x0, #1\nret", "add x0, x0, x1\nret"),
        LinuxTarget::Riscv64 => ("addi a0, a0, 1\nret", "add a0, a0, a1\nret"),
    };
    begin(cg, "naked_inc", &[i64t], Some(i64t), naked.clone());
    let noreturn = AsmOptions { noreturn: true, nostack: true, ..AsmOptions::default() };
    cg.asm(&AsmBlock::new(&[a], inc).options(noreturn)).unwrap();
    cg.func_end().unwrap();
    begin(cg, "naked_add", &[i64t, i64t], Some(i64t), naked);
    cg.asm(&AsmBlock::new(&[a], add2).options(AsmOptions { nostack: true, ..AsmOptions::default() })).unwrap();
    cg.unreachable().unwrap();
    cg.func_end().unwrap();

    if t != LinuxTarget::X86_64 {
        return;
    }
    // cpuid_{b,c,d}(leaf): the register of leaf `leaf`, subleaf 0.
    for (name, keep) in [("cpuid_b", 1), ("cpuid_c", 2), ("cpuid_d", 3)] {
        begin(cg, name, &[i32t], Some(i32t), FuncAttrs::default());
        param(cg, 0, i32t);
        cg.push_int(i32t, 0).unwrap();
        let cpuid = AsmBlock::new(&[a], "cpuid")
            .operand(AsmDir::InLateOut, AsmLoc::Reg("rax".into()))
            .output_reg("rbx", i32t)
            .operand(AsmDir::InLateOut, AsmLoc::Reg("rcx".into()))
            .output_reg("rdx", i32t)
            .options(AsmOptions { nomem: true, preserves_flags: true, nostack: true, ..AsmOptions::default() });
        cg.asm(&cpuid).unwrap();
        // Outputs eax, ebx, ecx, edx are on the stack, edx on top: keep one.
        let locals: Vec<Local> = (0..4).map(|_| cg.local_slot(i32t, "", 0).unwrap()).collect();
        for l in locals.iter().rev() {
            cg.push_local(*l).unwrap();
            cg.swap().unwrap();
            cg.store(MemAccess::new(i32t)).unwrap();
        }
        cg.push_local(locals[keep]).unwrap();
        cg.load(MemAccess::new(i32t)).unwrap();
        finish_ret(cg);
    }
    // rdtsc(): edx:eax combined in the template; rdx an explicit clobber.
    begin(cg, "asm_rdtsc", &[], Some(i64t), FuncAttrs::default());
    let rdtsc = AsmBlock::new(&[a], "rdtsc\nshl $32, %rdx\nor %rdx, {0}")
        .output_reg("rax", i64t)
        .clobber("rdx")
        .options(AsmOptions { nomem: true, nostack: true, ..AsmOptions::default() });
    cg.asm(&rdtsc).unwrap();
    finish_ret(cg);
    // intel_add(a, b) in Intel syntax.
    begin(cg, "intel_add", &[i64t, i64t], Some(i64t), FuncAttrs::default());
    param(cg, 0, i64t);
    param(cg, 1, i64t);
    let intel = AsmBlock::new(&[a], "add {0}, {1}")
        .dialect(AsmDialect::Intel)
        .operand(AsmDir::InOut, AsmLoc::Class(RegClass::Reg))
        .input(RegClass::Reg)
        .options(nomem);
    cg.asm(&intel).unwrap();
    finish_ret(cg);
}

const X: i64 = 0x0012_3456_789a;
const Y: f64 = 1.5;

fn driver(t: LinuxTarget) -> String {
    let mut c = String::from(
        "#include <stdio.h>\n\
         long long asm_add(long long, long long), asm_add_tied(long long, long long);\n\
         long long zap_explicit(long long, double), zap_abi(long long, double);\n\
         long long naked_inc(long long), naked_add(long long, long long);\n",
    );
    if t == LinuxTarget::X86_64 {
        c.push_str(
            "#include <cpuid.h>\n#include <x86intrin.h>\n\
             int cpuid_b(int), cpuid_c(int), cpuid_d(int);\nlong long asm_rdtsc(void), intel_add(long long, long long);\n",
        );
    }
    c.push_str(&format!(
        "int main(void) {{\n\
         \x20 printf(\"add %lld %lld\\n\", asm_add(40, 2), asm_add(-5, 3));\n\
         \x20 printf(\"tied %lld\\n\", asm_add_tied(1000, -1));\n\
         \x20 printf(\"zap %lld %lld\\n\", zap_explicit({X}LL, {Y}), zap_abi({X}LL, {Y}));\n\
         \x20 printf(\"naked %lld %lld\\n\", naked_inc(41), naked_add(20, 22));\n"
    ));
    if t == LinuxTarget::X86_64 {
        c.push_str(
            "  unsigned a, b, cc, d;\n  __get_cpuid(0, &a, &b, &cc, &d);\n\
             \x20 printf(\"cpuid %d\\n\", cpuid_b(0) == (int)b && cpuid_c(0) == (int)cc && cpuid_d(0) == (int)d);\n\
             \x20 unsigned long long t0 = __rdtsc(), t1 = asm_rdtsc(), t2 = asm_rdtsc(), t3 = __rdtsc();\n\
             \x20 printf(\"rdtsc %d\\n\", t0 <= t1 && t1 <= t2 && t2 <= t3);\n\
             \x20 printf(\"intel %lld\\n\", intel_add(7, 35));\n",
        );
    }
    c.push_str("  return 0;\n}\n");
    c
}

fn expected(t: LinuxTarget) -> String {
    let z = zap_oracle(X, Y);
    let mut e = format!("add 42 -2\ntied 999\nzap {z} {z}\nnaked 42 42\n");
    if t == LinuxTarget::X86_64 {
        e.push_str("cpuid 1\nrdtsc 1\nintel 42\n");
    }
    e
}

fn run_aot(t: LinuxTarget, level: OptLevel) {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("asm", &TargetSpec::triple(t.triple())).unwrap();
    emit_module(&mut cg, t);
    let object = cfree_llvm_lower::finish(cg).unwrap().emit_object(level).unwrap();
    let dir = scratch_dir("inline-asm").unwrap();
    let exe = link_with(t, &object, &driver(t), &dir).unwrap();
    let out = t.command(&exe).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{} at {level:?}: {}\n{stdout}", t.triple(), out.status);
    assert_eq!(stdout, expected(t), "{} at {level:?}", t.triple());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn asm_runs_on_x86_64() {
    run_aot(LinuxTarget::X86_64, OptLevel::O0);
    run_aot(LinuxTarget::X86_64, OptLevel::O2);
}

#[test]
fn asm_runs_on_aarch64() {
    run_aot(LinuxTarget::Aarch64, OptLevel::O0);
    run_aot(LinuxTarget::Aarch64, OptLevel::O2);
}

#[test]
fn asm_runs_on_riscv64() {
    run_aot(LinuxTarget::Riscv64, OptLevel::O0);
    run_aot(LinuxTarget::Riscv64, OptLevel::O2);
}

#[test]
fn asm_runs_in_the_jit() {
    for level in [OptLevel::O0, OptLevel::O2] {
        let llvm = LlvmContext::new();
        let mut cg = llvm.module("asm", &TargetSpec::host()).unwrap();
        emit_module(&mut cg, LinuxTarget::X86_64);
        let module = cfree_llvm_lower::finish(cg).unwrap();
        let jit = Jit::new().unwrap();
        jit.publish(&module, level).unwrap();
        let add = jit.get::<unsafe extern "C" fn(i64, i64) -> i64>("asm_add").unwrap();
        let tied = jit.get::<unsafe extern "C" fn(i64, i64) -> i64>("asm_add_tied").unwrap();
        let intel = jit.get::<unsafe extern "C" fn(i64, i64) -> i64>("intel_add").unwrap();
        let naked_add = jit.get::<unsafe extern "C" fn(i64, i64) -> i64>("naked_add").unwrap();
        let naked_inc = jit.get::<unsafe extern "C" fn(i64) -> i64>("naked_inc").unwrap();
        let zap = jit.get::<unsafe extern "C" fn(i64, f64) -> i64>("zap_explicit").unwrap();
        let zap_abi = jit.get::<unsafe extern "C" fn(i64, f64) -> i64>("zap_abi").unwrap();
        let cpuid_b = jit.get::<unsafe extern "C" fn(i32) -> i32>("cpuid_b").unwrap();
        let rdtsc = jit.get::<unsafe extern "C" fn() -> i64>("asm_rdtsc").unwrap();
        // SAFETY: the functions compute on their arguments; cpuid and rdtsc are unprivileged.
        unsafe {
            assert_eq!(add.call(i64::MAX, 1), i64::MIN);
            assert_eq!(tied.call(-7, 10), 3);
            assert_eq!(intel.call(7, 35), 42);
            assert_eq!(naked_add.call(20, 22), 42);
            assert_eq!(naked_inc.call(-1), 0);
            assert_eq!(zap.call(X, Y), zap_oracle(X, Y));
            assert_eq!(zap_abi.call(-X, -Y), zap_oracle(-X, -Y));
            // SAFETY: cpuid leaf 0 exists on every x86-64.
            let r = std::arch::x86_64::__cpuid(0);
            assert_eq!(cpuid_b.call(0), r.ebx as i32);
            let (t1, t2) = (rdtsc.call(), rdtsc.call());
            assert!(t1 as u64 <= t2 as u64, "{t1} {t2}");
        }
    }
}

// ---- refusals ----

/// A module for `triple` with `f(i64, i64) -> i64` open and both parameters on the stack.
fn open<'a>(llvm: &'a LlvmContext, spec: &TargetSpec) -> (C<'a>, TypeId) {
    let mut cg = llvm.module("misuse", spec).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    begin(&mut cg, "f", &[i64t, i64t], Some(i64t), FuncAttrs::default());
    param(&mut cg, 0, i64t);
    param(&mut cg, 1, i64t);
    (cg, i64t)
}

/// The refusal's code, after checking it changed nothing (the stack is as before).
fn code(cg: &mut C<'_>, block: &AsmBlock) -> u32 {
    let depth = cg.stack_depth();
    let e = cg.asm(block).expect_err("refused");
    assert_eq!((e.call(), e.function()), ("asm", Some("f")), "{e}");
    assert_eq!(cg.stack_depth(), depth, "a refused block changes nothing: {e}");
    e.code()
}

/// Completes `f` with a valid block and emits the object: refusals leave a usable emitter.
fn recover(mut cg: C<'_>, a: AsmArch, tmpl: &str) {
    let add = AsmBlock::new(&[a], tmpl).operand(AsmDir::InOut, AsmLoc::Class(RegClass::Reg)).input(RegClass::Reg);
    cg.asm(&add).unwrap();
    finish_ret(&mut cg);
    cfree_llvm_lower::finish(cg).unwrap().emit_object(OptLevel::O2).unwrap();
}

fn x86(template: &str) -> AsmBlock {
    AsmBlock::new(&[AsmArch::X86_64], template)
}

#[test]
fn refusals_x86_64() {
    use AsmDir::*;
    let llvm = LlvmContext::new();
    let (mut cg, i64t) = open(&llvm, &TargetSpec::triple("x86_64-unknown-linux-gnu"));
    let i8t = cg.ty_int(IntWidth::I8).unwrap();
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let i128t = cg.ty_int(IntWidth::I128).unwrap();
    let f64t = cg.ty_float(FloatWidth::F64).unwrap();
    let ptr1 = cg.ty_ptr(i8t, 1).unwrap();
    let reg = || AsmLoc::Class(RegClass::Reg);
    let two_in = |b: AsmBlock| b.input(RegClass::Reg).input(RegClass::Reg);

    // 607: target guard.
    assert_eq!(code(&mut cg, &AsmBlock::new(&[AsmArch::Aarch64, AsmArch::Riscv64], "nop")), 607);
    assert_eq!(code(&mut cg, &AsmBlock::new(&[], "nop")), 607);
    // 609: option combinations.
    let opts = |o: AsmOptions| x86("nop").options(o);
    let d = AsmOptions::default();
    assert_eq!(code(&mut cg, &opts(AsmOptions { nomem: true, readonly: true, ..d })), 609);
    assert_eq!(code(&mut cg, &opts(AsmOptions { pure: true, nomem: true, ..d })), 609, "pure without outputs");
    let out = x86("nop").output(RegClass::Reg, i64t);
    assert_eq!(code(&mut cg, &out.clone().options(AsmOptions { pure: true, ..d })), 609, "pure, memory");
    assert_eq!(code(&mut cg, &out.clone().options(AsmOptions { noreturn: true, ..d })), 609);
    assert_eq!(code(&mut cg, &out.options(AsmOptions { pure: true, nomem: true, noreturn: true, ..d })), 609);
    // 610: classes of other targets.
    assert_eq!(code(&mut cg, &x86("").input(RegClass::Vreg)), 610);
    assert_eq!(code(&mut cg, &x86("").input(RegClass::Freg)), 610);
    // 611, 612: register names.
    for name in ["eax", "x0", "a0", "xmm16", "RAX", ""] {
        assert_eq!(code(&mut cg, &x86("").input_reg(name)), 611, "{name}");
    }
    for name in ["rsp", "rbp", "rip"] {
        assert_eq!(code(&mut cg, &x86("").input_reg(name)), 612, "{name}");
        assert_eq!(code(&mut cg, &x86("").clobber(name)), 612, "{name}");
    }
    // 613: types that do not fit.
    for ty in [i8t, i128t, f64t, ptr1] {
        assert_eq!(code(&mut cg, &x86("").output(RegClass::Reg, ty)), 613);
        assert_eq!(code(&mut cg, &x86("").output_reg("rax", ty)), 613);
    }
    assert_eq!(code(&mut cg, &x86("").output(RegClass::XmmReg, i64t)), 613);
    assert_eq!(code(&mut cg, &x86("").output_reg("xmm3", i32t)), 613);
    assert_eq!(code(&mut cg, &x86("").input(RegClass::XmmReg)), 613, "the stack's i64 in xmm");
    // 614: registers used twice.
    assert_eq!(code(&mut cg, &x86("").input_reg("rax").input_reg("rax")), 614);
    assert_eq!(code(&mut cg, &x86("").output_reg("rdx", i64t).output_reg("rdx", i64t)), 614);
    assert_eq!(code(&mut cg, &x86("").input_reg("rcx").clobber("rcx")), 614);
    assert_eq!(code(&mut cg, &x86("").output_reg("rcx", i64t).clobber("rcx")), 614);
    assert_eq!(code(&mut cg, &x86("").clobber("r8").clobber("r8")), 614);
    // An input and an output may share a register; a clobber set may cover an output.
    let shared = x86("").input_reg("rax").output_reg("rax", i64t).clobber_abi(ClobberAbi::C);
    // 615: ties.
    let tie = |k| AsmLoc::Tied(k);
    let b = x86("").operand(LateOut(i64t), reg()).operand(In, tie(3));
    assert_eq!(code(&mut cg, &b), 615, "no such operand");
    let b = x86("").input(RegClass::Reg).operand(In, tie(0));
    assert_eq!(code(&mut cg, &b), 615, "tied to an input");
    let b = x86("").operand(Out(i64t), reg()).operand(In, tie(0)).operand(In, tie(0));
    assert_eq!(code(&mut cg, &b), 615, "tied twice");
    let b = x86("").operand(LateOut(i32t), reg()).operand(In, tie(0));
    assert_eq!(code(&mut cg, &b), 615, "types differ");
    let b = x86("").operand(LateOut(i64t), reg()).operand(InOut, tie(0));
    assert_eq!(code(&mut cg, &b), 615, "Tied on an inout");
    let b = x86("").operand(InOut, reg()).operand(In, tie(0));
    assert_eq!(code(&mut cg, &b), 615, "tied to an inout");
    // 616: templates.
    for t in ["{2}", "{", "}", "{0:z}", "{a}", "{0:ee}", "{-1}", "{ 0}", "a\0b", "{0:h}"] {
        assert_eq!(code(&mut cg, &two_in(x86(t))), 616, "{t:?}");
    }
    // 617: more class operands than registers.
    let mut many = x86("");
    for _ in 0..14 {
        many = many.output(RegClass::Reg, i64t);
    }
    assert_eq!(code(&mut cg, &many), 617);
    let mut abi = x86("").clobber_abi(ClobberAbi::C);
    for _ in 0..5 {
        abi = abi.output(RegClass::Reg, i64t);
    }
    assert_eq!(code(&mut cg, &abi), 617, "outputs cannot live in clobbered registers");
    let abcd = (0..4).fold(x86(""), |b, _| b.output(RegClass::RegAbcd, i64t));
    assert_eq!(code(&mut cg, &abcd), 617);
    let reg4 = (0..4).fold(x86(""), |b, _| b.output(RegClass::Reg, i64t));
    assert_eq!(code(&mut cg, &reg4.output(RegClass::RegAbcd, i64t)), 617, "reg operands may take rax, rcx, rdx");
    let pinned = x86("").output_reg("rax", i64t).output_reg("rcx", i64t).output(RegClass::RegAbcd, i64t);
    assert_eq!(code(&mut cg, &pinned.output(RegClass::RegAbcd, i64t)), 617, "rax and rcx taken, rbx not counted");
    let six = (0..6).fold(x86(""), |b, _| b.output(RegClass::Reg, i64t));
    cg.asm(&six).unwrap();
    (0..6).for_each(|_| cg.discard().unwrap());
    // The value stack: three inputs on two values.
    assert_eq!(code(&mut cg, &two_in(x86("")).input(RegClass::Reg)), 201);
    // What was refused above is accepted once fixed.
    cg.asm(&shared).unwrap();
    recover(cg, AsmArch::X86_64, "add {1}, {0}");
}

#[test]
fn refusals_aarch64_and_riscv64() {
    let llvm = LlvmContext::new();
    let (mut cg, i64t) = open(&llvm, &TargetSpec::triple("aarch64-unknown-linux-gnu"));
    let a = |t: &str| AsmBlock::new(&[AsmArch::Aarch64], t);
    assert_eq!(code(&mut cg, &a("add {0}, {0}, {1}").dialect(AsmDialect::Intel)), 608);
    assert_eq!(code(&mut cg, &x86("nop")), 607);
    assert_eq!(code(&mut cg, &a("").input(RegClass::XmmReg)), 610);
    for name in ["sp", "xzr", "x18", "x19", "x29", "fp", "nzcv"] {
        assert_eq!(code(&mut cg, &a("").clobber(name)), 612, "{name}");
    }
    for name in ["w0", "x31", "q0", "d0", "rax"] {
        assert_eq!(code(&mut cg, &a("").clobber(name)), 611, "{name}");
    }
    assert_eq!(code(&mut cg, &a("").clobber("x30").clobber("lr")), 614, "lr is x30");
    assert_eq!(code(&mut cg, &a("").output(RegClass::Vreg, i64t)), 613);
    for t in ["{0:e}", "{0:s}", "{1:q}"] {
        assert_eq!(code(&mut cg, &a(t).input(RegClass::Reg).input(RegClass::Reg)), 616, "{t}");
    }
    recover(cg, AsmArch::Aarch64, "add {0}, {0}, {1}");

    // riscv64 without the F and D extensions has no float registers.
    let spec = TargetSpec::triple("riscv64-unknown-linux-gnu").with_features("+m,+a,+c");
    let (mut cg, _) = open(&llvm, &spec);
    assert!(!cg.target().asm_reg_classes().contains(&RegClass::Freg));
    let f64t = cg.ty_float(FloatWidth::F64).unwrap();
    let r = |t: &str| AsmBlock::new(&[AsmArch::Riscv64], t);
    assert_eq!(code(&mut cg, &r("").output(RegClass::Freg, f64t)), 610);
    assert_eq!(code(&mut cg, &r("").output_reg("fa0", f64t)), 610);
    assert_eq!(code(&mut cg, &r("").input(RegClass::Reg).input(RegClass::Reg).dialect(AsmDialect::Intel)), 608);
    for name in ["zero", "x0", "sp", "x2", "gp", "tp", "s0", "fp", "x8", "s1", "x9"] {
        assert_eq!(code(&mut cg, &r("").clobber(name)), 612, "{name}");
    }
    assert_eq!(code(&mut cg, &r("").input_reg("a0").input_reg("x10")), 614, "a0 is x10");
    recover(cg, AsmArch::Riscv64, "add {0}, {0}, {1}");

    // No inline assembly on wasm32.
    let (mut cg, _) = open(&llvm, &TargetSpec::triple("wasm32-unknown-unknown"));
    assert!(cg.target().asm_dialects().is_empty() && cg.target().asm_reg_classes().is_empty());
    assert_eq!(code(&mut cg, &AsmBlock::new(&[AsmArch::X86_64, AsmArch::Aarch64, AsmArch::Riscv64], "")), 607);
}

#[test]
fn naked_functions_take_assembly_only() {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("naked", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
    let mut decl = FuncDecl::new(sig);
    decl.attrs = FuncAttrs { naked: true, alwaysinline: true, ..FuncAttrs::default() };
    let bad = cg.declare_func("bad", decl.clone()).unwrap();
    let e = cg.func_begin(bad).unwrap_err();
    assert_eq!((e.code(), e.call()), (604, "func_begin"), "{e}");
    decl.attrs.alwaysinline = false;
    let f = cg.declare_func("f", decl).unwrap();
    cg.func_begin(f).unwrap();
    let naked = |r: Result<()>| {
        let e = r.unwrap_err();
        assert_eq!((e.code(), e.function()), (618, Some("f")), "{e}");
    };
    naked(cg.param_slot(0, "x").map(|_| ()));
    naked(cg.local_slot(i64t, "l", 0).map(|_| ()));
    naked(cg.push_int(i64t, 1));
    naked(cg.ret());
    naked(cg.new_label().map(|_| ()));
    let b = x86("").input(RegClass::Reg);
    let e = cg.asm(&b).unwrap_err();
    assert_eq!(e.code(), 609, "operands in a naked function: {e}");
    assert_eq!(cg.func_end().unwrap_err().code(), 304, "falls off the end");
    cg.asm(&x86("lea 1(%rdi), %rax\nret").options(AsmOptions { nostack: true, ..AsmOptions::default() })).unwrap();
    cg.unreachable().unwrap();
    cg.func_end().unwrap();
    let mut module = cfree_llvm_lower::finish(cg).unwrap();
    let ir = module.ir();
    assert!(ir.contains("naked") && ir.contains("noinline"), "{ir}");
    assert!(!ir.contains("alloca"), "no parameter slots in a naked function:\n{ir}");
    module.emit_object(OptLevel::O2).unwrap();
}

// ---- property: refused, or compiled without LLVM aborting ----

/// A small deterministic generator (the proptest seed drives it).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const TRIPLES: [&str; 4] =
    ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu", "riscv64-unknown-linux-gnu", "wasm32-unknown-unknown"];

/// Register names of every table, reserved ones and nonsense.
const NAMES: &[&str] = &[
    "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r11", "r12", "r15", "rsp", "rbp", "xmm0", "xmm7", "xmm15", "eax",
    "x0", "x1", "x8", "x17", "x18", "x19", "x28", "x29", "x30", "lr", "sp", "v0", "v8", "v31", "w0", "ra", "t0", "a0",
    "a7", "s2", "s11", "x10", "fa0", "ft11", "fs0", "f10", "zero", "gp", "s0", "s1", "bogus",
];

/// Emits one random block into a fresh module for a random target; if the
/// facade accepts it, the module must compile at O0 and O2.
fn check_random_block(seed: u64) -> std::result::Result<(), String> {
    let mut rng = Rng(seed | 1);
    let count = if rng.chance(5) { 4 } else { 3 };
    let triple = *rng.pick(&TRIPLES[..count]);
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("prop", &TargetSpec::triple(triple)).map_err(|e| e.to_string())?;
    let i8t = cg.ty_int(IntWidth::I8).unwrap();
    let types = [
        i8t,
        cg.ty_int(IntWidth::I16).unwrap(),
        cg.ty_int(IntWidth::I32).unwrap(),
        cg.ty_int(IntWidth::I64).unwrap(),
        cg.ty_int(IntWidth::I1).unwrap(),
        cg.ty_float(FloatWidth::F32).unwrap(),
        cg.ty_float(FloatWidth::F64).unwrap(),
        cg.ty_ptr(i8t, 0).unwrap(),
        cg.ty_ptr(i8t, 5).unwrap(), // outside space 0 (1 is not memory on wasm32)
    ];
    let naked = rng.chance(5);
    let sig = cg.ty_func(FuncSig::new(&[], None)).unwrap();
    let mut decl = FuncDecl::new(sig);
    decl.attrs.naked = naked;
    let f = cg.declare_func("f", decl).unwrap();
    cg.func_begin(f).unwrap();

    let arch = AsmArch::of(cg.target().arch);
    let all = [AsmArch::X86_64, AsmArch::Aarch64, AsmArch::Riscv64];
    let targets: Vec<AsmArch> = match arch {
        Some(a) if rng.chance(90) => vec![a],
        _ => vec![*rng.pick(&all)],
    };
    let comment = match arch {
        Some(AsmArch::Aarch64) => "//",
        _ => "#",
    };
    let all_classes = [RegClass::Reg, RegClass::RegAbcd, RegClass::XmmReg, RegClass::Vreg, RegClass::Freg];
    let classes = cg.target().asm_reg_classes();
    let x86 = arch == Some(AsmArch::X86_64);
    // Mostly what the target has, sometimes anything: both sides of every rule get exercised.
    let fitting = |rng: &mut Rng, class: RegClass| -> TypeId {
        let (ints, floats) = ([types[1], types[2], types[3], types[7]], [types[5], types[6]]);
        match class {
            _ if rng.chance(3) => *rng.pick(&types),
            RegClass::Reg | RegClass::RegAbcd if !x86 && rng.chance(20) => types[0],
            RegClass::Reg | RegClass::RegAbcd => *rng.pick(&ints),
            RegClass::XmmReg | RegClass::Vreg | RegClass::Freg => *rng.pick(&floats),
        }
    };
    let n = rng.below(7);
    let mut block = AsmBlock::new(&targets, "");
    for _ in 0..n {
        let class = if classes.is_empty() || rng.chance(3) { *rng.pick(&all_classes) } else { *rng.pick(&classes) };
        let loc = match rng.below(20) {
            0..=11 => AsmLoc::Class(class),
            12..=18 => {
                let names = cg.target().asm_registers(class);
                if names.is_empty() || rng.chance(3) {
                    AsmLoc::Reg(rng.pick(NAMES).to_string())
                } else {
                    AsmLoc::Reg(rng.pick(&names).to_string())
                }
            }
            _ => AsmLoc::Tied(rng.below(n + 1)),
        };
        let ty = fitting(&mut rng, class);
        let dir = match rng.below(5) {
            0 => AsmDir::In,
            1 => AsmDir::Out(ty),
            2 => AsmDir::LateOut(ty),
            3 => AsmDir::InOut,
            _ => AsmDir::InLateOut,
        };
        if matches!(dir, AsmDir::In | AsmDir::InOut | AsmDir::InLateOut) && !naked {
            let vt = match (&loc, rng.chance(95)) {
                // A tied input takes its output's type when it is one.
                (AsmLoc::Tied(_), true) => types[3],
                (_, true) => ty,
                (_, false) => *rng.pick(&types),
            };
            match cg.types().get(vt) {
                Some(TypeKind::Float(FloatWidth::F32)) => cg.push_f32(1.5).unwrap(),
                Some(TypeKind::Float(_)) => cg.push_f64(2.5).unwrap(),
                Some(TypeKind::Ptr { .. }) => cg.push_null(vt).unwrap(),
                _ => cg.push_int(vt, 1).unwrap(),
            }
        }
        block = block.operand(dir, loc);
    }
    let mut template = String::from(comment);
    for _ in 0..rng.below(4) {
        let k = if n > 0 && rng.chance(90) { rng.below(n) } else { rng.below(n + 1) };
        let modifier = match rng.below(20) {
            0..=16 => None,
            17 | 18 => Some(*rng.pick(&['e', 'x', 'r', 'l', 'h', 'w', 's', 'd', 'q', 'b'])),
            _ => Some('z'),
        };
        match modifier {
            Some(m) => template.push_str(&format!(" {{{k}:{m}}}")),
            None => template.push_str(&format!(" {{{k}}}")),
        }
    }
    block.template = template;
    if (x86 || rng.chance(5)) && rng.chance(20) {
        block.dialect = AsmDialect::Intel;
    }
    let o = &mut block.options;
    (o.pure, o.nomem, o.readonly) = (rng.chance(8), rng.chance(25), rng.chance(8));
    (o.preserves_flags, o.nostack, o.noreturn) = (rng.chance(30), rng.chance(30), rng.chance(3));
    if o.pure && !o.readonly && rng.chance(80) {
        o.nomem = true;
    }
    if rng.chance(30) {
        block.clobber_abi = Some(ClobberAbi::C);
    }
    for _ in 0..rng.below(4) {
        let class = if classes.is_empty() { RegClass::Reg } else { *rng.pick(&classes) };
        let names = cg.target().asm_registers(class);
        let name =
            if names.is_empty() || rng.chance(3) { rng.pick(NAMES).to_string() } else { rng.pick(&names).to_string() };
        block.clobbers.push(name);
    }

    let accepted = cg.asm(&block);
    if std::env::var_os("ASM_PROP_TRACE").is_some() {
        // Which rule refused (or "ok"), and the block: the last one printed before an abort is the culprit.
        eprintln!("asm-prop {} {triple} naked={naked} {block:?}", accepted.as_ref().err().map_or(0, |e| e.code()));
    }
    let noreturn = block.options.noreturn;
    match &accepted {
        Ok(()) => {
            if !noreturn {
                while cg.stack_depth() > 0 {
                    cg.discard().unwrap();
                }
                if naked {
                    cg.unreachable().unwrap();
                } else {
                    cg.ret().unwrap();
                }
            }
        }
        Err(e) => {
            assert!(matches!(e.code(), 201..=299 | 600..=699), "unexpected refusal {e}");
            while !naked && cg.stack_depth() > 0 {
                cg.discard().unwrap();
            }
            if naked {
                cg.unreachable().unwrap();
            } else {
                cg.ret().unwrap();
            }
        }
    }
    cg.func_end().map_err(|e| format!("{block:?}: {e}"))?;
    let mut module = cfree_llvm_lower::finish(cg).map_err(|e| e.to_string())?;
    if accepted.is_ok() {
        for level in [OptLevel::O0, OptLevel::O2] {
            module.emit_object(level).map_err(|e| format!("{triple} {level:?}: {block:?}: {e}"))?;
        }
    }
    Ok(())
}

mod property {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]
        /// Random operand and constraint combinations on x86_64, aarch64,
        /// riscv64 (and wasm32): refused with an asm or stack error, or
        /// compiled at O0 and O2 in this process.
        #[test]
        fn random_blocks_are_refused_or_compile(seed in any::<u64>()) {
            super::check_random_block(seed).map_err(TestCaseError::fail)?;
        }
    }
}

/// Assembly text the assembler rejects is an emission error, not the end of
/// the process: LLVM reports it through the context's diagnostics, which the
/// backend collects (LLVM's default handler would print it and exit).
#[test]
fn rejected_assembly_text_is_an_error() {
    for target in [LinuxTarget::X86_64, LinuxTarget::Aarch64, LinuxTarget::Riscv64] {
        let llvm = LlvmContext::new();
        let mut cg = llvm.module("bad_text", &TargetSpec::triple(target.triple())).unwrap();
        let a = arch(target);
        let sig = cg.ty_func(FuncSig::new(&[], None)).unwrap();
        let f = cg.declare_func("bad", FuncDecl::new(sig)).unwrap();
        cg.func_begin(f).unwrap();
        cg.asm(&AsmBlock::new(&[a], "no_such_instruction_here")).unwrap();
        cg.ret().unwrap();
        cg.func_end().unwrap();
        let mut m = cfree_llvm_lower::finish(cg).unwrap();
        let e = m.emit_object(OptLevel::O0).unwrap_err();
        assert!(e.to_string().contains("no_such_instruction_here") || e.to_string().contains("instruction"), "{e}");
        // The context stays usable: a valid module in it still compiles.
        let mut ok = llvm.module("good", &TargetSpec::triple(target.triple())).unwrap();
        let sig = ok.ty_func(FuncSig::new(&[], None)).unwrap();
        let g = ok.declare_func("good", FuncDecl::new(sig)).unwrap();
        ok.func_begin(g).unwrap();
        ok.ret().unwrap();
        ok.func_end().unwrap();
        cfree_llvm_lower::finish(ok).unwrap().emit_object(OptLevel::O0).unwrap();
    }
}
