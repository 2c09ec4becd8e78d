//! Handle tables. A module (an emitter with its own LLVM context) lives in
//! the table of the thread that created it, because LLVM contexts are not
//! shared between threads; a JIT lives in a process-wide table and may be used
//! from any thread. Handle numbers are never reused, so a freed, foreign or
//! forged handle is found missing instead of naming another object.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cfree_facade::Cg;
use cfree_jit_orc::Jit;
use cfree_llvm_lower::{LlvmBackend, LlvmContext};

use crate::error::{CapiError, UNKNOWN_HANDLE};

static NEXT: AtomicU64 = AtomicU64::new(1);

/// A fresh handle number (never 0, never reused).
pub(crate) fn next() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// An emitter and the context it emits into. `cg` borrows `*context`; the
/// field order drops it first, and the box keeps the context's address fixed.
pub(crate) struct ModuleBox {
    pub(crate) cg: Cg<LlvmBackend<'static>>,
    pub(crate) context: Box<LlvmContext>,
}

thread_local! {
    static MODULES: RefCell<HashMap<u64, ModuleBox>> = RefCell::new(HashMap::new());
}

static JITS: Mutex<Option<HashMap<u64, Arc<Jit>>>> = Mutex::new(None);

fn unknown(call: &str, what: &str, handle: u64) -> CapiError {
    CapiError::new(
        UNKNOWN_HANDLE,
        call,
        format!("{what} handle {handle} is unknown (never issued, already freed, or created on another thread)"),
    )
}

pub(crate) fn add_module(m: ModuleBox) -> u64 {
    let h = next();
    MODULES.with(|t| t.borrow_mut().insert(h, m));
    h
}

/// Runs `f` on module `h` of this thread.
pub(crate) fn with_module<T>(
    call: &str,
    h: u64,
    f: impl FnOnce(&mut Cg<LlvmBackend<'static>>) -> Result<T, CapiError>,
) -> Result<T, CapiError> {
    MODULES.with(|t| {
        let mut t = t.try_borrow_mut().map_err(|_| CapiError::new(UNKNOWN_HANDLE, call, "module table busy"))?;
        let m = t.get_mut(&h).ok_or_else(|| unknown(call, "module", h))?;
        f(&mut m.cg)
    })
}

/// Removes module `h` of this thread and returns it.
pub(crate) fn take_module(call: &str, h: u64) -> Result<ModuleBox, CapiError> {
    MODULES.with(|t| t.borrow_mut().remove(&h)).ok_or_else(|| unknown(call, "module", h))
}

pub(crate) fn add_jit(jit: Jit) -> u64 {
    let h = next();
    JITS.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert_with(HashMap::new).insert(h, Arc::new(jit));
    h
}

pub(crate) fn jit(call: &str, h: u64) -> Result<Arc<Jit>, CapiError> {
    let t = JITS.lock().unwrap_or_else(|p| p.into_inner());
    t.as_ref().and_then(|t| t.get(&h)).cloned().ok_or_else(|| unknown(call, "JIT", h))
}

pub(crate) fn remove_jit(call: &str, h: u64) -> Result<Arc<Jit>, CapiError> {
    let mut t = JITS.lock().unwrap_or_else(|p| p.into_inner());
    t.as_mut().and_then(|t| t.remove(&h)).ok_or_else(|| unknown(call, "JIT", h))
}

/// Buffers handed to C (objects, assembly, IR), by address: freeing an
/// address that is not one of them is refused instead of corrupting the heap.
static BUFFERS: Mutex<Option<HashMap<usize, Box<[u8]>>>> = Mutex::new(None);

/// Keeps `bytes` (plus a trailing NUL) for C; returns its address and length without the NUL.
pub(crate) fn add_buffer(mut bytes: Vec<u8>) -> (*mut u8, usize) {
    let n = bytes.len();
    bytes.push(0);
    let mut boxed = bytes.into_boxed_slice();
    let p = boxed.as_mut_ptr();
    BUFFERS.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert_with(HashMap::new).insert(p as usize, boxed);
    (p, n)
}

/// Releases the buffer at `p`; false if there is none.
pub(crate) fn free_buffer(p: *mut u8) -> bool {
    BUFFERS.lock().unwrap_or_else(|p| p.into_inner()).as_mut().and_then(|t| t.remove(&(p as usize))).is_some()
}

static TABLES: Mutex<Option<HashMap<u64, Arc<cfree_statepoint::SafepointTable>>>> = Mutex::new(None);

pub(crate) fn add_table(t: cfree_statepoint::SafepointTable) -> u64 {
    let h = next();
    TABLES.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert_with(HashMap::new).insert(h, Arc::new(t));
    h
}

pub(crate) fn table(call: &str, h: u64) -> Result<Arc<cfree_statepoint::SafepointTable>, CapiError> {
    let t = TABLES.lock().unwrap_or_else(|p| p.into_inner());
    t.as_ref().and_then(|t| t.get(&h)).cloned().ok_or_else(|| unknown(call, "statepoint table", h))
}

pub(crate) fn remove_table(call: &str, h: u64) -> Result<Arc<cfree_statepoint::SafepointTable>, CapiError> {
    let mut t = TABLES.lock().unwrap_or_else(|p| p.into_inner());
    t.as_mut().and_then(|t| t.remove(&h)).ok_or_else(|| unknown(call, "statepoint table", h))
}
