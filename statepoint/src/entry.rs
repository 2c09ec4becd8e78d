//! Runtime entry records: each time managed code enters the runtime (through
//! an entry trampoline that passes its frame pointer), the runtime pushes that
//! frame pointer on a per-thread chain, and pops it on return. A collection
//! walks the managed frames above every record, innermost first, so managed
//! code that called the host that called managed code again (re-entry) is
//! fully covered, and no host frame pointer is ever needed.

use std::cell::RefCell;
use std::marker::PhantomData;

thread_local! {
    static ENTRIES: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Pops its entry record when dropped (keep it alive for the runtime call).
#[derive(Debug)]
pub struct EntryGuard {
    depth: usize,
    // Entry records are per thread: the guard must stay on the thread that made it.
    _not_send: PhantomData<*const ()>,
}

/// Records that managed code entered the runtime through a trampoline whose
/// frame pointer is `fp`.
pub fn enter_runtime(fp: u64) -> EntryGuard {
    let depth = ENTRIES.with(|e| {
        let mut e = e.borrow_mut();
        e.push(fp);
        e.len()
    });
    EntryGuard { depth, _not_send: PhantomData }
}

impl Drop for EntryGuard {
    fn drop(&mut self) {
        ENTRIES.with(|e| {
            let mut e = e.borrow_mut();
            debug_assert_eq!(e.len(), self.depth, "entry records must be released innermost first");
            e.truncate(self.depth - 1);
        });
    }
}

/// The frame pointers of this thread's runtime entries, innermost first.
pub fn runtime_entries() -> Vec<u64> {
    ENTRIES.with(|e| e.borrow().iter().rev().copied().collect())
}

/// Replaces this thread's entry records with `records` and returns the old
/// ones: a runtime that switches the thread between green threads (each with
/// its own stack and runtime entries) swaps them with the stacks.
pub fn swap_runtime_entries(records: Vec<u64>) -> Vec<u64> {
    ENTRIES.with(|e| std::mem::replace(&mut *e.borrow_mut(), records))
}
