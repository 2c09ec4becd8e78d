//! Debug information (`cfree/cg.h`, "Debug information"; `doc/debuginfo.md`):
//! the compile unit, files, the current source position, lexical scopes and
//! type decorations. Everything else is described by the ordinary calls.

use std::ffi::{c_char, c_int};

use cfree_facade::*;

use super::{array, cg_err, entry, enum_value, put, required, text};
use crate::error::{CapiError, INVALID_ARGUMENT, NULL_POINTER};
use crate::handles;

/// `CFREE_LANG_*` in order.
const LANGUAGES: [SourceLanguage; 25] = [
    SourceLanguage::C89,
    SourceLanguage::C99,
    SourceLanguage::C11,
    SourceLanguage::C17,
    SourceLanguage::CPlusPlus,
    SourceLanguage::CPlusPlus11,
    SourceLanguage::CPlusPlus14,
    SourceLanguage::CPlusPlus17,
    SourceLanguage::CPlusPlus20,
    SourceLanguage::ObjC,
    SourceLanguage::Rust,
    SourceLanguage::Go,
    SourceLanguage::Zig,
    SourceLanguage::Swift,
    SourceLanguage::D,
    SourceLanguage::Haskell,
    SourceLanguage::OCaml,
    SourceLanguage::Julia,
    SourceLanguage::Kotlin,
    SourceLanguage::Java,
    SourceLanguage::Python,
    SourceLanguage::Fortran95,
    SourceLanguage::Crystal,
    SourceLanguage::Mojo,
    SourceLanguage::Assembly,
];

/// `CFREE_ENC_*` in order (0 = the default for the type).
const ENCODINGS: [Option<BaseEncoding>; 7] = [
    None,
    Some(BaseEncoding::Signed),
    Some(BaseEncoding::Unsigned),
    Some(BaseEncoding::Boolean),
    Some(BaseEncoding::Float),
    Some(BaseEncoding::SignedChar),
    Some(BaseEncoding::UnsignedChar),
];

// `cfree_debug_options.flags`.
const DEBUG_DWARF4: u32 = 1;
const DEBUG_OPTIMIZED: u32 = 2;
const DEBUG_NO_LINKAGE_NAMES: u32 = 4;
const DEBUG_ALL: u32 = 7;

/// `cfree_debug_options`: the compile unit.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CDebugOptions {
    /// `CFREE_LANG_*`.
    pub language: c_int,
    /// The producer (`DW_AT_producer`).
    pub producer: *const c_char,
    /// The primary source file.
    pub file: *const c_char,
    /// The compilation directory.
    pub directory: *const c_char,
    /// `CFREE_DEBUG_*` bits.
    pub flags: u32,
}

/// Turns on debug information for module `m`; `*file` is the unit file's id.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_enable_debug_info(m: u64, options: *const CDebugOptions, file: *mut u32) -> c_int {
    const CALL: &str = "cfree_cg_enable_debug_info";
    entry(CALL, || {
        if options.is_null() {
            return Err(CapiError::new(NULL_POINTER, CALL, "the options are null"));
        }
        // SAFETY: non-null and readable by the caller's contract.
        let o = unsafe { *options };
        if o.flags & !DEBUG_ALL != 0 {
            return Err(CapiError::new(
                INVALID_ARGUMENT,
                CALL,
                format!("debug flags {:#x} have undefined bits", o.flags),
            ));
        }
        let language = enum_value(CALL, &LANGUAGES, o.language, "language")?;
        // SAFETY: the caller's contract on the strings.
        let (producer, name, dir) = unsafe {
            (
                text(CALL, o.producer, "producer")?.unwrap_or(""),
                required(CALL, o.file, "file")?,
                text(CALL, o.directory, "directory")?.unwrap_or(""),
            )
        };
        let mut options = DebugOptions::new(language, producer, name, dir);
        if o.flags & DEBUG_DWARF4 != 0 {
            options.version = DwarfVersion::V4;
        }
        options.optimized = o.flags & DEBUG_OPTIMIZED != 0;
        options.linkage_names = o.flags & DEBUG_NO_LINKAGE_NAMES == 0;
        let id = handles::with_module(CALL, m, |cg| cg.enable_debug_info(options).map_err(cg_err))?;
        // SAFETY: the caller's contract on `file`.
        unsafe { put(CALL, file, id.0) }
    })
}

/// Registers source file `name` in `directory`; `*out` is its id.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_debug_file(
    m: u64,
    name: *const c_char,
    directory: *const c_char,
    out: *mut u32,
) -> c_int {
    const CALL: &str = "cfree_cg_debug_file";
    entry(CALL, || {
        // SAFETY: the caller's contract on the strings.
        let (name, dir) = unsafe { (required(CALL, name, "name")?, text(CALL, directory, "directory")?.unwrap_or("")) };
        let id = handles::with_module(CALL, m, |cg| cg.debug_file(name, dir).map_err(cg_err))?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, id.0) }
    })
}

/// Makes (`file`, `line`, `column`) the current source position (file 0: none).
#[no_mangle]
pub extern "C" fn cfree_cg_set_loc(m: u64, file: u32, line: u32, column: u32) -> c_int {
    const CALL: &str = "cfree_cg_set_loc";
    entry(CALL, || {
        handles::with_module(CALL, m, |cg| cg.set_loc(SrcLoc::new(FileId(file), line, column)).map_err(cg_err))
    })
}

/// Opens a lexical scope at the current position.
#[no_mangle]
pub extern "C" fn cfree_cg_scope_begin(m: u64) -> c_int {
    const CALL: &str = "cfree_cg_scope_begin";
    entry(CALL, || handles::with_module(CALL, m, |cg| cg.scope_begin().map_err(cg_err)))
}

/// Closes the innermost lexical scope.
#[no_mangle]
pub extern "C" fn cfree_cg_scope_end(m: u64) -> c_int {
    const CALL: &str = "cfree_cg_scope_end";
    entry(CALL, || handles::with_module(CALL, m, |cg| cg.scope_end().map_err(cg_err)))
}

/// Decorates type `ty`: `name` (may be null), `nfields` member names (may be
/// null if 0), scalar encoding `encoding` (`CFREE_ENC_*`).
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_cg_describe_type(
    m: u64,
    ty: u64,
    name: *const c_char,
    fields: *const *const c_char,
    nfields: usize,
    encoding: c_int,
) -> c_int {
    const CALL: &str = "cfree_cg_describe_type";
    entry(CALL, || {
        // SAFETY: the caller's contract on `name`, `fields` and `nfields`.
        let (name, fields) = unsafe { (text(CALL, name, "name")?, array(CALL, fields, nfields)?) };
        let mut info = TypeDebugInfo { name: name.map(str::to_string), ..TypeDebugInfo::default() };
        for (i, &f) in fields.iter().enumerate() {
            // SAFETY: each element is null or NUL-terminated by the caller's contract.
            let f = unsafe { required(CALL, f, &format!("field name {i}"))? };
            info.fields.push(f.to_string());
        }
        info.encoding = enum_value(CALL, &ENCODINGS, encoding, "encoding")?;
        handles::with_module(CALL, m, |cg| cg.describe_type(TypeId::from_bits(ty), info).map_err(cg_err))
    })
}
