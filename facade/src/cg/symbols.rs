//! Symbol declarations and data definitions: one name model (the exact
//! linkage name), linkage and visibility checked against the target.

use super::{check_align, check_name};
use crate::*;

impl<B: Backend> super::Cg<B> {
    fn check_linkage(&self, call: &'static str, linkage: Linkage, vis: crate::Visibility) -> Result<()> {
        let unsupported = |feature: TargetFeature| {
            Err(Error::new(call, ErrorKind::UnsupportedOnTarget { feature, triple: self.target.triple.clone() }))
        };
        if !self.target.supports_linkage(linkage) {
            return unsupported(TargetFeature::Linkage(linkage));
        }
        if !self.target.supports_visibility(vis) {
            return unsupported(TargetFeature::Visibility(vis));
        }
        if linkage == Linkage::Internal && vis != crate::Visibility::Default {
            return Err(Error::new(call, ErrorKind::VisibilityOnInternal { visibility: vis }));
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
                ErrorKind::TypeMismatch { expected: Expected::Function, found: self.types.name(decl.sig) },
            )
            .operand("signature"));
        }
        self.check_linkage(CALL, decl.linkage, decl.visibility)?;
        if decl.gc == crate::GcRole::Safepoints && !self.target.supports_gc_safepoints() {
            let e = ErrorKind::UnsupportedOnTarget {
                feature: TargetFeature::GcSafepoints,
                triple: self.target.triple.clone(),
            };
            return Err(Error::new(CALL, e));
        }
        if decl.display_name.is_some() {
            return Err(Error::new(CALL, ErrorKind::Unsupported(Unimplemented::DisplayName)).operand("display_name"));
        }
        check_func_attrs(&decl.attrs).map_err(|k| Error::new(CALL, k).operand("attrs"))?;
        if decl.attrs.stack_probes && !self.target.supports_stack_probes() {
            let e = ErrorKind::UnsupportedOnTarget {
                feature: TargetFeature::StackProbes,
                triple: self.target.triple.clone(),
            };
            return Err(Error::new(CALL, e).operand("attrs"));
        }
        if matches!(decl.gc, crate::GcRole::Runtime | crate::GcRole::Safepoints) {
            // Runtime functions are reached through a trampoline, and managed functions'
            // calls are statepoints: neither forwards C ABI aggregates (`doc/abi.md`).
            let sig = self.types.func_sig(decl.sig).expect("checked above");
            let aggregate = sig.params.iter().chain(sig.result.iter()).find(|p| !self.types.is_scalar(p.ty));
            if let Some(p) = aggregate {
                let e = ErrorKind::Unsupported(Unimplemented::AggregateAtSafepoint(self.types.name(p.ty)));
                return Err(Error::new(CALL, e).operand("signature"));
            }
        }
        self.add_symbol(CALL, name, SymbolKind::Func(decl))
    }

    /// Declares a data object with the exact linkage name `name`.
    pub fn declare_data(&mut self, name: &str, decl: DataDecl) -> Result<Sym> {
        const CALL: &str = "declare_data";
        self.types.check(decl.ty).map_err(|k| Error::new(CALL, k).operand("type"))?;
        if self.types.layout(decl.ty).is_none() {
            return Err(Error::new(CALL, ErrorKind::Unsized { ty: self.types.name(decl.ty) }).operand("type"));
        }
        check_align(CALL, u64::from(decl.align))?;
        self.check_linkage(CALL, decl.linkage, decl.visibility)?;
        if decl.display_name.is_some() {
            return Err(Error::new(CALL, ErrorKind::Unsupported(Unimplemented::DisplayName)).operand("display_name"));
        }
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
            return Err(Error::new(call, ErrorKind::ForeignHandle { what: HandleKind::Symbol, handle: sym.to_bits() })
                .operand("symbol"));
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
                ErrorKind::WrongSymbolKind { name: info.name.clone(), expected: SymbolClass::Data },
            ));
        };
        if info.defined {
            return Err(Error::new(CALL, ErrorKind::DuplicateDefinition { name: info.name.clone() }));
        }
        if !decl.linkage.allows_definition() {
            let e =
                ErrorKind::NotDefinable { name: info.name.clone(), reason: NoDefinitionReason::Linkage(decl.linkage) };
            return Err(Error::new(CALL, e));
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
}

/// Attribute pairs that exclude each other, and alignments that are not powers of two.
fn check_func_attrs(a: &crate::FuncAttrs) -> std::result::Result<(), ErrorKind> {
    let conflict = if a.cold && a.hot {
        Some(("cold", "hot"))
    } else if a.noinline && a.alwaysinline {
        Some(("noinline", "alwaysinline"))
    } else {
        None
    };
    if let Some((attr, other)) = conflict {
        return Err(ErrorKind::InvalidAttribute { attr, problem: crate::AttrProblem::Conflicts(other) });
    }
    if a.stack_align != 0 && (!a.stack_align.is_power_of_two() || a.stack_align > 1 << 12) {
        let problem = crate::AttrProblem::NotPowerOfTwo(u64::from(a.stack_align));
        return Err(ErrorKind::InvalidAttribute { attr: "stack_align", problem });
    }
    for (attr, text) in [("target_cpu", &a.target_cpu), ("target_features", &a.target_features)] {
        if text.as_deref().is_some_and(|t| t.contains('\0') || t.len() > 4096) {
            return Err(ErrorKind::InvalidAttribute { attr, problem: crate::AttrProblem::NotOnThisSymbol });
        }
    }
    Ok(())
}
