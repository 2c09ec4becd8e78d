//! The interface between the facade and a code generator. The facade
//! validates each public call and tracks the value stack, then calls the
//! backend at once with checked, typed operands; nothing is stored between.
//!
//! Contract: every method is called only with operands the facade has
//! validated (types compatible, handles in range, a block open for
//! instructions). A backend may therefore treat violations as internal bugs.
//!
//! Every lowering method returns a [`BackendResult`]: a backend that cannot
//! lower a request (a capability it lacks, or an internal failure) refuses it
//! with an [`ErrorKind`], usually [`ErrorKind::BackendRefused`], before
//! emitting anything for that call; the facade reports it as the call's error.
//! `doc/architecture.md` lists what a second backend implements.

use std::fmt::Debug;

use crate::{
    AtomicOrdering, AtomicRmwOp, CastOp, CheckedOp, DataDecl, DataInit, ErrorKind, FastMath, FloatBinOp, FloatCmp,
    FloatUnOp, FuncDecl, IntBinOp, IntCmp, IntFlags, IntUnOp, ResolvedAccess, ResolvedAsm, Sym, SyncScope, TargetInfo,
    TypeId, TypeKind, TypeTable,
};

/// What a backend returns: a lowered value, or its refusal.
pub type BackendResult<T> = std::result::Result<T, BackendError>;

/// A backend's refusal: an [`ErrorKind`], boxed so that every lowering
/// result stays as small as the value it carries (the hot path).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendError(Box<ErrorKind>);

impl BackendError {
    /// What the backend refused.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }
}

impl From<ErrorKind> for BackendError {
    fn from(kind: ErrorKind) -> Self {
        Self(Box::new(kind))
    }
}

impl From<BackendError> for ErrorKind {
    fn from(e: BackendError) -> Self {
        *e.0
    }
}

/// What kind of stack slot [`Backend::local_slot`] makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlotKind {
    /// An ordinary slot (parameters, locals, compiler temporaries).
    Plain,
    /// An explicit GC root (`Cg::gc_root_slot`): a slot of managed pointer type that
    /// holds null from the function's entry on and is reported at every later safepoint.
    GcRoot,
}

/// What a backend needs to know about a call that is a GC safepoint (a call
/// from a managed function to a callee that may collect; see `doc/gc.md`).
/// A backend with its own liveness analysis (LLVM's statepoint rewriting) may
/// use only `id` and `roots`; one without (a Cranelift-like backend with user
/// stack maps) finds every managed reference live across the call in `live`
/// and `managed_slots`.
#[derive(Clone, Copy, Debug)]
pub struct Safepoint<'a, V> {
    /// The stack map record ID the frontend set (`Cg::set_safepoint_id`), if any.
    pub id: Option<u64>,
    /// Addresses of the function's explicit root slots, in creation order.
    pub roots: &'a [V],
    /// Managed pointers on the value stack below the call's operands (values,
    /// and addresses of places in the managed space): used after the call.
    pub live: &'a [V],
    /// Addresses of the function's stack slots of managed pointer type (other
    /// than explicit roots): a backend that keeps locals in memory reports them.
    pub managed_slots: &'a [V],
}

/// A code generator driven call by call by [`crate::Cg`].
pub trait Backend {
    /// An SSA value (an operand on the value stack, or the address of a place).
    type Value: Copy + Debug;
    /// A basic block.
    type Block: Copy + Debug;

    /// The resolved target.
    fn target(&self) -> &TargetInfo;

    /// Address space `space` has `policy` (called before any symbol is declared).
    fn set_address_space_policy(&mut self, space: u32, policy: &crate::AddrSpacePolicy) -> BackendResult<()>;

    /// A new type was interned as `id`; all types it refers to were announced before.
    fn define_type(&mut self, id: TypeId, kind: &TypeKind, types: &TypeTable) -> BackendResult<()>;

    /// Declares a function symbol.
    fn declare_function(&mut self, sym: Sym, name: &str, decl: &FuncDecl, types: &TypeTable) -> BackendResult<()>;

    /// Declares a data symbol.
    fn declare_data(&mut self, sym: Sym, name: &str, decl: &DataDecl, types: &TypeTable) -> BackendResult<()>;

    /// Gives a declared data symbol its initializer (size already checked);
    /// `labels` are the blocks of its `LabelAddr` pieces, in order.
    fn define_data(&mut self, sym: Sym, init: &DataInit, labels: &[Self::Block]) -> BackendResult<()>;

    /// Declares `sym`, named `name`, as an alias of the declared symbol `target`
    /// (the facade checks at `finish` that `target` is defined).
    fn declare_alias(&mut self, sym: Sym, name: &str, target: Sym, decl: &crate::AliasDecl) -> BackendResult<()>;

    /// Appends function `func` (no parameters, no result) to the module's
    /// constructor or destructor array with `priority` (101..=65535).
    fn add_init_fini(&mut self, kind: crate::InitFini, func: Sym, priority: u16) -> BackendResult<()>;

    /// Starts the body of `sym`: creates the entry, one stack slot per parameter
    /// (of the given types) holding the incoming value (for a record or array,
    /// the callee's own copy), their addresses pushed onto `param_slots`, and
    /// opens the first block.
    fn begin_function(&mut self, sym: Sym, params: &[TypeId], param_slots: &mut Vec<Self::Value>) -> BackendResult<()>;

    /// Names a value (for readable IR); names never change semantics.
    fn set_name(&mut self, value: Self::Value, name: &str);

    /// A stack slot of type `ty` in the function's entry, aligned to `align`.
    fn local_slot(&mut self, ty: TypeId, align: u64, name: &str, kind: SlotKind) -> BackendResult<Self::Value>;

    /// A block for a label, not yet placed.
    fn new_block(&mut self) -> BackendResult<Self::Block>;

    /// Makes `block` current; if `fallthrough`, the current block first branches to it.
    fn place_block(&mut self, block: Self::Block, fallthrough: bool) -> BackendResult<()>;

    /// Unconditional branch; terminates the current block.
    fn br(&mut self, target: Self::Block) -> BackendResult<()>;

    /// Conditional branch on an `i1`; terminates the current block.
    fn cond_br(&mut self, cond: Self::Value, then: Self::Block, otherwise: Self::Block) -> BackendResult<()>;

    /// Branches on integer `value` (of type `ty`) to the block of the case whose
    /// bits equal it (cases are distinct, masked to the width), else to
    /// `default`; terminates the current block.
    fn switch(
        &mut self,
        value: Self::Value,
        ty: TypeId,
        default: Self::Block,
        cases: &[(u128, Self::Block)],
    ) -> BackendResult<()>;

    /// `cond ? when_true : when_false` for an `i1` condition and two scalars of one type.
    fn select(
        &mut self,
        cond: Self::Value,
        when_true: Self::Value,
        when_false: Self::Value,
    ) -> BackendResult<Self::Value>;

    /// An inline assembly block, validated (`doc/asm.md`): `inputs` in
    /// `asm.inputs` order; pushes one value per output, in order, onto
    /// `outputs`. After a `noreturn` block the backend marks the point
    /// unreachable (the facade treats the block as terminated).
    fn inline_asm(
        &mut self,
        asm: &ResolvedAsm,
        inputs: &[Self::Value],
        outputs: &mut Vec<Self::Value>,
    ) -> BackendResult<()>;

    /// Starts the body of naked function `sym` (`FuncAttrs::naked`): no
    /// prologue, epilogue or parameter slots; the body is inline assembly and
    /// `unreachable`.
    fn begin_naked_function(&mut self, sym: Sym) -> BackendResult<()>;

    /// Return; terminates the current block. For a record or array result,
    /// `value` is the address of the place holding it.
    fn ret(&mut self, value: Option<Self::Value>) -> BackendResult<()>;

    /// Marks the current point unreachable; terminates the current block.
    fn unreachable(&mut self) -> BackendResult<()>;
    /// The address of `block` (an `i8` pointer in address space 0).
    fn label_addr(&mut self, block: Self::Block) -> BackendResult<Self::Value>;
    /// Branches to `handler` when `failed` (an `i1`) is true, marked unlikely,
    /// and continues in a new block that only this branch reaches (values
    /// computed before stay usable). With `implicit_null`, `failed` is
    /// `pointer == null` and the backend may fold the check into the first
    /// access through that pointer after it, recording the access in its trap
    /// table (`doc/runtime.md`).
    fn check_branch(&mut self, failed: Self::Value, handler: Self::Block, implicit_null: bool) -> BackendResult<()>;
    /// Branches to the block whose address is `addr`, one of `dests`; terminates the block.
    fn indirect_br(&mut self, addr: Self::Value, dests: &[Self::Block]) -> BackendResult<()>;
    /// `size` bytes (a value of integer type) of stack memory aligned to `align`, until
    /// the function returns or a `stack_restore` to an earlier point.
    fn dynamic_alloca(&mut self, size: Self::Value, align: u64) -> BackendResult<Self::Value>;
    /// The current stack position, for `stack_restore`.
    fn stack_save(&mut self) -> BackendResult<Self::Value>;
    /// Releases the dynamic allocations made since `saved` was taken.
    fn stack_restore(&mut self, saved: Self::Value) -> BackendResult<()>;

    /// Finishes the body. `unused` blocks were created but never placed or branched to.
    fn end_function(&mut self, unused: &[Self::Block]) -> BackendResult<()>;

    /// Discards the body emitted so far; the symbol stays declared.
    fn abandon_function(&mut self);

    /// An integer constant of `ty` with the low bits of `bits`.
    fn const_int(&mut self, ty: TypeId, bits: u128) -> BackendResult<Self::Value>;
    /// An f32 constant with exactly these bits.
    fn const_f32(&mut self, bits: u32) -> BackendResult<Self::Value>;
    /// An f64 constant with exactly these bits.
    fn const_f64(&mut self, bits: u64) -> BackendResult<Self::Value>;
    /// The zero value of a scalar type (null for pointers).
    fn const_zero(&mut self, ty: TypeId) -> BackendResult<Self::Value>;
    /// The address of a symbol.
    fn sym_addr(&mut self, sym: Sym) -> BackendResult<Self::Value>;

    /// Loads `access.ty` from `addr`.
    fn load(&mut self, addr: Self::Value, access: &ResolvedAccess) -> BackendResult<Self::Value>;
    /// Stores `value` to `addr`.
    fn store(&mut self, addr: Self::Value, value: Self::Value, access: &ResolvedAccess) -> BackendResult<()>;
    /// `addr + offset` bytes, same address space.
    fn addr_offset(&mut self, addr: Self::Value, offset: i64) -> BackendResult<Self::Value>;
    /// `addr + index * elem_size` bytes (index: any integer, sign-extended or
    /// truncated to the pointer's index width), same address space.
    fn addr_index(&mut self, addr: Self::Value, index: Self::Value, elem_size: u64) -> BackendResult<Self::Value>;

    /// Integer arithmetic on two values of the same integer type.
    fn int_binop(
        &mut self,
        op: IntBinOp,
        flags: IntFlags,
        lhs: Self::Value,
        rhs: Self::Value,
    ) -> BackendResult<Self::Value>;
    /// Integer or pointer comparison producing `i1`.
    fn int_cmp(&mut self, pred: IntCmp, lhs: Self::Value, rhs: Self::Value) -> BackendResult<Self::Value>;
    /// One-operand integer operation.
    fn int_unop(&mut self, op: IntUnOp, value: Self::Value) -> BackendResult<Self::Value>;
    /// Checked arithmetic on two values of integer type `ty`: (result, overflow `i1`).
    fn checked(
        &mut self,
        op: CheckedOp,
        ty: TypeId,
        lhs: Self::Value,
        rhs: Self::Value,
    ) -> BackendResult<(Self::Value, Self::Value)>;
    /// `freeze`: poison becomes an arbitrary fixed value.
    fn freeze(&mut self, value: Self::Value) -> BackendResult<Self::Value>;
    /// Scalar conversion to `to`.
    fn cast(&mut self, op: CastOp, value: Self::Value, to: TypeId) -> BackendResult<Self::Value>;
    /// Float to integer `to`, saturating, with an `i1` that is 1 when the value did not fit.
    fn cast_checked(
        &mut self,
        signed: bool,
        value: Self::Value,
        to: TypeId,
    ) -> BackendResult<(Self::Value, Self::Value)>;

    /// Float arithmetic on two values of one float type.
    fn float_binop(
        &mut self,
        op: FloatBinOp,
        fm: FastMath,
        lhs: Self::Value,
        rhs: Self::Value,
    ) -> BackendResult<Self::Value>;
    /// One-operand float operation.
    fn float_unop(&mut self, op: FloatUnOp, fm: FastMath, value: Self::Value) -> BackendResult<Self::Value>;
    /// Fused multiply-add `a * b + c`.
    fn fma(&mut self, fm: FastMath, a: Self::Value, b: Self::Value, c: Self::Value) -> BackendResult<Self::Value>;
    /// Float comparison producing `i1`.
    fn float_cmp(
        &mut self,
        pred: FloatCmp,
        fm: FastMath,
        lhs: Self::Value,
        rhs: Self::Value,
    ) -> BackendResult<Self::Value>;

    /// Defines alias scope `id` (ids are issued in order from 1).
    fn define_alias_scope(&mut self, id: u32, name: &str) -> BackendResult<()>;
    /// Copies `size` bytes; `overlapping` selects memmove semantics.
    fn mem_copy(
        &mut self,
        overlapping: bool,
        dst: Self::Value,
        src: Self::Value,
        size: u64,
        dst_access: &ResolvedAccess,
        src_access: &ResolvedAccess,
    ) -> BackendResult<()>;
    /// Fills `size` bytes with `value`.
    fn mem_set(&mut self, dst: Self::Value, value: u8, size: u64, access: &ResolvedAccess) -> BackendResult<()>;

    /// Atomic load.
    fn atomic_load(
        &mut self,
        addr: Self::Value,
        access: &ResolvedAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    ) -> BackendResult<Self::Value>;
    /// Atomic store.
    fn atomic_store(
        &mut self,
        addr: Self::Value,
        value: Self::Value,
        access: &ResolvedAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    ) -> BackendResult<()>;
    /// Atomic read-modify-write; returns the old value.
    fn atomic_rmw(
        &mut self,
        op: AtomicRmwOp,
        addr: Self::Value,
        value: Self::Value,
        access: &ResolvedAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    ) -> BackendResult<Self::Value>;
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
    ) -> BackendResult<(Self::Value, Self::Value)>;
    /// Memory fence.
    fn fence(&mut self, ordering: AtomicOrdering, scope: SyncScope) -> BackendResult<()>;

    /// `va_start` on the `va_list` at `list` (the open function is variadic).
    fn va_start(&mut self, list: Self::Value) -> BackendResult<()>;
    /// `va_end` on the `va_list` at `list`.
    fn va_end(&mut self, list: Self::Value) -> BackendResult<()>;
    /// `va_copy` from the `va_list` at `src` to the one at `dst`.
    fn va_copy(&mut self, dst: Self::Value, src: Self::Value) -> BackendResult<()>;
    /// Reads the next variadic argument of `ty` from the `va_list` at `list`:
    /// returns a scalar, or writes an aggregate to `dest` and returns `None`.
    fn va_arg(
        &mut self,
        list: Self::Value,
        ty: TypeId,
        dest: Option<Self::Value>,
    ) -> BackendResult<Option<Self::Value>>;

    /// Direct call; returns the result if the signature has a scalar one.
    fn call_direct(&mut self, callee: Sym, site: &CallSite<'_, Self::Value>) -> BackendResult<Option<Self::Value>>;
    /// Indirect call through `callee` with function type `sig`.
    fn call_indirect(
        &mut self,
        sig: TypeId,
        callee: Self::Value,
        site: &CallSite<'_, Self::Value>,
    ) -> BackendResult<Option<Self::Value>>;

    // ---- debug information (`doc/debuginfo.md`); called only once it is enabled ----

    /// Starts the compile unit; its file is `unit_file`.
    fn debug_init(&mut self, options: &crate::DebugOptions, unit_file: crate::FileId) -> BackendResult<()>;
    /// Registers file `id`.
    fn debug_file(&mut self, id: crate::FileId, name: &str, directory: &str) -> BackendResult<()>;
    /// Describes type `id`; every type `ty` mentions was described before.
    fn debug_type(&mut self, id: TypeId, ty: &crate::DebugType<'_>) -> BackendResult<()>;
    /// Describes the open function (just begun); its instructions are at
    /// `f.loc` until [`Self::debug_set_loc`].
    fn debug_function(&mut self, f: &crate::DebugFunction<'_>) -> BackendResult<()>;
    /// Instructions emitted from here on in the open function are at `loc`.
    fn debug_set_loc(&mut self, loc: crate::SrcLoc) -> BackendResult<()>;
    /// Describes a parameter or local whose storage is `slot`.
    fn debug_variable(&mut self, slot: Self::Value, v: &crate::DebugVariable<'_>) -> BackendResult<()>;
    /// Opens a lexical scope at `loc` in the open function (closed at the
    /// latest when the function ends).
    fn debug_scope_begin(&mut self, loc: crate::SrcLoc) -> BackendResult<()>;
    /// Closes the innermost lexical scope.
    fn debug_scope_end(&mut self) -> BackendResult<()>;
    /// Describes defined data symbol `sym`.
    fn debug_global(&mut self, sym: Sym, g: &crate::DebugGlobal<'_>) -> BackendResult<()>;
}

/// One call's operands as the backend receives them.
#[derive(Debug)]
pub struct CallSite<'a, V> {
    /// Arguments in order. A record or array argument is the address (address
    /// space 0) of the place its value is copied from.
    pub args: &'a [V],
    /// Each argument's type: the signature's for fixed parameters, the
    /// operand's for variadic extras.
    pub arg_types: &'a [TypeId],
    /// For a record or array result: the address its value is written to.
    pub dest: Option<V>,
    /// Call-site attributes.
    pub attrs: crate::CallAttrs,
    /// A guaranteed tail call: the backend checks the ABI's conditions before
    /// emitting anything (refusing with `MustTail`), then emits the call and
    /// the return of its result, and returns `None`.
    pub must_tail: bool,
    /// Set when the call is a GC safepoint.
    pub safepoint: Option<&'a Safepoint<'a, V>>,
}
