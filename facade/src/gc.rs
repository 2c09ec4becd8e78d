//! Managed allocation and stores, explicit roots, safepoints and their IDs
//! (the GC contract, `doc/gc.md`). Allocation and barriers lower to ordinary
//! operations plus calls of runtime functions the embedder names, so a
//! frontend never open-codes barrier or allocation sequences.

use crate::{Backend, Callee, Error, ErrorKind, IntCmp, Local, MemAccess, Result, Sym, SymbolKind, TypeId};

/// The runtime functions (and allocation buffer) managed operations use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcRuntime {
    /// `alloc(descriptor: i64, size: i64) -> ptr addrspace(1)`: a new zeroed
    /// object; `descriptor` is the frontend's (e.g. a type id or header word).
    /// Usually declared `GcRole::Runtime` (allocation may collect).
    pub alloc: Sym,
    /// `barrier(object: ptr addrspace(1), offset: i64, value: ptr addrspace(1), kind: i32)`,
    /// called after every store of a managed pointer into a managed object.
    pub write_barrier: Option<Sym>,
    /// `poll()`, a `GcRole::Runtime` function called by [`crate::Cg::safepoint`].
    pub poll: Option<Sym>,
    /// Bump allocation inline in managed code, with `alloc` as the slow path.
    pub inline_alloc: Option<InlineAlloc>,
}

impl GcRuntime {
    /// Allocation through `alloc` only: no barrier, poll or inline allocation.
    pub fn new(alloc: Sym) -> Self {
        Self { alloc, write_barrier: None, poll: None, inline_alloc: None }
    }

    /// Sets the write barrier.
    pub fn write_barrier(mut self, barrier: Sym) -> Self {
        self.write_barrier = Some(barrier);
        self
    }

    /// Sets the poll function of explicit safepoints.
    pub fn poll(mut self, poll: Sym) -> Self {
        self.poll = Some(poll);
        self
    }

    /// Allocates inline from `buffer` (see [`InlineAlloc`]).
    pub fn inline_alloc(mut self, inline: InlineAlloc) -> Self {
        self.inline_alloc = Some(inline);
        self
    }
}

/// Inline bump allocation. `buffer` is a data symbol (raw address space, at
/// least two pointers) holding two managed pointers that the runtime
/// maintains: `next`, where the reference to the next object goes, and
/// `limit`, the end of the free area. An object of `size` bytes (rounded up
/// to 8) fits if `next + size <= limit`; the generated code then stores
/// `descriptor` as the 8-byte header word at `next - 8` (if `header_bytes` is
/// 8), zeroes the payload, sets `next += size + header_bytes` and uses the old
/// `next` as the object. Otherwise it calls `alloc(descriptor, size)`, which
/// may collect and refill the buffer. Stress testing sets `limit = next`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InlineAlloc {
    /// The `[next, limit]` data symbol.
    pub buffer: Sym,
    /// Bytes of header before each object's reference: 0 or 8.
    pub header_bytes: u32,
}

/// How a stored managed pointer refers to its target, passed to the barrier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum PointerKind {
    /// An ordinary reference.
    #[default]
    Strong,
    /// A reference the collector may clear.
    Weak,
}

impl<B: Backend> crate::Cg<B> {
    /// Names the runtime functions behind [`Self::gc_alloc`] and [`Self::managed_store`].
    pub fn set_gc_runtime(&mut self, runtime: GcRuntime) -> Result<()> {
        const CALL: &str = "set_gc_runtime";
        let Some(managed) = self.managed_space else {
            let e = ErrorKind::InvalidFlags { op: CALL.into(), flags: "no managed address space declared".into() };
            return Err(Error::new(CALL, e));
        };
        if let Some(inline) = runtime.inline_alloc {
            self.check_alloc_buffer(CALL, inline)?;
        }
        let funcs = [("alloc", Some(runtime.alloc)), ("write_barrier", runtime.write_barrier), ("poll", runtime.poll)];
        for (what, sym) in funcs {
            let Some(sym) = sym else { continue };
            self.check_sym(CALL, sym).map_err(|e| e.operand(what))?;
            let SymbolKind::Func(decl) = &self.syms[sym.index()].kind else {
                let name = self.syms[sym.index()].name.clone();
                return Err(Error::new(CALL, ErrorKind::WrongSymbolKind { name, expected: "function" }).operand(what));
            };
            let sig = self.types.func_sig(decl.sig).expect("function type");
            let int64 = |t| self.types.int_width(t) == Some(crate::IntWidth::I64);
            let managed_ptr = |t| self.types.ptr_addr_space(t) == Some(managed);
            let ok = match what {
                "poll" => sig.params.is_empty() && sig.result.is_none() && decl.gc == crate::GcRole::Runtime,
                "alloc" => {
                    sig.params.len() == 2
                        && sig.params.iter().all(|p| int64(p.ty))
                        && sig.result.is_some_and(|r| managed_ptr(r.ty))
                }
                _ => {
                    sig.params.len() == 4
                        && managed_ptr(sig.params[0].ty)
                        && int64(sig.params[1].ty)
                        && managed_ptr(sig.params[2].ty)
                        && self.types.int_width(sig.params[3].ty) == Some(crate::IntWidth::I32)
                        && sig.result.is_none()
                }
            };
            if !ok {
                let expected = match what {
                    "alloc" => "fn(i64, i64) -> managed pointer",
                    "poll" => "fn() declared GcRole::Runtime",
                    _ => "fn(managed pointer, i64, managed pointer, i32)",
                };
                let expected = expected.to_string();
                return Err(self.mismatch(CALL, what, expected, decl.sig));
            }
        }
        self.gc_runtime = Some(runtime);
        Ok(())
    }

    fn check_alloc_buffer(&self, call: &'static str, inline: InlineAlloc) -> Result<()> {
        self.check_sym(call, inline.buffer).map_err(|e| e.operand("inline_alloc buffer"))?;
        let info = &self.syms[inline.buffer.index()];
        let SymbolKind::Data(decl) = &info.kind else {
            let name = info.name.clone();
            return Err(
                Error::new(call, ErrorKind::WrongSymbolKind { name, expected: "data" }).operand("inline_alloc buffer")
            );
        };
        let pointer = u64::from(self.target().pointer_bits() / 8);
        let size = self.types.layout(decl.ty).map_or(0, |l| l.size);
        if decl.readonly || size < 2 * pointer {
            let flags = format!("buffer `{}` must be writable and hold two pointers ({size} bytes)", info.name);
            return Err(Error::new(call, ErrorKind::InvalidFlags { op: call.into(), flags }).operand("inline_alloc"));
        }
        if inline.header_bytes != 0 && inline.header_bytes != 8 {
            let flags = format!("header_bytes {} (0 or 8)", inline.header_bytes);
            return Err(Error::new(call, ErrorKind::InvalidFlags { op: call.into(), flags }).operand("inline_alloc"));
        }
        Ok(())
    }

    fn runtime(&self, call: &'static str) -> Result<GcRuntime> {
        self.gc_runtime.ok_or_else(|| {
            self.ferr(
                call,
                ErrorKind::InvalidFlags { op: call.into(), flags: "no GC runtime set (set_gc_runtime)".into() },
            )
        })
    }

    /// Pushes a new managed object of `size` bytes: bump-allocated inline when
    /// the runtime has an [`InlineAlloc`] buffer, else (and when the buffer is
    /// full) `alloc(descriptor, size)`.
    pub fn gc_alloc(&mut self, descriptor: i64, size: u64) -> Result<()> {
        const CALL: &str = "gc_alloc";
        self.require_open(CALL)?;
        let rt = self.runtime(CALL)?;
        if size > u64::from(u32::MAX) {
            return Err(self.ferr(CALL, ErrorKind::TooLarge { what: "object size" }));
        }
        let i64t = self.ty_int(crate::IntWidth::I64)?;
        let Some(inline) = rt.inline_alloc else {
            self.push_int(i64t, i128::from(descriptor))?;
            self.push_int(i64t, i128::from(size))?;
            return self.call(Callee::Direct(rt.alloc), 2);
        };
        let obj_ty = self.alloc_result_type(rt.alloc);
        let space = self.managed_space.unwrap_or(1);
        let payload = size.next_multiple_of(8);
        let at_object = self.resolve_access(CALL, &MemAccess::new(obj_ty), space)?;
        let pointer_in_raw = self.resolve_access(CALL, &MemAccess::new(obj_ty), 0)?;
        let header_in_object = self.resolve_access(CALL, &MemAccess::new(i64t), space)?;
        let result = self.func_temp(obj_ty)?;
        let result_addr = self.func.locals[result.index()].addr;
        let pointer_bytes = self.target_pointer_bytes();
        // Everything below is valid by construction: blocks are the backend's own (no labels),
        // and values on the frontend's stack dominate the join block.
        self.ensure_block();
        let b = &mut self.backend;
        let buffer = b.sym_addr(inline.buffer);
        let next = b.load(buffer, &pointer_in_raw);
        let limit_at = b.addr_offset(buffer, i64::from(pointer_bytes));
        let limit = b.load(limit_at, &pointer_in_raw);
        let end = b.addr_offset(next, payload as i64);
        let fits = b.int_cmp(IntCmp::Ule, end, limit);
        let (fast, slow, join) = (b.new_block(), b.new_block(), b.new_block());
        b.cond_br(fits, fast, slow);
        b.place_block(fast, false);
        let new_next = b.addr_offset(end, i64::from(inline.header_bytes));
        b.store(buffer, new_next, &pointer_in_raw);
        if inline.header_bytes == 8 {
            let header_at = b.addr_offset(next, -8);
            let header = b.const_int(i64t, descriptor as u64 as u128);
            b.store(header_at, header, &header_in_object);
        }
        if payload > 0 {
            b.mem_set(next, 0, payload, &at_object);
        }
        b.store(result_addr, next, &pointer_in_raw);
        b.br(join);
        b.place_block(slow, false);
        self.push_local(result)?;
        self.push_int(i64t, i128::from(descriptor))?;
        self.push_int(i64t, i128::from(size))?;
        self.call(Callee::Direct(rt.alloc), 2)?;
        self.store(MemAccess::new(obj_ty))?;
        self.backend.br(join);
        self.backend.place_block(join, false);
        self.push_local(result)?;
        self.load(MemAccess::new(obj_ty))
    }

    fn target_pointer_bytes(&self) -> u32 {
        self.target().pointer_bits() / 8
    }

    /// The managed pointer type `alloc` returns (checked by [`Self::set_gc_runtime`]).
    fn alloc_result_type(&self, alloc: Sym) -> TypeId {
        let SymbolKind::Func(decl) = &self.syms[alloc.index()].kind else { unreachable!("alloc was checked") };
        let sig = self.types.func_sig(decl.sig).expect("function type");
        sig.result.expect("alloc returns a managed pointer").ty
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
            return Err(self.mismatch(CALL, "type", "managed pointer".into(), ty));
        }
        let local = self.local_slot(ty, name, 0)?;
        let addr = self.func.locals[local.index()].addr;
        self.backend.init_root_slot(addr, ty);
        self.func.gc_roots.push(addr);
        Ok(local)
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
            let e = ErrorKind::InvalidFlags { op: CALL.into(), flags: "the GC runtime has no poll function".into() };
            return Err(self.ferr(CALL, e));
        };
        self.call(Callee::Direct(poll), 0)
    }

    fn require_managed_function(&self, call: &'static str) -> Result<()> {
        self.require_open(call)?;
        if !self.func.managed {
            let e = ErrorKind::InvalidFlags { op: call.into(), flags: "function is not GcRole::Safepoints".into() };
            return Err(self.ferr(call, e));
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
            return Err(self.mismatch(CALL, "object", "managed pointer".into(), obj_ty));
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
