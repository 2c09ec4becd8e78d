//! Statepoint records decoded into safepoints, and the root relocation a
//! moving collector does once the frames are found (`frames.rs`).
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

use std::fmt;

use crate::{Frame, Location, LocationKind};

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

    pub use crate::frames::walk_managed_frames_aarch64 as walk_managed_frames;
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

    /// Whether the frame walk needs each managed function's fixed frame size
    /// (AArch64: see [`crate::aarch64::walk_managed_frames`]), so that a
    /// function with a dynamic frame cannot hold safepoints.
    pub const fn walk_needs_frame_sizes(self) -> bool {
        match self {
            Arch::X86_64 => false,
            Arch::AArch64 => true,
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
    /// or LLVM's default `0xABCDEF00`. [`Safepoint::decode`] leaves it 0,
    /// [`Safepoint::from_record`] copies it.
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
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer than the three header constants, or a header that is not constants.
    NotAStatepoint,
    /// A live pointer in a place the walker cannot address (e.g. a register).
    UnsupportedLocation(Location),
    /// An odd number of locations after the deopt operands.
    UnpairedPointer,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::NotAStatepoint => {
                f.write_str("not a statepoint record (it needs three constant header locations and its deopt operands)")
            }
            DecodeError::UnsupportedLocation(l) => write!(
                f,
                "a managed pointer at a location the frame walk cannot address ({:?} of register {} offset {})",
                l.kind, l.dwarf_reg, l.offset
            ),
            DecodeError::UnpairedPointer => f.write_str("the live pointers do not form (base, derived) pairs"),
        }
    }
}

impl std::error::Error for DecodeError {}

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
    /// Decodes a statepoint record of `arch` (whose DWARF register numbers its
    /// locations use), keeping its ID. Table builders use [`crate::SafepointTable::build`].
    pub fn from_record(arch: Arch, record: &crate::Record<'_>) -> Result<Safepoint, DecodeError> {
        let locations: Vec<Location> = record.locations().collect();
        Ok(Safepoint { id: record.id, ..Safepoint::decode(arch, &locations)? })
    }

    /// Decodes the locations of a statepoint record of `arch`.
    pub fn decode(arch: Arch, locations: &[Location]) -> Result<Safepoint, DecodeError> {
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

/// Relocates every live pointer of `frames` (with their safepoints) after a
/// moving collection: `forward(old_base)` returns the object's new address.
/// Derived pointers keep their offset from the base; explicit root slots hold
/// base pointers and get the forwarded value. Every value is read before any
/// slot is written, each slot is written once, and `forward` is called once
/// per distinct object, in increasing order of old address.
///
/// The cost is O(m log m) for m live slots: the reads are sorted by base, so
/// the slots of one object are adjacent and share one `forward` call, with no
/// lookups (a search of the objects moved so far made a collection quadratic
/// in the stack depth; see `doc/performance.md`).
///
/// # Safety
/// The frames must come from [`crate::walk_frames`] (or its variants) on a stack that has not changed
/// since, and each safepoint must be the one decoded for its frame's `pc`.
pub unsafe fn relocate(frames: &[(Frame, &Safepoint)], mut forward: impl FnMut(u64) -> u64) {
    // (slot address, old base, offset of the slot's value from the base)
    let mut reads: Vec<(u64, u64, u64)> = Vec::new();
    for (frame, sp) in frames {
        for root in &sp.roots {
            let at = frame.address(*root);
            // SAFETY: by the contract `at` is an explicit root slot of a live frame.
            let value = unsafe { *(at as *const u64) };
            if value != 0 {
                reads.push((at, value, 0));
            }
        }
        for p in &sp.live {
            let (base_at, derived_at) = (frame.address(p.base), frame.address(p.derived));
            // SAFETY: by the contract both addresses are spill slots of a live frame.
            let (base, derived) = unsafe { (*(base_at as *const u64), *(derived_at as *const u64)) };
            if base == 0 {
                continue;
            }
            reads.push((derived_at, base, derived.wrapping_sub(base)));
            reads.push((base_at, base, 0));
        }
    }
    let mut comparisons = 0u64;
    reads.sort_unstable_by(|a, b| {
        comparisons += 1;
        a.1.cmp(&b.1)
    });
    let mut writes: Vec<(u64, u64)> = Vec::with_capacity(reads.len());
    let mut last: Option<(u64, u64)> = None;
    for (at, base, offset) in reads {
        let new_base = match last {
            Some((old, new)) if old == base => new,
            _ => {
                let new = forward(base);
                last = Some((base, new));
                new
            }
        };
        writes.push((at, new_base.wrapping_add(offset)));
    }
    writes.sort_unstable();
    writes.dedup();
    COMPARISONS.with(|c| c.set(c.get() + comparisons));
    for (at, value) in writes {
        // SAFETY: as above; each slot receives one value computed from pre-collection reads.
        unsafe { *(at as *mut u64) = value };
    }
}

thread_local! {
    static COMPARISONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Test hook: how many comparisons of old base addresses [`relocate`] has made
/// on this thread, in all calls (they measure its cost independently of time).
#[doc(hidden)]
pub fn relocation_comparisons() -> u64 {
    COMPARISONS.with(|c| c.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aarch64_registers_decode_and_x86_64_numbers_are_refused() {
        let c = |v: i32| Location { kind: LocationKind::Constant, size: 8, dwarf_reg: 0, offset: v };
        let ind = |reg: u16, off: i32| Location { kind: LocationKind::Indirect, size: 8, dwarf_reg: reg, offset: off };
        let locations =
            [c(0), c(0), c(0), ind(aarch64::SP, 16), ind(aarch64::SP, 16), ind(aarch64::FP, -8), ind(aarch64::FP, -8)];
        let sp = Safepoint::decode(Arch::AArch64, &locations).unwrap();
        assert_eq!(
            sp.live,
            [
                LivePointer { base: Slot::Sp(16), derived: Slot::Sp(16) },
                LivePointer { base: Slot::Fp(-8), derived: Slot::Fp(-8) }
            ]
        );
        assert!(matches!(Safepoint::decode(Arch::X86_64, &locations), Err(DecodeError::UnsupportedLocation(_))));
    }
}
