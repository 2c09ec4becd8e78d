//! Tasks: `spawn f(args)` and `join(t)` (`doc/runtime.md`, "Tasks").
//!
//! A task is a call of a compiled wrapper (one per spawn site, `i64
//! toy.task.N(ctx, args)`) on a pool of OS threads, each a mutator thread
//! with its own context while it runs a task. The pool grows to
//! `CFREE_TOY_THREADS` threads (default: the machine's cores) as tasks wait.
//! `join` returns the task's result; a task that has not started yet runs on
//! the joining thread instead (so tasks that join tasks cannot exhaust the
//! pool), and one that is running is waited for with the joining thread
//! blocked, which collections do not wait for.

use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crate::mutator::{Context, Current, Run};

/// The most arguments a spawned call takes (each an `int`, a `float`'s bits or a `bool`).
pub const MAX_TASK_ARGS: usize = 6;

/// Stack size of pool threads: deep recursion is normal in Toy; pages are
/// committed only when touched.
const POOL_STACK_SIZE: usize = 256 << 20;

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
    queue: VecDeque<usize>,
    /// The run is finishing: idle threads exit, queued tasks never start.
    shutdown: bool,
    threads: usize,
    idle: usize,
}

/// The task table and thread pool of one run.
#[derive(Default)]
pub(crate) struct Pool {
    tasks: Mutex<Tasks>,
    /// Signalled when a task is queued (one idle thread wakes) or the run ends.
    work: Condvar,
    /// Signalled when a task finishes (its joiners wake).
    done: Condvar,
    threads: Mutex<Vec<JoinHandle<()>>>,
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
        let grow = t.idle == 0 && t.threads < pool_size();
        if grow {
            t.threads += 1;
        }
        drop(t);
        self.work.notify_one();
        if grow {
            let run = run.clone();
            let thread = std::thread::Builder::new()
                .name("toy-task".into())
                .stack_size(POOL_STACK_SIZE)
                .spawn(move || worker(run))
                .map_err(|e| format!("starting a task thread: {e}"))?;
            self.threads.lock().unwrap_or_else(|e| e.into_inner()).push(thread);
        }
        Ok(id as i64)
    }

    /// The result of task `handle`, running it here if it has not started.
    pub(crate) fn join(&self, me: &Rc<Current>, handle: i64) -> Result<i64, String> {
        let mut t = self.lock();
        let index = usize::try_from(handle).ok().filter(|&i| i < t.slots.len());
        let Some(index) = index else { return Err(format!("join of {handle}, which is not a task")) };
        match t.slots[index] {
            Slot::Done(result) => Ok(result),
            Slot::Queued { code, args } => {
                t.queue.retain(|&i| i != index);
                t.slots[index] = Slot::Running;
                drop(t);
                let result = run_task(me, code, &args);
                self.finish_task(index, result);
                Ok(result)
            }
            Slot::Running => {
                drop(t);
                Ok(me.run.blocked(me, || {
                    let mut t = self.lock();
                    loop {
                        if let Slot::Done(result) = t.slots[index] {
                            return result;
                        }
                        t = Self::wait(&self.done, t);
                    }
                }))
            }
        }
    }

    fn finish_task(&self, index: usize, result: i64) {
        self.lock().slots[index] = Slot::Done(result);
        self.done.notify_all();
    }

    /// Ends the pool: queued tasks never start (as goroutines end with
    /// `main`), running ones finish, and the threads exit.
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

    /// Tasks spawned so far.
    pub(crate) fn spawned(&self) -> u64 {
        self.lock().slots.len() as u64
    }
}

/// A pool thread: a mutator of the run for its whole life, blocked while it
/// waits for a task (collections do not wait for it), running queued tasks
/// until the run finishes.
fn worker(run: Arc<Run>) {
    let me = crate::enter_thread(run.clone(), None);
    loop {
        let next = run.blocked(&me, || {
            let mut t = run.pool.lock();
            loop {
                if t.shutdown {
                    return None;
                }
                if let Some(index) = t.queue.pop_front() {
                    let Slot::Queued { code, args } = std::mem::replace(&mut t.slots[index], Slot::Running) else {
                        unreachable!("queued tasks are in the queue")
                    };
                    return Some((index, code, args));
                }
                t.idle += 1;
                t = Pool::wait(&run.pool.work, t);
                t.idle -= 1;
            }
        });
        let Some((index, code, args)) = next else { break };
        let result = run_task(&me, code, &args);
        run.pool.finish_task(index, result);
    }
    drop(me);
    crate::leave_thread();
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
