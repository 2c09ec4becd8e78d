//! A small two-file program emitted through the facade with debug
//! information (`doc/debuginfo.md`): a record, a global, a function with
//! parameters, locals and a lexical block in `geom.src`, called from the
//! entry in `main.src`, which returns 0 when it ran correctly. The DWARF
//! tests read it back, check it with llvm-dwarfdump, and drive gdb on it,
//! AOT and in the JIT (`src/bin/jit_debug_target.rs`).

use std::path::Path;

use cfree_facade::*;
use cfree_llvm_lower::LlvmBackend;

type C<'a> = Cg<LlvmBackend<'a>>;

/// `geom.src`, lines 1-11, and `main.src`, lines 1-5: what the positions name.
pub const GEOM_SRC: &str = "record Point { x: i32, y: f64 }
var counter: i64 = 7
fn dist2(p: *Point, scale: i64) -> i64 {
    let dx: i64 = p.x * scale
    let dy: f64 = p.y
    {
        let sum: i64 = dx + dy as i64
        counter = counter + 1
        return sum
    }
}
";
pub const MAIN_SRC: &str = "fn main() -> i32 {
    let pt: Point = Point { x: 3, y: 4.5 }
    let r: i64 = dist2(&pt, 2)
    return (r - 10 + counter - 8) as i32
}
";

/// Emits the program into `cg` with debug information (sources in `dir`),
/// its entry function (`main.src`) named `entry`.
pub fn build(cg: &mut C<'_>, dir: &Path, optimized: bool, entry: &str) -> Result<()> {
    let dir = dir.to_str().unwrap();
    let mut options = DebugOptions::new(SourceLanguage::C99, "cfree-tests debug_info", "geom.src", dir);
    options.optimized = optimized;
    let geom = cg.enable_debug_info(options)?;
    let main_file = cg.debug_file("main.src", dir)?;
    let at = |f: FileId, line: u32, col: u32| SrcLoc::new(f, line, col);
    let (i32t, i64t, f64t) = (cg.ty_int(IntWidth::I32)?, cg.ty_int(IntWidth::I64)?, cg.ty_float(FloatWidth::F64)?);
    let point = cg.ty_record(&[i32t, f64t])?;
    cg.describe_type(
        point,
        TypeDebugInfo { name: Some("Point".into()), fields: vec!["x".into(), "y".into()], encoding: None },
    )?;
    let pptr = cg.ty_ptr(point, 0)?;
    let ld = |cg: &mut C<'_>, ty| cg.load(MemAccess::new(ty));
    let st = |cg: &mut C<'_>, ty| cg.store(MemAccess::new(ty));

    cg.set_loc(at(geom, 2, 5))?;
    let counter = cg.declare_data("counter", DataDecl::new(i64t))?;
    cg.define_data(counter, &DataInit::new().bytes(&7i64.to_le_bytes()))?;

    cg.set_loc(at(geom, 3, 1))?;
    let sig = cg.ty_func(FuncSig::new(&[pptr, i64t], Some(i64t)))?;
    let dist2 = cg.declare_func("dist2", FuncDecl { linkage: Linkage::Internal, ..FuncDecl::new(sig) })?;
    cg.func_begin(dist2)?;
    let p = cg.param_slot(0, "p")?;
    let scale = cg.param_slot(1, "scale")?;
    cg.set_loc(at(geom, 4, 5))?;
    let dx = cg.local_slot(i64t, "dx", 0)?;
    cg.push_local(dx)?;
    cg.push_local(p)?;
    ld(cg, pptr)?;
    cg.deref(point)?;
    cg.addr_offset(0, i32t)?;
    ld(cg, i32t)?;
    cg.cast(CastOp::SExt, i64t)?;
    cg.push_local(scale)?;
    ld(cg, i64t)?;
    cg.int_op(IntBinOp::Mul, IntFlags::NONE)?;
    st(cg, i64t)?;
    cg.set_loc(at(geom, 5, 5))?;
    let dy = cg.local_slot(f64t, "dy", 0)?;
    cg.push_local(dy)?;
    cg.push_local(p)?;
    ld(cg, pptr)?;
    cg.deref(point)?;
    cg.addr_offset(8, f64t)?;
    ld(cg, f64t)?;
    st(cg, f64t)?;
    cg.set_loc(at(geom, 6, 5))?;
    cg.scope_begin()?;
    cg.set_loc(at(geom, 7, 9))?;
    let sum = cg.local_slot(i64t, "sum", 0)?;
    cg.push_local(sum)?;
    cg.push_local(dx)?;
    ld(cg, i64t)?;
    cg.push_local(dy)?;
    ld(cg, f64t)?;
    cg.cast(CastOp::FPToSI, i64t)?;
    cg.int_op(IntBinOp::Add, IntFlags::NONE)?;
    st(cg, i64t)?;
    cg.set_loc(at(geom, 8, 9))?;
    cg.push_global(counter)?;
    cg.push_global(counter)?;
    ld(cg, i64t)?;
    cg.push_int(i64t, 1)?;
    cg.int_op(IntBinOp::Add, IntFlags::NONE)?;
    st(cg, i64t)?;
    cg.set_loc(at(geom, 9, 9))?;
    cg.push_local(sum)?;
    ld(cg, i64t)?;
    cg.ret()?;
    cg.scope_end()?;
    cg.func_end()?;

    cg.set_loc(at(main_file, 1, 1))?;
    let main_sig = cg.ty_func(FuncSig::new(&[], Some(i32t)))?;
    let main = cg.declare_func(entry, FuncDecl::new(main_sig))?;
    cg.func_begin(main)?;
    cg.set_loc(at(main_file, 2, 5))?;
    let pt = cg.local_slot(point, "pt", 0)?;
    cg.push_local(pt)?;
    cg.addr_offset(0, i32t)?;
    cg.push_int(i32t, 3)?;
    st(cg, i32t)?;
    cg.push_local(pt)?;
    cg.addr_offset(8, f64t)?;
    cg.push_f64(4.5)?;
    st(cg, f64t)?;
    cg.set_loc(at(main_file, 3, 5))?;
    let r = cg.local_slot(i64t, "r", 0)?;
    // A compiler temporary and a variable the frontend says is optimised out.
    let temp = cg.local_slot_with(i64t, "tmp.0", 0, SlotFlags::ADDRESS_TAKEN | SlotFlags::COMPILER_TEMP)?;
    cg.local_slot_with(i64t, "gone", 0, SlotFlags::OPTIMIZED_OUT)?;
    cg.push_local(temp)?;
    cg.push_int(i64t, 0)?;
    st(cg, i64t)?;
    cg.push_local(r)?;
    cg.push_local(pt)?;
    cg.addr_of()?;
    cg.push_int(i64t, 2)?;
    cg.call(Callee::Direct(dist2), 2)?;
    st(cg, i64t)?;
    cg.set_loc(at(main_file, 4, 5))?;
    cg.push_local(r)?;
    ld(cg, i64t)?;
    cg.push_int(i64t, 10)?;
    cg.int_op(IntBinOp::Sub, IntFlags::NONE)?;
    cg.push_global(counter)?;
    ld(cg, i64t)?;
    cg.int_op(IntBinOp::Add, IntFlags::NONE)?;
    cg.push_int(i64t, 8)?;
    cg.int_op(IntBinOp::Sub, IntFlags::NONE)?;
    cg.cast(CastOp::Trunc, i32t)?;
    cg.ret()?;
    cg.func_end()
}
