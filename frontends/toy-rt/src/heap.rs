//! The generational heap: a bump-allocated nursery whose survivors are
//! copied (promoted) into the non-moving old space (`old_space.rs`) at each
//! minor collection, and an occasional major collection that marks the old
//! space and sweeps it.
//!
//! - **Nursery**: each mutator thread bump-allocates records inline from
//!   its own chunk of it (a thread-local allocation buffer, [`TLAB_WORDS`],
//!   in the thread's [`Context`]); the slow path carves the next chunk. A minor collection copies every nursery object
//!   reachable from the roots into the old space, updating the references to
//!   it: stack slots through the stack maps (`relocate`), the program's
//!   globals, the reference fields of the old objects on dirty cards (the
//!   remembered set), and those of the promoted objects themselves. The
//!   nursery is then empty. It is a quarter of the old space in use, between
//!   [`MIN_NURSERY_WORDS`] and [`MAX_NURSERY_WORDS`], so small programs stay small.
//! - **Write barrier**: storing a nursery reference into an old object marks
//!   the card of the stored-to word; stores into nursery objects and into
//!   globals (roots at every collection) need nothing. A record's initialising
//!   stores have no barrier: records are allocated in the nursery (or, when
//!   too large for a cell, in the old space with all their cards marked).
//! - **Major collection**: right after a minor one (the nursery is empty),
//!   when the old space has allocated [`OLD_GROWTH`] times what survived the
//!   last major collection since then (Go's `GOGC=100` would be 1). Marks from the stack
//!   maps' slots and the globals (nothing moves, so the slots are rewritten
//!   with their own values) and sweeps. Finding a nursery reference while
//!   marking means a store bypassed the barrier or the remembered set was
//!   not scanned: that is an internal error, not silently ignored.
//! - Objects of more than [`SMALL_MAX_WORDS`] words (large arrays) are
//!   allocated in the old space directly and never move.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use cfree_statepoint::{relocate, Frame, Safepoint};

use crate::mutator::Context;
use crate::old_space::{OldSpace, SMALL_MAX_WORDS};
use crate::{OutOfMemory, SafepointSource, Settings, Stats};
use crate::{ARRAY, ARRAY_OF_REFS, FORWARDED, POISON, RECORD_POINTERS};

/// The first nursery: 512 KiB.
pub(crate) const MIN_NURSERY_WORDS: usize = 1 << 16;
/// The largest nursery: 32 MiB.
pub(crate) const MAX_NURSERY_WORDS: usize = 1 << 22;
/// A major collection runs once the old space has allocated this many times
/// the words that survived the previous one.
pub(crate) const OLD_GROWTH: f64 = 0.75;
/// ... and at least this many words (8 MiB).
const MIN_OLD_ALLOCATION_WORDS: usize = 1 << 20;
/// The nursery chunk a mutator thread allocates inline from: 128 KiB.
pub(crate) const TLAB_WORDS: usize = 1 << 14;

/// Why an allocation could not be served without a collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Need {
    /// A collection (`major`: the old space's budget is spent), then a retry.
    Collection { major: bool },
    /// Memory the system refused.
    OutOfMemory,
}

/// The words of one object, and where its references are (header-relative).
pub(crate) struct Shape {
    pub(crate) words: usize,
    pub(crate) first: usize,
    pub(crate) count: usize,
}

impl Shape {
    /// The shape of the (not forwarded) object whose header is at `h`.
    ///
    /// # Safety
    /// `h` is the header address of an allocated object (an array's length word is written).
    #[inline]
    pub(crate) unsafe fn at(h: u64) -> Shape {
        // SAFETY: by the contract.
        let header = unsafe { *(h as *const u64) };
        if header & ARRAY != 0 {
            // SAFETY: by the contract, an array's length word follows its header.
            let length = unsafe { *((h + 8) as *const u64) } as usize;
            let count = if header & ARRAY_OF_REFS != 0 { length } else { 0 };
            Shape { words: 2 + length, first: 2, count }
        } else {
            let words = (header & 0xffff_ffff) as usize;
            let first = ((header >> 32) & 0xff) as usize;
            Shape { words, first, count: ((header >> 40) & RECORD_POINTERS) as usize }
        }
    }
}

/// Reference words outside the heap and the stack (a program's globals).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct GlobalRoots {
    pub(crate) address: u64,
    pub(crate) count: usize,
}

impl GlobalRoots {
    fn slots(self) -> impl Iterator<Item = *mut u64> {
        (0..self.count).map(move |k| (self.address + 8 * k as u64) as *mut u64)
    }
}

/// One thread's heap.
pub(crate) struct Heap {
    /// The nursery; `top` words of it are used.
    nursery: Vec<u64>,
    top: usize,
    old: Option<OldSpace>,
    /// Old-space words to allocate before the next major collection.
    budget: usize,
    pub(crate) settings: Settings,
    pub(crate) stats: Stats,
    pub(crate) source: Option<Arc<dyn SafepointSource>>,
    /// The program's globals holding references.
    pub(crate) global_roots: GlobalRoots,
    /// Scratch lists kept between collections.
    promoted: Vec<u64>,
    slots: Vec<u64>,
}

// SAFETY: the heap's raw pointers address memory it owns (the old space's
// reservation); the heap moves between threads only inside its run's mutex.
unsafe impl Send for Heap {}

/// Copies nursery objects into the old space during a minor collection.
struct Promoter<'a> {
    /// References into the nursery's used part are `lo..=lo + span`.
    lo: u64,
    span: u64,
    old: &'a mut OldSpace,
    promoted: &'a mut Vec<u64>,
    copied: usize,
    failed: bool,
}

impl Promoter<'_> {
    /// The new address of `r`, promoting its object on the first visit.
    #[inline]
    fn forward(&mut self, r: u64) -> u64 {
        if r.wrapping_sub(self.lo) > self.span {
            return r;
        }
        let h = r - 8;
        // SAFETY: `h` is the header of a nursery object (references point just past it).
        let header = unsafe { *(h as *const u64) };
        if header & FORWARDED != 0 {
            return header & !FORWARDED;
        }
        // SAFETY: as above; the object is allocated and not forwarded.
        let words = unsafe { Shape::at(h) }.words;
        let Ok(cell) = self.old.alloc(words) else {
            self.failed = true;
            return r;
        };
        // SAFETY: `cell` has room for `words` words and does not overlap the nursery; the
        // header is rewritten last (it was read above).
        unsafe {
            std::ptr::copy_nonoverlapping(h as *const u64, cell as *mut u64, words);
            *(h as *mut u64) = FORWARDED | (cell + 8);
        }
        self.promoted.push(cell);
        self.copied += words;
        cell + 8
    }

    /// Forwards every reference field of the promoted objects, transitively.
    fn drain(&mut self) {
        while let Some(h) = self.promoted.pop() {
            // SAFETY: a promoted object is a complete copy.
            let Shape { first, count, .. } = unsafe { Shape::at(h) };
            for k in first..first + count {
                let slot = (h + 8 * k as u64) as *mut u64;
                // SAFETY: a reference field of the promoted object.
                unsafe { *slot = self.forward(*slot) };
            }
        }
    }
}

impl Heap {
    /// A heap with no space (until [`Heap::reset`]).
    pub(crate) fn empty() -> Heap {
        Heap {
            nursery: Vec::new(),
            top: 0,
            old: None,
            budget: 0,
            settings: Settings::default(),
            stats: Stats::default(),
            source: None,
            global_roots: GlobalRoots::default(),
            promoted: Vec::new(),
            slots: Vec::new(),
        }
    }

    /// Prepares for a program run (dropping any previous heap).
    pub(crate) fn reset(&mut self, source: Arc<dyn SafepointSource>, settings: Settings) {
        self.old = None;
        self.nursery = new_space(MIN_NURSERY_WORDS).expect("the first nursery (512 KiB) is allocated");
        self.old = Some(OldSpace::new().expect("address space for the old generation is reserved"));
        self.top = 0;
        self.budget = MIN_OLD_ALLOCATION_WORDS;
        self.settings = settings;
        self.stats = Stats { poisoned: settings.poison, ..Stats::default() };
        self.source = Some(source);
        self.global_roots = GlobalRoots::default();
        self.note_size();
    }

    fn old(&mut self) -> &mut OldSpace {
        self.old.as_mut().expect("runtime installed")
    }

    fn nursery_base(&self) -> u64 {
        self.nursery.as_ptr() as u64
    }

    /// Whether `r` references the nursery (used or not).
    fn in_nursery(&self, r: u64) -> bool {
        r.wrapping_sub(self.nursery_base() + 8) < (self.nursery.len() * 8) as u64
    }

    /// Counts what managed code allocated inline from `ctx`'s chunk since it
    /// was carved (or last retired).
    pub(crate) fn retire(&mut self, ctx: &Context) {
        let (next, chunk) = (ctx.next.load(Relaxed), ctx.chunk.load(Relaxed));
        if chunk != 0 && next > chunk {
            self.stats.words_allocated += (next - chunk) / 8;
        }
        ctx.chunk.store(next, Relaxed);
    }

    /// Retires `ctx`'s chunk and leaves it empty: its next allocation takes the slow path.
    pub(crate) fn empty_buffer(&mut self, ctx: &Context) {
        self.retire(ctx);
        ctx.set_empty();
    }

    fn note_size(&mut self) {
        let bytes = (self.nursery.len() * 8 + self.old.as_ref().map_or(0, OldSpace::committed_bytes)) as u64;
        self.stats.heap_bytes = bytes;
        self.stats.peak_heap_bytes = self.stats.peak_heap_bytes.max(bytes);
    }

    /// A minor collection, then a major one if `major`, stress or the old
    /// space's budget asks for it. `frames` are the managed frames of every
    /// mutator thread, all stopped (`mutator.rs`), whose buffers are empty.
    pub(crate) fn collect(&mut self, major: bool, frames: &[(Frame, &Safepoint)]) -> Result<(), OutOfMemory> {
        let started = std::time::Instant::now();
        let result = self.collect_once(major, frames);
        self.stats.collect_nanos += started.elapsed().as_nanos() as u64;
        result
    }

    fn collect_once(&mut self, major: bool, frames: &[(Frame, &Safepoint)]) -> Result<(), OutOfMemory> {
        self.stats.roots += frames.iter().map(|(_, s)| (s.live.len() + s.roots.len()) as u64).sum::<u64>();
        self.stats.roots += self.global_roots.count as u64;
        self.stats.frames_walked += frames.len() as u64;
        self.minor(frames)?;
        let old = self.old.as_ref().expect("runtime installed");
        if major || self.settings.stress || old.allocated_words >= self.budget {
            self.major(frames);
        }
        self.size_nursery();
        self.note_size();
        Ok(())
    }

    /// Sizes the (empty) nursery to a quarter of the old space in use, as a
    /// power of two between [`MIN_NURSERY_WORDS`] and [`MAX_NURSERY_WORDS`]:
    /// grown at once, shrunk when it is four times too large (under stress,
    /// where every allocation collects, it stays at its first size).
    fn size_nursery(&mut self) {
        let old = self.old.as_ref().expect("runtime installed");
        let in_use = old.live_words + old.allocated_words;
        let target = (in_use / 4).clamp(MIN_NURSERY_WORDS, MAX_NURSERY_WORDS).next_power_of_two();
        let len = self.nursery.len();
        if !self.settings.stress && (target > len || target * 4 <= len) {
            if let Ok(space) = new_space(target) {
                self.nursery = space;
            }
        }
    }

    /// Promotes every live nursery object; the nursery is empty afterwards.
    fn minor(&mut self, frames: &[(Frame, &Safepoint)]) -> Result<(), OutOfMemory> {
        // References into the nursery's used part: `lo..=lo + span` (none if it is empty).
        let (lo, span) =
            if self.top == 0 { (u64::MAX, 0) } else { (self.nursery_base() + 8, (self.top * 8 - 8) as u64) };
        let mut slots = std::mem::take(&mut self.slots);
        let mut promoted = std::mem::take(&mut self.promoted);
        let old = self.old.as_mut().expect("runtime installed");
        self.stats.dirty_cards += old.take_dirty_slots(&mut slots) as u64;
        let mut p = Promoter { lo, span, old, promoted: &mut promoted, copied: 0, failed: false };
        // SAFETY: the frames and safepoints were computed for this stack just now.
        unsafe { relocate(frames, |base| p.forward(base)) };
        for slot in self.global_roots.slots() {
            // SAFETY: `toy_register_globals` named these reference words, in the program's
            // data, which lives as long as its code runs; no other thread uses them.
            unsafe { *slot = p.forward(*slot) };
        }
        for &slot in &slots {
            // SAFETY: a reference field of an old object on a dirty card.
            unsafe { *(slot as *mut u64) = p.forward(*(slot as *const u64)) };
        }
        p.drain();
        let (copied, failed) = (p.copied, p.failed);
        slots.clear();
        self.slots = slots;
        self.promoted = promoted;
        self.stats.collections += 1;
        self.stats.words_copied += copied as u64;
        if self.settings.poison {
            self.nursery[..self.top].fill(POISON);
        }
        self.top = 0;
        if failed {
            return Err(OutOfMemory);
        }
        Ok(())
    }

    /// Marks the old space from the roots and sweeps it (the nursery is empty).
    fn major(&mut self, frames: &[(Frame, &Safepoint)]) {
        let (n_lo, n_len) = (self.nursery_base() + 8, (self.nursery.len() * 8) as u64);
        let globals = self.global_roots;
        let old = self.old.as_mut().expect("runtime installed");
        let mut stack = std::mem::take(&mut self.promoted);
        let mut marked = 0u64;
        let mark = |r: u64, old: &mut OldSpace, stack: &mut Vec<u64>| {
            assert!(
                r.wrapping_sub(n_lo) >= n_len,
                "a reference into the nursery survived a minor collection (a store without a barrier, or a \
                 remembered set not scanned)"
            );
            if r != 0 && old.contains(r - 8) && old.mark(r - 8) {
                stack.push(r - 8);
            }
        };
        // SAFETY: the frames and safepoints were computed for this stack just now; nothing moves.
        unsafe {
            relocate(frames, |base| {
                mark(base, old, &mut stack);
                base
            })
        };
        for slot in globals.slots() {
            // SAFETY: as in `minor`.
            mark(unsafe { *slot }, old, &mut stack);
        }
        while let Some(h) = stack.pop() {
            // SAFETY: a marked object is allocated.
            let Shape { words, first, count } = unsafe { Shape::at(h) };
            marked += words as u64;
            for k in first..first + count {
                // SAFETY: a reference field of a live object.
                mark(unsafe { *((h + 8 * k as u64) as *const u64) }, old, &mut stack);
            }
        }
        self.promoted = stack;
        old.sweep(self.settings.poison);
        let live = old.live_words;
        self.budget = ((live as f64 * OLD_GROWTH) as usize).max(MIN_OLD_ALLOCATION_WORDS);
        // Pooled blocks the next cycle will allocate into stay; the rest goes back to the system.
        old.release_excess(self.budget * 8);
        self.stats.major_collections += 1;
        self.stats.words_marked += marked;
    }

    /// The slow path of allocation for the thread of `ctx` (its buffer is
    /// full, stress, or a large object): a small object starts a new chunk,
    /// whose rest becomes the thread's buffer. `Need::Collection` when the
    /// nursery (or the old space's budget) is spent, or under stress unless
    /// `collected` (a collection just ran for this allocation).
    pub(crate) fn alloc(&mut self, ctx: &Context, words: usize, header: u64, collected: bool) -> Result<u64, Need> {
        self.retire(ctx);
        if words > SMALL_MAX_WORDS {
            return self.alloc_old(words, header, collected);
        }
        if self.settings.stress && !collected {
            return Err(Need::Collection { major: false });
        }
        // Room left in the thread's chunk (objects the code does not allocate
        // inline, such as arrays, come here with the chunk far from full).
        let (next, limit) = (ctx.next.load(Relaxed), ctx.limit.load(Relaxed));
        if next > 8 && next - 8 + words as u64 * 8 <= limit {
            let h = next - 8;
            // SAFETY: `h..h + words` is inside the thread's chunk of the nursery, unused.
            unsafe {
                *(h as *mut u64) = header;
                std::ptr::write_bytes((h + 8) as *mut u64, 0, words - 1);
            }
            let next = next + words as u64 * 8;
            ctx.next.store(next, Relaxed);
            ctx.chunk.store(next, Relaxed);
            self.stats.words_allocated += words as u64;
            return Ok(h + 8);
        }
        let free = self.nursery.len() - self.top;
        let chunk = if self.settings.stress { words } else { TLAB_WORDS.max(words).min(free) };
        if chunk < words {
            return Err(Need::Collection { major: false });
        }
        let at = self.top;
        self.nursery[at] = header;
        // The nursery is reused (old objects or poison): fields start as zero (nil).
        self.nursery[at + 1..at + words].fill(0);
        self.top += chunk;
        self.stats.words_allocated += words as u64;
        let base = self.nursery_base();
        let next = base + (at + words) as u64 * 8 + 8;
        ctx.chunk.store(next, Relaxed);
        ctx.next.store(next, Relaxed);
        // Under stress every allocation takes the slow path (and collects).
        let limit = if self.settings.stress { 0 } else { base + (at + chunk) as u64 * 8 };
        ctx.limit.store(limit, Relaxed);
        Ok(base + at as u64 * 8 + 8)
    }

    /// A large object, allocated in the old space directly (after a full
    /// collection if the old space's budget is spent).
    fn alloc_old(&mut self, words: usize, header: u64, collected: bool) -> Result<u64, Need> {
        if !collected && (self.settings.stress || self.old().allocated_words + words > self.budget) {
            return Err(Need::Collection { major: true });
        }
        let h = self.old().alloc(words).map_err(|OutOfMemory| Need::OutOfMemory)?;
        // SAFETY: `h` has room for `words` words; a reused block holds stale words.
        unsafe {
            *(h as *mut u64) = header;
            std::ptr::write_bytes((h + 8) as *mut u64, 0, words - 1);
        }
        if header & ARRAY == 0 {
            // A record's initialising stores follow without a barrier.
            self.old().remember_object(h, words);
        }
        self.stats.words_allocated += words as u64;
        self.note_size();
        Ok(h + 8)
    }

    /// The write barrier: checks the store it follows; a nursery reference
    /// stored into an old object marks the slot's card.
    pub(crate) fn barrier(&mut self, slot: u64, value: u64) {
        // SAFETY: managed code calls the barrier right after storing `value` at `slot`,
        // a field of a live object.
        let stored = unsafe { *(slot as *const u64) };
        assert_eq!(stored, value, "write barrier called before its store");
        if self.in_nursery(value) {
            if let Some(old) = self.old.as_mut().filter(|o| o.contains(slot)) {
                old.remember(slot);
            }
        }
        self.stats.barriers += 1;
    }

    /// The statistics, with the heap's size now.
    pub(crate) fn finish(&mut self) -> Stats {
        self.note_size();
        self.stats
    }
}

/// A zeroed space of `words` words, or `OutOfMemory` if the system refuses
/// it. Large spaces ask for transparent huge pages: first-touch page faults
/// are otherwise most of a big heap's cost.
pub(crate) fn new_space(words: usize) -> Result<Vec<u64>, OutOfMemory> {
    let layout = std::alloc::Layout::array::<u64>(words).map_err(|_| OutOfMemory)?;
    if words == 0 {
        return Ok(Vec::new());
    }
    // SAFETY: `layout` has a non-zero size (words > 0).
    let data = unsafe { std::alloc::alloc_zeroed(layout) } as *mut u64;
    if data.is_null() {
        return Err(OutOfMemory);
    }
    // SAFETY: `data` was allocated by the global allocator with the layout of `words`
    // u64s (what a Vec of that capacity uses), and is zeroed, so all `words` are initialised.
    let space = unsafe { Vec::from_raw_parts(data, words, words) };
    const PAGE: usize = 4096;
    let start = (space.as_ptr() as usize).next_multiple_of(PAGE);
    let end = (space.as_ptr() as usize + words * 8) & !(PAGE - 1);
    if end > start + (2 << 20) {
        // SAFETY: [start, end) is page-aligned and inside `space`'s allocation; the advice
        // changes how the kernel backs the pages, never their contents (failure is harmless).
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
    }
    Ok(space)
}
