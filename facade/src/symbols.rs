//! Symbols (cg-ext §9): one name model. The linkage name is the exact
//! linker-visible spelling; the optional display name is for debug info.

use crate::TypeId;

/// Symbol linkage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Linkage {
    /// Visible to other objects; may be left undefined (an import).
    #[default]
    External,
    /// Local to this object; must be defined.
    Internal,
    /// Defined here, replaceable by a strong definition elsewhere.
    Weak,
    /// Weak, and every definition is equivalent (one may be kept).
    WeakOdr,
    /// Discardable if unused; every definition is equivalent.
    LinkOnceOdr,
    /// An undefined reference that resolves to null when nothing defines it.
    ExternalWeak,
}

impl Linkage {
    /// Whether a symbol with this linkage must have a definition in the module.
    pub fn requires_definition(self) -> bool {
        matches!(self, Linkage::Internal | Linkage::Weak | Linkage::WeakOdr | Linkage::LinkOnceOdr)
    }

    /// Whether a symbol with this linkage may have a definition in the module.
    pub fn allows_definition(self) -> bool {
        self != Linkage::ExternalWeak
    }
}

/// Symbol visibility (ELF sense; other formats support a subset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Visibility {
    /// Visible and preemptible.
    #[default]
    Default,
    /// Not visible outside the linked image.
    Hidden,
    /// Visible but not preemptible.
    Protected,
}

/// Declaration of a function symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncDecl {
    /// The function type (a [`crate::TypeKind::Func`]).
    pub sig: TypeId,
    /// Linkage.
    pub linkage: Linkage,
    /// Visibility.
    pub visibility: Visibility,
    /// Source-level name for debug info, if it differs from the linkage name.
    pub display_name: Option<String>,
    /// Garbage-collection role (see `doc/gc.md`).
    pub gc: GcRole,
    /// Function attributes.
    pub attrs: crate::FuncAttrs,
}

/// A function's part in precise garbage collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum GcRole {
    /// Ordinary code: no safepoints, no managed values kept across calls.
    #[default]
    None,
    /// Managed code: every call that may collect is a safepoint with a stack map
    /// of the managed pointers live across it; managed values are relocated there.
    Safepoints,
    /// A runtime function that never collects (e.g. a write barrier): calling it
    /// is not a safepoint.
    Leaf,
    /// A runtime function implemented by the host that may collect (allocation,
    /// polls). Declared, never defined here: managed code calls it through an
    /// entry trampoline that passes the caller's frame to the host, whose
    /// implementation of the same name takes that frame pointer as an extra
    /// first argument (see `doc/gc.md`).
    Runtime,
}

impl FuncDecl {
    /// An external, default-visibility function of type `sig`.
    pub fn new(sig: TypeId) -> Self {
        Self {
            sig,
            linkage: Linkage::External,
            visibility: Visibility::Default,
            display_name: None,
            gc: GcRole::None,
            attrs: crate::FuncAttrs::default(),
        }
    }

    /// Sets the function attributes.
    pub fn attrs(mut self, attrs: crate::FuncAttrs) -> Self {
        self.attrs = attrs;
        self
    }

    /// Sets the function's garbage-collection role.
    pub fn gc(mut self, role: GcRole) -> Self {
        self.gc = role;
        self
    }

    /// Sets the linkage.
    pub fn linkage(mut self, linkage: Linkage) -> Self {
        self.linkage = linkage;
        self
    }

    /// Sets the visibility.
    pub fn visibility(mut self, visibility: Visibility) -> Self {
        self.visibility = visibility;
        self
    }
}

/// Declaration of a data symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDecl {
    /// The object's type; its size is the size of the definition.
    pub ty: TypeId,
    /// Linkage.
    pub linkage: Linkage,
    /// Visibility.
    pub visibility: Visibility,
    /// Whether the object is never written (placed in read-only data).
    pub readonly: bool,
    /// Alignment in bytes; 0 = the type's natural alignment.
    pub align: u32,
    /// Source-level name for debug info.
    pub display_name: Option<String>,
}

impl DataDecl {
    /// An external, writable, naturally aligned object of type `ty`.
    pub fn new(ty: TypeId) -> Self {
        Self {
            ty,
            linkage: Linkage::External,
            visibility: Visibility::Default,
            readonly: false,
            align: 0,
            display_name: None,
        }
    }

    /// Sets the linkage.
    pub fn linkage(mut self, linkage: Linkage) -> Self {
        self.linkage = linkage;
        self
    }

    /// Sets the visibility.
    pub fn visibility(mut self, visibility: Visibility) -> Self {
        self.visibility = visibility;
        self
    }

    /// Marks the object read-only.
    pub fn readonly(mut self) -> Self {
        self.readonly = true;
        self
    }

    /// Sets the alignment.
    pub fn align(mut self, align: u32) -> Self {
        self.align = align;
        self
    }
}

/// What a symbol names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    /// A function.
    Func(FuncDecl),
    /// A data object.
    Data(DataDecl),
}

/// A declared symbol as the facade tracks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolInfo {
    /// Exact linkage name.
    pub name: String,
    /// Function or data, with its declaration.
    pub kind: SymbolKind,
    /// Whether a body or initializer has been emitted.
    pub defined: bool,
}

impl SymbolInfo {
    /// The declaration's linkage.
    pub fn linkage(&self) -> Linkage {
        match &self.kind {
            SymbolKind::Func(d) => d.linkage,
            SymbolKind::Data(d) => d.linkage,
        }
    }

    /// The declaration's visibility.
    pub fn visibility(&self) -> Visibility {
        match &self.kind {
            SymbolKind::Func(d) => d.visibility,
            SymbolKind::Data(d) => d.visibility,
        }
    }
}
