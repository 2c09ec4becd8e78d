//! JIT benchmarks (issue: JIT publish/registry/replacement), one run, medians:
//! - publish latency of a 1-function unit at O0 and O2, and of a 100-function unit at O2;
//! - registry lookups (PC to function, PC to stack map) with 10,000 and 100,000 entries;
//! - a call through a function's stable entry against a direct call of its body;
//! - publish throughput (publishes per second) from 1 thread and from 2 threads,
//!   same total work: publishes compile outside the session's lock;
//! - one-function publish latency as the session grows to 100,000 functions.
//!
//! Run: `cargo bench -p cfree-tests --bench jit` (all), or with `-- throughput`,
//! `-- latency`, `-- lookup`, `-- registry`, `-- call` for one part.

use std::hint::black_box;
use std::time::{Duration, Instant};

use cfree_jit_orc::{Jit, Registry};
use cfree_llvm_lower::{LlvmContext, LlvmModule, OptLevel};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A unit of `n` one-step functions (`cfree_tests::jit::work_unit`).
fn unit<'c>(llvm: &'c LlvmContext, prefix: &str, n: usize) -> LlvmModule<'c> {
    cfree_tests::jit::work_unit(llvm, prefix, n, 1)
}

fn publish_latency(jit: &Jit, n: usize, level: OptLevel, reps: usize, tag: &str) -> Duration {
    let llvm = LlvmContext::new();
    let times = (0..reps)
        .map(|r| {
            // Emission is outside the timed region: publish = compile + link + resolve + registry.
            let m = unit(&llvm, &format!("{tag}{r}"), n);
            let t = Instant::now();
            jit.publish(&m, level).unwrap();
            t.elapsed()
        })
        .collect();
    median(times)
}

/// One-function O0 publishes into a session already holding about `sizes[i]`
/// published functions (units of 1,000), median per size: what deriving the
/// next registry snapshot adds as the session grows.
fn registry_growth(sizes: &[usize], reps: usize) -> Vec<(usize, Duration)> {
    let jit = Jit::new().unwrap();
    let llvm = LlvmContext::new();
    let mut filled = 0;
    let mut out = Vec::new();
    for &size in sizes {
        while filled < size {
            let n = (size - filled).min(1_000);
            jit.publish_owned(unit(&llvm, &format!("fill{filled}"), n), OptLevel::O0).unwrap();
            filled += n;
        }
        let times = (0..reps)
            .map(|r| {
                let m = unit(&llvm, &format!("g{size}_{r}"), 1);
                let t = Instant::now();
                jit.publish_owned(m, OptLevel::O0).unwrap();
                t.elapsed()
            })
            .collect();
        filled += reps;
        out.push((jit.registry().counts().functions, median(times)));
    }
    out
}

fn lookups(n: usize) -> (f64, f64) {
    let size = 256;
    let base = 0x7f00_0000_0000;
    let r = Registry::synthetic(n, base, size);
    let mut x = 0x1234_5678_9abc_def1u64;
    let pcs: Vec<u64> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            base + (x % (n as u64 * size))
        })
        .collect();
    let maps: Vec<u64> = pcs.iter().map(|p| p - p % size + 8).collect();
    let rounds = 500;
    let t = Instant::now();
    for _ in 0..rounds {
        for pc in &pcs {
            black_box(r.function_at(black_box(*pc)));
        }
    }
    let f = t.elapsed().as_nanos() as f64 / (rounds * pcs.len()) as f64;
    let t = Instant::now();
    for _ in 0..rounds {
        for pc in &maps {
            black_box(r.stackmap_at(black_box(*pc)));
        }
    }
    let s = t.elapsed().as_nanos() as f64 / (rounds * maps.len()) as f64;
    (f, s)
}

fn call_cost(jit: &Jit, work: usize) -> (f64, f64, f64) {
    let llvm = LlvmContext::new();
    let prefix = format!("hot{work}");
    jit.publish(&cfree_tests::jit::work_unit(&llvm, &prefix, 3, work), OptLevel::O2).unwrap();
    // Function 2 multiplies by 3: a real dependent chain of `work` steps.
    let sym = jit.registry().symbol(&format!("{prefix}_2")).unwrap().clone();
    // SAFETY: both addresses are the linked `hot_1: fn(i64) -> i64` (entry and body).
    let (entry, body) = unsafe {
        (
            std::mem::transmute::<usize, extern "C" fn(i64) -> i64>(sym.entry as usize),
            std::mem::transmute::<usize, extern "C" fn(i64) -> i64>(sym.body as usize),
        )
    };
    let n = 20_000_000 / work.max(1) as i64 * 2;
    let measure = |f: extern "C" fn(i64) -> i64| {
        let runs = (0..5)
            .map(|_| {
                let t = Instant::now();
                let mut acc = 0i64;
                for i in 0..n {
                    acc = acc.wrapping_add(black_box(f)(black_box(i)));
                }
                black_box(acc);
                t.elapsed()
            })
            .collect();
        median(runs).as_nanos() as f64 / n as f64
    };
    // Interleave to share any drift.
    let (d1, e1, d2, e2) = (measure(body), measure(entry), measure(body), measure(entry));
    // The handle's own `call`: reads the cell, then calls the body directly.
    let typed = jit.get::<unsafe extern "C" fn(i64) -> i64>(&format!("{prefix}_2")).unwrap();
    let runs = (0..5)
        .map(|_| {
            let t = Instant::now();
            let mut acc = 0i64;
            for i in 0..n {
                // SAFETY: the function computes on its argument.
                acc = acc.wrapping_add(unsafe { black_box(&typed).call(black_box(i)) });
            }
            black_box(acc);
            t.elapsed()
        })
        .collect();
    let handle = median(runs).as_nanos() as f64 / n as f64;
    ((d1 + d2) / 2.0, (e1 + e2) / 2.0, handle)
}

/// Publishes per second of `total` units of `n` functions at `level`, spread over
/// `threads` threads (each emits its modules first, then all publish at once).
fn throughput(threads: usize, total: usize, n: usize, level: OptLevel) -> f64 {
    let jit = Jit::new().unwrap();
    let start = std::sync::Barrier::new(threads + 1);
    let elapsed = std::thread::scope(|s| {
        for t in 0..threads {
            let (jit, start) = (&jit, &start);
            s.spawn(move || {
                let llvm = LlvmContext::new();
                let units: Vec<LlvmModule<'_>> = (0..total / threads)
                    .map(|k| cfree_tests::jit::work_unit(&llvm, &format!("tp{t}_{k}"), n, 8))
                    .collect();
                start.wait();
                for m in &units {
                    jit.publish(m, level).unwrap();
                }
            });
        }
        start.wait();
        Instant::now()
    })
    .elapsed();
    assert_eq!(jit.publish_stats().published as usize, total / threads * threads);
    (total / threads * threads) as f64 / elapsed.as_secs_f64()
}

fn main() {
    let host = cfree_llvm_lower::host_spec();
    println!("cfree-jit-orc benchmarks  (LLVM {}, {})", cfree_llvm_lower::LLVM_MAJOR, host.cpu.unwrap_or_default());
    let only = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let part = |name: &str| only.as_deref().is_none_or(|o| o == name);
    let jit = Jit::new().unwrap();
    if part("latency") {
        let p0 = publish_latency(&jit, 1, OptLevel::O0, 21, "a");
        let p2 = publish_latency(&jit, 1, OptLevel::O2, 21, "b");
        let p100 = publish_latency(&jit, 100, OptLevel::O2, 5, "c");
        println!("publish, 1 function, O0      {:>10.3} ms", p0.as_secs_f64() * 1e3);
        println!("publish, 1 function, O2      {:>10.3} ms", p2.as_secs_f64() * 1e3);
        println!("publish, 100 functions, O2   {:>10.3} ms", p100.as_secs_f64() * 1e3);
    }
    if part("throughput") {
        for (n, level) in [(1, OptLevel::O0), (20, OptLevel::O2)] {
            let one = throughput(1, 40, n, level);
            let two = throughput(2, 40, n, level);
            println!(
                "publish throughput, 40 units of {n} fn(s) at {level:?}: 1 thread {one:.1}/s, 2 threads {two:.1}/s (x{:.2})",
                two / one
            );
        }
    }
    if part("lookup") {
        for n in [10_000, 100_000] {
            let (f, s) = lookups(n);
            println!("lookup, {n:>6} entries: PC->function {f:>6.1} ns, PC->stack map {s:>6.1} ns");
        }
    }
    if part("registry") {
        for (functions, t) in registry_growth(&[0, 10_000, 100_000], 31) {
            println!("publish, 1 function, O0, session of {functions:>6} functions: {:>8.3} ms", t.as_secs_f64() * 1e3);
        }
    }
    if !part("call") {
        return;
    }
    for work in [1, 8, 32] {
        let (direct, entry, handle) = call_cost(&jit, work);
        println!(
            "call ({work:>2} mul+rotate): direct {direct:.2} ns | via entry stub {entry:.2} ns (x{:.3}) | via TypedFunc::call {handle:.2} ns (x{:.3})",
            entry / direct,
            handle / direct
        );
    }
}
