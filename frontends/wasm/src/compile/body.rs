//! Function bodies: wasm operators lowered through the facade.
//!
//! The wasm operand stack is modelled entry by entry. An entry is either a
//! value on the facade's stack or *spilled* into a slot local keyed by its
//! depth and type (`mem2reg` turns those into SSA values at O1+). Straight-line
//! code keeps values on the facade stack; every control point (label,
//! branch) spills everything, because the facade's stack must be empty there.
//! Branch values move into the target frame's depth slots, so a label's
//! incoming values are always the slots `height..height + arity`.

use std::collections::HashMap;

use cfree_facade::{
    Backend, Callee, CastOp, Cg, CheckedOp, FastMath, FloatBinOp, FloatCmp, IntBinOp, IntCmp, IntFlags, IntUnOp, Label,
    Local, MemAccess, MemFlags, SlotFlags,
};
use cfree_facade::{CallAttrs, TailPolicy};
use wasmparser::{BlockType, FunctionBody, MemArg, Operator};

use super::ops::{
    conversion, float_bin, float_cmp, float_un, int_bin, int_cmp, load_access, store_access, trapping_trunc, Access,
};
use super::{BoundsChecks, Env};
use crate::abi::{Trap, VmLayout, FUNCREF_SIZE, MEMORY_BASE, MEMORY_BYTES, NULL_TYPE_ID, TABLE_ELEMS, TABLE_LEN};
use crate::decode::{FuncType, ValType};
use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug)]
struct Entry {
    ty: ValType,
    on_stack: bool,
    /// A float known not to be a signalling NaN (`quiet.rs`).
    quiet: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FrameKind {
    Func,
    Block,
    Loop,
    If,
    Else,
}

#[derive(Debug)]
struct Frame {
    kind: FrameKind,
    /// Where a branch to this frame goes (the loop header for loops).
    target: Label,
    end: Label,
    else_label: Option<Label>,
    height: usize,
    params: Vec<ValType>,
    results: Vec<ValType>,
    end_reached: bool,
}

impl Frame {
    fn branch_types(&self) -> &[ValType] {
        if self.kind == FrameKind::Loop {
            &self.params
        } else {
            &self.results
        }
    }
}

struct FnEmitter<'e, 'm, 'a, B: Backend> {
    cg: &'e mut Cg<B>,
    env: &'e Env<'m, 'a>,
    vmctx: Local,
    retarea: Option<Local>,
    results: Vec<ValType>,
    locals: Vec<(Local, ValType)>,
    /// Per local: only ever holds values that are not signalling NaNs (`quiet.rs`).
    quiet_locals: Vec<bool>,
    stack: Vec<Entry>,
    slots: HashMap<(usize, ValType), Local>,
    frames: Vec<Frame>,
    traps: [Option<Label>; Trap::ALL.len()],
    dead: bool,
    dead_depth: usize,
    call_area: Option<Local>,
    elem_tmp: Option<Local>,
}

/// Emits defined function `index` (its symbol was declared by the caller).
pub(super) fn emit<B: Backend>(cg: &mut Cg<B>, env: &Env<'_, '_>, index: u32, body: &FunctionBody<'_>) -> Result<()> {
    let sym = env.funcs[index as usize].expect("defined function");
    let ty = env.m.func_type(index).clone();
    cg.func_begin(sym)?;
    let vmctx = cg.param_slot_with(0, "vmctx", SlotFlags::NONE)?;
    let multi = ty.results.len() > 1;
    let retarea = if multi { Some(cg.param_slot_with(1, "retarea", SlotFlags::NONE)?) } else { None };
    let first = 1 + u32::from(multi);
    let mut locals = Vec::new();
    for (i, &p) in ty.params.iter().enumerate() {
        locals.push((cg.param_slot_with(first + i as u32, "p", SlotFlags::NONE)?, p));
    }
    let mut e = FnEmitter {
        cg,
        env,
        vmctx,
        retarea,
        results: ty.results.clone(),
        locals,
        quiet_locals: Vec::new(),
        stack: Vec::new(),
        slots: HashMap::new(),
        frames: Vec::new(),
        traps: [None; Trap::ALL.len()],
        dead: false,
        dead_depth: 0,
        call_area: None,
        elem_tmp: None,
    };
    let mut reader = body.get_locals_reader().map_err(Error::Invalid)?;
    for _ in 0..reader.get_count() {
        let (count, t) = reader.read().map_err(Error::Invalid)?;
        let t = ValType::from_wp(t, reader.original_position())?;
        let fty = env.t.val(t);
        for _ in 0..count {
            let l = e.cg.local_slot_with(fty, "l", 0, SlotFlags::NONE)?;
            e.cg.push_local(l)?;
            e.push_zero(t)?;
            e.cg.store(MemAccess::new(fty))?;
            e.locals.push((l, t));
        }
    }
    let types: Vec<ValType> = e.locals.iter().map(|&(_, t)| t).collect();
    e.quiet_locals = super::quiet::quiet_locals(body, &types, ty.params.len())?;
    e.stack_check()?;
    let end = e.cg.new_label()?;
    e.frames.push(Frame {
        kind: FrameKind::Func,
        target: end,
        end,
        else_label: None,
        height: 0,
        params: Vec::new(),
        results: ty.results.clone(),
        end_reached: false,
    });
    let mut ops = body.get_operators_reader().map_err(Error::Invalid)?;
    while !ops.eof() {
        let (op, offset) = ops.read_with_offset().map_err(Error::Invalid)?;
        e.op(&op).map_err(|err| match err {
            Error::Unsupported { what, .. } => Error::Unsupported { what, offset },
            other => other,
        })?;
    }
    e.emit_trap_paths()?;
    e.cg.func_end()?;
    Ok(())
}

impl<B: Backend> FnEmitter<'_, '_, '_, B> {
    // ---- the operand stack model ----

    fn slot(&mut self, depth: usize, ty: ValType) -> Result<Local> {
        if let Some(&l) = self.slots.get(&(depth, ty)) {
            return Ok(l);
        }
        let l = self.cg.local_slot_with(self.env.t.val(ty), "s", 0, SlotFlags::COMPILER_TEMP)?;
        self.slots.insert((depth, ty), l);
        Ok(l)
    }

    /// Spills the on-stack entries among the top `m` (top first).
    fn spill_top(&mut self, m: usize) -> Result<()> {
        let n = self.stack.len();
        for i in (n - m..n).rev() {
            if self.stack[i].on_stack {
                let ty = self.stack[i].ty;
                let slot = self.slot(i, ty)?;
                self.cg.push_local(slot)?;
                self.cg.swap()?;
                self.cg.store(MemAccess::new(self.env.t.val(ty)))?;
                self.stack[i].on_stack = false;
            }
        }
        Ok(())
    }

    fn spill_all(&mut self) -> Result<()> {
        self.spill_top(self.stack.len())
    }

    /// Pushes the value of spilled entry `i` on the facade stack (the entry stays spilled).
    fn load_slot(&mut self, i: usize) -> Result<()> {
        let ty = self.stack[i].ty;
        let slot = self.slot(i, ty)?;
        self.cg.push_local(slot)?;
        self.cg.load(MemAccess::new(self.env.t.val(ty)))?;
        Ok(())
    }

    /// Makes the top `m` entries the top `m` values of the facade stack.
    fn materialize(&mut self, m: usize) -> Result<()> {
        let n = self.stack.len();
        if self.stack[n - m..].iter().all(|e| e.on_stack) {
            return Ok(());
        }
        self.spill_top(m)?;
        for i in n - m..n {
            self.load_slot(i)?;
            self.stack[i].on_stack = true;
        }
        Ok(())
    }

    /// Records that an operation consumed `m` materialized entries and pushed `result`.
    fn replace(&mut self, m: usize, result: Option<ValType>) {
        self.stack.truncate(self.stack.len() - m);
        if let Some(ty) = result {
            self.stack.push(Entry { ty, on_stack: true, quiet: false });
        }
    }

    /// [`Self::replace`] with a result known (or not) not to be a signalling NaN.
    fn replace_quiet(&mut self, m: usize, ty: ValType, quiet: bool) {
        self.replace(m, Some(ty));
        if let Some(top) = self.stack.last_mut() {
            top.quiet = quiet;
        }
    }

    /// Whether the top `m` entries are all known quiet.
    fn top_quiet(&self, m: usize) -> bool {
        self.stack[self.stack.len() - m..].iter().all(|e| e.quiet)
    }

    fn push_zero(&mut self, ty: ValType) -> Result<()> {
        match ty {
            ValType::I32 | ValType::I64 => self.cg.push_int(self.env.t.val(ty), 0)?,
            ValType::F32 => self.cg.push_f32(0.0)?,
            ValType::F64 => self.cg.push_f64(0.0)?,
        }
        Ok(())
    }

    /// Copies the top `arity` entries (all spilled) into the slots from `height`.
    fn move_to(&mut self, height: usize, types: &[ValType]) -> Result<()> {
        let n = self.stack.len();
        let arity = types.len();
        for (i, &ty) in types.iter().enumerate() {
            let (src, dst) = (n - arity + i, height + i);
            if src != dst {
                let d = self.slot(dst, ty)?;
                self.cg.push_local(d)?;
                self.load_slot(src)?;
                self.cg.store(MemAccess::new(self.env.t.val(ty)))?;
            }
        }
        Ok(())
    }

    fn needs_move(&self, height: usize, arity: usize) -> bool {
        arity > 0 && self.stack.len() - arity != height
    }

    // ---- vmctx access ----

    /// An access to runtime structures (vmctx, memory and table definitions,
    /// global cells, table elements): never the same memory as a wasm memory,
    /// so LLVM may keep the memory's base and size in registers across stores.
    fn vm_access(&self, ty: cfree_facade::TypeId) -> MemAccess {
        MemAccess::new(ty).in_scope(self.env.vm_scope).noalias(self.env.heap_scope)
    }

    /// An access to the wasm memory (unaligned: wasm alignment is a hint).
    fn heap_access(&self, ty: cfree_facade::TypeId) -> MemAccess {
        MemAccess::new(ty).align(1).in_scope(self.env.heap_scope).noalias(self.env.vm_scope)
    }

    /// Pushes the vmctx pointer.
    fn push_vmctx(&mut self) -> Result<()> {
        self.cg.push_local(self.vmctx)?;
        self.cg.load(MemAccess::new(self.env.t.ptr))?;
        Ok(())
    }

    /// Pushes the pointer stored at `offset` in the vmctx (never changes once instantiated).
    fn push_vmctx_ptr(&mut self, offset: i64) -> Result<()> {
        self.push_vmctx()?;
        let ptr = self.env.t.ptr;
        self.cg.addr_offset(offset, ptr)?;
        self.cg.load(self.vm_access(ptr).flags(MemFlags::INVARIANT))?;
        Ok(())
    }

    /// Pushes field `offset` of the memory definition (as `ty`).
    fn push_memory_field(&mut self, offset: i64, ty: cfree_facade::TypeId) -> Result<()> {
        self.push_vmctx_ptr(VmLayout::MEMORY)?;
        self.cg.addr_offset(offset, self.env.t.ptr)?;
        self.cg.load(self.vm_access(ty))?;
        Ok(())
    }

    fn trap_label(&mut self, trap: Trap) -> Result<Label> {
        let i = trap as usize - 1;
        if let Some(l) = self.traps[i] {
            return Ok(l);
        }
        let l = self.cg.new_label()?;
        self.traps[i] = Some(l);
        Ok(l)
    }

    /// Pops an `i1`; traps with `trap` when it is true.
    fn trap_if(&mut self, trap: Trap) -> Result<()> {
        let l = self.trap_label(trap)?;
        self.cg.check(l)?;
        Ok(())
    }

    fn emit_trap_paths(&mut self) -> Result<()> {
        for trap in Trap::ALL {
            if let Some(l) = self.traps[trap as usize - 1] {
                self.cg.place_label(l)?;
                self.cg.push_int(self.env.t.i32, trap as i128)?;
                self.cg.call(Callee::Direct(self.env.trap), 1)?;
                self.cg.unreachable()?;
            }
        }
        Ok(())
    }

    /// Traps when the stack pointer is below the limit the invoke trampoline set.
    fn stack_check(&mut self) -> Result<()> {
        let i64t = self.env.t.i64;
        self.cg.stack_save()?;
        self.cg.cast(CastOp::PtrToInt, i64t)?;
        self.cg.push_global(self.env.stack_limit)?;
        self.cg.load(MemAccess::new(i64t))?;
        self.cg.int_cmp(IntCmp::Ult)?;
        self.trap_if(Trap::StackExhausted)
    }

    // ---- operators ----

    fn block_type(&self, bt: BlockType) -> Result<(Vec<ValType>, Vec<ValType>)> {
        Ok(match bt {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => (Vec::new(), vec![ValType::from_wp(t, 0)?]),
            BlockType::FuncType(i) => {
                let FuncType { params, results } = &self.env.m.types[i as usize];
                (params.clone(), results.clone())
            }
        })
    }

    fn op(&mut self, op: &Operator<'_>) -> Result<()> {
        if self.dead {
            return self.dead_op(op);
        }
        let t = self.env.t;
        use Operator::*;
        if let Some(pred) = int_cmp(op) {
            self.materialize(2)?;
            self.cg.int_cmp(pred)?;
            self.cg.cast(CastOp::ZExt, t.i32)?;
            self.replace(2, Some(ValType::I32));
            return Ok(());
        }
        if let Some(pred) = float_cmp(op) {
            self.materialize(2)?;
            self.cg.float_cmp(pred, FastMath::NONE)?;
            self.cg.cast(CastOp::ZExt, t.i32)?;
            self.replace(2, Some(ValType::I32));
            return Ok(());
        }
        if let Some((ty, bin)) = int_bin(op) {
            self.materialize(2)?;
            self.cg.int_op(bin, IntFlags::NONE)?;
            self.replace(2, Some(ty));
            return Ok(());
        }
        if let Some((ty, bin)) = float_bin(op) {
            self.materialize(2)?;
            self.cg.float_op(bin, FastMath::NONE)?;
            let arithmetic = bin != FloatBinOp::CopySign;
            if arithmetic && !self.top_quiet(2) {
                self.quiet_nan(ty)?;
            }
            self.replace_quiet(2, ty, arithmetic);
            return Ok(());
        }
        if let Some((ty, un)) = float_un(op) {
            self.materialize(1)?;
            self.cg.float_unop(un, FastMath::NONE)?;
            self.replace(1, Some(ty));
            return Ok(());
        }
        if let Some((_, to, cast)) = conversion(op) {
            self.materialize(1)?;
            self.cg.cast(cast, t.val(to))?;
            if cast == CastOp::FpTrunc && !self.top_quiet(1) {
                self.quiet_nan(to)?;
            }
            let quiet = matches!(cast, CastOp::FpTrunc | CastOp::SIToFP | CastOp::UIToFP);
            self.replace_quiet(1, to, quiet);
            return Ok(());
        }
        if let Some((to, signed)) = trapping_trunc(op) {
            self.materialize(1)?;
            self.cg.dup()?;
            self.cg.dup()?;
            self.cg.float_cmp(FloatCmp::Uno, FastMath::NONE)?;
            self.trap_if(Trap::InvalidConversion)?;
            let cast = if signed { CastOp::FPToSI } else { CastOp::FPToUI };
            self.cg.cast_checked(cast, t.val(to))?;
            self.trap_if(Trap::IntegerOverflow)?;
            self.replace(1, Some(to));
            return Ok(());
        }
        if let Some((access, memarg)) = load_access(op) {
            return self.load(access, memarg);
        }
        if let Some((access, memarg)) = store_access(op) {
            return self.store(access, memarg);
        }
        match *op {
            Nop => {}
            Unreachable => {
                self.spill_all()?;
                let l = self.trap_label(Trap::Unreachable)?;
                self.cg.br(l)?;
                self.dead = true;
            }
            Block { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                self.spill_all()?;
                let end = self.cg.new_label()?;
                let height = self.stack.len() - params.len();
                self.frames.push(Frame {
                    kind: FrameKind::Block,
                    target: end,
                    end,
                    else_label: None,
                    height,
                    params,
                    results,
                    end_reached: false,
                });
            }
            Loop { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                self.spill_all()?;
                let header = self.cg.new_label()?;
                let end = self.cg.new_label()?;
                self.cg.place_label(header)?;
                let height = self.stack.len() - params.len();
                self.frames.push(Frame {
                    kind: FrameKind::Loop,
                    target: header,
                    end,
                    else_label: None,
                    height,
                    params,
                    results,
                    end_reached: false,
                });
            }
            If { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                self.spill_all()?;
                self.pop_condition()?;
                let then = self.cg.new_label()?;
                let otherwise = self.cg.new_label()?;
                let end = self.cg.new_label()?;
                self.cg.cond_br(then, otherwise)?;
                self.cg.place_label(then)?;
                let height = self.stack.len() - params.len();
                self.frames.push(Frame {
                    kind: FrameKind::If,
                    target: end,
                    end,
                    else_label: Some(otherwise),
                    height,
                    params,
                    results,
                    end_reached: false,
                });
            }
            Else => self.else_()?,
            End => self.end()?,
            Br { relative_depth } => {
                self.br(relative_depth)?;
                self.dead = true;
            }
            BrIf { relative_depth } => self.br_if(relative_depth)?,
            BrTable { ref targets } => {
                let mut depths = Vec::with_capacity(targets.len() as usize);
                for d in targets.targets() {
                    depths.push(d.map_err(Error::Invalid)?);
                }
                self.br_table(&depths, targets.default())?;
                self.dead = true;
            }
            Return => {
                self.emit_return()?;
                self.dead = true;
            }
            Call { function_index } => self.call(function_index)?,
            CallIndirect { type_index, .. } => self.call_indirect(type_index)?,
            Drop => {
                let e = self.stack.pop().expect("validated stack");
                if e.on_stack {
                    self.cg.discard()?;
                }
            }
            Select | TypedSelect { .. } => {
                self.materialize(3)?;
                self.cg.push_int(t.i32, 0)?;
                self.cg.int_cmp(IntCmp::Ne)?;
                self.cg.select()?;
                let ty = self.stack[self.stack.len() - 3].ty;
                self.replace(3, Some(ty));
            }
            LocalGet { local_index } => {
                let (l, ty) = self.locals[local_index as usize];
                self.cg.push_local(l)?;
                self.cg.load(MemAccess::new(t.val(ty)))?;
                self.replace_quiet(0, ty, self.quiet_locals[local_index as usize]);
            }
            LocalSet { local_index } | LocalTee { local_index } => {
                let (l, ty) = self.locals[local_index as usize];
                self.materialize(1)?;
                if self.quiet_locals[local_index as usize] && !self.top_quiet(1) {
                    // Only if the pass over the body was less precise than the emitter.
                    self.quiet_nan(ty)?;
                    self.replace_quiet(1, ty, true);
                }
                let tee = matches!(op, LocalTee { .. });
                if tee {
                    self.cg.dup()?;
                }
                self.cg.push_local(l)?;
                self.cg.swap()?;
                self.cg.store(MemAccess::new(t.val(ty)))?;
                if !tee {
                    self.replace(1, None);
                }
            }
            GlobalGet { global_index } => {
                let ty = self.env.m.globals[global_index as usize].ty;
                self.push_vmctx_ptr(self.env.layout.global(global_index))?;
                self.cg.load(self.vm_access(t.val(ty)))?;
                self.replace(0, Some(ty));
            }
            GlobalSet { global_index } => {
                let ty = self.env.m.globals[global_index as usize].ty;
                self.materialize(1)?;
                self.push_vmctx_ptr(self.env.layout.global(global_index))?;
                self.cg.swap()?;
                self.cg.store(self.vm_access(t.val(ty)))?;
                self.replace(1, None);
            }
            MemorySize { .. } => {
                self.push_memory_field(MEMORY_BYTES, t.i64)?;
                self.cg.push_int(t.i64, 16)?;
                self.cg.int_op(IntBinOp::LShr, IntFlags::NONE)?;
                self.cg.cast(CastOp::Trunc, t.i32)?;
                self.replace(0, Some(ValType::I32));
            }
            MemoryGrow { .. } => {
                self.materialize(1)?;
                self.push_vmctx()?;
                self.cg.swap()?;
                self.cg.call(Callee::Direct(self.env.memory_grow), 2)?;
                self.replace(1, Some(ValType::I32));
            }
            I32Const { value } => {
                self.cg.push_int(t.i32, value as i128)?;
                self.replace(0, Some(ValType::I32));
            }
            I64Const { value } => {
                self.cg.push_int(t.i64, value as i128)?;
                self.replace(0, Some(ValType::I64));
            }
            F32Const { value } => {
                self.cg.push_f32(f32::from_bits(value.bits()))?;
                self.replace_quiet(0, ValType::F32, super::quiet::produces_quiet(op, &[]));
            }
            F64Const { value } => {
                self.cg.push_f64(f64::from_bits(value.bits()))?;
                self.replace_quiet(0, ValType::F64, super::quiet::produces_quiet(op, &[]));
            }
            I32Eqz | I64Eqz => {
                let ty = if matches!(op, I32Eqz) { ValType::I32 } else { ValType::I64 };
                self.materialize(1)?;
                self.cg.push_int(t.val(ty), 0)?;
                self.cg.int_cmp(IntCmp::Eq)?;
                self.cg.cast(CastOp::ZExt, t.i32)?;
                self.replace(1, Some(ValType::I32));
            }
            I32Clz | I64Clz | I32Ctz | I64Ctz | I32Popcnt | I64Popcnt => {
                let ty = if matches!(op, I32Clz | I32Ctz | I32Popcnt) { ValType::I32 } else { ValType::I64 };
                let un = match op {
                    I32Clz | I64Clz => IntUnOp::Clz,
                    I32Ctz | I64Ctz => IntUnOp::Ctz,
                    _ => IntUnOp::Popcount,
                };
                self.materialize(1)?;
                self.cg.int_unop(un)?;
                self.replace(1, Some(ty));
            }
            I32DivS | I64DivS | I32DivU | I64DivU | I32RemS | I64RemS | I32RemU | I64RemU => {
                let ty = if matches!(op, I32DivS | I32DivU | I32RemS | I32RemU) { ValType::I32 } else { ValType::I64 };
                self.materialize(2)?;
                self.cg.dup()?;
                self.cg.push_int(t.val(ty), 0)?;
                self.cg.int_cmp(IntCmp::Eq)?;
                self.trap_if(Trap::IntegerDivideByZero)?;
                match op {
                    I32DivS | I64DivS => {
                        self.cg.checked(CheckedOp::SDiv)?;
                        self.trap_if(Trap::IntegerOverflow)?;
                    }
                    I32RemS | I64RemS => {
                        // MIN % -1 is 0 in wasm, which is what the checked form gives.
                        self.cg.checked(CheckedOp::SRem)?;
                        self.cg.discard()?;
                    }
                    I32DivU | I64DivU => self.cg.int_op(IntBinOp::UDiv, IntFlags::NONE)?,
                    _ => self.cg.int_op(IntBinOp::URem, IntFlags::NONE)?,
                }
                self.replace(2, Some(ty));
            }
            I32Extend8S | I32Extend16S | I64Extend8S | I64Extend16S | I64Extend32S => {
                let (ty, narrow) = match op {
                    I32Extend8S => (ValType::I32, t.i8),
                    I32Extend16S => (ValType::I32, t.i16),
                    I64Extend8S => (ValType::I64, t.i8),
                    I64Extend16S => (ValType::I64, t.i16),
                    _ => (ValType::I64, t.i32),
                };
                self.materialize(1)?;
                self.cg.cast(CastOp::Trunc, narrow)?;
                self.cg.cast(CastOp::SExt, t.val(ty))?;
                self.replace(1, Some(ty));
            }
            ref other => {
                return Err(Error::Unsupported { what: format!("operator {other:?}"), offset: 0 });
            }
        }
        Ok(())
    }

    /// Replaces a NaN on top of the stack by the canonical NaN, so a
    /// signalling NaN operand never comes out unquieted (wasm requires an
    /// arithmetic NaN). Needed after every arithmetic operation: LLVM folds
    /// `x * 1`, `x - 0`, `x / -1`, `demote(promote x)` to `x` or `-x` (its
    /// default FP environment does not distinguish signalling NaNs), and
    /// `llvm.minimum`/`llvm.maximum` return a signalling operand as it is
    /// (x86-64, LLVM 19). LLVM cannot remove the `select`: it does not know
    /// that `x` is not NaN.
    fn quiet_nan(&mut self, ty: ValType) -> Result<()> {
        // r -> r, r is ordered, NaN -> select(ordered, r, NaN)
        self.cg.dup()?;
        self.cg.dup()?;
        self.cg.float_cmp(FloatCmp::Ord, FastMath::NONE)?;
        match ty {
            ValType::F32 => self.cg.push_f32(f32::from_bits(0x7fc0_0000))?,
            _ => self.cg.push_f64(f64::from_bits(0x7ff8_0000_0000_0000))?,
        }
        self.cg.swap()?;
        self.cg.select()?;
        Ok(())
    }

    /// In unreachable code: only the block structure matters.
    fn dead_op(&mut self, op: &Operator<'_>) -> Result<()> {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => self.dead_depth += 1,
            Operator::Else if self.dead_depth == 0 => self.else_()?,
            Operator::End if self.dead_depth == 0 => self.end()?,
            Operator::End => self.dead_depth -= 1,
            _ => {}
        }
        Ok(())
    }

    /// Pops the spilled i32 on top and pushes `value != 0` as an `i1`.
    fn pop_condition(&mut self) -> Result<()> {
        let i = self.stack.len() - 1;
        self.load_slot(i)?;
        self.stack.pop();
        self.cg.push_int(self.env.t.i32, 0)?;
        self.cg.int_cmp(IntCmp::Ne)?;
        Ok(())
    }

    fn else_(&mut self) -> Result<()> {
        let frame = self.frames.last().expect("validated frame");
        let (height, results, end) = (frame.height, frame.results.clone(), frame.end);
        if !self.dead {
            self.spill_all()?;
            self.move_to(height, &results)?;
            self.cg.br(end)?;
            self.frames.last_mut().expect("frame").end_reached = true;
        }
        let frame = self.frames.last_mut().expect("frame");
        let otherwise = frame.else_label.take().expect("if frame");
        frame.kind = FrameKind::Else;
        let params = frame.params.clone();
        self.cg.place_label(otherwise)?;
        self.stack.truncate(height);
        self.stack.extend(params.iter().map(|&ty| Entry { ty, on_stack: false, quiet: false }));
        self.dead = false;
        Ok(())
    }

    fn end(&mut self) -> Result<()> {
        let frame = self.frames.pop().expect("validated frame");
        if frame.kind == FrameKind::Func {
            if !self.dead {
                self.emit_return()?;
            }
            self.dead = true;
            return Ok(());
        }
        let mut reached = frame.end_reached;
        if !self.dead {
            self.spill_all()?;
            self.move_to(frame.height, &frame.results)?;
            self.cg.br(frame.end)?;
            reached = true;
        }
        if let Some(otherwise) = frame.else_label {
            // `if` without `else`: the parameters are the results.
            self.cg.place_label(otherwise)?;
            self.cg.br(frame.end)?;
            reached = true;
        }
        self.stack.truncate(frame.height);
        self.stack.extend(frame.results.iter().map(|&ty| Entry { ty, on_stack: false, quiet: false }));
        if reached {
            self.cg.place_label(frame.end)?;
            self.dead = false;
        } else {
            self.dead = true;
        }
        Ok(())
    }

    /// Branches to the frame `depth` levels out (stack spilled first).
    fn br(&mut self, depth: u32) -> Result<()> {
        self.spill_all()?;
        let fi = self.frames.len() - 1 - depth as usize;
        if self.frames[fi].kind == FrameKind::Func {
            return self.emit_return();
        }
        let (height, types, target) =
            (self.frames[fi].height, self.frames[fi].branch_types().to_vec(), self.frames[fi].target);
        self.move_to(height, &types)?;
        self.cg.br(target)?;
        if self.frames[fi].kind != FrameKind::Loop {
            self.frames[fi].end_reached = true;
        }
        Ok(())
    }

    /// The label a conditional branch to frame `depth` can jump to directly,
    /// or `None` when values must move first (or it returns).
    fn direct_target(&mut self, depth: u32) -> Option<Label> {
        let fi = self.frames.len() - 1 - depth as usize;
        let f = &self.frames[fi];
        if f.kind == FrameKind::Func || self.needs_move(f.height, f.branch_types().len()) {
            return None;
        }
        let target = f.target;
        if f.kind != FrameKind::Loop {
            self.frames[fi].end_reached = true;
        }
        Some(target)
    }

    fn br_if(&mut self, depth: u32) -> Result<()> {
        self.spill_all()?;
        self.pop_condition()?;
        let cont = self.cg.new_label()?;
        match self.direct_target(depth) {
            Some(target) => self.cg.cond_br(target, cont)?,
            None => {
                let taken = self.cg.new_label()?;
                self.cg.cond_br(taken, cont)?;
                self.cg.place_label(taken)?;
                self.br(depth)?;
            }
        }
        self.cg.place_label(cont)?;
        Ok(())
    }

    fn br_table(&mut self, depths: &[u32], default: u32) -> Result<()> {
        self.spill_all()?;
        let index = self.stack.len() - 1;
        let mut landing: Vec<(u32, Label)> = Vec::new();
        let mut label_for = |e: &mut Self, d: u32| -> Result<Label> {
            if let Some(l) = e.direct_target(d) {
                return Ok(l);
            }
            if let Some(&(_, l)) = landing.iter().find(|(x, _)| *x == d) {
                return Ok(l);
            }
            let l = e.cg.new_label()?;
            landing.push((d, l));
            Ok(l)
        };
        let mut cases = Vec::with_capacity(depths.len());
        for (i, &d) in depths.iter().enumerate() {
            cases.push((i as i128, label_for(self, d)?));
        }
        let default_label = label_for(self, default)?;
        self.load_slot(index)?;
        self.stack.pop();
        self.cg.switch(default_label, &cases)?;
        for (d, l) in landing {
            self.cg.place_label(l)?;
            self.br(d)?;
        }
        Ok(())
    }

    fn emit_return(&mut self) -> Result<()> {
        self.spill_all()?;
        let n = self.stack.len();
        let results = self.results.clone();
        match (results.len(), self.retarea) {
            (0, _) => {}
            (1, _) => self.load_slot(n - 1)?,
            (r, Some(area)) => {
                for (i, &ty) in results.iter().enumerate() {
                    self.cg.push_local(area)?;
                    self.cg.load(MemAccess::new(self.env.t.ptr))?;
                    self.cg.addr_offset(8 * i as i64, self.env.t.ptr)?;
                    self.load_slot(n - r + i)?;
                    self.cg.store(MemAccess::new(self.env.t.val(ty)))?;
                }
            }
            (_, None) => unreachable!("multi-value functions have a return area"),
        }
        self.cg.ret()?;
        Ok(())
    }

    // ---- calls ----

    fn call_area(&mut self) -> Result<Local> {
        if let Some(l) = self.call_area {
            return Ok(l);
        }
        let arr = self.cg.ty_array(self.env.t.i64, u64::from(self.env.max_results.max(1)))?;
        let l = self.cg.local_slot_with(arr, "retarea", 8, SlotFlags::ADDRESS_TAKEN | SlotFlags::COMPILER_TEMP)?;
        self.call_area = Some(l);
        Ok(l)
    }

    /// Pushes the return area (if any) and the arguments (the top `nparams`
    /// entries, spilled), calls, and pushes the results.
    fn finish_call(&mut self, callee: Callee, ty: &FuncType, extra: u32) -> Result<()> {
        let n = self.stack.len();
        let np = ty.params.len();
        let multi = ty.results.len() > 1;
        if multi {
            let area = self.call_area()?;
            self.cg.push_local(area)?;
            self.cg.addr_of()?;
        }
        for i in n - np..n {
            self.load_slot(i)?;
        }
        let nargs = extra + u32::from(multi) + np as u32;
        // `notail`: LLVM would otherwise turn self-recursion into a loop, and a
        // runaway recursion must exhaust the stack (and trap), not spin.
        let attrs = CallAttrs { tail: TailPolicy::NoTail, ..CallAttrs::default() };
        self.cg.call_with(callee, nargs, attrs)?;
        self.stack.truncate(n - np);
        match ty.results.len() {
            0 => {}
            1 => self.stack.push(Entry { ty: ty.results[0], on_stack: true, quiet: false }),
            _ => {
                let area = self.call_area()?;
                for (i, &r) in ty.results.iter().enumerate() {
                    self.cg.push_local(area)?;
                    self.cg.addr_offset(8 * i as i64, self.env.t.val(r))?;
                    self.cg.load(MemAccess::new(self.env.t.val(r)))?;
                    self.stack.push(Entry { ty: r, on_stack: true, quiet: false });
                }
            }
        }
        Ok(())
    }

    fn call(&mut self, f: u32) -> Result<()> {
        let ty = self.env.m.func_type(f).clone();
        self.spill_top(ty.params.len())?;
        match self.env.funcs[f as usize] {
            Some(sym) => {
                self.push_vmctx()?;
                self.finish_call(Callee::Direct(sym), &ty, 1)
            }
            None => {
                let at = self.env.layout.func(f);
                self.push_vmctx_ptr(at)?;
                self.push_vmctx_ptr(at + 8)?;
                let sig = self.env.sigs[self.env.m.funcs[f as usize] as usize];
                self.finish_call(Callee::Indirect(sig), &ty, 1)
            }
        }
    }

    fn call_indirect(&mut self, type_index: u32) -> Result<()> {
        let t = self.env.t;
        let ty = self.env.m.types[type_index as usize].clone();
        self.spill_top(ty.params.len() + 1)?;
        let elem = match self.elem_tmp {
            Some(l) => l,
            None => {
                let l = self.cg.local_slot_with(t.ptr, "elem", 0, SlotFlags::COMPILER_TEMP)?;
                self.elem_tmp = Some(l);
                l
            }
        };
        // elem = table.elems + index * 24, after the bounds check.
        self.cg.push_local(elem)?;
        self.load_slot(self.stack.len() - 1)?;
        self.stack.pop();
        self.cg.cast(CastOp::ZExt, t.i64)?;
        self.cg.dup()?;
        self.push_vmctx_ptr(VmLayout::TABLE)?;
        self.cg.addr_offset(TABLE_LEN, t.ptr)?;
        self.cg.load(self.vm_access(t.i64))?;
        self.cg.int_cmp(IntCmp::Uge)?;
        self.trap_if(Trap::UndefinedElement)?;
        self.push_vmctx_ptr(VmLayout::TABLE)?;
        self.cg.addr_offset(TABLE_ELEMS, t.ptr)?;
        self.cg.load(self.vm_access(t.ptr))?;
        self.cg.swap()?;
        self.cg.addr_index(FUNCREF_SIZE, t.ptr)?;
        self.cg.store(MemAccess::new(t.ptr))?;
        // The signature check: null elements have their own type id.
        self.cg.push_local(elem)?;
        self.cg.load(MemAccess::new(t.ptr))?;
        self.cg.addr_offset(16, t.ptr)?;
        self.cg.load(self.vm_access(t.i64))?;
        self.cg.dup()?;
        self.cg.push_int(t.i64, NULL_TYPE_ID as i128)?;
        self.cg.int_cmp(IntCmp::Eq)?;
        self.trap_if(Trap::UninitializedElement)?;
        self.cg.push_int(t.i64, self.env.type_ids[type_index as usize] as i128)?;
        self.cg.int_cmp(IntCmp::Ne)?;
        self.trap_if(Trap::IndirectCallTypeMismatch)?;
        for off in [0, 8] {
            self.cg.push_local(elem)?;
            self.cg.load(MemAccess::new(t.ptr))?;
            self.cg.addr_offset(off, t.ptr)?;
            self.cg.load(self.vm_access(t.ptr))?;
        }
        let sig = self.env.sigs[type_index as usize];
        self.finish_call(Callee::Indirect(sig), &ty, 1)
    }

    // ---- memory ----

    /// With the i32 address on top of the facade stack: checks
    /// `addr + offset + bytes <= memory size` and replaces it with the host pointer.
    fn effective_address(&mut self, offset: u64, bytes: u32) -> Result<()> {
        let t = self.env.t;
        self.cg.cast(CastOp::ZExt, t.i64)?;
        if self.env.checks == BoundsChecks::Explicit {
            self.cg.dup()?;
            self.cg.push_int(t.i64, i128::from(offset) + i128::from(bytes))?;
            self.cg.int_op(IntBinOp::Add, IntFlags::NUW)?;
            self.push_memory_field(MEMORY_BYTES, t.i64)?;
            self.cg.int_cmp(IntCmp::Ugt)?;
            self.trap_if(Trap::MemoryOutOfBounds)?;
        }
        self.push_memory_field(MEMORY_BASE, t.ptr)?;
        self.cg.swap()?;
        self.cg.addr_index(1, t.ptr)?;
        if offset != 0 {
            self.cg.addr_offset(offset as i64, t.ptr)?;
        }
        Ok(())
    }

    fn narrow_type(&self, a: Access) -> cfree_facade::TypeId {
        let t = self.env.t;
        match (a.ty, a.bytes) {
            (_, 1) => t.i8,
            (_, 2) => t.i16,
            (ValType::I64, 4) => t.i32,
            (ty, _) => t.val(ty),
        }
    }

    fn load(&mut self, a: Access, memarg: MemArg) -> Result<()> {
        self.materialize(1)?;
        self.effective_address(memarg.offset, a.bytes)?;
        let narrow = self.narrow_type(a);
        self.cg.load(self.heap_access(narrow))?;
        let full = self.env.t.val(a.ty);
        if narrow != full {
            self.cg.cast(if a.signed { CastOp::SExt } else { CastOp::ZExt }, full)?;
        }
        self.replace(1, Some(a.ty));
        Ok(())
    }

    fn store(&mut self, a: Access, memarg: MemArg) -> Result<()> {
        self.materialize(2)?;
        let narrow = self.narrow_type(a);
        if narrow != self.env.t.val(a.ty) {
            self.cg.cast(CastOp::Trunc, narrow)?;
        }
        self.cg.swap()?;
        self.effective_address(memarg.offset, a.bytes)?;
        self.cg.swap()?;
        self.cg.store(self.heap_access(narrow))?;
        self.replace(2, None);
        Ok(())
    }
}
