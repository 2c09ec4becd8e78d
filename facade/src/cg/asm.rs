//! `asm`: inline assembly blocks, validated completely (target guard,
//! dialect, options, every operand's register and type, ties, duplicates,
//! register pressure, the template's placeholders) before the backend sees
//! them; and naked functions, whose bodies are inline assembly only.
//!
//! Value stack: the block's inputs (`In`, `InOut`, `InLateOut` operands, in
//! operand order) are popped, the first operand's value having been pushed
//! first; its outputs (`Out`, `LateOut`, `InOut`, `InLateOut`) are pushed in
//! operand order.

use crate::asm::{self as regs, OperandTy, RegLookup};
use crate::*;

const CALL: &str = "asm";

/// An operand after its location and type are resolved.
struct Resolved {
    loc: ResolvedLoc,
    ty: TypeId,
    /// The class it counts against (an explicit register's own class).
    class: RegClass,
}

impl<B: Backend> crate::Cg<B> {
    /// Emits an inline assembly block (see [`AsmBlock`] and `doc/asm.md`).
    /// Pops the inputs (the first operand's value was pushed first) and pushes
    /// the outputs in operand order. A `noreturn` block ends the basic block
    /// like a terminator (the stack must hold only its inputs).
    pub fn asm(&mut self, block: &AsmBlock) -> Result<()> {
        self.require_open_naked_ok(CALL)?;
        let resolved = self.resolve_asm(block)?;
        let n_in = resolved.inputs.len();
        if block.options.noreturn {
            self.require_empty_stack(CALL, n_in)?;
        }
        self.ensure_block(CALL)?;
        let inputs: Vec<B::Value> = (0..n_in)
            .map(|j| match self.entry(n_in - 1 - j) {
                super::func::Entry::Value { v, .. } => v,
                super::func::Entry::Place { addr, .. } => addr, // refused by resolve_asm
            })
            .collect();
        let mut outputs = Vec::with_capacity(resolved.outputs.len());
        let lowered = self.backend.inline_asm(&resolved, &inputs, &mut outputs);
        self.lowered(CALL, lowered)?;
        debug_assert_eq!(outputs.len(), resolved.outputs.len());
        self.pop_n(n_in);
        for (out, v) in resolved.outputs.iter().zip(outputs) {
            self.push_value(out.ty, v);
        }
        if block.options.noreturn {
            self.terminate();
        }
        Ok(())
    }

    fn resolve_asm(&self, block: &AsmBlock) -> Result<ResolvedAsm> {
        let Some(arch) = AsmArch::of(self.target.arch).filter(|a| block.targets.contains(a)) else {
            let e = ErrorKind::AsmTargetMismatch { arch: self.target.arch, written_for: block.targets.clone() };
            return Err(self.ferr(CALL, e).operand("targets"));
        };
        if block.dialect == AsmDialect::Intel && arch != AsmArch::X86_64 {
            let e = ErrorKind::AsmDialectUnsupported { dialect: block.dialect, arch: self.target.arch };
            return Err(self.ferr(CALL, e).operand("dialect"));
        }
        let has_outputs = block.operands.iter().any(|o| o.dir.is_output());
        self.check_asm_options(block, has_outputs)?;

        let n_in = block.operands.iter().filter(|o| o.dir.is_input()).count();
        self.check_depth(CALL, n_in)?;
        let mut resolved: Vec<Resolved> = Vec::with_capacity(block.operands.len());
        let mut input_pos = 0;
        for (i, op) in block.operands.iter().enumerate() {
            let input_ty = if op.dir.is_input() {
                let ty = self.asm_input_type(n_in, input_pos, i)?;
                input_pos += 1;
                Some(ty)
            } else {
                None
            };
            resolved.push(self.resolve_operand(arch, block, i, input_ty)?);
        }
        let clobbers = self.check_registers(arch, block, &resolved)?;
        self.check_pressure(arch, block, &resolved, &clobbers)?;

        // Outputs first, then inputs, each in operand order (LLVM's numbering).
        let mut outputs = Vec::new();
        let mut out_index = vec![usize::MAX; block.operands.len()];
        for (i, (op, r)) in block.operands.iter().zip(&resolved).enumerate() {
            if op.dir.is_output() {
                out_index[i] = outputs.len();
                let early = matches!(op.dir, AsmDir::Out(_) | AsmDir::InOut);
                outputs.push(AsmOutput { loc: r.loc, ty: r.ty, early });
            }
        }
        let mut inputs = Vec::new();
        let mut in_index = vec![usize::MAX; block.operands.len()];
        for (i, (op, r)) in block.operands.iter().zip(&resolved).enumerate() {
            let tied = match (&op.dir, &op.loc) {
                (AsmDir::In, AsmLoc::Tied(k)) => Some(out_index[*k]),
                (AsmDir::In, _) => None,
                (AsmDir::InOut | AsmDir::InLateOut, _) => Some(out_index[i]),
                (AsmDir::Out(_) | AsmDir::LateOut(_), _) => continue,
            };
            in_index[i] = outputs.len() + inputs.len();
            inputs.push(AsmInput { loc: r.loc, ty: r.ty, tied });
        }
        // A placeholder names an inout operand's output, an input's own number otherwise.
        let llvm_index: Vec<usize> = (0..block.operands.len())
            .map(|i| if out_index[i] != usize::MAX { out_index[i] } else { in_index[i] })
            .collect();
        let pieces = self.parse_template(arch, &block.template, &resolved, &llvm_index)?;
        Ok(ResolvedAsm { arch, pieces, dialect: block.dialect, options: block.options, outputs, inputs, clobbers })
    }

    fn check_asm_options(&self, block: &AsmBlock, has_outputs: bool) -> Result<()> {
        let o = &block.options;
        let problem = if o.nomem && o.readonly {
            Some(AsmOptionProblem::NomemAndReadonly)
        } else if o.pure && o.noreturn {
            Some(AsmOptionProblem::PureNoreturn)
        } else if o.pure && !has_outputs {
            Some(AsmOptionProblem::PureWithoutOutputs)
        } else if o.pure && !(o.nomem || o.readonly) {
            Some(AsmOptionProblem::PureWithoutMemoryOption)
        } else if o.noreturn && has_outputs {
            Some(AsmOptionProblem::NoreturnWithOutputs)
        } else if self.func.naked && !block.operands.is_empty() {
            Some(AsmOptionProblem::OperandsInNakedFunction)
        } else {
            None
        };
        match problem {
            Some(problem) => Err(self.ferr(CALL, ErrorKind::AsmOptions { problem }).operand("options")),
            None => Ok(()),
        }
    }

    /// The type of the `pos`-th input (operand `i`), which lies `n_in - 1 - pos` below the top.
    fn asm_input_type(&self, n_in: usize, pos: usize, i: usize) -> Result<TypeId> {
        let (ty, _) = self.peek_typed(CALL, n_in, n_in - 1 - pos, &format!("operand {i}"), None)?;
        Ok(ty)
    }

    fn operand_ty(&self, ty: TypeId) -> Option<OperandTy> {
        match self.types.get(ty)? {
            TypeKind::Int(w) => Some(OperandTy::Int(w.bits())),
            TypeKind::Float(FloatWidth::F32) => Some(OperandTy::Float(32)),
            TypeKind::Float(FloatWidth::F64) => Some(OperandTy::Float(64)),
            TypeKind::Ptr { addr_space: 0, .. } => Some(OperandTy::Ptr),
            _ => None,
        }
    }

    fn resolve_operand(&self, arch: AsmArch, block: &AsmBlock, i: usize, input_ty: Option<TypeId>) -> Result<Resolved> {
        let op = &block.operands[i];
        let name = || format!("operand {i}");
        let ty = match op.dir {
            AsmDir::Out(t) | AsmDir::LateOut(t) => {
                self.check_type(CALL, t, &name())?;
                t
            }
            AsmDir::In | AsmDir::InOut | AsmDir::InLateOut => input_ty.expect("inputs have a stack type"),
        };
        let (loc, class) = match &op.loc {
            AsmLoc::Class(c) => {
                if !regs::classes(&self.target).contains(c) {
                    let e = ErrorKind::AsmRegClassUnsupported { class: *c, arch: self.target.arch };
                    return Err(self.ferr(CALL, e).operand(name()));
                }
                (ResolvedLoc::Class(*c), *c)
            }
            AsmLoc::Reg(r) => {
                let reg = self.lookup_register(arch, r).map_err(|e| e.operand(name()))?;
                (ResolvedLoc::Reg(reg), regs::class_of(arch, reg))
            }
            AsmLoc::Tied(k) => {
                let k = *k;
                let tie = |problem| self.ferr(CALL, ErrorKind::AsmTiedOperand { output: k, problem }).operand(name());
                if op.dir != AsmDir::In {
                    return Err(tie(AsmTieProblem::NotAnInput));
                }
                let Some(target) = block.operands.get(k) else {
                    return Err(tie(AsmTieProblem::NoSuchOperand));
                };
                let (AsmDir::Out(out_ty) | AsmDir::LateOut(out_ty)) = target.dir else {
                    return Err(tie(AsmTieProblem::NotAnOutput));
                };
                if matches!(target.loc, AsmLoc::Tied(_)) {
                    return Err(tie(AsmTieProblem::NotAnOutput));
                }
                let earlier = block.operands[..i].iter().any(|o| o.dir == AsmDir::In && o.loc == AsmLoc::Tied(k));
                if earlier {
                    return Err(tie(AsmTieProblem::AlreadyTied));
                }
                if !self.types.compatible(ty, out_ty) {
                    return Err(tie(AsmTieProblem::TypeDiffers));
                }
                // The output's own location and class are checked with the output.
                let out = self.resolve_operand(arch, block, k, None)?;
                (out.loc, out.class)
            }
        };
        let fits = self.operand_ty(ty).is_some_and(|t| regs::fits(&self.target, arch, class, t));
        if !fits {
            let e = ErrorKind::AsmOperandType { class, found: self.types.name(ty) };
            return Err(self.ferr(CALL, e).operand(name()));
        }
        Ok(Resolved { loc, ty, class })
    }

    fn lookup_register(&self, arch: AsmArch, name: &str) -> Result<&'static Register> {
        match regs::lookup(arch, name) {
            RegLookup::Found(r) => {
                // riscv64 float registers exist with the F extension only.
                if r.kind == RegKind::Fpr && !regs::classes(&self.target).contains(&regs::class_of(arch, r)) {
                    let e =
                        ErrorKind::AsmRegClassUnsupported { class: regs::class_of(arch, r), arch: self.target.arch };
                    return Err(self.ferr(CALL, e));
                }
                Ok(r)
            }
            RegLookup::Reserved(role) => {
                Err(self.ferr(CALL, ErrorKind::AsmReservedRegister { name: name.to_string(), role }))
            }
            RegLookup::Unknown => Err(self.ferr(CALL, ErrorKind::AsmUnknownRegister { name: name.to_string() })),
        }
    }

    /// Explicit registers: no two inputs, no two outputs, no clobber of an
    /// operand's register, no clobber twice. Returns the block's clobbers:
    /// explicit ones, then the clobber set's that no output already names.
    fn check_registers(
        &self,
        arch: AsmArch,
        block: &AsmBlock,
        resolved: &[Resolved],
    ) -> Result<Vec<&'static Register>> {
        let mut ins: Vec<&'static Register> = Vec::new();
        let mut outs: Vec<&'static Register> = Vec::new();
        for (i, (op, r)) in block.operands.iter().zip(resolved).enumerate() {
            let (ResolvedLoc::Reg(reg), false) = (r.loc, matches!(op.loc, AsmLoc::Tied(_))) else { continue };
            let dup = (op.dir.is_input() && ins.contains(&reg)) || (op.dir.is_output() && outs.contains(&reg));
            if dup {
                return Err(self
                    .ferr(CALL, ErrorKind::AsmDuplicateRegister { name: reg.name })
                    .operand(format!("operand {i}")));
            }
            if op.dir.is_input() {
                ins.push(reg);
            }
            if op.dir.is_output() {
                outs.push(reg);
            }
        }
        let mut clobbers: Vec<&'static Register> = Vec::new();
        for (k, name) in block.clobbers.iter().enumerate() {
            let reg = self.lookup_register(arch, name).map_err(|e| e.operand(format!("clobber {k}")))?;
            if ins.contains(&reg) || outs.contains(&reg) || clobbers.contains(&reg) {
                let e = ErrorKind::AsmDuplicateRegister { name: reg.name };
                return Err(self.ferr(CALL, e).operand(format!("clobber {k}")));
            }
            clobbers.push(reg);
        }
        if let Some(abi) = block.clobber_abi {
            for reg in regs::clobber_set(&self.target, arch, abi) {
                if !outs.contains(&reg) && !clobbers.contains(&reg) {
                    clobbers.push(reg);
                }
            }
        }
        Ok(clobbers)
    }

    /// Class operands must surely find registers: LLVM ends the process when
    /// it runs out ("inline assembly requires more registers than
    /// available"). Counted conservatively: every class operand needs its own
    /// register (a tied input none), and neither explicit operand registers nor
    /// clobbered ones are available (LLVM gives clobbered registers to no
    /// operand, inputs included).
    fn check_pressure(
        &self,
        arch: AsmArch,
        block: &AsmBlock,
        resolved: &[Resolved],
        clobbers: &[&'static Register],
    ) -> Result<()> {
        let explicit: Vec<&'static Register> = resolved
            .iter()
            .filter_map(|r| match r.loc {
                ResolvedLoc::Reg(reg) => Some(reg),
                ResolvedLoc::Class(_) => None,
            })
            .collect();
        for class in regs::classes(&self.target) {
            // `reg` and `reg_abcd` operands compete for the same registers, and
            // LLVM's O0 allocator, first come first served, may give `reg`
            // operands all of `rax`, `rcx`, `rdx`: each class counts both.
            let gpr = |c: RegClass| matches!(c, RegClass::Reg | RegClass::RegAbcd);
            let counts = |c: RegClass| c == class || (gpr(class) && gpr(c));
            let needed = block
                .operands
                .iter()
                .zip(resolved)
                .filter(|(op, r)| {
                    !matches!(op.loc, AsmLoc::Tied(_)) && matches!(r.loc, ResolvedLoc::Class(c) if counts(c))
                })
                .count();
            let has_own = resolved.iter().any(|r| r.loc == ResolvedLoc::Class(class));
            if needed == 0 || (class == RegClass::RegAbcd && !has_own) {
                continue;
            }
            let available =
                regs::allocatable(arch, class).filter(|r| !explicit.contains(r) && !clobbers.contains(r)).count();
            if needed > available {
                let e = ErrorKind::AsmRegisterPressure { class, needed, available };
                return Err(self.ferr(CALL, e).operand("operands"));
            }
        }
        Ok(())
    }

    /// Splits the template into text and operand references.
    fn parse_template(
        &self,
        arch: AsmArch,
        template: &str,
        resolved: &[Resolved],
        llvm_index: &[usize],
    ) -> Result<Vec<AsmPiece>> {
        let err =
            |offset, problem| Err(self.ferr(CALL, ErrorKind::AsmTemplate { offset, problem }).operand("template"));
        if let Some(offset) = template.find('\0') {
            return err(offset, AsmTemplateProblem::Nul);
        }
        let mut pieces = Vec::new();
        let mut text = String::new();
        let bytes = template.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'{' if bytes.get(i + 1) == Some(&b'{') => {
                    text.push('{');
                    i += 2;
                }
                b'}' if bytes.get(i + 1) == Some(&b'}') => {
                    text.push('}');
                    i += 2;
                }
                b'}' => return err(i, AsmTemplateProblem::UnmatchedClose),
                b'{' => {
                    let Some(len) = template[i + 1..].find('}') else {
                        return err(i, AsmTemplateProblem::Malformed);
                    };
                    let inner = &template[i + 1..i + 1 + len];
                    let (num, modifier) = match inner.split_once(':') {
                        Some((n, m)) => (n, Some(m)),
                        None => (inner, None),
                    };
                    let index = match num.parse::<usize>() {
                        Ok(n) if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => n,
                        _ => return err(i, AsmTemplateProblem::Malformed),
                    };
                    if index >= resolved.len() {
                        return err(i, AsmTemplateProblem::NoSuchOperand { index, count: resolved.len() });
                    }
                    let modifier = match modifier {
                        None => None,
                        Some(m) => {
                            let mut chars = m.chars();
                            let (Some(c), None) = (chars.next(), chars.next()) else {
                                return err(i, AsmTemplateProblem::Malformed);
                            };
                            match regs::modifiers(arch, resolved[index].class).iter().find(|(f, _)| *f == c) {
                                Some((_, backend)) => Some(*backend),
                                None => return err(i, AsmTemplateProblem::Modifier(c)),
                            }
                        }
                    };
                    if !text.is_empty() {
                        pieces.push(AsmPiece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(AsmPiece::Operand { index: llvm_index[index], modifier });
                    i += len + 2;
                }
                _ => {
                    let start = i;
                    while i < bytes.len() && bytes[i] != b'{' && bytes[i] != b'}' {
                        i += 1;
                    }
                    text.push_str(&template[start..i]);
                }
            }
        }
        if !text.is_empty() {
            pieces.push(AsmPiece::Text(text));
        }
        Ok(pieces)
    }

    /// Checks a naked function's declaration when its body begins: naked
    /// excludes `alwaysinline` (it is never inlined) and GC safepoints (it has
    /// no frame to describe).
    pub(crate) fn check_naked(&self, decl: &FuncDecl) -> std::result::Result<(), ErrorKind> {
        let conflict = if decl.attrs.alwaysinline {
            Some("alwaysinline")
        } else if decl.gc == GcRole::Safepoints {
            Some("GcRole::Safepoints")
        } else {
            None
        };
        match conflict {
            Some(other) => Err(ErrorKind::InvalidAttribute { attr: "naked", problem: AttrProblem::Conflicts(other) }),
            None => Ok(()),
        }
    }
}
