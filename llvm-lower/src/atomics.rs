//! Lowering of atomics: orderings, single-thread scope, weak exchange and
//! volatile are set on the instructions LLVM builds.

use cfree_facade::{AtomicOrdering, AtomicRmwOp, BackendResult, MemFlags, ResolvedAccess, SyncScope};
use inkwell::values::{BasicValue, BasicValueEnum};

use crate::backend::{refused, Built, LlvmBackend};
use crate::ffi::{self, AtomicInst};
use crate::llvm_sys::{LLVMAtomicOrdering, LLVMAtomicRMWBinOp};

pub(crate) fn llvm_ordering(o: AtomicOrdering) -> LLVMAtomicOrdering {
    match o {
        AtomicOrdering::Relaxed => LLVMAtomicOrdering::LLVMAtomicOrderingMonotonic,
        AtomicOrdering::Acquire => LLVMAtomicOrdering::LLVMAtomicOrderingAcquire,
        AtomicOrdering::Release => LLVMAtomicOrdering::LLVMAtomicOrderingRelease,
        AtomicOrdering::AcqRel => LLVMAtomicOrdering::LLVMAtomicOrderingAcquireRelease,
        AtomicOrdering::SeqCst => LLVMAtomicOrdering::LLVMAtomicOrderingSequentiallyConsistent,
    }
}

fn rmw_op(op: AtomicRmwOp) -> LLVMAtomicRMWBinOp {
    use LLVMAtomicRMWBinOp::*;
    match op {
        AtomicRmwOp::Xchg => LLVMAtomicRMWBinOpXchg,
        AtomicRmwOp::Add => LLVMAtomicRMWBinOpAdd,
        AtomicRmwOp::Sub => LLVMAtomicRMWBinOpSub,
        AtomicRmwOp::And => LLVMAtomicRMWBinOpAnd,
        AtomicRmwOp::Or => LLVMAtomicRMWBinOpOr,
        AtomicRmwOp::Xor => LLVMAtomicRMWBinOpXor,
        AtomicRmwOp::Nand => LLVMAtomicRMWBinOpNand,
        AtomicRmwOp::SMin => LLVMAtomicRMWBinOpMin,
        AtomicRmwOp::SMax => LLVMAtomicRMWBinOpMax,
        AtomicRmwOp::UMin => LLVMAtomicRMWBinOpUMin,
        AtomicRmwOp::UMax => LLVMAtomicRMWBinOpUMax,
        AtomicRmwOp::FAdd => LLVMAtomicRMWBinOpFAdd,
        AtomicRmwOp::FSub => LLVMAtomicRMWBinOpFSub,
        AtomicRmwOp::FMin => LLVMAtomicRMWBinOpFMin,
        AtomicRmwOp::FMax => LLVMAtomicRMWBinOpFMax,
    }
}

/// Whether `scope` is LLVM's `syncscope("singlethread")` (else the system scope).
fn single_thread(scope: SyncScope) -> bool {
    match scope {
        SyncScope::System => false,
        SyncScope::SingleThread => true,
    }
}

impl<'ctx> LlvmBackend<'ctx> {
    fn finish_atomic(&self, inst: AtomicInst<'ctx>, access: &ResolvedAccess, scope: SyncScope) {
        ffi::set_atomic_facts(
            inst,
            access.align as u32,
            access.flags.contains(MemFlags::VOLATILE),
            single_thread(scope),
        );
    }

    pub(crate) fn lower_atomic_load(
        &self,
        addr: BasicValueEnum<'ctx>,
        access: &ResolvedAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        let v = self.builder.build_load(self.basic(access.ty), addr.into_pointer_value(), "").built()?;
        let inst = v.as_instruction_value().ok_or_else(|| refused("a load folded to a constant"))?;
        self.set_alias_facts(inst, &[access])?;
        self.finish_atomic(ffi::make_atomic(inst, llvm_ordering(ordering)), access, scope);
        Ok(v)
    }

    pub(crate) fn lower_atomic_store(
        &self,
        addr: BasicValueEnum<'ctx>,
        value: BasicValueEnum<'ctx>,
        access: &ResolvedAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    ) -> BackendResult<()> {
        let inst = self.builder.build_store(addr.into_pointer_value(), value).built()?;
        self.set_alias_facts(inst, &[access])?;
        self.finish_atomic(ffi::make_atomic(inst, llvm_ordering(ordering)), access, scope);
        Ok(())
    }

    pub(crate) fn lower_atomic_rmw(
        &self,
        op: AtomicRmwOp,
        addr: BasicValueEnum<'ctx>,
        value: BasicValueEnum<'ctx>,
        access: &ResolvedAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        let inst =
            ffi::build_atomic_rmw(&self.builder, rmw_op(op), addr.into_pointer_value(), value, llvm_ordering(ordering));
        self.finish_atomic(inst, access, scope);
        Ok(inst.value())
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn lower_cmpxchg(
        &self,
        addr: BasicValueEnum<'ctx>,
        expected: BasicValueEnum<'ctx>,
        new: BasicValueEnum<'ctx>,
        access: &ResolvedAccess,
        success: AtomicOrdering,
        failure: AtomicOrdering,
        weak: bool,
        scope: SyncScope,
    ) -> BackendResult<(BasicValueEnum<'ctx>, BasicValueEnum<'ctx>)> {
        let inst = ffi::build_cmpxchg(
            &self.builder,
            addr.into_pointer_value(),
            expected,
            new,
            llvm_ordering(success),
            llvm_ordering(failure),
            weak,
        );
        self.set_alias_facts(inst.instruction(), &[access])?;
        self.finish_atomic(inst, access, scope);
        let pair = inst.value().into_struct_value();
        let old = self.builder.build_extract_value(pair, 0, "").built()?;
        let ok = self.builder.build_extract_value(pair, 1, "").built()?;
        Ok((old, ok))
    }

    pub(crate) fn lower_fence(&self, ordering: AtomicOrdering, scope: SyncScope) -> BackendResult<()> {
        ffi::build_fence(&self.builder, llvm_ordering(ordering), single_thread(scope));
        Ok(())
    }
}
