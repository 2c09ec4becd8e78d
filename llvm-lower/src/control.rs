//! Function bodies and control flow: the entry block of slots, labels as
//! blocks, branches and terminators, ending or abandoning a body.

use cfree_facade::*;
use inkwell::attributes::AttributeLoc;
use inkwell::basic_block::BasicBlock;
use inkwell::values::{BasicValue, BasicValueEnum, FunctionValue};

use crate::backend::{refused, Built, LlvmBackend};
use crate::ffi;
use crate::symbols::{declaration_linkage, llvm_linkage, LoweredSym};

#[derive(Debug)]
pub(crate) struct OpenFunction<'ctx> {
    pub(crate) sym: Sym,
    pub(crate) value: FunctionValue<'ctx>,
    pub(crate) entry: BasicBlock<'ctx>,
    pub(crate) start: BasicBlock<'ctx>,
    pub(crate) linkage: Linkage,
    /// The function type.
    pub(crate) sig: TypeId,
    /// The hidden result pointer of a function returning through `sret`.
    pub(crate) sret: Option<inkwell::values::PointerValue<'ctx>>,
}

impl<'ctx> LlvmBackend<'ctx> {
    /// The open function (the facade calls body methods only while one is open).
    pub(crate) fn open(&self) -> BackendResult<&OpenFunction<'ctx>> {
        self.func.as_ref().ok_or_else(|| refused("no function is open"))
    }

    pub(crate) fn lower_begin_function(
        &mut self,
        sym: Sym,
        params: &[TypeId],
        param_slots: &mut Vec<BasicValueEnum<'ctx>>,
    ) -> BackendResult<()> {
        let LoweredSym::Func { value, linkage, sig } = self.syms[sym.index()] else {
            return Err(refused("func_begin on a data symbol"));
        };
        let entry = self.ctx.append_basic_block(value, "entry");
        let start = self.ctx.append_basic_block(value, "start");
        self.entry_builder.position_at_end(entry);
        let fabi = self.abis[sig.index()].as_ref().ok_or_else(|| refused("function symbol without a function type"))?;
        let sret = fabi.has_sret();
        let mut first = u32::from(sret);
        for (i, ty) in params.iter().enumerate() {
            let arg = &fabi.abi.params[i];
            let slot = self.lower_incoming(arg, *ty, value, first)?;
            first += match arg {
                crate::abi::ArgAbi::Direct(pieces) => pieces.len() as u32,
                crate::abi::ArgAbi::Ignore => 0,
                _ => 1,
            };
            param_slots.push(slot.into());
        }
        let sret = if sret { value.get_nth_param(0).map(|p| p.into_pointer_value()) } else { None };
        self.builder.position_at_end(start);
        self.func = Some(OpenFunction { sym, value, entry, start, linkage, sig, sret });
        Ok(())
    }

    /// A slot in the entry block. An explicit GC root holds null from the entry
    /// on, and keeps its function from being inlined (`doc/gc.md`).
    pub(crate) fn lower_local_slot(
        &mut self,
        ty: TypeId,
        align: u64,
        name: &str,
        kind: SlotKind,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        let slot = self.entry_builder.build_alloca(self.basic(ty), name).built()?;
        if let Some(inst) = slot.as_instruction() {
            ffi::set_memory_alignment(inst, align as u32);
        }
        match kind {
            SlotKind::Plain => {}
            SlotKind::GcRoot => self.init_root_slot(slot, ty)?,
        }
        Ok(slot.into())
    }

    pub(crate) fn lower_new_block(&mut self) -> BackendResult<BasicBlock<'ctx>> {
        Ok(ffi::append_block(self.ctx, self.open()?.value))
    }

    pub(crate) fn lower_place_block(&mut self, block: BasicBlock<'ctx>, fallthrough: bool) -> BackendResult<()> {
        if fallthrough {
            self.builder.build_unconditional_branch(block).built()?;
        }
        if let Some(current) = self.builder.get_insert_block() {
            block.move_after(current).map_err(|()| refused("a block outside the function"))?;
        }
        self.builder.position_at_end(block);
        Ok(())
    }

    pub(crate) fn lower_br(&mut self, target: BasicBlock<'ctx>) -> BackendResult<()> {
        self.builder.build_unconditional_branch(target).built()?;
        Ok(())
    }

    pub(crate) fn lower_cond_br(
        &mut self,
        cond: BasicValueEnum<'ctx>,
        then: BasicBlock<'ctx>,
        otherwise: BasicBlock<'ctx>,
    ) -> BackendResult<()> {
        self.builder.build_conditional_branch(cond.into_int_value(), then, otherwise).built()?;
        Ok(())
    }

    /// A check: `br i1 %failed, %handler, %continue` weighted 1:2000 (as
    /// `__builtin_expect`), with `!make.implicit` for an implicit null check
    /// (the ImplicitNullChecks pass folds it into a faulting access and records
    /// it in `.llvm_faultmaps`); the builder moves on to `%continue`.
    pub(crate) fn lower_check_branch(
        &mut self,
        failed: BasicValueEnum<'ctx>,
        handler: BasicBlock<'ctx>,
        implicit_null: bool,
    ) -> BackendResult<()> {
        let function = self.open()?.value;
        let cont = self.ctx.append_basic_block(function, "");
        let br = self.builder.build_conditional_branch(failed.into_int_value(), handler, cont).built()?;
        self.weigh_unlikely(br)?;
        if implicit_null {
            let mark = self.ctx.metadata_node(&[]);
            br.set_metadata(mark, self.ctx.get_kind_id("make.implicit")).map_err(|_| refused("make.implicit"))?;
        }
        if let Some(current) = self.builder.get_insert_block() {
            cont.move_after(current).map_err(|()| refused("a block outside the function"))?;
        }
        self.builder.position_at_end(cont);
        Ok(())
    }

    /// `switch`: LLVM picks a jump table, a bit test or a compare tree.
    pub(crate) fn lower_switch(
        &mut self,
        value: BasicValueEnum<'ctx>,
        default: BasicBlock<'ctx>,
        cases: &[(u128, BasicBlock<'ctx>)],
    ) -> BackendResult<()> {
        let v = value.into_int_value();
        let ty = v.get_type();
        let wide = ty.get_bit_width() > 64;
        let cases: Vec<_> = cases
            .iter()
            .map(|(bits, block)| {
                let c = if wide {
                    ty.const_int_arbitrary_precision(&[*bits as u64, (*bits >> 64) as u64])
                } else {
                    ty.const_int(*bits as u64, false)
                };
                (c, *block)
            })
            .collect();
        self.builder.build_switch(v, default, &cases).built()?;
        Ok(())
    }

    pub(crate) fn lower_select(
        &mut self,
        cond: BasicValueEnum<'ctx>,
        when_true: BasicValueEnum<'ctx>,
        when_false: BasicValueEnum<'ctx>,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        self.builder.build_select(cond.into_int_value(), when_true, when_false, "").built()
    }

    pub(crate) fn lower_ret(&mut self, value: Option<BasicValueEnum<'ctx>>) -> BackendResult<()> {
        let (sig, sret) = {
            let f = self.open()?;
            (f.sig, f.sret)
        };
        let fabi = self.abis[sig.index()].as_ref().ok_or_else(|| refused("function without a function type"))?;
        if let (Some(ty), Some(v)) = (fabi.result, value) {
            if !matches!(fabi.abi.result, crate::abi::RetAbi::Scalar(_)) {
                let result = fabi.abi.result.clone();
                return self.lower_ret_aggregate(&result, ty, v.into_pointer_value(), sret);
            }
        }
        match value {
            Some(v) => self.builder.build_return(Some(&v as &dyn BasicValue<'ctx>)),
            None => self.builder.build_return(None),
        }
        .built()?;
        Ok(())
    }

    /// Weighs a conditional branch 1:2000 towards its false successor (as `__builtin_expect`).
    pub(crate) fn weigh_unlikely(&self, br: inkwell::values::InstructionValue<'ctx>) -> BackendResult<()> {
        let i32t = self.ctx.i32_type();
        let weights = self.ctx.metadata_node(&[
            self.ctx.metadata_string("branch_weights").into(),
            i32t.const_int(1, false).into(),
            i32t.const_int(2000, false).into(),
        ]);
        br.set_metadata(weights, self.ctx.get_kind_id("prof")).map_err(|_| refused("branch weights"))
    }

    pub(crate) fn lower_unreachable(&mut self) -> BackendResult<()> {
        self.builder.build_unreachable().built()?;
        Ok(())
    }

    pub(crate) fn lower_end_function(&mut self, unused: &[BasicBlock<'ctx>]) -> BackendResult<()> {
        let (entry, start, sym) = {
            let f = self.open()?;
            (f.entry, f.start, f.sym)
        };
        match self.stack_checks.get(&sym.index()).copied() {
            Some(check) => self.lower_stack_check(sym, &check, entry, start)?,
            None => {
                self.entry_builder.position_at_end(entry);
                self.entry_builder.build_unconditional_branch(start).built()?;
            }
        }
        for b in unused {
            ffi::delete_block(*b);
        }
        let f = self.func.take().ok_or_else(|| refused("no function is open"))?;
        f.value.as_global_value().set_linkage(llvm_linkage(f.linkage));
        Ok(())
    }

    pub(crate) fn lower_abandon_function(&mut self) {
        let Some(f) = self.func.take() else { return };
        // LLVM's C API cannot drop a body in place: swap in a fresh declaration instead.
        let LoweredSym::Func { linkage, sig, .. } = self.syms[f.sym.index()] else {
            unreachable!("the open function is a function symbol")
        };
        let name = f.value.get_name().to_string_lossy().into_owned();
        let decl = self.module.add_function("", self.fn_type(sig), Some(declaration_linkage(linkage)));
        decl.as_global_value().set_visibility(f.value.as_global_value().get_visibility());
        decl.set_call_conventions(self.call_conv(sig));
        self.apply_abi(sig, |loc, a| decl.add_attribute(loc, a));
        // What the declaration set stays for a later definition: function attributes
        // (`FuncAttrs`, GC roles), the GC strategy, the section and the COMDAT group.
        for a in f.value.attributes(AttributeLoc::Function) {
            decl.add_attribute(AttributeLoc::Function, a);
        }
        if let Some(gc) = ffi::function_gc(f.value) {
            decl.set_gc(&gc);
        }
        let old = f.value.as_global_value();
        let section = old.get_section().map(|s| s.to_string_lossy().into_owned());
        decl.as_global_value().set_section(section.as_deref());
        if let Some(comdat) = old.get_comdat() {
            decl.as_global_value().set_comdat(comdat);
        }
        ffi::replace_function(f.value, decl, &name);
        self.syms[f.sym.index()] = LoweredSym::Func { value: decl, linkage, sig };
        self.builder.clear_insertion_position();
        self.entry_builder.clear_insertion_position();
    }

    pub(crate) fn lower_label_addr(&mut self, block: BasicBlock<'ctx>) -> BackendResult<BasicValueEnum<'ctx>> {
        let addr = ffi::block_address(block).ok_or_else(|| refused("address of an entry or detached block"))?;
        Ok(addr.into())
    }

    pub(crate) fn lower_indirect_br(
        &mut self,
        addr: BasicValueEnum<'ctx>,
        dests: &[BasicBlock<'ctx>],
    ) -> BackendResult<()> {
        self.builder.build_indirect_branch(addr, dests).built()?;
        Ok(())
    }

    /// `alloca i8, iN %size` in the current block (not the entry: its size is a run-time value).
    pub(crate) fn lower_dynamic_alloca(
        &mut self,
        size: BasicValueEnum<'ctx>,
        align: u64,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        let slot = self.builder.build_array_alloca(self.i8, size.into_int_value(), "").built()?;
        if let Some(inst) = slot.as_instruction() {
            ffi::set_memory_alignment(inst, align as u32);
        }
        Ok(slot.into())
    }

    pub(crate) fn lower_stack_save(&mut self) -> BackendResult<BasicValueEnum<'ctx>> {
        let ptr = self.ctx.ptr_type(inkwell::AddressSpace::default());
        let f = self.intrinsic("llvm.stacksave.p0", ptr.fn_type(&[], false));
        let call = self.builder.build_call(f, &[], "").built()?;
        call.try_as_basic_value().basic().ok_or_else(|| refused("llvm.stacksave returned nothing"))
    }

    pub(crate) fn lower_stack_restore(&mut self, saved: BasicValueEnum<'ctx>) -> BackendResult<()> {
        let ptr = self.ctx.ptr_type(inkwell::AddressSpace::default());
        let f = self.intrinsic("llvm.stackrestore.p0", self.ctx.void_type().fn_type(&[ptr.into()], false));
        self.builder.build_call(f, &[saved.into()], "").built()?;
        Ok(())
    }

    fn intrinsic(&self, name: &str, ty: inkwell::types::FunctionType<'ctx>) -> FunctionValue<'ctx> {
        self.module.get_function(name).unwrap_or_else(|| self.module.add_function(name, ty, None))
    }
}
