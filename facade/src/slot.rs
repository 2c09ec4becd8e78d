//! Flags of parameter and local stack slots (`doc/architecture.md`,
//! "Slot flags").

/// What a frontend declares about a stack slot. `Cg::local_slot` makes slots
/// with [`SlotFlags::ADDRESS_TAKEN`]; `Cg::local_slot_with` and
/// `Cg::param_slot_with` take the flags explicitly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SlotFlags(u32);

impl SlotFlags {
    /// No flags: a named source variable whose address is never taken.
    pub const NONE: SlotFlags = SlotFlags(0);
    /// The slot's address may be taken (`addr_of` on the slot or a place
    /// derived from it). Without it, `addr_of` is refused (513): the frontend's
    /// promise that the slot is a plain variable is checked, not trusted.
    pub const ADDRESS_TAKEN: SlotFlags = SlotFlags(1);
    /// Introduced by the compiler for a source construct (a hidden `this`,
    /// a closure environment): described in debug info as artificial.
    pub const ARTIFICIAL: SlotFlags = SlotFlags(2);
    /// The variable exists in the source but its value is not kept: debug
    /// info describes it without a location.
    pub const OPTIMIZED_OUT: SlotFlags = SlotFlags(4);
    /// A temporary with no source name: debug info omits it.
    pub const COMPILER_TEMP: SlotFlags = SlotFlags(8);
    const ALL: u32 = 15;

    /// The raw bits, for C callers.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Flags from raw bits; `None` if unknown bits are set.
    pub fn from_bits(bits: u32) -> Option<Self> {
        (bits & !Self::ALL == 0).then_some(SlotFlags(bits))
    }

    /// Whether every flag in `other` is set.
    pub fn contains(self, other: SlotFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for SlotFlags {
    type Output = SlotFlags;
    fn bitor(self, rhs: SlotFlags) -> SlotFlags {
        SlotFlags(self.0 | rhs.0)
    }
}
