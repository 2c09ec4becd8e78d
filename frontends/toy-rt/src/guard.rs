//! No panic crosses `extern "C"`: every entry point runs its body through
//! [`guarded`]. A panic in the runtime is an internal error (a broken heap
//! invariant, a failed barrier check, a runtime used before `install`), and
//! the entries' callers are managed frames that have no way to receive an
//! error: an allocation must return an object, a barrier or a print returns
//! nothing. So the choice is to report and abort: the message names the
//! entry and the panic, then the process aborts (no unwinding into managed
//! code, whose frames have no unwind tables for Rust panics, and no exit
//! handlers running over a heap in an unknown state).
//! `cfree_toy_rt_main`, whose contract has an exit status, returns
//! its internal-failure status instead.

use std::any::Any;
use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The panic's message, if it has one.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// Runs the body of the entry point `entry`; if it panics, reports the panic
/// on stderr and aborts the process.
pub(crate) fn guarded<R>(entry: &'static str, body: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(r) => r,
        Err(payload) => {
            let message = panic_message(&*payload);
            // Writing may fail (closed stderr); abort regardless.
            let _ = writeln!(
                std::io::stderr(),
                "cfree-toy-rt: internal error in `{entry}`: {message}; aborting (a panic cannot unwind into managed code)"
            );
            std::process::abort()
        }
    }
}
