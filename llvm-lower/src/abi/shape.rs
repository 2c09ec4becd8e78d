//! The facts about a type that ABI classification reads: for scalars their
//! kind, for aggregates size, alignment and the scalar leaves at their byte
//! offsets (arrays and nested records flattened, empty parts dropped).
//!
//! Types are interned fields first, so each shape is built from its fields'
//! shapes, computed earlier: no recursion, whatever a type's nesting depth.

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
    /// "single element struct"; records only).
    pub(crate) single_element: Option<LeafKind>,
    /// As a field of a record: the single scalar it amounts to (arrays of
    /// one element look through; records need their own single element).
    as_field: Option<LeafKind>,
}

/// A parameter's or result's type as the ABI sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    Scalar(LeafKind),
    Aggregate(Aggregate),
}

impl Shape {
    /// The shape of `ty`, from the shapes of the types it is made of (`known`).
    pub(crate) fn of<'s>(
        types: &TypeTable,
        ty: TypeId,
        target: &TargetInfo,
        known: impl Fn(TypeId) -> Option<&'s Shape>,
    ) -> Shape {
        let layout = types.layout(ty).unwrap_or(Layout { size: 0, align: 1 });
        let kind = match types.get(ty) {
            Some(TypeKind::Int(w)) => return Shape::Scalar(LeafKind::Int(*w)),
            Some(TypeKind::Float(FloatWidth::F32)) => return Shape::Scalar(LeafKind::F32),
            Some(TypeKind::Float(FloatWidth::F64)) => return Shape::Scalar(LeafKind::F64),
            Some(TypeKind::Ptr { .. }) => return Shape::Scalar(LeafKind::Ptr),
            Some(k) => k,
            None => return Shape::Aggregate(Aggregate::empty(layout)),
        };
        let small = layout.size <= LEAF_LIMIT_BYTES;
        let mut agg = Aggregate::empty(layout);
        match kind {
            TypeKind::Array { elem, count } => {
                let e = known(*elem);
                let elem_size = types.layout(*elem).map_or(0, |l| l.size);
                agg.natural_align = layout.align;
                agg.zero_length_array = *count == 0 || e.is_some_and(Shape::has_zero_length_array);
                if small {
                    let mut leaves = Vec::new();
                    if elem_size > 0 {
                        for i in 0..*count {
                            push_leaves(&mut leaves, e, i * elem_size, elem_size);
                        }
                    }
                    agg.leaves = Some(leaves);
                }
                agg.as_field = if *count == 1 { e.and_then(Shape::field_element) } else { None };
            }
            TypeKind::Record { fields, .. } => {
                let offsets = types.field_offsets(ty).unwrap_or(&[]);
                let mut leaves = small.then(Vec::new);
                let mut scalars = Some(Vec::with_capacity(fields.len()));
                let mut single: Option<Option<LeafKind>> = None;
                agg.natural_align = 1;
                for (f, off) in fields.iter().zip(offsets) {
                    let fs = known(*f);
                    let fl = types.layout(*f).unwrap_or(Layout { size: 0, align: 1 });
                    agg.natural_align = agg.natural_align.max(fl.align);
                    agg.zero_length_array |= fs.is_some_and(Shape::has_zero_length_array);
                    if let Some(out) = leaves.as_mut() {
                        push_leaves(out, fs, *off, fl.size);
                    }
                    scalars = match (scalars, fs) {
                        (Some(mut v), Some(Shape::Scalar(k))) => {
                            v.push(*k);
                            Some(v)
                        }
                        _ => None,
                    };
                    // clang's isSingleElementStruct: empty fields are ignored, a second
                    // non-empty field disqualifies, the element must fill the record.
                    if fl.size > 0 {
                        single = match single {
                            None => Some(fs.and_then(Shape::field_element)),
                            Some(_) => Some(None),
                        };
                    }
                }
                agg.leaves = leaves;
                agg.scalar_fields = scalars;
                let element = single.flatten();
                let element_size = |k: LeafKind| match k {
                    LeafKind::Int(w) => u64::from(w.bits()).div_ceil(8),
                    LeafKind::Ptr => target.pointer.size,
                    LeafKind::F32 => 4,
                    LeafKind::F64 => 8,
                };
                agg.single_element = element.filter(|k| element_size(*k) == layout.size);
                agg.as_field = agg.single_element;
            }
            TypeKind::Func(_) | TypeKind::Int(_) | TypeKind::Float(_) | TypeKind::Ptr { .. } => {}
        }
        Shape::Aggregate(agg)
    }

    fn has_zero_length_array(&self) -> bool {
        matches!(self, Shape::Aggregate(a) if a.zero_length_array)
    }

    /// The single scalar this type amounts to as a record field.
    fn field_element(&self) -> Option<LeafKind> {
        match self {
            Shape::Scalar(k) => Some(*k),
            Shape::Aggregate(a) => a.as_field,
        }
    }
}

impl Aggregate {
    fn empty(layout: Layout) -> Self {
        Aggregate {
            size: layout.size,
            align: layout.align,
            natural_align: layout.align,
            leaves: None,
            zero_length_array: false,
            scalar_fields: None,
            single_element: None,
            as_field: None,
        }
    }
}

/// Appends the leaves of a member of `size` bytes at `base`; a member whose
/// leaves are not known (over the size limit) cannot occur inside a small
/// aggregate, so it contributes nothing.
fn push_leaves(out: &mut Vec<Leaf>, member: Option<&Shape>, base: u64, size: u64) {
    match member {
        Some(Shape::Scalar(kind)) => out.push(Leaf { offset: base, size, kind: *kind }),
        Some(Shape::Aggregate(a)) => {
            if let Some(leaves) = &a.leaves {
                out.extend(leaves.iter().map(|l| Leaf { offset: base + l.offset, ..*l }));
            }
        }
        None => {}
    }
}
