//! From classification to LLVM: function types with their ABI attributes,
//! and the loads, stores and copies that move aggregates between places and
//! the registers or memory the ABI assigns them.

use cfree_facade::*;
use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::types::{AnyType, BasicMetadataTypeEnum, BasicType, BasicTypeEnum, FunctionType};
use inkwell::values::{AggregateValue, BasicValue, BasicValueEnum, PointerValue};
use inkwell::AddressSpace;

use super::{ArgAbi, Piece, RetAbi, Shape, SigAbi};
use crate::backend::{Built, LlvmBackend};

/// A function type's lowering.
#[derive(Debug)]
pub(crate) struct FuncAbi<'ctx> {
    pub(crate) abi: SigAbi,
    /// LLVM's calling convention number.
    pub(crate) call_conv: u32,
    /// The facade types of the fixed parameters and of the result.
    pub(crate) params: Vec<TypeId>,
    pub(crate) result: Option<TypeId>,
    /// Attributes of the function type: parameters, result and hidden `sret`.
    pub(crate) attrs: Vec<(AttributeLoc, Attribute)>,
    /// The LLVM type with aggregates coerced.
    pub(crate) fty: FunctionType<'ctx>,
}

impl FuncAbi<'_> {
    /// Whether the result travels through a hidden first parameter.
    pub(crate) fn has_sret(&self) -> bool {
        matches!(self.abi.result, RetAbi::Sret { .. })
    }

    /// The extension of scalar parameter `i` (runtime functions take scalars only).
    pub(crate) fn scalar_ext(&self, i: usize) -> AbiExt {
        match self.abi.params.get(i) {
            Some(ArgAbi::Scalar(e)) => *e,
            _ => AbiExt::None,
        }
    }

    pub(crate) fn result_ext(&self) -> AbiExt {
        match self.abi.result {
            RetAbi::Scalar(e) => e,
            _ => AbiExt::None,
        }
    }
}

/// LLVM's number for a calling convention (`llvm::CallingConv::ID`).
pub(crate) fn llvm_call_conv(conv: CallConv) -> u32 {
    match conv {
        CallConv::C => 0,
        CallConv::Fast => 8,
        CallConv::Cold => 9,
        CallConv::PreserveMost => 14,
        CallConv::PreserveAll => 15,
        CallConv::Tail => 18,
        CallConv::SysV64 => 78,
        CallConv::Win64 => 79,
    }
}

/// The alignment an access at `offset` into memory aligned to `base` may claim.
fn align_at(base: u64, offset: u64) -> u64 {
    if offset == 0 {
        base
    } else {
        base.min(1 << offset.trailing_zeros())
    }
}

impl<'ctx> LlvmBackend<'ctx> {
    fn enum_attr(&self, name: &str, value: u64) -> Attribute {
        self.ctx.create_enum_attribute(Attribute::get_named_enum_kind_id(name), value)
    }

    fn type_attr(&self, name: &str, ty: BasicTypeEnum<'ctx>) -> Attribute {
        self.ctx.create_type_attribute(Attribute::get_named_enum_kind_id(name), ty.as_any_type_enum())
    }

    pub(crate) fn piece_type(&self, piece: Piece) -> BasicTypeEnum<'ctx> {
        match piece {
            Piece::Int(bits) => {
                let bits = std::num::NonZeroU32::new(bits).expect("pieces have a width");
                self.ctx.custom_width_int_type(bits).expect("piece widths are small").into()
            }
            Piece::Ptr => self.ctx.ptr_type(AddressSpace::default()).into(),
            Piece::F32 => self.ctx.f32_type().into(),
            Piece::F64 => self.ctx.f64_type().into(),
            Piece::F32x2 => self.ctx.f32_type().vec_type(2).into(),
        }
    }

    fn pieces_type(&self, pieces: &[(Piece, u64)]) -> BasicTypeEnum<'ctx> {
        match pieces {
            [(p, _)] => self.piece_type(*p),
            _ => {
                let fields: Vec<BasicTypeEnum<'ctx>> = pieces.iter().map(|(p, _)| self.piece_type(*p)).collect();
                self.ctx.struct_type(&fields, false).into()
            }
        }
    }

    fn array_of(&self, piece: Piece, n: u32) -> BasicTypeEnum<'ctx> {
        self.piece_type(piece).array_type(n).into()
    }

    /// The LLVM parameter types and attributes of one argument, appended; the
    /// attributes' indices start at `first`.
    pub(crate) fn lower_arg_types(
        &self,
        abi: &ArgAbi,
        ty: TypeId,
        facts: &ParamAttrs,
        first: u32,
        out: &mut Vec<BasicMetadataTypeEnum<'ctx>>,
        attrs: &mut Vec<(AttributeLoc, Attribute)>,
    ) {
        match abi {
            ArgAbi::Scalar(ext) => {
                out.push(self.basic(ty).into());
                if let Some(a) = self.ext_attr(*ext) {
                    attrs.push((AttributeLoc::Param(first), a));
                }
                for a in self.fact_attrs(facts) {
                    attrs.push((AttributeLoc::Param(first), a));
                }
            }
            ArgAbi::Direct(pieces) => {
                out.extend(pieces.iter().map(|(p, _)| BasicMetadataTypeEnum::from(self.piece_type(*p))))
            }
            ArgAbi::Array(p, n) => out.push(self.array_of(*p, *n).into()),
            ArgAbi::Indirect { byval, align } => {
                out.push(self.ctx.ptr_type(AddressSpace::default()).into());
                if *byval {
                    attrs.push((AttributeLoc::Param(first), self.type_attr("byval", self.basic(ty))));
                    attrs.push((AttributeLoc::Param(first), self.enum_attr("align", *align)));
                }
            }
            ArgAbi::Ignore => {}
        }
    }

    /// LLVM attributes for a pointer parameter's facts.
    pub(crate) fn fact_attrs(&self, f: &ParamAttrs) -> Vec<Attribute> {
        let mut out = Vec::new();
        let flags = [
            (f.noalias, "noalias"),
            (f.nocapture, "nocapture"),
            (f.readonly, "readonly"),
            (f.writeonly, "writeonly"),
            (f.nonnull, "nonnull"),
            (f.inreg, "inreg"),
            (f.nest, "nest"),
        ];
        out.extend(flags.iter().filter(|(on, _)| *on).map(|(_, name)| self.enum_attr(name, 0)));
        let values = [
            (f.dereferenceable, "dereferenceable"),
            (f.dereferenceable_or_null, "dereferenceable_or_null"),
            (f.align, "align"),
        ];
        out.extend(values.iter().filter(|(v, _)| *v != 0).map(|(v, name)| self.enum_attr(name, *v)));
        out
    }

    /// The lowering of function type `sig` under `abi`.
    pub(crate) fn func_abi(&self, sig: &FuncSig, abi: SigAbi) -> FuncAbi<'ctx> {
        let mut params: Vec<BasicMetadataTypeEnum<'ctx>> = Vec::new();
        let mut attrs = Vec::new();
        let result_ty = sig.result.map(|r| r.ty);
        let ret: Option<BasicTypeEnum<'ctx>> = match &abi.result {
            RetAbi::Void => None,
            RetAbi::Scalar(ext) => {
                if let Some(a) = self.ext_attr(*ext) {
                    attrs.push((AttributeLoc::Return, a));
                }
                if let Some(r) = &sig.result {
                    for a in self.fact_attrs(&r.attrs) {
                        attrs.push((AttributeLoc::Return, a));
                    }
                }
                result_ty.map(|t| self.basic(t))
            }
            RetAbi::Direct(pieces) => Some(self.pieces_type(pieces)),
            RetAbi::Array(p, n) => Some(self.array_of(*p, *n)),
            RetAbi::Sret { align } => {
                params.push(self.ctx.ptr_type(AddressSpace::default()).into());
                let agg = self.basic(result_ty.expect("an sret result has a type"));
                attrs.push((AttributeLoc::Param(0), self.type_attr("sret", agg)));
                attrs.push((AttributeLoc::Param(0), self.enum_attr("align", *align)));
                None
            }
        };
        for (i, p) in sig.params.iter().enumerate() {
            let first = params.len() as u32;
            self.lower_arg_types(&abi.params[i], p.ty, &p.attrs, first, &mut params, &mut attrs);
        }
        let fty = match ret {
            Some(r) => r.fn_type(&params, sig.variadic),
            None => self.ctx.void_type().fn_type(&params, sig.variadic),
        };
        FuncAbi {
            abi,
            call_conv: llvm_call_conv(sig.conv),
            params: sig.params.iter().map(|p| p.ty).collect(),
            result: result_ty,
            attrs,
            fty,
        }
    }

    /// The size and alignment of aggregate `ty`.
    pub(crate) fn aggregate_layout(&self, ty: TypeId) -> (u64, u64) {
        match &self.shapes[ty.index()] {
            Some(Shape::Aggregate(a)) => (a.size, a.align),
            _ => (0, 1),
        }
    }

    pub(crate) fn is_scalar_type(&self, ty: TypeId) -> bool {
        matches!(self.shapes[ty.index()], Some(Shape::Scalar(_)))
    }

    /// An entry-block slot of `size` bytes aligned to `align`.
    pub(crate) fn temp_slot(&self, size: u64, align: u64) -> BackendResult<PointerValue<'ctx>> {
        let ty = crate::ffi::array_type(self.i8.into(), size);
        let slot = self.entry_builder.build_alloca(ty, "").built()?;
        if let Some(inst) = slot.as_instruction() {
            crate::ffi::set_memory_alignment(inst, align as u32);
        }
        Ok(slot)
    }

    /// The bytes `pieces` cover (may exceed the aggregate: AArch64 rounds up).
    fn span(&self, pieces: &[(Piece, u64)]) -> u64 {
        let ptr = self.resolved.info.pointer.size;
        pieces.iter().map(|(p, o)| o + p.size(ptr)).max().unwrap_or(0)
    }

    /// `addr` if `span` bytes can be read or written there, else a temporary
    /// large enough (filled from `addr` when `copy_in`).
    fn room(
        &self,
        addr: PointerValue<'ctx>,
        ty: TypeId,
        span: u64,
        copy_in: bool,
    ) -> BackendResult<PointerValue<'ctx>> {
        let (size, align) = self.aggregate_layout(ty);
        if span <= size {
            return Ok(addr);
        }
        let temp = self.temp_slot(span, align.max(8))?;
        if copy_in && size > 0 {
            self.copy(temp, addr, size, align)?;
        }
        Ok(temp)
    }

    pub(crate) fn copy(
        &self,
        dst: PointerValue<'ctx>,
        src: PointerValue<'ctx>,
        size: u64,
        align: u64,
    ) -> BackendResult<()> {
        let n = self.intptr.const_int(size, false);
        self.builder.build_memcpy(dst, align as u32, src, align as u32, n).built()?;
        Ok(())
    }

    pub(crate) fn offset_ptr(
        &self,
        builder: &inkwell::builder::Builder<'ctx>,
        addr: PointerValue<'ctx>,
        offset: u64,
    ) -> PointerValue<'ctx> {
        if offset == 0 {
            addr
        } else {
            crate::ffi::byte_offset(builder, self.i8, addr, self.intptr.const_int(offset, false))
        }
    }

    pub(crate) fn load_at(
        &self,
        addr: PointerValue<'ctx>,
        ty: BasicTypeEnum<'ctx>,
        offset: u64,
        align: u64,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        let p = self.offset_ptr(&self.builder, addr, offset);
        let v = self.builder.build_load(ty, p, "").built()?;
        if let Some(inst) = v.as_instruction_value() {
            crate::ffi::set_memory_alignment(inst, align_at(align, offset) as u32);
        }
        Ok(v)
    }

    pub(crate) fn store_at(
        &self,
        addr: PointerValue<'ctx>,
        v: BasicValueEnum<'ctx>,
        offset: u64,
        align: u64,
    ) -> BackendResult<()> {
        let p = self.offset_ptr(&self.builder, addr, offset);
        let st = self.builder.build_store(p, v).built()?;
        crate::ffi::set_memory_alignment(st, align_at(align, offset) as u32);
        Ok(())
    }

    /// Loads an aggregate's pieces from the place at `addr`.
    pub(crate) fn load_pieces(
        &self,
        addr: PointerValue<'ctx>,
        ty: TypeId,
        pieces: &[(Piece, u64)],
    ) -> BackendResult<Vec<BasicValueEnum<'ctx>>> {
        let src = self.room(addr, ty, self.span(pieces), true)?;
        let (_, align) = self.aggregate_layout(ty);
        let align = if src == addr { align } else { align.max(8) };
        pieces.iter().map(|(p, off)| self.load_at(src, self.piece_type(*p), *off, align)).collect()
    }

    /// Stores pieces into the place at `addr`.
    pub(crate) fn store_pieces(
        &self,
        addr: PointerValue<'ctx>,
        ty: TypeId,
        pieces: &[(Piece, u64)],
        values: &[BasicValueEnum<'ctx>],
    ) -> BackendResult<()> {
        let (size, align) = self.aggregate_layout(ty);
        let dst = self.room(addr, ty, self.span(pieces), false)?;
        let a = if dst == addr { align } else { align.max(8) };
        for ((_, off), v) in pieces.iter().zip(values) {
            self.store_at(dst, *v, *off, a)?;
        }
        if dst != addr && size > 0 {
            self.copy(addr, dst, size, align)?;
        }
        Ok(())
    }

    /// Loads a whole `[n x piece]` array from the place at `addr`.
    pub(crate) fn load_array(
        &self,
        addr: PointerValue<'ctx>,
        ty: TypeId,
        piece: Piece,
        n: u32,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        let ptr = self.resolved.info.pointer.size;
        let span = piece.size(ptr) * u64::from(n);
        let src = self.room(addr, ty, span, true)?;
        let (_, align) = self.aggregate_layout(ty);
        let align = if src == addr { align } else { align.max(8) };
        self.load_at(src, self.array_of(piece, n), 0, align)
    }

    pub(crate) fn store_array(
        &self,
        addr: PointerValue<'ctx>,
        ty: TypeId,
        piece: Piece,
        n: u32,
        v: BasicValueEnum<'ctx>,
    ) -> BackendResult<()> {
        let ptr = self.resolved.info.pointer.size;
        let span = piece.size(ptr) * u64::from(n);
        let (size, align) = self.aggregate_layout(ty);
        let dst = self.room(addr, ty, span, false)?;
        self.store_at(dst, v, 0, if dst == addr { align } else { align.max(8) })?;
        if dst != addr && size > 0 {
            self.copy(addr, dst, size, align)?;
        }
        Ok(())
    }

    /// The LLVM arguments of one facade argument, appended.
    pub(crate) fn lower_arg_values(
        &self,
        abi: &ArgAbi,
        ty: TypeId,
        value: BasicValueEnum<'ctx>,
        out: &mut Vec<BasicValueEnum<'ctx>>,
    ) -> BackendResult<()> {
        match abi {
            ArgAbi::Scalar(_) => out.push(value),
            ArgAbi::Direct(pieces) => out.extend(self.load_pieces(value.into_pointer_value(), ty, pieces)?),
            ArgAbi::Array(p, n) => out.push(self.load_array(value.into_pointer_value(), ty, *p, *n)?),
            ArgAbi::Indirect { byval: true, align } if self.is_scalar_type(ty) => {
                let temp = self.temp_slot(16, *align)?;
                self.store_at(temp, value, 0, *align)?;
                out.push(temp.into());
            }
            ArgAbi::Indirect { byval: true, .. } => out.push(value),
            ArgAbi::Indirect { byval: false, align } => {
                // The callee owns (and may change) a copy in the caller's frame.
                let (size, _) = self.aggregate_layout(ty);
                let temp = self.temp_slot(size, *align)?;
                self.copy(temp, value.into_pointer_value(), size, *align)?;
                out.push(temp.into());
            }
            ArgAbi::Ignore => {}
        }
        Ok(())
    }

    /// The place of incoming parameter `ty` whose LLVM parameters start at `first`.
    pub(crate) fn lower_incoming(
        &self,
        abi: &ArgAbi,
        ty: TypeId,
        function: inkwell::values::FunctionValue<'ctx>,
        first: u32,
    ) -> BackendResult<PointerValue<'ctx>> {
        let param = |i: u32| {
            function.get_nth_param(first + i).ok_or_else(|| crate::backend::refused("parameter beyond the arity"))
        };
        let (size, align) = self.aggregate_layout(ty);
        // The slot holds the record and whatever the pieces cover beyond it.
        let slot_for = |span: u64| self.temp_slot(span.max(size), align);
        match abi {
            ArgAbi::Scalar(_) => {
                let slot = self.entry_builder.build_alloca(self.basic(ty), "").built()?;
                self.entry_builder.build_store(slot, param(0)?).built()?;
                Ok(slot)
            }
            ArgAbi::Direct(pieces) => {
                let slot = slot_for(self.span(pieces))?;
                let a = align.max(1);
                for (i, (_, off)) in pieces.iter().enumerate() {
                    let p = self.offset_ptr(&self.entry_builder, slot, *off);
                    let st = self.entry_builder.build_store(p, param(i as u32)?).built()?;
                    crate::ffi::set_memory_alignment(st, align_at(a, *off) as u32);
                }
                Ok(slot)
            }
            ArgAbi::Array(p, n) => {
                let ptr = self.resolved.info.pointer.size;
                let slot = slot_for(p.size(ptr) * u64::from(*n))?;
                let st = self.entry_builder.build_store(slot, param(0)?).built()?;
                crate::ffi::set_memory_alignment(st, align as u32);
                Ok(slot)
            }
            ArgAbi::Indirect { .. } => Ok(param(0)?.into_pointer_value()),
            ArgAbi::Ignore => self.temp_slot(0, align),
        }
    }

    /// Returns the aggregate in the place at `addr` as `abi` says.
    pub(crate) fn lower_ret_aggregate(
        &self,
        abi: &RetAbi,
        ty: TypeId,
        addr: PointerValue<'ctx>,
        sret: Option<PointerValue<'ctx>>,
    ) -> BackendResult<()> {
        match abi {
            RetAbi::Void | RetAbi::Scalar(_) => {
                self.builder.build_return(None).built()?;
            }
            RetAbi::Sret { align } => {
                let (size, _) = self.aggregate_layout(ty);
                let dst = sret.ok_or_else(|| crate::backend::refused("sret function without its pointer"))?;
                if size > 0 {
                    self.copy(dst, addr, size, *align)?;
                }
                self.builder.build_return(None).built()?;
            }
            RetAbi::Array(p, n) => {
                let v = self.load_array(addr, ty, *p, *n)?;
                self.builder.build_return(Some(&v as &dyn BasicValue<'ctx>)).built()?;
            }
            RetAbi::Direct(pieces) => {
                let values = self.load_pieces(addr, ty, pieces)?;
                let v = self.aggregate_value(pieces, &values)?;
                self.builder.build_return(Some(&v as &dyn BasicValue<'ctx>)).built()?;
            }
        }
        Ok(())
    }

    /// One piece, or a literal struct of the pieces.
    fn aggregate_value(
        &self,
        pieces: &[(Piece, u64)],
        values: &[BasicValueEnum<'ctx>],
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        if let [v] = values {
            return Ok(*v);
        }
        let st = self.pieces_type(pieces).into_struct_type();
        let mut agg = st.get_poison().as_aggregate_value_enum();
        for (i, v) in values.iter().enumerate() {
            agg = self.builder.build_insert_value(agg, *v, i as u32, "").built()?;
        }
        Ok(agg.as_basic_value_enum())
    }

    /// Stores a call's coerced result into the place at `dest`.
    pub(crate) fn store_result(
        &self,
        abi: &RetAbi,
        ty: TypeId,
        dest: PointerValue<'ctx>,
        value: BasicValueEnum<'ctx>,
    ) -> BackendResult<()> {
        match abi {
            RetAbi::Direct(pieces) if pieces.len() == 1 => self.store_pieces(dest, ty, pieces, &[value]),
            RetAbi::Direct(pieces) => {
                let agg = value.into_struct_value();
                let values = (0..pieces.len() as u32)
                    .map(|i| self.builder.build_extract_value(agg, i, "").built())
                    .collect::<BackendResult<Vec<_>>>()?;
                self.store_pieces(dest, ty, pieces, &values)
            }
            RetAbi::Array(p, n) => self.store_array(dest, ty, *p, *n, value),
            RetAbi::Void | RetAbi::Scalar(_) | RetAbi::Sret { .. } => Ok(()),
        }
    }
}
