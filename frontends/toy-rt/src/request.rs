//! Collections requested by another thread, answered at safepoint polls
//! (`doc/runtime.md`, "Safepoint polls"). A request sets every mutator's
//! poll word; compiled code reads its own at every loop head and, when it
//! is set, calls `toy_poll`, whose thread then stops the world and collects
//! (`mutator.rs`). The time from the request to the collection is recorded,
//! so a loop that never allocates still reaches a collection promptly.
//!
//! `CFREE_TOY_GC_REQUEST_MS=N` starts a requester thread for a program run
//! that asks for a collection every N milliseconds, stopped when the run
//! finishes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::mutator::Run;

struct Requester {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

static REQUESTER: Mutex<Option<Requester>> = Mutex::new(None);

/// Starts the periodic requester for `run` if `CFREE_TOY_GC_REQUEST_MS` asks for one.
pub(crate) fn start_from_env(run: &Arc<Run>) {
    let Some(ms) = std::env::var("CFREE_TOY_GC_REQUEST_MS").ok().and_then(|v| v.parse::<u64>().ok()) else {
        return;
    };
    stop();
    let stop = Arc::new(AtomicBool::new(false));
    let every = Duration::from_millis(ms.max(1));
    let (run, stopped): (Weak<Run>, _) = (Arc::downgrade(run), stop.clone());
    let spawned = std::thread::Builder::new().name("toy-gc-requester".into()).spawn(move || {
        while !stopped.load(Ordering::Acquire) {
            std::thread::sleep(every);
            let Some(run) = run.upgrade() else { return };
            run.request_collection();
        }
    });
    if let (Ok(thread), Ok(mut slot)) = (spawned, REQUESTER.lock()) {
        *slot = Some(Requester { stop, thread });
    }
}

/// Stops the requester (at the end of a run).
pub(crate) fn stop() {
    let requester = REQUESTER.lock().ok().and_then(|mut r| r.take());
    if let Some(r) = requester {
        r.stop.store(true, Ordering::Release);
        let _ = r.thread.join();
    }
}
