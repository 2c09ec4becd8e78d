//! [`LlvmBackend`]: each facade call lowered at once into LLVM IR.
//!
//! Layout of a lowered function: block `entry` holds one `alloca` per
//! parameter and local slot, plus the stores of incoming parameters; it
//! branches to `start`, where the frontend's code begins. Allocas in the
//! entry block are what `mem2reg`/SROA promote at O1 and above.

use cfree_facade::{
    AbiExt, AtomicOrdering, AtomicRmwOp, Backend, CastOp, CheckedOp, DataDecl, DataInit, DataPiece, ErrorKind,
    FastMath, FloatBinOp, FloatCmp, FloatUnOp, FuncDecl, IntBinOp, IntCmp, IntFlags, IntUnOp, Linkage, ResolvedAccess,
    Sym, SyncScope, TargetInfo, TargetSpec, TypeId, TypeKind, TypeTable, Visibility,
};
use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::basic_block::BasicBlock;
use inkwell::builder::Builder;
use inkwell::context::Context;
use inkwell::module::{FlagBehavior, Linkage as LlvmLinkage, Module};
use inkwell::types::{BasicMetadataTypeEnum, BasicType, BasicTypeEnum, FunctionType, IntType};
use inkwell::values::{
    BasicMetadataValueEnum, BasicValue, BasicValueEnum, CallSiteValue, FunctionValue, GlobalValue, MetadataValue,
};
use inkwell::{AddressSpace, GlobalVisibility, IntPredicate};

use crate::target::ResolvedTarget;
use crate::{abi, ffi, Result};

/// Facade-validated operands never make the builder fail; it fails only when unpositioned.
pub(crate) const POSITIONED: &str = "builder is positioned (facade contract)";

#[derive(Debug, Clone, Copy)]
enum LoweredType<'ctx> {
    Basic(BasicTypeEnum<'ctx>),
    Func(FunctionType<'ctx>),
}

#[derive(Debug)]
struct FuncAbi {
    params: Vec<AbiExt>,
    result: AbiExt,
}

#[derive(Debug)]
enum LoweredSym<'ctx> {
    Func { value: FunctionValue<'ctx>, linkage: Linkage, sig: TypeId },
    Data { global: GlobalValue<'ctx>, decl: DataDecl, align: u64 },
}

#[derive(Debug)]
struct OpenFunction<'ctx> {
    sym: Sym,
    value: FunctionValue<'ctx>,
    entry: BasicBlock<'ctx>,
    start: BasicBlock<'ctx>,
    linkage: Linkage,
}

/// The LLVM implementation of [`cfree_facade::Backend`].
#[derive(Debug)]
pub struct LlvmBackend<'ctx> {
    pub(crate) ctx: &'ctx Context,
    pub(crate) module: Module<'ctx>,
    pub(crate) builder: Builder<'ctx>,
    entry_builder: Builder<'ctx>,
    pub(crate) resolved: ResolvedTarget,
    i8: IntType<'ctx>,
    intptr: IntType<'ctx>,
    types: Vec<LoweredType<'ctx>>,
    abis: Vec<Option<FuncAbi>>,
    syms: Vec<LoweredSym<'ctx>>,
    func: Option<OpenFunction<'ctx>>,
    /// Data declarations replaced by their definitions, deleted by [`Self::finalize`]:
    /// the open function's value stack may still hold the old address.
    replaced: Vec<(GlobalValue<'ctx>, GlobalValue<'ctx>)>,
    pub(crate) kind_nontemporal: u32,
    pub(crate) kind_invariant: u32,
    pub(crate) kind_alias_scope: u32,
    pub(crate) kind_noalias: u32,
    /// Scope nodes by id - 1, in `alias_domain`.
    pub(crate) alias_scopes: Vec<MetadataValue<'ctx>>,
    pub(crate) alias_domain: Option<MetadataValue<'ctx>>,
    /// Whether any function has GC safepoints (the pipeline then ends with RS4GC).
    pub(crate) has_gc: bool,
    /// Safepoint ID and explicit roots for the next call (`safepoint_info`).
    pending_safepoint: Option<(Option<u64>, Vec<BasicValueEnum<'ctx>>)>,
}

/// The integer type of `bits` (1, 8, 16, 32, 64 or 128: the facade's widths and pointer widths).
pub(crate) fn int_type(ctx: &Context, bits: u32) -> inkwell::types::IntType<'_> {
    match bits {
        1 => ctx.bool_type(),
        8 => ctx.i8_type(),
        16 => ctx.i16_type(),
        32 => ctx.i32_type(),
        64 => ctx.i64_type(),
        128 => ctx.i128_type(),
        other => unreachable!("no {other}-bit integers reach the backend"),
    }
}

fn llvm_linkage(l: Linkage) -> LlvmLinkage {
    match l {
        Linkage::External => LlvmLinkage::External,
        Linkage::Internal => LlvmLinkage::Internal,
        Linkage::Weak => LlvmLinkage::WeakAny,
        Linkage::WeakOdr => LlvmLinkage::WeakODR,
        Linkage::LinkOnceOdr => LlvmLinkage::LinkOnceODR,
        Linkage::ExternalWeak => LlvmLinkage::ExternalWeak,
    }
}

fn llvm_visibility(v: Visibility) -> GlobalVisibility {
    match v {
        Visibility::Default => GlobalVisibility::Default,
        Visibility::Hidden => GlobalVisibility::Hidden,
        Visibility::Protected => GlobalVisibility::Protected,
    }
}

fn int_predicate(p: IntCmp) -> IntPredicate {
    match p {
        IntCmp::Eq => IntPredicate::EQ,
        IntCmp::Ne => IntPredicate::NE,
        IntCmp::Slt => IntPredicate::SLT,
        IntCmp::Sle => IntPredicate::SLE,
        IntCmp::Sgt => IntPredicate::SGT,
        IntCmp::Sge => IntPredicate::SGE,
        IntCmp::Ult => IntPredicate::ULT,
        IntCmp::Ule => IntPredicate::ULE,
        IntCmp::Ugt => IntPredicate::UGT,
        IntCmp::Uge => IntPredicate::UGE,
    }
}

/// Declarations until defined: LLVM only accepts external or extern_weak linkage on them.
fn declaration_linkage(l: Linkage) -> LlvmLinkage {
    if l == Linkage::ExternalWeak {
        LlvmLinkage::ExternalWeak
    } else {
        LlvmLinkage::External
    }
}

impl<'ctx> LlvmBackend<'ctx> {
    /// A backend emitting into a new module named `name` for `spec`.
    pub fn new(ctx: &'ctx Context, name: &str, spec: &TargetSpec) -> Result<Self> {
        crate::context::check_module_name(name)?;
        let resolved = crate::target::resolve(spec)?;
        let module = ctx.create_module(name);
        let tm = crate::target::machine(
            &resolved.target,
            &resolved.info.triple,
            &resolved.info.cpu,
            &resolved.info.features,
            inkwell::OptimizationLevel::Default,
        )?;
        module.set_triple(&tm.get_triple());
        module.set_data_layout(&tm.get_target_data().get_data_layout());
        if let Some(abi) = resolved.abi_name {
            module.add_metadata_flag("target-abi", FlagBehavior::Error, ctx.metadata_string(abi));
        }
        let intptr = int_type(ctx, resolved.info.pointer_bits());
        Ok(Self {
            ctx,
            module,
            builder: ctx.create_builder(),
            entry_builder: ctx.create_builder(),
            resolved,
            i8: ctx.i8_type(),
            intptr,
            types: Vec::new(),
            abis: Vec::new(),
            syms: Vec::new(),
            func: None,
            replaced: Vec::new(),
            kind_nontemporal: ctx.get_kind_id("nontemporal"),
            kind_invariant: ctx.get_kind_id("invariant.load"),
            kind_alias_scope: ctx.get_kind_id("alias.scope"),
            kind_noalias: ctx.get_kind_id("noalias"),
            alias_scopes: Vec::new(),
            alias_domain: None,
            has_gc: false,
            pending_safepoint: None,
        })
    }

    /// Completes the module once no function is open: uses of replaced
    /// declarations made after their replacement are redirected, then the
    /// declarations are deleted.
    pub(crate) fn finalize(&mut self) {
        debug_assert!(self.func.is_none());
        for (old, new) in self.replaced.drain(..) {
            ffi::replace_global(old, new);
        }
    }

    /// The entry trampoline of host runtime function `name`: an internal function
    /// with `name`'s signature that calls the host's `name` with its own frame
    /// address first. The trampoline keeps a frame pointer, so the host can find
    /// the managed caller (return address at `[fp + 8]`, caller's frame at `[fp]`,
    /// caller's stack pointer `fp + 16` on x86-64) without its own frame pointers.
    fn runtime_trampoline(&mut self, name: &str, sig: TypeId) -> FunctionValue<'ctx> {
        let fty = self.fn_type(sig);
        let ptr = self.ctx.ptr_type(AddressSpace::default());
        let mut host_params: Vec<BasicMetadataTypeEnum<'ctx>> = vec![ptr.into()];
        host_params.extend(fty.get_param_types());
        let host_ty = match fty.get_return_type() {
            Some(r) => r.fn_type(&host_params, false),
            None => self.ctx.void_type().fn_type(&host_params, false),
        };
        let host = self.module.add_function(name, host_ty, Some(LlvmLinkage::External));
        let tramp = self.module.add_function(&format!("cfree.rt.{name}"), fty, Some(LlvmLinkage::Internal));
        tramp.add_attribute(AttributeLoc::Function, self.ctx.create_string_attribute("frame-pointer", "all"));
        // The host must run inside the trampoline's frame: as a tail call it would run after
        // the frame is popped, and the frame pointer it receives would name dead stack.
        tramp.add_attribute(AttributeLoc::Function, self.ctx.create_string_attribute("disable-tail-calls", "true"));
        let noinline = self.ctx.create_enum_attribute(Attribute::get_named_enum_kind_id("noinline"), 0);
        tramp.add_attribute(AttributeLoc::Function, noinline);
        self.apply_abi(sig, |loc, a| tramp.add_attribute(loc, a));
        if let Some(abi) = &self.abis[sig.index()] {
            for (i, ext) in abi.params.iter().enumerate() {
                if let Some(a) = self.ext_attr(*ext) {
                    host.add_attribute(AttributeLoc::Param(i as u32 + 1), a);
                }
            }
            if let Some(a) = self.ext_attr(abi.result) {
                host.add_attribute(AttributeLoc::Return, a);
            }
        }
        let b = self.ctx.create_builder();
        b.position_at_end(self.ctx.append_basic_block(tramp, "entry"));
        let frameaddress = inkwell::intrinsics::Intrinsic::find("llvm.frameaddress").expect("llvm.frameaddress");
        let fa = frameaddress.get_declaration(&self.module, &[ptr.into()]).expect("frameaddress overload");
        let zero = self.ctx.i32_type().const_zero();
        let fp = b.build_call(fa, &[zero.into()], "fp").expect(POSITIONED).try_as_basic_value().basic().expect("ptr");
        let mut args: Vec<BasicMetadataValueEnum<'ctx>> = vec![fp.into()];
        args.extend(tramp.get_params().into_iter().map(BasicMetadataValueEnum::from));
        let call = b.build_call(host, &args, "").expect(POSITIONED);
        match call.try_as_basic_value().basic() {
            Some(r) => b.build_return(Some(&r)),
            None => b.build_return(None),
        }
        .expect(POSITIONED);
        tramp
    }

    /// The LLVM module being built (read-only; emission goes through the facade).
    pub fn module(&self) -> &Module<'ctx> {
        &self.module
    }

    pub(crate) fn basic(&self, ty: TypeId) -> BasicTypeEnum<'ctx> {
        match self.types[ty.index()] {
            LoweredType::Basic(b) => b,
            LoweredType::Func(_) => unreachable!("facade passes only sized types here"),
        }
    }

    fn fn_type(&self, ty: TypeId) -> FunctionType<'ctx> {
        match self.types[ty.index()] {
            LoweredType::Func(f) => f,
            LoweredType::Basic(_) => unreachable!("facade passes only function types here"),
        }
    }

    fn ext_attr(&self, ext: AbiExt) -> Option<Attribute> {
        let name = match ext {
            AbiExt::None => return None,
            AbiExt::Sign => "signext",
            AbiExt::Zero => "zeroext",
        };
        Some(self.ctx.create_enum_attribute(Attribute::get_named_enum_kind_id(name), 0))
    }

    fn apply_abi(&self, sig: TypeId, mut add: impl FnMut(AttributeLoc, Attribute)) {
        let Some(abi) = &self.abis[sig.index()] else { return };
        for (i, ext) in abi.params.iter().enumerate() {
            if let Some(a) = self.ext_attr(*ext) {
                add(AttributeLoc::Param(i as u32), a);
            }
        }
        if let Some(a) = self.ext_attr(abi.result) {
            add(AttributeLoc::Return, a);
        }
    }

    fn open(&self) -> &OpenFunction<'ctx> {
        self.func.as_ref().expect("a function is open (facade contract)")
    }

    /// The operand bundles of the next call: the explicit roots of a pending
    /// safepoint travel as `deopt` operands, which RS4GC turns into the
    /// statepoint's deopt locations (`Direct` slot addresses in the stack map).
    fn call_bundles(&self) -> Vec<inkwell::values::OperandBundle<'ctx>> {
        match &self.pending_safepoint {
            Some((_, roots)) if !roots.is_empty() => {
                let args: Vec<inkwell::values::AnyValueEnum<'ctx>> = roots.iter().map(|r| (*r).into()).collect();
                vec![inkwell::values::OperandBundle::create("deopt", &args)]
            }
            _ => Vec::new(),
        }
    }

    /// Applies the pending safepoint's ID and, with explicit roots, keeps the
    /// call from being inlined: an inlined body's calls would not carry the roots.
    fn annotate_safepoint(&mut self, call: CallSiteValue<'ctx>) {
        let Some((id, roots)) = self.pending_safepoint.take() else { return };
        if let Some(id) = id {
            call.add_attribute(
                AttributeLoc::Function,
                self.ctx.create_string_attribute("statepoint-id", &id.to_string()),
            );
        }
        if !roots.is_empty() {
            let noinline = self.ctx.create_enum_attribute(Attribute::get_named_enum_kind_id("noinline"), 0);
            call.add_attribute(AttributeLoc::Function, noinline);
        }
    }

    fn finish_call(&self, call: CallSiteValue<'ctx>, sig: TypeId) -> Option<BasicValueEnum<'ctx>> {
        self.apply_abi(sig, |loc, a| call.add_attribute(loc, a));
        call.try_as_basic_value().basic()
    }
}

fn check_llvm_name(name: &str) -> Result<(), ErrorKind> {
    // Names in LLVM's reserved namespace would declare intrinsics with a signature of the
    // frontend's choosing, which the verifier rejects or, worse, codegen miscompiles.
    if name.starts_with("llvm.") {
        return Err(ErrorKind::InvalidName { name: name.to_string() });
    }
    Ok(())
}

impl<'ctx> Backend for LlvmBackend<'ctx> {
    type Value = BasicValueEnum<'ctx>;
    type Block = BasicBlock<'ctx>;

    fn target(&self) -> &TargetInfo {
        &self.resolved.info
    }

    fn set_address_space_policy(&mut self, space: u32, policy: &cfree_facade::AddrSpacePolicy) {
        if policy.managed {
            // Non-integral: optimisations may not invent ptrtoint/inttoptr on managed pointers,
            // which would hide them from the statepoint rewriting.
            let layout = self.module.get_data_layout().as_str().to_string_lossy().into_owned();
            ffi::set_data_layout(&self.module, &format!("{layout}-ni:{space}"));
        }
    }

    fn define_type(&mut self, id: TypeId, kind: &TypeKind, types: &TypeTable) {
        debug_assert_eq!(id.index(), self.types.len());
        let ctx = self.ctx;
        let (lowered, abi) = match kind {
            TypeKind::Int(w) => (LoweredType::Basic(int_type(ctx, w.bits()).into()), None),
            TypeKind::Float(cfree_facade::FloatWidth::F32) => (LoweredType::Basic(ctx.f32_type().into()), None),
            TypeKind::Float(cfree_facade::FloatWidth::F64) => (LoweredType::Basic(ctx.f64_type().into()), None),
            TypeKind::Ptr { addr_space, .. } => {
                let space = AddressSpace::try_from(*addr_space).expect("facade bounds address spaces");
                (LoweredType::Basic(ctx.ptr_type(space).into()), None)
            }
            TypeKind::Array { elem, count } => (LoweredType::Basic(ffi::array_type(self.basic(*elem), *count)), None),
            // Records are storage of the facade's C layout: bytes, so LLVM's own struct
            // layout (which can differ from the C ABI, e.g. i128 on LLVM 19 wasm32) never decides.
            TypeKind::Record { .. } => {
                let size = types.layout(id).map_or(0, |l| l.size);
                (LoweredType::Basic(ffi::array_type(self.i8.into(), size)), None)
            }
            TypeKind::Func(sig) => {
                let params: Vec<BasicMetadataTypeEnum<'ctx>> =
                    sig.params.iter().map(|p| self.basic(p.ty).into()).collect();
                let fty = match sig.result {
                    Some(r) => self.basic(r.ty).fn_type(&params, sig.variadic),
                    None => ctx.void_type().fn_type(&params, sig.variadic),
                };
                let target = &self.resolved.info;
                let ext = |ty: TypeId, ext: AbiExt| match types.int_width(ty) {
                    Some(w) => abi::int_ext(target, w, ext),
                    None => AbiExt::None,
                };
                let abi = FuncAbi {
                    params: sig.params.iter().map(|p| ext(p.ty, p.ext)).collect(),
                    result: sig.result.map_or(AbiExt::None, |r| ext(r.ty, r.ext)),
                };
                (LoweredType::Func(fty), Some(abi))
            }
        };
        self.types.push(lowered);
        self.abis.push(abi);
    }

    fn declare_function(&mut self, sym: Sym, name: &str, decl: &FuncDecl, _: &TypeTable) -> Result<(), ErrorKind> {
        check_llvm_name(name)?;
        if decl.gc == cfree_facade::GcRole::Runtime {
            let value = self.runtime_trampoline(name, decl.sig);
            self.syms.push(LoweredSym::Func { value, linkage: Linkage::Internal, sig: decl.sig });
            return Ok(());
        }
        let value = self.module.add_function(name, self.fn_type(decl.sig), Some(declaration_linkage(decl.linkage)));
        value.as_global_value().set_visibility(llvm_visibility(decl.visibility));
        match decl.gc {
            cfree_facade::GcRole::None => {}
            cfree_facade::GcRole::Safepoints => {
                value.set_gc("statepoint-example");
                // Stack walkers follow frame pointers through managed frames.
                value.add_attribute(AttributeLoc::Function, self.ctx.create_string_attribute("frame-pointer", "all"));
                self.has_gc = true;
            }
            cfree_facade::GcRole::Leaf => {
                value.add_attribute(AttributeLoc::Function, self.ctx.create_string_attribute("gc-leaf-function", ""));
            }
            cfree_facade::GcRole::Runtime => unreachable!("handled above"),
        }
        self.apply_abi(decl.sig, |loc, a| value.add_attribute(loc, a));
        debug_assert_eq!(sym.index(), self.syms.len());
        self.syms.push(LoweredSym::Func { value, linkage: decl.linkage, sig: decl.sig });
        Ok(())
    }

    fn declare_data(&mut self, sym: Sym, name: &str, decl: &DataDecl, types: &TypeTable) -> Result<(), ErrorKind> {
        check_llvm_name(name)?;
        let global = self.module.add_global(self.basic(decl.ty), None, name);
        global.set_linkage(declaration_linkage(decl.linkage));
        global.set_visibility(llvm_visibility(decl.visibility));
        global.set_constant(decl.readonly);
        let natural = types.layout(decl.ty).map_or(1, |l| l.align);
        let align = if decl.align == 0 { natural } else { u64::from(decl.align) };
        global.set_alignment(align as u32);
        debug_assert_eq!(sym.index(), self.syms.len());
        self.syms.push(LoweredSym::Data { global, decl: decl.clone(), align });
        Ok(())
    }

    fn define_data(&mut self, sym: Sym, init: &DataInit) -> Result<(), ErrorKind> {
        let mut fields: Vec<BasicValueEnum<'ctx>> = Vec::with_capacity(init.pieces.len());
        for piece in &init.pieces {
            match piece {
                DataPiece::Bytes(b) => fields.push(self.ctx.const_string(b, false).into()),
                DataPiece::Zeros(n) => fields.push(ffi::array_type(self.i8.into(), *n).const_zero()),
                DataPiece::Reloc { target, addend } => {
                    let base = self.sym_addr(*target).into_pointer_value();
                    let addr = if *addend == 0 {
                        base
                    } else {
                        ffi::const_byte_offset(self.i8, base, self.intptr.const_int(*addend as u64, true))
                    };
                    fields.push(addr.into());
                }
            }
        }
        let init_value = self.ctx.const_struct(&fields, true);
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
        let old = *old;
        // Existing uses move now; the old global lives on until `finalize`, since a value
        // stack entry of the open function may still name it.
        ffi::replace_uses(old, new);
        self.replaced.push((old, new));
        if let LoweredSym::Data { global, .. } = &mut self.syms[sym.index()] {
            *global = new;
        }
        Ok(())
    }

    fn begin_function(&mut self, sym: Sym, params: &[TypeId], param_slots: &mut Vec<Self::Value>) {
        let LoweredSym::Func { value, linkage, .. } = self.syms[sym.index()] else {
            unreachable!("facade checked the symbol kind")
        };
        let entry = self.ctx.append_basic_block(value, "entry");
        let start = self.ctx.append_basic_block(value, "start");
        self.entry_builder.position_at_end(entry);
        for (i, ty) in params.iter().enumerate() {
            let slot = self.entry_builder.build_alloca(self.basic(*ty), "").expect(POSITIONED);
            let incoming = value.get_nth_param(i as u32).expect("declared arity");
            self.entry_builder.build_store(slot, incoming).expect(POSITIONED);
            param_slots.push(slot.into());
        }
        self.builder.position_at_end(start);
        self.func = Some(OpenFunction { sym, value, entry, start, linkage });
    }

    fn set_name(&mut self, value: Self::Value, name: &str) {
        value.set_name(name);
    }

    fn local_slot(&mut self, ty: TypeId, align: u64, name: &str) -> Self::Value {
        let slot = self.entry_builder.build_alloca(self.basic(ty), name).expect(POSITIONED);
        if let Some(inst) = slot.as_instruction() {
            ffi::set_memory_alignment(inst, align as u32);
        }
        slot.into()
    }

    fn new_block(&mut self) -> Self::Block {
        self.ctx.append_basic_block(self.open().value, "")
    }

    fn place_block(&mut self, block: Self::Block, fallthrough: bool) {
        if fallthrough {
            self.builder.build_unconditional_branch(block).expect(POSITIONED);
        }
        if let Some(current) = self.builder.get_insert_block() {
            let _ = block.move_after(current);
        }
        self.builder.position_at_end(block);
    }

    fn br(&mut self, target: Self::Block) {
        self.builder.build_unconditional_branch(target).expect(POSITIONED);
    }

    fn cond_br(&mut self, cond: Self::Value, then: Self::Block, otherwise: Self::Block) {
        self.builder.build_conditional_branch(cond.into_int_value(), then, otherwise).expect(POSITIONED);
    }

    fn ret(&mut self, value: Option<Self::Value>) {
        match value {
            Some(v) => self.builder.build_return(Some(&v as &dyn BasicValue<'ctx>)),
            None => self.builder.build_return(None),
        }
        .expect(POSITIONED);
    }

    fn unreachable(&mut self) {
        self.builder.build_unreachable().expect(POSITIONED);
    }

    fn end_function(&mut self, unused: &[Self::Block]) -> Result<(), ErrorKind> {
        let f = self.func.take().expect("a function is open (facade contract)");
        for b in unused {
            ffi::delete_block(*b);
        }
        self.entry_builder.position_at_end(f.entry);
        self.entry_builder.build_unconditional_branch(f.start).expect(POSITIONED);
        f.value.as_global_value().set_linkage(llvm_linkage(f.linkage));
        Ok(())
    }

    fn abandon_function(&mut self) {
        let f = self.func.take().expect("a function is open (facade contract)");
        // LLVM's C API cannot drop a body in place: swap in a fresh declaration instead.
        let LoweredSym::Func { linkage, sig, .. } = self.syms[f.sym.index()] else {
            unreachable!("open function is a function symbol")
        };
        let name = f.value.get_name().to_string_lossy().into_owned();
        let decl = self.module.add_function("", self.fn_type(sig), Some(declaration_linkage(linkage)));
        decl.as_global_value().set_visibility(f.value.as_global_value().get_visibility());
        self.apply_abi(sig, |loc, a| decl.add_attribute(loc, a));
        ffi::replace_function(f.value, decl, &name);
        self.syms[f.sym.index()] = LoweredSym::Func { value: decl, linkage, sig };
        self.builder.clear_insertion_position();
        self.entry_builder.clear_insertion_position();
    }

    fn const_int(&mut self, ty: TypeId, bits: u128) -> Self::Value {
        let t = self.basic(ty).into_int_type();
        if t.get_bit_width() > 64 {
            t.const_int_arbitrary_precision(&[bits as u64, (bits >> 64) as u64]).into()
        } else {
            t.const_int(bits as u64, false).into()
        }
    }

    fn const_f32(&mut self, bits: u32) -> Self::Value {
        ffi::const_float_bits(self.ctx, self.ctx.f32_type().into(), u64::from(bits))
    }

    fn const_f64(&mut self, bits: u64) -> Self::Value {
        ffi::const_float_bits(self.ctx, self.ctx.f64_type().into(), bits)
    }

    fn const_zero(&mut self, ty: TypeId) -> Self::Value {
        self.basic(ty).const_zero()
    }

    fn sym_addr(&mut self, sym: Sym) -> Self::Value {
        match &self.syms[sym.index()] {
            LoweredSym::Func { value, .. } => value.as_global_value().as_pointer_value().into(),
            LoweredSym::Data { global, .. } => global.as_pointer_value().into(),
        }
    }

    fn load(&mut self, addr: Self::Value, access: &ResolvedAccess) -> Self::Value {
        let access = &crate::target::load_facts(&self.resolved.info, access);
        let v = self.builder.build_load(self.basic(access.ty), addr.into_pointer_value(), "").expect(POSITIONED);
        if let Some(inst) = v.as_instruction_value() {
            self.set_access_facts(inst, access);
        }
        v
    }

    fn store(&mut self, addr: Self::Value, value: Self::Value, access: &ResolvedAccess) {
        let inst = self.builder.build_store(addr.into_pointer_value(), value).expect(POSITIONED);
        self.set_access_facts(inst, access);
    }

    fn addr_offset(&mut self, addr: Self::Value, offset: i64) -> Self::Value {
        if offset == 0 {
            return addr;
        }
        let off = self.intptr.const_int(offset as u64, true);
        ffi::byte_offset(&self.builder, self.i8, addr.into_pointer_value(), off).into()
    }

    fn addr_index(&mut self, addr: Self::Value, index: Self::Value, elem_size: u64) -> Self::Value {
        let index = index.into_int_value();
        let b = &self.builder;
        let wide = match index.get_type().get_bit_width().cmp(&self.intptr.get_bit_width()) {
            std::cmp::Ordering::Less => b.build_int_s_extend(index, self.intptr, "").expect(POSITIONED),
            std::cmp::Ordering::Greater => b.build_int_truncate(index, self.intptr, "").expect(POSITIONED),
            std::cmp::Ordering::Equal => index,
        };
        let bytes = b.build_int_mul(wide, self.intptr.const_int(elem_size, false), "").expect(POSITIONED);
        ffi::byte_offset(&self.builder, self.i8, addr.into_pointer_value(), bytes).into()
    }

    fn int_binop(&mut self, op: IntBinOp, flags: IntFlags, lhs: Self::Value, rhs: Self::Value) -> Self::Value {
        let (l, r, b) = (lhs.into_int_value(), rhs.into_int_value(), &self.builder);
        let v: BasicValueEnum<'ctx> = match op {
            IntBinOp::Add => b.build_int_add(l, r, ""),
            IntBinOp::Sub => b.build_int_sub(l, r, ""),
            IntBinOp::Mul => b.build_int_mul(l, r, ""),
            IntBinOp::And => b.build_and(l, r, ""),
            IntBinOp::Or => b.build_or(l, r, ""),
            IntBinOp::Xor => b.build_xor(l, r, ""),
            IntBinOp::Shl => b.build_left_shift(l, r, ""),
            IntBinOp::LShr => b.build_right_shift(l, r, false, ""),
            IntBinOp::AShr => b.build_right_shift(l, r, true, ""),
            IntBinOp::SDiv => b.build_int_signed_div(l, r, ""),
            IntBinOp::UDiv => b.build_int_unsigned_div(l, r, ""),
            IntBinOp::SRem => b.build_int_signed_rem(l, r, ""),
            IntBinOp::URem => b.build_int_unsigned_rem(l, r, ""),
            IntBinOp::ShlMasked
            | IntBinOp::LShrMasked
            | IntBinOp::AShrMasked
            | IntBinOp::SMin
            | IntBinOp::SMax
            | IntBinOp::UMin
            | IntBinOp::UMax
            | IntBinOp::RotL
            | IntBinOp::RotR
            | IntBinOp::SAddSat
            | IntBinOp::UAddSat
            | IntBinOp::SSubSat
            | IntBinOp::USubSat => return self.lower_int_special(op, l, r),
        }
        .expect(POSITIONED)
        .into();
        if flags != IntFlags::NONE {
            ffi::set_int_flags(
                v,
                flags.contains(IntFlags::NSW),
                flags.contains(IntFlags::NUW),
                flags.contains(IntFlags::EXACT),
            );
        }
        v
    }

    fn int_unop(&mut self, op: IntUnOp, value: Self::Value) -> Self::Value {
        self.lower_int_unop(op, value.into_int_value())
    }

    fn checked(&mut self, op: CheckedOp, ty: TypeId, lhs: Self::Value, rhs: Self::Value) -> (Self::Value, Self::Value) {
        self.lower_checked(op, ty, lhs.into_int_value(), rhs.into_int_value())
    }

    fn freeze(&mut self, value: Self::Value) -> Self::Value {
        ffi::build_freeze(&self.builder, value)
    }

    fn int_cmp(&mut self, pred: IntCmp, lhs: Self::Value, rhs: Self::Value) -> Self::Value {
        let p = int_predicate(pred);
        match (lhs, rhs) {
            (BasicValueEnum::PointerValue(l), BasicValueEnum::PointerValue(r)) => {
                self.builder.build_int_compare(p, l, r, "")
            }
            (l, r) => self.builder.build_int_compare(p, l.into_int_value(), r.into_int_value(), ""),
        }
        .expect(POSITIONED)
        .into()
    }

    fn cast(&mut self, op: CastOp, value: Self::Value, to: TypeId) -> Self::Value {
        let to_ty = self.basic(to);
        let b = &self.builder;
        match op {
            CastOp::SExt => b.build_int_s_extend(value.into_int_value(), to_ty.into_int_type(), "").map(Into::into),
            CastOp::ZExt => b.build_int_z_extend(value.into_int_value(), to_ty.into_int_type(), "").map(Into::into),
            CastOp::Trunc => b.build_int_truncate(value.into_int_value(), to_ty.into_int_type(), "").map(Into::into),
            CastOp::PtrToInt => {
                b.build_ptr_to_int(value.into_pointer_value(), to_ty.into_int_type(), "").map(Into::into)
            }
            CastOp::IntToPtr => {
                b.build_int_to_ptr(value.into_int_value(), to_ty.into_pointer_type(), "").map(Into::into)
            }
            CastOp::FpExt => b.build_float_ext(value.into_float_value(), to_ty.into_float_type(), "").map(Into::into),
            CastOp::FpTrunc => {
                b.build_float_trunc(value.into_float_value(), to_ty.into_float_type(), "").map(Into::into)
            }
            CastOp::SIToFP => {
                b.build_signed_int_to_float(value.into_int_value(), to_ty.into_float_type(), "").map(Into::into)
            }
            CastOp::UIToFP => {
                b.build_unsigned_int_to_float(value.into_int_value(), to_ty.into_float_type(), "").map(Into::into)
            }
            CastOp::FPToSI => {
                b.build_float_to_signed_int(value.into_float_value(), to_ty.into_int_type(), "").map(Into::into)
            }
            CastOp::FPToUI => {
                b.build_float_to_unsigned_int(value.into_float_value(), to_ty.into_int_type(), "").map(Into::into)
            }
            CastOp::FPToSISat => {
                return self.lower_fp_to_int_sat(true, value.into_float_value(), to_ty.into_int_type())
            }
            CastOp::FPToUISat => {
                return self.lower_fp_to_int_sat(false, value.into_float_value(), to_ty.into_int_type())
            }
            CastOp::Bitcast => b.build_bit_cast(value, to_ty, ""),
        }
        .expect(POSITIONED)
    }

    fn cast_checked(&mut self, signed: bool, value: Self::Value, to: TypeId) -> (Self::Value, Self::Value) {
        self.lower_fp_to_int_checked(signed, value.into_float_value(), self.basic(to).into_int_type())
    }

    fn float_binop(&mut self, op: FloatBinOp, fm: FastMath, lhs: Self::Value, rhs: Self::Value) -> Self::Value {
        self.lower_float_binop(op, fm, lhs.into_float_value(), rhs.into_float_value())
    }

    fn float_unop(&mut self, op: FloatUnOp, fm: FastMath, value: Self::Value) -> Self::Value {
        self.lower_float_unop(op, fm, value.into_float_value())
    }

    fn fma(&mut self, fm: FastMath, a: Self::Value, b: Self::Value, c: Self::Value) -> Self::Value {
        self.lower_fma(fm, a.into_float_value(), b.into_float_value(), c.into_float_value())
    }

    fn float_cmp(&mut self, pred: FloatCmp, fm: FastMath, lhs: Self::Value, rhs: Self::Value) -> Self::Value {
        self.lower_float_cmp(pred, fm, lhs.into_float_value(), rhs.into_float_value())
    }

    fn define_alias_scope(&mut self, id: u32, name: &str) {
        self.lower_alias_scope(id, name);
    }

    fn mem_copy(
        &mut self,
        overlapping: bool,
        dst: Self::Value,
        src: Self::Value,
        size: u64,
        dst_access: &ResolvedAccess,
        src_access: &ResolvedAccess,
    ) {
        self.lower_mem_copy(overlapping, dst, src, size, dst_access, src_access);
    }

    fn mem_set(&mut self, dst: Self::Value, value: u8, size: u64, access: &ResolvedAccess) {
        self.lower_mem_set(dst, value, size, access);
    }

    fn atomic_load(
        &mut self,
        addr: Self::Value,
        access: &ResolvedAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    ) -> Self::Value {
        self.lower_atomic_load(addr, access, ordering, scope)
    }

    fn atomic_store(
        &mut self,
        addr: Self::Value,
        value: Self::Value,
        access: &ResolvedAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    ) {
        self.lower_atomic_store(addr, value, access, ordering, scope);
    }

    fn atomic_rmw(
        &mut self,
        op: AtomicRmwOp,
        addr: Self::Value,
        value: Self::Value,
        access: &ResolvedAccess,
        ordering: AtomicOrdering,
        scope: SyncScope,
    ) -> Self::Value {
        self.lower_atomic_rmw(op, addr, value, access, ordering, scope)
    }

    fn cmpxchg(
        &mut self,
        addr: Self::Value,
        expected: Self::Value,
        new: Self::Value,
        access: &ResolvedAccess,
        success: AtomicOrdering,
        failure: AtomicOrdering,
        weak: bool,
        scope: SyncScope,
    ) -> (Self::Value, Self::Value) {
        self.lower_cmpxchg(addr, expected, new, access, success, failure, weak, scope)
    }

    fn fence(&mut self, ordering: AtomicOrdering, scope: SyncScope) {
        self.lower_fence(ordering, scope);
    }

    fn call_direct(&mut self, callee: Sym, args: &[Self::Value]) -> Option<Self::Value> {
        let LoweredSym::Func { value, sig, .. } = self.syms[callee.index()] else {
            unreachable!("facade checked the symbol kind")
        };
        let args: Vec<BasicMetadataValueEnum<'ctx>> = args.iter().map(|a| (*a).into()).collect();
        let bundles = self.call_bundles();
        let call = if bundles.is_empty() {
            self.builder.build_call(value, &args, "")
        } else {
            self.builder.build_direct_call_with_operand_bundles(value, &args, &bundles, "")
        }
        .expect(POSITIONED);
        self.annotate_safepoint(call);
        self.finish_call(call, sig)
    }

    fn call_indirect(&mut self, sig: TypeId, callee: Self::Value, args: &[Self::Value]) -> Option<Self::Value> {
        let args: Vec<BasicMetadataValueEnum<'ctx>> = args.iter().map(|a| (*a).into()).collect();
        let (fty, ptr) = (self.fn_type(sig), callee.into_pointer_value());
        let bundles = self.call_bundles();
        let call = if bundles.is_empty() {
            self.builder.build_indirect_call(fty, ptr, &args, "")
        } else {
            self.builder.build_indirect_call_with_operand_bundles(fty, ptr, &args, &bundles, "")
        }
        .expect(POSITIONED);
        self.annotate_safepoint(call);
        self.finish_call(call, sig)
    }

    fn safepoint_info(&mut self, id: Option<u64>, roots: &[Self::Value]) {
        self.pending_safepoint = Some((id, roots.to_vec()));
    }

    fn init_root_slot(&mut self, slot: Self::Value, ty: TypeId) {
        let null = self.basic(ty).into_pointer_type().const_null();
        self.entry_builder.build_store(slot.into_pointer_value(), null).expect(POSITIONED);
        // An inlined copy of this body would run its roots' safepoints under the caller's
        // frame layout, but its callers' safepoints would not report them: never inline it.
        let noinline = self.ctx.create_enum_attribute(Attribute::get_named_enum_kind_id("noinline"), 0);
        self.open().value.add_attribute(AttributeLoc::Function, noinline);
    }
}
