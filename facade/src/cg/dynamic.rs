//! Computed control and stack: label addresses and indirect branches
//! (computed goto, threaded interpreters), dynamic stack allocation with
//! scoped release (C VLAs, `alloca`).

use crate::*;

/// The largest alignment of a dynamic allocation (as for slots).
const MAX_DYNAMIC_ALIGN: u64 = 1 << 16;

impl<B: Backend> crate::Cg<B> {
    /// Pushes the address of `label` (an `i8` pointer in address space 0) for
    /// [`Self::indirect_br`]. The label must be placed in this function.
    pub fn push_label_addr(&mut self, label: Label) -> Result<()> {
        const CALL: &str = "push_label_addr";
        self.begin_op(CALL)?;
        self.check_label(CALL, label)?;
        let ptr = self.byte_ptr_type()?;
        self.ensure_block(CALL)?;
        let block = self.func.labels[label.index()].block;
        let r = self.backend.label_addr(block);
        let v = self.lowered(CALL, r)?;
        self.func.labels[label.index()].used = true;
        self.push_value(ptr, v);
        Ok(())
    }

    /// Pops a label address and branches to it; `dests` lists every label it
    /// may be (jumping anywhere else is undefined, as in C). A terminator.
    pub fn indirect_br(&mut self, dests: &[Label]) -> Result<()> {
        const CALL: &str = "indirect_br";
        self.require_open(CALL)?;
        if dests.is_empty() {
            return Err(self.ferr(CALL, ErrorKind::NoDestinations));
        }
        for l in dests {
            self.check_label(CALL, *l)?;
        }
        let a = self.peek_addr(CALL, 1, 0)?;
        let wrong = if a.is_place {
            Some(ErrorKind::WrongValueCategory { expected: Category::Value, found: Category::Place })
        } else if a.addr_space != 0 {
            Some(ErrorKind::AddressSpaceMismatch { access: 0, pointer: a.addr_space })
        } else {
            None
        };
        if let Some(e) = wrong {
            return Err(self.ferr(CALL, e).operand("address"));
        }
        self.require_empty_stack(CALL, 1)?;
        self.ensure_block(CALL)?;
        let blocks: Vec<B::Block> = dests.iter().map(|l| self.func.labels[l.index()].block).collect();
        let r = self.backend.indirect_br(a.addr, &blocks);
        self.lowered(CALL, r)?;
        self.func.stack.pop();
        for l in dests {
            self.func.labels[l.index()].used = true;
        }
        self.terminate();
        Ok(())
    }

    /// Pops a byte count (any integer type, unsigned) and pushes an `i8`
    /// pointer to that much fresh stack memory aligned to `align` (0 = 16).
    /// It lives until the function returns, or until a [`Self::stack_restore`]
    /// to a position saved before it. The collector does not scan it.
    pub fn alloca(&mut self, align: u32) -> Result<()> {
        const CALL: &str = "alloca";
        self.begin_op(CALL)?;
        let (ty, size) = self.peek_typed(CALL, 1, 0, "size", None)?;
        if self.types.int_width(ty).is_none_or(|w| w == IntWidth::I1) {
            return Err(self.mismatch(CALL, "size", Expected::Integer, ty));
        }
        let align = if align == 0 { 16 } else { u64::from(align) };
        if !align.is_power_of_two() || align > MAX_DYNAMIC_ALIGN {
            return Err(self.ferr(CALL, ErrorKind::InvalidAlignment { align }).operand("align"));
        }
        let ptr = self.byte_ptr_type()?;
        self.ensure_block(CALL)?;
        let r = self.backend.dynamic_alloca(size, align);
        let v = self.lowered(CALL, r)?;
        self.pop_n(1);
        self.push_value(ptr, v);
        Ok(())
    }

    /// Pushes the current stack position (an opaque `i8` pointer) for
    /// [`Self::stack_restore`].
    pub fn stack_save(&mut self) -> Result<()> {
        const CALL: &str = "stack_save";
        self.begin_op(CALL)?;
        let ptr = self.byte_ptr_type()?;
        self.ensure_block(CALL)?;
        let r = self.backend.stack_save();
        let v = self.lowered(CALL, r)?;
        self.push_value(ptr, v);
        Ok(())
    }

    /// Pops a position from [`Self::stack_save`] and releases every dynamic
    /// allocation made since (a loop body's `alloca`s, a C block's VLAs).
    pub fn stack_restore(&mut self) -> Result<()> {
        const CALL: &str = "stack_restore";
        self.begin_op(CALL)?;
        let (ty, saved) = self.peek_typed(CALL, 1, 0, "saved", None)?;
        if self.types.ptr_addr_space(ty) != Some(0) {
            return Err(self.mismatch(CALL, "saved", Expected::PointerInSpace(0), ty));
        }
        self.ensure_block(CALL)?;
        let r = self.backend.stack_restore(saved);
        self.lowered(CALL, r)?;
        self.pop_n(1);
        Ok(())
    }

    fn byte_ptr_type(&mut self) -> Result<TypeId> {
        let i8t = self.ty_int(IntWidth::I8)?;
        self.ty_ptr(i8t, 0)
    }
}
