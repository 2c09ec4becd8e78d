//! Calls: direct and indirect, with the signature's calling convention and
//! ABI lowering (aggregates coerced, copied or passed through `sret`), call
//! attributes, guaranteed tail calls, and at GC safepoints the safepoint's ID
//! and explicit roots (`gc.rs`).

use cfree_facade::*;
use inkwell::attributes::AttributeLoc;
use inkwell::values::{BasicMetadataValueEnum, BasicValue, BasicValueEnum, CallSiteValue};

use crate::abi::{self, ArgAbi, RetAbi};
use crate::backend::{refused, Built, LlvmBackend};
use crate::symbols::LoweredSym;

/// What a call calls.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target<'ctx> {
    Direct(Sym),
    Indirect(TypeId, BasicValueEnum<'ctx>),
}

impl<'ctx> LlvmBackend<'ctx> {
    pub(crate) fn lower_call(
        &mut self,
        target: Target<'ctx>,
        site: &CallSite<'_, BasicValueEnum<'ctx>>,
    ) -> BackendResult<Option<BasicValueEnum<'ctx>>> {
        let (sig, function) = match target {
            Target::Direct(callee) => {
                let LoweredSym::Func { value, sig, .. } = self.syms[callee.index()] else {
                    return Err(refused("call of a data symbol"));
                };
                (sig, Some(value))
            }
            Target::Indirect(sig, _) => (sig, None),
        };
        let fabi = self.abis[sig.index()].as_ref().ok_or_else(|| refused("call through a non-function type"))?;
        let fixed = fabi.params.len();
        // Variadic extras are classified with the fixed arguments before them.
        let extra_abi = if site.args.len() > fixed {
            let sig_kind = self.func_sig_of(sig)?;
            Some(self.classify_sig(&sig_kind, &site.arg_types[fixed..])?)
        } else {
            None
        };
        let fabi = self.abis[sig.index()].as_ref().expect("checked above");
        let arg_abi = |i: usize| -> &ArgAbi {
            match &extra_abi {
                Some(a) => &a.params[i],
                None => &fabi.abi.params[i],
            }
        };
        if site.must_tail {
            self.check_tail_abi(&fabi.abi)?;
        }
        let result_abi = fabi.abi.result.clone();
        let result_ty = fabi.result;
        let (fty, call_conv) = (fabi.fty, fabi.call_conv);
        let mut attrs = fabi.attrs.clone();
        let mut llvm_args: Vec<BasicValueEnum<'ctx>> = Vec::with_capacity(site.args.len() + 1);
        let sret = match (&result_abi, result_ty) {
            (RetAbi::Sret { align }, Some(ty)) => {
                // A fresh slot: the callee may assume its result does not alias its arguments.
                let (size, _) = self.aggregate_layout(ty);
                let slot = self.temp_slot(size, *align)?;
                llvm_args.push(slot.into());
                Some(slot)
            }
            _ => None,
        };
        for (i, (v, ty)) in site.args.iter().zip(site.arg_types).enumerate() {
            let first = llvm_args.len() as u32;
            if i >= fixed {
                let mut unused = Vec::new();
                self.lower_arg_types(arg_abi(i), *ty, &ParamAttrs::default(), first, &mut unused, &mut attrs);
            }
            self.lower_arg_values(arg_abi(i), *ty, *v, &mut llvm_args)?;
        }
        let args: Vec<BasicMetadataValueEnum<'ctx>> = llvm_args.iter().map(|a| (*a).into()).collect();
        let bundles = Self::call_bundles(site.safepoint);
        let call = match (target, function) {
            (_, Some(f)) if bundles.is_empty() => self.builder.build_call(f, &args, ""),
            (_, Some(f)) => self.builder.build_direct_call_with_operand_bundles(f, &args, &bundles, ""),
            (Target::Indirect(_, p), None) if bundles.is_empty() => {
                self.builder.build_indirect_call(fty, p.into_pointer_value(), &args, "")
            }
            (Target::Indirect(_, p), None) => {
                self.builder.build_indirect_call_with_operand_bundles(fty, p.into_pointer_value(), &args, &bundles, "")
            }
            (Target::Direct(_), None) => unreachable!("direct calls have a function"),
        }
        .built()?;
        call.set_call_convention(call_conv);
        for (loc, a) in attrs {
            call.add_attribute(loc, a);
        }
        self.apply_call_attrs(call, &site.attrs, site.must_tail);
        self.annotate_safepoint(call, site.safepoint);
        let value = call.try_as_basic_value().basic();
        if site.must_tail {
            match value {
                Some(v) => self.builder.build_return(Some(&v as &dyn BasicValue<'ctx>)),
                None => self.builder.build_return(None),
            }
            .built()?;
            return Ok(None);
        }
        match (&result_abi, result_ty, site.dest) {
            (RetAbi::Sret { align }, Some(ty), Some(dest)) => {
                let (size, _) = self.aggregate_layout(ty);
                if let Some(slot) = sret {
                    if size > 0 {
                        self.copy(dest.into_pointer_value(), slot, size, *align)?;
                    }
                }
                Ok(None)
            }
            (RetAbi::Direct(_) | RetAbi::Array(..), Some(ty), Some(dest)) => {
                let v = value.ok_or_else(|| refused("coerced result missing"))?;
                self.store_result(&result_abi, ty, dest.into_pointer_value(), v)?;
                Ok(None)
            }
            (RetAbi::Void, _, _) => Ok(None),
            _ => Ok(value),
        }
    }

    fn apply_call_attrs(&self, call: CallSiteValue<'ctx>, attrs: &CallAttrs, must_tail: bool) {
        let kind = if must_tail {
            Some(crate::ffi::TailKind::MustTail)
        } else {
            match attrs.tail {
                TailPolicy::None => None,
                TailPolicy::Tail => Some(crate::ffi::TailKind::Tail),
                TailPolicy::NoTail => Some(crate::ffi::TailKind::NoTail),
            }
        };
        if let Some(k) = kind {
            crate::ffi::set_tail_kind(call, k);
        }
        if attrs.cold {
            let cold =
                self.ctx.create_enum_attribute(inkwell::attributes::Attribute::get_named_enum_kind_id("cold"), 0);
            call.add_attribute(AttributeLoc::Function, cold);
        }
        if let Some(list) = self.scope_list(&[attrs.noalias_scope]) {
            // A call's `!noalias` is honoured by scoped-noalias analysis for its mod/ref.
            let kind = call.try_as_basic_value();
            let inst = kind.basic().and_then(|v| v.as_instruction_value()).or_else(|| kind.instruction());
            if let Some(inst) = inst {
                let _ = inst.set_metadata(list, self.kind_noalias);
            }
        }
    }

    /// The ABI's part of the `musttail` rules: nothing of the callee's or the
    /// caller's in memory, and on riscv64 (whose tail calls cannot pass stack
    /// arguments) nothing on the stack.
    fn check_tail_abi(&self, abi: &abi::SigAbi) -> BackendResult<()> {
        let in_memory = matches!(abi.result, RetAbi::Sret { .. })
            || abi.params.iter().any(|p| matches!(p, ArgAbi::Indirect { .. }));
        let caller_sig = self.open()?.sig;
        let caller_memory = self.abis[caller_sig.index()].as_ref().is_some_and(|c| {
            matches!(c.abi.result, RetAbi::Sret { .. })
                || c.abi.params.iter().any(|p| matches!(p, ArgAbi::Indirect { .. }))
        });
        let problem = if in_memory || caller_memory {
            Some(MustTailProblem::AggregateInMemory)
        } else if self.resolved.info.arch == Arch::Riscv64 && abi.stack_args != Some(false) {
            Some(MustTailProblem::StackArguments)
        } else {
            None
        };
        match problem {
            Some(problem) => Err(ErrorKind::MustTail { problem }.into()),
            None => Ok(()),
        }
    }

    /// The facade signature behind function type `sig` (kept for variadic call sites).
    fn func_sig_of(&self, sig: TypeId) -> BackendResult<FuncSig> {
        self.sigs.get(sig.index()).and_then(|s| s.clone()).ok_or_else(|| refused("call through a non-function type"))
    }
}
