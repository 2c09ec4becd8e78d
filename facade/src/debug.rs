//! Debug information vocabulary (`doc/debuginfo.md`): what a frontend says once
//! per module (language, producer, files), the source position it keeps
//! current, and the decorations it may put on types. Everything else (a
//! function's DIE and range, its parameters and named locals, the types they
//! use) is derived from the ordinary CG calls by [`crate::Cg`], which hands
//! the backend ready-made descriptions ([`DebugType`], [`DebugFunction`],
//! [`DebugVariable`], [`DebugGlobal`]), dependencies first.

use crate::TypeId;

/// A source file registered with [`crate::Cg::debug_file`]. Ids are dense,
/// from 1 in registration order (the compile unit's own file is 1), so a
/// frontend can keep them in its own tables; [`FileId::NONE`] means "no
/// position".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

impl FileId {
    /// No file: instructions emitted under it have no source position.
    pub const NONE: FileId = FileId(0);
}

/// A source position: file, line (1-based) and column (1-based, 0 = unknown).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SrcLoc {
    /// The file.
    pub file: FileId,
    /// The line; 0 means "compiler-generated" (no line row of its own).
    pub line: u32,
    /// The column; 0 means unknown.
    pub column: u32,
}

impl SrcLoc {
    /// A position in `file`.
    pub fn new(file: FileId, line: u32, column: u32) -> Self {
        Self { file, line, column }
    }
}

/// The source language of a compile unit (`DW_AT_language`): what debuggers
/// use to pick expression syntax and value printing. The languages LLVM can
/// name; a language of its own picks the closest (C for most).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SourceLanguage {
    /// `DW_LANG_C89`.
    C89,
    /// `DW_LANG_C99`.
    C99,
    /// `DW_LANG_C11`.
    C11,
    /// `DW_LANG_C17`.
    C17,
    /// `DW_LANG_C_plus_plus`.
    CPlusPlus,
    /// `DW_LANG_C_plus_plus_11`.
    CPlusPlus11,
    /// `DW_LANG_C_plus_plus_14`.
    CPlusPlus14,
    /// `DW_LANG_C_plus_plus_17`.
    CPlusPlus17,
    /// `DW_LANG_C_plus_plus_20`.
    CPlusPlus20,
    /// `DW_LANG_ObjC`.
    ObjC,
    /// `DW_LANG_Rust`.
    Rust,
    /// `DW_LANG_Go`.
    Go,
    /// `DW_LANG_Zig`.
    Zig,
    /// `DW_LANG_Swift`.
    Swift,
    /// `DW_LANG_D`.
    D,
    /// `DW_LANG_Haskell`.
    Haskell,
    /// `DW_LANG_OCaml`.
    OCaml,
    /// `DW_LANG_Julia`.
    Julia,
    /// `DW_LANG_Kotlin`.
    Kotlin,
    /// `DW_LANG_Java`.
    Java,
    /// `DW_LANG_Python`.
    Python,
    /// `DW_LANG_Fortran95`.
    Fortran95,
    /// `DW_LANG_Crystal`.
    Crystal,
    /// `DW_LANG_Mojo`.
    Mojo,
    /// `DW_LANG_Assembly`.
    Assembly,
}

impl SourceLanguage {
    /// The `DW_LANG_*` code.
    pub fn dwarf(self) -> u16 {
        use SourceLanguage::*;
        match self {
            C89 => 0x01,
            C99 => 0x0c,
            C11 => 0x1d,
            C17 => 0x2c,
            CPlusPlus => 0x04,
            CPlusPlus11 => 0x1a,
            CPlusPlus14 => 0x21,
            CPlusPlus17 => 0x2a,
            CPlusPlus20 => 0x2b,
            ObjC => 0x10,
            Rust => 0x1c,
            Go => 0x16,
            Zig => 0x27,
            Swift => 0x1e,
            D => 0x13,
            Haskell => 0x18,
            OCaml => 0x1b,
            Julia => 0x1f,
            Kotlin => 0x26,
            Java => 0x0b,
            Python => 0x14,
            Fortran95 => 0x0e,
            Crystal => 0x28,
            Mojo => 0x33,
            Assembly => 0x31,
        }
    }
}

/// The DWARF version written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DwarfVersion {
    /// DWARF 4 (older debuggers and tools).
    V4,
    /// DWARF 5.
    #[default]
    V5,
}

impl DwarfVersion {
    /// The version number.
    pub fn number(self) -> u32 {
        match self {
            DwarfVersion::V4 => 4,
            DwarfVersion::V5 => 5,
        }
    }
}

/// What a module's compile unit says about itself
/// ([`crate::Cg::enable_debug_info`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugOptions {
    /// The source language.
    pub language: SourceLanguage,
    /// The producer (`DW_AT_producer`), e.g. `"toy 0.1"`.
    pub producer: String,
    /// The primary source file's name (file 1).
    pub file: String,
    /// The compilation directory, against which relative file names resolve.
    pub directory: String,
    /// The DWARF version.
    pub version: DwarfVersion,
    /// Whether the code will be optimised (`DW_AT_APPLE_optimized`-style hint
    /// for debuggers); it does not change what is emitted.
    pub optimized: bool,
    /// Whether functions and globals with a display name also carry their
    /// linkage name (`DW_AT_linkage_name`). Debuggers show the linkage name
    /// where one is present for C-like languages (gdb does), so a language
    /// whose symbols are prefixed or mangled but which describes itself as C
    /// turns this off to show its own names.
    pub linkage_names: bool,
}

impl DebugOptions {
    /// DWARF 5 for `file` in `directory`, language and producer given.
    pub fn new(language: SourceLanguage, producer: &str, file: &str, directory: &str) -> Self {
        Self {
            language,
            producer: producer.into(),
            file: file.into(),
            directory: directory.into(),
            version: DwarfVersion::V5,
            optimized: false,
            linkage_names: true,
        }
    }
}

/// How a base type's bits are read (`DW_ATE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BaseEncoding {
    /// Two's-complement signed integer (the default for integer types).
    Signed,
    /// Unsigned integer.
    Unsigned,
    /// Boolean (the default for `i1`).
    Boolean,
    /// IEEE float (the default for float types).
    Float,
    /// A signed character.
    SignedChar,
    /// An unsigned character.
    UnsignedChar,
}

impl BaseEncoding {
    /// The `DW_ATE_*` code.
    pub fn dwarf(self) -> u32 {
        match self {
            BaseEncoding::Signed => 0x05,
            BaseEncoding::Unsigned => 0x07,
            BaseEncoding::Boolean => 0x02,
            BaseEncoding::Float => 0x04,
            BaseEncoding::SignedChar => 0x06,
            BaseEncoding::UnsignedChar => 0x08,
        }
    }
}

/// A frontend's decoration of a CG type for debug info
/// ([`crate::Cg::describe_type`]): a source name, member names for a record,
/// an encoding for a scalar. Types are interned by shape, so a decoration
/// applies to every use of the shape in the module.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeDebugInfo {
    /// The name debuggers print (`int`, `struct Node`, `[]byte`).
    pub name: Option<String>,
    /// Record member names, in field order (missing ones are `f<index>`).
    pub fields: Vec<String>,
    /// Scalars: how the bits are read.
    pub encoding: Option<BaseEncoding>,
}

/// A type as the backend receives it: every [`TypeId`] it mentions was
/// described before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DebugType<'a> {
    /// An integer or float.
    Base {
        /// Its name.
        name: &'a str,
        /// Size in bits.
        bits: u64,
        /// Encoding.
        encoding: BaseEncoding,
    },
    /// A pointer.
    Pointer {
        /// The pointee.
        pointee: TypeId,
        /// Size in bits.
        bits: u64,
        /// The address space.
        addr_space: u32,
        /// A name (a typedef-like spelling), if the frontend gave one.
        name: Option<&'a str>,
    },
    /// A fixed-size array.
    Array {
        /// Element type.
        elem: TypeId,
        /// Element count.
        count: u64,
        /// Size in bits.
        bits: u64,
        /// Alignment in bits.
        align_bits: u32,
    },
    /// A record with its members.
    Record {
        /// Its name (may be empty: anonymous).
        name: &'a str,
        /// Size in bits.
        bits: u64,
        /// Alignment in bits.
        align_bits: u32,
        /// Members in field order.
        members: Vec<DebugMember<'a>>,
    },
    /// A function type.
    Function {
        /// Parameter types.
        params: Vec<TypeId>,
        /// Result type.
        result: Option<TypeId>,
    },
}

/// One record member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugMember<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its type.
    pub ty: TypeId,
    /// Offset in bits.
    pub offset_bits: u64,
    /// Size in bits.
    pub bits: u64,
}

/// A defined function's debug entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugFunction<'a> {
    /// The source name (the declaration's display name, else its linkage name).
    pub name: &'a str,
    /// The linkage name (empty: not described).
    pub linkage_name: &'a str,
    /// Where it is declared (the position current at the declaration, or at
    /// `func_begin` if there was none).
    pub loc: SrcLoc,
    /// Its function type.
    pub ty: TypeId,
    /// Not visible outside the module.
    pub local: bool,
}

/// A parameter or a named local.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugVariable<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its type.
    pub ty: TypeId,
    /// `Some(n)`: parameter `n` (1-based); `None`: a local.
    pub arg: Option<u32>,
    /// Where it is declared.
    pub loc: SrcLoc,
    /// Compiler-made (`SlotFlags::ARTIFICIAL` or `COMPILER_TEMP`).
    pub artificial: bool,
    /// Described without a location (`SlotFlags::OPTIMIZED_OUT`).
    pub optimized_out: bool,
}

/// A defined data symbol's debug entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugGlobal<'a> {
    /// The source name.
    pub name: &'a str,
    /// The linkage name (empty: not described).
    pub linkage_name: &'a str,
    /// Its type.
    pub ty: TypeId,
    /// Where it is defined.
    pub loc: SrcLoc,
    /// Not visible outside the module.
    pub local: bool,
}
