//! Safepoints for runtimes written in C (`capi/include/cfree/statepoint.h`):
//! decoded safepoints as plain structs, the managed-frame walk above a
//! runtime entry, relocation after a moving collection (shared by the JIT's
//! registry and by tables built from an AOT object's `.llvm_stackmaps`), and
//! the `cfree_statepoint_table_*` functions. `doc/gc.md` is the contract.

use std::ffi::{c_int, c_void};

use cfree_statepoint::{Frame, OtherRecords, Safepoint, SafepointTable, Slot, StackMapSection};

use super::{array, entry, put};
use crate::error::{CapiError, INVALID_ARGUMENT, NOT_FOUND, NULL_POINTER};
use crate::handles;

/// `cfree_safepoint_info`: one decoded safepoint.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CSafepointInfo {
    /// The return address it describes.
    pub pc: u64,
    /// The stack map record ID (`cfree_cg_set_safepoint_id`, or `0xABCDEF00`).
    pub id: u64,
    /// Live (base, derived) pointer pairs.
    pub nlive: usize,
    /// Explicit root slots.
    pub nroots: usize,
    /// The function's fixed frame size (valid when `has_frame_size`).
    pub frame_size: u64,
    /// Non-zero when `frame_size` is known.
    pub has_frame_size: c_int,
}

/// `cfree_slot`: a frame slot, `[SP + offset]` (`base` 0) or `[FP + offset]` (`base` 1).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CSlot {
    /// `CFREE_SLOT_SP` or `CFREE_SLOT_FP`.
    pub base: c_int,
    /// Byte offset.
    pub offset: i32,
}

/// `cfree_live_pointer`: the slots of a base pointer and of a pointer derived from it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CLivePointer {
    /// The object's base pointer.
    pub base: CSlot,
    /// The pointer in use (equal to `base` for plain pointers).
    pub derived: CSlot,
}

/// `cfree_frame`: one managed frame found by a walk.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CFrame {
    /// Return address into the frame's function (its safepoint's PC).
    pub pc: u64,
    /// Base of `CFREE_SLOT_SP` slots.
    pub sp: u64,
    /// Base of `CFREE_SLOT_FP` slots.
    pub fp: u64,
}

/// `cfree_forward_fn`: the collector's new address of the object at `old_base`.
pub type ForwardFn = Option<unsafe extern "C" fn(ctx: *mut c_void, old_base: u64) -> u64>;

pub(crate) fn info(pc: u64, sp: &Safepoint) -> CSafepointInfo {
    CSafepointInfo {
        pc,
        id: sp.id,
        nlive: sp.live.len(),
        nroots: sp.roots.len(),
        frame_size: sp.frame_size.unwrap_or(0),
        has_frame_size: c_int::from(sp.frame_size.is_some()),
    }
}

fn slot(s: Slot) -> CSlot {
    match s {
        Slot::Sp(offset) => CSlot { base: 0, offset },
        Slot::Fp(offset) => CSlot { base: 1, offset },
    }
}

/// Copies up to `live_cap` live pointers and `roots_cap` roots of `sp`.
///
/// # Safety
/// `live` must be null or writable for `live_cap` elements, `roots` likewise.
pub(crate) unsafe fn slots(
    call: &str,
    sp: &Safepoint,
    live: *mut CLivePointer,
    live_cap: usize,
    roots: *mut CSlot,
    roots_cap: usize,
) -> Result<(), CapiError> {
    if (live.is_null() && live_cap > 0) || (roots.is_null() && roots_cap > 0) {
        return Err(CapiError::new(NULL_POINTER, call, "an array is null"));
    }
    for (i, p) in sp.live.iter().take(live_cap).enumerate() {
        // SAFETY: `i < live_cap` and `live` is writable for `live_cap` elements.
        unsafe { live.add(i).write(CLivePointer { base: slot(p.base), derived: slot(p.derived) }) };
    }
    for (i, r) in sp.roots.iter().take(roots_cap).enumerate() {
        // SAFETY: `i < roots_cap` and `roots` is writable for `roots_cap` elements.
        unsafe { roots.add(i).write(slot(*r)) };
    }
    Ok(())
}

/// The managed frames above the runtime entry `entry_fp` on this host.
///
/// # Safety
/// `entry_fp` must be the frame pointer a cfree entry trampoline passed to a
/// runtime function that is still running on this thread.
pub(crate) unsafe fn walk<'s>(
    call: &str,
    entry_fp: u64,
    safepoint_at: impl FnMut(u64) -> Option<&'s Safepoint>,
) -> Result<Vec<(Frame, &'s Safepoint)>, CapiError> {
    #[cfg(target_arch = "x86_64")]
    {
        let _ = call;
        // SAFETY: the caller's contract is the walk's.
        Ok(unsafe { cfree_statepoint::walk_managed_frames(entry_fp, safepoint_at) })
    }
    #[cfg(target_arch = "aarch64")]
    {
        let _ = call;
        // SAFETY: the caller's contract is the walk's.
        Ok(unsafe { cfree_statepoint::walk_managed_frames_aarch64(entry_fp, safepoint_at) })
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = (entry_fp, safepoint_at);
        Err(CapiError::new(crate::error::UNSUPPORTED, call, "frame walks exist for x86-64 and AArch64 hosts only"))
    }
}

/// Walks the frames above each of `entry_fps` (innermost first), writes up to
/// `cap` of them to `out` and their total to `*n`.
///
/// # Safety
/// As [`walk`] for every entry; `out` writable for `cap` frames.
pub(crate) unsafe fn frames_out<'s>(
    call: &str,
    entry_fp: u64,
    safepoint_at: impl FnMut(u64) -> Option<&'s Safepoint>,
    out: *mut CFrame,
    cap: usize,
    n: *mut usize,
) -> Result<(), CapiError> {
    if out.is_null() && cap > 0 {
        return Err(CapiError::new(NULL_POINTER, call, "the frame array is null"));
    }
    // SAFETY: forwarded contract.
    let frames = unsafe { walk(call, entry_fp, safepoint_at)? };
    for (i, (f, _)) in frames.iter().take(cap).enumerate() {
        // SAFETY: `i < cap` and `out` is writable for `cap` frames.
        unsafe { out.add(i).write(CFrame { pc: f.pc, sp: f.sp, fp: f.fp }) };
    }
    // SAFETY: the caller's contract on `n`.
    unsafe { put(call, n, frames.len()) }
}

/// Relocates every live pointer and root of the managed frames above each
/// entry of `entry_fps` with `forward`; stores the number of frames in `*frames`
/// (may be null).
///
/// # Safety
/// As [`walk`] for every entry; `forward` must be callable with `ctx`.
pub(crate) unsafe fn relocate_all<'s>(
    call: &str,
    entry_fps: *const u64,
    n: usize,
    mut safepoint_at: impl FnMut(u64) -> Option<&'s Safepoint>,
    forward: ForwardFn,
    ctx: *mut c_void,
    frames_seen: *mut usize,
) -> Result<(), CapiError> {
    let forward = forward.ok_or_else(|| CapiError::new(NULL_POINTER, call, "the forward function is null"))?;
    // SAFETY: the caller's contract on `entry_fps`.
    let entries = unsafe { array(call, entry_fps, n)? };
    let mut all = Vec::new();
    for fp in entries {
        // SAFETY: forwarded contract.
        all.extend(unsafe { walk(call, *fp, &mut safepoint_at)? });
    }
    // SAFETY: the frames were just walked on this stack, each with its own safepoint;
    // `forward` is the caller's function, called with the caller's context.
    unsafe { cfree_statepoint::relocate(&all, |old| forward(ctx, old)) };
    if !frames_seen.is_null() {
        // SAFETY: non-null and writable by the caller's contract.
        unsafe { frames_seen.write(all.len()) };
    }
    Ok(())
}

// ---- tables from AOT objects ----

fn arch(call: &str, a: c_int) -> Result<cfree_statepoint::Arch, CapiError> {
    match a {
        0 => Ok(cfree_statepoint::Arch::X86_64),
        1 => Ok(cfree_statepoint::Arch::AArch64),
        _ => Err(CapiError::new(INVALID_ARGUMENT, call, format!("statepoint arch {a} is out of range"))),
    }
}

/// The number of functions (`StkSizeRecord`s) in a `.llvm_stackmaps` section.
///
/// # Safety
/// `section` must be readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn cfree_statepoint_function_count(section: *const u8, len: usize, out: *mut usize) -> c_int {
    const CALL: &str = "cfree_statepoint_function_count";
    entry(CALL, || {
        // SAFETY: the caller's contract on `section`.
        let bytes = unsafe { array(CALL, section, len)? };
        let maps = StackMapSection::parse(bytes)
            .map_err(|e| CapiError::new(INVALID_ARGUMENT, CALL, format!("bad stack map section: {e}")))?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, maps.functions().count()) }
    })
}

/// Builds a safepoint table from a `.llvm_stackmaps` section of `arch`
/// (`CFREE_SP_ARCH_*`), given each function's start address in section order.
/// Records that are not statepoints are kept as entries without a safepoint
/// when `keep_other` is non-zero, else refused.
///
/// # Safety
/// `section` readable for `len` bytes, `function_addresses` for `nfuncs`.
#[no_mangle]
pub unsafe extern "C" fn cfree_statepoint_table_new(
    section: *const u8,
    len: usize,
    arch_: c_int,
    function_addresses: *const u64,
    nfuncs: usize,
    keep_other: c_int,
    out: *mut u64,
) -> c_int {
    const CALL: &str = "cfree_statepoint_table_new";
    entry(CALL, || {
        // SAFETY: the caller's contract on both arrays.
        let (bytes, addrs) = unsafe { (array(CALL, section, len)?, array(CALL, function_addresses, nfuncs)?) };
        let arch = arch(CALL, arch_)?;
        let maps = StackMapSection::parse(bytes)
            .map_err(|e| CapiError::new(INVALID_ARGUMENT, CALL, format!("bad stack map section: {e}")))?;
        let other = if keep_other != 0 { OtherRecords::Keep } else { OtherRecords::Refuse };
        let table = SafepointTable::build(arch, &maps, addrs, other)
            .map_err(|e| CapiError::new(INVALID_ARGUMENT, CALL, format!("cannot build the table: {e}")))?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, handles::add_table(table)) }
    })
}

/// Frees table `t`.
#[no_mangle]
pub extern "C" fn cfree_statepoint_table_free(t: u64) -> c_int {
    const CALL: &str = "cfree_statepoint_table_free";
    entry(CALL, || handles::remove_table(CALL, t).map(drop))
}

/// The number of entries (records) of table `t`.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_statepoint_table_len(t: u64, out: *mut usize) -> c_int {
    const CALL: &str = "cfree_statepoint_table_len";
    entry(CALL, || {
        let table = handles::table(CALL, t)?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, table.len()) }
    })
}

/// Entry `index` (in PC order) of table `t`; `CFREE_ERR_NOT_FOUND` past the
/// end, or for a record kept without a safepoint (its `pc` and `id` are still
/// written, counts are 0).
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_statepoint_table_entry(t: u64, index: usize, out: *mut CSafepointInfo) -> c_int {
    const CALL: &str = "cfree_statepoint_table_entry";
    entry(CALL, || {
        if out.is_null() {
            return Err(CapiError::new(NULL_POINTER, CALL, "the out-parameter is null"));
        }
        let table = handles::table(CALL, t)?;
        let e = table.entries().get(index).ok_or_else(|| {
            CapiError::new(NOT_FOUND, CALL, format!("no entry {index} (the table has {})", table.len()))
        })?;
        let (value, found) = match &e.safepoint {
            Some(sp) => (info(e.pc, sp), true),
            None => (CSafepointInfo { pc: e.pc, id: e.id, ..CSafepointInfo::default() }, false),
        };
        // SAFETY: the caller's contract on `out` (checked non-null).
        unsafe { out.write(value) };
        if found {
            Ok(())
        } else {
            Err(CapiError::new(NOT_FOUND, CALL, format!("entry {index} is not a statepoint")))
        }
    })
}

/// The safepoint at return address `pc` in table `t`, or `CFREE_ERR_NOT_FOUND`.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_statepoint_table_safepoint_at(t: u64, pc: u64, out: *mut CSafepointInfo) -> c_int {
    const CALL: &str = "cfree_statepoint_table_safepoint_at";
    entry(CALL, || {
        let table = handles::table(CALL, t)?;
        let sp = table
            .safepoint_at(pc)
            .ok_or_else(|| CapiError::new(NOT_FOUND, CALL, format!("no safepoint at pc {pc:#x}")))?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, info(pc, sp)) }
    })
}

/// The slots of the safepoint at `pc` in table `t` (see `cfree_jit_safepoint_slots`).
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_statepoint_table_slots(
    t: u64,
    pc: u64,
    live: *mut CLivePointer,
    live_cap: usize,
    roots: *mut CSlot,
    roots_cap: usize,
) -> c_int {
    const CALL: &str = "cfree_statepoint_table_slots";
    entry(CALL, || {
        let table = handles::table(CALL, t)?;
        let sp = table
            .safepoint_at(pc)
            .ok_or_else(|| CapiError::new(NOT_FOUND, CALL, format!("no safepoint at pc {pc:#x}")))?;
        // SAFETY: the caller's contract on both arrays.
        unsafe { slots(CALL, sp, live, live_cap, roots, roots_cap) }
    })
}

/// The managed frames above runtime entry `entry_fp`, found with table `t`.
///
/// # Safety
/// `entry_fp` must be the frame pointer a cfree entry trampoline passed to a
/// runtime function still running on this thread; `out` writable for `cap`.
#[no_mangle]
pub unsafe extern "C" fn cfree_statepoint_table_walk(
    t: u64,
    entry_fp: u64,
    out: *mut CFrame,
    cap: usize,
    n: *mut usize,
) -> c_int {
    const CALL: &str = "cfree_statepoint_table_walk";
    entry(CALL, || {
        let table = handles::table(CALL, t)?;
        // SAFETY: the caller's contract.
        unsafe { frames_out(CALL, entry_fp, |pc| table.safepoint_at(pc), out, cap, n) }
    })
}

/// Relocates the managed frames above each runtime entry of `entry_fps`
/// (innermost first) with `forward`, using table `t`.
///
/// # Safety
/// As `cfree_statepoint_table_walk` for every entry; `forward` callable with `ctx`.
#[no_mangle]
pub unsafe extern "C" fn cfree_statepoint_table_relocate(
    t: u64,
    entry_fps: *const u64,
    n: usize,
    forward: ForwardFn,
    ctx: *mut c_void,
    frames: *mut usize,
) -> c_int {
    const CALL: &str = "cfree_statepoint_table_relocate";
    entry(CALL, || {
        let table = handles::table(CALL, t)?;
        // SAFETY: the caller's contract.
        unsafe { relocate_all(CALL, entry_fps, n, |pc| table.safepoint_at(pc), forward, ctx, frames) }
    })
}
