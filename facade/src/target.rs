//! Target selection and the target facts the facade needs for layout and
//! capability queries. The backend resolves a [`TargetSpec`] into a
//! [`TargetInfo`]; the facade never guesses layout from a triple itself.

/// Which target to generate code for. `None` fields mean "the host's own".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetSpec {
    /// Target triple, e.g. `aarch64-unknown-linux-gnu`; `None` = host.
    pub triple: Option<String>,
    /// CPU name, e.g. `x86-64-v3`; `None` = generic for a foreign triple, native for the host.
    pub cpu: Option<String>,
    /// LLVM-style feature string, e.g. `+sse4.2,-avx`; `None` = the CPU's defaults.
    pub features: Option<String>,
}

impl TargetSpec {
    /// The machine this process runs on, with its CPU and features.
    pub fn host() -> Self {
        Self::default()
    }

    /// A named triple with generic CPU and default features.
    pub fn triple(triple: impl Into<String>) -> Self {
        Self { triple: Some(triple.into()), ..Self::default() }
    }

    /// Sets the CPU name.
    pub fn with_cpu(mut self, cpu: impl Into<String>) -> Self {
        self.cpu = Some(cpu.into());
        self
    }

    /// Sets the feature string.
    pub fn with_features(mut self, features: impl Into<String>) -> Self {
        self.features = Some(features.into());
        self
    }
}

/// Instruction set family of a resolved target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    /// x86-64 / AMD64.
    X86_64,
    /// 32-bit x86.
    X86,
    /// AArch64 / ARM64.
    Aarch64,
    /// 32-bit ARM.
    Arm,
    /// RISC-V, 64-bit.
    Riscv64,
    /// RISC-V, 32-bit.
    Riscv32,
    /// WebAssembly, 32-bit memory.
    Wasm32,
    /// WebAssembly, 64-bit memory.
    Wasm64,
    /// Anything else LLVM supports; capability queries are conservative.
    Other,
}

/// Object file format of a resolved target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObjectFormat {
    /// ELF (Linux, BSDs, bare metal).
    Elf,
    /// Mach-O (Apple).
    MachO,
    /// COFF (Windows).
    Coff,
    /// WebAssembly object files.
    Wasm,
    /// Other formats (XCOFF, GOFF, ...).
    Other,
}

/// Size and ABI alignment of one scalar, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScalarLayout {
    /// Store size in bytes.
    pub size: u64,
    /// ABI alignment in bytes.
    pub align: u64,
}

/// Facts about a resolved target, read from the backend's own data layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetInfo {
    /// The normalized triple.
    pub triple: String,
    /// The CPU name in effect.
    pub cpu: String,
    /// The feature string in effect.
    pub features: String,
    /// Instruction set family.
    pub arch: Arch,
    /// Object file format.
    pub object_format: ObjectFormat,
    /// Byte order.
    pub big_endian: bool,
    /// Layout of a pointer in address space 0.
    pub pointer: ScalarLayout,
    /// Layout of i1, i8, i16, i32, i64, i128 in that order.
    pub ints: [ScalarLayout; 6],
    /// Layout of f32.
    pub f32: ScalarLayout,
    /// Layout of f64.
    pub f64: ScalarLayout,
    /// Widest atomic access (bits) the target performs lock-free; 0 if none.
    pub max_atomic_bits: u32,
}

impl TargetInfo {
    /// Pointer width in bits.
    pub fn pointer_bits(&self) -> u32 {
        (self.pointer.size * 8) as u32
    }

    /// Whether integers of `bits` can be used as codegen storage on this target.
    ///
    /// i128 follows clang's `__int128` availability: 64-bit targets and wasm,
    /// where the helper routines for 128-bit division exist in the runtime.
    pub fn supports_int_width(&self, bits: u32) -> bool {
        match bits {
            1 | 8 | 16 | 32 | 64 => true,
            128 => self.pointer.size == 8 || matches!(self.arch, Arch::Wasm32 | Arch::Wasm64),
            _ => false,
        }
    }

    /// Whether an atomic access of `bits` is lock-free on this target (the only
    /// atomics the API offers: no hidden locks or libatomic calls).
    pub fn supports_atomic_bits(&self, bits: u64) -> bool {
        (8..=u64::from(self.max_atomic_bits)).contains(&bits)
    }

    /// Whether pointers into address space `space` can be used on this target:
    /// typed, loaded, stored and passed. Refused (measured with LLVM 19, whose
    /// code generator aborts or whose layout differs from ours):
    /// - x86 and AArch64: 270, 271 and 272, the mixed-size pointer spaces
    ///   (`__ptr32`, `__ptr64`; on AArch64 from LLVM 20 on, for Arm64EC),
    ///   whose pointers are not the target's pointer width;
    /// - WebAssembly: 1 (wasm globals), 10 and 20 (`externref`, `funcref`),
    ///   which are not memory;
    /// - targets without rules here: every space but 0.
    pub fn supports_address_space(&self, space: u32) -> bool {
        if space >= 1 << 24 {
            return false;
        }
        match self.arch {
            Arch::X86_64 | Arch::X86 | Arch::Aarch64 => !matches!(space, 270..=272),
            Arch::Wasm32 | Arch::Wasm64 => !matches!(space, 1 | 10 | 20),
            Arch::Arm | Arch::Riscv64 | Arch::Riscv32 => true,
            Arch::Other => space == 0,
        }
    }

    /// Whether data can hold the address of a symbol as a pointer into address
    /// space `space` ([`crate::DataInit::reloc_in`]): the symbol's address must
    /// mean the same in that space. x86 segment spaces (256 and up) and every
    /// non-zero space on WebAssembly are refused (LLVM aborts on such initializers).
    pub fn supports_address_constants_in(&self, space: u32) -> bool {
        if space == 0 {
            return true;
        }
        self.supports_address_space(space)
            && match self.arch {
                Arch::X86_64 | Arch::X86 => space < 256,
                Arch::Wasm32 | Arch::Wasm64 => false,
                _ => true,
            }
    }

    /// Whether functions with GC safepoints can be compiled (LLVM's statepoint
    /// lowering exists for x86-64 and AArch64 only).
    pub fn supports_gc_safepoints(&self) -> bool {
        matches!(self.arch, Arch::X86_64 | Arch::Aarch64)
    }

    /// Whether functions of calling convention `conv` can be compiled for this
    /// target (measured with LLVM 19: other pairs abort its code generator).
    pub fn supports_call_conv(&self, conv: crate::CallConv) -> bool {
        use crate::CallConv::*;
        match conv {
            C | Fast => true,
            SysV64 | Win64 => self.arch == Arch::X86_64,
            Cold => matches!(self.arch, Arch::X86_64 | Arch::X86 | Arch::Wasm32 | Arch::Wasm64),
            Tail => matches!(self.arch, Arch::X86_64 | Arch::X86 | Arch::Aarch64),
            PreserveMost | PreserveAll => matches!(self.arch, Arch::X86_64 | Arch::Aarch64),
        }
    }

    /// Whether a `nest` (static chain) parameter can be passed: x86-64 `r10`,
    /// i686 `ecx`, AArch64 `x18`, riscv64 `t2` (WebAssembly has none).
    pub fn supports_nest(&self) -> bool {
        matches!(self.arch, Arch::X86_64 | Arch::X86 | Arch::Aarch64 | Arch::Riscv64)
    }

    /// Whether guaranteed tail calls ([`crate::Cg::tail_call`]) can be made. On
    /// WebAssembly they need the `tail-call` feature; riscv64 makes them only
    /// when every argument travels in registers (checked per call).
    pub fn supports_guaranteed_tail_calls(&self) -> bool {
        match self.arch {
            Arch::X86_64 | Arch::X86 | Arch::Aarch64 | Arch::Riscv64 => true,
            Arch::Wasm32 | Arch::Wasm64 => self.features.split(',').any(|f| f == "+tail-call"),
            _ => false,
        }
    }

    /// Whether [`crate::CheckLowering::Implicit`] null checks become faulting
    /// accesses in the trap table (LLVM's implicit null checks and fault maps:
    /// x86-64 and AArch64, measured with LLVM 19; elsewhere they stay branches).
    pub fn supports_implicit_null_checks(&self) -> bool {
        matches!(self.arch, Arch::X86_64 | Arch::Aarch64)
    }

    /// Whether inline stack probes can be requested (`FuncAttrs::stack_probes`;
    /// measured with LLVM 19: x86 and AArch64 emit probe loops, riscv64 and
    /// WebAssembly none; Windows probes every large frame anyway).
    pub fn supports_stack_probes(&self) -> bool {
        matches!(self.arch, Arch::X86_64 | Arch::X86 | Arch::Aarch64)
    }

    /// Whether floating-point arithmetic of `width` runs on hardware (without
    /// it, LLVM lowers it to library calls the program must link).
    pub fn has_hardware_float(&self, width: crate::FloatWidth) -> bool {
        let has = |f: &str| self.features.split(',').any(|x| x == f);
        match self.arch {
            Arch::X86_64 | Arch::X86 | Arch::Aarch64 | Arch::Wasm32 | Arch::Wasm64 => true,
            Arch::Riscv64 | Arch::Riscv32 => match width {
                crate::FloatWidth::F32 => has("+f") || has("+d"),
                crate::FloatWidth::F64 => has("+d"),
            },
            Arch::Arm | Arch::Other => false,
        }
    }

    /// The SIMD extensions enabled in the feature string (x86 `sse*`/`avx*`,
    /// AArch64 `neon`/`sve*`, RISC-V `v`, WebAssembly `simd128`). The facade
    /// has no vector types yet; this says what LLVM may vectorize with.
    pub fn simd_extensions(&self) -> Vec<String> {
        let simd = |f: &str| match self.arch {
            Arch::X86_64 | Arch::X86 => f.starts_with("sse") || f.starts_with("avx") || f.starts_with("ssse"),
            Arch::Aarch64 => f == "neon" || f.starts_with("sve"),
            Arch::Riscv64 | Arch::Riscv32 => f == "v",
            Arch::Wasm32 | Arch::Wasm64 => f == "simd128" || f == "relaxed-simd",
            Arch::Arm | Arch::Other => f == "neon",
        };
        let mut out: Vec<String> = self
            .features
            .split(',')
            .filter_map(|f| f.strip_prefix('+'))
            .filter(|f| simd(f))
            .map(str::to_string)
            .collect();
        // AArch64 always has Advanced SIMD; x86-64 always has SSE2.
        let baseline = match self.arch {
            Arch::Aarch64 => Some("neon"),
            Arch::X86_64 => Some("sse2"),
            _ => None,
        };
        if let Some(b) = baseline {
            if !out.iter().any(|f| f == b) {
                out.insert(0, b.to_string());
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Whether a scalar access below its natural alignment is one instruction
    /// (otherwise LLVM splits it into byte accesses, which stay correct).
    pub fn fast_unaligned_access(&self) -> bool {
        let has = |f: &str| self.features.split(',').any(|x| x == f);
        match self.arch {
            Arch::X86_64 | Arch::X86 | Arch::Wasm32 | Arch::Wasm64 => true,
            Arch::Aarch64 => !has("+strict-align"),
            Arch::Riscv64 | Arch::Riscv32 => has("+unaligned-scalar-mem"),
            Arch::Arm | Arch::Other => false,
        }
    }

    /// Bytes below the stack pointer a leaf function may use without moving
    /// it (x86-64 System V and Apple AArch64: 128; elsewhere none). Functions
    /// opt out with `FuncAttrs::no_red_zone`.
    pub fn red_zone_bytes(&self) -> u64 {
        let windows = self.triple.contains("windows");
        let apple = self.triple.contains("apple") || self.triple.contains("darwin");
        match self.arch {
            Arch::X86_64 if !windows => 128,
            Arch::Aarch64 if apple => 128,
            _ => 0,
        }
    }

    /// Whether records and arrays can be passed and returned by value (the C
    /// ABI rules exist here: x86-64 System V and Win64, i686 Linux, AArch64
    /// Linux, riscv64, wasm32; `doc/abi.md`), and variadic functions defined.
    pub fn supports_aggregates_by_value(&self) -> bool {
        let windows = self.triple.contains("windows");
        let apple = self.triple.contains("apple") || self.triple.contains("darwin");
        match self.arch {
            Arch::X86_64 | Arch::Riscv64 | Arch::Wasm32 => true,
            Arch::X86 | Arch::Aarch64 => !windows && !apple,
            _ => false,
        }
    }

    /// Whether the object format can express `visibility`.
    pub fn supports_visibility(&self, visibility: crate::Visibility) -> bool {
        match visibility {
            crate::Visibility::Default | crate::Visibility::Hidden => true,
            crate::Visibility::Protected => self.object_format == ObjectFormat::Elf,
        }
    }

    /// Whether the object format can express `linkage`.
    pub fn supports_linkage(&self, linkage: crate::Linkage) -> bool {
        use crate::Linkage::*;
        match linkage {
            External | Internal => true,
            Weak | WeakOdr | LinkOnceOdr | ExternalWeak => self.object_format != ObjectFormat::Other,
        }
    }

    /// Whether the object format has COMDAT groups with selection `kind`
    /// (measured with LLVM 19: ELF has `Any` and `NoDeduplicate`, COFF all five,
    /// wasm `Any`, Mach-O none; any other pair aborts LLVM's code generator).
    pub fn supports_comdat(&self, kind: crate::ComdatKind) -> bool {
        use crate::ComdatKind::*;
        match self.object_format {
            ObjectFormat::Elf => matches!(kind, Any | NoDeduplicate),
            ObjectFormat::Coff => true,
            ObjectFormat::Wasm => kind == Any,
            ObjectFormat::MachO | ObjectFormat::Other => false,
        }
    }

    /// Whether thread-local data with access `model` can be emitted. ELF honours
    /// each model; Mach-O and COFF lower every model to their one mechanism;
    /// wasm without `+atomics` (one thread) lowers thread-locals to plain globals.
    pub fn supports_tls(&self, model: crate::TlsModel) -> bool {
        let _ = model;
        self.object_format != ObjectFormat::Other
    }

    /// Whether functions and data can be placed in named sections (Mach-O
    /// names are `segment,section`).
    pub fn supports_sections(&self) -> bool {
        self.object_format != ObjectFormat::Other
    }

    /// Whether read-only data can be mergeable (`DataDecl::mergeable`: ELF
    /// `SHF_MERGE` sections, Mach-O `__cstring`/literal sections, COFF and wasm
    /// string sections the linker may fold).
    pub fn supports_mergeable_data(&self) -> bool {
        self.object_format != ObjectFormat::Other
    }

    /// Whether symbols can name an ELF loadable partition (`Placement::partition`;
    /// lld's partitions exist for ELF only).
    pub fn supports_partitions(&self) -> bool {
        self.object_format == ObjectFormat::Elf
    }

    /// Whether aliases ([`crate::Cg::declare_alias`]) can be emitted.
    pub fn supports_aliases(&self) -> bool {
        self.object_format != ObjectFormat::Other
    }

    /// Whether constructors and destructors run in priority order
    /// ([`crate::Cg::add_init_fini`]): ELF `.init_array.N`, COFF `.CRT$XCT`-style
    /// sections, Mach-O and wasm by sorting each object's list.
    pub fn supports_init_fini_priority(&self) -> bool {
        self.object_format != ObjectFormat::Other
    }

    /// The inline assembly architecture of this target ([`crate::AsmBlock`]'s
    /// guard must name it); `None` where inline assembly is not offered.
    pub fn asm_arch(&self) -> Option<crate::AsmArch> {
        crate::AsmArch::of(self.arch)
    }

    /// The inline assembly dialects: AT&T and Intel on x86-64, the target's
    /// own syntax (`Att`) on AArch64 and riscv64, none elsewhere.
    pub fn asm_dialects(&self) -> &'static [crate::AsmDialect] {
        use crate::AsmDialect::*;
        match self.asm_arch() {
            Some(crate::AsmArch::X86_64) => &[Att, Intel],
            Some(_) => &[Att],
            None => &[],
        }
    }

    /// The register classes inline assembly operands may use here (riscv64
    /// `freg` needs the F extension).
    pub fn asm_reg_classes(&self) -> Vec<crate::RegClass> {
        crate::asm::classes(self)
    }

    /// The explicit register names operands and clobbers of `class` accept,
    /// in table order (riscv64 also accepts the numeric `xN`/`fN` spellings).
    pub fn asm_registers(&self, class: crate::RegClass) -> Vec<&'static str> {
        let Some(arch) = self.asm_arch() else { return Vec::new() };
        if !self.asm_reg_classes().contains(&class) {
            return Vec::new();
        }
        crate::asm::registers(arch).filter(|r| crate::asm::in_class(r, class)).map(|r| r.name).collect()
    }

    /// The registers `clobber_abi(abi)` clobbers here.
    pub fn asm_clobber_set(&self, abi: crate::ClobberAbi) -> Vec<&'static str> {
        let Some(arch) = self.asm_arch() else { return Vec::new() };
        crate::asm::clobber_set(self, arch, abi).into_iter().map(|r| r.name).collect()
    }
}
