//! Decoding and validation: a wasm binary to a [`ModuleInfo`] with
//! wasmparser, for the feature set of `doc/wasm.md` (Wasm 1.0, mutable globals,
//! sign extension, non-trapping float-to-int, multi-value).

use wasmparser::{
    ConstExpr as WpConstExpr, DataKind, ElementItems, ElementKind, ExternalKind, FunctionBody, Operator, Parser,
    Payload, TypeRef, Validator, WasmFeatures,
};

use crate::error::{Error, Result};

/// A wasm value type of the supported feature set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `f32`
    F32,
    /// `f64`
    F64,
}

impl ValType {
    /// wasmparser's type, if in the feature set (`offset` for the error).
    pub(crate) fn from_wp(t: wasmparser::ValType, offset: u64) -> Result<ValType> {
        match t {
            wasmparser::ValType::I32 => Ok(ValType::I32),
            wasmparser::ValType::I64 => Ok(ValType::I64),
            wasmparser::ValType::F32 => Ok(ValType::F32),
            wasmparser::ValType::F64 => Ok(ValType::F64),
            other => Err(Error::Unsupported { what: format!("value type {other}"), offset }),
        }
    }
}

/// A function type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncType {
    /// Parameter types.
    pub params: Vec<ValType>,
    /// Result types (several with multi-value).
    pub results: Vec<ValType>,
}

/// Limits of a table or memory (in elements or 64 KiB pages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Initial size.
    pub min: u64,
    /// Maximum size, if declared.
    pub max: Option<u64>,
}

/// A global's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalType {
    /// Value type.
    pub ty: ValType,
    /// Whether `global.set` may change it.
    pub mutable: bool,
}

/// A constant expression of the feature set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstExpr {
    /// `i32.const`
    I32(i32),
    /// `i64.const`
    I64(i64),
    /// `f32.const` (bits)
    F32(u32),
    /// `f64.const` (bits)
    F64(u64),
    /// `global.get` of an (imported) global
    GlobalGet(u32),
}

/// What an import brings in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportKind {
    /// A function of the given type index.
    Func(u32),
    /// The table.
    Table(Limits),
    /// The memory.
    Memory(Limits),
    /// A global.
    Global(GlobalType),
}

/// An import.
#[derive(Clone, Debug)]
pub struct Import {
    /// Module name.
    pub module: String,
    /// Field name.
    pub name: String,
    /// What it is.
    pub kind: ImportKind,
}

/// The kinds of exported entities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// Function index.
    Func(u32),
    /// Table 0.
    Table,
    /// Memory 0.
    Memory,
    /// Global index.
    Global(u32),
}

/// An active element segment.
#[derive(Clone, Debug)]
pub struct ElemSegment {
    /// Offset into the table.
    pub offset: ConstExpr,
    /// Function indices.
    pub funcs: Vec<u32>,
}

/// An active data segment.
#[derive(Clone, Debug)]
pub struct DataSegment<'a> {
    /// Offset into memory.
    pub offset: ConstExpr,
    /// Bytes.
    pub bytes: &'a [u8],
}

/// A decoded and validated module.
#[derive(Debug, Default)]
pub struct ModuleInfo<'a> {
    /// The type section.
    pub types: Vec<FuncType>,
    /// Imports, in order.
    pub imports: Vec<Import>,
    /// Type index of every function, imported ones first.
    pub funcs: Vec<u32>,
    /// Number of imported functions.
    pub imported_funcs: u32,
    /// The table (imported or defined), if any.
    pub table: Option<Limits>,
    /// The memory (imported or defined), if any.
    pub memory: Option<Limits>,
    /// Whether the table is imported.
    pub table_imported: bool,
    /// Whether the memory is imported.
    pub memory_imported: bool,
    /// Type of every global, imported ones first.
    pub globals: Vec<GlobalType>,
    /// Number of imported globals.
    pub imported_globals: u32,
    /// Initialisers of the defined globals.
    pub global_inits: Vec<ConstExpr>,
    /// Exports.
    pub exports: Vec<(String, ExportKind)>,
    /// The start function.
    pub start: Option<u32>,
    /// Active element segments.
    pub elems: Vec<ElemSegment>,
    /// Active data segments.
    pub datas: Vec<DataSegment<'a>>,
    /// Bodies of the defined functions.
    pub bodies: Vec<FunctionBody<'a>>,
}

impl ModuleInfo<'_> {
    /// The type of function `index`.
    pub fn func_type(&self, index: u32) -> &FuncType {
        &self.types[self.funcs[index as usize] as usize]
    }
}

/// The wasm features this frontend implements.
pub fn features() -> WasmFeatures {
    WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::SATURATING_FLOAT_TO_INT
        | WasmFeatures::MULTI_VALUE
        | WasmFeatures::FLOATS
}

/// Validates `bytes` and decodes it.
pub fn decode(bytes: &[u8]) -> Result<ModuleInfo<'_>> {
    let mut validator = Validator::new_with_features(features());
    validator.validate_all(bytes).map_err(Error::Invalid)?;
    let mut m = ModuleInfo::default();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(Error::Invalid)? {
            Payload::TypeSection(r) => {
                let offset = r.range().start;
                for t in r.into_iter_err_on_gc_types() {
                    let t = t.map_err(Error::Invalid)?;
                    let params = t.params().iter().map(|&p| ValType::from_wp(p, offset)).collect::<Result<_>>()?;
                    let results = t.results().iter().map(|&p| ValType::from_wp(p, offset)).collect::<Result<_>>()?;
                    m.types.push(FuncType { params, results });
                }
            }
            Payload::ImportSection(r) => {
                let offset = r.range().start;
                for imp in r.into_imports() {
                    let imp = imp.map_err(Error::Invalid)?;
                    let kind = match imp.ty {
                        TypeRef::Func(t) => {
                            m.funcs.push(t);
                            m.imported_funcs += 1;
                            ImportKind::Func(t)
                        }
                        TypeRef::Table(t) => {
                            let l = Limits { min: t.initial, max: t.maximum };
                            m.table = Some(l);
                            m.table_imported = true;
                            ImportKind::Table(l)
                        }
                        TypeRef::Memory(t) => {
                            let l = Limits { min: t.initial, max: t.maximum };
                            m.memory = Some(l);
                            m.memory_imported = true;
                            ImportKind::Memory(l)
                        }
                        TypeRef::Global(g) => {
                            let g = GlobalType { ty: ValType::from_wp(g.content_type, offset)?, mutable: g.mutable };
                            m.globals.push(g);
                            m.imported_globals += 1;
                            ImportKind::Global(g)
                        }
                        other => {
                            return Err(Error::Unsupported { what: format!("import of {other:?}"), offset });
                        }
                    };
                    m.imports.push(Import { module: imp.module.to_string(), name: imp.name.to_string(), kind });
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    m.funcs.push(t.map_err(Error::Invalid)?);
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    let t = t.map_err(Error::Invalid)?;
                    m.table = Some(Limits { min: t.ty.initial, max: t.ty.maximum });
                }
            }
            Payload::MemorySection(r) => {
                for t in r {
                    let t = t.map_err(Error::Invalid)?;
                    m.memory = Some(Limits { min: t.initial, max: t.maximum });
                }
            }
            Payload::GlobalSection(r) => {
                let offset = r.range().start;
                for g in r {
                    let g = g.map_err(Error::Invalid)?;
                    let ty = ValType::from_wp(g.ty.content_type, offset)?;
                    m.globals.push(GlobalType { ty, mutable: g.ty.mutable });
                    m.global_inits.push(const_expr(&g.init_expr, offset)?);
                }
            }
            Payload::ExportSection(r) => {
                let offset = r.range().start;
                for e in r {
                    let e = e.map_err(Error::Invalid)?;
                    let kind = match e.kind {
                        ExternalKind::Func => ExportKind::Func(e.index),
                        ExternalKind::Table => ExportKind::Table,
                        ExternalKind::Memory => ExportKind::Memory,
                        ExternalKind::Global => ExportKind::Global(e.index),
                        other => {
                            let what = format!("export of {other:?}");
                            return Err(Error::Unsupported { what, offset });
                        }
                    };
                    m.exports.push((e.name.to_string(), kind));
                }
            }
            Payload::StartSection { func, .. } => m.start = Some(func),
            Payload::ElementSection(r) => {
                let offset = r.range().start;
                for e in r {
                    let e = e.map_err(Error::Invalid)?;
                    let ElementKind::Active { offset_expr, .. } = e.kind else {
                        return Err(Error::Unsupported { what: "passive element segment".into(), offset });
                    };
                    let ElementItems::Functions(items) = e.items else {
                        return Err(Error::Unsupported { what: "element expressions".into(), offset });
                    };
                    let funcs = items.into_iter().collect::<std::result::Result<_, _>>().map_err(Error::Invalid)?;
                    m.elems.push(ElemSegment { offset: const_expr(&offset_expr, offset)?, funcs });
                }
            }
            Payload::DataSection(r) => {
                let offset = r.range().start;
                for d in r {
                    let d = d.map_err(Error::Invalid)?;
                    let DataKind::Active { offset_expr, .. } = d.kind else {
                        return Err(Error::Unsupported { what: "passive data segment".into(), offset });
                    };
                    m.datas.push(DataSegment { offset: const_expr(&offset_expr, offset)?, bytes: d.data });
                }
            }
            Payload::CodeSectionEntry(body) => m.bodies.push(body),
            _ => {}
        }
    }
    Ok(m)
}

fn const_expr(e: &WpConstExpr<'_>, offset: u64) -> Result<ConstExpr> {
    let mut ops = e.get_operators_reader();
    let op = ops.read().map_err(Error::Invalid)?;
    let value = match op {
        Operator::I32Const { value } => ConstExpr::I32(value),
        Operator::I64Const { value } => ConstExpr::I64(value),
        Operator::F32Const { value } => ConstExpr::F32(value.bits()),
        Operator::F64Const { value } => ConstExpr::F64(value.bits()),
        Operator::GlobalGet { global_index } => ConstExpr::GlobalGet(global_index),
        other => return Err(Error::Unsupported { what: format!("constant expression {other:?}"), offset }),
    };
    Ok(value)
}
