//! The `extern "C"` functions of `capi/include/cfree.h`. Each one catches
//! panics, checks its pointers, records the last error and returns a status:
//! 0 on success, else the error's code (`doc/errors.md`, `doc/capi.md`).
//!
//! # Safety (for every function here)
//!
//! Pointer parameters must be null or valid for the access the header states
//! (strings NUL-terminated, arrays of the stated length, out-parameters
//! writable). Handles are plain integers: any value is safe to pass.

use std::ffi::{c_char, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use cfree_facade::*;
use cfree_jit_orc::Jit;
use cfree_llvm_lower::{LlvmContext, OptLevel};

use crate::error::{self, CapiError, INVALID_ARGUMENT, NULL_POINTER, PANIC};
use crate::handles::{self, ModuleBox};

/// Runs `f`, turning errors and panics into a recorded status.
fn entry(call: &'static str, f: impl FnOnce() -> Result<(), CapiError>) -> c_int {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => {
            error::clear();
            0
        }
        Ok(Err(e)) => error::record(&e) as c_int,
        Err(_) => error::record(&CapiError::new(PANIC, call, "internal panic caught at the C boundary")) as c_int,
    }
}

/// Writes `value` through the out-pointer `out`.
///
/// # Safety
/// `out` must be null or valid for writes of a `T`.
unsafe fn put<T>(call: &str, out: *mut T, value: T) -> Result<(), CapiError> {
    if out.is_null() {
        return Err(CapiError::new(NULL_POINTER, call, "the out-parameter is null"));
    }
    // SAFETY: non-null, and valid for writes by the caller's contract.
    unsafe { out.write(value) };
    Ok(())
}

/// A string argument; null is allowed only where `optional`.
///
/// # Safety
/// `s` must be null or a NUL-terminated string valid for reads.
unsafe fn text<'a>(call: &str, s: *const c_char, what: &str) -> Result<Option<&'a str>, CapiError> {
    if s.is_null() {
        return Ok(None);
    }
    // SAFETY: non-null and NUL-terminated by the caller's contract.
    let c = unsafe { CStr::from_ptr(s) };
    c.to_str().map(Some).map_err(|_| CapiError::new(INVALID_ARGUMENT, call, format!("{what} is not UTF-8")))
}

/// A required string argument.
///
/// # Safety
/// As [`text`].
unsafe fn required<'a>(call: &str, s: *const c_char, what: &str) -> Result<&'a str, CapiError> {
    // SAFETY: forwarded contract.
    unsafe { text(call, s, what) }?.ok_or_else(|| CapiError::new(NULL_POINTER, call, format!("{what} is null")))
}

/// An array argument of `n` elements (null only when `n` is 0).
///
/// # Safety
/// `p` must be null or valid for reads of `n` elements.
unsafe fn array<'a, T>(call: &str, p: *const T, n: usize) -> Result<&'a [T], CapiError> {
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(CapiError::new(NULL_POINTER, call, "the array is null"));
    }
    // SAFETY: non-null and valid for `n` reads by the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

fn cg_err(e: cfree_facade::Error) -> CapiError {
    CapiError::cg(e)
}

fn enum_value<T: Copy>(call: &str, table: &[T], v: c_int, what: &str) -> Result<T, CapiError> {
    usize::try_from(v)
        .ok()
        .and_then(|i| table.get(i).copied())
        .ok_or_else(|| CapiError::new(INVALID_ARGUMENT, call, format!("{what} {v} is out of range")))
}

fn level(call: &str, v: c_int) -> Result<OptLevel, CapiError> {
    enum_value(call, &[OptLevel::O0, OptLevel::O1, OptLevel::O2, OptLevel::O3, OptLevel::Os], v, "optimisation level")
}

const INT_OPS: [IntBinOp; 20] = [
    IntBinOp::Add,
    IntBinOp::Sub,
    IntBinOp::Mul,
    IntBinOp::And,
    IntBinOp::Or,
    IntBinOp::Xor,
    IntBinOp::Shl,
    IntBinOp::LShr,
    IntBinOp::AShr,
    IntBinOp::ShlMasked,
    IntBinOp::LShrMasked,
    IntBinOp::AShrMasked,
    IntBinOp::SDiv,
    IntBinOp::UDiv,
    IntBinOp::SRem,
    IntBinOp::URem,
    IntBinOp::SMin,
    IntBinOp::SMax,
    IntBinOp::UMin,
    IntBinOp::UMax,
];

const INT_CMPS: [IntCmp; 10] = [
    IntCmp::Eq,
    IntCmp::Ne,
    IntCmp::Slt,
    IntCmp::Sle,
    IntCmp::Sgt,
    IntCmp::Sge,
    IntCmp::Ult,
    IntCmp::Ule,
    IntCmp::Ugt,
    IntCmp::Uge,
];

const LINKAGES: [Linkage; 6] = [
    Linkage::External,
    Linkage::Internal,
    Linkage::Weak,
    Linkage::WeakOdr,
    Linkage::LinkOnceOdr,
    Linkage::ExternalWeak,
];

// ---- version and errors ----

/// The API version of the library (`CFREE_VERSION`).
#[no_mangle]
pub extern "C" fn cfree_version() -> u32 {
    crate::VERSION
}

/// 0 when a program built against header version `header_version` can use
/// this library, else `INVALID_ARGUMENT` (2004).
#[no_mangle]
pub extern "C" fn cfree_abi_check(header_version: u32) -> c_int {
    entry("cfree_abi_check", || {
        if header_version == crate::VERSION {
            Ok(())
        } else {
            Err(CapiError::new(
                INVALID_ARGUMENT,
                "cfree_abi_check",
                format!("header version {header_version}, library version {}", crate::VERSION),
            ))
        }
    })
}

fn last_field(f: impl Fn(&error::LastError) -> *const c_char) -> *const c_char {
    error::LAST.with(|l| f(&l.borrow()))
}

/// The last error's code on this thread (0 after a successful call).
#[no_mangle]
pub extern "C" fn cfree_error_code() -> c_int {
    error::LAST.with(|l| l.borrow().code as c_int)
}

/// The last error's message on this thread ("" if none); valid until the next call.
#[no_mangle]
pub extern "C" fn cfree_error_message() -> *const c_char {
    last_field(|l| l.message.as_ptr())
}

/// The emitter call or C function of the last error ("" if none).
#[no_mangle]
pub extern "C" fn cfree_error_call() -> *const c_char {
    last_field(|l| l.call.as_ptr())
}

/// The function being emitted when the last error happened ("" if none).
#[no_mangle]
pub extern "C" fn cfree_error_function() -> *const c_char {
    last_field(|l| l.function.as_ptr())
}

/// The operand at fault in the last error ("" if unknown).
#[no_mangle]
pub extern "C" fn cfree_error_operand() -> *const c_char {
    last_field(|l| l.operand.as_ptr())
}

// ---- modules ----

/// Creates a module named `name` for `triple` (null: the host) in a context of its own.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_module_new(name: *const c_char, triple: *const c_char, out: *mut u64) -> c_int {
    const CALL: &str = "cfree_cg_module_new";
    entry(CALL, || {
        // SAFETY: the caller's contract on `name` and `triple`.
        let (name, triple) = unsafe { (required(CALL, name, "name")?, text(CALL, triple, "triple")?) };
        let spec = triple.map_or_else(TargetSpec::host, TargetSpec::triple);
        let context = Box::new(LlvmContext::new());
        let cg = context.module(name, &spec).map_err(|e| CapiError::llvm(CALL, e))?;
        // SAFETY: `cg` borrows `*context`, which lives in a box whose address does not
        // change and which `ModuleBox` drops after `cg` (field order); nothing else can
        // reach the context, so extending the borrow to the box's lifetime is sound.
        let cg: Cg<cfree_llvm_lower::LlvmBackend<'static>> = unsafe { std::mem::transmute(cg) };
        let h = handles::add_module(ModuleBox { cg, context });
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, h) }
    })
}

/// Frees module `m` (its context and everything emitted).
#[no_mangle]
pub extern "C" fn cfree_cg_module_free(m: u64) -> c_int {
    entry("cfree_cg_module_free", || handles::take_module("cfree_cg_module_free", m).map(drop))
}

macro_rules! out_call {
    ($(#[$doc:meta])* $name:ident ( $($arg:ident : $ty:ty),* ) -> $out:ty => |$cg:ident| $body:expr) => {
        $(#[$doc])*
        ///
        /// # Safety
        /// See the module documentation.
        #[no_mangle]
        pub unsafe extern "C" fn $name(m: u64, $($arg: $ty,)* out: *mut $out) -> c_int {
            const CALL: &str = stringify!($name);
            entry(CALL, || {
                let v = handles::with_module(CALL, m, |$cg| $body)?;
                // SAFETY: the caller's contract on `out`.
                unsafe { put(CALL, out, v) }
            })
        }
    };
}

macro_rules! unit_call {
    ($(#[$doc:meta])* $name:ident ( $($arg:ident : $ty:ty),* ) => |$cg:ident| $body:expr) => {
        $(#[$doc])*
        #[no_mangle]
        pub extern "C" fn $name(m: u64, $($arg: $ty),*) -> c_int {
            const CALL: &str = stringify!($name);
            entry(CALL, || handles::with_module(CALL, m, |$cg| $body))
        }
    };
}

fn width(call: &str, bits: u32) -> Result<IntWidth, CapiError> {
    Ok(match bits {
        1 => IntWidth::I1,
        8 => IntWidth::I8,
        16 => IntWidth::I16,
        32 => IntWidth::I32,
        64 => IntWidth::I64,
        128 => IntWidth::I128,
        _ => return Err(CapiError::new(INVALID_ARGUMENT, call, format!("no {bits}-bit integer type"))),
    })
}

out_call!(
    /// The integer type of `bits` (1, 8, 16, 32, 64, 128).
    cfree_cg_ty_int(bits: u32) -> u64 => |cg| {
        let w = width("cfree_cg_ty_int", bits)?;
        cg.ty_int(w).map(TypeId::to_bits).map_err(cg_err)
    }
);

out_call!(
    /// The float type of `bits` (32, 64).
    cfree_cg_ty_float(bits: u32) -> u64 => |cg| {
        let w = match bits {
            32 => FloatWidth::F32,
            64 => FloatWidth::F64,
            _ => return Err(CapiError::new(INVALID_ARGUMENT, "cfree_cg_ty_float", format!("no {bits}-bit float type"))),
        };
        cg.ty_float(w).map(TypeId::to_bits).map_err(cg_err)
    }
);

out_call!(
    /// A pointer to `pointee` in `addr_space`.
    cfree_cg_ty_ptr(pointee: u64, addr_space: u32) -> u64 => |cg| {
        cg.ty_ptr(TypeId::from_bits(pointee), addr_space).map(TypeId::to_bits).map_err(cg_err)
    }
);

/// A record of `n` fields with natural C layout.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_ty_record(m: u64, fields: *const u64, n: usize, out: *mut u64) -> c_int {
    const CALL: &str = "cfree_cg_ty_record";
    entry(CALL, || {
        // SAFETY: the caller's contract on `fields`.
        let fields: Vec<TypeId> = unsafe { array(CALL, fields, n)? }.iter().map(|b| TypeId::from_bits(*b)).collect();
        let v = handles::with_module(CALL, m, |cg| cg.ty_record(&fields).map(TypeId::to_bits).map_err(cg_err))?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, v) }
    })
}

/// A C-convention function type of `n` parameters returning `result` (when
/// `has_result` is non-zero), variadic when `variadic` is non-zero.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_ty_func(
    m: u64,
    params: *const u64,
    n: usize,
    has_result: c_int,
    result: u64,
    variadic: c_int,
    out: *mut u64,
) -> c_int {
    const CALL: &str = "cfree_cg_ty_func";
    entry(CALL, || {
        // SAFETY: the caller's contract on `params`.
        let params: Vec<TypeId> = unsafe { array(CALL, params, n)? }.iter().map(|b| TypeId::from_bits(*b)).collect();
        let result = (has_result != 0).then(|| TypeId::from_bits(result));
        let sig = FuncSig::new(&params, result);
        let sig = if variadic != 0 { sig.variadic() } else { sig };
        let v = handles::with_module(CALL, m, |cg| cg.ty_func(sig).map(TypeId::to_bits).map_err(cg_err))?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, v) }
    })
}

/// Declares function `name` of type `sig` with `linkage` (`CFREE_LINKAGE_*`).
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_declare_func(
    m: u64,
    name: *const c_char,
    sig: u64,
    linkage: c_int,
    out: *mut u64,
) -> c_int {
    const CALL: &str = "cfree_cg_declare_func";
    entry(CALL, || {
        // SAFETY: the caller's contract on `name`.
        let name = unsafe { required(CALL, name, "name")? };
        let linkage = enum_value(CALL, &LINKAGES, linkage, "linkage")?;
        let decl = FuncDecl::new(TypeId::from_bits(sig)).linkage(linkage);
        let v = handles::with_module(CALL, m, |cg| cg.declare_func(name, decl).map(Sym::to_bits).map_err(cg_err))?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, v) }
    })
}

unit_call!(
    /// Starts the body of function `sym`.
    cfree_cg_func_begin(sym: u64) => |cg| cg.func_begin(Sym::from_bits(sym)).map_err(cg_err)
);

/// The slot of parameter `index`, named `name` (may be null).
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_param_slot(m: u64, index: u32, name: *const c_char, out: *mut u64) -> c_int {
    const CALL: &str = "cfree_cg_param_slot";
    entry(CALL, || {
        // SAFETY: the caller's contract on `name`.
        let name = unsafe { text(CALL, name, "name")? }.unwrap_or("");
        let v = handles::with_module(CALL, m, |cg| cg.param_slot(index, name).map(Local::to_bits).map_err(cg_err))?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, v) }
    })
}

/// A local slot of type `ty` aligned to `align` (0 = natural), named `name` (may be null).
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_local_slot(m: u64, ty: u64, name: *const c_char, align: u32, out: *mut u64) -> c_int {
    const CALL: &str = "cfree_cg_local_slot";
    entry(CALL, || {
        // SAFETY: the caller's contract on `name`.
        let name = unsafe { text(CALL, name, "name")? }.unwrap_or("");
        let v = handles::with_module(CALL, m, |cg| {
            cg.local_slot(TypeId::from_bits(ty), name, align).map(Local::to_bits).map_err(cg_err)
        })?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, v) }
    })
}

/// `cfree_cg_local_slot_ex`: a local slot with `CFREE_SLOT_*` flags.
///
/// # Safety
/// `name` is null or NUL-terminated; `out` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_local_slot_ex(
    m: u64,
    ty: u64,
    name: *const c_char,
    align: u32,
    flags: u32,
    out: *mut u64,
) -> c_int {
    const CALL: &str = "cfree_cg_local_slot_ex";
    entry(CALL, || {
        // SAFETY: the caller's contract on `name`.
        let name = unsafe { text(CALL, name, "name")? }.unwrap_or("");
        let flags = cfree_facade::SlotFlags::from_bits(flags)
            .ok_or_else(|| CapiError::new(INVALID_ARGUMENT, CALL, format!("slot flags {flags:#x} are unknown")))?;
        let v = handles::with_module(CALL, m, |cg| {
            cg.local_slot_with(TypeId::from_bits(ty), name, align, flags).map(Local::to_bits).map_err(cg_err)
        })?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, v) }
    })
}

/// `cfree_cg_param_slot_ex`: parameter `index`'s slot with `CFREE_SLOT_*` flags.
///
/// # Safety
/// `name` is null or NUL-terminated; `out` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_param_slot_ex(
    m: u64,
    index: u32,
    name: *const c_char,
    flags: u32,
    out: *mut u64,
) -> c_int {
    const CALL: &str = "cfree_cg_param_slot_ex";
    entry(CALL, || {
        // SAFETY: the caller's contract on `name`.
        let name = unsafe { text(CALL, name, "name")? }.unwrap_or("");
        let flags = cfree_facade::SlotFlags::from_bits(flags)
            .ok_or_else(|| CapiError::new(INVALID_ARGUMENT, CALL, format!("slot flags {flags:#x} are unknown")))?;
        let v = handles::with_module(CALL, m, |cg| {
            cg.param_slot_with(index, name, flags).map(Local::to_bits).map_err(cg_err)
        })?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, v) }
    })
}

out_call!(
    /// The `CFREE_SLOT_*` flags of a parameter or local slot.
    cfree_cg_local_flags(local: u64) -> u32 => |cg| {
        cg.local_flags(Local::from_bits(local)).map(|f| f.bits()).map_err(cg_err)
    }
);

out_call!(
    /// The number of entries on the open function's value stack.
    cfree_cg_stack_depth() -> usize => |cg| Ok(cg.stack_depth())
);

unit_call!(
    /// `check`: pops an `i1` and branches to `handler` when it is 1; the rest of the stack stays.
    cfree_cg_check(handler: u64) => |cg| cg.check(Label::from_bits(handler)).map_err(cg_err)
);
unit_call!(
    /// `check_nonnull`: branches to `handler` if the pointer on top is null (kept);
    /// `implicit` != 0 asks for an implicit check (doc/runtime.md).
    cfree_cg_check_nonnull(handler: u64, implicit: c_int) => |cg| {
        let lowering = if implicit != 0 { cfree_facade::CheckLowering::Implicit } else { cfree_facade::CheckLowering::Explicit };
        cg.check_nonnull(Label::from_bits(handler), lowering).map_err(cg_err)
    }
);

out_call!(
    /// A new label in the open function.
    cfree_cg_new_label() -> u64 => |cg| cg.new_label().map(Label::to_bits).map_err(cg_err)
);

unit_call!(
    /// Places `label` here.
    cfree_cg_place_label(label: u64) => |cg| cg.place_label(Label::from_bits(label)).map_err(cg_err)
);
unit_call!(
    /// Branches to `label`.
    cfree_cg_br(label: u64) => |cg| cg.br(Label::from_bits(label)).map_err(cg_err)
);
unit_call!(
    /// Pops an `i1` and branches to `then` or `otherwise`.
    cfree_cg_cond_br(then: u64, otherwise: u64) => |cg| {
        cg.cond_br(Label::from_bits(then), Label::from_bits(otherwise)).map_err(cg_err)
    }
);
unit_call!(
    /// Pushes an integer constant of type `ty`.
    cfree_cg_push_int(ty: u64, value: i64) => |cg| cg.push_int(TypeId::from_bits(ty), i128::from(value)).map_err(cg_err)
);
unit_call!(
    /// Pushes slot `local` as a place.
    cfree_cg_push_local(local: u64) => |cg| cg.push_local(Local::from_bits(local)).map_err(cg_err)
);
unit_call!(
    /// `load`: pops a place or pointer, pushes the value of type `ty` (`align` 0 = natural).
    cfree_cg_load(ty: u64, align: u32) => |cg| cg.load(MemAccess::new(TypeId::from_bits(ty)).align(align)).map_err(cg_err)
);
unit_call!(
    /// `store`: pops the value, then the place or pointer (`align` 0 = natural).
    cfree_cg_store(ty: u64, align: u32) => |cg| cg.store(MemAccess::new(TypeId::from_bits(ty)).align(align)).map_err(cg_err)
);
unit_call!(
    /// An integer operation `op` (`CFREE_INT_*`) with `flags` (`CFREE_FLAG_*`).
    cfree_cg_int_op(op: c_int, flags: u32) => |cg| {
        let op = enum_value("cfree_cg_int_op", &INT_OPS, op, "operation")?;
        let flags = u8::try_from(flags).ok().and_then(IntFlags::from_bits).ok_or_else(|| {
            CapiError::new(INVALID_ARGUMENT, "cfree_cg_int_op", format!("flags {flags:#x} are not NSW/NUW/EXACT"))
        })?;
        cg.int_op(op, flags).map_err(cg_err)
    }
);
unit_call!(
    /// An integer comparison `pred` (`CFREE_CMP_*`); pushes an `i1`.
    cfree_cg_int_cmp(pred: c_int) => |cg| {
        let pred = enum_value("cfree_cg_int_cmp", &INT_CMPS, pred, "predicate")?;
        cg.int_cmp(pred).map_err(cg_err)
    }
);
unit_call!(
    /// Calls function `sym` with the top `nargs` values; pushes its result, if any.
    cfree_cg_call(sym: u64, nargs: u32) => |cg| cg.call(Callee::Direct(Sym::from_bits(sym)), nargs).map_err(cg_err)
);
unit_call!(
    /// Returns (popping the result, if the function has one).
    cfree_cg_ret() => |cg| cg.ret().map_err(cg_err)
);
unit_call!(
    /// Ends the open function.
    cfree_cg_func_end() => |cg| cg.func_end().map_err(cg_err)
);

/// Finishes module `m` and writes an object file at `level` (0-3) into a new
/// buffer `*bytes` of `*len` bytes, freed with `cfree_bytes_free`. The module
/// is consumed (freed) whether or not this succeeds.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_emit_object(m: u64, level_: c_int, bytes: *mut *mut u8, len: *mut usize) -> c_int {
    const CALL: &str = "cfree_cg_emit_object";
    entry(CALL, || {
        if bytes.is_null() || len.is_null() {
            return Err(CapiError::new(NULL_POINTER, CALL, "an out-parameter is null"));
        }
        let level = level(CALL, level_)?;
        let ModuleBox { cg, context } = handles::take_module(CALL, m)?;
        let object = {
            let mut module = cfree_llvm_lower::finish(cg).map_err(|e| CapiError::llvm(CALL, e))?;
            module.emit_object(level).map_err(|e| CapiError::llvm(CALL, e))?
        };
        drop(context);
        let (p, n) = handles::add_buffer(object);
        // SAFETY: both out-pointers are non-null and writable by the caller's contract.
        unsafe {
            bytes.write(p);
            len.write(n);
        }
        Ok(())
    })
}

/// Frees a buffer from `cfree_cg_emit_object` or `cfree_cg_emit` (null is
/// ignored). `len` is not needed (kept for the first version's signature); a
/// pointer that is not a live buffer is ignored and recorded as
/// `CFREE_ERR_UNKNOWN_HANDLE` in the last error.
#[no_mangle]
pub extern "C" fn cfree_bytes_free(bytes: *mut u8, len: usize) {
    let _ = len;
    if bytes.is_null() {
        return;
    }
    entry("cfree_bytes_free", || {
        if handles::free_buffer(bytes) {
            Ok(())
        } else {
            Err(CapiError::new(
                crate::error::UNKNOWN_HANDLE,
                "cfree_bytes_free",
                "not a buffer of this library (already freed?)",
            ))
        }
    });
}

/// Copies `s` into `buf` (at most `cap` bytes with the NUL) and its full length into `*len`.
///
/// # Safety
/// `buf` must be null or writable for `cap` bytes; `len` null or writable.
unsafe fn copy_string(call: &str, s: &str, buf: *mut c_char, cap: usize, len: *mut usize) -> Result<(), CapiError> {
    if cap > 0 {
        if buf.is_null() {
            return Err(CapiError::new(NULL_POINTER, call, "the buffer is null"));
        }
        let n = s.len().min(cap - 1);
        // SAFETY: `buf` is writable for `cap` > `n` bytes by the caller's contract.
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), n);
            buf.add(n).write(0);
        }
    }
    // SAFETY: the caller's contract on `len`.
    unsafe { put(call, len, s.len()) }
}

// ---- JIT ----

/// Creates a JIT for the host.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_new(out: *mut u64) -> c_int {
    const CALL: &str = "cfree_jit_new";
    entry(CALL, || {
        let jit = Jit::new().map_err(|e| CapiError::jit(CALL, e))?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, handles::add_jit(jit)) }
    })
}

/// Finishes module `m` and publishes it at `level` (0-3). The module is
/// consumed whether or not this succeeds; a failed publish leaves the JIT as it was.
#[no_mangle]
pub extern "C" fn cfree_jit_publish(jit: u64, m: u64, level_: c_int) -> c_int {
    const CALL: &str = "cfree_jit_publish";
    entry(CALL, || {
        let level = level(CALL, level_)?;
        let jit = handles::jit(CALL, jit)?;
        let ModuleBox { cg, context } = handles::take_module(CALL, m)?;
        {
            let module = cfree_llvm_lower::finish(cg).map_err(|e| CapiError::llvm(CALL, e))?;
            jit.publish(&module, level).map_err(|e| CapiError::jit(CALL, e))?;
        }
        drop(context);
        Ok(())
    })
}

/// The address of published function `name`, or an error if there is none.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_lookup(jit: u64, name: *const c_char, out: *mut *const std::ffi::c_void) -> c_int {
    const CALL: &str = "cfree_jit_lookup";
    entry(CALL, || {
        // SAFETY: the caller's contract on `name`.
        let name = unsafe { required(CALL, name, "name")? };
        let jit = handles::jit(CALL, jit)?;
        let addr = jit.address(name).map_err(|e| CapiError::jit(CALL, e))?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, addr as usize as *const std::ffi::c_void) }
    })
}

/// Frees JIT `jit`. Its code must no longer run or be called.
#[no_mangle]
pub extern "C" fn cfree_jit_free(jit: u64) -> c_int {
    entry("cfree_jit_free", || handles::remove_jit("cfree_jit_free", jit).map(drop))
}

// ---- floats, conversions, addresses, memory facts, atomics ----

const FLOAT_OPS: [FloatBinOp; 10] = [
    FloatBinOp::Add,
    FloatBinOp::Sub,
    FloatBinOp::Mul,
    FloatBinOp::Div,
    FloatBinOp::Rem,
    FloatBinOp::CopySign,
    FloatBinOp::MinNum,
    FloatBinOp::MaxNum,
    FloatBinOp::Minimum,
    FloatBinOp::Maximum,
];

const FLOAT_UNOPS: [FloatUnOp; 8] = [
    FloatUnOp::Neg,
    FloatUnOp::Abs,
    FloatUnOp::Sqrt,
    FloatUnOp::Floor,
    FloatUnOp::Ceil,
    FloatUnOp::Trunc,
    FloatUnOp::Round,
    FloatUnOp::RoundEven,
];

const FLOAT_CMPS: [FloatCmp; 14] = [
    FloatCmp::Oeq,
    FloatCmp::Ogt,
    FloatCmp::Oge,
    FloatCmp::Olt,
    FloatCmp::Ole,
    FloatCmp::One,
    FloatCmp::Ord,
    FloatCmp::Ueq,
    FloatCmp::Ugt,
    FloatCmp::Uge,
    FloatCmp::Ult,
    FloatCmp::Ule,
    FloatCmp::Une,
    FloatCmp::Uno,
];

const CASTS: [CastOp; 14] = [
    CastOp::SExt,
    CastOp::ZExt,
    CastOp::Trunc,
    CastOp::PtrToInt,
    CastOp::IntToPtr,
    CastOp::FpExt,
    CastOp::FpTrunc,
    CastOp::SIToFP,
    CastOp::UIToFP,
    CastOp::FPToSI,
    CastOp::FPToUI,
    CastOp::FPToSISat,
    CastOp::FPToUISat,
    CastOp::Bitcast,
];

const RMW_OPS: [AtomicRmwOp; 15] = [
    AtomicRmwOp::Xchg,
    AtomicRmwOp::Add,
    AtomicRmwOp::Sub,
    AtomicRmwOp::And,
    AtomicRmwOp::Or,
    AtomicRmwOp::Xor,
    AtomicRmwOp::Nand,
    AtomicRmwOp::SMin,
    AtomicRmwOp::SMax,
    AtomicRmwOp::UMin,
    AtomicRmwOp::UMax,
    AtomicRmwOp::FAdd,
    AtomicRmwOp::FSub,
    AtomicRmwOp::FMin,
    AtomicRmwOp::FMax,
];

const ORDERINGS: [AtomicOrdering; 5] = [
    AtomicOrdering::Relaxed,
    AtomicOrdering::Acquire,
    AtomicOrdering::Release,
    AtomicOrdering::AcqRel,
    AtomicOrdering::SeqCst,
];

fn fast_math(call: &str, bits: u32) -> Result<FastMath, CapiError> {
    u8::try_from(bits)
        .ok()
        .and_then(FastMath::from_bits)
        .ok_or_else(|| CapiError::new(INVALID_ARGUMENT, call, format!("fast-math bits {bits:#x} are not defined")))
}

/// The access descriptor of a load, store or atomic: type, alignment (0 =
/// natural) and `CFREE_MEM_*` flags.
fn access(call: &str, ty: u64, align: u32, flags: u32) -> Result<MemAccess, CapiError> {
    let flags = MemFlags::from_bits(flags)
        .ok_or_else(|| CapiError::new(INVALID_ARGUMENT, call, format!("memory flags {flags:#x} are not defined")))?;
    Ok(MemAccess::new(TypeId::from_bits(ty)).align(align).flags(flags))
}

unit_call!(
    /// Pushes an `f64` constant.
    cfree_cg_push_f64(value: f64) => |cg| cg.push_f64(value).map_err(cg_err)
);
unit_call!(
    /// Pushes an `f32` constant.
    cfree_cg_push_f32(value: f32) => |cg| cg.push_f32(value).map_err(cg_err)
);
unit_call!(
    /// A float operation `op` (`CFREE_FLOAT_*`) with fast-math bits `fm`.
    cfree_cg_float_op(op: c_int, fm: u32) => |cg| {
        let op = enum_value("cfree_cg_float_op", &FLOAT_OPS, op, "operation")?;
        cg.float_op(op, fast_math("cfree_cg_float_op", fm)?).map_err(cg_err)
    }
);
unit_call!(
    /// A unary float operation `op` (`CFREE_FUNARY_*`) with fast-math bits `fm`.
    cfree_cg_float_unop(op: c_int, fm: u32) => |cg| {
        let op = enum_value("cfree_cg_float_unop", &FLOAT_UNOPS, op, "operation")?;
        cg.float_unop(op, fast_math("cfree_cg_float_unop", fm)?).map_err(cg_err)
    }
);
unit_call!(
    /// A float comparison `pred` (`CFREE_FCMP_*`); pushes an `i1`.
    cfree_cg_float_cmp(pred: c_int, fm: u32) => |cg| {
        let pred = enum_value("cfree_cg_float_cmp", &FLOAT_CMPS, pred, "predicate")?;
        cg.float_cmp(pred, fast_math("cfree_cg_float_cmp", fm)?).map_err(cg_err)
    }
);
unit_call!(
    /// A conversion `op` (`CFREE_CAST_*`) to type `to`.
    cfree_cg_cast(op: c_int, to: u64) => |cg| {
        let op = enum_value("cfree_cg_cast", &CASTS, op, "conversion")?;
        cg.cast(op, TypeId::from_bits(to)).map_err(cg_err)
    }
);
unit_call!(
    /// `select`: pops the condition, the false value and the true value; pushes one.
    cfree_cg_select() => |cg| cg.select().map_err(cg_err)
);
unit_call!(
    /// Pops the top entry.
    cfree_cg_discard() => |cg| cg.discard().map_err(cg_err)
);
unit_call!(
    /// Pushes a copy of the top entry.
    cfree_cg_dup() => |cg| cg.dup().map_err(cg_err)
);
unit_call!(
    /// Exchanges the top two entries.
    cfree_cg_swap() => |cg| cg.swap().map_err(cg_err)
);
unit_call!(
    /// Pops a place, pushes its address.
    cfree_cg_addr_of() => |cg| cg.addr_of().map_err(cg_err)
);
unit_call!(
    /// Pops a pointer, pushes the place of type `ty` it points to.
    cfree_cg_deref(ty: u64) => |cg| cg.deref(TypeId::from_bits(ty)).map_err(cg_err)
);
unit_call!(
    /// Pops a place or pointer, pushes it moved by `offset` bytes as `result_type`.
    cfree_cg_addr_offset(offset: i64, result_type: u64) => |cg| {
        cg.addr_offset(offset, TypeId::from_bits(result_type)).map_err(cg_err)
    }
);
unit_call!(
    /// `load` with memory flags (`CFREE_MEM_*`).
    cfree_cg_load_ex(ty: u64, align: u32, flags: u32) => |cg| cg.load(access("cfree_cg_load_ex", ty, align, flags)?).map_err(cg_err)
);
unit_call!(
    /// `store` with memory flags (`CFREE_MEM_*`).
    cfree_cg_store_ex(ty: u64, align: u32, flags: u32) => |cg| cg.store(access("cfree_cg_store_ex", ty, align, flags)?).map_err(cg_err)
);
unit_call!(
    /// An atomic read-modify-write `op` (`CFREE_RMW_*`) with `ordering` (`CFREE_ORDER_*`):
    /// pops the value, then the address; pushes the old value.
    cfree_cg_atomic_rmw(op: c_int, ty: u64, ordering: c_int) => |cg| {
        const CALL: &str = "cfree_cg_atomic_rmw";
        let op = enum_value(CALL, &RMW_OPS, op, "operation")?;
        let ordering = enum_value(CALL, &ORDERINGS, ordering, "ordering")?;
        cg.atomic_rmw(op, MemAccess::new(TypeId::from_bits(ty)), ordering, SyncScope::System).map_err(cg_err)
    }
);
unit_call!(
    /// A strong compare-exchange: pops the new value, the expected one, then the address;
    /// pushes the old value, then the success flag.
    cfree_cg_cmpxchg(ty: u64, success: c_int, failure: c_int) => |cg| {
        const CALL: &str = "cfree_cg_cmpxchg";
        let success = enum_value(CALL, &ORDERINGS, success, "success ordering")?;
        let failure = enum_value(CALL, &ORDERINGS, failure, "failure ordering")?;
        cg.cmpxchg(MemAccess::new(TypeId::from_bits(ty)), success, failure, false, SyncScope::System).map_err(cg_err)
    }
);
unit_call!(
    /// A fence with `ordering` (`CFREE_ORDER_*`).
    cfree_cg_fence(ordering: c_int) => |cg| {
        let ordering = enum_value("cfree_cg_fence", &ORDERINGS, ordering, "ordering")?;
        cg.fence(ordering, SyncScope::System).map_err(cg_err)
    }
);
unit_call!(
    /// Pushes the address of function or data `sym`.
    cfree_cg_push_sym_addr(sym: u64) => |cg| cg.push_sym_addr(Sym::from_bits(sym)).map_err(cg_err)
);
unit_call!(
    /// Calls through the function pointer below the top `nargs` values, with function type `sig`.
    cfree_cg_call_indirect(sig: u64, nargs: u32) => |cg| {
        cg.call(Callee::Indirect(TypeId::from_bits(sig)), nargs).map_err(cg_err)
    }
);

mod asm;
mod cg_ext;
mod debug;
mod jit_ext;
mod statepoint;
mod types;
