//! Toy executables carry debug information by default (`-g0` turns it off):
//! gdb, in batch mode, breaks at a line of `binarytrees.toy`, shows the
//! parameters and variables under their Toy names and values, and walks a
//! backtrace of Toy functions back to `main`.

use std::path::Path;
use std::process::Command;

mod common;
use common::{example, Scratch};

fn build(file: &Path, out: &Path, args: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_cfree-toy"))
        .arg("build")
        .arg(file)
        .arg("-o")
        .arg(out)
        .args(args)
        .output()
        .expect("cfree-toy runs");
    assert!(o.status.success(), "building: {}", String::from_utf8_lossy(&o.stderr));
}

fn gdb(exe: &Path, commands: &[&str]) -> String {
    let mut cmd = Command::new("gdb");
    cmd.args(["-nx", "-batch"]);
    for c in commands {
        cmd.args(["-ex", c]);
    }
    let out = cmd.arg(exe).output().expect("gdb (ci/bootstrap installs it)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn has_section(exe: &Path, name: &str) -> bool {
    let out = Command::new("readelf").arg("-S").arg(exe).output().expect("readelf");
    String::from_utf8_lossy(&out.stdout).contains(name)
}

#[test]
fn gdb_breaks_in_toy_source_and_shows_toy_frames_and_variables() {
    let dir = Scratch::new("toy-gdb");
    let exe = dir.path("binarytrees");
    build(&example("binarytrees.toy"), &exe, &["-O0"]);
    assert!(has_section(&exe, ".debug_info"));
    // Line 60 is `check = check + item_check(bottom_up_tree(depth));` in main's inner loop.
    let text = gdb(&exe, &["break binarytrees.toy:60", "run 6", "info args", "info locals", "bt 2"]);
    let expect = |needle: &str| assert!(text.contains(needle), "gdb output lacks `{needle}`:\n{text}");
    expect("Breakpoint 1 at ");
    expect("binarytrees.toy, line 60.");
    expect("hit Breakpoint 1, main (n=6) at ");
    expect("binarytrees.toy:60\n");
    expect("60\t            check = check + item_check(bottom_up_tree(depth));");
    expect("n = 6");
    // main's variables, with the values the program has computed by then.
    for local in ["min_depth = 4", "max_depth = 6", "stretch_depth = 7", "depth = 4", "iterations = 64", "i = 1"] {
        expect(local);
    }
    expect("long_lived_tree = 0x");
    expect("check = 0");
    expect("#1  0x");
    expect(" in toy.entry (n=6) at ");
    expect("binarytrees.toy:40\n");

    // Deeper: a backtrace of Toy frames.
    let text = gdb(&exe, &["break binarytrees.toy:25", "run 6", "bt 3", "up 2", "print n"]);
    let expect = |needle: &str| assert!(text.contains(needle), "gdb output lacks `{needle}`:\n{text}");
    expect("hit Breakpoint 1, item_check (n=0x");
    expect("#1  0x");
    expect(" in item_check (n=0x");
    expect("binarytrees.toy:27\n");
    expect("27\t    return 1 + item_check(n.left) + item_check(n.right);");
}

#[test]
fn minus_g0_emits_no_debug_information() {
    let dir = Scratch::new("toy-g0");
    let exe = dir.path("binarytrees");
    build(&example("binarytrees.toy"), &exe, &["-O2", "-g0"]);
    // The runtime library may carry its own DWARF: look for the program's.
    let out = Command::new("llvm-dwarfdump-19").arg("--debug-info").arg(&exe).output().expect("llvm-dwarfdump-19");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("binarytrees.toy"), "-g0 still describes the program:\n{}", &text[..text.len().min(2000)]);
    let exe_g = dir.path("binarytrees-g");
    build(&example("binarytrees.toy"), &exe_g, &["-O2"]);
    let out = Command::new("llvm-dwarfdump-19").arg("--debug-info").arg(&exe_g).output().expect("llvm-dwarfdump-19");
    assert!(String::from_utf8_lossy(&out.stdout).contains("binarytrees.toy"));
}
