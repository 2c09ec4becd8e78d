//! The library API: calls and imports are checked against their store and
//! their types before any compiled code runs.

use cfree_llvm_lower::OptLevel;
use cfree_wasm::runtime::{run_on_wasm_thread, Extern, Options, Store, Val};
use cfree_wasm::Error;

fn wasm(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).expect("lexing");
    let mut wat = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parsing");
    wat.encode().expect("encoding")
}

#[test]
fn functions_and_tables_stay_in_their_store() {
    run_on_wasm_thread(|| {
        let exporter = wasm(
            r#"(module (func (export "f") (result i32) (i32.const 7)) (table (export "t") 1 funcref) (elem (i32.const 0) 0)
                       (memory (export "m") 1) (global (export "g") i32 (i32.const 5)))"#,
        );
        let mut a = Store::new(Options::new(OptLevel::O0)).expect("store a");
        let mut b = Store::new(Options::new(OptLevel::O0)).expect("store b");
        let inst = a.instantiate(&exporter, &mut |_, _| None).expect("instantiating in a");
        let Some(Extern::Func(f)) = inst.export("f") else { panic!("no f") };
        assert_eq!(a.call(f, &[]).expect("calling in a"), vec![Val::I32(7)]);
        assert!(matches!(b.call(f, &[]), Err(Error::Usage(_))), "a function of store a called in store b");
        assert!(matches!(a.call(f, &[Val::I32(1)]), Err(Error::Usage(_))), "wrong argument count");

        for (import, ok) in [
            (r#"(import "a" "f" (func (result i32)))"#, false),
            (r#"(import "a" "t" (table 1 funcref))"#, false),
            (r#"(import "a" "m" (memory 1))"#, true),
            (r#"(import "a" "g" (global i32))"#, true),
        ] {
            let importer = wasm(&format!("(module {import})"));
            let got = b.instantiate(&importer, &mut |m, n| if m == "a" { inst.export(n).cloned() } else { None });
            match (ok, got) {
                (true, Ok(_)) | (false, Err(Error::Link(_))) => {}
                (_, other) => panic!("{import}: {other:?}"),
            }
        }
    });
}

#[test]
fn import_types_are_checked() {
    run_on_wasm_thread(|| {
        let mut s = Store::new(Options::new(OptLevel::O0)).expect("store");
        let inst = s
            .instantiate(
                &wasm(r#"(module (func (export "f") (param i32)) (global (export "g") (mut i32) (i32.const 1)))"#),
                &mut |_, _| None,
            )
            .expect("exporter");
        for import in [
            r#"(import "x" "f" (func (param i64)))"#,
            r#"(import "x" "f" (func (param i32) (result i32)))"#,
            r#"(import "x" "g" (global i32))"#,
            r#"(import "x" "g" (func))"#,
            r#"(import "x" "nope" (func))"#,
        ] {
            let got = s.instantiate(&wasm(&format!("(module {import})")), &mut |_, n| inst.export(n).cloned());
            assert!(matches!(got, Err(Error::Link(_))), "{import}: {got:?}");
        }
        let ok = s
            .instantiate(&wasm(r#"(module (import "x" "g" (global (mut i32))))"#), &mut |_, n| inst.export(n).cloned());
        assert!(ok.is_ok(), "{ok:?}");
    });
}
