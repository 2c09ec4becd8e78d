//! Small emission helpers for hand-written test programs.

use cfree_facade::{
    Backend, Cg, FuncDecl, FuncSig, IntBinOp, IntCmp, IntFlags, IntWidth, Local, MemAccess, Result, TypeId,
};

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

/// Declares `name(params) -> result`, opens its body and returns the parameters' slots.
///
/// # Panics
/// If the facade refuses any of it (the tests' own programs are valid).
pub fn begin<B: Backend>(cg: &mut Cg<B>, name: &str, params: &[TypeId], result: Option<TypeId>) -> Vec<Local> {
    let sig = cg.ty_func(FuncSig::new(params, result)).unwrap();
    let f = cg.declare_func(name, FuncDecl::new(sig)).unwrap();
    cg.func_begin(f).unwrap();
    (0..params.len()).map(|i| cg.param_slot(i as u32, &format!("p{i}")).unwrap()).collect()
}

/// Pushes the value of slot `l`, of type `ty`.
///
/// # Panics
/// If the facade refuses it.
pub fn get<B: Backend>(cg: &mut Cg<B>, l: Local, ty: TypeId) {
    cg.push_local(l).unwrap();
    cg.load(MemAccess::new(ty)).unwrap();
}
