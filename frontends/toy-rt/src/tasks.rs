//! Tasks: `spawn f(args)` and `join(t)` on green threads with growable
//! stacks (`doc/runtime.md`, "Tasks" and "Growable stacks").
//!
//! A task is a call of a compiled wrapper (one per spawn site, `i64
//! toy.task.N(ctx, args)`) on its own stack: a segment of [`FIRST_SEGMENT`]
//! bytes, grown by further segments when a function's prologue finds the
//! stack pointer below the limit (`toy_grow`). Tasks run M:N on a pool of
//! worker threads (`CFREE_TOY_THREADS`, default the machine's cores), each a
//! mutator thread with one context that its tasks share. A task that joins
//! an unfinished task is suspended: its managed frames are published to the
//! world (collections walk and relocate them like a parked thread's), its
//! thread-local runtime state is swapped out, and its worker runs other
//! tasks. It resumes on the same worker (tasks never migrate: compiled code
//! keeps the worker's context) once the task it waits for has finished.
//! Threads that are not workers (the one that called `install`) wait for a
//! join blocked, which collections do not wait for.
//!
//! Runtime calls that may take much stack (allocation that collects, polls,
//! panics) run on the worker's own stack, below its scheduler
//! ([`on_system_stack`]); the rest fit in a segment's [`RED_ZONE`].

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use cfree_statepoint::{enter_runtime, swap_runtime_entries};

use crate::guard::guarded;
use crate::mutator::{Context, Current, Run};
use crate::panic::{swap_task_panic, TaskPanic};
use crate::stack::{call_on_stack, prepare, switch, Segment, SegmentPool};

/// The most arguments a spawned call takes (each an `int`, a `float`'s bits or a `bool`).
pub const MAX_TASK_ARGS: usize = 6;

/// Bytes below a segment's limit: room for the frame of the function that
/// checked the limit and for the runtime calls that run on the task's stack
/// (printing, write barriers, spawning, `toy_grow` itself, signal delivery
/// is on the alternate signal stack).
pub const RED_ZONE: usize = 16 << 10;
/// A task's first segment (half of it the red zone).
pub const FIRST_SEGMENT: usize = 32 << 10;
/// Segments double from the first up to this size.
const MAX_SEGMENT: usize = 8 << 20;

/// Stack size of worker threads: their scheduler, and the runtime calls that
/// switch to it (a collection's walk and copy).
const WORKER_STACK_SIZE: usize = 64 << 20;

/// A spawn site's compiled wrapper.
type TaskCode = unsafe extern "C" fn(*const Context, *const i64) -> i64;

enum Slot {
    Queued { code: u64, args: [i64; MAX_TASK_ARGS] },
    Running,
    Done(i64),
}

#[derive(Default)]
struct Tasks {
    slots: Vec<Slot>,
    /// Tasks not started yet, oldest first.
    queue: VecDeque<usize>,
    /// The tasks suspended in a join of each task: `(worker, task)`.
    waiters: HashMap<usize, Vec<(usize, usize)>>,
    /// Per worker: its suspended tasks whose join can go on.
    ready: Vec<VecDeque<usize>>,
    /// The run is finishing: workers exit, queued and suspended tasks never run again.
    shutdown: bool,
    idle: usize,
    live: u64,
    peak_live: u64,
}

/// The task table, worker pool and stack segments of one run.
pub(crate) struct Pool {
    tasks: Mutex<Tasks>,
    /// Signalled when a task is queued or becomes ready, and when the run ends.
    work: Condvar,
    /// Signalled when a task finishes (joining threads wake).
    done: Condvar,
    threads: Mutex<Vec<JoinHandle<()>>>,
    segments: SegmentPool,
    growths: AtomicU64,
    segments_allocated: AtomicU64,
    /// Collections so far: tasks trim their cached segments when it changes.
    collections: AtomicU64,
    stack_bytes: AtomicU64,
    peak_stack_bytes: AtomicU64,
}

impl Default for Pool {
    fn default() -> Self {
        Pool {
            tasks: Mutex::default(),
            work: Condvar::new(),
            done: Condvar::new(),
            threads: Mutex::default(),
            segments: SegmentPool::new(),
            growths: AtomicU64::new(0),
            segments_allocated: AtomicU64::new(0),
            collections: AtomicU64::new(0),
            stack_bytes: AtomicU64::new(0),
            peak_stack_bytes: AtomicU64::new(0),
        }
    }
}

/// Read once per process: `available_parallelism` reads cgroup files.
fn pool_size() -> usize {
    static SIZE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *SIZE.get_or_init(read_pool_size)
}

fn read_pool_size() -> usize {
    std::env::var("CFREE_TOY_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}

/// A task's stack: its segments, the innermost in use at `depth`. Segments
/// past it stay cached until the next collection (then one stays), so a
/// task that grows its stack again, or a call at a segment boundary in a
/// loop, does not take segments from the pool (nor fault their pages in)
/// each time; as Go shrinks stacks at collections.
struct TaskStack {
    segments: Vec<Segment>,
    depth: usize,
    /// The collection count when the cache was last trimmed.
    epoch: u64,
}

/// A started task: its stack, and while it is not running, its saved
/// registers and the thread-local runtime state it had.
struct Green {
    index: usize,
    code: u64,
    args: [i64; MAX_TASK_ARGS],
    /// The stack pointer its context is saved at, while it does not run.
    sp: u64,
    stack: TaskStack,
    result: Option<i64>,
    entries: Vec<u64>,
    panic: TaskPanic,
    line: Vec<u8>,
    limit: u64,
}

thread_local! {
    /// This worker's index (`usize::MAX` on other threads).
    static WORKER: Cell<usize> = const { Cell::new(usize::MAX) };
    /// The scheduler's saved stack pointer while a task runs on this worker.
    static SCHEDULER_SP: Cell<u64> = const { Cell::new(0) };
    /// The task running on this thread (null outside tasks).
    static RUNNING: Cell<*mut Green> = const { Cell::new(std::ptr::null_mut()) };
    /// Whether the thread runs on its own stack below the scheduler ([`on_system_stack`]).
    static ON_SYSTEM_STACK: Cell<bool> = const { Cell::new(false) };
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, Tasks> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(cv: &Condvar, t: MutexGuard<'a, Tasks>) -> MutexGuard<'a, Tasks> {
        cv.wait(t).unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a call of `code` with `args`; its handle is the task's index.
    pub(crate) fn spawn(&self, run: &Arc<Run>, code: u64, args: [i64; MAX_TASK_ARGS]) -> Result<i64, String> {
        let mut t = self.lock();
        if t.shutdown {
            return Err("spawn after the program's main function returned".into());
        }
        let id = t.slots.len();
        t.slots.push(Slot::Queued { code, args });
        t.queue.push_back(id);
        let new_worker = (t.idle == 0 && t.ready.len() < pool_size()).then(|| {
            t.ready.push(VecDeque::new());
            t.ready.len() - 1
        });
        drop(t);
        self.work.notify_one();
        if let Some(index) = new_worker {
            let run = run.clone();
            let thread = std::thread::Builder::new()
                .name("toy-task".into())
                .stack_size(WORKER_STACK_SIZE)
                .spawn(move || worker(run, index))
                .map_err(|e| format!("starting a task thread: {e}"))?;
            self.threads.lock().unwrap_or_else(|e| e.into_inner()).push(thread);
        }
        Ok(id as i64)
    }

    /// The result of task `handle`: at once if it has finished, else after
    /// waiting (a task suspended, another thread blocked).
    pub(crate) fn join(&self, me: &Rc<Current>, handle: i64) -> Result<i64, String> {
        let mut t = self.lock();
        let index = usize::try_from(handle).ok().filter(|&i| i < t.slots.len());
        let Some(index) = index else { return Err(format!("join of {handle}, which is not a task")) };
        if let Slot::Done(result) = t.slots[index] {
            return Ok(result);
        }
        let green = RUNNING.with(Cell::get);
        if green.is_null() {
            drop(t);
            return Ok(me.run.blocked(me, || {
                let mut t = self.lock();
                loop {
                    if let Slot::Done(result) = t.slots[index] {
                        return result;
                    }
                    t = Self::wait(&self.done, t);
                }
            }));
        }
        // SAFETY: RUNNING points at the running task, owned by this worker's scheduler.
        let me_task = unsafe { (*green).index };
        t.waiters.entry(index).or_default().push((WORKER.with(Cell::get), me_task));
        drop(t);
        // The walk runs below the scheduler: an idle task's stack keeps only its own frames.
        on_system_stack(|| {
            let frames = crate::managed_frames(&*me.run.source).into_iter().map(|(f, _)| f).collect();
            me.run.block(me, frames, Some(me_task));
        });
        // SAFETY: the task's context is saved in its own `Green`, and the scheduler's is
        // the one this worker switched away from to run it (module documentation).
        unsafe { switch(&raw mut (*green).sp, SCHEDULER_SP.with(Cell::get)) };
        match self.lock().slots[index] {
            Slot::Done(result) => Ok(result),
            _ => Err(format!("task {me_task} resumed before task {index} finished")),
        }
    }

    /// Records task `index`'s result and makes the tasks joining it ready.
    fn finish_task(&self, index: usize, result: i64) {
        let mut t = self.lock();
        t.slots[index] = Slot::Done(result);
        t.live -= 1;
        for (worker, task) in t.waiters.remove(&index).unwrap_or_default() {
            t.ready[worker].push_back(task);
        }
        drop(t);
        self.work.notify_all();
        self.done.notify_all();
    }

    /// Ends the pool: queued tasks never start and suspended ones never
    /// resume (as goroutines end with `main`); running ones run until they
    /// finish or suspend, and the workers exit.
    pub(crate) fn shut_down(&self) {
        {
            let mut t = self.lock();
            t.shutdown = true;
            t.queue.clear();
        }
        self.work.notify_all();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for thread in threads {
            let _ = thread.join();
        }
    }

    /// Counts a collection: tasks trim their cached segments at their next return to a previous segment.
    pub(crate) fn collected(&self) {
        self.collections.fetch_add(1, Relaxed);
    }

    /// Adds the pool's counters to `stats`.
    pub(crate) fn add_stats(&self, stats: &mut crate::Stats) {
        let t = self.lock();
        stats.tasks = t.slots.len() as u64;
        stats.peak_live_tasks = t.peak_live;
        drop(t);
        stats.stack_growths = self.growths.load(Relaxed);
        stats.segments_allocated = self.segments_allocated.load(Relaxed);
        stats.peak_stack_bytes = self.peak_stack_bytes.load(Relaxed);
        stats.peak_resident_kib = peak_resident_kib();
    }

    fn take_segment(&self, size: usize) -> Result<Segment, String> {
        let segment = self.segments.alloc(size)?;
        let now = self.stack_bytes.fetch_add(segment.size as u64, Relaxed) + segment.size as u64;
        self.peak_stack_bytes.fetch_max(now, Relaxed);
        Ok(segment)
    }

    fn give_segment(&self, segment: Segment) {
        self.stack_bytes.fetch_sub(segment.size as u64, Relaxed);
        self.segments.free(segment);
    }
}

impl TaskStack {
    fn new(pool: &Pool) -> Result<TaskStack, String> {
        let epoch = pool.collections.load(Relaxed);
        Ok(TaskStack { segments: vec![pool.take_segment(FIRST_SEGMENT)?], depth: 0, epoch })
    }

    fn limit(&self) -> u64 {
        self.segments[self.depth].base + RED_ZONE as u64
    }

    /// Moves to the next segment (cached, or twice the size of the current
    /// one): returns its top and limit.
    fn grow(&mut self, pool: &Pool) -> Result<(u64, u64), String> {
        if self.depth + 1 == self.segments.len() {
            let size = (self.segments[self.depth].size * 2).min(MAX_SEGMENT);
            self.segments.push(pool.take_segment(size)?);
            pool.segments_allocated.fetch_add(1, Relaxed);
        }
        self.depth += 1;
        pool.growths.fetch_add(1, Relaxed);
        Ok((self.segments[self.depth].top(), self.limit()))
    }

    /// Back to the previous segment; after a collection, segments beyond
    /// the next one go back to the pool.
    fn shrink(&mut self, pool: &Pool) {
        self.depth -= 1;
        let epoch = pool.collections.load(Relaxed);
        if epoch == self.epoch {
            return;
        }
        self.epoch = epoch;
        while self.segments.len() > self.depth + 2 {
            let segment = self.segments.pop().expect("more segments than the depth");
            pool.give_segment(segment);
        }
    }

    fn release(self, pool: &Pool) {
        for segment in self.segments {
            pool.give_segment(segment);
        }
    }
}

/// Exchanges the thread's runtime state with a task's: at a switch into the
/// task (the task's state becomes the thread's) and back (the scheduler's).
fn swap_task_locals(me: &Current, green: &mut Green) {
    green.entries = swap_runtime_entries(std::mem::take(&mut green.entries));
    swap_task_panic(&mut green.panic);
    std::mem::swap(&mut *me.line.borrow_mut(), &mut green.line);
    green.limit = me.ctx.stack_limit.swap(green.limit, Relaxed);
}

enum Next {
    Start(usize, u64, [i64; MAX_TASK_ARGS]),
    Resume(usize),
}

/// A worker thread: a mutator of the run for its whole life, blocked while
/// its scheduler runs (collections do not wait for it), running ready and
/// queued tasks until the run finishes.
fn worker(run: Arc<Run>, index: usize) {
    let me = crate::enter_thread(run.clone(), None);
    WORKER.with(|w| w.set(index));
    let pool = &run.pool;
    let mut greens: HashMap<usize, Box<Green>> = HashMap::new();
    run.block(&me, Vec::new(), None);
    loop {
        let next = {
            let mut t = pool.lock();
            loop {
                if let Some(task) = t.ready[index].pop_front() {
                    break Some(Next::Resume(task));
                }
                if t.shutdown {
                    break None;
                }
                if let Some(task) = t.queue.pop_front() {
                    let Slot::Queued { code, args } = std::mem::replace(&mut t.slots[task], Slot::Running) else {
                        unreachable!("queued tasks are in the queue")
                    };
                    t.live += 1;
                    t.peak_live = t.peak_live.max(t.live);
                    break Some(Next::Start(task, code, args));
                }
                t.idle += 1;
                t = Pool::wait(&pool.work, t);
                t.idle -= 1;
            }
        };
        let (task, resumed) = match next {
            None => break,
            Some(Next::Resume(task)) => (task, true),
            Some(Next::Start(task, code, args)) => {
                let stack = TaskStack::new(pool).unwrap_or_else(|e| crate::runtime_error(&e, None));
                let limit = stack.limit();
                let top = stack.segments[0].top();
                let mut green = Box::new(Green {
                    index: task,
                    code,
                    args,
                    sp: 0,
                    stack,
                    result: None,
                    entries: Vec::new(),
                    panic: TaskPanic::default(),
                    line: Vec::new(),
                    limit,
                });
                let arg = &raw mut *green as u64;
                // SAFETY: the segment is the new task's alone; `green_main` receives its `Green`,
                // which stays in `greens` (boxed, so it does not move) until the task ends.
                green.sp = unsafe { prepare(top, green_main, arg) };
                greens.insert(task, green);
                (task, false)
            }
        };
        let green: *mut Green = &raw mut **greens.get_mut(&task).expect("a ready task belongs to its worker");
        run.unblock(&me, resumed.then_some(task));
        // SAFETY: `green` is owned by `greens` and not otherwise borrowed here.
        swap_task_locals(&me, unsafe { &mut *green });
        RUNNING.with(|r| r.set(green));
        // SAFETY: the task's saved context is on its own stack, which only it uses; it switches
        // back to SCHEDULER_SP when it suspends or ends (and blocks this thread first).
        unsafe { switch(SCHEDULER_SP.with(Cell::as_ptr), (*green).sp) };
        RUNNING.with(|r| r.set(std::ptr::null_mut()));
        // SAFETY: as above; the task no longer runs.
        swap_task_locals(&me, unsafe { &mut *green });
        if greens[&task].result.is_some() {
            let ended = greens.remove(&task).expect("the task that ran");
            ended.stack.release(pool);
        }
    }
    for (task, green) in greens {
        run.forget_task(task);
        green.stack.release(pool);
    }
    drop(me);
    crate::leave_thread();
}

/// The start of a task's stack: runs the task, records its result, and
/// switches back to the scheduler for the last time.
unsafe extern "C" fn green_main(arg: u64) -> ! {
    let green = arg as *mut Green;
    {
        let me = crate::current();
        // SAFETY: `prepare`'s argument is this task's `Green`, alive until it ends.
        let (index, code, args) = unsafe { ((*green).index, (*green).code, (*green).args) };
        let result = run_task(&me, code, &args);
        me.run.pool.finish_task(index, result);
        // SAFETY: as above.
        unsafe { (*green).result = Some(result) };
        me.run.block(&me, Vec::new(), None);
    }
    // SAFETY: the scheduler's context is where this worker switched from to run the task;
    // the task's stack is released only after this switch.
    unsafe { switch(&raw mut (*green).sp, SCHEDULER_SP.with(Cell::get)) };
    unreachable!("a finished task was resumed")
}

/// Calls a task's wrapper on this (registered) thread. A panic the task
/// did not recover ends the program, as in Go.
fn run_task(me: &Rc<Current>, code: u64, args: &[i64; MAX_TASK_ARGS]) -> i64 {
    // SAFETY: `code` is a spawn site's compiled wrapper (`toy_spawn`'s contract), which
    // takes this thread's context and reads its arguments from `args`.
    let code: TaskCode = unsafe { std::mem::transmute::<usize, TaskCode>(code as usize) };
    // SAFETY: as above; the thread is a registered mutator of the run the code belongs to.
    let result = unsafe { code(&*me.ctx, args.as_ptr()) };
    if me.ctx.panic.load(Relaxed) != 0 {
        crate::panic::exit_if_unrecovered();
    }
    result
}

/// `toy_grow(resume, frame)` (`GcRole::Runtime`), called by a function
/// whose prologue found the stack pointer below the context's limit: runs
/// `resume(frame)` (the function again, with its arguments from `frame`) on
/// the task's next segment, then returns to the old one.
#[no_mangle]
pub extern "C" fn toy_grow(entry: u64, resume: u64, frame: u64) {
    guarded("toy_grow", || {
        let _entry = enter_runtime(entry);
        let green = RUNNING.with(Cell::get);
        if green.is_null() {
            crate::runtime_error("stack overflow (the stack limit was reached outside a task)", None);
        }
        let me = crate::current();
        // SAFETY: RUNNING points at the running task; no other reference to it is in use.
        let grown = unsafe { (*green).stack.grow(&me.run.pool) };
        let (top, limit) = grown.unwrap_or_else(|e| crate::runtime_error(&e, None));
        let old = me.ctx.stack_limit.swap(limit, Relaxed);
        let mut call = [resume, frame];
        // SAFETY: the segment below `top` is the task's and unused; `resume_on_segment` calls
        // the compiled resume function with its frame, as `toy_grow`'s contract says.
        unsafe { call_on_stack(top, resume_on_segment, call.as_mut_ptr() as u64) };
        me.ctx.stack_limit.store(old, Relaxed);
        // SAFETY: as above (the task may have been suspended and resumed meanwhile, on this
        // worker: tasks do not migrate).
        unsafe { (*green).stack.shrink(&me.run.pool) };
    })
}

/// Calls `resume(frame)` from `[resume, frame]` at `call`.
unsafe extern "C" fn resume_on_segment(call: u64) -> u64 {
    // SAFETY: `toy_grow` passes its `[resume, frame]` pair, alive during the call.
    let [resume, frame] = unsafe { *(call as *const [u64; 2]) };
    // SAFETY: `resume` is a compiled `void(ptr)` resume function (`StackCheck`).
    let resume = unsafe { std::mem::transmute::<usize, unsafe extern "C" fn(u64)>(resume as usize) };
    // SAFETY: as above.
    unsafe { resume(frame) };
    0
}

/// Runs `f` on the worker's own stack when the caller runs on a task's
/// segment (a collection, a panic's report: more than a red zone holds).
pub(crate) fn on_system_stack<F: FnOnce() -> R, R>(f: F) -> R {
    let on_task = !RUNNING.with(Cell::get).is_null() && !ON_SYSTEM_STACK.with(Cell::get);
    if !on_task {
        return f();
    }
    let mut slot: (Option<F>, Option<R>) = (Some(f), None);
    unsafe extern "C" fn run<F: FnOnce() -> R, R>(slot: u64) -> u64 {
        // SAFETY: `on_system_stack` passes its slot, alive during the call.
        let slot = unsafe { &mut *(slot as *mut (Option<F>, Option<R>)) };
        let f = slot.0.take().expect("called once");
        ON_SYSTEM_STACK.with(|s| s.set(true));
        // A panic cannot unwind through the stack switch: carry it across.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        ON_SYSTEM_STACK.with(|s| s.set(false));
        match result {
            Ok(r) => slot.1 = Some(r),
            Err(payload) => {
                let message = crate::guard::panic_message(&*payload).to_string();
                slot.0 = None;
                return message_box(message);
            }
        }
        0
    }
    // Below the scheduler's saved registers (and the x86-64 red zone), 16-byte aligned.
    let top = (SCHEDULER_SP.with(Cell::get) - 256) & !15;
    // SAFETY: the worker's stack below its suspended scheduler is unused while one of its
    // tasks runs; `run` takes the slot's closure and leaves its result there.
    let failed = unsafe { call_on_stack(top, run::<F, R>, &raw mut slot as u64) };
    if failed != 0 {
        // SAFETY: `message_box` made it.
        let message = unsafe { Box::from_raw(failed as *mut String) };
        panic!("{message}");
    }
    slot.1.expect("the closure ran")
}

/// The process's peak resident set, in KiB (0 if `getrusage` fails).
fn peak_resident_kib() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is valid for writing one `rusage`.
    let ok = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } == 0;
    // SAFETY: zero-initialised, and filled in when the call succeeded.
    let usage = unsafe { usage.assume_init() };
    if ok {
        usage.ru_maxrss.max(0) as u64
    } else {
        0
    }
}

fn message_box(message: String) -> u64 {
    Box::into_raw(Box::new(message)) as u64
}
