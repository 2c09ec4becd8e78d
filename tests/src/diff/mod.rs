//! Differential testing of operation semantics. Every operation is compiled
//! into a *kernel* that applies it to a table of inputs, and into a *folded*
//! kernel with the same inputs as constants (so LLVM's constant folder is
//! tested too). Kernels run in the JIT and as AOT binaries on other targets;
//! every result is compared with Rust's own semantics ([`oracle`]).
//!
//! Kernel ABI (one for all operations, so one C driver serves every target):
//! `void k(const u8 *in, u8 *out, i64 n)`: case `i` reads its operands from
//! 16-byte slots at `in + i * 16 * nargs` and writes its results to 16-byte
//! slots at `out + i * 16 * nresults`, each value little-endian at its width.
//! Folded kernels are `void c(u8 *out)`.

pub mod catalog;
pub mod emit;
pub mod oracle;
pub mod run;

use cfree_facade::{CastOp, CheckedOp, FloatBinOp, FloatCmp, FloatUnOp, IntBinOp, IntCmp, IntFlags, IntUnOp};

/// A scalar type of the harness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum S {
    /// Integer of this many bits (1, 8, 16, 32, 64, 128).
    I(u32),
    /// IEEE binary32.
    F32,
    /// IEEE binary64.
    F64,
}

impl S {
    /// Width in bits.
    pub fn bits(self) -> u32 {
        match self {
            S::I(b) => b,
            S::F32 => 32,
            S::F64 => 64,
        }
    }

    /// Bytes a value occupies in its slot (i1 takes one byte).
    pub fn bytes(self) -> usize {
        self.bits().div_ceil(8) as usize
    }

    /// Mask of the value's bits.
    pub fn mask(self) -> u128 {
        if self.bits() == 128 {
            u128::MAX
        } else {
            (1u128 << self.bits()) - 1
        }
    }

    /// Short name for kernel names.
    pub fn tag(self) -> String {
        match self {
            S::I(b) => format!("i{b}"),
            S::F32 => "f32".into(),
            S::F64 => "f64".into(),
        }
    }
}

/// An operation under test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    /// `int_op`.
    Int(IntBinOp),
    /// `int_unop`.
    IntUn(IntUnOp),
    /// `checked`.
    Checked(CheckedOp),
    /// `int_cmp`.
    ICmp(IntCmp),
    /// `cast` to the result type.
    Cast(CastOp),
    /// `cast_checked` (FPToSI or FPToUI) to the first result type.
    CastChecked(CastOp),
    /// `float_op`.
    FBin(FloatBinOp),
    /// `float_unop`.
    FUn(FloatUnOp),
    /// `fma`.
    Fma,
    /// `float_cmp`.
    FCmp(FloatCmp),
    /// `int_op` with facts (`nsw`/`nuw`/`exact`), on inputs where the facts hold.
    IntFlagged(IntBinOp, IntFlags),
    /// `float_op` with `nnan | ninf`, on inputs and results that are finite.
    FBinFinite(FloatBinOp),
}

/// One operation at given operand and result types, with its inputs.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Kernel name (a valid C identifier).
    pub name: String,
    /// The operation.
    pub op: Op,
    /// Operand types.
    pub args: Vec<S>,
    /// Result types.
    pub results: Vec<S>,
    /// Input tuples for which the operation is defined.
    pub inputs: Vec<Vec<u128>>,
}

/// Slot size in bytes.
pub const SLOT: usize = 16;

impl Spec {
    /// Encodes the inputs as the kernel reads them.
    pub fn encode_inputs(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.inputs.len() * SLOT * self.args.len()];
        for (i, tuple) in self.inputs.iter().enumerate() {
            for (k, v) in tuple.iter().enumerate() {
                let at = (i * self.args.len() + k) * SLOT;
                out[at..at + SLOT].copy_from_slice(&v.to_le_bytes());
            }
        }
        out
    }

    /// Size of the output buffer.
    pub fn output_len(&self) -> usize {
        self.inputs.len() * SLOT * self.results.len()
    }

    /// Decodes result `j` of case `i`.
    pub fn decode(&self, out: &[u8], i: usize, j: usize) -> u128 {
        let at = (i * self.results.len() + j) * SLOT;
        let ty = self.results[j];
        let mut b = [0u8; 16];
        b[..ty.bytes()].copy_from_slice(&out[at..at + ty.bytes()]);
        u128::from_le_bytes(b) & ty.mask()
    }

    /// Compares every case's results with the oracle; returns the mismatches.
    pub fn check(&self, out: &[u8], path: &str) -> Vec<String> {
        let mut bad = Vec::new();
        for (i, args) in self.inputs.iter().enumerate() {
            let expected = oracle::eval(self.op, &self.args, &self.results, args).expect("inputs are defined");
            for (j, want) in expected.iter().enumerate() {
                let got = self.decode(out, i, j);
                if !oracle::same(self.op, self.results[j], args, *want, got) {
                    bad.push(format!(
                        "{path}: {} {:?} result {j}: expected {want:#x}, got {got:#x}",
                        self.name,
                        args.iter().map(|a| format!("{a:#x}")).collect::<Vec<_>>()
                    ));
                }
            }
        }
        bad
    }
}
