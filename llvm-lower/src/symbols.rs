//! Symbols: declarations with linkage and visibility, data definitions as
//! byte/zero/relocation pieces, and symbol addresses.

use cfree_facade::*;
use inkwell::attributes::AttributeLoc;
use inkwell::comdat::ComdatSelectionKind;
use inkwell::module::Linkage as LlvmLinkage;
use inkwell::types::{AnyType, AnyTypeEnum};
use inkwell::values::{BasicValue, BasicValueEnum, FunctionValue, GlobalValue, UnnamedAddress};
use inkwell::{AddressSpace, GlobalVisibility, ThreadLocalMode};

use crate::backend::{refused, LlvmBackend};
use crate::ffi;

#[derive(Debug)]
pub(crate) enum LoweredSym<'ctx> {
    Func { value: FunctionValue<'ctx>, linkage: Linkage, sig: TypeId },
    Data { global: GlobalValue<'ctx>, decl: DataDecl, align: u64 },
}

pub(crate) fn llvm_linkage(l: Linkage) -> LlvmLinkage {
    match l {
        Linkage::External => LlvmLinkage::External,
        Linkage::Internal => LlvmLinkage::Internal,
        Linkage::Weak => LlvmLinkage::WeakAny,
        Linkage::WeakOdr => LlvmLinkage::WeakODR,
        Linkage::LinkOnceOdr => LlvmLinkage::LinkOnceODR,
        Linkage::ExternalWeak => LlvmLinkage::ExternalWeak,
    }
}

pub(crate) fn llvm_visibility(v: Visibility) -> GlobalVisibility {
    match v {
        Visibility::Default => GlobalVisibility::Default,
        Visibility::Hidden => GlobalVisibility::Hidden,
        Visibility::Protected => GlobalVisibility::Protected,
    }
}

/// Declarations until defined: LLVM only accepts external or extern_weak linkage on them.
pub(crate) fn declaration_linkage(l: Linkage) -> LlvmLinkage {
    if l == Linkage::ExternalWeak {
        LlvmLinkage::ExternalWeak
    } else {
        LlvmLinkage::External
    }
}

pub(crate) fn llvm_comdat_kind(k: ComdatKind) -> ComdatSelectionKind {
    match k {
        ComdatKind::Any => ComdatSelectionKind::Any,
        ComdatKind::ExactMatch => ComdatSelectionKind::ExactMatch,
        ComdatKind::Largest => ComdatSelectionKind::Largest,
        ComdatKind::NoDeduplicate => ComdatSelectionKind::NoDuplicates,
        ComdatKind::SameSize => ComdatSelectionKind::SameSize,
    }
}

pub(crate) fn llvm_tls_model(m: TlsModel) -> ThreadLocalMode {
    match m {
        TlsModel::GeneralDynamic => ThreadLocalMode::GeneralDynamicTLSModel,
        TlsModel::LocalDynamic => ThreadLocalMode::LocalDynamicTLSModel,
        TlsModel::InitialExec => ThreadLocalMode::InitialExecTLSModel,
        TlsModel::LocalExec => ThreadLocalMode::LocalExecTLSModel,
    }
}

/// The reserved array that keeps a retained symbol, if any.
fn retain_array(r: Retain) -> Option<&'static str> {
    match r {
        Retain::No => None,
        Retain::Compiler => Some("llvm.compiler.used"),
        Retain::Linker => Some("llvm.used"),
    }
}

fn check_llvm_name(name: &str) -> BackendResult<()> {
    // Names in LLVM's reserved namespace would declare intrinsics with a signature of the
    // frontend's choosing, which the verifier rejects or, worse, codegen miscompiles.
    if name.starts_with("llvm.") {
        return Err(ErrorKind::InvalidName { name: name.to_string(), problem: NameProblem::Reserved }.into());
    }
    Ok(())
}

impl<'ctx> LlvmBackend<'ctx> {
    pub(crate) fn lower_declare_function(
        &mut self,
        sym: Sym,
        name: &str,
        decl: &FuncDecl,
        _: &TypeTable,
    ) -> BackendResult<()> {
        check_llvm_name(name)?;
        if decl.gc == GcRole::Runtime {
            let value = self.runtime_trampoline(name, decl.sig)?;
            self.syms.push(LoweredSym::Func { value, linkage: Linkage::Internal, sig: decl.sig });
            return Ok(());
        }
        let value = self.module.add_function(name, self.fn_type(decl.sig), Some(declaration_linkage(decl.linkage)));
        value.as_global_value().set_visibility(llvm_visibility(decl.visibility));
        value.set_call_conventions(self.call_conv(decl.sig));
        match decl.gc {
            GcRole::None => {}
            GcRole::Safepoints => {
                value.set_gc("statepoint-example");
                // Stack walkers follow frame pointers through managed frames.
                value.add_attribute(AttributeLoc::Function, self.ctx.create_string_attribute("frame-pointer", "all"));
                self.has_gc = true;
            }
            GcRole::Leaf => {
                value.add_attribute(AttributeLoc::Function, self.ctx.create_string_attribute("gc-leaf-function", ""));
            }
            GcRole::Runtime => unreachable!("handled above"),
        }
        self.apply_abi(decl.sig, |loc, a| value.add_attribute(loc, a));
        self.apply_func_attrs(value, &decl.attrs)?;
        self.apply_placement(value.as_global_value(), &decl.placement);
        self.retain(value.as_global_value(), decl.placement.retain);
        if let Some(p) = &decl.placement.partition {
            self.partitions.push((name.to_string(), p.clone()));
        }
        debug_assert_eq!(sym.index(), self.syms.len());
        if let Some(check) = decl.stack_check {
            self.stack_checks.insert(sym.index(), check);
        }
        self.syms.push(LoweredSym::Func { value, linkage: decl.linkage, sig: decl.sig });
        Ok(())
    }

    pub(crate) fn lower_declare_data(
        &mut self,
        sym: Sym,
        name: &str,
        decl: &DataDecl,
        types: &TypeTable,
    ) -> BackendResult<()> {
        check_llvm_name(name)?;
        let global = self.module.add_global(self.basic(decl.ty), None, name);
        global.set_linkage(declaration_linkage(decl.linkage));
        global.set_visibility(llvm_visibility(decl.visibility));
        global.set_constant(decl.readonly);
        let natural = types.layout(decl.ty).map_or(1, |l| l.align);
        let align = if decl.align == 0 { natural } else { u64::from(decl.align) };
        global.set_alignment(align as u32);
        self.apply_data_decl(global, decl);
        self.retain(global, decl.placement.retain);
        if let Some(p) = &decl.placement.partition {
            self.partitions.push((name.to_string(), p.clone()));
        }
        debug_assert_eq!(sym.index(), self.syms.len());
        self.syms.push(LoweredSym::Data { global, decl: decl.clone(), align });
        Ok(())
    }

    pub(crate) fn lower_define_data(
        &mut self,
        sym: Sym,
        init: &DataInit,
        labels: &[inkwell::basic_block::BasicBlock<'ctx>],
    ) -> BackendResult<()> {
        if init.pieces.iter().any(|p| matches!(p, DataPiece::LabelAddr(_))) {
            self.has_label_data = true;
        }
        let LoweredSym::Data { decl, .. } = &self.syms[sym.index()] else {
            unreachable!("facade checked the symbol kind")
        };
        // A mergeable constant is one byte array, the shape LLVM recognises for
        // mergeable string (`SHF_STRINGS`) and constant sections.
        let flat = decl.mergeable
            && init.pieces.iter().all(|p| !matches!(p, DataPiece::Reloc { .. } | DataPiece::LabelAddr(_)));
        let init_value: BasicValueEnum<'ctx> = if flat {
            let mut bytes = Vec::new();
            for p in &init.pieces {
                match p {
                    DataPiece::Bytes(b) => bytes.extend_from_slice(b),
                    DataPiece::Zeros(n) => bytes.resize(bytes.len() + *n as usize, 0),
                    DataPiece::Reloc { .. } | DataPiece::LabelAddr(_) => unreachable!("checked above"),
                }
            }
            self.ctx.const_string(&bytes, false).into()
        } else {
            self.data_struct(init, labels)?.into()
        };
        self.replace_data_global(sym, init_value);
        Ok(())
    }

    fn data_struct(
        &self,
        init: &DataInit,
        labels: &[inkwell::basic_block::BasicBlock<'ctx>],
    ) -> BackendResult<inkwell::values::StructValue<'ctx>> {
        let mut fields: Vec<BasicValueEnum<'ctx>> = Vec::with_capacity(init.pieces.len());
        let mut labels = labels.iter();
        for piece in &init.pieces {
            match piece {
                DataPiece::Bytes(b) => fields.push(self.ctx.const_string(b, false).into()),
                DataPiece::Zeros(n) => fields.push(ffi::array_type(self.i8.into(), *n).const_zero()),
                DataPiece::Reloc { target, addend, addr_space } => {
                    let base = self.lower_sym_addr(*target).into_pointer_value();
                    let addr = if *addend == 0 {
                        base
                    } else {
                        ffi::const_byte_offset(self.i8, base, self.intptr.const_int(*addend as u64, true))
                    };
                    let addr = if *addr_space == 0 {
                        addr
                    } else {
                        let space =
                            AddressSpace::try_from(*addr_space).map_err(|()| refused("address space out of range"))?;
                        addr.const_address_space_cast(self.ctx.ptr_type(space))
                    };
                    fields.push(addr.into());
                }
                DataPiece::LabelAddr(_) => {
                    let block = labels.next().ok_or_else(|| refused("a label piece without its block"))?;
                    let addr = ffi::block_address(*block).ok_or_else(|| refused("address of an entry block"))?;
                    fields.push(addr.into());
                }
            }
        }
        Ok(self.ctx.const_struct(&fields, true))
    }

    fn replace_data_global(&mut self, sym: Sym, init_value: BasicValueEnum<'ctx>) {
        let LoweredSym::Data { global: old, decl, align } = &self.syms[sym.index()] else {
            unreachable!("facade checked the symbol kind")
        };
        let name = old.get_name().to_string_lossy().into_owned();
        old.set_name("");
        let new = self.module.add_global(init_value.get_type(), None, &name);
        new.set_initializer(&init_value);
        new.set_linkage(llvm_linkage(decl.linkage));
        new.set_visibility(llvm_visibility(decl.visibility));
        new.set_constant(decl.readonly);
        new.set_alignment(*align as u32);
        self.apply_data_decl(new, decl);
        let old = *old;
        // Existing uses move now; the old global lives on until `finalize`, since a value
        // stack entry of the open function may still name it.
        ffi::replace_uses(old, new);
        self.replaced.push((old, new));
        if let LoweredSym::Data { global, .. } = &mut self.syms[sym.index()] {
            *global = new;
        }
    }

    /// COMDAT group and section of a function or data global.
    fn apply_placement(&self, g: GlobalValue<'ctx>, p: &Placement) {
        if let Some(c) = &p.comdat {
            let comdat = self.module.get_or_insert_comdat(&c.name);
            comdat.set_selection_kind(llvm_comdat_kind(c.kind));
            g.set_comdat(comdat);
        }
        if let Some(section) = &p.section {
            g.set_section(Some(section));
        }
    }

    /// Placement, thread-local model and mergeability of a data global.
    fn apply_data_decl(&self, g: GlobalValue<'ctx>, decl: &DataDecl) {
        self.apply_placement(g, &decl.placement);
        if let Some(model) = decl.tls {
            g.set_thread_local_mode(Some(llvm_tls_model(model)));
        }
        if decl.mergeable {
            g.set_unnamed_address(UnnamedAddress::Global);
        }
    }

    /// Emits one `.llvm_sympart` section per partitioned definition, as LLVM's
    /// own printer does for its `partition` attribute (which the C API cannot
    /// set): the partition name, NUL, and the symbol's address. Declarations
    /// get none (the definition's object carries it).
    pub(crate) fn emit_partitions(&mut self) {
        let word = if self.resolved.info.pointer.size == 8 { ".quad" } else { ".long" };
        let mut asm = String::new();
        for (id, (name, partition)) in self.partitions.iter().enumerate() {
            let defined = match self.module.get_function(name) {
                Some(f) => f.count_basic_blocks() > 0,
                None => self.module.get_global(name).is_some_and(|g| g.get_initializer().is_some()),
            };
            if defined {
                asm.push_str(&format!(
                    "\t.pushsection .llvm_sympart,\"\",@llvm_sympart,unique,{}\n\t.asciz \"{partition}\"\n\t{word} \"{name}\"\n\t.popsection\n",
                    id + 1
                ));
            }
        }
        if !asm.is_empty() {
            ffi::append_module_asm(&self.module, &asm);
        }
    }

    /// Adds `g` to `llvm.used` or `llvm.compiler.used` (uses follow later replacements).
    fn retain(&self, g: GlobalValue<'ctx>, r: Retain) {
        if let Some(array) = retain_array(r) {
            let ptr = self.ctx.ptr_type(inkwell::AddressSpace::default());
            let elem = g.as_pointer_value().as_basic_value_enum();
            ffi::append_to_array_global(&self.module, array, ptr.into(), elem, Some("llvm.metadata"));
        }
    }

    pub(crate) fn lower_declare_alias(
        &mut self,
        sym: Sym,
        name: &str,
        target: Sym,
        decl: &AliasDecl,
    ) -> BackendResult<()> {
        check_llvm_name(name)?;
        let (lowered, value_ty, aliasee): (LoweredSym<'ctx>, AnyTypeEnum<'ctx>, _) = match &self.syms[target.index()] {
            LoweredSym::Func { value, sig, .. } => (
                // Calls through the alias in this module go to the target it is bound to.
                LoweredSym::Func { value: *value, linkage: decl.linkage, sig: *sig },
                value.get_type().into(),
                value.as_global_value().as_pointer_value(),
            ),
            LoweredSym::Data { global, decl: d, align } => {
                let d = DataDecl { linkage: decl.linkage, visibility: decl.visibility, ..d.clone() };
                let ty = self.basic(d.ty).as_any_type_enum();
                let placeholder = LoweredSym::Data { global: *global, decl: d, align: *align };
                (placeholder, ty, global.as_pointer_value())
            }
        };
        let alias = ffi::add_alias(&self.module, value_ty, aliasee, name);
        alias.set_linkage(llvm_linkage(decl.linkage));
        alias.set_visibility(llvm_visibility(decl.visibility));
        let lowered = match lowered {
            LoweredSym::Data { decl, align, .. } => LoweredSym::Data { global: alias, decl, align },
            f @ LoweredSym::Func { .. } => f,
        };
        debug_assert_eq!(sym.index(), self.syms.len());
        self.syms.push(lowered);
        Ok(())
    }

    pub(crate) fn lower_add_init_fini(&mut self, kind: InitFini, func: Sym, priority: u16) -> BackendResult<()> {
        let name = match kind {
            InitFini::Constructor => "llvm.global_ctors",
            InitFini::Destructor => "llvm.global_dtors",
        };
        let ptr = self.ctx.ptr_type(inkwell::AddressSpace::default());
        let i32t = self.ctx.i32_type();
        let entry_ty = self.ctx.struct_type(&[i32t.into(), ptr.into(), ptr.into()], false);
        let f = self.lower_sym_addr(func);
        let entry = entry_ty.const_named_struct(&[
            i32t.const_int(u64::from(priority), false).into(),
            f,
            ptr.const_null().into(),
        ]);
        ffi::append_to_array_global(&self.module, name, entry_ty.into(), entry.into(), None);
        Ok(())
    }

    pub(crate) fn lower_sym_addr(&self, sym: Sym) -> BasicValueEnum<'ctx> {
        match &self.syms[sym.index()] {
            LoweredSym::Func { value, .. } => value.as_global_value().as_pointer_value().into(),
            LoweredSym::Data { global, .. } => global.as_pointer_value().into(),
        }
    }
}

impl<'ctx> LlvmBackend<'ctx> {
    /// Function attributes; a CPU or feature string is checked against the
    /// target first (LLVM would only warn, and compile for something else).
    fn apply_func_attrs(&self, f: FunctionValue<'ctx>, a: &FuncAttrs) -> BackendResult<()> {
        let enum_attr = |name: &str, v: u64| {
            self.ctx.create_enum_attribute(inkwell::attributes::Attribute::get_named_enum_kind_id(name), v)
        };
        let flags = [
            (a.noreturn, "noreturn"),
            (a.cold, "cold"),
            (a.hot, "hot"),
            (a.noinline, "noinline"),
            (a.alwaysinline, "alwaysinline"),
            (a.optsize || a.minsize, "optsize"),
            (a.minsize, "minsize"),
            (a.no_red_zone, "noredzone"),
        ];
        for (_, name) in flags.iter().filter(|(on, _)| *on) {
            f.add_attribute(AttributeLoc::Function, enum_attr(name, 0));
        }
        if a.stack_probes {
            f.add_attribute(AttributeLoc::Function, self.ctx.create_string_attribute("probe-stack", "inline-asm"));
        }
        if a.stack_align != 0 {
            f.add_attribute(AttributeLoc::Function, enum_attr("alignstack", u64::from(a.stack_align)));
        }
        if a.target_cpu.is_some() || a.target_features.is_some() {
            let info = &self.resolved.info;
            let cpu = a.target_cpu.as_deref().unwrap_or(&info.cpu);
            let features = a.target_features.as_deref().unwrap_or(&info.features);
            crate::target::check_cpu_and_features(&self.resolved.target, &info.triple, info.arch, cpu, features)
                .map_err(|reason| refused(format!("function target: {reason}")))?;
            if let Some(cpu) = &a.target_cpu {
                f.add_attribute(AttributeLoc::Function, self.ctx.create_string_attribute("target-cpu", cpu));
            }
            if let Some(features) = &a.target_features {
                f.add_attribute(AttributeLoc::Function, self.ctx.create_string_attribute("target-features", features));
            }
        }
        if let Some(fp) = a.frame_pointer {
            let v = match fp {
                FramePointer::None => "none",
                FramePointer::NonLeaf => "non-leaf",
                FramePointer::All => "all",
            };
            f.add_attribute(AttributeLoc::Function, self.ctx.create_string_attribute("frame-pointer", v));
        }
        Ok(())
    }
}
