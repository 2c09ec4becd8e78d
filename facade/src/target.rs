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
}
