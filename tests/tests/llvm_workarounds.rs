//! Valid input on which LLVM itself crashes, and the lowering that avoids it
//! (llvm-lower: `target::load_facts`, `float_ops::lower_copysign_bits`). Each shape
//! is emitted through the facade, compiled at the levels that crashed and run in
//! the JIT against Rust's own semantics; a regression here aborts the test process.
//!
//! - A `!nontemporal` i8/i16 load used in arithmetic segfaults x86 instruction
//!   selection at O1/O2 (LLVM 19 and 22): x86 loads drop the hint, other targets keep it.
//! - `op(copysign(x, y), op(x, y))` for op in minnum/maxnum/minimum/maximum
//!   segfaults LLVM 19's InstSimplify at O1/O2, constant `y` or not: LLVM 19
//!   lowers copysign without the `llvm.copysign` intrinsic.

use cfree_facade::*;
use cfree_jit_orc::Jit;
use cfree_llvm_lower::{LlvmBackend, LlvmContext, LlvmModule, OptLevel, LLVM_MAJOR};
use cfree_tests::diff::{oracle, Op, S};
use cfree_tests::emit::{begin, get};

fn end(cg: &mut Cg<LlvmBackend<'_>>) {
    cg.ret().unwrap();
    cg.func_end().unwrap();
}

fn publish(module: LlvmModule<'_>, level: OptLevel) -> Jit {
    module.verify().unwrap();
    let jit = Jit::new().unwrap();
    jit.publish(&module, level).unwrap();
    jit
}

// ---- nontemporal loads -------------------------------------------------------------

/// `(load width, cast, width after the cast)`; the function adds 77 at that width and
/// returns the result sign-extended to i64.
const NT_SHAPES: &[(u32, CastOp, u32)] = &[
    (8, CastOp::ZExt, 32),
    (8, CastOp::SExt, 32),
    (8, CastOp::ZExt, 64),
    (16, CastOp::ZExt, 32),
    (16, CastOp::SExt, 64),
    (32, CastOp::ZExt, 64),
    (32, CastOp::SExt, 64),
    (32, CastOp::Trunc, 8),
    (64, CastOp::Trunc, 16),
    (64, CastOp::Trunc, 32),
];

fn nt_name(&(w, op, to): &(u32, CastOp, u32)) -> String {
    format!("nt_i{w}_{op:?}_i{to}").to_lowercase()
}

fn int_ty(cg: &mut Cg<LlvmBackend<'_>>, bits: u32) -> TypeId {
    let w = match bits {
        8 => IntWidth::I8,
        16 => IntWidth::I16,
        32 => IntWidth::I32,
        _ => IntWidth::I64,
    };
    cg.ty_int(w).unwrap()
}

/// Every shape of `NT_SHAPES`, plus `nt_also_add(p)`: the i8 load, zero-extended, plus
/// itself (the value used twice), and `nt_store(p, v)`: a non-temporal i32 store returning 0.
fn nontemporal_module<'c>(llvm: &'c LlvmContext, spec: &TargetSpec) -> LlvmModule<'c> {
    let mut cg = llvm.module("nontemporal", spec).unwrap();
    let i8t = int_ty(&mut cg, 8);
    let i64t = int_ty(&mut cg, 64);
    let ptr = cg.ty_ptr(i8t, 0).unwrap();
    for shape in NT_SHAPES {
        let &(w, op, to) = shape;
        let (wt, tot) = (int_ty(&mut cg, w), int_ty(&mut cg, to));
        let p = begin(&mut cg, &nt_name(shape), &[ptr], Some(i64t));
        get(&mut cg, p[0], ptr);
        cg.load(MemAccess::new(wt).align(1).flags(MemFlags::NONTEMPORAL)).unwrap();
        cg.cast(op, tot).unwrap();
        cg.push_int(tot, 77).unwrap();
        cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
        if to < 64 {
            cg.cast(CastOp::SExt, i64t).unwrap();
        }
        end(&mut cg);
    }
    let i32t = int_ty(&mut cg, 32);
    let p = begin(&mut cg, "nt_also_add", &[ptr], Some(i32t));
    get(&mut cg, p[0], ptr);
    cg.load(MemAccess::new(i8t).flags(MemFlags::NONTEMPORAL)).unwrap();
    cg.cast(CastOp::ZExt, i32t).unwrap();
    cg.dup().unwrap();
    cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
    end(&mut cg);
    let p = begin(&mut cg, "nt_store", &[ptr, i32t], Some(i32t));
    get(&mut cg, p[0], ptr);
    get(&mut cg, p[1], i32t);
    cg.store(MemAccess::new(i32t).flags(MemFlags::NONTEMPORAL)).unwrap();
    cg.push_int(i32t, 0).unwrap();
    end(&mut cg);
    cfree_llvm_lower::finish(cg).unwrap()
}

/// Rust's value of a shape for the little-endian bytes at `p`.
fn nt_oracle(&(w, op, to): &(u32, CastOp, u32), bytes: &[u8; 8]) -> i64 {
    let raw = u64::from_le_bytes(*bytes);
    let loaded = if w == 64 { raw } else { raw & ((1u64 << w) - 1) };
    let signed = ((loaded << (64 - w)) as i64) >> (64 - w);
    let cast: u64 = match op {
        CastOp::ZExt | CastOp::Trunc => loaded,
        CastOp::SExt => signed as u64,
        other => unreachable!("{other:?} is not in NT_SHAPES"),
    };
    let sum = cast.wrapping_add(77);
    if to == 64 {
        sum as i64
    } else {
        ((sum << (64 - to)) as i64) >> (64 - to)
    }
}

#[test]
fn nontemporal_narrow_loads_run_on_x86_at_every_level() {
    if !cfg!(target_arch = "x86_64") {
        return;
    }
    let inputs: [[u8; 8]; 5] = [
        [0; 8],
        [0xff; 8],
        [0x80, 0x7f, 0x01, 0x80, 0x00, 0x00, 0x00, 0x80],
        [0x7f, 0x80, 0xfe, 0x7f, 0x12, 0x34, 0x56, 0x78],
        [0xb3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
    ];
    for level in [OptLevel::O0, OptLevel::O1, OptLevel::O2] {
        let llvm = LlvmContext::new();
        let module = nontemporal_module(&llvm, &TargetSpec::host());
        let ir = module.ir();
        assert!(
            !ir.lines().any(|l| l.contains(" load ") && l.contains("!nontemporal")),
            "x86 loads keep no hint:\n{ir}"
        );
        assert!(ir.lines().any(|l| l.contains("store ") && l.contains("!nontemporal")), "stores keep it:\n{ir}");
        let jit = publish(module, level);
        for shape in NT_SHAPES {
            let f = jit.get::<unsafe extern "C" fn(*const u8) -> i64>(&nt_name(shape)).unwrap();
            for bytes in &inputs {
                // SAFETY: the function reads at most 8 bytes at its argument.
                let got = unsafe { f.call(bytes.as_ptr()) };
                assert_eq!(got, nt_oracle(shape, bytes), "{} at {level:?} on {bytes:x?}", nt_name(shape));
            }
        }
        let twice = jit.get::<unsafe extern "C" fn(*const u8) -> i32>("nt_also_add").unwrap();
        let store = jit.get::<unsafe extern "C" fn(*mut u8, i32) -> i32>("nt_store").unwrap();
        for bytes in &inputs {
            // SAFETY: reads one byte at its argument.
            assert_eq!(unsafe { twice.call(bytes.as_ptr()) }, 2 * i32::from(bytes[0]));
            let mut out = [0u8; 4];
            let v = i32::from_le_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
            // SAFETY: writes 4 bytes at its first argument, which has 4.
            unsafe { store.call(out.as_mut_ptr(), v) };
            assert_eq!(i32::from_le_bytes(out), v);
        }
    }
}

#[test]
fn nontemporal_loads_keep_the_hint_on_other_targets() {
    for triple in ["aarch64-unknown-linux-gnu", "riscv64-unknown-linux-gnu"] {
        let llvm = LlvmContext::new();
        let mut module = nontemporal_module(&llvm, &TargetSpec::triple(triple));
        let ir = module.ir();
        let hinted = ir.lines().filter(|l| l.contains(" load ") && l.contains("!nontemporal")).count();
        assert_eq!(hinted, NT_SHAPES.len() + 1, "every load keeps its hint on {triple}:\n{ir}");
        let object = module.emit_object(OptLevel::O2).unwrap();
        assert_eq!(&object[..4], b"\x7fELF", "{triple}");
        let ir = module.ir();
        assert!(ir.contains("!nontemporal"), "the optimised {triple} module keeps the hint:\n{ir}");
    }
    // 32-bit x86 drops it like x86-64 (same instruction selection).
    let llvm = LlvmContext::new();
    let mut module = nontemporal_module(&llvm, &TargetSpec::triple("i686-unknown-linux-gnu"));
    assert!(!module.ir().lines().any(|l| l.contains(" load ") && l.contains("!nontemporal")));
    module.emit_object(OptLevel::O2).unwrap();
}

// ---- copysign next to min/max --------------------------------------------------------

const MIN_MAX: [FloatBinOp; 4] = [FloatBinOp::Minimum, FloatBinOp::Maximum, FloatBinOp::MinNum, FloatBinOp::MaxNum];

/// Where the sign operand `y` of `copysign(x, y)` and `op(x, y)` comes from.
#[derive(Clone, Copy, Debug)]
enum Sign {
    /// The second parameter.
    Param,
    /// A constant pushed at each use (a literal constant at lowering).
    Literal(f64),
    /// A local initialised with the constant: constant only after mem2reg.
    Folded(f64),
}

const SIGNS: [Sign; 7] = [
    Sign::Param,
    Sign::Literal(2.0),
    Sign::Literal(-2.0),
    Sign::Literal(-0.0),
    Sign::Literal(f64::NAN),
    Sign::Folded(2.0),
    Sign::Folded(-3.5),
];

fn shape_name(op: FloatBinOp, f64: bool, sign: usize, swapped: bool) -> String {
    format!("{op:?}_{}_{sign}_{}", if f64 { "f64" } else { "f32" }, if swapped { "s" } else { "n" }).to_lowercase()
}

/// `f(x, y)` = `op(copysign(x, Y), op(x, Y))` (or with the outer operands swapped),
/// `Y` per `sign`; and `cs_<ty>(x, y)` = `copysign(x, y)`, `cs_<ty>_<i>(x)` = copysign
/// by each literal sign.
fn copysign_module(llvm: &LlvmContext) -> LlvmModule<'_> {
    let mut cg = llvm.module("copysign", &TargetSpec::host()).unwrap();
    for wide in [false, true] {
        let ft = cg.ty_float(if wide { FloatWidth::F64 } else { FloatWidth::F32 }).unwrap();
        let push = |cg: &mut Cg<LlvmBackend<'_>>, v: f64| if wide { cg.push_f64(v) } else { cg.push_f32(v as f32) };
        for op in MIN_MAX {
            for (si, sign) in SIGNS.iter().enumerate() {
                for swapped in [false, true] {
                    let p = begin(&mut cg, &shape_name(op, wide, si, swapped), &[ft, ft], Some(ft));
                    let folded = match *sign {
                        Sign::Folded(c) => {
                            let l = cg.local_slot(ft, "c", 0).unwrap();
                            cg.push_local(l).unwrap();
                            push(&mut cg, c).unwrap();
                            cg.store(MemAccess::new(ft)).unwrap();
                            Some(l)
                        }
                        _ => None,
                    };
                    let y = |cg: &mut Cg<LlvmBackend<'_>>| match *sign {
                        Sign::Param => get(cg, p[1], ft),
                        Sign::Literal(c) => push(cg, c).unwrap(),
                        Sign::Folded(_) => get(cg, folded.unwrap(), ft),
                    };
                    let copysign = |cg: &mut Cg<LlvmBackend<'_>>| {
                        get(cg, p[0], ft);
                        y(cg);
                        cg.float_op(FloatBinOp::CopySign, FastMath::NONE).unwrap();
                    };
                    let inner = |cg: &mut Cg<LlvmBackend<'_>>| {
                        get(cg, p[0], ft);
                        y(cg);
                        cg.float_op(op, FastMath::NONE).unwrap();
                    };
                    if swapped {
                        inner(&mut cg);
                        copysign(&mut cg);
                    } else {
                        copysign(&mut cg);
                        inner(&mut cg);
                    }
                    cg.float_op(op, FastMath::NONE).unwrap();
                    end(&mut cg);
                }
            }
        }
        let ty = if wide { "f64" } else { "f32" };
        let p = begin(&mut cg, &format!("cs_{ty}"), &[ft, ft], Some(ft));
        get(&mut cg, p[0], ft);
        get(&mut cg, p[1], ft);
        cg.float_op(FloatBinOp::CopySign, FastMath::NONE).unwrap();
        end(&mut cg);
        for (si, sign) in SIGNS.iter().enumerate() {
            if let Sign::Literal(c) = *sign {
                let p = begin(&mut cg, &format!("cs_{ty}_{si}"), &[ft], Some(ft));
                get(&mut cg, p[0], ft);
                push(&mut cg, c).unwrap();
                cg.float_op(FloatBinOp::CopySign, FastMath::NONE).unwrap();
                end(&mut cg);
            }
        }
    }
    cfree_llvm_lower::finish(cg).unwrap()
}

/// Inputs as f64 (converted to f32 for the f32 functions): zeros, NaNs of both signs
/// with payloads (quiet only: IEEE lets minNum answer a signaling NaN either way, which
/// would leak into the outer operation), infinities, the constants themselves.
fn inputs() -> Vec<f64> {
    vec![
        0.0,
        -0.0,
        1.5,
        -1.5,
        2.0,
        -2.0,
        -3.5,
        3.5,
        1e-310,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff8_0000_dead_beef),
        f64::from_bits(0xfff8_0000_0000_0001),
    ]
}

fn f32_bits(v: f64) -> u32 {
    // NaN payloads: keep the top payload bits and the sign, as a conversion would not.
    if v.is_nan() {
        let b = v.to_bits();
        ((b >> 32) as u32 & 0x8000_0000) | 0x7fc0_0000 | (b as u32 & 0x3f_ffff)
    } else {
        (v as f32).to_bits()
    }
}

/// Rust's result of one shape, and whether `got` is acceptable (oracle::same).
fn check_shape(op: FloatBinOp, ty: S, x: u128, y: u128, got: u128) -> bool {
    let eval = |a: u128, b: u128| oracle::eval(Op::FBin(op), &[ty, ty], &[ty], &[a, b]).unwrap()[0];
    let cs = oracle::eval(Op::FBin(FloatBinOp::CopySign), &[ty, ty], &[ty], &[x, y]).unwrap()[0];
    let inner = eval(x, y);
    let args_n = [cs, inner];
    let want = eval(cs, inner);
    oracle::same(Op::FBin(op), ty, &args_n, want, got)
}

#[test]
fn copysign_beside_min_max_compiles_and_runs_bit_exact() {
    let llvm = LlvmContext::new();
    let module = copysign_module(&llvm);
    if LLVM_MAJOR == 19 {
        assert!(!module.ir().contains("llvm.copysign"), "LLVM 19 never sees the intrinsic");
    }
    for level in [OptLevel::O0, OptLevel::O1, OptLevel::O2] {
        let llvm = LlvmContext::new();
        let jit = publish(copysign_module(&llvm), level);
        let xs = inputs();
        for (si, sign) in SIGNS.iter().enumerate() {
            let ys: Vec<f64> = match *sign {
                Sign::Param => xs.clone(),
                Sign::Literal(c) | Sign::Folded(c) => vec![c],
            };
            for op in MIN_MAX {
                for swapped in [false, true] {
                    let f32f =
                        jit.get::<unsafe extern "C" fn(f32, f32) -> f32>(&shape_name(op, false, si, swapped)).unwrap();
                    let f64f =
                        jit.get::<unsafe extern "C" fn(f64, f64) -> f64>(&shape_name(op, true, si, swapped)).unwrap();
                    for &x in &xs {
                        for &y in &ys {
                            let (x32, y32) = (f32::from_bits(f32_bits(x)), f32::from_bits(f32_bits(y)));
                            // SAFETY: pure functions of their arguments.
                            let (g32, g64) = unsafe { (f32f.call(x32, y32), f64f.call(x, y)) };
                            let (xb, yb) = (u128::from(x32.to_bits()), u128::from(y32.to_bits()));
                            assert!(
                                check_shape(op, S::F32, xb, yb, u128::from(g32.to_bits())),
                                "f32 {op:?} {sign:?} swapped={swapped} x={x32:?} y={y32:?} got {g32:?} at {level:?}"
                            );
                            let (xb, yb) = (u128::from(x.to_bits()), u128::from(y.to_bits()));
                            assert!(
                                check_shape(op, S::F64, xb, yb, u128::from(g64.to_bits())),
                                "f64 {op:?} {sign:?} swapped={swapped} x={x:?} y={y:?} got {g64:?} at {level:?}"
                            );
                        }
                    }
                }
            }
        }
        // copysign alone is exact to the bit, NaN payloads included.
        let cs32 = jit.get::<unsafe extern "C" fn(f32, f32) -> f32>("cs_f32").unwrap();
        let cs64 = jit.get::<unsafe extern "C" fn(f64, f64) -> f64>("cs_f64").unwrap();
        for &x in &xs {
            for &y in &xs {
                let (x32, y32) = (f32::from_bits(f32_bits(x)), f32::from_bits(f32_bits(y)));
                // SAFETY: pure functions of their arguments.
                let (g32, g64) = unsafe { (cs32.call(x32, y32), cs64.call(x, y)) };
                assert_eq!(g32.to_bits(), x32.copysign(y32).to_bits(), "{x32:?} {y32:?} at {level:?}");
                assert_eq!(g64.to_bits(), x.copysign(y).to_bits(), "{x:?} {y:?} at {level:?}");
            }
            for (si, sign) in SIGNS.iter().enumerate() {
                if let Sign::Literal(c) = *sign {
                    let c32 = jit.get::<unsafe extern "C" fn(f32) -> f32>(&format!("cs_f32_{si}")).unwrap();
                    let c64 = jit.get::<unsafe extern "C" fn(f64) -> f64>(&format!("cs_f64_{si}")).unwrap();
                    let x32 = f32::from_bits(f32_bits(x));
                    // SAFETY: pure functions of their arguments.
                    let (g32, g64) = unsafe { (c32.call(x32), c64.call(x)) };
                    assert_eq!(g32.to_bits(), x32.copysign(c as f32).to_bits(), "{x32:?} by {c:?} at {level:?}");
                    assert_eq!(g64.to_bits(), x.copysign(c).to_bits(), "{x:?} by {c:?} at {level:?}");
                }
            }
        }
    }
}
