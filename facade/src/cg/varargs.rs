//! Variadic functions: the target's `va_list`, `va_start`/`va_end`/`va_copy`,
//! `va_arg` of scalars and aggregates, and passing a `va_list` on as C does
//! (`doc/abi.md`).

use super::func::Entry;
use crate::*;

/// How the target's C `va_list` is laid out and passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VaListKind {
    /// x86-64 System V: `struct { u32 gp_offset, fp_offset; void *overflow, *reg_save; }[1]`,
    /// passed as a pointer (the array decays).
    SysV64,
    /// AArch64 AAPCS64: `struct { void *stack, *gr_top, *vr_top; i32 gr_offs, vr_offs; }`,
    /// passed by value.
    Aapcs64,
    /// A `char *` to the next argument (riscv64, i686, wasm32, Win64).
    Pointer,
}

impl<B: Backend> crate::Cg<B> {
    pub(crate) fn va_list_kind(&self) -> VaListKind {
        let windows = self.target.triple.contains("windows");
        let darwin = self.target.triple.contains("apple") || self.target.triple.contains("darwin");
        match self.target.arch {
            Arch::X86_64 if !windows => VaListKind::SysV64,
            Arch::Aarch64 if !windows && !darwin => VaListKind::Aapcs64,
            _ => VaListKind::Pointer,
        }
    }

    /// The target's C `va_list` storage type (a record, or a pointer).
    pub fn ty_va_list(&mut self) -> Result<TypeId> {
        let i32t = self.ty_int(IntWidth::I32)?;
        let i8t = self.ty_int(IntWidth::I8)?;
        let ptr = self.ty_ptr(i8t, 0)?;
        match self.va_list_kind() {
            VaListKind::SysV64 => self.ty_record(&[i32t, i32t, ptr, ptr]),
            VaListKind::Aapcs64 => self.ty_record(&[ptr, ptr, ptr, i32t, i32t]),
            VaListKind::Pointer => Ok(ptr),
        }
    }

    /// The type of a `va_list` parameter as C passes it (`vprintf`'s second
    /// parameter): a pointer to the record on x86-64 System V, where `va_list`
    /// is an array; the `va_list` type itself elsewhere.
    pub fn ty_va_list_param(&mut self) -> Result<TypeId> {
        let list = self.ty_va_list()?;
        match self.va_list_kind() {
            VaListKind::SysV64 => self.ty_ptr(list, 0),
            VaListKind::Aapcs64 | VaListKind::Pointer => Ok(list),
        }
    }

    /// Pops a `va_list` place and pushes it as an argument of type
    /// [`Self::ty_va_list_param`] (the callee then reads the same arguments).
    pub fn va_list_arg(&mut self) -> Result<()> {
        const CALL: &str = "va_list_arg";
        self.va_list_place(CALL, 0)?;
        match self.va_list_kind() {
            VaListKind::SysV64 => self.addr_of(),
            VaListKind::Aapcs64 => Ok(()),
            VaListKind::Pointer => {
                let ty = self.ty_va_list()?;
                self.load(MemAccess::new(ty))
            }
        }
    }

    /// Pushes the `va_list` place behind parameter `local`, declared of type
    /// [`Self::ty_va_list_param`].
    pub fn va_list_of_param(&mut self, local: Local) -> Result<()> {
        let list = self.ty_va_list()?;
        self.push_local(local)?;
        if self.va_list_kind() == VaListKind::SysV64 {
            let param = self.ty_va_list_param()?;
            self.load(MemAccess::new(param))?;
            self.deref(list)?;
        }
        Ok(())
    }

    /// Pops a `va_list` place and starts it at the open function's first
    /// variadic argument.
    pub fn va_start(&mut self) -> Result<()> {
        const CALL: &str = "va_start";
        self.begin_op(CALL)?;
        if !self.func.variadic {
            return Err(self.ferr(CALL, ErrorKind::NotVariadic));
        }
        let list = self.va_list_place(CALL, 0)?;
        self.ensure_block(CALL)?;
        let r = self.backend.va_start(list);
        self.lowered(CALL, r)?;
        self.pop_n(1);
        Ok(())
    }

    /// Pops a `va_list` place and ends its use.
    pub fn va_end(&mut self) -> Result<()> {
        const CALL: &str = "va_end";
        self.begin_op(CALL)?;
        let list = self.va_list_place(CALL, 0)?;
        self.ensure_block(CALL)?;
        let r = self.backend.va_end(list);
        self.lowered(CALL, r)?;
        self.pop_n(1);
        Ok(())
    }

    /// Pops a source `va_list` place, then a destination one, and copies the
    /// source's position into the destination.
    pub fn va_copy(&mut self) -> Result<()> {
        const CALL: &str = "va_copy";
        self.begin_op(CALL)?;
        let src = self.va_list_place(CALL, 0)?;
        let dst = self.va_list_place(CALL, 1)?;
        self.ensure_block(CALL)?;
        let r = self.backend.va_copy(dst, src);
        self.lowered(CALL, r)?;
        self.pop_n(2);
        Ok(())
    }

    /// Pops a `va_list` place and reads the next variadic argument as `ty`:
    /// a scalar is pushed; a record or array is written to a destination place
    /// lying below the `va_list` (and nothing is pushed). Scalars narrower than
    /// `i32`, `i1` and `f32` are refused: C's callers promote them.
    pub fn va_arg(&mut self, ty: TypeId) -> Result<()> {
        const CALL: &str = "va_arg";
        self.begin_op(CALL)?;
        self.check_type(CALL, ty, "type")?;
        let promoted = match self.types.kind(ty) {
            TypeKind::Int(w) => matches!(w, IntWidth::I32 | IntWidth::I64 | IntWidth::I128),
            TypeKind::Float(w) => *w == FloatWidth::F64,
            TypeKind::Ptr { addr_space, .. } => *addr_space == 0,
            TypeKind::Array { .. } | TypeKind::Record { .. } => true,
            TypeKind::Func(_) => false,
        };
        if !promoted {
            return Err(self.mismatch(CALL, "type", Expected::VarArg, ty));
        }
        let list = self.va_list_place(CALL, 0)?;
        let aggregate = !self.types.is_scalar(ty);
        let dest = if aggregate { Some(self.peek_aggregate(CALL, 2, 1, "destination", ty)?) } else { None };
        self.ensure_block(CALL)?;
        let r = self.backend.va_arg(list, ty, dest);
        let v = self.lowered(CALL, r)?;
        self.pop_n(if aggregate { 2 } else { 1 });
        if let Some(v) = v {
            self.push_value(ty, v);
        }
        Ok(())
    }

    /// The address of the `va_list` place `from_top` entries below the top.
    fn va_list_place(&mut self, call: &'static str, from_top: usize) -> Result<B::Value> {
        self.begin_op(call)?;
        self.check_depth(call, from_top + 1)?;
        let list = self.ty_va_list()?;
        match self.entry(from_top) {
            Entry::Place { ty, addr_space: 0, addr, .. } if self.types.compatible(ty, list) => Ok(addr),
            Entry::Place { ty, .. } => Err(self.mismatch(call, "va_list", Expected::Type(self.types.name(list)), ty)),
            Entry::Value { .. } => Err(self
                .ferr(call, ErrorKind::WrongValueCategory { expected: Category::Place, found: Category::Value })
                .operand("va_list")),
        }
    }
}
