//! The suite as AOT objects: linked with each target's gcc and run (aarch64
//! and riscv64 under qemu-user), results compared with the Rust oracle; and
//! a wasm32 object parsed with the `object` crate.

use cfree_llvm_lower::OptLevel;
use cfree_tests::aot::{self, LinuxTarget};
use cfree_tests::programs;
use object::{Object, ObjectSymbol};

fn check(target: LinuxTarget, level: OptLevel) {
    let cases = programs::cases();
    let results = aot::build_and_run(target, level, &cases).unwrap_or_else(|e| panic!("{target:?} {level:?}: {e}"));
    for (case, got) in results {
        assert_eq!(got, case.expected(), "{case:?} on {target:?} at {level:?}");
    }
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
fn aarch64_o2_under_qemu() {
    check(LinuxTarget::Aarch64, OptLevel::O2);
}

#[test]
fn aarch64_o0_under_qemu() {
    check(LinuxTarget::Aarch64, OptLevel::O0);
}

#[test]
fn riscv64_o2_under_qemu() {
    check(LinuxTarget::Riscv64, OptLevel::O2);
}

#[test]
fn riscv64_os_under_qemu() {
    check(LinuxTarget::Riscv64, OptLevel::Os);
}

fn symbols(bytes: &[u8]) -> Vec<(String, bool)> {
    let file = object::File::parse(bytes).expect("object parses");
    file.symbols().filter_map(|s| Some((s.name().ok()?.to_string(), s.is_definition() && s.is_global()))).collect()
}

#[test]
fn wasm32_object_exports_entries() {
    let bytes = aot::suite_object("wasm32-unknown-unknown", OptLevel::O2).expect("wasm32 object");
    assert_eq!(&bytes[..4], b"\0asm", "wasm magic");
    let file = object::File::parse(&*bytes).expect("object parses wasm");
    assert_eq!(file.format(), object::BinaryFormat::Wasm);
    let syms = symbols(&bytes);
    for entry in programs::ENTRIES {
        assert!(syms.iter().any(|(n, global_def)| n == entry && *global_def), "{entry} not a global definition");
    }
    for data in ["fn_table", "greeting", "greeting_tail"] {
        assert!(syms.iter().any(|(n, global_def)| n == data && *global_def), "{data} not a global definition");
    }
    // Internal helpers and data are defined but not exported.
    for internal in ["fib", "sieve_buf", "square"] {
        assert!(syms.iter().any(|(n, global_def)| n == internal && !*global_def), "{internal} should be local");
    }
}

#[test]
fn elf_objects_define_entries_and_keep_internals_local() {
    for target in LinuxTarget::ALL {
        let bytes = aot::suite_object(target.triple(), OptLevel::O0).expect("object");
        let file = object::File::parse(&*bytes).expect("ELF parses");
        let expected_arch = match target {
            LinuxTarget::X86_64 => object::Architecture::X86_64,
            LinuxTarget::Aarch64 => object::Architecture::Aarch64,
            LinuxTarget::Riscv64 => object::Architecture::Riscv64,
        };
        assert_eq!(file.architecture(), expected_arch);
        let syms = symbols(&bytes);
        for entry in programs::ENTRIES {
            assert!(syms.iter().any(|(n, g)| n == entry && *g), "{entry} on {target:?}");
        }
        for internal in ["fib", "sieve_buf", "square"] {
            assert!(!syms.iter().any(|(n, g)| n == internal && *g), "{internal} leaked on {target:?}");
        }
    }
}
