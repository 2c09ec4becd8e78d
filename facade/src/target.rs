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
