//! Property test: every integer operation, comparison and conversion, at every width from i8 to i128, compiled through the facade
//! and JIT, against Rust's own integer semantics on random operands.
//! Inputs whose result is undefined in the contract (division by zero,
//! MIN / -1, shift amounts of at least the width) are not generated.

use cfree_facade::*;
use cfree_jit_orc::Jit;
use cfree_llvm_lower::{LlvmContext, OptLevel};
use cfree_tests::diff::catalog::{ICMP as PREDS, INT_BIN as OPS};
use cfree_tests::diff::{oracle, Op, S};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const WIDTHS: [IntWidth; 5] = [IntWidth::I8, IntWidth::I16, IntWidth::I32, IntWidth::I64, IntWidth::I128];

fn signed(cg: &mut Cg<impl Backend>, w: IntWidth) -> Param {
    Param::new(cg.ty_int(w).unwrap()).ext(AbiExt::Sign)
}

/// `op_<op>_<bits>(a, b) = a op b`, `cmp_<pred>_<bits>(a, b)`, and `sext/zext/trunc_<from>_<to>(a)`.
fn emit_all(cg: &mut Cg<impl Backend>) {
    for w in WIDTHS {
        let p = signed(cg, w);
        let bin =
            cg.ty_func(FuncSig { params: vec![p, p], result: Some(p), variadic: false, conv: CallConv::C }).unwrap();
        let i1 = Param::new(cg.ty_int(IntWidth::I1).unwrap()).ext(AbiExt::Zero);
        let cmp =
            cg.ty_func(FuncSig { params: vec![p, p], result: Some(i1), variadic: false, conv: CallConv::C }).unwrap();
        let body = |cg: &mut Cg<_>, name: String, sig, apply: &dyn Fn(&mut Cg<_>)| {
            let f = cg.declare_func(&name, FuncDecl::new(sig)).unwrap();
            cg.func_begin(f).unwrap();
            for i in 0..2 {
                let l = cg.param_slot(i, "").unwrap();
                cg.push_local(l).unwrap();
                cg.load(MemAccess::new(p.ty)).unwrap();
            }
            apply(cg);
            cg.ret().unwrap();
            cg.func_end().unwrap();
        };
        for op in OPS {
            body(cg, format!("op_{op:?}_{}", w.bits()), bin, &|cg| cg.int_op(op, IntFlags::NONE).unwrap());
        }
        for pred in PREDS {
            body(cg, format!("cmp_{pred:?}_{}", w.bits()), cmp, &|cg| cg.int_cmp(pred).unwrap());
        }
        for to in WIDTHS {
            let q = signed(cg, to);
            let (cast, name) = match to.cmp(&w) {
                std::cmp::Ordering::Greater => (CastOp::SExt, "sext"),
                std::cmp::Ordering::Less => (CastOp::Trunc, "trunc"),
                std::cmp::Ordering::Equal => continue,
            };
            for (op, name) in [(cast, name), (CastOp::ZExt, "zext")] {
                if op == CastOp::ZExt && to < w {
                    continue;
                }
                let sig = cg
                    .ty_func(FuncSig { params: vec![p], result: Some(q), variadic: false, conv: CallConv::C })
                    .unwrap();
                let f = cg.declare_func(&format!("{name}_{}_{}", w.bits(), to.bits()), FuncDecl::new(sig)).unwrap();
                cg.func_begin(f).unwrap();
                let l = cg.param_slot(0, "").unwrap();
                cg.push_local(l).unwrap();
                cg.load(MemAccess::new(p.ty)).unwrap();
                cg.cast(op, q.ty).unwrap();
                cg.ret().unwrap();
                cg.func_end().unwrap();
            }
        }
    }
}

macro_rules! check_width {
    ($jit:expr, $t:ty, $u:ty, $cases:expr) => {{
        let jit: &Jit = $jit;
        let bits = <$t>::BITS;
        let mut runner = TestRunner::new(Config { cases: $cases, failure_persistence: None, ..Config::default() });
        let edge = prop_oneof![Just(0 as $t), Just(-1 as $t), Just(<$t>::MIN), Just(<$t>::MAX), Just(1 as $t)];
        let operand = prop_oneof![3 => any::<$t>(), 1 => edge];
        runner
            .run(&(operand.clone(), operand), |(a, b)| {
                for op in OPS {
                    let name = format!("op_{op:?}_{bits}");
                    let f = jit.get::<unsafe extern "C" fn($t, $t) -> $t>(&name).unwrap();
                    let s = (b as u32) % bits;
                    let rhs = if matches!(op, IntBinOp::Shl | IntBinOp::LShr | IntBinOp::AShr) { s as $t } else { b };
                    let args = [a as $u as u128, rhs as $u as u128];
                    let expected = oracle::eval(Op::Int(op), &[S::I(bits); 2], &[S::I(bits)], &args)
                        .map(|r| r[0] as $u as $t);
                    let Some(expected) = expected else { continue };
                    // SAFETY: the function computes on its arguments only.
                    let got = unsafe { f.call(a, rhs) };
                    prop_assert_eq!(got, expected, "{} {} {}", name, a, rhs);
                }
                let (ua, ub) = (a as $u, b as $u);
                let cmp = [a == b, a != b, a < b, a <= b, a > b, a >= b, ua < ub, ua <= ub, ua > ub, ua >= ub];
                for (pred, expected) in PREDS.into_iter().zip(cmp) {
                    let name = format!("cmp_{pred:?}_{bits}");
                    let f = jit.get::<unsafe extern "C" fn($t, $t) -> bool>(&name).unwrap();
                    // SAFETY: as above.
                    prop_assert_eq!(unsafe { f.call(a, b) }, expected, "{} {} {}", name, a, b);
                }
                check_casts(jit, a as i128, bits)?;
                Ok(())
            })
            .unwrap();
    }};
}

/// Checks every conversion from a `bits`-wide value `a` (given sign-extended to i128).
fn check_casts(jit: &Jit, a: i128, bits: u32) -> Result<(), TestCaseError> {
    macro_rules! to {
        ($to:ty, $tou:ty) => {{
            let to_bits = <$to>::BITS;
            if to_bits != bits {
                let name =
                    if to_bits > bits { format!("sext_{bits}_{to_bits}") } else { format!("trunc_{bits}_{to_bits}") };
                let expected = a as $to;
                prop_assert_eq!(call_cast::<$to>(jit, &name, a, bits), expected, "{}", name);
                if to_bits > bits {
                    let name = format!("zext_{bits}_{to_bits}");
                    let mask = if bits == 128 { u128::MAX } else { (1u128 << bits) - 1 };
                    let expected = ((a as u128) & mask) as $tou as $to;
                    prop_assert_eq!(call_cast::<$to>(jit, &name, a, bits), expected, "{}", name);
                }
            }
        }};
    }
    to!(i8, u8);
    to!(i16, u16);
    to!(i32, u32);
    to!(i64, u64);
    to!(i128, u128);
    Ok(())
}

/// Calls a conversion whose parameter is `bits` wide, passing `a` at that width.
fn call_cast<R: cfree_jit_orc::AbiResult + Copy>(jit: &Jit, name: &str, a: i128, bits: u32) -> R {
    macro_rules! call {
        ($p:ty) => {{
            let f = jit.get::<unsafe extern "C" fn($p) -> R>(name).unwrap();
            // SAFETY: the function computes on its argument only.
            unsafe { f.call(a as $p) }
        }};
    }
    match bits {
        8 => call!(i8),
        16 => call!(i16),
        32 => call!(i32),
        64 => call!(i64),
        _ => call!(i128),
    }
}

fn check_level(level: OptLevel, cases: u32) {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("intops", &TargetSpec::host()).unwrap();
    emit_all(&mut cg);
    let module = cfree_llvm_lower::finish(cg).unwrap();
    module.verify().unwrap();
    let jit = Jit::new().unwrap();
    jit.publish(&module, level).unwrap();
    check_width!(&jit, i8, u8, cases);
    check_width!(&jit, i16, u16, cases);
    check_width!(&jit, i32, u32, cases);
    check_width!(&jit, i64, u64, cases);
    check_width!(&jit, i128, u128, cases);
}

#[test]
fn int_ops_match_rust_at_o0() {
    check_level(OptLevel::O0, 256);
}

#[test]
fn int_ops_match_rust_at_o2() {
    check_level(OptLevel::O2, 256);
}
