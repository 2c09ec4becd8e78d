//! Places and addresses: locals and globals as places, `addr_of`, `deref`
//! and the byte-address arithmetic of `addr_offset` and `addr_index`.

use super::func::Entry;
use crate::*;

impl<B: Backend> crate::Cg<B> {
    /// Pushes a parameter or local slot as a place.
    #[inline]
    pub fn push_local(&mut self, local: Local) -> Result<()> {
        // The common case, inline: a local of the open function, into an open block.
        if self.ready_for_code() && local.owner == self.func.owner {
            if let Some(info) = self.func.locals.get(local.index()) {
                let (ty, addr) = (info.ty, info.addr);
                let origin = (!info.flags.contains(SlotFlags::ADDRESS_TAKEN)).then_some(local.index() as u32);
                self.func.stack.push(Entry::Place { ty, addr_space: 0, addr, origin });
                return Ok(());
            }
        }
        self.push_local_checked(local)
    }

    #[inline(never)]
    fn push_local_checked(&mut self, local: Local) -> Result<()> {
        const CALL: &str = "push_local";
        self.begin_op(CALL)?;
        let info = self.check_local(CALL, local)?;
        let (ty, addr) = (info.ty, info.addr);
        let origin = (!info.flags.contains(SlotFlags::ADDRESS_TAKEN)).then_some(local.index() as u32);
        self.ensure_block(CALL)?;
        self.func.stack.push(Entry::Place { ty, addr_space: 0, addr, origin });
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
            return Err(self.ferr(CALL, ErrorKind::WrongSymbolKind { name, expected: SymbolClass::Data }));
        };
        let ty = decl.ty;
        self.ensure_block(CALL)?;
        let addr = self.backend.sym_addr(sym).map_err(|k| self.ferr(CALL, k))?;
        self.func.stack.push(Entry::Place { ty, addr_space: 0, addr, origin: None });
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
        self.ensure_block(CALL)?;
        let v = self.backend.sym_addr(sym).map_err(|k| self.ferr(CALL, k))?;
        self.push_value(ptr, v);
        Ok(())
    }

    /// Pops a place and pushes its address as a pointer value.
    pub fn addr_of(&mut self) -> Result<()> {
        const CALL: &str = "addr_of";
        self.begin_op(CALL)?;
        self.check_depth(CALL, 1)?;
        let Entry::Place { ty, addr_space, addr, origin } = self.entry(0) else {
            return Err(self
                .ferr(CALL, ErrorKind::WrongValueCategory { expected: Category::Place, found: Category::Value })
                .operand("operand"));
        };
        if let Some(index) = origin {
            return Err(self.ferr(CALL, ErrorKind::AddressNotTaken { index }).operand("operand"));
        }
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
            return Err(self.ferr(CALL, ErrorKind::Unsized { ty: self.types.name(ty) }).operand("type"));
        }
        let a = self.peek_addr(CALL, 1, 0)?;
        if a.is_place {
            return Err(self
                .ferr(CALL, ErrorKind::WrongValueCategory { expected: Category::PointerValue, found: Category::Place })
                .operand("pointer"));
        }
        self.pop_n(1);
        self.func.stack.push(Entry::Place { ty, addr_space: a.addr_space, addr: a.addr, origin: None });
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
                let ty = self.types.name(result_type);
                return Err(self.ferr(CALL, ErrorKind::Unsized { ty }).operand("result type"));
            }
        } else if self.types.ptr_addr_space(result_type) != Some(a.addr_space) {
            return Err(self.mismatch(CALL, "result type", Expected::PointerInSpace(a.addr_space), result_type));
        }
        self.ensure_block(CALL)?;
        let v = self.backend.addr_offset(a.addr, byte_offset).map_err(|k| self.ferr(CALL, k))?;
        self.pop_n(1);
        if a.is_place {
            self.func.stack.push(Entry::Place { ty: result_type, addr_space: a.addr_space, addr: v, origin: a.origin });
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
            return Err(self.mismatch(CALL, "index", Expected::Integer, ity));
        }
        let a = self.peek_addr(CALL, 2, 1)?;
        if a.is_place {
            if self.types.layout(result_type).is_none() {
                let ty = self.types.name(result_type);
                return Err(self.ferr(CALL, ErrorKind::Unsized { ty }).operand("result type"));
            }
        } else if self.types.ptr_addr_space(result_type) != Some(a.addr_space) {
            return Err(self.mismatch(CALL, "result type", Expected::PointerInSpace(a.addr_space), result_type));
        }
        if elem_size > 1 << 40 {
            let e = ErrorKind::TooLarge { what: Quantity::ElementSize, size: elem_size.into(), limit: 1 << 40 };
            return Err(self.ferr(CALL, e));
        }
        self.ensure_block(CALL)?;
        let v = self.backend.addr_index(a.addr, index, elem_size).map_err(|k| self.ferr(CALL, k))?;
        self.pop_n(2);
        if a.is_place {
            self.func.stack.push(Entry::Place { ty: result_type, addr_space: a.addr_space, addr: v, origin: a.origin });
        } else {
            self.push_value(result_type, v);
        }
        Ok(())
    }
}
