//! Resolving a [`TargetSpec`] into an LLVM target machine and the layout
//! facts the facade needs, read from LLVM's own data layout.

use cfree_facade::{Arch, MemFlags, ObjectFormat, ResolvedAccess, ScalarLayout, TargetInfo, TargetSpec};
use inkwell::context::Context;
use inkwell::targets::{ByteOrdering, CodeModel, RelocMode, Target, TargetData, TargetMachine, TargetTriple};
use inkwell::types::AnyType;
use inkwell::OptimizationLevel;

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::{Error, Result};

/// A resolved target: what to pass to LLVM, and what the facade sees.
#[derive(Debug)]
pub(crate) struct ResolvedTarget {
    pub(crate) info: TargetInfo,
    pub(crate) target: Target,
    /// RISC-V float ABI for the `target-abi` module flag, when it is not the triple's default.
    pub(crate) abi_name: Option<&'static str>,
    /// The target machine's data layout string.
    pub(crate) data_layout: String,
}

/// The host machine, with its triple, CPU and features spelled out.
pub fn host_spec() -> TargetSpec {
    crate::context::init_targets();
    TargetSpec {
        triple: Some(TargetMachine::get_default_triple().as_str().to_string_lossy().into_owned()),
        cpu: Some(TargetMachine::get_host_cpu_name().to_string()),
        features: Some(TargetMachine::get_host_cpu_features().to_string()),
    }
}

fn arch_of(triple: &str) -> Arch {
    let arch = triple.split('-').next().unwrap_or("");
    match arch {
        "x86_64" | "amd64" => Arch::X86_64,
        "i386" | "i486" | "i586" | "i686" | "x86" => Arch::X86,
        "aarch64" | "arm64" => Arch::Aarch64,
        "riscv64" => Arch::Riscv64,
        "riscv32" => Arch::Riscv32,
        "wasm32" => Arch::Wasm32,
        "wasm64" => Arch::Wasm64,
        a if a.starts_with("arm") || a.starts_with("thumb") => Arch::Arm,
        _ => Arch::Other,
    }
}

fn object_format_of(triple: &str, arch: Arch) -> ObjectFormat {
    if matches!(arch, Arch::Wasm32 | Arch::Wasm64) {
        ObjectFormat::Wasm
    } else if triple.ends_with("-elf") {
        ObjectFormat::Elf
    } else if ["apple", "darwin", "macos", "ios"].iter().any(|s| triple.contains(s)) {
        ObjectFormat::MachO
    } else if ["windows", "win32", "msvc", "mingw"].iter().any(|s| triple.contains(s)) {
        ObjectFormat::Coff
    } else {
        ObjectFormat::Elf
    }
}

/// Resolves `spec`. Foreign triples get what clang would pick by default:
/// generic CPU, and for 64-bit RISC-V hosted targets the `rv64gc` features
/// with the `lp64d` float ABI (the Linux ABI), so objects link with the
/// system's libraries.
pub(crate) fn resolve(spec: &TargetSpec) -> Result<ResolvedTarget> {
    crate::context::init_targets();
    // Resolving builds and checks a target machine with stderr captured (about
    // 0.7 ms): each spec is resolved once per process.
    type Key = (Option<String>, Option<String>, Option<String>);
    /// Everything but the `Target` handle, which is found again by triple.
    type Facts = (TargetInfo, Option<&'static str>, String);
    static RESOLVED: OnceLock<Mutex<HashMap<Key, Facts>>> = OnceLock::new();
    let key = (spec.triple.clone(), spec.cpu.clone(), spec.features.clone());
    let cache = RESOLVED.get_or_init(Default::default);
    let cached = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
    if let Some((info, abi_name, data_layout)) = cached {
        let target = Target::from_triple(&TargetTriple::create(&info.triple))
            .map_err(|m| Error::Target { triple: info.triple.clone(), message: m.to_string() })?;
        return Ok(ResolvedTarget { info, target, abi_name, data_layout });
    }
    let resolved = resolve_uncached(spec)?;
    let entry = (resolved.info.clone(), resolved.abi_name, resolved.data_layout.clone());
    cache.lock().unwrap_or_else(|e| e.into_inner()).insert(key, entry);
    Ok(resolved)
}

fn resolve_uncached(spec: &TargetSpec) -> Result<ResolvedTarget> {
    let host = spec.triple.is_none();
    let raw = match &spec.triple {
        Some(t) => t.clone(),
        None => TargetMachine::get_default_triple().as_str().to_string_lossy().into_owned(),
    };
    if raw.is_empty() || raw.contains('\0') {
        return Err(Error::Target { triple: raw, message: "empty triple or triple containing NUL".into() });
    }
    let triple = TargetMachine::normalize_triple(&TargetTriple::create(&raw)).as_str().to_string_lossy().into_owned();
    let target = Target::from_triple(&TargetTriple::create(&triple))
        .map_err(|m| Error::Target { triple: raw.clone(), message: m.to_string() })?;
    let arch = arch_of(&triple);
    let riscv_hosted = arch == Arch::Riscv64 && triple.contains("linux");
    let cpu = match (&spec.cpu, host) {
        (Some(c), _) => c.clone(),
        (None, true) => TargetMachine::get_host_cpu_name().to_string(),
        (None, false) => "generic".to_string(),
    };
    let features = match (&spec.features, host) {
        (Some(f), _) => f.clone(),
        (None, true) => TargetMachine::get_host_cpu_features().to_string(),
        (None, false) if riscv_hosted => "+m,+a,+f,+d,+c".to_string(),
        (None, false) => String::new(),
    };
    if cpu.contains('\0') || features.contains('\0') {
        return Err(Error::Target { triple: raw, message: "CPU or feature string contains NUL".into() });
    }
    let abi_name = (riscv_hosted && features.contains("+d")).then_some("lp64d");
    let tm = checked_machine(&target, &triple, arch, &cpu, &features)
        .map_err(|message| Error::Target { triple: raw.clone(), message })?;
    let data = tm.get_target_data();
    let data_layout = data.get_data_layout().as_str().to_string_lossy().into_owned();
    let mut info = layout_info(&data, triple.clone(), cpu, features, arch);
    info.max_atomic_bits = max_atomic_bits(arch, &info.triple, &info.features);
    Ok(ResolvedTarget { info, target, abi_name, data_layout })
}

/// The first target machine for a (triple, CPU, features) combination, with the
/// names checked first: nothing LLVM would ignore with a warning on stderr, or
/// abort on later in code generation, gets through. Errors are messages for
/// [`Error::Target`].
///
/// LLVM's C API cannot list or check CPU and feature names (`llvm-c/TargetMachine.h`
/// has only the host's names; `MCSubtargetInfo::isCPUStringValid` is C++), and LLVM
/// reports an unknown name only by printing "'name' is not a recognized processor
/// (feature) for this target" to stderr when the machine's subtarget is built. So:
/// 1. names LLVM treats specially or that abort code generation although LLVM knows
///    them are refused without asking LLVM (`check_names`);
/// 2. the machine is created with the process's stderr captured
///    ([`crate::ffi::capture_stderr`]); a warning that quotes our CPU or one of our
///    features refuses it, anything else captured is passed on to stderr. Every name is
///    matched quoted, so the check does not depend on the wording of LLVM's message.
///
/// Combinations that passed are remembered for the process, so capture happens once per
/// combination; later machines (one per optimisation level) are created directly.
/// Checks a CPU and feature string for `triple` (as module creation does).
pub(crate) fn check_cpu_and_features(
    target: &Target,
    triple: &str,
    arch: Arch,
    cpu: &str,
    features: &str,
) -> std::result::Result<(), String> {
    checked_machine(target, triple, arch, cpu, features).map(drop)
}

fn checked_machine(
    target: &Target,
    triple: &str,
    arch: Arch,
    cpu: &str,
    features: &str,
) -> std::result::Result<TargetMachine, String> {
    check_names(arch, cpu, features)?;
    type Seen = std::collections::HashSet<(String, String, String)>;
    static CHECKED: std::sync::Mutex<Option<Seen>> = std::sync::Mutex::new(None);
    let key = (triple.to_string(), cpu.to_string(), features.to_string());
    let seen = |k: &(String, String, String)| {
        CHECKED.lock().map(|set| set.as_ref().is_some_and(|s| s.contains(k))).unwrap_or(false)
    };
    let create = || {
        machine(target, triple, cpu, features, OptimizationLevel::Default).map_err(|e| match e {
            Error::Target { message, .. } => message,
            other => other.to_string(),
        })
    };
    if seen(&key) {
        return create();
    }
    let (tm, printed) = crate::ffi::capture_stderr(create);
    let printed = String::from_utf8_lossy(&printed).to_lowercase();
    let quoted = |name: &str| format!("'{}'", name.to_lowercase());
    let items: Vec<&str> = features.split(',').filter(|f| !f.is_empty()).collect();
    let ours = |line: &str| {
        (!cpu.is_empty() && line.contains(&quoted(cpu))) || items.iter().any(|f| line.contains(&quoted(f)))
    };
    let foreign: String = printed.lines().filter(|l| !ours(l)).map(|l| format!("{l}\n")).collect();
    if !foreign.is_empty() {
        use std::io::Write;
        let _ = std::io::stderr().write_all(foreign.as_bytes());
    }
    if !cpu.is_empty() && printed.contains(&quoted(cpu)) {
        return Err(format!("unknown CPU `{cpu}` for this target"));
    }
    if let Some(f) = items.iter().find(|f| printed.contains(&quoted(f))) {
        return Err(format!("unknown feature `{f}` for this target"));
    }
    let tm = tm?;
    if let Ok(mut set) = CHECKED.lock() {
        set.get_or_insert_with(Default::default).insert(key);
    }
    Ok(tm)
}

/// The checks that need no LLVM: names LLVM's option parsing treats specially (`help`
/// prints a list to stderr), features without a sign (LLVM reads them as disabled), and
/// known names that make LLVM abort in code generation for this architecture (tables
/// measured with `llc -mcpu=` for every CPU LLVM lists, per major).
fn check_names(arch: Arch, cpu: &str, features: &str) -> std::result::Result<(), String> {
    if cpu == "help" {
        return Err("`help` is not a CPU name".into());
    }
    if fatal_cpus(arch).contains(&cpu) {
        return Err(format!(
            "CPU `{cpu}` cannot generate code for this triple (it lacks the triple's base \
             instruction set, or is a tuning model only)"
        ));
    }
    for item in features.split(',').filter(|f| !f.is_empty()) {
        let Some(name) = item.strip_prefix('+').or_else(|| item.strip_prefix('-')) else {
            return Err(format!("feature `{item}` needs a leading `+` or `-`"));
        };
        if name == "help" || name == "cpuhelp" {
            return Err(format!("`{item}` is not a feature name"));
        }
        let mode = match arch {
            Arch::X86 | Arch::X86_64 => ["16bit-mode", "32bit-mode", "64bit-mode"].contains(&name),
            Arch::Riscv32 | Arch::Riscv64 => name == "32bit" || name == "64bit",
            Arch::Aarch64 | Arch::Arm | Arch::Wasm32 | Arch::Wasm64 | Arch::Other => false,
        };
        if mode || (arch == Arch::X86_64 && item == "-64bit") {
            return Err(format!("feature `{item}` contradicts the triple (the triple sets the mode)"));
        }
    }
    Ok(())
}

/// CPUs LLVM knows for the architecture's target but aborts on when generating code for
/// this architecture (LLVM 19.1 and 22.1, measured).
fn fatal_cpus(arch: Arch) -> &'static [&'static str] {
    match arch {
        Arch::X86_64 => X86_32_ONLY,
        Arch::Riscv64 => RISCV64_FATAL,
        Arch::Riscv32 => RISCV32_FATAL,
        Arch::X86 | Arch::Aarch64 | Arch::Arm | Arch::Wasm32 | Arch::Wasm64 | Arch::Other => &[],
    }
}

const X86_32_ONLY: &[&str] = &[
    "athlon",
    "athlon-4",
    "athlon-mp",
    "athlon-tbird",
    "athlon-xp",
    "c3",
    "c3-2",
    "geode",
    "i386",
    "i486",
    "i586",
    "i686",
    "k6",
    "k6-2",
    "k6-3",
    "lakemont",
    "pentium",
    "pentium-m",
    "pentium-mmx",
    "pentium2",
    "pentium3",
    "pentium3m",
    "pentium4",
    "pentium4m",
    "pentium_4",
    "pentium_4_sse3",
    "pentium_ii",
    "pentium_iii",
    "pentium_iii_no_xmm_regs",
    "pentium_m",
    "pentium_mmx",
    "pentium_pro",
    "pentiumpro",
    "prescott",
    "winchip-c6",
    "winchip2",
    "yonah",
];

#[cfg(feature = "llvm19")]
const RISCV64_FATAL: &[&str] = &[
    "generic-rv32",
    "rocket",
    "rocket-rv32",
    "sifive-7-series",
    "sifive-e20",
    "sifive-e21",
    "sifive-e24",
    "sifive-e31",
    "sifive-e34",
    "sifive-e76",
    "syntacore-scr1-base",
    "syntacore-scr1-max",
    "syntacore-scr3-rv32",
];
#[cfg(not(feature = "llvm19"))]
const RISCV64_FATAL: &[&str] = &[
    "andes-45-series",
    "andes-a25",
    "andes-a45",
    "andes-n45",
    "generic-ooo",
    "generic-rv32",
    "rocket",
    "rocket-rv32",
    "rp2350-hazard3",
    "sifive-7-series",
    "sifive-e20",
    "sifive-e21",
    "sifive-e24",
    "sifive-e31",
    "sifive-e34",
    "sifive-e76",
    "syntacore-scr1-base",
    "syntacore-scr1-max",
    "syntacore-scr3-rv32",
    "syntacore-scr4-rv32",
    "syntacore-scr5-rv32",
];
#[cfg(feature = "llvm19")]
const RISCV32_FATAL: &[&str] = &[
    "generic-rv64",
    "rocket",
    "rocket-rv64",
    "sifive-7-series",
    "sifive-p450",
    "sifive-p670",
    "sifive-s21",
    "sifive-s51",
    "sifive-s54",
    "sifive-s76",
    "sifive-u54",
    "sifive-u74",
    "sifive-x280",
    "spacemit-x60",
    "syntacore-scr3-rv64",
    "veyron-v1",
    "xiangshan-nanhu",
];
#[cfg(not(feature = "llvm19"))]
const RISCV32_FATAL: &[&str] = &[
    "andes-45-series",
    "andes-ax25",
    "andes-ax45",
    "andes-ax45mpv",
    "andes-nx45",
    "generic-ooo",
    "generic-rv64",
    "mips-p8700",
    "rocket",
    "rocket-rv64",
    "sifive-7-series",
    "sifive-p450",
    "sifive-p470",
    "sifive-p550",
    "sifive-p670",
    "sifive-p870",
    "sifive-s21",
    "sifive-s51",
    "sifive-s54",
    "sifive-s76",
    "sifive-u54",
    "sifive-u74",
    "sifive-x280",
    "sifive-x390",
    "spacemit-x60",
    "syntacore-scr3-rv64",
    "syntacore-scr4-rv64",
    "syntacore-scr5-rv64",
    "syntacore-scr7",
    "tt-ascalon-d8",
    "veyron-v1",
    "xiangshan-kunminghu",
    "xiangshan-nanhu",
];

/// A target machine at `level`. Position-independent code where the format
/// has it (objects link into PIE executables and load in the JIT); wasm's
/// "PIC" means the experimental dynamic-linking ABI, so wasm stays static.
pub(crate) fn machine(
    target: &Target,
    triple: &str,
    cpu: &str,
    features: &str,
    level: OptimizationLevel,
) -> Result<TargetMachine> {
    let reloc = if arch_of(triple) == Arch::Wasm32 || arch_of(triple) == Arch::Wasm64 {
        RelocMode::Static
    } else {
        RelocMode::PIC
    };
    target
        .create_target_machine(&TargetTriple::create(triple), cpu, features, level, reloc, CodeModel::Default)
        .ok_or_else(|| Error::Target {
            triple: triple.to_string(),
            message: "LLVM could not create a target machine".into(),
        })
}

fn layout_info(data: &TargetData, triple: String, cpu: String, features: String, arch: Arch) -> TargetInfo {
    let ctx = Context::create();
    let of =
        |t: &dyn AnyType<'_>| ScalarLayout { size: data.get_abi_size(t), align: u64::from(data.get_abi_alignment(t)) };
    let mut ints = [1u32, 8, 16, 32, 64, 128].map(|bits| of(&crate::types::int_type(&ctx, bits)));
    // C's `__int128` is 16-byte aligned wherever it exists (clang's Int128Align); some data
    // layouts (LLVM 19's wasm32) say 8. The facade's layout is the C ABI's, so clang wins.
    ints[5] = ScalarLayout { size: 16, align: 16 };
    TargetInfo {
        object_format: object_format_of(&triple, arch),
        triple,
        cpu,
        features,
        arch,
        big_endian: data.get_byte_ordering() == ByteOrdering::BigEndian,
        pointer: of(&ctx.ptr_type(inkwell::AddressSpace::default())),
        ints,
        f32: of(&ctx.f32_type()),
        f64: of(&ctx.f64_type()),
        max_atomic_bits: 0,
    }
}

/// The widest lock-free atomic access: what LLVM lowers to native instructions
/// rather than `__atomic_*` library calls. wasm without the `atomics` feature is
/// single-threaded and LLVM lowers atomics to plain accesses, which is exact there.
fn max_atomic_bits(arch: Arch, triple: &str, features: &str) -> u32 {
    let has = |f: &str| features.split(',').any(|x| x == f);
    match arch {
        Arch::X86_64 if has("+cx16") => 128,
        Arch::X86_64 | Arch::X86 => 64,
        Arch::Aarch64 => 128,
        Arch::Riscv64 if has("+a") => 64,
        Arch::Riscv32 if has("+a") => 32,
        Arch::Wasm32 | Arch::Wasm64 => 64,
        // ARMv6 and later have ldrex/strex; older cores would need __sync library calls.
        Arch::Arm if ["armv6", "armv7", "armv8", "thumbv7", "thumbv8"].iter().any(|v| triple.starts_with(v)) => 32,
        Arch::Arm => 0,
        Arch::Riscv64 | Arch::Riscv32 | Arch::Other => 0,
    }
}

/// The facts a load keeps on `info`'s target.
///
/// x86 has no scalar non-temporal load instruction, and its instruction selection
/// crashes (LLVM 19 and 22, at O1 and above) on a `!nontemporal` i8 or i16 load
/// whose value is used in arithmetic. The hint means nothing there for a scalar load,
/// so x86 loads drop it; stores keep it (`movnti`), as do other targets' loads.
/// Every access the facade loads is a scalar, so no vector load loses a hint.
pub(crate) fn load_facts(info: &TargetInfo, access: &ResolvedAccess) -> ResolvedAccess {
    let x86 = matches!(info.arch, Arch::X86 | Arch::X86_64);
    if !x86 || !access.flags.contains(MemFlags::NONTEMPORAL) {
        return *access;
    }
    let flags = MemFlags::from_bits(access.flags.bits() & !MemFlags::NONTEMPORAL.bits()).unwrap_or(access.flags);
    ResolvedAccess { flags, ..*access }
}
