//! Variadic functions executed on x86_64, aarch64 and riscv64 (qemu-user) at
//! O0 and O2, with gcc's `<stdarg.h>` as the oracle:
//!
//! - facade-defined variadic functions read generated argument lists (ints,
//!   doubles, pointers, i128, records in registers and in memory, HFAs, odd
//!   sizes; long enough to spill from registers to the stack) with `va_arg`,
//!   called from gcc-compiled C, and must agree with a gcc-compiled reference
//!   that reads the same list with `va_arg`;
//! - facade callers pass the same lists to the gcc reference (variadic
//!   records and floats at call sites);
//! - `va_copy` reads a list twice, and `va_list_arg` hands a list to glibc's
//!   `vsnprintf`.

use cfree_facade::*;
use cfree_llvm_lower::{LlvmBackend, LlvmContext, OptLevel};
use cfree_tests::aot::{link_with, scratch_dir, LinuxTarget};

type G<'a> = Cg<LlvmBackend<'a>>;

/// A scalar field or argument kind.
#[derive(Clone, Copy, Debug, PartialEq)]
enum K {
    I32,
    I64,
    F64,
    F32,
    I8,
    Ptr,
    I128,
}

impl K {
    fn c(self) -> &'static str {
        match self {
            K::I32 => "int",
            K::I64 => "long long",
            K::F64 => "double",
            K::F32 => "float",
            K::I8 => "signed char",
            K::Ptr => "char *",
            K::I128 => "__int128",
        }
    }
}

/// A variadic argument: a promoted scalar or a record of scalar fields.
#[derive(Clone, Debug)]
enum Arg {
    Scalar(K),
    Record(&'static str, Vec<K>),
}

fn records() -> Vec<Arg> {
    vec![
        Arg::Record("S16", vec![K::I64, K::F64]),
        Arg::Record("Big", vec![K::I64; 5]),
        Arg::Record("F3", vec![K::F32; 3]),
        Arg::Record("C3", vec![K::I8; 3]),
        Arg::Record("D2", vec![K::F64, K::F64]),
        Arg::Record("IF", vec![K::I32, K::F32]),
        Arg::Record("Q", vec![K::I128]),
    ]
}

fn pool() -> Vec<Arg> {
    let mut p =
        vec![Arg::Scalar(K::I32), Arg::Scalar(K::I64), Arg::Scalar(K::F64), Arg::Scalar(K::Ptr), Arg::Scalar(K::I128)];
    p.extend(records());
    p
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Generated argument lists: a few fixed shapes, then random ones up to 14 long.
fn cases(seed: u64) -> Vec<Vec<Arg>> {
    let pool = pool();
    let mut out: Vec<Vec<Arg>> = pool.iter().map(|a| vec![a.clone()]).collect();
    out.push(vec![Arg::Scalar(K::F64); 10]);
    out.push(vec![Arg::Scalar(K::I64); 10]);
    out.push(records());
    let mut rng = Rng(seed);
    for _ in 0..30 {
        let n = 1 + rng.next() % 14;
        out.push((0..n).map(|_| pool[(rng.next() % pool.len() as u64) as usize].clone()).collect());
    }
    out
}

/// A C literal of kind `k` for argument `i` of case `c`.
fn literal(k: K, c: usize, i: usize, f: usize) -> String {
    let x = (c * 131 + i * 17 + f * 7) as i64;
    match k {
        K::I32 => format!("{}", -x * 1_000_003 % 2_000_000_000),
        K::I64 => format!("{}LL", x * 0x1_0000_0001 - 99),
        K::F64 => format!("{}.25", x - 50),
        K::F32 => format!("{}.5f", x % 1000),
        K::I8 => format!("{}", (x % 200) - 100),
        K::Ptr => format!("(char *)0 + {}", x * 8),
        K::I128 => format!("(((__int128){}LL) << 64 | {}ULL)", x - 7, x * 3 + 1),
    }
}

fn c_arg(a: &Arg, c: usize, i: usize) -> String {
    match a {
        Arg::Scalar(k) => literal(*k, c, i, 0),
        Arg::Record(name, fields) => {
            let f: Vec<String> = fields.iter().enumerate().map(|(j, k)| literal(*k, c, i, j + 1)).collect();
            format!("({name}){{{}}}", f.join(", "))
        }
    }
}

/// C: the fold of one value into `h`.
fn c_fold(k: K, v: &str) -> String {
    match k {
        K::F64 => format!("{{ double d_ = {v}; long long b_; memcpy(&b_, &d_, 8); h = fold(h, b_); }}"),
        K::F32 => format!("{{ float d_ = {v}; int b_; memcpy(&b_, &d_, 4); h = fold(h, b_); }}"),
        K::Ptr => format!("h = fold(h, (long long)(long)({v}));"),
        K::I128 => format!("{{ __int128 q_ = {v}; h = fold(h, (long long)q_); h = fold(h, (long long)(q_ >> 64)); }}"),
        _ => format!("h = fold(h, (long long)({v}));"),
    }
}

/// Declarations, gcc's reference readers `ref_n` and the facade's names.
fn c_readers(cases: &[Vec<Arg>]) -> String {
    let mut c = String::from(
        "#include <stdarg.h>\n#include <stdio.h>\n#include <string.h>\n\
         static long long fold(long long h, long long v) { return (long long)((unsigned long long)h * 1000003ULL) ^ v; }\n",
    );
    for a in records() {
        if let Arg::Record(name, fields) = a {
            let f: Vec<String> = fields.iter().enumerate().map(|(j, k)| format!("{} f{j};", k.c())).collect();
            c.push_str(&format!("typedef struct {{ {} }} {name};\n", f.join(" ")));
        }
    }
    for (n, case) in cases.iter().enumerate() {
        c.push_str(&format!(
            "long long ref_{n}(int tag, ...) {{\n  va_list ap; va_start(ap, tag); long long h = tag;\n"
        ));
        for a in case {
            match a {
                Arg::Scalar(k) => c.push_str(&format!("  {}\n", c_fold(*k, &format!("va_arg(ap, {})", k.c())))),
                Arg::Record(name, fields) => {
                    c.push_str(&format!("  {{ {name} r_ = va_arg(ap, {name});\n"));
                    for (j, k) in fields.iter().enumerate() {
                        c.push_str(&format!("    {}\n", c_fold(*k, &format!("r_.f{j}"))));
                    }
                    c.push_str("  }\n");
                }
            }
        }
        c.push_str("  va_end(ap); return h;\n}\n");
        c.push_str(&format!("long long fac_{n}(int tag, ...);\nlong long call_{n}(void);\n"));
    }
    c
}

/// The hosted driver: prints each case's three sums, then `twice` and `fmt`.
fn c_source(cases: &[Vec<Arg>]) -> String {
    let mut c = c_readers(cases);
    c.push_str(
        "long long twice(int n, ...);\nint fmt(char *buf, const char *f, ...);\n\
         int main(void) {\n",
    );
    for (n, case) in cases.iter().enumerate() {
        let args: Vec<String> = case.iter().enumerate().map(|(i, a)| c_arg(a, n, i)).collect();
        let args = args.join(", ");
        c.push_str(&format!(
            "  printf(\"{n} %lld %lld %lld\\n\", ref_{n}({n}, {args}), fac_{n}({n}, {args}), call_{n}());\n"
        ));
    }
    c.push_str(
        "  printf(\"twice %lld\\n\", twice(4, 10LL, 20LL, 30LL, 40LL));\n\
         \x20 char buf[64]; fmt(buf, \"%d-%s-%.2f\", 42, \"x\", 2.5); printf(\"fmt %s\\n\", buf);\n\
         \x20 return 0;\n}\n",
    );
    c
}

struct Ctx {
    i64t: TypeId,
    kinds: Vec<(K, TypeId)>,
    records: Vec<(&'static str, TypeId)>,
}

impl Ctx {
    fn ty(&self, k: K) -> TypeId {
        self.kinds.iter().find(|(x, _)| *x == k).expect("every kind has a type").1
    }

    fn rec(&self, name: &str) -> TypeId {
        self.records.iter().find(|(x, _)| *x == name).expect("every record has a type").1
    }
}

/// Folds the scalar on top of the stack (of kind `k`) into local `h`.
fn fold(cg: &mut G<'_>, x: &Ctx, h: Local, k: K) {
    let i64t = x.i64t;
    match k {
        K::F64 => cg.cast(CastOp::Bitcast, i64t).unwrap(),
        K::F32 => {
            cg.cast(CastOp::Bitcast, x.ty(K::I32)).unwrap();
            cg.cast(CastOp::SExt, i64t).unwrap();
        }
        K::Ptr => cg.cast(CastOp::PtrToInt, i64t).unwrap(),
        K::I32 | K::I8 => cg.cast(CastOp::SExt, i64t).unwrap(),
        K::I64 => {}
        K::I128 => {
            let q = cg.local_slot(x.ty(K::I128), "q", 0).unwrap();
            cg.push_local(q).unwrap();
            cg.swap().unwrap();
            cg.store(MemAccess::new(x.ty(K::I128))).unwrap();
            cg.push_local(q).unwrap();
            cg.load(MemAccess::new(x.ty(K::I128))).unwrap();
            cg.cast(CastOp::Trunc, i64t).unwrap();
            fold(cg, x, h, K::I64);
            cg.push_local(q).unwrap();
            cg.load(MemAccess::new(x.ty(K::I128))).unwrap();
            cg.push_int(x.ty(K::I128), 64).unwrap();
            cg.int_op(IntBinOp::AShr, IntFlags::NONE).unwrap();
            cg.cast(CastOp::Trunc, i64t).unwrap();
            return fold(cg, x, h, K::I64);
        }
    }
    // h = (h * 1000003) ^ v
    let v = cg.local_slot(i64t, "v", 0).unwrap();
    cg.push_local(v).unwrap();
    cg.swap().unwrap();
    cg.store(MemAccess::new(i64t)).unwrap();
    cg.push_local(h).unwrap();
    cg.push_local(h).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.push_int(i64t, 1_000_003).unwrap();
    cg.int_op(IntBinOp::Mul, IntFlags::NONE).unwrap();
    cg.push_local(v).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.int_op(IntBinOp::Xor, IntFlags::NONE).unwrap();
    cg.store(MemAccess::new(i64t)).unwrap();
}

/// Reads `case` from the `va_list` in local `ap` and folds it into `h`.
fn read_case(cg: &mut G<'_>, x: &Ctx, ap: Local, h: Local, case: &[Arg]) {
    for a in case {
        match a {
            Arg::Scalar(k) => {
                cg.push_local(ap).unwrap();
                cg.va_arg(x.ty(*k)).unwrap();
                fold(cg, x, h, *k);
            }
            Arg::Record(name, fields) => {
                let rt = x.rec(name);
                let r = cg.local_slot(rt, "r", 0).unwrap();
                cg.push_local(r).unwrap();
                cg.push_local(ap).unwrap();
                cg.va_arg(rt).unwrap();
                for (j, k) in fields.iter().enumerate() {
                    let off = cg.field_offset(rt, j).unwrap();
                    cg.push_local(r).unwrap();
                    cg.addr_offset(off as i64, x.ty(*k)).unwrap();
                    cg.load(MemAccess::new(x.ty(*k))).unwrap();
                    fold(cg, x, h, *k);
                }
            }
        }
    }
}

fn begin_fold(cg: &mut G<'_>, x: &Ctx, sym: Sym) -> (Local, Local) {
    cg.func_begin(sym).unwrap();
    let tag = cg.param_slot(0, "tag").unwrap();
    let h = cg.local_slot(x.i64t, "h", 0).unwrap();
    cg.push_local(h).unwrap();
    cg.push_local(tag).unwrap();
    cg.load(MemAccess::new(x.ty(K::I32))).unwrap();
    cg.cast(CastOp::SExt, x.i64t).unwrap();
    cg.store(MemAccess::new(x.i64t)).unwrap();
    (tag, h)
}

/// Pushes the value of argument `i` of case `c` (a scalar, or a place of a filled record).
fn push_arg(cg: &mut G<'_>, x: &Ctx, a: &Arg, c: usize, i: usize) {
    let value = |cg: &mut G<'_>, k: K, f: usize| {
        let v = (c * 131 + i * 17 + f * 7) as i64;
        match k {
            K::I32 => cg.push_int(x.ty(k), i128::from(-v * 1_000_003 % 2_000_000_000)).unwrap(),
            K::I64 => cg.push_int(x.ty(k), i128::from(v * 0x1_0000_0001 - 99)).unwrap(),
            K::F64 => cg.push_f64(v as f64 - 50.0 + 0.25).unwrap(),
            K::F32 => cg.push_f32((v % 1000) as f32 + 0.5).unwrap(),
            K::I8 => cg.push_int(x.ty(k), i128::from((v % 200) - 100)).unwrap(),
            K::Ptr => {
                cg.push_int(x.i64t, i128::from(v * 8)).unwrap();
                cg.cast(CastOp::IntToPtr, x.ty(K::Ptr)).unwrap();
            }
            K::I128 => cg.push_int(x.ty(k), (i128::from(v - 7) << 64) | i128::from(v * 3 + 1)).unwrap(),
        }
    };
    match a {
        Arg::Scalar(k) => value(cg, *k, 0),
        Arg::Record(name, fields) => {
            let rt = x.rec(name);
            let r = cg.local_slot(rt, "a", 0).unwrap();
            for (j, k) in fields.iter().enumerate() {
                let off = cg.field_offset(rt, j).unwrap();
                cg.push_local(r).unwrap();
                cg.addr_offset(off as i64, x.ty(*k)).unwrap();
                value(cg, *k, j + 1);
                cg.store(MemAccess::new(x.ty(*k))).unwrap();
            }
            cg.push_local(r).unwrap();
        }
    }
}

/// The facade's side: `fac_n` reading each list, `call_n` passing it to gcc's
/// (or clang's) `ref_n`, and where a C library exists `twice` and `fmt`.
fn module_object(triple: &str, cases: &[Vec<Arg>], level: OptLevel, hosted: bool) -> Vec<u8> {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("varargs", &TargetSpec::triple(triple)).unwrap();
    let mut kinds = Vec::new();
    for (k, w) in [(K::I32, IntWidth::I32), (K::I64, IntWidth::I64), (K::I8, IntWidth::I8), (K::I128, IntWidth::I128)] {
        kinds.push((k, cg.ty_int(w).unwrap()));
    }
    kinds.push((K::F64, cg.ty_float(FloatWidth::F64).unwrap()));
    kinds.push((K::F32, cg.ty_float(FloatWidth::F32).unwrap()));
    let i8t = cg.ty_int(IntWidth::I8).unwrap();
    kinds.push((K::Ptr, cg.ty_ptr(i8t, 0).unwrap()));
    let i64t = kinds[1].1;
    let mut x = Ctx { i64t, kinds, records: Vec::new() };
    for a in records() {
        if let Arg::Record(name, fields) = a {
            let tys: Vec<TypeId> = fields.iter().map(|k| x.ty(*k)).collect();
            x.records.push((name, cg.ty_record(&tys).unwrap()));
        }
    }
    let i32t = x.ty(K::I32);
    let vsig = cg.ty_func(FuncSig::new(&[i32t], Some(i64t)).variadic()).unwrap();
    let list = cg.ty_va_list().unwrap();
    for (n, case) in cases.iter().enumerate() {
        let fac = cg.declare_func(&format!("fac_{n}"), FuncDecl::new(vsig)).unwrap();
        let (_, h) = begin_fold(&mut cg, &x, fac);
        let ap = cg.local_slot(list, "ap", 0).unwrap();
        cg.push_local(ap).unwrap();
        cg.va_start().unwrap();
        read_case(&mut cg, &x, ap, h, case);
        cg.push_local(ap).unwrap();
        cg.va_end().unwrap();
        cg.push_local(h).unwrap();
        cg.load(MemAccess::new(i64t)).unwrap();
        cg.ret().unwrap();
        cg.func_end().unwrap();
        // call_n(): passes the same list to gcc's ref_n.
        let reference = cg.declare_func(&format!("ref_{n}"), FuncDecl::new(vsig)).unwrap();
        let csig = cg.ty_func(FuncSig::new(&[], Some(i64t))).unwrap();
        let call = cg.declare_func(&format!("call_{n}"), FuncDecl::new(csig)).unwrap();
        cg.func_begin(call).unwrap();
        cg.push_int(i32t, n as i128).unwrap();
        for (i, a) in case.iter().enumerate() {
            push_arg(&mut cg, &x, a, n, i);
        }
        cg.call(Callee::Direct(reference), 1 + case.len() as u32).unwrap();
        cg.ret().unwrap();
        cg.func_end().unwrap();
    }
    if !hosted {
        return cfree_llvm_lower::finish(cg).unwrap().emit_object(level).unwrap();
    }
    // twice(n, ...): sums n i64s, va_copy'd, twice over.
    let twice = cg.declare_func("twice", FuncDecl::new(vsig)).unwrap();
    let (tag, h) = begin_fold(&mut cg, &x, twice);
    let (ap, aq) = (cg.local_slot(list, "ap", 0).unwrap(), cg.local_slot(list, "aq", 0).unwrap());
    cg.push_local(ap).unwrap();
    cg.va_start().unwrap();
    cg.push_local(aq).unwrap();
    cg.push_local(ap).unwrap();
    cg.va_copy().unwrap();
    cg.push_local(h).unwrap();
    cg.push_int(i64t, 0).unwrap();
    cg.store(MemAccess::new(i64t)).unwrap();
    for list_local in [ap, aq] {
        let i = cg.local_slot(i64t, "i", 0).unwrap();
        let n = cg.local_slot(i64t, "n", 0).unwrap();
        cg.push_local(n).unwrap();
        cg.push_local(tag).unwrap();
        cg.load(MemAccess::new(i32t)).unwrap();
        cg.cast(CastOp::SExt, i64t).unwrap();
        cg.store(MemAccess::new(i64t)).unwrap();
        cfree_tests::emit::counted_loop(&mut cg, i, n, |cg| {
            cg.push_local(h)?;
            cg.push_local(h)?;
            cg.load(MemAccess::new(i64t))?;
            cg.push_local(list_local)?;
            cg.va_arg(i64t)?;
            cg.int_op(IntBinOp::Add, IntFlags::NONE)?;
            cg.store(MemAccess::new(i64t))
        })
        .unwrap();
        cg.push_local(list_local).unwrap();
        cg.va_end().unwrap();
    }
    cg.push_local(h).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    // fmt(buf, f, ...): vsnprintf(buf, 64, f, ap).
    let ptr = x.ty(K::Ptr);
    let param = cg.ty_va_list_param().unwrap();
    let vsn = cg.ty_func(FuncSig::new(&[ptr, i64t, ptr, param], Some(i32t))).unwrap();
    let vsnprintf = cg.declare_func("vsnprintf", FuncDecl::new(vsn)).unwrap();
    let fsig = cg.ty_func(FuncSig::new(&[ptr, ptr], Some(i32t)).variadic()).unwrap();
    let fmt = cg.declare_func("fmt", FuncDecl::new(fsig)).unwrap();
    cg.func_begin(fmt).unwrap();
    let (buf, f) = (cg.param_slot(0, "buf").unwrap(), cg.param_slot(1, "f").unwrap());
    let ap = cg.local_slot(list, "ap", 0).unwrap();
    cg.push_local(ap).unwrap();
    cg.va_start().unwrap();
    cg.push_local(buf).unwrap();
    cg.load(MemAccess::new(ptr)).unwrap();
    cg.push_int(i64t, 64).unwrap();
    cg.push_local(f).unwrap();
    cg.load(MemAccess::new(ptr)).unwrap();
    cg.push_local(ap).unwrap();
    cg.va_list_arg().unwrap();
    cg.call(Callee::Direct(vsnprintf), 4).unwrap();
    cg.push_local(ap).unwrap();
    cg.va_end().unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    let mut m = cfree_llvm_lower::finish(cg).unwrap();
    m.emit_object(level).unwrap()
}

fn run(target: LinuxTarget) {
    let seed = 0x5eed_0000_0000_0001 ^ target.triple().len() as u64;
    let cases = cases(seed);
    let source = c_source(&cases);
    for level in [OptLevel::O0, OptLevel::O2] {
        let object = module_object(target.triple(), &cases, level, true);
        let dir = scratch_dir("varargs").unwrap();
        let exe = link_with(target, &object, &source, &dir).unwrap();
        let out = target.command(&exe).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{} at {level:?}: {}\n{text}", target.triple(), out.status);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), cases.len() + 2, "{text}");
        for (n, line) in lines[..cases.len()].iter().enumerate() {
            let f: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(f[0], n.to_string());
            assert_eq!(f[1], f[2], "va_arg of {:?} on {} at {level:?} (seed {seed:#x})", cases[n], target.triple());
            assert_eq!(
                f[1],
                f[3],
                "variadic call of {:?} on {} at {level:?} (seed {seed:#x})",
                cases[n],
                target.triple()
            );
        }
        assert_eq!(lines[cases.len()], "twice 200");
        assert_eq!(lines[cases.len() + 1], "fmt 42-x-2.50");
        let _ = std::fs::remove_dir_all(&dir);
    }
    eprintln!("{}: {} variadic lists read and passed at O0 and O2", target.triple(), cases.len());
}

#[test]
fn varargs_on_x86_64() {
    run(LinuxTarget::X86_64);
}

#[test]
fn varargs_on_aarch64() {
    run(LinuxTarget::Aarch64);
}

#[test]
fn varargs_on_riscv64() {
    run(LinuxTarget::Riscv64);
}

/// wasm32, executed: the facade's object and clang's compiled C (`ref_n`
/// reading each list with clang's `va_arg`; `cc_n` calling it, `cf_n`
/// calling the facade's `fac_n`) linked with `wasm-ld` and run in wasmi:
/// C→C, C→facade and facade→C must agree for every list.
#[test]
fn varargs_on_wasm32() {
    let triple = "wasm32-unknown-unknown";
    // Without 16-aligned values: clang 19's own wasm32 caller and `va_arg`
    // disagree on them (a C-to-C call of such a list traps in wasmi).
    let aligned16 = |a: &Arg| matches!(a, Arg::Scalar(K::I128)) || matches!(a, Arg::Record("Q", _));
    let cases: Vec<Vec<Arg>> = cases(0x5eed_0000_0000_0032).into_iter().filter(|c| !c.iter().any(aligned16)).collect();
    let mut c = c_readers(&cases)
        .replace("#include <stdio.h>\n", "")
        .replace("#include <string.h>\n", "")
        .replace("memcpy(", "__builtin_memcpy(");
    for (n, case) in cases.iter().enumerate() {
        let args: Vec<String> = case.iter().enumerate().map(|(i, a)| c_arg(a, n, i)).collect();
        let args = args.join(", ");
        c.push_str(&format!(
            "long long cc_{n}(void) {{ return ref_{n}({n}, {args}); }}\nlong long cf_{n}(void) {{ return fac_{n}({n}, {args}); }}\n"
        ));
    }
    let dir = scratch_dir("varargs-wasm").unwrap();
    let c_path = dir.join("ref.c");
    std::fs::write(&c_path, &c).unwrap();
    let c_obj = dir.join("ref.o");
    let out = std::process::Command::new("clang-19")
        .args(["--target=wasm32-unknown-unknown", "-O1", "-c", "-ffreestanding", "-nostdlib", "-w", "-o"])
        .arg(&c_obj)
        .arg(&c_path)
        .output()
        .expect("clang-19 (run ci/bootstrap)");
    assert!(out.status.success(), "clang-19 for wasm32: {}", String::from_utf8_lossy(&out.stderr));
    for level in [OptLevel::O0, OptLevel::O2] {
        let ours = module_object(triple, &cases, level, false);
        std::fs::write(dir.join("facade.o"), &ours).unwrap();
        let wasm = dir.join("linked.wasm");
        let out = std::process::Command::new("wasm-ld-19")
            .args(["--no-entry", "--export-all", "-o"])
            .arg(&wasm)
            .arg(dir.join("facade.o"))
            .arg(&c_obj)
            .arg(cfree_tests::wasm::BUILTINS)
            .output()
            .expect("wasm-ld-19 (run ci/bootstrap)");
        assert!(out.status.success(), "wasm-ld: {}", String::from_utf8_lossy(&out.stderr));
        let bytes = std::fs::read(&wasm).unwrap();
        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, &bytes[..]).unwrap();
        let mut store = wasmi::Store::new(&engine, ());
        let instance =
            wasmi::Linker::<()>::new(&engine).instantiate(&mut store, &module).unwrap().start(&mut store).unwrap();
        for (n, case) in cases.iter().enumerate() {
            let mut call = |name: String| {
                let f = instance.get_typed_func::<(), i64>(&store, &name).unwrap_or_else(|e| panic!("{name}: {e}"));
                f.call(&mut store, ()).unwrap_or_else(|e| panic!("{name} trapped: {e}"))
            };
            let (cc, cf, fc) = (call(format!("cc_{n}")), call(format!("cf_{n}")), call(format!("call_{n}")));
            assert_eq!(cc, cf, "va_arg of {case:?} on wasm32 at {level:?}");
            assert_eq!(cc, fc, "variadic call of {case:?} on wasm32 at {level:?}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("wasm32: {} variadic lists read and passed at O0 and O2 (clang's C, wasmi)", cases.len());
}
