//! GC lowering (`doc/gc.md`): managed address spaces, runtime entry
//! trampolines, safepoint IDs and explicit roots on calls, root slots.

use cfree_facade::*;
use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::module::Linkage as LlvmLinkage;
use inkwell::types::{BasicMetadataTypeEnum, BasicType};
use inkwell::values::{
    AnyValueEnum, BasicMetadataValueEnum, BasicValueEnum, CallSiteValue, FunctionValue, OperandBundle, PointerValue,
};
use inkwell::AddressSpace;

use crate::backend::{refused, Built, LlvmBackend};
use crate::ffi;

impl<'ctx> LlvmBackend<'ctx> {
    /// A managed space is non-integral: optimisations may not invent
    /// ptrtoint/inttoptr on its pointers, which would hide them from the
    /// statepoint rewriting. `movable` and `interior` need nothing more: RS4GC
    /// relocates every managed pointer and tracks derived pointers with their base.
    pub(crate) fn lower_set_address_space_policy(&mut self, space: u32, policy: &AddrSpacePolicy) -> BackendResult<()> {
        let AddrSpacePolicy { managed, movable: _, interior: _ } = *policy;
        if managed {
            let layout = ffi::data_layout(&self.module);
            ffi::set_data_layout(&self.module, &format!("{layout}-ni:{space}"));
        }
        Ok(())
    }

    /// The entry trampoline of host runtime function `name`: an internal function
    /// with `name`'s signature that calls the host's `name` with its own frame
    /// address first. The trampoline keeps a frame pointer, so the host can find
    /// the managed caller (return address at `[fp + 8]`, caller's frame at `[fp]`,
    /// caller's stack pointer `fp + 16` on x86-64) without its own frame pointers.
    pub(crate) fn runtime_trampoline(&mut self, name: &str, sig: TypeId) -> BackendResult<FunctionValue<'ctx>> {
        let fty = self.fn_type(sig);
        let ptr = self.ctx.ptr_type(AddressSpace::default());
        let mut host_params: Vec<BasicMetadataTypeEnum<'ctx>> = vec![ptr.into()];
        host_params.extend(fty.get_param_types());
        let host_ty = match fty.get_return_type() {
            Some(r) => r.fn_type(&host_params, false),
            None => self.ctx.void_type().fn_type(&host_params, false),
        };
        let host = self.module.add_function(name, host_ty, Some(LlvmLinkage::External));
        let tramp = self.module.add_function(&format!("cfree.rt.{name}"), fty, Some(LlvmLinkage::Internal));
        tramp.add_attribute(AttributeLoc::Function, self.ctx.create_string_attribute("frame-pointer", "all"));
        // The host must run inside the trampoline's frame: as a tail call it would run after
        // the frame is popped, and the frame pointer it receives would name dead stack.
        tramp.add_attribute(AttributeLoc::Function, self.ctx.create_string_attribute("disable-tail-calls", "true"));
        let noinline = self.ctx.create_enum_attribute(Attribute::get_named_enum_kind_id("noinline"), 0);
        tramp.add_attribute(AttributeLoc::Function, noinline);
        self.apply_abi(sig, |loc, a| tramp.add_attribute(loc, a));
        if let Some(abi) = &self.abis[sig.index()] {
            for i in 0..abi.params.len() {
                if let Some(a) = self.ext_attr(abi.scalar_ext(i)) {
                    host.add_attribute(AttributeLoc::Param(i as u32 + 1), a);
                }
            }
            if let Some(a) = self.ext_attr(abi.result_ext()) {
                host.add_attribute(AttributeLoc::Return, a);
            }
        }
        let b = self.ctx.create_builder();
        b.position_at_end(self.ctx.append_basic_block(tramp, "entry"));
        let frameaddress =
            inkwell::intrinsics::Intrinsic::find("llvm.frameaddress").ok_or_else(|| refused("no llvm.frameaddress"))?;
        let fa = frameaddress
            .get_declaration(&self.module, &[ptr.into()])
            .ok_or_else(|| refused("no llvm.frameaddress overload for ptr"))?;
        let zero = self.ctx.i32_type().const_zero();
        let fp = b.build_call(fa, &[zero.into()], "fp").built()?.try_as_basic_value().basic();
        let fp = fp.ok_or_else(|| refused("llvm.frameaddress returned no value"))?;
        let mut args: Vec<BasicMetadataValueEnum<'ctx>> = vec![fp.into()];
        args.extend(tramp.get_params().into_iter().map(BasicMetadataValueEnum::from));
        let call = b.build_call(host, &args, "").built()?;
        match call.try_as_basic_value().basic() {
            Some(r) => b.build_return(Some(&r)),
            None => b.build_return(None),
        }
        .built()?;
        Ok(tramp)
    }

    /// The operand bundles of a call: a safepoint's explicit roots travel as
    /// `deopt` operands, which RS4GC turns into the statepoint's deopt
    /// locations (`Direct` slot addresses in the stack map). The safepoint's
    /// `live` values and `managed_slots` need nothing here: RS4GC computes
    /// liveness itself, and mem2reg promotes the slots before it runs.
    pub(crate) fn call_bundles(safepoint: Option<&Safepoint<'_, BasicValueEnum<'ctx>>>) -> Vec<OperandBundle<'ctx>> {
        match safepoint {
            Some(sp) if !sp.roots.is_empty() => {
                let args: Vec<AnyValueEnum<'ctx>> = sp.roots.iter().map(|r| (*r).into()).collect();
                vec![OperandBundle::create("deopt", &args)]
            }
            _ => Vec::new(),
        }
    }

    /// Applies a safepoint's ID and, with explicit roots, keeps the call from
    /// being inlined: an inlined body's calls would not carry the roots.
    pub(crate) fn annotate_safepoint(
        &self,
        call: CallSiteValue<'ctx>,
        safepoint: Option<&Safepoint<'_, BasicValueEnum<'ctx>>>,
    ) {
        let Some(Safepoint { id, roots, .. }) = safepoint.copied() else { return };
        if let Some(id) = id {
            call.add_attribute(
                AttributeLoc::Function,
                self.ctx.create_string_attribute("statepoint-id", &id.to_string()),
            );
        }
        if !roots.is_empty() {
            let noinline = self.ctx.create_enum_attribute(Attribute::get_named_enum_kind_id("noinline"), 0);
            call.add_attribute(AttributeLoc::Function, noinline);
        }
    }

    /// Makes `slot` an explicit root: null from the entry on, and its function never inlined.
    pub(crate) fn init_root_slot(&mut self, slot: PointerValue<'ctx>, ty: TypeId) -> BackendResult<()> {
        let null = self.basic(ty).into_pointer_type().const_null();
        self.entry_builder.build_store(slot, null).built()?;
        // An inlined copy of this body would run its roots' safepoints under the caller's
        // frame layout, but its callers' safepoints would not report them: never inline it.
        let noinline = self.ctx.create_enum_attribute(Attribute::get_named_enum_kind_id("noinline"), 0);
        self.open()?.value.add_attribute(AttributeLoc::Function, noinline);
        Ok(())
    }
}
