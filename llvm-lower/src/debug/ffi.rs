//! LLVM's `DIBuilder` through the C API, behind a safe owner. inkwell's debug
//! info wrappers cannot turn a subroutine type into a type (a pointer to a
//! function needs that) nor take metadata back from LLVM, so debug metadata
//! is handled here as [`Md`] handles tied to the context's lifetime.

use std::marker::PhantomData;
use std::ptr;

use cfree_facade::SourceLanguage;
use inkwell::basic_block::BasicBlock;
use inkwell::builder::Builder;
use inkwell::context::{AsContextRef, Context};
use inkwell::module::Module;
use inkwell::values::{AsValueRef, FunctionValue, GlobalValue, PointerValue};

use crate::llvm_sys::debuginfo::{self as di, LLVMDIFlags, LLVMDWARFEmissionKind, LLVMDWARFSourceLanguage};
use crate::llvm_sys::prelude::{LLVMDIBuilderRef, LLVMMetadataRef};

/// `DIFlagArtificial`.
pub(crate) const FLAG_ARTIFICIAL: LLVMDIFlags = di::LLVMDIFlagArtificial;
/// `DIFlagPrototyped`.
pub(crate) const FLAG_PROTOTYPED: LLVMDIFlags = di::LLVMDIFlagPrototyped;
/// No flags.
pub(crate) const FLAG_ZERO: LLVMDIFlags = di::LLVMDIFlagZero;

/// A debug metadata node of the context `'ctx` (never null).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Md<'ctx>(LLVMMetadataRef, PhantomData<&'ctx Context>);

impl Md<'_> {
    /// The node's address, as a key.
    pub(crate) fn key(self) -> usize {
        self.0 as usize
    }
}

fn md<'ctx>(r: LLVMMetadataRef) -> Md<'ctx> {
    assert!(!r.is_null(), "LLVM returned no debug metadata node");
    Md(r, PhantomData)
}

fn opt(m: Option<Md<'_>>) -> LLVMMetadataRef {
    m.map_or(ptr::null_mut(), |m| m.0)
}

fn bool(b: bool) -> i32 {
    i32::from(b)
}

fn language(l: SourceLanguage) -> LLVMDWARFSourceLanguage {
    use LLVMDWARFSourceLanguage as D;
    use SourceLanguage as S;
    match l {
        S::C89 => D::LLVMDWARFSourceLanguageC89,
        S::C99 => D::LLVMDWARFSourceLanguageC99,
        S::C11 => D::LLVMDWARFSourceLanguageC11,
        S::C17 => D::LLVMDWARFSourceLanguageC17,
        S::CPlusPlus => D::LLVMDWARFSourceLanguageC_plus_plus,
        S::CPlusPlus11 => D::LLVMDWARFSourceLanguageC_plus_plus_11,
        S::CPlusPlus14 => D::LLVMDWARFSourceLanguageC_plus_plus_14,
        S::CPlusPlus17 => D::LLVMDWARFSourceLanguageC_plus_plus_17,
        S::CPlusPlus20 => D::LLVMDWARFSourceLanguageC_plus_plus_20,
        S::ObjC => D::LLVMDWARFSourceLanguageObjC,
        S::Rust => D::LLVMDWARFSourceLanguageRust,
        S::Go => D::LLVMDWARFSourceLanguageGo,
        S::Zig => D::LLVMDWARFSourceLanguageZig,
        S::Swift => D::LLVMDWARFSourceLanguageSwift,
        S::D => D::LLVMDWARFSourceLanguageD,
        S::Haskell => D::LLVMDWARFSourceLanguageHaskell,
        S::OCaml => D::LLVMDWARFSourceLanguageOCaml,
        S::Julia => D::LLVMDWARFSourceLanguageJulia,
        S::Kotlin => D::LLVMDWARFSourceLanguageKotlin,
        S::Java => D::LLVMDWARFSourceLanguageJava,
        S::Python => D::LLVMDWARFSourceLanguagePython,
        S::Fortran95 => D::LLVMDWARFSourceLanguageFortran95,
        S::Crystal => D::LLVMDWARFSourceLanguageCrystal,
        S::Mojo => D::LLVMDWARFSourceLanguageMojo,
        S::Assembly => D::LLVMDWARFSourceLanguageAssembly,
        _ => D::LLVMDWARFSourceLanguageC,
    }
}

/// The debug metadata version this LLVM writes (the "Debug Info Version" flag).
pub(crate) fn metadata_version() -> u32 {
    // SAFETY: a pure query.
    unsafe { di::LLVMDebugMetadataVersion() }
}

/// A `DIBuilder` for one module; disposed on drop (after [`DiBuilder::finalize`]).
#[derive(Debug)]
pub(crate) struct DiBuilder<'ctx> {
    raw: LLVMDIBuilderRef,
    ctx: &'ctx Context,
}

impl Drop for DiBuilder<'_> {
    fn drop(&mut self) {
        // SAFETY: `raw` came from LLVMCreateDIBuilder and is disposed once.
        unsafe { di::LLVMDisposeDIBuilder(self.raw) }
    }
}

impl<'ctx> DiBuilder<'ctx> {
    /// A builder for `module` of `ctx`, which must outlive it (the backend
    /// owns both and drops the builder first).
    pub(crate) fn new(ctx: &'ctx Context, module: &Module<'ctx>) -> Self {
        // SAFETY: `module` is a live module.
        let raw = unsafe { di::LLVMCreateDIBuilder(module.as_mut_ptr()) };
        Self { raw, ctx }
    }

    /// Resolves every node (required before the module is verified or emitted).
    pub(crate) fn finalize(&self) {
        // SAFETY: a live builder.
        unsafe { di::LLVMDIBuilderFinalize(self.raw) }
    }

    pub(crate) fn file(&self, name: &str, dir: &str) -> Md<'ctx> {
        // SAFETY: (pointer, length) pairs of live strings.
        md(unsafe {
            di::LLVMDIBuilderCreateFile(self.raw, name.as_ptr().cast(), name.len(), dir.as_ptr().cast(), dir.len())
        })
    }

    pub(crate) fn compile_unit(
        &self,
        lang: SourceLanguage,
        file: Md<'ctx>,
        producer: &str,
        optimized: bool,
    ) -> Md<'ctx> {
        // SAFETY: metadata of this context; (pointer, length) pairs of live strings.
        md(unsafe {
            di::LLVMDIBuilderCreateCompileUnit(
                self.raw,
                language(lang),
                file.0,
                producer.as_ptr().cast(),
                producer.len(),
                bool(optimized),
                ptr::null(),
                0,
                0,
                ptr::null(),
                0,
                LLVMDWARFEmissionKind::LLVMDWARFEmissionKindFull,
                0,
                0,
                0,
                ptr::null(),
                0,
                ptr::null(),
                0,
            )
        })
    }

    pub(crate) fn basic_type(&self, name: &str, bits: u64, encoding: u32) -> Md<'ctx> {
        // SAFETY: as above.
        md(unsafe {
            di::LLVMDIBuilderCreateBasicType(self.raw, name.as_ptr().cast(), name.len(), bits, encoding, FLAG_ZERO)
        })
    }

    /// A pointer to `pointee` (`None`: `void *`).
    pub(crate) fn pointer_type(&self, pointee: Option<Md<'ctx>>, bits: u64, space: u32, name: &str) -> Md<'ctx> {
        // SAFETY: as above.
        md(unsafe {
            di::LLVMDIBuilderCreatePointerType(self.raw, opt(pointee), bits, 0, space, name.as_ptr().cast(), name.len())
        })
    }

    pub(crate) fn array_type(&self, elem: Md<'ctx>, count: u64, bits: u64, align_bits: u32) -> Md<'ctx> {
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        // SAFETY: as above; the subscript array lives across the call.
        unsafe {
            let mut range = [di::LLVMDIBuilderGetOrCreateSubrange(self.raw, 0, count)];
            md(di::LLVMDIBuilderCreateArrayType(self.raw, bits, align_bits, elem.0, range.as_mut_ptr(), 1))
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn member_type(
        &self,
        scope: Md<'ctx>,
        name: &str,
        file: Md<'ctx>,
        bits: u64,
        offset: u64,
        ty: Md<'ctx>,
    ) -> Md<'ctx> {
        // SAFETY: as above.
        md(unsafe {
            di::LLVMDIBuilderCreateMemberType(
                self.raw,
                scope.0,
                name.as_ptr().cast(),
                name.len(),
                file.0,
                0,
                bits,
                0,
                offset,
                FLAG_ZERO,
                ty.0,
            )
        })
    }

    pub(crate) fn struct_type(
        &self,
        scope: Md<'ctx>,
        name: &str,
        file: Md<'ctx>,
        bits: u64,
        align_bits: u32,
        members: &[Md<'ctx>],
    ) -> Md<'ctx> {
        let mut elems: Vec<LLVMMetadataRef> = members.iter().map(|m| m.0).collect();
        // SAFETY: as above; `elems` lives across the call.
        md(unsafe {
            di::LLVMDIBuilderCreateStructType(
                self.raw,
                scope.0,
                name.as_ptr().cast(),
                name.len(),
                file.0,
                0,
                bits,
                align_bits,
                FLAG_ZERO,
                ptr::null_mut(),
                elems.as_mut_ptr(),
                elems.len() as u32,
                0,
                ptr::null_mut(),
                ptr::null(),
                0,
            )
        })
    }

    /// A function type: `result` (`None`: void) and `params`.
    pub(crate) fn subroutine_type(&self, file: Md<'ctx>, result: Option<Md<'ctx>>, params: &[Md<'ctx>]) -> Md<'ctx> {
        let mut types: Vec<LLVMMetadataRef> = std::iter::once(opt(result)).chain(params.iter().map(|p| p.0)).collect();
        // SAFETY: as above; `types` lives across the call.
        md(unsafe {
            di::LLVMDIBuilderCreateSubroutineType(
                self.raw,
                file.0,
                types.as_mut_ptr(),
                types.len() as u32,
                FLAG_PROTOTYPED,
            )
        })
    }

    /// A function definition's subprogram.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn function(
        &self,
        scope: Md<'ctx>,
        name: &str,
        linkage: &str,
        file: Md<'ctx>,
        line: u32,
        ty: Md<'ctx>,
        local: bool,
        optimized: bool,
    ) -> Md<'ctx> {
        // SAFETY: as above.
        md(unsafe {
            di::LLVMDIBuilderCreateFunction(
                self.raw,
                scope.0,
                name.as_ptr().cast(),
                name.len(),
                linkage.as_ptr().cast(),
                linkage.len(),
                file.0,
                line,
                ty.0,
                bool(local),
                1,
                line,
                FLAG_PROTOTYPED,
                bool(optimized),
            )
        })
    }

    /// A lexical block (a column without a line is dropped: the verifier refuses it).
    pub(crate) fn lexical_block(&self, scope: Md<'ctx>, file: Md<'ctx>, line: u32, column: u32) -> Md<'ctx> {
        let column = if line == 0 { 0 } else { column };
        // SAFETY: as above.
        md(unsafe { di::LLVMDIBuilderCreateLexicalBlock(self.raw, scope.0, file.0, line, column) })
    }

    /// A location (a column without a line is dropped, as for blocks).
    pub(crate) fn location(&self, line: u32, column: u32, scope: Md<'ctx>) -> Md<'ctx> {
        let column = if line == 0 { 0 } else { column };
        // SAFETY: as above.
        md(unsafe {
            di::LLVMDIBuilderCreateDebugLocation(self.ctx.as_ctx_ref(), line, column, scope.0, ptr::null_mut())
        })
    }

    /// A parameter (`arg` 1-based) or, with `arg` `None`, a local variable.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn variable(
        &self,
        scope: Md<'ctx>,
        name: &str,
        arg: Option<u32>,
        file: Md<'ctx>,
        line: u32,
        ty: Md<'ctx>,
        flags: LLVMDIFlags,
    ) -> Md<'ctx> {
        let (n, l) = (name.as_ptr().cast(), name.len());
        // SAFETY: as above. Variables are always preserved: one described
        // without a location (optimized out) still shows.
        md(unsafe {
            match arg {
                Some(a) => {
                    di::LLVMDIBuilderCreateParameterVariable(self.raw, scope.0, n, l, a, file.0, line, ty.0, 1, flags)
                }
                None => di::LLVMDIBuilderCreateAutoVariable(self.raw, scope.0, n, l, file.0, line, ty.0, 1, flags, 0),
            }
        })
    }

    /// Declares that `var` lives in `storage`, at the end of `block` (which
    /// must not be terminated yet).
    pub(crate) fn declare_at_end(
        &self,
        storage: PointerValue<'ctx>,
        var: Md<'ctx>,
        at: Md<'ctx>,
        block: BasicBlock<'ctx>,
    ) {
        // SAFETY: values, metadata and block of this context; the module is in
        // the debug record format (LLVM 19's default), which the record call needs.
        unsafe {
            let expr = di::LLVMDIBuilderCreateExpression(self.raw, ptr::null_mut(), 0);
            di::LLVMDIBuilderInsertDeclareRecordAtEnd(
                self.raw,
                storage.as_value_ref(),
                var.0,
                expr,
                at.0,
                block.as_mut_ptr(),
            );
        }
    }

    /// Describes `global` (attached as its `!dbg`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn global(
        &self,
        global: GlobalValue<'ctx>,
        scope: Md<'ctx>,
        name: &str,
        linkage: &str,
        file: Md<'ctx>,
        line: u32,
        ty: Md<'ctx>,
        local: bool,
    ) {
        // SAFETY: as above; `global` is a global variable of this context.
        unsafe {
            let expr = di::LLVMDIBuilderCreateExpression(self.raw, ptr::null_mut(), 0);
            let gve = di::LLVMDIBuilderCreateGlobalVariableExpression(
                self.raw,
                scope.0,
                name.as_ptr().cast(),
                name.len(),
                linkage.as_ptr().cast(),
                linkage.len(),
                file.0,
                line,
                ty.0,
                bool(local),
                expr,
                ptr::null_mut(),
                0,
            );
            let kind = crate::llvm_sys::core::LLVMGetMDKindIDInContext(self.ctx.as_ctx_ref(), c"dbg".as_ptr(), 3);
            crate::llvm_sys::core::LLVMGlobalSetMetadata(global.as_value_ref(), kind, gve);
        }
    }
}

/// Attaches subprogram `sp` to `f`.
pub(crate) fn set_subprogram<'ctx>(f: FunctionValue<'ctx>, sp: Md<'ctx>) {
    // SAFETY: a function and a subprogram of the same context.
    unsafe { di::LLVMSetSubprogram(f.as_value_ref(), sp.0) }
}

/// Sets (or, with `None`, clears) the location `builder` gives new instructions.
pub(crate) fn set_location<'ctx>(builder: &Builder<'ctx>, loc: Option<Md<'ctx>>) {
    // SAFETY: a live builder and a location of its context (or null).
    unsafe { crate::llvm_sys::core::LLVMSetCurrentDebugLocation2(builder_ref(builder), opt(loc)) }
}

fn builder_ref(b: &Builder<'_>) -> crate::llvm_sys::prelude::LLVMBuilderRef {
    b.as_mut_ptr()
}
