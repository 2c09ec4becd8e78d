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
    let int = crate::types::int_type(ctx, width).const_int(bits, false);
    // SAFETY: `int` and `ty` belong to `ctx` and have the same bit width, which is all a
    // constant bitcast requires; the result is owned by `ctx` like its operands.
    unsafe { BasicValueEnum::new(core::LLVMConstBitCast(int.as_value_ref(), ty.as_type_ref())) }
}

/// The sign bit of `value` if it is a floating-point constant (f32 or f64), read
/// from its exact bits (NaNs included); `None` for anything else.
pub(crate) fn const_float_sign<'ctx>(ctx: &'ctx Context, value: inkwell::values::FloatValue<'ctx>) -> Option<bool> {
    let raw = value.as_value_ref();
    // SAFETY: `raw` is a live value of `ctx`; LLVMIsAConstantFP only inspects its kind.
    if unsafe { core::LLVMIsAConstantFP(raw) }.is_null() {
        return None;
    }
    let width = if value.get_type() == ctx.f32_type() { 32 } else { 64 };
    let int = crate::types::int_type(ctx, width);
    // SAFETY: `raw` is a floating-point constant of `ctx` as wide as `int`, so the bitcast is a
    // valid constant expression, which LLVM folds to an integer constant; the result is owned
    // by `ctx`. LLVMConstIntGetZExtValue is only called on a ConstantInt of at most 64 bits.
    unsafe {
        let bits = core::LLVMConstBitCast(raw, int.as_type_ref());
        if core::LLVMIsAConstantInt(bits).is_null() {
            return None;
        }
        Some(core::LLVMConstIntGetZExtValue(bits) >> (width - 1) == 1)
    }
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

/// Makes every call or invoke in the module whose callee is `from` call `to`
/// (same type) instead; other uses of `from` (its address taken, passed,
/// stored, in initializers) stay.
pub(crate) fn redirect_direct_calls<'ctx>(
    from: inkwell::values::FunctionValue<'ctx>,
    to: inkwell::values::FunctionValue<'ctx>,
) {
    let from = from.as_value_ref();
    let mut calls = Vec::new();
    // SAFETY: `from` is a live function; the use list is only read here, and collected
    // before any operand changes, since changing one unlinks that use.
    unsafe {
        let mut u = core::LLVMGetFirstUse(from);
        while !u.is_null() {
            let user = core::LLVMGetUser(u);
            let is_call = !core::LLVMIsACallInst(user).is_null()
                || !core::LLVMIsAInvokeInst(user).is_null()
                || !core::LLVMIsACallBrInst(user).is_null();
            if is_call && core::LLVMGetCalledValue(user) == from {
                calls.push(user);
            }
            u = core::LLVMGetNextUse(u);
        }
    }
    calls.sort_unstable();
    calls.dedup();
    for call in calls {
        // SAFETY: `call` is a call base (checked above) whose callee, its last operand in
        // every call base, is `from`; `to` has the same function type, so the call stays
        // well typed. Arguments equal to `from` are not the last operand and stay.
        unsafe {
            let callee = core::LLVMGetNumOperands(call) - 1;
            core::LLVMSetOperand(call, callee as u32, to.as_value_ref());
        }
    }
}

/// Appends `asm` to the module-level inline assembly.
pub(crate) fn append_module_asm(module: &inkwell::module::Module<'_>, asm: &str) {
    // SAFETY: the module is live; LLVM copies `len` bytes from `asm`, which need no NUL.
    unsafe { core::LLVMAppendModuleInlineAsm(module.as_mut_ptr(), asm.as_ptr().cast(), asm.len()) }
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

/// Sets fast-math flags on `value` if it is an instruction that takes them
/// (a folded constant, or an operation without FP semantics, takes none).
pub(crate) fn set_fast_math(value: BasicValueEnum<'_>, fm: cfree_facade::FastMath) {
    use crate::llvm_sys::*;
    use cfree_facade::FastMath;
    if fm == FastMath::NONE {
        return;
    }
    let map = [
        (FastMath::REASSOC, LLVMFastMathAllowReassoc),
        (FastMath::NNAN, LLVMFastMathNoNaNs),
        (FastMath::NINF, LLVMFastMathNoInfs),
        (FastMath::NSZ, LLVMFastMathNoSignedZeros),
        (FastMath::ARCP, LLVMFastMathAllowReciprocal),
        (FastMath::CONTRACT, LLVMFastMathAllowContract),
        (FastMath::AFN, LLVMFastMathApproxFunc),
    ];
    let flags = map.iter().filter(|(f, _)| fm.contains(*f)).fold(0, |acc, (_, l)| acc | l);
    let raw = value.as_value_ref();
    // SAFETY: `raw` is a live value; LLVMIsAInstruction and LLVMCanValueUseFastMathFlags only
    // inspect it, and flags are set only where LLVM says the instruction takes them.
    unsafe {
        if !core::LLVMIsAInstruction(raw).is_null() && core::LLVMCanValueUseFastMathFlags(raw) != 0 {
            core::LLVMSetFastMathFlags(raw, flags);
        }
    }
}

/// `freeze value`.
pub(crate) fn build_freeze<'ctx>(builder: &Builder<'ctx>, value: BasicValueEnum<'ctx>) -> BasicValueEnum<'ctx> {
    // SAFETY: the builder is positioned (facade contract) and `value` is a first-class value of
    // its context; the result is an instruction of the same type.
    unsafe { BasicValueEnum::new(core::LLVMBuildFreeze(builder.as_mut_ptr(), value.as_value_ref(), c"".as_ptr())) }
}

/// An atomic instruction just built (load, store, atomicrmw or cmpxchg).
#[derive(Clone, Copy, Debug)]
pub(crate) struct AtomicInst<'ctx> {
    raw: crate::llvm_sys::prelude::LLVMValueRef,
    _ctx: std::marker::PhantomData<&'ctx Context>,
}

impl<'ctx> AtomicInst<'ctx> {
    /// The instruction, for metadata.
    pub(crate) fn instruction(self) -> inkwell::values::InstructionValue<'ctx> {
        // SAFETY: `raw` is an instruction (load, store, atomicrmw or cmpxchg) of a live module.
        unsafe { inkwell::values::InstructionValue::new(self.raw) }
    }

    /// The instruction's value (the old value of an RMW, the pair of a cmpxchg).
    pub(crate) fn value(self) -> BasicValueEnum<'ctx> {
        // SAFETY: `raw` is an atomicrmw or cmpxchg of a live module; both produce a first-class value.
        unsafe { BasicValueEnum::new(self.raw) }
    }
}

/// Makes a load or store atomic with `ordering`.
pub(crate) fn make_atomic<'ctx>(
    inst: inkwell::values::InstructionValue<'ctx>,
    ordering: crate::llvm_sys::LLVMAtomicOrdering,
) -> AtomicInst<'ctx> {
    let raw = inst.as_value_ref();
    // SAFETY: `inst` is a load or store (callers build one just before); LLVMSetOrdering is
    // defined on both, and the facade checked the ordering is valid for the kind of access.
    unsafe { core::LLVMSetOrdering(raw, ordering) };
    AtomicInst { raw, _ctx: std::marker::PhantomData }
}

/// Alignment, volatile and single-thread scope of an atomic instruction.
pub(crate) fn set_atomic_facts(inst: AtomicInst<'_>, align: u32, volatile: bool, single_thread: bool) {
    // SAFETY: `inst.raw` is an atomic load, store, atomicrmw or cmpxchg: each accepts an
    // alignment, a volatile flag and a synchronisation scope.
    unsafe {
        core::LLVMSetAlignment(inst.raw, align);
        core::LLVMSetVolatile(inst.raw, i32::from(volatile));
        core::LLVMSetAtomicSingleThread(inst.raw, i32::from(single_thread));
    }
}

/// `atomicrmw op ptr, value ordering`.
pub(crate) fn build_atomic_rmw<'ctx>(
    builder: &Builder<'ctx>,
    op: crate::llvm_sys::LLVMAtomicRMWBinOp,
    ptr: PointerValue<'ctx>,
    value: BasicValueEnum<'ctx>,
    ordering: crate::llvm_sys::LLVMAtomicOrdering,
) -> AtomicInst<'ctx> {
    // SAFETY: positioned builder; `value`'s type suits `op` (integer ops on integers, float
    // ops on floats, xchg on any), as the facade checked; the ordering is not unordered.
    let raw = unsafe {
        core::LLVMBuildAtomicRMW(builder.as_mut_ptr(), op, ptr.as_value_ref(), value.as_value_ref(), ordering, 0)
    };
    AtomicInst { raw, _ctx: std::marker::PhantomData }
}

/// `cmpxchg [weak] ptr, expected, new success failure`.
pub(crate) fn build_cmpxchg<'ctx>(
    builder: &Builder<'ctx>,
    ptr: PointerValue<'ctx>,
    expected: BasicValueEnum<'ctx>,
    new: BasicValueEnum<'ctx>,
    success: crate::llvm_sys::LLVMAtomicOrdering,
    failure: crate::llvm_sys::LLVMAtomicOrdering,
    weak: bool,
) -> AtomicInst<'ctx> {
    // SAFETY: positioned builder; `expected` and `new` have the same integer or pointer type;
    // the orderings are valid for cmpxchg (the facade refuses release/acq_rel on failure).
    let raw = unsafe {
        let raw = core::LLVMBuildAtomicCmpXchg(
            builder.as_mut_ptr(),
            ptr.as_value_ref(),
            expected.as_value_ref(),
            new.as_value_ref(),
            success,
            failure,
            0,
        );
        core::LLVMSetWeak(raw, i32::from(weak));
        raw
    };
    AtomicInst { raw, _ctx: std::marker::PhantomData }
}

/// `fence [syncscope("singlethread")] ordering`.
pub(crate) fn build_fence(builder: &Builder<'_>, ordering: crate::llvm_sys::LLVMAtomicOrdering, single_thread: bool) {
    // SAFETY: positioned builder; the facade refuses relaxed fences.
    unsafe { core::LLVMBuildFence(builder.as_mut_ptr(), ordering, i32::from(single_thread), c"".as_ptr()) };
}

/// Points every use of function `old` at `new` (same type); `old` stays defined.
pub(crate) fn replace_function_uses<'ctx>(
    old: inkwell::values::FunctionValue<'ctx>,
    new: inkwell::values::FunctionValue<'ctx>,
) {
    // SAFETY: both are functions of the same module with the same function type, so every
    // use of `old` accepts `new`; nothing is deleted.
    unsafe { core::LLVMReplaceAllUsesWith(old.as_value_ref(), new.as_value_ref()) }
}

/// `load <ty>, ptr <addr>, align <align>` at the builder's position: the
/// plain load of emission's hot path, without inkwell's re-checks (position,
/// the result's type kind looked up again).
pub(crate) fn build_aligned_load<'ctx>(
    builder: &Builder<'ctx>,
    ty: BasicTypeEnum<'ctx>,
    addr: BasicValueEnum<'ctx>,
    align: u32,
) -> BasicValueEnum<'ctx> {
    use inkwell::values::{FloatValue, IntValue, PointerValue};
    debug_assert!(builder.get_insert_block().is_some(), "the facade positions the builder before a load");
    // SAFETY: `addr` is a pointer value and `ty` a sized first-class type of the builder's
    // context (the facade checked both); the builder is positioned (`ensure_block`). The
    // result has type `ty`, so wrapping it as the variant of `ty`'s kind is sound.
    unsafe {
        let v = core::LLVMBuildLoad2(builder.as_mut_ptr(), ty.as_type_ref(), addr.as_value_ref(), c"".as_ptr());
        core::LLVMSetAlignment(v, align);
        match ty {
            BasicTypeEnum::IntType(_) => IntValue::new(v).into(),
            BasicTypeEnum::PointerType(_) => PointerValue::new(v).into(),
            BasicTypeEnum::FloatType(_) => FloatValue::new(v).into(),
            _ => BasicValueEnum::new(v),
        }
    }
}

/// `opcode lhs, rhs` (an integer binary instruction, or the folded constant)
/// at the builder's position.
pub(crate) fn build_int_binop<'ctx>(
    builder: &Builder<'ctx>,
    opcode: crate::llvm_sys::LLVMOpcode,
    lhs: BasicValueEnum<'ctx>,
    rhs: BasicValueEnum<'ctx>,
) -> BasicValueEnum<'ctx> {
    debug_assert!(lhs.is_int_value() && rhs.is_int_value() && lhs.get_type() == rhs.get_type());
    debug_assert!(builder.get_insert_block().is_some(), "the facade positions the builder first");
    // SAFETY: the facade checked that both operands are integers of one type and
    // positioned the builder; `opcode` is an integer binary opcode, whose result has
    // the operands' integer type.
    unsafe {
        let v =
            core::LLVMBuildBinOp(builder.as_mut_ptr(), opcode, lhs.as_value_ref(), rhs.as_value_ref(), c"".as_ptr());
        inkwell::values::IntValue::new(v).into()
    }
}

/// A new, unnamed block at the end of `function` (inkwell's `append_basic_block`
/// allocates a C string for the name on every call).
pub(crate) fn append_block<'ctx>(
    ctx: &'ctx Context,
    function: inkwell::values::FunctionValue<'ctx>,
) -> inkwell::basic_block::BasicBlock<'ctx> {
    // SAFETY: `function` is a live function of `ctx`; LLVM returns a new, non-null block.
    unsafe {
        let raw = core::LLVMAppendBasicBlockInContext(ctx.raw(), function.as_value_ref(), c"".as_ptr());
        inkwell::basic_block::BasicBlock::new(raw).expect("LLVM returns a block")
    }
}

/// `store <value>, ptr <addr>, align <align>` at the builder's position (see
/// [`build_aligned_load`]).
pub(crate) fn build_aligned_store<'ctx>(
    builder: &Builder<'ctx>,
    addr: BasicValueEnum<'ctx>,
    value: BasicValueEnum<'ctx>,
    align: u32,
) {
    debug_assert!(builder.get_insert_block().is_some(), "the facade positions the builder before a store");
    // SAFETY: `addr` is a pointer value and `value` a first-class value of the builder's
    // context (the facade checked both); the builder is positioned (`ensure_block`).
    unsafe {
        let st = core::LLVMBuildStore(builder.as_mut_ptr(), value.as_value_ref(), addr.as_value_ref());
        core::LLVMSetAlignment(st, align);
    }
}

/// Sets the alignment of a load, store or alloca (inkwell's setter re-checks the opcode
/// on every call; this is the hot path of emission).
pub(crate) fn set_memory_alignment(inst: inkwell::values::InstructionValue<'_>, align: u32) {
    // SAFETY: callers pass a load, store or alloca they just built; LLVMSetAlignment is
    // defined for all three.
    unsafe { core::LLVMSetAlignment(inst.as_value_ref(), align) }
}

/// The module's data layout string (read from LLVM: inkwell's `get_data_layout`
/// only knows a layout set through inkwell).
pub(crate) fn data_layout(module: &inkwell::module::Module<'_>) -> String {
    // SAFETY: `module` is live; LLVM returns a NUL-terminated string it owns, copied here.
    unsafe { std::ffi::CStr::from_ptr(core::LLVMGetDataLayoutStr(module.as_mut_ptr())) }.to_string_lossy().into_owned()
}

/// Replaces the module's data layout string.
pub(crate) fn set_data_layout(module: &inkwell::module::Module<'_>, layout: &str) {
    let c = std::ffi::CString::new(layout).expect("data layout strings contain no NUL");
    // SAFETY: `module` is live and `c` a valid C string for the call; LLVM copies it.
    unsafe { core::LLVMSetDataLayout(module.as_mut_ptr(), c.as_ptr()) }
}

/// The LLVM command-line options this crate sets. A fixed list: nothing a caller
/// spells reaches LLVM's option parser.
#[derive(Clone, Copy, Debug)]
pub(crate) enum LlvmOption {
    /// `-spp-rematerialization-threshold=0` (RewriteStatepointsForGC keeps derived pointers).
    NoStatepointRematerialization,
    /// `-enable-implicit-null-checks` (the ImplicitNullChecks machine pass; it
    /// acts only on branches marked `!make.implicit`).
    ImplicitNullChecks,
}

/// Sets one LLVM command-line option (process-wide, not undone).
pub(crate) fn set_llvm_option(option: LlvmOption) {
    let arg = match option {
        LlvmOption::NoStatepointRematerialization => c"-spp-rematerialization-threshold=0",
        LlvmOption::ImplicitNullChecks => c"-enable-implicit-null-checks",
    };
    let argv = [c"cfree".as_ptr(), arg.as_ptr()];
    // SAFETY: `argv` holds two valid C strings for the duration of the call (LLVM copies what
    // it keeps). LLVMParseCommandLineOptions passes `nulls()` as the error stream: an unknown
    // option is silently ignored, an invalid value is printed to stderr, and options such as
    // `-help` or `-version` print and exit the process. Only the fixed, well-formed options of
    // `LlvmOption` are passed; each is a `cl::opt` of both LLVM 19 and 22 (gc_no_remat's
    // tests fail if one stops taking effect), and setting one again is allowed.
    unsafe { crate::llvm_sys::support::LLVMParseCommandLineOptions(2, argv.as_ptr(), c"".as_ptr()) }
}

/// An anonymous read-write file in memory (Linux `memfd_create`), for the isolated
/// worker's request.
#[cfg(target_os = "linux")]
pub(crate) fn anonymous_file() -> std::io::Result<std::fs::File> {
    stderr_capture::memory_file(c"cfree-codegen-request")
}

/// Whether any function of `module` uses a garbage collector (`gc "..."`): the
/// module needs the statepoint rewrite after optimisation.
pub(crate) fn has_gc_functions(module: &inkwell::module::Module<'_>) -> bool {
    module.get_functions().any(|f| {
        // SAFETY: `f` is a live function of `module`; LLVMGetGC returns null or a C string
        // owned by the function, which is only tested for null here.
        !unsafe { core::LLVMGetGC(f.as_value_ref()) }.is_null()
    })
}

/// Installs LLVM's pretty stack trace: on a crash, LLVM prints the pass and function it
/// was in to stderr before the process dies by the signal. Process-wide: for the worker.
pub(crate) fn enable_pretty_stack_trace() {
    // SAFETY: no preconditions; installs LLVM's signal handlers once.
    unsafe { crate::llvm_sys::error_handling::LLVMEnablePrettyStackTrace() }
}

/// What LLVM wrote to the process's stderr while `f` ran, and `f`'s result.
///
/// Used only around target machine creation, where LLVM reports an unknown CPU or
/// feature by printing a warning (its C API has no way to list or check the names).
/// The process's fd 2 points at an anonymous memory file for the duration; a mutex
/// serialises captures. Threads that write to stderr meanwhile are captured too: the
/// caller forwards what is not LLVM's to the real stderr afterwards. A child process
/// forked meanwhile inherits the memory file as its stderr. Linux only (`memfd_create`);
/// elsewhere, and if the redirection cannot be set up, `f` runs uncaptured.
pub(crate) fn capture_stderr<T>(f: impl FnOnce() -> T) -> (T, Vec<u8>) {
    #[cfg(target_os = "linux")]
    {
        stderr_capture::run(f)
    }
    #[cfg(not(target_os = "linux"))]
    {
        (f(), Vec::new())
    }
}

#[cfg(target_os = "linux")]
mod stderr_capture {
    use std::ffi::{c_char, c_int, c_uint};
    use std::fs::File;
    use std::io::{Read, Seek, SeekFrom};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::sync::Mutex;

    extern "C" {
        fn memfd_create(name: *const c_char, flags: c_uint) -> c_int;
        fn dup(fd: c_int) -> c_int;
        fn dup2(old: c_int, new: c_int) -> c_int;
    }

    const MFD_CLOEXEC: c_uint = 1;
    const STDERR: c_int = 2;

    /// A new anonymous memory file, closed on exec (a child gets it only as a
    /// redirected standard stream).
    pub(super) fn memory_file(name: &std::ffi::CStr) -> std::io::Result<File> {
        // SAFETY: `name` is a valid C string; memfd_create returns a new descriptor or -1.
        let fd = unsafe { memfd_create(name.as_ptr(), MFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor nobody else owns.
        Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
    }
    static CAPTURE: Mutex<()> = Mutex::new(());

    /// Puts the saved stderr back on fd 2 when dropped, even if `f` unwinds.
    struct Restore(OwnedFd);

    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: `self.0` is an open descriptor we own (a duplicate of the original
            // fd 2); dup2 atomically makes fd 2 refer to it again and does not consume it.
            unsafe { dup2(self.0.as_raw_fd(), STDERR) };
        }
    }

    pub(super) fn run<T>(f: impl FnOnce() -> T) -> (T, Vec<u8>) {
        let _serial = CAPTURE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Ok(mut file) = memory_file(c"cfree-llvm-stderr") else {
            return (f(), Vec::new());
        };
        // SAFETY: dup returns a new descriptor (or -1) that refers to the current stderr.
        let saved = unsafe { dup(STDERR) };
        if saved < 0 {
            return (f(), Vec::new());
        }
        // SAFETY: `saved` is a fresh descriptor nobody else owns.
        let restore = Restore(unsafe { OwnedFd::from_raw_fd(saved) });
        // SAFETY: both descriptors are open; fd 2 now refers to the memory file, whose own
        // descriptor `file` stays open until we have read it back.
        if unsafe { dup2(file.as_raw_fd(), STDERR) } < 0 {
            drop(restore);
            return (f(), Vec::new());
        }
        let result = f();
        drop(restore);
        let mut text = Vec::new();
        if file.seek(SeekFrom::Start(0)).is_ok() {
            let _ = file.read_to_end(&mut text);
        }
        (result, text)
    }
}

/// The tail-call marker of a call instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TailKind {
    Tail,
    MustTail,
    NoTail,
}

/// Sets `tail`, `musttail` or `notail` on `call`.
pub(crate) fn set_tail_kind(call: inkwell::values::CallSiteValue<'_>, kind: TailKind) {
    use crate::llvm_sys::LLVMTailCallKind as K;
    let k = match kind {
        TailKind::Tail => K::LLVMTailCallKindTail,
        TailKind::MustTail => K::LLVMTailCallKindMustTail,
        TailKind::NoTail => K::LLVMTailCallKindNoTail,
    };
    // SAFETY: `call` is a call instruction (inkwell's CallSiteValue wraps only calls).
    unsafe { core::LLVMSetTailCallKind(call.as_value_ref(), k) };
}

/// `blockaddress(@f, %block)` for a block of a function other than its entry.
pub(crate) fn block_address(block: BasicBlock<'_>) -> Option<PointerValue<'_>> {
    // SAFETY: `block` is a live block of the open function (inkwell checks it has a parent
    // and is not the entry block, whose address LLVM forbids, and returns None otherwise).
    unsafe { block.get_address() }
}

// ---- symbols and data (aliases, appending arrays) ----

/// A new alias `name` of `aliasee` in `module`, of value type `value_ty`, in address space 0.
pub(crate) fn add_alias<'ctx>(
    module: &inkwell::module::Module<'ctx>,
    value_ty: inkwell::types::AnyTypeEnum<'ctx>,
    aliasee: PointerValue<'ctx>,
    name: &str,
) -> GlobalValue<'ctx> {
    let name = std::ffi::CString::new(name).expect("the facade refuses names with NUL bytes");
    // SAFETY: `module`, `value_ty` and `aliasee` belong to one live context; `aliasee` is a
    // global's address in address space 0 and `name` is NUL-terminated. LLVMAddAlias2 returns
    // a new GlobalAlias owned by the module (never null).
    unsafe {
        let raw =
            core::LLVMAddAlias2(module.as_mut_ptr(), value_ty.as_type_ref(), 0, aliasee.as_value_ref(), name.as_ptr());
        GlobalValue::new(raw)
    }
}

/// Appends `elem` (of type `elem_ty`) to the appending array global `name`
/// (`llvm.used`, `llvm.global_ctors`, ...), creating it, and rebuilding it when it exists.
pub(crate) fn append_to_array_global<'ctx>(
    module: &inkwell::module::Module<'ctx>,
    name: &str,
    elem_ty: BasicTypeEnum<'ctx>,
    elem: BasicValueEnum<'ctx>,
    section: Option<&str>,
) {
    let mut elems = Vec::new();
    if let Some(old) = module.get_global(name) {
        if let Some(init) = old.get_initializer() {
            let raw = init.as_value_ref();
            // SAFETY: `raw` is the constant array this function built before; its operands
            // are its elements, constants of the same context.
            unsafe {
                let n = core::LLVMGetNumOperands(raw);
                elems.extend((0..n as u32).map(|i| core::LLVMGetOperand(raw, i)));
            }
        }
        // SAFETY: only this function refers to the reserved array globals (the facade refuses
        // `llvm.` names, so no user code or data can), and it drops `old` here.
        unsafe { old.delete() };
    }
    elems.push(elem.as_value_ref());
    // SAFETY: every element is a constant of type `elem_ty` in the same context.
    let array = unsafe {
        BasicValueEnum::new(core::LLVMConstArray2(elem_ty.as_type_ref(), elems.as_mut_ptr(), elems.len() as u64))
    };
    let global = module.add_global(array.get_type(), None, name);
    global.set_linkage(inkwell::module::Linkage::Appending);
    global.set_initializer(&array);
    global.set_section(section);
}

// ---- diagnostics ----

/// Error diagnostics LLVM reported on a context (inline assembly the
/// assembler rejects, among others). Without a handler LLVM prints them and
/// exits the process; with one, code generation continues and the emitter
/// turns them into an `Error`.
#[derive(Debug, Default)]
pub(crate) struct Diagnostics(std::sync::Mutex<Vec<String>>);

impl Diagnostics {
    /// Takes the errors recorded so far.
    pub(crate) fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

extern "C" fn on_diagnostic(info: crate::llvm_sys::prelude::LLVMDiagnosticInfoRef, sink: *mut std::ffi::c_void) {
    // SAFETY: LLVM passes a live diagnostic; `sink` is the `Diagnostics` installed with
    // this handler, which outlives its context (`LlvmContext` drops the context first).
    // The description is a malloc'ed C string we own and dispose of.
    unsafe {
        if core::LLVMGetDiagInfoSeverity(info) != crate::llvm_sys::LLVMDiagnosticSeverity::LLVMDSError {
            return;
        }
        let raw = core::LLVMGetDiagInfoDescription(info);
        let text = std::ffi::CStr::from_ptr(raw).to_string_lossy().into_owned();
        core::LLVMDisposeMessage(raw);
        let sink = &*(sink as *const Diagnostics);
        sink.0.lock().unwrap_or_else(|p| p.into_inner()).push(text);
    }
}

/// Makes `context` report error diagnostics to `sink` instead of exiting.
pub(crate) fn install_diagnostics(context: &Context, sink: &Diagnostics) {
    // SAFETY: the context is live; `sink` outlives it (see `on_diagnostic`).
    unsafe {
        core::LLVMContextSetDiagnosticHandler(
            context.raw(),
            Some(on_diagnostic),
            sink as *const Diagnostics as *mut std::ffi::c_void,
        )
    };
}

/// The diagnostics sink of `context`, if ours is installed.
pub(crate) fn diagnostics(context: inkwell::context::ContextRef<'_>) -> Option<&Diagnostics> {
    // SAFETY: the handler and its context pointer are read from a live context; the
    // pointer is a `Diagnostics` exactly when the handler is `on_diagnostic`, and it
    // lives as long as the context (so as long as the returned borrow).
    unsafe {
        let raw = context.raw();
        let handler = core::LLVMContextGetDiagnosticHandler(raw)?;
        if handler as *const () != on_diagnostic as *const () {
            return None;
        }
        (core::LLVMContextGetDiagnosticContext(raw) as *const Diagnostics).as_ref()
    }
}

/// The GC strategy of `function`, if it has one (inkwell's `get_gc` reads the
/// null LLVM returns for none).
pub(crate) fn function_gc(function: inkwell::values::FunctionValue<'_>) -> Option<String> {
    // SAFETY: `function` is a live function; LLVMGetGC returns null or a NUL-terminated
    // string owned by the function, copied here before anything can change it.
    unsafe {
        let raw = core::LLVMGetGC(function.as_value_ref());
        (!raw.is_null()).then(|| std::ffi::CStr::from_ptr(raw).to_string_lossy().into_owned())
    }
}
