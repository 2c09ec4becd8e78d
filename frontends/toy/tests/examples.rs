//! The example programs: each checks, and the reference interpreter
//! reproduces every expected output file `examples/NAME.N.out` (stdout of
//! `main(N)`, which returns 0).

mod oracle;

use cfree_toy::typed::{TypeId, TypedProgram, WORD};
use std::path::{Path, PathBuf};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

fn load(name: &str) -> TypedProgram {
    let path = examples_dir().join(format!("{name}.toy"));
    let source = std::fs::read_to_string(&path).unwrap();
    cfree_toy::check(&path.display().to_string(), &source)
        .unwrap_or_else(|errors| panic!("{}", cfree_toy::diag::render_all(&errors, &source)))
}

/// Runs `name` with `n` on a thread with a stack deep enough for Peano's
/// recursion in an unoptimized interpreter; returns stdout.
fn run(name: &'static str, n: i64) -> String {
    let outcome = std::thread::Builder::new()
        .stack_size(2 << 30)
        .spawn(move || oracle::run(&load(name), n))
        .unwrap()
        .join()
        .unwrap();
    match outcome {
        Ok(outcome) => {
            assert_eq!(outcome.exit, 0, "exit status of {name} {n}");
            outcome.stdout
        }
        Err((error, stdout)) => panic!("{name} {n}: runtime error {error}\nafter printing:\n{stdout}"),
    }
}

fn expected(name: &str, n: i64) -> String {
    std::fs::read_to_string(examples_dir().join(format!("{name}.{n}.out"))).unwrap()
}

fn assert_output(name: &'static str, n: i64) {
    assert_eq!(run(name, n), expected(name, n), "output of {name} {n}");
}

#[test]
fn every_example_checks() {
    let mut names: Vec<String> = std::fs::read_dir(examples_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toy"))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "basics",
            "binarytrees",
            "binarytrees_spawn",
            "chain_tasks",
            "fannkuchredux",
            "nbody",
            "peano",
            "recover",
            "spectralnorm"
        ]
    );
    for name in &names {
        load(name);
    }
}

#[test]
fn every_expected_output_has_its_example() {
    for entry in std::fs::read_dir(examples_dir()).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(stem) = file.strip_suffix(".out") {
            let (name, n) = stem.rsplit_once('.').unwrap();
            assert!(examples_dir().join(format!("{name}.toy")).exists(), "{file}");
            n.parse::<i64>().unwrap();
        }
    }
}

#[test]
fn basics_output() {
    assert_output("basics", 5);
}

#[test]
fn binarytrees_output_matches_the_benchmarks_game() {
    assert_output("binarytrees", 4);
    assert_output("binarytrees", 10);
}

/// `recover.10.out` is written by hand from Go's semantics of the same program.
#[test]
fn recover_output() {
    assert_output("recover", 10);
}

#[test]
fn numeric_benchmarks_match_the_c_programs() {
    assert_output("nbody", 1000);
    assert_output("spectralnorm", 100);
    assert_output("fannkuchredux", 7);
}

/// `peano.9.out` is Go's output for the original program. The interpreter
/// confirms the port up to 8! (recursion 40,320 deep): its 9! needs a
/// recursion 362,880 deep, more than an unoptimized tree walker's stack
/// allows; the compiled program gets the full run.
#[test]
fn peano_output_matches_go() {
    let full = expected("peano", 9);
    let first_nine: String = full.split_inclusive('\n').take(9).collect();
    assert_eq!(run("peano", 8), first_nine);
}

#[test]
fn record_layout_puts_references_first() {
    let program = load("basics");
    let node = program.records.iter().find(|r| r.name == "Node").unwrap();
    let offsets: Vec<(&str, u32, bool)> = node.fields.iter().map(|f| (f.name.as_str(), f.offset, f.is_ref)).collect();
    assert_eq!(offsets, [("value", 24, false), ("next", 0, true), ("tags", 8, true), ("label", 16, true)]);
    assert_eq!((node.ref_fields, node.size), (3, 4 * WORD));
    assert_eq!(program.types.name(node.fields[2].ty), "[bool]");
    let empty = program.records.iter().find(|r| r.name == "Empty").unwrap();
    assert_eq!((empty.ref_fields, empty.size), (0, 0));
    let point = program.records.iter().find(|r| r.name == "Point").unwrap();
    assert!(point.fields.iter().all(|f| f.ty == TypeId::FLOAT && !f.is_ref));
}

#[test]
fn locals_are_numbered_with_parameters_first() {
    let program = load("binarytrees");
    let main = program.function(program.main);
    assert_eq!(main.params, 1);
    let names: Vec<&str> = main.locals.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        ["n", "min_depth", "max_depth", "stretch_depth", "check", "long_lived_tree", "depth", "iterations", "i"]
    );
    let refs: Vec<&str> = main.locals.iter().filter(|l| l.is_ref).map(|l| l.name.as_str()).collect();
    assert_eq!(refs, ["long_lived_tree"]);
}

#[test]
fn float_formatting_is_c_percent_point_nine_f() {
    let cases = [
        (1.0 / 3.0, "0.333333333"),
        (-0.0, "-0.000000000"),
        (123456.789, "123456.789000000"),
        (2.5e-10, "0.000000000"),
    ];
    for (value, text) in cases {
        assert_eq!(oracle::format_float(value), text);
    }
    assert_eq!(oracle::format_float(f64::NAN), "nan");
    assert_eq!(oracle::format_float(-f64::NAN), "nan");
    assert_eq!(oracle::format_float(f64::NEG_INFINITY), "-inf");
}
