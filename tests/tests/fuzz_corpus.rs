//! Replays the fixed corpus of every fuzz target (`fuzz/corpus/<target>/`) on
//! stable Rust, through the same check functions the cargo-fuzz targets call,
//! so CI runs each target's inputs without libFuzzer.

use std::path::PathBuf;

/// The corpus files of `target`; a missing or empty corpus fails the test.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()));
    let mut files: Vec<(PathBuf, Vec<u8>)> = entries
        .map(|e| {
            let path = e.expect("directory entry").path();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {} is empty", dir.display());
    files
}

#[test]
fn cg_calls_corpus() {
    let files = corpus("cg_calls");
    for (path, bytes) in &files {
        let steps = cfree_tests::random_calls::steps_from_bytes(bytes);
        if let Err(finding) = cfree_tests::random_calls::check(&steps) {
            panic!("{}: {finding}\ncalls: {steps:?}", path.display());
        }
    }
    assert!(files.len() >= 32, "{} inputs", files.len());
}

#[test]
fn stackmap_parser_corpus() {
    let files = corpus("stackmap_parser");
    for (_, bytes) in &files {
        cfree_statepoint::fuzzing::exercise(bytes);
    }
    let parsed = files.iter().filter(|(_, b)| cfree_statepoint::StackMapSection::parse(b).is_ok()).count();
    assert!(parsed >= 2, "the corpus keeps valid sections ({parsed} parse)");
}
