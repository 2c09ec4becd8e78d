//! Types: the facade's interned types mirrored as LLVM types (aggregates as
//! bytes of the facade's C layout), function types with their ABI extension
//! facts, and scalar constants.

use cfree_facade::*;
use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::context::Context;
use inkwell::types::{BasicTypeEnum, FunctionType};
use inkwell::values::BasicValueEnum;
use inkwell::AddressSpace;

use crate::abi;
use crate::backend::{refused, LlvmBackend};
use crate::ffi;

#[derive(Debug, Clone, Copy)]
pub(crate) enum LoweredType<'ctx> {
    Basic(BasicTypeEnum<'ctx>),
    Func(FunctionType<'ctx>),
}

/// The integer type of `bits` (1, 8, 16, 32, 64 or 128: the facade's widths and pointer widths).
pub(crate) fn int_type(ctx: &Context, bits: u32) -> inkwell::types::IntType<'_> {
    match bits {
        1 => ctx.bool_type(),
        8 => ctx.i8_type(),
        16 => ctx.i16_type(),
        32 => ctx.i32_type(),
        64 => ctx.i64_type(),
        128 => ctx.i128_type(),
        other => unreachable!("no {other}-bit integers reach the backend"),
    }
}

impl<'ctx> LlvmBackend<'ctx> {
    pub(crate) fn lower_define_type(&mut self, id: TypeId, kind: &TypeKind, types: &TypeTable) -> BackendResult<()> {
        debug_assert_eq!(id.index(), self.types.len());
        let ctx = self.ctx;
        let (lowered, abi) = match kind {
            TypeKind::Int(w) => (LoweredType::Basic(int_type(ctx, w.bits()).into()), None),
            TypeKind::Float(cfree_facade::FloatWidth::F32) => (LoweredType::Basic(ctx.f32_type().into()), None),
            TypeKind::Float(cfree_facade::FloatWidth::F64) => (LoweredType::Basic(ctx.f64_type().into()), None),
            TypeKind::Ptr { addr_space, .. } => {
                let space = AddressSpace::try_from(*addr_space).map_err(|()| refused("address space out of range"))?;
                (LoweredType::Basic(ctx.ptr_type(space).into()), None)
            }
            // Aggregates are storage of the facade's C layout: bytes, so LLVM's own struct
            // layout (which can differ from the C ABI, e.g. i128 on LLVM 19 wasm32) never
            // decides, and a type's depth costs LLVM nothing.
            TypeKind::Array { .. } | TypeKind::Record { .. } => {
                let size = types.layout(id).map_or(0, |l| l.size);
                (LoweredType::Basic(ffi::array_type(self.i8.into(), size)), None)
            }
            TypeKind::Func(sig) => {
                let abi = self.classify_sig(sig, &[])?;
                let abi = self.func_abi(sig, abi);
                (LoweredType::Func(abi.fty), Some(abi))
            }
        };
        self.types.push(lowered);
        self.abis.push(abi);
        let shape = (!matches!(kind, TypeKind::Func(_))).then(|| {
            abi::Shape::of(types, id, &self.resolved.info, |t| self.shapes.get(t.index()).and_then(Option::as_ref))
        });
        self.shapes.push(shape);
        self.sigs.push(match kind {
            TypeKind::Func(sig) => Some(sig.clone()),
            _ => None,
        });
        Ok(())
    }

    /// Classifies `sig` (with the types of a call's variadic extras) for the
    /// target's C ABI. Targets without classification rules take scalars only.
    pub(crate) fn classify_sig(&self, sig: &FuncSig, extras: &[TypeId]) -> BackendResult<abi::SigAbi> {
        let target = &self.resolved.info;
        let shape = |t: TypeId| self.shapes[t.index()].clone().expect("signature types are sized");
        let params: Vec<(abi::Shape, AbiExt, bool)> = sig
            .params
            .iter()
            .map(|p| (shape(p.ty), p.ext, true))
            .chain(extras.iter().map(|t| (shape(*t), AbiExt::None, false)))
            .collect();
        let result = sig.result.map(|r| (shape(r.ty), r.ext));
        let lp64d = self.resolved.abi_name == Some("lp64d");
        if let Some(rules) = abi::rules(target, sig.conv, lp64d) {
            return Ok(abi::classify(rules, target, &params, result.as_ref()));
        }
        let scalar = |s: &abi::Shape, ext: AbiExt| match s {
            abi::Shape::Scalar(_) => Ok(abi::scalar_ext(target, s, ext)),
            abi::Shape::Aggregate(_) => Err(BackendError::from(ErrorKind::UnsupportedOnTarget {
                feature: TargetFeature::AggregateByValue,
                triple: target.triple.clone(),
            })),
        };
        let params = params.iter().map(|(s, e, _)| scalar(s, *e).map(abi::ArgAbi::Scalar)).collect::<Result<_, _>>()?;
        let result = match &result {
            Some((s, e)) => abi::RetAbi::Scalar(scalar(s, *e)?),
            None => abi::RetAbi::Void,
        };
        Ok(abi::SigAbi { params, result, stack_args: None })
    }

    pub(crate) fn basic(&self, ty: TypeId) -> BasicTypeEnum<'ctx> {
        match self.types[ty.index()] {
            LoweredType::Basic(b) => b,
            LoweredType::Func(_) => unreachable!("facade passes only sized types here"),
        }
    }

    pub(crate) fn fn_type(&self, ty: TypeId) -> FunctionType<'ctx> {
        match self.types[ty.index()] {
            LoweredType::Func(f) => f,
            LoweredType::Basic(_) => unreachable!("facade passes only function types here"),
        }
    }

    pub(crate) fn ext_attr(&self, ext: AbiExt) -> Option<Attribute> {
        let name = match ext {
            AbiExt::None => return None,
            AbiExt::Sign => "signext",
            AbiExt::Zero => "zeroext",
        };
        Some(self.ctx.create_enum_attribute(Attribute::get_named_enum_kind_id(name), 0))
    }

    pub(crate) fn apply_abi(&self, sig: TypeId, mut add: impl FnMut(AttributeLoc, Attribute)) {
        let Some(abi) = &self.abis[sig.index()] else { return };
        for (loc, a) in &abi.attrs {
            add(*loc, *a);
        }
    }

    /// The calling convention of function type `sig`.
    pub(crate) fn call_conv(&self, sig: TypeId) -> u32 {
        self.abis[sig.index()].as_ref().map_or(0, |abi| abi.call_conv)
    }

    pub(crate) fn lower_const_int(&mut self, ty: TypeId, bits: u128) -> BasicValueEnum<'ctx> {
        let t = self.basic(ty).into_int_type();
        if t.get_bit_width() > 64 {
            t.const_int_arbitrary_precision(&[bits as u64, (bits >> 64) as u64]).into()
        } else {
            t.const_int(bits as u64, false).into()
        }
    }

    pub(crate) fn lower_const_f32(&mut self, bits: u32) -> BasicValueEnum<'ctx> {
        ffi::const_float_bits(self.ctx, self.ctx.f32_type().into(), u64::from(bits))
    }

    pub(crate) fn lower_const_f64(&mut self, bits: u64) -> BasicValueEnum<'ctx> {
        ffi::const_float_bits(self.ctx, self.ctx.f64_type().into(), bits)
    }

    pub(crate) fn lower_const_zero(&mut self, ty: TypeId) -> BasicValueEnum<'ctx> {
        self.basic(ty).const_zero()
    }
}
