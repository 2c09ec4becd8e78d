//! The codegen type model (cg-ext §4): width-only integers, f32/f64, thin
//! pointers with an address space, arrays, natural-layout records and function
//! types. Types are interned per module; equal shapes get equal [`TypeId`]s.

use crate::{Error, ErrorKind, TargetInfo, TypeId};

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

/// Calling conventions. Only those the backend lowers are listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum CallConv {
    /// The target's C convention.
    #[default]
    C,
}

/// How a narrow integer argument or result is widened at the ABI boundary
/// (cg-ext §8 `signext`/`zeroext`). Only meaningful on integers narrower than 32 bits,
/// except where the target ABI itself says otherwise (riscv64 sign-extends i32).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AbiExt {
    /// No extension fact: the value is passed as its own width.
    #[default]
    None,
    /// Sign-extend to the register width.
    Sign,
    /// Zero-extend to the register width.
    Zero,
}

/// One parameter of a function type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Param {
    /// The parameter's storage type.
    pub ty: TypeId,
    /// Extension at the ABI boundary.
    pub ext: AbiExt,
}

impl Param {
    /// A parameter with no ABI attributes.
    pub fn new(ty: TypeId) -> Self {
        Self { ty, ext: AbiExt::None }
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

    /// Marks the signature variadic.
    pub fn variadic(mut self) -> Self {
        self.variadic = true;
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
        if id.owner != self.owner || id.index() >= self.entries.len() {
            return Err(ErrorKind::ForeignHandle { what: "type", handle: id.to_bits() });
        }
        Ok(())
    }

    /// The shape of a type.
    ///
    /// # Panics
    /// If `id` is not from this table; use [`Self::check`] first for untrusted ids.
    pub fn kind(&self, id: TypeId) -> &TypeKind {
        &self.entries[id.index()].kind
    }

    /// Size and alignment, or `None` for function types.
    pub fn layout(&self, id: TypeId) -> Option<Layout> {
        self.entries[id.index()].layout
    }

    /// Byte offsets of a record's fields (empty for other kinds).
    pub fn field_offsets(&self, id: TypeId) -> &[u64] {
        &self.entries[id.index()].field_offsets
    }

    /// Number of interned types.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The id of the `index`-th interned type (for backends mirroring the table).
    pub fn id_at(&self, index: usize) -> TypeId {
        TypeId::new(self.owner, index)
    }

    /// Whether a value of type `a` can be used where `b` is expected: identical
    /// types, or pointers into the same address space (pointees are advisory).
    pub fn compatible(&self, a: TypeId, b: TypeId) -> bool {
        if a == b {
            return true;
        }
        match (self.kind(a), self.kind(b)) {
            (TypeKind::Ptr { addr_space: x, .. }, TypeKind::Ptr { addr_space: y, .. }) => x == y,
            _ => false,
        }
    }

    /// Layout of `id` if it is a scalar of this table (one check for the hot paths).
    pub(crate) fn scalar_layout(&self, id: TypeId) -> Option<Layout> {
        if id.owner != self.owner {
            return None;
        }
        let e = self.entries.get(id.index())?;
        match e.kind {
            TypeKind::Int(_) | TypeKind::Float(_) | TypeKind::Ptr { .. } => e.layout,
            TypeKind::Array { .. } | TypeKind::Record { .. } | TypeKind::Func(_) => None,
        }
    }

    /// Whether values of this type live in registers: integers, floats, pointers.
    pub fn is_scalar(&self, id: TypeId) -> bool {
        matches!(self.kind(id), TypeKind::Int(_) | TypeKind::Float(_) | TypeKind::Ptr { .. })
    }

    /// Integer width, if `id` is an integer type.
    pub fn int_width(&self, id: TypeId) -> Option<IntWidth> {
        match self.kind(id) {
            TypeKind::Int(w) => Some(*w),
            _ => None,
        }
    }

    /// Address space, if `id` is a pointer type.
    pub fn ptr_addr_space(&self, id: TypeId) -> Option<u32> {
        match self.kind(id) {
            TypeKind::Ptr { addr_space, .. } => Some(*addr_space),
            _ => None,
        }
    }

    /// Function signature, if `id` is a function type.
    pub fn func_sig(&self, id: TypeId) -> Option<&FuncSig> {
        match self.kind(id) {
            TypeKind::Func(sig) => Some(sig),
            _ => None,
        }
    }

    /// A short human-readable spelling for diagnostics, e.g. `i32`, `ptr addrspace(1)`.
    pub fn display(&self, id: TypeId) -> String {
        if self.check(id).is_err() {
            return format!("<foreign {id:?}>");
        }
        match self.kind(id) {
            TypeKind::Int(w) => format!("i{}", w.bits()),
            TypeKind::Float(w) => format!("f{}", w.bits()),
            TypeKind::Ptr { addr_space: 0, .. } => "ptr".to_string(),
            TypeKind::Ptr { addr_space, .. } => format!("ptr addrspace({addr_space})"),
            TypeKind::Array { elem, count } => format!("[{count} x {}]", self.display(*elem)),
            TypeKind::Record { fields } => {
                let f: Vec<_> = fields.iter().map(|f| self.display(*f)).collect();
                format!("{{{}}}", f.join(", "))
            }
            TypeKind::Func(sig) => {
                let p: Vec<_> = sig.params.iter().map(|p| self.display(p.ty)).collect();
                let r = sig.result.map_or("void".to_string(), |r| self.display(r.ty));
                format!("fn({}{}) -> {r}", p.join(", "), if sig.variadic { ", ..." } else { "" })
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

    fn operand_layout(&self, id: TypeId, call: &'static str, operand: &str) -> Result<Layout, Error> {
        self.check(id).map_err(|k| Error::new(call, k).operand(operand))?;
        self.layout(id).ok_or_else(|| Error::new(call, ErrorKind::Unsized { ty: self.display(id) }).operand(operand))
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
                    return Err(Error::new(
                        call,
                        ErrorKind::UnsupportedOnTarget {
                            feature: format!("i{} storage", w.bits()),
                            triple: target.triple.clone(),
                        },
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
                (Some(scalar(target.pointer)), Vec::new())
            }
            TypeKind::Array { elem, count } => {
                let e = self.operand_layout(*elem, call, "element type")?;
                let size = e
                    .size
                    .checked_mul(*count)
                    .filter(|s| *s < 1 << 48)
                    .ok_or_else(|| Error::new(call, ErrorKind::TooLarge { what: "array size in bytes" }))?;
                (Some(Layout { size, align: e.align }), Vec::new())
            }
            TypeKind::Record { fields } => {
                let mut offset = 0u64;
                let mut align = 1u64;
                let mut offsets = Vec::with_capacity(fields.len());
                for (i, f) in fields.iter().enumerate() {
                    let l = self.operand_layout(*f, call, &format!("field {i}"))?;
                    offset = offset.next_multiple_of(l.align);
                    offsets.push(offset);
                    offset += l.size;
                    align = align.max(l.align);
                }
                (Some(Layout { size: offset.next_multiple_of(align), align }), offsets)
            }
            TypeKind::Func(sig) => {
                for (i, p) in sig.params.iter().enumerate() {
                    self.check_abi_value(p.ty, call, &format!("parameter {i}"))?;
                }
                if let Some(r) = sig.result {
                    self.check_abi_value(r.ty, call, "result")?;
                }
                (None, Vec::new())
            }
        })
    }

    /// Function parameters and results are scalars for now: aggregates by value
    /// need the C ABI classifier, which reports them as unsupported until it exists.
    fn check_abi_value(&self, ty: TypeId, call: &'static str, operand: &str) -> Result<(), Error> {
        self.check(ty).map_err(|k| Error::new(call, k).operand(operand))?;
        if !self.is_scalar(ty) {
            return Err(Error::new(
                call,
                ErrorKind::Unsupported {
                    feature: format!("{} passed by value (aggregate ABI classification)", self.display(ty)),
                },
            )
            .operand(operand));
        }
        Ok(())
    }
}
