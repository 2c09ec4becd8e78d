//! Value-stack operations: constants, places, loads and stores,
//! conversions and calls. Each validates every operand it will
//! consume before changing anything.

use crate::func::Entry;
use crate::{
    Backend, Callee, CastOp, Error, ErrorKind, Local, MemAccess, MemFlags, ResolvedAccess, Result, Sym, SymbolKind,
    TypeId, TypeKind,
};

/// An address operand: a place or a pointer value.
pub(crate) struct Addr<V> {
    pub(crate) addr: V,
    pub(crate) addr_space: u32,
    pub(crate) is_place: bool,
}

impl<B: Backend> crate::Cg<B> {
    pub(crate) fn check_depth(&self, call: &'static str, needed: usize) -> Result<()> {
        let available = self.func.stack.len();
        if available < needed {
            return Err(self.ferr(call, ErrorKind::StackUnderflow { needed, available }));
        }
        Ok(())
    }

    pub(crate) fn entry(&self, from_top: usize) -> Entry<B::Value> {
        self.func.stack[self.func.stack.len() - 1 - from_top]
    }

    pub(crate) fn mismatch(&self, call: &'static str, operand: &str, expected: String, found: TypeId) -> Error {
        self.ferr(call, ErrorKind::TypeMismatch { expected, found: self.types.display(found) }).operand(operand)
    }

    /// The value `from_top` entries below the top (stack must hold `needed`),
    /// checked to be an rvalue compatible with `expected`.
    pub(crate) fn peek_value(
        &self,
        call: &'static str,
        needed: usize,
        from_top: usize,
        operand: &str,
        expected: Option<TypeId>,
    ) -> Result<B::Value> {
        Ok(self.peek_typed(call, needed, from_top, operand, expected)?.1)
    }

    pub(crate) fn peek_typed(
        &self,
        call: &'static str,
        needed: usize,
        from_top: usize,
        operand: &str,
        expected: Option<TypeId>,
    ) -> Result<(TypeId, B::Value)> {
        self.check_depth(call, needed)?;
        match self.entry(from_top) {
            Entry::Value { ty, v } => {
                if let Some(e) = expected {
                    if !self.types.compatible(ty, e) {
                        return Err(self.mismatch(call, operand, self.types.display(e), ty));
                    }
                }
                Ok((ty, v))
            }
            other => Err(self
                .ferr(call, ErrorKind::WrongValueCategory { expected: "value", found: other.category() })
                .operand(operand)),
        }
    }

    pub(crate) fn peek_addr(&self, call: &'static str, needed: usize, from_top: usize) -> Result<Addr<B::Value>> {
        self.check_depth(call, needed)?;
        match self.entry(from_top) {
            Entry::Place { addr_space, addr, .. } => Ok(Addr { addr, addr_space, is_place: true }),
            Entry::Value { ty, v } => match self.types.ptr_addr_space(ty) {
                Some(addr_space) => Ok(Addr { addr: v, addr_space, is_place: false }),
                None => Err(self.mismatch(call, "address", "pointer or place".into(), ty)),
            },
        }
    }

    pub(crate) fn pop_n(&mut self, n: usize) {
        let len = self.func.stack.len();
        self.func.stack.truncate(len - n);
    }

    pub(crate) fn push_value(&mut self, ty: TypeId, v: B::Value) {
        self.func.stack.push(Entry::Value { ty, v });
    }

    fn begin_op(&mut self, call: &'static str) -> Result<()> {
        self.require_open(call)?;
        Ok(())
    }

    pub(crate) fn check_type(&self, call: &'static str, ty: TypeId, operand: &str) -> Result<()> {
        self.types.check(ty).map_err(|k| self.ferr(call, k).operand(operand.to_string()))
    }

    /// Number of entries on the value stack.
    pub fn stack_depth(&self) -> usize {
        self.func.stack.len()
    }

    /// Pushes an integer constant. `value` must fit `ty` as a signed or unsigned number.
    pub fn push_int(&mut self, ty: TypeId, value: i128) -> Result<()> {
        const CALL: &str = "push_int";
        self.begin_op(CALL)?;
        self.check_type(CALL, ty, "type")?;
        let Some(w) = self.types.int_width(ty) else {
            return Err(self.mismatch(CALL, "type", "integer type".into(), ty));
        };
        let bits = w.bits();
        let fits = bits == 128 || (value >= -(1i128 << (bits - 1)) && value < (1i128 << bits));
        if !fits {
            return Err(self.ferr(CALL, ErrorKind::ConstantOutOfRange { value, ty: self.types.display(ty) }));
        }
        self.ensure_block();
        let v = self.backend.const_int(ty, value as u128);
        self.push_value(ty, v);
        Ok(())
    }

    /// Pushes an f32 constant with exactly the bits of `value`.
    pub fn push_f32(&mut self, value: f32) -> Result<()> {
        self.begin_op("push_f32")?;
        let ty = self.ty_float(crate::FloatWidth::F32)?;
        self.ensure_block();
        let v = self.backend.const_f32(value.to_bits());
        self.push_value(ty, v);
        Ok(())
    }

    /// Pushes an f64 constant with exactly the bits of `value`.
    pub fn push_f64(&mut self, value: f64) -> Result<()> {
        self.begin_op("push_f64")?;
        let ty = self.ty_float(crate::FloatWidth::F64)?;
        self.ensure_block();
        let v = self.backend.const_f64(value.to_bits());
        self.push_value(ty, v);
        Ok(())
    }

    /// Pushes the zero of a scalar type (the null pointer for pointer types).
    pub fn push_zero(&mut self, ty: TypeId) -> Result<()> {
        const CALL: &str = "push_zero";
        self.begin_op(CALL)?;
        self.check_type(CALL, ty, "type")?;
        if !self.types.is_scalar(ty) {
            return Err(self.mismatch(CALL, "type", "scalar type".into(), ty));
        }
        self.ensure_block();
        let v = self.backend.const_zero(ty);
        self.push_value(ty, v);
        Ok(())
    }

    /// Pushes the null pointer of pointer type `ty`.
    pub fn push_null(&mut self, ty: TypeId) -> Result<()> {
        const CALL: &str = "push_null";
        self.begin_op(CALL)?;
        self.check_type(CALL, ty, "type")?;
        if self.types.ptr_addr_space(ty).is_none() {
            return Err(self.mismatch(CALL, "type", "pointer type".into(), ty));
        }
        self.ensure_block();
        let v = self.backend.const_zero(ty);
        self.push_value(ty, v);
        Ok(())
    }

    /// Pushes a parameter or local slot as a place.
    pub fn push_local(&mut self, local: Local) -> Result<()> {
        const CALL: &str = "push_local";
        self.begin_op(CALL)?;
        let info = self.check_local(CALL, local)?;
        let (ty, addr) = (info.ty, info.addr);
        self.ensure_block();
        self.func.stack.push(Entry::Place { ty, addr_space: 0, addr });
        Ok(())
    }

    /// Pushes a data symbol as a place of its declared type.
    pub fn push_global(&mut self, sym: Sym) -> Result<()> {
        const CALL: &str = "push_global";
        self.begin_op(CALL)?;
        self.check_sym(CALL, sym).map_err(|e| e.in_function(self.func.name.clone()))?;
        let info = &self.syms[sym.index()];
        let SymbolKind::Data(decl) = &info.kind else {
            let name = info.name.clone();
            return Err(self.ferr(CALL, ErrorKind::WrongSymbolKind { name, expected: "data object" }));
        };
        let ty = decl.ty;
        self.ensure_block();
        let addr = self.backend.sym_addr(sym);
        self.func.stack.push(Entry::Place { ty, addr_space: 0, addr });
        Ok(())
    }

    /// Pushes the address of a function or data symbol as a pointer value.
    pub fn push_sym_addr(&mut self, sym: Sym) -> Result<()> {
        const CALL: &str = "push_sym_addr";
        self.begin_op(CALL)?;
        self.check_sym(CALL, sym).map_err(|e| e.in_function(self.func.name.clone()))?;
        let pointee = match &self.syms[sym.index()].kind {
            SymbolKind::Func(d) => d.sig,
            SymbolKind::Data(d) => d.ty,
        };
        let ptr = self.ty_ptr(pointee, 0)?;
        self.ensure_block();
        let v = self.backend.sym_addr(sym);
        self.push_value(ptr, v);
        Ok(())
    }

    /// Pops a place and pushes its address as a pointer value.
    pub fn addr_of(&mut self) -> Result<()> {
        const CALL: &str = "addr_of";
        self.begin_op(CALL)?;
        self.check_depth(CALL, 1)?;
        let Entry::Place { ty, addr_space, addr } = self.entry(0) else {
            return Err(self
                .ferr(CALL, ErrorKind::WrongValueCategory { expected: "place (lvalue)", found: "value" })
                .operand("operand"));
        };
        let ptr = self.ty_ptr(ty, addr_space)?;
        self.pop_n(1);
        self.push_value(ptr, addr);
        Ok(())
    }

    /// Pops a pointer value and pushes the place of type `ty` it points to.
    pub fn deref(&mut self, ty: TypeId) -> Result<()> {
        const CALL: &str = "deref";
        self.begin_op(CALL)?;
        self.check_type(CALL, ty, "type")?;
        if self.types.layout(ty).is_none() {
            return Err(self.ferr(CALL, ErrorKind::Unsized { ty: self.types.display(ty) }).operand("type"));
        }
        let a = self.peek_addr(CALL, 1, 0)?;
        if a.is_place {
            return Err(self
                .ferr(CALL, ErrorKind::WrongValueCategory { expected: "pointer value", found: "place (lvalue)" })
                .operand("pointer"));
        }
        self.pop_n(1);
        self.func.stack.push(Entry::Place { ty, addr_space: a.addr_space, addr: a.addr });
        Ok(())
    }

    /// Pops a pointer or place; pushes `address + byte_offset` of the same
    /// category: a place of type `result_type`, or a pointer value whose type
    /// is `result_type` (which must be a pointer into the same address space).
    pub fn addr_offset(&mut self, byte_offset: i64, result_type: TypeId) -> Result<()> {
        const CALL: &str = "addr_offset";
        self.begin_op(CALL)?;
        self.check_type(CALL, result_type, "result type")?;
        let a = self.peek_addr(CALL, 1, 0)?;
        if a.is_place {
            if self.types.layout(result_type).is_none() {
                let ty = self.types.display(result_type);
                return Err(self.ferr(CALL, ErrorKind::Unsized { ty }).operand("result type"));
            }
        } else if self.types.ptr_addr_space(result_type) != Some(a.addr_space) {
            let expected = format!("pointer type in address space {}", a.addr_space);
            return Err(self.mismatch(CALL, "result type", expected, result_type));
        }
        self.ensure_block();
        let v = self.backend.addr_offset(a.addr, byte_offset);
        self.pop_n(1);
        if a.is_place {
            self.func.stack.push(Entry::Place { ty: result_type, addr_space: a.addr_space, addr: v });
        } else {
            self.push_value(result_type, v);
        }
        Ok(())
    }

    /// Pops an integer index, then a pointer or place; pushes
    /// `address + index * elem_size` bytes (the index is signed) of the same
    /// category and result type rules as [`Self::addr_offset`].
    pub fn addr_index(&mut self, elem_size: u64, result_type: TypeId) -> Result<()> {
        const CALL: &str = "addr_index";
        self.begin_op(CALL)?;
        self.check_type(CALL, result_type, "result type")?;
        let (ity, index) = self.peek_typed(CALL, 2, 0, "index", None)?;
        if self.types.int_width(ity).is_none() {
            return Err(self.mismatch(CALL, "index", "integer".into(), ity));
        }
        let a = self.peek_addr(CALL, 2, 1)?;
        if a.is_place {
            if self.types.layout(result_type).is_none() {
                let ty = self.types.display(result_type);
                return Err(self.ferr(CALL, ErrorKind::Unsized { ty }).operand("result type"));
            }
        } else if self.types.ptr_addr_space(result_type) != Some(a.addr_space) {
            let expected = format!("pointer type in address space {}", a.addr_space);
            return Err(self.mismatch(CALL, "result type", expected, result_type));
        }
        if elem_size > 1 << 40 {
            return Err(self.ferr(CALL, ErrorKind::TooLarge { what: "element size" }));
        }
        self.ensure_block();
        let v = self.backend.addr_index(a.addr, index, elem_size);
        self.pop_n(2);
        if a.is_place {
            self.func.stack.push(Entry::Place { ty: result_type, addr_space: a.addr_space, addr: v });
        } else {
            self.push_value(result_type, v);
        }
        Ok(())
    }

    /// Validates a descriptor for a load or store of a scalar.
    pub(crate) fn resolve_access(
        &self,
        call: &'static str,
        access: &MemAccess,
        addr_space: u32,
    ) -> Result<ResolvedAccess> {
        // Fast path for the common, valid case; anything unusual takes the checked path below.
        if let Some(layout) = self.types.scalar_layout(access.ty) {
            let align = u64::from(access.align);
            let plain = (align == 0 || (align.is_power_of_two() && align <= crate::cg::MAX_ALIGN))
                && access.addr_space.is_none_or(|s| s == addr_space)
                && access.alias_scope <= self.alias_scopes
                && access.noalias_scope <= self.alias_scopes;
            if plain {
                return Ok(ResolvedAccess {
                    ty: access.ty,
                    align: if align == 0 { layout.align } else { align },
                    flags: access.flags,
                    alias_scope: access.alias_scope,
                    noalias_scope: access.noalias_scope,
                });
            }
        }
        self.check_type(call, access.ty, "access type")?;
        if !self.types.is_scalar(access.ty) {
            let feature = format!("{call} of aggregate type {} (use memcpy)", self.types.display(access.ty));
            return Err(self.ferr(call, ErrorKind::Unsupported { feature }).operand("access type"));
        }
        self.resolve_any_access(call, access, addr_space, "access")
    }

    /// Validates a descriptor whose type only supplies the natural alignment (memcpy & co).
    pub(crate) fn resolve_any_access(
        &self,
        call: &'static str,
        access: &MemAccess,
        addr_space: u32,
        operand: &str,
    ) -> Result<ResolvedAccess> {
        self.check_type(call, access.ty, "access type")?;
        let Some(layout) = self.types.layout(access.ty) else {
            let ty = self.types.display(access.ty);
            return Err(self.ferr(call, ErrorKind::Unsized { ty }).operand("access type"));
        };
        crate::cg::check_align(call, u64::from(access.align)).map_err(|e| e.in_function(self.func.name.clone()))?;
        if let Some(space) = access.addr_space {
            if space != addr_space {
                return Err(self.ferr(call, ErrorKind::InvalidAddressSpace { addr_space: space }).operand(operand));
            }
        }
        for (what, id) in [("alias scope", access.alias_scope), ("noalias scope", access.noalias_scope)] {
            if id > self.alias_scopes {
                let e = ErrorKind::ForeignHandle { what: "alias scope", handle: u64::from(id) };
                return Err(self.ferr(call, e).operand(format!("{operand} {what}")));
            }
        }
        let align = if access.align == 0 { layout.align } else { u64::from(access.align) };
        Ok(ResolvedAccess {
            ty: access.ty,
            align,
            flags: access.flags,
            alias_scope: access.alias_scope,
            noalias_scope: access.noalias_scope,
        })
    }

    /// Pops an address (place or pointer) and pushes the value loaded from it.
    pub fn load(&mut self, access: MemAccess) -> Result<()> {
        const CALL: &str = "load";
        self.begin_op(CALL)?;
        let a = self.peek_addr(CALL, 1, 0)?;
        let resolved = self.resolve_access(CALL, &access, a.addr_space)?;
        self.ensure_block();
        let v = self.backend.load(a.addr, &resolved);
        self.pop_n(1);
        self.push_value(access.ty, v);
        Ok(())
    }

    /// Pops a value, then an address (place or pointer), and stores the value there.
    pub fn store(&mut self, access: MemAccess) -> Result<()> {
        const CALL: &str = "store";
        self.begin_op(CALL)?;
        self.check_depth(CALL, 2)?;
        let a = self.peek_addr(CALL, 2, 1)?;
        let resolved = self.resolve_access(CALL, &access, a.addr_space)?;
        if resolved.flags.contains(MemFlags::INVARIANT) {
            let flags = "INVARIANT".to_string();
            return Err(self.ferr(CALL, ErrorKind::InvalidFlags { op: "store".into(), flags }).operand("access"));
        }
        let v = self.peek_value(CALL, 2, 0, "value", Some(access.ty))?;
        self.ensure_block();
        self.backend.store(a.addr, v, &resolved);
        self.pop_n(2);
        Ok(())
    }

    /// Pops a scalar and pushes it converted by `op` to type `to`.
    pub fn cast(&mut self, op: CastOp, to: TypeId) -> Result<()> {
        const CALL: &str = "cast";
        self.begin_op(CALL)?;
        self.check_type(CALL, to, "target type")?;
        let (from, v) = self.peek_typed(CALL, 1, 0, "operand", None)?;
        let managed_int_cast = matches!(op, CastOp::PtrToInt | CastOp::IntToPtr | CastOp::Bitcast)
            && (self.is_managed_ptr(from) || self.is_managed_ptr(to));
        if managed_int_cast || !self.valid_cast(op, from, to) {
            let found = format!("{op:?} from {} to {}", self.types.display(from), self.types.display(to));
            return Err(self.ferr(CALL, ErrorKind::TypeMismatch { expected: "a valid conversion".into(), found }));
        }
        self.ensure_block();
        let out = self.backend.cast(op, v, to);
        self.pop_n(1);
        self.push_value(to, out);
        Ok(())
    }

    fn valid_cast(&self, op: CastOp, from: TypeId, to: TypeId) -> bool {
        let t = &self.types;
        let (fw, tw) = (t.int_width(from), t.int_width(to));
        let float_bits = |ty| match t.kind(ty) {
            TypeKind::Float(w) => Some(w.bits()),
            _ => None,
        };
        let (ff, tf) = (float_bits(from), float_bits(to));
        let (fp, tp) = (t.ptr_addr_space(from).is_some(), t.ptr_addr_space(to).is_some());
        let bits = |ty| t.int_width(ty).map(|w| w.bits()).or(float_bits(ty));
        match op {
            CastOp::SExt | CastOp::ZExt => matches!((fw, tw), (Some(f), Some(t)) if f < t),
            CastOp::Trunc => matches!((fw, tw), (Some(f), Some(t)) if f > t),
            CastOp::PtrToInt => fp && tw.is_some(),
            CastOp::IntToPtr => fw.is_some() && tp,
            CastOp::FpExt => matches!((ff, tf), (Some(f), Some(t)) if f < t),
            CastOp::FpTrunc => matches!((ff, tf), (Some(f), Some(t)) if f > t),
            CastOp::SIToFP | CastOp::UIToFP => fw.is_some_and(|w| w.bits() > 1) && tf.is_some(),
            CastOp::FPToSI | CastOp::FPToUI | CastOp::FPToSISat | CastOp::FPToUISat => {
                ff.is_some() && tw.is_some_and(|w| w.bits() > 1)
            }
            CastOp::Bitcast => (ff.is_some() || tf.is_some()) && bits(from).is_some() && bits(from) == bits(to),
        }
    }

    /// Pops a float and pushes its conversion toward zero to integer type `to`
    /// (saturated, NaN to 0), then an `i1` that is 1 when the value did not fit
    /// (or was NaN). `op` is `FPToSI` or `FPToUI`.
    pub fn cast_checked(&mut self, op: CastOp, to: TypeId) -> Result<()> {
        const CALL: &str = "cast_checked";
        self.begin_op(CALL)?;
        self.check_type(CALL, to, "target type")?;
        let (from, v) = self.peek_typed(CALL, 1, 0, "operand", None)?;
        if !matches!(op, CastOp::FPToSI | CastOp::FPToUI) || !self.valid_cast(op, from, to) {
            let found = format!("{op:?} from {} to {}", self.types.display(from), self.types.display(to));
            let expected = "FPToSI or FPToUI from a float to an integer".to_string();
            return Err(self.ferr(CALL, ErrorKind::TypeMismatch { expected, found }));
        }
        let i1 = self.ty_i1()?;
        self.ensure_block();
        let (out, overflow) = self.backend.cast_checked(op == CastOp::FPToSI, v, to);
        self.pop_n(1);
        self.push_value(to, out);
        self.push_value(i1, overflow);
        Ok(())
    }

    /// Pops a scalar and pushes it frozen: poison or undef become an arbitrary but fixed value.
    pub fn freeze(&mut self) -> Result<()> {
        const CALL: &str = "freeze";
        self.begin_op(CALL)?;
        let (ty, v) = self.peek_typed(CALL, 1, 0, "operand", None)?;
        self.ensure_block();
        let out = self.backend.freeze(v);
        self.pop_n(1);
        self.push_value(ty, out);
        Ok(())
    }

    /// Pops the top entry.
    pub fn discard(&mut self) -> Result<()> {
        const CALL: &str = "discard";
        self.begin_op(CALL)?;
        self.check_depth(CALL, 1)?;
        self.pop_n(1);
        Ok(())
    }

    /// Exchanges the top two entries (e.g. to store a value that lies under
    /// another: push the address, `swap`, `store`).
    pub fn swap(&mut self) -> Result<()> {
        const CALL: &str = "swap";
        self.begin_op(CALL)?;
        self.check_depth(CALL, 2)?;
        let len = self.func.stack.len();
        self.func.stack.swap(len - 1, len - 2);
        Ok(())
    }

    /// Pushes a copy of the top entry.
    pub fn dup(&mut self) -> Result<()> {
        const CALL: &str = "dup";
        self.begin_op(CALL)?;
        self.check_depth(CALL, 1)?;
        let top = self.entry(0);
        self.func.stack.push(top);
        Ok(())
    }

    /// Calls `callee` with the top `nargs` values as arguments (first argument
    /// pushed first). An indirect callee's pointer lies below the arguments.
    /// Pushes the result, if the signature has one.
    pub fn call(&mut self, callee: Callee, nargs: u32) -> Result<()> {
        const CALL: &str = "call";
        self.begin_op(CALL)?;
        let sig_ty = match callee {
            Callee::Direct(sym) => {
                self.check_sym(CALL, sym).map_err(|e| e.in_function(self.func.name.clone()))?;
                match &self.syms[sym.index()].kind {
                    SymbolKind::Func(d) => d.sig,
                    SymbolKind::Data(_) => {
                        let name = self.syms[sym.index()].name.clone();
                        return Err(self.ferr(CALL, ErrorKind::WrongSymbolKind { name, expected: "function" }));
                    }
                }
            }
            Callee::Indirect(ty) => {
                self.check_type(CALL, ty, "signature")?;
                ty
            }
        };
        let Some(sig) = self.types.func_sig(sig_ty) else {
            return Err(self.mismatch(CALL, "signature", "function type".into(), sig_ty));
        };
        if sig.variadic && sig.result.is_some() && self.func.managed && !self.is_leaf_callee(callee) {
            // LLVM's statepoints cannot wrap such calls (its verifier rejects them).
            let feature = "a safepoint call of a variadic function with a result (declare the callee \
                           GcRole::Leaf if it cannot collect)"
                .to_string();
            return Err(self.ferr(CALL, ErrorKind::Unsupported { feature }).operand("callee"));
        }
        let n = nargs as usize;
        let fixed = sig.params.len();
        if n < fixed || (n > fixed && !sig.variadic) {
            return Err(self.ferr(CALL, ErrorKind::ArgumentCount { expected: fixed, found: n, variadic: sig.variadic }));
        }
        let indirect = matches!(callee, Callee::Indirect(_));
        let needed = n + usize::from(indirect);
        self.check_depth(CALL, needed)?;
        let mut args = Vec::with_capacity(n);
        let base = self.func.stack.len() - n;
        for i in 0..n {
            // Fast path without building operand names; errors take the checked path below.
            let fast = match (self.func.stack[base + i], sig.params.get(i)) {
                (Entry::Value { ty, v }, Some(p)) if self.types.compatible(ty, p.ty) => Some(v),
                (Entry::Value { ty, v }, None) if self.types.is_scalar(ty) => Some(v),
                _ => None,
            };
            if let Some(v) = fast {
                args.push(v);
                continue;
            }
            let from_top = n - 1 - i;
            let operand = format!("argument {i}");
            let v = match sig.params.get(i) {
                Some(p) => self.peek_value(CALL, needed, from_top, &operand, Some(p.ty))?,
                None => {
                    let (ty, v) = self.peek_typed(CALL, needed, from_top, &operand, None)?;
                    if !self.types.is_scalar(ty) {
                        return Err(self.mismatch(CALL, &operand, "scalar variadic argument".into(), ty));
                    }
                    v
                }
            };
            args.push(v);
        }
        let callee_ptr = if indirect {
            let a = self.peek_addr(CALL, needed, n)?;
            if a.is_place {
                return Err(self
                    .ferr(CALL, ErrorKind::WrongValueCategory { expected: "function pointer", found: "place (lvalue)" })
                    .operand("callee"));
            }
            Some(a.addr)
        } else {
            None
        };
        let result = sig.result.map(|r| r.ty);
        self.ensure_block();
        if self.func.managed && !self.is_leaf_callee(callee) {
            let id = self.func.safepoint_id.take();
            if id.is_some() || !self.func.gc_roots.is_empty() {
                self.backend.safepoint_info(id, &self.func.gc_roots);
            }
        }
        let out = match (callee, callee_ptr) {
            (Callee::Direct(sym), _) => self.backend.call_direct(sym, &args),
            (Callee::Indirect(ty), Some(p)) => self.backend.call_indirect(ty, p, &args),
            (Callee::Indirect(_), None) => unreachable!("indirect callee was validated"),
        };
        self.pop_n(needed);
        if let (Some(ty), Some(v)) = (result, out) {
            self.push_value(ty, v);
        }
        Ok(())
    }

    /// Whether a call of `callee` is not a safepoint (a `GcRole::Leaf` function).
    fn is_leaf_callee(&self, callee: Callee) -> bool {
        match callee {
            Callee::Direct(sym) => {
                matches!(&self.syms[sym.index()].kind, SymbolKind::Func(d) if d.gc == crate::GcRole::Leaf)
            }
            Callee::Indirect(_) => false,
        }
    }

    /// Whether `ty` is an integer type (a convenience for frontends).
    pub fn is_int(&self, ty: TypeId) -> bool {
        self.types.check(ty).is_ok() && matches!(self.types.kind(ty), TypeKind::Int(_))
    }
}
