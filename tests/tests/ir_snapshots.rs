//! Golden IR (O0, x86_64 Linux) of representative suite functions, reviewed
//! with insta. A snapshot alone proves nothing about behaviour, so each test
//! also runs the same functions through the JIT against the Rust oracle.
//! Snapshots are kept per LLVM major, whose printers differ slightly.

use cfree_facade::TargetSpec;
use cfree_llvm_lower::{LlvmContext, OptLevel, LLVM_MAJOR};
use cfree_tests::{jit, programs};

fn lowered(symbols: &[&str]) -> String {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("suite", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
    programs::emit_suite(&mut cg).unwrap();
    let module = cfree_llvm_lower::finish(cg).unwrap();
    module.verify().expect("verifier");
    symbols
        .iter()
        .map(|name| {
            let ir = module.symbol_ir(name).expect("symbol exists");
            if ir.ends_with('\n') {
                ir
            } else {
                ir + "\n"
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn executes(funcs: &[&str]) {
    let cases: Vec<_> = programs::cases().into_iter().filter(|c| funcs.contains(&c.func)).collect();
    assert!(!cases.is_empty());
    for (case, got) in jit::run_suite(OptLevel::O0, &cases).unwrap() {
        assert_eq!(got, case.expected(), "{case:?}");
    }
}

fn snapshot(name: &str, ir: String) {
    insta::with_settings!({ snapshot_suffix => format!("llvm{LLVM_MAJOR}"), prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, ir);
    });
}

#[test]
fn recursion_and_internal_linkage() {
    snapshot("fib", lowered(&["fib", "t_fib"]));
    executes(&["t_fib"]);
}

#[test]
fn loop_with_locals() {
    snapshot("sum_loop", lowered(&["t_sum_loop"]));
    executes(&["t_sum_loop"]);
}

#[test]
fn indirect_call_through_relocated_table() {
    snapshot("fnptr", lowered(&["fn_table", "t_fnptr"]));
    executes(&["t_fnptr"]);
}

#[test]
fn data_with_relocation_addend() {
    snapshot("reloc", lowered(&["greeting", "greeting_tail", "t_reloc"]));
    executes(&["t_reloc"]);
}

#[test]
fn record_fields_by_offset() {
    snapshot("record", lowered(&["t_record"]));
    executes(&["t_record"]);
}
