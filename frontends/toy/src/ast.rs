//! The untyped syntax tree produced by the parser.
//!
//! Names are unresolved strings; every node keeps the span the type checker
//! needs for its diagnostics. The checker turns this tree into a
//! [`crate::typed::TypedProgram`].

use crate::diag::Span;

/// A name and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A whole source file: declarations in source order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Program {
    /// `type` declarations.
    pub records: Vec<RecordDecl>,
    /// `fn` declarations.
    pub functions: Vec<FnDecl>,
    /// Module-level `let` declarations (globals).
    pub globals: Vec<GlobalDecl>,
}

/// `let name[: ty] = init;` at module level: a global variable, initialised
/// before `main` runs, in source order.
#[derive(Clone, Debug, PartialEq)]
pub struct GlobalDecl {
    /// The variable.
    pub name: Ident,
    /// The annotation, if written.
    pub ty: Option<TypeExpr>,
    /// The initializer.
    pub init: Expr,
}

/// `type Name { field: T, ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct RecordDecl {
    /// The record's name.
    pub name: Ident,
    /// Fields in declaration order.
    pub fields: Vec<(Ident, TypeExpr)>,
}

/// A written type.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    /// Which type.
    pub kind: TypeExprKind,
    /// Where it was written.
    pub span: Span,
}

/// The forms of [`TypeExpr`].
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// `int`
    Int,
    /// `float`
    Float,
    /// `bool`
    Bool,
    /// A record name.
    Named(String),
    /// `[T]`
    Array(Box<TypeExpr>),
}

/// `fn name(params) -> ret { body }`
#[derive(Clone, Debug, PartialEq)]
pub struct FnDecl {
    /// The function's name.
    pub name: Ident,
    /// Parameters in order.
    pub params: Vec<(Ident, TypeExpr)>,
    /// The return type; `None` for a function that returns no value.
    pub ret: Option<TypeExpr>,
    /// The body.
    pub body: Block,
}

/// `{ stmt* }`
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// Statements in order.
    pub stmts: Vec<Stmt>,
    /// From `{` to `}`.
    pub span: Span,
}

/// A statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// Which statement.
    pub kind: StmtKind,
    /// From its first token to its last.
    pub span: Span,
}

/// The forms of [`Stmt`].
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `let name[: ty] = init;`
    Let {
        /// The new variable.
        name: Ident,
        /// The annotation, if written.
        ty: Option<TypeExpr>,
        /// The initializer.
        init: Expr,
    },
    /// `target = value;` (the checker requires a variable, field or element).
    Assign {
        /// The place assigned to.
        target: Expr,
        /// The value stored.
        value: Expr,
    },
    /// `if cond { } [else { }]`; `else if` is an else block holding one `if`.
    If {
        /// The condition.
        cond: Expr,
        /// Taken when the condition holds.
        then_block: Block,
        /// Taken otherwise.
        else_block: Option<Block>,
    },
    /// `while cond { }`
    While {
        /// The condition, tested before each iteration.
        cond: Expr,
        /// The loop body.
        body: Block,
    },
    /// `for var in start..end { }`
    For {
        /// The loop variable, a new `int` visible in the body.
        var: Ident,
        /// The first value.
        start: Expr,
        /// The bound (excluded).
        end: Expr,
        /// The loop body.
        body: Block,
    },
    /// `break;`
    Break,
    /// `continue;`
    Continue,
    /// `return [value];`
    Return(Option<Expr>),
    /// `print(arg, ...);`
    Print(Vec<PrintArg>),
    /// `panic(args);` (the checker wants one string literal).
    Panic(Vec<PrintArg>),
    /// `defer expr;` (the checker wants a call of a user function, at a
    /// function body's top level).
    Defer(Expr),
    /// `expr;` (the checker allows only calls of user functions).
    Expr(Expr),
}

/// One argument of `print`.
#[derive(Clone, Debug, PartialEq)]
pub enum PrintArg {
    /// A string literal, escapes resolved.
    Str(String),
    /// A value.
    Expr(Expr),
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// Which expression.
    pub kind: ExprKind,
    /// From its first token to its last.
    pub span: Span,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    And,
    /// `||`
    Or,
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `<<`
    Shl,
    /// `>>` (arithmetic)
    Shr,
    /// `>>>` (logical)
    UShr,
}

impl BinOp {
    /// How the operator is written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::UShr => ">>>",
        }
    }
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `-`
    Neg,
    /// `!`
    Not,
    /// `~` (bitwise complement of an `int`)
    BitNot,
}

/// Built-in functions, written like calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// `len(array)`
    Len,
    /// `int(float)`
    Int,
    /// `float(int)`
    Float,
    /// `recover()`
    Recover,
    /// `join(task)`
    Join,
}

impl Builtin {
    /// How the built-in is written.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Len => "len",
            Builtin::Int => "int",
            Builtin::Float => "float",
            Builtin::Recover => "recover",
            Builtin::Join => "join",
        }
    }
}

/// The forms of [`Expr`].
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// An integer literal (a `-` directly before a literal is folded into it).
    Int(i64),
    /// A float literal.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `nil`
    Nil,
    /// A variable.
    Var(String),
    /// `name(args)`
    Call {
        /// The function called.
        name: Ident,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `spawn name(args)`: the call runs as a task; the value is its handle.
    Spawn {
        /// The function called.
        name: Ident,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `len(..)`, `int(..)`, `float(..)` (argument count checked later).
    Builtin {
        /// Which built-in.
        builtin: Builtin,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `object.field`
    Field {
        /// The record value.
        object: Box<Expr>,
        /// The field's name.
        field: Ident,
    },
    /// `array[index]`
    Index {
        /// The array value.
        array: Box<Expr>,
        /// The element index.
        index: Box<Expr>,
    },
    /// `new Name { field: value, ... }`
    NewRecord {
        /// The record type.
        record: Ident,
        /// Field initializers in source order.
        fields: Vec<(Ident, Expr)>,
    },
    /// `new [T](len)`
    NewArray {
        /// The element type.
        elem: TypeExpr,
        /// The length.
        len: Box<Expr>,
    },
    /// `-e` or `!e`
    Unary {
        /// The operator.
        op: UnOp,
        /// The operand.
        operand: Box<Expr>,
    },
    /// `lhs op rhs`
    Binary {
        /// The operator.
        op: BinOp,
        /// Where the operator was written.
        op_span: Span,
        /// The left operand.
        lhs: Box<Expr>,
        /// The right operand.
        rhs: Box<Expr>,
    },
}
