//! Prologue stack checks for growable stacks (`doc/stacks.md`): the end of
//! the entry block compares the stack pointer with a limit and, below it,
//! calls the frontend's grow function with a compiler-made `resume` function
//! and a frame buffer holding the arguments; `resume` calls the function
//! again (on the stack the grow function switched to) and leaves the result
//! in the buffer, which the original call then returns.

use cfree_facade::*;
use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::basic_block::BasicBlock;
use inkwell::module::Linkage as LlvmLinkage;
use inkwell::types::BasicTypeEnum;
use inkwell::values::{BasicMetadataValueEnum, BasicValue, BasicValueEnum, FunctionValue};
use inkwell::AddressSpace;

use crate::backend::{refused, Built, LlvmBackend};
use crate::ffi;
use crate::symbols::LoweredSym;

impl<'ctx> LlvmBackend<'ctx> {
    /// Ends entry block `entry` of `f` (function symbol `sym`) with the check
    /// of `check`, branching to `start` when the stack has room.
    pub(crate) fn lower_stack_check(
        &mut self,
        sym: Sym,
        check: &StackCheck,
        entry: BasicBlock<'ctx>,
        start: BasicBlock<'ctx>,
    ) -> BackendResult<()> {
        let LoweredSym::Func { value: f, sig, .. } = self.syms[sym.index()] else {
            return Err(refused("stack check on a data symbol"));
        };
        let LoweredSym::Func { value: grow, .. } = self.syms[check.grow.index()] else {
            return Err(refused("stack check growing through a data symbol"));
        };
        let fabi = self.abis[sig.index()].as_ref().ok_or_else(|| refused("function symbol without a function type"))?;
        // The LLVM parameter of the limit's pointer: after `sret`, each facade
        // parameter takes as many LLVM parameters as its ABI pieces.
        let mut index = u32::from(fabi.has_sret());
        for arg in &fabi.abi.params[..check.limit_param as usize] {
            index += match arg {
                crate::abi::ArgAbi::Direct(pieces) => pieces.len() as u32,
                crate::abi::ArgAbi::Ignore => 0,
                _ => 1,
            };
        }
        let base = f.get_nth_param(index).ok_or_else(|| refused("stack check: no limit parameter"))?;
        let fty = f.get_type();
        let params = f.get_params();
        let mut fields: Vec<BasicTypeEnum<'ctx>> = params.iter().map(|p| p.get_type()).collect();
        let result = fty.get_return_type();
        fields.extend(result);
        let frame_ty = self.ctx.struct_type(&fields, false);
        let resume = self.resume_function(f, sig, frame_ty, check.safepoint_id)?;

        let b = &self.entry_builder;
        b.position_at_end(entry);
        let frame = b.build_alloca(frame_ty, "grow.frame").built()?;
        let ptr = self.ctx.ptr_type(AddressSpace::default());
        let stacksave = self
            .module
            .get_function("llvm.stacksave.p0")
            .unwrap_or_else(|| self.module.add_function("llvm.stacksave.p0", ptr.fn_type(&[], false), None));
        let sp = b.build_call(stacksave, &[], "sp").built()?.try_as_basic_value().basic();
        let sp = sp.ok_or_else(|| refused("llvm.stacksave returned nothing"))?.into_pointer_value();
        let sp = b.build_ptr_to_int(sp, self.intptr, "sp.int").built()?;
        let at = self.offset_ptr(b, base.into_pointer_value(), u64::from(check.limit_offset));
        let limit = b.build_load(self.intptr, at, "limit").built()?;
        if let Some(inst) = limit.as_instruction_value() {
            ffi::set_memory_alignment(inst, self.intptr.get_bit_width() / 8);
        }
        let low = b.build_int_compare(inkwell::IntPredicate::ULT, sp, limit.into_int_value(), "stack.low").built()?;
        let grow_block = self.ctx.insert_basic_block_after(entry, "grow");
        let br = b.build_conditional_branch(low, grow_block, start).built()?;
        self.weigh_unlikely(br)?;

        b.position_at_end(grow_block);
        for (i, p) in params.iter().enumerate() {
            let field = b.build_struct_gep(frame_ty, frame, i as u32, "").built()?;
            b.build_store(field, *p).built()?;
        }
        let resume_ptr = resume.as_global_value().as_pointer_value();
        let call = b.build_call(grow, &[resume_ptr.into(), frame.into()], "").built()?;
        call.set_call_convention(grow.get_call_conventions());
        call.add_attribute(
            AttributeLoc::Function,
            self.ctx.create_string_attribute("statepoint-id", &check.safepoint_id.to_string()),
        );
        match result {
            Some(ty) => {
                let field = b.build_struct_gep(frame_ty, frame, params.len() as u32, "").built()?;
                let r = b.build_load(ty, field, "grown").built()?;
                b.build_return(Some(&r)).built()?;
            }
            None => {
                b.build_return(None).built()?;
            }
        }
        Ok(())
    }

    /// `void f.resume(ptr frame)`: calls `f` with the arguments in `frame`
    /// (a `frame_ty`) and stores its result after them.
    fn resume_function(
        &self,
        f: FunctionValue<'ctx>,
        sig: TypeId,
        frame_ty: inkwell::types::StructType<'ctx>,
        safepoint_id: u64,
    ) -> BackendResult<FunctionValue<'ctx>> {
        let ptr = self.ctx.ptr_type(AddressSpace::default());
        let name = format!("{}.resume", f.get_name().to_string_lossy());
        let resume = self.module.add_function(
            &name,
            self.ctx.void_type().fn_type(&[ptr.into()], false),
            Some(LlvmLinkage::Internal),
        );
        if let Some(gc) = ffi::function_gc(f) {
            resume.set_gc(&gc);
        }
        // Walks cross it: its call of `f` is a safepoint with a frame record above it.
        resume.add_attribute(AttributeLoc::Function, self.ctx.create_string_attribute("frame-pointer", "all"));
        let noinline = self.ctx.create_enum_attribute(Attribute::get_named_enum_kind_id("noinline"), 0);
        resume.add_attribute(AttributeLoc::Function, noinline);
        let b = self.ctx.create_builder();
        b.position_at_end(self.ctx.append_basic_block(resume, "entry"));
        let frame = resume.get_nth_param(0).ok_or_else(|| refused("resume without its frame"))?.into_pointer_value();
        let count = f.count_params();
        let mut args: Vec<BasicMetadataValueEnum<'ctx>> = Vec::with_capacity(count as usize);
        for i in 0..count {
            let field = b.build_struct_gep(frame_ty, frame, i, "").built()?;
            let ty = frame_ty.get_field_type_at_index(i).ok_or_else(|| refused("frame field"))?;
            let v: BasicValueEnum<'ctx> = b.build_load(ty, field, "").built()?;
            args.push(v.into());
        }
        let call = b.build_call(f, &args, "").built()?;
        call.set_call_convention(f.get_call_conventions());
        self.apply_abi(sig, |loc, a| call.add_attribute(loc, a));
        call.add_attribute(
            AttributeLoc::Function,
            self.ctx.create_string_attribute("statepoint-id", &safepoint_id.to_string()),
        );
        if let Some(r) = call.try_as_basic_value().basic() {
            let field = b.build_struct_gep(frame_ty, frame, count, "").built()?;
            b.build_store(field, r).built()?;
        }
        b.build_return(None).built()?;
        Ok(resume)
    }
}
