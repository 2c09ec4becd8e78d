//! `cfree-demo`: the main job. Emits the test suite through the CG API, runs
//! it in the ORC JIT, builds objects for x86_64, aarch64, riscv64 and wasm32,
//! links and runs the first three (aarch64 and riscv64 under qemu-user),
//! checks the wasm32 object's symbols, and prints every result beside the
//! Rust oracle. Exits non-zero on any mismatch or failure.

use std::process::ExitCode;

use cfree_llvm_lower::{OptLevel, LLVM_MAJOR};
use cfree_tests::aot::{self, LinuxTarget};
use cfree_tests::{jit, programs};

fn main() -> ExitCode {
    match run() {
        Ok(true) => {
            println!("\nall results match the oracle on every path");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            println!("\nMISMATCH: see the rows marked above");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("cfree-demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let host = cfree_llvm_lower::host_spec();
    println!(
        "cfree-llvm demo  (LLVM {LLVM_MAJOR}, host {} / {})",
        host.triple.unwrap_or_default(),
        host.cpu.unwrap_or_default()
    );
    let cases = programs::cases();

    let jit_results = jit::run_suite(OptLevel::O2, &cases)?;
    println!("jit     : {} calls run in-process (O2)", jit_results.len());

    let mut columns = vec![("jit", jit_results.iter().map(|r| r.1).collect::<Vec<_>>())];
    for target in LinuxTarget::ALL {
        let results = aot::build_and_run(target, OptLevel::O2, &cases)?;
        let how = if target == LinuxTarget::X86_64 { "native" } else { "qemu-user" };
        println!("{:<8}: object linked with gcc, {} calls run ({how})", short(target), results.len());
        columns.push((short(target), results.iter().map(|r| r.1).collect()));
    }

    let wasm = cfree_tests::wasm::build_and_run(OptLevel::O2, &cases)?;
    println!("wasm32  : object linked with wasm-ld, {} calls run in wasmi (a WebAssembly engine)", wasm.len());
    columns.push(("wasm32", wasm.iter().map(|r| r.1).collect()));

    println!(
        "\n{:<28} {:>21} {}",
        "case",
        "oracle",
        columns.iter().map(|c| format!("{:>21}", c.0)).collect::<String>()
    );
    let mut ok = true;
    for (i, case) in cases.iter().enumerate() {
        let expected = case.expected();
        let row_ok = columns.iter().all(|c| c.1[i] == expected);
        ok &= row_ok;
        let label = format!("{}({}, {})", case.func, case.a, case.b);
        let label = if label.len() > 28 { format!("{}...", &label[..25]) } else { label };
        let values: String = columns.iter().map(|c| format!("{:>21}", c.1[i])).collect();
        println!("{label:<28} {expected:>21}{values}{}", if row_ok { "" } else { "   <-- MISMATCH" });
    }
    Ok(ok)
}

fn short(t: LinuxTarget) -> &'static str {
    match t {
        LinuxTarget::X86_64 => "x86_64",
        LinuxTarget::Aarch64 => "aarch64",
        LinuxTarget::Riscv64 => "riscv64",
    }
}
