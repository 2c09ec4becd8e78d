//! Inline assembly (`cfree/cg.h`, "Inline assembly"; `doc/asm.md`): a block
//! descriptor translated field by field into [`AsmBlock`], which the emitter
//! validates completely, and the register tables behind it as queries.

use std::ffi::{c_char, c_int};

use cfree_facade::*;

use super::{array, cg_err, copy_string, entry, enum_value, required, text};
use crate::error::{CapiError, INVALID_ARGUMENT, NOT_FOUND, NULL_POINTER};
use crate::handles;

// Target guard bits (`CFREE_ASM_ARCH_*`).
const ARCH_BITS: [(u32, AsmArch); 3] = [(1, AsmArch::X86_64), (2, AsmArch::Aarch64), (4, AsmArch::Riscv64)];
const ARCH_ALL: u32 = 7;

const DIALECTS: [AsmDialect; 2] = [AsmDialect::Att, AsmDialect::Intel];
const CLASSES: [RegClass; 5] = [RegClass::Reg, RegClass::RegAbcd, RegClass::XmmReg, RegClass::Vreg, RegClass::Freg];

// Option bits (`CFREE_ASM_*`).
const OPT_PURE: u32 = 1;
const OPT_NOMEM: u32 = 2;
const OPT_READONLY: u32 = 4;
const OPT_PRESERVES_FLAGS: u32 = 8;
const OPT_NOSTACK: u32 = 16;
const OPT_NORETURN: u32 = 32;
const OPT_ALL: u32 = 63;

// Operand directions (`CFREE_ASM_IN` ...).
const DIR_IN: c_int = 0;
const DIR_OUT: c_int = 1;
const DIR_LATEOUT: c_int = 2;
const DIR_INOUT: c_int = 3;
const DIR_INLATEOUT: c_int = 4;

// Operand locations (`CFREE_ASM_LOC_*`).
const LOC_CLASS: c_int = 0;
const LOC_REG: c_int = 1;
const LOC_TIED: c_int = 2;

// Clobber sets (`CFREE_CLOBBER_*`).
const CLOBBER_NONE: c_int = 0;
const CLOBBER_C: c_int = 1;

/// `cfree_asm_operand`: one operand; all-zero is an input in any
/// general-purpose register.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CAsmOperand {
    /// `CFREE_ASM_IN`, `_OUT`, `_LATEOUT`, `_INOUT`, `_INLATEOUT`.
    pub dir: c_int,
    /// `OUT`/`LATEOUT`: the output's type (otherwise unused).
    pub ty: u64,
    /// `CFREE_ASM_LOC_CLASS`, `_REG` or `_TIED`.
    pub loc: c_int,
    /// `LOC_CLASS`: `CFREE_REG_*`.
    pub reg_class: c_int,
    /// `LOC_REG`: the register's name (copied).
    pub reg: *const c_char,
    /// `LOC_TIED`: the index of the output operand whose register it shares.
    pub tied: u32,
}

/// `cfree_asm_block`: an inline assembly block.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CAsmBlock {
    /// `CFREE_ASM_ARCH_*` bits: the architectures the block is written for.
    pub targets: u32,
    /// The template (`{n}` is operand `n`, `{n:m}` with modifier `m`).
    pub text: *const c_char,
    /// `CFREE_ASM_ATT` or `CFREE_ASM_INTEL`.
    pub dialect: c_int,
    /// `CFREE_ASM_*` option bits.
    pub options: u32,
    /// Operands in placeholder order.
    pub operands: *const CAsmOperand,
    /// Number of operands.
    pub noperands: usize,
    /// `CFREE_CLOBBER_NONE` or `CFREE_CLOBBER_C`.
    pub clobber_abi: c_int,
    /// Explicitly clobbered registers.
    pub clobbers: *const *const c_char,
    /// Number of clobbers.
    pub nclobbers: usize,
}

fn bad(call: &str, message: String) -> CapiError {
    CapiError::new(INVALID_ARGUMENT, call, message)
}

/// The block `b` describes.
///
/// # Safety
/// `b`'s pointers must be null or valid as the header states.
unsafe fn c_block(call: &str, b: &CAsmBlock) -> Result<AsmBlock, CapiError> {
    if b.targets & !ARCH_ALL != 0 {
        return Err(bad(call, format!("asm target bits {:#x} have undefined bits", b.targets)));
    }
    if b.options & !OPT_ALL != 0 {
        return Err(bad(call, format!("asm options {:#x} have undefined bits", b.options)));
    }
    let targets = ARCH_BITS.iter().filter(|(bit, _)| b.targets & bit != 0).map(|&(_, a)| a).collect::<Vec<_>>();
    // SAFETY: the caller's contract on `text`.
    let template = unsafe { required(call, b.text, "the asm template")? };
    let f = |bit| b.options & bit != 0;
    let options = AsmOptions {
        pure: f(OPT_PURE),
        nomem: f(OPT_NOMEM),
        readonly: f(OPT_READONLY),
        preserves_flags: f(OPT_PRESERVES_FLAGS),
        nostack: f(OPT_NOSTACK),
        noreturn: f(OPT_NORETURN),
    };
    let clobber_abi = match b.clobber_abi {
        CLOBBER_NONE => None,
        CLOBBER_C => Some(ClobberAbi::C),
        v => return Err(bad(call, format!("clobber set {v} is out of range"))),
    };
    let mut block = AsmBlock::new(&targets, template).dialect(enum_value(call, &DIALECTS, b.dialect, "asm dialect")?);
    block = block.options(options);
    block.clobber_abi = clobber_abi;
    // SAFETY: the caller's contract on `operands` and `noperands`.
    for (i, op) in unsafe { array(call, b.operands, b.noperands)? }.iter().enumerate() {
        let dir = match op.dir {
            DIR_IN => AsmDir::In,
            DIR_OUT => AsmDir::Out(TypeId::from_bits(op.ty)),
            DIR_LATEOUT => AsmDir::LateOut(TypeId::from_bits(op.ty)),
            DIR_INOUT => AsmDir::InOut,
            DIR_INLATEOUT => AsmDir::InLateOut,
            v => return Err(bad(call, format!("operand {i}: direction {v} is out of range"))),
        };
        let loc = match op.loc {
            LOC_CLASS => AsmLoc::Class(enum_value(call, &CLASSES, op.reg_class, "register class")?),
            // SAFETY: the caller's contract on `reg`.
            LOC_REG => AsmLoc::Reg(unsafe { required(call, op.reg, "the operand's register")? }.to_string()),
            LOC_TIED => AsmLoc::Tied(op.tied as usize),
            v => return Err(bad(call, format!("operand {i}: location kind {v} is out of range"))),
        };
        block = block.operand(dir, loc);
    }
    // SAFETY: the caller's contract on `clobbers` and `nclobbers`.
    for &c in unsafe { array(call, b.clobbers, b.nclobbers)? } {
        // SAFETY: each element is null or a NUL-terminated string.
        let reg = unsafe { text(call, c, "a clobbered register")? };
        block = block.clobber(reg.ok_or_else(|| CapiError::new(NULL_POINTER, call, "a clobber is null"))?);
    }
    Ok(block)
}

/// Emits inline assembly block `block` in the open function: pops its inputs
/// (the last input on top), pushes its outputs in operand order.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_asm(m: u64, block: *const CAsmBlock) -> c_int {
    const CALL: &str = "cfree_cg_asm";
    entry(CALL, || {
        if block.is_null() {
            return Err(CapiError::new(NULL_POINTER, CALL, "the asm block is null"));
        }
        // SAFETY: non-null and readable by the caller's contract.
        let block = unsafe { c_block(CALL, &*block)? };
        handles::with_module(CALL, m, |cg| cg.asm(&block).map_err(cg_err))
    })
}

/// Register `index` of class `reg_class` on module `m`'s target (the
/// explicit names operands and clobbers accept), copied into `buf` as
/// `cfree_cg_target_string` does; `CFREE_ERR_NOT_FOUND` past the last one or
/// for a class the target does not have.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_asm_register(
    m: u64,
    reg_class: c_int,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> c_int {
    const CALL: &str = "cfree_cg_asm_register";
    entry(CALL, || {
        let class = enum_value(CALL, &CLASSES, reg_class, "register class")?;
        let regs = handles::with_module(CALL, m, |cg| Ok(cg.target().asm_registers(class)))?;
        let name = regs.get(index).ok_or_else(|| {
            CapiError::new(
                NOT_FOUND,
                CALL,
                format!("register {index} of class {class} (the target has {})", regs.len()),
            )
        })?;
        // SAFETY: the caller's contract on `buf`, `cap` and `len`.
        unsafe { copy_string(CALL, name, buf, cap, len) }
    })
}

/// Register `index` of the set `CFREE_CLOBBER_C` clobbers on module `m`'s
/// target, copied as [`cfree_cg_asm_register`] does.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_asm_clobber_set(
    m: u64,
    abi: c_int,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> c_int {
    const CALL: &str = "cfree_cg_asm_clobber_set";
    entry(CALL, || {
        if abi != CLOBBER_C {
            return Err(bad(CALL, format!("clobber set {abi} is out of range")));
        }
        let regs = handles::with_module(CALL, m, |cg| Ok(cg.target().asm_clobber_set(ClobberAbi::C)))?;
        let name = regs
            .get(index)
            .ok_or_else(|| CapiError::new(NOT_FOUND, CALL, format!("clobber {index} (the set has {})", regs.len())))?;
        // SAFETY: the caller's contract on `buf`, `cap` and `len`.
        unsafe { copy_string(CALL, name, buf, cap, len) }
    })
}
