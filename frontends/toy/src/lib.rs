//! `cfree-toy`: the front half of Toy, a small statically typed,
//! garbage-collected language (grammar and semantics in `doc/toy.md` in the
//! repository).
//!
//! [`check`] lexes, parses and type-checks one source file and returns a
//! [`TypedProgram`]: every expression typed, operators resolved, variables
//! numbered, fields located in a word layout with reference fields first.
//! [`codegen`] lowers that program through the CG facade (managed code with
//! GC safepoints), and [`jit`] runs it in the JIT with the `cfree-toy-rt`
//! runtime (a moving collector whose roots come only from stack maps).
//!
//! ```
//! use cfree_toy::typed::{ExprKind, StmtKind, TypeId};
//!
//! let source = "
//!     type Node { next: Node, value: int }
//!     fn main(n: int) -> int {
//!         let list = new Node { next: nil, value: n };
//!         return list.value;
//!     }";
//! let program = cfree_toy::check("list.toy", source).expect("no errors");
//! let node = &program.records[0];
//! assert_eq!((node.fields[1].name.as_str(), node.fields[1].offset), ("value", 8));
//! let main = program.function(program.main);
//! assert!(main.locals[1].is_ref); // `list`, after the parameter `n`
//! let StmtKind::Return(Some(value)) = &main.body[1].kind else { panic!() };
//! assert!(matches!(value.kind, ExprKind::Field { .. }) && value.ty == TypeId::INT);
//!
//! let errors = cfree_toy::check("bad.toy", "fn main(n: int) -> int { return m; }").unwrap_err();
//! assert_eq!(errors[0].to_string(), "bad.toy:1:33: error: unknown variable `m`");
//! ```

#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod aot;
pub mod ast;
pub mod codegen;
pub mod diag;
pub mod jit;
pub mod lexer;
pub mod osr;
pub mod parser;
pub mod typed;
mod types;

pub use diag::{Diagnostic, Span};
pub use typed::TypedProgram;

/// Checks one Toy source file. `file_name` is used only in diagnostics.
///
/// Lexical and syntax errors stop at the first one; type errors are all
/// reported, in source order within each function. Never panics, whatever
/// the input.
pub fn check(file_name: &str, source: &str) -> Result<TypedProgram, Vec<Diagnostic>> {
    let lines = diag::LineIndex::new(source);
    if u32::try_from(source.len()).is_err() {
        return Err(vec![lines.diagnostic(file_name, 0, "source file is too large (4 GiB or more)")]);
    }
    let tokens = lexer::tokenize(source).map_err(|e| vec![lines.diagnostic(file_name, e.offset as u32, e.message)])?;
    let program = parser::parse(&tokens).map_err(|e| vec![lines.diagnostic(file_name, e.offset as u32, e.message)])?;
    types::check_program(file_name, &lines, &program)
}
