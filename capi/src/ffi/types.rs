//! The type table's queries (`cfree/cg.h`, "Type table"): how many types a
//! module has interned, each one's shape, record fields, function parameters,
//! compatibility and spelling. A frontend written in C mirrors or inspects the
//! module's types through these instead of keeping its own copy.

use std::ffi::{c_char, c_int};

use cfree_facade::*;

use super::cg_ext::{CParam, CONVS, EXTS, PARAM_INREG, PARAM_NEST, PARAM_NOALIAS, PARAM_NOCAPTURE, PARAM_NONNULL};
use super::cg_ext::{PARAM_READONLY, PARAM_WRITEONLY};
use super::{cg_err, copy_string, entry, put};
use crate::error::{CapiError, NOT_FOUND};
use crate::handles;

// Type kinds (`CFREE_TYPE_*`).
const TYPE_INT: c_int = 0;
const TYPE_FLOAT: c_int = 1;
const TYPE_PTR: c_int = 2;
const TYPE_ARRAY: c_int = 3;
const TYPE_RECORD: c_int = 4;
const TYPE_FUNC: c_int = 5;

/// `cfree_type_info`: the shape of one interned type.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CTypeInfo {
    /// `CFREE_TYPE_*`.
    pub kind: c_int,
    /// INT, FLOAT: the width in bits.
    pub bits: u32,
    /// PTR: the address space.
    pub addr_space: u32,
    /// PTR: the pointee; ARRAY: the element type; otherwise 0.
    pub inner: u64,
    /// ARRAY: the element count; RECORD: the field count; FUNC: the fixed
    /// parameter count.
    pub count: u64,
    /// RECORD: the requested minimum alignment (0 = natural).
    pub min_align: u64,
    /// 1 if the type has a size (everything but functions).
    pub has_layout: c_int,
    /// Allocation size in bytes (with `has_layout`).
    pub size: u64,
    /// ABI alignment in bytes (with `has_layout`).
    pub align: u64,
    /// FUNC: 1 if it returns a value.
    pub has_result: c_int,
    /// FUNC: 1 if variadic.
    pub variadic: c_int,
    /// FUNC: `CFREE_CONV_*`.
    pub conv: c_int,
}

/// The type `ty` of `cg`, or the facade's foreign-handle error.
fn kind_of<'a, B: Backend>(cg: &'a Cg<B>, call: &'static str, ty: u64) -> Result<&'a TypeKind, CapiError> {
    let id = TypeId::from_bits(ty);
    cg.types().check(id).map_err(|e| cg_err(Error::new(call, e)))?;
    Ok(cg.types().kind(id))
}

fn index_of<T: PartialEq>(table: &[T], v: &T) -> c_int {
    table.iter().position(|x| x == v).map_or(-1, |i| i as c_int)
}

fn c_param_of(p: &Param) -> CParam {
    let a = &p.attrs;
    let bit = |on: bool, b: u32| if on { b } else { 0 };
    CParam {
        ty: p.ty.to_bits(),
        ext: index_of(&EXTS, &p.ext),
        flags: bit(a.noalias, PARAM_NOALIAS)
            | bit(a.nocapture, PARAM_NOCAPTURE)
            | bit(a.readonly, PARAM_READONLY)
            | bit(a.writeonly, PARAM_WRITEONLY)
            | bit(a.nonnull, PARAM_NONNULL)
            | bit(a.inreg, PARAM_INREG)
            | bit(a.nest, PARAM_NEST),
        dereferenceable: a.dereferenceable,
        dereferenceable_or_null: a.dereferenceable_or_null,
        align: a.align,
    }
}

fn not_found(call: &str, what: String) -> CapiError {
    CapiError::new(NOT_FOUND, call, what)
}

/// The number of types module `m` has interned; ids of indexes
/// `0..count` come from [`cfree_cg_type_at`].
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_type_count(m: u64, out: *mut usize) -> c_int {
    const CALL: &str = "cfree_cg_type_count";
    entry(CALL, || {
        let n = handles::with_module(CALL, m, |cg| Ok(cg.types().len()))?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, n) }
    })
}

/// The `index`-th interned type of module `m`.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_type_at(m: u64, index: usize, out: *mut u64) -> c_int {
    const CALL: &str = "cfree_cg_type_at";
    entry(CALL, || {
        let id = handles::with_module(CALL, m, |cg| {
            let n = cg.types().len();
            cg.types().id_at(index).ok_or_else(|| not_found(CALL, format!("type index {index} (the module has {n})")))
        })?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, id.to_bits()) }
    })
}

/// The shape of type `ty` of module `m`.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_type_info(m: u64, ty: u64, out: *mut CTypeInfo) -> c_int {
    const CALL: &str = "cfree_cg_type_info";
    entry(CALL, || {
        let info = handles::with_module(CALL, m, |cg| {
            let kind = kind_of(cg, CALL, ty)?;
            let mut i = CTypeInfo::default();
            match kind {
                TypeKind::Int(w) => (i.kind, i.bits) = (TYPE_INT, w.bits()),
                TypeKind::Float(w) => (i.kind, i.bits) = (TYPE_FLOAT, w.bits()),
                TypeKind::Ptr { pointee, addr_space } => {
                    (i.kind, i.inner, i.addr_space) = (TYPE_PTR, pointee.to_bits(), *addr_space)
                }
                TypeKind::Array { elem, count } => (i.kind, i.inner, i.count) = (TYPE_ARRAY, elem.to_bits(), *count),
                TypeKind::Record { fields, align } => {
                    (i.kind, i.count, i.min_align) = (TYPE_RECORD, fields.len() as u64, *align)
                }
                TypeKind::Func(sig) => {
                    i.kind = TYPE_FUNC;
                    i.count = sig.params.len() as u64;
                    i.has_result = sig.result.is_some().into();
                    i.variadic = sig.variadic.into();
                    i.conv = index_of(&CONVS, &sig.conv);
                }
            }
            if let Some(l) = cg.types().layout(TypeId::from_bits(ty)) {
                (i.has_layout, i.size, i.align) = (1, l.size, l.align);
            }
            Ok(i)
        })?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, info) }
    })
}

/// Field `index` of record `record`: its type and byte offset.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_type_field(
    m: u64,
    record: u64,
    index: usize,
    ty: *mut u64,
    offset: *mut u64,
) -> c_int {
    const CALL: &str = "cfree_cg_type_field";
    entry(CALL, || {
        let (field, at) = handles::with_module(CALL, m, |cg| {
            let TypeKind::Record { fields, .. } = kind_of(cg, CALL, record)? else {
                let e = ErrorKind::TypeMismatch {
                    expected: Expected::Record,
                    found: cg.types().name(TypeId::from_bits(record)),
                };
                return Err(cg_err(Error::new(CALL, e)));
            };
            let field = *fields
                .get(index)
                .ok_or_else(|| not_found(CALL, format!("field {index} (the record has {})", fields.len())))?;
            Ok((field, cg.field_offset(TypeId::from_bits(record), index).map_err(cg_err)?))
        })?;
        // SAFETY: the caller's contract on both out-parameters.
        unsafe {
            put(CALL, ty, field.to_bits())?;
            put(CALL, offset, at)
        }
    })
}

/// Parameter `index` of function type `func`, or its result when `index` is
/// `(size_t)-1` (`CFREE_TYPE_RESULT`); the same descriptor
/// `cfree_cg_ty_func_ex` takes.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_type_param(m: u64, func: u64, index: usize, out: *mut CParam) -> c_int {
    const CALL: &str = "cfree_cg_type_param";
    entry(CALL, || {
        let p = handles::with_module(CALL, m, |cg| {
            let TypeKind::Func(sig) = kind_of(cg, CALL, func)? else {
                let e = ErrorKind::TypeMismatch {
                    expected: Expected::Function,
                    found: cg.types().name(TypeId::from_bits(func)),
                };
                return Err(cg_err(Error::new(CALL, e)));
            };
            let param = if index == usize::MAX {
                sig.result.as_ref().ok_or_else(|| not_found(CALL, "the function type returns nothing".into()))?
            } else {
                let n = sig.params.len();
                sig.params.get(index).ok_or_else(|| not_found(CALL, format!("parameter {index} (there are {n})")))?
            };
            Ok(c_param_of(param))
        })?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, p) }
    })
}

/// `*out` = 1 if a value of type `a` may be used where `b` is expected
/// (identical types, or pointers into the same address space).
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_type_compatible(m: u64, a: u64, b: u64, out: *mut c_int) -> c_int {
    const CALL: &str = "cfree_cg_type_compatible";
    entry(CALL, || {
        let same = handles::with_module(CALL, m, |cg| {
            kind_of(cg, CALL, a)?;
            kind_of(cg, CALL, b)?;
            Ok(cg.types().compatible(TypeId::from_bits(a), TypeId::from_bits(b)))
        })?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, same.into()) }
    })
}

/// The spelling of `ty` in diagnostics (`i32`, `ptr addrspace(1)`, ...),
/// copied into `buf` as `cfree_cg_target_string` does.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_type_name(m: u64, ty: u64, buf: *mut c_char, cap: usize, len: *mut usize) -> c_int {
    const CALL: &str = "cfree_cg_type_name";
    entry(CALL, || {
        let s = handles::with_module(CALL, m, |cg| {
            kind_of(cg, CALL, ty)?;
            Ok(cg.types().display(TypeId::from_bits(ty)))
        })?;
        // SAFETY: the caller's contract on `buf`, `cap` and `len`.
        unsafe { copy_string(CALL, &s, buf, cap, len) }
    })
}

/// Checks that module `m` is complete: no open function, and every symbol
/// whose linkage needs a definition has one (what emission checks first).
#[no_mangle]
pub extern "C" fn cfree_cg_check_complete(m: u64) -> c_int {
    const CALL: &str = "cfree_cg_check_complete";
    entry(CALL, || handles::with_module(CALL, m, |cg| cg.check_complete().map_err(cg_err)))
}
