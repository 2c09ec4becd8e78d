//! Emission of kernels through the CG facade (see the module docs of `diff`).

use std::collections::HashMap;

use cfree_facade::{
    Backend, Cg, FastMath, FloatWidth, FuncDecl, FuncSig, IntFlags, IntWidth, Local, MemAccess, Result, TypeId,
};

use super::{Op, Spec, S, SLOT};

/// How many of a spec's inputs its folded kernel bakes in, at most.
pub const FOLDED_CASES: usize = 24;

/// The input indices a folded kernel uses: spread over all inputs.
pub fn folded_indices(spec: &Spec) -> Vec<usize> {
    let n = spec.inputs.len();
    let step = n.div_ceil(FOLDED_CASES).max(1);
    (0..n).step_by(step).collect()
}

struct Types<'a, B: Backend> {
    cg: &'a mut Cg<B>,
    cache: HashMap<S, TypeId>,
    ptr: TypeId,
    i64: TypeId,
}

impl<B: Backend> Types<'_, B> {
    fn ty(&mut self, s: S) -> Result<TypeId> {
        if let Some(t) = self.cache.get(&s) {
            return Ok(*t);
        }
        let t = match s {
            S::I(1) => self.cg.ty_int(IntWidth::I1)?,
            S::I(8) => self.cg.ty_int(IntWidth::I8)?,
            S::I(16) => self.cg.ty_int(IntWidth::I16)?,
            S::I(32) => self.cg.ty_int(IntWidth::I32)?,
            S::I(64) => self.cg.ty_int(IntWidth::I64)?,
            S::I(128) => self.cg.ty_int(IntWidth::I128)?,
            S::I(other) => panic!("no i{other}"),
            S::F32 => self.cg.ty_float(FloatWidth::F32)?,
            S::F64 => self.cg.ty_float(FloatWidth::F64)?,
        };
        self.cache.insert(s, t);
        Ok(t)
    }

    fn push_const(&mut self, s: S, bits: u128) -> Result<()> {
        match s {
            S::F32 => self.cg.push_f32(f32::from_bits(bits as u32)),
            S::F64 => self.cg.push_f64(f64::from_bits(bits as u64)),
            S::I(_) => {
                let t = self.ty(s)?;
                // Bit pattern as a signed value of the width, which always fits.
                let v = ((bits << (128 - s.bits())) as i128) >> (128 - s.bits());
                self.cg.push_int(t, v)
            }
        }
    }

    fn apply(&mut self, spec: &Spec) -> Result<()> {
        let cg = &mut *self.cg;
        match spec.op {
            Op::Int(o) => cg.int_op(o, IntFlags::NONE),
            Op::IntUn(o) => cg.int_unop(o),
            Op::Checked(o) => cg.checked(o),
            Op::ICmp(p) => cg.int_cmp(p),
            Op::Cast(c) => {
                let to = self.ty(spec.results[0])?;
                self.cg.cast(c, to)
            }
            Op::CastChecked(c) => {
                let to = self.ty(spec.results[0])?;
                self.cg.cast_checked(c, to)
            }
            Op::FBin(o) => cg.float_op(o, FastMath::NONE),
            Op::FUn(o) => cg.float_unop(o, FastMath::NONE),
            Op::Fma => cg.fma(FastMath::NONE),
            Op::FCmp(p) => cg.float_cmp(p, FastMath::NONE),
            Op::IntFlagged(o, f) => cg.int_op(o, f),
            Op::FBinFinite(o) => cg.float_op(o, FastMath::NNAN | FastMath::NINF),
        }
    }

    /// Stores the op's results (on the stack, last on top) into slots at `*out_ptr + base`.
    fn store_results(&mut self, spec: &Spec, out_ptr: Local, base: i64) -> Result<()> {
        for j in (0..spec.results.len()).rev() {
            let t = self.ty(spec.results[j])?;
            self.cg.push_local(out_ptr)?;
            self.cg.load(MemAccess::new(self.ptr))?;
            self.cg.addr_offset(base + (j * SLOT) as i64, self.ptr)?;
            self.cg.swap()?;
            self.cg.store(MemAccess::new(t).align(1))?;
        }
        Ok(())
    }

    fn advance(&mut self, p: Local, bytes: i64) -> Result<()> {
        self.cg.push_local(p)?;
        self.cg.push_local(p)?;
        self.cg.load(MemAccess::new(self.ptr))?;
        self.cg.addr_offset(bytes, self.ptr)?;
        self.cg.store(MemAccess::new(self.ptr))
    }

    /// `void k_<name>(const u8 *in, u8 *out, i64 n)`.
    fn kernel(&mut self, spec: &Spec) -> Result<()> {
        let (ptr, i64t) = (self.ptr, self.i64);
        let sig = self.cg.ty_func(FuncSig::new(&[ptr, ptr, i64t], None))?;
        let f = self.cg.declare_func(&format!("k_{}", spec.name), FuncDecl::new(sig))?;
        self.cg.func_begin(f)?;
        let pin = self.cg.param_slot(0, "in")?;
        let pout = self.cg.param_slot(1, "out")?;
        let n = self.cg.param_slot(2, "n")?;
        let i = self.cg.local_slot(i64t, "i", 0)?;
        self.cg.push_local(i)?;
        self.cg.push_int(i64t, 0)?;
        self.cg.store(MemAccess::new(i64t))?;
        let (head, body, done) = (self.cg.new_label()?, self.cg.new_label()?, self.cg.new_label()?);
        self.cg.place_label(head)?;
        self.cg.push_local(i)?;
        self.cg.load(MemAccess::new(i64t))?;
        self.cg.push_local(n)?;
        self.cg.load(MemAccess::new(i64t))?;
        self.cg.int_cmp(cfree_facade::IntCmp::Slt)?;
        self.cg.cond_br(body, done)?;
        self.cg.place_label(body)?;
        for (k, s) in spec.args.iter().enumerate() {
            let t = self.ty(*s)?;
            self.cg.push_local(pin)?;
            self.cg.load(MemAccess::new(ptr))?;
            self.cg.addr_offset((k * SLOT) as i64, ptr)?;
            self.cg.load(MemAccess::new(t).align(1))?;
        }
        self.apply(spec)?;
        self.store_results(spec, pout, 0)?;
        self.advance(pin, (spec.args.len() * SLOT) as i64)?;
        self.advance(pout, (spec.results.len() * SLOT) as i64)?;
        self.cg.push_local(i)?;
        self.cg.push_local(i)?;
        self.cg.load(MemAccess::new(i64t))?;
        self.cg.push_int(i64t, 1)?;
        self.cg.int_op(cfree_facade::IntBinOp::Add, IntFlags::NONE)?;
        self.cg.store(MemAccess::new(i64t))?;
        self.cg.br(head)?;
        self.cg.place_label(done)?;
        self.cg.ret()?;
        self.cg.func_end()
    }

    /// `void c_<name>(u8 *out)`: the folded-input cases as constants.
    fn folded(&mut self, spec: &Spec) -> Result<()> {
        let sig = self.cg.ty_func(FuncSig::new(&[self.ptr], None))?;
        let f = self.cg.declare_func(&format!("c_{}", spec.name), FuncDecl::new(sig))?;
        self.cg.func_begin(f)?;
        let pout = self.cg.param_slot(0, "out")?;
        for (p, idx) in folded_indices(spec).into_iter().enumerate() {
            for (k, s) in spec.args.iter().enumerate() {
                self.push_const(*s, spec.inputs[idx][k])?;
            }
            self.apply(spec)?;
            self.store_results(spec, pout, (p * spec.results.len() * SLOT) as i64)?;
        }
        self.cg.ret()?;
        self.cg.func_end()
    }
}

/// Emits `k_<name>` and `c_<name>` for every spec into `cg`.
pub fn emit_all<B: Backend>(cg: &mut Cg<B>, specs: &[Spec]) -> Result<()> {
    let i8t = cg.ty_int(IntWidth::I8)?;
    let ptr = cg.ty_ptr(i8t, 0)?;
    let i64 = cg.ty_int(IntWidth::I64)?;
    let mut t = Types { cg, cache: HashMap::new(), ptr, i64 };
    for spec in specs {
        t.kernel(spec)?;
        t.folded(spec)?;
    }
    Ok(())
}
