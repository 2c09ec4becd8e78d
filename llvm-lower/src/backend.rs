//! [`LlvmBackend`]: each facade call lowered at once into LLVM IR. This file
//! holds the backend's state and the [`Backend`] impl, which delegates to one
//! file per concern: `types.rs`, `symbols.rs`, `control.rs`, `memory_ops.rs`,
//! `int_ops.rs`, `float_ops.rs`, `casts.rs`, `atomics.rs`, `calls.rs`, `gc.rs`.
//!
//! Layout of a lowered function: block `entry` holds one `alloca` per
//! parameter and local slot, plus the stores of incoming parameters; it
//! branches to `start`, where the frontend's code begins. Allocas in the
//! entry block are what `mem2reg`/SROA promote at O1 and above.

use cfree_facade::*;
use inkwell::basic_block::BasicBlock;
use inkwell::builder::{Builder, BuilderError};
use inkwell::context::Context;
use inkwell::module::{FlagBehavior, Module};
use inkwell::types::IntType;
use inkwell::values::{BasicValueEnum, GlobalValue, MetadataValue};

use crate::abi::lower::FuncAbi;
use crate::control::OpenFunction;
use crate::symbols::LoweredSym;
use crate::target::ResolvedTarget;
use crate::types::LoweredType;
use crate::{ffi, Result};

/// An LLVM refusal as a backend error. The facade validates every operand
/// first, so this only reports internal failures (a bug), never misuse.
pub(crate) fn refused(reason: impl std::fmt::Display) -> BackendError {
    ErrorKind::BackendRefused { backend: "llvm", reason: reason.to_string() }.into()
}

/// Turns inkwell's builder errors into backend errors.
pub(crate) trait Built<T> {
    /// The value, or the refusal.
    fn built(self) -> BackendResult<T>;
}

impl<T> Built<T> for std::result::Result<T, BuilderError> {
    fn built(self) -> BackendResult<T> {
        self.map_err(refused)
    }
}

/// The LLVM implementation of [`cfree_facade::Backend`].
#[derive(Debug)]
pub struct LlvmBackend<'ctx> {
    pub(crate) ctx: &'ctx Context,
    /// Debug information, once the frontend enabled it (`debug/`). Declared
    /// before the module so that its `DIBuilder` is disposed first.
    pub(crate) debug: Option<crate::debug::DebugState<'ctx>>,
    pub(crate) module: Module<'ctx>,
    pub(crate) builder: Builder<'ctx>,
    pub(crate) entry_builder: Builder<'ctx>,
    pub(crate) resolved: ResolvedTarget,
    pub(crate) i8: IntType<'ctx>,
    pub(crate) intptr: IntType<'ctx>,
    pub(crate) types: Vec<LoweredType<'ctx>>,
    pub(crate) abis: Vec<Option<FuncAbi<'ctx>>>,
    /// The ABI facts of each sized type (`None` for function types).
    pub(crate) shapes: Vec<Option<crate::abi::Shape>>,
    /// The facade signature of each function type (variadic call sites classify with it).
    pub(crate) sigs: Vec<Option<FuncSig>>,
    pub(crate) syms: Vec<LoweredSym<'ctx>>,
    pub(crate) func: Option<OpenFunction<'ctx>>,
    /// Data declarations replaced by their definitions, deleted by [`Self::finalize`]:
    /// the open function's value stack may still hold the old address.
    pub(crate) replaced: Vec<(GlobalValue<'ctx>, GlobalValue<'ctx>)>,
    /// (linkage name, partition) of each partitioned symbol, in declaration order.
    pub(crate) partitions: Vec<(String, String)>,
    pub(crate) kind_nontemporal: u32,
    pub(crate) kind_invariant: u32,
    pub(crate) kind_alias_scope: u32,
    pub(crate) kind_noalias: u32,
    /// Scope nodes by id - 1, in `alias_domain`.
    pub(crate) alias_scopes: Vec<MetadataValue<'ctx>>,
    pub(crate) alias_domain: Option<MetadataValue<'ctx>>,
    /// Whether any function has GC safepoints (the pipeline then ends with RS4GC).
    pub(crate) has_gc: bool,
    /// Some data holds label addresses (`blockaddress` in an initializer),
    /// which LLVM's module cloning gets wrong: copies go through bitcode.
    pub(crate) has_label_data: bool,
    /// The prologue stack checks of declared functions, by symbol index.
    pub(crate) stack_checks: std::collections::HashMap<usize, StackCheck>,
}

impl<'ctx> LlvmBackend<'ctx> {
    /// A backend emitting into a new module named `name` for `spec`.
    pub fn new(ctx: &'ctx Context, name: &str, spec: &TargetSpec) -> Result<Self> {
        crate::context::check_module_name(name)?;
        let resolved = crate::target::resolve(spec)?;
        let module = ctx.create_module(name);
        module.set_triple(&inkwell::targets::TargetTriple::create(&resolved.info.triple));
        crate::ffi::set_data_layout(&module, &resolved.data_layout);
        if let Some(abi) = resolved.abi_name {
            module.add_metadata_flag("target-abi", FlagBehavior::Error, ctx.metadata_string(abi));
        }
        if matches!(resolved.info.arch, cfree_facade::Arch::Riscv64 | cfree_facade::Arch::Riscv32) {
            // No small-data sections, like clang for PIC code: RISC-V's `.sdata` placement
            // drops a global's COMDAT group (LLVM 19), so duplicates would not fold.
            module.add_basic_value_flag("SmallDataLimit", FlagBehavior::Error, ctx.i32_type().const_zero());
        }
        let intptr = crate::types::int_type(ctx, resolved.info.pointer_bits());
        Ok(Self {
            ctx,
            module,
            builder: ctx.create_builder(),
            entry_builder: ctx.create_builder(),
            resolved,
            i8: ctx.i8_type(),
            intptr,
            types: Vec::new(),
            abis: Vec::new(),
            shapes: Vec::new(),
            sigs: Vec::new(),
            syms: Vec::new(),
            func: None,
            replaced: Vec::new(),
            partitions: Vec::new(),
            kind_nontemporal: ctx.get_kind_id("nontemporal"),
            kind_invariant: ctx.get_kind_id("invariant.load"),
            kind_alias_scope: ctx.get_kind_id("alias.scope"),
            kind_noalias: ctx.get_kind_id("noalias"),
            alias_scopes: Vec::new(),
            alias_domain: None,
            has_gc: false,
            has_label_data: false,
            stack_checks: std::collections::HashMap::new(),
            debug: None,
        })
    }

    /// Completes the module once no function is open: uses of replaced
    /// declarations made after their replacement are redirected, then the
    /// declarations are deleted.
    pub(crate) fn finalize(&mut self) {
        debug_assert!(self.func.is_none());
        for (old, new) in self.replaced.drain(..) {
            ffi::replace_global(old, new);
        }
        self.emit_partitions();
        self.debug_finalize();
    }
}

impl<'ctx> Backend for LlvmBackend<'ctx> {
    type Value = BasicValueEnum<'ctx>;
    type Block = BasicBlock<'ctx>;

    fn debug_init(&mut self, options: &DebugOptions, unit_file: FileId) -> BackendResult<()> {
        self.lower_debug_init(options, unit_file)
    }
    fn debug_file(&mut self, id: FileId, name: &str, directory: &str) -> BackendResult<()> {
        self.lower_debug_file(id, name, directory)
    }
    fn debug_type(&mut self, id: TypeId, ty: &DebugType<'_>) -> BackendResult<()> {
        self.lower_debug_type(id, ty)
    }
    fn debug_function(&mut self, f: &DebugFunction<'_>) -> BackendResult<()> {
        self.lower_debug_function(f)
    }
    fn debug_set_loc(&mut self, loc: SrcLoc) -> BackendResult<()> {
        self.lower_debug_set_loc(loc)
    }
    fn debug_variable(&mut self, slot: Self::Value, v: &DebugVariable<'_>) -> BackendResult<()> {
        self.lower_debug_variable(slot, v)
    }
    fn debug_scope_begin(&mut self, loc: SrcLoc) -> BackendResult<()> {
        self.lower_debug_scope_begin(loc)
    }
    fn debug_scope_end(&mut self) -> BackendResult<()> {
        self.lower_debug_scope_end()
    }
    fn debug_global(&mut self, sym: Sym, g: &DebugGlobal<'_>) -> BackendResult<()> {
        self.lower_debug_global(sym, g)
    }

    fn target(&self) -> &TargetInfo {
        &self.resolved.info
    }
    fn set_address_space_policy(&mut self, space: u32, policy: &AddrSpacePolicy) -> BackendResult<()> {
        self.lower_set_address_space_policy(space, policy)
    }
    fn define_type(&mut self, id: TypeId, kind: &TypeKind, types: &TypeTable) -> BackendResult<()> {
        self.lower_define_type(id, kind, types)
    }
    fn declare_function(&mut self, sym: Sym, name: &str, decl: &FuncDecl, types: &TypeTable) -> BackendResult<()> {
        self.lower_declare_function(sym, name, decl, types)
    }
    fn declare_data(&mut self, sym: Sym, name: &str, decl: &DataDecl, types: &TypeTable) -> BackendResult<()> {
        self.lower_declare_data(sym, name, decl, types)
    }
    fn define_data(&mut self, sym: Sym, init: &DataInit, labels: &[Self::Block]) -> BackendResult<()> {
        self.lower_define_data(sym, init, labels)
    }
    fn declare_alias(&mut self, sym: Sym, name: &str, target: Sym, decl: &AliasDecl) -> BackendResult<()> {
        self.lower_declare_alias(sym, name, target, decl)
    }
    fn add_init_fini(&mut self, kind: InitFini, func: Sym, priority: u16) -> BackendResult<()> {
        self.lower_add_init_fini(kind, func, priority)
    }
    fn begin_function(&mut self, sym: Sym, params: &[TypeId], slots: &mut Vec<Self::Value>) -> BackendResult<()> {
        self.lower_begin_function(sym, params, slots)
    }
    fn set_name(&mut self, value: Self::Value, name: &str) {
        value.set_name(name);
    }
    fn local_slot(&mut self, ty: TypeId, align: u64, name: &str, kind: SlotKind) -> BackendResult<Self::Value> {
        self.lower_local_slot(ty, align, name, kind)
    }
    fn new_block(&mut self) -> BackendResult<Self::Block> {
        self.lower_new_block()
    }
    fn place_block(&mut self, block: Self::Block, fallthrough: bool) -> BackendResult<()> {
        self.lower_place_block(block, fallthrough)
    }
    fn br(&mut self, target: Self::Block) -> BackendResult<()> {
        self.lower_br(target)
    }
    fn cond_br(&mut self, cond: Self::Value, then: Self::Block, otherwise: Self::Block) -> BackendResult<()> {
        self.lower_cond_br(cond, then, otherwise)
    }
    fn check_branch(&mut self, failed: Self::Value, handler: Self::Block, implicit_null: bool) -> BackendResult<()> {
        self.lower_check_branch(failed, handler, implicit_null)
    }
    fn switch(
        &mut self,
        value: Self::Value,
        _ty: TypeId,
        default: Self::Block,
        cases: &[(u128, Self::Block)],
    ) -> BackendResult<()> {
        self.lower_switch(value, default, cases)
    }
    fn select(&mut self, cond: Self::Value, t: Self::Value, f: Self::Value) -> BackendResult<Self::Value> {
        self.lower_select(cond, t, f)
    }
    fn inline_asm(
        &mut self,
        asm: &ResolvedAsm,
        inputs: &[Self::Value],
        outputs: &mut Vec<Self::Value>,
    ) -> BackendResult<()> {
        self.lower_inline_asm(asm, inputs, outputs)
    }
    fn begin_naked_function(&mut self, sym: Sym) -> BackendResult<()> {
        self.lower_begin_naked_function(sym)
    }
    fn ret(&mut self, value: Option<Self::Value>) -> BackendResult<()> {
        self.lower_ret(value)
    }
    fn unreachable(&mut self) -> BackendResult<()> {
        self.lower_unreachable()
    }
    fn end_function(&mut self, unused: &[Self::Block]) -> BackendResult<()> {
        let ended = self.lower_end_function(unused);
        self.debug_function_closed();
        ended
    }
    fn abandon_function(&mut self) {
        self.lower_abandon_function();
        self.debug_function_closed();
    }
    fn const_int(&mut self, ty: TypeId, bits: u128) -> BackendResult<Self::Value> {
        Ok(self.lower_const_int(ty, bits))
    }
    fn const_f32(&mut self, bits: u32) -> BackendResult<Self::Value> {
        Ok(self.lower_const_f32(bits))
    }
    fn const_f64(&mut self, bits: u64) -> BackendResult<Self::Value> {
        Ok(self.lower_const_f64(bits))
    }
    fn const_zero(&mut self, ty: TypeId) -> BackendResult<Self::Value> {
        Ok(self.lower_const_zero(ty))
    }
    fn sym_addr(&mut self, sym: Sym) -> BackendResult<Self::Value> {
        Ok(self.lower_sym_addr(sym))
    }
    fn load(&mut self, addr: Self::Value, access: &ResolvedAccess) -> BackendResult<Self::Value> {
        self.lower_load(addr, access)
    }
    fn store(&mut self, addr: Self::Value, value: Self::Value, access: &ResolvedAccess) -> BackendResult<()> {
        self.lower_store(addr, value, access)
    }
    fn addr_offset(&mut self, addr: Self::Value, offset: i64) -> BackendResult<Self::Value> {
        self.lower_addr_offset(addr, offset)
    }
    fn addr_index(&mut self, addr: Self::Value, index: Self::Value, elem_size: u64) -> BackendResult<Self::Value> {
        self.lower_addr_index(addr, index, elem_size)
    }
    fn int_binop(
        &mut self,
        op: IntBinOp,
        flags: IntFlags,
        l: Self::Value,
        r: Self::Value,
    ) -> BackendResult<Self::Value> {
        self.lower_int_binop(op, flags, l, r)
    }
    fn int_cmp(&mut self, pred: IntCmp, lhs: Self::Value, rhs: Self::Value) -> BackendResult<Self::Value> {
        self.lower_int_cmp(pred, lhs, rhs)
    }
    fn int_unop(&mut self, op: IntUnOp, value: Self::Value) -> BackendResult<Self::Value> {
        self.lower_int_unop(op, value.into_int_value())
    }
    fn checked(
        &mut self,
        op: CheckedOp,
        ty: TypeId,
        lhs: Self::Value,
        rhs: Self::Value,
    ) -> BackendResult<(Self::Value, Self::Value)> {
        self.lower_checked(op, ty, lhs.into_int_value(), rhs.into_int_value())
    }
    fn freeze(&mut self, value: Self::Value) -> BackendResult<Self::Value> {
        Ok(self.lower_freeze(value))
    }
    fn cast(&mut self, op: CastOp, value: Self::Value, to: TypeId) -> BackendResult<Self::Value> {
        self.lower_cast(op, value, to)
    }
    fn cast_checked(
        &mut self,
        signed: bool,
        value: Self::Value,
        to: TypeId,
    ) -> BackendResult<(Self::Value, Self::Value)> {
        self.lower_cast_checked(signed, value, to)
    }
    fn float_binop(
        &mut self,
        op: FloatBinOp,
        fm: FastMath,
        l: Self::Value,
        r: Self::Value,
    ) -> BackendResult<Self::Value> {
        self.lower_float_binop(op, fm, l.into_float_value(), r.into_float_value())
    }
    fn float_unop(&mut self, op: FloatUnOp, fm: FastMath, value: Self::Value) -> BackendResult<Self::Value> {
        self.lower_float_unop(op, fm, value.into_float_value())
    }
    fn fma(&mut self, fm: FastMath, a: Self::Value, b: Self::Value, c: Self::Value) -> BackendResult<Self::Value> {
        self.lower_fma(fm, a.into_float_value(), b.into_float_value(), c.into_float_value())
    }
    fn float_cmp(
        &mut self,
        pred: FloatCmp,
        fm: FastMath,
        l: Self::Value,
        r: Self::Value,
    ) -> BackendResult<Self::Value> {
        self.lower_float_cmp(pred, fm, l.into_float_value(), r.into_float_value())
    }
    fn define_alias_scope(&mut self, id: u32, name: &str) -> BackendResult<()> {
        self.lower_alias_scope(id, name);
        Ok(())
    }
    fn mem_copy(
        &mut self,
        overlapping: bool,
        dst: Self::Value,
        src: Self::Value,
        size: u64,
        dst_access: &ResolvedAccess,
        src_access: &ResolvedAccess,
    ) -> BackendResult<()> {
        self.lower_mem_copy(overlapping, dst, src, size, dst_access, src_access)
    }
    fn mem_set(&mut self, dst: Self::Value, value: u8, size: u64, access: &ResolvedAccess) -> BackendResult<()> {
        self.lower_mem_set(dst, value, size, access)
    }
    fn atomic_load(
        &mut self,
        addr: Self::Value,
        access: &ResolvedAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    ) -> BackendResult<Self::Value> {
        self.lower_atomic_load(addr, access, ordering, scope)
    }
    fn atomic_store(
        &mut self,
        addr: Self::Value,
        value: Self::Value,
        access: &ResolvedAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    ) -> BackendResult<()> {
        self.lower_atomic_store(addr, value, access, ordering, scope)
    }
    fn atomic_rmw(
        &mut self,
        op: AtomicRmwOp,
        addr: Self::Value,
        value: Self::Value,
        access: &ResolvedAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    ) -> BackendResult<Self::Value> {
        self.lower_atomic_rmw(op, addr, value, access, ordering, scope)
    }
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
    ) -> BackendResult<(Self::Value, Self::Value)> {
        self.lower_cmpxchg(addr, expected, new, access, success, failure, weak, scope)
    }
    fn fence(&mut self, ordering: AtomicOrdering, scope: SyncScope) -> BackendResult<()> {
        self.lower_fence(ordering, scope)
    }
    fn label_addr(&mut self, block: Self::Block) -> BackendResult<Self::Value> {
        self.lower_label_addr(block)
    }
    fn indirect_br(&mut self, addr: Self::Value, dests: &[Self::Block]) -> BackendResult<()> {
        self.lower_indirect_br(addr, dests)
    }
    fn dynamic_alloca(&mut self, size: Self::Value, align: u64) -> BackendResult<Self::Value> {
        self.lower_dynamic_alloca(size, align)
    }
    fn stack_save(&mut self) -> BackendResult<Self::Value> {
        self.lower_stack_save()
    }
    fn stack_restore(&mut self, saved: Self::Value) -> BackendResult<()> {
        self.lower_stack_restore(saved)
    }
    fn va_start(&mut self, list: Self::Value) -> BackendResult<()> {
        self.lower_va_intrinsic("llvm.va_start.p0", &[list])
    }
    fn va_end(&mut self, list: Self::Value) -> BackendResult<()> {
        self.lower_va_intrinsic("llvm.va_end.p0", &[list])
    }
    fn va_copy(&mut self, dst: Self::Value, src: Self::Value) -> BackendResult<()> {
        self.lower_va_intrinsic("llvm.va_copy.p0", &[dst, src])
    }
    fn va_arg(
        &mut self,
        list: Self::Value,
        ty: TypeId,
        dest: Option<Self::Value>,
    ) -> BackendResult<Option<Self::Value>> {
        self.lower_va_arg(list, ty, dest)
    }
    fn call_direct(&mut self, callee: Sym, site: &CallSite<'_, Self::Value>) -> BackendResult<Option<Self::Value>> {
        self.lower_call(crate::calls::Target::Direct(callee), site)
    }
    fn call_indirect(
        &mut self,
        sig: TypeId,
        callee: Self::Value,
        site: &CallSite<'_, Self::Value>,
    ) -> BackendResult<Option<Self::Value>> {
        self.lower_call(crate::calls::Target::Indirect(sig, callee), site)
    }
}
