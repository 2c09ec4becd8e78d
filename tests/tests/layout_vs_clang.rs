//! Layout queries (size, alignment, record field offsets) checked against
//! clang: for each target, the facade's answers for many generated records
//! become `_Static_assert`s that `clang-19 --target=<triple> -fsyntax-only`
//! must accept. Field types cover every scalar, arrays and nested records.

use std::io::Write;
use std::process::{Command, Stdio};

use cfree_facade::*;
use cfree_llvm_lower::{LlvmBackend, LlvmContext};

const TARGETS: [&str; 5] = [
    "x86_64-unknown-linux-gnu",
    "i686-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "riscv64-unknown-linux-gnu",
    "wasm32-unknown-unknown",
];

struct Gen(u64);

impl Gen {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A type in both worlds: the facade id and the C spelling (declarations go to `decls`).
fn gen_type(cg: &mut Cg<LlvmBackend<'_>>, g: &mut Gen, depth: u32, decls: &mut String) -> (TypeId, String) {
    let int128 = cg.target().supports_int_width(128);
    loop {
        let pick = g.next(if depth < 2 { 10 } else { 8 });
        return match pick {
            0 => (cg.ty_int(IntWidth::I8).unwrap(), "signed char".into()),
            1 => (cg.ty_int(IntWidth::I16).unwrap(), "short".into()),
            2 => (cg.ty_int(IntWidth::I32).unwrap(), "int".into()),
            3 => (cg.ty_int(IntWidth::I64).unwrap(), "long long".into()),
            4 if int128 => (cg.ty_int(IntWidth::I128).unwrap(), "__int128".into()),
            4 => continue,
            5 => (cg.ty_float(FloatWidth::F32).unwrap(), "float".into()),
            6 => (cg.ty_float(FloatWidth::F64).unwrap(), "double".into()),
            7 => {
                let i8t = cg.ty_int(IntWidth::I8).unwrap();
                (cg.ty_ptr(i8t, 0).unwrap(), "void *".into())
            }
            8 => {
                let (elem, c) = gen_type(cg, g, depth + 1, decls);
                let n = 1 + g.next(5);
                let name = format!("arr{}", decls.len());
                decls.push_str(&format!("typedef {c} {name}[{n}];\n"));
                (cg.ty_array(elem, n).unwrap(), name)
            }
            _ => gen_record(cg, g, depth + 1, decls),
        };
    }
}

fn gen_record(cg: &mut Cg<LlvmBackend<'_>>, g: &mut Gen, depth: u32, decls: &mut String) -> (TypeId, String) {
    let n = 1 + g.next(6) as usize;
    let fields: Vec<(TypeId, String)> = (0..n).map(|_| gen_type(cg, g, depth, decls)).collect();
    let name = format!("struct s{}", decls.len());
    let body: String = fields.iter().enumerate().map(|(i, (_, c))| format!(" {c} f{i};")).collect();
    decls.push_str(&format!("{name} {{{body} }};\n"));
    let ids: Vec<TypeId> = fields.iter().map(|f| f.0).collect();
    (cg.ty_record(&ids).unwrap(), name)
}

fn check_target(triple: &str) {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("layout", &TargetSpec::triple(triple)).unwrap();
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let mut src = String::new();
    let mut asserts = String::new();
    for _ in 0..60 {
        let (rec, c) = gen_record(&mut cg, &mut g, 0, &mut src);
        let l = cg.layout(rec).unwrap();
        asserts.push_str(&format!("_Static_assert(sizeof({c}) == {}, \"size {c}\");\n", l.size));
        asserts.push_str(&format!("_Static_assert(_Alignof({c}) == {}, \"align {c}\");\n", l.align));
        let TypeKind::Record { fields, .. } = cg.types().kind(rec).clone() else { unreachable!() };
        for i in 0..fields.len() {
            let off = cg.field_offset(rec, i).unwrap();
            asserts.push_str(&format!("_Static_assert(__builtin_offsetof({c}, f{i}) == {off}, \"{c}.f{i}\");\n"));
        }
    }
    let ptr = &cg.target().pointer;
    asserts.push_str(&format!("_Static_assert(sizeof(void *) == {}, \"ptr\");\n", ptr.size));
    src.push_str(&asserts);
    let mut child = Command::new("clang-19")
        .args(["-fsyntax-only", "-x", "c", "-std=c11", "-", &format!("--target={triple}")])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("clang-19 runs (installed by ci/bootstrap)");
    child.stdin.take().unwrap().write_all(src.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{triple}: clang disagrees:\n{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn record_layout_matches_clang_on_every_target() {
    for t in TARGETS {
        check_target(t);
    }
}
