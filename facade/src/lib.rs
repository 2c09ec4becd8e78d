//! `cfree-facade`: the cfree CG contract as an imperative emitter.
//!
//! A frontend declares types and symbols, then emits each function through a
//! value stack: push operands, apply operations, branch between labels. Every
//! call is validated where it is made and lowered at once by a [`Backend`]
//! (the LLVM one lives in `cfree-llvm-lower`); there is no stored IR. A call
//! that fails returns an [`Error`] naming the call, the function and the
//! operand, and leaves the emitter unchanged.
//!
//! ```
//! use cfree_facade::*;
//! # fn lp64() -> TargetInfo {
//! #     let s = |size, align| ScalarLayout { size, align };
//! #     TargetInfo { triple: "x86_64-unknown-linux-gnu".into(), cpu: "generic".into(), features: String::new(),
//! #         arch: Arch::X86_64, object_format: ObjectFormat::Elf, big_endian: false, pointer: s(8, 8),
//! #         ints: [s(1, 1), s(1, 1), s(2, 2), s(4, 4), s(8, 8), s(16, 16)], f32: s(4, 4), f64: s(8, 8), max_atomic_bits: 64 }
//! # }
//! // `CheckOnly` validates without generating code; use cfree-llvm-lower for real output.
//! let mut cg = Cg::new(CheckOnly::new(lp64()));
//! let i64t = cg.ty_int(IntWidth::I64)?;
//! let sig = cg.ty_func(FuncSig::new(&[i64t, i64t], Some(i64t)))?;
//! let add = cg.declare_func("add", FuncDecl::new(sig))?;
//!
//! cg.func_begin(add)?;
//! let (a, b) = (cg.param_slot(0, "a")?, cg.param_slot(1, "b")?);
//! cg.push_local(a)?;
//! cg.load(MemAccess::new(i64t))?;
//! cg.push_local(b)?;
//! cg.load(MemAccess::new(i64t))?;
//! cg.int_op(IntBinOp::Add, IntFlags::NONE)?;
//! cg.ret()?;
//! cg.func_end()?;
//!
//! // Misuse is an error, not a panic: nothing is left to return here.
//! cg.func_begin(add).unwrap_err();
//! let finished = cg.finish()?;
//! assert_eq!(finished.exports[0].name, "add");
//! # Ok::<(), cfree_facade::Error>(())
//! ```

#![warn(missing_docs)]

mod abi;
mod asm;
mod atomics;
mod backend;
mod cg;
mod check_only;
mod data;
mod debug;
mod emit;
mod error;
mod error_detail;
mod gc;
mod hash;
mod ids;
mod memory;
mod ops;
mod slot;
mod symbols;
mod target;
mod types;

pub use abi::{
    AbiExt, AttrProblem, CallAttrs, CallConv, FramePointer, FuncAttrs, MustTailProblem, ParamAttrs, TailPolicy,
};
pub use asm::{
    AsmArch, AsmBlock, AsmDialect, AsmDir, AsmInput, AsmLoc, AsmOperand, AsmOptionProblem, AsmOptions, AsmOutput,
    AsmPiece, AsmTemplateProblem, AsmTieProblem, ClobberAbi, RegClass, RegKind, Register, ResolvedAsm, ResolvedLoc,
};
pub use atomics::{AtomicOrdering, AtomicRmwOp, SyncScope};
pub use backend::{Backend, BackendError, BackendResult, CallSite, Safepoint, SlotKind};
pub use cg::{Cg, CheckLowering, Finished, FuncExport, ScalarType};
pub use check_only::CheckOnly;
pub use data::{DataInit, DataPiece};
pub use debug::{
    BaseEncoding, DebugFunction, DebugGlobal, DebugMember, DebugOptions, DebugType, DebugVariable, DwarfVersion,
    FileId, SourceLanguage, SrcLoc, TypeDebugInfo,
};
pub use emit::{JitRename, ObjectModule, OptLevel};
pub use error::{Error, ErrorKind, Result};
pub use error_detail::{
    AliasProblem, AtomicOp, Category, ComdatProblem, Expected, HandleKind, MemOp, NameProblem, NoDefinitionReason,
    PartitionProblem, Quantity, RuntimeFunction, SectionProblem, SymbolClass, TargetFeature, TypeName, Unimplemented,
};
pub use gc::{GcRuntime, InlineAlloc, PointerKind};
pub use ids::{Label, Local, Sym, TypeId};
pub use memory::{AddrSpacePolicy, MemAccess, MemFlags, ResolvedAccess};
pub use ops::{
    Callee, CastOp, CheckedOp, FastMath, FloatBinOp, FloatCmp, FloatUnOp, IntBinOp, IntCmp, IntFlags, IntUnOp,
};
pub use slot::SlotFlags;
pub use symbols::{
    AliasDecl, Comdat, ComdatKind, DataDecl, FuncDecl, GcRole, InitFini, Linkage, Placement, Retain, StackCheck,
    SymbolInfo, SymbolKind, TlsModel, Visibility,
};
pub use target::{Arch, ObjectFormat, ScalarLayout, TargetInfo, TargetSpec};
pub use types::{FloatWidth, FuncSig, IntWidth, Layout, Param, TypeKind, TypeTable};
