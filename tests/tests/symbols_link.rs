//! Symbols and data, linked and run: constructor and destructor priorities,
//! COMDAT folding across two facade objects, weak definitions overridden by a
//! gcc-compiled one, extern_weak resolving to null, thread-locals per thread
//! (four models, four pthreads), aliases, symbol addresses in data as
//! pointers into other address spaces, loadable partitions split by lld, mergeable strings, retention under
//! `--gc-sections`, `DataDecl.align` at run time; on x86_64 natively and on
//! aarch64 and riscv64 under qemu-user. Object-level facts (section flags,
//! alignment, visibility) are read with the `object` crate; hidden visibility
//! is also executed through a gcc-built shared object (x86_64).

use std::path::{Path, PathBuf};
use std::process::Command;

use cfree_facade::*;
use cfree_llvm_lower::{LlvmBackend, LlvmContext, OptLevel};
use cfree_tests::aot::{scratch_dir, LinuxTarget};
use object::{Object, ObjectSection, ObjectSymbol};

type C<'a> = Cg<LlvmBackend<'a>>;

/// Emits one object for `triple` from `build`.
fn object(triple: &str, build: impl FnOnce(&mut C<'_>)) -> Vec<u8> {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("m", &TargetSpec::triple(triple)).unwrap();
    build(&mut cg);
    let mut module = cfree_llvm_lower::finish(cg).unwrap();
    module.emit_object(OptLevel::O1).unwrap()
}

fn i64t(cg: &mut C<'_>) -> TypeId {
    cg.ty_int(IntWidth::I64).unwrap()
}

fn sig0(cg: &mut C<'_>, result: bool) -> TypeId {
    let r = result.then(|| i64t(cg));
    cg.ty_func(FuncSig::new(&[], r)).unwrap()
}

/// `name() -> i64 { return value }`.
fn const_fn(cg: &mut C<'_>, name: &str, decl: impl FnOnce(FuncDecl) -> FuncDecl, value: i64) -> Sym {
    let i64t = i64t(cg);
    let sig = sig0(cg, true);
    let f = cg.declare_func(name, decl(FuncDecl::new(sig))).unwrap();
    cg.func_begin(f).unwrap();
    cg.push_int(i64t, value.into()).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
    f
}

/// `name() -> i64 { return (i64)&sym }`.
fn addr_fn(cg: &mut C<'_>, name: &str, sym: Sym) {
    let i64t = i64t(cg);
    let sig = sig0(cg, true);
    let f = cg.declare_func(name, FuncDecl::new(sig)).unwrap();
    cg.func_begin(f).unwrap();
    cg.push_sym_addr(sym).unwrap();
    cg.cast(CastOp::PtrToInt, i64t).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
}

/// `name() -> i64 { return callee() }`.
fn call_fn(cg: &mut C<'_>, name: &str, callee: Sym) {
    let sig = sig0(cg, true);
    let f = cg.declare_func(name, FuncDecl::new(sig)).unwrap();
    cg.func_begin(f).unwrap();
    cg.call(Callee::Direct(callee), 0).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
}

/// `name() -> i64 { return data }`.
fn read_fn(cg: &mut C<'_>, name: &str, data: Sym) {
    let i64t = i64t(cg);
    let sig = sig0(cg, true);
    let f = cg.declare_func(name, FuncDecl::new(sig)).unwrap();
    cg.func_begin(f).unwrap();
    cg.push_global(data).unwrap();
    cg.load(MemAccess::new(i64t)).unwrap();
    cg.ret().unwrap();
    cg.func_end().unwrap();
}

fn i64_data(cg: &mut C<'_>, name: &str, decl: impl FnOnce(DataDecl) -> DataDecl, value: i64) -> Sym {
    let i64t = i64t(cg);
    let d = cg.declare_data(name, decl(DataDecl::new(i64t))).unwrap();
    cg.define_data(d, &DataInit::new().bytes(&value.to_le_bytes())).unwrap();
    d
}

fn compiler(t: LinuxTarget) -> &'static str {
    match t {
        LinuxTarget::X86_64 => "gcc",
        LinuxTarget::Aarch64 => "aarch64-linux-gnu-gcc",
        LinuxTarget::Riscv64 => "riscv64-linux-gnu-gcc",
    }
}

fn run_tool(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Links `objects` with the C `sources` (compiled by the target's gcc) into `dir/program`.
fn link(t: LinuxTarget, dir: &Path, objects: &[Vec<u8>], sources: &[&str], args: &[&str]) -> PathBuf {
    let exe = dir.join("program");
    let mut cmd = Command::new(compiler(t));
    cmd.arg("-O1").arg("-o").arg(&exe);
    for (i, o) in objects.iter().enumerate() {
        let p = dir.join(format!("m{i}.o"));
        std::fs::write(&p, o).unwrap();
        cmd.arg(p);
    }
    for (i, s) in sources.iter().enumerate() {
        let p = dir.join(format!("c{i}.c"));
        std::fs::write(&p, s).unwrap();
        cmd.arg(p);
    }
    cmd.args(args).arg("-pthread");
    if t != LinuxTarget::X86_64 {
        cmd.arg("-static");
    }
    run_tool(&mut cmd);
    exe
}

fn run(t: LinuxTarget, exe: &Path) -> String {
    run_tool(&mut t.command(exe))
}

fn each_target(tag: &str, f: impl Fn(LinuxTarget, &Path)) {
    for t in LinuxTarget::ALL {
        let dir = scratch_dir(&format!("{tag}-{}", t.triple())).unwrap();
        f(t, &dir);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn constructors_and_destructors_run_in_priority_order() {
    each_target("ctors", |t, dir| {
        let obj = object(t.triple(), |cg| {
            let i64t = i64t(cg);
            let trace_sig = cg.ty_func(FuncSig::new(&[i64t], None)).unwrap();
            let trace = cg.declare_func("trace", FuncDecl::new(trace_sig)).unwrap();
            let void = sig0(cg, false);
            // Added out of order: the arrays are sorted by priority, not by call order.
            for (kind, prio, tag) in [
                (InitFini::Constructor, 65535, 65535),
                (InitFini::Constructor, 200, 200),
                (InitFini::Destructor, 150, -150),
                (InitFini::Constructor, 101, 101),
                (InitFini::Destructor, 300, -300),
            ] {
                let f = cg
                    .declare_func(
                        &format!("init_fini_{}", tag + 100000),
                        FuncDecl::new(void).linkage(Linkage::Internal),
                    )
                    .unwrap();
                cg.func_begin(f).unwrap();
                cg.push_int(i64t, tag.into()).unwrap();
                cg.call(Callee::Direct(trace), 1).unwrap();
                cg.ret().unwrap();
                cg.func_end().unwrap();
                cg.add_init_fini(kind, f, prio).unwrap();
            }
        });
        let driver = r#"
            #include <stdio.h>
            void trace(long x) { printf("%ld ", x); }
            int main(void) { printf("main "); return 0; }
        "#;
        let exe = link(t, dir, &[obj], &[driver], &[]);
        // gcc's rule: constructors in increasing priority, destructors in decreasing.
        assert_eq!(run(t, &exe), "101 200 65535 main -300 -150 ", "{}", t.triple());
    });
}

#[test]
fn comdat_duplicates_fold_and_nodeduplicate_keeps_both() {
    each_target("comdat", |t, dir| {
        // The same external definitions in two objects: without the group, a duplicate
        // symbol error; with `Any`, the linker keeps one group (one address).
        let unit = |suffix: &'static str| {
            object(t.triple(), move |cg| {
                let d = i64_data(cg, "shared_any", |d| d.comdat(Comdat::any("shared_any")), 5);
                const_fn(cg, "shared_fn", |f| f.comdat(Comdat::any("shared_fn")), 9);
                let f = cg.symbol_by_name("shared_fn").unwrap();
                addr_fn(cg, &format!("addr_any_{suffix}"), d);
                addr_fn(cg, &format!("addr_fn_{suffix}"), f);
                // Internal members of a NoDeduplicate group: both copies stay.
                let k = i64_data(
                    cg,
                    "kept_twice",
                    |d| d.linkage(Linkage::Internal).comdat(Comdat::new("kept_twice", ComdatKind::NoDeduplicate)),
                    6,
                );
                addr_fn(cg, &format!("addr_nodedup_{suffix}"), k);
                // weak_odr in both objects links without a duplicate either.
                let w = i64_data(cg, "shared_weak_odr", |d| d.linkage(Linkage::WeakOdr), 7);
                addr_fn(cg, &format!("addr_odr_{suffix}"), w);
            })
        };
        let driver = r#"
            #include <stdio.h>
            long addr_any_a(void), addr_any_b(void), addr_fn_a(void), addr_fn_b(void);
            long addr_nodedup_a(void), addr_nodedup_b(void), addr_odr_a(void), addr_odr_b(void);
            long shared_fn(void); extern long shared_any;
            int main(void) {
                printf("%d %d %d %d %ld %ld\n", addr_any_a() == addr_any_b(), addr_fn_a() == addr_fn_b(),
                       addr_nodedup_a() != addr_nodedup_b(), addr_odr_a() == addr_odr_b(), shared_any, shared_fn());
                return 0;
            }
        "#;
        let exe = link(t, dir, &[unit("a"), unit("b")], &[driver], &[]);
        assert_eq!(run(t, &exe), "1 1 1 1 5 9\n", "{}", t.triple());
    });
}

#[test]
fn weak_definitions_are_overridden_and_extern_weak_is_null() {
    each_target("weak", |t, dir| {
        let obj = object(t.triple(), |cg| {
            let wf = const_fn(cg, "wfun", |f| f.linkage(Linkage::Weak), 1);
            let wd = i64_data(cg, "wdata", |d| d.linkage(Linkage::Weak), 1);
            call_fn(cg, "call_wfun", wf);
            read_fn(cg, "read_wdata", wd);
            let sig = sig0(cg, true);
            let i64t = i64t(cg);
            let mf = cg.declare_func("maybe_fn", FuncDecl::new(sig).linkage(Linkage::ExternalWeak)).unwrap();
            let md = cg.declare_data("maybe_data", DataDecl::new(i64t).linkage(Linkage::ExternalWeak)).unwrap();
            addr_fn(cg, "addr_maybe_fn", mf);
            addr_fn(cg, "addr_maybe_data", md);
        });
        let driver = r#"
            #include <stdio.h>
            long call_wfun(void), read_wdata(void), addr_maybe_fn(void), addr_maybe_data(void);
            int main(void) {
                printf("%ld %ld %d %d\n", call_wfun(), read_wdata(), addr_maybe_fn() != 0, addr_maybe_data() != 0);
                return 0;
            }
        "#;
        let strong =
            "long wfun(void) { return 2; } long wdata = 2; long maybe_fn(void) { return 3; } long maybe_data = 3;";
        let exe = link(t, dir, std::slice::from_ref(&obj), &[driver], &[]);
        assert_eq!(run(t, &exe), "1 1 0 0\n", "{}: weak definitions kept, extern_weak null", t.triple());
        let exe = link(t, dir, &[obj], &[driver, strong], &[]);
        assert_eq!(run(t, &exe), "2 2 1 1\n", "{}: strong definitions win", t.triple());
    });
}

#[test]
fn aliases_name_the_same_function_and_data() {
    each_target("alias", |t, dir| {
        let obj = object(t.triple(), |cg| {
            let f = const_fn(cg, "impl_fn", |f| f, 42);
            let d = i64_data(cg, "impl_data", |d| d, 5);
            cg.declare_alias("alias_fn", f, AliasDecl::new()).unwrap();
            let ad = cg.declare_alias("alias_data", d, AliasDecl::new()).unwrap();
            read_fn(cg, "read_alias_data", ad);
            // A weak alias a gcc object overrides.
            cg.declare_alias("weak_alias_fn", f, AliasDecl::new().linkage(Linkage::Weak)).unwrap();
        });
        let driver = r#"
            #include <stdio.h>
            long impl_fn(void), alias_fn(void), weak_alias_fn(void), read_alias_data(void);
            extern long impl_data, alias_data;
            int main(void) {
                alias_data = 6;
                printf("%ld %d %ld %d %ld %ld\n", alias_fn(), (void *)alias_fn == (void *)impl_fn, impl_data,
                       &alias_data == &impl_data, read_alias_data(), weak_alias_fn());
                return 0;
            }
        "#;
        let exe = link(t, dir, std::slice::from_ref(&obj), &[driver], &[]);
        assert_eq!(run(t, &exe), "42 1 6 1 6 42\n", "{}", t.triple());
        let exe = link(t, dir, &[obj], &[driver, "long weak_alias_fn(void) { return 7; }"], &[]);
        assert_eq!(run(t, &exe), "42 1 6 1 6 7\n", "{}", t.triple());
    });
}

const TLS_MODELS: [(TlsModel, &str); 4] = [
    (TlsModel::GeneralDynamic, "gd"),
    (TlsModel::LocalDynamic, "ld"),
    (TlsModel::InitialExec, "ie"),
    (TlsModel::LocalExec, "le"),
];

#[test]
fn thread_locals_are_distinct_per_thread() {
    each_target("tls", |t, dir| {
        let obj = object(t.triple(), |cg| {
            let i64t = i64t(cg);
            let sig = cg.ty_func(FuncSig::new(&[i64t], Some(i64t))).unwrap();
            for (model, tag) in TLS_MODELS {
                let d = i64_data(cg, &format!("tls_{tag}"), |d| d.thread_local(model), 7);
                // bump_<tag>(x) { tls += x; return tls }
                let f = cg.declare_func(&format!("bump_{tag}"), FuncDecl::new(sig)).unwrap();
                cg.func_begin(f).unwrap();
                cg.push_global(d).unwrap();
                cg.push_global(d).unwrap();
                cg.load(MemAccess::new(i64t)).unwrap();
                let x = cg.param_slot(0, "x").unwrap();
                cg.push_local(x).unwrap();
                cg.load(MemAccess::new(i64t)).unwrap();
                cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
                cg.store(MemAccess::new(i64t)).unwrap();
                cg.push_global(d).unwrap();
                cg.load(MemAccess::new(i64t)).unwrap();
                cg.ret().unwrap();
                cg.func_end().unwrap();
                addr_fn(cg, &format!("addr_{tag}"), d);
            }
        });
        let driver = r#"
            #include <pthread.h>
            #include <stdio.h>
            long bump_gd(long), bump_ld(long), bump_ie(long), bump_le(long);
            long addr_gd(void), addr_ld(void), addr_ie(void), addr_le(void);
            static long (*bumps[4])(long) = {bump_gd, bump_ld, bump_ie, bump_le};
            static long (*addrs[4])(void) = {addr_gd, addr_ld, addr_ie, addr_le};
            static long results[4][4], addresses[4][4];
            static pthread_barrier_t barrier;
            static void *work(void *arg) {
                long k = (long)arg;
                for (int m = 0; m < 4; m++) {
                    long v = 0;
                    for (int i = 0; i < 1000; i++) v = bumps[m](k + 1);
                    results[k][m] = v;
                    addresses[k][m] = addrs[m]();
                }
                pthread_barrier_wait(&barrier); /* all four alive at once: distinct blocks */
                return 0;
            }
            int main(void) {
                pthread_t th[4];
                pthread_barrier_init(&barrier, 0, 4);
                for (long k = 0; k < 4; k++) pthread_create(&th[k], 0, work, (void *)k);
                for (int k = 0; k < 4; k++) pthread_join(th[k], 0);
                int ok = 1;
                for (int m = 0; m < 4; m++) {
                    for (int k = 0; k < 4; k++) {
                        if (results[k][m] != 7 + 1000 * (k + 1)) { printf("model %d thread %d: %ld\n", m, k, results[k][m]); ok = 0; }
                        for (int j = 0; j < k; j++)
                            if (addresses[j][m] == addresses[k][m]) { printf("model %d: threads %d and %d share\n", m, j, k); ok = 0; }
                    }
                    if (bumps[m](0) != 7) { printf("model %d: main thread's copy changed\n", m); ok = 0; }
                }
                printf(ok ? "ok\n" : "FAILED\n");
                return 0;
            }
        "#;
        let exe = link(t, dir, &[obj], &[driver], &[]);
        assert_eq!(run(t, &exe), "ok\n", "{}", t.triple());
    });
}

/// The ELF section of symbol `name` in `file`.
#[test]
fn address_constants_in_other_address_spaces_link_and_run() {
    each_target("addrspace", |t, dir| {
        let obj = object(t.triple(), |cg| {
            let i64t = i64t(cg);
            let pair = cg.ty_array(i64t, 2).unwrap();
            let vals = cg.declare_data("vals", DataDecl::new(pair)).unwrap();
            let init = DataInit::new().bytes(&11i64.to_le_bytes()).bytes(&22i64.to_le_bytes());
            cg.define_data(vals, &init).unwrap();
            for (space, addend) in [(1u32, 0i64), (5, 8)] {
                let p = cg.ty_ptr(i64t, space).unwrap();
                let slot = cg.declare_data(&format!("slot{space}"), DataDecl::new(p)).unwrap();
                cg.define_data(slot, &DataInit::new().reloc_in(vals, addend, space)).unwrap();
                // read{space}() -> *slot; bump{space}() { *slot += 100 }
                let sig = sig0(cg, true);
                let f = cg.declare_func(&format!("read{space}"), FuncDecl::new(sig)).unwrap();
                cg.func_begin(f).unwrap();
                cg.push_global(slot).unwrap();
                cg.load(MemAccess::new(p)).unwrap();
                cg.deref(i64t).unwrap();
                cg.load(MemAccess::new(i64t)).unwrap();
                cg.ret().unwrap();
                cg.func_end().unwrap();
                let sig = sig0(cg, false);
                let f = cg.declare_func(&format!("bump{space}"), FuncDecl::new(sig)).unwrap();
                cg.func_begin(f).unwrap();
                cg.push_global(slot).unwrap();
                cg.load(MemAccess::new(p)).unwrap();
                cg.deref(i64t).unwrap();
                cg.dup().unwrap();
                cg.load(MemAccess::new(i64t)).unwrap();
                cg.push_int(i64t, 100).unwrap();
                cg.int_op(IntBinOp::Add, IntFlags::NONE).unwrap();
                cg.store(MemAccess::new(i64t)).unwrap();
                cg.ret().unwrap();
                cg.func_end().unwrap();
            }
        });
        let driver = r#"
            #include <stdio.h>
            extern long vals[2];
            extern long *slot1, *slot5;
            long read1(void), read5(void);
            void bump1(void), bump5(void);
            int main(void) {
                long a = read1(), b = read5();
                bump1(); bump5(); bump5();
                printf("%ld %ld %d %d %ld %ld\n", a, b, slot1 == &vals[0], slot5 == &vals[1], vals[0], vals[1]);
                return 0;
            }
        "#;
        let exe = link(t, dir, &[obj], &[driver], &[]);
        assert_eq!(run(t, &exe), "11 22 1 1 111 222\n", "{}", t.triple());
    });
}

/// Loadable partitions: lld splits a shared object at the `.llvm_sympart`
/// entry points the facade emits, and `llvm-objcopy --extract-partition`
/// finds the partition with its symbols, which the main partition lacks.
#[test]
fn partitions_split_a_shared_object_with_lld() {
    for t in LinuxTarget::ALL {
        let dir = scratch_dir(&format!("partition-{}", t.triple())).unwrap();
        let obj = object(t.triple(), |cg| {
            const_fn(cg, "part_fn", |f| f.partition("extra").section(".text.part_fn"), 41);
            i64_data(cg, "part_data", |d| d.partition("extra").section(".data.part_data"), 7);
            const_fn(cg, "main_fn", |f| f.section(".text.main_fn"), 1);
        });
        std::fs::write(dir.join("m.o"), &obj).unwrap();
        let so = dir.join("lib.so");
        run_tool(Command::new("ld.lld-19").args(["-shared", "--gc-sections", "-o"]).arg(&so).arg(dir.join("m.o")));
        let (main, extra) = (dir.join("main.so"), dir.join("extra.so"));
        run_tool(Command::new("llvm-objcopy-19").arg("--extract-main-partition").arg(&so).arg(&main));
        run_tool(Command::new("llvm-objcopy-19").arg("--extract-partition=extra").arg(&so).arg(&extra));
        let defines = |path: &Path, name: &str| {
            let bytes = std::fs::read(path).unwrap();
            let file = object::File::parse(&*bytes).unwrap();
            let found = file.dynamic_symbols().any(|s| s.name() == Ok(name) && !s.is_undefined());
            found
        };
        assert!(
            defines(&main, "main_fn") && !defines(&main, "part_fn") && !defines(&main, "part_data"),
            "{}",
            t.triple()
        );
        assert!(defines(&extra, "part_fn") && defines(&extra, "part_data"), "{}", t.triple());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn section_of<'a>(file: &'a object::File<'a>, name: &str) -> object::Section<'a, 'a> {
    let sym = file.symbols().find(|s| s.name() == Ok(name)).unwrap_or_else(|| panic!("no symbol {name}"));
    file.section_by_index(sym.section_index().unwrap()).unwrap()
}

fn elf_flags(section: &object::Section<'_, '_>) -> u64 {
    match section.flags() {
        object::SectionFlags::Elf { sh_flags } => sh_flags,
        other => panic!("not ELF: {other:?}"),
    }
}

fn placement_object(triple: &str) -> Vec<u8> {
    object(triple, |cg| {
        let i8t = cg.ty_int(IntWidth::I8).unwrap();
        let str_ty = cg.ty_array(i8t, 12).unwrap();
        let s = cg.declare_data("merged_str", DataDecl::new(str_ty).readonly().mergeable().linkage(Linkage::Internal));
        cg.define_data(s.unwrap(), &DataInit::new().bytes(b"cfree merge\0")).unwrap();
        let c = i64_data(cg, "merged_const", |d| d.readonly().mergeable().linkage(Linkage::Internal), 0x1122334455);
        addr_fn(cg, "addr_merged_str", cg.symbol_by_name("merged_str").unwrap());
        addr_fn(cg, "addr_merged_const", c);
        i64_data(cg, "in_my_section", |d| d.section(".data.cfree_mine"), 1);
        const_fn(cg, "fn_in_my_section", |f| f.section(".text.cfree_mine"), 1);
        i64_data(cg, "tls_data", |d| d.thread_local(TlsModel::InitialExec), 1);
        i64_data(cg, "kept", |d| d.section(".data.cfree_keepme").retain(Retain::Linker), 0x4b455054);
        i64_data(cg, "dropped", |d| d.section(".data.cfree_dropme"), 0x44524f50);
        i64_data(cg, "compiler_kept", |d| d.linkage(Linkage::Internal).retain(Retain::Compiler), 3);
        i64_data(cg, "one_byte_before", |d| d, 1);
        let a = i64_data(cg, "aligned", |d| d.align(256), 1);
        addr_fn(cg, "addr_aligned", a);
        i64_data(cg, "hidden_data", |d| d.visibility(Visibility::Hidden), 1);
    })
}

#[test]
fn sections_flags_alignment_and_visibility_in_the_object() {
    const SHF_WRITE: u64 = 0x1;
    const SHF_EXECINSTR: u64 = 0x4;
    const SHF_MERGE: u64 = 0x10;
    const SHF_STRINGS: u64 = 0x20;
    const SHF_TLS: u64 = 0x400;
    const SHF_GNU_RETAIN: u64 = 0x20_0000;
    for t in LinuxTarget::ALL {
        let bytes = placement_object(t.triple());
        let file = object::File::parse(&*bytes).unwrap();
        let s = section_of(&file, "merged_str");
        assert_eq!(
            elf_flags(&s) & (SHF_MERGE | SHF_STRINGS),
            SHF_MERGE | SHF_STRINGS,
            "{}: {:?}",
            t.triple(),
            s.name()
        );
        let c = section_of(&file, "merged_const");
        assert_eq!(elf_flags(&c) & (SHF_MERGE | SHF_STRINGS), SHF_MERGE, "{}: {:?}", t.triple(), c.name());
        assert_eq!(section_of(&file, "in_my_section").name(), Ok(".data.cfree_mine"));
        let text = section_of(&file, "fn_in_my_section");
        assert_eq!(text.name(), Ok(".text.cfree_mine"));
        assert_ne!(elf_flags(&text) & SHF_EXECINSTR, 0);
        assert_ne!(elf_flags(&section_of(&file, "tls_data")) & SHF_TLS, 0);
        let kept = section_of(&file, "kept");
        assert_eq!(elf_flags(&kept) & (SHF_GNU_RETAIN | SHF_WRITE), SHF_GNU_RETAIN | SHF_WRITE, "{}", t.triple());
        assert_eq!(elf_flags(&section_of(&file, "dropped")) & SHF_GNU_RETAIN, 0);
        assert!(file.symbols().any(|s| s.name() == Ok("compiler_kept")), "llvm.compiler.used keeps it");
        let aligned = file.symbols().find(|s| s.name() == Ok("aligned")).unwrap();
        assert_eq!(aligned.address() % 256, 0);
        assert!(section_of(&file, "aligned").align() >= 256);
        let hidden = file.symbols().find(|s| s.name() == Ok("hidden_data")).unwrap();
        match hidden.flags() {
            object::SymbolFlags::Elf { st_other, .. } => assert_eq!(st_other & 3, 2, "STV_HIDDEN"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn retention_mergeable_strings_and_alignment_in_executables() {
    each_target("placement", |t, dir| {
        let second = object(t.triple(), |cg| {
            let i8t = cg.ty_int(IntWidth::I8).unwrap();
            let str_ty = cg.ty_array(i8t, 12).unwrap();
            let decl = DataDecl::new(str_ty).readonly().mergeable().linkage(Linkage::Internal);
            let s = cg.declare_data("merged_str", decl).unwrap();
            cg.define_data(s, &DataInit::new().bytes(b"cfree merge\0")).unwrap();
            addr_fn(cg, "addr_merged_str_2", s);
        });
        let driver = r#"
            #include <stdio.h>
            #include <string.h>
            long addr_merged_str(void), addr_merged_str_2(void), addr_aligned(void), addr_merged_const(void);
            int main(void) {
                printf("%d %d %d %lx\n", addr_merged_str() == addr_merged_str_2(),
                       strcmp((const char *)addr_merged_str(), "cfree merge") == 0, addr_aligned() % 256 == 0,
                       *(long *)addr_merged_const());
                return 0;
            }
        "#;
        let exe = link(t, dir, &[placement_object(t.triple()), second], &[driver], &["-Wl,--gc-sections"]);
        assert_eq!(run(t, &exe), "1 1 1 1122334455\n", "{}", t.triple());
        let bytes = std::fs::read(&exe).unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        let has = |name: &str| file.symbols().any(|s| s.name() == Ok(name));
        assert!(has("kept"), "{}: retained through --gc-sections", t.triple());
        assert!(!has("dropped"), "{}: collected by --gc-sections", t.triple());
    });
}

#[test]
fn hidden_symbols_are_not_exported_or_preemptible_from_a_shared_object() {
    let t = LinuxTarget::X86_64;
    let dir = scratch_dir("hidden").unwrap();
    let obj = object(t.triple(), |cg| {
        const_fn(cg, "vis_default", |f| f, 1);
        const_fn(cg, "vis_hidden", |f| f.visibility(Visibility::Hidden), 1);
        let d = i64_data(cg, "data_default", |d| d, 1);
        let h = i64_data(cg, "data_hidden", |d| d.visibility(Visibility::Hidden), 1);
        read_fn(cg, "read_default", d);
        read_fn(cg, "read_hidden", h);
    });
    std::fs::write(dir.join("m.o"), &obj).unwrap();
    let so = dir.join("libvis.so");
    run_tool(Command::new("gcc").arg("-shared").arg("-o").arg(&so).arg(dir.join("m.o")));
    let bytes = std::fs::read(&so).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let exported = |name: &str| file.dynamic_symbols().any(|s| s.name() == Ok(name) && !s.is_undefined());
    assert!(exported("vis_default") && exported("data_default") && exported("read_hidden"));
    assert!(!exported("vis_hidden") && !exported("data_hidden"), "hidden symbols stay out of .dynsym");
    // The executable defines both data names again: the library's accesses to the
    // default one go through the GOT to the executable's (preempted), to the hidden one not.
    let main = r#"
        #include <stdio.h>
        long data_default = 2, data_hidden = 2;
        long read_default(void), read_hidden(void);
        int main(void) { printf("%ld %ld\n", read_default(), read_hidden()); return 0; }
    "#;
    std::fs::write(dir.join("main.c"), main).unwrap();
    let exe = dir.join("program");
    run_tool(
        Command::new("gcc")
            .arg("-o")
            .arg(&exe)
            .arg(dir.join("main.c"))
            .arg(format!("-L{}", dir.display()))
            .arg("-lvis")
            .arg(format!("-Wl,-rpath,{}", dir.display())),
    );
    assert_eq!(run_tool(&mut Command::new(&exe)), "2 1\n");
    let _ = std::fs::remove_dir_all(&dir);
}
