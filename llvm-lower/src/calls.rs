//! Calls: direct and indirect, with the signature's calling convention and
//! ABI attributes and, at GC safepoints, the safepoint's ID and explicit roots
//! (`gc.rs`).

use cfree_facade::*;
use inkwell::values::{BasicMetadataValueEnum, BasicValueEnum, CallSiteValue};

use crate::backend::{refused, Built, LlvmBackend};
use crate::symbols::LoweredSym;

impl<'ctx> LlvmBackend<'ctx> {
    pub(crate) fn lower_call_direct(
        &mut self,
        callee: Sym,
        args: &[BasicValueEnum<'ctx>],
        safepoint: Option<&Safepoint<'_, BasicValueEnum<'ctx>>>,
    ) -> BackendResult<Option<BasicValueEnum<'ctx>>> {
        let LoweredSym::Func { value, sig, .. } = self.syms[callee.index()] else {
            return Err(refused("call of a data symbol"));
        };
        let args: Vec<BasicMetadataValueEnum<'ctx>> = args.iter().map(|a| (*a).into()).collect();
        let bundles = Self::call_bundles(safepoint);
        let call = if bundles.is_empty() {
            self.builder.build_call(value, &args, "")
        } else {
            self.builder.build_direct_call_with_operand_bundles(value, &args, &bundles, "")
        }
        .built()?;
        Ok(self.finish_call(call, sig, safepoint))
    }

    pub(crate) fn lower_call_indirect(
        &mut self,
        sig: TypeId,
        callee: BasicValueEnum<'ctx>,
        args: &[BasicValueEnum<'ctx>],
        safepoint: Option<&Safepoint<'_, BasicValueEnum<'ctx>>>,
    ) -> BackendResult<Option<BasicValueEnum<'ctx>>> {
        let args: Vec<BasicMetadataValueEnum<'ctx>> = args.iter().map(|a| (*a).into()).collect();
        let (fty, ptr) = (self.fn_type(sig), callee.into_pointer_value());
        let bundles = Self::call_bundles(safepoint);
        let call = if bundles.is_empty() {
            self.builder.build_indirect_call(fty, ptr, &args, "")
        } else {
            self.builder.build_indirect_call_with_operand_bundles(fty, ptr, &args, &bundles, "")
        }
        .built()?;
        Ok(self.finish_call(call, sig, safepoint))
    }

    fn finish_call(
        &self,
        call: CallSiteValue<'ctx>,
        sig: TypeId,
        safepoint: Option<&Safepoint<'_, BasicValueEnum<'ctx>>>,
    ) -> Option<BasicValueEnum<'ctx>> {
        call.set_call_convention(self.call_conv(sig));
        self.apply_abi(sig, |loc, a| call.add_attribute(loc, a));
        self.annotate_safepoint(call, safepoint);
        call.try_as_basic_value().basic()
    }
}
