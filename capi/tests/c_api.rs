//! The C API from C, compiled by gcc: `tests/c/basic.c` under AddressSanitizer
//! and UndefinedBehaviorSanitizer against the shared library (a JIT'd
//! function, an object file, and every misuse returning its documented code);
//! the header compiling as C99 and C++17 with warnings as errors; and every
//! exported `cfree_` symbol declared in the header.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The directory holding `libcfree_capi.so`: `cargo test` leaves the library
/// it built beside this test binary (`target/<profile>/deps`); `cargo build`
/// also copies it one level up.
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("target/<profile>/deps/<test>").to_path_buf();
    if deps.join("libcfree_capi.so").exists() {
        return deps;
    }
    deps.parent().map(Path::to_path_buf).unwrap_or(deps)
}

fn run(cmd: &mut Command, what: &str) -> std::process::Output {
    let out =
        cmd.output().unwrap_or_else(|e| panic!("{what}: cannot run {:?}: {e} (run ci/bootstrap)", cmd.get_program()));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// How a C test program is linked.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Link {
    /// Against `libcfree_capi.so`.
    Shared,
    /// Against `libcfree_capi.a` (with LLVM's shared library and the C++
    /// runtime, as the `cfree-static` pkg-config file says).
    Static,
}

/// Compiles `tests/c/<name>.c` against the shared library with the
/// sanitizers, runs it and checks it printed `expected` with no report.
fn c_program_under_sanitizers(name: &str, expected: &str) {
    c_program_linked(name, Link::Shared, &[], expected);
}

/// [`c_program_under_sanitizers`] with command-line arguments.
fn c_program_with_args(name: &str, args: &[&str], expected: &str) {
    c_program_linked(name, Link::Shared, args, expected);
}

/// The LLVM this build links (for the static link line).
fn llvm_major() -> &'static str {
    if cfg!(feature = "llvm22") {
        "22"
    } else {
        "19"
    }
}

/// Compiles `tests/c/<name>.c` linked as `link` with AddressSanitizer and
/// UndefinedBehaviorSanitizer, runs it with `args` and checks its output.
fn c_program_linked(name: &str, link: Link, args: &[&str], expected: &str) {
    let lib = lib_dir();
    let archive = lib.join(if link == Link::Shared { "libcfree_capi.so" } else { "libcfree_capi.a" });
    assert!(archive.exists(), "no {}", archive.display());
    let dir =
        std::env::temp_dir().join(format!("cfree-capi-{name}-{link:?}-{}-{}", args.join("-"), std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join(name);
    let mut gcc = Command::new("gcc");
    gcc.args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-g"])
        .args(["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"])
        .arg("-I")
        .arg(root().join("include"))
        .arg(root().join(format!("tests/c/{name}.c")));
    match link {
        Link::Shared => {
            gcc.arg("-L").arg(&lib).arg(format!("-Wl,-rpath,{}", lib.display())).arg("-lcfree_capi");
        }
        Link::Static => {
            let llvm_lib = format!("/usr/lib/llvm-{}/lib", llvm_major());
            gcc.arg(&archive)
                .arg(format!("-L{llvm_lib}"))
                .arg(format!("-Wl,-rpath,{llvm_lib}"))
                .arg(format!("-lLLVM-{}", llvm_major()))
                .args(["-lstdc++", "-ldl", "-lrt"]);
        }
    }
    run(gcc.args(["-lm", "-lpthread"]).arg("-o").arg(&exe), &format!("compiling tests/c/{name}.c ({link:?})"));
    if link == Link::Static {
        let needed = run(Command::new("readelf").arg("-d").arg(&exe), "readelf -d");
        assert!(!String::from_utf8_lossy(&needed.stdout).contains("libcfree_capi.so"), "{name}: not a static link");
    }
    // Leak checking is off: LLVM keeps process-lifetime allocations (its target
    // registry, option tables) that LeakSanitizer would report at exit.
    let out = run(
        Command::new(&exe)
            .args(args)
            // Cargo's LD_LIBRARY_PATH may list a stale copy in target/<profile>
            // before the rpath: this library is the one just built.
            .env("LD_LIBRARY_PATH", &lib)
            .env("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1")
            .env("UBSAN_OPTIONS", "halt_on_error=1"),
        &format!("running {name} {args:?} ({link:?})"),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("Sanitizer") && !stderr.contains("runtime error"), "sanitizer reports:\n{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The type table's queries against gcc's own layout, completeness, inline
/// assembly run and compared with C, the register tables and the typed
/// lookup, each misuse with its code.
#[test]
fn types_inline_asm_and_typed_lookup() {
    c_program_under_sanitizers("inspect", "inspect ok\n");
}

/// Debug information through the C API: the object `debug.c` writes passes
/// `llvm-dwarfdump-19 --verify` and describes what it emitted.
#[test]
fn debug_information_from_c() {
    let dir = std::env::temp_dir().join(format!("cfree-capi-debug-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let obj = dir.join("pair.o");
    c_program_with_args("debug", &[obj.to_str().unwrap()], "debug ok\n");
    let verify = run(Command::new("llvm-dwarfdump-19").arg("--verify").arg(&obj), "llvm-dwarfdump-19 --verify");
    assert!(String::from_utf8_lossy(&verify.stdout).contains("No errors."));
    let info = run(Command::new("llvm-dwarfdump-19").arg("--debug-info").arg(&obj), "llvm-dwarfdump-19");
    let text = String::from_utf8_lossy(&info.stdout);
    for needle in [
        "DW_AT_producer\t(\"capi debug.c\")",
        "DW_AT_language\t(DW_LANG_C11)",
        "DW_AT_name\t(\"sum_pair\")",
        "DW_AT_decl_file\t(\"/src/include/pair.h\")",
        "DW_AT_name\t(\"Pair\")",
        "DW_AT_name\t(\"a\")",
        "DW_AT_name\t(\"b\")",
        "DW_AT_name\t(\"p\")",
        "DW_AT_name\t(\"s\")",
        "DW_TAG_lexical_block",
        "DW_AT_name\t(\"doubled\")",
        "DW_AT_name\t(\"int\")",
    ] {
        assert!(text.contains(needle), "no `{needle}` in\n{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The static archive under the sanitizers: the first slice, the extended
/// misuse suite and the inspection program, linked without the shared library.
#[test]
fn static_library_under_sanitizers() {
    c_program_linked("basic", Link::Static, &[], "c api ok\n");
    c_program_linked("misuse", Link::Static, &[], "misuse ok\n");
    c_program_linked("inspect", Link::Static, &[], "inspect ok\n");
}

/// A JIT'd function, an object file, and every misuse returning its code.
#[test]
fn basic_program_and_misuse() {
    c_program_under_sanitizers("basic", "c api ok\n");
}

/// Floats, conversions, select, shuffles, addresses, memory flags, atomics
/// and an indirect call, each compared with C's own result.
#[test]
fn operations_against_c() {
    c_program_under_sanitizers("ops", "ops ok\n");
}

/// A moving collector written in C: roots from the JIT registry's
/// safepoints through the entry frame pointers, at O0 and O2.
#[test]
fn moving_collector_in_c_o0() {
    c_program_with_args("gc", &["0"], "gc ok\n");
}

/// As [`moving_collector_in_c_o0`], optimised.
#[test]
fn moving_collector_in_c_o2() {
    c_program_with_args("gc", &["2"], "gc ok\n");
}

/// A call site's alias-scope promise keeps a load across the call at O2.
#[test]
fn call_scope_promises_through_the_c_api() {
    c_program_with_args("call_scope", &[], "without the promise -1, with it 0\ncall_scope ok\n");
}

/// A prologue stack check whose grow function is C, at O0 and O2.
#[test]
fn stack_checks_grow_through_a_c_function() {
    c_program_with_args("stack", &["0"], "refused: stack_check\nstack ok\n");
    c_program_with_args("stack", &["2"], "refused: stack_check\nstack ok\n");
}

/// Protected visibility from C: calls inside the unit keep their body after a
/// replacement; the entry and other callers get the new one.
#[test]
fn protected_functions_bind_inside_their_unit() {
    c_program_under_sanitizers("protected", "protected ok\n");
}

/// A C thread calls a function while the main thread replaces it twelve
/// times; then retire, veto and reclaim.
/// An implicit null check from C: the fault resumes through the trap table.
#[test]
#[cfg(target_arch = "x86_64")]
fn implicit_checks_resume_through_the_trap_table() {
    c_program_under_sanitizers("traps", "traps ok\n");
}

#[test]
fn replace_while_another_thread_calls() {
    c_program_under_sanitizers("replace", "replace ok\n");
}

/// Control flow, data, layout, target queries, calls, records by value, tail
/// calls, memory operations and text emission against C; then the object it
/// writes (data, a constructor, a function) linked by gcc and run.
#[test]
fn flow_data_and_an_aot_object_linked_by_gcc() {
    let dir = std::env::temp_dir().join(format!("cfree-capi-aot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let obj = dir.join("aot.o");
    c_program_with_args("flow", &[obj.to_str().unwrap()], "flow ok\n");
    let exe = dir.join("aot");
    run(
        Command::new("gcc").arg(root().join("tests/c/aot_main.c")).arg(&obj).arg("-o").arg(&exe),
        "linking the AOT object with gcc",
    );
    let out = run(&mut Command::new(&exe), "running the AOT program");
    let jump = |x: i64| if x & 1 == 1 { x * 5 } else { x * 3 };
    let jumps: Vec<String> = (0..6).map(|x| jump(x).to_string()).collect();
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{} {}\n{}\n", 5 + 10, 5 + 10 + 100, jumps.join(" ")));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `ci/install` into a temporary prefix, then C programs built only with
/// what `pkg-config` says: `cfree` (shared library) and `cfree-static` (the
/// archive; the executable must not need `libcfree_capi.so`).
#[test]
fn installed_with_pkg_config_shared_and_static() {
    let lib = lib_dir();
    assert!(lib.join("libcfree_capi.a").exists(), "no libcfree_capi.a in {}", lib.display());
    let dir = std::env::temp_dir().join(format!("cfree-capi-install-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let prefix = dir.join("prefix");
    run(
        Command::new(root().join("../ci/install"))
            .arg(&prefix)
            .env("CFREE_LIB_DIR", &lib)
            .env("CFREE_LLVM_MAJOR", if cfg!(feature = "llvm22") { "22" } else { "19" }),
        "ci/install into a temporary prefix",
    );
    let pkgconfig = prefix.join("lib/pkgconfig");
    let flags = |package: &str| -> Vec<String> {
        let out = run(
            Command::new("pkg-config").env("PKG_CONFIG_PATH", &pkgconfig).args(["--cflags", "--libs", package]),
            &format!("pkg-config {package}"),
        );
        String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_string).collect()
    };
    for (package, exe_name) in [("cfree", "replace_shared"), ("cfree-static", "replace_static")] {
        let exe = dir.join(exe_name);
        run(
            Command::new("gcc")
                .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"])
                .arg(root().join("tests/c/replace.c"))
                .args(flags(package))
                .arg(format!("-Wl,-rpath,{}", prefix.join("lib").display()))
                .args(["-lpthread", "-o"])
                .arg(&exe),
            &format!("building against the installed {package}"),
        );
        let out = run(&mut Command::new(&exe), &format!("running the {package} build"));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "replace ok\n");
        let needed = run(Command::new("readelf").arg("-d").arg(&exe), "readelf -d");
        let dynamic = String::from_utf8_lossy(&needed.stdout).contains("libcfree_capi.so");
        assert_eq!(dynamic, package == "cfree", "{package}: NEEDED libcfree_capi.so is {dynamic}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Misuse of the extended API: every case returns its documented code.
#[test]
fn extended_misuse_returns_documented_codes() {
    c_program_under_sanitizers("misuse", "misuse ok\n");
}

/// The quick start of `doc/capi.md`, as shown, compiles and runs.
#[test]
fn quick_start_in_the_docs_compiles_and_runs() {
    let doc = std::fs::read_to_string(root().join("../doc/capi.md")).unwrap();
    let start = doc.find("## Quick start").expect("a quick start section");
    let rest = &doc[start..];
    let code_start = rest.find("```c\n").expect("a C block") + 5;
    let code = &rest[code_start..code_start + rest[code_start..].find("```").unwrap()];
    let dir = std::env::temp_dir().join(format!("cfree-capi-quick-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("quick.c"), code).unwrap();
    let lib = lib_dir();
    run(
        Command::new("gcc")
            .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"])
            .arg("-I")
            .arg(root().join("include"))
            .arg(dir.join("quick.c"))
            .arg("-L")
            .arg(&lib)
            .arg(format!("-Wl,-rpath,{}", lib.display()))
            .args(["-lcfree_capi", "-o"])
            .arg(dir.join("quick")),
        "compiling the quick start",
    );
    let out = run(&mut Command::new(dir.join("quick")), "running the quick start");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "inc(41) = 42\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn header_compiles_as_c99_and_cxx17() {
    let header = root().join("include/cfree.h");
    for (compiler, lang, std) in [("gcc", "c", "-std=c99"), ("g++", "c++", "-std=c++17")] {
        run(
            Command::new(compiler)
                .args(["-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-pedantic", std, "-x", lang])
                .arg(&header),
            &format!("{compiler} {std} on cfree.h"),
        );
    }
}

#[test]
fn every_export_is_declared_in_the_header() {
    let header: String = ["cfree.h", "cfree/common.h", "cfree/cg.h", "cfree/jit.h", "cfree/statepoint.h"]
        .iter()
        .map(|h| std::fs::read_to_string(root().join("include").join(h)).unwrap())
        .collect();
    let out = run(
        Command::new("nm").args(["-D", "--defined-only"]).arg(lib_dir().join("libcfree_capi.so")),
        "nm on libcfree_capi.so",
    );
    let exports: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .filter(|s| s.starts_with("cfree_"))
        .map(str::to_string)
        .collect();
    assert!(exports.len() >= 120, "too few exports: {exports:?}");
    // And the other way: every function the headers declare is exported.
    let mut declared = Vec::new();
    for line in header.lines() {
        let Some(open) = line.find("(") else { continue };
        let before = &line[..open];
        if line.starts_with(' ') || line.starts_with("typedef") || line.starts_with('#') || line.starts_with("/*") {
            continue;
        }
        if let Some(name) = before.rsplit([' ', '*']).next().filter(|n| n.starts_with("cfree_")) {
            declared.push(name.to_string());
        }
    }
    assert!(declared.len() >= 120, "too few declarations found: {}", declared.len());
    for d in &declared {
        assert!(exports.contains(d), "{d} is declared but not exported");
    }
    for e in &exports {
        assert!(
            header.contains(&format!(" {e}(")) || header.contains(&format!("*{e}(")),
            "{e} is not declared in the headers"
        );
    }
}

/// `capi/examples/calc.c`, a small expression-language JIT in C, under the
/// sanitizers: definitions published one by one, queries checked against
/// Rust's arithmetic, and a bad program reported, not crashed.
#[test]
fn calc_example_runs() {
    let lib = lib_dir();
    let dir = std::env::temp_dir().join(format!("cfree-calc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("calc");
    run(
        Command::new("gcc")
            .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-g"])
            .args(["-fsanitize=address,undefined", "-fno-sanitize-recover=all"])
            .arg("-I")
            .arg(root().join("include"))
            .arg(root().join("examples/calc.c"))
            .arg("-L")
            .arg(&lib)
            .arg(format!("-Wl,-rpath,{}", lib.display()))
            .arg("-lcfree_capi")
            .arg("-o")
            .arg(&exe),
        "compiling examples/calc.c",
    );
    let sq = |x: i64| x * x;
    let hyp = |a: i64, b: i64| sq(a) + sq(b);
    let poly = |x: i64, y: i64| (x - 3 * y) * (x + y) % 1000 - hyp(x, y) / 7;
    let out = run(
        Command::new(&exe)
            .env("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1")
            .env("UBSAN_OPTIONS", "halt_on_error=1")
            .args([
                "sq(x) = x * x",
                "hyp(a, b) = sq(a) + sq(b)",
                "poly(x, y) = (x - 3 * y) * (x + y) % 1000 - hyp(x, y) / 7",
                "?hyp(3, 4)",
                "?sq(-12) / 5",
                "?poly(123456, -789)",
                "?poly(-5, 17) + -poly(2, 3)",
            ]),
        "running calc",
    );
    let expected = format!(
        "hyp(3, 4) = {}\nsq(-12) / 5 = {}\npoly(123456, -789) = {}\npoly(-5, 17) + -poly(2, 3) = {}\n",
        hyp(3, 4),
        sq(-12) / 5,
        poly(123_456, -789),
        poly(-5, 17) - poly(2, 3)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    let bad = Command::new(&exe).env("ASAN_OPTIONS", "detect_leaks=0").args(["f(x) = y + 1"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1), "{bad:?}");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown name"), "{bad:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
