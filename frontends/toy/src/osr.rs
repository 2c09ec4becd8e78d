//! On-stack replacement points of the tiered JIT (`doc/toy.md`, "On-stack
//! replacement"): which loops a base-tier frame may leave for the top tier,
//! and the names of the top tier's functions that continue there.
//!
//! An OSR loop is a `while` or `for` loop outside any other loop of a
//! function without `defer`. At its head only the function's variables are
//! live, and for a `for` loop its hidden counter and bound (no pending
//! defers, no enclosing loop's state), so the top tier can continue the
//! function there from those values alone.

use crate::typed::{Function, Stmt, StmtKind, TypedProgram};

/// The top tier's function that continues `function` at the head of its
/// `k`-th OSR loop: `toy_f.osr.k(ctx, every variable of f, counter, bound)`
/// (the last two a `for` loop's, 0 for a `while` loop), with `f`'s result.
pub fn symbol(function: &str, k: u32) -> String {
    format!("toy_{function}.osr.{k}")
}

/// The host table of the top tier's OSR entries, one word per OSR loop of
/// the program (0 until the top tier is in place).
pub const TABLE_SYMBOL: &str = "toy.osr.table";

/// How many OSR loops `f` has, in the order code generation meets them.
pub fn loops(f: &Function) -> u32 {
    fn count(stmts: &[Stmt]) -> u32 {
        stmts
            .iter()
            .map(|s| match &s.kind {
                StmtKind::While { .. } | StmtKind::For { .. } => 1,
                StmtKind::If { then_block, else_block, .. } => count(then_block) + count(else_block),
                _ => 0,
            })
            .sum()
    }
    if f.defers > 0 {
        0
    } else {
        count(&f.body)
    }
}

/// The program's OSR entries in table order: function by function, each
/// function's loops in order.
pub fn entries(p: &TypedProgram) -> Vec<String> {
    p.functions.iter().flat_map(|f| (0..loops(f)).map(move |k| symbol(&f.name, k))).collect()
}

/// The table index of each function's first OSR loop.
pub fn first_indices(p: &TypedProgram) -> Vec<u32> {
    p.functions
        .iter()
        .scan(0u32, |next, f| {
            let first = *next;
            *next += loops(f);
            Some(first)
        })
        .collect()
}
