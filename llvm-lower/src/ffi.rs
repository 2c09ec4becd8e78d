//! The raw LLVM calls inkwell does not wrap (or wraps as `unsafe`), each
//! behind a safe function whose preconditions the caller's types guarantee.

use inkwell::basic_block::BasicBlock;
use inkwell::builder::Builder;
use inkwell::context::Context;
use inkwell::types::{AsTypeRef, BasicTypeEnum};
use inkwell::values::{AsValueRef, BasicValueEnum, GlobalValue, PointerValue};

use crate::llvm_sys::core;

/// Sets `nsw`/`nuw`/`exact` on `value` if it is an instruction (a folded constant keeps none).
pub(crate) fn set_int_flags(value: BasicValueEnum<'_>, nsw: bool, nuw: bool, exact: bool) {
    let raw = value.as_value_ref();
    // SAFETY: `raw` is a live value of the builder's module; LLVMIsAInstruction only inspects its kind.
    if unsafe { core::LLVMIsAInstruction(raw) }.is_null() {
        return;
    }
    // SAFETY: `raw` is an instruction (checked above) produced by an integer binop whose
    // opcode accepts exactly the flags the facade allowed for it.
    unsafe {
        if nsw {
            core::LLVMSetNSW(raw, 1);
        }
        if nuw {
            core::LLVMSetNUW(raw, 1);
        }
        if exact {
            core::LLVMSetExact(raw, 1);
        }
    }
}

/// A float constant of type `ty` (f32 or f64) with exactly the given bits.
pub(crate) fn const_float_bits<'ctx>(ctx: &'ctx Context, ty: BasicTypeEnum<'ctx>, bits: u64) -> BasicValueEnum<'ctx> {
    let width = if ty.into_float_type() == ctx.f32_type() { 32 } else { 64 };
    let int = crate::backend::int_type(ctx, width).const_int(bits, false);
    // SAFETY: `int` and `ty` belong to `ctx` and have the same bit width, which is all a
    // constant bitcast requires; the result is owned by `ctx` like its operands.
    unsafe { BasicValueEnum::new(core::LLVMConstBitCast(int.as_value_ref(), ty.as_type_ref())) }
}

/// `[count x elem]` for counts beyond `u32` (inkwell's `array_type` takes `u32`).
pub(crate) fn array_type<'ctx>(elem: BasicTypeEnum<'ctx>, count: u64) -> BasicTypeEnum<'ctx> {
    // SAFETY: `elem` is a sized first-class type of a live context; LLVMArrayType2 accepts any u64 count.
    unsafe { BasicTypeEnum::new(core::LLVMArrayType2(elem.as_type_ref(), count)) }
}

/// `getelementptr i8, ptr %addr, iN offset`: byte address arithmetic without `inbounds`.
pub(crate) fn byte_offset<'ctx>(
    builder: &Builder<'ctx>,
    i8: inkwell::types::IntType<'ctx>,
    addr: PointerValue<'ctx>,
    offset: inkwell::values::IntValue<'ctx>,
) -> PointerValue<'ctx> {
    // SAFETY: a non-inbounds GEP over i8 is defined for every offset (it is plain pointer
    // arithmetic); the builder is positioned in a block (facade contract).
    unsafe { builder.build_gep(i8, addr, &[offset], "") }.expect("builder positioned by facade contract")
}

/// The same constant address expression, for data relocations.
pub(crate) fn const_byte_offset<'ctx>(
    i8: inkwell::types::IntType<'ctx>,
    addr: PointerValue<'ctx>,
    offset: inkwell::values::IntValue<'ctx>,
) -> PointerValue<'ctx> {
    // SAFETY: as `byte_offset`: a non-inbounds i8 GEP of a global's address is a valid constant.
    unsafe { addr.const_gep(i8, &[offset]) }
}

/// Deletes a block that has no predecessors.
pub(crate) fn delete_block(block: BasicBlock<'_>) {
    // SAFETY: the caller passes a block nothing branches to (an unplaced label, or a block
    // of a function whose whole body is being discarded), so no use is left dangling.
    let _ = unsafe { block.delete() };
}

/// Points every current use of global `old` at `new`; `old` stays alive.
pub(crate) fn replace_uses<'ctx>(old: GlobalValue<'ctx>, new: GlobalValue<'ctx>) {
    // SAFETY: `old` and `new` are live globals of the same module, both pointers in address
    // space 0, so every use of `old` accepts `new`.
    unsafe { core::LLVMReplaceAllUsesWith(old.as_value_ref(), new.as_value_ref()) }
}

/// Points every use of global `old` at `new`, then deletes `old`.
pub(crate) fn replace_global<'ctx>(old: GlobalValue<'ctx>, new: GlobalValue<'ctx>) {
    replace_uses(old, new);
    // SAFETY: after `replace_uses` nothing refers to `old`; it is deleted once, and the
    // caller (`finalize`, with no function open) holds no other handle to it.
    unsafe { old.delete() }
}

/// Replaces every use of function `old` with `new` (same type), deletes `old` with its body,
/// and gives `new` its name.
pub(crate) fn replace_function<'ctx>(
    old: inkwell::values::FunctionValue<'ctx>,
    new: inkwell::values::FunctionValue<'ctx>,
    name: &str,
) {
    // SAFETY: `old` and `new` are functions of the same module with the same function type,
    // so every use of `old` accepts `new`. After the replacement nothing outside `old`'s own
    // body refers to it, and deleting the function deletes its body with it; the caller drops
    // every handle to `old` and its blocks.
    unsafe {
        core::LLVMReplaceAllUsesWith(old.as_value_ref(), new.as_value_ref());
        old.delete();
    }
    new.as_global_value().set_name(name);
}
