//! Small typed handles. Every handle records the module (and, for labels and
//! locals, the function) that issued it, so a handle used in the wrong place is
//! a diagnosable error rather than a silent mix-up.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

/// Issues distinct owner tags for modules and functions.
pub(crate) fn next_owner() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(C)]
        pub struct $name {
            pub(crate) owner: u32,
            pub(crate) index: u32,
        }

        impl $name {
            pub(crate) fn new(owner: u32, index: usize) -> Self {
                Self { owner, index: u32::try_from(index).expect("handle index exceeds u32") }
            }

            /// The position of this handle among its owner's handles of the same kind.
            pub fn index(self) -> usize {
                self.index as usize
            }

            /// Packs the handle into 64 bits (owner in the high half), for C callers.
            pub fn to_bits(self) -> u64 {
                (u64::from(self.owner) << 32) | u64::from(self.index)
            }

            /// The inverse of [`Self::to_bits`]; validity is checked where the handle is used.
            pub fn from_bits(bits: u64) -> Self {
                Self { owner: (bits >> 32) as u32, index: bits as u32 }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.index)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
    };
}

handle!(
    /// A type interned in one module's type table.
    TypeId, "t"
);
handle!(
    /// A declared symbol (function or data) of one module.
    Sym, "sym"
);
handle!(
    /// A branch target inside one function.
    Label, "L"
);
handle!(
    /// A stack slot (parameter or local) of one function.
    Local, "local"
);
