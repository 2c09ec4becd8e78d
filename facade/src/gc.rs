//! Managed allocation and stores (the GC contract, `doc/gc.md`). Both lower to
//! ordinary operations plus calls of runtime functions the embedder names, so
//! a frontend never open-codes barrier sequences.

use crate::{Backend, Callee, Error, ErrorKind, MemAccess, Result, Sym, SymbolKind};

/// The runtime functions managed operations call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcRuntime {
    /// `alloc(descriptor: i64, size: i64) -> ptr addrspace(1)`: a new zeroed
    /// object; `descriptor` is the frontend's (e.g. a type id or layout pointer).
    /// Usually declared `GcRole::Runtime` (allocation may collect).
    pub alloc: Sym,
    /// `barrier(object: ptr addrspace(1), offset: i64, value: ptr addrspace(1), kind: i32)`,
    /// called after every store of a managed pointer into a managed object.
    pub write_barrier: Option<Sym>,
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
        for (what, sym) in [("alloc", Some(runtime.alloc)), ("write_barrier", runtime.write_barrier)] {
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
                let expected = if what == "alloc" {
                    "fn(i64, i64) -> managed pointer".to_string()
                } else {
                    "fn(managed pointer, i64, managed pointer, i32)".to_string()
                };
                return Err(self.mismatch(CALL, what, expected, decl.sig));
            }
        }
        self.gc_runtime = Some(runtime);
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

    /// Pushes a new managed object: `alloc(descriptor, size)`.
    pub fn gc_alloc(&mut self, descriptor: i64, size: u64) -> Result<()> {
        const CALL: &str = "gc_alloc";
        self.require_open(CALL)?;
        let rt = self.runtime(CALL)?;
        let i64t = self.ty_int(crate::IntWidth::I64)?;
        let size = i128::from(size);
        self.push_int(i64t, i128::from(descriptor))?;
        self.push_int(i64t, size)?;
        self.call(Callee::Direct(rt.alloc), 2)
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
