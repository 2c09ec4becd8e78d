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
//! header is at offset -8. The header holds the object's size in words
//! (header included) in bits 0..32, the header-relative index of its first
//! pointer field in bits 32..40 and the number of pointer fields in bits
//! 40..63. Pointer fields are contiguous. A forwarded object's header is
//! `FORWARDED | new reference`. Arrays are `[header][length][elements]`.
//!
//! Runtime entry points (all `extern "C"`, entered from managed code through
//! the trampolines of `GcRole::Runtime`, hence the leading `entry` frame):
//! `toy_alloc(entry, descriptor, size)` for records, `toy_alloc_array(entry,
//! length, elements_are_pointers)` for arrays; `toy_print_*` write output
//! (leaf functions, no entry).

#![warn(missing_docs)]

use std::cell::RefCell;
use std::io::Write;
use std::sync::Arc;

use cfree_statepoint::{enter_runtime, relocate, runtime_entries, walk_frames, Safepoint};

/// Where the collector finds the safepoint of a return address.
pub trait SafepointSource {
    /// The safepoint at `pc`, if `pc` is a return address in managed code.
    fn safepoint_at(&self, pc: u64) -> Option<&Safepoint>;
}

const FORWARDED: u64 = 1 << 63;
const POISON: u64 = 0xdead_beef_dead_beef;
const MIN_SPACE_WORDS: usize = 1 << 16;

/// Collector statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Collections run.
    pub collections: u64,
    /// Words copied in all collections.
    pub words_copied: u64,
    /// Root slots found through stack maps.
    pub roots: u64,
    /// Words allocated.
    pub words_allocated: u64,
    /// Whether every collection poisoned its from-space.
    pub poisoned: bool,
    /// Time spent collecting (walking frames, copying, scanning, poisoning), in nanoseconds.
    pub collect_nanos: u64,
    /// Managed frames walked in all collections.
    pub frames_walked: u64,
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
    space: Vec<u64>,
    top: usize,
    next_cap: usize,
    settings: Settings,
    stats: Stats,
    source: Option<Arc<dyn SafepointSource>>,
    out: std::io::BufWriter<std::io::Stdout>,
}

thread_local! {
    static HEAP: RefCell<Heap> = RefCell::new(Heap {
        space: Vec::new(),
        top: 0,
        next_cap: 0,
        settings: Settings::default(),
        stats: Stats::default(),
        source: None,
        out: std::io::BufWriter::new(std::io::stdout()),
    });
}

/// Prepares this thread's heap for a program run.
pub fn install(source: Arc<dyn SafepointSource>, settings: Settings) {
    HEAP.with(|h| {
        let mut h = h.borrow_mut();
        h.space = vec![0; MIN_SPACE_WORDS];
        h.top = 0;
        h.next_cap = MIN_SPACE_WORDS;
        h.settings = settings;
        h.stats = Stats { poisoned: settings.poison, ..Stats::default() };
        h.source = Some(source);
    });
}

/// This thread's statistics (flushes program output first).
pub fn finish() -> Stats {
    HEAP.with(|h| {
        let mut h = h.borrow_mut();
        let _ = h.out.flush();
        h.stats
    })
}

impl Heap {
    fn base(&self) -> u64 {
        self.space.as_ptr() as u64
    }

    /// Copies every object reachable from the managed frames into a new space,
    /// leaving at least `need` words free.
    fn collect(&mut self, need: usize) {
        let started = std::time::Instant::now();
        self.collect_once(need);
        self.stats.collect_nanos += started.elapsed().as_nanos() as u64;
    }

    fn collect_once(&mut self, need: usize) {
        let source = self.source.clone().expect("runtime installed");
        let mut frames = Vec::new();
        for fp in runtime_entries() {
            // SAFETY: entry records are frame pointers of live trampolines called from managed
            // code, which keeps frame pointers; this thread's stack is stopped in the runtime.
            frames.extend(unsafe { walk_frames(fp, |pc| source.safepoint_at(pc).is_some()) });
        }
        let with_maps: Vec<_> =
            frames.iter().map(|f| (*f, source.safepoint_at(f.pc).expect("walked frames have safepoints"))).collect();
        self.stats.roots += with_maps.iter().map(|(_, s)| s.live.len() as u64).sum::<u64>();
        self.stats.frames_walked += with_maps.len() as u64;
        // Live data never exceeds from-space's used part, so a to-space of `cap >= top` fits it.
        let cap = self.next_cap.max(self.space.len()).max(self.top);
        let mut to: Vec<u64> = vec![0; cap];
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
            let words = (header & 0xffff_ffff) as usize;
            let new = to.as_ptr() as u64 + (*top as u64) * 8 + 8;
            to[*top..*top + words].copy_from_slice(&old[i..i + words]);
            *top += words;
            old[i] = FORWARDED | new;
            new
        };
        // SAFETY: frames and safepoints were computed for this stack just now.
        unsafe { relocate(&with_maps, |base| forward(base, &mut to, &mut top, &mut old)) };
        let mut scan = 0;
        while scan < top {
            let header = to[scan];
            let words = (header & 0xffff_ffff) as usize;
            let first = ((header >> 32) & 0xff) as usize;
            let count = ((header >> 40) & 0x7f_ffff) as usize;
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
        self.space = to;
        self.top = top;
        if top + need > cap {
            // The request does not fit even after collecting: grow now (one more copy).
            self.next_cap = (2 * (top + need)).next_power_of_two();
            self.collect_once(need);
        } else if 2 * (top + need) > cap {
            // More than half full of live data: the next to-space is twice as large.
            self.next_cap = cap * 2;
        }
    }

    fn alloc(&mut self, words: usize, header: u64) -> u64 {
        if self.settings.stress || self.top + words > self.space.len() {
            self.collect(words);
        }
        let at = self.top;
        self.space[at] = header;
        self.space[at + 1..at + words].fill(0);
        self.top += words;
        self.stats.words_allocated += words as u64;
        self.base() + at as u64 * 8 + 8
    }
}

/// Allocates a record of `size` bytes whose first `descriptor` words are
/// references (the layout of the toy language: reference fields first).
pub extern "C" fn toy_alloc(entry: u64, descriptor: i64, size: i64) -> u64 {
    let _entry = enter_runtime(entry);
    let words = 1 + (size as usize).div_ceil(8);
    let count = (descriptor as u64) & 0x7f_ffff;
    HEAP.with(|h| h.borrow_mut().alloc(words, words as u64 | 1 << 32 | count << 40))
}

/// Allocates an array of `length` 8-byte elements (pointers if `pointers` is 1).
pub extern "C" fn toy_alloc_array(entry: u64, length: i64, pointers: i64) -> u64 {
    let _entry = enter_runtime(entry);
    let len = length.max(0) as usize;
    let words = 2 + len;
    let count = if pointers != 0 { len as u64 } else { 0 };
    HEAP.with(|h| {
        let mut h = h.borrow_mut();
        let at = h.alloc(words, words as u64 | 2 << 32 | count << 40);
        // SAFETY: `at` references the new array, whose first word is its length.
        unsafe { *(at as *mut i64) = length.max(0) };
        at
    })
}

fn write_out(s: &[u8]) {
    HEAP.with(|h| {
        let _ = h.borrow_mut().out.write_all(s);
    });
}

/// Prints an integer.
pub extern "C" fn toy_print_int(v: i64) {
    write_out(v.to_string().as_bytes());
}

/// Prints a float like C's `%.9f`.
pub extern "C" fn toy_print_float(v: f64) {
    // C's `%.9f`: `nan`, `inf`, `-inf` for the special values.
    let text = if v.is_nan() { "nan".to_string() } else { format!("{v:.9}") };
    write_out(text.as_bytes());
}

/// Prints `len` bytes of a string literal at `ptr`.
pub extern "C" fn toy_print_str(ptr: u64, len: i64) {
    // SAFETY: managed code passes the address and length of a string literal in its data.
    let s = unsafe { std::slice::from_raw_parts(ptr as *const u8, len.max(0) as usize) };
    write_out(s);
}

/// Prints `true` or `false`.
pub extern "C" fn toy_print_bool(v: i64) {
    write_out(if v != 0 { b"true" } else { b"false" });
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

/// Reports a runtime error at `line:col` and exits with status 101.
pub extern "C" fn toy_panic(kind: i64, line: i64, col: i64) {
    let _ = finish();
    let what = PANIC_MESSAGES.get(kind as usize).copied().unwrap_or("runtime error");
    let file = FILE_NAME.with(|f| f.borrow().clone());
    eprintln!("{file}:{line}:{col}: runtime error: {what}");
    std::process::exit(101);
}

/// The host symbols of the runtime: `(name, address)`.
pub fn symbols() -> Vec<(&'static str, u64)> {
    vec![
        ("toy_alloc", toy_alloc as *const () as usize as u64),
        ("toy_alloc_array", toy_alloc_array as *const () as usize as u64),
        ("toy_print_int", toy_print_int as *const () as usize as u64),
        ("toy_print_float", toy_print_float as *const () as usize as u64),
        ("toy_print_str", toy_print_str as *const () as usize as u64),
        ("toy_print_bool", toy_print_bool as *const () as usize as u64),
        ("toy_panic", toy_panic as *const () as usize as u64),
    ]
}
