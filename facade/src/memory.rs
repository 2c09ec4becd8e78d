//! The memory access descriptor (`doc/semantics.md`): the one spelling of every memory
//! fact, carried by every operation that touches memory.

use crate::TypeId;

/// Memory access flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct MemFlags(u32);

impl MemFlags {
    /// No flags.
    pub const NONE: MemFlags = MemFlags(0);
    /// The access is observable and is neither removed, merged nor reordered with other volatile accesses.
    pub const VOLATILE: MemFlags = MemFlags(1);
    /// Hint: the data is not reused soon (streaming store/load).
    pub const NONTEMPORAL: MemFlags = MemFlags(2);
    /// Loads only: the memory does not change while it is reachable.
    pub const INVARIANT: MemFlags = MemFlags(4);
    const ALL: u32 = 7;

    /// The raw bits, for C callers.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Flags from raw bits; `None` if unknown bits are set.
    pub fn from_bits(bits: u32) -> Option<Self> {
        (bits & !Self::ALL == 0).then_some(MemFlags(bits))
    }

    /// Whether every flag in `other` is set.
    pub fn contains(self, other: MemFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The flags set both here and in `other`.
    pub fn intersection(self, other: MemFlags) -> MemFlags {
        MemFlags(self.0 & other.0)
    }

    /// Whether no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl std::ops::BitOr for MemFlags {
    type Output = MemFlags;
    fn bitor(self, rhs: MemFlags) -> MemFlags {
        MemFlags(self.0 | rhs.0)
    }
}

/// Describes one memory access: what is loaded or stored and what may be assumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemAccess {
    /// The value type loaded or stored.
    pub ty: TypeId,
    /// Alignment in bytes; 0 = natural for `ty`. Under-alignment is allowed.
    pub align: u32,
    /// Address space; `None` = the address operand's own.
    pub addr_space: Option<u32>,
    /// Volatile, non-temporal, invariant.
    pub flags: MemFlags,
    /// The alias scope this access belongs to (from [`crate::Cg::alias_scope`]; 0 = none).
    pub alias_scope: u32,
    /// A scope this access does not alias with: it touches no memory that accesses
    /// in that scope touch (0 = none).
    pub noalias_scope: u32,
}

impl MemAccess {
    /// A plain, naturally aligned access of `ty`.
    pub fn new(ty: TypeId) -> Self {
        Self { ty, align: 0, addr_space: None, flags: MemFlags::NONE, alias_scope: 0, noalias_scope: 0 }
    }

    /// Sets the alignment (0 = natural).
    pub fn align(mut self, align: u32) -> Self {
        self.align = align;
        self
    }

    /// Adds flags.
    pub fn flags(mut self, flags: MemFlags) -> Self {
        self.flags = self.flags | flags;
        self
    }

    /// Marks the access volatile.
    pub fn volatile(self) -> Self {
        self.flags(MemFlags::VOLATILE)
    }

    /// Places the access in alias scope `scope`.
    pub fn in_scope(mut self, scope: u32) -> Self {
        self.alias_scope = scope;
        self
    }

    /// Declares that the access does not alias accesses in `scope`.
    pub fn noalias(mut self, scope: u32) -> Self {
        self.noalias_scope = scope;
        self
    }
}

/// A validated access as the backend receives it: alignment resolved, flags checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResolvedAccess {
    /// The value type.
    pub ty: TypeId,
    /// Alignment in bytes, never 0.
    pub align: u64,
    /// Flags, valid for the operation.
    pub flags: MemFlags,
    /// Alias scope id (0 = none), defined earlier through the backend.
    pub alias_scope: u32,
    /// Noalias scope id (0 = none).
    pub noalias_scope: u32,
}

impl ResolvedAccess {
    /// No flags and no scopes: only the type and the alignment matter.
    #[inline]
    pub fn is_plain(&self) -> bool {
        self.flags == MemFlags::NONE && self.alias_scope == 0 && self.noalias_scope == 0
    }
}

/// What a frontend declares about pointers into one address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct AddrSpacePolicy {
    /// Pointers into the space refer to garbage-collected objects and are
    /// tracked at safepoints.
    pub managed: bool,
    /// The collector may move objects (every safepoint may relocate pointers).
    pub movable: bool,
    /// Pointers may point into the middle of an object (derived pointers),
    /// which are relocated together with their base.
    pub interior: bool,
}

impl AddrSpacePolicy {
    /// A managed, moving space with interior pointers (what a copying collector needs).
    pub fn managed_moving() -> Self {
        Self { managed: true, movable: true, interior: true }
    }
}
