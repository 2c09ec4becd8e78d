//! Collections requested by other threads, answered at safepoint polls
//! (`doc/runtime.md`, "Safepoint polls"). A requester stores the time of its
//! request in `toy_collect_request`; compiled code reads the word at every
//! loop head and, when it is set, calls `toy_poll`, which clears it and
//! collects. The time from the request to the answer is recorded, so a loop
//! that never allocates still reaches a collection promptly.
//!
//! `CFREE_TOY_GC_REQUEST_MS=N` starts a requester thread for a program run
//! that asks for a collection every N milliseconds (a stand-in for the other
//! mutators of a multi-threaded runtime), stopped when the run finishes.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Nonzero while a collection is requested: the request's time (ns since
/// the runtime's clock started, plus one). Compiled code reads it at loop heads.
#[no_mangle]
pub static toy_collect_request: AtomicU64 = AtomicU64::new(0);

fn clock() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64 + 1
}

/// Asks the program's thread for a collection at its next safepoint poll
/// (a pending request keeps its earlier time).
pub fn request_collection() {
    let _ = toy_collect_request.compare_exchange(0, clock(), Ordering::AcqRel, Ordering::Relaxed);
}

/// Takes a pending request: how long it waited, in ns.
pub(crate) fn take() -> Option<u64> {
    match toy_collect_request.swap(0, Ordering::AcqRel) {
        0 => None,
        at => Some(clock().saturating_sub(at)),
    }
}

struct Requester {
    stop: &'static AtomicBool,
    thread: JoinHandle<()>,
}

static REQUESTER: Mutex<Option<Requester>> = Mutex::new(None);

/// Starts the periodic requester if `CFREE_TOY_GC_REQUEST_MS` asks for one.
pub(crate) fn start_from_env() {
    let Some(ms) = std::env::var("CFREE_TOY_GC_REQUEST_MS").ok().and_then(|v| v.parse::<u64>().ok()) else {
        return;
    };
    stop();
    let stop: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let every = Duration::from_millis(ms.max(1));
    let spawned = std::thread::Builder::new().name("toy-gc-requester".into()).spawn(move || {
        while !stop.load(Ordering::Acquire) {
            std::thread::sleep(every);
            request_collection();
        }
    });
    if let (Ok(thread), Ok(mut slot)) = (spawned, REQUESTER.lock()) {
        *slot = Some(Requester { stop, thread });
    }
}

/// Stops the requester (at the end of a run) and drops a request left pending.
pub(crate) fn stop() {
    let requester = REQUESTER.lock().ok().and_then(|mut r| r.take());
    if let Some(r) = requester {
        r.stop.store(true, Ordering::Release);
        let _ = r.thread.join();
    }
    toy_collect_request.store(0, Ordering::Release);
}
