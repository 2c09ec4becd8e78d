//! `cfree-toy-rt`: the runtime of the toy managed language. A semispace
//! copying (Cheney) collector that moves every live object at each
//! collection, poisons from-space, and finds roots only through stack maps
//! (the safepoints of the managed frames above each runtime entry record; no
//! conservative scanning). It depends on `cfree-statepoint` only: where the
//! safepoints come from (a JIT registry, or an executable's own stack maps)
//! is the embedder's business, through [`SafepointSource`].
//!
//! Object layout: a header word, then fields; a reference points just past
//! the header (at the first field, or at an array's length word), so the
//! header is at offset -8. Bit 63 of a header is `FORWARDED` (set only by the
//! collector: a forwarded object's header is `FORWARDED | new reference`),
//! bit 62 is `ARRAY`.
//!
//! - A record's header holds its size in words (header included) in bits
//!   0..32, the header-relative index of its first pointer field in bits
//!   32..40 and the number of pointer fields in bits 40..62 (pointer fields
//!   are contiguous; [`record_header`]).
//! - An array is `[header][length][elements]`; its header is `ARRAY`, plus
//!   `ARRAY_OF_REFS` (bit 0) when the elements are references. Its size comes
//!   from its length word, so the header limits no array length: the limit is
//!   [`MAX_ARRAY_LENGTH`], and memory (a request the system refuses is the
//!   runtime error "out of memory", not a crash).
//!
//! Runtime entry points (all `extern "C"`, entered from managed code through
//! the trampolines of `GcRole::Runtime`, hence the leading `entry` frame):
//! `toy_alloc(entry, descriptor, size)` for records, `toy_alloc_array(entry,
//! length, elements_are_pointers)` for arrays, `toy_poll` and `toy_panic`;
//! `toy_print_*` write output, `toy_write_barrier` marks cards and
//! `toy_register_globals(address, count)` names the program's reference
//! globals, which are roots at every collection (leaf functions, no entry).
//! A panic inside an entry never unwinds into managed code: it is reported
//! and the process aborts (`guard.rs`). The program's own panics (failed
//! checks through `toy_panic`, `panic(msg)` through `toy_panic_msg`) are
//! recorded and unwind through explicit panic edges (`panic.rs`); the other
//! runtime errors (an array too large to allocate, out of memory) print
//! `file:line:col: runtime error: ...` with the managed backtrace and exit
//! with status 101.

#![warn(missing_docs)]

pub mod aot;
mod guard;
pub mod panic;
mod trap;

pub use trap::set_trap_table;

use std::cell::RefCell;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

#[cfg(not(target_arch = "aarch64"))]
use cfree_statepoint::walk_managed_frames;
use cfree_statepoint::{enter_runtime, relocate, runtime_entries, Frame, Safepoint};
use guard::guarded;

/// Where the collector finds the safepoint of a return address.
pub trait SafepointSource {
    /// The safepoint at `pc`, if `pc` is a return address in managed code.
    fn safepoint_at(&self, pc: u64) -> Option<&Safepoint>;
}

const FORWARDED: u64 = 1 << 63;
/// Header bit of arrays, whose size is in their length word.
const ARRAY: u64 = 1 << 62;
/// Header bit of arrays whose elements are references.
const ARRAY_OF_REFS: u64 = 1;
/// Mask of a record header's pointer-field count (bits 40..62).
const RECORD_POINTERS: u64 = (1 << 22) - 1;
/// The longest array the runtime allocates: 2^45 - 2 elements, so the object
/// (header and length word included) is at most 2^48 bytes, the most that
/// x86-64 and AArch64 user address spaces can hold (Go's `maxAlloc` is the
/// same). Longer arrays are a runtime error before any memory is requested.
pub const MAX_ARRAY_LENGTH: i64 = (1 << 45) - 2;
const POISON: u64 = 0xdead_beef_dead_beef;
const MIN_SPACE_WORDS: usize = 1 << 16;
/// Collections leave at least this many times the live data as space (so
/// `GROWTH - 1` times the live data is allocated between two collections).
const GROWTH: usize = 3;
/// Card size of the write barrier's card table, in words (512 bytes).
const CARD_WORDS: usize = 64;

/// The inline allocation buffer of `cfree_facade::InlineAlloc`: managed code
/// bumps `next` (the reference of the next object, one word past its header)
/// while `next + size <= limit`, and calls `toy_alloc` otherwise.
#[repr(C)]
#[derive(Debug, Default)]
pub struct AllocBuffer {
    next: AtomicU64,
    limit: AtomicU64,
}

impl AllocBuffer {
    /// A new buffer for one program run (JIT code refers to it by address).
    pub fn leak_new() -> &'static AllocBuffer {
        Box::leak(Box::default())
    }

    /// The address generated code refers to as `toy_alloc_buffer`.
    pub fn address(&'static self) -> u64 {
        self as *const AllocBuffer as u64
    }
}

/// The allocation buffer of an AOT executable (one mutator thread).
#[allow(non_upper_case_globals)]
#[no_mangle]
pub static toy_alloc_buffer: AllocBuffer = AllocBuffer { next: AtomicU64::new(0), limit: AtomicU64::new(0) };

/// Collector statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Collections run.
    pub collections: u64,
    /// Words copied in all collections.
    pub words_copied: u64,
    /// Root slots found through stack maps.
    pub roots: u64,
    /// Words allocated (inline and by the runtime).
    pub words_allocated: u64,
    /// Whether every collection poisoned its from-space.
    pub poisoned: bool,
    /// Time spent collecting (walking frames, copying, scanning, poisoning), in nanoseconds.
    pub collect_nanos: u64,
    /// Managed frames walked in all collections.
    pub frames_walked: u64,
    /// Of `collect_nanos`, the time spent walking frames and looking up their safepoints.
    pub walk_nanos: u64,
    /// Write-barrier calls (each checked: the stored value was already in place).
    pub barriers: u64,
    /// Cards found dirty at collections.
    pub dirty_cards: u64,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "gc: {} collections, {} words copied, {} roots, {} words allocated, {} frames walked, {:.3} s collecting, {} barriers, {} dirty cards, {} ns walking",
            self.collections,
            self.words_copied,
            self.roots,
            self.words_allocated,
            self.frames_walked,
            self.collect_nanos as f64 / 1e9,
            self.barriers,
            self.dirty_cards,
            self.walk_nanos
        )
    }
}

/// Collector settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct Settings {
    /// Collect at every allocation (`CFREE_GC_STRESS=1`).
    pub stress: bool,
    /// Fill from-space with a poison pattern after each collection (always on under stress).
    pub poison: bool,
}

impl Settings {
    /// From `CFREE_GC_STRESS` and `CFREE_GC_POISON`.
    pub fn from_env() -> Self {
        let on = |k: &str| std::env::var(k).is_ok_and(|v| v == "1");
        let stress = on("CFREE_GC_STRESS");
        Settings { stress, poison: stress || on("CFREE_GC_POISON") }
    }
}

struct Heap {
    /// The space objects are allocated in; `top` words of it are used.
    space: Vec<u64>,
    /// The other semispace, reused as the next to-space when large enough.
    spare: Vec<u64>,
    top: usize,
    next_cap: usize,
    cards: Vec<u8>,
    buffer: &'static AllocBuffer,
    settings: Settings,
    stats: Stats,
    source: Option<Arc<dyn SafepointSource>>,
    /// The program's globals holding references: `count` words at `address`.
    global_roots: GlobalRoots,
    out: std::io::BufWriter<std::io::Stdout>,
}

/// Reference words outside the heap and the stack (a program's globals).
#[derive(Clone, Copy, Debug, Default)]
struct GlobalRoots {
    address: u64,
    count: usize,
}

thread_local! {
    static HEAP: RefCell<Heap> = RefCell::new(Heap {
        space: Vec::new(),
        spare: Vec::new(),
        top: 0,
        next_cap: 0,
        cards: Vec::new(),
        buffer: &toy_alloc_buffer,
        settings: Settings::default(),
        stats: Stats::default(),
        source: None,
        global_roots: GlobalRoots::default(),
        out: std::io::BufWriter::new(std::io::stdout()),
    });
}

/// Prepares this thread's heap for a program run whose code allocates inline from `buffer`.
pub fn install(source: Arc<dyn SafepointSource>, settings: Settings, buffer: &'static AllocBuffer) {
    HEAP.with(|h| {
        let mut h = h.borrow_mut();
        h.space = new_space(MIN_SPACE_WORDS).expect("the initial space (512 KiB) is allocated");
        h.spare = Vec::new();
        h.top = 0;
        h.next_cap = MIN_SPACE_WORDS;
        h.cards = vec![0; MIN_SPACE_WORDS.div_ceil(CARD_WORDS)];
        h.buffer = buffer;
        h.settings = settings;
        h.stats = Stats { poisoned: settings.poison, ..Stats::default() };
        h.source = Some(source);
        h.global_roots = GlobalRoots::default();
        h.publish();
    });
}

/// This thread's statistics (flushes program output first).
pub fn finish() -> Stats {
    HEAP.with(|h| {
        let mut h = h.borrow_mut();
        let _ = h.out.flush();
        h.sync();
        h.stats
    })
}

impl Heap {
    fn base(&self) -> u64 {
        self.space.as_ptr() as u64
    }

    /// Takes over what managed code allocated inline since the last `publish`.
    fn sync(&mut self) {
        if self.space.is_empty() {
            return;
        }
        let next = self.buffer.next.load(Relaxed);
        let top = ((next - 8 - self.base()) / 8) as usize;
        debug_assert!(top >= self.top && top <= self.space.len(), "inline allocation stays in the space");
        self.stats.words_allocated += (top - self.top) as u64;
        self.top = top;
    }

    /// Hands the free part of the space to inline allocation (none under stress).
    fn publish(&self) {
        let base = self.base();
        self.buffer.next.store(base + self.top as u64 * 8 + 8, Relaxed);
        let limit = if self.settings.stress { 0 } else { base + self.space.len() as u64 * 8 };
        self.buffer.limit.store(limit, Relaxed);
    }

    /// Copies every object reachable from the managed frames into a new space,
    /// leaving at least `need` words free.
    fn collect(&mut self, need: usize) -> Result<(), OutOfMemory> {
        let started = std::time::Instant::now();
        let result = self.collect_once(need);
        self.stats.collect_nanos += started.elapsed().as_nanos() as u64;
        result
    }

    /// Fails only before it changes anything (the to-space is allocated first).
    fn collect_once(&mut self, need: usize) -> Result<(), OutOfMemory> {
        let source = self.source.clone().expect("runtime installed");
        let walk_started = std::time::Instant::now();
        let with_maps = managed_frames(&*source);
        self.stats.walk_nanos += walk_started.elapsed().as_nanos() as u64;
        self.stats.roots += with_maps.iter().map(|(_, s)| (s.live.len() + s.roots.len()) as u64).sum::<u64>();
        self.stats.roots += self.global_roots.count as u64;
        self.stats.frames_walked += with_maps.len() as u64;
        self.stats.dirty_cards += self.cards.iter().filter(|c| **c != 0).count() as u64;
        // Live data never exceeds from-space's used part, so a to-space of `cap >= top` fits it.
        let cap = self.next_cap.max(self.space.len()).max(self.top);
        let mut to = if self.spare.len() < cap { new_space(cap)? } else { std::mem::take(&mut self.spare) };
        let mut top = 0usize;
        let mut old = std::mem::take(&mut self.space);
        let (old_base, old_end) = (old.as_ptr() as u64, old.as_ptr() as u64 + (old.len() * 8) as u64);
        // References point one word past the header.
        let forward = |addr: u64, to: &mut Vec<u64>, top: &mut usize, old: &mut Vec<u64>| -> u64 {
            if !(old_base + 8..=old_end).contains(&addr) {
                return addr;
            }
            let i = ((addr - 8 - old_base) / 8) as usize;
            let header = old[i];
            if header & FORWARDED != 0 {
                return header & !FORWARDED;
            }
            let words = Shape::of(old, i).words;
            let new = to.as_ptr() as u64 + (*top as u64) * 8 + 8;
            to[*top..*top + words].copy_from_slice(&old[i..i + words]);
            *top += words;
            old[i] = FORWARDED | new;
            new
        };
        // SAFETY: frames and safepoints were computed for this stack just now.
        unsafe { relocate(&with_maps, |base| forward(base, &mut to, &mut top, &mut old)) };
        let GlobalRoots { address, count } = self.global_roots;
        for k in 0..count {
            let slot = (address + 8 * k as u64) as *mut u64;
            // SAFETY: `toy_register_globals` named `count` reference words at `address`, in the
            // program's data, which lives as long as its code runs; no other thread uses them.
            unsafe { *slot = forward(*slot, &mut to, &mut top, &mut old) };
        }
        let mut scan = 0;
        while scan < top {
            let Shape { words, first, count } = Shape::of(&to, scan);
            for k in scan + first..scan + first + count {
                let moved = forward(to[k], &mut to, &mut top, &mut old);
                to[k] = moved;
            }
            scan += words;
        }
        self.stats.collections += 1;
        self.stats.words_copied += top as u64;
        if self.settings.poison {
            old.fill(POISON);
        }
        self.spare = old;
        self.space = to;
        self.top = top;
        self.cards.clear();
        self.cards.resize(self.space.len().div_ceil(CARD_WORDS), 0);
        // Inline allocation continues in the new space (also if growing fails below).
        self.publish();
        let wanted = GROWTH.checked_mul(top + need).and_then(usize::checked_next_power_of_two).ok_or(OutOfMemory)?;
        if top + need > self.space.len() {
            // The request does not fit even after collecting: grow now (one more copy).
            self.next_cap = wanted;
            self.collect_once(need)?;
        } else if wanted > self.space.len() {
            self.next_cap = wanted;
        }
        Ok(())
    }

    /// The slow path of allocation (the buffer is full, or stress): may collect.
    fn alloc(&mut self, words: usize, header: u64) -> Result<u64, OutOfMemory> {
        self.sync();
        if self.settings.stress || self.top + words > self.space.len() {
            self.collect(words)?;
        }
        let at = self.top;
        self.space[at] = header;
        // Reused spaces hold old objects (or poison): fields start as zero (nil).
        self.space[at + 1..at + words].fill(0);
        self.top += words;
        self.stats.words_allocated += words as u64;
        self.publish();
        Ok(self.base() + at as u64 * 8 + 8)
    }

    /// The card-marking barrier: checks the store it follows, marks its card.
    fn barrier(&mut self, slot: u64, value: u64) {
        // SAFETY: managed code calls the barrier right after storing `value` at `slot`,
        // a field of a live object.
        let stored = unsafe { *(slot as *const u64) };
        assert_eq!(stored, value, "write barrier called before its store");
        let base = self.base();
        if (base..base + self.space.len() as u64 * 8).contains(&slot) {
            self.cards[((slot - base) / 8) as usize / CARD_WORDS] = 1;
        }
        self.stats.barriers += 1;
    }
}

/// A request for memory that the system refused (or that no address space holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct OutOfMemory;

/// The words of one object, and where its references are (header-relative).
struct Shape {
    words: usize,
    first: usize,
    count: usize,
}

impl Shape {
    /// The shape of the (not forwarded) object whose header is `space[i]`.
    fn of(space: &[u64], i: usize) -> Shape {
        let header = space[i];
        if header & ARRAY != 0 {
            let length = space[i + 1] as usize;
            let count = if header & ARRAY_OF_REFS != 0 { length } else { 0 };
            Shape { words: 2 + length, first: 2, count }
        } else {
            let words = (header & 0xffff_ffff) as usize;
            let first = ((header >> 32) & 0xff) as usize;
            Shape { words, first, count: ((header >> 40) & RECORD_POINTERS) as usize }
        }
    }
}

/// A zeroed semispace of `words` words, or `OutOfMemory` if the system refuses
/// it. Large spaces ask for transparent huge pages: first-touch page faults
/// are otherwise most of a big heap's cost.
fn new_space(words: usize) -> Result<Vec<u64>, OutOfMemory> {
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

/// The managed frames above every runtime entry of this thread, innermost
/// first, with their safepoints.
fn managed_frames(source: &dyn SafepointSource) -> Vec<(Frame, &Safepoint)> {
    let mut frames = Vec::new();
    for fp in runtime_entries() {
        // SAFETY: entry records are frame pointers of live trampolines called from managed
        // code, which keeps frame pointers; this thread's stack is stopped in the runtime.
        #[cfg(not(target_arch = "aarch64"))]
        frames.extend(unsafe { walk_managed_frames(fp, |pc| source.safepoint_at(pc)) });
        // SAFETY: as above.
        #[cfg(target_arch = "aarch64")]
        frames.extend(unsafe { cfree_statepoint::aarch64::walk_managed_frames(fp, |pc| source.safepoint_at(pc)) });
    }
    frames
}

const POSITION_TAG: u64 = 1 << 63;

/// The stack map ID the toy compiler gives a safepoint at `line:col`.
pub fn safepoint_id(line: u32, col: u32) -> u64 {
    POSITION_TAG | u64::from(line) << 32 | u64::from(col)
}

/// The stack map ID of the entry's call of `main` (position 0:0, which no
/// source position has): backtraces leave that frame out.
pub const ENTRY_SAFEPOINT_ID: u64 = POSITION_TAG;

/// The `line:col` of a safepoint ID made by [`safepoint_id`].
pub fn safepoint_position(id: u64) -> Option<(u32, u32)> {
    (id & POSITION_TAG != 0).then_some((((id >> 32) & 0x7fff_ffff) as u32, id as u32))
}

/// The most fields a record may have: its header holds its size in words in
/// 32 bits and its pointer-field count in 22 (the toy checker refuses larger records).
pub const MAX_RECORD_FIELDS: u64 = RECORD_POINTERS;

/// Record header word: `words` (header included), pointer fields from word 1, `count` of them.
///
/// # Panics
/// If the record has more than [`MAX_RECORD_FIELDS`] words or pointer fields.
pub fn record_header(size_bytes: u64, pointer_fields: u64) -> u64 {
    let words = 1 + size_bytes.div_ceil(8);
    assert!(words <= MAX_RECORD_FIELDS + 1 && pointer_fields <= MAX_RECORD_FIELDS, "record too large for its header");
    words | 1 << 32 | pointer_fields << 40
}

/// The slow path of record allocation: `header` is the object's header word
/// ([`record_header`]), `size` its payload in bytes.
#[no_mangle]
pub extern "C" fn toy_alloc(entry: u64, header: i64, size: i64) -> u64 {
    guarded("toy_alloc", || {
        let _entry = enter_runtime(entry);
        let words = 1 + (size.max(0) as usize).div_ceil(8);
        let result = HEAP.with(|h| h.borrow_mut().alloc(words, header as u64));
        result.unwrap_or_else(|OutOfMemory| runtime_error("out of memory", None))
    })
}

/// Allocates an array of `length` 8-byte elements (pointers if `pointers` is 1).
/// A length over [`MAX_ARRAY_LENGTH`], or memory the system refuses, is a
/// runtime error at the allocation's position (its safepoint ID).
#[no_mangle]
pub extern "C" fn toy_alloc_array(entry: u64, length: i64, pointers: i64) -> u64 {
    guarded("toy_alloc_array", || {
        let _entry = enter_runtime(entry);
        if length > MAX_ARRAY_LENGTH {
            let what = format!("array length {length} exceeds the limit of {MAX_ARRAY_LENGTH} elements");
            runtime_error(&what, None);
        }
        let len = length.max(0) as usize;
        let header = if pointers != 0 { ARRAY | ARRAY_OF_REFS } else { ARRAY };
        let result = HEAP.with(|h| {
            let mut h = h.borrow_mut();
            // The length word is written before anything can read the array's size from it.
            let at = h.alloc(2 + len, header)?;
            // SAFETY: `at` references the new array, whose first word is its length.
            unsafe { *(at as *mut i64) = len as i64 };
            Ok(at)
        });
        result.unwrap_or_else(|OutOfMemory| {
            runtime_error(&format!("out of memory allocating an array of {length} elements"), None)
        })
    })
}

/// An explicit safepoint poll (`GcRole::Runtime`, `Cg::safepoint`): collects
/// under stress, and otherwise only when the space is full.
#[no_mangle]
pub extern "C" fn toy_poll(entry: u64) {
    guarded("toy_poll", || {
        let _entry = enter_runtime(entry);
        HEAP.with(|h| {
            let mut h = h.borrow_mut();
            h.sync();
            if h.settings.stress || h.top >= h.space.len() {
                h.collect(0)?;
                h.publish();
            }
            Ok(())
        })
        .unwrap_or_else(|OutOfMemory| runtime_error("out of memory", None))
    })
}

/// Registers the program's globals that hold references (`GcRole::Leaf`,
/// called by the entry before any allocation): `count` words at `address`,
/// each a reference or null, are roots until the next [`install`].
#[no_mangle]
pub extern "C" fn toy_register_globals(address: u64, count: i64) {
    guarded("toy_register_globals", || {
        HEAP.with(|h| h.borrow_mut().global_roots = GlobalRoots { address, count: count.max(0) as usize })
    })
}

/// The write barrier (`GcRole::Leaf`): `value` was just stored at `object + offset`.
#[no_mangle]
pub extern "C" fn toy_write_barrier(object: u64, offset: i64, value: u64, _kind: i32) {
    guarded("toy_write_barrier", || HEAP.with(|h| h.borrow_mut().barrier(object.wrapping_add_signed(offset), value)))
}

fn write_out(s: &[u8]) {
    HEAP.with(|h| {
        let _ = h.borrow_mut().out.write_all(s);
    });
}

/// Prints an integer.
#[no_mangle]
pub extern "C" fn toy_print_int(v: i64) {
    guarded("toy_print_int", || write_out(v.to_string().as_bytes()))
}

/// Prints a float like C's `%.9f`.
#[no_mangle]
pub extern "C" fn toy_print_float(v: f64) {
    guarded("toy_print_float", || {
        // C's `%.9f`: `nan`, `inf`, `-inf` for the special values.
        let text = if v.is_nan() { "nan".to_string() } else { format!("{v:.9}") };
        write_out(text.as_bytes())
    })
}

/// Prints `len` bytes of a string literal at `ptr`.
#[no_mangle]
pub extern "C" fn toy_print_str(ptr: u64, len: i64) {
    guarded("toy_print_str", || {
        // SAFETY: managed code passes the address and length of a string literal in its data.
        let s = unsafe { std::slice::from_raw_parts(ptr as *const u8, len.max(0) as usize) };
        write_out(s)
    })
}

/// Prints `true` or `false`.
#[no_mangle]
pub extern "C" fn toy_print_bool(v: i64) {
    guarded("toy_print_bool", || write_out(if v != 0 { b"true" } else { b"false" }))
}

/// Runtime error kinds, as passed to [`toy_panic`].
pub const PANIC_MESSAGES: [&str; 4] =
    ["nil dereference", "index out of bounds", "division by zero or overflow", "negative array length"];

thread_local! {
    static FILE_NAME: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Sets the program file name runtime errors are reported against.
pub fn set_file_name(name: &str) {
    FILE_NAME.with(|f| *f.borrow_mut() = name.to_string());
}

/// A failed check's runtime error of `kind` at `line:col`: records the panic
/// (with the managed call stack) and sets the panic flag; the caller takes its
/// unwind path (`panic.rs`). Unrecovered, it is reported when the program's
/// entry returns, and the process exits with status 101.
#[no_mangle]
pub extern "C" fn toy_panic(entry: u64, kind: i64, line: i64, col: i64) {
    guarded("toy_panic", || {
        let _entry = enter_runtime(entry);
        let what = PANIC_MESSAGES.get(kind as usize).copied().unwrap_or("runtime error");
        panic::raise("runtime error", what.to_string(), Some((line as u32, col as u32)))
    })
}

/// A source position `(line, col)`, if the safepoint has one.
type Position = Option<(u32, u32)>;

/// The positions of the managed frames (called inside a runtime entry, with
/// no borrow of the heap): the innermost frame's (the call into the runtime;
/// `None` without managed frames), then each caller's, leaving out the entry's frame.
fn managed_positions() -> (Option<Position>, Vec<Position>) {
    let source = HEAP.with(|h| h.borrow().source.clone());
    let frames = source.as_deref().map(managed_frames).unwrap_or_default();
    let first = frames.first().map(|(_, s)| safepoint_position(s.id));
    let callers = frames
        .iter()
        .skip(1)
        .filter(|(_, s)| s.id != ENTRY_SAFEPOINT_ID)
        .map(|(_, s)| safepoint_position(s.id))
        .collect();
    (first, callers)
}

/// Reports the runtime error `what` and exits with status 101 (errors that do
/// not unwind: out of memory, an array too long). Called inside a runtime
/// entry (with no borrow of the heap): the innermost managed frame is the call
/// that failed, whose position is `at` if given, else its safepoint ID's; the
/// other managed frames follow as `called from` lines, then the panics that
/// running deferred calls interrupted.
fn runtime_error(what: &str, at: Option<(u32, u32)>) -> ! {
    let _ = finish();
    let file = FILE_NAME.with(|f| f.borrow().clone());
    let (first, callers) = managed_positions();
    let record = panic::PanicRecord {
        class: "runtime error",
        message: what.to_string(),
        at: at.or(first.flatten()),
        callers,
        previous: None,
    };
    let mut lines = panic::report_lines(&record, &file);
    for interrupted in panic::interrupted() {
        let mut more = panic::report_lines(&interrupted, &file);
        more[0].push_str(" [interrupted by the error above, in a deferred call]");
        lines.extend(more);
    }
    eprintln!("{}", lines.join("\n"));
    std::process::exit(101);
}

/// The host symbols of the runtime: `(name, address)`.
pub fn symbols() -> Vec<(&'static str, u64)> {
    vec![
        ("toy_alloc", toy_alloc as *const () as usize as u64),
        ("toy_alloc_array", toy_alloc_array as *const () as usize as u64),
        ("toy_write_barrier", toy_write_barrier as *const () as usize as u64),
        ("toy_poll", toy_poll as *const () as usize as u64),
        ("toy_register_globals", toy_register_globals as *const () as usize as u64),
        ("toy_print_int", toy_print_int as *const () as usize as u64),
        ("toy_print_float", toy_print_float as *const () as usize as u64),
        ("toy_print_str", toy_print_str as *const () as usize as u64),
        ("toy_print_bool", toy_print_bool as *const () as usize as u64),
        ("toy_panic", toy_panic as *const () as usize as u64),
        ("toy_panic_msg", panic::toy_panic_msg as *const () as usize as u64),
        ("toy_defer_begin", panic::toy_defer_begin as *const () as usize as u64),
        ("toy_defer_end", panic::toy_defer_end as *const () as usize as u64),
        ("toy_recover", panic::toy_recover as *const () as usize as u64),
    ]
}
