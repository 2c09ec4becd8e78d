//! Stack machinery for green threads and segmented stacks: a pool of stack
//! segments, running a call on another stack ([`call_on_stack`]) and
//! switching between suspended contexts ([`prepare`], [`switch`]).
//!
//! Frame records (`[fp] = caller's fp`, `[fp + 8] = return address`) are kept
//! intact across every switch, so a frame-pointer walk crosses stacks:
//!
//! - `call_on_stack` pushes a record on the *old* stack (saved fp = the
//!   caller's fp, return address into the caller) and points fp at it before
//!   moving sp to the new stack; the callee's first record then links to it,
//!   with a return address into the helper. The walk goes: callee frames ->
//!   helper record (old stack) -> caller frames.
//! - `switch` saves the callee-saved registers below a frame record of its
//!   caller. A suspended context's saved sp points at: on x86-64
//!   `[mxcsr: u32][x87 cw: u16][pad][r15][r14][r13][r12][rbx][rbp][ret]`, so its
//!   frame record is at `sp + 48`; on AArch64 `[x29][x30][x19..x28][d8..d15]`
//!   (160 bytes), so its frame record is at `sp`.
//! - A stack from `prepare` starts `entry` with fp = 0 and return address 0:
//!   the entry frame's record is `{0, 0}`, which ends every walk.
//!
//! Segments are carved out of 64 MiB anonymous `MAP_NORESERVE` mappings
//! rather than mapped one by one: a program may keep 100,000+ tasks alive and
//! `vm.max_map_count` (65,530 by default) would run out long before memory.
//! The flip side is that segments have no guard pages (a `PROT_NONE` page per
//! segment would split the mapping again): whoever runs on a segment must
//! check its limit.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

/// Smallest size class: 16 KiB.
const MIN_CLASS_SHIFT: u32 = 14;
/// Largest size class: 64 MiB; larger requests are mapped alone.
const MAX_CLASS_SHIFT: u32 = 26;
const CLASSES: usize = (MAX_CLASS_SHIFT - MIN_CLASS_SHIFT + 1) as usize;
/// Size of the mappings the classes are carved from (one segment of the largest class).
const CHUNK_SIZE: usize = 1 << MAX_CLASS_SHIFT;
const PAGE_SIZE: usize = 4096;
/// Freed segments at least this large give their pages back (`MADV_DONTNEED`).
const RELEASE_MIN: usize = 1 << 20;

/// A block of stack memory `[base, base + size)`, 16-byte aligned, size a multiple of 4096.
#[derive(Debug)]
pub(crate) struct Segment {
    pub(crate) base: u64,
    pub(crate) size: usize,
}

impl Segment {
    /// The end of the segment: the initial stack pointer of a stack running on it.
    pub(crate) fn top(&self) -> u64 {
        self.base + self.size as u64
    }
}

/// Counters of a [`SegmentPool`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PoolStats {
    /// Segments handed out and not yet freed.
    pub(crate) live_segments: u64,
    /// Their total size.
    pub(crate) live_bytes: u64,
    /// Address space mapped by the pool (live, free and not yet carved).
    pub(crate) mapped_bytes: u64,
    /// Successful `alloc` calls since the pool was made.
    pub(crate) allocations: u64,
}

/// Hands out stack segments of power-of-two size classes (16 KiB to 64 MiB)
/// carved from 64 MiB mappings; larger requests are rounded up to pages and
/// mapped alone. Freed segments are reused last-in first-out (the most
/// recently freed has warm pages). Memory is committed only when touched,
/// and the pool gives address space back to the system only when dropped;
/// segments of 1 MiB and more give their pages back when freed. Shared by
/// all the worker threads of a run.
#[derive(Debug)]
pub(crate) struct SegmentPool {
    state: Mutex<PoolState>,
}

#[derive(Debug, Default)]
struct PoolState {
    /// Free segment bases per class: freed ones pushed at the back (taken
    /// first), never-used ones at the front.
    free: [VecDeque<u64>; CLASSES],
    /// Free segments larger than the largest class.
    large_free: Vec<Segment>,
    /// The uncarved tail `[bump, bump_end)` of the newest chunk.
    bump: u64,
    bump_end: u64,
    /// Every mapping, for `Drop`.
    mappings: Vec<(u64, usize)>,
    stats: PoolStats,
}

/// What a request or a segment size amounts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SizeKind {
    /// A class index: the size is `1 << (MIN_CLASS_SHIFT + index)`.
    Class(usize),
    /// A size above the largest class, a multiple of the page size.
    Large(usize),
}

fn class_size(class: usize) -> usize {
    1 << (MIN_CLASS_SHIFT + class as u32)
}

/// The size kind that serves a request of `min_size` bytes.
fn kind_for_request(min_size: usize) -> Result<SizeKind, String> {
    if min_size <= CHUNK_SIZE {
        let size = min_size.max(1 << MIN_CLASS_SHIFT).next_power_of_two();
        return Ok(SizeKind::Class((size.trailing_zeros() - MIN_CLASS_SHIFT) as usize));
    }
    match min_size.checked_add(PAGE_SIZE - 1) {
        Some(n) => Ok(SizeKind::Large(n & !(PAGE_SIZE - 1))),
        None => Err(format!("a stack segment of {min_size} bytes is too large")),
    }
}

/// The size kind of a segment this pool handed out.
fn kind_of_segment(size: usize) -> SizeKind {
    if size <= CHUNK_SIZE {
        debug_assert!(size.is_power_of_two() && size >= 1 << MIN_CLASS_SHIFT, "not a pool segment: {size} bytes");
        SizeKind::Class((size.trailing_zeros() - MIN_CLASS_SHIFT) as usize)
    } else {
        debug_assert!(size % PAGE_SIZE == 0, "not a pool segment: {size} bytes");
        SizeKind::Large(size)
    }
}

/// Maps `len` bytes of fresh, lazily committed memory for stacks.
fn map(len: usize) -> Result<u64, String> {
    // No transparent huge pages: one would commit 2 MiB for a task that
    // touches 16 KiB. Recent kernels read MAP_STACK so; the madvise below
    // says it to older ones.
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK;
    // SAFETY: an anonymous private mapping at an address of the kernel's choice.
    let p = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, flags, -1, 0) };
    if p == libc::MAP_FAILED {
        return Err(format!("cannot map {len} bytes of stack: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: advice on our own fresh mapping; it never changes contents (failure is harmless).
    unsafe { libc::madvise(p, len, libc::MADV_NOHUGEPAGE) };
    Ok(p as u64)
}

impl PoolState {
    /// Carves a segment of class `class` from the newest chunk, mapping a new one when it is too small.
    fn carve(&mut self, class: usize) -> Result<u64, String> {
        let size = class_size(class) as u64;
        if self.bump_end - self.bump < size {
            let chunk = map(CHUNK_SIZE)?;
            self.mappings.push((chunk, CHUNK_SIZE));
            self.stats.mapped_bytes += CHUNK_SIZE as u64;
            self.retire_tail();
            self.bump = chunk;
            self.bump_end = chunk + CHUNK_SIZE as u64;
        }
        let base = self.bump;
        self.bump += size;
        Ok(base)
    }

    /// Cuts the uncarved tail of the current chunk into free segments,
    /// largest first. The tail is a multiple of the smallest class, since
    /// every class is.
    fn retire_tail(&mut self) {
        while self.bump_end > self.bump {
            let left = self.bump_end - self.bump;
            let shift = (63 - left.leading_zeros()).min(MAX_CLASS_SHIFT);
            let class = (shift - MIN_CLASS_SHIFT) as usize;
            self.free[class].push_front(self.bump);
            self.bump += 1 << shift;
        }
    }

    fn alloc(&mut self, kind: SizeKind) -> Result<Segment, String> {
        let seg = match kind {
            SizeKind::Class(class) => {
                let base = match self.free[class].pop_back() {
                    Some(base) => base,
                    None => self.carve(class)?,
                };
                Segment { base, size: class_size(class) }
            }
            SizeKind::Large(size) => {
                let best = self
                    .large_free
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.size >= size)
                    .min_by_key(|(_, s)| s.size)
                    .map(|(i, _)| i);
                match best {
                    Some(i) => self.large_free.swap_remove(i),
                    None => {
                        let base = map(size)?;
                        self.mappings.push((base, size));
                        self.stats.mapped_bytes += size as u64;
                        Segment { base, size }
                    }
                }
            }
        };
        self.stats.live_segments += 1;
        self.stats.live_bytes += seg.size as u64;
        self.stats.allocations += 1;
        Ok(seg)
    }
}

impl SegmentPool {
    /// An empty pool; nothing is mapped until the first allocation.
    pub(crate) fn new() -> SegmentPool {
        SegmentPool { state: Mutex::new(PoolState::default()) }
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // Nothing panics while the lock is held with the state half updated.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A segment of at least `min_size` bytes (16 KiB at least), or the
    /// reason the system refused the memory. Its contents are unspecified.
    pub(crate) fn alloc(&self, min_size: usize) -> Result<Segment, String> {
        let kind = kind_for_request(min_size)?;
        self.lock().alloc(kind)
    }

    /// Takes back a segment this pool handed out; it may be handed out again at once.
    pub(crate) fn free(&self, seg: Segment) {
        if seg.size >= RELEASE_MIN {
            // SAFETY: the segment is ours (the caller gave it up) and lies in one
            // of our private anonymous mappings; its pages read as zeros afterwards.
            let r = unsafe { libc::madvise(seg.base as *mut libc::c_void, seg.size, libc::MADV_DONTNEED) };
            debug_assert_eq!(r, 0, "madvise(MADV_DONTNEED) of a stack segment failed");
        }
        let mut state = self.lock();
        state.stats.live_segments -= 1;
        state.stats.live_bytes -= seg.size as u64;
        match kind_of_segment(seg.size) {
            SizeKind::Class(class) => state.free[class].push_back(seg.base),
            SizeKind::Large(_) => state.large_free.push(seg),
        }
    }

    /// The pool's counters.
    #[cfg_attr(not(test), allow(dead_code, reason = "for statistics and tests; the scheduler counts its own"))]
    pub(crate) fn stats(&self) -> PoolStats {
        self.lock().stats
    }
}

impl Default for SegmentPool {
    fn default() -> SegmentPool {
        SegmentPool::new()
    }
}

impl Drop for SegmentPool {
    /// Unmaps everything, live segments included: nothing may still run on them.
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        for &(base, len) in &state.mappings {
            // SAFETY: our own mapping, mapped once and unmapped once; no segment
            // outlives the pool (its owners are done with it by contract).
            unsafe { libc::munmap(base as *mut libc::c_void, len) };
        }
    }
}

extern "C" {
    fn cfree_toy_rt_call_on_stack(top: u64, f: unsafe extern "C" fn(u64) -> u64, arg: u64) -> u64;
    fn cfree_toy_rt_switch(save_sp: *mut u64, next_sp: u64);
    /// Not callable: the first code of a prepared context, reached by `switch`'s return.
    fn cfree_toy_rt_green_start();
}

/// Calls `f(arg)` with the stack pointer moved to `top`, so that `f` runs on
/// the stack below `top`, then switches back and returns `f`'s result. See
/// the module documentation for the frame records this builds.
///
/// A panic in `f` does not unwind (it aborts at `f`'s `extern "C"` boundary).
///
/// # Safety
/// `top` must be 16-byte aligned and the end of writable memory that nothing
/// else uses while `f` runs and that is large enough for `f`'s deepest use
/// (nothing checks it; signal handlers also run there unless they have an
/// alternate stack). `f` must be safe to call with `arg`.
#[inline]
pub(crate) unsafe fn call_on_stack(top: u64, f: unsafe extern "C" fn(u64) -> u64, arg: u64) -> u64 {
    debug_assert!(top % 16 == 0, "misaligned stack top {top:#x}");
    // SAFETY: the stack is the caller's contract; the helper saves and restores
    // everything the C ABI asks a callee to (it touches only rsp/rbp or sp/x29/x30
    // besides the argument registers).
    unsafe { cfree_toy_rt_call_on_stack(top, f, arg) }
}

/// Saves the current context (callee-saved registers: x86-64 rbx, rbp,
/// r12-r15, MXCSR and the x87 control word; AArch64 x19-x30 and d8-d15) on
/// the current stack, stores its stack pointer into `*save_sp`, and resumes
/// the context saved at `next_sp`. Returns when something switches back to
/// `*save_sp`.
///
/// # Safety
/// `save_sp` must be valid for a write. `next_sp` must be a stack pointer
/// saved by `switch` (or returned by [`prepare`]) whose context has not been
/// resumed since, on a stack that is still alive. Whatever runs there must
/// not rely on thread-local state of the thread it was suspended on (Rust
/// code may keep a thread-local's address across this call).
#[inline]
pub(crate) unsafe fn switch(save_sp: *mut u64, next_sp: u64) {
    // SAFETY: the caller's contract is the helper's.
    unsafe { cfree_toy_rt_switch(save_sp, next_sp) }
}

/// Words `prepare` writes below `top`.
#[cfg(target_arch = "x86_64")]
const PREPARED_WORDS: usize = 9;
#[cfg(target_arch = "aarch64")]
const PREPARED_WORDS: usize = 20;

/// Writes an initial context just below `top` so that `switch(&mut sp,
/// returned)` starts `entry(arg)` on that stack, and returns its stack
/// pointer. `entry` starts with fp = 0 and return address 0 (its frame record
/// is `{0, 0}`), default floating-point control state (x86-64: MXCSR 0x1F80,
/// x87 control word 0x037F), and must never return: it ends by switching away
/// for the last time.
///
/// # Safety
/// `top` must be 16-byte aligned and the end of writable memory that is only
/// used by the new context, large enough for everything `entry` does (the
/// top 72 bytes on x86-64, 160 on AArch64, are written now).
pub(crate) unsafe fn prepare(top: u64, entry: unsafe extern "C" fn(u64) -> !, arg: u64) -> u64 {
    debug_assert!(top % 16 == 0, "misaligned stack top {top:#x}");
    let start = cfree_toy_rt_green_start as *const () as usize as u64;
    let entry = entry as usize as u64;
    // The register image `switch` pops, lowest address first (module documentation).
    #[cfg(target_arch = "x86_64")]
    let words: [u64; PREPARED_WORDS] = [
        0x1F80 | (0x037F << 32), // MXCSR, x87 control word
        0,                       // r15
        0,                       // r14
        arg,                     // r13: the trampoline passes it in rdi
        entry,                   // r12: where the trampoline jumps
        0,                       // rbx
        0,                       // rbp: entry's saved fp
        start,                   // switch's return address: the trampoline
        0,                       // entry's return address (entry starts with rsp = top - 8)
    ];
    #[cfg(target_arch = "aarch64")]
    let words: [u64; PREPARED_WORDS] = {
        let mut w = [0; PREPARED_WORDS];
        w[1] = start; // x30: switch returns to the trampoline (x29 = w[0] = 0)
        w[2] = entry; // x19: where the trampoline branches, with x30 = 0
        w[3] = arg; // x20: the trampoline passes it in x0
        w
    };
    let sp = top - 8 * PREPARED_WORDS as u64;
    // SAFETY: [sp, top) is writable memory of the new stack (the caller's contract).
    unsafe { std::ptr::copy_nonoverlapping(words.as_ptr(), sp as *mut u64, words.len()) };
    sp
}

#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    r#"
    .pushsection .text.cfree_toy_rt_stack,"ax",@progbits

    .p2align 4
    .globl cfree_toy_rt_call_on_stack
    .hidden cfree_toy_rt_call_on_stack
    .type cfree_toy_rt_call_on_stack,@function
    // rdi = top, rsi = f, rdx = arg
cfree_toy_rt_call_on_stack:
    .cfi_startproc
    push rbp                    // our frame record, on the old stack
    .cfi_def_cfa_offset 16
    .cfi_offset rbp, -16
    mov rbp, rsp                // f's first record will link here
    .cfi_def_cfa_register rbp
    mov rsp, rdi
    mov rdi, rdx
    call rsi                    // rsp = top is 16-byte aligned at the call
    mov rsp, rbp                // rbp is callee-saved: back to the old stack
    pop rbp
    .cfi_def_cfa rsp, 8
    ret
    .cfi_endproc
    .size cfree_toy_rt_call_on_stack, . - cfree_toy_rt_call_on_stack

    .p2align 4
    .globl cfree_toy_rt_switch
    .hidden cfree_toy_rt_switch
    .type cfree_toy_rt_switch,@function
    // rdi = save_sp, rsi = next_sp
cfree_toy_rt_switch:
    .cfi_startproc
    push rbp                    // frame record of the suspended context
    .cfi_def_cfa_offset 16
    .cfi_offset rbp, -16
    mov rbp, rsp
    .cfi_def_cfa_register rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    sub rsp, 8
    stmxcsr dword ptr [rsp]
    fnstcw word ptr [rsp + 4]
    mov [rdi], rsp
    mov rsp, rsi
    ldmxcsr dword ptr [rsp]
    fldcw word ptr [rsp + 4]
    add rsp, 8
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    .cfi_def_cfa rsp, 8
    ret
    .cfi_endproc
    .size cfree_toy_rt_switch, . - cfree_toy_rt_switch

    .p2align 4
    .globl cfree_toy_rt_green_start
    .hidden cfree_toy_rt_green_start
    .type cfree_toy_rt_green_start,@function
    // Reached by switch's ret into a prepared context: r12 = entry, r13 = arg,
    // rbp = 0, [rsp] = 0 (entry's return address).
cfree_toy_rt_green_start:
    .cfi_startproc
    .cfi_undefined rip
    mov rdi, r13
    jmp r12
    .cfi_endproc
    .size cfree_toy_rt_green_start, . - cfree_toy_rt_green_start

    .popsection
"#
);

#[cfg(target_arch = "aarch64")]
std::arch::global_asm!(
    r#"
    .pushsection .text.cfree_toy_rt_stack,"ax",%progbits

    .p2align 2
    .globl cfree_toy_rt_call_on_stack
    .hidden cfree_toy_rt_call_on_stack
    .type cfree_toy_rt_call_on_stack,%function
    // x0 = top, x1 = f, x2 = arg
cfree_toy_rt_call_on_stack:
    .cfi_startproc
    stp x29, x30, [sp, #-16]!   // our frame record, on the old stack
    .cfi_def_cfa_offset 16
    .cfi_offset w30, -8
    .cfi_offset w29, -16
    mov x29, sp                 // f's first record will link here
    .cfi_def_cfa w29, 16
    mov sp, x0
    mov x0, x2
    blr x1
    mov sp, x29                 // x29 is callee-saved: back to the old stack
    .cfi_def_cfa wsp, 16
    ldp x29, x30, [sp], #16
    .cfi_def_cfa_offset 0
    .cfi_restore w30
    .cfi_restore w29
    ret
    .cfi_endproc
    .size cfree_toy_rt_call_on_stack, . - cfree_toy_rt_call_on_stack

    .p2align 2
    .globl cfree_toy_rt_switch
    .hidden cfree_toy_rt_switch
    .type cfree_toy_rt_switch,%function
    // x0 = save_sp, x1 = next_sp
cfree_toy_rt_switch:
    .cfi_startproc
    stp x29, x30, [sp, #-160]!  // frame record of the suspended context
    .cfi_def_cfa_offset 160
    .cfi_offset w30, -152
    .cfi_offset w29, -160
    mov x29, sp
    stp x19, x20, [sp, #16]
    stp x21, x22, [sp, #32]
    stp x23, x24, [sp, #48]
    stp x25, x26, [sp, #64]
    stp x27, x28, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mov x9, sp
    str x9, [x0]
    mov sp, x1
    ldp x19, x20, [sp, #16]
    ldp x21, x22, [sp, #32]
    ldp x23, x24, [sp, #48]
    ldp x25, x26, [sp, #64]
    ldp x27, x28, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    ldp x29, x30, [sp], #160
    .cfi_def_cfa_offset 0
    .cfi_restore w30
    .cfi_restore w29
    ret
    .cfi_endproc
    .size cfree_toy_rt_switch, . - cfree_toy_rt_switch

    .p2align 2
    .globl cfree_toy_rt_green_start
    .hidden cfree_toy_rt_green_start
    .type cfree_toy_rt_green_start,%function
    // Reached by switch's ret into a prepared context: x19 = entry, x20 = arg,
    // x29 = 0, sp = top.
cfree_toy_rt_green_start:
    .cfi_startproc
    .cfi_undefined w30
    mov x0, x20
    mov x30, xzr                // entry's return address: 0
    br x19
    .cfi_endproc
    .size cfree_toy_rt_green_start, . - cfree_toy_rt_green_start

    .popsection
"#
);

#[cfg(test)]
mod tests {
    use super::*;
    use cfree_statepoint::current_frame_pointer;
    use std::hint::black_box;

    /// Offset of a suspended context's frame record from its saved sp (module documentation).
    #[cfg(target_arch = "x86_64")]
    const SUSPENDED_RECORD: u64 = 48;
    #[cfg(target_arch = "aarch64")]
    const SUSPENDED_RECORD: u64 = 0;

    fn in_segment(seg: &Segment, addr: u64) -> bool {
        (seg.base..seg.top()).contains(&addr)
    }

    /// Reads a word of a live stack.
    fn word(addr: u64) -> u64 {
        // SAFETY: the tests only read frame records of frames that are alive (or suspended) at the time.
        unsafe { *(addr as *const u64) }
    }

    struct Probe {
        input: u64,
        local: u64,
    }

    unsafe extern "C" fn probe(arg: u64) -> u64 {
        let p = arg as *mut Probe;
        let local = black_box(7u64);
        // SAFETY: `arg` is the caller's live `Probe`.
        unsafe {
            (*p).local = &local as *const u64 as u64;
            (*p).input * 3 + black_box(local)
        }
    }

    #[test]
    fn call_on_stack_runs_the_callee_on_the_segment() {
        let pool = SegmentPool::new();
        let seg = pool.alloc(64 << 10).unwrap();
        let mut p = Probe { input: 11, local: 0 };
        // SAFETY: the segment is ours and unused; `probe` gets a live `Probe`.
        let r = unsafe { call_on_stack(seg.top(), probe, &raw mut p as u64) };
        assert_eq!(r, 40);
        assert!(in_segment(&seg, p.local), "local at {:#x}, segment {:#x}..{:#x}", p.local, seg.base, seg.top());
        pool.free(seg);
    }

    struct Nest {
        tops: [u64; 3],
        locals: [u64; 3],
        depth: usize,
    }

    unsafe extern "C" fn nested(arg: u64) -> u64 {
        let n = arg as *mut Nest;
        let local = black_box(100u64);
        // SAFETY: `arg` is the test's live `Nest`, and each level's top is a fresh segment.
        unsafe {
            let d = (*n).depth;
            (*n).locals[d] = &local as *const u64 as u64;
            let inner = if d + 1 < 3 {
                (*n).depth = d + 1;
                call_on_stack((*n).tops[d + 1], nested, arg)
            } else {
                0
            };
            inner * 10 + d as u64 + black_box(local) - 100
        }
    }

    #[test]
    fn call_on_stack_nests_across_segments() {
        let pool = SegmentPool::new();
        let segs: Vec<Segment> = (0..3).map(|i| pool.alloc(16 << (10 + i)).unwrap()).collect();
        let mut n = Nest { tops: [segs[0].top(), segs[1].top(), segs[2].top()], locals: [0; 3], depth: 0 };
        // SAFETY: three unused segments of ours; `nested` gets a live `Nest`.
        let r = unsafe { call_on_stack(n.tops[0], nested, &raw mut n as u64) };
        assert_eq!(r, 210);
        for (seg, &local) in segs.iter().zip(&n.locals) {
            assert!(in_segment(seg, local), "local at {local:#x}, segment {:#x}..{:#x}", seg.base, seg.top());
        }
        for seg in segs {
            pool.free(seg);
        }
    }

    /// Uses many registers and some stack, so a helper that failed to keep the caller's state would show.
    unsafe extern "C" fn churn(arg: u64) -> u64 {
        let mut v = [0u64; 16];
        let mut f = [0f64; 8];
        for i in 0..200u64 {
            for (j, x) in v.iter_mut().enumerate() {
                *x = black_box(x.wrapping_mul(31).wrapping_add(arg ^ i ^ j as u64));
            }
            for (j, x) in f.iter_mut().enumerate() {
                *x = black_box(*x * 0.5 + (i + j as u64) as f64);
            }
        }
        v.iter().fold(0, |a, &x| a ^ x) ^ f.iter().map(|x| x.to_bits()).fold(0, |a, x| a ^ x)
    }

    #[test]
    fn call_on_stack_keeps_the_callers_registers() {
        let pool = SegmentPool::new();
        let seg = pool.alloc(16 << 10).unwrap();
        let (a, b, c, d, e, f, g, h) = black_box((1u64, 2u64, 3u64, 4u64, 5u64, 6u64, 7u64, 8u64));
        let (i, j, k, l) = black_box((9u64, 10u64, 11u64, 12u64));
        let (x, y, z, w) = black_box((0.25f64, -1.5f64, 3.125f64, 1e10f64));
        // SAFETY: an unused segment of ours.
        let r = unsafe { call_on_stack(seg.top(), churn, 42) };
        // SAFETY: the same call on the current stack, as the oracle.
        assert_eq!(r, unsafe { churn(42) });
        let ints = black_box([a, b, c, d, e, f, g, h, i, j, k, l]);
        assert_eq!(ints, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        assert_eq!(black_box([x, y, z, w]), [0.25, -1.5, 3.125, 1e10]);
        pool.free(seg);
    }

    struct Walk {
        /// The frame pointer of the test function: where the walk must arrive.
        caller: u64,
        /// The segment the callee runs on.
        segment: std::ops::Range<u64>,
        /// The frame pointers the callee walked through, itself first.
        chain: Vec<u64>,
        /// The callee's return address.
        return_address: u64,
    }

    unsafe extern "C" fn walk_from_segment(arg: u64) -> u64 {
        let w = arg as *mut Walk;
        let mut fp = current_frame_pointer();
        // SAFETY: `arg` is the test's live `Walk`. The walk follows live frame records and stops
        // at the test function's frame, or at a frame pointer that cannot be one of them.
        unsafe {
            (*w).return_address = word(fp + 8);
            for _ in 0..6 {
                (*w).chain.push(fp);
                let lost = fp == 0 || fp % 8 != 0 || (fp > (*w).caller && !(*w).segment.contains(&fp));
                if fp == (*w).caller || lost {
                    break;
                }
                fp = word(fp);
            }
        }
        black_box(0)
    }

    #[test]
    fn frame_pointer_walk_crosses_back_to_the_old_stack() {
        let pool = SegmentPool::new();
        let seg = pool.alloc(16 << 10).unwrap();
        let mut w = Walk {
            caller: current_frame_pointer(),
            segment: seg.base..seg.top(),
            chain: Vec::new(),
            return_address: 0,
        };
        // SAFETY: an unused segment of ours; the callee gets a live `Walk`.
        unsafe { call_on_stack(seg.top(), walk_from_segment, &raw mut w as u64) };
        let chain = &w.chain;
        assert!(in_segment(&seg, chain[0]));
        // The callee's return address is inside the helper ...
        let helper = cfree_toy_rt_call_on_stack as *const () as usize as u64;
        assert!((helper..helper + 64).contains(&w.return_address), "{:#x} vs helper {helper:#x}", w.return_address);
        // ... its saved fp is the helper's record, on this thread's stack just below our frame ...
        let record = chain[1];
        assert!(!in_segment(&seg, record) && record < w.caller && w.caller - record < 4096, "{chain:x?}");
        // ... whose chain reaches this function's frame (through `call_on_stack` if not inlined).
        assert_eq!(*chain.last().unwrap(), w.caller, "{chain:x?}");
        assert!(chain.len() <= 4, "{chain:x?}");
        pool.free(seg);
    }

    const ROUNDS: u64 = 1000;

    #[derive(Default)]
    struct PingPong {
        main_sp: u64,
        green_sp: u64,
        turn: u64,
        /// The green entry's frame record, as found by the entry.
        entry_record: [u64; 2],
        /// Addresses of a green local, and of frame records on the green stack seen from the main side.
        green_local: u64,
        suspended_chain: Vec<u64>,
        /// Rounds in which a side found the other's turn count wrong.
        bad_turns: u64,
        green_ints: u64,
        green_float: f64,
    }

    fn step(a: u64, b: u64, i: u64) -> (u64, u64) {
        (a.wrapping_mul(6364136223846793005).wrapping_add(i), b.rotate_left(7) ^ a)
    }

    unsafe extern "C" fn green(arg: u64) -> ! {
        let pp = arg as *mut PingPong;
        let fp = current_frame_pointer();
        let (mut a, mut b, mut c) = black_box((3u64, 5u64, 0u64));
        let (mut x, mut y) = black_box((1.0f64, 0.1f64));
        // SAFETY: `arg` is the main side's live `PingPong`; the main side only touches it while
        // this context is suspended. fp is this frame's record.
        unsafe {
            (*pp).entry_record = [word(fp), word(fp + 8)];
            (*pp).green_local = &a as *const u64 as u64;
            for i in 0..ROUNDS {
                if (*pp).turn != 2 * i + 1 {
                    (*pp).bad_turns += 1;
                }
                (*pp).turn += 1;
                (a, b) = step(a, b, i);
                c += black_box(1);
                x = x * 1.0001 + y;
                y = -y * 0.999;
                switch(&raw mut (*pp).green_sp, (*pp).main_sp);
            }
            (*pp).green_ints = a ^ b ^ c;
            (*pp).green_float = x + y;
            switch(&raw mut (*pp).green_sp, (*pp).main_sp);
        }
        // Never resumed after the last switch.
        std::process::abort()
    }

    #[test]
    fn green_contexts_ping_pong_and_keep_their_state() {
        let pool = SegmentPool::new();
        let seg = pool.alloc(64 << 10).unwrap();
        let mut state = PingPong::default();
        let pp = &raw mut state;
        let (mut a, mut b, mut c) = black_box((17u64, 19u64, 0u64));
        let (mut x, mut y) = black_box((2.0f64, 0.3f64));
        // SAFETY: an unused segment of ours; `green` gets `state`, which outlives it and which this
        // side only touches while `green` is suspended. Each switch resumes the other side's last save.
        unsafe {
            (*pp).green_sp = prepare(seg.top(), green, pp as u64);
            for i in 0..ROUNDS {
                if (*pp).turn != 2 * i {
                    (*pp).bad_turns += 1;
                }
                (*pp).turn += 1;
                (a, b) = step(a, b, i + 1);
                c += black_box(2);
                x = x * 0.9999 + y;
                y = -y * 1.001;
                switch(&raw mut (*pp).main_sp, (*pp).green_sp);
                if i == 0 {
                    // Walk the suspended green context from its saved sp.
                    let mut fp = (*pp).green_sp + SUSPENDED_RECORD;
                    while fp != 0 && (*pp).suspended_chain.len() < 8 {
                        (*pp).suspended_chain.push(fp);
                        fp = word(fp);
                    }
                }
            }
            switch(&raw mut (*pp).main_sp, (*pp).green_sp);
        }
        assert_eq!(state.bad_turns, 0);
        assert_eq!(state.turn, 2 * ROUNDS);
        assert_eq!(state.entry_record, [0, 0], "the entry frame must end walks");
        assert!(in_segment(&seg, state.green_local));
        // The suspended chain runs on the green stack up to the entry frame, whose saved fp is 0.
        assert!(state.suspended_chain.iter().all(|&fp| in_segment(&seg, fp)), "{:x?}", state.suspended_chain);
        assert_eq!(word(*state.suspended_chain.last().unwrap()), 0);

        let (mut ea, mut eb, mut ga, mut gb) = (17u64, 19u64, 3u64, 5u64);
        let (mut ex, mut ey, mut gx, mut gy) = (2.0f64, 0.3f64, 1.0f64, 0.1f64);
        for i in 0..ROUNDS {
            (ea, eb) = step(ea, eb, i + 1);
            (ga, gb) = step(ga, gb, i);
            ex = ex * 0.9999 + ey;
            ey = -ey * 1.001;
            gx = gx * 1.0001 + gy;
            gy = -gy * 0.999;
        }
        assert_eq!((a, b, c, x.to_bits(), y.to_bits()), (ea, eb, 2 * ROUNDS, ex.to_bits(), ey.to_bits()));
        assert_eq!(state.green_ints, ga ^ gb ^ ROUNDS);
        assert_eq!(state.green_float.to_bits(), (gx + gy).to_bits());
        pool.free(seg);
    }

    /// Calls `target(a0, a1, a2)` from inline assembly with every callee-saved register that asm
    /// may name set to `salt + k` (k = 0, 1, ...: x86-64 rbx, r12-r15; AArch64 x19-x28, d8-d15)
    /// and returns a bit per register that did not come back unchanged. rbp/x29 are the frame
    /// pointer: a helper that lost them would not get back here at all.
    ///
    /// # Safety
    /// `target` must be a function taking three integer arguments that is safe to call with them.
    unsafe fn with_sentinels(target: u64, a0: u64, a1: u64, a2: u64, salt: u64) -> u64 {
        let s = |k: u64| salt.wrapping_add(k);
        #[cfg(target_arch = "x86_64")]
        {
            let mut regs = [0u64, s(1), s(2), s(3), s(4)];
            // SAFETY: the caller's contract covers the call; rbx (reserved by the compiler) is
            // saved on the stack around it, twice to keep the call 16-byte aligned.
            unsafe {
                std::arch::asm!(
                    "push rbx",
                    "push rbx",
                    "mov rbx, {sb}",
                    "call {f}",
                    "mov rax, rbx",
                    "pop rbx",
                    "pop rbx",
                    f = in(reg) target,
                    sb = in(reg) s(0),
                    lateout("rax") regs[0],
                    in("rdi") a0,
                    in("rsi") a1,
                    in("rdx") a2,
                    inout("r12") regs[1],
                    inout("r13") regs[2],
                    inout("r14") regs[3],
                    inout("r15") regs[4],
                    clobber_abi("C"),
                )
            };
            (0..5).filter(|&k| regs[k as usize] != s(k)).fold(0, |m, k| m | 1 << k)
        }
        #[cfg(target_arch = "aarch64")]
        {
            let mut x = [0, s(1), s(2), s(3), s(4), s(5), s(6), s(7), s(8), s(9)];
            let mut d: [f64; 8] = std::array::from_fn(|i| f64::from_bits(s(10 + i as u64)));
            // SAFETY: the caller's contract covers the call; x19 (reserved by the compiler) is
            // saved on the stack around it.
            unsafe {
                std::arch::asm!(
                    "str x19, [sp, #-16]!",
                    "mov x19, {sb}",
                    "blr {f}",
                    "mov x9, x19",
                    "ldr x19, [sp], #16",
                    f = in(reg) target,
                    sb = in(reg) s(0),
                    lateout("x9") x[0],
                    in("x0") a0,
                    in("x1") a1,
                    in("x2") a2,
                    inout("x20") x[1],
                    inout("x21") x[2],
                    inout("x22") x[3],
                    inout("x23") x[4],
                    inout("x24") x[5],
                    inout("x25") x[6],
                    inout("x26") x[7],
                    inout("x27") x[8],
                    inout("x28") x[9],
                    inout("d8") d[0],
                    inout("d9") d[1],
                    inout("d10") d[2],
                    inout("d11") d[3],
                    inout("d12") d[4],
                    inout("d13") d[5],
                    inout("d14") d[6],
                    inout("d15") d[7],
                    clobber_abi("C"),
                )
            };
            let found = x.into_iter().chain(d.map(f64::to_bits));
            found.zip(0..).filter(|&(v, k)| v != s(k)).fold(0, |m, (_, k)| m | 1 << k)
        }
    }

    #[test]
    fn call_on_stack_preserves_callee_saved_registers() {
        let pool = SegmentPool::new();
        let seg = pool.alloc(16 << 10).unwrap();
        let helper = cfree_toy_rt_call_on_stack as *const () as usize as u64;
        let f = churn as unsafe extern "C" fn(u64) -> u64 as usize as u64;
        // SAFETY: the helper with an unused segment of ours and a function that takes any u64.
        assert_eq!(unsafe { with_sentinels(helper, seg.top(), f, 42, 0x5A5A_0000) }, 0);
        pool.free(seg);
    }

    struct Sentinels {
        main_sp: u64,
        green_sp: u64,
        /// Registers the green side found changed across its switches.
        green_mask: u64,
    }

    const SENTINEL_ROUNDS: u64 = 100;

    unsafe extern "C" fn sentinel_green(arg: u64) -> ! {
        let p = arg as *mut Sentinels;
        let switch = cfree_toy_rt_switch as *const () as usize as u64;
        // SAFETY: `arg` is the test's live `Sentinels`, touched by the test only while this is
        // suspended; each switch resumes the main side's last save.
        unsafe {
            for i in 0..=SENTINEL_ROUNDS {
                let m = with_sentinels(switch, &raw mut (*p).green_sp as u64, (*p).main_sp, 0, 0x2000 + i * 64);
                (*p).green_mask |= m;
            }
        }
        std::process::abort()
    }

    #[test]
    fn switch_preserves_callee_saved_registers_per_context() {
        let pool = SegmentPool::new();
        let seg = pool.alloc(16 << 10).unwrap();
        let mut state = Sentinels { main_sp: 0, green_sp: 0, green_mask: 0 };
        let p = &raw mut state;
        let switch = cfree_toy_rt_switch as *const () as usize as u64;
        let mut main_mask = 0;
        // SAFETY: an unused segment of ours; the green side gets `state`, which outlives it and
        // which this side touches only while the green side is suspended.
        unsafe {
            (*p).green_sp = prepare(seg.top(), sentinel_green, p as u64);
            for i in 0..=SENTINEL_ROUNDS {
                main_mask |= with_sentinels(switch, &raw mut (*p).main_sp as u64, (*p).green_sp, 0, 0x1000 + i * 64);
            }
        }
        assert_eq!((main_mask, state.green_mask), (0, 0), "registers changed across switch (a bit per register)");
        pool.free(seg);
    }

    #[cfg(target_arch = "x86_64")]
    mod float_control {
        use super::*;

        fn mxcsr() -> u32 {
            let mut v = 0u32;
            // SAFETY: stores MXCSR into a local.
            unsafe { std::arch::asm!("stmxcsr [{}]", in(reg) &raw mut v, options(nostack)) };
            v
        }

        fn set_mxcsr(v: u32) {
            // SAFETY: loads a valid MXCSR (all exceptions masked); only rounding/flush modes change.
            unsafe { std::arch::asm!("ldmxcsr [{}]", in(reg) &raw const v, options(nostack, readonly)) };
        }

        #[derive(Default)]
        struct Sps {
            main: u64,
            green: u64,
            seen: u32,
        }

        unsafe extern "C" fn green(arg: u64) -> ! {
            let s = arg as *mut Sps;
            // SAFETY: `arg` is the test's live `Sps`, touched by the test only while this is suspended.
            unsafe {
                (*s).seen = mxcsr();
                set_mxcsr(0x3F80); // round down
                switch(&raw mut (*s).green, (*s).main);
            }
            std::process::abort()
        }

        #[test]
        fn switch_keeps_mxcsr_per_context() {
            let pool = SegmentPool::new();
            let seg = pool.alloc(16 << 10).unwrap();
            let mut s = Sps::default();
            let sp = &raw mut s;
            let before = mxcsr();
            set_mxcsr(0x7F80); // round toward zero
                               // SAFETY: an unused segment of ours; `green` gets `s`, touched here only while it is suspended.
            unsafe {
                (*sp).green = prepare(seg.top(), green, sp as u64);
                switch(&raw mut (*sp).main, (*sp).green);
            }
            let after = mxcsr();
            set_mxcsr(before);
            assert_eq!(s.seen, 0x1F80, "a prepared context starts with the default MXCSR");
            assert_eq!(after, 0x7F80, "switching back restores our MXCSR");
            pool.free(seg);
        }
    }

    #[test]
    fn pool_serves_200_000_live_segments_and_reuses_them() {
        const N: usize = 200_000;
        let pool = SegmentPool::new();
        let mut segs: Vec<Segment> = (0..N).map(|_| pool.alloc(16 << 10).unwrap()).collect();
        segs.sort_by_key(|s| s.base);
        for s in &segs {
            assert_eq!((s.size, s.base % 4096), (16 << 10, 0));
        }
        for pair in segs.windows(2) {
            assert!(pair[0].top() <= pair[1].base, "overlap at {:#x}", pair[1].base);
        }
        for s in [&segs[0], &segs[N / 2], &segs[N - 1]] {
            // SAFETY: a live segment of ours.
            unsafe { std::ptr::write_volatile((s.top() - 8) as *mut u64, s.base) };
        }
        let stats = pool.stats();
        let bytes = (N as u64) << 14;
        assert_eq!((stats.live_segments, stats.live_bytes, stats.allocations), (N as u64, bytes, N as u64));
        assert_eq!(stats.mapped_bytes, bytes.div_ceil(CHUNK_SIZE as u64) * CHUNK_SIZE as u64);

        let bases: Vec<u64> = segs.iter().map(|s| s.base).collect();
        for s in segs {
            pool.free(s);
        }
        let freed = pool.stats();
        assert_eq!((freed.live_segments, freed.live_bytes, freed.mapped_bytes), (0, 0, stats.mapped_bytes));

        let mut again: Vec<u64> = (0..N).map(|_| pool.alloc(1).unwrap().base).collect();
        again.sort_unstable();
        assert_eq!(again, bases, "the second round reuses the same segments");
        let stats = pool.stats();
        assert_eq!(
            (stats.allocations, stats.live_segments, stats.mapped_bytes),
            (2 * N as u64, N as u64, freed.mapped_bytes)
        );
    }

    #[test]
    fn pool_size_classes_reuse_and_release() {
        let pool = SegmentPool::new();
        assert_eq!(pool.alloc(0).unwrap().size, 16 << 10);
        assert_eq!(pool.alloc((16 << 10) + 1).unwrap().size, 32 << 10);
        // The 64 MiB class does not fit in the first chunk's tail: a second chunk, the tail becomes free segments.
        let big = pool.alloc(64 << 20).unwrap();
        assert_eq!(big.size, 64 << 20);
        assert_eq!(pool.stats().mapped_bytes, 128 << 20);
        let half = pool.alloc(32 << 20).unwrap();
        assert_eq!(pool.stats().mapped_bytes, 128 << 20, "the first chunk's tail serves 32 MiB");

        // LIFO reuse, and segments of 1 MiB or more come back with their pages released (zero).
        let a = pool.alloc(1 << 20).unwrap();
        // SAFETY: a live segment of ours.
        unsafe { std::ptr::write_volatile(a.base as *mut u64, 0xDEAD) };
        let a_base = a.base;
        pool.free(a);
        let b = pool.alloc(1 << 20).unwrap();
        assert_eq!(b.base, a_base);
        // SAFETY: a live segment of ours.
        assert_eq!(unsafe { std::ptr::read_volatile(b.base as *const u64) }, 0);

        // Above the largest class: page-rounded, mapped alone, reused for a request that fits.
        let large = pool.alloc((64 << 20) + 1).unwrap();
        assert_eq!(large.size, (64 << 20) + 4096);
        let large_base = large.base;
        pool.free(large);
        let mapped = pool.stats().mapped_bytes;
        let again = pool.alloc((64 << 20) + 100).unwrap();
        assert_eq!((again.base, again.size, pool.stats().mapped_bytes), (large_base, (64 << 20) + 4096, mapped));
        assert!(pool.alloc(usize::MAX).is_err());

        let stats = pool.stats();
        assert_eq!(stats.live_segments, 6);
        assert_eq!(stats.live_bytes, (16 << 10) + (32 << 10) + (64 << 20) + (32 << 20) + (1 << 20) + (64 << 20) + 4096);
        assert_eq!(stats.allocations, 8);
        for s in [big, half, b, again] {
            pool.free(s);
        }
    }

    #[test]
    fn pool_is_shared_by_threads() {
        let pool = SegmentPool::new();
        std::thread::scope(|scope| {
            for t in 0..2u64 {
                let pool = &pool;
                scope.spawn(move || {
                    for i in 0..5_000u64 {
                        let s = pool.alloc(16 << ((i + t) % 3)).unwrap();
                        // SAFETY: a live segment of ours.
                        unsafe { std::ptr::write_volatile(s.base as *mut u64, i) };
                        pool.free(s);
                    }
                });
            }
        });
        let stats = pool.stats();
        assert_eq!((stats.live_segments, stats.live_bytes, stats.allocations), (0, 0, 10_000));
    }
}
