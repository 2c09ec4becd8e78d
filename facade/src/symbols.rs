//! Symbols (`doc/symbols.md`): one name model. The linkage name is the exact
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
    /// Object-level placement: COMDAT group, section, retention.
    pub placement: Placement,
    /// A prologue stack-limit check, for growable stacks (`doc/stacks.md`).
    pub stack_check: Option<StackCheck>,
}

/// A prologue check for growable (segmented) stacks (`doc/stacks.md`): on
/// entry, the function compares its stack pointer (after its own frame is
/// allocated) with a limit read through one of its pointer parameters; below
/// the limit it calls `grow(resume, frame)` instead of running its body, and
/// returns what `grow` left in the frame. `grow` must run `resume(frame)` (a
/// compiler-made function that calls this one again with the same arguments
/// and stores its result in the frame) on a stack with more room, usually a
/// new segment, and return after it. The limit must leave room below it for
/// one frame and whatever the function's leaf calls need (a red zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StackCheck {
    /// Index of the pointer parameter (in the default address space) the limit is read through.
    pub limit_param: u32,
    /// Byte offset of the limit, a pointer-sized unsigned integer, from that parameter.
    pub limit_offset: u32,
    /// The function called to grow the stack: `void grow(ptr resume, ptr frame)`
    /// in the C convention, usually `GcRole::Runtime` (it runs managed code).
    pub grow: crate::Sym,
    /// The stack map ID of the call of `grow` and of `resume`'s call of the
    /// function (in managed functions, safepoints at which no managed value
    /// of their frames is live).
    pub safepoint_id: u64,
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
            placement: Placement::default(),
            stack_check: None,
        }
    }

    /// Checks the stack limit in the prologue and grows the stack below it ([`StackCheck`]).
    pub fn stack_check(mut self, check: StackCheck) -> Self {
        self.stack_check = Some(check);
        self
    }

    /// Puts the function in COMDAT group `comdat` (`doc/symbols.md`).
    pub fn comdat(mut self, comdat: Comdat) -> Self {
        self.placement.comdat = Some(comdat);
        self
    }

    /// Places the function in the named object-file section.
    pub fn section(mut self, section: impl Into<String>) -> Self {
        self.placement.section = Some(section.into());
        self
    }

    /// Keeps the function even if nothing refers to it.
    pub fn retain(mut self, retain: Retain) -> Self {
        self.placement.retain = retain;
        self
    }

    /// Makes the function an entry point of ELF loadable partition `partition`.
    pub fn partition(mut self, partition: impl Into<String>) -> Self {
        self.placement.partition = Some(partition.into());
        self
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
    /// Object-level placement: COMDAT group, section, retention.
    pub placement: Placement,
    /// Thread-local storage with this access model; `None` = one object per program.
    pub tls: Option<TlsModel>,
    /// The address is not significant: a read-only object whose contents equal
    /// another's may share its storage (mergeable constant and string sections).
    pub mergeable: bool,
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
            placement: Placement::default(),
            tls: None,
            mergeable: false,
        }
    }

    /// Puts the object in COMDAT group `comdat` (`doc/symbols.md`).
    pub fn comdat(mut self, comdat: Comdat) -> Self {
        self.placement.comdat = Some(comdat);
        self
    }

    /// Places the object in the named object-file section.
    pub fn section(mut self, section: impl Into<String>) -> Self {
        self.placement.section = Some(section.into());
        self
    }

    /// Keeps the object even if nothing refers to it.
    pub fn retain(mut self, retain: Retain) -> Self {
        self.placement.retain = retain;
        self
    }

    /// Makes the object an entry point of ELF loadable partition `partition`.
    pub fn partition(mut self, partition: impl Into<String>) -> Self {
        self.placement.partition = Some(partition.into());
        self
    }

    /// Makes the object thread-local, accessed with `model`.
    pub fn thread_local(mut self, model: TlsModel) -> Self {
        self.tls = Some(model);
        self
    }

    /// Marks a read-only object mergeable (its address is not significant).
    pub fn mergeable(mut self) -> Self {
        self.mergeable = true;
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

/// How the linker picks among COMDAT groups of the same name in different
/// objects. Which kinds an object format has: [`crate::TargetInfo::supports_comdat`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ComdatKind {
    /// Keep any one group (ELF `GRP_COMDAT`, COFF `SELECT_ANY`, wasm).
    Any,
    /// Keep one; all must have identical contents (COFF only).
    ExactMatch,
    /// Keep the largest (COFF only).
    Largest,
    /// Keep every group: no deduplication (ELF, COFF).
    NoDeduplicate,
    /// Keep one; all must have the same size (COFF only).
    SameSize,
}

/// Membership in a COMDAT group: the symbols of one group are kept or
/// discarded together by the linker.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Comdat {
    /// The group's name (on COFF, one member must have this linkage name).
    pub name: String,
    /// The selection rule.
    pub kind: ComdatKind,
}

impl Comdat {
    /// Group `name` with selection `kind`.
    pub fn new(name: impl Into<String>, kind: ComdatKind) -> Self {
        Self { name: name.into(), kind }
    }

    /// Group `name` with selection [`ComdatKind::Any`].
    pub fn any(name: impl Into<String>) -> Self {
        Self::new(name, ComdatKind::Any)
    }
}

/// Whether a symbol is kept although nothing refers to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Retain {
    /// Dropped by the optimizer and the linker's section GC when unreferenced.
    #[default]
    No,
    /// Kept by the compiler (`llvm.compiler.used`); the linker may still drop it.
    Compiler,
    /// Kept by the compiler and the linker (`llvm.used`; on ELF the section is
    /// `SHF_GNU_RETAIN`, so `--gc-sections` keeps it).
    Linker,
}

/// Object-level placement shared by functions and data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    /// COMDAT group, if any.
    pub comdat: Option<Comdat>,
    /// Explicit section name, if any (Mach-O: `segment,section`).
    pub section: Option<String>,
    /// Retention.
    pub retain: Retain,
    /// ELF loadable partition (lld `.llvm_sympart`), if any: the symbol is an
    /// entry point of that partition (`doc/symbols.md`).
    pub partition: Option<String>,
}

/// Thread-local access models (the ELF TLS models; other formats lower every
/// model to their single mechanism). Each model is an assumption the
/// frontend makes about where the object is defined and how it is loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TlsModel {
    /// Any object, any module (`__tls_get_addr` per access).
    GeneralDynamic,
    /// Defined in the module being linked; any loading.
    LocalDynamic,
    /// Any object, but in a module loaded at program start (GOT entry, no call).
    InitialExec,
    /// Defined in the executable itself (a constant offset from the thread pointer).
    LocalExec,
}

/// Declaration of an alias: a second name for a defined function or data object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AliasDecl {
    /// Linkage of the alias name (not `ExternalWeak`).
    pub linkage: Linkage,
    /// Visibility of the alias name.
    pub visibility: Visibility,
}

impl AliasDecl {
    /// An external, default-visibility alias.
    pub fn new() -> Self {
        Self::default()
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

/// Module initialisation and finalisation arrays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InitFini {
    /// Runs before `main` (`llvm.global_ctors`, ELF `.init_array`).
    Constructor,
    /// Runs after `main` returns or at `exit` (`llvm.global_dtors`, ELF `.fini_array`).
    Destructor,
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

    /// The declaration's object-level placement.
    pub fn placement(&self) -> &Placement {
        match &self.kind {
            SymbolKind::Func(d) => &d.placement,
            SymbolKind::Data(d) => &d.placement,
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
