//! Batch publish: a set of units built and compiled on a small pool of
//! threads (`doc/jit.md`, "Parallel compilation").
//!
//! An LLVM context belongs to one thread, and a module borrows its context,
//! so modules cannot be handed to workers: each worker owns one
//! [`LlvmContext`] and *builds* the units it takes (the caller's `build`
//! closure, called with the worker's context and the unit's index), then
//! publishes them. Publish compiles outside the session's lock, so the
//! workers compile at the same time and only their commits (link, resolve,
//! registry swap) take turns.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use cfree_llvm_lower::{LlvmContext, LlvmModule, OptLevel};

use crate::{Error, Jit, Published, Result};

impl Jit {
    /// Builds and publishes `count` units on `workers` threads (at least one,
    /// at most `count`; the calling thread is one of them) and returns each
    /// unit's outcome, in index order.
    ///
    /// `build(context, index)` emits unit `index` into the worker's context.
    /// Each unit is its own transaction, published with
    /// [`Self::publish_owned`] (compiled in place, not copied): a unit
    /// that fails to build ([`Error::Build`]) or to publish leaves the image as
    /// it was and does not stop the others. Units are committed in the order
    /// they finish compiling, so a unit that imports a function another unit
    /// of the same batch defines may find it unresolved ([`Error::Link`]):
    /// publish what others import first (or put both in one unit).
    ///
    /// # Panics
    ///
    /// A panic in `build` is propagated once every worker has stopped; the
    /// units already published stay published.
    pub fn publish_batch<E, F>(&self, count: usize, workers: usize, level: OptLevel, build: F) -> Vec<Result<Published>>
    where
        F: for<'c> Fn(&'c LlvmContext, usize) -> std::result::Result<LlvmModule<'c>, E> + Sync,
        E: std::error::Error + Send + Sync + 'static,
    {
        let next = AtomicUsize::new(0);
        let outcomes: Mutex<Vec<Option<Result<Published>>>> = Mutex::new((0..count).map(|_| None).collect());
        let work = || {
            let llvm = LlvmContext::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= count {
                    break;
                }
                let outcome = match build(&llvm, index) {
                    Ok(module) => self.publish_owned(module, level),
                    Err(e) => {
                        self.shared.counters.count_failure();
                        Err(Error::Build { index, source: Box::new(e) })
                    }
                };
                // A poisoned lock only means another worker panicked after storing its slot.
                outcomes.lock().unwrap_or_else(|p| p.into_inner())[index] = Some(outcome);
            }
        };
        let workers = workers.clamp(1, count.max(1));
        std::thread::scope(|s| {
            for _ in 1..workers {
                s.spawn(work);
            }
            work();
        });
        let outcomes = outcomes.into_inner().unwrap_or_else(|p| p.into_inner());
        // Every index below `count` was taken by exactly one worker, which stored its outcome
        // unless `build` panicked, and a panic has been propagated by the scope above.
        outcomes.into_iter().map(|o| o.unwrap_or_else(|| unreachable!("a worker skipped a unit"))).collect()
    }
}
