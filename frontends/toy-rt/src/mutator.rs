//! Mutator threads and the stop-the-world protocol (`doc/runtime.md`,
//! "Many mutators").
//!
//! A program run (`Run`) has one heap shared by all its mutator threads:
//! the thread that called [`crate::install`] and the pool threads running
//! spawned tasks. Each thread has a [`Context`], which compiled code
//! receives as a hidden first parameter of every function (as Go passes
//! `g`): its allocation buffer, its poll word and its panic flag.
//!
//! A collection stops the world cooperatively. The thread that needs one
//! (an allocation that does not fit, a pending request, stress) sets
//! `stopping` and every other thread's poll word, then waits until each of
//! them is stopped: *parked* at a poll or a runtime call (it published its
//! managed frames and waits for the collection to end) or *blocked* (waiting
//! in the runtime, e.g. in `join`, with its frames published before it
//! began to wait). It then collects with the frames of every thread,
//! empties every allocation buffer and resumes the world. A thread never
//! holds the heap lock while it waits for the world, so a thread in a write
//! barrier or a refill always gets through to its next poll.

use std::cell::RefCell;
use std::io::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use cfree_statepoint::Frame;

use crate::heap::{Heap, Need};
use crate::{managed_frames, tasks, OutOfMemory, SafepointSource, Settings};

/// What compiled code reaches through its hidden context parameter: one per
/// mutator thread. The layout is fixed (`repr(C)`, offsets below).
#[repr(C)]
#[derive(Debug, Default)]
pub struct Context {
    /// The reference of the next object inline allocation places.
    pub(crate) next: AtomicU64,
    /// The end of the thread's allocation chunk.
    pub(crate) limit: AtomicU64,
    /// Nonzero when the thread must call `toy_poll` at its next poll.
    pub(crate) request: AtomicU64,
    /// Nonzero while a panic unwinds on this thread (`panic.rs`).
    pub(crate) panic: AtomicI64,
    /// Where the words allocated inline since the last count start (not read by compiled code).
    pub(crate) chunk: AtomicU64,
    /// The lowest stack pointer a function may start with before it grows
    /// the stack (`toy_grow`): the running task's segment base plus its red
    /// zone, 0 on threads whose stacks do not grow.
    pub(crate) stack_limit: AtomicU64,
}

/// Offset of [`Context`]'s allocation buffer (`[next, limit]`, for `gc_alloc_in`).
pub const CONTEXT_BUFFER: u32 = 0;
/// Offset of [`Context`]'s poll word.
pub const CONTEXT_REQUEST: u32 = 16;
/// Offset of [`Context`]'s panic flag.
pub const CONTEXT_PANIC: u32 = 24;
/// Offset of [`Context`]'s stack limit (functions' `StackCheck`).
pub const CONTEXT_STACK_LIMIT: u32 = 40;

impl Context {
    /// An empty buffer: `next + size <= limit` fails for every size, so the
    /// next allocation takes the slow path.
    pub(crate) fn set_empty(&self) {
        self.next.store(8, Relaxed);
        self.limit.store(0, Relaxed);
        self.chunk.store(0, Relaxed);
    }

    /// A context that lives as long as the process, for code linked against
    /// its address (a single-threaded embedder's data symbol; [`crate::install_in`]).
    pub fn leak_new() -> &'static Context {
        Box::leak(Box::default())
    }

    /// The address compiled code receives.
    pub fn address(&self) -> u64 {
        self as *const Context as u64
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Running managed code (or the runtime, not waiting).
    Running,
    /// Stopped for a collection, at a poll or a runtime call.
    Parked,
    /// Waiting in the runtime (a `join`, an idle worker).
    Blocked,
}

struct Entry {
    id: u64,
    /// The thread's context; it outlives the entry (`Current` owns it).
    ctx: *const Context,
    state: State,
    /// The thread's managed frames, published while it is parked or blocked.
    frames: Vec<Frame>,
}

// SAFETY: `ctx` points to a context that stays allocated while the entry is
// registered; only its atomics are used through it.
unsafe impl Send for Entry {}

impl Entry {
    fn ctx(&self) -> &Context {
        // SAFETY: see `Entry::ctx`'s field doc: registered entries have live contexts.
        unsafe { &*self.ctx }
    }
}

#[derive(Default)]
struct World {
    mutators: Vec<Entry>,
    /// A collection is stopping (or has stopped) the world.
    stopping: bool,
    /// Collections ended: parked threads wait for it to change.
    epoch: u64,
    /// A collection requested by another thread (`request.rs`), and when.
    requested: Option<Instant>,
    next_id: u64,
    /// The managed frames of tasks suspended in `join`, by task: their
    /// stacks are not any thread's while they wait (`tasks.rs`).
    suspended: std::collections::HashMap<usize, Vec<Frame>>,
}

/// One program run: its heap, mutator threads, task pool and output.
pub(crate) struct Run {
    pub(crate) heap: Mutex<Heap>,
    pub(crate) source: Arc<dyn SafepointSource>,
    pub(crate) settings: Settings,
    world: Mutex<World>,
    world_changed: Condvar,
    out: Mutex<std::io::BufWriter<std::io::Stdout>>,
    pub(crate) pool: tasks::Pool,
    /// Fault injection for tests (`CFREE_TOY_GC_SKIP_THREAD=1`): collections
    /// leave out the frames of one stopped thread that holds references,
    /// which must then fail.
    skip_one_thread: bool,
    /// Fault injection for tests (`CFREE_TOY_GC_SKIP_TASK=1`): collections
    /// leave out the frames of one suspended task that holds references.
    skip_one_task: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Run {
    pub(crate) fn new(source: Arc<dyn SafepointSource>, settings: Settings) -> Arc<Run> {
        let mut heap = Heap::empty();
        heap.reset(source.clone(), settings);
        Arc::new(Run {
            heap: Mutex::new(heap),
            source,
            settings,
            world: Mutex::new(World::default()),
            world_changed: Condvar::new(),
            out: Mutex::new(std::io::BufWriter::with_capacity(1 << 16, std::io::stdout())),
            pool: tasks::Pool::default(),
            skip_one_thread: std::env::var("CFREE_TOY_GC_SKIP_THREAD").is_ok_and(|v| v == "1"),
            skip_one_task: std::env::var("CFREE_TOY_GC_SKIP_TASK").is_ok_and(|v| v == "1"),
        })
    }

    pub(crate) fn heap(&self) -> MutexGuard<'_, Heap> {
        lock(&self.heap)
    }

    fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }

    fn wait<'a>(&self, w: MutexGuard<'a, World>) -> MutexGuard<'a, World> {
        self.world_changed.wait(w).unwrap_or_else(|e| e.into_inner())
    }

    /// Registers the calling thread (once the world runs) with context `ctx`.
    fn register(&self, ctx: &Context) -> u64 {
        let mut w = self.world();
        while w.stopping {
            w = self.wait(w);
        }
        let id = w.next_id;
        w.next_id += 1;
        ctx.set_empty();
        let polls = self.settings.stress_polls || w.requested.is_some();
        ctx.request.store(u64::from(polls), Relaxed);
        w.mutators.push(Entry { id, ctx, state: State::Running, frames: Vec::new() });
        id
    }

    /// Removes thread `id`; what it allocated inline is counted.
    fn deregister(&self, id: u64) {
        let mut w = self.world();
        if let Some(at) = w.mutators.iter().position(|m| m.id == id) {
            let entry = w.mutators.swap_remove(at);
            self.heap().retire(entry.ctx());
        }
        self.world_changed.notify_all();
    }

    /// Writes complete lines of program output.
    pub(crate) fn write(&self, bytes: &[u8]) {
        let _ = lock(&self.out).write_all(bytes);
    }

    pub(crate) fn flush(&self) {
        let _ = lock(&self.out).flush();
    }

    /// Asks for a collection at the mutators' next polls.
    pub(crate) fn request_collection(&self) {
        let mut w = self.world();
        if w.requested.is_none() {
            w.requested = Some(Instant::now());
        }
        for m in &w.mutators {
            m.ctx().request.store(1, Relaxed);
        }
    }

    /// Answers a poll of thread `me`: parks if a collection is stopping the
    /// world, collects if one was requested or under stress (any poll called).
    pub(crate) fn poll(&self, me: &Current) -> Result<(), OutOfMemory> {
        let w = self.world();
        if w.stopping {
            self.park(w, me);
            return Ok(());
        }
        if w.requested.is_some() || self.settings.stress {
            return self.stop_and_collect(w, me, false);
        }
        // A stale poll word (the request was answered meanwhile).
        me.ctx.request.store(0, Relaxed);
        Ok(())
    }

    /// Allocates `words` for thread `me`, collecting (or joining another
    /// thread's collection) as often as it takes.
    pub(crate) fn alloc(&self, me: &Current, words: usize, header: u64) -> Result<u64, OutOfMemory> {
        let mut collected = false;
        loop {
            let need = match self.heap().alloc(&me.ctx, words, header, collected) {
                Ok(at) => return Ok(at),
                Err(Need::OutOfMemory) => return Err(OutOfMemory),
                Err(Need::Collection { major }) => major,
            };
            self.collect(me, need)?;
            collected = true;
        }
    }

    /// A collection for thread `me`: its own, or the one already stopping the world.
    pub(crate) fn collect(&self, me: &Current, major: bool) -> Result<(), OutOfMemory> {
        let w = self.world();
        if w.stopping {
            self.park(w, me);
            return Ok(());
        }
        self.stop_and_collect(w, me, major)
    }

    /// Publishes this thread's frames, stops, and waits until the collection ends.
    fn park(&self, mut w: MutexGuard<'_, World>, me: &Current) {
        let frames: Vec<Frame> = managed_frames(&*self.source).into_iter().map(|(f, _)| f).collect();
        let epoch = w.epoch;
        if let Some(e) = w.mutators.iter_mut().find(|m| m.id == me.id) {
            e.frames = frames;
            e.state = State::Parked;
        }
        self.world_changed.notify_all();
        while w.epoch == epoch {
            w = self.wait(w);
        }
        if let Some(e) = w.mutators.iter_mut().find(|m| m.id == me.id) {
            e.frames.clear();
            e.state = State::Running;
        }
    }

    /// Runs `wait` (which must not touch managed memory) with thread `me`
    /// blocked: collections proceed without it, relocating its frames.
    pub(crate) fn blocked<R>(&self, me: &Current, wait: impl FnOnce() -> R) -> R {
        self.block(me, managed_frames(&*self.source).into_iter().map(|(f, _)| f).collect(), None);
        let result = wait();
        self.unblock(me, None);
        result
    }

    /// Marks thread `me` blocked with its managed frames `frames`, or, when
    /// `task` is given, with no frames of its own while `frames` are those
    /// of task `task`, which is suspended and leaves the thread.
    pub(crate) fn block(&self, me: &Current, frames: Vec<Frame>, task: Option<usize>) {
        let mut w = self.world();
        let mine = match task {
            Some(t) => {
                w.suspended.insert(t, frames);
                Vec::new()
            }
            None => frames,
        };
        if let Some(e) = w.mutators.iter_mut().find(|m| m.id == me.id) {
            e.frames = mine;
            e.state = State::Blocked;
        }
        self.world_changed.notify_all();
    }

    /// Marks thread `me` running again once no collection is stopping the
    /// world; when `task` is given, the suspended task's frames leave the
    /// world in the same step, as it is about to run on this thread.
    pub(crate) fn unblock(&self, me: &Current, task: Option<usize>) {
        let mut w = self.world();
        while w.stopping {
            w = self.wait(w);
        }
        if let Some(t) = task {
            w.suspended.remove(&t);
        }
        if let Some(e) = w.mutators.iter_mut().find(|m| m.id == me.id) {
            e.frames.clear();
            e.state = State::Running;
        }
    }

    /// Forgets the frames of suspended task `task` (abandoned when the run ends).
    pub(crate) fn forget_task(&self, task: usize) {
        self.world().suspended.remove(&task);
    }

    /// Stops every other thread, collects with all threads' frames, resumes.
    fn stop_and_collect(&self, mut w: MutexGuard<'_, World>, me: &Current, major: bool) -> Result<(), OutOfMemory> {
        w.stopping = true;
        let stopping = Instant::now();
        for m in w.mutators.iter().filter(|m| m.id != me.id) {
            m.ctx().request.store(1, Relaxed);
        }
        while w.mutators.iter().any(|m| m.id != me.id && m.state == State::Running) {
            w = self.wait(w);
        }
        let to_safepoint = stopping.elapsed().as_nanos() as u64;
        let mut frames = managed_frames(&*self.source);
        let mut skipped = !self.skip_one_thread;
        for m in w.mutators.iter().filter(|m| m.id != me.id) {
            let theirs: Vec<_> =
                m.frames.iter().filter_map(|f| self.source.safepoint_at(f.pc).map(|s| (*f, s))).collect();
            // Fault injection drops the first stopped thread that holds references.
            if !skipped && theirs.iter().any(|(_, s)| !s.live.is_empty() || !s.roots.is_empty()) {
                skipped = true;
                continue;
            }
            frames.extend(theirs);
        }
        let mut skipped = !self.skip_one_task;
        for theirs in w.suspended.values() {
            let theirs: Vec<_> =
                theirs.iter().filter_map(|f| self.source.safepoint_at(f.pc).map(|s| (*f, s))).collect();
            if !skipped && theirs.iter().any(|(_, s)| !s.live.is_empty() || !s.roots.is_empty()) {
                skipped = true;
                continue;
            }
            frames.extend(theirs);
        }
        let result = {
            let mut h = self.heap();
            for m in &w.mutators {
                h.empty_buffer(m.ctx());
            }
            let answered = w.requested.take();
            h.stats.max_stop_nanos = h.stats.max_stop_nanos.max(to_safepoint);
            h.stats.threads_stopped = h.stats.threads_stopped.max(w.mutators.len() as u64);
            h.stats.suspended_tasks = h.stats.suspended_tasks.max(w.suspended.len() as u64);
            let result = h.collect(major, &frames);
            if let Some(at) = answered {
                h.stats.requests_answered += 1;
                let waited = at.elapsed().as_nanos() as u64;
                h.stats.max_request_wait_nanos = h.stats.max_request_wait_nanos.max(waited);
            }
            result
        };
        self.pool.collected();
        let polls = u64::from(self.settings.stress_polls);
        for m in &w.mutators {
            m.ctx().request.store(polls, Relaxed);
        }
        w.stopping = false;
        w.epoch += 1;
        self.world_changed.notify_all();
        result
    }
}

/// A thread's context: its own, or one the embedder made.
pub(crate) enum ContextRef {
    Owned(Box<Context>),
    Static(&'static Context),
}

impl std::ops::Deref for ContextRef {
    type Target = Context;

    fn deref(&self) -> &Context {
        match self {
            ContextRef::Owned(b) => b,
            ContextRef::Static(c) => c,
        }
    }
}

/// The calling thread's membership of a run: its context and registration.
pub(crate) struct Current {
    pub(crate) run: Arc<Run>,
    pub(crate) id: u64,
    pub(crate) ctx: ContextRef,
    /// Output not yet ended by a newline (lines are written whole); the
    /// running task's (`tasks.rs` swaps it).
    pub(crate) line: RefCell<Vec<u8>>,
}

impl Current {
    /// Registers the calling thread in `run`, with `ctx` or a new context.
    pub(crate) fn register(run: Arc<Run>, ctx: Option<&'static Context>) -> Current {
        let ctx = match ctx {
            Some(c) => ContextRef::Static(c),
            None => ContextRef::Owned(Box::default()),
        };
        let id = run.register(&ctx);
        Current { run, id, ctx, line: RefCell::new(Vec::new()) }
    }

    /// Program output: whole lines go out at once, so threads' lines do not mix.
    pub(crate) fn write(&self, bytes: &[u8]) {
        let mut line = self.line.borrow_mut();
        line.extend_from_slice(bytes);
        if let Some(end) = line.iter().rposition(|&b| b == b'\n') {
            self.run.write(&line[..=end]);
            line.drain(..=end);
        }
    }

    /// Writes what is left of the output.
    pub(crate) fn flush(&self) {
        let mut line = self.line.borrow_mut();
        if !line.is_empty() {
            self.run.write(&line);
            line.clear();
        }
        self.run.flush();
    }
}

impl Drop for Current {
    fn drop(&mut self) {
        self.flush();
        self.run.deregister(self.id);
    }
}
