//! The cost of isolated compilation (`doc/isolation.md`): in-process
//! `emit_object` against `IsolatedCodegen::emit_object` of the same module, for a
//! 1-function and a 100-function module at O0 and O2, median of `RUNS` runs each.
//!
//! `cargo run --release -p cfree-llvm-lower --example isolate_cost [worker]`; the
//! worker defaults to `cfree-codegen-worker` next to the example's directory (build
//! it first: `cargo build --release -p cfree-llvm-lower --bins`).

use std::time::{Duration, Instant};

use cfree_facade::*;
use cfree_llvm_lower::{IsolatedCodegen, LlvmContext, LlvmModule, OptLevel};

const RUNS: usize = 15;

/// `functions` functions `f<i>(a, b) = (a * i + b) ^ (a >> 3)`, each calling the previous.
fn module(llvm: &LlvmContext, functions: usize) -> LlvmModule<'_> {
    let mut cg = llvm.module("cost", &TargetSpec::host()).expect("host module");
    let i64t = cg.ty_int(IntWidth::I64).expect("i64");
    let sig = cg.ty_func(FuncSig::new(&[i64t, i64t], Some(i64t))).expect("signature");
    let mut previous = None;
    for i in 0..functions {
        let f = cg.declare_func(&format!("f{i}"), FuncDecl::new(sig)).expect("declare");
        cg.func_begin(f).expect("begin");
        let (a, b) = (cg.param_slot(0, "a").expect("a"), cg.param_slot(1, "b").expect("b"));
        let get = |cg: &mut Cg<_>, l| {
            cg.push_local(l).expect("push");
            cg.load(MemAccess::new(i64t)).expect("load");
        };
        get(&mut cg, a);
        cg.push_int(i64t, i as i128).expect("int");
        cg.int_op(IntBinOp::Mul, IntFlags::NONE).expect("mul");
        get(&mut cg, b);
        cg.int_op(IntBinOp::Add, IntFlags::NONE).expect("add");
        get(&mut cg, a);
        cg.push_int(i64t, 3).expect("int");
        cg.int_op(IntBinOp::AShr, IntFlags::NONE).expect("shr");
        cg.int_op(IntBinOp::Xor, IntFlags::NONE).expect("xor");
        if let Some(p) = previous {
            get(&mut cg, b);
            get(&mut cg, a);
            cg.call(Callee::Direct(p), 2).expect("call");
            cg.int_op(IntBinOp::Add, IntFlags::NONE).expect("add");
        }
        cg.ret().expect("ret");
        cg.func_end().expect("end");
        previous = Some(f);
    }
    cfree_llvm_lower::finish(cg).expect("finish")
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let worker = std::env::args().nth(1).map(std::path::PathBuf::from).unwrap_or_else(|| {
        let exe = std::env::current_exe().expect("current exe");
        exe.parent().and_then(|d| d.parent()).expect("target dir").join("cfree-codegen-worker")
    });
    let isolated = IsolatedCodegen::new(&worker);
    println!("worker: {}, {RUNS} runs each, medians", worker.display());
    println!("{:>9} {:>5} {:>12} {:>12} {:>10}", "functions", "level", "in-process", "isolated", "overhead");
    for functions in [1, 100] {
        for level in [OptLevel::O0, OptLevel::O2] {
            let (mut local, mut remote) = (Vec::new(), Vec::new());
            for _ in 0..RUNS {
                let llvm = LlvmContext::new();
                let mut m = module(&llvm, functions);
                let t = Instant::now();
                let object = isolated.emit_object(&m, level).expect("isolated object");
                remote.push(t.elapsed());
                let t = Instant::now();
                let same = m.emit_object(level).expect("object");
                local.push(t.elapsed());
                assert_eq!(object, same, "the worker's object is the in-process object");
            }
            let (l, r) = (median(local), median(remote));
            println!(
                "{functions:>9} {:>5} {:>10.2}ms {:>10.2}ms {:>8.2}ms",
                format!("{level:?}"),
                l.as_secs_f64() * 1e3,
                r.as_secs_f64() * 1e3,
                (r.as_secs_f64() - l.as_secs_f64()) * 1e3
            );
        }
    }
}
