//! `cfree-toy-rt`: the runtime of the toy managed language. A generational
//! collector (`heap.rs`): a bump-allocated nursery whose live objects are
//! moved (promoted) into a non-moving mark-sweep old space at each minor
//! collection (`old_space.rs`), with a card-marking write barrier as the
//! remembered set, and major collections when the old space has grown by
//! three quarters of what survived the last one. It
//! finds roots only through stack maps (the safepoints of the managed frames
//! above each runtime entry record; no conservative scanning). It depends on `cfree-statepoint` only: where the
//! safepoints come from (a JIT registry, or an executable's own stack maps)
//! is the embedder's business, through [`SafepointSource`].
//!
//! A program run may have several mutator threads (`mutator.rs`): the one
//! that called [`install`] and the pool threads running spawned tasks
//! (`tasks.rs`). Each has a [`Context`] (allocation buffer, poll word, panic
//! flag) that compiled code receives as a hidden first parameter; a
//! collection stops every thread at a poll or runtime call and walks all
//! their stacks (`doc/runtime.md`, "Many mutators").
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
//! length, elements_are_pointers)` for arrays, `toy_poll`, `toy_join` and
//! `toy_panic`; `toy_spawn` queues a task (a leaf);
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
mod heap;
pub mod mutator;
mod old_space;
pub mod panic;
pub mod request;
mod stack;
pub mod tasks;
mod trap;

pub use mutator::{Context, CONTEXT_BUFFER, CONTEXT_PANIC, CONTEXT_REQUEST, CONTEXT_STACK_LIMIT};
pub use tasks::MAX_TASK_ARGS;
pub use trap::set_trap_table;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

#[cfg(not(target_arch = "aarch64"))]
use cfree_statepoint::walk_managed_frames;
use cfree_statepoint::{enter_runtime, runtime_entries, Frame, Safepoint};
use guard::guarded;
use heap::GlobalRoots;
use mutator::{Current, Run};

/// Where the collector finds the safepoint of a return address.
pub trait SafepointSource: Send + Sync {
    /// The safepoint at `pc`, if `pc` is a return address in managed code.
    fn safepoint_at(&self, pc: u64) -> Option<&Safepoint>;

    /// The source positions of the call whose return address is `pc`, from
    /// debug information: the call, then each call LLVM inlined it into, out
    /// to the function of the frame. Empty without debug information
    /// (backtraces then use the safepoint's position alone).
    fn source_frames(&self, pc: u64) -> Vec<cfree_statepoint::SourcePos> {
        let _ = pc;
        Vec::new()
    }
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

/// Collector statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Collections run (each a minor collection, some followed by a major one).
    pub collections: u64,
    /// Words copied (promoted from the nursery into the old space) in all collections.
    pub words_copied: u64,
    /// Root slots found through stack maps.
    pub roots: u64,
    /// Words allocated (inline and by the runtime).
    pub words_allocated: u64,
    /// Whether every collection poisoned the nursery it emptied and the old-space memory it freed.
    pub poisoned: bool,
    /// Time spent collecting (walking frames, copying, scanning, poisoning), in nanoseconds.
    pub collect_nanos: u64,
    /// Managed frames walked in all collections.
    pub frames_walked: u64,
    /// Of `collect_nanos`, the time spent walking frames and looking up their safepoints.
    pub walk_nanos: u64,
    /// Write-barrier calls (each checked: the stored value was already in place).
    pub barriers: u64,
    /// Cards found dirty at collections (old objects given nursery references).
    pub dirty_cards: u64,
    /// Major collections (mark and sweep of the old space).
    pub major_collections: u64,
    /// Words of the objects marked in all major collections.
    pub words_marked: u64,
    /// Bytes of heap whose pages may be resident (nursery and old space) at the last collection or `finish`.
    pub heap_bytes: u64,
    /// The largest `heap_bytes` seen.
    pub peak_heap_bytes: u64,
    /// Collections requested by another thread and answered at a poll.
    pub requests_answered: u64,
    /// The longest time from such a request to its answer, in nanoseconds.
    pub max_request_wait_nanos: u64,
    /// Tasks spawned.
    pub tasks: u64,
    /// The longest time a collection waited for the other mutator threads to stop, in nanoseconds.
    pub max_stop_nanos: u64,
    /// The most mutator threads a collection stopped (itself included).
    pub threads_stopped: u64,
    /// The most tasks suspended in `join` at a collection (their stacks walked too).
    pub suspended_tasks: u64,
    /// Stack growths: calls run on a new (or cached) segment by `toy_grow`.
    pub stack_growths: u64,
    /// Of those, growths that took a segment from the pool rather than the task's cache.
    pub segments_allocated: u64,
    /// The most tasks alive at once (started, not finished).
    pub peak_live_tasks: u64,
    /// The most bytes of task stack segments in use at once (reserved; pages are committed when touched).
    pub peak_stack_bytes: u64,
    /// The process's peak resident memory (`getrusage`), in KiB.
    pub peak_resident_kib: u64,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "gc: {} collections, {} words copied, {} roots, {} words allocated, {} frames walked, {:.3} s collecting, {} barriers, {} dirty cards, {} ns walking, {} major collections, {} words marked, {} KiB heap, {} KiB heap peak, {} requests answered, {} ns longest request wait, {} tasks, {} ns longest stop, {} threads stopped, {} suspended tasks, {} stack growths, {} segments allocated, {} peak live tasks, {} KiB peak stack, {} KiB peak resident",
            self.collections,
            self.words_copied,
            self.roots,
            self.words_allocated,
            self.frames_walked,
            self.collect_nanos as f64 / 1e9,
            self.barriers,
            self.dirty_cards,
            self.walk_nanos,
            self.major_collections,
            self.words_marked,
            self.heap_bytes / 1024,
            self.peak_heap_bytes / 1024,
            self.requests_answered,
            self.max_request_wait_nanos,
            self.tasks,
            self.max_stop_nanos,
            self.threads_stopped,
            self.suspended_tasks,
            self.stack_growths,
            self.segments_allocated,
            self.peak_live_tasks,
            self.peak_stack_bytes / 1024,
            self.peak_resident_kib,
        )
    }
}

/// Collector settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct Settings {
    /// Collect at every allocation (`CFREE_GC_STRESS=1`, also set by `stress_polls`).
    pub stress: bool,
    /// Also collect at every safepoint poll (loop heads; `CFREE_GC_STRESS_POLLS=1`).
    pub stress_polls: bool,
    /// Fill the emptied nursery and freed old-space memory with a poison pattern at each collection (always on under stress).
    pub poison: bool,
}

impl Settings {
    /// From `CFREE_GC_STRESS` and `CFREE_GC_POISON`.
    pub fn from_env() -> Self {
        let on = |k: &str| std::env::var(k).is_ok_and(|v| v == "1");
        let stress = on("CFREE_GC_STRESS");
        let stress_polls = on("CFREE_GC_STRESS_POLLS");
        Settings {
            stress: stress || stress_polls,
            stress_polls,
            poison: stress || stress_polls || on("CFREE_GC_POISON"),
        }
    }
}

thread_local! {
    /// The calling thread's membership of a program run, while it is a mutator.
    static CURRENT: RefCell<Option<Rc<Current>>> = const { RefCell::new(None) };
}

/// The calling thread's run membership. Runtime entries are called only
/// from managed code, whose thread is registered.
fn current() -> Rc<Current> {
    CURRENT.with(|c| c.borrow().clone()).expect("a runtime entry called on a thread that runs no program")
}

/// Registers the calling thread as a mutator of `run` (with `ctx`, or a new context).
fn enter_thread(run: Arc<Run>, ctx: Option<&'static Context>) -> Rc<Current> {
    let me = Rc::new(Current::register(run, ctx));
    CURRENT.with(|c| *c.borrow_mut() = Some(me.clone()));
    panic::bind_flag(Some(&me.ctx.panic));
    panic::begin_run();
    me
}

/// Ends the calling thread's membership (its context is freed once no call uses it).
fn leave_thread() {
    let me = CURRENT.with(|c| c.borrow_mut().take());
    if me.is_some() {
        panic::bind_flag(None);
    }
    drop(me);
}

/// Starts a program run on the calling thread, its first mutator: a new
/// heap whose roots come from `source`'s stack maps. Returns the address of
/// the thread's [`Context`], which the program's entry takes as its first
/// argument. The thread stays registered until [`finish`].
pub fn install(source: Arc<dyn SafepointSource>, settings: Settings) -> u64 {
    start(source, settings, None)
}

/// [`install`] with the calling thread's context `ctx`, for code that
/// reaches its allocation buffer through a data symbol bound to
/// `ctx.address()` (`gc_alloc` rather than `gc_alloc_in`; one mutator).
pub fn install_in(source: Arc<dyn SafepointSource>, settings: Settings, ctx: &'static Context) -> u64 {
    start(source, settings, Some(ctx))
}

fn start(source: Arc<dyn SafepointSource>, settings: Settings, ctx: Option<&'static Context>) -> u64 {
    leave_thread();
    let me = enter_thread(Run::new(source, settings), ctx);
    request::start_from_env(&me.run);
    me.ctx.address()
}

/// Ends the calling thread's run: stops the requester, waits for running
/// tasks (queued ones never start), flushes the output, and returns the
/// statistics.
pub fn finish() -> Stats {
    let Some(me) = CURRENT.with(|c| c.borrow().clone()) else { return Stats::default() };
    let run = me.run.clone();
    request::stop();
    drop(me);
    leave_thread();
    run.pool.shut_down();
    run.flush();
    let mut stats = run.heap().finish();
    run.pool.add_stats(&mut stats);
    stats
}

/// The statistics of the calling thread's run so far (the run goes on).
pub fn stats() -> Stats {
    let Some(me) = CURRENT.with(|c| c.borrow().clone()) else { return Stats::default() };
    let mut h = me.run.heap();
    h.retire(&me.ctx);
    let mut stats = h.finish();
    drop(h);
    me.run.pool.add_stats(&mut stats);
    stats
}

/// Flushes the calling thread's output and the run's (before the process exits).
fn flush_output() {
    if let Some(me) = CURRENT.with(|c| c.borrow().clone()) {
        me.flush();
    }
}

/// A request for memory that the system refused (or that no address space holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct OutOfMemory;

/// The managed frames above every runtime entry of this thread, innermost
/// first, with their safepoints.
pub(crate) fn managed_frames(source: &dyn SafepointSource) -> Vec<(Frame, &Safepoint)> {
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

/// The stack map ID of stack growth (a function's call of `toy_grow`, and
/// the resume function's call of it on the new segment; position 0:1):
/// backtraces leave those frames out.
pub const GROW_SAFEPOINT_ID: u64 = POSITION_TAG | 1;

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
        let me = current();
        let result = tasks::on_system_stack(|| me.run.alloc(&me, words, header as u64));
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
        let me = current();
        // The length word is written before anything can read the array's size from it:
        // no collection runs before this thread's next poll or runtime call.
        let result = tasks::on_system_stack(|| me.run.alloc(&me, 2 + len, header)).inspect(|&at| {
            // SAFETY: `at` references the new array, whose first word is its length.
            unsafe { *(at as *mut i64) = len as i64 };
        });
        result.unwrap_or_else(|OutOfMemory| {
            runtime_error(&format!("out of memory allocating an array of {length} elements"), None)
        })
    })
}

/// A safepoint poll (`GcRole::Runtime`), called when the thread's poll word
/// is set: stops for another thread's collection, or collects when one was
/// requested, and under stress.
#[no_mangle]
pub extern "C" fn toy_poll(entry: u64) {
    guarded("toy_poll", || {
        let _entry = enter_runtime(entry);
        let me = current();
        tasks::on_system_stack(|| me.run.poll(&me)).unwrap_or_else(|OutOfMemory| runtime_error("out of memory", None))
    })
}

/// `spawn`: queues a call of the spawn site's wrapper `code` with `nargs`
/// of the arguments `a0..a5` (`GcRole::Leaf`: it never collects); returns the task's handle.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn toy_spawn(code: u64, nargs: i64, a0: i64, a1: i64, a2: i64, a3: i64, a4: i64, a5: i64) -> i64 {
    guarded("toy_spawn", || {
        let me = current();
        let mut args = [a0, a1, a2, a3, a4, a5];
        args[nargs.clamp(0, MAX_TASK_ARGS as i64) as usize..].fill(0);
        me.run.pool.spawn(&me.run, code, args).unwrap_or_else(|e| runtime_error(&e, None))
    })
}

/// `join(t)` (`GcRole::Runtime`): task `t`'s result, once it has finished.
#[no_mangle]
pub extern "C" fn toy_join(entry: u64, handle: i64) -> i64 {
    guarded("toy_join", || {
        let _entry = enter_runtime(entry);
        let me = current();
        me.run.pool.join(&me, handle).unwrap_or_else(|e| runtime_error(&e, None))
    })
}

/// Registers the program's globals that hold references (`GcRole::Leaf`,
/// called by the entry before any allocation): `count` words at `address`,
/// each a reference or null, are roots until the next [`install`].
#[no_mangle]
pub extern "C" fn toy_register_globals(address: u64, count: i64) {
    guarded("toy_register_globals", || {
        current().run.heap().global_roots = GlobalRoots { address, count: count.max(0) as usize }
    })
}

/// The write barrier (`GcRole::Leaf`): `value` was just stored at `object + offset`.
#[no_mangle]
pub extern "C" fn toy_write_barrier(object: u64, offset: i64, value: u64, _kind: i32) {
    guarded("toy_write_barrier", || current().run.heap().barrier(object.wrapping_add_signed(offset), value))
}

fn write_out(s: &[u8]) {
    current().write(s);
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

/// The program file runtime errors are reported against (all threads').
static FILE_NAME: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// Sets the program file name runtime errors are reported against.
pub fn set_file_name(name: &str) {
    *FILE_NAME.lock().unwrap_or_else(|e| e.into_inner()) = name.to_string();
}

/// The program file name.
fn file_name() -> String {
    FILE_NAME.lock().unwrap_or_else(|e| e.into_inner()).clone()
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
        tasks::on_system_stack(|| panic::raise("runtime error", what.to_string(), Some((line as u32, col as u32))))
    })
}

/// A source position `(line, col)`, if the safepoint has one.
type Position = Option<(u32, u32)>;

/// The positions of the managed frames (called inside a runtime entry, with
/// no borrow of the heap): the innermost frame's (the call into the runtime;
/// `None` without managed frames), then each caller's, leaving out the entry's frame.
fn managed_positions() -> (Option<Position>, Vec<Position>) {
    let Some(me) = CURRENT.with(|c| c.borrow().clone()) else { return (None, Vec::new()) };
    let source = &*me.run.source;
    let mut positions = Vec::new();
    for (frame, safepoint) in managed_frames(source) {
        if safepoint.id == ENTRY_SAFEPOINT_ID || safepoint.id == GROW_SAFEPOINT_ID {
            continue;
        }
        // With debug information a frame is the call and the calls inlined
        // around it; the compiler-made entry is no part of the program's trace.
        let inline: Vec<Position> = source
            .source_frames(frame.pc - 1)
            .into_iter()
            .filter(|p| p.function.as_deref() != Some(ENTRY_FUNCTION) && p.line != 0)
            .map(|p| Some((p.line, p.column)))
            .collect();
        if inline.is_empty() {
            positions.push(safepoint_position(safepoint.id));
        } else {
            positions.extend(inline);
        }
    }
    let mut positions = positions.into_iter();
    (positions.next(), positions.collect())
}

/// The debug name of the compiler-made entry function.
const ENTRY_FUNCTION: &str = "toy.entry";

/// Reports the runtime error `what` and exits with status 101 (errors that do
/// not unwind: out of memory, an array too long). Called inside a runtime
/// entry (with no borrow of the heap): the innermost managed frame is the call
/// that failed, whose position is `at` if given, else its safepoint ID's; the
/// other managed frames follow as `called from` lines, then the panics that
/// running deferred calls interrupted.
fn runtime_error(what: &str, at: Option<(u32, u32)>) -> ! {
    tasks::on_system_stack(|| report_runtime_error(what, at))
}

fn report_runtime_error(what: &str, at: Option<(u32, u32)>) -> ! {
    flush_output();
    let file = file_name();
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
        ("toy_spawn", toy_spawn as *const () as usize as u64),
        ("toy_join", toy_join as *const () as usize as u64),
        ("toy_grow", tasks::toy_grow as *const () as usize as u64),
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
