//! The generational collector driven directly through the runtime's entry
//! points, with no managed frames (the entry record is a fake frame whose
//! return address is not managed code) and the test's own "globals" as the
//! only roots: promotion out of the nursery, old-to-young references found
//! only through the barrier's cards (the remembered set), large objects that
//! never move, a heap that shrinks once its data dies, and the check that
//! catches a store that bypassed the barrier (in a child process: it aborts).

use std::cell::Cell;
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::sync::Arc;

use cfree_statepoint::Safepoint;
use cfree_toy_rt::{record_header, Context, SafepointSource, Settings, Stats};

struct NoManagedFrames;

impl SafepointSource for NoManagedFrames {
    fn safepoint_at(&self, _pc: u64) -> Option<&Safepoint> {
        None
    }
}

/// One heap on this test's thread, with `ROOTS` reference words as its globals.
struct Run {
    /// Cells: the collector rewrites them (forwarding) inside runtime calls.
    roots: Box<[Cell<u64>; ROOTS]>,
    /// A frame record (caller's frame pointer 0, return address 0): the walk finds no managed frame.
    frame: Box<[u64; 2]>,
}

const ROOTS: usize = 4;
const POISON: u64 = 0xdead_beef_dead_beef;

impl Run {
    fn new(settings: Settings) -> Run {
        cfree_toy_rt::install_in(Arc::new(NoManagedFrames), settings, Context::leak_new());
        let run = Run { roots: Box::new(std::array::from_fn(|_| Cell::new(0))), frame: Box::new([0; 2]) };
        cfree_toy_rt::toy_register_globals(run.roots.as_ptr() as u64, ROOTS as i64);
        run
    }

    fn root(&self, k: usize) -> u64 {
        self.roots[k].get()
    }

    /// `roots[k] = value` (the globals are roots: no barrier).
    fn set_root(&self, k: usize, value: u64) {
        self.roots[k].set(value)
    }

    fn entry(&self) -> u64 {
        self.frame.as_ptr() as u64
    }

    /// `new Box { next, v }` (a record with one reference field, then an int).
    fn new_box(&self, v: i64, next: u64) -> u64 {
        let r = cfree_toy_rt::toy_alloc(self.entry(), record_header(16, 1) as i64, 16);
        // SAFETY: a new record of two words; initialising stores need no barrier.
        unsafe {
            *(r as *mut u64) = next;
            *((r + 8) as *mut i64) = v;
        }
        r
    }

    /// `roots[0] = new Box { next: roots[0], v }` (`next` is read after the
    /// allocation, which may move the old head).
    fn push_box(&self, v: i64) {
        let b = self.new_box(v, 0);
        // SAFETY: the new box's reference field, initialised before anything can collect.
        unsafe { *(b as *mut u64) = self.root(0) };
        self.set_root(0, b);
    }

    fn new_array(&self, len: i64, refs: bool) -> u64 {
        cfree_toy_rt::toy_alloc_array(self.entry(), len, i64::from(refs))
    }

    /// `object.field = value` through the barrier (`field` is a word index; arrays: 1 + index).
    fn store(&self, object: u64, field: u64, value: u64) {
        let slot = object + 8 * field;
        // SAFETY: `slot` is a reference field of a live object.
        unsafe { *(slot as *mut u64) = value };
        cfree_toy_rt::toy_write_barrier(slot, 0, value, 0);
    }

    /// Allocates garbage until `done(stats)`: small boxes (which die in the
    /// nursery) or, if `large`, arrays allocated in the old space (which spend
    /// its budget, so major collections follow).
    fn churn(&self, large: bool, done: impl Fn(&Stats) -> bool) -> Stats {
        for _ in 0..100_000 {
            let stats = cfree_toy_rt::stats();
            if done(&stats) {
                return stats;
            }
            if large {
                self.new_array(20_000, false);
            } else {
                for _ in 0..64 {
                    self.new_box(-1, 0);
                }
            }
        }
        panic!("the collection never came: {:?}", cfree_toy_rt::stats())
    }

    /// Allocates until at least one more major collection ran.
    fn major(&self) -> Stats {
        let before = cfree_toy_rt::stats().major_collections;
        self.churn(true, |s| s.major_collections > before)
    }

    /// Allocates until at least one more (minor) collection ran.
    fn collect(&self) -> Stats {
        let before = cfree_toy_rt::stats().collections;
        self.churn(false, |s| s.collections > before)
    }
}

fn field(r: u64, k: u64) -> u64 {
    // SAFETY: the tests read fields of live objects.
    unsafe { *((r + 8 * k) as *const u64) }
}

fn settings() -> [Settings; 2] {
    [
        Settings { stress: false, stress_polls: false, poison: true },
        Settings { stress: true, stress_polls: false, poison: true },
    ]
}

#[test]
fn survivors_are_promoted_out_of_the_nursery_and_keep_their_fields() {
    for s in settings() {
        let run = Run::new(s);
        // A list of 1,000 boxes, its head a root; collections happen while it grows.
        for v in 0..1000 {
            run.push_box(v);
        }
        let head = run.root(0);
        let stats = run.collect();
        assert_ne!(run.root(0), head, "{s:?}: the head moved out of the nursery");
        let (mut sum, mut n, mut at) = (0, 0, run.root(0));
        while at != 0 {
            sum += field(at, 1) as i64;
            n += 1;
            at = field(at, 0);
        }
        assert_eq!((n, sum), (1000, 999 * 1000 / 2), "{s:?}");
        assert!(stats.words_copied >= 3000, "{s:?}: {stats:?}");
    }
}

#[test]
fn old_to_young_references_are_found_through_the_remembered_set() {
    for s in settings() {
        let run = Run::new(s);
        run.set_root(0, run.new_box(1, 0));
        let before = run.root(0);
        run.collect();
        let old = run.root(0);
        assert_ne!(old, before, "{s:?}: promoted");
        // The young box is referenced only by the old one: the next minor collection
        // finds it through the card the barrier marked, or not at all.
        let young = run.new_box(42, 0);
        run.store(old, 0, young);
        let stats = run.collect();
        let moved = field(old, 0);
        assert_eq!(run.root(0), old, "{s:?}: old objects do not move");
        assert_ne!(moved, young, "{s:?}: the young box was promoted");
        assert_ne!(field(moved, 1), POISON, "{s:?}: the old object still points into the (poisoned) nursery");
        assert_eq!(field(moved, 1), 42, "{s:?}");
        assert!(stats.dirty_cards >= 1, "{s:?}: {stats:?}");
        // Later collections (major ones included) keep it.
        let stats = run.major();
        assert_eq!(field(field(old, 0), 1), 42, "{s:?}: {stats:?}");
    }
}

#[test]
fn large_arrays_live_in_the_old_space_and_their_elements_are_remembered() {
    const LEN: u64 = 20_000; // 160 KB: over the largest size class
    for s in settings() {
        let run = Run::new(s);
        let array = run.new_array(LEN as i64, true);
        run.set_root(1, array);
        run.collect();
        assert_eq!(run.root(1), array, "{s:?}: a large array never moves");
        for k in (0..LEN).step_by(999) {
            let b = run.new_box(k as i64, 0);
            run.store(array, 1 + k, b);
        }
        run.collect();
        for k in (0..LEN).step_by(999) {
            let b = field(array, 1 + k);
            assert_eq!(field(b, 1), k, "{s:?}: element {k}");
        }
        assert_eq!(field(array, 0), LEN, "{s:?}: length");
        // Unreferenced large arrays are freed by major collections: the heap stays bounded.
        run.set_root(1, 0);
        let mut peak = 0;
        for _ in 0..(if s.stress { 20 } else { 2000 }) {
            run.new_array(LEN as i64, false);
            peak = peak.max(cfree_toy_rt::stats().heap_bytes);
        }
        assert!(peak < 64 << 20, "{s:?}: {peak} bytes for 80 KB of live data");
    }
}

#[test]
fn the_heap_shrinks_when_its_data_dies() {
    let run = Run::new(Settings { stress: false, stress_polls: false, poison: false });
    // 2 M boxes (48 MB) live at once.
    for v in 0..2_000_000 {
        run.push_box(v);
    }
    let full = run.collect();
    assert!(full.heap_bytes >= 48 << 20, "{full:?}");
    run.set_root(0, 0);
    // Arrays allocated in the old space spend its budget: major collections follow.
    let mut stats = full;
    while stats.major_collections < full.major_collections + 2 {
        run.new_array(20_000, false);
        stats = cfree_toy_rt::stats();
    }
    assert!(stats.heap_bytes * 3 < full.heap_bytes, "heap {} after, {} before", stats.heap_bytes, full.heap_bytes);
    assert!(stats.peak_heap_bytes >= full.heap_bytes);
}

const CHILD: &str = "CFREE_TOY_RT_COLLECTOR_CHILD";

/// Stores a young box into an old one without calling the barrier, then collects.
fn store_without_barrier() -> ! {
    let run = Run::new(Settings { stress: false, stress_polls: false, poison: true });
    run.set_root(0, run.new_box(1, 0));
    run.collect();
    let young = run.new_box(42, 0);
    // SAFETY: the old box's reference field; the barrier is deliberately not called.
    unsafe { *(run.root(0) as *mut u64) = young };
    run.major();
    println!("a major collection ran without noticing");
    std::process::exit(3)
}

#[test]
fn a_store_that_bypasses_the_barrier_is_caught_by_the_next_major_collection() {
    if std::env::var(CHILD).is_ok() {
        store_without_barrier();
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_store_that_bypasses_the_barrier_is_caught_by_the_next_major_collection", "--nocapture"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{stderr}");
    assert!(stderr.contains("a reference into the nursery survived a minor collection"), "{stderr}");
}
