//! Panics that unwind, `defer` and `recover` (`doc/runtime.md`, "Panics,
//! defer and recover"): explicit panic edges. A panic (a failed check's
//! `toy_panic`, or `panic("...")`'s `toy_panic_msg`) records what happened and
//! where, with the managed call stack captured at that moment, sets the
//! panic flag and returns. Compiled code tests the flag after every call of
//! a toy function and after a panic takes the function's unwind path: it runs
//! the armed deferred calls, each between [`toy_defer_begin`] and
//! [`toy_defer_end`], and returns the zero value of its result type, so its
//! caller sees the flag in turn. Everything is ordinary calls and returns:
//! stack maps stay exact and the collector may run during the unwind.
//!
//! State is per mutator thread: the flag is a word of the thread's context
//! that compiled code reads (`Context`), the records live in a thread-local.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

thread_local! {
    /// The calling thread's panic flag (in its `Context`), while it is a mutator.
    static FLAG: Cell<*const AtomicI64> = const { Cell::new(std::ptr::null()) };
}

/// Makes `flag` the calling thread's panic flag (`None`: none), for as long
/// as it stays allocated (a registered thread's context).
pub(crate) fn bind_flag(flag: Option<&AtomicI64>) {
    FLAG.with(|f| f.set(flag.map_or(std::ptr::null(), |r| r as *const AtomicI64)));
}

fn flag_set(on: bool) {
    let p = FLAG.with(Cell::get);
    // SAFETY: `bind_flag` points FLAG at a live context's flag, and clears it
    // before the context is freed.
    if let Some(flag) = unsafe { p.as_ref() } {
        flag.store(i64::from(on), Relaxed);
    }
}

/// A task's panic state while another task runs on its thread (`tasks.rs`
/// swaps it with the thread's at every switch).
#[derive(Default)]
pub(crate) struct TaskPanic {
    state: State,
    flag: i64,
}

/// Exchanges the calling thread's panic state and flag with `saved`.
pub(crate) fn swap_task_panic(saved: &mut TaskPanic) {
    STATE.with(|s| std::mem::swap(&mut *s.borrow_mut(), &mut saved.state));
    let p = FLAG.with(Cell::get);
    // SAFETY: as in `flag_set`.
    if let Some(flag) = unsafe { p.as_ref() } {
        saved.flag = flag.swap(saved.flag, Relaxed);
    }
}

fn flag_get() -> bool {
    let p = FLAG.with(Cell::get);
    // SAFETY: as in `flag_set`.
    unsafe { p.as_ref() }.is_some_and(|f| f.load(Relaxed) != 0)
}

/// One panic: what, where, and the managed callers at the time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanicRecord {
    /// `runtime error` (a failed check) or `panic` (an explicit `panic(msg)`).
    pub class: &'static str,
    /// The message.
    pub message: String,
    /// `line:col` of the panic, if known.
    pub at: Option<(u32, u32)>,
    /// `line:col` of each managed caller, innermost first (`None`: no position).
    pub callers: Vec<Option<(u32, u32)>>,
    /// The panic that was unwinding when this one was raised in one of its
    /// deferred calls, and whether a deferred call had recovered it.
    pub previous: Option<(Box<PanicRecord>, bool)>,
}

/// A deferred call in progress during an unwind: the panic it interrupted.
struct Stash {
    panic: Option<PanicRecord>,
    recovered: bool,
}

#[derive(Default)]
struct State {
    /// The panic in flight (set exactly when the flag is).
    current: Option<PanicRecord>,
    /// Deferred calls running during unwinds, innermost last.
    stashes: Vec<Stash>,
    /// Panics raised, recovered (statistics).
    raised: u64,
    recovered: u64,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Prepares the calling thread for a program run: clears its flag and
/// forgets every panic of an earlier run.
pub fn begin_run() {
    flag_set(false);
    STATE.with(|s| *s.borrow_mut() = State::default());
}

/// Records a panic (called inside a runtime entry, by `toy_panic` and
/// `toy_panic_msg`) and sets the flag: compiled code then unwinds.
pub(crate) fn raise(class: &'static str, message: String, at: Option<(u32, u32)>) {
    let (first, callers) = crate::managed_positions();
    let at = at.or(first.flatten());
    let record = PanicRecord { class, message, at, callers, previous: None };
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.raised += 1;
        // A panic raised while one is in flight (cannot happen from compiled code, which
        // unwinds at once) replaces it, keeping it as its predecessor.
        let previous = s.current.take().map(|p| (Box::new(p), false));
        s.current = Some(PanicRecord { previous, ..record });
    });
    flag_set(true);
}

/// An explicit `panic(msg)` at `line:col` (`GcRole::Runtime`): records it,
/// sets the flag and returns; the caller takes its unwind path.
#[no_mangle]
pub extern "C" fn toy_panic_msg(entry: u64, ptr: u64, len: i64, line: i64, col: i64) {
    crate::guard::guarded("toy_panic_msg", || {
        let _entry = cfree_statepoint::enter_runtime(entry);
        // SAFETY: managed code passes the address and length of a string literal in its data.
        let bytes = unsafe { std::slice::from_raw_parts(ptr as *const u8, len.max(0) as usize) };
        let message = String::from_utf8_lossy(bytes).into_owned();
        crate::tasks::on_system_stack(|| raise("panic", message, Some((line as u32, col as u32))))
    })
}

/// Before a deferred call on an unwind path (`GcRole::Leaf`): stashes the
/// panic in flight and clears the flag, so the deferred call runs normally.
#[no_mangle]
pub extern "C" fn toy_defer_begin() {
    crate::guard::guarded("toy_defer_begin", || {
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            let panic = s.current.take();
            s.stashes.push(Stash { panic, recovered: false });
        });
        flag_set(false);
    })
}

/// After a deferred call on an unwind path (`GcRole::Leaf`): if the call
/// panicked, its panic continues with the stashed one as its predecessor; if
/// it recovered, the stashed panic is dropped (the flag stays clear);
/// otherwise the stashed panic is in flight again.
#[no_mangle]
pub extern "C" fn toy_defer_end() {
    crate::guard::guarded("toy_defer_end", || {
        let on = STATE.with(|s| {
            let mut s = s.borrow_mut();
            let Stash { panic, recovered } = s.stashes.pop().expect("toy_defer_end follows toy_defer_begin");
            if let Some(mut new) = s.current.take() {
                if let Some(old) = panic {
                    // Chain below whatever the new panic already carries.
                    let mut last = &mut new;
                    while last.previous.is_some() {
                        last = &mut last.previous.as_mut().expect("checked").0;
                    }
                    last.previous = Some((Box::new(old), recovered));
                }
                s.current = Some(new);
            } else if recovered {
                s.recovered += 1;
            } else {
                s.current = panic;
            }
            s.current.is_some()
        });
        flag_set(on);
    })
}

/// `recover()` (`GcRole::Leaf`): 1 if it stopped a panic, that is if a
/// deferred call is running on an unwind path whose panic no call has
/// recovered yet (the innermost such call's); 0 otherwise.
#[no_mangle]
pub extern "C" fn toy_recover() -> i64 {
    crate::guard::guarded("toy_recover", || {
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            match s.stashes.last_mut() {
                Some(stash) if stash.panic.is_some() && !stash.recovered => {
                    stash.recovered = true;
                    1
                }
                _ => 0,
            }
        })
    })
}

/// The panic still in flight when the program's entry returned, if any.
pub fn unrecovered() -> Option<PanicRecord> {
    if !flag_get() {
        return None;
    }
    STATE.with(|s| s.borrow().current.clone())
}

/// `(raised, recovered)`: panics of this run.
pub fn counts() -> (u64, u64) {
    STATE.with(|s| {
        let s = s.borrow();
        (s.raised, s.recovered)
    })
}

/// The lines of a panic's report: `FILE:LINE:COL: CLASS: MESSAGE`, one
/// `    called from FILE:LINE:COL` line per managed caller, then the panic it
/// interrupted (raised in one of that one's deferred calls), marked as such.
pub fn report_lines(record: &PanicRecord, file: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut next = Some((record, None::<bool>));
    while let Some((r, mark)) = next {
        let mark = match mark {
            None => "",
            Some(false) => " [interrupted by the panic above, in a deferred call]",
            Some(true) => " [recovered, then the panic above, in a deferred call]",
        };
        match r.at {
            Some((line, col)) => lines.push(format!("{file}:{line}:{col}: {}: {}{mark}", r.class, r.message)),
            None => lines.push(format!("{file}: {}: {}{mark}", r.class, r.message)),
        }
        for caller in &r.callers {
            match caller {
                Some((l, c)) => lines.push(format!("    called from {file}:{l}:{c}")),
                None => lines.push(format!("    called from {file} (no position)")),
            }
        }
        next = r.previous.as_ref().map(|(p, recovered)| (&**p, Some(*recovered)));
    }
    lines
}

/// If a panic is still in flight (the program's entry has returned): flushes
/// the program's output, prints the panic's report to stderr and exits with
/// status 101. Otherwise returns.
pub fn exit_if_unrecovered() {
    if let Some(record) = unrecovered() {
        crate::flush_output();
        let file = crate::file_name();
        eprintln!("{}", report_lines(&record, &file).join("\n"));
        std::process::exit(101);
    }
}

/// The panics interrupted by deferred calls still running (a runtime error
/// that ends the process inside one reports them too), innermost first.
pub(crate) fn interrupted() -> Vec<PanicRecord> {
    STATE.with(|s| s.borrow().stashes.iter().rev().filter_map(|st| st.panic.clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(message: &str, line: u32) -> PanicRecord {
        PanicRecord {
            class: "panic",
            message: message.into(),
            at: Some((line, 5)),
            callers: vec![Some((9, 3)), None],
            previous: None,
        }
    }

    #[test]
    fn reports_chain_innermost_first() {
        let mut second = record("second", 2);
        second.previous = Some((Box::new(record("first", 1)), false));
        assert_eq!(
            report_lines(&second, "p.toy"),
            [
                "p.toy:2:5: panic: second",
                "    called from p.toy:9:3",
                "    called from p.toy (no position)",
                "p.toy:1:5: panic: first [interrupted by the panic above, in a deferred call]",
                "    called from p.toy:9:3",
                "    called from p.toy (no position)",
            ]
        );
    }

    #[test]
    fn defer_begin_end_recover() {
        let ctx = Box::<crate::Context>::default();
        bind_flag(Some(&ctx.panic));
        let flag = || ctx.panic.load(Relaxed) != 0;
        begin_run();
        STATE.with(|s| s.borrow_mut().current = Some(record("a", 1)));
        flag_set(true);
        // Not recovered: back in flight.
        toy_defer_begin();
        assert!(!flag());
        toy_defer_end();
        assert!(flag());
        // Recovered once; a second recover in the same call sees nothing.
        toy_defer_begin();
        assert_eq!(toy_recover(), 1);
        assert_eq!(toy_recover(), 0);
        toy_defer_end();
        assert!(!flag());
        assert_eq!(unrecovered(), None);
        assert_eq!(toy_recover(), 0, "outside deferred calls");
        bind_flag(None);
    }
}
