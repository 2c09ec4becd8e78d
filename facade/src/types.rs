//! The codegen type model: width-only integers, f32/f64, thin
//! pointers with an address space, arrays, natural-layout records and function
//! types. Types are interned per module; equal shapes get equal [`TypeId`]s.

use crate::{
    AbiExt, AttrProblem, CallConv, Error, ErrorKind, HandleKind, ParamAttrs, Quantity, TargetInfo, TypeId, TypeName,
};

/// Nesting levels spelled out in a type's display; deeper ones become `…`.
const DISPLAY_DEPTH: u32 = 4;
/// Record fields or parameters spelled out before `…`.
const DISPLAY_FIELDS: usize = 8;
/// Characters after which a display stops growing.
const DISPLAY_LEN: usize = 160;
/// The largest size of any type, in bytes (2^48: beyond every target's address space).
pub(crate) const MAX_TYPE_SIZE: u64 = 1 << 48;

/// Integer storage widths. Signedness lives on operations, not on types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IntWidth {
    /// `i1`, the branch and comparison-result type.
    I1,
    /// 8 bits.
    I8,
    /// 16 bits.
    I16,
    /// 32 bits.
    I32,
    /// 64 bits.
    I64,
    /// 128 bits (helper-lowered where the target lacks native support).
    I128,
}

impl IntWidth {
    /// Width in bits.
    pub fn bits(self) -> u32 {
        match self {
            IntWidth::I1 => 1,
            IntWidth::I8 => 8,
            IntWidth::I16 => 16,
            IntWidth::I32 => 32,
            IntWidth::I64 => 64,
            IntWidth::I128 => 128,
        }
    }

    pub(crate) fn layout_index(self) -> usize {
        self as usize
    }
}

/// Floating-point storage types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FloatWidth {
    /// IEEE binary32.
    F32,
    /// IEEE binary64.
    F64,
}

impl FloatWidth {
    /// Width in bits.
    pub fn bits(self) -> u32 {
        match self {
            FloatWidth::F32 => 32,
            FloatWidth::F64 => 64,
        }
    }
}

/// One parameter of a function type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Param {
    /// The parameter's storage type.
    pub ty: TypeId,
    /// Extension at the ABI boundary.
    pub ext: AbiExt,
    /// Facts about a pointer parameter (or result).
    pub attrs: ParamAttrs,
}

impl Param {
    /// A parameter with no ABI attributes. A record or array type is passed by
    /// value, as the target's C ABI passes it (`doc/abi.md`).
    pub fn new(ty: TypeId) -> Self {
        Self { ty, ext: AbiExt::None, attrs: ParamAttrs::default() }
    }

    /// Sets the extension fact.
    pub fn ext(mut self, ext: AbiExt) -> Self {
        self.ext = ext;
        self
    }

    /// Sets the pointer facts.
    pub fn attrs(mut self, attrs: ParamAttrs) -> Self {
        self.attrs = attrs;
        self
    }
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncSig {
    /// Fixed parameters.
    pub params: Vec<Param>,
    /// Result type; `None` for a function returning nothing.
    pub result: Option<Param>,
    /// Whether further arguments may follow the fixed ones (C `...`).
    pub variadic: bool,
    /// Calling convention.
    pub conv: CallConv,
}

impl FuncSig {
    /// A C-convention signature without ABI attributes.
    pub fn new(params: &[TypeId], result: Option<TypeId>) -> Self {
        Self {
            params: params.iter().copied().map(Param::new).collect(),
            result: result.map(Param::new),
            variadic: false,
            conv: CallConv::C,
        }
    }

    /// A C-convention signature from full parameter descriptions.
    pub fn with_params(params: Vec<Param>, result: Option<Param>) -> Self {
        Self { params, result, variadic: false, conv: CallConv::C }
    }

    /// Marks the signature variadic.
    pub fn variadic(mut self) -> Self {
        self.variadic = true;
        self
    }

    /// Sets the calling convention.
    pub fn conv(mut self, conv: CallConv) -> Self {
        self.conv = conv;
        self
    }
}

/// The shape of an interned type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TypeKind {
    /// Width-only integer.
    Int(IntWidth),
    /// Floating point.
    Float(FloatWidth),
    /// Thin pointer: pointee (for defaults and debug info) and address space.
    Ptr {
        /// The pointee type; memory semantics still come from each access descriptor.
        pointee: TypeId,
        /// Address space; 0 is the normal data address space.
        addr_space: u32,
    },
    /// Fixed-size array.
    Array {
        /// Element type.
        elem: TypeId,
        /// Element count.
        count: u64,
    },
    /// Record with natural C layout.
    Record {
        /// Field types in declaration order.
        fields: Vec<TypeId>,
        /// Minimum alignment (C `_Alignas` on the record); 0 = natural. The size
        /// is padded to a multiple of the resulting alignment.
        align: u64,
    },
    /// Function type; only usable behind pointers or as a declaration's type.
    Func(FuncSig),
}

/// Size and alignment of a type, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Allocation size, a multiple of `align`.
    pub size: u64,
    /// ABI alignment.
    pub align: u64,
}

#[derive(Debug)]
struct TypeEntry {
    kind: TypeKind,
    layout: Option<Layout>,
    /// Byte offset of each field, for records.
    field_offsets: Vec<u64>,
}

/// One module's interned types with their target layout.
#[derive(Debug)]
pub struct TypeTable {
    owner: u32,
    entries: Vec<TypeEntry>,
    by_kind: crate::hash::FxHashMap<TypeKind, TypeId>,
}

impl TypeTable {
    pub(crate) fn new(owner: u32) -> Self {
        Self { owner, entries: Vec::new(), by_kind: Default::default() }
    }

    /// Checks that `id` belongs to this table.
    pub fn check(&self, id: TypeId) -> Result<(), ErrorKind> {
        match self.entry(id) {
            Some(_) => Ok(()),
            None => Err(ErrorKind::ForeignHandle { what: HandleKind::Type, handle: id.to_bits() }),
        }
    }

    /// The entry of `id`, if it belongs to this table.
    #[inline]
    fn entry(&self, id: TypeId) -> Option<&TypeEntry> {
        if id.owner != self.owner {
            return None;
        }
        self.entries.get(id.index())
    }

    /// The shape of a type, or `None` if `id` is not from this table.
    pub fn get(&self, id: TypeId) -> Option<&TypeKind> {
        self.entry(id).map(|e| &e.kind)
    }

    /// The shape of a type.
    ///
    /// # Panics
    /// If `id` is not from this table; [`Self::get`] is the checked form.
    pub fn kind(&self, id: TypeId) -> &TypeKind {
        match self.get(id) {
            Some(k) => k,
            None => panic!("type {id:?} ({:#x}) is not from this type table", id.to_bits()),
        }
    }

    /// Size and alignment; `None` for function types and for ids not from this table.
    pub fn layout(&self, id: TypeId) -> Option<Layout> {
        self.entry(id)?.layout
    }

    /// Byte offsets of a record's fields; `None` for other kinds and for ids not from this table.
    pub fn field_offsets(&self, id: TypeId) -> Option<&[u64]> {
        let e = self.entry(id)?;
        matches!(e.kind, TypeKind::Record { .. }).then_some(e.field_offsets.as_slice())
    }

    /// Number of interned types.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The id of the `index`-th interned type (for backends mirroring the table),
    /// or `None` past the end.
    pub fn id_at(&self, index: usize) -> Option<TypeId> {
        (index < self.entries.len()).then(|| TypeId::new(self.owner, index))
    }

    /// Whether a value of type `a` can be used where `b` is expected: identical
    /// types, or pointers into the same address space (pointees are advisory).
    /// False when either id is not from this table.
    pub fn compatible(&self, a: TypeId, b: TypeId) -> bool {
        if a == b {
            return self.entry(a).is_some();
        }
        match (self.get(a), self.get(b)) {
            (Some(TypeKind::Ptr { addr_space: x, .. }), Some(TypeKind::Ptr { addr_space: y, .. })) => x == y,
            _ => false,
        }
    }

    /// Layout of `id` if it is a scalar of this table (one check for the hot paths).
    #[inline]
    pub(crate) fn scalar_layout(&self, id: TypeId) -> Option<Layout> {
        let e = self.entry(id)?;
        match e.kind {
            TypeKind::Int(_) | TypeKind::Float(_) | TypeKind::Ptr { .. } => e.layout,
            TypeKind::Array { .. } | TypeKind::Record { .. } | TypeKind::Func(_) => None,
        }
    }

    /// Whether values of this type live in registers: integers, floats, pointers
    /// (false for ids not from this table).
    pub fn is_scalar(&self, id: TypeId) -> bool {
        matches!(self.get(id), Some(TypeKind::Int(_) | TypeKind::Float(_) | TypeKind::Ptr { .. }))
    }

    /// Integer width, if `id` is an integer type of this table.
    pub fn int_width(&self, id: TypeId) -> Option<IntWidth> {
        match self.get(id)? {
            TypeKind::Int(w) => Some(*w),
            _ => None,
        }
    }

    /// Float width, if `id` is a float type of this table.
    pub fn float_width(&self, id: TypeId) -> Option<FloatWidth> {
        match self.get(id)? {
            TypeKind::Float(w) => Some(*w),
            _ => None,
        }
    }

    /// Address space, if `id` is a pointer type of this table.
    pub fn ptr_addr_space(&self, id: TypeId) -> Option<u32> {
        match self.get(id)? {
            TypeKind::Ptr { addr_space, .. } => Some(*addr_space),
            _ => None,
        }
    }

    /// Function signature, if `id` is a function type of this table.
    pub fn func_sig(&self, id: TypeId) -> Option<&FuncSig> {
        match self.get(id)? {
            TypeKind::Func(sig) => Some(sig),
            _ => None,
        }
    }

    /// A short human-readable spelling for diagnostics, e.g. `i32`, `ptr addrspace(1)`.
    /// Bounded: types nested deeper than a few levels are elided with `…`, so
    /// the spelling of any type is short and computed without deep recursion.
    pub fn display(&self, id: TypeId) -> String {
        let mut out = String::new();
        self.spell(id, DISPLAY_DEPTH, &mut out);
        out
    }

    /// `id` with its spelling, for diagnostics.
    pub fn name(&self, id: TypeId) -> TypeName {
        TypeName { id, spelling: self.display(id) }
    }

    fn spell(&self, id: TypeId, depth: u32, out: &mut String) {
        use std::fmt::Write as _;
        let Some(kind) = self.get(id) else {
            let _ = write!(out, "<foreign {id:?}>");
            return;
        };
        if out.len() > DISPLAY_LEN {
            out.push('…');
            return;
        }
        let list = |ids: &mut dyn Iterator<Item = TypeId>, out: &mut String| {
            for (i, t) in ids.enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if i == DISPLAY_FIELDS || out.len() > DISPLAY_LEN {
                    out.push('…');
                    break;
                }
                self.spell(t, depth - 1, out);
            }
        };
        match kind {
            TypeKind::Int(w) => {
                let _ = write!(out, "i{}", w.bits());
            }
            TypeKind::Float(w) => {
                let _ = write!(out, "f{}", w.bits());
            }
            TypeKind::Ptr { addr_space: 0, .. } => out.push_str("ptr"),
            TypeKind::Ptr { addr_space, .. } => {
                let _ = write!(out, "ptr addrspace({addr_space})");
            }
            _ if depth == 0 => out.push('…'),
            TypeKind::Array { elem, count } => {
                let _ = write!(out, "[{count} x ");
                self.spell(*elem, depth - 1, out);
                out.push(']');
            }
            TypeKind::Record { fields, align } => {
                if *align != 0 {
                    let _ = write!(out, "align({align}) ");
                }
                out.push('{');
                list(&mut fields.iter().copied(), out);
                out.push('}');
            }
            TypeKind::Func(sig) => {
                out.push_str("fn(");
                list(&mut sig.params.iter().map(|p| p.ty), out);
                if sig.variadic {
                    out.push_str(", ...");
                }
                out.push_str(") -> ");
                match sig.result {
                    Some(r) => self.spell(r.ty, depth - 1, out),
                    None => out.push_str("void"),
                }
            }
        }
    }

    /// Interns `kind`, computing its layout for `target`. Returns the id and
    /// whether it is new (so the caller can announce it to the backend).
    pub(crate) fn intern(
        &mut self,
        kind: TypeKind,
        target: &TargetInfo,
        call: &'static str,
    ) -> Result<(TypeId, bool), Error> {
        if let Some(&id) = self.by_kind.get(&kind) {
            return Ok((id, false));
        }
        let (layout, field_offsets) = self.compute_layout(&kind, target, call)?;
        let id = TypeId::new(self.owner, self.entries.len());
        self.entries.push(TypeEntry { kind: kind.clone(), layout, field_offsets });
        self.by_kind.insert(kind, id);
        Ok((id, true))
    }

    /// Removes the most recently interned type (its backend refused it).
    pub(crate) fn forget_last(&mut self) {
        if let Some(e) = self.entries.pop() {
            self.by_kind.remove(&e.kind);
        }
    }

    fn operand_layout(&self, id: TypeId, call: &'static str, operand: &str) -> Result<Layout, Error> {
        self.check(id).map_err(|k| Error::new(call, k).operand(operand))?;
        self.layout(id).ok_or_else(|| Error::new(call, ErrorKind::Unsized { ty: self.name(id) }).operand(operand))
    }

    fn compute_layout(
        &self,
        kind: &TypeKind,
        target: &TargetInfo,
        call: &'static str,
    ) -> Result<(Option<Layout>, Vec<u64>), Error> {
        let scalar = |s: crate::ScalarLayout| Layout { size: s.size, align: s.align };
        Ok(match kind {
            TypeKind::Int(w) => {
                if !target.supports_int_width(w.bits()) {
                    let feature = crate::TargetFeature::IntWidth(w.bits());
                    return Err(Error::new(
                        call,
                        ErrorKind::UnsupportedOnTarget { feature, triple: target.triple.clone() },
                    ));
                }
                (Some(scalar(target.ints[w.layout_index()])), Vec::new())
            }
            TypeKind::Float(FloatWidth::F32) => (Some(scalar(target.f32)), Vec::new()),
            TypeKind::Float(FloatWidth::F64) => (Some(scalar(target.f64)), Vec::new()),
            TypeKind::Ptr { pointee, addr_space } => {
                self.check(*pointee).map_err(|k| Error::new(call, k).operand("pointee"))?;
                if *addr_space >= 1 << 24 {
                    return Err(Error::new(call, ErrorKind::InvalidAddressSpace { addr_space: *addr_space }));
                }
                if !target.supports_address_space(*addr_space) {
                    let feature = crate::TargetFeature::AddressSpace(*addr_space);
                    return Err(Error::new(
                        call,
                        ErrorKind::UnsupportedOnTarget { feature, triple: target.triple.clone() },
                    ));
                }
                (Some(scalar(target.pointer)), Vec::new())
            }
            TypeKind::Array { elem, count } => {
                let e = self.operand_layout(*elem, call, "element type")?;
                let size = u128::from(e.size) * u128::from(*count);
                let size = u64::try_from(size).ok().filter(|s| *s <= MAX_TYPE_SIZE).ok_or_else(|| {
                    Error::new(call, ErrorKind::TooLarge { what: Quantity::ArraySize, size, limit: MAX_TYPE_SIZE })
                })?;
                if size == 0 && target.triple.contains("msvc") {
                    let feature = crate::TargetFeature::ZeroSizedType;
                    return Err(Error::new(
                        call,
                        ErrorKind::UnsupportedOnTarget { feature, triple: target.triple.clone() },
                    ));
                }
                (Some(Layout { size, align: e.align }), Vec::new())
            }
            TypeKind::Record { fields, align: min_align } => {
                if *min_align != 0 && (!min_align.is_power_of_two() || *min_align > 1 << 29) {
                    return Err(Error::new(call, ErrorKind::InvalidAlignment { align: *min_align }).operand("align"));
                }
                let mut offset = 0u64;
                let mut align = (*min_align).max(1);
                let mut offsets = Vec::with_capacity(fields.len());
                let too_large = |size: u128| {
                    Error::new(call, ErrorKind::TooLarge { what: Quantity::RecordSize, size, limit: MAX_TYPE_SIZE })
                };
                for (i, f) in fields.iter().enumerate() {
                    let l = self.operand_layout(*f, call, &format!("field {i}"))?;
                    // Sizes are at most 2^48 and alignments at most 2^30, so one field never
                    // overflows u64; the running total is checked against the limit each time.
                    offset = offset.next_multiple_of(l.align);
                    offsets.push(offset);
                    offset += l.size;
                    align = align.max(l.align);
                    if offset > MAX_TYPE_SIZE {
                        return Err(too_large(u128::from(offset)));
                    }
                }
                let size = offset.next_multiple_of(align);
                if size > MAX_TYPE_SIZE {
                    return Err(too_large(u128::from(size)));
                }
                if size == 0 && target.triple.contains("msvc") {
                    // MSVC's C has no empty records; clang's extension gives them 4 bytes there.
                    let feature = crate::TargetFeature::ZeroSizedType;
                    return Err(Error::new(
                        call,
                        ErrorKind::UnsupportedOnTarget { feature, triple: target.triple.clone() },
                    ));
                }
                (Some(Layout { size, align }), offsets)
            }
            TypeKind::Func(sig) => {
                self.check_sig(sig, target, call)?;
                (None, Vec::new())
            }
        })
    }

    /// A signature's parameters and result are sized types (aggregates too:
    /// the backend classifies them for the C ABI), with attributes that fit them.
    fn check_sig(&self, sig: &FuncSig, target: &TargetInfo, call: &'static str) -> Result<(), Error> {
        if !target.supports_call_conv(sig.conv) {
            let feature = crate::TargetFeature::CallConv(sig.conv);
            return Err(Error::new(call, ErrorKind::UnsupportedOnTarget { feature, triple: target.triple.clone() })
                .operand("conv"));
        }
        if sig.variadic && !sig.conv.allows_variadic() {
            let e = ErrorKind::InvalidAttribute { attr: "variadic", problem: AttrProblem::Conflicts("conv") };
            return Err(Error::new(call, e).operand("conv"));
        }
        let mut nest = false;
        for (i, p) in sig.params.iter().enumerate() {
            let operand = format!("parameter {i}");
            self.check_param(p, call, &operand)?;
            if p.attrs.nest {
                if nest {
                    let e = ErrorKind::InvalidAttribute { attr: "nest", problem: AttrProblem::Duplicate };
                    return Err(Error::new(call, e).operand(operand));
                }
                if !target.supports_nest() {
                    let feature = crate::TargetFeature::NestParameter;
                    return Err(Error::new(
                        call,
                        ErrorKind::UnsupportedOnTarget { feature, triple: target.triple.clone() },
                    )
                    .operand(operand));
                }
                nest = true;
            }
        }
        if let Some(r) = &sig.result {
            self.check_param(r, call, "result")?;
            let bad = if r.attrs.nest {
                Some("nest")
            } else if r.attrs.nocapture {
                Some("nocapture")
            } else if r.attrs.readonly || r.attrs.writeonly {
                Some("readonly/writeonly")
            } else {
                None
            };
            if let Some(attr) = bad {
                let e = ErrorKind::InvalidAttribute { attr, problem: AttrProblem::NotOnThisSymbol };
                return Err(Error::new(call, e).operand("result"));
            }
        }
        Ok(())
    }

    fn check_param(&self, p: &Param, call: &'static str, operand: &str) -> Result<(), Error> {
        self.operand_layout(p.ty, call, operand)?;
        let a = &p.attrs;
        let invalid = |attr: &'static str, problem: AttrProblem| {
            Err(Error::new(call, ErrorKind::InvalidAttribute { attr, problem }).operand(operand))
        };
        if a.has_pointer_facts() && self.ptr_addr_space(p.ty).is_none() {
            return invalid("pointer fact", AttrProblem::NotPointer);
        }
        if a.inreg && !self.is_scalar(p.ty) {
            return invalid("inreg", AttrProblem::Conflicts("aggregate by value"));
        }
        if a.readonly && a.writeonly {
            return invalid("readonly", AttrProblem::Conflicts("writeonly"));
        }
        if a.align != 0 && (!a.align.is_power_of_two() || a.align > 1 << 29) {
            return invalid("align", AttrProblem::NotPowerOfTwo(a.align));
        }
        if a.dereferenceable != 0 && a.dereferenceable_or_null != 0 {
            return invalid("dereferenceable", AttrProblem::Conflicts("dereferenceable_or_null"));
        }
        Ok(())
    }
}
