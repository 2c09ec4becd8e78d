//! The capability matrix of `doc/targets.md`, rendered from each target's
//! `TargetInfo` queries (a test keeps the document equal to it).

use cfree_facade::{CallConv, ComdatKind, FloatWidth, Linkage, TargetInfo, TargetSpec, TlsModel, Visibility};
use cfree_llvm_lower::LlvmContext;

/// The triples the matrix covers: the executed ones, the compared ones, and
/// one COFF and one Mach-O target for objects.
pub const TRIPLES: [&str; 7] = [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "riscv64-unknown-linux-gnu",
    "i686-unknown-linux-gnu",
    "wasm32-unknown-unknown",
    "x86_64-pc-windows-msvc",
    "x86_64-apple-darwin",
];

/// Resolves `triple` with its default CPU and features.
pub fn info(triple: &str) -> TargetInfo {
    let llvm = LlvmContext::new();
    let cg = llvm.module("caps", &TargetSpec::triple(triple)).expect("a supported triple");
    cg.target().clone()
}

fn yes(b: bool) -> String {
    if b { "yes" } else { "—" }.to_string()
}

/// A matrix row: the question and how a target answers it.
type Row = (&'static str, Box<dyn Fn(&TargetInfo) -> String>);

/// One row per question, one column per target.
/// Address spaces with a meaning on some target (x86 segments and mixed-size
/// pointers; wasm globals and reference types) plus ordinary ones.
pub const ADDRESS_SPACE_PROBES: [u32; 10] = [1, 5, 10, 20, 256, 257, 258, 270, 271, 272];

fn list<'a>(spaces: impl Iterator<Item = &'a u32>) -> String {
    let v: Vec<String> = spaces.map(|s| s.to_string()).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

pub fn matrix() -> String {
    let infos: Vec<TargetInfo> = TRIPLES.iter().map(|t| info(t)).collect();
    let mut rows: Vec<Row> = Vec::new();
    rows.push(("pointer bits", Box::new(|t| t.pointer_bits().to_string())));
    rows.push(("`i128` storage", Box::new(|t| yes(t.supports_int_width(128)))));
    rows.push((
        "hardware `f32` / `f64`",
        Box::new(|t| {
            format!("{} / {}", yes(t.has_hardware_float(FloatWidth::F32)), yes(t.has_hardware_float(FloatWidth::F64)))
        }),
    ));
    rows.push(("widest lock-free atomic (bits)", Box::new(|t| t.max_atomic_bits.to_string())));
    rows.push((
        "SIMD extensions (default features)",
        Box::new(|t| {
            let s = t.simd_extensions();
            if s.is_empty() {
                "—".into()
            } else {
                s.join(", ")
            }
        }),
    ));
    rows.push(("fast unaligned scalar access", Box::new(|t| yes(t.fast_unaligned_access()))));
    rows.push(("red zone (bytes)", Box::new(|t| t.red_zone_bytes().to_string())));
    rows.push((
        "calling conventions",
        Box::new(|t| {
            CallConv::ALL
                .iter()
                .filter(|c| t.supports_call_conv(**c))
                .map(|c| format!("{c:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        }),
    ));
    rows.push(("records by value, variadic definitions", Box::new(|t| yes(t.supports_aggregates_by_value()))));
    rows.push(("`nest` parameter", Box::new(|t| yes(t.supports_nest()))));
    rows.push(("guaranteed tail calls", Box::new(|t| yes(t.supports_guaranteed_tail_calls()))));
    rows.push(("inline stack probes", Box::new(|t| yes(t.supports_stack_probes()))));
    rows.push(("GC safepoints (statepoints)", Box::new(|t| yes(t.supports_gc_safepoints()))));
    rows.push(("protected visibility", Box::new(|t| yes(t.supports_visibility(Visibility::Protected)))));
    rows.push(("weak, weak_odr, linkonce_odr, extern_weak", Box::new(|t| yes(t.supports_linkage(Linkage::Weak)))));
    rows.push((
        "inline asm dialects",
        Box::new(|t| {
            let d: Vec<String> = t.asm_dialects().iter().map(|d| format!("{d:?}")).collect();
            if d.is_empty() {
                "—".into()
            } else {
                d.join(", ")
            }
        }),
    ));
    rows.push((
        "inline asm register classes",
        Box::new(|t| {
            let c: Vec<String> = t.asm_reg_classes().iter().map(|c| format!("{c:?}")).collect();
            if c.is_empty() {
                "—".into()
            } else {
                c.join(", ")
            }
        }),
    ));
    rows.push((
        "COMDAT selection kinds",
        Box::new(|t| {
            let kinds = [
                ComdatKind::Any,
                ComdatKind::ExactMatch,
                ComdatKind::Largest,
                ComdatKind::NoDeduplicate,
                ComdatKind::SameSize,
            ];
            let s: Vec<String> = kinds.iter().filter(|k| t.supports_comdat(**k)).map(|k| format!("{k:?}")).collect();
            if s.is_empty() {
                "—".into()
            } else {
                s.join(", ")
            }
        }),
    ));
    rows.push((
        "thread-locals (all four models)",
        Box::new(|t| {
            let models = [TlsModel::GeneralDynamic, TlsModel::LocalDynamic, TlsModel::InitialExec, TlsModel::LocalExec];
            yes(models.iter().all(|m| t.supports_tls(*m)))
        }),
    ));
    rows.push(("loadable partitions", Box::new(|t| yes(t.supports_partitions()))));
    rows.push((
        "sections, aliases, constructor priorities, mergeable data",
        Box::new(|t| {
            yes(t.supports_sections()
                && t.supports_aliases()
                && t.supports_init_fini_priority()
                && t.supports_mergeable_data())
        }),
    ));
    rows.push((
        "address spaces refused (of those probed)",
        Box::new(|t| list(ADDRESS_SPACE_PROBES.iter().filter(|s| !t.supports_address_space(**s)))),
    ));
    rows.push((
        "symbol addresses in data: spaces refused (of those probed)",
        Box::new(|t| {
            let probes = ADDRESS_SPACE_PROBES.iter().filter(|s| t.supports_address_space(**s));
            list(probes.filter(|s| !t.supports_address_constants_in(**s)))
        }),
    ));
    let short: Vec<&str> = TRIPLES.iter().map(|t| t.split('-').next().unwrap_or(t)).collect();
    let mut out = String::from("| question |");
    for (t, s) in TRIPLES.iter().zip(&short) {
        let label = if t.contains("windows") {
            "x86_64 Windows"
        } else if t.contains("apple") {
            "x86_64 macOS"
        } else {
            s
        };
        out.push_str(&format!(" {label} |"));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(TRIPLES.len()));
    out.push('\n');
    for (q, f) in &rows {
        out.push_str(&format!("| {q} |"));
        for i in &infos {
            out.push_str(&format!(" {} |", f(i)));
        }
        out.push('\n');
    }
    out
}
