//! The `cfree-wasm` binary: results, traps and bad modules, each checked from
//! the outside (exit status and messages), never a panic or an LLVM abort.

use std::path::PathBuf;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cfree-wasm"))
}

fn write(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cfree-wasm-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("writing a test module");
    path
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

const MODULE: &str = r#"(module
  (memory 1)
  (func $fib (export "fib") (param i64) (result i64)
    (if (result i64) (i64.lt_u (local.get 0) (i64.const 2))
      (then (local.get 0))
      (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                     (call $fib (i64.sub (local.get 0) (i64.const 2)))))))
  (func (export "divmod") (param i32 i32) (result i32 i32)
    (i32.div_s (local.get 0) (local.get 1)) (i32.rem_s (local.get 0) (local.get 1)))
  (func (export "peek") (param i32) (result i32) (i32.load (local.get 0)))
  (func $down (export "down") (param i32) (result i32) (call $down (i32.add (local.get 0) (i32.const 1)))))"#;

#[test]
fn runs_exports_at_both_levels() {
    let wat = write("m.wat", MODULE.as_bytes());
    for opt in ["-O0", "-O2"] {
        let o = bin().args(["run", opt]).arg(&wat).args(["--invoke", "fib", "20"]).output().expect("running");
        let (out, err) = text(&o);
        assert!(o.status.success(), "{opt}: {err}");
        assert_eq!(out.trim(), "6765:i64", "{opt}");
        let o = bin().args(["run", opt]).arg(&wat).args(["--invoke", "divmod", "-7", "2"]).output().expect("running");
        assert_eq!(text(&o).0.lines().collect::<Vec<_>>(), ["-3:i32", "-1:i32"], "{opt}: multi-value results");
    }
}

#[test]
fn traps_are_reported_not_crashes() {
    let wat = write("t.wat", MODULE.as_bytes());
    for (args, message) in [
        (&["divmod", "1", "0"][..], "integer divide by zero"),
        (&["divmod", "-2147483648", "-1"][..], "integer overflow"),
        (&["peek", "65533"][..], "out of bounds memory access"),
        (&["down", "0"][..], "call stack exhausted"),
    ] {
        let o = bin().arg("run").arg(&wat).arg("--invoke").args(args).output().expect("running");
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: expected `{message}` in `{err}`");
    }
    let o = bin().arg("run").arg(&wat).args(["--invoke", "peek", "65532"]).output().expect("running");
    assert_eq!(text(&o).0.trim(), "0:i32", "the last in-bounds word");
}

#[test]
fn bad_modules_are_clear_errors() {
    let cases: [(&str, &[u8], &str); 5] = [
        ("binary.wasm", b"\xff\xfe", "neither a wasm binary nor UTF-8 text"),
        ("truncated.wasm", b"\0asm\x01\0\0\0\x01", "invalid module"),
        ("badmagic.wasm", b"\0asx\x01\0\0\0", "magic header not detected"),
        ("mismatch.wat", b"(module (func (export \"f\") (result i32) (i64.const 1)))", "type mismatch"),
        ("import.wat", b"(module (import \"env\" \"g\" (func)))", "unknown import"),
    ];
    for (name, bytes, message) in cases {
        let path = write(name, bytes);
        let o = bin().arg("run").arg(&path).args(["--invoke", "f"]).output().expect("running");
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(message), "{name}: expected `{message}` in `{err}`");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
}

#[test]
fn wast_runner_counts_and_continues_after_traps() {
    let script = br#"(module (func (export "f") (param i32) (result i32) (i32.div_u (i32.const 10) (local.get 0))))
(assert_return (invoke "f" (i32.const 2)) (i32.const 5))
(assert_trap (invoke "f" (i32.const 0)) "integer divide by zero")
(assert_return (invoke "f" (i32.const 5)) (i32.const 2))
(assert_return (invoke "f" (i32.const 5)) (i32.const 3))
(assert_invalid (module (func (result i32))) "type mismatch")
"#;
    let path = write("s.wast", script);
    let o = bin().args(["test", "-v"]).arg(&path).output().expect("running");
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "one directive fails: {out}");
    assert!(out.contains("5 passed, 1 failed, 0 skipped"), "{out}");
    assert!(out.contains("FAIL") && out.contains(":5:"), "the failure names its line: {out}");
}

#[test]
fn compiles_objects_for_x86_64_and_aarch64() {
    use object::{Object, ObjectSymbol};
    let wat = write("aot.wat", MODULE.as_bytes());
    for (triple, arch) in [
        ("x86_64-unknown-linux-gnu", object::Architecture::X86_64),
        ("aarch64-unknown-linux-gnu", object::Architecture::Aarch64),
    ] {
        let out = wat.with_extension(format!("{triple}.o"));
        let o =
            bin().args(["compile", "-O2", "--target", triple]).arg(&wat).arg("-o").arg(&out).output().expect("running");
        assert!(o.status.success(), "{triple}: {}", text(&o).1);
        let bytes = std::fs::read(&out).expect("reading the object");
        let file = object::File::parse(&*bytes).expect("an object file");
        assert_eq!(file.architecture(), arch, "{triple}");
        let defined = |name: &str| file.symbols().any(|s| s.name() == Ok(name) && s.is_definition() && s.is_global());
        let undefined = |name: &str| file.symbols().any(|s| s.name() == Ok(name) && s.is_undefined());
        assert!(defined("cfree_wasm_m1_init"), "{triple}: the init function is exported");
        for runtime in ["cfree_wasm_trap", "cfree_wasm_stack_limit"] {
            assert!(undefined(runtime), "{triple}: refers to {runtime}");
        }
        assert!(
            !file.symbols().any(|s| s.name() == Ok("cfree_wasm_m1_f0") && s.is_global()),
            "{triple}: functions are internal"
        );
    }
}
