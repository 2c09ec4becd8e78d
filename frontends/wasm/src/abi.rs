//! What compiled code and the runtime agree on: the calling convention of
//! compiled wasm functions, the instance context ("vmctx") layout, the trap
//! codes and the runtime symbols.
//!
//! Every compiled function takes the callee instance's vmctx pointer first,
//! then, when it has two or more results, a pointer to a *return area* (one
//! 8-byte slot per result, each written with its own type at offset `8 * i`),
//! then its wasm parameters; a single result is the return value.
//!
//! The vmctx is an array of 8-byte slots:
//!
//! | slot | contents |
//! |---|---|
//! | 0 | pointer to the [memory definition](MEMORY_BASE) (`base`, `bytes`), or null |
//! | 1 | pointer to the table definition (`elems`, `len`), or null |
//! | 2 + g | pointer to global `g`'s 8-byte cell (imported globals point into the exporter) |
//! | F + 3 f | function `f`'s reference: code address, its instance's vmctx, canonical type id |
//! | W + f | function `f`'s entry wrapper `void(vmctx, u64 *vals)`, or 0 |
//!
//! with `F = 2 + globals` and `W = F + 3 * functions`. A table element is a
//! function reference of the same three words; a null element has type id
//! [`NULL_TYPE_ID`].

/// Offset of the memory base pointer in a memory definition.
pub const MEMORY_BASE: i64 = 0;
/// Offset of the memory size in bytes in a memory definition.
pub const MEMORY_BYTES: i64 = 8;
/// Offset of the element array in a table definition.
pub const TABLE_ELEMS: i64 = 0;
/// Offset of the length in a table definition.
pub const TABLE_LEN: i64 = 8;
/// Size of a function reference (code, vmctx, type id).
pub const FUNCREF_SIZE: u64 = 24;
/// Type id of a null table element.
pub const NULL_TYPE_ID: u64 = u64::MAX;
/// Bytes of one wasm page.
pub const PAGE_SIZE: u64 = 65536;

/// The trap handler: `void cfree_wasm_trap(i32 code)`, never returns.
pub const TRAP_FN: &str = "cfree_wasm_trap";
/// `i32 cfree_wasm_memory_grow(vmctx, i32 delta)`: old size in pages or -1.
pub const MEMORY_GROW_FN: &str = "cfree_wasm_memory_grow";
/// The lowest stack address compiled code may run at (`u64`).
pub const STACK_LIMIT: &str = "cfree_wasm_stack_limit";

/// Slot offsets of one module's vmctx.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmLayout {
    /// Number of globals (imported and defined).
    pub globals: u32,
    /// Number of functions (imported and defined).
    pub funcs: u32,
}

impl VmLayout {
    /// Byte offset of the memory definition pointer.
    pub const MEMORY: i64 = 0;
    /// Byte offset of the table definition pointer.
    pub const TABLE: i64 = 8;

    /// Byte offset of global `g`'s cell pointer.
    pub fn global(&self, g: u32) -> i64 {
        8 * (2 + i64::from(g))
    }

    /// Byte offset of function `f`'s reference (code; vmctx at +8; type id at +16).
    pub fn func(&self, f: u32) -> i64 {
        8 * (2 + i64::from(self.globals) + 3 * i64::from(f))
    }

    /// Byte offset of function `f`'s entry wrapper.
    pub fn wrapper(&self, f: u32) -> i64 {
        8 * (2 + i64::from(self.globals) + 3 * i64::from(self.funcs) + i64::from(f))
    }

    /// Number of slots.
    pub fn slots(&self) -> usize {
        2 + self.globals as usize + 4 * self.funcs as usize
    }
}

/// Why wasm code trapped (the code `cfree_wasm_trap` receives).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Trap {
    /// `unreachable` executed.
    Unreachable = 1,
    /// A load or store outside the memory.
    MemoryOutOfBounds = 2,
    /// `call_indirect` index past the table's end.
    UndefinedElement = 3,
    /// `call_indirect` of a null element.
    UninitializedElement = 4,
    /// `call_indirect` of a function of another type.
    IndirectCallTypeMismatch = 5,
    /// Integer division or remainder by zero.
    IntegerDivideByZero = 6,
    /// Signed division overflow, or a float-to-int conversion out of range.
    IntegerOverflow = 7,
    /// The stack limit was reached.
    StackExhausted = 8,
    /// A float-to-int conversion of NaN.
    InvalidConversion = 9,
}

impl Trap {
    /// Every trap, in code order.
    pub const ALL: [Trap; 9] = [
        Trap::Unreachable,
        Trap::MemoryOutOfBounds,
        Trap::UndefinedElement,
        Trap::UninitializedElement,
        Trap::IndirectCallTypeMismatch,
        Trap::IntegerDivideByZero,
        Trap::IntegerOverflow,
        Trap::StackExhausted,
        Trap::InvalidConversion,
    ];

    /// The trap with `code`.
    pub fn from_code(code: i32) -> Option<Trap> {
        Trap::ALL.into_iter().find(|t| *t as i32 == code)
    }

    /// The spec interpreter's message for this trap.
    pub fn message(self) -> &'static str {
        match self {
            Trap::Unreachable => "unreachable",
            Trap::MemoryOutOfBounds => "out of bounds memory access",
            Trap::UndefinedElement => "undefined element",
            Trap::UninitializedElement => "uninitialized element",
            Trap::IndirectCallTypeMismatch => "indirect call type mismatch",
            Trap::IntegerDivideByZero => "integer divide by zero",
            Trap::IntegerOverflow => "integer overflow",
            Trap::StackExhausted => "call stack exhausted",
            Trap::InvalidConversion => "invalid conversion to integer",
        }
    }
}
