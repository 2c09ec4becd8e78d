//! With statepoint rematerialisation disabled (a process-wide LLVM option,
//! hence its own test binary), derived pointers cross safepoints as real
//! (base, derived) pairs; the moving collector must relocate each derived
//! pointer from its relocated base. Same program and checks as `gc_moving`.

use cfree_llvm_lower::OptLevel;
use cfree_tests::element_pointers;
use cfree_tests::gc_runtime::{session, HEAP};

#[test]
fn derived_pointers_relocate_as_pairs() {
    cfree_llvm_lower::disable_statepoint_rematerialization();
    for level in [OptLevel::O0, OptLevel::O2] {
        let jit = session(level);
        let pairs = jit
            .registry()
            .stackmaps()
            .filter_map(|s| s.safepoint.as_ref())
            .flat_map(|sp| sp.live.iter())
            .filter(|p| p.base != p.derived)
            .count();
        // At O2 LLVM sinks the address computation below the call, so nothing derived is
        // live across it; at O0 the pair must be there.
        if level == OptLevel::O0 {
            assert!(pairs > 0, "some safepoint carries a derived pointer at {level:?}");
        }
        let run = jit.get::<unsafe extern "C" fn(i64) -> i64>("run").unwrap();
        let before = HEAP.with(|h| h.borrow().collections);
        // SAFETY: `run` allocates through this thread's runtime.
        let got = unsafe { run.call(100) };
        assert_eq!(got, 100 * 99 / 2 * 1000 + 99, "at {level:?}");
        assert_eq!(HEAP.with(|h| h.borrow().collections) - before, 101);
    }
}

#[test]
fn array_element_pointers_relocate_as_pairs() {
    cfree_llvm_lower::disable_statepoint_rematerialization();
    for level in [OptLevel::O0, OptLevel::O2] {
        let jit = element_pointers::publish(level);
        assert!(element_pointers::derived_pairs(&jit) > 0, "&arr[i] crosses the allocation as a pair at {level:?}");
        let stats = element_pointers::run_under_stress(&jit, 200);
        assert_eq!(stats.collections, 201, "the array and each record collect at {level:?}");
        assert!(stats.poisoned);
    }
}
