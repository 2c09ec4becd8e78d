//! Frame-pointer stack walking, for proving that no frame still runs code
//! about to be reclaimed. JIT code is compiled with frame pointers
//! (`"frame-pointer"="all"`); host code must keep them too
//! (`-C force-frame-pointers=yes`, set in this workspace's cargo config).
//!
//! On x86-64 and AArch64 a frame record is `[fp] = caller's fp`,
//! `[fp + 8] = return address`.

/// The calling function's frame pointer.
#[inline(always)]
pub fn current_frame_pointer() -> usize {
    let fp: usize;
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
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    compile_error!("frame-pointer walking is implemented for x86_64 and aarch64");
    fp
}

/// The return addresses of the frame chain starting at `fp`, innermost first,
/// at most `limit` of them. The walk stops at a null or non-increasing frame
/// pointer (stacks grow down, so callers' frames lie at higher addresses).
///
/// # Safety
/// `fp` must be a frame pointer of a thread that stays suspended (or is the
/// caller) during the walk, whose frames all keep frame pointers up to the
/// point where the chain ends.
pub unsafe fn return_addresses(fp: usize, limit: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let mut fp = fp;
    while fp != 0 && fp % 8 == 0 && out.len() < limit {
        // SAFETY: by the contract, `fp` points at a live frame record of two words.
        let (next, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        out.push(ret as u64);
        if next <= fp {
            break;
        }
        fp = next;
    }
    out
}
