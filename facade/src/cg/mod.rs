//! The emitter: module-level state (types, symbols, the open function) and
//! every public call, one file per concern. `Cg`'s fields are private to this
//! module tree; the vocabulary the calls take lives in the crate's top-level
//! modules.

mod access;
pub use checks::CheckLowering;
mod asm;
mod atomics;
mod calls;
mod casts;
mod checks;
mod constants;
mod debug;
mod dynamic;
mod float_ops;
mod func;
mod gc;
mod int_ops;
mod memory_ops;
mod places;
mod select;
mod stack;
mod symbols;
mod varargs;

use crate::*;
use func::FuncState;

/// The codegen emitter for one module: the Rust face of `cfree_cg_*`.
///
/// Every call validates its operands, updates the value stack and calls the
/// backend immediately. A call that returns an error has no effect.
#[derive(Debug)]
pub struct Cg<B: Backend> {
    owner: u32,
    backend: B,
    target: TargetInfo,
    types: TypeTable,
    syms: Vec<SymbolInfo>,
    by_name: crate::hash::FxHashMap<String, Sym>,
    /// `i1`, once interned (comparisons and branches need it constantly).
    i1: Option<TypeId>,
    func: FuncState<B>,
    /// Alias scopes issued so far (ids 1..=alias_scopes).
    alias_scopes: u32,
    /// The managed address space, if the frontend declared one.
    managed_space: Option<u32>,
    /// Runtime functions behind managed operations.
    gc_runtime: Option<crate::GcRuntime>,
    /// COMDAT groups, section kinds and aliases (`symbols.rs`).
    objects: symbols::ObjectTables,
    /// Source positions and debug information (`debug.rs`).
    debug: debug::DebugTrack,
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
    /// An integer.
    Int(IntWidth),
    /// A float.
    Float(FloatWidth),
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

pub(crate) fn check_name(call: &'static str, name: &str) -> Result<()> {
    match NameProblem::of(name) {
        Some(problem) => Err(Error::new(call, ErrorKind::InvalidName { name: name.to_string(), problem })),
        None => Ok(()),
    }
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
            objects: symbols::ObjectTables::default(),
            debug: debug::DebugTrack::default(),
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
            return Err(Error::new(CALL, ErrorKind::PolicyAfterDeclarations));
        }
        if !policy.managed && (policy.movable || policy.interior) {
            return Err(Error::new(CALL, ErrorKind::MovableWithoutManaged { space }));
        }
        if !self.target.supports_address_space(space) {
            let feature = crate::TargetFeature::AddressSpace(space);
            return Err(Error::new(
                CALL,
                ErrorKind::UnsupportedOnTarget { feature, triple: self.target.triple.clone() },
            ));
        }
        if policy.managed && space != 1 {
            return Err(Error::new(CALL, ErrorKind::Unsupported(Unimplemented::ManagedSpace(space))));
        }
        self.backend.set_address_space_policy(space, &policy).map_err(|k| Error::new(CALL, k))?;
        if policy.managed {
            self.managed_space = Some(space);
        }
        Ok(())
    }

    /// Whether `ty` is a pointer into the managed address space.
    pub(crate) fn is_managed_ptr(&self, ty: TypeId) -> bool {
        self.managed_space.is_some() && self.types.ptr_addr_space(ty) == self.managed_space
    }

    fn intern(&mut self, kind: TypeKind, call: &'static str) -> Result<TypeId> {
        let (id, new) = self.types.intern(kind, &self.target, call)?;
        if new {
            if let Err(k) = self.backend.define_type(id, self.types.kind(id), &self.types) {
                self.types.forget_last();
                return Err(self.ferr(call, k));
            }
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
        self.intern(TypeKind::Record { fields: fields.to_vec(), align: 0 }, "ty_record")
    }

    /// A record with natural C layout aligned to at least `align` bytes (C
    /// `_Alignas` on the whole record; a power of two, 0 = natural).
    pub fn ty_record_aligned(&mut self, fields: &[TypeId], align: u64) -> Result<TypeId> {
        self.intern(TypeKind::Record { fields: fields.to_vec(), align }, "ty_record_aligned")
    }

    /// A function type.
    pub fn ty_func(&mut self, sig: FuncSig) -> Result<TypeId> {
        self.intern(TypeKind::Func(sig), "ty_func")
    }

    /// Size and alignment of a sized type on this target.
    pub fn layout(&self, ty: TypeId) -> Result<Layout> {
        self.types.check(ty).map_err(|k| Error::new("layout", k))?;
        self.types.layout(ty).ok_or_else(|| Error::new("layout", ErrorKind::Unsized { ty: self.types.name(ty) }))
    }

    /// Byte offset of field `index` of a record type.
    pub fn field_offset(&self, record: TypeId, index: usize) -> Result<u64> {
        const CALL: &str = "field_offset";
        self.types.check(record).map_err(|k| Error::new(CALL, k))?;
        let Some(offsets) = self.types.field_offsets(record) else {
            let e = ErrorKind::TypeMismatch { expected: Expected::Record, found: self.types.name(record) };
            return Err(Error::new(CALL, e));
        };
        match offsets.get(index) {
            Some(off) => Ok(*off),
            None => {
                let e = ErrorKind::NoSuchField { record: self.types.name(record), index, count: offsets.len() };
                Err(Error::new(CALL, e))
            }
        }
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
                let e = ErrorKind::NeverDefined { name: s.name.clone(), linkage: s.linkage() };
                return Err(Error::new(CALL, e));
            }
        }
        self.check_objects_complete()
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
                    // Records by value have no register class: such functions are called
                    // from code, not through typed entry points (`doc/abi.md`).
                    let params: Option<Vec<ScalarType>> = sig.params.iter().map(|p| self.scalar_type(p.ty)).collect();
                    let result = match sig.result {
                        Some(r) => Some(self.scalar_type(r.ty)?),
                        None => None,
                    };
                    Some(FuncExport {
                        name: s.name.clone(),
                        params: params?,
                        result,
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

    /// The register class of a scalar type; `None` for aggregates.
    fn scalar_type(&self, ty: TypeId) -> Option<ScalarType> {
        match self.types.kind(ty) {
            TypeKind::Int(w) => Some(ScalarType::Int(*w)),
            TypeKind::Float(w) => Some(ScalarType::Float(*w)),
            TypeKind::Ptr { addr_space, .. } => Some(ScalarType::Ptr(*addr_space)),
            TypeKind::Array { .. } | TypeKind::Record { .. } | TypeKind::Func(_) => None,
        }
    }
}
