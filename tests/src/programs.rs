//! The shared test suite: programs emitted through the CG facade, run by the
//! JIT and as AOT objects, and their oracle written in plain Rust.
//!
//! Every entry point has the C signature `int64_t f(int64_t a, int64_t b)`
//! so one driver (Rust for the JIT, C for AOT binaries) can call them all.

use cfree_facade::{
    Backend, Callee, CastOp, Cg, DataDecl, DataInit, FuncDecl, FuncSig, IntBinOp, IntCmp, IntFlags, IntWidth, Label,
    Linkage, Local, MemAccess, Result, Sym, TypeId,
};

/// Size of the sieve buffers; `a` must stay at or below it.
pub const SIEVE_MAX: i64 = 4096;

/// One call of an entry point and the value it must return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Case {
    /// Entry point name.
    pub func: &'static str,
    /// First argument.
    pub a: i64,
    /// Second argument.
    pub b: i64,
}

impl Case {
    /// The value Rust computes for this case.
    pub fn expected(&self) -> i64 {
        oracle(self.func, self.a, self.b)
    }
}

/// The entry points, in the order the C driver lists them.
pub const ENTRIES: [&str; 15] = [
    "t_fib",
    "t_sum_loop",
    "t_sieve_local",
    "t_sieve_data",
    "t_fnptr",
    "t_reloc",
    "t_narrow",
    "t_divrem",
    "t_shifts",
    "t_cmp",
    "t_i128",
    "t_record",
    "t_switch_dense",
    "t_switch_sparse",
    "t_select",
];

/// The cases of `t_switch_sparse` (an i32 switch), in case order.
pub const SPARSE_CASES: [i32; 8] = [-7, 0, 3, 100, 1000, 65536, 1 << 30, i32::MIN];

/// The cases every execution path runs.
pub fn cases() -> Vec<Case> {
    let c = |func, a, b| Case { func, a, b };
    vec![
        c("t_fib", 0, 0),
        c("t_fib", 1, 0),
        c("t_fib", 25, 0),
        c("t_sum_loop", 0, 7),
        c("t_sum_loop", 1000, 7),
        c("t_sum_loop", 100_000, -3),
        c("t_sieve_local", 2, 0),
        c("t_sieve_local", 100, 0),
        c("t_sieve_local", SIEVE_MAX, 0),
        c("t_sieve_data", 1000, 0),
        c("t_sieve_data", SIEVE_MAX, 0),
        c("t_fnptr", 0, 11),
        c("t_fnptr", 1, 11),
        c("t_fnptr", 2, -11),
        c("t_fnptr", 5, 40),
        c("t_reloc", 0, 0),
        c("t_reloc", 3, 0),
        c("t_reloc", 5, 0),
        c("t_narrow", 0x1234_5680, 0x7_fff1),
        c("t_narrow", -1, -1),
        c("t_narrow", 127, 65535),
        c("t_divrem", 100, 7),
        c("t_divrem", -100, 7),
        c("t_divrem", 100, -7),
        c("t_divrem", i64::MIN, 3),
        c("t_divrem", 5, 0),
        c("t_shifts", 0x0123_4567_89ab_cdef, 4),
        c("t_shifts", -12345, 63),
        c("t_shifts", -12345, 64 + 5),
        c("t_cmp", 3, 5),
        c("t_cmp", -3, 5),
        c("t_cmp", 7, 7),
        c("t_cmp", i64::MIN, i64::MAX),
        c("t_i128", i64::MAX, i64::MAX),
        c("t_i128", i64::MIN, 3),
        c("t_i128", -1, -1),
        c("t_record", 1, 2),
        c("t_record", -300, 70_000),
        c("t_switch_dense", 0, 5),
        c("t_switch_dense", 15, 5),
        c("t_switch_dense", 16, 5),
        c("t_switch_dense", -1, 9),
        c("t_switch_dense", 256 + 7, 1),
        c("t_switch_sparse", -7, 2),
        c("t_switch_sparse", 65536, 2),
        c("t_switch_sparse", i64::from(i32::MIN), 2),
        c("t_switch_sparse", 99, 2),
        c("t_select", 3, 9),
        c("t_select", 9, 3),
        c("t_select", -4, -4),
    ]
}

fn fib(n: i64) -> i64 {
    if n < 2 {
        n
    } else {
        fib(n - 1).wrapping_add(fib(n - 2))
    }
}

fn sieve(n: i64) -> i64 {
    let n = n.clamp(0, SIEVE_MAX) as usize;
    let mut composite = vec![false; n];
    let mut count = 0;
    for i in 2..n {
        if !composite[i] {
            count += 1;
            let mut j = i * i;
            while j < n {
                composite[j] = true;
                j += i;
            }
        }
    }
    count
}

const GREETING: &[u8] = b"hello, cfree!\0";

/// The Rust oracle for every entry point.
pub fn oracle(func: &str, a: i64, b: i64) -> i64 {
    match func {
        "t_fib" => fib(a),
        "t_sum_loop" => (0..a).fold(0i64, |acc, i| acc.wrapping_add(i.wrapping_mul(b) ^ (i >> 1))),
        "t_sieve_local" | "t_sieve_data" => sieve(a),
        "t_fnptr" => match a.rem_euclid(3) {
            0 => b.wrapping_mul(b),
            1 => b.wrapping_add(b),
            _ => b.wrapping_neg(),
        },
        "t_reloc" => i64::from(GREETING[7 + a.rem_euclid(6) as usize]),
        "t_narrow" => {
            let s8 = i64::from(a as i8);
            let z16 = i64::from(b as u16);
            let (x, y) = (a as u32, (b as u32) | 1);
            s8.wrapping_mul(1000) + z16 + i64::from(x / y) + i64::from(x % y)
        }
        "t_divrem" => {
            if b == 0 {
                0
            } else {
                let (ua, ub) = (a as u64, b as u64);
                (a / b).wrapping_mul(31).wrapping_add(a % b).wrapping_add(((ua / ub) ^ (ua % ub)) as i64)
            }
        }
        "t_shifts" => {
            let s = (b & 63) as u32;
            ((a << s) ^ ((a as u64) >> s) as i64).wrapping_add(a >> s)
        }
        "t_cmp" => {
            let (ua, ub) = (a as u64, b as u64);
            let bits = [a == b, a != b, a < b, a <= b, a > b, a >= b, ua < ub, ua <= ub, ua > ub, ua >= ub];
            bits.iter().enumerate().map(|(k, &bit)| i64::from(bit) << k).sum()
        }
        "t_i128" => ((i128::from(a) * i128::from(b)) >> 64) as i64,
        "t_record" => {
            // struct { i8 tag; i64 value; i16 small } written then read back.
            i64::from(a as i8) + b + i64::from((a + b) as i16)
        }
        "t_switch_dense" => match a as i8 {
            k @ 0..=15 => (i64::from(k) * 7 + 1) ^ b,
            _ => b.wrapping_sub(a),
        },
        "t_switch_sparse" => match SPARSE_CASES.iter().position(|&c| c == a as i32) {
            Some(k) => (k as i64 * 1000).wrapping_add(b),
            None => -1,
        },
        "t_select" => a.min(b).wrapping_mul(3).wrapping_add(if a == b { 100 } else { -100 }),
        other => panic!("no oracle for {other}"),
    }
}

/// Types used by the suite.
struct Ty {
    i8: TypeId,
    i16: TypeId,
    i32: TypeId,
    i64: TypeId,
    i128: TypeId,
    ptr: TypeId,
}

struct Suite<'a, B: Backend> {
    cg: &'a mut Cg<B>,
    t: Ty,
    entry_sig: TypeId,
    unary_sig: TypeId,
}

/// Emits every entry point (and its helpers and data) into `cg`.
pub fn emit_suite<B: Backend>(cg: &mut Cg<B>) -> Result<()> {
    let t = Ty {
        i8: cg.ty_int(IntWidth::I8)?,
        i16: cg.ty_int(IntWidth::I16)?,
        i32: cg.ty_int(IntWidth::I32)?,
        i64: cg.ty_int(IntWidth::I64)?,
        i128: cg.ty_int(IntWidth::I128)?,
        ptr: {
            let i8t = cg.ty_int(IntWidth::I8)?;
            cg.ty_ptr(i8t, 0)?
        },
    };
    let entry_sig = cg.ty_func(FuncSig::new(&[t.i64, t.i64], Some(t.i64)))?;
    let unary_sig = cg.ty_func(FuncSig::new(&[t.i64], Some(t.i64)))?;
    let mut s = Suite { cg, t, entry_sig, unary_sig };
    s.fib()?;
    s.sum_loop()?;
    s.sieve_local()?;
    s.sieve_data()?;
    s.fnptr()?;
    s.reloc()?;
    s.narrow()?;
    s.divrem()?;
    s.shifts()?;
    s.cmp()?;
    s.i128()?;
    s.record()?;
    s.switch_dense()?;
    s.switch_sparse()?;
    s.select()?;
    Ok(())
}

impl<B: Backend> Suite<'_, B> {
    fn entry(&mut self, name: &str) -> Result<(Local, Local)> {
        let f = self.cg.declare_func(name, FuncDecl::new(self.entry_sig))?;
        self.cg.func_begin(f)?;
        Ok((self.cg.param_slot(0, "a")?, self.cg.param_slot(1, "b")?))
    }

    fn get(&mut self, l: Local, ty: TypeId) -> Result<()> {
        self.cg.push_local(l)?;
        self.cg.load(MemAccess::new(ty))
    }

    /// `l = <value pushed by f>`
    fn set(&mut self, l: Local, ty: TypeId, f: impl FnOnce(&mut Self) -> Result<()>) -> Result<()> {
        self.cg.push_local(l)?;
        f(self)?;
        self.cg.store(MemAccess::new(ty))
    }

    fn int(&mut self, ty: TypeId, v: i128) -> Result<()> {
        self.cg.push_int(ty, v)
    }

    fn op(&mut self, op: IntBinOp) -> Result<()> {
        self.cg.int_op(op, IntFlags::NONE)
    }

    /// Branches to `yes` if `cond` (pushed by f) holds, else falls into a new block.
    fn if_then(&mut self, yes: Label, f: impl FnOnce(&mut Self) -> Result<()>) -> Result<()> {
        f(self)?;
        let no = self.cg.new_label()?;
        self.cg.cond_br(yes, no)?;
        self.cg.place_label(no)
    }

    fn fib(&mut self) -> Result<()> {
        let i64t = self.t.i64;
        let fib = self.cg.declare_func("fib", FuncDecl::new(self.unary_sig).linkage(Linkage::Internal))?;
        self.cg.func_begin(fib)?;
        let n = self.cg.param_slot(0, "n")?;
        let small = self.cg.new_label()?;
        self.if_then(small, |s| {
            s.get(n, i64t)?;
            s.int(i64t, 2)?;
            s.cg.int_cmp(IntCmp::Slt)
        })?;
        self.get(n, i64t)?;
        self.int(i64t, 1)?;
        self.cg.int_op(IntBinOp::Sub, IntFlags::NSW)?;
        self.cg.call(Callee::Direct(fib), 1)?;
        self.get(n, i64t)?;
        self.int(i64t, 2)?;
        self.cg.int_op(IntBinOp::Sub, IntFlags::NSW)?;
        self.cg.call(Callee::Direct(fib), 1)?;
        self.op(IntBinOp::Add)?;
        self.cg.ret()?;
        self.cg.place_label(small)?;
        self.get(n, i64t)?;
        self.cg.ret()?;
        self.cg.func_end()?;

        let (a, _) = self.entry("t_fib")?;
        self.get(a, i64t)?;
        self.cg.call(Callee::Direct(fib), 1)?;
        self.cg.ret()?;
        self.cg.func_end()
    }

    /// `for (i = 0; i < a; i++) acc += (i * b) ^ (i >> 1);`
    fn sum_loop(&mut self) -> Result<()> {
        let i64t = self.t.i64;
        let (a, b) = self.entry("t_sum_loop")?;
        let i = self.cg.local_slot(i64t, "i", 0)?;
        let acc = self.cg.local_slot(i64t, "acc", 0)?;
        self.set(i, i64t, |s| s.int(i64t, 0))?;
        self.set(acc, i64t, |s| s.int(i64t, 0))?;
        let (head, done) = (self.cg.new_label()?, self.cg.new_label()?);
        self.cg.place_label(head)?;
        self.if_then(done, |s| {
            s.get(i, i64t)?;
            s.get(a, i64t)?;
            s.cg.int_cmp(IntCmp::Sge)
        })?;
        self.set(acc, i64t, |s| {
            s.get(acc, i64t)?;
            s.get(i, i64t)?;
            s.get(b, i64t)?;
            s.op(IntBinOp::Mul)?;
            s.get(i, i64t)?;
            s.int(i64t, 1)?;
            s.op(IntBinOp::AShr)?;
            s.op(IntBinOp::Xor)?;
            s.op(IntBinOp::Add)
        })?;
        self.set(i, i64t, |s| {
            s.get(i, i64t)?;
            s.int(i64t, 1)?;
            s.cg.int_op(IntBinOp::Add, IntFlags::NSW)
        })?;
        self.cg.br(head)?;
        self.cg.place_label(done)?;
        self.get(acc, i64t)?;
        self.cg.ret()?;
        self.cg.func_end()
    }

    /// Counts primes below `limit` (an i64 local) in a byte buffer whose
    /// address `push_buf` pushes as a pointer value. Clears the buffer first.
    fn sieve_body(&mut self, limit: Local, push_buf: &dyn Fn(&mut Self) -> Result<()>) -> Result<()> {
        let (i8t, i64t) = (self.t.i8, self.t.i64);
        let i = self.cg.local_slot(i64t, "i", 0)?;
        let j = self.cg.local_slot(i64t, "j", 0)?;
        let count = self.cg.local_slot(i64t, "count", 0)?;
        // buf[k] for the k in local `idx`, as a place of type i8.
        let elem = |s: &mut Self, idx: Local| -> Result<()> {
            push_buf(s)?;
            s.cg.cast(CastOp::PtrToInt, i64t)?;
            s.get(idx, i64t)?;
            s.op(IntBinOp::Add)?;
            s.cg.cast(CastOp::IntToPtr, s.t.ptr)?;
            s.cg.deref(i8t)
        };
        // clear: for (i = 0; i < limit; i++) buf[i] = 0;
        self.set(i, i64t, |s| s.int(i64t, 0))?;
        let (clear, cleared) = (self.cg.new_label()?, self.cg.new_label()?);
        self.cg.place_label(clear)?;
        self.if_then(cleared, |s| {
            s.get(i, i64t)?;
            s.get(limit, i64t)?;
            s.cg.int_cmp(IntCmp::Sge)
        })?;
        elem(self, i)?;
        self.int(i8t, 0)?;
        self.cg.store(MemAccess::new(i8t))?;
        self.set(i, i64t, |s| {
            s.get(i, i64t)?;
            s.int(i64t, 1)?;
            s.op(IntBinOp::Add)
        })?;
        self.cg.br(clear)?;
        self.cg.place_label(cleared)?;

        self.set(count, i64t, |s| s.int(i64t, 0))?;
        self.set(i, i64t, |s| s.int(i64t, 2))?;
        let (outer, next, inner, done) =
            (self.cg.new_label()?, self.cg.new_label()?, self.cg.new_label()?, self.cg.new_label()?);
        self.cg.place_label(outer)?;
        self.if_then(done, |s| {
            s.get(i, i64t)?;
            s.get(limit, i64t)?;
            s.cg.int_cmp(IntCmp::Sge)
        })?;
        self.if_then(next, |s| {
            elem(s, i)?;
            s.cg.load(MemAccess::new(i8t))?;
            s.int(i8t, 0)?;
            s.cg.int_cmp(IntCmp::Ne)
        })?;
        self.set(count, i64t, |s| {
            s.get(count, i64t)?;
            s.int(i64t, 1)?;
            s.op(IntBinOp::Add)
        })?;
        self.set(j, i64t, |s| {
            s.get(i, i64t)?;
            s.get(i, i64t)?;
            s.op(IntBinOp::Mul)
        })?;
        self.cg.place_label(inner)?;
        self.if_then(next, |s| {
            s.get(j, i64t)?;
            s.get(limit, i64t)?;
            s.cg.int_cmp(IntCmp::Sge)
        })?;
        elem(self, j)?;
        self.int(i8t, 1)?;
        self.cg.store(MemAccess::new(i8t))?;
        self.set(j, i64t, |s| {
            s.get(j, i64t)?;
            s.get(i, i64t)?;
            s.op(IntBinOp::Add)
        })?;
        self.cg.br(inner)?;
        self.cg.place_label(next)?;
        self.set(i, i64t, |s| {
            s.get(i, i64t)?;
            s.int(i64t, 1)?;
            s.op(IntBinOp::Add)
        })?;
        self.cg.br(outer)?;
        self.cg.place_label(done)?;
        self.get(count, i64t)?;
        self.cg.ret()?;
        self.cg.func_end()
    }

    fn sieve_local(&mut self) -> Result<()> {
        let buf_ty = self.cg.ty_array(self.t.i8, SIEVE_MAX as u64)?;
        let (a, _) = self.entry("t_sieve_local")?;
        let buf = self.cg.local_slot(buf_ty, "buf", 16)?;
        self.sieve_body(a, &|s| {
            s.cg.push_local(buf)?;
            s.cg.addr_of()
        })
    }

    fn sieve_data(&mut self) -> Result<()> {
        let buf_ty = self.cg.ty_array(self.t.i8, SIEVE_MAX as u64)?;
        let buf = self.cg.declare_data("sieve_buf", DataDecl::new(buf_ty).linkage(Linkage::Internal))?;
        self.cg.define_data(buf, &DataInit::zeroed(SIEVE_MAX as u64))?;
        let (a, _) = self.entry("t_sieve_data")?;
        self.sieve_body(a, &|s| s.cg.push_sym_addr(buf))
    }

    fn unary(&mut self, name: &str, body: impl FnOnce(&mut Self, Local) -> Result<()>) -> Result<Sym> {
        let f = self.cg.declare_func(name, FuncDecl::new(self.unary_sig).linkage(Linkage::Internal))?;
        self.cg.func_begin(f)?;
        let x = self.cg.param_slot(0, "x")?;
        body(self, x)?;
        self.cg.ret()?;
        self.cg.func_end()?;
        Ok(f)
    }

    /// Calls one of three functions through a table of relocated pointers.
    fn fnptr(&mut self) -> Result<()> {
        let i64t = self.t.i64;
        let sq = self.unary("square", |s, x| {
            s.get(x, i64t)?;
            s.get(x, i64t)?;
            s.op(IntBinOp::Mul)
        })?;
        let dbl = self.unary("double", |s, x| {
            s.get(x, i64t)?;
            s.get(x, i64t)?;
            s.op(IntBinOp::Add)
        })?;
        let neg = self.unary("negate", |s, x| {
            s.int(i64t, 0)?;
            s.get(x, i64t)?;
            s.op(IntBinOp::Sub)
        })?;
        let table_ty = self.cg.ty_array(self.t.ptr, 3)?;
        let table = self.cg.declare_data("fn_table", DataDecl::new(table_ty).readonly())?;
        self.cg.define_data(table, &DataInit::new().reloc(sq, 0).reloc(dbl, 0).reloc(neg, 0))?;
        let ptr_size = self.cg.target().pointer.size as i64;
        let unary_sig = self.unary_sig;
        let (a, b) = self.entry("t_fnptr")?;
        // idx = ((a % 3) + 3) % 3, so negative a works too.
        let idx = self.cg.local_slot(i64t, "idx", 0)?;
        self.set(idx, i64t, |s| {
            s.get(a, i64t)?;
            s.int(i64t, 3)?;
            s.op(IntBinOp::SRem)?;
            s.int(i64t, 3)?;
            s.op(IntBinOp::Add)?;
            s.int(i64t, 3)?;
            s.op(IntBinOp::SRem)
        })?;
        // callee = *(ptr*)((char*)&fn_table + idx * sizeof(ptr))
        self.cg.push_sym_addr(table)?;
        self.cg.cast(CastOp::PtrToInt, i64t)?;
        self.get(idx, i64t)?;
        self.int(i64t, i128::from(ptr_size))?;
        self.op(IntBinOp::Mul)?;
        self.op(IntBinOp::Add)?;
        self.cg.cast(CastOp::IntToPtr, self.t.ptr)?;
        self.cg.load(MemAccess::new(self.t.ptr))?;
        self.get(b, i64t)?;
        self.cg.call(Callee::Indirect(unary_sig), 1)?;
        self.cg.ret()?;
        self.cg.func_end()
    }

    /// Reads a byte through a pointer stored in data (a relocation with an addend).
    fn reloc(&mut self) -> Result<()> {
        let (i8t, i64t, ptr) = (self.t.i8, self.t.i64, self.t.ptr);
        let text_ty = self.cg.ty_array(i8t, GREETING.len() as u64)?;
        let text = self.cg.declare_data("greeting", DataDecl::new(text_ty).readonly())?;
        self.cg.define_data(text, &DataInit::new().bytes(GREETING))?;
        let gp = self.cg.declare_data("greeting_tail", DataDecl::new(ptr))?;
        self.cg.define_data(gp, &DataInit::new().reloc(text, 7))?;
        let (a, _) = self.entry("t_reloc")?;
        // *(greeting_tail + ((a % 6 + 6) % 6))
        self.cg.push_global(gp)?;
        self.cg.load(MemAccess::new(ptr))?;
        self.cg.cast(CastOp::PtrToInt, i64t)?;
        self.get(a, i64t)?;
        self.int(i64t, 6)?;
        self.op(IntBinOp::SRem)?;
        self.int(i64t, 6)?;
        self.op(IntBinOp::Add)?;
        self.int(i64t, 6)?;
        self.op(IntBinOp::SRem)?;
        self.op(IntBinOp::Add)?;
        self.cg.cast(CastOp::IntToPtr, ptr)?;
        self.cg.load(MemAccess::new(i8t).align(1))?;
        self.cg.cast(CastOp::ZExt, i64t)?;
        self.cg.ret()?;
        self.cg.func_end()
    }

    fn narrow(&mut self) -> Result<()> {
        let t = self.copy_types();
        let (a, b) = self.entry("t_narrow")?;
        // sext8(trunc8(a)) * 1000
        self.get(a, t.i64)?;
        self.cg.cast(CastOp::Trunc, t.i8)?;
        self.cg.cast(CastOp::SExt, t.i64)?;
        self.int(t.i64, 1000)?;
        self.op(IntBinOp::Mul)?;
        // + zext16(trunc16(b))
        self.get(b, t.i64)?;
        self.cg.cast(CastOp::Trunc, t.i16)?;
        self.cg.cast(CastOp::ZExt, t.i64)?;
        self.op(IntBinOp::Add)?;
        // + zext(x udiv y) + zext(x urem y), x = trunc32(a), y = trunc32(b) | 1
        for op in [IntBinOp::UDiv, IntBinOp::URem] {
            self.get(a, t.i64)?;
            self.cg.cast(CastOp::Trunc, t.i32)?;
            self.get(b, t.i64)?;
            self.cg.cast(CastOp::Trunc, t.i32)?;
            self.int(t.i32, 1)?;
            self.op(IntBinOp::Or)?;
            self.op(op)?;
            self.cg.cast(CastOp::ZExt, t.i64)?;
            self.op(IntBinOp::Add)?;
        }
        self.cg.ret()?;
        self.cg.func_end()
    }

    fn copy_types(&self) -> Ty {
        let t = &self.t;
        Ty { i8: t.i8, i16: t.i16, i32: t.i32, i64: t.i64, i128: t.i128, ptr: t.ptr }
    }

    fn divrem(&mut self) -> Result<()> {
        let i64t = self.t.i64;
        let (a, b) = self.entry("t_divrem")?;
        let zero = self.cg.new_label()?;
        self.if_then(zero, |s| {
            s.get(b, i64t)?;
            s.int(i64t, 0)?;
            s.cg.int_cmp(IntCmp::Eq)
        })?;
        let pair = |s: &mut Self, op| -> Result<()> {
            s.get(a, i64t)?;
            s.get(b, i64t)?;
            s.op(op)
        };
        pair(self, IntBinOp::SDiv)?;
        self.int(i64t, 31)?;
        self.op(IntBinOp::Mul)?;
        pair(self, IntBinOp::SRem)?;
        self.op(IntBinOp::Add)?;
        pair(self, IntBinOp::UDiv)?;
        pair(self, IntBinOp::URem)?;
        self.op(IntBinOp::Xor)?;
        self.op(IntBinOp::Add)?;
        self.cg.ret()?;
        self.cg.place_label(zero)?;
        self.int(i64t, 0)?;
        self.cg.ret()?;
        self.cg.func_end()
    }

    fn shifts(&mut self) -> Result<()> {
        let i64t = self.t.i64;
        let (a, b) = self.entry("t_shifts")?;
        let sh = self.cg.local_slot(i64t, "sh", 0)?;
        self.set(sh, i64t, |s| {
            s.get(b, i64t)?;
            s.int(i64t, 63)?;
            s.op(IntBinOp::And)
        })?;
        // (a << sh ^ a >>> sh) + (a >> sh)
        self.get(a, i64t)?;
        self.get(sh, i64t)?;
        self.op(IntBinOp::Shl)?;
        self.get(a, i64t)?;
        self.get(sh, i64t)?;
        self.op(IntBinOp::LShr)?;
        self.op(IntBinOp::Xor)?;
        self.get(a, i64t)?;
        self.get(sh, i64t)?;
        self.op(IntBinOp::AShr)?;
        self.op(IntBinOp::Add)?;
        self.cg.ret()?;
        self.cg.func_end()
    }

    /// `switch (a as i8)` over the dense cases 0..=15 (a jump table): `(k * 7 + 1) ^ b`; else `b - a`.
    fn switch_dense(&mut self) -> Result<()> {
        let (i8t, i64t) = (self.t.i8, self.t.i64);
        let (a, b) = self.entry("t_switch_dense")?;
        let default = self.cg.new_label()?;
        let labels: Vec<Label> = (0..16).map(|_| self.cg.new_label()).collect::<Result<_>>()?;
        self.get(a, i64t)?;
        self.cg.cast(CastOp::Trunc, i8t)?;
        let cases: Vec<(i128, Label)> = labels.iter().enumerate().map(|(k, l)| (k as i128, *l)).collect();
        self.cg.switch(default, &cases)?;
        for (k, l) in labels.into_iter().enumerate() {
            self.cg.place_label(l)?;
            self.int(i64t, k as i128 * 7 + 1)?;
            self.get(b, i64t)?;
            self.op(IntBinOp::Xor)?;
            self.cg.ret()?;
        }
        self.cg.place_label(default)?;
        self.get(b, i64t)?;
        self.get(a, i64t)?;
        self.op(IntBinOp::Sub)?;
        self.cg.ret()?;
        self.cg.func_end()
    }

    /// `switch (a as i32)` over [`SPARSE_CASES`] (a compare tree): `k * 1000 + b`; else -1.
    fn switch_sparse(&mut self) -> Result<()> {
        let (i32t, i64t) = (self.t.i32, self.t.i64);
        let (a, b) = self.entry("t_switch_sparse")?;
        let default = self.cg.new_label()?;
        let labels: Vec<Label> = SPARSE_CASES.iter().map(|_| self.cg.new_label()).collect::<Result<_>>()?;
        self.get(a, i64t)?;
        self.cg.cast(CastOp::Trunc, i32t)?;
        let cases: Vec<(i128, Label)> = SPARSE_CASES.iter().zip(&labels).map(|(v, l)| (i128::from(*v), *l)).collect();
        self.cg.switch(default, &cases)?;
        for (k, l) in labels.into_iter().enumerate() {
            self.cg.place_label(l)?;
            self.int(i64t, k as i128 * 1000)?;
            self.get(b, i64t)?;
            self.op(IntBinOp::Add)?;
            self.cg.ret()?;
        }
        self.cg.place_label(default)?;
        self.int(i64t, -1)?;
        self.cg.ret()?;
        self.cg.func_end()
    }

    /// `min(a, b) * 3 + (a == b ? 100 : -100)`, both choices by `select`.
    fn select(&mut self) -> Result<()> {
        let i64t = self.t.i64;
        let (a, b) = self.entry("t_select")?;
        self.get(a, i64t)?;
        self.get(b, i64t)?;
        self.get(a, i64t)?;
        self.get(b, i64t)?;
        self.cg.int_cmp(IntCmp::Slt)?;
        self.cg.select()?;
        self.int(i64t, 3)?;
        self.op(IntBinOp::Mul)?;
        self.int(i64t, 100)?;
        self.int(i64t, -100)?;
        self.get(a, i64t)?;
        self.get(b, i64t)?;
        self.cg.int_cmp(IntCmp::Eq)?;
        self.cg.select()?;
        self.op(IntBinOp::Add)?;
        self.cg.ret()?;
        self.cg.func_end()
    }

    fn cmp(&mut self) -> Result<()> {
        let i64t = self.t.i64;
        let (a, b) = self.entry("t_cmp")?;
        self.int(i64t, 0)?;
        let preds = [
            IntCmp::Eq,
            IntCmp::Ne,
            IntCmp::Slt,
            IntCmp::Sle,
            IntCmp::Sgt,
            IntCmp::Sge,
            IntCmp::Ult,
            IntCmp::Ule,
            IntCmp::Ugt,
            IntCmp::Uge,
        ];
        for (k, p) in preds.into_iter().enumerate() {
            self.get(a, i64t)?;
            self.get(b, i64t)?;
            self.cg.int_cmp(p)?;
            self.cg.cast(CastOp::ZExt, i64t)?;
            self.int(i64t, k as i128)?;
            self.op(IntBinOp::Shl)?;
            self.op(IntBinOp::Or)?;
        }
        self.cg.ret()?;
        self.cg.func_end()
    }

    /// High 64 bits of the 128-bit signed product.
    fn i128(&mut self) -> Result<()> {
        let (i64t, i128t) = (self.t.i64, self.t.i128);
        let (a, b) = self.entry("t_i128")?;
        self.get(a, i64t)?;
        self.cg.cast(CastOp::SExt, i128t)?;
        self.get(b, i64t)?;
        self.cg.cast(CastOp::SExt, i128t)?;
        self.op(IntBinOp::Mul)?;
        self.int(i128t, 64)?;
        self.op(IntBinOp::AShr)?;
        self.cg.cast(CastOp::Trunc, i64t)?;
        self.cg.ret()?;
        self.cg.func_end()
    }

    /// Writes the fields of `struct { i8 tag; i64 value; i16 small; }` through
    /// `addr_offset` at the facade's natural-layout offsets and reads them back.
    fn record(&mut self) -> Result<()> {
        let t = self.copy_types();
        let rec = self.cg.ty_record(&[t.i8, t.i64, t.i16])?;
        let offs: Vec<i64> = (0..3).map(|i| self.cg.field_offset(rec, i).map(|o| o as i64)).collect::<Result<_>>()?;
        let (a, b) = self.entry("t_record")?;
        let r = self.cg.local_slot(rec, "r", 0)?;
        let fields = [(offs[0], t.i8), (offs[1], t.i64), (offs[2], t.i16)];
        for (k, (off, ty)) in fields.into_iter().enumerate() {
            self.cg.push_local(r)?;
            self.cg.addr_offset(off, ty)?;
            match k {
                0 => {
                    self.get(a, t.i64)?;
                    self.cg.cast(CastOp::Trunc, t.i8)?;
                }
                1 => self.get(b, t.i64)?,
                _ => {
                    self.get(a, t.i64)?;
                    self.get(b, t.i64)?;
                    self.op(IntBinOp::Add)?;
                    self.cg.cast(CastOp::Trunc, t.i16)?;
                }
            }
            self.cg.store(MemAccess::new(ty))?;
        }
        self.int(t.i64, 0)?;
        for (off, ty) in fields {
            self.cg.push_local(r)?;
            self.cg.addr_offset(off, ty)?;
            self.cg.load(MemAccess::new(ty))?;
            if ty != t.i64 {
                self.cg.cast(CastOp::SExt, t.i64)?;
            }
            self.op(IntBinOp::Add)?;
        }
        self.cg.ret()?;
        self.cg.func_end()
    }
}
