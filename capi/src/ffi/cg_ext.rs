//! The emitter beyond the first slice (`capi/include/cfree/cg.h`): control
//! flow, constants and operations, memory operations, calls with attributes,
//! symbols and data, types and layout, target queries, variadics, the GC
//! vocabulary and text emission. Same conventions as the parent module.

use std::ffi::{c_char, c_int};

use cfree_facade::*;

use super::{
    access, array, cg_err, entry, enum_value, fast_math, level, put, required, text, CASTS, LINKAGES, ORDERINGS,
};
use crate::error::{CapiError, INVALID_ARGUMENT, NULL_POINTER};
use crate::handles::{self, ModuleBox};

// ---- descriptors shared with C (layouts mirror `cfree/cg.h`) ----

/// `cfree_access`: a full memory access descriptor.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CAccess {
    /// The value type.
    pub ty: u64,
    /// Alignment in bytes (0 = natural).
    pub align: u32,
    /// `CFREE_MEM_*` bits; `CFREE_MEM_ADDR_SPACE` says `addr_space` is set.
    pub flags: u32,
    /// The address space, when `CFREE_MEM_ADDR_SPACE` is set.
    pub addr_space: u32,
    /// Alias scope (0 = none).
    pub alias_scope: u32,
    /// Scope this access does not alias (0 = none).
    pub noalias_scope: u32,
}

const MEM_ADDR_SPACE: u32 = 8;

/// `cfree_param`: one parameter or result with its ABI facts.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CParam {
    /// The type.
    pub ty: u64,
    /// `CFREE_EXT_*`.
    pub ext: c_int,
    /// `CFREE_PARAM_*` bits.
    pub flags: u32,
    /// Dereferenceable bytes (0 = no fact).
    pub dereferenceable: u64,
    /// Dereferenceable-or-null bytes (0 = no fact).
    pub dereferenceable_or_null: u64,
    /// Known alignment (0 = no fact).
    pub align: u64,
}

/// `cfree_func_decl`: a function declaration; all-zero is an external,
/// default-visibility, non-GC function without attributes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CFuncDecl {
    /// The function type.
    pub sig: u64,
    /// `CFREE_LINKAGE_*`.
    pub linkage: c_int,
    /// `CFREE_VIS_*`.
    pub visibility: c_int,
    /// `CFREE_GC_*`.
    pub gc: c_int,
    /// `CFREE_FN_*` bits.
    pub attrs: u32,
    /// Stack realignment (0 = the ABI's).
    pub stack_align: u32,
    /// `CFREE_FP_*`.
    pub frame_pointer: c_int,
    /// `CFREE_RETAIN_*`.
    pub retain: c_int,
    /// `CFREE_COMDAT_*` (with `comdat`).
    pub comdat_kind: c_int,
    /// COMDAT group name, or null.
    pub comdat: *const c_char,
    /// Section name, or null.
    pub section: *const c_char,
    /// Debug name, or null.
    pub display_name: *const c_char,
    /// Per-function CPU, or null.
    pub target_cpu: *const c_char,
    /// Per-function features, or null.
    pub target_features: *const c_char,
    /// ELF loadable partition, or null.
    pub partition: *const c_char,
    /// The grow function of a prologue stack check (0 = no check).
    pub stack_check_grow: u64,
    /// The parameter the stack limit is read through.
    pub stack_check_param: u32,
    /// The limit's byte offset from that parameter.
    pub stack_check_offset: u32,
    /// The stack map ID of the grow call.
    pub stack_check_id: u64,
}

/// `cfree_data_decl`: a data declaration; all-zero is an external, writable,
/// naturally aligned object.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CDataDecl {
    /// The object's type.
    pub ty: u64,
    /// `CFREE_LINKAGE_*`.
    pub linkage: c_int,
    /// `CFREE_VIS_*`.
    pub visibility: c_int,
    /// `CFREE_DATA_*` bits.
    pub flags: u32,
    /// Alignment (0 = natural).
    pub align: u32,
    /// `CFREE_TLS_*`.
    pub tls: c_int,
    /// `CFREE_RETAIN_*`.
    pub retain: c_int,
    /// `CFREE_COMDAT_*` (with `comdat`).
    pub comdat_kind: c_int,
    /// COMDAT group name, or null.
    pub comdat: *const c_char,
    /// Section name, or null.
    pub section: *const c_char,
    /// Debug name, or null.
    pub display_name: *const c_char,
    /// ELF loadable partition, or null.
    pub partition: *const c_char,
}

/// `cfree_data_piece`: one piece of an initializer.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CDataPiece {
    /// `CFREE_PIECE_*`.
    pub kind: c_int,
    /// `CFREE_PIECE_BYTES`: the bytes.
    pub bytes: *const u8,
    /// `CFREE_PIECE_BYTES`/`ZEROS`: the byte count.
    pub size: u64,
    /// `CFREE_PIECE_RELOC`: the symbol.
    pub target: u64,
    /// `CFREE_PIECE_RELOC`: the addend.
    pub addend: i64,
    /// `CFREE_PIECE_LABEL_ADDR`: the label.
    pub label: u64,
    /// `CFREE_PIECE_RELOC`: the address space of the stored pointer (0 = ordinary).
    pub addr_space: u32,
}

/// `cfree_gc_runtime`: the runtime functions of managed operations.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CGcRuntime {
    /// `alloc(descriptor, size)`.
    pub alloc: u64,
    /// The write barrier (with `CFREE_GC_HAS_BARRIER`).
    pub write_barrier: u64,
    /// The poll function (with `CFREE_GC_HAS_POLL`).
    pub poll: u64,
    /// The inline allocation buffer (with `CFREE_GC_HAS_INLINE`).
    pub inline_buffer: u64,
    /// `CFREE_GC_HAS_*` bits.
    pub has: u32,
    /// Header bytes of inline allocation (0 or 8).
    pub header_bytes: u32,
}

/// `cfree_target_info`: numeric facts about a module's target.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CTargetInfo {
    /// `CFREE_ARCH_*`.
    pub arch: c_int,
    /// `CFREE_OBJ_*`.
    pub object_format: c_int,
    /// Non-zero on big-endian targets.
    pub big_endian: c_int,
    /// Widest lock-free atomic in bits.
    pub max_atomic_bits: u32,
    /// Pointer size in bytes.
    pub pointer_size: u64,
    /// Pointer alignment in bytes.
    pub pointer_align: u64,
    /// Sizes of i1, i8, i16, i32, i64, i128.
    pub int_size: [u64; 6],
    /// Alignments of i1, i8, i16, i32, i64, i128.
    pub int_align: [u64; 6],
    /// f32 size.
    pub f32_size: u64,
    /// f32 alignment.
    pub f32_align: u64,
    /// f64 size.
    pub f64_size: u64,
    /// f64 alignment.
    pub f64_align: u64,
    /// Red-zone bytes below the stack pointer.
    pub red_zone_bytes: u64,
}

// ---- enum tables (the order is the header's) ----

const VISIBILITIES: [Visibility; 3] = [Visibility::Default, Visibility::Hidden, Visibility::Protected];
const GC_ROLES: [GcRole; 4] = [GcRole::None, GcRole::Safepoints, GcRole::Leaf, GcRole::Runtime];
const RETAINS: [Retain; 3] = [Retain::No, Retain::Compiler, Retain::Linker];
const COMDATS: [ComdatKind; 5] =
    [ComdatKind::Any, ComdatKind::ExactMatch, ComdatKind::Largest, ComdatKind::NoDeduplicate, ComdatKind::SameSize];
const TLS_MODELS: [TlsModel; 4] =
    [TlsModel::GeneralDynamic, TlsModel::LocalDynamic, TlsModel::InitialExec, TlsModel::LocalExec];
pub(super) const CONVS: [CallConv; 8] = CallConv::ALL;
pub(super) const EXTS: [AbiExt; 3] = [AbiExt::None, AbiExt::Sign, AbiExt::Zero];
const TAILS: [TailPolicy; 3] = [TailPolicy::None, TailPolicy::Tail, TailPolicy::NoTail];
const INT_UNOPS: [IntUnOp; 5] = [IntUnOp::Clz, IntUnOp::Ctz, IntUnOp::Popcount, IntUnOp::Bswap, IntUnOp::BitReverse];
const CHECKED: [CheckedOp; 10] = [
    CheckedOp::SAdd,
    CheckedOp::UAdd,
    CheckedOp::SSub,
    CheckedOp::USub,
    CheckedOp::SMul,
    CheckedOp::UMul,
    CheckedOp::SDiv,
    CheckedOp::UDiv,
    CheckedOp::SRem,
    CheckedOp::URem,
];
const SCOPES: [SyncScope; 2] = [SyncScope::System, SyncScope::SingleThread];
const POINTER_KINDS: [PointerKind; 2] = [PointerKind::Strong, PointerKind::Weak];
const INIT_FINI: [InitFini; 2] = [InitFini::Constructor, InitFini::Destructor];

// Function attribute bits (`CFREE_FN_*`).
const FN_NORETURN: u32 = 1;
const FN_COLD: u32 = 2;
const FN_HOT: u32 = 4;
const FN_NOINLINE: u32 = 8;
const FN_ALWAYSINLINE: u32 = 16;
const FN_OPTSIZE: u32 = 32;
const FN_MINSIZE: u32 = 64;
const FN_NO_RED_ZONE: u32 = 128;
const FN_STACK_PROBES: u32 = 256;
const FN_NAKED: u32 = 512;
const FN_ALL: u32 = 1023;

// Parameter fact bits (`CFREE_PARAM_*`).
pub(super) const PARAM_NOALIAS: u32 = 1;
pub(super) const PARAM_NOCAPTURE: u32 = 2;
pub(super) const PARAM_READONLY: u32 = 4;
pub(super) const PARAM_WRITEONLY: u32 = 8;
pub(super) const PARAM_NONNULL: u32 = 16;
pub(super) const PARAM_INREG: u32 = 32;
pub(super) const PARAM_NEST: u32 = 64;
const PARAM_ALL: u32 = 127;

// Data flag bits (`CFREE_DATA_*`).
const DATA_READONLY: u32 = 1;
const DATA_MERGEABLE: u32 = 2;

// Initializer piece kinds.
const PIECE_BYTES: c_int = 0;
const PIECE_ZEROS: c_int = 1;
const PIECE_RELOC: c_int = 2;
const PIECE_LABEL_ADDR: c_int = 3;

// GC runtime bits.
const GC_HAS_BARRIER: u32 = 1;
const GC_HAS_POLL: u32 = 2;
const GC_HAS_INLINE: u32 = 4;

fn bad(call: &str, message: impl Into<String>) -> CapiError {
    CapiError::new(INVALID_ARGUMENT, call, message)
}

fn check_bits(call: &str, bits: u32, all: u32, what: &str) -> Result<(), CapiError> {
    if bits & !all != 0 {
        return Err(bad(call, format!("{what} {bits:#x} has undefined bits")));
    }
    Ok(())
}

/// The memory access of `a`.
///
/// # Safety
/// `a` must be null or valid for reads.
unsafe fn c_access(call: &str, a: *const CAccess) -> Result<MemAccess, CapiError> {
    if a.is_null() {
        return Err(CapiError::new(NULL_POINTER, call, "the access descriptor is null"));
    }
    // SAFETY: non-null and readable by the caller's contract.
    let a = unsafe { *a };
    let mut m = access(call, a.ty, a.align, a.flags & !MEM_ADDR_SPACE)?;
    if a.flags & MEM_ADDR_SPACE != 0 {
        m.addr_space = Some(a.addr_space);
    }
    Ok(m.in_scope(a.alias_scope).noalias(a.noalias_scope))
}

fn c_param(call: &str, p: &CParam) -> Result<Param, CapiError> {
    check_bits(call, p.flags, PARAM_ALL, "parameter flags")?;
    let f = |bit| p.flags & bit != 0;
    let attrs = ParamAttrs {
        noalias: f(PARAM_NOALIAS),
        nocapture: f(PARAM_NOCAPTURE),
        readonly: f(PARAM_READONLY),
        writeonly: f(PARAM_WRITEONLY),
        nonnull: f(PARAM_NONNULL),
        dereferenceable: p.dereferenceable,
        dereferenceable_or_null: p.dereferenceable_or_null,
        align: p.align,
        inreg: f(PARAM_INREG),
        nest: f(PARAM_NEST),
    };
    let ext = enum_value(call, &EXTS, p.ext, "extension")?;
    Ok(Param::new(TypeId::from_bits(p.ty)).ext(ext).attrs(attrs))
}

/// A string that must be UTF-8 when present, owned.
///
/// # Safety
/// As [`text`].
unsafe fn opt_string(call: &str, s: *const c_char, what: &str) -> Result<Option<String>, CapiError> {
    // SAFETY: forwarded contract.
    Ok(unsafe { text(call, s, what) }?.map(str::to_string))
}

/// The placement of a declaration.
///
/// # Safety
/// The strings must be null or NUL-terminated.
unsafe fn placement(
    call: &str,
    comdat: *const c_char,
    comdat_kind: c_int,
    section: *const c_char,
    retain: c_int,
    partition: *const c_char,
) -> Result<Placement, CapiError> {
    // SAFETY: forwarded contract.
    let (comdat, section) = unsafe { (opt_string(call, comdat, "comdat")?, opt_string(call, section, "section")?) };
    // SAFETY: forwarded contract.
    let partition = unsafe { opt_string(call, partition, "partition")? };
    let kind = enum_value(call, &COMDATS, comdat_kind, "comdat kind")?;
    Ok(Placement {
        comdat: comdat.map(|name| Comdat::new(name, kind)),
        section,
        retain: enum_value(call, &RETAINS, retain, "retention")?,
        partition,
    })
}

// ---- control flow ----

/// Pops an integer and branches to the label of the matching value, else to
/// `default_label`; `values[i]` goes to `labels[i]`.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_switch(
    m: u64,
    default_label: u64,
    values: *const i64,
    labels: *const u64,
    n: usize,
) -> c_int {
    const CALL: &str = "cfree_cg_switch";
    entry(CALL, || {
        // SAFETY: the caller's contract on both arrays.
        let (values, labels) = unsafe { (array(CALL, values, n)?, array(CALL, labels, n)?) };
        let cases: Vec<(i128, Label)> =
            values.iter().zip(labels).map(|(v, l)| (i128::from(*v), Label::from_bits(*l))).collect();
        handles::with_module(CALL, m, |cg| cg.switch(Label::from_bits(default_label), &cases).map_err(cg_err))
    })
}

/// Pops a label address and branches to it; it must be one of `labels`.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_indirect_br(m: u64, labels: *const u64, n: usize) -> c_int {
    const CALL: &str = "cfree_cg_indirect_br";
    entry(CALL, || {
        // SAFETY: the caller's contract on `labels`.
        let dests: Vec<Label> = unsafe { array(CALL, labels, n)? }.iter().map(|l| Label::from_bits(*l)).collect();
        handles::with_module(CALL, m, |cg| cg.indirect_br(&dests).map_err(cg_err))
    })
}

unit_call!(
    /// Pushes the address of `label` for `cfree_cg_indirect_br`.
    cfree_cg_push_label_addr(label: u64) => |cg| cg.push_label_addr(Label::from_bits(label)).map_err(cg_err)
);
unit_call!(
    /// Marks the current point unreachable (a terminator).
    cfree_cg_unreachable() => |cg| cg.unreachable().map_err(cg_err)
);
unit_call!(
    /// Abandons the open function: its body is dropped, it stays declared.
    cfree_cg_func_abandon() => |cg| cg.func_abandon().map_err(cg_err)
);

// ---- constants and operations ----

unit_call!(
    /// Pushes a 128-bit (or narrower) integer constant `(hi << 64) | lo`.
    cfree_cg_push_int128(ty: u64, hi: i64, lo: u64) => |cg| {
        let v = (i128::from(hi) << 64) | i128::from(lo);
        cg.push_int(TypeId::from_bits(ty), v).map_err(cg_err)
    }
);
unit_call!(
    /// Pushes the zero value of `ty` (scalar).
    cfree_cg_push_zero(ty: u64) => |cg| cg.push_zero(TypeId::from_bits(ty)).map_err(cg_err)
);
unit_call!(
    /// Pushes a null pointer of pointer type `ty`.
    cfree_cg_push_null(ty: u64) => |cg| cg.push_null(TypeId::from_bits(ty)).map_err(cg_err)
);
unit_call!(
    /// A unary integer operation `op` (`CFREE_IUNARY_*`).
    cfree_cg_int_unop(op: c_int) => |cg| {
        cg.int_unop(enum_value("cfree_cg_int_unop", &INT_UNOPS, op, "operation")?).map_err(cg_err)
    }
);
unit_call!(
    /// Checked arithmetic `op` (`CFREE_CHECKED_*`): pushes the result, then an `i1` overflow flag.
    cfree_cg_checked(op: c_int) => |cg| {
        cg.checked(enum_value("cfree_cg_checked", &CHECKED, op, "operation")?).map_err(cg_err)
    }
);
unit_call!(
    /// Fused multiply-add of the top three floats (`a * b + c`, `c` on top).
    cfree_cg_fma(fm: u32) => |cg| cg.fma(fast_math("cfree_cg_fma", fm)?).map_err(cg_err)
);
unit_call!(
    /// Replaces the top value by a fixed (non-poison) value.
    cfree_cg_freeze() => |cg| cg.freeze().map_err(cg_err)
);
unit_call!(
    /// A conversion that reports loss: pushes the result, then an `i1` that is 1 when it was not exact.
    cfree_cg_cast_checked(op: c_int, to: u64) => |cg| {
        let op = enum_value("cfree_cg_cast_checked", &CASTS, op, "conversion")?;
        cg.cast_checked(op, TypeId::from_bits(to)).map_err(cg_err)
    }
);

// ---- memory ----

/// `load` with a full access descriptor.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_load_access(m: u64, a: *const CAccess) -> c_int {
    const CALL: &str = "cfree_cg_load_access";
    entry(CALL, || {
        // SAFETY: the caller's contract on `a`.
        let a = unsafe { c_access(CALL, a)? };
        handles::with_module(CALL, m, |cg| cg.load(a).map_err(cg_err))
    })
}

/// `store` with a full access descriptor.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_store_access(m: u64, a: *const CAccess) -> c_int {
    const CALL: &str = "cfree_cg_store_access";
    entry(CALL, || {
        // SAFETY: the caller's contract on `a`.
        let a = unsafe { c_access(CALL, a)? };
        handles::with_module(CALL, m, |cg| cg.store(a).map_err(cg_err))
    })
}

/// Pops the source address, then the destination; copies `size` bytes
/// (`overlapping` non-zero: `memmove`).
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_memcpy(
    m: u64,
    size: u64,
    dst: *const CAccess,
    src: *const CAccess,
    overlapping: c_int,
) -> c_int {
    const CALL: &str = "cfree_cg_memcpy";
    entry(CALL, || {
        // SAFETY: the caller's contract on both descriptors.
        let (d, s) = unsafe { (c_access(CALL, dst)?, c_access(CALL, src)?) };
        handles::with_module(CALL, m, |cg| {
            if overlapping != 0 { cg.memmove(size, d, s) } else { cg.memcpy(size, d, s) }.map_err(cg_err)
        })
    })
}

/// Pops the destination address and fills `size` bytes with `value`.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_memset(m: u64, value: u8, size: u64, dst: *const CAccess) -> c_int {
    const CALL: &str = "cfree_cg_memset";
    entry(CALL, || {
        // SAFETY: the caller's contract on `dst`.
        let d = unsafe { c_access(CALL, dst)? };
        handles::with_module(CALL, m, |cg| cg.memset(value, size, d).map_err(cg_err))
    })
}

/// A new alias scope of the module (ids start at 1), named `name` (may be null).
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_alias_scope(m: u64, name: *const c_char, out: *mut u32) -> c_int {
    const CALL: &str = "cfree_cg_alias_scope";
    entry(CALL, || {
        // SAFETY: the caller's contract on `name`.
        let name = unsafe { text(CALL, name, "name")? }.unwrap_or("");
        let v = handles::with_module(CALL, m, |cg| cg.alias_scope(name).map_err(cg_err))?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, v) }
    })
}

unit_call!(
    /// An atomic load of `ty` with `ordering` in `scope` (`CFREE_SCOPE_*`): pops the address.
    cfree_cg_atomic_load(ty: u64, ordering: c_int, scope: c_int) => |cg| {
        const CALL: &str = "cfree_cg_atomic_load";
        let ordering = enum_value(CALL, &ORDERINGS, ordering, "ordering")?;
        let scope = enum_value(CALL, &SCOPES, scope, "scope")?;
        cg.atomic_load(MemAccess::new(TypeId::from_bits(ty)), ordering, scope).map_err(cg_err)
    }
);
unit_call!(
    /// An atomic store of `ty`: pops the value, then the address.
    cfree_cg_atomic_store(ty: u64, ordering: c_int, scope: c_int) => |cg| {
        const CALL: &str = "cfree_cg_atomic_store";
        let ordering = enum_value(CALL, &ORDERINGS, ordering, "ordering")?;
        let scope = enum_value(CALL, &SCOPES, scope, "scope")?;
        cg.atomic_store(MemAccess::new(TypeId::from_bits(ty)), ordering, scope).map_err(cg_err)
    }
);
unit_call!(
    /// Pops a byte count, pushes a pointer to fresh stack memory aligned to `align` (0 = 16).
    cfree_cg_alloca(align: u32) => |cg| cg.alloca(align).map_err(cg_err)
);
unit_call!(
    /// Pushes the current stack position.
    cfree_cg_stack_save() => |cg| cg.stack_save().map_err(cg_err)
);
unit_call!(
    /// Pops a stack position and releases the dynamic allocations made since.
    cfree_cg_stack_restore() => |cg| cg.stack_restore().map_err(cg_err)
);
unit_call!(
    /// Pushes data symbol `sym` as a place.
    cfree_cg_push_global(sym: u64) => |cg| cg.push_global(Sym::from_bits(sym)).map_err(cg_err)
);
unit_call!(
    /// Pops an index, then a place or pointer; pushes it moved by `index * elem_size` as `result_type`.
    cfree_cg_addr_index(elem_size: u64, result_type: u64) => |cg| {
        cg.addr_index(elem_size, TypeId::from_bits(result_type)).map_err(cg_err)
    }
);

// ---- calls ----

fn call_attrs(call: &str, tail: c_int, cold: c_int) -> Result<CallAttrs, CapiError> {
    Ok(CallAttrs { tail: enum_value(call, &TAILS, tail, "tail policy")?, cold: cold != 0, ..CallAttrs::default() })
}

unit_call!(
    /// `cfree_cg_call` with a tail policy (`CFREE_TAIL_*`) and a cold flag.
    cfree_cg_call_with(sym: u64, nargs: u32, tail: c_int, cold: c_int) => |cg| {
        let attrs = call_attrs("cfree_cg_call_with", tail, cold)?;
        cg.call_with(Callee::Direct(Sym::from_bits(sym)), nargs, attrs).map_err(cg_err)
    }
);
unit_call!(
    /// `cfree_cg_call_indirect` with a tail policy and a cold flag.
    cfree_cg_call_indirect_with(sig: u64, nargs: u32, tail: c_int, cold: c_int) => |cg| {
        let attrs = call_attrs("cfree_cg_call_indirect_with", tail, cold)?;
        cg.call_with(Callee::Indirect(TypeId::from_bits(sig)), nargs, attrs).map_err(cg_err)
    }
);
unit_call!(
    /// `cfree_cg_call_with` whose callee never touches the accesses of alias
    /// scope `noalias_scope` (from `cfree_cg_alias_scope`; 0 = none).
    cfree_cg_call_scoped(sym: u64, nargs: u32, tail: c_int, cold: c_int, noalias_scope: u32) => |cg| {
        let attrs = CallAttrs { noalias_scope, ..call_attrs("cfree_cg_call_scoped", tail, cold)? };
        cg.call_with(Callee::Direct(Sym::from_bits(sym)), nargs, attrs).map_err(cg_err)
    }
);
unit_call!(
    /// `cfree_cg_call_indirect_with` with a scope the callee never touches.
    cfree_cg_call_indirect_scoped(sig: u64, nargs: u32, tail: c_int, cold: c_int, noalias_scope: u32) => |cg| {
        let attrs = CallAttrs { noalias_scope, ..call_attrs("cfree_cg_call_indirect_scoped", tail, cold)? };
        cg.call_with(Callee::Indirect(TypeId::from_bits(sig)), nargs, attrs).map_err(cg_err)
    }
);
unit_call!(
    /// A guaranteed tail call of `sym` followed by the return of its result (a terminator).
    cfree_cg_tail_call(sym: u64, nargs: u32) => |cg| cg.tail_call(Callee::Direct(Sym::from_bits(sym)), nargs).map_err(cg_err)
);
unit_call!(
    /// A guaranteed tail call through a function pointer of type `sig`.
    cfree_cg_tail_call_indirect(sig: u64, nargs: u32) => |cg| {
        cg.tail_call(Callee::Indirect(TypeId::from_bits(sig)), nargs).map_err(cg_err)
    }
);

// ---- types and layout ----

out_call!(
    /// An array of `count` elements of `elem`.
    cfree_cg_ty_array(elem: u64, count: u64) -> u64 => |cg| {
        cg.ty_array(TypeId::from_bits(elem), count).map(TypeId::to_bits).map_err(cg_err)
    }
);

/// A record of `n` fields with at least alignment `align` (C `_Alignas`).
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_ty_record_aligned(
    m: u64,
    fields: *const u64,
    n: usize,
    align: u64,
    out: *mut u64,
) -> c_int {
    const CALL: &str = "cfree_cg_ty_record_aligned";
    entry(CALL, || {
        // SAFETY: the caller's contract on `fields`.
        let fields: Vec<TypeId> = unsafe { array(CALL, fields, n)? }.iter().map(|b| TypeId::from_bits(*b)).collect();
        let v = handles::with_module(CALL, m, |cg| {
            cg.ty_record_aligned(&fields, align).map(TypeId::to_bits).map_err(cg_err)
        })?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, v) }
    })
}

/// A function type with full parameter descriptions, calling convention
/// `conv` (`CFREE_CONV_*`) and `result` (null: none).
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_ty_func_ex(
    m: u64,
    params: *const CParam,
    n: usize,
    result: *const CParam,
    variadic: c_int,
    conv: c_int,
    out: *mut u64,
) -> c_int {
    const CALL: &str = "cfree_cg_ty_func_ex";
    entry(CALL, || {
        // SAFETY: the caller's contract on `params`.
        let params =
            unsafe { array(CALL, params, n)? }.iter().map(|p| c_param(CALL, p)).collect::<Result<Vec<_>, _>>()?;
        // SAFETY: `result` is null or readable by the caller's contract.
        let result = match unsafe { result.as_ref() } {
            Some(r) => Some(c_param(CALL, r)?),
            None => None,
        };
        let mut sig = FuncSig::with_params(params, result).conv(enum_value(CALL, &CONVS, conv, "convention")?);
        if variadic != 0 {
            sig = sig.variadic();
        }
        let v = handles::with_module(CALL, m, |cg| cg.ty_func(sig).map(TypeId::to_bits).map_err(cg_err))?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, v) }
    })
}

/// The size and alignment of `ty` in bytes.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_layout(m: u64, ty: u64, size: *mut u64, align: *mut u64) -> c_int {
    const CALL: &str = "cfree_cg_layout";
    entry(CALL, || {
        if size.is_null() || align.is_null() {
            return Err(CapiError::new(NULL_POINTER, CALL, "an out-parameter is null"));
        }
        let l = handles::with_module(CALL, m, |cg| cg.layout(TypeId::from_bits(ty)).map_err(cg_err))?;
        // SAFETY: both are non-null and writable by the caller's contract.
        unsafe {
            size.write(l.size);
            align.write(l.align);
        }
        Ok(())
    })
}

out_call!(
    /// The byte offset of field `index` of record `record`.
    cfree_cg_field_offset(record: u64, index: usize) -> u64 => |cg| {
        cg.field_offset(TypeId::from_bits(record), index).map_err(cg_err)
    }
);

// ---- target ----

fn arch_code(a: Arch) -> c_int {
    match a {
        Arch::X86_64 => 0,
        Arch::X86 => 1,
        Arch::Aarch64 => 2,
        Arch::Arm => 3,
        Arch::Riscv64 => 4,
        Arch::Riscv32 => 5,
        Arch::Wasm32 => 6,
        Arch::Wasm64 => 7,
        Arch::Other => 8,
    }
}

fn format_code(f: ObjectFormat) -> c_int {
    match f {
        ObjectFormat::Elf => 0,
        ObjectFormat::MachO => 1,
        ObjectFormat::Coff => 2,
        ObjectFormat::Wasm => 3,
        _ => 4,
    }
}

out_call!(
    /// The numeric facts of the module's target.
    cfree_cg_target_info() -> CTargetInfo => |cg| {
        let t = cg.target();
        let mut info = CTargetInfo {
            arch: arch_code(t.arch),
            object_format: format_code(t.object_format),
            big_endian: c_int::from(t.big_endian),
            max_atomic_bits: t.max_atomic_bits,
            pointer_size: t.pointer.size,
            pointer_align: t.pointer.align,
            f32_size: t.f32.size,
            f32_align: t.f32.align,
            f64_size: t.f64.size,
            f64_align: t.f64.align,
            red_zone_bytes: t.red_zone_bytes(),
            ..CTargetInfo::default()
        };
        for (i, s) in t.ints.iter().enumerate() {
            info.int_size[i] = s.size;
            info.int_align[i] = s.align;
        }
        Ok(info)
    }
);

/// Copies string `which` of the target (`CFREE_TARGET_TRIPLE`, `_CPU`,
/// `_FEATURES`) into `buf` (at most `cap` bytes with the NUL; `buf` may be
/// null when `cap` is 0) and stores its full length (without the NUL) in `*len`.
///
/// # Safety
/// See the parent module; `buf` must be writable for `cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_target_string(
    m: u64,
    which: c_int,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> c_int {
    const CALL: &str = "cfree_cg_target_string";
    entry(CALL, || {
        let s = handles::with_module(CALL, m, |cg| {
            let t = cg.target();
            Ok(match which {
                0 => t.triple.clone(),
                1 => t.cpu.clone(),
                2 => t.features.clone(),
                _ => return Err(bad(CALL, format!("target string {which} is out of range"))),
            })
        })?;
        // SAFETY: the caller's contract on `buf`, `cap` and `len`.
        unsafe { super::copy_string(CALL, &s, buf, cap, len) }
    })
}

/// Whether the module's target supports capability `what` (`CFREE_CAP_*`)
/// with argument `arg` (a width, an enum value, or 0): `*out` is 1 or 0.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_target_supports(m: u64, what: c_int, arg: i64, out: *mut c_int) -> c_int {
    const CALL: &str = "cfree_cg_target_supports";
    entry(CALL, || {
        let arg_enum = c_int::try_from(arg).unwrap_or(-1);
        let v = handles::with_module(CALL, m, |cg| {
            let t = cg.target();
            Ok(match what {
                0 => t.supports_gc_safepoints(),
                1 => t.supports_call_conv(enum_value(CALL, &CONVS, arg_enum, "convention")?),
                2 => t.supports_nest(),
                3 => t.supports_guaranteed_tail_calls(),
                4 => t.supports_stack_probes(),
                5 => t.has_hardware_float(match arg {
                    32 => FloatWidth::F32,
                    64 => FloatWidth::F64,
                    _ => return Err(bad(CALL, format!("no {arg}-bit float type"))),
                }),
                6 => t.supports_aggregates_by_value(),
                7 => t.supports_visibility(enum_value(CALL, &VISIBILITIES, arg_enum, "visibility")?),
                8 => t.supports_linkage(enum_value(CALL, &LINKAGES, arg_enum, "linkage")?),
                9 => t.supports_comdat(enum_value(CALL, &COMDATS, arg_enum, "comdat kind")?),
                10 => t.supports_tls(enum_value(CALL, &TLS_MODELS, arg_enum, "TLS model")?),
                11 => t.supports_sections(),
                12 => t.supports_aliases(),
                13 => t.supports_init_fini_priority(),
                14 => t.supports_int_width(u32::try_from(arg).unwrap_or(0)),
                15 => t.supports_atomic_bits(u64::try_from(arg).unwrap_or(0)),
                16 => t.fast_unaligned_access(),
                _ => return Err(bad(CALL, format!("capability {what} is out of range"))),
            })
        })?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, c_int::from(v)) }
    })
}

// ---- symbols and data ----

/// Declares function `name` from a full declaration.
///
/// # Safety
/// See the parent module; the strings in `d` must be null or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_declare_func_ex(
    m: u64,
    name: *const c_char,
    d: *const CFuncDecl,
    out: *mut u64,
) -> c_int {
    const CALL: &str = "cfree_cg_declare_func_ex";
    entry(CALL, || {
        // SAFETY: the caller's contract on `name` and `d`.
        let (name, d) = unsafe { (required(CALL, name, "name")?, d.as_ref()) };
        let d = d.ok_or_else(|| CapiError::new(NULL_POINTER, CALL, "the declaration is null"))?;
        check_bits(CALL, d.attrs, FN_ALL, "function attributes")?;
        let a = |bit| d.attrs & bit != 0;
        let frame_pointer = match d.frame_pointer {
            0 => None,
            1 => Some(FramePointer::None),
            2 => Some(FramePointer::NonLeaf),
            3 => Some(FramePointer::All),
            v => return Err(bad(CALL, format!("frame-pointer policy {v} is out of range"))),
        };
        // SAFETY: the caller's contract on the strings of `d`.
        let (cpu, features, display, placement) = unsafe {
            (
                opt_string(CALL, d.target_cpu, "target_cpu")?,
                opt_string(CALL, d.target_features, "target_features")?,
                opt_string(CALL, d.display_name, "display_name")?,
                placement(CALL, d.comdat, d.comdat_kind, d.section, d.retain, d.partition)?,
            )
        };
        let attrs = FuncAttrs {
            noreturn: a(FN_NORETURN),
            cold: a(FN_COLD),
            hot: a(FN_HOT),
            noinline: a(FN_NOINLINE),
            alwaysinline: a(FN_ALWAYSINLINE),
            optsize: a(FN_OPTSIZE),
            minsize: a(FN_MINSIZE),
            stack_align: d.stack_align,
            no_red_zone: a(FN_NO_RED_ZONE),
            stack_probes: a(FN_STACK_PROBES),
            target_cpu: cpu,
            target_features: features,
            frame_pointer,
            naked: a(FN_NAKED),
        };
        let mut decl = FuncDecl::new(TypeId::from_bits(d.sig))
            .linkage(enum_value(CALL, &LINKAGES, d.linkage, "linkage")?)
            .visibility(enum_value(CALL, &VISIBILITIES, d.visibility, "visibility")?)
            .gc(enum_value(CALL, &GC_ROLES, d.gc, "GC role")?)
            .attrs(attrs);
        decl.display_name = display;
        decl.placement = placement;
        if d.stack_check_grow != 0 {
            decl.stack_check = Some(StackCheck {
                limit_param: d.stack_check_param,
                limit_offset: d.stack_check_offset,
                grow: Sym::from_bits(d.stack_check_grow),
                safepoint_id: d.stack_check_id,
            });
        }
        let v = handles::with_module(CALL, m, |cg| cg.declare_func(name, decl).map(Sym::to_bits).map_err(cg_err))?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, v) }
    })
}

/// Declares data object `name`.
///
/// # Safety
/// See the parent module; the strings in `d` must be null or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_declare_data(
    m: u64,
    name: *const c_char,
    d: *const CDataDecl,
    out: *mut u64,
) -> c_int {
    const CALL: &str = "cfree_cg_declare_data";
    entry(CALL, || {
        // SAFETY: the caller's contract on `name` and `d`.
        let (name, d) = unsafe { (required(CALL, name, "name")?, d.as_ref()) };
        let d = d.ok_or_else(|| CapiError::new(NULL_POINTER, CALL, "the declaration is null"))?;
        check_bits(CALL, d.flags, DATA_READONLY | DATA_MERGEABLE, "data flags")?;
        // SAFETY: the caller's contract on the strings of `d`.
        let (display, placement) = unsafe {
            (
                opt_string(CALL, d.display_name, "display_name")?,
                placement(CALL, d.comdat, d.comdat_kind, d.section, d.retain, d.partition)?,
            )
        };
        let mut decl = DataDecl::new(TypeId::from_bits(d.ty))
            .linkage(enum_value(CALL, &LINKAGES, d.linkage, "linkage")?)
            .visibility(enum_value(CALL, &VISIBILITIES, d.visibility, "visibility")?)
            .align(d.align);
        if d.flags & DATA_READONLY != 0 {
            decl = decl.readonly();
        }
        if d.flags & DATA_MERGEABLE != 0 {
            decl = decl.mergeable();
        }
        if d.tls != 0 {
            decl = decl.thread_local(enum_value(CALL, &TLS_MODELS, d.tls - 1, "TLS model")?);
        }
        decl.display_name = display;
        decl.placement = placement;
        let v = handles::with_module(CALL, m, |cg| cg.declare_data(name, decl).map(Sym::to_bits).map_err(cg_err))?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, v) }
    })
}

/// Defines data symbol `sym` with `n` initializer pieces, in address order.
///
/// # Safety
/// See the parent module; each `CFREE_PIECE_BYTES` piece's `bytes` must be
/// readable for `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_define_data(m: u64, sym: u64, pieces: *const CDataPiece, n: usize) -> c_int {
    const CALL: &str = "cfree_cg_define_data";
    entry(CALL, || {
        let mut init = DataInit::new();
        // SAFETY: the caller's contract on `pieces`.
        for p in unsafe { array(CALL, pieces, n)? } {
            init = match p.kind {
                PIECE_BYTES => {
                    let len = usize::try_from(p.size).map_err(|_| bad(CALL, "a bytes piece is too large"))?;
                    // SAFETY: the caller's contract on `bytes`.
                    init.bytes(unsafe { array(CALL, p.bytes, len)? })
                }
                PIECE_ZEROS => init.zeros(p.size),
                PIECE_RELOC => init.reloc_in(Sym::from_bits(p.target), p.addend, p.addr_space),
                PIECE_LABEL_ADDR => init.label_addr(Label::from_bits(p.label)),
                k => return Err(bad(CALL, format!("piece kind {k} is out of range"))),
            };
        }
        handles::with_module(CALL, m, |cg| cg.define_data(Sym::from_bits(sym), &init).map_err(cg_err))
    })
}

/// Declares `name` as an alias of defined symbol `target`.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_declare_alias(
    m: u64,
    name: *const c_char,
    target: u64,
    linkage: c_int,
    visibility: c_int,
    out: *mut u64,
) -> c_int {
    const CALL: &str = "cfree_cg_declare_alias";
    entry(CALL, || {
        // SAFETY: the caller's contract on `name`.
        let name = unsafe { required(CALL, name, "name")? };
        let decl = AliasDecl::new().linkage(enum_value(CALL, &LINKAGES, linkage, "linkage")?).visibility(enum_value(
            CALL,
            &VISIBILITIES,
            visibility,
            "visibility",
        )?);
        let v = handles::with_module(CALL, m, |cg| {
            cg.declare_alias(name, Sym::from_bits(target), decl).map(Sym::to_bits).map_err(cg_err)
        })?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, v) }
    })
}

unit_call!(
    /// Adds `func` (`void (void)`) to the constructors (`kind` 0) or destructors (1) at `priority`.
    cfree_cg_add_init_fini(kind: c_int, func: u64, priority: u32) => |cg| {
        let kind = enum_value("cfree_cg_add_init_fini", &INIT_FINI, kind, "kind")?;
        cg.add_init_fini(kind, Sym::from_bits(func), priority).map_err(cg_err)
    }
);

/// The symbol named `name` in the module, or `CFREE_ERR_NOT_FOUND`.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_symbol_by_name(m: u64, name: *const c_char, out: *mut u64) -> c_int {
    const CALL: &str = "cfree_cg_symbol_by_name";
    entry(CALL, || {
        // SAFETY: the caller's contract on `name`.
        let name = unsafe { required(CALL, name, "name")? };
        let v = handles::with_module(CALL, m, |cg| {
            cg.symbol_by_name(name).map(Sym::to_bits).ok_or_else(|| {
                CapiError::new(crate::error::NOT_FOUND, CALL, format!("no symbol `{name}` in the module"))
            })
        })?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, v) }
    })
}

// ---- variadics ----

out_call!(
    /// The target's `va_list` storage type.
    cfree_cg_ty_va_list() -> u64 => |cg| cg.ty_va_list().map(TypeId::to_bits).map_err(cg_err)
);
out_call!(
    /// The type of a `va_list` parameter as C passes it.
    cfree_cg_ty_va_list_param() -> u64 => |cg| cg.ty_va_list_param().map(TypeId::to_bits).map_err(cg_err)
);
unit_call!(
    /// Pops a `va_list` place, pushes it as an argument of the parameter type.
    cfree_cg_va_list_arg() => |cg| cg.va_list_arg().map_err(cg_err)
);
unit_call!(
    /// Pushes the `va_list` place behind parameter `local`.
    cfree_cg_va_list_of_param(local: u64) => |cg| cg.va_list_of_param(Local::from_bits(local)).map_err(cg_err)
);
unit_call!(
    /// Pops a `va_list` place and starts it.
    cfree_cg_va_start() => |cg| cg.va_start().map_err(cg_err)
);
unit_call!(
    /// Pops a `va_list` place and ends it.
    cfree_cg_va_end() => |cg| cg.va_end().map_err(cg_err)
);
unit_call!(
    /// Pops a source `va_list` place, then a destination one, and copies the position.
    cfree_cg_va_copy() => |cg| cg.va_copy().map_err(cg_err)
);
unit_call!(
    /// Pops a `va_list` place and reads the next variadic argument as `ty`.
    cfree_cg_va_arg(ty: u64) => |cg| cg.va_arg(TypeId::from_bits(ty)).map_err(cg_err)
);

// ---- GC vocabulary (doc/gc.md) ----

unit_call!(
    /// Sets the policy of address `space` (1 is the managed one).
    cfree_cg_set_address_space_policy(space: u32, managed: c_int, movable: c_int, interior: c_int) => |cg| {
        let policy = AddrSpacePolicy { managed: managed != 0, movable: movable != 0, interior: interior != 0 };
        cg.set_address_space_policy(space, policy).map_err(cg_err)
    }
);

/// Names the runtime functions of managed allocation, barriers and polls.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_set_gc_runtime(m: u64, rt: *const CGcRuntime) -> c_int {
    const CALL: &str = "cfree_cg_set_gc_runtime";
    entry(CALL, || {
        // SAFETY: the caller's contract on `rt`.
        let rt = unsafe { rt.as_ref() }.ok_or_else(|| CapiError::new(NULL_POINTER, CALL, "the runtime is null"))?;
        check_bits(CALL, rt.has, GC_HAS_BARRIER | GC_HAS_POLL | GC_HAS_INLINE, "runtime bits")?;
        let mut r = GcRuntime::new(Sym::from_bits(rt.alloc));
        if rt.has & GC_HAS_BARRIER != 0 {
            r = r.write_barrier(Sym::from_bits(rt.write_barrier));
        }
        if rt.has & GC_HAS_POLL != 0 {
            r = r.poll(Sym::from_bits(rt.poll));
        }
        if rt.has & GC_HAS_INLINE != 0 {
            let buffer = (rt.inline_buffer != 0).then(|| Sym::from_bits(rt.inline_buffer));
            r = r.inline_alloc(InlineAlloc { buffer, header_bytes: rt.header_bytes });
        }
        handles::with_module(CALL, m, |cg| cg.set_gc_runtime(r).map_err(cg_err))
    })
}

unit_call!(
    /// Pushes a new managed object of `size` bytes with the frontend's `descriptor`.
    cfree_cg_gc_alloc(descriptor: i64, size: u64) => |cg| cg.gc_alloc(descriptor, size).map_err(cg_err)
);

unit_call!(
    /// `cfree_cg_gc_alloc` from the allocation buffer whose address is popped
    /// (one buffer per mutator thread, reached through a context).
    cfree_cg_gc_alloc_in(descriptor: i64, size: u64) => |cg| cg.gc_alloc_in(descriptor, size).map_err(cg_err)
);

/// A local slot of managed pointer type `ty` that is an explicit GC root.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_gc_root_slot(m: u64, ty: u64, name: *const c_char, out: *mut u64) -> c_int {
    const CALL: &str = "cfree_cg_gc_root_slot";
    entry(CALL, || {
        // SAFETY: the caller's contract on `name`.
        let name = unsafe { text(CALL, name, "name")? }.unwrap_or("");
        let v = handles::with_module(CALL, m, |cg| {
            cg.gc_root_slot(TypeId::from_bits(ty), name).map(Local::to_bits).map_err(cg_err)
        })?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, v) }
    })
}

unit_call!(
    /// The next safepoint of the open function gets stack map record ID `id`.
    cfree_cg_set_safepoint_id(id: u64) => |cg| cg.set_safepoint_id(id).map_err(cg_err)
);
unit_call!(
    /// An explicit safepoint (calls the runtime's poll).
    cfree_cg_safepoint() => |cg| cg.safepoint().map_err(cg_err)
);

/// Pops a value, then a managed object; stores the value at `object + offset`
/// and calls the write barrier for managed pointers (`kind`: `CFREE_PTR_*`).
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_managed_store(m: u64, a: *const CAccess, offset: i64, kind: c_int) -> c_int {
    const CALL: &str = "cfree_cg_managed_store";
    entry(CALL, || {
        // SAFETY: the caller's contract on `a`.
        let a = unsafe { c_access(CALL, a)? };
        let kind = enum_value(CALL, &POINTER_KINDS, kind, "pointer kind")?;
        handles::with_module(CALL, m, |cg| cg.managed_store(a, offset, kind).map_err(cg_err))
    })
}

// ---- emission ----

/// Finishes module `m` and emits `kind` (`CFREE_EMIT_OBJECT`, `_ASSEMBLY`,
/// `_IR`) at `level` into a new buffer freed with `cfree_bytes_free`; text is
/// NUL-terminated (the NUL not counted in `*len`). The module is consumed
/// whether or not this succeeds, once its arguments are accepted.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_emit(
    m: u64,
    kind: c_int,
    level_: c_int,
    bytes: *mut *mut u8,
    len: *mut usize,
) -> c_int {
    const CALL: &str = "cfree_cg_emit";
    entry(CALL, || {
        if bytes.is_null() || len.is_null() {
            return Err(CapiError::new(NULL_POINTER, CALL, "an out-parameter is null"));
        }
        if !(0..=2).contains(&kind) {
            return Err(bad(CALL, format!("emission kind {kind} is out of range")));
        }
        let level = level(CALL, level_)?;
        let ModuleBox { cg, context } = handles::take_module(CALL, m)?;
        let out = {
            let mut module = cfree_llvm_lower::finish(cg).map_err(|e| CapiError::llvm(CALL, e))?;
            match kind {
                0 => module.emit_object(level).map_err(|e| CapiError::llvm(CALL, e))?,
                1 => {
                    module.optimize(level).map_err(|e| CapiError::llvm(CALL, e))?;
                    module.assembly().map_err(|e| CapiError::llvm(CALL, e))?.into_bytes()
                }
                _ => {
                    module.optimize(level).map_err(|e| CapiError::llvm(CALL, e))?;
                    module.ir().into_bytes()
                }
            }
        };
        drop(context);
        let (p, n) = handles::add_buffer(out);
        // SAFETY: both out-pointers are non-null and writable by the caller's contract.
        unsafe {
            bytes.write(p);
            len.write(n);
        }
        Ok(())
    })
}
