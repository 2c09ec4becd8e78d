//! Lowering of memory facts shared by every access (alignment, volatile,
//! nontemporal, invariant, alias scopes) and of memcpy/memmove/memset.

use cfree_facade::{BackendResult, MemFlags, ResolvedAccess};
use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::values::{BasicValue, BasicValueEnum, InstructionValue, MetadataValue, ValueKind};

use crate::backend::{refused, Built, LlvmBackend};
use crate::ffi;

impl<'ctx> LlvmBackend<'ctx> {
    /// Creates alias scope `id` in this module's single domain.
    pub(crate) fn lower_alias_scope(&mut self, id: u32, name: &str) {
        debug_assert_eq!(id as usize, self.alias_scopes.len() + 1);
        let ctx = self.ctx;
        let module_name = self.module.get_name().to_string_lossy().into_owned();
        let domain = *self.alias_domain.get_or_insert_with(|| {
            ctx.metadata_node(&[ctx.metadata_string(&format!("cfree.domain.{module_name}")).into()])
        });
        // A string first operand names the scope uniquely within the module.
        let scope_name = ctx.metadata_string(&format!("cfree.scope.{id}.{name}"));
        let scope = ctx.metadata_node(&[scope_name.into(), domain.into()]);
        self.alias_scopes.push(scope);
    }

    /// The scope list `!{...}` of the non-zero ids, or `None` if all are 0.
    pub(crate) fn scope_list(&self, ids: &[u32]) -> Option<MetadataValue<'ctx>> {
        let scopes: Vec<_> =
            ids.iter().filter(|id| **id != 0).map(|id| self.alias_scopes[*id as usize - 1].into()).collect();
        (!scopes.is_empty()).then(|| self.ctx.metadata_node(&scopes))
    }

    /// Attaches `!alias.scope` and `!noalias` for the scopes of every access the
    /// instruction makes (one for loads and stores, two for memcpy).
    pub(crate) fn set_alias_facts(
        &self,
        inst: InstructionValue<'ctx>,
        accesses: &[&ResolvedAccess],
    ) -> BackendResult<()> {
        if accesses.iter().all(|a| a.alias_scope == 0 && a.noalias_scope == 0) {
            return Ok(());
        }
        let ids = |f: fn(&ResolvedAccess) -> u32| accesses.iter().map(|a| f(a)).collect::<Vec<_>>();
        if let Some(list) = self.scope_list(&ids(|a| a.alias_scope)) {
            inst.set_metadata(list, self.kind_alias_scope).map_err(refused)?;
        }
        if let Some(list) = self.scope_list(&ids(|a| a.noalias_scope)) {
            inst.set_metadata(list, self.kind_noalias).map_err(refused)?;
        }
        Ok(())
    }

    /// Alignment, volatile, hints and alias scopes of a load or store.
    pub(crate) fn set_access_facts(&self, inst: InstructionValue<'ctx>, access: &ResolvedAccess) -> BackendResult<()> {
        ffi::set_memory_alignment(inst, access.align as u32);
        if access.is_plain() {
            return Ok(());
        }
        if access.flags.contains(MemFlags::VOLATILE) {
            inst.set_volatile(true).map_err(refused)?;
        }
        if access.flags.contains(MemFlags::NONTEMPORAL) {
            let one = self.ctx.i32_type().const_int(1, false);
            let node = self.ctx.metadata_node(&[one.into()]);
            inst.set_metadata(node, self.kind_nontemporal).map_err(refused)?;
        }
        if access.flags.contains(MemFlags::INVARIANT) {
            let node = self.ctx.metadata_node(&[]);
            inst.set_metadata(node, self.kind_invariant).map_err(refused)?;
        }
        self.set_alias_facts(inst, &[access])
    }

    fn mem_intrinsic_call(
        &self,
        name: &str,
        args: &[BasicValueEnum<'ctx>],
        aligns: &[(u32, &ResolvedAccess)],
        volatile: bool,
    ) -> BackendResult<()> {
        let size_ty = self.ctx.i64_type();
        // Overloaded on the actual pointer types, so any address space works.
        let dst_ty = args[0].get_type();
        let overloads: Vec<_> = if name == "llvm.memset" {
            vec![dst_ty, size_ty.into()]
        } else {
            vec![dst_ty, args[1].get_type(), size_ty.into()]
        };
        let intrinsic = inkwell::intrinsics::Intrinsic::find(name).ok_or_else(|| refused(format!("no {name}")))?;
        let f = intrinsic
            .get_declaration(&self.module, &overloads)
            .ok_or_else(|| refused(format!("no overload of {name} for {overloads:?}")))?;
        let mut all: Vec<_> = args.iter().map(|a| (*a).into()).collect();
        all.push(self.ctx.bool_type().const_int(u64::from(volatile), false).into());
        let call = self.builder.build_call(f, &all, "").built()?;
        let align_kind = Attribute::get_named_enum_kind_id("align");
        for (param, access) in aligns {
            call.add_attribute(AttributeLoc::Param(*param), self.ctx.create_enum_attribute(align_kind, access.align));
        }
        if let ValueKind::Instruction(inst) = call.try_as_basic_value() {
            let accesses: Vec<&ResolvedAccess> = aligns.iter().map(|(_, a)| *a).collect();
            self.set_alias_facts(inst, &accesses)?;
        }
        Ok(())
    }

    pub(crate) fn lower_mem_copy(
        &self,
        overlapping: bool,
        dst: BasicValueEnum<'ctx>,
        src: BasicValueEnum<'ctx>,
        size: u64,
        dst_access: &ResolvedAccess,
        src_access: &ResolvedAccess,
    ) -> BackendResult<()> {
        let name = if overlapping { "llvm.memmove" } else { "llvm.memcpy" };
        let len = self.ctx.i64_type().const_int(size, false).into();
        let volatile = dst_access.flags.contains(MemFlags::VOLATILE) || src_access.flags.contains(MemFlags::VOLATILE);
        self.mem_intrinsic_call(name, &[dst, src, len], &[(0, dst_access), (1, src_access)], volatile)
    }

    pub(crate) fn lower_mem_set(
        &self,
        dst: BasicValueEnum<'ctx>,
        value: u8,
        size: u64,
        access: &ResolvedAccess,
    ) -> BackendResult<()> {
        let byte = self.ctx.i8_type().const_int(u64::from(value), false).into();
        let len = self.ctx.i64_type().const_int(size, false).into();
        let volatile = access.flags.contains(MemFlags::VOLATILE);
        self.mem_intrinsic_call("llvm.memset", &[dst, byte, len], &[(0, access)], volatile)
    }

    pub(crate) fn lower_load(
        &mut self,
        addr: BasicValueEnum<'ctx>,
        access: &ResolvedAccess,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        if access.is_plain() {
            return Ok(ffi::build_aligned_load(&self.builder, self.basic(access.ty), addr, access.align as u32));
        }
        let access = &crate::target::load_facts(&self.resolved.info, access);
        let v = self.builder.build_load(self.basic(access.ty), addr.into_pointer_value(), "").built()?;
        if let Some(inst) = v.as_instruction_value() {
            self.set_access_facts(inst, access)?;
        }
        Ok(v)
    }

    pub(crate) fn lower_store(
        &mut self,
        addr: BasicValueEnum<'ctx>,
        value: BasicValueEnum<'ctx>,
        access: &ResolvedAccess,
    ) -> BackendResult<()> {
        if access.is_plain() {
            ffi::build_aligned_store(&self.builder, addr, value, access.align as u32);
            return Ok(());
        }
        let inst = self.builder.build_store(addr.into_pointer_value(), value).built()?;
        self.set_access_facts(inst, access)
    }

    pub(crate) fn lower_addr_offset(
        &mut self,
        addr: BasicValueEnum<'ctx>,
        offset: i64,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        if offset == 0 {
            return Ok(addr);
        }
        let off = self.intptr.const_int(offset as u64, true);
        Ok(ffi::byte_offset(&self.builder, self.i8, addr.into_pointer_value(), off).into())
    }

    pub(crate) fn lower_addr_index(
        &mut self,
        addr: BasicValueEnum<'ctx>,
        index: BasicValueEnum<'ctx>,
        elem_size: u64,
    ) -> BackendResult<BasicValueEnum<'ctx>> {
        let index = index.into_int_value();
        let b = &self.builder;
        let wide = match index.get_type().get_bit_width().cmp(&self.intptr.get_bit_width()) {
            std::cmp::Ordering::Less => b.build_int_s_extend(index, self.intptr, "").built()?,
            std::cmp::Ordering::Greater => b.build_int_truncate(index, self.intptr, "").built()?,
            std::cmp::Ordering::Equal => index,
        };
        let bytes = b.build_int_mul(wide, self.intptr.const_int(elem_size, false), "").built()?;
        Ok(ffi::byte_offset(&self.builder, self.i8, addr.into_pointer_value(), bytes).into())
    }
}
