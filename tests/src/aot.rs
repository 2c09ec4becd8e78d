//! Ahead-of-time builds of the suite: emit an object for a target, link it
//! with the C driver using that target's gcc, and run it (under qemu-user for
//! foreign architectures).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use cfree_facade::TargetSpec;
use cfree_llvm_lower::{LlvmContext, OptLevel};

use crate::programs::{emit_suite, Case};

/// The C driver that calls the suite's entry points.
pub const DRIVER_C: &str = include_str!("../c/driver.c");

/// A Linux target the suite is linked and run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinuxTarget {
    /// The host, linked with gcc and run directly.
    X86_64,
    /// Linked statically with the cross gcc, run under qemu-aarch64.
    Aarch64,
    /// Linked statically with the cross gcc, run under qemu-riscv64.
    Riscv64,
}

impl LinuxTarget {
    /// All of them.
    pub const ALL: [LinuxTarget; 3] = [LinuxTarget::X86_64, LinuxTarget::Aarch64, LinuxTarget::Riscv64];

    /// The target triple.
    pub fn triple(self) -> &'static str {
        match self {
            LinuxTarget::X86_64 => "x86_64-unknown-linux-gnu",
            LinuxTarget::Aarch64 => "aarch64-unknown-linux-gnu",
            LinuxTarget::Riscv64 => "riscv64-unknown-linux-gnu",
        }
    }

    fn compiler(self) -> &'static str {
        match self {
            LinuxTarget::X86_64 => "gcc",
            LinuxTarget::Aarch64 => "aarch64-linux-gnu-gcc",
            LinuxTarget::Riscv64 => "riscv64-linux-gnu-gcc",
        }
    }

    /// A command that runs `exe` on this target (through qemu-user if foreign).
    pub fn command(self, exe: &Path) -> Command {
        match self.runner() {
            Some(qemu) => {
                let mut c = Command::new(qemu);
                c.arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    fn runner(self) -> Option<&'static str> {
        match self {
            LinuxTarget::X86_64 => None,
            LinuxTarget::Aarch64 => Some("qemu-aarch64"),
            LinuxTarget::Riscv64 => Some("qemu-riscv64"),
        }
    }
}

/// Errors of the AOT pipeline, as text with the failing step.
pub type AotError = String;

/// Emits the suite for `triple` at `level` and returns the object bytes.
pub fn suite_object(triple: &str, level: OptLevel) -> Result<Vec<u8>, AotError> {
    let llvm = LlvmContext::new();
    let mut cg = llvm.module("suite", &TargetSpec::triple(triple)).map_err(|e| e.to_string())?;
    emit_suite(&mut cg).map_err(|e| format!("emitting the suite: {e}"))?;
    let mut module = cfree_llvm_lower::finish(cg).map_err(|e| e.to_string())?;
    module.emit_object(level).map_err(|e| e.to_string())
}

/// A fresh scratch directory under the system temp dir.
pub fn scratch_dir(tag: &str) -> Result<PathBuf, AotError> {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir =
        std::env::temp_dir().join(format!("cfree-{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    Ok(dir)
}

fn run_tool(cmd: &mut Command, what: &str) -> Result<Vec<u8>, AotError> {
    let out =
        cmd.output().map_err(|e| format!("{what}: cannot run {:?} ({e}); run ci/bootstrap", cmd.get_program()))?;
    if !out.status.success() {
        return Err(format!("{what} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)));
    }
    Ok(out.stdout)
}

/// Links `object` with the suite's C driver into an executable in `dir`.
pub fn link(target: LinuxTarget, object: &[u8], dir: &Path) -> Result<PathBuf, AotError> {
    link_with(target, object, DRIVER_C, dir)
}

/// Links `object` with the C source `driver` (and libm) into an executable in `dir`.
pub fn link_with(target: LinuxTarget, object: &[u8], driver: &str, dir: &Path) -> Result<PathBuf, AotError> {
    let obj = dir.join("module.o");
    let driver_path = dir.join("driver.c");
    let exe = dir.join("program");
    std::fs::write(&obj, object).map_err(|e| e.to_string())?;
    std::fs::write(&driver_path, driver).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(target.compiler());
    cmd.arg("-O1").arg(&driver_path).arg(&obj).arg("-o").arg(&exe).arg("-lm");
    if target != LinuxTarget::X86_64 {
        cmd.arg("-static");
    }
    run_tool(&mut cmd, &format!("linking for {}", target.triple()))?;
    Ok(exe)
}

/// Runs a linked suite on `cases` and returns each case with the result the binary printed.
pub fn run(target: LinuxTarget, exe: &Path, cases: &[Case]) -> Result<Vec<(Case, i64)>, AotError> {
    let mut cmd = target.command(exe);
    for c in cases {
        cmd.arg(c.func).arg(c.a.to_string()).arg(c.b.to_string());
    }
    let stdout = run_tool(&mut cmd, &format!("running the {} binary", target.triple()))?;
    parse_results(&String::from_utf8_lossy(&stdout), cases)
}

/// Parses "name a b result" lines, checking they answer `cases` in order.
pub fn parse_results(text: &str, cases: &[Case]) -> Result<Vec<(Case, i64)>, AotError> {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() != cases.len() {
        return Err(format!("expected {} result lines, got {}:\n{text}", cases.len(), lines.len()));
    }
    cases
        .iter()
        .zip(lines)
        .map(|(c, line)| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let echoed = f.len() == 4 && f[0] == c.func && f[1] == c.a.to_string() && f[2] == c.b.to_string();
            if !echoed {
                return Err(format!("unexpected line {line:?} for {c:?}"));
            }
            f[3].parse::<i64>().map(|r| (*c, r)).map_err(|e| format!("bad result in {line:?}: {e}"))
        })
        .collect()
}

/// Emits, links and runs the suite for `target` at `level`.
pub fn build_and_run(target: LinuxTarget, level: OptLevel, cases: &[Case]) -> Result<Vec<(Case, i64)>, AotError> {
    let object = suite_object(target.triple(), level)?;
    let dir = scratch_dir(target.triple())?;
    let exe = link(target, &object, &dir)?;
    let results = run(target, &exe, cases);
    let _ = std::fs::remove_dir_all(&dir);
    results
}
