//! Statepoint records decoded into safepoints, and the frame walks (x86-64,
//! AArch64) and root relocation a moving collector needs.
//!
//! A `gc.statepoint` record's locations are: three constants (calling
//! convention, flags, number of deopt operands N), N deopt locations, then
//! (base, derived) pairs for every managed pointer live across the call. A
//! pair may repeat; a null pointer is a constant. cfree-llvm passes the
//! addresses of explicit root slots (address-taken frame slots holding managed
//! pointers) as deopt operands, so they appear as `Direct` locations there. With LLVM's default lowering
//! every live managed pointer is spilled, so its location is `Indirect`
//! (`[reg + offset]`, relative to the stack pointer at the call, i.e. the
//! caller's SP once the call has returned, or to the frame pointer).

use crate::{Location, LocationKind};

/// DWARF register numbers of x86-64 used by stack map locations.
pub mod x86_64 {
    /// RBP, the frame pointer.
    pub const RBP: u16 = 6;
    /// RSP, the stack pointer.
    pub const RSP: u16 = 7;
}

/// DWARF register numbers of AArch64 used by stack map locations, and its frame walk.
pub mod aarch64 {
    /// X29, the frame pointer.
    pub const FP: u16 = 29;
    /// SP, the stack pointer.
    pub const SP: u16 = 31;

    pub use super::walk_managed_frames_aarch64 as walk_managed_frames;
}

/// The architectures whose statepoint records can be decoded and walked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    /// x86-64 (System V).
    X86_64,
    /// AArch64 (AAPCS64).
    AArch64,
}

impl Arch {
    /// The architecture this crate was compiled for, if it is one of them.
    pub const fn native() -> Option<Arch> {
        if cfg!(target_arch = "x86_64") {
            Some(Arch::X86_64)
        } else if cfg!(target_arch = "aarch64") {
            Some(Arch::AArch64)
        } else {
            None
        }
    }

    /// DWARF numbers of (stack pointer, frame pointer).
    fn sp_fp(self) -> (u16, u16) {
        match self {
            Arch::X86_64 => (x86_64::RSP, x86_64::RBP),
            Arch::AArch64 => (aarch64::SP, aarch64::FP),
        }
    }
}

/// Where a managed pointer is stored in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    /// At `[SP + offset]`, SP being the caller's stack pointer after the call returns.
    Sp(i32),
    /// At `[FP + offset]`, FP being the frame pointer of the function holding the safepoint.
    Fp(i32),
}

/// One managed pointer live across a safepoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LivePointer {
    /// Slot of the object's base pointer.
    pub base: Slot,
    /// Slot of the (possibly interior) pointer in use; equal to `base` for plain pointers.
    pub derived: Slot,
}

/// A decoded safepoint: the live managed pointers at one return address.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Safepoint {
    /// The record's ID: the frontend's safepoint identity (`Cg::set_safepoint_id`),
    /// or LLVM's default `0xABCDEF00`. [`Safepoint::decode`] leaves it 0.
    pub id: u64,
    /// Live pointers, duplicates merged, sorted.
    pub live: Vec<LivePointer>,
    /// Explicit root slots: frame slots whose content is a managed base pointer
    /// (or null) that the collector updates in place. Sorted, no duplicates.
    pub roots: Vec<Slot>,
    /// Fixed frame size of the function holding the safepoint (its
    /// `StkSizeRecord`'s stack size; `None` if unknown or dynamic). The AArch64
    /// walk needs it to find the caller's stack pointer. Set by table builders.
    pub frame_size: Option<u64>,
}

/// Why a record could not be decoded as a statepoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer than the three header constants, or a header that is not constants.
    NotAStatepoint,
    /// A live pointer in a place the walker cannot address (e.g. a register).
    UnsupportedLocation(Location),
    /// An odd number of locations after the deopt operands.
    UnpairedPointer,
}

/// The frame slot a location of `kind` names (`Indirect` for spilled pointers,
/// `Direct` for the addresses of explicit root slots), or `None` for a constant.
fn frame_slot(arch: Arch, l: &Location, kind: LocationKind) -> Result<Option<Slot>, DecodeError> {
    let (sp, fp) = arch.sp_fp();
    match l.kind {
        // A null (or other constant) pointer needs no update.
        LocationKind::Constant | LocationKind::ConstantIndex => Ok(None),
        k if k == kind && l.dwarf_reg == sp => Ok(Some(Slot::Sp(l.offset))),
        k if k == kind && l.dwarf_reg == fp => Ok(Some(Slot::Fp(l.offset))),
        _ => Err(DecodeError::UnsupportedLocation(*l)),
    }
}

impl Safepoint {
    /// Decodes a statepoint record (x86-64 register numbering), keeping its ID.
    pub fn from_record(record: &crate::Record<'_>) -> Result<Safepoint, DecodeError> {
        Safepoint::from_record_for(Arch::X86_64, record)
    }

    /// Decodes a statepoint record of `arch`, keeping its ID.
    pub fn from_record_for(arch: Arch, record: &crate::Record<'_>) -> Result<Safepoint, DecodeError> {
        let locations: Vec<Location> = record.locations().collect();
        Ok(Safepoint { id: record.id, ..Safepoint::decode_for(arch, &locations)? })
    }

    /// Decodes the locations of a statepoint record (x86-64 register numbering).
    pub fn decode(locations: &[Location]) -> Result<Safepoint, DecodeError> {
        Safepoint::decode_for(Arch::X86_64, locations)
    }

    /// Decodes the locations of a statepoint record of `arch`.
    pub fn decode_for(arch: Arch, locations: &[Location]) -> Result<Safepoint, DecodeError> {
        let header = locations.get(..3).ok_or(DecodeError::NotAStatepoint)?;
        if header.iter().any(|l| l.kind != LocationKind::Constant) {
            return Err(DecodeError::NotAStatepoint);
        }
        let deopt = usize::try_from(header[2].offset).map_err(|_| DecodeError::NotAStatepoint)?;
        let deopt_locations = locations.get(3..3 + deopt).ok_or(DecodeError::NotAStatepoint)?;
        let mut roots = Vec::new();
        for l in deopt_locations {
            roots.extend(frame_slot(arch, l, LocationKind::Direct)?);
        }
        roots.sort();
        roots.dedup();
        let pairs = locations.get(3 + deopt..).ok_or(DecodeError::NotAStatepoint)?;
        if pairs.len() % 2 != 0 {
            return Err(DecodeError::UnpairedPointer);
        }
        let mut live = Vec::new();
        for pair in pairs.chunks_exact(2) {
            match (
                frame_slot(arch, &pair[0], LocationKind::Indirect)?,
                frame_slot(arch, &pair[1], LocationKind::Indirect)?,
            ) {
                (Some(base), Some(derived)) => live.push(LivePointer { base, derived }),
                (None, None) => {}
                // A constant base with a spilled derived pointer (or the reverse) has no
                // meaning for a collector: the derived value cannot be rebased.
                _ => return Err(DecodeError::UnpairedPointer),
            }
        }
        live.sort();
        live.dedup();
        Ok(Safepoint { id: 0, live, roots, frame_size: None })
    }
}

/// One managed frame found by the walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The return address into the frame's function (the safepoint's PC).
    pub pc: u64,
    /// The caller's stack pointer after the call returns (base of `Slot::Sp`).
    pub sp: u64,
    /// The frame's own frame pointer (base of `Slot::Fp`).
    pub fp: u64,
}

impl Frame {
    /// The address of `slot` in this frame.
    pub fn address(&self, slot: Slot) -> u64 {
        match slot {
            Slot::Sp(off) => self.sp.wrapping_add_signed(i64::from(off)),
            Slot::Fp(off) => self.fp.wrapping_add_signed(i64::from(off)),
        }
    }
}

/// Walks the managed frames above a runtime function on x86-64.
///
/// `entry_fp` is the frame pointer of the runtime function that managed code
/// called (it must keep a frame pointer). Frames are followed while
/// `is_safepoint(return_address)` holds, so the walk stops at the first frame
/// that is not managed code.
///
/// # Safety
/// `entry_fp` must be the live frame pointer of a function on the current
/// thread's stack (or of a suspended thread), called from managed code that
/// keeps frame pointers, and the stack must not change during the walk.
pub unsafe fn walk_frames(entry_fp: u64, mut is_safepoint: impl FnMut(u64) -> bool) -> Vec<Frame> {
    let mut frames = Vec::new();
    // SAFETY: the caller's contract is this function's.
    unsafe { walk(entry_fp, |frame| is_safepoint(frame.pc).then(|| frames.push(frame)).is_some()) };
    frames
}

/// [`walk_frames`] with each frame's safepoint, looked up once per frame:
/// the walk continues while `safepoint_at(return_address)` finds one.
///
/// # Safety
/// As for [`walk_frames`].
pub unsafe fn walk_managed_frames<'s>(
    entry_fp: u64,
    mut safepoint_at: impl FnMut(u64) -> Option<&'s Safepoint>,
) -> Vec<(Frame, &'s Safepoint)> {
    let mut frames = Vec::new();
    // SAFETY: the caller's contract is this function's.
    unsafe { walk(entry_fp, |frame| safepoint_at(frame.pc).map(|sp| frames.push((frame, sp))).is_some()) };
    frames
}

/// [`walk_managed_frames`] for AArch64 (`aarch64::walk_managed_frames`).
///
/// Frame records are `[fp] = caller's fp`, `[fp + 8] = return address`, but
/// LLVM puts the record at the bottom of the callee-save area, so a frame's
/// stack pointer at its call does not follow from the callee's frame pointer.
/// It follows from frame sizes instead: the entry trampoline's prologue saves
/// only its frame record, so `entry_fp + 16` is the innermost managed frame's
/// SP at its call (`bl` pushes nothing); each outer frame's SP at its call is
/// the inner frame's plus the inner function's fixed frame size
/// ([`Safepoint::frame_size`]). The walk stops at the first return address
/// without a safepoint, and after a frame whose size is unknown.
///
/// # Safety
/// As for [`walk_frames`], with `entry_fp` the frame pointer of a cfree entry
/// trampoline (whose frame is only its frame record).
pub unsafe fn walk_managed_frames_aarch64<'s>(
    entry_fp: u64,
    mut safepoint_at: impl FnMut(u64) -> Option<&'s Safepoint>,
) -> Vec<(Frame, &'s Safepoint)> {
    let mut frames = Vec::new();
    let mut sp = entry_fp.wrapping_add(16);
    let mut known = true;
    // SAFETY: the caller's contract is this function's.
    unsafe {
        walk(entry_fp, |mut frame| {
            let Some(safepoint) = known.then(|| safepoint_at(frame.pc)).flatten() else { return false };
            frame.sp = sp;
            frames.push((frame, safepoint));
            match safepoint.frame_size {
                Some(size) => sp = sp.wrapping_add(size),
                None => known = false,
            }
            true
        })
    };
    frames
}

/// Follows the frame-pointer chain from `entry_fp` while `keep(frame)` accepts the frame.
///
/// # Safety
/// As for [`walk_frames`].
unsafe fn walk(entry_fp: u64, mut keep: impl FnMut(Frame) -> bool) {
    let mut callee_fp = entry_fp;
    while callee_fp != 0 && callee_fp % 8 == 0 {
        // SAFETY: by the contract, `callee_fp` points at a frame record: the saved frame
        // pointer of the caller, then the return address into it.
        let (caller_fp, ret) = unsafe { (*(callee_fp as *const u64), *((callee_fp + 8) as *const u64)) };
        if !keep(Frame { pc: ret, sp: callee_fp + 16, fp: caller_fp }) || caller_fp <= callee_fp {
            break;
        }
        callee_fp = caller_fp;
    }
}

/// Relocates every live pointer of `frames` (with their safepoints) after a
/// moving collection: `forward(old_base)` returns the object's new address.
/// Derived pointers keep their offset from the base; explicit root slots hold
/// base pointers and get the forwarded value. Every value is read before any
/// slot is written, and each slot is written once.
///
/// # Safety
/// The frames must come from [`walk_frames`] on a stack that has not changed
/// since, and each safepoint must be the one decoded for its frame's `pc`.
pub unsafe fn relocate(frames: &[(Frame, &Safepoint)], mut forward: impl FnMut(u64) -> u64) {
    let mut writes: Vec<(u64, u64)> = Vec::new();
    let mut moved: Vec<(u64, u64)> = Vec::new();
    let mut forward_once = |base: u64| match moved.iter().find(|(old, _)| *old == base) {
        Some((_, new)) => *new,
        None => {
            let new = forward(base);
            moved.push((base, new));
            new
        }
    };
    for (frame, sp) in frames {
        for root in &sp.roots {
            let at = frame.address(*root);
            // SAFETY: by the contract `at` is an explicit root slot of a live frame.
            let value = unsafe { *(at as *const u64) };
            if value != 0 {
                writes.push((at, forward_once(value)));
            }
        }
        for p in &sp.live {
            let (base_at, derived_at) = (frame.address(p.base), frame.address(p.derived));
            // SAFETY: by the contract both addresses are spill slots of a live frame.
            let (base, derived) = unsafe { (*(base_at as *const u64), *(derived_at as *const u64)) };
            if base == 0 {
                continue;
            }
            let new_base = forward_once(base);
            writes.push((derived_at, new_base.wrapping_add(derived.wrapping_sub(base))));
            writes.push((base_at, new_base));
        }
    }
    writes.sort();
    writes.dedup();
    for (at, value) in writes {
        // SAFETY: as above; each slot receives one value computed from pre-collection reads.
        unsafe { *(at as *mut u64) = value };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake stack: the trampoline's frame record at word 0, the managed
    /// frames' records further up; AArch64 frame records sit at the bottom of
    /// their frames, so each caller's SP comes from the callee's frame size.
    #[test]
    fn aarch64_walk_recovers_stack_pointers_from_frame_sizes() {
        let mut stack = vec![0u64; 64];
        let base = stack.as_mut_ptr() as u64;
        let at = |word: usize| base + 8 * word as u64;
        // Trampoline record at word 0 -> frame A (record at word 6, frame 48 bytes from SP 2)
        // -> frame B (record at word 20, frame 112 bytes) -> host (pc 0x999, not managed).
        let (pc_a, pc_b) = (0x1000u64, 0x2000u64);
        stack[0] = at(6);
        stack[1] = pc_a;
        stack[6] = at(20);
        stack[7] = pc_b;
        stack[20] = at(40);
        stack[21] = 0x999;
        let a = Safepoint { frame_size: Some(48), ..Safepoint::default() };
        let b = Safepoint { frame_size: Some(112), ..Safepoint::default() };
        let lookup = |pc: u64| match pc {
            0x1000 => Some(&a),
            0x2000 => Some(&b),
            _ => None,
        };
        // SAFETY: the fake stack holds well-formed frame records ending at a non-managed pc.
        let frames = unsafe { walk_managed_frames_aarch64(at(0), lookup) };
        let got: Vec<(u64, u64, u64)> = frames.iter().map(|(f, _)| (f.pc, f.sp, f.fp)).collect();
        // A's SP at its call is the trampoline's entry SP (record + 16); B's is A's plus 48.
        assert_eq!(got, [(pc_a, at(2), at(6)), (pc_b, at(2) + 48, at(20))]);
    }

    #[test]
    fn aarch64_registers_decode_and_x86_64_numbers_are_refused() {
        let c = |v: i32| Location { kind: LocationKind::Constant, size: 8, dwarf_reg: 0, offset: v };
        let ind = |reg: u16, off: i32| Location { kind: LocationKind::Indirect, size: 8, dwarf_reg: reg, offset: off };
        let locations =
            [c(0), c(0), c(0), ind(aarch64::SP, 16), ind(aarch64::SP, 16), ind(aarch64::FP, -8), ind(aarch64::FP, -8)];
        let sp = Safepoint::decode_for(Arch::AArch64, &locations).unwrap();
        assert_eq!(
            sp.live,
            [
                LivePointer { base: Slot::Sp(16), derived: Slot::Sp(16) },
                LivePointer { base: Slot::Fp(-8), derived: Slot::Fp(-8) }
            ]
        );
        assert!(matches!(Safepoint::decode_for(Arch::X86_64, &locations), Err(DecodeError::UnsupportedLocation(_))));
    }
}
