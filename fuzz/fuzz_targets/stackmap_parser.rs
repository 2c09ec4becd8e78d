//! The stack map parser and the safepoint decoder on arbitrary bytes: they
//! either parse (and then iterate fully) or fail with an offset, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cfree_statepoint::fuzzing::exercise(data);
});
