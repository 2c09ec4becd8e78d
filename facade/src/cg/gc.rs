//! The emitter side of `gc.rs`.

use crate::*;

impl<B: Backend> crate::Cg<B> {
    /// Names the runtime functions behind [`Self::gc_alloc`] and [`Self::managed_store`].
    pub fn set_gc_runtime(&mut self, runtime: GcRuntime) -> Result<()> {
        const CALL: &str = "set_gc_runtime";
        let Some(managed) = self.managed_space else {
            return Err(Error::new(CALL, ErrorKind::NoManagedSpace));
        };
        if let Some(inline) = runtime.inline_alloc {
            self.check_alloc_buffer(CALL, inline)?;
        }
        let funcs = [
            (RuntimeFunction::Alloc, Some(runtime.alloc)),
            (RuntimeFunction::WriteBarrier, runtime.write_barrier),
            (RuntimeFunction::Poll, runtime.poll),
        ];
        for (role, sym) in funcs {
            let what = role.field();
            let Some(sym) = sym else { continue };
            self.check_sym(CALL, sym).map_err(|e| e.operand(what))?;
            let SymbolKind::Func(decl) = &self.syms[sym.index()].kind else {
                let name = self.syms[sym.index()].name.clone();
                let e = ErrorKind::WrongSymbolKind { name, expected: SymbolClass::Function };
                return Err(Error::new(CALL, e).operand(what));
            };
            let Some(sig) = self.types.func_sig(decl.sig) else {
                return Err(self.mismatch(CALL, what, Expected::Function, decl.sig));
            };
            let int64 = |t| self.types.int_width(t) == Some(crate::IntWidth::I64);
            let managed_ptr = |t| self.types.ptr_addr_space(t) == Some(managed);
            let ok = match role {
                RuntimeFunction::Poll => {
                    sig.params.is_empty() && sig.result.is_none() && decl.gc == crate::GcRole::Runtime
                }
                RuntimeFunction::Alloc => {
                    sig.params.len() == 2
                        && sig.params.iter().all(|p| int64(p.ty))
                        && sig.result.is_some_and(|r| managed_ptr(r.ty))
                }
                RuntimeFunction::WriteBarrier => {
                    sig.params.len() == 4
                        && managed_ptr(sig.params[0].ty)
                        && int64(sig.params[1].ty)
                        && managed_ptr(sig.params[2].ty)
                        && self.types.int_width(sig.params[3].ty) == Some(crate::IntWidth::I32)
                        && sig.result.is_none()
                }
            };
            if !ok {
                return Err(self.mismatch(CALL, what, Expected::RuntimeSignature(role), decl.sig));
            }
        }
        self.gc_runtime = Some(runtime);
        Ok(())
    }

    fn check_alloc_buffer(&self, call: &'static str, inline: InlineAlloc) -> Result<()> {
        if inline.header_bytes != 0 && inline.header_bytes != 8 {
            let e = ErrorKind::InvalidHeaderBytes { header_bytes: inline.header_bytes };
            return Err(Error::new(call, e).operand("inline_alloc"));
        }
        let Some(buffer) = inline.buffer else { return Ok(()) };
        self.check_sym(call, buffer).map_err(|e| e.operand("inline_alloc buffer"))?;
        let info = &self.syms[buffer.index()];
        let SymbolKind::Data(decl) = &info.kind else {
            let name = info.name.clone();
            return Err(Error::new(call, ErrorKind::WrongSymbolKind { name, expected: SymbolClass::Data })
                .operand("inline_alloc buffer"));
        };
        let pointer = u64::from(self.target().pointer_bits() / 8);
        let size = self.types.layout(decl.ty).map_or(0, |l| l.size);
        if decl.readonly || size < 2 * pointer {
            let e = ErrorKind::InvalidAllocBuffer {
                name: info.name.clone(),
                size,
                needed: 2 * pointer,
                readonly: decl.readonly,
            };
            return Err(Error::new(call, e).operand("inline_alloc"));
        }
        Ok(())
    }

    fn runtime(&self, call: &'static str) -> Result<GcRuntime> {
        self.gc_runtime.ok_or_else(|| self.ferr(call, ErrorKind::NoGcRuntime))
    }

    /// Pushes a new managed object of `size` bytes: bump-allocated inline when
    /// the runtime has an [`InlineAlloc`] buffer, else (and when the buffer is
    /// full) `alloc(descriptor, size)`.
    pub fn gc_alloc(&mut self, descriptor: i64, size: u64) -> Result<()> {
        self.emit_gc_alloc("gc_alloc", descriptor, size, false)
    }

    /// [`Self::gc_alloc`] from the allocation buffer whose address is on top
    /// of the stack (a raw pointer, popped) instead of the [`InlineAlloc`]
    /// symbol: for runtimes with one buffer per mutator thread, reached
    /// through a context the frontend passes around (as Go passes `g`). The
    /// buffer has the layout [`InlineAlloc`] describes, and its header size
    /// applies. Without an `InlineAlloc` the object comes from `alloc` and
    /// the address is only popped.
    pub fn gc_alloc_in(&mut self, descriptor: i64, size: u64) -> Result<()> {
        self.emit_gc_alloc("gc_alloc_in", descriptor, size, true)
    }

    fn emit_gc_alloc(&mut self, call: &'static str, descriptor: i64, size: u64, from_stack: bool) -> Result<()> {
        self.require_open(call)?;
        let rt = self.runtime(call)?;
        if size > u64::from(u32::MAX) {
            let e = ErrorKind::TooLarge { what: Quantity::ObjectSize, size: size.into(), limit: u32::MAX.into() };
            return Err(self.ferr(call, e));
        }
        let buffer_operand = if from_stack {
            let (ty, v) = self.peek_typed(call, 1, 0, "buffer", None)?;
            if self.types.ptr_addr_space(ty) != Some(0) {
                return Err(self.mismatch(call, "buffer", Expected::PointerInSpace(0), ty));
            }
            self.pop_n(1);
            Some(v)
        } else {
            None
        };
        let i64t = self.ty_int(crate::IntWidth::I64)?;
        let Some(inline) = rt.inline_alloc else {
            self.push_int(i64t, i128::from(descriptor))?;
            self.push_int(i64t, i128::from(size))?;
            return self.call(Callee::Direct(rt.alloc), 2);
        };
        if buffer_operand.is_none() && inline.buffer.is_none() {
            return Err(self.ferr(call, ErrorKind::NoAllocBufferSymbol));
        }
        let obj_ty = self.alloc_result_type(rt.alloc);
        let space = self.managed_space.unwrap_or(1);
        let payload = size.next_multiple_of(8);
        let at_object = self.resolve_access(call, &MemAccess::new(obj_ty), space)?;
        let pointer_in_raw = self.resolve_access(call, &MemAccess::new(obj_ty), 0)?;
        let header_in_object = self.resolve_access(call, &MemAccess::new(i64t), space)?;
        let result = self.func_temp(obj_ty)?;
        let result_addr = self.func.locals[result.index()].addr;
        let pointer_bytes = self.target_pointer_bytes();
        self.ensure_block(call)?;
        let buffer = match buffer_operand {
            Some(v) => v,
            None => {
                let sym = inline.buffer.ok_or_else(|| self.ferr(call, ErrorKind::NoAllocBufferSymbol))?;
                let addr = self.backend.sym_addr(sym);
                self.lowered(call, addr)?
            }
        };
        let facts = InlineFacts {
            buffer,
            header_bytes: inline.header_bytes,
            pointer_bytes,
            payload,
            descriptor,
            i64t,
            result_addr,
            at_object,
            pointer_in_raw,
            header_in_object,
        };
        let join = emit_inline_fast_path(&mut self.backend, &facts);
        let join = self.lowered(call, join)?;
        self.push_local(result)?;
        self.push_int(i64t, i128::from(descriptor))?;
        self.push_int(i64t, i128::from(size))?;
        self.call(Callee::Direct(rt.alloc), 2)?;
        self.store(MemAccess::new(obj_ty))?;
        let branched = self.backend.br(join);
        self.lowered(call, branched)?;
        let placed = self.backend.place_block(join, false);
        self.lowered(call, placed)?;
        self.push_local(result)?;
        self.load(MemAccess::new(obj_ty))
    }

    fn target_pointer_bytes(&self) -> u32 {
        self.target().pointer_bits() / 8
    }

    /// The managed pointer type `alloc` returns (checked by [`Self::set_gc_runtime`]).
    fn alloc_result_type(&self, alloc: Sym) -> TypeId {
        let SymbolKind::Func(decl) = &self.syms[alloc.index()].kind else { unreachable!("alloc was checked") };
        let result = self.types.func_sig(decl.sig).and_then(|sig| sig.result);
        result.expect("set_gc_runtime checked that alloc returns a managed pointer").ty
    }

    /// A new local slot of managed pointer type `ty` that is an explicit GC
    /// root: it holds null from the function's entry, every later safepoint of
    /// the function reports it, and a moving collector updates its content in
    /// place. Use it for managed pointers whose slot address is taken
    /// (`addr_of`), which ordinary slots do not survive a collection with.
    /// The slot must hold a base pointer (to an object) or null. The function
    /// and its safepoint calls are not inlined (`doc/gc.md`).
    pub fn gc_root_slot(&mut self, ty: TypeId, name: &str) -> Result<Local> {
        const CALL: &str = "gc_root_slot";
        self.require_managed_function(CALL)?;
        self.check_type(CALL, ty, "type")?;
        if !self.is_managed_ptr(ty) {
            return Err(self.mismatch(CALL, "type", Expected::ManagedPointer, ty));
        }
        self.new_slot(CALL, ty, name, 0, SlotKind::GcRoot, SlotFlags::ADDRESS_TAKEN)
    }

    /// The next safepoint of the open function (a call that may collect, or
    /// [`Self::safepoint`]) gets `id` as its stack map record ID, so the
    /// runtime can map it back to the frontend (a source position, a deopt
    /// state). Calls of `GcRole::Leaf` functions do not consume it. IDs need
    /// not be unique; without one a record has LLVM's default `0xABCDEF00`.
    pub fn set_safepoint_id(&mut self, id: u64) -> Result<()> {
        self.require_managed_function("set_safepoint_id")?;
        self.func.safepoint_id = Some(id);
        Ok(())
    }

    /// An explicit safepoint: calls the runtime's `poll` (which may collect),
    /// with every live managed value and explicit root in its stack map.
    pub fn safepoint(&mut self) -> Result<()> {
        const CALL: &str = "safepoint";
        self.require_managed_function(CALL)?;
        let rt = self.runtime(CALL)?;
        let Some(poll) = rt.poll else {
            return Err(self.ferr(CALL, ErrorKind::NoPollFunction));
        };
        self.call(Callee::Direct(poll), 0)
    }

    fn require_managed_function(&self, call: &'static str) -> Result<()> {
        self.require_open(call)?;
        if !self.func.managed {
            return Err(self.ferr(call, ErrorKind::NotManagedFunction));
        }
        Ok(())
    }

    /// Pops a value, then a managed object pointer; stores the value at
    /// `object + offset` as described by `access`, then, if the value is a
    /// managed pointer and a barrier is set, calls
    /// `barrier(object, offset, value, kind)`.
    pub fn managed_store(&mut self, access: MemAccess, offset: i64, kind: PointerKind) -> Result<()> {
        const CALL: &str = "managed_store";
        self.require_open(CALL)?;
        let rt = self.runtime(CALL)?;
        let (obj_ty, _) = self.peek_typed(CALL, 2, 1, "object", None)?;
        if !self.is_managed_ptr(obj_ty) {
            return Err(self.mismatch(CALL, "object", Expected::ManagedPointer, obj_ty));
        }
        let (val_ty, _) = self.peek_typed(CALL, 2, 0, "value", Some(access.ty))?;
        // Validate the descriptor before anything changes: the steps below cannot fail then.
        self.resolve_access(CALL, &access, self.managed_space.unwrap_or(1))?;
        let barrier = rt.write_barrier.filter(|_| self.is_managed_ptr(val_ty));
        match barrier {
            None => {
                // [obj, value] -> obj+offset, value -> store
                self.swap()?;
                self.addr_offset(offset, obj_ty)?;
                self.swap()?;
                self.store(access)
            }
            Some(barrier) => {
                // Keep obj and value for the barrier: [obj, value] -> store a copy of both.
                let i64t = self.ty_int(crate::IntWidth::I64)?;
                let i32t = self.ty_int(crate::IntWidth::I32)?;
                let obj = self.func_temp(obj_ty)?;
                let val = self.func_temp(val_ty)?;
                self.push_local(val)?;
                self.swap()?;
                self.store(crate::MemAccess::new(val_ty))?;
                self.push_local(obj)?;
                self.swap()?;
                self.store(crate::MemAccess::new(obj_ty))?;
                self.push_local(obj)?;
                self.load(crate::MemAccess::new(obj_ty))?;
                self.addr_offset(offset, obj_ty)?;
                self.push_local(val)?;
                self.load(crate::MemAccess::new(val_ty))?;
                self.store(access)?;
                self.push_local(obj)?;
                self.load(crate::MemAccess::new(obj_ty))?;
                self.push_int(i64t, i128::from(offset))?;
                self.push_local(val)?;
                self.load(crate::MemAccess::new(val_ty))?;
                self.push_int(i32t, kind as i128)?;
                self.call(Callee::Direct(barrier), 4)
            }
        }
    }

    /// A compiler temporary slot of type `ty` (promoted to SSA by mem2reg).
    fn func_temp(&mut self, ty: crate::TypeId) -> Result<crate::Local> {
        self.local_slot(ty, "", 0)
    }
}

/// What the inline allocation fast path needs (see [`emit_inline_fast_path`]).
struct InlineFacts<V> {
    /// The buffer's address.
    buffer: V,
    header_bytes: u32,
    pointer_bytes: u32,
    payload: u64,
    descriptor: i64,
    i64t: TypeId,
    result_addr: V,
    at_object: ResolvedAccess,
    pointer_in_raw: ResolvedAccess,
    header_in_object: ResolvedAccess,
}

/// The bump-allocation fast path: compare `[next, limit]`, and on the fast
/// block store the header, zero the payload, bump `next` and store the object
/// in the result slot. Ends on the slow block, positioned; returns the join
/// block both paths branch to. Valid by construction: the blocks are the
/// backend's own (no labels), and values on the frontend's stack dominate the join.
fn emit_inline_fast_path<B: Backend>(b: &mut B, f: &InlineFacts<B::Value>) -> BackendResult<B::Block> {
    let buffer = f.buffer;
    let next = b.load(buffer, &f.pointer_in_raw)?;
    let limit_at = b.addr_offset(buffer, i64::from(f.pointer_bytes))?;
    let limit = b.load(limit_at, &f.pointer_in_raw)?;
    let end = b.addr_offset(next, f.payload as i64)?;
    let fits = b.int_cmp(IntCmp::Ule, end, limit)?;
    let (fast, slow, join) = (b.new_block()?, b.new_block()?, b.new_block()?);
    b.cond_br(fits, fast, slow)?;
    b.place_block(fast, false)?;
    let new_next = b.addr_offset(end, i64::from(f.header_bytes))?;
    b.store(buffer, new_next, &f.pointer_in_raw)?;
    if f.header_bytes == 8 {
        let header_at = b.addr_offset(next, -8)?;
        let header = b.const_int(f.i64t, f.descriptor as u64 as u128)?;
        b.store(header_at, header, &f.header_in_object)?;
    }
    if f.payload > 0 {
        b.mem_set(next, 0, f.payload, &f.at_object)?;
    }
    b.store(f.result_addr, next, &f.pointer_in_raw)?;
    b.br(join)?;
    b.place_block(slow, false)?;
    Ok(join)
}
