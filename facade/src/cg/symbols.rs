//! Symbol declarations and data definitions: one name model (the exact
//! linkage name), linkage and visibility checked against the target; COMDAT
//! groups, sections, thread-locals, aliases and constructor arrays checked
//! against what the object format can lower (`doc/symbols.md`).

use super::{check_align, check_name};
use crate::*;

/// Module-wide facts behind object-level placement.
#[derive(Debug, Default)]
pub(super) struct ObjectTables {
    /// Each COMDAT group's selection kind, fixed by its first member.
    comdats: crate::hash::FxHashMap<String, ComdatKind>,
    /// `(alias, target)` pairs, checked at `finish`.
    aliases: Vec<(Sym, Sym)>,
}

/// Section names ELF (LLVM's `getELFKindForNamedSection`) makes zero-fill (`SHT_NOBITS`).
fn elf_zero_fill(section: &str) -> bool {
    const EXACT: [&str; 3] = [".bss", ".sbss", ".tbss"];
    const PREFIXES: [&str; 9] = [
        ".bss.",
        ".sbss.",
        ".tbss.",
        ".gnu.linkonce.b.",
        ".gnu.linkonce.sb.",
        ".gnu.linkonce.tb.",
        ".llvm.linkonce.b.",
        ".llvm.linkonce.sb.",
        ".llvm.linkonce.tb.",
    ];
    EXACT.contains(&section) || PREFIXES.iter().any(|p| section.starts_with(p))
}

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
        self.debug_declared(sym.index());
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
        if let Some(d) = &decl.display_name {
            check_display_name(CALL, d)?;
        }
        check_func_attrs(&decl.attrs).map_err(|k| Error::new(CALL, k).operand("attrs"))?;
        if decl.attrs.stack_probes && !self.target.supports_stack_probes() {
            let e = ErrorKind::UnsupportedOnTarget {
                feature: TargetFeature::StackProbes,
                triple: self.target.triple.clone(),
            };
            return Err(Error::new(CALL, e).operand("attrs"));
        }
        self.check_placement(CALL, name, &decl.placement, decl.linkage, decl.visibility, true)?;
        if let Some(check) = &decl.stack_check {
            self.check_stack_check(&decl, check).map_err(|k| Error::new(CALL, k).operand("stack_check"))?;
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
        let comdat = decl.placement.comdat.clone();
        let sym = self.add_symbol(CALL, name, SymbolKind::Func(decl))?;
        self.register_comdat(comdat);
        Ok(sym)
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
        if let Some(d) = &decl.display_name {
            check_display_name(CALL, d)?;
        }
        self.check_placement(CALL, name, &decl.placement, decl.linkage, decl.visibility, false)?;
        self.check_data_storage(CALL, &decl)?;
        let comdat = decl.placement.comdat.clone();
        let sym = self.add_symbol(CALL, name, SymbolKind::Data(decl))?;
        self.register_comdat(comdat);
        Ok(sym)
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
        let mut blocks = Vec::new();
        for (i, piece) in init.pieces.iter().enumerate() {
            match piece {
                DataPiece::Reloc { target, addr_space, .. } => {
                    self.check_sym(CALL, *target).map_err(|e| e.operand(format!("relocation in piece {i}")))?;
                    if let SymbolKind::Data(d) = &self.syms[target.index()].kind {
                        if d.tls.is_some() {
                            let e = ErrorKind::ThreadLocalInData { name: self.syms[target.index()].name.clone() };
                            return Err(Error::new(CALL, e).operand(format!("relocation in piece {i}")));
                        }
                    }
                    if *addr_space >= 1 << 24 {
                        let e = ErrorKind::InvalidAddressSpace { addr_space: *addr_space };
                        return Err(Error::new(CALL, e).operand(format!("relocation in piece {i}")));
                    }
                    if !self.target.supports_address_constants_in(*addr_space) {
                        let feature = crate::TargetFeature::AddressConstantIn(*addr_space);
                        let e = ErrorKind::UnsupportedOnTarget { feature, triple: self.target.triple.clone() };
                        return Err(Error::new(CALL, e).operand(format!("relocation in piece {i}")));
                    }
                }
                DataPiece::LabelAddr(label) => {
                    self.require_open(CALL)?;
                    self.check_label(CALL, *label).map_err(|e| e.operand(format!("label in piece {i}")))?;
                    blocks.push(self.func.labels[label.index()].block);
                }
                DataPiece::Bytes(_) | DataPiece::Zeros(_) => {}
            }
        }
        if let Some(section) = &decl.placement.section {
            let nonzero = init.pieces.iter().any(|p| match p {
                DataPiece::Bytes(b) => b.iter().any(|&x| x != 0),
                DataPiece::Zeros(_) => false,
                DataPiece::Reloc { .. } | DataPiece::LabelAddr(_) => true,
            });
            if nonzero && self.target.object_format == ObjectFormat::Elf && elf_zero_fill(section) {
                let e = ErrorKind::InvalidSection { section: section.clone(), problem: SectionProblem::ZeroFillOnly };
                return Err(Error::new(CALL, e).operand("section"));
            }
        }
        self.backend.define_data(sym, init, &blocks).map_err(|k| Error::new(CALL, k))?;
        for piece in &init.pieces {
            if let DataPiece::LabelAddr(label) = piece {
                self.func.labels[label.index()].used = true;
            }
        }
        self.syms[sym.index()].defined = true;
        self.debug_data_defined(CALL, sym)
    }
}

impl<B: Backend> super::Cg<B> {
    fn unsupported(&self, call: &'static str, feature: TargetFeature) -> Error {
        Error::new(call, ErrorKind::UnsupportedOnTarget { feature, triple: self.target.triple.clone() })
    }

    /// COMDAT group, section and retention of a declaration, before anything is declared.
    fn check_placement(
        &self,
        call: &'static str,
        name: &str,
        p: &Placement,
        linkage: Linkage,
        visibility: Visibility,
        func: bool,
    ) -> Result<()> {
        if let Some(partition) = &p.partition {
            let err = |problem| {
                let e = ErrorKind::InvalidPartition { partition: partition.clone(), problem };
                Error::new(call, e).operand("partition")
            };
            if !self.target.supports_partitions() {
                return Err(self.unsupported(call, TargetFeature::ObjectFormatFeature("loadable partitions")));
            }
            if partition.is_empty() || !partition.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
            {
                return Err(err(PartitionProblem::BadName));
            }
            if matches!(linkage, Linkage::Internal | Linkage::ExternalWeak) || visibility != Visibility::Default {
                return Err(err(PartitionProblem::NotAnEntryPoint));
            }
        }
        if let Some(c) = &p.comdat {
            let err = |problem| Error::new(call, ErrorKind::InvalidComdat { comdat: c.name.clone(), problem });
            if c.name.is_empty() || c.name.contains('\0') {
                return Err(err(ComdatProblem::BadName).operand("comdat"));
            }
            if !self.target.supports_comdat(c.kind) {
                return Err(self.unsupported(call, TargetFeature::Comdat(c.kind)).operand("comdat"));
            }
            if !linkage.allows_definition() {
                return Err(err(ComdatProblem::Undefinable(name.to_string())).operand("comdat"));
            }
            if let Some(&first) = self.objects.comdats.get(&c.name) {
                if first != c.kind {
                    return Err(err(ComdatProblem::KindConflict { first }).operand("comdat"));
                }
            }
        }
        if let Some(section) = &p.section {
            let err = |problem| {
                Error::new(call, ErrorKind::InvalidSection { section: section.clone(), problem }).operand("section")
            };
            if !self.target.supports_sections() {
                return Err(self.unsupported(call, TargetFeature::ObjectFormatFeature("explicit sections")));
            }
            if section.is_empty() || section.contains(['\0', '\n']) {
                return Err(err(SectionProblem::BadName));
            }
            match self.target.object_format {
                ObjectFormat::MachO => {
                    let parts: Vec<&str> = section.split(',').collect();
                    if parts.len() != 2 || parts.iter().any(|p| p.is_empty() || p.len() > 16) {
                        return Err(err(SectionProblem::MachOSpecifier));
                    }
                }
                ObjectFormat::Elf if func && elf_zero_fill(section) => return Err(err(SectionProblem::ZeroFillOnly)),
                ObjectFormat::Wasm if section.starts_with(".init_array") || (!func && section.starts_with(".text")) => {
                    return Err(err(SectionProblem::Reserved));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Thread-local and mergeable data.
    fn check_data_storage(&self, call: &'static str, d: &DataDecl) -> Result<()> {
        if let Some(model) = d.tls {
            if !self.target.supports_tls(model) {
                return Err(self.unsupported(call, TargetFeature::ThreadLocal(model)).operand("tls"));
            }
        }
        if d.mergeable && !self.target.supports_mergeable_data() {
            return Err(self
                .unsupported(call, TargetFeature::ObjectFormatFeature("mergeable data"))
                .operand("mergeable"));
        }
        if d.mergeable {
            let conflict = if !d.readonly {
                Some("writable")
            } else if d.tls.is_some() {
                Some("thread_local")
            } else if d.placement.section.is_some() {
                Some("section")
            } else {
                None
            };
            if let Some(other) = conflict {
                let e = ErrorKind::InvalidAttribute { attr: "mergeable", problem: AttrProblem::Conflicts(other) };
                return Err(Error::new(call, e).operand("mergeable"));
            }
        }
        Ok(())
    }

    fn register_comdat(&mut self, comdat: Option<Comdat>) {
        if let Some(c) = comdat {
            self.objects.comdats.entry(c.name).or_insert(c.kind);
        }
    }

    /// Declares `name` as a second name of `target`, a function or data object
    /// defined in this module (checked at `finish`). The alias is a symbol of
    /// the target's kind: it can be called, pushed and relocated against, but
    /// not defined. A call through a function alias in this module calls the
    /// target directly (the alias is bound to it here).
    pub fn declare_alias(&mut self, name: &str, target: Sym, decl: AliasDecl) -> Result<Sym> {
        const CALL: &str = "declare_alias";
        self.check_sym(CALL, target).map_err(|e| e.operand("target"))?;
        if !self.target.supports_aliases() {
            return Err(self.unsupported(CALL, TargetFeature::ObjectFormatFeature("aliases")));
        }
        let invalid = |problem| Error::new(CALL, ErrorKind::InvalidAlias { name: name.to_string(), problem });
        if !decl.linkage.allows_definition() {
            return Err(invalid(AliasProblem::Linkage(decl.linkage)).operand("linkage"));
        }
        self.check_linkage(CALL, decl.linkage, decl.visibility)?;
        let target_is_alias = self.objects.aliases.iter().any(|&(a, _)| a == target);
        if target_is_alias && self.syms[target.index()].linkage() == Linkage::Weak {
            return Err(invalid(AliasProblem::InterposableTarget).operand("target"));
        }
        let kind = match &self.syms[target.index()].kind {
            SymbolKind::Func(f) => SymbolKind::Func(FuncDecl {
                linkage: decl.linkage,
                visibility: decl.visibility,
                placement: Placement::default(),
                ..f.clone()
            }),
            SymbolKind::Data(d) if d.tls.is_some() => {
                return Err(invalid(AliasProblem::ThreadLocalTarget).operand("target"));
            }
            SymbolKind::Data(d) => SymbolKind::Data(DataDecl {
                linkage: decl.linkage,
                visibility: decl.visibility,
                placement: Placement::default(),
                mergeable: false,
                ..d.clone()
            }),
        };
        check_name(CALL, name)?;
        if self.by_name.contains_key(name) {
            return Err(Error::new(CALL, ErrorKind::DuplicateSymbol { name: name.to_string() }));
        }
        let sym = Sym::new(self.owner, self.syms.len());
        self.backend.declare_alias(sym, name, target, &decl).map_err(|k| Error::new(CALL, k))?;
        self.syms.push(SymbolInfo { name: name.to_string(), kind, defined: true });
        self.by_name.insert(name.to_string(), sym);
        self.objects.aliases.push((sym, target));
        Ok(sym)
    }

    /// Adds `func` (no parameters, no result) to the module's constructors or
    /// destructors, run in increasing `priority` (101..=65535; 65535 is the
    /// C runtime's default order, after every explicit priority).
    pub fn add_init_fini(&mut self, kind: InitFini, func: Sym, priority: u32) -> Result<()> {
        const CALL: &str = "add_init_fini";
        self.check_sym(CALL, func).map_err(|e| e.operand("function"))?;
        let info = &self.syms[func.index()];
        let SymbolKind::Func(decl) = &info.kind else {
            let e = ErrorKind::WrongSymbolKind { name: info.name.clone(), expected: SymbolClass::Function };
            return Err(Error::new(CALL, e).operand("function"));
        };
        let sig = self.types.func_sig(decl.sig).expect("declared functions have signatures");
        if !sig.params.is_empty() || sig.result.is_some() || sig.variadic || sig.conv != CallConv::C {
            let e = ErrorKind::TypeMismatch { expected: Expected::InitFiniSignature, found: self.types.name(decl.sig) };
            return Err(Error::new(CALL, e).operand("function"));
        }
        if !(101..=65535).contains(&priority) {
            return Err(Error::new(CALL, ErrorKind::InvalidPriority { priority }).operand("priority"));
        }
        if !self.target.supports_init_fini_priority() {
            return Err(self.unsupported(CALL, TargetFeature::ObjectFormatFeature("constructor arrays")));
        }
        self.backend.add_init_fini(kind, func, priority as u16).map_err(|k| Error::new(CALL, k))
    }

    /// At `finish`: COMDAT members are defined (and on COFF each group has its
    /// key symbol), alias targets are defined.
    pub(super) fn check_objects_complete(&self) -> Result<()> {
        const CALL: &str = "finish";
        let comdat_err =
            |comdat: &str, problem| Error::new(CALL, ErrorKind::InvalidComdat { comdat: comdat.to_string(), problem });
        for s in &self.syms {
            if let Some(c) = &s.placement().comdat {
                if !s.defined {
                    return Err(comdat_err(&c.name, ComdatProblem::MemberNeverDefined(s.name.clone())));
                }
            }
        }
        if self.target.object_format == ObjectFormat::Coff {
            for name in self.objects.comdats.keys() {
                let keyed = self
                    .by_name
                    .get(name)
                    .is_some_and(|k| self.syms[k.index()].placement().comdat.as_ref().is_some_and(|c| &c.name == name));
                if !keyed {
                    return Err(comdat_err(name, ComdatProblem::NoKeySymbol));
                }
            }
        }
        for &(alias, target) in &self.objects.aliases {
            let t = &self.syms[target.index()];
            if !t.defined {
                let problem = AliasProblem::TargetNeverDefined(t.name.clone());
                return Err(Error::new(
                    CALL,
                    ErrorKind::InvalidAlias { name: self.syms[alias.index()].name.clone(), problem },
                ));
            }
        }
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

impl<B: Backend> Cg<B> {
    /// A stack check needs a body with a pointer parameter to read the limit
    /// through, and a `void(ptr, ptr)` C function to grow the stack.
    fn check_stack_check(&self, decl: &FuncDecl, check: &crate::StackCheck) -> std::result::Result<(), ErrorKind> {
        use crate::AttrProblem;
        let invalid = |problem| ErrorKind::InvalidAttribute { attr: "stack_check", problem };
        if decl.gc == crate::GcRole::Runtime {
            return Err(invalid(AttrProblem::NotOnThisSymbol));
        }
        if decl.attrs.naked {
            return Err(invalid(AttrProblem::Conflicts("naked")));
        }
        let sig = self.types.func_sig(decl.sig).expect("checked by declare_func");
        if sig.variadic {
            return Err(invalid(AttrProblem::Conflicts("variadic")));
        }
        let param =
            sig.params.get(check.limit_param as usize).ok_or(invalid(AttrProblem::NoSuchParam(check.limit_param)))?;
        if !matches!(self.types.kind(param.ty), TypeKind::Ptr { addr_space: 0, .. }) {
            return Err(invalid(AttrProblem::NotPointer));
        }
        if check.grow.owner != self.owner {
            return Err(ErrorKind::ForeignHandle { what: HandleKind::Symbol, handle: check.grow.to_bits() });
        }
        let grow = self.syms.get(check.grow.index()).ok_or(invalid(AttrProblem::GrowFunction))?;
        let SymbolKind::Func(g) = &grow.kind else { return Err(invalid(AttrProblem::GrowFunction)) };
        let gsig = self.types.func_sig(g.sig).expect("declared functions have function types");
        let raw_ptr = |ty: TypeId| matches!(self.types.kind(ty), TypeKind::Ptr { addr_space: 0, .. });
        let shape = gsig.params.len() == 2
            && gsig.params.iter().all(|p| raw_ptr(p.ty))
            && gsig.result.is_none()
            && !gsig.variadic
            && gsig.conv == CallConv::C;
        if !shape {
            return Err(invalid(AttrProblem::GrowFunction));
        }
        Ok(())
    }
}

/// A display name is a debug string: any text without NUL.
fn check_display_name(call: &'static str, name: &str) -> Result<()> {
    if name.contains('\0') {
        let e = ErrorKind::InvalidName { name: name.to_string(), problem: NameProblem::ContainsNul };
        return Err(Error::new(call, e).operand("display_name"));
    }
    Ok(())
}
