//! The JIT beyond publish and lookup (`capi/include/cfree/jit.h`): options,
//! publish results, host symbols, replacement and generations, retiring and
//! reclaiming units, registry queries (PC to function, symbols, units,
//! safepoints), and the managed-frame walk and relocation of a moving
//! collector (`doc/jit.md`, `doc/gc.md`).

use std::ffi::{c_char, c_int, c_void};

use cfree_jit_orc::{Jit, JitOptions, UnitId, UnitState};

use super::statepoint::{
    frames_out, info, relocate_all, slots, CFrame, CLivePointer, CSafepointInfo, CSlot, ForwardFn,
};
use super::{array, copy_string, entry, level, put, required};
use crate::error::{CapiError, INVALID_ARGUMENT, NOT_FOUND, NULL_POINTER};
use crate::handles::{self, ModuleBox};
use cfree_facade::ScalarType;

/// `cfree_published`: what a publish did.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CPublished {
    /// The new unit.
    pub unit: u64,
    /// The generation it created.
    pub generation: u64,
    /// How many exported functions it replaced.
    pub replaced: usize,
}

/// `cfree_function_info`: a function's code range.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CFunctionInfo {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
    /// The generation of its unit.
    pub generation: u64,
    /// Its unit.
    pub unit: u64,
}

/// `cfree_symbol_info`: an exported function's stable entry and active body.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CSymbolInfo {
    /// The stable entry (what `cfree_jit_lookup` returns).
    pub entry: u64,
    /// The cell holding the active body's address.
    pub cell: u64,
    /// The active body.
    pub body: u64,
    /// The generation that published the active body.
    pub generation: u64,
    /// The unit of the active body.
    pub unit: u64,
}

/// `cfree_unit_info`: a published unit.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CUnitInfo {
    /// The generation its publish created.
    pub generation: u64,
    /// `CFREE_UNIT_*`.
    pub state: c_int,
    /// Number of code ranges.
    pub nranges: usize,
    /// Total code bytes.
    pub code_bytes: u64,
    /// Exported functions whose active body is in the unit.
    pub nactive_exports: usize,
}

/// `cfree_publish_stats`: counters of a JIT's publishes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CPublishStats {
    /// Successful publishes.
    pub published: u64,
    /// Failed publishes.
    pub failed: u64,
    /// Publishes compiling now.
    pub compiling: usize,
    /// The most that compiled at once.
    pub max_concurrent_compiles: usize,
}

/// `cfree_reclaim_veto_fn`: non-zero keeps the retired unit.
pub type VetoFn = Option<unsafe extern "C" fn(ctx: *mut c_void, unit: u64, generation: u64) -> c_int>;

const JIT_PERF_MAP: u32 = 1;
const JIT_DEBUGGER: u32 = 2;
const JIT_JITDUMP: u32 = 4;

fn jit_err(call: &str) -> impl Fn(cfree_jit_orc::Error) -> CapiError + '_ {
    move |e| CapiError::jit(call, e)
}

/// Creates a JIT for the host with `flags` (`CFREE_JIT_PERF_MAP`: append
/// every published function to `/tmp/perf-<pid>.map`; `CFREE_JIT_DEBUGGER`:
/// register published code with debuggers; `CFREE_JIT_JITDUMP`: write perf's
/// `jit-<pid>.dump` in `$JITDUMPDIR` or the temp directory).
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_new_ex(flags: u32, out: *mut u64) -> c_int {
    const CALL: &str = "cfree_jit_new_ex";
    entry(CALL, || {
        if flags & !(JIT_PERF_MAP | JIT_DEBUGGER | JIT_JITDUMP) != 0 {
            return Err(CapiError::new(INVALID_ARGUMENT, CALL, format!("JIT flags {flags:#x} have undefined bits")));
        }
        let jitdump_dir = (flags & JIT_JITDUMP != 0)
            .then(|| std::env::var_os("JITDUMPDIR").map_or_else(std::env::temp_dir, std::path::PathBuf::from));
        let options =
            JitOptions { perf_map: flags & JIT_PERF_MAP != 0, debugger: flags & JIT_DEBUGGER != 0, jitdump_dir };
        let jit = Jit::with_options(options).map_err(jit_err(CALL))?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, handles::add_jit(jit)) }
    })
}

/// `cfree_jit_publish`, reporting the unit, its generation and how many
/// functions it replaced in `*out` (may be null).
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_publish_ex(jit: u64, m: u64, level_: c_int, out: *mut CPublished) -> c_int {
    const CALL: &str = "cfree_jit_publish_ex";
    entry(CALL, || {
        let level = level(CALL, level_)?;
        let jit = handles::jit(CALL, jit)?;
        let ModuleBox { cg, context } = handles::take_module(CALL, m)?;
        let published = {
            let module = cfree_llvm_lower::finish(cg).map_err(|e| CapiError::llvm(CALL, e))?;
            jit.publish(&module, level).map_err(jit_err(CALL))?
        };
        drop(context);
        if !out.is_null() {
            let value = CPublished {
                unit: published.unit.0,
                generation: published.generation,
                replaced: published.replaced.len(),
            };
            // SAFETY: non-null and writable by the caller's contract.
            unsafe { out.write(value) };
        }
        Ok(())
    })
}

/// Copies the JIT's target triple into `buf` (see `cfree_cg_target_string`).
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_triple(jit: u64, buf: *mut c_char, cap: usize, len: *mut usize) -> c_int {
    const CALL: &str = "cfree_jit_triple";
    entry(CALL, || {
        let jit = handles::jit(CALL, jit)?;
        // SAFETY: the caller's contract on `buf`, `cap` and `len`.
        unsafe { copy_string(CALL, jit.triple(), buf, cap, len) }
    })
}

/// Defines host function or object `name` at `address` for JIT code to use.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_define_host_symbol(jit: u64, name: *const c_char, address: *const c_void) -> c_int {
    const CALL: &str = "cfree_jit_define_host_symbol";
    entry(CALL, || {
        // SAFETY: the caller's contract on `name`.
        let name = unsafe { required(CALL, name, "name")? };
        if address.is_null() {
            return Err(CapiError::new(NULL_POINTER, CALL, "the address is null"));
        }
        let jit = handles::jit(CALL, jit)?;
        jit.define_host_symbol(name, address as u64).map_err(jit_err(CALL))
    })
}

/// The JIT's current generation (0 before the first publish).
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_generation(jit: u64, out: *mut u64) -> c_int {
    const CALL: &str = "cfree_jit_generation";
    entry(CALL, || {
        let g = handles::jit(CALL, jit)?.registry().generation();
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, g) }
    })
}

/// Marks replaced unit `unit` retired (JIT error 11 if unknown, 12 if still active).
#[no_mangle]
pub extern "C" fn cfree_jit_retire(jit: u64, unit: u64) -> c_int {
    const CALL: &str = "cfree_jit_retire";
    entry(CALL, || handles::jit(CALL, jit)?.retire(UnitId(unit)).map_err(jit_err(CALL)))
}

/// Releases every retired unit no veto keeps; writes up to `cap` of their ids
/// to `units` and their number to `*n`. No frame may still run their code.
///
/// # Safety
/// See the parent module; `units` writable for `cap` ids.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_reclaim(jit: u64, units: *mut u64, cap: usize, n: *mut usize) -> c_int {
    const CALL: &str = "cfree_jit_reclaim";
    entry(CALL, || {
        if (units.is_null() && cap > 0) || n.is_null() {
            return Err(CapiError::new(NULL_POINTER, CALL, "an out-parameter is null"));
        }
        let reclaimed = handles::jit(CALL, jit)?.reclaim().map_err(jit_err(CALL))?;
        for (i, u) in reclaimed.iter().take(cap).enumerate() {
            // SAFETY: `i < cap` and `units` is writable for `cap` ids.
            unsafe { units.add(i).write(u.0) };
        }
        // SAFETY: non-null and writable by the caller's contract.
        unsafe { n.write(reclaimed.len()) };
        Ok(())
    })
}

struct Veto {
    f: unsafe extern "C" fn(*mut c_void, u64, u64) -> c_int,
    ctx: usize,
}

/// Registers `veto`, asked (with `ctx`) before any retired unit is reclaimed,
/// from the thread calling `cfree_jit_reclaim`; it must not call the JIT.
///
/// # Safety
/// `veto` must be callable with `ctx` from any thread for the JIT's lifetime.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_add_reclaim_veto(jit: u64, veto: VetoFn, ctx: *mut c_void) -> c_int {
    const CALL: &str = "cfree_jit_add_reclaim_veto";
    entry(CALL, || {
        let f = veto.ok_or_else(|| CapiError::new(NULL_POINTER, CALL, "the veto function is null"))?;
        let v = Veto { f, ctx: ctx as usize };
        handles::jit(CALL, jit)?.add_reclaim_veto(Box::new(move |u| {
            // SAFETY: the registrant's contract: callable with `ctx` from any thread.
            unsafe { (v.f)(v.ctx as *mut c_void, u.id.0, u.generation) != 0 }
        }));
        Ok(())
    })
}

/// The function whose code contains `pc`, or `CFREE_ERR_NOT_FOUND`.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_function_at(jit: u64, pc: u64, out: *mut CFunctionInfo) -> c_int {
    const CALL: &str = "cfree_jit_function_at";
    entry(CALL, || {
        let registry = handles::jit(CALL, jit)?.registry();
        let f = registry
            .function_at(pc)
            .ok_or_else(|| CapiError::new(NOT_FOUND, CALL, format!("no JIT function at pc {pc:#x}")))?;
        let value = CFunctionInfo { start: f.start, end: f.end, generation: f.generation, unit: f.unit.0 };
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, value) }
    })
}

/// Where a fault at `pc` resumes, if `pc` is an implicit check's faulting
/// access in the trap table (`doc/runtime.md`): a host's SIGSEGV handler sets
/// the interrupted PC to `*handler`. `CFREE_ERR_NOT_FOUND` otherwise.
///
/// # Safety
/// See the parent module; `handler` writable.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_trap_at(jit: u64, pc: u64, handler: *mut u64) -> c_int {
    const CALL: &str = "cfree_jit_trap_at";
    entry(CALL, || {
        let registry = handles::jit(CALL, jit)?.registry();
        let trap = registry
            .trap_at(pc)
            .ok_or_else(|| CapiError::new(NOT_FOUND, CALL, format!("no trap entry at pc {pc:#x}")))?;
        // SAFETY: the caller's contract on `handler`.
        unsafe { put(CALL, handler, trap.handler) }
    })
}

/// Copies the object-file name of the function containing `pc` into `buf`
/// (bodies of exported functions are named `name.cfree.u<unit>`).
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_function_name_at(
    jit: u64,
    pc: u64,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> c_int {
    const CALL: &str = "cfree_jit_function_name_at";
    entry(CALL, || {
        let registry = handles::jit(CALL, jit)?.registry();
        let f = registry
            .function_at(pc)
            .ok_or_else(|| CapiError::new(NOT_FOUND, CALL, format!("no JIT function at pc {pc:#x}")))?;
        // SAFETY: the caller's contract on `buf`, `cap` and `len`.
        unsafe { copy_string(CALL, &f.name, buf, cap, len) }
    })
}

/// The stable entry and active body of exported function `name`.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_symbol_info(jit: u64, name: *const c_char, out: *mut CSymbolInfo) -> c_int {
    const CALL: &str = "cfree_jit_symbol_info";
    entry(CALL, || {
        // SAFETY: the caller's contract on `name`.
        let name = unsafe { required(CALL, name, "name")? };
        let registry = handles::jit(CALL, jit)?.registry();
        let s = registry
            .symbol(name)
            .ok_or_else(|| CapiError::jit(CALL, cfree_jit_orc::Error::NoSuchFunction(name.into())))?;
        let value =
            CSymbolInfo { entry: s.entry, cell: s.cell, body: s.body, generation: s.generation, unit: s.unit.0 };
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, value) }
    })
}

/// The state of unit `unit` (JIT error 11 if the JIT never published it).
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_unit_info(jit: u64, unit: u64, out: *mut CUnitInfo) -> c_int {
    const CALL: &str = "cfree_jit_unit_info";
    entry(CALL, || {
        let registry = handles::jit(CALL, jit)?.registry();
        let u = registry
            .unit(UnitId(unit))
            .ok_or_else(|| CapiError::jit(CALL, cfree_jit_orc::Error::NoSuchUnit(UnitId(unit))))?;
        let value = CUnitInfo {
            generation: u.generation,
            state: match u.state {
                UnitState::Active => 0,
                UnitState::Replaced => 1,
                UnitState::Retired => 2,
                UnitState::Reclaimed => 3,
            },
            nranges: u.ranges.len(),
            code_bytes: u.ranges.iter().map(|(s, e)| e.saturating_sub(*s)).sum(),
            nactive_exports: u.active_exports.len(),
        };
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, value) }
    })
}

/// The JIT's publish counters.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_publish_stats(jit: u64, out: *mut CPublishStats) -> c_int {
    const CALL: &str = "cfree_jit_publish_stats";
    entry(CALL, || {
        let s = handles::jit(CALL, jit)?.publish_stats();
        let value = CPublishStats {
            published: s.published,
            failed: s.failed,
            compiling: s.compiling,
            max_concurrent_compiles: s.max_concurrent_compiles,
        };
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, value) }
    })
}

/// The number of decoded safepoints (statepoint records) in the JIT's registry.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_safepoint_count(jit: u64, out: *mut usize) -> c_int {
    const CALL: &str = "cfree_jit_safepoint_count";
    entry(CALL, || {
        let registry = handles::jit(CALL, jit)?.registry();
        let n = registry.stackmaps().filter(|s| s.safepoint.is_some()).count();
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, n) }
    })
}

/// Safepoint `index` (0 .. `cfree_jit_safepoint_count`, in PC order).
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_safepoint(jit: u64, index: usize, out: *mut CSafepointInfo) -> c_int {
    const CALL: &str = "cfree_jit_safepoint";
    entry(CALL, || {
        let registry = handles::jit(CALL, jit)?.registry();
        let (pc, sp) = registry
            .stackmaps()
            .filter_map(|s| s.safepoint.as_ref().map(|sp| (s.pc, sp)))
            .nth(index)
            .ok_or_else(|| CapiError::new(NOT_FOUND, CALL, format!("no safepoint {index}")))?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, info(pc, sp)) }
    })
}

/// The safepoint at return address `pc`, or `CFREE_ERR_NOT_FOUND`.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_safepoint_at(jit: u64, pc: u64, out: *mut CSafepointInfo) -> c_int {
    const CALL: &str = "cfree_jit_safepoint_at";
    entry(CALL, || {
        let registry = handles::jit(CALL, jit)?.registry();
        let sp = registry
            .safepoint_at(pc)
            .ok_or_else(|| CapiError::new(NOT_FOUND, CALL, format!("no safepoint at pc {pc:#x}")))?;
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, info(pc, sp)) }
    })
}

/// The slots of the safepoint at `pc`: up to `live_cap` live pointers into
/// `live` and up to `roots_cap` explicit roots into `roots` (sizes from
/// `cfree_jit_safepoint_at`). A slot's address in a frame is its base
/// (`frame.sp` or `frame.fp`) plus its offset.
///
/// # Safety
/// See the parent module; the arrays writable for their capacities.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_safepoint_slots(
    jit: u64,
    pc: u64,
    live: *mut CLivePointer,
    live_cap: usize,
    roots: *mut CSlot,
    roots_cap: usize,
) -> c_int {
    const CALL: &str = "cfree_jit_safepoint_slots";
    entry(CALL, || {
        let registry = handles::jit(CALL, jit)?.registry();
        let sp = registry
            .safepoint_at(pc)
            .ok_or_else(|| CapiError::new(NOT_FOUND, CALL, format!("no safepoint at pc {pc:#x}")))?;
        // SAFETY: the caller's contract on both arrays.
        unsafe { slots(CALL, sp, live, live_cap, roots, roots_cap) }
    })
}

/// The managed frames above runtime entry `entry_fp` (the frame pointer a
/// `CFREE_GC_RUNTIME` function receives first), innermost first: up to `cap`
/// into `out`, their number into `*n`.
///
/// # Safety
/// `entry_fp` must be the entry argument of a runtime function still running
/// on this thread; `out` writable for `cap` frames.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_walk_frames(
    jit: u64,
    entry_fp: u64,
    out: *mut CFrame,
    cap: usize,
    n: *mut usize,
) -> c_int {
    const CALL: &str = "cfree_jit_walk_frames";
    entry(CALL, || {
        let registry = handles::jit(CALL, jit)?.registry();
        // SAFETY: the caller's contract.
        unsafe { frames_out(CALL, entry_fp, |pc| registry.safepoint_at(pc), out, cap, n) }
    })
}

/// After (or while) moving objects: rewrites every live managed pointer and
/// explicit root in the managed frames above each runtime entry of
/// `entry_fps` (innermost first). `forward(ctx, old)` returns the new address
/// of the object whose base was `old`; it is called once per distinct object,
/// in increasing order of old address, before any slot is written. Derived
/// pointers keep their offset. `*frames` (may be null) gets the frame count.
///
/// # Safety
/// As `cfree_jit_walk_frames` for every entry; `forward` callable with `ctx`.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_gc_relocate(
    jit: u64,
    entry_fps: *const u64,
    n: usize,
    forward: ForwardFn,
    ctx: *mut c_void,
    frames: *mut usize,
) -> c_int {
    const CALL: &str = "cfree_jit_gc_relocate";
    entry(CALL, || {
        let registry = handles::jit(CALL, jit)?.registry();
        // SAFETY: the caller's contract.
        unsafe { relocate_all(CALL, entry_fps, n, |pc| registry.safepoint_at(pc), forward, ctx, frames) }
    })
}

// ---- typed lookup ----

// Scalar classes (`CFREE_SCALAR_*`).
const SCALAR_NONE: c_int = 0;
const SCALAR_INT: c_int = 1;
const SCALAR_FLOAT: c_int = 2;
const SCALAR_PTR: c_int = 3;

/// `cfree_scalar`: one parameter or result class of a JIT export.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CScalar {
    /// `CFREE_SCALAR_*` (`NONE` only as a result: no value).
    pub kind: c_int,
    /// INT, FLOAT: the width in bits; PTR: the address space.
    pub bits: u32,
}

fn scalar_of(call: &str, s: CScalar, what: &str) -> Result<Option<ScalarType>, CapiError> {
    use cfree_facade::{FloatWidth, IntWidth};
    let width = || -> Option<ScalarType> {
        Some(match (s.kind, s.bits) {
            (SCALAR_INT, 1) => ScalarType::Int(IntWidth::I1),
            (SCALAR_INT, 8) => ScalarType::Int(IntWidth::I8),
            (SCALAR_INT, 16) => ScalarType::Int(IntWidth::I16),
            (SCALAR_INT, 32) => ScalarType::Int(IntWidth::I32),
            (SCALAR_INT, 64) => ScalarType::Int(IntWidth::I64),
            (SCALAR_INT, 128) => ScalarType::Int(IntWidth::I128),
            (SCALAR_FLOAT, 32) => ScalarType::Float(FloatWidth::F32),
            (SCALAR_FLOAT, 64) => ScalarType::Float(FloatWidth::F64),
            (SCALAR_PTR, space) => ScalarType::Ptr(space),
            _ => return None,
        })
    };
    match s.kind {
        SCALAR_NONE => Ok(None),
        _ => width().map(Some).ok_or_else(|| {
            CapiError::new(INVALID_ARGUMENT, call, format!("{what}: scalar {{{}, {}}} is invalid", s.kind, s.bits))
        }),
    }
}

fn c_scalar(s: Option<ScalarType>) -> CScalar {
    match s {
        None => CScalar { kind: SCALAR_NONE, bits: 0 },
        Some(ScalarType::Int(w)) => CScalar { kind: SCALAR_INT, bits: w.bits() },
        Some(ScalarType::Float(w)) => CScalar { kind: SCALAR_FLOAT, bits: w.bits() },
        Some(ScalarType::Ptr(space)) => CScalar { kind: SCALAR_PTR, bits: space },
    }
}

fn spell(params: &[ScalarType], result: Option<ScalarType>, variadic: bool) -> String {
    let mut p: Vec<String> = params.iter().map(|s| format!("{s:?}")).collect();
    if variadic {
        p.push("...".into());
    }
    format!("fn({}) -> {}", p.join(", "), result.map_or("()".to_string(), |r| format!("{r:?}")))
}

/// The stable entry of exported function `name` if its signature is exactly
/// `params` -> `result` (`result` null or `CFREE_SCALAR_NONE`: no result); JIT
/// error 4 (signature mismatch) otherwise, including for variadic exports.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_lookup_typed(
    jit: u64,
    name: *const c_char,
    params: *const CScalar,
    n: usize,
    result: *const CScalar,
    out: *mut *const c_void,
) -> c_int {
    const CALL: &str = "cfree_jit_lookup_typed";
    entry(CALL, || {
        // SAFETY: the caller's contract on `name`, `params` and `n`.
        let (name, given) = unsafe { (required(CALL, name, "name")?, array(CALL, params, n)?) };
        let mut wanted = Vec::with_capacity(given.len());
        for (i, &s) in given.iter().enumerate() {
            let s = scalar_of(CALL, s, &format!("parameter {i}"))?;
            wanted
                .push(s.ok_or_else(|| CapiError::new(INVALID_ARGUMENT, CALL, format!("parameter {i} has no class")))?);
        }
        // SAFETY: `result` is null or readable by the caller's contract.
        let result = if result.is_null() { None } else { scalar_of(CALL, unsafe { *result }, "the result")? };
        let registry = handles::jit(CALL, jit)?.registry();
        let s = registry
            .symbol(name)
            .ok_or_else(|| CapiError::jit(CALL, cfree_jit_orc::Error::NoSuchFunction(name.into())))?;
        let sig = &s.signature;
        if sig.variadic || sig.params != wanted || sig.result != result {
            let e = cfree_jit_orc::Error::SignatureMismatch {
                name: name.into(),
                declared: spell(&sig.params, sig.result, sig.variadic),
                requested: spell(&wanted, result, false),
            };
            return Err(CapiError::jit(CALL, e));
        }
        // SAFETY: the caller's contract on `out`.
        unsafe { put(CALL, out, s.entry as usize as *const c_void) }
    })
}

/// The signature of exported function `name`: up to `cap` parameter classes
/// into `params` (all counted in `*n`), the result class (`CFREE_SCALAR_NONE`
/// for none) and whether it is variadic. `params` may be null if `cap` is 0.
///
/// # Safety
/// See the parent module.
#[no_mangle]
pub unsafe extern "C" fn cfree_jit_signature(
    jit: u64,
    name: *const c_char,
    params: *mut CScalar,
    cap: usize,
    n: *mut usize,
    result: *mut CScalar,
    variadic: *mut c_int,
) -> c_int {
    const CALL: &str = "cfree_jit_signature";
    entry(CALL, || {
        if n.is_null() || result.is_null() || variadic.is_null() || (params.is_null() && cap > 0) {
            return Err(CapiError::new(NULL_POINTER, CALL, "an out-parameter is null"));
        }
        // SAFETY: the caller's contract on `name`.
        let name = unsafe { required(CALL, name, "name")? };
        let registry = handles::jit(CALL, jit)?.registry();
        let s = registry
            .symbol(name)
            .ok_or_else(|| CapiError::jit(CALL, cfree_jit_orc::Error::NoSuchFunction(name.into())))?;
        let sig = &s.signature;
        // SAFETY: `params` holds `cap` writable elements and the other
        // out-parameters are non-null and writable, by the caller's contract.
        unsafe {
            for (i, &p) in sig.params.iter().take(cap).enumerate() {
                params.add(i).write(c_scalar(Some(p)));
            }
            n.write(sig.params.len());
            result.write(c_scalar(sig.result));
            variadic.write(sig.variadic.into());
        }
        Ok(())
    })
}
