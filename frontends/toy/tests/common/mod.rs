//! Helpers shared by the toy language's test files (each uses a part).
#![allow(dead_code)]

use std::path::PathBuf;

/// `examples/NAME` of the toy crate.
pub fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples").join(name)
}

/// The Benchmarks Game output of binary-trees for `n`, from the shared test
/// data (`../shared/testdata` beside the checkout, or `$CFREE_SHARED_TESTDATA`).
pub fn shared_binarytrees(n: u32) -> String {
    shared_output("binarytrees", n)
}

/// The expected output of the Benchmarks Game program `bench` (`nbody`,
/// `spectralnorm`, `fannkuchredux`, ...) for `n`, from the shared test data
/// (outputs of the C programs, see `bench/README.md` there).
pub fn shared_output(bench: &str, n: u32) -> String {
    let dir = std::env::var("CFREE_SHARED_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata"));
    let path = dir.join(format!("bench/{bench}/generated/{n}_out"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is absent (set CFREE_SHARED_TESTDATA)", path.display()))
}

/// A scratch directory, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    /// A fresh directory for this process and `tag`.
    pub fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("cfree-toy-test-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// `name` inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The collector's statistics line (`CFREE_TOY_STATS=1`) in `stderr`.
#[derive(Debug)]
pub struct GcStats {
    pub collections: u64,
    pub copied: u64,
    pub roots: u64,
    pub frames: u64,
    pub barriers: u64,
    pub dirty_cards: u64,
    pub major_collections: u64,
    pub marked: u64,
}

/// The number before `name` in the statistics line (`gc: ...`) in `stderr`,
/// e.g. `gc_stat(stderr, "tasks")`.
#[allow(dead_code)] // not every test binary that includes this module uses it
pub fn gc_stat(stderr: &str, name: &str) -> u64 {
    let line = stderr.lines().find(|l| l.starts_with("gc: ")).unwrap_or_else(|| panic!("no statistics: {stderr}"));
    let before = line.split(&format!(" {name}")).next().filter(|b| b.len() < line.len());
    let before = before.unwrap_or_else(|| panic!("no `{name}` in {line}"));
    before.rsplit([' ', ',']).next().unwrap().parse().unwrap_or_else(|_| panic!("`{name}` in {line}"))
}

/// Parses `gc: C collections, W words copied, R roots, ... F frames walked, ... B barriers, D dirty cards, ...`.
pub fn gc_stats(stderr: &str) -> GcStats {
    let field = |name: &str| gc_stat(stderr, name);
    GcStats {
        collections: field("collections"),
        copied: field("words copied"),
        roots: field("roots"),
        frames: field("frames walked"),
        barriers: field("barriers"),
        dirty_cards: field("dirty cards"),
        major_collections: field("major collections"),
        marked: field("words marked"),
    }
}

/// Checks a binary-trees N=6 run under `CFREE_GC_STRESS=1 CFREE_TOY_STATS=1`:
/// success, the expected output, and a collector that really collected at
/// every allocation, copied objects and found its roots through stack maps.
pub fn check_stress_run((stdout, stderr, code): (String, String, i32), level: &str) -> GcStats {
    let expected = std::fs::read_to_string(example("binarytrees.4.out")).unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, expected, "stress at {level}");
    let stats = gc_stats(&stderr);
    assert!(stats.collections > 1000, "a collection per allocation ({stderr})");
    assert!(stats.copied > stats.collections, "live objects were copied ({stderr})");
    assert!(stats.roots > stats.collections, "roots came from stack maps ({stderr})");
    stats
}

/// The environment of [`check_stress_run`].
pub const STRESS_ENV: [(&str, &str); 2] = [("CFREE_GC_STRESS", "1"), ("CFREE_TOY_STATS", "1")];

/// A division by zero three calls deep: `main` calls `f` at 8:12, `f` calls
/// `g` at 5:12, `g` divides at 2:12.
pub const DEEP_SOURCE: &str = "fn g(d: int) -> int {\n    return 1 / d;\n}\nfn f(d: int) -> int {\n    return g(d) + 1;\n}\nfn main(n: int) -> int {\n    return f(n - n);\n}\n";

/// Checks the runtime error of [`DEEP_SOURCE`] in `stderr`: its position, then
/// the callers' positions, all of them if `all_frames`, else a subsequence
/// (LLVM inlines `g` and `f` at O2, and without debug information inlined
/// calls have no frames).
pub fn check_deep_backtrace(stderr: &str, all_frames: bool) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines[0].ends_with("deep.toy:2:12: runtime error: division by zero or overflow"), "{stderr}");
    let callers: Vec<&str> = lines[1..].iter().map(|l| l.rsplit('/').next().unwrap()).collect();
    let expected = ["deep.toy:5:12", "deep.toy:8:12"];
    if all_frames {
        assert_eq!(callers, expected, "g's caller, then f's: {stderr}");
    } else {
        let mut rest = expected.iter();
        assert!(callers.iter().all(|c| rest.any(|e| e == c)), "a subsequence of {expected:?}: {stderr}");
    }
}

/// Globals holding values and references, a reference global rebuilt in a
/// loop (under GC stress it is a root at every collection), an initializer
/// calling a function, and a local hiding a global; `main(10)` prints
/// [`GLOBALS_OUTPUT`].
pub const GLOBALS_SOURCE: &str = "type Node { value: int, next: Node }
let base = 40;
let half: float = 0.5;
let list: Node = nil;
let first = make(base + 2);
fn make(v: int) -> Node {
    return new Node { value: v, next: nil };
}
fn push(v: int) {
    list = new Node { value: v, next: list };
    base = base + 1;
}
fn main(n: int) -> int {
    for i in 0..n {
        push(i);
    }
    let s = 0;
    let l = list;
    while l != nil {
        s = s + l.value;
        l = l.next;
    }
    let base = 1;
    print(s, \" \", base, \" \", first.value, \" \", half);
    print(list.value, \" \", list.next.value);
    return 0;
}
";

/// The output of [`GLOBALS_SOURCE`] for N = 10.
pub const GLOBALS_OUTPUT: &str = "45 1 42 0.500000000\n9 8\n";
