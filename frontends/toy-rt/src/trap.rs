//! Implicit nil checks (`doc/runtime.md`): the trap table of the running
//! program, and the fault handler that resumes a faulting access at its
//! check's failure path (which calls [`crate::toy_panic`] like an explicit
//! check). A fault at any other PC stays a crash.

use std::sync::atomic::{AtomicPtr, Ordering};

/// `(faulting pc, handler pc)`, sorted by pc.
type Table = [(u64, u64)];

static TABLE: AtomicPtr<Vec<(u64, u64)>> = AtomicPtr::new(std::ptr::null_mut());

/// Makes `sites` (`(faulting pc, handler pc)`) the trap table and installs the
/// fault handler. The previous table is leaked, not freed: a fault on another
/// thread may still be reading it (a few bytes per program run).
pub fn set_trap_table(mut sites: Vec<(u64, u64)>) -> Result<(), String> {
    sites.sort_unstable();
    let table = Box::into_raw(Box::new(sites));
    TABLE.store(table, Ordering::Release);
    cfree_statepoint::install_trap_handler(handler_of).map_err(|e| e.to_string())
}

/// Called inside the signal handler: no allocation, no lock.
fn handler_of(pc: u64) -> Option<u64> {
    let table = TABLE.load(Ordering::Acquire);
    if table.is_null() {
        return None;
    }
    // SAFETY: TABLE holds null or a leaked, never-freed table stored by `set_trap_table`.
    let table: &Table = unsafe { &*table };
    let i = table.partition_point(|(p, _)| *p < pc);
    table.get(i).filter(|(p, _)| *p == pc).map(|(_, h)| *h)
}
