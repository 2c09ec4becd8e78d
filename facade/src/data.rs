//! Data definitions: object bytes plus relocations, with no
//! aggregate constant model. Frontends lay out initializers themselves.

use crate::{Label, Sym};

/// One piece of an initializer, laid out in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataPiece {
    /// Literal bytes.
    Bytes(Vec<u8>),
    /// That many zero bytes.
    Zeros(u64),
    /// A pointer-sized slot holding the address of `target` plus `addend` bytes,
    /// as a pointer into address space `addr_space` (0 for ordinary pointers;
    /// see `TargetInfo::supports_address_constants_in`).
    Reloc {
        /// The symbol whose address is stored.
        target: Sym,
        /// Byte offset added to the address.
        addend: i64,
        /// The address space of the stored pointer.
        addr_space: u32,
    },
    /// A pointer-sized slot holding the address of a label of the open
    /// function (a dispatch table for `indirect_br`); the data must be defined
    /// while that function is open.
    LabelAddr(Label),
}

/// The initializer of a data object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataInit {
    /// Pieces in address order.
    pub pieces: Vec<DataPiece>,
}

impl DataInit {
    /// An empty initializer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An all-zero initializer of `size` bytes.
    pub fn zeroed(size: u64) -> Self {
        Self::new().zeros(size)
    }

    /// Appends literal bytes.
    pub fn bytes(mut self, bytes: &[u8]) -> Self {
        self.pieces.push(DataPiece::Bytes(bytes.to_vec()));
        self
    }

    /// Appends zero bytes.
    pub fn zeros(mut self, count: u64) -> Self {
        self.pieces.push(DataPiece::Zeros(count));
        self
    }

    /// Appends a pointer to `target` + `addend`.
    pub fn reloc(self, target: Sym, addend: i64) -> Self {
        self.reloc_in(target, addend, 0)
    }

    /// Appends a pointer to `target` + `addend` in address space `addr_space`
    /// (a managed space's static objects, or a target's other pointer spaces).
    pub fn reloc_in(mut self, target: Sym, addend: i64, addr_space: u32) -> Self {
        self.pieces.push(DataPiece::Reloc { target, addend, addr_space });
        self
    }

    /// Appends the address of `label` (see [`DataPiece::LabelAddr`]).
    pub fn label_addr(mut self, label: Label) -> Self {
        self.pieces.push(DataPiece::LabelAddr(label));
        self
    }

    /// Size in bytes for a target with `pointer_size`-byte pointers.
    pub fn size(&self, pointer_size: u64) -> u64 {
        self.pieces
            .iter()
            .map(|p| match p {
                DataPiece::Bytes(b) => b.len() as u64,
                DataPiece::Zeros(n) => *n,
                DataPiece::Reloc { .. } | DataPiece::LabelAddr(_) => pointer_size,
            })
            .fold(0u64, u64::saturating_add)
    }
}
