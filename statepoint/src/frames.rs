//! Frame-pointer walks: the one walker of the workspace. A GC follows the
//! managed frames above a runtime entry ([`walk_managed_frames`],
//! [`aarch64::walk_managed_frames`](crate::aarch64::walk_managed_frames));
//! a JIT proves no frame still runs code it is about to release
//! ([`return_addresses`]). Both follow frame records, which on x86-64 and
//! AArch64 are `[fp] = caller's fp`, `[fp + 8] = return address`; the walk
//! stops at a null, misaligned or non-increasing frame pointer (stacks grow
//! down, so callers' frames lie at higher addresses).

use crate::{Safepoint, Slot};

/// The calling function's frame pointer (`rbp` on x86-64, `x29` on AArch64).
/// Meaningful only where every frame keeps one (`-C force-frame-pointers=yes`
/// for Rust code; cfree's JIT code always does).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[inline(always)]
pub fn current_frame_pointer() -> u64 {
    let fp: u64;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: reads a register; no memory access, no side effects.
    unsafe {
        std::arch::asm!("mov {}, rbp", out(reg) fp, options(nomem, nostack, preserves_flags))
    };
    #[cfg(target_arch = "aarch64")]
    // SAFETY: reads a register; no memory access, no side effects.
    unsafe {
        std::arch::asm!("mov {}, x29", out(reg) fp, options(nomem, nostack, preserves_flags))
    };
    fp
}

/// The return addresses of the frame chain starting at the frame record `fp`,
/// innermost first, at most `limit` of them.
///
/// # Safety
/// `fp` must be a frame pointer of a thread that stays suspended (or is the
/// caller) during the walk, whose frames all keep frame pointers up to the
/// point where the chain ends.
pub unsafe fn return_addresses(fp: u64, limit: usize) -> Vec<u64> {
    let mut out = Vec::new();
    if limit == 0 {
        return out;
    }
    // SAFETY: the caller's contract is this function's.
    unsafe {
        walk(fp, |frame| {
            out.push(frame.pc);
            out.len() < limit
        })
    };
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Safepoint;

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
        // SAFETY: as above; the chain ends at the null frame pointer of word 40.
        assert_eq!(unsafe { return_addresses(at(0), 10) }, [pc_a, pc_b, 0x999, 0]);
        // SAFETY: as above.
        assert_eq!(unsafe { return_addresses(at(0), 2) }, [pc_a, pc_b]);
        // SAFETY: a zero limit reads nothing.
        assert!(unsafe { return_addresses(at(0), 0) }.is_empty());
    }

    #[test]
    fn the_walk_stops_at_a_frame_pointer_that_does_not_grow() {
        let mut stack = vec![0u64; 8];
        let base = stack.as_mut_ptr() as u64;
        // Record at word 4 pointing back down to word 0 (a corrupt chain): one frame, then stop.
        stack[4] = base;
        stack[5] = 0x1234;
        // SAFETY: the fake stack holds a frame record at word 4.
        assert_eq!(unsafe { return_addresses(base + 32, 10) }, [0x1234]);
        // SAFETY: a misaligned frame pointer is refused before any read.
        assert!(unsafe { return_addresses(base + 33, 10) }.is_empty());
    }
}
