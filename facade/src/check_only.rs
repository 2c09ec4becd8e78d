//! A backend that generates nothing: emission is validated and the value
//! stack tracked, but no code is produced. Useful to check a frontend's CG
//! calls, and to fuzz the facade, without linking a code generator.

use crate::{
    AtomicOrdering, AtomicRmwOp, Backend, BackendResult, CallSite, CastOp, CheckedOp, DataDecl, DataInit, FastMath,
    FloatBinOp, FloatCmp, FloatUnOp, FuncDecl, IntBinOp, IntCmp, IntFlags, IntUnOp, ResolvedAccess, SlotKind, Sym,
    SyncScope, TargetInfo, TypeId, TypeKind, TypeTable,
};

/// A [`Backend`] with unit values and blocks, for validation only.
#[derive(Clone, Debug)]
pub struct CheckOnly {
    target: TargetInfo,
}

impl CheckOnly {
    /// A validating backend for a target whose facts the caller supplies.
    pub fn new(target: TargetInfo) -> Self {
        Self { target }
    }
}

impl Backend for CheckOnly {
    type Value = ();
    type Block = ();

    fn debug_init(&mut self, _: &crate::DebugOptions, _: crate::FileId) -> BackendResult<()> {
        Ok(())
    }
    fn debug_file(&mut self, _: crate::FileId, _: &str, _: &str) -> BackendResult<()> {
        Ok(())
    }
    fn debug_type(&mut self, _: TypeId, _: &crate::DebugType<'_>) -> BackendResult<()> {
        Ok(())
    }
    fn debug_function(&mut self, _: &crate::DebugFunction<'_>) -> BackendResult<()> {
        Ok(())
    }
    fn debug_set_loc(&mut self, _: crate::SrcLoc) -> BackendResult<()> {
        Ok(())
    }
    fn debug_variable(&mut self, _: (), _: &crate::DebugVariable<'_>) -> BackendResult<()> {
        Ok(())
    }
    fn debug_scope_begin(&mut self, _: crate::SrcLoc) -> BackendResult<()> {
        Ok(())
    }
    fn debug_scope_end(&mut self) -> BackendResult<()> {
        Ok(())
    }
    fn debug_global(&mut self, _: Sym, _: &crate::DebugGlobal<'_>) -> BackendResult<()> {
        Ok(())
    }

    fn target(&self) -> &TargetInfo {
        &self.target
    }
    fn set_address_space_policy(&mut self, _: u32, _: &crate::AddrSpacePolicy) -> BackendResult<()> {
        Ok(())
    }
    fn define_type(&mut self, _: TypeId, _: &TypeKind, _: &TypeTable) -> BackendResult<()> {
        Ok(())
    }
    fn declare_function(&mut self, _: Sym, _: &str, _: &FuncDecl, _: &TypeTable) -> BackendResult<()> {
        Ok(())
    }
    fn declare_data(&mut self, _: Sym, _: &str, _: &DataDecl, _: &TypeTable) -> BackendResult<()> {
        Ok(())
    }
    fn define_data(&mut self, _: Sym, _: &DataInit, _: &[()]) -> BackendResult<()> {
        Ok(())
    }
    fn declare_alias(&mut self, _: Sym, _: &str, _: Sym, _: &crate::AliasDecl) -> BackendResult<()> {
        Ok(())
    }
    fn add_init_fini(&mut self, _: crate::InitFini, _: Sym, _: u16) -> BackendResult<()> {
        Ok(())
    }
    fn begin_function(&mut self, _: Sym, params: &[TypeId], slots: &mut Vec<()>) -> BackendResult<()> {
        slots.resize(params.len(), ());
        Ok(())
    }
    fn set_name(&mut self, _: (), _: &str) {}
    fn local_slot(&mut self, _: TypeId, _: u64, _: &str, _: SlotKind) -> BackendResult<()> {
        Ok(())
    }
    fn new_block(&mut self) -> BackendResult<()> {
        Ok(())
    }
    fn place_block(&mut self, _: (), _: bool) -> BackendResult<()> {
        Ok(())
    }
    fn br(&mut self, _: ()) -> BackendResult<()> {
        Ok(())
    }
    fn cond_br(&mut self, _: (), _: (), _: ()) -> BackendResult<()> {
        Ok(())
    }
    fn check_branch(&mut self, _: (), _: (), _: bool) -> BackendResult<()> {
        Ok(())
    }
    fn switch(&mut self, _: (), _: TypeId, _: (), _: &[(u128, ())]) -> BackendResult<()> {
        Ok(())
    }
    fn select(&mut self, _: (), _: (), _: ()) -> BackendResult<()> {
        Ok(())
    }
    fn inline_asm(&mut self, asm: &crate::ResolvedAsm, _: &[()], outputs: &mut Vec<()>) -> BackendResult<()> {
        outputs.resize(asm.outputs.len(), ());
        Ok(())
    }
    fn begin_naked_function(&mut self, _: Sym) -> BackendResult<()> {
        Ok(())
    }
    fn ret(&mut self, _: Option<()>) -> BackendResult<()> {
        Ok(())
    }
    fn unreachable(&mut self) -> BackendResult<()> {
        Ok(())
    }
    fn end_function(&mut self, _: &[()]) -> BackendResult<()> {
        Ok(())
    }
    fn abandon_function(&mut self) {}
    fn const_int(&mut self, _: TypeId, _: u128) -> BackendResult<()> {
        Ok(())
    }
    fn const_f32(&mut self, _: u32) -> BackendResult<()> {
        Ok(())
    }
    fn const_f64(&mut self, _: u64) -> BackendResult<()> {
        Ok(())
    }
    fn const_zero(&mut self, _: TypeId) -> BackendResult<()> {
        Ok(())
    }
    fn sym_addr(&mut self, _: Sym) -> BackendResult<()> {
        Ok(())
    }
    fn load(&mut self, _: (), _: &ResolvedAccess) -> BackendResult<()> {
        Ok(())
    }
    fn store(&mut self, _: (), _: (), _: &ResolvedAccess) -> BackendResult<()> {
        Ok(())
    }
    fn addr_offset(&mut self, _: (), _: i64) -> BackendResult<()> {
        Ok(())
    }
    fn addr_index(&mut self, _: (), _: (), _: u64) -> BackendResult<()> {
        Ok(())
    }
    fn int_binop(&mut self, _: IntBinOp, _: IntFlags, _: (), _: ()) -> BackendResult<()> {
        Ok(())
    }
    fn int_cmp(&mut self, _: IntCmp, _: (), _: ()) -> BackendResult<()> {
        Ok(())
    }
    fn int_unop(&mut self, _: IntUnOp, _: ()) -> BackendResult<()> {
        Ok(())
    }
    fn checked(&mut self, _: CheckedOp, _: TypeId, _: (), _: ()) -> BackendResult<((), ())> {
        Ok(((), ()))
    }
    fn freeze(&mut self, _: ()) -> BackendResult<()> {
        Ok(())
    }
    fn cast(&mut self, _: CastOp, _: (), _: TypeId) -> BackendResult<()> {
        Ok(())
    }
    fn cast_checked(&mut self, _: bool, _: (), _: TypeId) -> BackendResult<((), ())> {
        Ok(((), ()))
    }
    fn float_binop(&mut self, _: FloatBinOp, _: FastMath, _: (), _: ()) -> BackendResult<()> {
        Ok(())
    }
    fn float_unop(&mut self, _: FloatUnOp, _: FastMath, _: ()) -> BackendResult<()> {
        Ok(())
    }
    fn fma(&mut self, _: FastMath, _: (), _: (), _: ()) -> BackendResult<()> {
        Ok(())
    }
    fn float_cmp(&mut self, _: FloatCmp, _: FastMath, _: (), _: ()) -> BackendResult<()> {
        Ok(())
    }
    fn define_alias_scope(&mut self, _: u32, _: &str) -> BackendResult<()> {
        Ok(())
    }
    fn mem_copy(&mut self, _: bool, _: (), _: (), _: u64, _: &ResolvedAccess, _: &ResolvedAccess) -> BackendResult<()> {
        Ok(())
    }
    fn mem_set(&mut self, _: (), _: u8, _: u64, _: &ResolvedAccess) -> BackendResult<()> {
        Ok(())
    }
    fn atomic_load(&mut self, _: (), _: &ResolvedAccess, _: AtomicOrdering, _: SyncScope) -> BackendResult<()> {
        Ok(())
    }
    fn atomic_store(&mut self, _: (), _: (), _: &ResolvedAccess, _: AtomicOrdering, _: SyncScope) -> BackendResult<()> {
        Ok(())
    }
    fn atomic_rmw(
        &mut self,
        _: AtomicRmwOp,
        _: (),
        _: (),
        _: &ResolvedAccess,
        _: AtomicOrdering,
        _: SyncScope,
    ) -> BackendResult<()> {
        Ok(())
    }
    fn cmpxchg(
        &mut self,
        _: (),
        _: (),
        _: (),
        _: &ResolvedAccess,
        _: AtomicOrdering,
        _: AtomicOrdering,
        _: bool,
        _: SyncScope,
    ) -> BackendResult<((), ())> {
        Ok(((), ()))
    }
    fn fence(&mut self, _: AtomicOrdering, _: SyncScope) -> BackendResult<()> {
        Ok(())
    }
    fn label_addr(&mut self, _: ()) -> BackendResult<()> {
        Ok(())
    }
    fn indirect_br(&mut self, _: (), _: &[()]) -> BackendResult<()> {
        Ok(())
    }
    fn dynamic_alloca(&mut self, _: (), _: u64) -> BackendResult<()> {
        Ok(())
    }
    fn stack_save(&mut self) -> BackendResult<()> {
        Ok(())
    }
    fn stack_restore(&mut self, _: ()) -> BackendResult<()> {
        Ok(())
    }
    fn va_start(&mut self, _: ()) -> BackendResult<()> {
        Ok(())
    }
    fn va_end(&mut self, _: ()) -> BackendResult<()> {
        Ok(())
    }
    fn va_copy(&mut self, _: (), _: ()) -> BackendResult<()> {
        Ok(())
    }
    fn va_arg(&mut self, _: (), _: TypeId, dest: Option<()>) -> BackendResult<Option<()>> {
        Ok(if dest.is_some() { None } else { Some(()) })
    }
    fn call_direct(&mut self, _: Sym, _: &CallSite<'_, ()>) -> BackendResult<Option<()>> {
        Ok(Some(()))
    }
    fn call_indirect(&mut self, _: TypeId, _: (), _: &CallSite<'_, ()>) -> BackendResult<Option<()>> {
        Ok(Some(()))
    }
}
