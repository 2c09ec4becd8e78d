//! No panic crosses the runtime's `extern "C"` entries: a panic inside one is
//! reported (naming the entry) and the process aborts; it never unwinds into
//! the caller. Each case runs in a child process (this test binary again,
//! with `CFREE_TOY_RT_CHILD` naming the case), since the outcome is an abort.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

const CHILD: &str = "CFREE_TOY_RT_CHILD";
const TEST: &str = "panics_in_entries_abort_instead_of_unwinding";

/// Calls one entry with arguments that make it panic, under a `catch_unwind`
/// that would see the panic if it crossed the entry.
fn child(case: &str) -> ! {
    let outcome = std::panic::catch_unwind(|| match case {
        // The barrier checks that its store already happened: 1 is stored, 2 is claimed.
        "toy_write_barrier" => {
            let slot = 1u64;
            cfree_toy_rt::toy_write_barrier(&slot as *const u64 as u64, 0, 2, 0);
        }
        // No runtime installed on this thread: the collector has no safepoints to use.
        "toy_alloc" => {
            cfree_toy_rt::toy_alloc(0, cfree_toy_rt::record_header(16, 1) as i64, 16);
        }
        other => panic!("unknown case {other}"),
    });
    println!("the entry returned to its caller (unwound: {})", outcome.is_err());
    std::process::exit(3)
}

#[test]
fn panics_in_entries_abort_instead_of_unwinding() {
    if let Ok(case) = std::env::var(CHILD) {
        child(&case);
    }
    for case in ["toy_write_barrier", "toy_alloc"] {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
            .env(CHILD, case)
            .output()
            .unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{case}: {:?}\n{stdout}\n{stderr}", out.status);
        assert!(stderr.contains(&format!("cfree-toy-rt: internal error in `{case}`: ")), "{case}: {stderr}");
        assert!(!stdout.contains("returned to its caller"), "{case}: {stdout}");
    }
}
