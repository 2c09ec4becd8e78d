//! Debug information (`doc/debuginfo.md`): the facade's descriptions lowered
//! through LLVM's `DIBuilder` as they arrive. One compile unit per module;
//! files, types and functions are kept by id; a function's instructions get
//! the current source position in the innermost open lexical scope (every
//! call in a function with a subprogram needs a location in it, so one is
//! always set while a described function is open).

mod ffi;

use cfree_facade::*;
use inkwell::module::FlagBehavior;
use inkwell::values::BasicValueEnum;

use self::ffi::{DiBuilder, Md};
use crate::backend::{refused, LlvmBackend};

/// The module's debug information under construction.
#[derive(Debug)]
pub(crate) struct DebugState<'ctx> {
    builder: DiBuilder<'ctx>,
    unit: Md<'ctx>,
    unit_file: Md<'ctx>,
    optimized: bool,
    /// By `FileId` - 1.
    files: Vec<Option<Md<'ctx>>>,
    /// By type index: the type's node (a function type's is its subroutine type).
    types: Vec<Option<Md<'ctx>>>,
    /// The open function's subprogram and file, if it is described.
    function: Option<(Md<'ctx>, Md<'ctx>)>,
    /// Lexical blocks open in it with their files, innermost last.
    scopes: Vec<(Md<'ctx>, Md<'ctx>)>,
    /// Blocks that put positions of another file in a scope, by (scope, file).
    file_blocks: std::collections::HashMap<(usize, usize), Md<'ctx>>,
}

impl<'ctx> DebugState<'ctx> {
    /// The file of `loc`, or the unit's file for a position without one.
    fn file_of(&self, loc: SrcLoc) -> Md<'ctx> {
        loc.file.0.checked_sub(1).and_then(|i| self.files.get(i as usize).copied().flatten()).unwrap_or(self.unit_file)
    }

    fn ty(&self, id: TypeId) -> BackendResult<Md<'ctx>> {
        self.types.get(id.index()).copied().flatten().ok_or_else(|| refused(format!("type {id:?} was not described")))
    }

    /// The innermost scope of the open function and its file.
    fn scope(&self) -> Option<(Md<'ctx>, Md<'ctx>)> {
        let function = self.function?;
        Some(self.scopes.last().copied().unwrap_or(function))
    }

    /// The scope positions at `loc` go in: the innermost one, or, for a
    /// position in another file (LLVM takes a location's file from its
    /// scope), a block of that file nested in it, made once per pair.
    fn scope_for(&mut self, loc: SrcLoc) -> Option<Md<'ctx>> {
        let (scope, scope_file) = self.scope()?;
        let file = loc.file.0.checked_sub(1).and_then(|i| self.files.get(i as usize).copied().flatten());
        let Some(file) = file.filter(|f| *f != scope_file) else { return Some(scope) };
        let builder = &self.builder;
        let block = *self
            .file_blocks
            .entry((scope.key(), file.key()))
            .or_insert_with(|| builder.lexical_block(scope, file, loc.line, loc.column));
        Some(block)
    }
}

impl<'ctx> LlvmBackend<'ctx> {
    fn dbg(&mut self) -> BackendResult<&mut DebugState<'ctx>> {
        self.debug.as_mut().ok_or_else(|| refused("debug information is not enabled"))
    }

    pub(crate) fn lower_debug_init(&mut self, o: &DebugOptions, unit_file: FileId) -> BackendResult<()> {
        if self.debug.is_some() {
            return Err(refused("debug information is already enabled"));
        }
        let builder = DiBuilder::new(self.ctx, &self.module);
        let file = builder.file(&o.file, &o.directory);
        let unit = builder.compile_unit(o.language, file, &o.producer, o.optimized);
        let i32 = self.ctx.i32_type();
        let version = i32.const_int(o.version.number().into(), false);
        self.module.add_basic_value_flag("Dwarf Version", FlagBehavior::Warning, version);
        // Without this flag LLVM drops all debug information when verifying.
        let meta = i32.const_int(ffi::metadata_version().into(), false);
        self.module.add_basic_value_flag("Debug Info Version", FlagBehavior::Warning, meta);
        let mut files = vec![None; unit_file.0 as usize];
        files[unit_file.0 as usize - 1] = Some(file);
        self.debug = Some(DebugState {
            builder,
            unit,
            unit_file: file,
            optimized: o.optimized,
            files,
            types: Vec::new(),
            function: None,
            scopes: Vec::new(),
            file_blocks: Default::default(),
        });
        Ok(())
    }

    pub(crate) fn lower_debug_file(&mut self, id: FileId, name: &str, directory: &str) -> BackendResult<()> {
        let d = self.dbg()?;
        let file = d.builder.file(name, directory);
        let i = id.0 as usize - 1;
        if d.files.len() <= i {
            d.files.resize(i + 1, None);
        }
        d.files[i] = Some(file);
        Ok(())
    }

    pub(crate) fn lower_debug_type(&mut self, id: TypeId, ty: &DebugType<'_>) -> BackendResult<()> {
        let d = self.dbg()?;
        let b = &d.builder;
        let made = match ty {
            DebugType::Base { name, bits, encoding } => b.basic_type(name, *bits, encoding.dwarf()),
            DebugType::Pointer { pointee, bits, addr_space, name } => {
                b.pointer_type(Some(d.ty(*pointee)?), *bits, *addr_space, name.unwrap_or(""))
            }
            DebugType::Array { elem, count, bits, align_bits } => {
                b.array_type(d.ty(*elem)?, *count, *bits, *align_bits)
            }
            DebugType::Record { name, bits, align_bits, members } => {
                let mut elems = Vec::with_capacity(members.len());
                for m in members {
                    elems.push(b.member_type(d.unit, m.name, d.unit_file, m.bits, m.offset_bits, d.ty(m.ty)?));
                }
                b.struct_type(d.unit, name, d.unit_file, *bits, *align_bits, &elems)
            }
            DebugType::Function { params, result } => {
                let params: Vec<Md<'ctx>> = params.iter().map(|p| d.ty(*p)).collect::<BackendResult<_>>()?;
                let result = result.map(|r| d.ty(r)).transpose()?;
                b.subroutine_type(d.unit_file, result, &params)
            }
        };
        let i = id.index();
        if d.types.len() <= i {
            d.types.resize(i + 1, None);
        }
        d.types[i] = Some(made);
        Ok(())
    }

    pub(crate) fn lower_debug_function(&mut self, f: &DebugFunction<'_>) -> BackendResult<()> {
        let value = self.open()?.value;
        let d = self.dbg()?;
        let ty = d.ty(f.ty)?;
        let file = d.file_of(f.loc);
        let sp = d.builder.function(d.unit, f.name, f.linkage_name, file, f.loc.line, ty, f.local, d.optimized);
        ffi::set_subprogram(value, sp);
        d.function = Some((sp, file));
        d.scopes.clear();
        d.file_blocks.clear();
        self.lower_debug_set_loc(f.loc)
    }

    pub(crate) fn lower_debug_set_loc(&mut self, loc: SrcLoc) -> BackendResult<()> {
        let d = self.dbg()?;
        let Some(scope) = d.scope_for(loc) else { return Ok(()) };
        let line = if loc.file == FileId::NONE { 0 } else { loc.line };
        let at = d.builder.location(line, loc.column, scope);
        ffi::set_location(&self.builder, Some(at));
        Ok(())
    }

    pub(crate) fn lower_debug_variable(
        &mut self,
        slot: BasicValueEnum<'ctx>,
        v: &DebugVariable<'_>,
    ) -> BackendResult<()> {
        let entry = self.open()?.entry;
        let d = self.dbg()?;
        let Some(scope) = d.scope_for(v.loc) else { return Ok(()) };
        let file = d.file_of(v.loc);
        let flags = if v.artificial { ffi::FLAG_ARTIFICIAL } else { ffi::FLAG_ZERO };
        let var = d.builder.variable(scope, v.name, v.arg, file, v.loc.line, d.ty(v.ty)?, flags);
        if v.optimized_out {
            return Ok(()); // described, without a location
        }
        let at = d.builder.location(v.loc.line, v.loc.column, scope);
        // The entry block stays open until `func_end` terminates it.
        d.builder.declare_at_end(slot.into_pointer_value(), var, at, entry);
        Ok(())
    }

    pub(crate) fn lower_debug_scope_begin(&mut self, loc: SrcLoc) -> BackendResult<()> {
        let d = self.dbg()?;
        let Some((parent, _)) = d.scope() else { return Ok(()) };
        let file = d.file_of(loc);
        let block = d.builder.lexical_block(parent, file, loc.line, loc.column);
        d.scopes.push((block, file));
        self.lower_debug_set_loc(loc)
    }

    pub(crate) fn lower_debug_scope_end(&mut self) -> BackendResult<()> {
        let d = self.dbg()?;
        if d.function.is_some() {
            d.scopes.pop().ok_or_else(|| refused("no lexical scope is open"))?;
        }
        Ok(())
    }

    pub(crate) fn lower_debug_global(&mut self, sym: Sym, g: &DebugGlobal<'_>) -> BackendResult<()> {
        let crate::symbols::LoweredSym::Data { global, .. } = self.syms[sym.index()] else {
            return Err(refused("debug_global on a function"));
        };
        let d = self.dbg()?;
        let file = d.file_of(g.loc);
        d.builder.global(global, d.unit, g.name, g.linkage_name, file, g.loc.line, d.ty(g.ty)?, g.local);
        Ok(())
    }

    /// The open function ended or was abandoned: no scope, no location.
    pub(crate) fn debug_function_closed(&mut self) {
        if let Some(d) = self.debug.as_mut() {
            d.function = None;
            d.scopes.clear();
            ffi::set_location(&self.builder, None);
        }
    }

    /// Resolves the module's debug information (before verification or emission).
    pub(crate) fn debug_finalize(&mut self) {
        if let Some(d) = self.debug.as_ref() {
            d.builder.finalize();
        }
    }
}
