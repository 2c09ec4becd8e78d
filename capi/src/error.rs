//! Errors as C sees them: a status code plus a per-thread record of the last
//! error (message, call, function and operand), readable until the next call.

use std::cell::RefCell;
use std::ffi::CString;

/// An error of one C API call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapiError {
    /// The status code returned to C.
    pub code: u32,
    /// What went wrong.
    pub message: String,
    /// The emitter call that failed (for facade errors) or the C function.
    pub call: String,
    /// The function being emitted, if any.
    pub function: Option<String>,
    /// The operand at fault, if known.
    pub operand: Option<String>,
}

/// A null pointer where a pointer is required.
pub(crate) const NULL_POINTER: u32 = 2001;
/// A handle that was never issued, was freed, or belongs to another thread.
pub(crate) const UNKNOWN_HANDLE: u32 = 2002;
/// A name, PC or record that does not exist (a symbol, a safepoint, a unit).
pub(crate) const NOT_FOUND: u32 = 2003;
/// An argument outside its documented range (an enum value, a non-UTF-8 string).
pub(crate) const INVALID_ARGUMENT: u32 = 2004;
/// The operation does not exist on this host (e.g. frame walks off x86-64/AArch64).
#[allow(dead_code)]
pub(crate) const UNSUPPORTED: u32 = 2006;
/// A Rust panic was caught at the boundary (a bug: please report it).
pub(crate) const PANIC: u32 = 2005;

impl CapiError {
    pub(crate) fn new(code: u32, call: &str, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), call: call.to_string(), function: None, operand: None }
    }

    pub(crate) fn cg(e: cfree_facade::Error) -> Self {
        Self {
            code: e.code(),
            message: e.kind().to_string(),
            call: e.call().to_string(),
            function: e.function().map(str::to_string),
            operand: e.operand_name().map(str::to_string),
        }
    }

    pub(crate) fn llvm(call: &str, e: cfree_llvm_lower::Error) -> Self {
        match e {
            cfree_llvm_lower::Error::Cg(e) => Self::cg(e),
            other => Self::new(other.code(), call, other.to_string()),
        }
    }

    pub(crate) fn jit(call: &str, e: cfree_jit_orc::Error) -> Self {
        Self::new(e.code(), call, e.to_string())
    }
}

/// The last error's fields as C strings, kept alive for the pointers handed out.
#[derive(Default)]
pub(crate) struct LastError {
    pub(crate) code: u32,
    pub(crate) message: CString,
    pub(crate) call: CString,
    pub(crate) function: CString,
    pub(crate) operand: CString,
}

thread_local! {
    pub(crate) static LAST: RefCell<LastError> = RefCell::new(LastError::default());
}

fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "\\0")).unwrap_or_default()
}

/// Records `e` as this thread's last error and returns its code.
pub(crate) fn record(e: &CapiError) -> u32 {
    LAST.with(|l| {
        *l.borrow_mut() = LastError {
            code: e.code,
            message: c_string(&e.message),
            call: c_string(&e.call),
            function: c_string(e.function.as_deref().unwrap_or("")),
            operand: c_string(e.operand.as_deref().unwrap_or("")),
        }
    });
    e.code
}

/// Clears this thread's last error (a call succeeded).
pub(crate) fn clear() {
    LAST.with(|l| *l.borrow_mut() = LastError::default());
}
