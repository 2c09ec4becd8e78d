//! The facts about a type that ABI classification reads: for scalars their
//! kind, for aggregates size, alignment and the scalar leaves at their byte
//! offsets (arrays and nested records flattened, empty parts dropped).

use cfree_facade::*;

/// Aggregates above this size are never split into registers by any rule
/// here (the largest case is an AArch64 HFA of four doubles, 32 bytes).
const LEAF_LIMIT_BYTES: u64 = 64;

/// A scalar's kind as the ABI sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LeafKind {
    Int(IntWidth),
    Ptr,
    F32,
    F64,
}

impl LeafKind {
    pub(crate) fn is_float(self) -> bool {
        matches!(self, LeafKind::F32 | LeafKind::F64)
    }
}

/// One scalar inside an aggregate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Leaf {
    pub(crate) offset: u64,
    pub(crate) size: u64,
    pub(crate) kind: LeafKind,
}

/// An aggregate's ABI facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Aggregate {
    pub(crate) size: u64,
    /// Alignment, including the record's own `align`.
    pub(crate) align: u64,
    /// Alignment from the members alone (AArch64's "unadjusted" alignment).
    pub(crate) natural_align: u64,
    /// Scalar leaves in offset order, for aggregates of at most 64 bytes.
    pub(crate) leaves: Option<Vec<Leaf>>,
    /// A zero-length array appears somewhere (it disqualifies an HFA).
    pub(crate) zero_length_array: bool,
    /// The top-level fields, when every one is a scalar (i686 expansion).
    pub(crate) scalar_fields: Option<Vec<LeafKind>>,
    /// The one non-empty element, through single-field records and
    /// one-element arrays, when it fills the whole aggregate (clang's
    /// "single element struct").
    pub(crate) single_element: Option<LeafKind>,
}

/// A parameter's or result's type as the ABI sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    Scalar(LeafKind),
    Aggregate(Aggregate),
}

impl Shape {
    pub(crate) fn of(types: &TypeTable, ty: TypeId, target: &TargetInfo) -> Shape {
        if let Some(kind) = scalar_kind(types, ty) {
            return Shape::Scalar(kind);
        }
        let layout = types.layout(ty).expect("signatures hold sized types");
        let mut zero_length_array = false;
        let leaves = (layout.size <= LEAF_LIMIT_BYTES).then(|| {
            let mut out = Vec::new();
            collect_leaves(types, ty, 0, &mut out, &mut zero_length_array);
            out
        });
        Shape::Aggregate(Aggregate {
            size: layout.size,
            align: layout.align,
            natural_align: natural_align(types, ty),
            leaves,
            zero_length_array,
            scalar_fields: scalar_fields(types, ty),
            single_element: single_element(types, ty, layout.size, target.pointer.size),
        })
    }
}

fn scalar_kind(types: &TypeTable, ty: TypeId) -> Option<LeafKind> {
    Some(match types.get(ty)? {
        TypeKind::Int(w) => LeafKind::Int(*w),
        TypeKind::Float(FloatWidth::F32) => LeafKind::F32,
        TypeKind::Float(FloatWidth::F64) => LeafKind::F64,
        TypeKind::Ptr { .. } => LeafKind::Ptr,
        _ => return None,
    })
}

/// Alignment from the members, ignoring a record's own `align`.
fn natural_align(types: &TypeTable, ty: TypeId) -> u64 {
    match types.get(ty) {
        Some(TypeKind::Record { fields, .. }) => {
            fields.iter().filter_map(|f| types.layout(*f)).map(|l| l.align).max().unwrap_or(1)
        }
        _ => types.layout(ty).map_or(1, |l| l.align),
    }
}

fn collect_leaves(types: &TypeTable, ty: TypeId, base: u64, out: &mut Vec<Leaf>, zero_len: &mut bool) {
    if let Some(kind) = scalar_kind(types, ty) {
        let size = types.layout(ty).map_or(0, |l| l.size);
        out.push(Leaf { offset: base, size, kind });
        return;
    }
    match types.get(ty) {
        Some(TypeKind::Array { elem, count }) => {
            let elem_size = types.layout(*elem).map_or(0, |l| l.size);
            if *count == 0 {
                *zero_len = true;
                return;
            }
            if elem_size == 0 {
                return;
            }
            for i in 0..*count {
                collect_leaves(types, *elem, base + i * elem_size, out, zero_len);
            }
        }
        Some(TypeKind::Record { fields, .. }) => {
            let offsets = types.field_offsets(ty).unwrap_or(&[]);
            for (f, off) in fields.iter().zip(offsets) {
                collect_leaves(types, *f, base + off, out, zero_len);
            }
        }
        _ => {}
    }
}

/// The fields of a record whose fields are all scalars; an array by value
/// counts as a record holding the array (so it has no scalar fields).
fn scalar_fields(types: &TypeTable, ty: TypeId) -> Option<Vec<LeafKind>> {
    match types.get(ty)? {
        TypeKind::Record { fields, .. } => fields.iter().map(|f| scalar_kind(types, *f)).collect(),
        _ => None,
    }
}

fn single_element(types: &TypeTable, ty: TypeId, size: u64, pointer: u64) -> Option<LeafKind> {
    let found = single_element_of_record(types, ty)?;
    let found_size = match found {
        LeafKind::Int(w) => u64::from(w.bits()).div_ceil(8),
        LeafKind::Ptr => pointer,
        LeafKind::F32 => 4,
        LeafKind::F64 => 8,
    };
    (found_size == size).then_some(found)
}

/// clang's `isSingleElementStruct` for C records.
fn single_element_of_record(types: &TypeTable, ty: TypeId) -> Option<LeafKind> {
    let TypeKind::Record { fields, .. } = types.get(ty)? else { return None };
    let mut found = None;
    for f in fields {
        if is_empty_field(types, *f) {
            continue;
        }
        if found.is_some() {
            return None;
        }
        let mut ft = *f;
        while let Some(TypeKind::Array { elem, count: 1 }) = types.get(ft) {
            ft = *elem;
        }
        found = Some(match scalar_kind(types, ft) {
            Some(k) => k,
            None => single_element_of_record(types, ft)?,
        });
    }
    found
}

/// clang's `isEmptyField` with arrays allowed: zero-length arrays, and
/// (arrays of) records with only empty fields.
fn is_empty_field(types: &TypeTable, ty: TypeId) -> bool {
    let mut t = ty;
    while let Some(TypeKind::Array { elem, count }) = types.get(t) {
        if *count == 0 {
            return true;
        }
        t = *elem;
    }
    match types.get(t) {
        Some(TypeKind::Record { fields, .. }) => fields.iter().all(|f| is_empty_field(types, *f)),
        _ => false,
    }
}
