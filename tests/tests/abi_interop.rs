//! Records by value across the C ABI, executed against gcc on x86_64 (native),
//! aarch64 and riscv64 (cross gcc, qemu-user), at O0 and O2.
//!
//! For generated shapes and prototypes (`cfree_tests::abi_shapes`), one
//! executable per target and level holds, for each prototype `k`:
//! - `f_k`, a gcc-compiled callee, and `g_k`, the same function emitted through
//!   the facade: both fold every argument field (not padding) into a checksum,
//!   store it in `abi_sink`, and return a record (or scalar) derived from it;
//! - `cr_k(fn)`, a gcc-compiled caller, and `fc_k`/`fg_k`, facade callers of
//!   `f_k`/`g_k`: fill the arguments with fixed bits, call, fold the sink and
//!   every field of the result.
//!
//! `cr_k(f_k)` (gcc to gcc) is the reference; `fc_k()` (facade to gcc),
//! `cr_k(g_k)` (gcc to facade) and `fg_k()` (facade to facade) must print the
//! same checksum. A mismatch prints the prototype in C, its records and the
//! facade's lowered signatures.

use std::fmt::Write as _;

use cfree_facade::*;
use cfree_llvm_lower::{LlvmBackend, LlvmContext, OptLevel};
use cfree_tests::abi_shapes::{build, protos, Arg, Built, Proto, Record, Rng, Scalar, ShapeGen};
use cfree_tests::aot::{link_with, scratch_dir, LinuxTarget};

const DEFAULT_SEED: u64 = 0x0a81_1e7e_5eed_0010;
const SHAPES: usize = 240;
const PROTOS: usize = 240;

/// FNV-1a's prime: `h = (h ^ x) * P` folds each 64-bit word.
const P: u64 = 0x0000_0100_0000_01b3;
const H0: u64 = 0xcbf2_9ce4_8422_2325;
/// Mixed into the caller's checksum.
const C2: u64 = 0x5851_f42d_4c95_7f2d;
const G: u64 = 0x9e37_79b9_7f4a_7c15;
const M1: u64 = 0xbf58_476d_1ce4_e5b9;

fn seed() -> u64 {
    cfree_tests::abi_shapes::seed(DEFAULT_SEED)
}

/// The bits of leaf `j` of argument `i` of prototype `k`.
fn arg_bits(seed: u64, k: usize, i: usize, j: usize, s: Scalar) -> u128 {
    let mut r = Rng(seed ^ ((k as u64) << 40) ^ ((i as u64) << 20) ^ j as u64);
    let lo = r.next_u64();
    let hi = r.next_u64();
    s.normalise((u128::from(hi) << 64) | u128::from(lo))
}

struct Tools {
    i64t: TypeId,
    sink: Sym,
}

fn int_ty(cg: &mut Cg<LlvmBackend<'_>>, bits: u32) -> Result<TypeId> {
    cg.ty_int(match bits {
        8 => IntWidth::I8,
        16 => IntWidth::I16,
        32 => IntWidth::I32,
        64 => IntWidth::I64,
        _ => IntWidth::I128,
    })
}

/// Folds the integer of `bits` on top of the stack into the `i64` local `h`.
fn fold(cg: &mut Cg<LlvmBackend<'_>>, t: &Tools, h: Local, bits: u32, signed: bool) -> Result<()> {
    if bits == 128 {
        cg.dup()?;
        cg.cast(CastOp::Trunc, t.i64t)?;
        fold(cg, t, h, 64, false)?;
        let i128t = int_ty(cg, 128)?;
        cg.push_int(i128t, 64)?;
        cg.int_op(IntBinOp::LShr, IntFlags::NONE)?;
        cg.cast(CastOp::Trunc, t.i64t)?;
        return fold(cg, t, h, 64, false);
    }
    if bits < 64 {
        cg.cast(if signed { CastOp::SExt } else { CastOp::ZExt }, t.i64t)?;
    }
    cg.push_local(h)?;
    cg.load(MemAccess::new(t.i64t))?;
    cg.int_op(IntBinOp::Xor, IntFlags::NONE)?;
    cg.push_int(t.i64t, P.into())?;
    cg.int_op(IntBinOp::Mul, IntFlags::NONE)?;
    cg.push_local(h)?;
    cg.swap()?;
    cg.store(MemAccess::new(t.i64t))
}

/// Pushes the bits of result leaf `j` (an integer of `s.bits()`), from `h`.
fn make(cg: &mut Cg<LlvmBackend<'_>>, t: &Tools, h: Local, j: u64, s: Scalar) -> Result<()> {
    let i64t = t.i64t;
    let op = |cg: &mut Cg<LlvmBackend<'_>>, op: IntBinOp, c: u64| -> Result<()> {
        cg.push_int(i64t, c.into())?;
        cg.int_op(op, IntFlags::NONE)
    };
    cg.push_local(h)?;
    cg.load(MemAccess::new(i64t))?;
    op(cg, IntBinOp::Add, (j + 1).wrapping_mul(G))?;
    cg.dup()?;
    op(cg, IntBinOp::LShr, 31)?;
    cg.int_op(IntBinOp::Xor, IntFlags::NONE)?;
    op(cg, IntBinOp::Mul, M1)?;
    cg.dup()?;
    op(cg, IntBinOp::LShr, 29)?;
    cg.int_op(IntBinOp::Xor, IntFlags::NONE)?;
    match s {
        Scalar::F32 => {
            op(cg, IntBinOp::And, 0x7f_ffff)?;
            op(cg, IntBinOp::Or, 0x3f80_0000)?;
        }
        Scalar::F64 => {
            op(cg, IntBinOp::And, 0x000f_ffff_ffff_ffff)?;
            op(cg, IntBinOp::Or, 0x3ff0_0000_0000_0000)?;
        }
        Scalar::I128 => {
            let i128t = int_ty(cg, 128)?;
            cg.dup()?;
            cg.cast(CastOp::ZExt, i128t)?;
            cg.swap()?;
            op(cg, IntBinOp::Mul, 3)?;
            cg.cast(CastOp::ZExt, i128t)?;
            cg.push_int(i128t, 64)?;
            cg.int_op(IntBinOp::Shl, IntFlags::NONE)?;
            cg.int_op(IntBinOp::Or, IntFlags::NONE)?;
            return Ok(());
        }
        _ => {}
    }
    if s.bits() < 64 {
        let ty = int_ty(cg, s.bits())?;
        cg.cast(CastOp::Trunc, ty)?;
    }
    Ok(())
}

/// Declares the prototype's facade signature.
fn signature(cg: &mut Cg<LlvmBackend<'_>>, p: &Proto, built: &[Built]) -> Result<TypeId> {
    let param = |cg: &mut Cg<LlvmBackend<'_>>, a: Arg| -> Result<Param> {
        Ok(match a {
            Arg::Record(i) => Param::new(built[i].ty),
            Arg::I8s => Param::new(cg.ty_int(IntWidth::I8)?).ext(AbiExt::Sign),
            Arg::U16z => Param::new(cg.ty_int(IntWidth::I16)?).ext(AbiExt::Zero),
            Arg::I32 => Param::new(cg.ty_int(IntWidth::I32)?),
            Arg::I64 => Param::new(cg.ty_int(IntWidth::I64)?),
            Arg::F32 => Param::new(cg.ty_float(FloatWidth::F32)?),
            Arg::F64 => Param::new(cg.ty_float(FloatWidth::F64)?),
        })
    };
    let params = p.params.iter().map(|a| param(cg, *a)).collect::<Result<Vec<_>>>()?;
    let result = p.result.map(|a| param(cg, a)).transpose()?;
    cg.ty_func(FuncSig::with_params(params, result))
}

fn scalar_ty(cg: &mut Cg<LlvmBackend<'_>>, a: Arg) -> Result<TypeId> {
    match a {
        Arg::F32 => cg.ty_float(FloatWidth::F32),
        Arg::F64 => cg.ty_float(FloatWidth::F64),
        a => int_ty(cg, a.scalar().expect("a scalar").bits()),
    }
}

/// `g_k`: folds the arguments, stores the sink, returns a value derived from it.
fn emit_callee(
    cg: &mut Cg<LlvmBackend<'_>>,
    t: &Tools,
    k: usize,
    p: &Proto,
    built: &[Built],
    sig: TypeId,
) -> Result<Sym> {
    // Internal, reached by C through `g_table`: `finish` panics on exported
    // functions with records in their signatures (see `finish_accepts_...`).
    let f = cg.declare_func(&format!("g_{k}"), FuncDecl::new(sig).linkage(Linkage::Internal))?;
    cg.func_begin(f)?;
    let h = cg.local_slot(t.i64t, "h", 0)?;
    cg.push_local(h)?;
    cg.push_int(t.i64t, (H0 ^ k as u64).into())?;
    cg.store(MemAccess::new(t.i64t))?;
    for (i, a) in p.params.iter().enumerate() {
        let slot = cg.param_slot(i as u32, &format!("p{i}"))?;
        let leaves = match a {
            Arg::Record(r) => built[*r].leaves.iter().map(|l| (l.offset, l.scalar)).collect(),
            a => vec![(0, a.scalar().expect("a scalar"))],
        };
        for (off, s) in leaves {
            let ity = int_ty(cg, s.bits())?;
            cg.push_local(slot)?;
            cg.addr_offset(off as i64, ity)?;
            cg.load(MemAccess::new(ity))?;
            fold(cg, t, h, s.bits(), *a == Arg::I8s)?;
        }
    }
    cg.push_global(t.sink)?;
    cg.push_local(h)?;
    cg.load(MemAccess::new(t.i64t))?;
    cg.store(MemAccess::new(t.i64t))?;
    let (ty, leaves) = match p.result {
        None => {
            cg.ret()?;
            return cg.func_end().map(|_| f);
        }
        Some(Arg::Record(r)) => (built[r].ty, built[r].leaves.iter().map(|l| (l.offset, l.scalar)).collect()),
        Some(a) => (scalar_ty(cg, a)?, vec![(0, a.scalar().expect("a scalar"))]),
    };
    let res = cg.local_slot(ty, "r", 0)?;
    for (j, (off, s)) in leaves.into_iter().enumerate() {
        let ity = int_ty(cg, s.bits())?;
        cg.push_local(res)?;
        cg.addr_offset(off as i64, ity)?;
        make(cg, t, h, j as u64, s)?;
        cg.store(MemAccess::new(ity))?;
    }
    cg.push_local(res)?;
    if cg.types().is_scalar(ty) {
        cg.load(MemAccess::new(ty))?;
    }
    cg.ret()?;
    cg.func_end()?;
    Ok(f)
}

/// `name`: fills the arguments, calls `callee`, folds the sink and the result.
#[allow(clippy::too_many_arguments)]
fn emit_caller(
    cg: &mut Cg<LlvmBackend<'_>>,
    t: &Tools,
    seed: u64,
    k: usize,
    p: &Proto,
    built: &[Built],
    name: &str,
    callee: Sym,
) -> Result<()> {
    let sig = cg.ty_func(FuncSig::new(&[], Some(t.i64t)))?;
    let f = cg.declare_func(name, FuncDecl::new(sig))?;
    cg.func_begin(f)?;
    let mut records = Vec::new();
    for (i, a) in p.params.iter().enumerate() {
        if let Arg::Record(r) = a {
            let l = cg.local_slot(built[*r].ty, &format!("a{i}"), 0)?;
            for (j, leaf) in built[*r].leaves.iter().enumerate() {
                let ity = int_ty(cg, leaf.scalar.bits())?;
                cg.push_local(l)?;
                cg.addr_offset(leaf.offset as i64, ity)?;
                cg.push_int(ity, arg_bits(seed, k, i, j, leaf.scalar) as i128)?;
                cg.store(MemAccess::new(ity))?;
            }
            records.push(Some(l));
        } else {
            records.push(None);
        }
    }
    cg.push_global(t.sink)?;
    cg.push_int(t.i64t, 0)?;
    cg.store(MemAccess::new(t.i64t))?;
    let dest = match p.result {
        Some(Arg::Record(r)) => {
            let d = cg.local_slot(built[r].ty, "dest", 0)?;
            cg.push_local(d)?;
            Some(d)
        }
        _ => None,
    };
    for (i, a) in p.params.iter().enumerate() {
        match (a, records[i]) {
            (_, Some(l)) => cg.push_local(l)?,
            (Arg::F32, _) => cg.push_f32(f32::from_bits(arg_bits(seed, k, i, 0, Scalar::F32) as u32))?,
            (Arg::F64, _) => cg.push_f64(f64::from_bits(arg_bits(seed, k, i, 0, Scalar::F64) as u64))?,
            (a, _) => {
                let s = a.scalar().expect("a scalar");
                let ity = int_ty(cg, s.bits())?;
                cg.push_int(ity, arg_bits(seed, k, i, 0, s) as i128)?;
            }
        }
    }
    cg.call(Callee::Direct(callee), p.params.len() as u32)?;
    // A scalar result stays below while h starts from the sink.
    let h = cg.local_slot(t.i64t, "h", 0)?;
    cg.push_local(h)?;
    cg.push_global(t.sink)?;
    cg.load(MemAccess::new(t.i64t))?;
    cg.push_int(t.i64t, C2.into())?;
    cg.int_op(IntBinOp::Xor, IntFlags::NONE)?;
    cg.store(MemAccess::new(t.i64t))?;
    match (p.result, dest) {
        (Some(Arg::Record(r)), Some(d)) => {
            for leaf in &built[r].leaves {
                let ity = int_ty(cg, leaf.scalar.bits())?;
                cg.push_local(d)?;
                cg.addr_offset(leaf.offset as i64, ity)?;
                cg.load(MemAccess::new(ity))?;
                fold(cg, t, h, leaf.scalar.bits(), false)?;
            }
        }
        (Some(a), _) => {
            let ty = scalar_ty(cg, a)?;
            let s = a.scalar().expect("a scalar");
            let ity = int_ty(cg, s.bits())?;
            let tmp = cg.local_slot(ty, "res", 0)?;
            cg.push_local(tmp)?;
            cg.swap()?;
            cg.store(MemAccess::new(ty))?;
            cg.push_local(tmp)?;
            cg.addr_offset(0, ity)?;
            cg.load(MemAccess::new(ity))?;
            fold(cg, t, h, s.bits(), a == Arg::I8s)?;
        }
        (None, _) => {}
    }
    cg.push_local(h)?;
    cg.load(MemAccess::new(t.i64t))?;
    cg.ret()?;
    cg.func_end()
}

/// A C expression folding `e` of scalar `s` (as argument kind `a`).
fn c_fold(e: &str, s: Scalar, sign: bool) -> String {
    match s {
        _ if sign => format!("FOLD((long long)({e}));"),
        Scalar::F32 => format!("FOLD(fb32({e}));"),
        Scalar::F64 => format!("FOLD(fb64({e}));"),
        Scalar::Ptr => format!("FOLD((unsigned long)({e}));"),
        Scalar::I128 => format!("FOLD({e}); FOLD(({e}) >> 64);"),
        Scalar::I32 => format!("FOLD((unsigned)({e}));"),
        Scalar::I16 => format!("FOLD((unsigned short)({e}));"),
        _ => format!("FOLD({e});"),
    }
}

/// A C expression of scalar `s` (with C type `cty`) made from `m`.
fn c_make(s: Scalar, cty: &str) -> String {
    match s {
        Scalar::F32 => "bf32((unsigned)((m & 0x7fffff) | 0x3f800000))".into(),
        Scalar::F64 => "bf64((m & 0xfffffffffffffull) | 0x3ff0000000000000ull)".into(),
        Scalar::Ptr => "(void *)(unsigned long)m".into(),
        Scalar::I128 => "(((unsigned __int128)(m * 3) << 64) | m)".into(),
        _ => format!("({cty})m"),
    }
}

const C_PRELUDE: &str = r#"#include <stdio.h>
typedef unsigned long long u64;
u64 abi_sink;
static float bf32(unsigned u) { float f; __builtin_memcpy(&f, &u, 4); return f; }
static double bf64(u64 u) { double f; __builtin_memcpy(&f, &u, 8); return f; }
static u64 fb32(float f) { unsigned u; __builtin_memcpy(&u, &f, 4); return u; }
static u64 fb64(double f) { u64 u; __builtin_memcpy(&u, &f, 8); return u; }
static u64 mix(u64 h, u64 j) {
  u64 m = h + (j + 1) * 0x9e3779b97f4a7c15ull;
  m ^= m >> 31; m *= 0xbf58476d1ce4e5b9ull; m ^= m >> 29; return m;
}
#define FOLD(x) (h = (h ^ (u64)(x)) * 0x100000001b3ull)
"#;

/// The C half: shapes, `f_k`, `cr_k`, and `main` printing `k ref fc cg fg`.
fn c_source(seed: u64, shapes: &[Record], protos: &[Proto], built: &[Built]) -> String {
    let mut c = String::from(C_PRELUDE);
    for (i, s) in shapes.iter().enumerate() {
        c.push_str(&s.c_decls(&format!("S{i}")));
    }
    let leaves_of = |a: Arg, e: &str| -> Vec<(String, Scalar)> {
        match a {
            Arg::Record(r) => built[r].leaves.iter().map(|l| (format!("{e}{}", l.path), l.scalar)).collect(),
            a => vec![(e.to_string(), a.scalar().expect("a scalar"))],
        }
    };
    for (k, p) in protos.iter().enumerate() {
        // The callee.
        let _ = writeln!(c, "{} {{\n  u64 h = {:#x}ull;", p.c(&format!("f_{k}")), H0 ^ k as u64);
        for (i, a) in p.params.iter().enumerate() {
            for (e, s) in leaves_of(*a, &format!("p{i}")) {
                let _ = writeln!(c, "  {}", c_fold(&e, s, *a == Arg::I8s));
            }
        }
        c.push_str("  abi_sink = h;\n");
        if let Some(r) = p.result {
            let _ = writeln!(c, "  {} r;", r.c());
            let leaves = leaves_of(r, "r");
            for (j, (e, s)) in leaves.iter().enumerate() {
                let cty = if let Arg::Record(_) = r { s.c().to_string() } else { r.c() };
                let _ = writeln!(c, "  {{ u64 m = mix(h, {j}); {e} = {}; }}", c_make(*s, &cty));
            }
            c.push_str("  return r;\n");
        }
        c.push_str("}\n");
        // The reference caller.
        let _ = writeln!(c, "static u64 cr_{k}({}) {{", p.c("(*fn)"));
        let mut args = Vec::new();
        for (i, a) in p.params.iter().enumerate() {
            match a {
                Arg::Record(r) => {
                    let _ = writeln!(c, "  S{r} a{i}; __builtin_memset(&a{i}, 0, sizeof a{i});");
                    for (j, l) in built[*r].leaves.iter().enumerate() {
                        let bits = arg_bits(seed, k, i, j, l.scalar);
                        let _ = writeln!(c, "  a{i}{} = {};", l.path, l.scalar.c_literal(bits));
                    }
                    args.push(format!("a{i}"));
                }
                a => {
                    let s = a.scalar().expect("a scalar");
                    args.push(format!("({}){}", a.c(), s.c_literal(arg_bits(seed, k, i, 0, s))));
                }
            }
        }
        c.push_str("  abi_sink = 0;\n");
        let call = format!("fn({})", args.join(", "));
        match p.result {
            Some(r) => {
                let _ = writeln!(c, "  {} r = {call};", r.c());
            }
            None => {
                let _ = writeln!(c, "  {call};");
            }
        }
        let _ = writeln!(c, "  u64 h = abi_sink ^ {C2:#x}ull;");
        if let Some(r) = p.result {
            for (e, s) in leaves_of(r, "r") {
                let _ = writeln!(c, "  {}", c_fold(&e, s, r == Arg::I8s));
            }
        }
        c.push_str("  return h;\n}\n");
        let _ = writeln!(c, "u64 fc_{k}(void);\nu64 fg_{k}(void);");
    }
    c.push_str("extern void *g_table[];\nint main(void) {\n  setvbuf(stdout, NULL, _IOLBF, 0);\n");
    for k in 0..protos.len() {
        let _ = writeln!(
            c,
            "  {{ u64 a = cr_{k}(f_{k}), b = fc_{k}(), c = cr_{k}(g_table[{k}]), d = fg_{k}(); printf(\"{k} %llx %llx %llx %llx\\n\", a, b, c, d); }}"
        );
    }
    c.push_str("  return 0;\n}\n");
    c
}

struct Generated {
    shapes: Vec<Record>,
    protos: Vec<Proto>,
}

fn generate(seed: u64) -> Generated {
    let mut g = ShapeGen::new(seed, true);
    let shapes = g.shapes(SHAPES);
    let protos = protos(&mut Rng(seed ^ 0x7072_6f74), &shapes, PROTOS);
    Generated { shapes, protos }
}

/// The facade module's object and IR, and the records' leaves.
fn emit(target: LinuxTarget, level: OptLevel, seed: u64, gen: &Generated) -> (Vec<u8>, String, Vec<Built>) {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("abi", &TargetSpec::triple(target.triple())).unwrap();
    let built: Vec<Built> = gen.shapes.iter().map(|s| build(&mut cg, s).unwrap()).collect();
    let i64t = cg.ty_int(IntWidth::I64).unwrap();
    let sink = cg.declare_data("abi_sink", DataDecl::new(i64t)).unwrap();
    let t = Tools { i64t, sink };
    let mut table = DataInit::new();
    for (k, p) in gen.protos.iter().enumerate() {
        let context = |e: Error| format!("{}: {} (prototype {})", target.triple(), e, p.c(&format!("g_{k}")));
        let sig = signature(&mut cg, p, &built).map_err(context).unwrap();
        let f = cg.declare_func(&format!("f_{k}"), FuncDecl::new(sig)).map_err(context).unwrap();
        let g = emit_callee(&mut cg, &t, k, p, &built, sig).map_err(context).unwrap();
        table = table.reloc(g, 0);
        emit_caller(&mut cg, &t, seed, k, p, &built, &format!("fc_{k}"), f).map_err(context).unwrap();
        emit_caller(&mut cg, &t, seed, k, p, &built, &format!("fg_{k}"), g).map_err(context).unwrap();
    }
    let i8t = cg.ty_int(IntWidth::I8).unwrap();
    let ptr = cg.ty_ptr(i8t, 0).unwrap();
    let table_ty = cg.ty_array(ptr, gen.protos.len() as u64).unwrap();
    let table_sym = cg.declare_data("g_table", DataDecl::new(table_ty)).unwrap();
    cg.define_data(table_sym, &table).unwrap();
    let mut m = cfree_llvm_lower::finish(cg).unwrap();
    let ir = m.ir();
    (m.emit_object(level).unwrap(), ir, built)
}

/// The `define`/`declare` lines of `@name` in `ir`.
fn ir_lines<'a>(ir: &'a str, name: &str) -> Vec<&'a str> {
    let needle = format!("@{name}(");
    ir.lines().filter(|l| (l.starts_with("define") || l.starts_with("declare")) && l.contains(&needle)).collect()
}

fn check(target: LinuxTarget, level: OptLevel) {
    let seed = seed();
    let gen = generate(seed);
    let start = std::time::Instant::now();
    let (object, ir, built) = emit(target, level, seed, &gen);
    let c = c_source(seed, &gen.shapes, &gen.protos, &built);
    let dir = scratch_dir(&format!("abi-{}", target.triple())).unwrap();
    let exe = match link_with(target, &object, &c, &dir) {
        Ok(exe) => exe,
        Err(e) if e.contains("cannot run") => {
            eprintln!("SKIPPED abi_interop {}: {e}", target.triple());
            return;
        }
        Err(e) => panic!("{e}\n(C source kept in {})", dir.display()),
    };
    let out = match target.command(&exe).output() {
        Ok(out) => out,
        Err(e) => {
            eprintln!("SKIPPED abi_interop {}: cannot run the executable ({e}); run ci/bootstrap", target.triple());
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        // Lines are flushed one by one: the next prototype is the one that crashed.
        let k = stdout.lines().count();
        let p = &gen.protos[k.min(gen.protos.len() - 1)];
        let mut about = format!("prototype {k}: {}\n", p.c(&format!("f_{k}")));
        for r in p.records() {
            let _ = write!(about, "  S{r} = {}\n{}", gen.shapes[r].describe(), gen.shapes[r].c_decls(&format!("S{r}")));
        }
        for l in ir_lines(&ir, &format!("g_{k}")).into_iter().chain(ir_lines(&ir, &format!("f_{k}"))) {
            let _ = writeln!(about, "  facade: {l}");
        }
        panic!(
            "{} {level:?} seed {seed:#x}: the executable failed ({}) in {about}stderr: {}\n(files in {})",
            target.triple(),
            out.status,
            String::from_utf8_lossy(&out.stderr),
            dir.display()
        );
    }
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), gen.protos.len(), "one line per prototype:\n{stdout}");
    let mut failures = String::new();
    let mut refs = std::collections::HashSet::new();
    for (k, line) in lines.iter().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f.len(), 5, "bad line {line:?}");
        assert_eq!(f[0], k.to_string(), "lines in order");
        refs.insert(f[1].to_string());
        let names = ["gcc->gcc", "facade->gcc", "gcc->facade", "facade->facade"];
        let bad: Vec<String> = (2..5).filter(|i| f[*i] != f[1]).map(|i| format!("{} {}", names[i - 1], f[i])).collect();
        if bad.is_empty() {
            continue;
        }
        let p = &gen.protos[k];
        let _ = writeln!(
            failures,
            "--- prototype {k}: {};   gcc->gcc {}, differing: {}",
            p.c(&format!("f_{k}")),
            f[1],
            bad.join(", ")
        );
        for r in p.records() {
            let _ = write!(
                failures,
                "  S{r} = {} (size {})\n{}",
                gen.shapes[r].describe(),
                built[r].size,
                gen.shapes[r].c_decls(&format!("S{r}"))
            );
        }
        for l in ir_lines(&ir, &format!("g_{k}")).into_iter().chain(ir_lines(&ir, &format!("f_{k}"))) {
            let _ = writeln!(failures, "  facade: {l}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let calls = 3 * gen.protos.len();
    println!(
        "abi_interop {} {level:?}: seed {seed:#x}, {} shapes, {} prototypes, {calls} cross-ABI calls checked in {:.1?}",
        target.triple(),
        gen.shapes.len(),
        gen.protos.len(),
        start.elapsed()
    );
    assert!(failures.is_empty(), "{} {level:?} seed {seed:#x}: mismatches\n{failures}", target.triple());
    // The checksums depend on the prototype: a constant answer would prove nothing.
    assert!(refs.len() > gen.protos.len() * 9 / 10, "checksums barely vary: {} distinct", refs.len());
}

#[test]
fn x86_64_o0() {
    check(LinuxTarget::X86_64, OptLevel::O0);
}

#[test]
fn x86_64_o2() {
    check(LinuxTarget::X86_64, OptLevel::O2);
}

#[test]
fn aarch64_o0() {
    check(LinuxTarget::Aarch64, OptLevel::O0);
}

#[test]
fn aarch64_o2() {
    check(LinuxTarget::Aarch64, OptLevel::O2);
}

#[test]
fn riscv64_o0() {
    check(LinuxTarget::Riscv64, OptLevel::O0);
}

#[test]
fn riscv64_o2() {
    check(LinuxTarget::Riscv64, OptLevel::O2);
}

/// An exported definition whose signature holds a record: `Cg::finish` builds
/// the JIT's export list with scalar types only and panics ("signatures are
/// validated to hold scalars only"). Fails until the facade is fixed.
#[test]
fn finish_accepts_exported_functions_with_records() {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("export", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    let i32t = cg.ty_int(IntWidth::I32).unwrap();
    let rec = cg.ty_record(&[i32t, i32t]).unwrap();
    let sig = cg.ty_func(FuncSig::new(&[rec], Some(rec))).unwrap();
    let f = cg.declare_func("id", FuncDecl::new(sig)).unwrap();
    cg.func_begin(f).unwrap();
    let p = cg.param_slot(0, "p").unwrap();
    cg.push_local(p).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    let m = cfree_llvm_lower::finish(cg).unwrap();
    assert!(m.ir().contains("define i64 @id(i64"), "{}", m.ir());
}
