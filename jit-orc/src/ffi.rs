//! Owning wrappers over ORC's C API (inkwell has no ORC v2). Every raw call
//! of this crate is here.

use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Mutex;

use cfree_llvm_lower::llvm_sys::core::LLVMCreateMemoryBufferWithMemoryRangeCopy;
use cfree_llvm_lower::llvm_sys::error::{LLVMDisposeErrorMessage, LLVMErrorRef, LLVMGetErrorMessage};
use cfree_llvm_lower::llvm_sys::orc2::lljit::LLVMOrcLLJITMangleAndIntern;
use cfree_llvm_lower::llvm_sys::orc2::lljit::{
    LLVMOrcCreateLLJIT, LLVMOrcDisposeLLJIT, LLVMOrcLLJITAddObjectFileWithRT, LLVMOrcLLJITEnableDebugSupport,
    LLVMOrcLLJITGetExecutionSession, LLVMOrcLLJITGetGlobalPrefix, LLVMOrcLLJITGetMainJITDylib,
    LLVMOrcLLJITGetTripleString, LLVMOrcLLJITLookup, LLVMOrcLLJITRef,
};
use cfree_llvm_lower::llvm_sys::orc2::{
    LLVMJITEvaluatedSymbol, LLVMJITSymbolFlags, LLVMJITSymbolGenericFlags, LLVMOrcAbsoluteSymbols,
    LLVMOrcCSymbolMapPair, LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess, LLVMOrcDisposeMaterializationUnit,
    LLVMOrcExecutionSessionSetErrorReporter, LLVMOrcJITDylibAddGenerator, LLVMOrcJITDylibCreateResourceTracker,
    LLVMOrcJITDylibDefine, LLVMOrcReleaseResourceTracker, LLVMOrcResourceTrackerRef, LLVMOrcResourceTrackerRemove,
};

/// Takes ownership of an LLVM error and returns its message (`None` for success).
fn take_error(err: LLVMErrorRef) -> Option<String> {
    if err.is_null() {
        return None;
    }
    // SAFETY: `err` is a non-null error we own; LLVMGetErrorMessage consumes it and returns
    // a string we own until LLVMDisposeErrorMessage.
    unsafe {
        let msg = LLVMGetErrorMessage(err);
        let text = CStr::from_ptr(msg).to_string_lossy().into_owned();
        LLVMDisposeErrorMessage(msg);
        Some(text)
    }
}

/// Session errors ORC reports asynchronously (e.g. unresolved symbols during
/// materialisation), collected instead of printed to stderr.
type ErrorSink = Mutex<Vec<String>>;

extern "C" fn report_error(ctx: *mut c_void, err: LLVMErrorRef) {
    // Never unwind into LLVM: a poisoned lock or allocation failure is swallowed.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let message = take_error(err).unwrap_or_default();
        // SAFETY: `ctx` is the `ErrorSink` boxed in `OrcJit`, which outlives the session.
        let sink = unsafe { &*(ctx as *const ErrorSink) };
        if let Ok(mut v) = sink.lock() {
            v.push(message);
        }
    }));
}

/// An LLJIT instance with the host process's symbols visible to JIT code.
#[derive(Debug)]
pub(crate) struct OrcJit {
    raw: LLVMOrcLLJITRef,
    errors: Box<ErrorSink>,
}

// SAFETY: LLJIT is internally synchronised (its ExecutionSession locks); we never hand out
// the raw pointer, and `&mut self` methods serialise our own state changes.
unsafe impl Send for OrcJit {}
// SAFETY: the only `&self` methods (`triple`, `take_session_errors`, `lookup`) are thread-safe
// in ORC (lookups lock the session) or guarded by the error sink's mutex.
unsafe impl Sync for OrcJit {}

impl OrcJit {
    /// A host LLJIT; `debugger`: registers every linked object with
    /// debuggers through the GDB JIT interface (LLVM's debug object plugin,
    /// which patches the sections' load addresses into a copy of the object).
    pub(crate) fn new(debugger: bool) -> Result<Self, String> {
        let mut raw: LLVMOrcLLJITRef = ptr::null_mut();
        // SAFETY: a null builder asks for the default LLJIT; `raw` receives it on success.
        if let Some(e) = take_error(unsafe { LLVMOrcCreateLLJIT(&mut raw, ptr::null_mut()) }) {
            return Err(e);
        }
        let jit = OrcJit { raw, errors: Box::new(Mutex::new(Vec::new())) };
        let sink = &*jit.errors as *const ErrorSink as *mut c_void;
        // SAFETY: `raw` is a live LLJIT; `sink` stays valid (boxed, owned by `jit`) until
        // `drop` disposes the LLJIT, after which ORC no longer calls the reporter.
        unsafe { LLVMOrcExecutionSessionSetErrorReporter(LLVMOrcLLJITGetExecutionSession(raw), report_error, sink) };
        let mut generator = ptr::null_mut();
        // SAFETY: `raw` is live; the generator, on success, is handed to the main JITDylib,
        // which takes ownership of it.
        unsafe {
            let prefix = LLVMOrcLLJITGetGlobalPrefix(raw);
            let err =
                LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&mut generator, prefix, None, ptr::null_mut());
            if let Some(e) = take_error(err) {
                return Err(e);
            }
            LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(raw), generator);
        }
        if debugger {
            // SAFETY: `raw` is live; the plugin finds LLVM's own GDB registration
            // functions (`libLLVM` exports them) in this process.
            if let Some(e) = take_error(unsafe { LLVMOrcLLJITEnableDebugSupport(raw) }) {
                return Err(format!("enabling debugger support: {e}"));
            }
        }
        Ok(jit)
    }

    /// The triple the JIT compiles for.
    pub(crate) fn triple(&self) -> String {
        // SAFETY: `raw` is live; the string is owned by the LLJIT and copied before return.
        unsafe { CStr::from_ptr(LLVMOrcLLJITGetTripleString(self.raw)).to_string_lossy().into_owned() }
    }

    /// Drains the asynchronously reported session errors.
    pub(crate) fn take_session_errors(&self) -> Vec<String> {
        self.errors.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default()
    }

    /// Adds an object file under a fresh resource tracker.
    pub(crate) fn add_object(&mut self, object: &[u8], name: &str) -> Result<Tracker, String> {
        let name = CString::new(name).map_err(|_| "object name contains NUL".to_string())?;
        // SAFETY: `raw` is live. The buffer copies `object`; ORC owns it from here, even on failure.
        // The tracker is ours until released.
        unsafe {
            let rt = LLVMOrcJITDylibCreateResourceTracker(LLVMOrcLLJITGetMainJITDylib(self.raw));
            let buf = LLVMCreateMemoryBufferWithMemoryRangeCopy(
                object.as_ptr() as *const c_char,
                object.len(),
                name.as_ptr(),
            );
            let tracker = Tracker { raw: rt };
            match take_error(LLVMOrcLLJITAddObjectFileWithRT(self.raw, rt, buf)) {
                None => Ok(tracker),
                Some(e) => {
                    tracker.remove();
                    Err(e)
                }
            }
        }
    }

    /// Defines `name` in the main JITDylib as the absolute address `addr` (a host function or object).
    pub(crate) fn define_absolute(&mut self, name: &str, addr: u64) -> Result<(), String> {
        let cname = CString::new(name).map_err(|_| "symbol name contains NUL".to_string())?;
        // SAFETY: `raw` is live. MangleAndIntern returns a retained pool entry whose ownership
        // LLVMOrcAbsoluteSymbols takes; on a failed define we still own the unit and dispose it.
        unsafe {
            let entry = LLVMOrcLLJITMangleAndIntern(self.raw, cname.as_ptr());
            let flags = LLVMJITSymbolFlags {
                GenericFlags: LLVMJITSymbolGenericFlags::LLVMJITSymbolGenericFlagsExported as u8
                    | LLVMJITSymbolGenericFlags::LLVMJITSymbolGenericFlagsCallable as u8,
                TargetFlags: 0,
            };
            let mut pair =
                LLVMOrcCSymbolMapPair { Name: entry, Sym: LLVMJITEvaluatedSymbol { Address: addr, Flags: flags } };
            let mu = LLVMOrcAbsoluteSymbols(&mut pair, 1);
            match take_error(LLVMOrcJITDylibDefine(LLVMOrcLLJITGetMainJITDylib(self.raw), mu)) {
                None => Ok(()),
                Some(e) => {
                    LLVMOrcDisposeMaterializationUnit(mu);
                    Err(e)
                }
            }
        }
    }

    /// Defines absolute symbols (`name` = address) in the main JITDylib, all or none.
    pub(crate) fn define_absolutes(&mut self, symbols: &[(String, u64)]) -> Result<(), String> {
        let names = symbols
            .iter()
            .map(|(name, _)| CString::new(name.as_str()).map_err(|_| "symbol name contains NUL".to_string()))
            .collect::<Result<Vec<CString>, String>>()?;
        let flags = || LLVMJITSymbolFlags {
            GenericFlags: LLVMJITSymbolGenericFlags::LLVMJITSymbolGenericFlagsExported as u8
                | LLVMJITSymbolGenericFlags::LLVMJITSymbolGenericFlagsCallable as u8,
            TargetFlags: 0,
        };
        // SAFETY: `raw` is live. Each MangleAndIntern returns a retained pool entry whose
        // ownership LLVMOrcAbsoluteSymbols takes (it copies the pairs); on a failed define we
        // still own the unit and dispose it.
        unsafe {
            let mut pairs: Vec<LLVMOrcCSymbolMapPair> = names
                .iter()
                .zip(symbols)
                .map(|(cname, (_, addr))| LLVMOrcCSymbolMapPair {
                    Name: LLVMOrcLLJITMangleAndIntern(self.raw, cname.as_ptr()),
                    Sym: LLVMJITEvaluatedSymbol { Address: *addr, Flags: flags() },
                })
                .collect();
            let mu = LLVMOrcAbsoluteSymbols(pairs.as_mut_ptr(), pairs.len());
            match take_error(LLVMOrcJITDylibDefine(LLVMOrcLLJITGetMainJITDylib(self.raw), mu)) {
                None => Ok(()),
                Some(e) => {
                    LLVMOrcDisposeMaterializationUnit(mu);
                    Err(e)
                }
            }
        }
    }

    /// Looks up (and so materialises) `name` in the main JITDylib.
    pub(crate) fn lookup(&self, name: &str) -> Result<u64, String> {
        let cname = CString::new(name).map_err(|_| "symbol name contains NUL".to_string())?;
        let mut addr = 0u64;
        // SAFETY: `raw` is live and `cname` is a valid C string for the call's duration.
        match take_error(unsafe { LLVMOrcLLJITLookup(self.raw, &mut addr, cname.as_ptr()) }) {
            None => Ok(addr),
            Some(e) => Err(e),
        }
    }
}

impl Drop for OrcJit {
    fn drop(&mut self) {
        // SAFETY: `raw` is live and disposed exactly once; all trackers it handed out were
        // released (they only hold references the LLJIT owns).
        if let Some(e) = take_error(unsafe { LLVMOrcDisposeLLJIT(self.raw) }) {
            // Nothing to return an error to from `drop`; the JIT memory is gone either way.
            let _ = e;
        }
    }
}

/// A resource tracker: the unit of code that can be removed as a whole.
#[derive(Debug)]
pub(crate) struct Tracker {
    raw: LLVMOrcResourceTrackerRef,
}

// SAFETY: a tracker is a reference-counted handle into the session, whose operations lock it.
unsafe impl Send for Tracker {}
// SAFETY: as for `Send`; `&self` exposes no operation.
unsafe impl Sync for Tracker {}

impl Tracker {
    /// Unloads everything added under this tracker and frees its symbol names.
    pub(crate) fn remove(self) -> Option<String> {
        // SAFETY: `raw` is a live tracker; removal is valid once; `drop` then releases our reference.
        take_error(unsafe { LLVMOrcResourceTrackerRemove(self.raw) })
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        // SAFETY: we hold one reference to the tracker and release it exactly once.
        unsafe { LLVMOrcReleaseResourceTracker(self.raw) }
    }
}

/// A copy of `len` bytes of published code at `start`.
///
/// # Safety
/// `start..start + len` must be code this JIT linked and has not unloaded
/// (readable: ORC maps code read-execute).
pub(crate) unsafe fn code_bytes(start: u64, len: u64) -> Vec<u8> {
    // SAFETY: the caller's contract.
    unsafe { std::slice::from_raw_parts(start as usize as *const u8, len as usize) }.to_vec()
}

/// The monotonic clock perf uses for JIT dumps (`perf record -k 1`), in ns.
pub(crate) fn monotonic_nanos() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid out-parameter; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64)
}

/// The calling thread's id.
pub(crate) fn thread_id() -> u32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() as u32 }
}

/// Maps the first page of `file` executable, which is how perf notices a
/// JIT dump (it records the mmap). The mapping lives as long as the process.
pub(crate) fn mark_jitdump(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: querying the page size has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
    // SAFETY: a fresh private mapping of an open file; nothing reads or
    // writes through it, and it is never unmapped (perf's convention).
    let p = unsafe {
        libc::mmap(ptr::null_mut(), page, libc::PROT_READ | libc::PROT_EXEC, libc::MAP_PRIVATE, file.as_raw_fd(), 0)
    };
    if p == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The resolver every lazy thunk calls (`stubs::x86_64_lazy_object`) with the
/// address of its `LazyFunction`: returns the body to jump to, or 0 when the
/// unit could not be compiled (recorded by `resolve`). Never unwinds into JIT code.
pub(crate) extern "C" fn lazy_resolve(function: *const crate::lazy::LazyFunction) -> u64 {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: thunks pass the address of a `LazyFunction` held in the session's
        // `LazyState::functions` (an `Arc`, never removed) for as long as the session, which
        // owns the thunks' code; the pointer was made by `Arc::as_ptr` in `publish_lazy`.
        let function = unsafe { &*function };
        function.resolve()
    }))
    .unwrap_or(0)
}

/// Reads the call counter of a counting stable entry (`stubs::x86_64_lazy_object`).
pub(crate) fn read_counter(counter: u64) -> u64 {
    // SAFETY: `counter` is the linked address of an 8-byte, 8-aligned `.cfree.count` global
    // of an object the session keeps until it is dropped (stub trackers are never removed),
    // and `&self` of the session is borrowed by the caller; JIT code only increments it.
    let counter = unsafe { std::sync::atomic::AtomicU64::from_ptr(counter as *mut u64) };
    counter.load(std::sync::atomic::Ordering::Relaxed)
}
