//! A backend that generates nothing: emission is validated and the value
//! stack tracked, but no code is produced. Useful to check a frontend's CG
//! calls, and to fuzz the facade, without linking a code generator.

use crate::{
    AtomicOrdering, AtomicRmwOp, Backend, CastOp, CheckedOp, DataDecl, DataInit, ErrorKind, FastMath, FloatBinOp,
    FloatCmp, FloatUnOp, FuncDecl, IntBinOp, IntCmp, IntFlags, IntUnOp, ResolvedAccess, Sym, SyncScope, TargetInfo,
    TypeId, TypeKind, TypeTable,
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

    fn target(&self) -> &TargetInfo {
        &self.target
    }
    fn set_address_space_policy(&mut self, _: u32, _: &crate::AddrSpacePolicy) {}
    fn define_type(&mut self, _: TypeId, _: &TypeKind, _: &TypeTable) {}
    fn declare_function(&mut self, _: Sym, _: &str, _: &FuncDecl, _: &TypeTable) -> Result<(), ErrorKind> {
        Ok(())
    }
    fn declare_data(&mut self, _: Sym, _: &str, _: &DataDecl, _: &TypeTable) -> Result<(), ErrorKind> {
        Ok(())
    }
    fn define_data(&mut self, _: Sym, _: &DataInit) -> Result<(), ErrorKind> {
        Ok(())
    }
    fn begin_function(&mut self, _: Sym, params: &[TypeId], slots: &mut Vec<()>) {
        slots.resize(params.len(), ());
    }
    fn set_name(&mut self, _: (), _: &str) {}
    fn local_slot(&mut self, _: TypeId, _: u64, _: &str) {}
    fn new_block(&mut self) {}
    fn place_block(&mut self, _: (), _: bool) {}
    fn br(&mut self, _: ()) {}
    fn cond_br(&mut self, _: (), _: (), _: ()) {}
    fn ret(&mut self, _: Option<()>) {}
    fn unreachable(&mut self) {}
    fn end_function(&mut self, _: &[()]) -> Result<(), ErrorKind> {
        Ok(())
    }
    fn abandon_function(&mut self) {}
    fn const_int(&mut self, _: TypeId, _: u128) {}
    fn const_f32(&mut self, _: u32) {}
    fn const_f64(&mut self, _: u64) {}
    fn const_zero(&mut self, _: TypeId) {}
    fn sym_addr(&mut self, _: Sym) {}
    fn load(&mut self, _: (), _: &ResolvedAccess) {}
    fn store(&mut self, _: (), _: (), _: &ResolvedAccess) {}
    fn addr_offset(&mut self, _: (), _: i64) {}
    fn addr_index(&mut self, _: (), _: (), _: u64) {}
    fn int_binop(&mut self, _: IntBinOp, _: IntFlags, _: (), _: ()) {}
    fn int_cmp(&mut self, _: IntCmp, _: (), _: ()) {}
    fn int_unop(&mut self, _: IntUnOp, _: ()) {}
    fn checked(&mut self, _: CheckedOp, _: TypeId, _: (), _: ()) -> ((), ()) {
        ((), ())
    }
    fn freeze(&mut self, _: ()) {}
    fn cast(&mut self, _: CastOp, _: (), _: TypeId) {}
    fn cast_checked(&mut self, _: bool, _: (), _: TypeId) -> ((), ()) {
        ((), ())
    }
    fn float_binop(&mut self, _: FloatBinOp, _: FastMath, _: (), _: ()) {}
    fn float_unop(&mut self, _: FloatUnOp, _: FastMath, _: ()) {}
    fn fma(&mut self, _: FastMath, _: (), _: (), _: ()) {}
    fn float_cmp(&mut self, _: FloatCmp, _: FastMath, _: (), _: ()) {}
    fn define_alias_scope(&mut self, _: u32, _: &str) {}
    fn mem_copy(&mut self, _: bool, _: (), _: (), _: u64, _: &ResolvedAccess, _: &ResolvedAccess) {}
    fn mem_set(&mut self, _: (), _: u8, _: u64, _: &ResolvedAccess) {}
    fn atomic_load(&mut self, _: (), _: &ResolvedAccess, _: AtomicOrdering, _: SyncScope) {}
    fn atomic_store(&mut self, _: (), _: (), _: &ResolvedAccess, _: AtomicOrdering, _: SyncScope) {}
    fn atomic_rmw(&mut self, _: AtomicRmwOp, _: (), _: (), _: &ResolvedAccess, _: AtomicOrdering, _: SyncScope) {}
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
    ) -> ((), ()) {
        ((), ())
    }
    fn fence(&mut self, _: AtomicOrdering, _: SyncScope) {}
    fn safepoint_info(&mut self, _: Option<u64>, _: &[()]) {}
    fn init_root_slot(&mut self, _: (), _: TypeId) {}
    fn call_direct(&mut self, _: Sym, _: &[()]) -> Option<()> {
        Some(())
    }
    fn call_indirect(&mut self, _: TypeId, _: (), _: &[()]) -> Option<()> {
        Some(())
    }
}
