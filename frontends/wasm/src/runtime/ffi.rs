//! Every `unsafe` operation of the runtime: calls into compiled code through
//! the C trampoline (`trampoline.c`), the memory-grow entry that compiled code
//! calls, and the raw storage that compiled code reads and writes (memories,
//! tables, global cells, vmctx arrays).
//!
//! The two entries into compiled code are visible to the `runtime` module
//! only, whose `Store` passes them addresses it got from the JIT for the
//! module it compiled, with a vmctx of that module's layout.
//!
//! Invariant: compiled code only runs inside [`invoke`] or [`call_init`], on
//! the thread that called them, and Rust holds no reference into a memory,
//! table or global while it runs (all such storage is reached through raw
//! pointers owned by the handles below).

use std::alloc::{alloc_zeroed, dealloc, realloc, Layout};
use std::cell::{Cell, UnsafeCell};
use std::sync::{Mutex, PoisonError};

use crate::abi::{FUNCREF_SIZE, NULL_TYPE_ID, PAGE_SIZE};

extern "C" {
    fn cfree_wasm_invoke(
        f: unsafe extern "C" fn(*mut u64, *mut u64),
        vmctx: *mut u64,
        vals: *mut u64,
        budget: u64,
    ) -> i32;
    fn cfree_wasm_trap(code: i32);
    static mut cfree_wasm_stack_limit: u64;
}

/// Bytes of stack compiled code may use below the outermost invoke.
pub const STACK_BUDGET: u64 = 32 << 20;

/// The runtime symbols compiled code links against: (name, address).
pub fn runtime_symbols() -> [(&'static str, u64); 3] {
    [
        (crate::abi::TRAP_FN, cfree_wasm_trap as *const () as usize as u64),
        (crate::abi::MEMORY_GROW_FN, cfree_wasm_memory_grow as *const () as usize as u64),
        (crate::abi::STACK_LIMIT, std::ptr::addr_of_mut!(cfree_wasm_stack_limit) as u64),
    ]
}

/// Calls the entry wrapper at `wrapper` with `vmctx` and `vals`; returns the
/// trap code, 0 if the call returned.
///
/// Contract (kept by [`super::Store`], the only caller: this is why the
/// function is visible to the `runtime` module only): `wrapper` is an entry
/// wrapper of compiled code (`void(u64 *vmctx, u64 *vals)`) whose module is
/// still published, `vmctx` the vmctx of an instance of that module whose
/// memory, table and globals are alive, and `vals` at least as long as the
/// function's parameter and result counts.
pub(super) fn invoke(wrapper: u64, vmctx: u64, vals: &mut [u64]) -> i32 {
    // The stack limit is one process-wide word, so one thread at a time runs
    // compiled code; a nested invoke (a host function calling back) reuses the lock.
    let _exclusive = (INVOKE_DEPTH.get() == 0).then(|| EXCLUSIVE.lock().unwrap_or_else(PoisonError::into_inner));
    INVOKE_DEPTH.set(INVOKE_DEPTH.get() + 1);
    // SAFETY: by the contract, `wrapper` is the address of a function of this type.
    let f: unsafe extern "C" fn(*mut u64, *mut u64) = unsafe { std::mem::transmute(wrapper as usize) };
    // SAFETY: the trampoline calls `f` with the arguments given (valid by the contract);
    // traps longjmp back to it, skipping only frames of compiled code, which hold no Rust state.
    let code = unsafe { cfree_wasm_invoke(f, vmctx as *mut u64, vals.as_mut_ptr(), STACK_BUDGET) };
    INVOKE_DEPTH.set(INVOKE_DEPTH.get() - 1);
    code
}

static EXCLUSIVE: Mutex<()> = Mutex::new(());

thread_local! {
    static INVOKE_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Calls a module's init function on `vmctx`.
///
/// Contract (kept by [`super::Store`], the only caller): `init` is the init
/// function of a published module compiled for a vmctx of `vmctx.len()` slots.
pub(super) fn call_init(init: u64, vmctx: &mut [u64]) {
    // SAFETY: by the contract, `init` is the address of a function of this type.
    let f: unsafe extern "C" fn(*mut u64) = unsafe { std::mem::transmute(init as usize) };
    // SAFETY: init only stores into the vmctx (its size was the compiler's layout) and cannot trap.
    unsafe { f(vmctx.as_mut_ptr()) }
}

/// A linear memory: the definition compiled code reads (`base`, `bytes`)
/// followed by what the runtime needs to grow it.
#[repr(C)]
#[derive(Debug)]
struct MemoryDef {
    base: *mut u8,
    bytes: u64,
    max_pages: u64,
}

/// Owner of one linear memory; compiled code holds a pointer to its definition.
#[derive(Debug)]
pub struct Memory {
    def: *mut MemoryDef,
    /// The maximum the module declared, in pages (for import matching).
    pub declared_max: Option<u64>,
}

const MEMORY_ALIGN: usize = 16;

impl Memory {
    /// A zeroed memory of `pages`, growable to the declared maximum but not
    /// past `limit` pages; `None` if it cannot be allocated.
    pub fn new(pages: u64, declared_max: Option<u64>, limit: u64) -> Option<Memory> {
        let max_pages = declared_max.unwrap_or(limit).min(limit);
        let bytes = pages.checked_mul(PAGE_SIZE)?;
        let base = if bytes == 0 {
            std::ptr::null_mut()
        } else {
            let layout = Layout::from_size_align(usize::try_from(bytes).ok()?, MEMORY_ALIGN).ok()?;
            // SAFETY: the layout has a nonzero size.
            let p = unsafe { alloc_zeroed(layout) };
            if p.is_null() {
                return None;
            }
            p
        };
        let def = Box::into_raw(Box::new(MemoryDef { base, bytes, max_pages }));
        Some(Memory { def, declared_max })
    }

    /// Address of the definition (vmctx slot 0).
    pub fn def_address(&self) -> u64 {
        self.def as u64
    }

    /// Current size in pages.
    pub fn pages(&self) -> u64 {
        // SAFETY: `def` is owned by `self` and no compiled code runs while Rust reads it.
        unsafe { (*self.def).bytes / PAGE_SIZE }
    }

    /// The declared or implementation maximum in pages.
    pub fn max_pages(&self) -> u64 {
        // SAFETY: as in `pages`.
        unsafe { (*self.def).max_pages }
    }

    /// Copies `data` to `offset`; false (and nothing written) if it does not fit.
    pub fn write(&self, offset: u64, data: &[u8]) -> bool {
        // SAFETY: as in `pages`; the range is checked against the size before the copy.
        unsafe {
            let def = &*self.def;
            match offset.checked_add(data.len() as u64) {
                Some(end) if end <= def.bytes => {
                    if !data.is_empty() {
                        std::ptr::copy_nonoverlapping(data.as_ptr(), def.base.add(offset as usize), data.len());
                    }
                    true
                }
                _ => false,
            }
        }
    }

    /// Reads `len` bytes at `offset`, if in bounds.
    pub fn read(&self, offset: u64, len: usize) -> Option<Vec<u8>> {
        // SAFETY: as in `write`.
        unsafe {
            let def = &*self.def;
            let end = offset.checked_add(len as u64)?;
            if end > def.bytes {
                return None;
            }
            Some(std::slice::from_raw_parts(def.base.add(offset as usize), len).to_vec())
        }
    }
}

/// Grows the memory at `def` by `delta` pages; the old size in pages, or -1.
///
/// # Safety
///
/// `def` must point to a live [`MemoryDef`] that no Rust reference aliases.
unsafe fn grow(def: *mut MemoryDef, delta: u32) -> i32 {
    // SAFETY: the caller's contract.
    let def = unsafe { &mut *def };
    let old = def.bytes / PAGE_SIZE;
    let new = old + u64::from(delta);
    if new > def.max_pages {
        return -1;
    }
    if delta == 0 {
        return old as i32;
    }
    let new_bytes = new * PAGE_SIZE;
    let Ok(new_size) = usize::try_from(new_bytes) else { return -1 };
    let base = if def.base.is_null() {
        let Ok(layout) = Layout::from_size_align(new_size, MEMORY_ALIGN) else { return -1 };
        // SAFETY: nonzero size.
        unsafe { alloc_zeroed(layout) }
    } else {
        let layout = Layout::from_size_align(def.bytes as usize, MEMORY_ALIGN).expect("existing layout");
        // SAFETY: `base` was allocated with `layout`; the new size is larger and nonzero.
        let p = unsafe { realloc(def.base, layout, new_size) };
        if !p.is_null() {
            // SAFETY: `p` has `new_size` bytes; zero the new part.
            unsafe { std::ptr::write_bytes(p.add(def.bytes as usize), 0, new_size - def.bytes as usize) };
        }
        p
    };
    if base.is_null() {
        return -1;
    }
    def.base = base;
    def.bytes = new_bytes;
    old as i32
}

/// `memory.grow`, called by compiled code with its vmctx.
extern "C" fn cfree_wasm_memory_grow(vmctx: *mut u64, delta: i32) -> i32 {
    // SAFETY: compiled code passes its own vmctx, whose slot 0 is the live memory
    // definition (a module with `memory.grow` validates only with a memory).
    unsafe {
        let def = *vmctx as *mut MemoryDef;
        grow(def, delta as u32)
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        // SAFETY: `def` came from `Box::into_raw` and its base from the global allocator
        // with this layout; no compiled code uses the memory any more (its owners are gone).
        unsafe {
            let def = Box::from_raw(self.def);
            if !def.base.is_null() {
                dealloc(def.base, Layout::from_size_align(def.bytes as usize, MEMORY_ALIGN).expect("layout"));
            }
        }
    }
}

/// A function reference: what a table element and a vmctx function slot hold.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncRef {
    /// Code address.
    pub code: u64,
    /// The callee's vmctx.
    pub vmctx: u64,
    /// Canonical type id ([`NULL_TYPE_ID`] for null).
    pub type_id: u64,
}

const _: () = assert!(std::mem::size_of::<FuncRef>() as u64 == FUNCREF_SIZE);

impl FuncRef {
    /// The null reference.
    pub const NULL: FuncRef = FuncRef { code: 0, vmctx: 0, type_id: NULL_TYPE_ID };
}

#[repr(C)]
#[derive(Debug)]
struct TableDef {
    elems: *mut FuncRef,
    len: u64,
}

/// Owner of a table (fixed size: no `table.grow` in the feature set).
#[derive(Debug)]
pub struct Table {
    def: *mut TableDef,
    elems: *mut [FuncRef],
    /// Declared maximum.
    pub max: Option<u64>,
    /// The store whose function references it may hold.
    pub store: u64,
}

impl Table {
    /// A table of `len` null elements, for references of `store`.
    pub fn new(len: u64, max: Option<u64>, store: u64) -> Table {
        let elems = Box::into_raw(vec![FuncRef::NULL; len as usize].into_boxed_slice());
        let def = Box::into_raw(Box::new(TableDef { elems: elems as *mut FuncRef, len }));
        Table { def, elems, max, store }
    }

    /// Address of the definition (vmctx slot 1).
    pub fn def_address(&self) -> u64 {
        self.def as u64
    }

    /// Number of elements.
    pub fn len(&self) -> u64 {
        self.elems.len() as u64
    }

    /// Whether the table has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sets element `i` (in bounds, checked by the caller).
    pub fn set(&self, i: u64, f: FuncRef) {
        assert!(i < self.len(), "table index checked by the caller");
        // SAFETY: in bounds; no compiled code runs while Rust writes.
        unsafe { (self.elems as *mut FuncRef).add(i as usize).write(f) }
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        // SAFETY: both came from `Box::into_raw` in `new`.
        unsafe {
            drop(Box::from_raw(self.def));
            drop(Box::from_raw(self.elems));
        }
    }
}

/// A global's 8-byte cell (compiled code reads and writes it by address).
#[derive(Debug)]
pub struct GlobalCell {
    bits: Box<UnsafeCell<u64>>,
}

impl GlobalCell {
    /// A cell holding `bits`.
    pub fn new(bits: u64) -> GlobalCell {
        GlobalCell { bits: Box::new(UnsafeCell::new(bits)) }
    }

    /// The cell's address.
    pub fn address(&self) -> u64 {
        self.bits.get() as u64
    }

    /// The current bits.
    pub fn get(&self) -> u64 {
        // SAFETY: no compiled code runs while Rust reads the cell.
        unsafe { *self.bits.get() }
    }
}

/// Reads vmctx slot `i` written by compiled code.
pub fn vmctx_slot(vmctx: &[u64], i: usize) -> u64 {
    // SAFETY: in bounds (indexing panics otherwise); a volatile read because compiled code
    // wrote the slot through a raw pointer.
    unsafe { std::ptr::read_volatile(&vmctx[i]) }
}
