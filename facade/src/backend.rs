//! The interface between the facade and a code generator. The facade
//! validates each public call and tracks the value stack, then calls the
//! backend at once with checked, typed operands; nothing is stored between.
//!
//! Contract: every method is called only with operands the facade has
//! validated (types compatible, handles in range, a block open for
//! instructions). A backend may therefore treat violations as internal bugs.

use std::fmt::Debug;

use crate::{
    AtomicOrdering, AtomicRmwOp, CastOp, CheckedOp, DataDecl, DataInit, ErrorKind, FastMath, FloatBinOp, FloatCmp,
    FloatUnOp, FuncDecl, IntBinOp, IntCmp, IntFlags, IntUnOp, ResolvedAccess, Sym, SyncScope, TargetInfo, TypeId,
    TypeKind, TypeTable,
};

/// A code generator driven call by call by [`crate::Cg`].
pub trait Backend {
    /// An SSA value (an operand on the value stack, or the address of a place).
    type Value: Copy + Debug;
    /// A basic block.
    type Block: Copy + Debug;

    /// The resolved target.
    fn target(&self) -> &TargetInfo;

    /// Address space `space` has `policy` (called before any symbol is declared).
    fn set_address_space_policy(&mut self, space: u32, policy: &crate::AddrSpacePolicy);

    /// A new type was interned as `id`; all types it refers to were announced before.
    fn define_type(&mut self, id: TypeId, kind: &TypeKind, types: &TypeTable);

    /// Declares a function symbol.
    fn declare_function(&mut self, sym: Sym, name: &str, decl: &FuncDecl, types: &TypeTable) -> Result<(), ErrorKind>;

    /// Declares a data symbol.
    fn declare_data(&mut self, sym: Sym, name: &str, decl: &DataDecl, types: &TypeTable) -> Result<(), ErrorKind>;

    /// Gives a declared data symbol its initializer (size already checked).
    fn define_data(&mut self, sym: Sym, init: &DataInit) -> Result<(), ErrorKind>;

    /// Starts the body of `sym`: creates the entry, one stack slot per parameter
    /// (of the given types) holding the incoming value, their addresses pushed
    /// onto `param_slots`, and opens the first block.
    fn begin_function(&mut self, sym: Sym, params: &[TypeId], param_slots: &mut Vec<Self::Value>);

    /// Names a value (for readable IR); names never change semantics.
    fn set_name(&mut self, value: Self::Value, name: &str);

    /// A stack slot of type `ty` in the function's entry, aligned to `align`.
    fn local_slot(&mut self, ty: TypeId, align: u64, name: &str) -> Self::Value;

    /// A block for a label, not yet placed.
    fn new_block(&mut self) -> Self::Block;

    /// Makes `block` current; if `fallthrough`, the current block first branches to it.
    fn place_block(&mut self, block: Self::Block, fallthrough: bool);

    /// Unconditional branch; terminates the current block.
    fn br(&mut self, target: Self::Block);

    /// Conditional branch on an `i1`; terminates the current block.
    fn cond_br(&mut self, cond: Self::Value, then: Self::Block, otherwise: Self::Block);

    /// Return; terminates the current block.
    fn ret(&mut self, value: Option<Self::Value>);

    /// Marks the current point unreachable; terminates the current block.
    fn unreachable(&mut self);

    /// Finishes the body. `unused` blocks were created but never placed or branched to.
    fn end_function(&mut self, unused: &[Self::Block]) -> Result<(), ErrorKind>;

    /// Discards the body emitted so far; the symbol stays declared.
    fn abandon_function(&mut self);

    /// An integer constant of `ty` with the low bits of `bits`.
    fn const_int(&mut self, ty: TypeId, bits: u128) -> Self::Value;
    /// An f32 constant with exactly these bits.
    fn const_f32(&mut self, bits: u32) -> Self::Value;
    /// An f64 constant with exactly these bits.
    fn const_f64(&mut self, bits: u64) -> Self::Value;
    /// The zero value of a scalar type (null for pointers).
    fn const_zero(&mut self, ty: TypeId) -> Self::Value;
    /// The address of a symbol.
    fn sym_addr(&mut self, sym: Sym) -> Self::Value;

    /// Loads `access.ty` from `addr`.
    fn load(&mut self, addr: Self::Value, access: &ResolvedAccess) -> Self::Value;
    /// Stores `value` to `addr`.
    fn store(&mut self, addr: Self::Value, value: Self::Value, access: &ResolvedAccess);
    /// `addr + offset` bytes, same address space.
    fn addr_offset(&mut self, addr: Self::Value, offset: i64) -> Self::Value;
    /// `addr + index * elem_size` bytes (index: any integer, sign-extended or
    /// truncated to the pointer's index width), same address space.
    fn addr_index(&mut self, addr: Self::Value, index: Self::Value, elem_size: u64) -> Self::Value;

    /// Integer arithmetic on two values of the same integer type.
    fn int_binop(&mut self, op: IntBinOp, flags: IntFlags, lhs: Self::Value, rhs: Self::Value) -> Self::Value;
    /// Integer or pointer comparison producing `i1`.
    fn int_cmp(&mut self, pred: IntCmp, lhs: Self::Value, rhs: Self::Value) -> Self::Value;
    /// One-operand integer operation.
    fn int_unop(&mut self, op: IntUnOp, value: Self::Value) -> Self::Value;
    /// Checked arithmetic on two values of integer type `ty`: (result, overflow `i1`).
    fn checked(&mut self, op: CheckedOp, ty: TypeId, lhs: Self::Value, rhs: Self::Value) -> (Self::Value, Self::Value);
    /// `freeze`: poison becomes an arbitrary fixed value.
    fn freeze(&mut self, value: Self::Value) -> Self::Value;
    /// Scalar conversion to `to`.
    fn cast(&mut self, op: CastOp, value: Self::Value, to: TypeId) -> Self::Value;
    /// Float to integer `to`, saturating, with an `i1` that is 1 when the value did not fit.
    fn cast_checked(&mut self, signed: bool, value: Self::Value, to: TypeId) -> (Self::Value, Self::Value);

    /// Float arithmetic on two values of one float type.
    fn float_binop(&mut self, op: FloatBinOp, fm: FastMath, lhs: Self::Value, rhs: Self::Value) -> Self::Value;
    /// One-operand float operation.
    fn float_unop(&mut self, op: FloatUnOp, fm: FastMath, value: Self::Value) -> Self::Value;
    /// Fused multiply-add `a * b + c`.
    fn fma(&mut self, fm: FastMath, a: Self::Value, b: Self::Value, c: Self::Value) -> Self::Value;
    /// Float comparison producing `i1`.
    fn float_cmp(&mut self, pred: FloatCmp, fm: FastMath, lhs: Self::Value, rhs: Self::Value) -> Self::Value;

    /// Defines alias scope `id` (ids are issued in order from 1).
    fn define_alias_scope(&mut self, id: u32, name: &str);
    /// Copies `size` bytes; `overlapping` selects memmove semantics.
    fn mem_copy(
        &mut self,
        overlapping: bool,
        dst: Self::Value,
        src: Self::Value,
        size: u64,
        dst_access: &ResolvedAccess,
        src_access: &ResolvedAccess,
    );
    /// Fills `size` bytes with `value`.
    fn mem_set(&mut self, dst: Self::Value, value: u8, size: u64, access: &ResolvedAccess);

    /// Atomic load.
    fn atomic_load(
        &mut self,
        addr: Self::Value,
        access: &ResolvedAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    ) -> Self::Value;
    /// Atomic store.
    fn atomic_store(
        &mut self,
        addr: Self::Value,
        value: Self::Value,
        access: &ResolvedAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    );
    /// Atomic read-modify-write; returns the old value.
    fn atomic_rmw(
        &mut self,
        op: AtomicRmwOp,
        addr: Self::Value,
        value: Self::Value,
        access: &ResolvedAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    ) -> Self::Value;
    /// Compare-exchange; returns (old value, success `i1`).
    #[allow(clippy::too_many_arguments)]
    fn cmpxchg(
        &mut self,
        addr: Self::Value,
        expected: Self::Value,
        new: Self::Value,
        access: &ResolvedAccess,
        success: AtomicOrdering,
        failure: AtomicOrdering,
        weak: bool,
        scope: SyncScope,
    ) -> (Self::Value, Self::Value);
    /// Memory fence.
    fn fence(&mut self, ordering: AtomicOrdering, scope: SyncScope);

    /// The next `call_direct`/`call_indirect` is a safepoint of a managed function
    /// whose stack map record carries `id` (if set) and reports `roots`, the
    /// addresses of explicit root slots (see `doc/gc.md`). Called only when one is set.
    fn safepoint_info(&mut self, id: Option<u64>, roots: &[Self::Value]);
    /// `slot` (a new local slot of managed pointer type `ty`) is an explicit GC
    /// root: it must hold null from the function's entry on.
    fn init_root_slot(&mut self, slot: Self::Value, ty: TypeId);

    /// Direct call; returns the result if the signature has one.
    fn call_direct(&mut self, callee: Sym, args: &[Self::Value]) -> Option<Self::Value>;
    /// Indirect call through `callee` with function type `sig`.
    fn call_indirect(&mut self, sig: TypeId, callee: Self::Value, args: &[Self::Value]) -> Option<Self::Value>;
}
