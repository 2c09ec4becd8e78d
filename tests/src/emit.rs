//! Small emission helpers for the hand-written managed test programs.

use cfree_facade::{Backend, Cg, IntBinOp, IntCmp, IntFlags, IntWidth, Local, MemAccess, Result};

/// Emits `i = 0; while i < n { body(cg); i = i + 1 }` with `i` and `n` `i64` slots.
pub fn counted_loop<B: Backend>(
    cg: &mut Cg<B>,
    i: Local,
    n: Local,
    body: impl FnOnce(&mut Cg<B>) -> Result<()>,
) -> Result<()> {
    let i64t = cg.ty_int(IntWidth::I64)?;
    let get = |cg: &mut Cg<B>, l| -> Result<()> {
        cg.push_local(l)?;
        cg.load(MemAccess::new(i64t))
    };
    cg.push_local(i)?;
    cg.push_int(i64t, 0)?;
    cg.store(MemAccess::new(i64t))?;
    let (head, step, done) = (cg.new_label()?, cg.new_label()?, cg.new_label()?);
    cg.place_label(head)?;
    get(cg, i)?;
    get(cg, n)?;
    cg.int_cmp(IntCmp::Slt)?;
    cg.cond_br(step, done)?;
    cg.place_label(step)?;
    body(cg)?;
    cg.push_local(i)?;
    get(cg, i)?;
    cg.push_int(i64t, 1)?;
    cg.int_op(IntBinOp::Add, IntFlags::NONE)?;
    cg.store(MemAccess::new(i64t))?;
    cg.br(head)?;
    cg.place_label(done)
}
