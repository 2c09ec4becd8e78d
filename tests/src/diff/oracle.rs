//! Rust's own semantics for every operation under test: the `wrapping_*`,
//! `checked_*`, `overflowing_*`, `saturating_*`, bit-counting and float
//! methods of std, at the operation's exact width. `None` marks inputs the
//! contract leaves undefined (they are not generated).

use cfree_facade::{CastOp, CheckedOp, FloatBinOp, FloatCmp, FloatUnOp, IntBinOp, IntCmp, IntUnOp};

use super::{Op, S};

fn f32_of(v: u128) -> f32 {
    f32::from_bits(v as u32)
}
fn f64_of(v: u128) -> f64 {
    f64::from_bits(v as u64)
}

/// IEEE 754-2019 minimum/maximum (NaN-propagating, -0 < +0).
fn minimum<T: Copy + PartialOrd>(a: T, b: T, a_nan: bool, b_nan: bool, a_neg: bool, nan: T, is_min: bool) -> T {
    if a_nan || b_nan {
        return nan;
    }
    if a == b {
        // Equal values differ only in the sign of zero: min takes the negative one.
        return if a_neg == is_min { a } else { b };
    }
    if (a < b) == is_min {
        a
    } else {
        b
    }
}

macro_rules! int_ops {
    ($t:ty, $u:ty, $op:expr, $a:expr, $b:expr) => {{
        let (a, b) = ($a as $t, $b as $t);
        let (ua, ub) = (a as $u, b as $u);
        let bits = <$t>::BITS;
        let shift_ok = ub < bits as $u;
        let m = (ub % bits as $u) as u32;
        let r: Option<$t> = match $op {
            IntBinOp::Add => Some(a.wrapping_add(b)),
            IntBinOp::Sub => Some(a.wrapping_sub(b)),
            IntBinOp::Mul => Some(a.wrapping_mul(b)),
            IntBinOp::And => Some(a & b),
            IntBinOp::Or => Some(a | b),
            IntBinOp::Xor => Some(a ^ b),
            IntBinOp::Shl => shift_ok.then(|| a.wrapping_shl(ub as u32)),
            IntBinOp::LShr => shift_ok.then(|| ua.wrapping_shr(ub as u32) as $t),
            IntBinOp::AShr => shift_ok.then(|| a.wrapping_shr(ub as u32)),
            IntBinOp::ShlMasked => Some(a.wrapping_shl(m)),
            IntBinOp::LShrMasked => Some(ua.wrapping_shr(m) as $t),
            IntBinOp::AShrMasked => Some(a.wrapping_shr(m)),
            IntBinOp::SDiv => a.checked_div(b),
            IntBinOp::UDiv => ua.checked_div(ub).map(|v| v as $t),
            IntBinOp::SRem => a.checked_rem(b),
            IntBinOp::URem => ua.checked_rem(ub).map(|v| v as $t),
            IntBinOp::SMin => Some(a.min(b)),
            IntBinOp::SMax => Some(a.max(b)),
            IntBinOp::UMin => Some(ua.min(ub) as $t),
            IntBinOp::UMax => Some(ua.max(ub) as $t),
            IntBinOp::RotL => Some(ua.rotate_left(m) as $t),
            IntBinOp::RotR => Some(ua.rotate_right(m) as $t),
            IntBinOp::SAddSat => Some(a.saturating_add(b)),
            IntBinOp::UAddSat => Some(ua.saturating_add(ub) as $t),
            IntBinOp::SSubSat => Some(a.saturating_sub(b)),
            IntBinOp::USubSat => Some(ua.saturating_sub(ub) as $t),
        };
        r.map(|v| vec![v as $u as u128])
    }};
}

macro_rules! int_unops {
    ($t:ty, $u:ty, $op:expr, $a:expr) => {{
        let ua = $a as $u;
        let r: u128 = match $op {
            IntUnOp::Clz => ua.leading_zeros() as u128,
            IntUnOp::Ctz => ua.trailing_zeros() as u128,
            IntUnOp::Popcount => ua.count_ones() as u128,
            IntUnOp::Bswap => ua.swap_bytes() as u128,
            IntUnOp::BitReverse => ua.reverse_bits() as u128,
        };
        vec![r]
    }};
}

macro_rules! checked_ops {
    ($t:ty, $u:ty, $op:expr, $a:expr, $b:expr) => {{
        let (a, b) = ($a as $t, $b as $t);
        let (ua, ub) = (a as $u, b as $u);
        let (v, o): ($u, bool) = match $op {
            CheckedOp::SAdd => {
                let (v, o) = a.overflowing_add(b);
                (v as $u, o)
            }
            CheckedOp::UAdd => ua.overflowing_add(ub),
            CheckedOp::SSub => {
                let (v, o) = a.overflowing_sub(b);
                (v as $u, o)
            }
            CheckedOp::USub => ua.overflowing_sub(ub),
            CheckedOp::SMul => {
                let (v, o) = a.overflowing_mul(b);
                (v as $u, o)
            }
            CheckedOp::UMul => ua.overflowing_mul(ub),
            CheckedOp::SDiv => a.checked_div(b).map_or((0, true), |v| (v as $u, false)),
            CheckedOp::UDiv => ua.checked_div(ub).map_or((0, true), |v| (v, false)),
            CheckedOp::SRem => a.checked_rem(b).map_or((0, true), |v| (v as $u, false)),
            CheckedOp::URem => ua.checked_rem(ub).map_or((0, true), |v| (v, false)),
        };
        vec![v as u128, o as u128]
    }};
}

macro_rules! icmp {
    ($t:ty, $u:ty, $p:expr, $a:expr, $b:expr) => {{
        let (a, b) = ($a as $t, $b as $t);
        let (ua, ub) = (a as $u, b as $u);
        let r = match $p {
            IntCmp::Eq => a == b,
            IntCmp::Ne => a != b,
            IntCmp::Slt => a < b,
            IntCmp::Sle => a <= b,
            IntCmp::Sgt => a > b,
            IntCmp::Sge => a >= b,
            IntCmp::Ult => ua < ub,
            IntCmp::Ule => ua <= ub,
            IntCmp::Ugt => ua > ub,
            IntCmp::Uge => ua >= ub,
        };
        vec![r as u128]
    }};
}

macro_rules! by_width {
    ($bits:expr, $m:ident, $($arg:expr),*) => {
        match $bits {
            8 => $m!(i8, u8, $($arg),*),
            16 => $m!(i16, u16, $($arg),*),
            32 => $m!(i32, u32, $($arg),*),
            64 => $m!(i64, u64, $($arg),*),
            128 => $m!(i128, u128, $($arg),*),
            other => panic!("no {other}-bit integers in the harness"),
        }
    };
}

macro_rules! float_ops {
    ($f:ty, $of:ident, $op:expr, $a:expr, $b:expr) => {{
        let (a, b) = ($of($a), $of($b));
        let r: $f = match $op {
            FloatBinOp::Add => a + b,
            FloatBinOp::Sub => a - b,
            FloatBinOp::Mul => a * b,
            FloatBinOp::Div => a / b,
            FloatBinOp::Rem => a % b,
            FloatBinOp::CopySign => a.copysign(b),
            FloatBinOp::MinNum => a.min(b),
            FloatBinOp::MaxNum => a.max(b),
            FloatBinOp::Minimum => minimum(a, b, a.is_nan(), b.is_nan(), a.is_sign_negative(), <$f>::NAN, true),
            FloatBinOp::Maximum => minimum(a, b, a.is_nan(), b.is_nan(), a.is_sign_negative(), <$f>::NAN, false),
        };
        vec![r.to_bits() as u128]
    }};
}

macro_rules! float_unops {
    ($f:ty, $of:ident, $op:expr, $a:expr) => {{
        let a = $of($a);
        let r: $f = match $op {
            FloatUnOp::Neg => -a,
            FloatUnOp::Abs => a.abs(),
            FloatUnOp::Sqrt => a.sqrt(),
            FloatUnOp::Floor => a.floor(),
            FloatUnOp::Ceil => a.ceil(),
            FloatUnOp::Trunc => a.trunc(),
            FloatUnOp::Round => a.round(),
            FloatUnOp::RoundEven => a.round_ties_even(),
        };
        vec![r.to_bits() as u128]
    }};
}

macro_rules! fcmp {
    ($of:ident, $p:expr, $a:expr, $b:expr) => {{
        let (a, b) = ($of($a), $of($b));
        let uno = a.is_nan() || b.is_nan();
        let r = match $p {
            FloatCmp::Oeq => a == b,
            FloatCmp::Ogt => a > b,
            FloatCmp::Oge => a >= b,
            FloatCmp::Olt => a < b,
            FloatCmp::Ole => a <= b,
            FloatCmp::One => !uno && a != b,
            FloatCmp::Ord => !uno,
            FloatCmp::Ueq => uno || a == b,
            FloatCmp::Ugt => uno || a > b,
            FloatCmp::Uge => uno || a >= b,
            FloatCmp::Ult => uno || a < b,
            FloatCmp::Ule => uno || a <= b,
            FloatCmp::Une => a != b,
            FloatCmp::Uno => uno,
        };
        vec![r as u128]
    }};
}

/// Sign-extends the low `bits` of `v` to i128.
fn sx(v: u128, bits: u32) -> i128 {
    ((v << (128 - bits)) as i128) >> (128 - bits)
}

/// A float operand as f64 (exact for f32 too).
fn as_f64(ty: S, v: u128) -> f64 {
    match ty {
        S::F32 => f64::from(f32_of(v)),
        _ => f64_of(v),
    }
}

/// Rust `as` from a float (given exactly as f64) to an integer of `bits`, saturating.
fn float_to_int_sat(x: f64, bits: u32, signed: bool) -> u128 {
    let mask = S::I(bits).mask();
    macro_rules! sat {
        ($t:ty) => {
            (x as $t) as u128 & mask
        };
    }
    match (bits, signed) {
        (8, true) => sat!(i8),
        (16, true) => sat!(i16),
        (32, true) => sat!(i32),
        (64, true) => sat!(i64),
        (128, true) => sat!(i128),
        (8, false) => sat!(u8),
        (16, false) => sat!(u16),
        (32, false) => sat!(u32),
        (64, false) => sat!(u64),
        (128, false) => sat!(u128),
        _ => unreachable!(),
    }
}

/// Whether float `x` converts toward zero into an integer of `bits` without overflow.
fn float_fits(x: f64, bits: u32, signed: bool) -> bool {
    let t = x.trunc();
    if x.is_nan() {
        return false;
    }
    let (lo, hi) = if signed {
        (-(2f64.powi(bits as i32 - 1)), 2f64.powi(bits as i32 - 1))
    } else {
        (0.0, 2f64.powi(bits as i32))
    };
    t >= lo && t < hi
}

fn int_to_float(v: u128, from: u32, signed: bool, to: S) -> u128 {
    match (signed, to) {
        (true, S::F32) => (sx(v, from) as f32).to_bits() as u128,
        (true, _) => (sx(v, from) as f64).to_bits() as u128,
        (false, S::F32) => (v as f32).to_bits() as u128,
        (false, _) => (v as f64).to_bits() as u128,
    }
}

fn cast(op: CastOp, from: S, to: S, v: u128) -> Option<Vec<u128>> {
    let r = match op {
        CastOp::SExt => sx(v, from.bits()) as u128 & to.mask(),
        CastOp::ZExt | CastOp::Trunc => v & to.mask(),
        CastOp::FpExt => f64::from(f32_of(v)).to_bits() as u128,
        CastOp::FpTrunc => (f64_of(v) as f32).to_bits() as u128,
        CastOp::SIToFP => int_to_float(v, from.bits(), true, to),
        CastOp::UIToFP => int_to_float(v, from.bits(), false, to),
        CastOp::FPToSI | CastOp::FPToUI => {
            let signed = op == CastOp::FPToSI;
            let x = as_f64(from, v);
            if !float_fits(x, to.bits(), signed) {
                return None;
            }
            float_to_int_sat(x, to.bits(), signed)
        }
        CastOp::FPToSISat => float_to_int_sat(as_f64(from, v), to.bits(), true),
        CastOp::FPToUISat => float_to_int_sat(as_f64(from, v), to.bits(), false),
        CastOp::Bitcast => v & to.mask(),
        CastOp::PtrToInt | CastOp::IntToPtr => panic!("no pointer casts in the harness"),
    };
    Some(vec![r])
}

/// The results of `op` on `args`, or `None` where the contract leaves it undefined.
pub fn eval(op: Op, args: &[S], results: &[S], a: &[u128]) -> Option<Vec<u128>> {
    let w = args[0].bits();
    match op {
        Op::Int(o) => by_width!(w, int_ops, o, a[0], a[1]),
        Op::IntUn(o) => Some(by_width!(w, int_unops, o, a[0])),
        Op::Checked(o) => Some(by_width!(w, checked_ops, o, a[0], a[1])),
        Op::ICmp(p) => Some(by_width!(w, icmp, p, a[0], a[1])),
        Op::Cast(c) => cast(c, args[0], results[0], a[0]),
        Op::CastChecked(c) => {
            let signed = c == CastOp::FPToSI;
            let x = as_f64(args[0], a[0]);
            let bits = results[0].bits();
            Some(vec![float_to_int_sat(x, bits, signed), u128::from(!float_fits(x, bits, signed))])
        }
        Op::FBin(o) => Some(match args[0] {
            S::F32 => float_ops!(f32, f32_of, o, a[0], a[1]),
            _ => float_ops!(f64, f64_of, o, a[0], a[1]),
        }),
        Op::FUn(o) => Some(match args[0] {
            S::F32 => float_unops!(f32, f32_of, o, a[0]),
            _ => float_unops!(f64, f64_of, o, a[0]),
        }),
        Op::Fma => Some(match args[0] {
            S::F32 => vec![f32_of(a[0]).mul_add(f32_of(a[1]), f32_of(a[2])).to_bits() as u128],
            _ => vec![f64_of(a[0]).mul_add(f64_of(a[1]), f64_of(a[2])).to_bits() as u128],
        }),
        Op::FCmp(p) => Some(match args[0] {
            S::F32 => fcmp!(f32_of, p, a[0], a[1]),
            _ => fcmp!(f64_of, p, a[0], a[1]),
        }),
        Op::IntFlagged(o, f) => {
            if !facts_hold(o, f, w, a[0], a[1]) {
                return None;
            }
            eval(Op::Int(o), args, results, a)
        }
        Op::FBinFinite(o) => {
            let r = eval(Op::FBin(o), args, results, a)?;
            let finite = |v: u128| as_f64(args[0], v).is_finite();
            (a.iter().all(|v| finite(*v)) && finite(r[0])).then_some(r)
        }
    }
}

/// Whether `nsw`/`nuw`/`exact` hold for `a op b` at width `w` (else the result is poison).
fn facts_hold(op: IntBinOp, flags: cfree_facade::IntFlags, w: u32, a: u128, b: u128) -> bool {
    use cfree_facade::IntFlags;
    let (sa, sb) = (sx(a, w), sx(b, w));
    let (ua, ub) = (a, b);
    let (smin, smax, umax) = (i128::MIN >> (128 - w), i128::MAX >> (128 - w), S::I(w).mask());
    let in_signed = |v: Option<i128>| v.is_some_and(|v| (smin..=smax).contains(&v));
    let in_unsigned = |v: Option<u128>| v.is_some_and(|v| v <= umax);
    let nsw = !flags.contains(IntFlags::NSW)
        || match op {
            IntBinOp::Add => in_signed(sa.checked_add(sb)),
            IntBinOp::Sub => in_signed(sa.checked_sub(sb)),
            IntBinOp::Mul => in_signed(sa.checked_mul(sb)),
            // shl nsw: no shifted-out bit disagrees with the result's sign, i.e. ashr undoes it.
            IntBinOp::Shl => ub < u128::from(w) && sx((a << ub) & umax, w) >> ub == sa,
            _ => true,
        };
    let nuw = !flags.contains(IntFlags::NUW)
        || match op {
            IntBinOp::Add => in_unsigned(ua.checked_add(ub)),
            IntBinOp::Sub => ua >= ub,
            IntBinOp::Mul => in_unsigned(ua.checked_mul(ub)),
            // shl nuw: no set bit is shifted out, i.e. lshr undoes it.
            IntBinOp::Shl => ub < u128::from(w) && ((a << ub) & umax) >> ub == ua,
            _ => true,
        };
    let exact = !flags.contains(IntFlags::EXACT)
        || match op {
            IntBinOp::SDiv => sb != 0 && sa.checked_rem(sb) == Some(0),
            IntBinOp::UDiv => ub != 0 && ua % ub == 0,
            IntBinOp::LShr | IntBinOp::AShr => ub < u128::from(w) && ua & ((1u128 << ub) - 1) == 0,
            _ => true,
        };
    nsw && nuw && exact
}

fn is_nan(ty: S, v: u128) -> bool {
    match ty {
        S::F32 => f32_of(v).is_nan(),
        S::F64 => f64_of(v).is_nan(),
        S::I(_) => false,
    }
}

fn is_zero(ty: S, v: u128) -> bool {
    matches!(ty, S::F32 | S::F64) && as_f64(ty, v) == 0.0
}

fn is_signaling_nan(ty: S, v: u128) -> bool {
    let quiet_bit = match ty {
        S::F32 => 1u128 << 22,
        S::F64 => 1u128 << 51,
        S::I(_) => return false,
    };
    is_nan(ty, v) && v & quiet_bit == 0
}

/// Whether `got` is an acceptable result where the oracle says `want`.
///
/// A NaN result may be any NaN: payload and sign of generated NaNs differ
/// between targets (x86's default NaN is negative, AArch64's positive) and
/// IEEE leaves them open. minNum/maxNum of two zeros may return either zero,
/// and with a signaling NaN operand may return a quiet NaN (IEEE 754-2008
/// minNum, which AArch64's `fminnm` implements) instead of the other operand.
pub fn same(op: Op, ty: S, args: &[u128], want: u128, got: u128) -> bool {
    if let Op::FBinFinite(o) = op {
        return same(Op::FBin(o), ty, args, want, got);
    }
    if is_nan(ty, want) {
        return is_nan(ty, got);
    }
    let min_max = matches!(op, Op::FBin(FloatBinOp::MinNum | FloatBinOp::MaxNum));
    if min_max && args.iter().any(|a| is_signaling_nan(ty, *a)) && is_nan(ty, got) {
        return true;
    }
    if matches!(op, Op::FBin(FloatBinOp::MinNum | FloatBinOp::MaxNum))
        && args.iter().all(|a| is_zero(ty, *a))
        && is_zero(ty, got)
    {
        return true;
    }
    want == got
}
