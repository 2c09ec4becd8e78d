//! Debug information from ordinary CG calls (`doc/debuginfo.md`). A frontend
//! turns it on once ([`Cg::enable_debug_info`]), registers files and keeps a
//! source position current ([`Cg::set_loc`]); declarations, `func_begin`,
//! named parameter and local slots and data definitions then describe
//! themselves, and every type they use is described to the backend first.
//! With debug info off, the same calls are validated and cost almost nothing,
//! so `-g0` is one call fewer, not a second code path.

use crate::*;

/// What the emitter tracks for debug info, on or off.
#[derive(Debug, Default)]
pub(crate) struct DebugTrack {
    pub(crate) enabled: bool,
    /// `DebugOptions::linkage_names`.
    linkage_names: bool,
    /// Registered files (name, directory); `FileId(n)` is `files[n - 1]`.
    files: Vec<(String, String)>,
    /// The current source position.
    pub(crate) loc: SrcLoc,
    /// The position current when each symbol was declared.
    decl_locs: Vec<SrcLoc>,
    /// Whether each type (by index) was described to the backend.
    described: Vec<bool>,
    decorations: crate::hash::FxHashMap<TypeId, TypeDebugInfo>,
    /// Lexical scopes open in the open function.
    scope_depth: u32,
    /// Parameters of the open function already described.
    params_described: Vec<bool>,
}

impl<B: Backend> Cg<B> {
    /// Turns on debug information for this module: a compile unit for
    /// `options.file` in `options.language`; the unit's file is registered
    /// like [`Self::debug_file`] (file 1 when it is the first) and returned.
    /// From here on, defined functions, named parameter and local slots, data
    /// definitions and the types they use are described as they are emitted.
    /// Files registered before are kept. No function may be open.
    pub fn enable_debug_info(&mut self, options: DebugOptions) -> Result<FileId> {
        const CALL: &str = "enable_debug_info";
        if self.func.is_open() {
            return Err(self.ferr(CALL, ErrorKind::FunctionAlreadyOpen { open: self.func.name.clone() }));
        }
        if self.debug.enabled {
            return Err(Error::new(CALL, ErrorKind::DebugInfoEnabled));
        }
        for s in [&options.producer, &options.file, &options.directory] {
            check_text(CALL, s)?;
        }
        let unit_file = FileId(self.debug.files.len() as u32 + 1);
        let inited = self.backend.debug_init(&options, unit_file);
        self.lowered(CALL, inited)?;
        for (i, (name, dir)) in self.debug.files.iter().enumerate() {
            let r = self.backend.debug_file(FileId(i as u32 + 1), name, dir);
            r.map_err(|k| Error::new(CALL, k))?;
        }
        self.debug.enabled = true;
        self.debug.linkage_names = options.linkage_names;
        self.debug.files.push((options.file.clone(), options.directory.clone()));
        Ok(unit_file)
    }

    /// Whether debug information is on.
    pub fn debug_info_enabled(&self) -> bool {
        self.debug.enabled
    }

    /// Registers source file `name` (relative to `directory`, or absolute) and
    /// returns its id: dense, in registration order. Accepted with debug info
    /// off too, so a frontend's bookkeeping does not depend on `-g`.
    pub fn debug_file(&mut self, name: &str, directory: &str) -> Result<FileId> {
        const CALL: &str = "debug_file";
        check_text(CALL, name)?;
        check_text(CALL, directory)?;
        let id = FileId(self.debug.files.len() as u32 + 1);
        if self.debug.enabled {
            let r = self.backend.debug_file(id, name, directory);
            r.map_err(|k| Error::new(CALL, k))?;
        }
        self.debug.files.push((name.to_string(), directory.to_string()));
        Ok(id)
    }

    /// Makes `loc` the current source position: instructions emitted from here
    /// on carry it (`FileId::NONE` or line 0: no position of their own), and
    /// declarations made now are declared there.
    pub fn set_loc(&mut self, loc: SrcLoc) -> Result<()> {
        const CALL: &str = "set_loc";
        if loc.file.0 as usize > self.debug.files.len() {
            let e = ErrorKind::InvalidSrcLoc { file: loc.file.0, files: self.debug.files.len() as u32 };
            return Err(self.ferr(CALL, e));
        }
        if self.debug.loc == loc {
            return Ok(());
        }
        if self.debug.enabled && self.func.is_open() && !self.func.naked {
            let r = self.backend.debug_set_loc(loc);
            self.lowered(CALL, r)?;
        }
        self.debug.loc = loc;
        Ok(())
    }

    /// The current source position.
    pub fn loc(&self) -> SrcLoc {
        self.debug.loc
    }

    /// Opens a lexical scope (a block of the source) at the current position
    /// in the open function; locals declared until [`Self::scope_end`] belong
    /// to it. Scopes still open at `func_end` end there.
    pub fn scope_begin(&mut self) -> Result<()> {
        const CALL: &str = "scope_begin";
        self.require_open(CALL)?;
        if self.debug.enabled {
            let r = self.backend.debug_scope_begin(self.debug.loc);
            self.lowered(CALL, r)?;
        }
        self.debug.scope_depth += 1;
        Ok(())
    }

    /// Closes the innermost scope [`Self::scope_begin`] opened.
    pub fn scope_end(&mut self) -> Result<()> {
        const CALL: &str = "scope_end";
        self.require_open(CALL)?;
        if self.debug.scope_depth == 0 {
            return Err(self.ferr(CALL, ErrorKind::NoOpenScope));
        }
        if self.debug.enabled {
            let r = self.backend.debug_scope_end();
            self.lowered(CALL, r)?;
        }
        self.debug.scope_depth -= 1;
        Ok(())
    }

    /// Decorates type `ty` for debug info: a source name, record member names,
    /// a scalar encoding. Types are interned by shape, so it applies to every
    /// use of the shape in the module, and it must come before the type's
    /// first use in debug info.
    pub fn describe_type(&mut self, ty: TypeId, info: TypeDebugInfo) -> Result<()> {
        const CALL: &str = "describe_type";
        self.types.check(ty).map_err(|k| Error::new(CALL, k).operand("type"))?;
        if self.debug.described.get(ty.index()).copied().unwrap_or(false) {
            return Err(Error::new(CALL, ErrorKind::TypeAlreadyDescribed { ty: self.types.name(ty) }));
        }
        if let Some(name) = &info.name {
            check_text(CALL, name)?;
        }
        let fields = match self.types.kind(ty) {
            TypeKind::Record { fields, .. } => fields.len(),
            _ => 0,
        };
        if info.fields.len() > fields {
            let e = ErrorKind::TooManyFieldNames { ty: self.types.name(ty), given: info.fields.len(), fields };
            return Err(Error::new(CALL, e));
        }
        for f in &info.fields {
            check_text(CALL, f)?;
        }
        self.debug.decorations.insert(ty, info);
        Ok(())
    }

    // ---- hooks called by the other calls ----

    /// Records where symbol number `index` was declared.
    pub(crate) fn debug_declared(&mut self, index: usize) {
        if self.debug.decl_locs.len() <= index {
            self.debug.decl_locs.resize(index + 1, SrcLoc::default());
        }
        self.debug.decl_locs[index] = self.debug.loc;
    }

    /// Describes the function `func_begin` just opened.
    pub(crate) fn debug_function_begun(&mut self, call: &'static str, sym: Sym) -> Result<()> {
        self.debug.scope_depth = 0;
        self.debug.params_described.clear();
        self.debug.params_described.resize(self.func.param_count, false);
        if !self.debug.enabled || self.func.naked {
            return Ok(());
        }
        let info = &self.syms[sym.index()];
        let SymbolKind::Func(decl) = &info.kind else { return Ok(()) };
        let (sig, local) = (decl.sig, decl.linkage == Linkage::Internal);
        self.debug_describe(call, sig)?;
        let declared = self.debug.decl_locs.get(sym.index()).copied().unwrap_or_default();
        let loc = if declared.line != 0 { declared } else { self.debug.loc };
        let info = &self.syms[sym.index()];
        let SymbolKind::Func(decl) = &info.kind else { return Ok(()) };
        let f = DebugFunction {
            name: decl.display_name.as_deref().unwrap_or(&info.name),
            linkage_name: if self.debug.linkage_names { &info.name } else { "" },
            loc,
            ty: sig,
            local,
        };
        let r = self.backend.debug_function(&f);
        self.lowered(call, r)?;
        if self.debug.loc != loc {
            let r = self.backend.debug_set_loc(self.debug.loc);
            self.lowered(call, r)?;
        }
        Ok(())
    }

    /// Describes a named slot (`param`: its 0-based index).
    pub(crate) fn debug_slot(
        &mut self,
        call: &'static str,
        slot: B::Value,
        ty: TypeId,
        name: &str,
        param: Option<u32>,
        flags: SlotFlags,
    ) -> Result<()> {
        if !self.debug.enabled || name.is_empty() || self.func.naked {
            return Ok(());
        }
        if let Some(i) = param {
            match self.debug.params_described.get_mut(i as usize) {
                Some(done) if !*done => *done = true,
                _ => return Ok(()),
            }
        }
        self.debug_describe(call, ty)?;
        let v = DebugVariable {
            name,
            ty,
            arg: param.map(|i| i + 1),
            loc: self.debug.loc,
            artificial: flags.contains(SlotFlags::ARTIFICIAL) || flags.contains(SlotFlags::COMPILER_TEMP),
            optimized_out: flags.contains(SlotFlags::OPTIMIZED_OUT),
        };
        let r = self.backend.debug_variable(slot, &v);
        self.lowered(call, r)
    }

    /// Describes data symbol `sym` just defined.
    pub(crate) fn debug_data_defined(&mut self, call: &'static str, sym: Sym) -> Result<()> {
        if !self.debug.enabled {
            return Ok(());
        }
        let SymbolKind::Data(decl) = &self.syms[sym.index()].kind else { return Ok(()) };
        if decl.tls.is_some() {
            return Ok(()); // a TLS location needs a target-specific DWARF operation
        }
        let ty = decl.ty;
        self.debug_describe(call, ty)?;
        let info = &self.syms[sym.index()];
        let SymbolKind::Data(decl) = &info.kind else { return Ok(()) };
        let g = DebugGlobal {
            name: decl.display_name.as_deref().unwrap_or(&info.name),
            linkage_name: if self.debug.linkage_names { &info.name } else { "" },
            ty,
            loc: self.debug.decl_locs.get(sym.index()).copied().filter(|l| l.line != 0).unwrap_or(self.debug.loc),
            local: decl.linkage == Linkage::Internal,
        };
        let r = self.backend.debug_global(sym, &g);
        r.map_err(|k| Error::new(call, k))
    }

    /// Describes `ty` and everything it mentions to the backend, dependencies
    /// first, each type once (iteratively: types may nest deeply).
    fn debug_describe(&mut self, call: &'static str, ty: TypeId) -> Result<()> {
        let mut todo = vec![ty];
        while let Some(&top) = todo.last() {
            if self.is_described(top) {
                todo.pop();
                continue;
            }
            let before = todo.len();
            for dep in self.debug_deps(top) {
                if !self.is_described(dep) {
                    todo.push(dep);
                }
            }
            if todo.len() > before {
                continue;
            }
            todo.pop();
            self.debug_emit_type(call, top)?;
        }
        Ok(())
    }

    fn is_described(&self, ty: TypeId) -> bool {
        self.debug.described.get(ty.index()).copied().unwrap_or(false)
    }

    fn debug_deps(&self, ty: TypeId) -> Vec<TypeId> {
        match self.types.kind(ty) {
            TypeKind::Int(_) | TypeKind::Float(_) => Vec::new(),
            TypeKind::Ptr { pointee, .. } => vec![*pointee],
            TypeKind::Array { elem, .. } => vec![*elem],
            TypeKind::Record { fields, .. } => fields.clone(),
            TypeKind::Func(sig) => sig.params.iter().chain(sig.result.iter()).map(|p| p.ty).collect(),
        }
    }

    fn debug_emit_type(&mut self, call: &'static str, ty: TypeId) -> Result<()> {
        let deco = self.debug.decorations.get(&ty);
        let name = deco.and_then(|d| d.name.as_deref());
        let layout = self.types.layout(ty);
        let bits = layout.map_or(0, |l| l.size * 8);
        let align_bits = layout.map_or(0, |l| (l.align * 8) as u32);
        let default_name;
        let field_names: Vec<String>;
        let desc = match self.types.kind(ty) {
            TypeKind::Int(w) => {
                default_name = if w.bits() == 1 { "bool".to_string() } else { format!("i{}", w.bits()) };
                let encoding = if w.bits() == 1 { BaseEncoding::Boolean } else { BaseEncoding::Signed };
                DebugType::Base {
                    name: name.unwrap_or(&default_name),
                    bits,
                    encoding: deco.and_then(|d| d.encoding).unwrap_or(encoding),
                }
            }
            TypeKind::Float(w) => {
                default_name = format!("f{}", w.bits());
                DebugType::Base {
                    name: name.unwrap_or(&default_name),
                    bits,
                    encoding: deco.and_then(|d| d.encoding).unwrap_or(BaseEncoding::Float),
                }
            }
            TypeKind::Ptr { pointee, addr_space } => {
                DebugType::Pointer { pointee: *pointee, bits, addr_space: *addr_space, name }
            }
            TypeKind::Array { elem, count } => DebugType::Array { elem: *elem, count: *count, bits, align_bits },
            TypeKind::Record { fields, .. } => {
                let offsets = self.types.field_offsets(ty).unwrap_or(&[]);
                let given = deco.map_or(&[][..], |d| &d.fields[..]);
                field_names =
                    (0..fields.len()).map(|i| given.get(i).cloned().unwrap_or_else(|| format!("f{i}"))).collect();
                let members = fields
                    .iter()
                    .zip(offsets)
                    .zip(&field_names)
                    .map(|((f, off), n)| DebugMember {
                        name: n,
                        ty: *f,
                        offset_bits: off * 8,
                        bits: self.types.layout(*f).map_or(0, |l| l.size * 8),
                    })
                    .collect();
                DebugType::Record { name: name.unwrap_or(""), bits, align_bits, members }
            }
            TypeKind::Func(sig) => DebugType::Function {
                params: sig.params.iter().map(|p| p.ty).collect(),
                result: sig.result.map(|p| p.ty),
            },
        };
        let r = self.backend.debug_type(ty, &desc);
        r.map_err(|k| Error::new(call, k))?;
        if self.debug.described.len() <= ty.index() {
            self.debug.described.resize(ty.index() + 1, false);
        }
        self.debug.described[ty.index()] = true;
        Ok(())
    }
}

/// Debug strings end up in string tables: no NULs.
fn check_text(call: &'static str, s: &str) -> Result<()> {
    if s.contains('\0') {
        let e = ErrorKind::InvalidName { name: s.to_string(), problem: NameProblem::ContainsNul };
        return Err(Error::new(call, e));
    }
    Ok(())
}
