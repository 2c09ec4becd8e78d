//! Object and assembly emission for every supported target at every
//! optimisation level: the optimised module still verifies, objects parse as
//! the right architecture, and assembly names the entry points.

use cfree_facade::TargetSpec;
use cfree_llvm_lower::{LlvmContext, OptLevel};
use cfree_tests::programs;
use object::Object;

const TARGETS: [(&str, object::Architecture); 4] = [
    ("x86_64-unknown-linux-gnu", object::Architecture::X86_64),
    ("aarch64-unknown-linux-gnu", object::Architecture::Aarch64),
    ("riscv64-unknown-linux-gnu", object::Architecture::Riscv64),
    ("wasm32-unknown-unknown", object::Architecture::Wasm32),
];

const LEVELS: [OptLevel; 5] = [OptLevel::O0, OptLevel::O1, OptLevel::O2, OptLevel::O3, OptLevel::Os];

#[test]
fn objects_and_assembly_for_every_target_and_level() {
    for (triple, arch) in TARGETS {
        for level in LEVELS {
            let llvm = LlvmContext::new();
            let mut cg = llvm.module("suite", &TargetSpec::triple(triple)).unwrap();
            programs::emit_suite(&mut cg).unwrap();
            let mut module = cfree_llvm_lower::finish(cg).unwrap();
            module.optimize(level).unwrap_or_else(|e| panic!("{triple} {level:?}: {e}"));
            module.verify().unwrap_or_else(|e| panic!("{triple} {level:?} after passes: {e}"));
            let obj = module.object().unwrap();
            let file = object::File::parse(&*obj).unwrap();
            assert_eq!(file.architecture(), arch, "{triple}");
            let asm = module.assembly().unwrap();
            for entry in programs::ENTRIES {
                assert!(asm.contains(entry), "{triple} {level:?}: {entry} missing from assembly");
            }
        }
    }
}

#[test]
fn optimisation_changes_code() {
    // O0 promotes the slots whose address never escapes (mem2reg); O2 does more.
    let ir_at = |level| {
        let llvm = LlvmContext::new();
        let mut cg = llvm.module("suite", &TargetSpec::triple("x86_64-unknown-linux-gnu")).unwrap();
        programs::emit_suite(&mut cg).unwrap();
        let mut module = cfree_llvm_lower::finish(cg).unwrap();
        let before = module.ir();
        module.optimize(level).unwrap();
        (before, module.ir())
    };
    let ((emitted, o0), (_, o2)) = (ir_at(OptLevel::O0), ir_at(OptLevel::O2));
    assert_ne!(o0, o2, "O2 optimises further");
    let count = |ir: &str, what: &str| ir.matches(what).count();
    assert!(count(&emitted, "alloca") > 20);
    assert!(count(&o0, "alloca") < count(&emitted, "alloca") / 4, "mem2reg ran at O0");
    assert!(count(&o0, " load ") < count(&emitted, " load ") / 2, "promoted slots are not reloaded at O0");
}
