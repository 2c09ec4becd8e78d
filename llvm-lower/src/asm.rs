//! Inline assembly and naked functions. The facade hands over a validated
//! [`ResolvedAsm`]; this file spells it as LLVM's inline asm: the template
//! with `${n}` / `${n:m}` placeholders (`$` doubled), the constraint string
//! (`=r`, `=&r`, `{rax}`, tied digits, `~{...}` clobbers, the flag clobbers
//! clang emits by default), `sideeffect` unless `pure`, `alignstack` unless
//! `nostack`, `inteldialect`, and the call's memory attribute.

use cfree_facade::*;
use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::types::{BasicMetadataTypeEnum, BasicType, BasicTypeEnum};
use inkwell::values::{BasicMetadataValueEnum, BasicValueEnum};
use inkwell::InlineAsmDialect;

use crate::backend::{refused, Built, LlvmBackend};

/// LLVM's `memory(read)`: `ref` for every location of `MemoryEffects`
/// (two bits per location: 3 locations in LLVM 19, 6 in LLVM 22).
#[cfg(not(feature = "llvm22"))]
const MEMORY_READ: u64 = 0b01_01_01;
#[cfg(feature = "llvm22")]
const MEMORY_READ: u64 = 0b01_01_01_01_01_01;

/// The constraint letter of a register class.
fn class_code(class: RegClass) -> &'static str {
    match class {
        RegClass::Reg => "r",
        RegClass::RegAbcd => "Q",
        RegClass::XmmReg => "x",
        RegClass::Vreg => "w",
        RegClass::Freg => "f",
    }
}

/// `{name}` of an explicit register holding a value of `ty`. AArch64 vector
/// registers are named by the value's width (`s3`, `d3`): LLVM maps `{v3}` to
/// the 128-bit register whatever the type.
fn reg_code(arch: AsmArch, reg: &Register, is_f32: bool) -> String {
    match (arch, reg.kind) {
        (AsmArch::Aarch64, RegKind::Fpr) => {
            let prefix = if is_f32 { 's' } else { 'd' };
            format!("{{{prefix}{}}}", &reg.llvm[1..])
        }
        _ => format!("{{{}}}", reg.llvm),
    }
}

/// The clobber spelling of a register (AArch64 vector registers whole: `q3`).
fn clobber_code(arch: AsmArch, reg: &Register) -> String {
    match (arch, reg.kind) {
        (AsmArch::Aarch64, RegKind::Fpr) => format!("~{{q{}}}", &reg.llvm[1..]),
        _ => format!("~{{{}}}", reg.llvm),
    }
}

impl<'ctx> LlvmBackend<'ctx> {
    fn loc_code(&self, arch: AsmArch, loc: ResolvedLoc, ty: TypeId) -> String {
        match loc {
            ResolvedLoc::Class(c) => class_code(c).to_string(),
            ResolvedLoc::Reg(r) => reg_code(arch, r, self.basic(ty) == self.ctx.f32_type().as_basic_type_enum()),
        }
    }

    /// The constraint string of a block (outputs, inputs, clobbers).
    fn asm_constraints(&self, asm: &ResolvedAsm) -> String {
        let mut parts: Vec<String> = Vec::new();
        for out in &asm.outputs {
            let early = if out.early { "&" } else { "" };
            parts.push(format!("={early}{}", self.loc_code(asm.arch, out.loc, out.ty)));
        }
        for input in &asm.inputs {
            parts.push(match input.tied {
                Some(o) => o.to_string(),
                None => self.loc_code(asm.arch, input.loc, input.ty),
            });
        }
        for reg in &asm.clobbers {
            parts.push(clobber_code(asm.arch, reg));
        }
        if !(asm.options.nomem || asm.options.readonly) {
            parts.push("~{memory}".into());
        }
        if !asm.options.preserves_flags {
            match asm.arch {
                AsmArch::X86_64 => parts.extend(["~{dirflag}".into(), "~{fpsr}".into(), "~{flags}".into()]),
                AsmArch::Aarch64 => parts.push("~{cc}".into()),
                AsmArch::Riscv64 => {}
            }
        }
        parts.join(",")
    }

    /// The template in LLVM's syntax.
    fn asm_template(asm: &ResolvedAsm) -> String {
        let mut t = String::new();
        for piece in &asm.pieces {
            match piece {
                AsmPiece::Text(s) => t.push_str(&s.replace('$', "$$")),
                AsmPiece::Operand { index, modifier: None } => t.push_str(&format!("${{{index}}}")),
                AsmPiece::Operand { index, modifier: Some(m) } => t.push_str(&format!("${{{index}:{m}}}")),
            }
        }
        t
    }

    pub(crate) fn lower_inline_asm(
        &mut self,
        asm: &ResolvedAsm,
        inputs: &[BasicValueEnum<'ctx>],
        outputs: &mut Vec<BasicValueEnum<'ctx>>,
    ) -> BackendResult<()> {
        let out_types: Vec<BasicTypeEnum<'ctx>> = asm.outputs.iter().map(|o| self.basic(o.ty)).collect();
        let in_types: Vec<BasicMetadataTypeEnum<'ctx>> = asm.inputs.iter().map(|i| self.basic(i.ty).into()).collect();
        let fn_ty = match out_types.as_slice() {
            [] => self.ctx.void_type().fn_type(&in_types, false),
            [one] => one.fn_type(&in_types, false),
            many => self.ctx.struct_type(many, false).fn_type(&in_types, false),
        };
        let dialect = match asm.dialect {
            AsmDialect::Att => InlineAsmDialect::ATT,
            AsmDialect::Intel => InlineAsmDialect::Intel,
        };
        let callee = self.ctx.create_inline_asm(
            fn_ty,
            Self::asm_template(asm),
            self.asm_constraints(asm),
            !asm.options.pure,
            !asm.options.nostack,
            Some(dialect),
            false,
        );
        let args: Vec<BasicMetadataValueEnum<'ctx>> = inputs.iter().map(|v| (*v).into()).collect();
        let call = self.builder.build_indirect_call(fn_ty, callee, &args, "").built()?;
        let attr =
            |name: &str, value: u64| self.ctx.create_enum_attribute(Attribute::get_named_enum_kind_id(name), value);
        call.add_attribute(AttributeLoc::Function, attr("nounwind", 0));
        // Not a safepoint: in managed functions RS4GC would otherwise wrap the asm in a
        // statepoint, which the verifier rejects (found by the random-call fuzzer).
        call.add_attribute(AttributeLoc::Function, self.ctx.create_string_attribute("gc-leaf-function", ""));
        if asm.options.nomem {
            call.add_attribute(AttributeLoc::Function, attr("memory", 0));
        } else if asm.options.readonly {
            call.add_attribute(AttributeLoc::Function, attr("memory", MEMORY_READ));
        }
        if asm.options.noreturn {
            call.add_attribute(AttributeLoc::Function, attr("noreturn", 0));
            self.builder.build_unreachable().built()?;
            return Ok(());
        }
        let result = call.try_as_basic_value().basic();
        match (out_types.len(), result) {
            (0, _) => {}
            (1, Some(v)) => outputs.push(v),
            (n, Some(v)) => {
                let agg = v.into_struct_value();
                for i in 0..n {
                    outputs.push(self.builder.build_extract_value(agg, i as u32, "").built()?);
                }
            }
            (_, None) => return Err(refused("inline asm without its result")),
        }
        Ok(())
    }

    /// A naked function: `naked` and `noinline`, no parameter slots.
    pub(crate) fn lower_begin_naked_function(&mut self, sym: Sym) -> BackendResult<()> {
        let crate::symbols::LoweredSym::Func { value, .. } = self.syms[sym.index()] else {
            return Err(refused("func_begin on a data symbol"));
        };
        for name in ["naked", "noinline"] {
            let a = self.ctx.create_enum_attribute(Attribute::get_named_enum_kind_id(name), 0);
            value.add_attribute(AttributeLoc::Function, a);
        }
        self.lower_begin_function(sym, &[], &mut Vec::new())
    }
}
