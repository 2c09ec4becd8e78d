//! Resolving a [`TargetSpec`] into an LLVM target machine and the layout
//! facts the facade needs, read from LLVM's own data layout.

use cfree_facade::{Arch, MemFlags, ObjectFormat, ResolvedAccess, ScalarLayout, TargetInfo, TargetSpec};
use inkwell::context::Context;
use inkwell::targets::{ByteOrdering, CodeModel, RelocMode, Target, TargetData, TargetMachine, TargetTriple};
use inkwell::types::AnyType;
use inkwell::OptimizationLevel;

use crate::{Error, Result};

/// A resolved target: what to pass to LLVM, and what the facade sees.
#[derive(Debug)]
pub(crate) struct ResolvedTarget {
    pub(crate) info: TargetInfo,
    pub(crate) target: Target,
    /// RISC-V float ABI for the `target-abi` module flag, when it is not the triple's default.
    pub(crate) abi_name: Option<&'static str>,
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
    let tm = machine(&target, &triple, &cpu, &features, OptimizationLevel::Default)?;
    let data = tm.get_target_data();
    let mut info = layout_info(&data, triple.clone(), cpu, features, arch);
    info.max_atomic_bits = max_atomic_bits(arch, &info.triple, &info.features);
    Ok(ResolvedTarget { info, target, abi_name })
}

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
    let mut ints = [1u32, 8, 16, 32, 64, 128].map(|bits| of(&crate::backend::int_type(&ctx, bits)));
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
