//! The spec suite: every `.wast` file of the flat set, at O0 and O2, against
//! the per-file pass counts recorded in `spec-expected.tsv`. A file that
//! passes fewer directives (or fails more) than recorded fails the test;
//! `CFREE_BLESS=1` rewrites the record. The suite is found at
//! `$CFREE_WASM_SPEC`, or `../shared/testdata/wasm-spec` beside the repository.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use cfree_llvm_lower::OptLevel;
use cfree_wasm::runtime::run_on_wasm_thread;
use cfree_wasm::script;

const EXPECTED: &str = "spec-expected.tsv";

/// Serializes reading and rewriting the expectations file across the two tests.
static FILE_LOCK: Mutex<()> = Mutex::new(());

fn suite_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CFREE_WASM_SPEC") {
        return Some(PathBuf::from(dir));
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/wasm-spec");
    dir.is_dir().then_some(dir)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Counts {
    passed: usize,
    failed: usize,
    skipped: usize,
}

type Key = (String, String);

fn read_expected() -> BTreeMap<Key, Counts> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(EXPECTED);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 5, "{EXPECTED}: bad line `{line}`");
        let n = |s: &str| s.parse::<usize>().unwrap_or_else(|_| panic!("{EXPECTED}: bad count in `{line}`"));
        out.insert((f[0].to_string(), f[1].to_string()), Counts { passed: n(f[2]), failed: n(f[3]), skipped: n(f[4]) });
    }
    out
}

fn write_expected(map: &BTreeMap<Key, Counts>) {
    let mut text =
        String::from("# file\topt\tpassed\tfailed\tskipped (cfree-wasm spec suite; CFREE_BLESS=1 rewrites)\n");
    for ((file, opt), c) in map {
        text.push_str(&format!("{file}\t{opt}\t{}\t{}\t{}\n", c.passed, c.failed, c.skipped));
    }
    std::fs::write(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(EXPECTED), text).expect("writing expectations");
}

fn run_suite(opt: OptLevel, name: &str) {
    let Some(dir) = suite_dir() else {
        eprintln!(
            "SKIPPED: the wasm spec suite is absent (set CFREE_WASM_SPEC or provide ../shared/testdata/wasm-spec); \
             nothing was checked"
        );
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "wast"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}: no .wast files", dir.display());
    let mut got = BTreeMap::new();
    for path in &files {
        let file = path.file_name().expect("file name").to_string_lossy().to_string();
        let source = std::fs::read_to_string(path).expect("reading a .wast file");
        let report = run_on_wasm_thread(|| script::run(&file, &source, opt)).unwrap_or_else(|e| panic!("{e}"));
        for f in &report.failures {
            eprintln!("{name}: FAIL {f}");
        }
        let counts = Counts { passed: report.passed, failed: report.failed(), skipped: report.skipped.len() };
        got.insert((file, name.to_string()), counts);
    }
    let _lock = FILE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut expected = read_expected();
    if std::env::var_os("CFREE_BLESS").is_some_and(|v| v == "1") {
        expected.retain(|(_, opt), _| opt != name);
        expected.extend(got);
        write_expected(&expected);
        return;
    }
    let mut regressions = Vec::new();
    for (key, c) in &got {
        match expected.get(key) {
            None => regressions.push(format!("{} at {}: not in {EXPECTED} (run with CFREE_BLESS=1)", key.0, key.1)),
            Some(e) if c.passed < e.passed || c.failed > e.failed => {
                regressions.push(format!("{} at {}: {c:?}, expected {e:?}", key.0, key.1))
            }
            Some(e) if c != e => eprintln!("{} at {}: improved to {c:?} from {e:?}; bless it", key.0, key.1),
            Some(_) => {}
        }
    }
    for key in expected.keys().filter(|k| k.1 == name && !got.contains_key(*k)) {
        regressions.push(format!("{} at {}: recorded but the file is gone", key.0, key.1));
    }
    let total: usize = got.values().map(|c| c.passed).sum();
    eprintln!("{name}: {total} directives passed in {} files", got.len());
    assert!(regressions.is_empty(), "spec suite regressions:\n{}", regressions.join("\n"));
}

#[test]
fn spec_suite_o0() {
    run_suite(OptLevel::O0, "O0");
}

#[test]
fn spec_suite_o2() {
    run_suite(OptLevel::O2, "O2");
}
