//! The old generation: a non-moving mark-sweep space.
//!
//! One contiguous range of address space is reserved per heap (`mmap` with
//! `MAP_NORESERVE`: only the pages touched cost memory), so "is this address
//! old?" is a range check, and the side tables are flat arrays indexed by the
//! address: a **mark bitmap** (one bit per word, set at an object's header)
//! and a **card table** (one byte per [`CARD_BYTES`] bytes, set by the write
//! barrier when a reference to a nursery object is stored into an old object).
//!
//! The range is cut into [`BLOCK_BYTES`] blocks. A block either holds cells
//! of one **size class** (objects of at most [`SMALL_MAX_WORDS`] words, each
//! in the smallest class that fits it), or is part of one **large object**
//! (a run of whole blocks). Free cells of a class form a free list threaded
//! through their header words (`FREE_CELL | next header address`); a class
//! also bump-allocates through a fresh block. The sweep rebuilds every free
//! list, gives wholly empty blocks back to the block pool, and
//! [`OldSpace::release_excess`] returns the pages of pool blocks beyond what
//! the next cycle will use to the system (`MADV_DONTNEED`).

use std::collections::BTreeSet;

use crate::heap::Shape;
use crate::{OutOfMemory, POISON};

/// Bytes of a block (256 KiB).
pub(crate) const BLOCK_BYTES: usize = 1 << 18;
const BLOCK_WORDS: usize = BLOCK_BYTES / 8;
/// Bytes covered by one card of the card table.
pub(crate) const CARD_BYTES: usize = 512;
/// The largest object (in words, header included) allocated in size-class
/// cells (half a block, 128 KiB); larger ones get blocks of their own, so a
/// large object wastes less than half of its blocks.
pub(crate) const SMALL_MAX_WORDS: usize = BLOCK_WORDS / 2;
/// The header of a free cell: this bit and the header address of the next
/// free cell of its class (0 at the end). Old objects are never forwarded, so
/// the bit cannot be mistaken for a forwarded object's header.
const FREE_CELL: u64 = 1 << 63;
/// Address space reserved for the old space, largest first (the first
/// reservation the system grants is used).
const RESERVATIONS: [usize; 6] = [1 << 36, 1 << 35, 1 << 34, 1 << 32, 1 << 30, 1 << 28];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// In the block pool; `committed` if its pages may be resident.
    Free { committed: bool },
    /// Cells of size class `class`.
    Small { class: u16 },
    /// The first block of a large object of `blocks` blocks.
    Large { blocks: u32 },
    /// A later block of the large object starting at block `head`.
    Tail { head: u32 },
}

#[derive(Clone, Copy, Debug)]
struct SizeClass {
    /// Cell size in words.
    words: usize,
    /// Header address of the first free cell, or 0.
    free: u64,
    /// Bump allocation through the current fresh block: next cell, end.
    bump: u64,
    end: u64,
}

/// The old generation of one heap (see the module documentation).
pub(crate) struct OldSpace {
    base: u64,
    bytes: usize,
    /// The whole mapping (space, marks, cards), for `munmap`.
    mapping: (*mut libc::c_void, usize),
    marks: *mut u64,
    cards: *mut u8,
    dirty: Vec<u32>,
    blocks: Vec<Kind>,
    pool: BTreeSet<u32>,
    classes: Vec<SizeClass>,
    class_of: Vec<u16>,
    /// Words allocated (cells and large objects) since the last sweep.
    pub(crate) allocated_words: usize,
    /// Words of the objects that survived the last sweep.
    pub(crate) live_words: usize,
    /// Blocks whose pages may be resident (in use, or pooled and committed).
    committed_blocks: usize,
}

impl Drop for OldSpace {
    fn drop(&mut self) {
        // SAFETY: `mapping` is the mapping made in `new`, unmapped only here.
        unsafe { libc::munmap(self.mapping.0, self.mapping.1) };
    }
}

/// The size classes: every word count up to 16, then steps of an eighth.
fn size_classes() -> Vec<usize> {
    let mut sizes: Vec<usize> = (1..=16).collect();
    let mut step = 2;
    while *sizes.last().unwrap() < SMALL_MAX_WORDS {
        for _ in 0..8 {
            let next = sizes.last().unwrap() + step;
            sizes.push(next.min(SMALL_MAX_WORDS));
        }
        step *= 2;
    }
    sizes.dedup();
    sizes
}

impl OldSpace {
    /// Reserves the space and its side tables, or `OutOfMemory`.
    pub(crate) fn new() -> Result<OldSpace, OutOfMemory> {
        for bytes in RESERVATIONS {
            let marks = bytes / 64;
            let cards = bytes / CARD_BYTES;
            let total = bytes + marks + cards;
            // SAFETY: an anonymous private mapping at an address of the kernel's choice.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    total,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                    -1,
                    0,
                )
            };
            if p == libc::MAP_FAILED {
                continue;
            }
            // SAFETY: advice on our own mapping; it never changes contents (failure is harmless).
            unsafe { libc::madvise(p, bytes, libc::MADV_HUGEPAGE) };
            let base = p as u64;
            let sizes = size_classes();
            let mut class_of = vec![0u16; SMALL_MAX_WORDS + 1];
            let mut c = 0;
            for (w, slot) in class_of.iter_mut().enumerate() {
                while sizes[c] < w {
                    c += 1;
                }
                *slot = c as u16;
            }
            return Ok(OldSpace {
                base,
                bytes,
                mapping: (p, total),
                marks: (base + bytes as u64) as *mut u64,
                cards: (base + (bytes + marks) as u64) as *mut u8,
                dirty: Vec::new(),
                blocks: Vec::new(),
                pool: BTreeSet::new(),
                classes: sizes.iter().map(|&words| SizeClass { words, free: 0, bump: 0, end: 0 }).collect(),
                class_of,
                allocated_words: 0,
                live_words: 0,
                committed_blocks: 0,
            });
        }
        Err(OutOfMemory)
    }

    /// Whether `addr` is inside the old space.
    #[inline]
    pub(crate) fn contains(&self, addr: u64) -> bool {
        addr.wrapping_sub(self.base) < self.bytes as u64
    }

    /// Bytes whose pages may be resident.
    pub(crate) fn committed_bytes(&self) -> usize {
        self.committed_blocks * BLOCK_BYTES
    }

    fn block_start(&self, b: usize) -> u64 {
        self.base + (b * BLOCK_BYTES) as u64
    }

    /// Allocates `words` words (header included); returns the header address.
    /// Small cells hold old contents: the caller writes every word it uses.
    #[inline]
    pub(crate) fn alloc(&mut self, words: usize) -> Result<u64, OutOfMemory> {
        if words > SMALL_MAX_WORDS {
            return self.alloc_large(words);
        }
        let index = self.class_of[words] as usize;
        let class = &mut self.classes[index];
        let cell = class.free;
        if cell != 0 {
            // SAFETY: free-list cells are cells of this space whose header is a link.
            class.free = unsafe { *(cell as *const u64) } & !FREE_CELL;
            self.allocated_words += class.words;
            return Ok(cell);
        }
        if class.bump < class.end {
            class.bump += (class.words * 8) as u64;
            self.allocated_words += class.words;
            return Ok(class.bump - (class.words * 8) as u64);
        }
        self.refill(index)?;
        self.alloc(words)
    }

    /// Gives class `index` a fresh block to bump-allocate through.
    fn refill(&mut self, index: usize) -> Result<(), OutOfMemory> {
        let b = self.take_blocks(1)?;
        self.blocks[b] = Kind::Small { class: index as u16 };
        let start = self.block_start(b);
        let class = &mut self.classes[index];
        class.bump = start;
        class.end = start + ((BLOCK_WORDS / class.words) * class.words * 8) as u64;
        Ok(())
    }

    fn alloc_large(&mut self, words: usize) -> Result<u64, OutOfMemory> {
        let n = (words * 8).div_ceil(BLOCK_BYTES);
        let b = self.take_blocks(n)?;
        self.blocks[b] = Kind::Large { blocks: n as u32 };
        for t in b + 1..b + n {
            self.blocks[t] = Kind::Tail { head: b as u32 };
        }
        self.allocated_words += words;
        Ok(self.block_start(b))
    }

    /// `n` consecutive blocks from the pool (lowest first) or past the used ones.
    fn take_blocks(&mut self, n: usize) -> Result<usize, OutOfMemory> {
        let mut found = None;
        let mut run: Option<(u32, usize)> = None;
        for &b in &self.pool {
            run = match run {
                Some((start, len)) if start as usize + len == b as usize => Some((start, len + 1)),
                _ => Some((b, 1)),
            };
            if run.is_some_and(|(_, len)| len == n) {
                found = run.map(|(start, _)| start as usize);
                break;
            }
        }
        let start = match found {
            Some(start) => {
                for b in start..start + n {
                    self.pool.remove(&(b as u32));
                    if self.blocks[b] == (Kind::Free { committed: false }) {
                        self.committed_blocks += 1;
                    }
                }
                start
            }
            None => {
                let start = self.blocks.len();
                if (start + n) * BLOCK_BYTES > self.bytes {
                    return Err(OutOfMemory);
                }
                self.blocks.resize(start + n, Kind::Free { committed: false });
                self.committed_blocks += n;
                start
            }
        };
        Ok(start)
    }

    /// Sets the mark bit of the object whose header is at `h`; true if it was clear.
    #[inline]
    pub(crate) fn mark(&mut self, h: u64) -> bool {
        let i = ((h - self.base) / 8) as usize;
        // SAFETY: `h` is in the space, so word `i / 64` is inside the mark bitmap.
        let word = unsafe { &mut *self.marks.add(i / 64) };
        let bit = 1u64 << (i % 64);
        let clear = *word & bit == 0;
        *word |= bit;
        clear
    }

    fn marked(&self, h: u64) -> bool {
        let i = ((h - self.base) / 8) as usize;
        // SAFETY: as in `mark`.
        unsafe { *self.marks.add(i / 64) & (1 << (i % 64)) != 0 }
    }

    /// Records that `slot` (in an old object) now holds a nursery reference.
    #[inline]
    pub(crate) fn remember(&mut self, slot: u64) {
        let c = ((slot - self.base) as usize) / CARD_BYTES;
        // SAFETY: `slot` is in the space, so card `c` is inside the card table.
        let card = unsafe { &mut *self.cards.add(c) };
        if *card == 0 {
            *card = 1;
            self.dirty.push(c as u32);
        }
    }

    /// Marks the cards of every word of the object at `h` of `words` words.
    pub(crate) fn remember_object(&mut self, h: u64, words: usize) {
        let mut slot = h;
        while slot < h + (words * 8) as u64 {
            self.remember(slot);
            slot = (slot / CARD_BYTES as u64 + 1) * CARD_BYTES as u64;
        }
    }

    /// Appends the addresses of the reference fields, in allocated objects,
    /// of every dirty card to `slots`, cleans the cards, and returns how many
    /// were dirty.
    pub(crate) fn take_dirty_slots(&mut self, slots: &mut Vec<u64>) -> usize {
        let dirty = std::mem::take(&mut self.dirty);
        for &c in &dirty {
            // SAFETY: dirty cards are inside the card table.
            unsafe { *self.cards.add(c as usize) = 0 };
            let lo = self.base + (c as usize * CARD_BYTES) as u64;
            let hi = lo + CARD_BYTES as u64;
            let b = c as usize * CARD_BYTES / BLOCK_BYTES;
            let mut scan = |h: u64| {
                // SAFETY: `h` is the header of a cell or large object in use (or a free cell).
                let header = unsafe { *(h as *const u64) };
                if header == 0 || header & FREE_CELL != 0 {
                    return;
                }
                // SAFETY: an allocated object's header and length word are initialised.
                let shape = unsafe { Shape::at(h) };
                let first = (h + (shape.first * 8) as u64).max(lo);
                let end = (h + ((shape.first + shape.count) * 8) as u64).min(hi);
                slots.extend((first..end).step_by(8));
            };
            match self.blocks.get(b) {
                Some(Kind::Small { class }) => {
                    let class = &self.classes[*class as usize];
                    let (cw, start) = (class.words, self.block_start(b));
                    // Cells past the bump pointer of the class's current block hold no object yet
                    // (a block reused from the pool holds stale words there).
                    let current = class.end > start && class.end <= start + BLOCK_BYTES as u64;
                    let end = if current { class.bump } else { u64::MAX };
                    let cells = BLOCK_WORDS / cw;
                    let first = ((lo - start) / 8) as usize / cw;
                    let last = (((hi - start) / 8) as usize).div_ceil(cw).min(cells);
                    for cell in first..last {
                        let h = start + (cell * cw * 8) as u64;
                        if h < end {
                            scan(h);
                        }
                    }
                }
                Some(Kind::Large { .. }) => scan(self.block_start(b)),
                Some(Kind::Tail { head }) => scan(self.block_start(*head as usize)),
                Some(Kind::Free { .. }) | None => {}
            }
        }
        self.dirty = dirty;
        let n = self.dirty.len();
        self.dirty.clear();
        n
    }

    /// Frees every unmarked object, clears the marks, rebuilds the free lists
    /// and pools empty blocks. Freed memory is filled with `POISON` if `poison`.
    pub(crate) fn sweep(&mut self, poison: bool) {
        for class in &mut self.classes {
            class.free = 0;
            class.bump = 0;
            class.end = 0;
        }
        let mut live = 0;
        for b in (0..self.blocks.len()).rev() {
            let start = self.block_start(b);
            match self.blocks[b] {
                Kind::Small { class } => {
                    // SAFETY: the block's bitmap words are inside the mark bitmap.
                    let bits = unsafe {
                        std::slice::from_raw_parts_mut(self.marks.add(b * BLOCK_WORDS / 64), BLOCK_WORDS / 64)
                    };
                    let count: usize = bits.iter().map(|w| w.count_ones() as usize).sum();
                    let cw = self.classes[class as usize].words;
                    if count == 0 {
                        self.free_blocks(b, 1, poison);
                        continue;
                    }
                    live += count * cw;
                    let mut head = self.classes[class as usize].free;
                    for cell in (0..BLOCK_WORDS / cw).rev() {
                        let i = cell * cw;
                        if bits[i / 64] & (1 << (i % 64)) != 0 {
                            continue;
                        }
                        let h = start + (i * 8) as u64;
                        // SAFETY: the cell is inside the block; nothing references it.
                        unsafe {
                            *(h as *mut u64) = FREE_CELL | head;
                            if poison {
                                std::slice::from_raw_parts_mut((h + 8) as *mut u64, cw - 1).fill(POISON);
                            }
                        }
                        head = h;
                    }
                    self.classes[class as usize].free = head;
                    bits.fill(0);
                }
                Kind::Large { blocks } => {
                    if self.marked(start) {
                        // SAFETY: a large object in use: its header and length are initialised.
                        live += unsafe { Shape::at(start) }.words;
                        self.mark_clear(start);
                    } else {
                        self.free_blocks(b, blocks as usize, poison);
                    }
                }
                Kind::Tail { .. } | Kind::Free { .. } => {}
            }
        }
        self.live_words = live;
        self.allocated_words = 0;
    }

    fn mark_clear(&mut self, h: u64) {
        let i = ((h - self.base) / 8) as usize;
        // SAFETY: as in `mark`.
        unsafe { *self.marks.add(i / 64) &= !(1 << (i % 64)) };
    }

    fn free_blocks(&mut self, b: usize, n: usize, poison: bool) {
        if poison {
            let start = self.block_start(b) as *mut u64;
            // SAFETY: the blocks are committed and hold only garbage now.
            unsafe { std::slice::from_raw_parts_mut(start, n * BLOCK_WORDS).fill(POISON) };
        }
        for k in b..b + n {
            self.blocks[k] = Kind::Free { committed: true };
            self.pool.insert(k as u32);
        }
    }

    /// Returns the pages of pooled blocks to the system, keeping the lowest
    /// `keep_bytes` worth of committed ones for the next cycle.
    pub(crate) fn release_excess(&mut self, keep_bytes: usize) {
        let mut keep = keep_bytes / BLOCK_BYTES;
        let pooled: Vec<u32> = self.pool.iter().copied().collect();
        for b in pooled {
            let b = b as usize;
            if self.blocks[b] != (Kind::Free { committed: true }) {
                continue;
            }
            if keep > 0 {
                keep -= 1;
                continue;
            }
            // SAFETY: the block is in the pool: no object lives there. Its pages read as zero afterwards.
            unsafe { libc::madvise(self.block_start(b) as *mut libc::c_void, BLOCK_BYTES, libc::MADV_DONTNEED) };
            self.blocks[b] = Kind::Free { committed: false };
            self.committed_blocks -= 1;
        }
        // Pooled blocks at the end of the used range are forgotten (fresh again).
        while let Some(Kind::Free { committed: false }) = self.blocks.last() {
            self.pool.remove(&((self.blocks.len() - 1) as u32));
            self.blocks.pop();
        }
    }
}
