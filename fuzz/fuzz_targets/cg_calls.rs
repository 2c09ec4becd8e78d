//! Random CG call sequences: none may panic or crash, and whatever the facade
//! accepts must verify and compile (`cfree_tests::random_calls::check`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let steps = cfree_tests::random_calls::steps_from_bytes(data);
    if let Err(finding) = cfree_tests::random_calls::check(&steps) {
        panic!("{finding}\ncalls: {steps:?}");
    }
});
