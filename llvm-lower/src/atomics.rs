//! Lowering of atomics: orderings, single-thread scope, weak exchange and
//! volatile are set on the instructions LLVM builds.

use cfree_facade::{AtomicOrdering, AtomicRmwOp, MemFlags, ResolvedAccess, SyncScope};
use inkwell::values::{BasicValue, BasicValueEnum};

use crate::backend::{LlvmBackend, POSITIONED};
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

impl<'ctx> LlvmBackend<'ctx> {
    fn finish_atomic(&self, inst: AtomicInst<'ctx>, access: &ResolvedAccess, scope: SyncScope) {
        ffi::set_atomic_facts(
            inst,
            access.align as u32,
            access.flags.contains(MemFlags::VOLATILE),
            scope == SyncScope::SingleThread,
        );
    }

    pub(crate) fn lower_atomic_load(
        &self,
        addr: BasicValueEnum<'ctx>,
        access: &ResolvedAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    ) -> BasicValueEnum<'ctx> {
        let v = self.builder.build_load(self.basic(access.ty), addr.into_pointer_value(), "").expect(POSITIONED);
        let inst = v.as_instruction_value().expect("a load instruction");
        self.set_alias_facts(inst, &[access]);
        self.finish_atomic(ffi::make_atomic(inst, llvm_ordering(ordering)), access, scope);
        v
    }

    pub(crate) fn lower_atomic_store(
        &self,
        addr: BasicValueEnum<'ctx>,
        value: BasicValueEnum<'ctx>,
        access: &ResolvedAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    ) {
        let inst = self.builder.build_store(addr.into_pointer_value(), value).expect(POSITIONED);
        self.set_alias_facts(inst, &[access]);
        self.finish_atomic(ffi::make_atomic(inst, llvm_ordering(ordering)), access, scope);
    }

    pub(crate) fn lower_atomic_rmw(
        &self,
        op: AtomicRmwOp,
        addr: BasicValueEnum<'ctx>,
        value: BasicValueEnum<'ctx>,
        access: &ResolvedAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    ) -> BasicValueEnum<'ctx> {
        let inst =
            ffi::build_atomic_rmw(&self.builder, rmw_op(op), addr.into_pointer_value(), value, llvm_ordering(ordering));
        self.finish_atomic(inst, access, scope);
        inst.value()
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
    ) -> (BasicValueEnum<'ctx>, BasicValueEnum<'ctx>) {
        let inst = ffi::build_cmpxchg(
            &self.builder,
            addr.into_pointer_value(),
            expected,
            new,
            llvm_ordering(success),
            llvm_ordering(failure),
            weak,
        );
        self.set_alias_facts(inst.instruction(), &[access]);
        self.finish_atomic(inst, access, scope);
        let pair = inst.value().into_struct_value();
        let old = self.builder.build_extract_value(pair, 0, "").expect(POSITIONED);
        let ok = self.builder.build_extract_value(pair, 1, "").expect(POSITIONED);
        (old, ok)
    }

    pub(crate) fn lower_fence(&self, ordering: AtomicOrdering, scope: SyncScope) {
        ffi::build_fence(&self.builder, llvm_ordering(ordering), scope == SyncScope::SingleThread);
    }
}
