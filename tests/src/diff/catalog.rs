//! Every operation under test, at every width it applies to, with inputs:
//! edge values crossed with edge values, plus deterministic random ones,
//! keeping only inputs the contract defines.

use cfree_facade::{CastOp, CheckedOp, FloatBinOp, FloatCmp, FloatUnOp, IntBinOp, IntCmp, IntFlags, IntUnOp};

use super::{oracle, Op, Spec, S};

const INT_WIDTHS: [u32; 5] = [8, 16, 32, 64, 128];

/// A small deterministic generator (xorshift64*).
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn wide(&mut self) -> u128 {
        (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64())
    }
}

/// Edge values of a type: 0, ±1, MIN, MAX and neighbours, powers of two and
/// neighbours, alternating bits; for floats ±0, ±1, halves, ±inf, NaN,
/// subnormals, extremes and values around integer range limits.
pub fn edges(ty: S) -> Vec<u128> {
    match ty {
        S::I(bits) => {
            let m = ty.mask();
            let min = 1u128 << (bits - 1);
            let mut v =
                vec![0, 1, 2, 3, m, m - 1, min, min - 1, min + 1, 0x5555_5555_5555_5555_5555_5555_5555_5555 & m];
            for k in [bits / 2, bits - 2] {
                v.push((1u128 << k) & m);
                v.push(((1u128 << k) - 1) & m);
                v.push(((1u128 << k) + 1) & m);
            }
            v.push(bits as u128 - 1);
            v.push(bits as u128);
            v.sort();
            v.dedup();
            v
        }
        S::F32 => {
            let f = [
                0.0f32,
                -0.0,
                1.0,
                -1.0,
                0.5,
                -0.5,
                1.5,
                2.5,
                -2.5,
                0.49999997,
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::NAN,
                f32::MIN_POSITIVE,
                f32::from_bits(1),
                f32::from_bits(0x007f_ffff),
                f32::MAX,
                f32::MIN,
                2147483648.0,
                -2147483648.0,
                4294967296.0,
                9.223372e18,
                1.8446744e19,
                1.7014118e38,
                255.5,
                -128.5,
                65535.75,
                1e-7,
            ];
            f.iter().map(|x| x.to_bits() as u128).collect()
        }
        S::F64 => {
            let f = [
                0.0f64,
                -0.0,
                1.0,
                -1.0,
                0.5,
                -0.5,
                1.5,
                2.5,
                -2.5,
                0.49999999999999994,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NAN,
                f64::MIN_POSITIVE,
                f64::from_bits(1),
                f64::from_bits(0x000f_ffff_ffff_ffff),
                f64::MAX,
                f64::MIN,
                2147483647.5,
                -2147483648.5,
                -2147483649.0,
                4294967295.5,
                9223372036854775807.0,
                -9223372036854775808.0,
                18446744073709551615.0,
                1.7014118346046923e38,
                3.402823669209385e38,
                255.5,
                -128.5,
                65535.75,
                1e-300,
                0.1,
            ];
            f.iter().map(|x| x.to_bits() as u128).collect()
        }
    }
}

fn random(ty: S, rng: &mut Rng) -> u128 {
    match ty {
        S::I(_) => rng.wide() & ty.mask(),
        // Mostly ordinary numbers, sometimes raw bit patterns.
        S::F32 => {
            if rng.next_u64() % 4 == 0 {
                u128::from(rng.next_u64() as u32)
            } else {
                let x = (rng.next_u64() as i64 as f64) / 2f64.powi((rng.next_u64() % 70) as i32);
                (x as f32).to_bits() as u128
            }
        }
        S::F64 => {
            if rng.next_u64() % 4 == 0 {
                u128::from(rng.next_u64())
            } else {
                ((rng.next_u64() as i64 as f64) / 2f64.powi((rng.next_u64() % 70) as i32)).to_bits() as u128
            }
        }
    }
}

/// Input tuples for `args`: all edge combinations (for up to two operands), plus `extra` random ones.
fn tuples(args: &[S], rng: &mut Rng, extra: usize) -> Vec<Vec<u128>> {
    let mut out: Vec<Vec<u128>> = match args.len() {
        1 => edges(args[0]).into_iter().map(|a| vec![a]).collect(),
        2 => {
            let (e0, e1) = (edges(args[0]), edges(args[1]));
            e0.iter().flat_map(|a| e1.iter().map(move |b| vec![*a, *b])).collect()
        }
        _ => {
            let e: Vec<Vec<u128>> = args.iter().map(|t| edges(*t)).collect();
            (0..400).map(|i| e.iter().enumerate().map(|(k, v)| v[(i * (k + 3) + i / 7) % v.len()]).collect()).collect()
        }
    };
    for _ in 0..extra {
        out.push(args.iter().map(|t| random(*t, rng)).collect());
    }
    out
}

fn spec(name: String, op: Op, args: Vec<S>, results: Vec<S>, rng: &mut Rng) -> Spec {
    let inputs =
        tuples(&args, rng, 64).into_iter().filter(|t| oracle::eval(op, &args, &results, t).is_some()).collect();
    Spec { name, op, args, results, inputs }
}

/// Every variant, for tests that iterate over the vocabulary.
pub const INT_BIN: [IntBinOp; 26] = [
    IntBinOp::Add,
    IntBinOp::Sub,
    IntBinOp::Mul,
    IntBinOp::And,
    IntBinOp::Or,
    IntBinOp::Xor,
    IntBinOp::Shl,
    IntBinOp::LShr,
    IntBinOp::AShr,
    IntBinOp::ShlMasked,
    IntBinOp::LShrMasked,
    IntBinOp::AShrMasked,
    IntBinOp::SDiv,
    IntBinOp::UDiv,
    IntBinOp::SRem,
    IntBinOp::URem,
    IntBinOp::SMin,
    IntBinOp::SMax,
    IntBinOp::UMin,
    IntBinOp::UMax,
    IntBinOp::RotL,
    IntBinOp::RotR,
    IntBinOp::SAddSat,
    IntBinOp::UAddSat,
    IntBinOp::SSubSat,
    IntBinOp::USubSat,
];
/// Every variant, for tests that iterate over the vocabulary.
pub const INT_UN: [IntUnOp; 5] = [IntUnOp::Clz, IntUnOp::Ctz, IntUnOp::Popcount, IntUnOp::Bswap, IntUnOp::BitReverse];
/// Every variant, for tests that iterate over the vocabulary.
pub const CHECKED: [CheckedOp; 10] = [
    CheckedOp::SAdd,
    CheckedOp::UAdd,
    CheckedOp::SSub,
    CheckedOp::USub,
    CheckedOp::SMul,
    CheckedOp::UMul,
    CheckedOp::SDiv,
    CheckedOp::UDiv,
    CheckedOp::SRem,
    CheckedOp::URem,
];
/// Every variant, for tests that iterate over the vocabulary.
pub const ICMP: [IntCmp; 10] = [
    IntCmp::Eq,
    IntCmp::Ne,
    IntCmp::Slt,
    IntCmp::Sle,
    IntCmp::Sgt,
    IntCmp::Sge,
    IntCmp::Ult,
    IntCmp::Ule,
    IntCmp::Ugt,
    IntCmp::Uge,
];
/// Every variant, for tests that iterate over the vocabulary.
pub const FBIN: [FloatBinOp; 10] = [
    FloatBinOp::Add,
    FloatBinOp::Sub,
    FloatBinOp::Mul,
    FloatBinOp::Div,
    FloatBinOp::Rem,
    FloatBinOp::CopySign,
    FloatBinOp::MinNum,
    FloatBinOp::MaxNum,
    FloatBinOp::Minimum,
    FloatBinOp::Maximum,
];
/// Every variant, for tests that iterate over the vocabulary.
pub const FUN: [FloatUnOp; 8] = [
    FloatUnOp::Neg,
    FloatUnOp::Abs,
    FloatUnOp::Sqrt,
    FloatUnOp::Floor,
    FloatUnOp::Ceil,
    FloatUnOp::Trunc,
    FloatUnOp::Round,
    FloatUnOp::RoundEven,
];
/// Every variant, for tests that iterate over the vocabulary.
pub const FCMP: [FloatCmp; 14] = [
    FloatCmp::Oeq,
    FloatCmp::Ogt,
    FloatCmp::Oge,
    FloatCmp::Olt,
    FloatCmp::Ole,
    FloatCmp::One,
    FloatCmp::Ord,
    FloatCmp::Ueq,
    FloatCmp::Ugt,
    FloatCmp::Uge,
    FloatCmp::Ult,
    FloatCmp::Ule,
    FloatCmp::Une,
    FloatCmp::Uno,
];

/// The whole catalog.
pub fn all() -> Vec<Spec> {
    let mut rng = Rng::new(0x00c0_ffee_1234_5678);
    let mut v = Vec::new();
    let floats = [S::F32, S::F64];
    for w in INT_WIDTHS {
        let t = S::I(w);
        for op in INT_BIN {
            v.push(spec(format!("int_{op:?}_{}", t.tag()), Op::Int(op), vec![t, t], vec![t], &mut rng));
        }
        for (op, flags) in [
            (IntBinOp::Add, IntFlags::NSW),
            (IntBinOp::Add, IntFlags::NUW),
            (IntBinOp::Sub, IntFlags::NSW | IntFlags::NUW),
            (IntBinOp::Mul, IntFlags::NSW),
            (IntBinOp::Mul, IntFlags::NUW),
            (IntBinOp::Shl, IntFlags::NSW | IntFlags::NUW),
            (IntBinOp::SDiv, IntFlags::EXACT),
            (IntBinOp::UDiv, IntFlags::EXACT),
            (IntBinOp::LShr, IntFlags::EXACT),
            (IntBinOp::AShr, IntFlags::EXACT),
        ] {
            let name = format!("flagged_{op:?}_{}_{}", flags.bits(), t.tag());
            v.push(spec(name, Op::IntFlagged(op, flags), vec![t, t], vec![t], &mut rng));
        }
        for op in INT_UN {
            if op == IntUnOp::Bswap && w % 16 != 0 {
                continue;
            }
            v.push(spec(format!("intun_{op:?}_{}", t.tag()), Op::IntUn(op), vec![t], vec![t], &mut rng));
        }
        for op in CHECKED {
            let name = format!("checked_{op:?}_{}", t.tag());
            v.push(spec(name, Op::Checked(op), vec![t, t], vec![t, S::I(1)], &mut rng));
        }
        for p in ICMP {
            v.push(spec(format!("icmp_{p:?}_{}", t.tag()), Op::ICmp(p), vec![t, t], vec![S::I(1)], &mut rng));
        }
        for to in INT_WIDTHS {
            let u = S::I(to);
            let ops: &[CastOp] = match to.cmp(&w) {
                std::cmp::Ordering::Greater => &[CastOp::SExt, CastOp::ZExt],
                std::cmp::Ordering::Less => &[CastOp::Trunc],
                std::cmp::Ordering::Equal => &[],
            };
            for op in ops {
                v.push(spec(format!("cast_{op:?}_{}_{}", t.tag(), u.tag()), Op::Cast(*op), vec![t], vec![u], &mut rng));
            }
        }
        for f in floats {
            for op in [CastOp::SIToFP, CastOp::UIToFP] {
                v.push(spec(format!("cast_{op:?}_{}_{}", t.tag(), f.tag()), Op::Cast(op), vec![t], vec![f], &mut rng));
            }
            for op in [CastOp::FPToSI, CastOp::FPToUI, CastOp::FPToSISat, CastOp::FPToUISat] {
                v.push(spec(format!("cast_{op:?}_{}_{}", f.tag(), t.tag()), Op::Cast(op), vec![f], vec![t], &mut rng));
            }
            for op in [CastOp::FPToSI, CastOp::FPToUI] {
                let name = format!("castchk_{op:?}_{}_{}", f.tag(), t.tag());
                v.push(spec(name, Op::CastChecked(op), vec![f], vec![t, S::I(1)], &mut rng));
            }
        }
    }
    for f in floats {
        for op in FBIN {
            v.push(spec(format!("fbin_{op:?}_{}", f.tag()), Op::FBin(op), vec![f, f], vec![f], &mut rng));
        }
        for op in [FloatBinOp::Add, FloatBinOp::Sub, FloatBinOp::Mul, FloatBinOp::Div, FloatBinOp::MinNum] {
            v.push(spec(format!("ffinite_{op:?}_{}", f.tag()), Op::FBinFinite(op), vec![f, f], vec![f], &mut rng));
        }
        for op in FUN {
            v.push(spec(format!("fun_{op:?}_{}", f.tag()), Op::FUn(op), vec![f], vec![f], &mut rng));
        }
        v.push(spec(format!("fma_{}", f.tag()), Op::Fma, vec![f, f, f], vec![f], &mut rng));
        for p in FCMP {
            v.push(spec(format!("fcmp_{p:?}_{}", f.tag()), Op::FCmp(p), vec![f, f], vec![S::I(1)], &mut rng));
        }
        let int_twin = S::I(f.bits());
        v.push(spec(
            format!("cast_Bitcast_{}_{}", f.tag(), int_twin.tag()),
            Op::Cast(CastOp::Bitcast),
            vec![f],
            vec![int_twin],
            &mut rng,
        ));
        v.push(spec(
            format!("cast_Bitcast_{}_{}", int_twin.tag(), f.tag()),
            Op::Cast(CastOp::Bitcast),
            vec![int_twin],
            vec![f],
            &mut rng,
        ));
    }
    v.push(spec("cast_FpExt_f32_f64".into(), Op::Cast(CastOp::FpExt), vec![S::F32], vec![S::F64], &mut rng));
    v.push(spec("cast_FpTrunc_f64_f32".into(), Op::Cast(CastOp::FpTrunc), vec![S::F64], vec![S::F32], &mut rng));
    v
}
