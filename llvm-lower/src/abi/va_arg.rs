//! `va_start`/`va_end`/`va_copy` as LLVM's intrinsics, and `va_arg` written
//! out per target as clang does (LLVM's own `va_arg` instruction does not
//! implement the x86-64 and AArch64 register save areas for aggregates):
//!
//! - x86-64 System V (psABI §3.5.7): integer eightbytes from the general
//!   register save area at `gp_offset`, SSE ones from `fp_offset` (16 bytes
//!   apart), while enough of both are left; else the overflow area, aligned
//!   to the type above 8.
//! - AArch64 (AAPCS64 appendix B.4): general registers from `__gr_top +
//!   __gr_offs` (16-aligned types aligned first), floating-point and HFA
//!   members from `__vr_top + __vr_offs`, 16 bytes per register; else
//!   `__stack`. Records over 16 bytes arrive as a pointer.
//! - riscv64, i686, wasm32, Win64: a pointer bumped over slots (8, 4, 4 and
//!   8 bytes), with each target's rule for records passed by reference.

use cfree_facade::*;
use inkwell::values::{BasicValueEnum, IntValue, PointerValue};
use inkwell::{AddressSpace, IntPredicate};

use super::{ArgAbi, LeafKind, Piece, Shape};
use crate::backend::{refused, Built, LlvmBackend};

/// How a pointer-style `va_list` steps over one argument.
struct SlotRule {
    slot: u64,
    /// Whether the argument sits in a slot as a pointer to the real object.
    indirect: bool,
    /// The alignment the slot pointer is rounded up to first (≤ `slot`: none).
    align: u64,
}

impl<'ctx> LlvmBackend<'ctx> {
    pub(crate) fn lower_va_intrinsic(&mut self, name: &str, args: &[BasicValueEnum<'ctx>]) -> BackendResult<()> {
        let ptr = self.ctx.ptr_type(AddressSpace::default());
        let f = match self.module.get_function(name) {
            Some(f) => f,
            None => {
                let params: Vec<inkwell::types::BasicMetadataTypeEnum<'ctx>> =
                    args.iter().map(|_| ptr.into()).collect();
                self.module.add_function(name, self.ctx.void_type().fn_type(&params, false), None)
            }
        };
        let args: Vec<inkwell::values::BasicMetadataValueEnum<'ctx>> = args.iter().map(|a| (*a).into()).collect();
        self.builder.build_call(f, &args, "").built()?;
        Ok(())
    }

    pub(crate) fn lower_va_arg(
        &mut self,
        list: BasicValueEnum<'ctx>,
        ty: TypeId,
        dest: Option<BasicValueEnum<'ctx>>,
    ) -> BackendResult<Option<BasicValueEnum<'ctx>>> {
        let list = list.into_pointer_value();
        let shape = self.shapes[ty.index()].clone().ok_or_else(|| refused("va_arg of an unsized type"))?;
        let info = &self.resolved.info;
        let (size, align) = match &shape {
            Shape::Aggregate(a) => (a.size, a.align),
            Shape::Scalar(kind) => {
                let l = match kind {
                    LeafKind::Int(w) => {
                        let index =
                            [IntWidth::I1, IntWidth::I8, IntWidth::I16, IntWidth::I32, IntWidth::I64, IntWidth::I128]
                                .iter()
                                .position(|x| x == w)
                                .expect("every width is listed");
                        info.ints[index]
                    }
                    LeafKind::Ptr => info.pointer,
                    LeafKind::F32 => info.f32,
                    LeafKind::F64 => info.f64,
                };
                (l.size, l.align)
            }
        };
        let float = matches!(shape, Shape::Scalar(LeafKind::F64 | LeafKind::F32));
        if size == 0 {
            return Ok(None);
        }
        let windows = info.triple.contains("windows");
        let darwin = info.triple.contains("apple") || info.triple.contains("darwin");
        let abi = self.classify_one(&shape)?;
        let src = match info.arch {
            Arch::X86_64 if !windows => self.va_arg_sysv64(list, &abi, size, align, float)?,
            Arch::Aarch64 if !windows && !darwin => self.va_arg_aapcs64(list, &abi, size, align, float)?,
            Arch::X86_64 => {
                let by_ref = matches!(abi, ArgAbi::Indirect { .. });
                self.va_arg_slots(list, size, SlotRule { slot: 8, indirect: by_ref, align: 8 })?
            }
            Arch::Riscv64 => {
                let indirect = matches!(abi, ArgAbi::Indirect { .. });
                self.va_arg_slots(list, size, SlotRule { slot: 8, indirect, align: if indirect { 8 } else { align } })?
            }
            Arch::X86 => self.va_arg_slots(list, size, SlotRule { slot: 4, indirect: false, align: 4 })?,
            Arch::Wasm32 => {
                let indirect = matches!(abi, ArgAbi::Indirect { .. });
                self.va_arg_slots(list, size, SlotRule { slot: 4, indirect, align: if indirect { 4 } else { align } })?
            }
            _ => {
                return Err(ErrorKind::UnsupportedOnTarget {
                    feature: TargetFeature::VariadicDefinitions,
                    triple: info.triple.clone(),
                }
                .into())
            }
        };
        match dest {
            Some(d) => {
                self.copy(d.into_pointer_value(), src, size, 1)?;
                Ok(None)
            }
            None => Ok(Some(self.load_at(src, self.basic(ty), 0, 1)?)),
        }
    }

    /// The classification of one argument with every register free.
    fn classify_one(&self, shape: &Shape) -> BackendResult<ArgAbi> {
        let info = &self.resolved.info;
        let lp64d = self.resolved.abi_name == Some("lp64d");
        let rules = super::rules(info, CallConv::C, lp64d).ok_or_else(|| {
            BackendError::from(ErrorKind::UnsupportedOnTarget {
                feature: TargetFeature::VariadicDefinitions,
                triple: info.triple.clone(),
            })
        })?;
        let abi = super::classify(rules, info, &[(shape.clone(), AbiExt::None, false)], None);
        Ok(abi.params.into_iter().next().expect("one parameter classified"))
    }

    fn field_ptr(&self, list: PointerValue<'ctx>, offset: u64) -> PointerValue<'ctx> {
        self.offset_ptr(&self.builder, list, offset)
    }

    fn load_i32(&self, p: PointerValue<'ctx>) -> BackendResult<IntValue<'ctx>> {
        Ok(self.load_at(p, self.ctx.i32_type().into(), 0, 4)?.into_int_value())
    }

    fn load_ptr(&self, p: PointerValue<'ctx>) -> BackendResult<PointerValue<'ctx>> {
        let ptr = self.ctx.ptr_type(AddressSpace::default());
        Ok(self.load_at(p, ptr.into(), 0, self.resolved.info.pointer.size)?.into_pointer_value())
    }

    /// `p` rounded up to `align`.
    fn align_up(&self, p: PointerValue<'ctx>, align: u64) -> BackendResult<PointerValue<'ctx>> {
        let bumped = crate::ffi::byte_offset(&self.builder, self.i8, p, self.intptr.const_int(align - 1, false));
        let mask = self.intptr.const_int(!(align - 1), false);
        let ptrmask = self.ptrmask_intrinsic();
        let call = self.builder.build_call(ptrmask, &[bumped.into(), mask.into()], "").built()?;
        Ok(call.try_as_basic_value().basic().expect("llvm.ptrmask returns a pointer").into_pointer_value())
    }

    fn ptrmask_intrinsic(&self) -> inkwell::values::FunctionValue<'ctx> {
        let name = format!("llvm.ptrmask.p0.i{}", self.intptr.get_bit_width());
        self.module.get_function(&name).unwrap_or_else(|| {
            let ptr = self.ctx.ptr_type(AddressSpace::default());
            self.module.add_function(&name, ptr.fn_type(&[ptr.into(), self.intptr.into()], false), None)
        })
    }

    /// A `char *` `va_list`: returns the argument's address and advances the list.
    fn va_arg_slots(&self, list: PointerValue<'ctx>, size: u64, rule: SlotRule) -> BackendResult<PointerValue<'ctx>> {
        let mut cur = self.load_ptr(list)?;
        if rule.align > rule.slot {
            cur = self.align_up(cur, rule.align)?;
        }
        let step = if rule.indirect { rule.slot } else { size.next_multiple_of(rule.slot) };
        let next = self.offset_ptr(&self.builder, cur, step);
        self.store_at(list, next.into(), 0, self.resolved.info.pointer.size)?;
        if rule.indirect {
            self.load_ptr(cur)
        } else {
            Ok(cur)
        }
    }

    /// A value read from the overflow area (or `__stack`): aligned above 8, stepping by 8-byte units.
    fn stack_area_arg(
        &self,
        area_field: PointerValue<'ctx>,
        size: u64,
        align: u64,
    ) -> BackendResult<PointerValue<'ctx>> {
        let mut cur = self.load_ptr(area_field)?;
        if align > 8 {
            cur = self.align_up(cur, align)?;
        }
        let next = self.offset_ptr(&self.builder, cur, size.next_multiple_of(8));
        self.store_at(area_field, next.into(), 0, 8)?;
        Ok(cur)
    }

    fn phi_ptr(
        &self,
        a: (PointerValue<'ctx>, inkwell::basic_block::BasicBlock<'ctx>),
        b: (PointerValue<'ctx>, inkwell::basic_block::BasicBlock<'ctx>),
    ) -> BackendResult<PointerValue<'ctx>> {
        let phi = self.builder.build_phi(self.ctx.ptr_type(AddressSpace::default()), "").built()?;
        phi.add_incoming(&[(&a.0, a.1), (&b.0, b.1)]);
        Ok(phi.as_basic_value().into_pointer_value())
    }

    fn current_block(&self) -> BackendResult<inkwell::basic_block::BasicBlock<'ctx>> {
        self.builder.get_insert_block().ok_or_else(|| refused("builder outside a block"))
    }

    fn new_block(&self) -> BackendResult<inkwell::basic_block::BasicBlock<'ctx>> {
        Ok(self.ctx.append_basic_block(self.open()?.value, ""))
    }

    fn va_arg_sysv64(
        &self,
        list: PointerValue<'ctx>,
        abi: &ArgAbi,
        size: u64,
        align: u64,
        float: bool,
    ) -> BackendResult<PointerValue<'ctx>> {
        // Eightbytes by register class: (piece, offset, is_sse).
        let pieces: Vec<(Piece, u64, bool)> = match abi {
            ArgAbi::Direct(p) => {
                p.iter().map(|(p, o)| (*p, *o, matches!(p, Piece::F32 | Piece::F64 | Piece::F32x2))).collect()
            }
            ArgAbi::Scalar(_) => {
                let is_sse = float;
                if size == 16 {
                    vec![(Piece::Int(64), 0, false), (Piece::Int(64), 8, false)]
                } else {
                    vec![(if is_sse { Piece::F64 } else { Piece::Int((size * 8) as u32) }, 0, is_sse)]
                }
            }
            _ => Vec::new(),
        };
        let overflow = self.field_ptr(list, 8);
        if pieces.is_empty() {
            return self.stack_area_arg(overflow, size, align);
        }
        let ints = pieces.iter().filter(|p| !p.2).count() as u64;
        let sses = pieces.len() as u64 - ints;
        let gp_p = list;
        let fp_p = self.field_ptr(list, 4);
        let gp = self.load_i32(gp_p)?;
        let fp = self.load_i32(fp_p)?;
        let i32t = self.ctx.i32_type();
        let mut fits = self.ctx.bool_type().const_int(1, false);
        if ints > 0 {
            let ok = self
                .builder
                .build_int_compare(IntPredicate::ULE, gp, i32t.const_int(48 - ints * 8, false), "")
                .built()?;
            fits = self.builder.build_and(fits, ok, "").built()?;
        }
        if sses > 0 {
            let ok = self
                .builder
                .build_int_compare(IntPredicate::ULE, fp, i32t.const_int(176 - sses * 16, false), "")
                .built()?;
            fits = self.builder.build_and(fits, ok, "").built()?;
        }
        let (in_reg, in_mem, done) = (self.new_block()?, self.new_block()?, self.new_block()?);
        self.builder.build_conditional_branch(fits, in_reg, in_mem).built()?;
        self.builder.position_at_end(in_reg);
        let save = self.load_ptr(self.field_ptr(list, 16))?;
        let temp = self.temp_slot(16, 16)?;
        let (mut k_int, mut k_sse) = (0u64, 0u64);
        let i64t = self.ctx.i64_type();
        for (piece, offset, is_sse) in &pieces {
            let (base, step) = if *is_sse { (fp, 16 * k_sse) } else { (gp, 8 * k_int) };
            let at = self.builder.build_int_add(base, i32t.const_int(step, false), "").built()?;
            let at = self.builder.build_int_z_extend(at, i64t, "").built()?;
            let src = crate::ffi::byte_offset(&self.builder, self.i8, save, at);
            let v = self.load_at(src, self.piece_type(*piece), 0, 8)?;
            self.store_at(temp, v, *offset, 16)?;
            if *is_sse {
                k_sse += 1;
            } else {
                k_int += 1;
            }
        }
        if ints > 0 {
            let g = self.builder.build_int_add(gp, i32t.const_int(ints * 8, false), "").built()?;
            self.store_at(gp_p, g.into(), 0, 4)?;
        }
        if sses > 0 {
            let f = self.builder.build_int_add(fp, i32t.const_int(sses * 16, false), "").built()?;
            self.store_at(fp_p, f.into(), 0, 4)?;
        }
        let reg_end = self.current_block()?;
        self.builder.build_unconditional_branch(done).built()?;
        self.builder.position_at_end(in_mem);
        let mem = self.stack_area_arg(overflow, size, align)?;
        let mem_end = self.current_block()?;
        self.builder.build_unconditional_branch(done).built()?;
        self.builder.position_at_end(done);
        self.phi_ptr((temp, reg_end), (mem, mem_end))
    }

    fn va_arg_aapcs64(
        &self,
        list: PointerValue<'ctx>,
        abi: &ArgAbi,
        size: u64,
        align: u64,
        float: bool,
    ) -> BackendResult<PointerValue<'ctx>> {
        let (indirect, fpr, hfa_members, elem) = match abi {
            ArgAbi::Indirect { .. } => (true, false, 0, 0),
            ArgAbi::Array(Piece::F32, n) => (false, true, *n, 4),
            ArgAbi::Array(Piece::F64, n) => (false, true, *n, 8),
            ArgAbi::Scalar(_) if float => (false, true, 1, 8),
            _ => (false, false, 0, 0),
        };
        let i32t = self.ctx.i32_type();
        let (offs_p, top_p) = if fpr {
            (self.field_ptr(list, 28), self.field_ptr(list, 16))
        } else {
            (self.field_ptr(list, 24), self.field_ptr(list, 8))
        };
        let reg_size = if fpr {
            16 * u64::from(hfa_members)
        } else if indirect {
            8
        } else {
            size.next_multiple_of(8)
        };
        let (maybe_reg, in_reg, on_stack, done) =
            (self.new_block()?, self.new_block()?, self.new_block()?, self.new_block()?);
        let offs = self.load_i32(offs_p)?;
        let used_up = self.builder.build_int_compare(IntPredicate::SGE, offs, i32t.const_zero(), "").built()?;
        self.builder.build_conditional_branch(used_up, on_stack, maybe_reg).built()?;
        self.builder.position_at_end(maybe_reg);
        let offs = if !fpr && !indirect && align > 8 {
            let bumped = self.builder.build_int_add(offs, i32t.const_int(align - 1, false), "").built()?;
            self.builder.build_and(bumped, i32t.const_int((-(align as i64)) as u64, true), "").built()?
        } else {
            offs
        };
        let new = self.builder.build_int_add(offs, i32t.const_int(reg_size, false), "").built()?;
        self.store_at(offs_p, new.into(), 0, 4)?;
        let fits = self.builder.build_int_compare(IntPredicate::SLE, new, i32t.const_zero(), "").built()?;
        self.builder.build_conditional_branch(fits, in_reg, on_stack).built()?;
        self.builder.position_at_end(in_reg);
        let top = self.load_ptr(top_p)?;
        let offs64 = self.builder.build_int_s_extend(offs, self.ctx.i64_type(), "").built()?;
        let base = crate::ffi::byte_offset(&self.builder, self.i8, top, offs64);
        let reg_addr = if fpr && hfa_members > 1 {
            // HFA members sit in 16-byte register slots: gather them contiguously.
            let temp = self.temp_slot(size, 16)?;
            let piece = if elem == 4 { Piece::F32 } else { Piece::F64 };
            for i in 0..u64::from(hfa_members) {
                let v = self.load_at(base, self.piece_type(piece), 16 * i, 16)?;
                self.store_at(temp, v, elem * i, 16)?;
            }
            temp
        } else {
            base
        };
        let reg_end = self.current_block()?;
        self.builder.build_unconditional_branch(done).built()?;
        self.builder.position_at_end(on_stack);
        let stack_field = list;
        let stack_addr =
            self.stack_area_arg(stack_field, if indirect { 8 } else { size }, if indirect { 8 } else { align })?;
        let stack_end = self.current_block()?;
        self.builder.build_unconditional_branch(done).built()?;
        self.builder.position_at_end(done);
        let addr = self.phi_ptr((reg_addr, reg_end), (stack_addr, stack_end))?;
        if indirect {
            self.load_ptr(addr)
        } else {
            Ok(addr)
        }
    }
}
