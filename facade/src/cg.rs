//! The emitter: module-level state (types, symbols, data) and the entry
//! point of every public call. Function bodies are in `func.rs` and value
//! operations in `values.rs`.

use crate::func::FuncState;
use crate::{
    Backend, DataDecl, DataInit, DataPiece, Error, ErrorKind, FloatWidth, FuncDecl, FuncSig, IntWidth, Layout, Linkage,
    Result, Sym, SymbolInfo, SymbolKind, TargetInfo, TypeId, TypeKind, TypeTable,
};

/// The codegen emitter for one module: the Rust face of `cfree_cg_*`.
///
/// Every call validates its operands, updates the value stack and calls the
/// backend immediately. A call that returns an error has no effect.
#[derive(Debug)]
pub struct Cg<B: Backend> {
    pub(crate) owner: u32,
    pub(crate) backend: B,
    pub(crate) target: TargetInfo,
    pub(crate) types: TypeTable,
    pub(crate) syms: Vec<SymbolInfo>,
    by_name: crate::hash::FxHashMap<String, Sym>,
    /// `i1`, once interned (comparisons and branches need it constantly).
    i1: Option<TypeId>,
    pub(crate) func: FuncState<B>,
    /// Alias scopes issued so far (ids 1..=alias_scopes).
    pub(crate) alias_scopes: u32,
    /// The managed address space, if the frontend declared one.
    pub(crate) managed_space: Option<u32>,
    /// Runtime functions behind managed operations.
    pub(crate) gc_runtime: Option<crate::GcRuntime>,
}

/// A defined, externally visible function: what a JIT needs to check typed lookups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncExport {
    /// Linkage name.
    pub name: String,
    /// Parameter types.
    pub params: Vec<ScalarType>,
    /// Result type.
    pub result: Option<ScalarType>,
    /// Whether the function is variadic.
    pub variadic: bool,
    /// ABI extension of each parameter, as declared.
    pub param_ext: Vec<crate::AbiExt>,
    /// ABI extension of the result, as declared.
    pub result_ext: crate::AbiExt,
}

/// The register class of a scalar value, independent of any module's type table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarType {
    /// Integer of this many bits.
    Int(u32),
    /// Float of this many bits.
    Float(u32),
    /// Pointer into this address space.
    Ptr(u32),
}

/// A module whose emission is complete.
#[derive(Debug)]
pub struct Finished<B> {
    /// The backend, holding the lowered module.
    pub backend: B,
    /// Defined functions visible outside the module.
    pub exports: Vec<FuncExport>,
}

fn check_name(call: &'static str, name: &str) -> Result<()> {
    if name.is_empty() || name.contains('\0') {
        return Err(Error::new(call, ErrorKind::InvalidName { name: name.to_string() }));
    }
    Ok(())
}

/// The largest alignment accepted anywhere (1 GiB).
pub(crate) const MAX_ALIGN: u64 = 1 << 30;

pub(crate) fn check_align(call: &'static str, align: u64) -> Result<()> {
    if align != 0 && (!align.is_power_of_two() || align > MAX_ALIGN) {
        return Err(Error::new(call, ErrorKind::InvalidAlignment { align }));
    }
    Ok(())
}

impl<B: Backend> Cg<B> {
    /// Starts a module on `backend`.
    pub fn new(backend: B) -> Self {
        let owner = crate::ids::next_owner();
        let target = backend.target().clone();
        Self {
            owner,
            backend,
            target,
            types: TypeTable::new(owner),
            syms: Vec::new(),
            by_name: Default::default(),
            i1: None,
            func: FuncState::new(),
            alias_scopes: 0,
            managed_space: None,
            gc_runtime: None,
        }
    }

    /// The resolved target.
    pub fn target(&self) -> &TargetInfo {
        &self.target
    }

    /// The module's types.
    pub fn types(&self) -> &TypeTable {
        &self.types
    }

    /// The backend (for inspection; emission goes through `Cg`).
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Declares the policy of address space `space`. Must come before any symbol
    /// is declared. One managed space is supported, and it must be space 1 (the
    /// space LLVM's statepoint lowering tracks).
    pub fn set_address_space_policy(&mut self, space: u32, policy: crate::AddrSpacePolicy) -> Result<()> {
        const CALL: &str = "set_address_space_policy";
        if !self.syms.is_empty() {
            let e = ErrorKind::InvalidFlags { op: CALL.into(), flags: "called after symbols were declared".into() };
            return Err(Error::new(CALL, e));
        }
        if !policy.managed && (policy.movable || policy.interior) {
            let flags = "movable or interior without managed (only collected objects move)".to_string();
            return Err(Error::new(CALL, ErrorKind::InvalidFlags { op: CALL.into(), flags }));
        }
        if policy.managed && space != 1 {
            let feature = format!("managed address space {space} (the managed space must be 1)");
            return Err(Error::new(CALL, ErrorKind::Unsupported { feature }));
        }
        if policy.managed {
            self.managed_space = Some(space);
        }
        self.backend.set_address_space_policy(space, &policy);
        Ok(())
    }

    /// Whether `ty` is a pointer into the managed address space.
    pub(crate) fn is_managed_ptr(&self, ty: TypeId) -> bool {
        self.managed_space.is_some() && self.types.ptr_addr_space(ty) == self.managed_space
    }

    fn intern(&mut self, kind: TypeKind, call: &'static str) -> Result<TypeId> {
        let (id, new) = self.types.intern(kind, &self.target, call)?;
        if new {
            let kind = self.types.kind(id).clone();
            self.backend.define_type(id, &kind, &self.types);
        }
        Ok(id)
    }

    /// An integer type. Fails if the target cannot use the width as storage.
    pub fn ty_int(&mut self, width: IntWidth) -> Result<TypeId> {
        self.intern(TypeKind::Int(width), "ty_int")
    }

    /// The `i1` type (cached).
    pub(crate) fn ty_i1(&mut self) -> Result<TypeId> {
        match self.i1 {
            Some(t) => Ok(t),
            None => {
                let t = self.ty_int(IntWidth::I1)?;
                self.i1 = Some(t);
                Ok(t)
            }
        }
    }

    /// A floating-point type.
    pub fn ty_float(&mut self, width: FloatWidth) -> Result<TypeId> {
        self.intern(TypeKind::Float(width), "ty_float")
    }

    /// A pointer to `pointee` in `addr_space`.
    pub fn ty_ptr(&mut self, pointee: TypeId, addr_space: u32) -> Result<TypeId> {
        self.intern(TypeKind::Ptr { pointee, addr_space }, "ty_ptr")
    }

    /// An array of `count` elements.
    pub fn ty_array(&mut self, elem: TypeId, count: u64) -> Result<TypeId> {
        self.intern(TypeKind::Array { elem, count }, "ty_array")
    }

    /// A record with natural C layout.
    pub fn ty_record(&mut self, fields: &[TypeId]) -> Result<TypeId> {
        self.intern(TypeKind::Record { fields: fields.to_vec() }, "ty_record")
    }

    /// A function type.
    pub fn ty_func(&mut self, sig: FuncSig) -> Result<TypeId> {
        self.intern(TypeKind::Func(sig), "ty_func")
    }

    /// Size and alignment of a sized type on this target.
    pub fn layout(&self, ty: TypeId) -> Result<Layout> {
        self.types.check(ty).map_err(|k| Error::new("layout", k))?;
        self.types.layout(ty).ok_or_else(|| Error::new("layout", ErrorKind::Unsized { ty: self.types.display(ty) }))
    }

    /// Byte offset of field `index` of a record type.
    pub fn field_offset(&self, record: TypeId, index: usize) -> Result<u64> {
        self.types.check(record).map_err(|k| Error::new("field_offset", k))?;
        match self.types.field_offsets(record).get(index) {
            Some(off) => Ok(*off),
            None => Err(Error::new(
                "field_offset",
                ErrorKind::TypeMismatch {
                    expected: format!("record with more than {index} fields"),
                    found: self.types.display(record),
                },
            )),
        }
    }

    fn check_linkage(&self, call: &'static str, linkage: Linkage, vis: crate::Visibility) -> Result<()> {
        let unsupported = |feature: String| {
            Err(Error::new(call, ErrorKind::UnsupportedOnTarget { feature, triple: self.target.triple.clone() }))
        };
        if !self.target.supports_linkage(linkage) {
            return unsupported(format!("{linkage:?} linkage"));
        }
        if !self.target.supports_visibility(vis) {
            return unsupported(format!("{vis:?} visibility"));
        }
        if linkage == Linkage::Internal && vis != crate::Visibility::Default {
            return Err(Error::new(
                call,
                ErrorKind::InvalidFlags { op: "internal linkage".into(), flags: format!("{vis:?} visibility") },
            ));
        }
        Ok(())
    }

    fn add_symbol(&mut self, call: &'static str, name: &str, kind: SymbolKind) -> Result<Sym> {
        check_name(call, name)?;
        if self.by_name.contains_key(name) {
            return Err(Error::new(call, ErrorKind::DuplicateSymbol { name: name.to_string() }));
        }
        let sym = Sym::new(self.owner, self.syms.len());
        let result = match &kind {
            SymbolKind::Func(d) => self.backend.declare_function(sym, name, d, &self.types),
            SymbolKind::Data(d) => self.backend.declare_data(sym, name, d, &self.types),
        };
        result.map_err(|k| Error::new(call, k))?;
        self.syms.push(SymbolInfo { name: name.to_string(), kind, defined: false });
        self.by_name.insert(name.to_string(), sym);
        Ok(sym)
    }

    /// Declares a function with the exact linkage name `name`.
    pub fn declare_func(&mut self, name: &str, decl: FuncDecl) -> Result<Sym> {
        const CALL: &str = "declare_func";
        self.types.check(decl.sig).map_err(|k| Error::new(CALL, k).operand("signature"))?;
        if self.types.func_sig(decl.sig).is_none() {
            return Err(Error::new(
                CALL,
                ErrorKind::TypeMismatch { expected: "function type".into(), found: self.types.display(decl.sig) },
            )
            .operand("signature"));
        }
        self.check_linkage(CALL, decl.linkage, decl.visibility)?;
        if decl.gc == crate::GcRole::Safepoints && !self.target.supports_gc_safepoints() {
            let e = ErrorKind::UnsupportedOnTarget {
                feature: "GC safepoints (statepoints)".into(),
                triple: self.target.triple.clone(),
            };
            return Err(Error::new(CALL, e));
        }
        self.add_symbol(CALL, name, SymbolKind::Func(decl))
    }

    /// Declares a data object with the exact linkage name `name`.
    pub fn declare_data(&mut self, name: &str, decl: DataDecl) -> Result<Sym> {
        const CALL: &str = "declare_data";
        self.types.check(decl.ty).map_err(|k| Error::new(CALL, k).operand("type"))?;
        if self.types.layout(decl.ty).is_none() {
            return Err(Error::new(CALL, ErrorKind::Unsized { ty: self.types.display(decl.ty) }).operand("type"));
        }
        check_align(CALL, u64::from(decl.align))?;
        self.check_linkage(CALL, decl.linkage, decl.visibility)?;
        self.add_symbol(CALL, name, SymbolKind::Data(decl))
    }

    /// Looks up a symbol by linkage name.
    pub fn symbol_by_name(&self, name: &str) -> Option<Sym> {
        self.by_name.get(name).copied()
    }

    /// What a symbol is.
    pub fn symbol(&self, sym: Sym) -> Result<&SymbolInfo> {
        self.check_sym("symbol", sym)?;
        Ok(&self.syms[sym.index()])
    }

    pub(crate) fn check_sym(&self, call: &'static str, sym: Sym) -> Result<()> {
        if sym.owner != self.owner || sym.index() >= self.syms.len() {
            return Err(
                Error::new(call, ErrorKind::ForeignHandle { what: "symbol", handle: sym.to_bits() }).operand("symbol")
            );
        }
        Ok(())
    }

    /// Defines a declared data object: bytes, zero fill and relocations whose
    /// total size equals the declared type's size.
    pub fn define_data(&mut self, sym: Sym, init: &DataInit) -> Result<()> {
        const CALL: &str = "define_data";
        self.check_sym(CALL, sym)?;
        let info = &self.syms[sym.index()];
        let SymbolKind::Data(decl) = &info.kind else {
            return Err(Error::new(
                CALL,
                ErrorKind::WrongSymbolKind { name: info.name.clone(), expected: "data object" },
            ));
        };
        if info.defined {
            return Err(Error::new(CALL, ErrorKind::DuplicateDefinition { name: info.name.clone() }));
        }
        if !decl.linkage.allows_definition() {
            return Err(Error::new(
                CALL,
                ErrorKind::InvalidFlags { op: "data definition".into(), flags: format!("{:?} linkage", decl.linkage) },
            ));
        }
        let expected = self.types.layout(decl.ty).map_or(0, |l| l.size);
        let found = init.size(self.target.pointer.size);
        if expected != found {
            return Err(Error::new(CALL, ErrorKind::DataSize { expected, found }));
        }
        for (i, piece) in init.pieces.iter().enumerate() {
            if let DataPiece::Reloc { target, .. } = piece {
                self.check_sym(CALL, *target).map_err(|e| e.operand(format!("relocation in piece {i}")))?;
            }
        }
        self.backend.define_data(sym, init).map_err(|k| Error::new(CALL, k))?;
        self.syms[sym.index()].defined = true;
        Ok(())
    }

    /// Checks that the module is complete: no open function, and every symbol
    /// whose linkage requires a definition has one.
    pub fn check_complete(&self) -> Result<()> {
        const CALL: &str = "finish";
        if self.func.is_open() {
            return Err(Error::new(CALL, ErrorKind::FunctionAlreadyOpen { open: self.func.name.clone() }));
        }
        for s in &self.syms {
            if s.linkage().requires_definition() && !s.defined {
                return Err(Error::new(CALL, ErrorKind::UndefinedInternal { name: s.name.clone() }));
            }
        }
        Ok(())
    }

    /// Completes the module and hands back the backend with the list of
    /// exported function signatures.
    pub fn finish(self) -> Result<Finished<B>> {
        self.check_complete()?;
        let exports = self
            .syms
            .iter()
            .filter(|s| s.defined && s.linkage() != Linkage::Internal)
            .filter_map(|s| match &s.kind {
                SymbolKind::Func(d) => {
                    let sig = self.types.func_sig(d.sig)?;
                    Some(FuncExport {
                        name: s.name.clone(),
                        params: sig.params.iter().map(|p| self.scalar_type(p.ty)).collect(),
                        result: sig.result.map(|r| self.scalar_type(r.ty)),
                        variadic: sig.variadic,
                        param_ext: sig.params.iter().map(|p| p.ext).collect(),
                        result_ext: sig.result.map_or(crate::AbiExt::None, |r| r.ext),
                    })
                }
                SymbolKind::Data(_) => None,
            })
            .collect();
        Ok(Finished { backend: self.backend, exports })
    }

    /// The register class of a scalar type (signatures only hold scalars).
    fn scalar_type(&self, ty: TypeId) -> ScalarType {
        match self.types.kind(ty) {
            TypeKind::Int(w) => ScalarType::Int(w.bits()),
            TypeKind::Float(w) => ScalarType::Float(w.bits()),
            TypeKind::Ptr { addr_space, .. } => ScalarType::Ptr(*addr_space),
            TypeKind::Array { .. } | TypeKind::Record { .. } | TypeKind::Func(_) => {
                unreachable!("signatures are validated to hold scalars only")
            }
        }
    }
}
