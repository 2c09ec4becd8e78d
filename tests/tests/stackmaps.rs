//! The stack map parser against LLVM's own reader: `tests/data/stackmaps.ll`
//! (stackmap intrinsics with register, constant, large-constant and alloca
//! operands) is compiled by `llc-19` for x86_64 and aarch64, parsed by
//! `cfree-statepoint`, printed in `llvm-readobj --stackmap`'s format and
//! compared line by line with what llvm-readobj prints.

use std::process::Command;

use cfree_statepoint::{LocationKind, StackMapSection};
use object::{Object, ObjectSection};

const LLVM_BIN: &str = "/usr/lib/llvm-19/bin";

fn render(s: &StackMapSection<'_>) -> Vec<String> {
    let mut out = vec!["LLVM StackMap Version: 3".to_string(), format!("Num Functions: {}", s.functions().count())];
    for f in s.functions() {
        out.push(format!(
            "  Function address: {}, stack size: {}, callsite record count: {}",
            f.function_address, f.stack_size, f.record_count
        ));
    }
    let constants: Vec<u64> = s.constants().collect();
    out.push(format!("Num Constants: {}", constants.len()));
    for (i, c) in constants.iter().enumerate() {
        out.push(format!("  #{}: {c}", i + 1));
    }
    out.push(format!("Num Records: {}", s.num_records()));
    for r in s.records() {
        out.push(format!("  Record ID: {}, instruction offset: {}", r.id, r.instruction_offset));
        out.push(format!("    {} locations:", r.num_locations()));
        for (i, l) in r.locations().enumerate() {
            let what = match l.kind {
                LocationKind::Register => format!("Register R#{}", l.dwarf_reg),
                LocationKind::Direct => format!("Direct R#{} + {}", l.dwarf_reg, l.offset),
                LocationKind::Indirect => format!("Indirect [R#{} + {}]", l.dwarf_reg, l.offset),
                LocationKind::Constant => format!("Constant {}", l.offset),
                LocationKind::ConstantIndex => {
                    format!("ConstantIndex #{} ({})", l.offset, constants[l.offset as usize])
                }
            };
            out.push(format!("      #{}: {what}, size: {}", i + 1, l.size));
        }
        let live: Vec<String> = r.live_outs().map(|l| format!("R#{} ({}-bytes) ", l.dwarf_reg, l.size)).collect();
        out.push(format!("    {} live-outs: [ {}]", live.len(), live.concat()));
    }
    out
}

fn check(triple: &str) {
    let dir = cfree_tests::aot::scratch_dir("stackmaps").unwrap();
    let obj = dir.join("sm.o");
    let ll = concat!(env!("CARGO_MANIFEST_DIR"), "/data/stackmaps.ll");
    let st = Command::new(format!("{LLVM_BIN}/llc"))
        .args(["-filetype=obj", &format!("-mtriple={triple}"), ll, "-o"])
        .arg(&obj)
        .status()
        .expect("llc-19 runs (installed by ci/bootstrap)");
    assert!(st.success());
    let oracle = Command::new(format!("{LLVM_BIN}/llvm-readobj")).arg("--stackmap").arg(&obj).output().unwrap();
    let oracle = String::from_utf8(oracle.stdout).unwrap();
    let expected: Vec<String> =
        oracle.lines().skip_while(|l| !l.starts_with("LLVM StackMap")).map(|l| l.trim_end().to_string()).collect();
    let bytes = std::fs::read(&obj).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let section = file.section_by_name(".llvm_stackmaps").expect("stack map section");
    let parsed = StackMapSection::parse(section.data().unwrap()).unwrap();
    let ours: Vec<String> = render(&parsed).into_iter().map(|l| l.trim_end().to_string()).collect();
    assert_eq!(ours, expected, "{triple}");
    assert_eq!(parsed.num_records(), 3);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn x86_64_matches_llvm_readobj() {
    check("x86_64-unknown-linux-gnu");
}

#[test]
fn aarch64_matches_llvm_readobj() {
    check("aarch64-unknown-linux-gnu");
}
