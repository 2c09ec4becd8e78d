//! Inline assembly vocabulary (`doc/asm.md`), structured like Rust's `asm!`:
//! a template with operand placeholders, a dialect, options, operands by
//! register class or explicit register with a direction, clobbers (explicit,
//! or every caller-saved register of the C convention) and a target guard.
//! `doc/asm.md` is the reference; [`crate::Cg::asm`] validates a block
//! completely before the backend sees it, so no constraint LLVM would abort on
//! can be spelled.
//!
//! The register tables of this file are the only source of register names:
//! validation, capability queries ([`crate::TargetInfo::asm_registers`]) and
//! the clobber sets all read them.

use std::fmt;

use crate::{Arch, TargetInfo, TypeId};

/// The architectures an inline assembly block can be written for (its target
/// guard); a block compiled for any other architecture is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AsmArch {
    /// x86-64.
    X86_64,
    /// AArch64.
    Aarch64,
    /// 64-bit RISC-V.
    Riscv64,
}

impl AsmArch {
    /// The inline assembly architecture of a target, if it has one here.
    pub fn of(arch: Arch) -> Option<AsmArch> {
        match arch {
            Arch::X86_64 => Some(AsmArch::X86_64),
            Arch::Aarch64 => Some(AsmArch::Aarch64),
            Arch::Riscv64 => Some(AsmArch::Riscv64),
            Arch::X86 | Arch::Arm | Arch::Riscv32 | Arch::Wasm32 | Arch::Wasm64 | Arch::Other => None,
        }
    }
}

/// Template syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AsmDialect {
    /// The target's own syntax: AT&T on x86-64, the only syntax elsewhere.
    #[default]
    Att,
    /// Intel syntax (x86-64 only).
    Intel,
}

/// Options of a block (Rust `asm!` options). The default is none: the block
/// may read and write any memory, change the flags, use the stack, and has
/// side effects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct AsmOptions {
    /// No side effects: the outputs depend only on the inputs (and memory, unless
    /// `nomem`), so the block may be removed or merged. Needs outputs and `nomem`
    /// or `readonly`.
    pub pure: bool,
    /// Reads and writes no memory reachable by the program.
    pub nomem: bool,
    /// Reads memory but writes none.
    pub readonly: bool,
    /// Leaves the condition flags (x86 `EFLAGS`, `MXCSR`, x87 status; AArch64 `NZCV`) unchanged.
    pub preserves_flags: bool,
    /// Pushes nothing onto the stack (otherwise the stack is aligned for a call at the block).
    pub nostack: bool,
    /// Never falls through: the block ends the basic block (no outputs).
    pub noreturn: bool,
}

/// A register class: the backend picks a register of the class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegClass {
    /// A general-purpose register: x86-64 `rax`..`r15` (i16, i32, i64, pointers);
    /// AArch64 `x0`..`x30`, riscv64 `x1`..`x31` (i8..i64, pointers).
    Reg,
    /// x86-64 only: one of `rax`, `rbx`, `rcx`, `rdx` (the ones with a high byte), like `reg`.
    RegAbcd,
    /// x86-64 only: `xmm0`..`xmm15` (f32, f64).
    XmmReg,
    /// AArch64 only: `v0`..`v31` (f32, f64).
    Vreg,
    /// riscv64 only: `f0`..`f31` (f32 with the F extension, f64 with D).
    Freg,
}

impl RegClass {
    /// The class's name as Rust's `asm!` spells it.
    pub fn name(self) -> &'static str {
        match self {
            RegClass::Reg => "reg",
            RegClass::RegAbcd => "reg_abcd",
            RegClass::XmmReg => "xmm_reg",
            RegClass::Vreg => "vreg",
            RegClass::Freg => "freg",
        }
    }

    fn is_float(self) -> bool {
        matches!(self, RegClass::XmmReg | RegClass::Vreg | RegClass::Freg)
    }
}

impl fmt::Display for RegClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where an operand lives.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AsmLoc {
    /// Any register of the class.
    Class(RegClass),
    /// This register (a name of [`crate::TargetInfo::asm_registers`], e.g. `rax`, `x0`, `a0`).
    Reg(String),
    /// Inputs only: the register of output operand `n` (its index among all
    /// operands), which must be an `Out` or `LateOut` of the same type.
    Tied(usize),
}

/// The direction of an operand. Inputs come from the value stack; outputs are
/// pushed. An `Out` may be written before every input is read (LLVM
/// "earlyclobber"), so it never shares a register with an input; a `LateOut`
/// is written after all inputs are read and may share one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AsmDir {
    /// Read by the block.
    In,
    /// Written, possibly before the inputs are read (earlyclobber), of this type.
    Out(TypeId),
    /// Written after every input is read, of this type.
    LateOut(TypeId),
    /// Read and written (earlyclobber); the output has the input's type.
    InOut,
    /// Read and written, the write after every input is read; the output has the input's type.
    InLateOut,
}

impl AsmDir {
    pub(crate) fn is_input(self) -> bool {
        matches!(self, AsmDir::In | AsmDir::InOut | AsmDir::InLateOut)
    }

    pub(crate) fn is_output(self) -> bool {
        !matches!(self, AsmDir::In)
    }
}

/// One operand of a block.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AsmOperand {
    /// Direction (and the output type where it is not the input's).
    pub dir: AsmDir,
    /// Register class, explicit register, or tie.
    pub loc: AsmLoc,
}

/// A set of registers clobbered as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClobberAbi {
    /// Every register the target's C calling convention lets a callee change
    /// (Rust `clobber_abi("C")`): what a block that calls a C function needs.
    C,
}

/// An inline assembly block. Placeholders in `template`: `{n}` is operand `n`
/// (its index in `operands`), `{n:m}` prints it with template modifier `m`
/// (`doc/asm.md`), `{{` and `}}` are literal braces. Everything else is passed
/// to the assembler as written.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AsmBlock {
    /// The architectures the block is written for; the module's must be one.
    pub targets: Vec<AsmArch>,
    /// The template.
    pub template: String,
    /// Syntax of the template.
    pub dialect: AsmDialect,
    /// Options.
    pub options: AsmOptions,
    /// Operands in placeholder order.
    pub operands: Vec<AsmOperand>,
    /// Clobber sets.
    pub clobber_abi: Option<ClobberAbi>,
    /// Explicitly clobbered registers (names as in operands).
    pub clobbers: Vec<String>,
}

impl AsmBlock {
    /// A block for `targets` with `template`, no operands and default options.
    pub fn new(targets: &[AsmArch], template: impl Into<String>) -> Self {
        Self { targets: targets.to_vec(), template: template.into(), ..Self::default() }
    }

    /// Adds an operand.
    pub fn operand(mut self, dir: AsmDir, loc: AsmLoc) -> Self {
        self.operands.push(AsmOperand { dir, loc });
        self
    }

    /// Adds an input in a register of `class`.
    pub fn input(self, class: RegClass) -> Self {
        self.operand(AsmDir::In, AsmLoc::Class(class))
    }

    /// Adds an input in register `reg`.
    pub fn input_reg(self, reg: &str) -> Self {
        self.operand(AsmDir::In, AsmLoc::Reg(reg.into()))
    }

    /// Adds an (earlyclobber) output of `ty` in a register of `class`.
    pub fn output(self, class: RegClass, ty: TypeId) -> Self {
        self.operand(AsmDir::Out(ty), AsmLoc::Class(class))
    }

    /// Adds an output of `ty` in register `reg`.
    pub fn output_reg(self, reg: &str, ty: TypeId) -> Self {
        self.operand(AsmDir::LateOut(ty), AsmLoc::Reg(reg.into()))
    }

    /// Sets the dialect.
    pub fn dialect(mut self, dialect: AsmDialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Sets the options.
    pub fn options(mut self, options: AsmOptions) -> Self {
        self.options = options;
        self
    }

    /// Clobbers a set of registers.
    pub fn clobber_abi(mut self, abi: ClobberAbi) -> Self {
        self.clobber_abi = Some(abi);
        self
    }

    /// Clobbers register `reg`.
    pub fn clobber(mut self, reg: &str) -> Self {
        self.clobbers.push(reg.into());
        self
    }
}

// ---- validated form, as the backend receives it ----

/// A validated operand location: a class, or a register by its LLVM-style
/// canonical name (`rax`, `x0`, `v3`, `x10`, `f10`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResolvedLoc {
    /// Any register of the class.
    Class(RegClass),
    /// This register.
    Reg(&'static Register),
}

/// A validated output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsmOutput {
    /// Where it is written.
    pub loc: ResolvedLoc,
    /// Its type.
    pub ty: TypeId,
    /// Written before the inputs are read (may not share a register with them).
    pub early: bool,
}

/// A validated input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsmInput {
    /// Where it is read; for a tied input, the tied output's location.
    pub loc: ResolvedLoc,
    /// Its type.
    pub ty: TypeId,
    /// The output (index in [`ResolvedAsm::outputs`]) whose register it shares.
    pub tied: Option<usize>,
}

/// A piece of a parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AsmPiece {
    /// Literal text (braces unescaped).
    Text(String),
    /// An operand: `index` counts outputs first, then inputs (the order the
    /// backend receives them in), with an optional template modifier.
    Operand {
        /// Index in outputs-then-inputs order.
        index: usize,
        /// The backend's modifier letter (`doc/asm.md`).
        modifier: Option<char>,
    },
}

/// A block after validation: what [`crate::Backend::inline_asm`] lowers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedAsm {
    /// The architecture it is lowered for.
    pub arch: AsmArch,
    /// The parsed template.
    pub pieces: Vec<AsmPiece>,
    /// Dialect (Intel only on x86-64).
    pub dialect: AsmDialect,
    /// Options (combinations checked).
    pub options: AsmOptions,
    /// Outputs, pushed in this order.
    pub outputs: Vec<AsmOutput>,
    /// Inputs, popped in this order (the first was pushed first).
    pub inputs: Vec<AsmInput>,
    /// Clobbered registers: the explicit ones and the clobber set's, without
    /// duplicates and without the registers of outputs.
    pub clobbers: Vec<&'static Register>,
}

// ---- register tables ----

/// What a register holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegKind {
    /// General purpose (integers, pointers).
    Gpr,
    /// Floating point / vector.
    Fpr,
}

/// One register of a target's table.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Register {
    /// The name frontends use (the first accepted spelling).
    pub name: &'static str,
    /// The name in LLVM constraints (`{x10}` for riscv64 `a0`).
    pub llvm: &'static str,
    /// What it holds.
    pub kind: RegKind,
    /// x86-64: one of `rax`, `rbx`, `rcx`, `rdx`.
    pub abcd: bool,
    /// Whether the register allocator may pick it for a class operand (the
    /// count bounds how many class operands a block can have).
    pub allocatable: bool,
    /// Caller-saved in the C convention (in `clobber_abi("C")`).
    pub caller_saved: bool,
}

const fn gpr(name: &'static str, llvm: &'static str, allocatable: bool, caller_saved: bool) -> Register {
    Register { name, llvm, kind: RegKind::Gpr, abcd: false, allocatable, caller_saved }
}
const fn abcd(name: &'static str, allocatable: bool, caller_saved: bool) -> Register {
    Register { name, llvm: name, kind: RegKind::Gpr, abcd: true, allocatable, caller_saved }
}
const fn fpr(name: &'static str, llvm: &'static str, caller_saved: bool) -> Register {
    Register { name, llvm, kind: RegKind::Fpr, abcd: false, allocatable: true, caller_saved }
}

/// x86-64. `rbx` may be named (cpuid) but is not counted for classes: LLVM
/// takes it as a base pointer in frames that need one.
static X86_64_REGS: &[Register] = &[
    abcd("rax", true, true),
    abcd("rbx", false, false),
    abcd("rcx", true, true),
    abcd("rdx", true, true),
    gpr("rsi", "rsi", true, true),
    gpr("rdi", "rdi", true, true),
    gpr("r8", "r8", true, true),
    gpr("r9", "r9", true, true),
    gpr("r10", "r10", true, true),
    gpr("r11", "r11", true, true),
    gpr("r12", "r12", true, false),
    gpr("r13", "r13", true, false),
    gpr("r14", "r14", true, false),
    gpr("r15", "r15", true, false),
    fpr("xmm0", "xmm0", true),
    fpr("xmm1", "xmm1", true),
    fpr("xmm2", "xmm2", true),
    fpr("xmm3", "xmm3", true),
    fpr("xmm4", "xmm4", true),
    fpr("xmm5", "xmm5", true),
    fpr("xmm6", "xmm6", true),
    fpr("xmm7", "xmm7", true),
    fpr("xmm8", "xmm8", true),
    fpr("xmm9", "xmm9", true),
    fpr("xmm10", "xmm10", true),
    fpr("xmm11", "xmm11", true),
    fpr("xmm12", "xmm12", true),
    fpr("xmm13", "xmm13", true),
    fpr("xmm14", "xmm14", true),
    fpr("xmm15", "xmm15", true),
];

/// Registers that exist but may not be operands or clobbers, with the reason.
static X86_64_RESERVED: [(&str, &str); 4] = [
    ("rsp", "stack pointer"),
    ("rbp", "frame pointer"),
    ("rip", "instruction pointer"),
    ("eflags", "flags (use preserves_flags)"),
];

static AARCH64_REGS: &[Register] = &[
    gpr("x0", "x0", true, true),
    gpr("x1", "x1", true, true),
    gpr("x2", "x2", true, true),
    gpr("x3", "x3", true, true),
    gpr("x4", "x4", true, true),
    gpr("x5", "x5", true, true),
    gpr("x6", "x6", true, true),
    gpr("x7", "x7", true, true),
    gpr("x8", "x8", true, true),
    gpr("x9", "x9", true, true),
    gpr("x10", "x10", true, true),
    gpr("x11", "x11", true, true),
    gpr("x12", "x12", true, true),
    gpr("x13", "x13", true, true),
    gpr("x14", "x14", true, true),
    gpr("x15", "x15", true, true),
    gpr("x16", "x16", true, true),
    gpr("x17", "x17", true, true),
    gpr("x20", "x20", true, false),
    gpr("x21", "x21", true, false),
    gpr("x22", "x22", true, false),
    gpr("x23", "x23", true, false),
    gpr("x24", "x24", true, false),
    gpr("x25", "x25", true, false),
    gpr("x26", "x26", true, false),
    gpr("x27", "x27", true, false),
    gpr("x28", "x28", true, false),
    // LLVM knows x30 as `lr` only: `~{x30}` would be silently ignored.
    gpr("x30", "lr", false, true),
    fpr("v0", "v0", true),
    fpr("v1", "v1", true),
    fpr("v2", "v2", true),
    fpr("v3", "v3", true),
    fpr("v4", "v4", true),
    fpr("v5", "v5", true),
    fpr("v6", "v6", true),
    fpr("v7", "v7", true),
    // v8-v15: only the low 64 bits are callee-saved, so a call clobbers them.
    fpr("v8", "v8", true),
    fpr("v9", "v9", true),
    fpr("v10", "v10", true),
    fpr("v11", "v11", true),
    fpr("v12", "v12", true),
    fpr("v13", "v13", true),
    fpr("v14", "v14", true),
    fpr("v15", "v15", true),
    fpr("v16", "v16", true),
    fpr("v17", "v17", true),
    fpr("v18", "v18", true),
    fpr("v19", "v19", true),
    fpr("v20", "v20", true),
    fpr("v21", "v21", true),
    fpr("v22", "v22", true),
    fpr("v23", "v23", true),
    fpr("v24", "v24", true),
    fpr("v25", "v25", true),
    fpr("v26", "v26", true),
    fpr("v27", "v27", true),
    fpr("v28", "v28", true),
    fpr("v29", "v29", true),
    fpr("v30", "v30", true),
    fpr("v31", "v31", true),
];

static AARCH64_RESERVED: [(&str, &str); 7] = [
    ("sp", "stack pointer"),
    ("xzr", "zero register"),
    ("x18", "platform register"),
    ("x19", "LLVM's base pointer"),
    ("x29", "frame pointer"),
    ("fp", "frame pointer"),
    ("nzcv", "flags (use preserves_flags)"),
];

static RISCV64_REGS: &[Register] = &[
    gpr("ra", "x1", false, true),
    gpr("t0", "x5", true, true),
    gpr("t1", "x6", true, true),
    gpr("t2", "x7", true, true),
    gpr("a0", "x10", true, true),
    gpr("a1", "x11", true, true),
    gpr("a2", "x12", true, true),
    gpr("a3", "x13", true, true),
    gpr("a4", "x14", true, true),
    gpr("a5", "x15", true, true),
    gpr("a6", "x16", true, true),
    gpr("a7", "x17", true, true),
    gpr("s2", "x18", true, false),
    gpr("s3", "x19", true, false),
    gpr("s4", "x20", true, false),
    gpr("s5", "x21", true, false),
    gpr("s6", "x22", true, false),
    gpr("s7", "x23", true, false),
    gpr("s8", "x24", true, false),
    gpr("s9", "x25", true, false),
    gpr("s10", "x26", true, false),
    gpr("s11", "x27", true, false),
    gpr("t3", "x28", true, true),
    gpr("t4", "x29", true, true),
    gpr("t5", "x30", true, true),
    gpr("t6", "x31", true, true),
    fpr("ft0", "f0", true),
    fpr("ft1", "f1", true),
    fpr("ft2", "f2", true),
    fpr("ft3", "f3", true),
    fpr("ft4", "f4", true),
    fpr("ft5", "f5", true),
    fpr("ft6", "f6", true),
    fpr("ft7", "f7", true),
    fpr("fs0", "f8", false),
    fpr("fs1", "f9", false),
    fpr("fa0", "f10", true),
    fpr("fa1", "f11", true),
    fpr("fa2", "f12", true),
    fpr("fa3", "f13", true),
    fpr("fa4", "f14", true),
    fpr("fa5", "f15", true),
    fpr("fa6", "f16", true),
    fpr("fa7", "f17", true),
    fpr("fs2", "f18", false),
    fpr("fs3", "f19", false),
    fpr("fs4", "f20", false),
    fpr("fs5", "f21", false),
    fpr("fs6", "f22", false),
    fpr("fs7", "f23", false),
    fpr("fs8", "f24", false),
    fpr("fs9", "f25", false),
    fpr("fs10", "f26", false),
    fpr("fs11", "f27", false),
    fpr("ft8", "f28", true),
    fpr("ft9", "f29", true),
    fpr("ft10", "f30", true),
    fpr("ft11", "f31", true),
];

static RISCV64_RESERVED: [(&str, &str); 7] = [
    ("zero", "zero register"),
    ("sp", "stack pointer"),
    ("gp", "global pointer"),
    ("tp", "thread pointer"),
    ("s0", "frame pointer"),
    ("fp", "frame pointer"),
    ("s1", "LLVM's base pointer"),
];

/// riscv64 numeric names for the reserved ABI names.
static RISCV64_RESERVED_NUMERIC: [(&str, &str); 6] =
    [("x0", "zero"), ("x2", "sp"), ("x3", "gp"), ("x4", "tp"), ("x8", "s0"), ("x9", "s1")];

/// The register table of an architecture.
pub(crate) fn registers(arch: AsmArch) -> impl Iterator<Item = &'static Register> {
    let table: &'static [Register] = match arch {
        AsmArch::X86_64 => X86_64_REGS,
        AsmArch::Aarch64 => AARCH64_REGS,
        AsmArch::Riscv64 => RISCV64_REGS,
    };
    table.iter()
}

/// What a register name means on an architecture.
pub(crate) enum RegLookup {
    Found(&'static Register),
    Reserved(&'static str),
    Unknown,
}

/// Looks a register name up (case-sensitive, lower case as the assemblers print them).
pub(crate) fn lookup(arch: AsmArch, name: &str) -> RegLookup {
    if let Some(r) = registers(arch).find(|r| r.name == name) {
        return RegLookup::Found(r);
    }
    let reserved: &[(&str, &str)] = match arch {
        AsmArch::X86_64 => &X86_64_RESERVED,
        AsmArch::Aarch64 => &AARCH64_RESERVED,
        AsmArch::Riscv64 => &RISCV64_RESERVED,
    };
    if let Some((_, why)) = reserved.iter().find(|(n, _)| *n == name) {
        return RegLookup::Reserved(why);
    }
    if arch == AsmArch::Riscv64 {
        // Numeric spellings: x10 is a0, f10 is fa0.
        if let Some((_, abi)) = RISCV64_RESERVED_NUMERIC.iter().find(|(n, _)| *n == name) {
            return lookup(arch, abi);
        }
        if let Some(r) = registers(arch).find(|r| r.llvm == name) {
            return RegLookup::Found(r);
        }
    }
    if arch == AsmArch::Aarch64 && name == "lr" {
        return lookup(arch, "x30");
    }
    RegLookup::Unknown
}

/// Whether `feature` (without sign) is enabled in an LLVM feature string (the last mention wins).
pub(crate) fn has_feature(features: &str, feature: &str) -> bool {
    let mut on = false;
    for f in features.split(',') {
        if let Some(name) = f.strip_prefix('+') {
            if name == feature {
                on = true;
            }
        } else if let Some(name) = f.strip_prefix('-') {
            if name == feature {
                on = false;
            }
        }
    }
    on
}

/// The register classes of a target.
pub(crate) fn classes(info: &TargetInfo) -> Vec<RegClass> {
    match AsmArch::of(info.arch) {
        Some(AsmArch::X86_64) => vec![RegClass::Reg, RegClass::RegAbcd, RegClass::XmmReg],
        Some(AsmArch::Aarch64) => vec![RegClass::Reg, RegClass::Vreg],
        Some(AsmArch::Riscv64) if has_feature(&info.features, "f") => vec![RegClass::Reg, RegClass::Freg],
        Some(AsmArch::Riscv64) => vec![RegClass::Reg],
        None => Vec::new(),
    }
}

/// Whether `reg` belongs to `class`.
pub(crate) fn in_class(reg: &Register, class: RegClass) -> bool {
    match class {
        RegClass::Reg => reg.kind == RegKind::Gpr,
        RegClass::RegAbcd => reg.abcd,
        RegClass::XmmReg | RegClass::Vreg | RegClass::Freg => reg.kind == RegKind::Fpr,
    }
}

/// The smallest class of a register (for its type check and its pressure).
pub(crate) fn class_of(arch: AsmArch, reg: &Register) -> RegClass {
    match (reg.kind, arch) {
        (RegKind::Gpr, _) => RegClass::Reg,
        (RegKind::Fpr, AsmArch::X86_64) => RegClass::XmmReg,
        (RegKind::Fpr, AsmArch::Aarch64) => RegClass::Vreg,
        (RegKind::Fpr, AsmArch::Riscv64) => RegClass::Freg,
    }
}

/// The scalar kinds an operand may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OperandTy {
    Int(u32),
    Float(u32),
    Ptr,
}

/// Whether a value of `ty` fits a register of `class` on `info`'s target.
pub(crate) fn fits(info: &TargetInfo, arch: AsmArch, class: RegClass, ty: OperandTy) -> bool {
    if class.is_float() {
        return match (arch, ty) {
            (AsmArch::Riscv64, OperandTy::Float(32)) => has_feature(&info.features, "f"),
            (AsmArch::Riscv64, OperandTy::Float(64)) => has_feature(&info.features, "d"),
            (_, OperandTy::Float(32 | 64)) => true,
            _ => false,
        };
    }
    match ty {
        OperandTy::Ptr => true,
        OperandTy::Int(16 | 32 | 64) => true,
        // x86 byte registers have their own class in Rust (`reg_byte`); not offered here.
        OperandTy::Int(8) => arch != AsmArch::X86_64,
        OperandTy::Int(_) | OperandTy::Float(_) => false,
    }
}

/// The template modifiers of a class: (frontend letter, backend letter).
pub(crate) fn modifiers(arch: AsmArch, class: RegClass) -> &'static [(char, char)] {
    match (arch, class) {
        (AsmArch::X86_64, RegClass::Reg) => &[('l', 'b'), ('x', 'w'), ('e', 'k'), ('r', 'q')],
        (AsmArch::X86_64, RegClass::RegAbcd) => &[('l', 'b'), ('h', 'h'), ('x', 'w'), ('e', 'k'), ('r', 'q')],
        (AsmArch::Aarch64, RegClass::Reg) => &[('w', 'w'), ('x', 'x')],
        (AsmArch::Aarch64, RegClass::Vreg) => &[('b', 'b'), ('h', 'h'), ('s', 's'), ('d', 'd'), ('q', 'q')],
        _ => &[],
    }
}

/// Upper bound of class operands a block may have: the registers LLVM can
/// surely allocate (`allocatable` rows of the class).
pub(crate) fn allocatable(arch: AsmArch, class: RegClass) -> impl Iterator<Item = &'static Register> {
    registers(arch).filter(move |r| r.allocatable && in_class(r, class))
}

/// The registers of a clobber set on `info`'s target.
pub(crate) fn clobber_set(info: &TargetInfo, arch: AsmArch, abi: ClobberAbi) -> Vec<&'static Register> {
    match abi {
        ClobberAbi::C => {
            let win64 = arch == AsmArch::X86_64 && info.triple.contains("windows");
            registers(arch)
                .filter(|r| {
                    if !win64 {
                        return r.caller_saved;
                    }
                    // Microsoft x64: rsi, rdi and xmm6-xmm15 are callee-saved.
                    matches!(r.name, "rax" | "rcx" | "rdx" | "r8" | "r9" | "r10" | "r11")
                        || matches!(r.name, "xmm0" | "xmm1" | "xmm2" | "xmm3" | "xmm4" | "xmm5")
                })
                .filter(|r| arch != AsmArch::Riscv64 || r.kind == RegKind::Gpr || has_feature(&info.features, "f"))
                .collect()
        }
    }
}

// ---- problems named by errors ----

/// What is wrong with a block's options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AsmOptionProblem {
    /// `pure` without any output: the block could be deleted.
    PureWithoutOutputs,
    /// `pure` without `nomem` or `readonly`: a pure block cannot write memory.
    PureWithoutMemoryOption,
    /// `pure` with `noreturn`.
    PureNoreturn,
    /// `noreturn` with outputs: they could never be used.
    NoreturnWithOutputs,
    /// Both `nomem` and `readonly`.
    NomemAndReadonly,
    /// Operands in a naked function (it has no values to give or take).
    OperandsInNakedFunction,
}

impl fmt::Display for AsmOptionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AsmOptionProblem::PureWithoutOutputs => "`pure` needs at least one output",
            AsmOptionProblem::PureWithoutMemoryOption => "`pure` needs `nomem` or `readonly`",
            AsmOptionProblem::PureNoreturn => "`pure` and `noreturn` exclude each other",
            AsmOptionProblem::NoreturnWithOutputs => "`noreturn` blocks have no outputs",
            AsmOptionProblem::NomemAndReadonly => "`nomem` and `readonly` exclude each other",
            AsmOptionProblem::OperandsInNakedFunction => "a naked function's assembly has no operands",
        })
    }
}

/// What is wrong with a tied input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AsmTieProblem {
    /// The operand index is beyond the block's operands.
    NoSuchOperand,
    /// The operand tied to is not an `Out` or `LateOut`.
    NotAnOutput,
    /// Another input is tied to the same output.
    AlreadyTied,
    /// The input's type differs from the output's.
    TypeDiffers,
    /// `Tied` on an operand that is not an `In`.
    NotAnInput,
}

impl fmt::Display for AsmTieProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AsmTieProblem::NoSuchOperand => "does not exist",
            AsmTieProblem::NotAnOutput => "is not an `Out` or `LateOut` operand",
            AsmTieProblem::AlreadyTied => "already has a tied input",
            AsmTieProblem::TypeDiffers => "has another type than the input",
            AsmTieProblem::NotAnInput => "can be tied to by `In` operands only",
        })
    }
}

/// What is wrong with a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AsmTemplateProblem {
    /// `{n}` with `n` at or beyond the operand count.
    NoSuchOperand {
        /// The index written.
        index: usize,
        /// The number of operands.
        count: usize,
    },
    /// A `{` without its `}`, or a placeholder that is not `{n}` or `{n:m}`.
    Malformed,
    /// A `}` that closes nothing (write `}}`).
    UnmatchedClose,
    /// A modifier the operand's class does not have.
    Modifier(char),
    /// A NUL byte.
    Nul,
}

impl fmt::Display for AsmTemplateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AsmTemplateProblem::NoSuchOperand { index, count } => {
                write!(f, "placeholder {{{index}}} names no operand (the block has {count})")
            }
            AsmTemplateProblem::Malformed => f.write_str("malformed placeholder (write {n}, {n:m}, {{ or }})"),
            AsmTemplateProblem::UnmatchedClose => f.write_str("unmatched `}` (write }} for a brace)"),
            AsmTemplateProblem::Modifier(m) => write!(f, "modifier `{m}` does not apply to the operand's class"),
            AsmTemplateProblem::Nul => f.write_str("the template contains a NUL byte"),
        }
    }
}
