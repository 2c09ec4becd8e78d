//! The typed program: what the type checker hands to a code generator.
//!
//! Everything a code generator must decide is decided here: every expression
//! carries its type, operators are resolved to their int, float, bool or
//! reference form, variables are function-local slot numbers, calls name the
//! callee by [`FuncId`], field accesses carry the field's index and byte
//! offset, and `nil` carries the reference type its context gives it. A
//! program in this form has no type errors, no [`TypeKind::Error`] types, no
//! unreachable statements, and no function returning a value can fall off its
//! end.
//!
//! # Memory layout
//!
//! Every value occupies one 8-byte word: `int` as `i64`, `float` as `f64`,
//! `bool` as an `i64` holding 0 or 1, a reference as a pointer (`nil` is
//! null). A reference points at the object's first field or length word;
//! anything the runtime needs (GC header, type descriptor) lives at negative
//! offsets, outside this layout.
//!
//! - Record: one word per field, reference fields first, then value fields,
//!   each group in declaration order ([`RecordLayout`]); `size` bytes in all.
//! - Array: the length (`i64`) at offset [`ARRAY_LENGTH_OFFSET`], then element
//!   `i` at `ARRAY_DATA_OFFSET + WORD * i`. Arrays whose element type is a
//!   reference type hold only references.

use crate::diag::{LineIndex, Span};
use std::collections::HashMap;

/// Bytes in a word: the size of every value and of every field or element slot.
pub const WORD: u32 = 8;
/// Offset of an array's length word.
pub const ARRAY_LENGTH_OFFSET: u32 = 0;
/// Offset of an array's first element.
pub const ARRAY_DATA_OFFSET: u32 = WORD;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            /// The position in the table this id indexes.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id!(
    /// A type interned in the program's [`TypeTable`].
    TypeId
);
id!(
    /// A record type: index into [`TypedProgram::records`].
    RecordId
);
id!(
    /// A function: index into [`TypedProgram::functions`].
    FuncId
);
id!(
    /// A variable slot of one function: index into [`Function::locals`].
    /// Parameters are slots `0..params`, in order.
    LocalId
);
id!(
    /// A module-level variable: index into [`TypedProgram::globals`].
    GlobalId
);

impl TypeId {
    /// `int`
    pub const INT: TypeId = TypeId(0);
    /// `float`
    pub const FLOAT: TypeId = TypeId(1);
    /// `bool`
    pub const BOOL: TypeId = TypeId(2);
    /// The type of an erroneous expression, used only while checking.
    pub const ERROR: TypeId = TypeId(3);
}

/// What a [`TypeId`] stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeKind {
    /// `int`: a 64-bit two's complement integer.
    Int,
    /// `float`: an IEEE 754 binary64.
    Float,
    /// `bool`
    Bool,
    /// A reference to a record object, or `nil`.
    Record(RecordId),
    /// A reference to an array object with this element type, or `nil`.
    Array(TypeId),
    /// An erroneous type; never present in a checked program.
    Error,
}

/// Interned types: equal types have equal ids.
#[derive(Clone, Debug)]
pub struct TypeTable {
    kinds: Vec<TypeKind>,
    ids: HashMap<TypeKind, TypeId>,
    record_names: Vec<String>,
}

impl TypeTable {
    /// A table holding the scalar types and [`TypeId::ERROR`] at their fixed ids.
    pub(crate) fn new(record_names: Vec<String>) -> Self {
        let mut table = Self { kinds: Vec::new(), ids: HashMap::new(), record_names };
        for kind in [TypeKind::Int, TypeKind::Float, TypeKind::Bool, TypeKind::Error] {
            table.intern(kind);
        }
        table
    }

    /// The id of `kind`, adding it if new.
    pub(crate) fn intern(&mut self, kind: TypeKind) -> TypeId {
        if let Some(&id) = self.ids.get(&kind) {
            return id;
        }
        let id = TypeId(self.kinds.len() as u32);
        self.kinds.push(kind);
        self.ids.insert(kind, id);
        id
    }

    /// What `ty` stands for.
    pub fn kind(&self, ty: TypeId) -> TypeKind {
        self.kinds[ty.index()]
    }

    /// Whether values of `ty` are references (records and arrays): the
    /// values a garbage collector must find and may move.
    pub fn is_ref(&self, ty: TypeId) -> bool {
        matches!(self.kind(ty), TypeKind::Record(_) | TypeKind::Array(_))
    }

    /// The element type, if `ty` is an array type.
    pub fn array_elem(&self, ty: TypeId) -> Option<TypeId> {
        match self.kind(ty) {
            TypeKind::Array(elem) => Some(elem),
            _ => None,
        }
    }

    /// The record, if `ty` is a record type.
    pub fn record(&self, ty: TypeId) -> Option<RecordId> {
        match self.kind(ty) {
            TypeKind::Record(record) => Some(record),
            _ => None,
        }
    }

    /// Every interned type, indexed by [`TypeId`].
    pub fn iter(&self) -> impl Iterator<Item = (TypeId, TypeKind)> + '_ {
        self.kinds.iter().enumerate().map(|(i, &kind)| (TypeId(i as u32), kind))
    }

    /// The type as written in source: `int`, `Node`, `[[float]]`.
    pub fn name(&self, ty: TypeId) -> String {
        match self.kind(ty) {
            TypeKind::Int => "int".into(),
            TypeKind::Float => "float".into(),
            TypeKind::Bool => "bool".into(),
            TypeKind::Record(record) => self.record_names[record.index()].clone(),
            TypeKind::Array(elem) => format!("[{}]", self.name(elem)),
            TypeKind::Error => "{error}".into(),
        }
    }
}

/// One field of a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldLayout {
    /// The field's name.
    pub name: String,
    /// The field's type.
    pub ty: TypeId,
    /// Whether the field holds a reference.
    pub is_ref: bool,
    /// Byte offset from the object reference: `WORD *` the field's slot.
    pub offset: u32,
}

/// A record type and its object layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordLayout {
    /// The record's name.
    pub name: String,
    /// The record's own type.
    pub ty: TypeId,
    /// Fields in declaration order; a field's index here is its field index.
    pub fields: Vec<FieldLayout>,
    /// How many fields are references: the words at offsets
    /// `0..WORD * ref_fields` are exactly the references of the object.
    pub ref_fields: u32,
    /// Object size in bytes (`WORD *` number of fields; 0 for `type E {}`).
    pub size: u32,
}

/// A field selected by an access: the record, the field's declaration index
/// in [`RecordLayout::fields`], and its byte offset (copied from the layout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldRef {
    /// The record type of the object.
    pub record: RecordId,
    /// Index into [`RecordLayout::fields`].
    pub index: u32,
    /// Byte offset of the field from the object reference.
    pub offset: u32,
}

/// A variable slot: a parameter or a `let`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Local {
    /// The source name (several slots may share it through shadowing).
    pub name: String,
    /// The variable's type.
    pub ty: TypeId,
    /// Whether the slot holds a reference (a GC root while live).
    pub is_ref: bool,
    /// Where it was declared.
    pub span: Span,
}

/// A module-level variable (`let` outside functions). Globals are
/// initialised in source order before `main` runs; until its initializer has
/// run, a global holds 0, `0.0`, `false` or nil.
#[derive(Clone, Debug, PartialEq)]
pub struct Global {
    /// The source name.
    pub name: String,
    /// The variable's type.
    pub ty: TypeId,
    /// Whether it holds a reference (a GC root for the whole run).
    pub is_ref: bool,
    /// Its word in the program's global area: references first
    /// (`0..TypedProgram::global_refs`), then the others, each group in source order.
    pub slot: u32,
    /// The initializer (it may read only the globals declared before it).
    pub init: Expr,
    /// Where the name was written.
    pub span: Span,
}

/// A checked function.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    /// The function's name (also its symbol name).
    pub name: String,
    /// Parameter count; parameters are locals `0..params`.
    pub params: u32,
    /// Every variable slot of the function, parameters first, then each
    /// `let` in source order. Slots are never reused.
    pub locals: Vec<Local>,
    /// The return type, or `None` for a function returning no value.
    pub ret: Option<TypeId>,
    /// The body. If `ret` is `Some`, every path ends in `return`; otherwise a
    /// path may fall off the end, which returns.
    pub body: Vec<Stmt>,
    /// The number of `defer` statements (all at the body's top level).
    pub defers: u32,
    /// Where the function's name was written.
    pub span: Span,
}

impl Function {
    /// The types of the parameters, in order.
    pub fn param_types(&self) -> impl Iterator<Item = TypeId> + '_ {
        self.locals[..self.params as usize].iter().map(|local| local.ty)
    }
}

/// A checked statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// Which statement.
    pub kind: StmtKind,
    /// Where it was written.
    pub span: Span,
}

/// The forms of [`Stmt`].
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// Evaluate `init` and store it in the (new) slot `local`.
    Let {
        /// The slot initialized.
        local: LocalId,
        /// Its value.
        init: Expr,
    },
    /// Evaluate the place's operands (left to right), then `value`, then
    /// check (nil, bounds) and store.
    Assign {
        /// Where to store.
        target: Place,
        /// What to store; its type equals the place's.
        value: Expr,
    },
    /// `if`; `else if` chains appear as an else block holding one `If`.
    If {
        /// A `bool` condition.
        cond: Expr,
        /// Taken when `cond` is true.
        then_block: Vec<Stmt>,
        /// Taken otherwise (empty when there is no `else`).
        else_block: Vec<Stmt>,
    },
    /// `while`: test `cond`, run `body`, repeat.
    While {
        /// A `bool` condition.
        cond: Expr,
        /// The loop body.
        body: Vec<Stmt>,
    },
    /// `for var in start..end`: `start` then `end` are evaluated once (both
    /// `int`); the body runs with `var` = start, start + 1, ..., end - 1
    /// (not at all if `start >= end`). `var` is set from a hidden counter at
    /// the start of each iteration, so assigning to it does not change the
    /// iteration; `continue` goes to the next value.
    For {
        /// The loop variable (a new `int` slot).
        var: LocalId,
        /// The first value.
        start: Expr,
        /// The bound, excluded.
        end: Expr,
        /// The loop body.
        body: Vec<Stmt>,
    },
    /// Leave the innermost loop.
    Break,
    /// Go to the next iteration of the innermost loop (for `while`, its test).
    Continue,
    /// Return, with a value exactly when the function has a return type.
    Return(Option<Expr>),
    /// Evaluate every value argument, left to right, then write all the
    /// arguments and a newline as one line (see [`PrintArg`]): a `print`
    /// inside a function called by an argument writes its own line first.
    Print(Vec<PrintArg>),
    /// A call whose result, if any, is discarded.
    Call {
        /// The callee.
        func: FuncId,
        /// Arguments, evaluated left to right.
        args: Vec<Expr>,
    },
    /// `panic("message")`: like `return`, nothing follows it in its block.
    Panic(String),
    /// `defer func(args);` at a function body's top level: the `index`-th
    /// defer statement of the function, in source order.
    Defer {
        /// Which defer statement of the function (0, 1, ... in source order).
        index: u32,
        /// The callee.
        func: FuncId,
        /// The arguments, evaluated when the statement runs.
        args: Vec<Expr>,
    },
    /// `recover();` as a statement (its result dropped).
    Recover,
}

/// One argument of `print`, with its formatting decided.
#[derive(Clone, Debug, PartialEq)]
pub enum PrintArg {
    /// Text written as is (escapes already resolved; UTF-8).
    Str(String),
    /// An `int`, written in decimal with a leading `-` if negative (`%ld`).
    Int(Expr),
    /// A `float`, written like C's `%.9f`; infinities as `inf`/`-inf`, any
    /// NaN as `nan`.
    Float(Expr),
    /// A `bool`, written `true` or `false`.
    Bool(Expr),
}

/// An assignable location.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    /// Which kind of location.
    pub kind: PlaceKind,
    /// The place's type.
    pub ty: TypeId,
    /// Where it was written.
    pub span: Span,
}

/// The forms of [`Place`].
#[derive(Clone, Debug, PartialEq)]
pub enum PlaceKind {
    /// A variable slot.
    Local(LocalId),
    /// A module-level variable.
    Global(GlobalId),
    /// A field of a record object (`object` may evaluate to nil: a runtime error).
    Field {
        /// The record reference.
        object: Expr,
        /// The field.
        field: FieldRef,
    },
    /// An element of an array (nil and out-of-bounds are runtime errors).
    Index {
        /// The array reference.
        array: Expr,
        /// An `int` index.
        index: Expr,
    },
}

/// A checked expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// Which expression.
    pub kind: ExprKind,
    /// The expression's type (never [`TypeId::ERROR`]).
    pub ty: TypeId,
    /// Where it was written.
    pub span: Span,
}

/// Arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`: truncating for `int`.
    Div,
    /// `%`: remainder with the sign of the dividend (C `%`, `fmod`).
    Rem,
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=` (true for NaN operands)
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// Bitwise operators on `int` (and `&`, `|`, `^` on `bool`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    /// `&`
    And,
    /// `|`
    Or,
    /// `^`
    Xor,
    /// `<<`: the amount is taken modulo 64 (as in Java), so it never fails.
    Shl,
    /// `>>`: arithmetic (sign-filling) shift, amount modulo 64.
    Shr,
    /// `>>>`: logical (zero-filling) shift, amount modulo 64.
    UShr,
}

/// One-operand `float` built-ins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatFn {
    /// `sqrt(x)`: correctly rounded; NaN for negative `x` (but `sqrt(-0.0)` is `-0.0`).
    Sqrt,
    /// `abs(x)`: clears the sign bit.
    Abs,
    /// `floor(x)`: rounds toward negative infinity.
    Floor,
    /// `ceil(x)`: rounds toward positive infinity.
    Ceil,
}

/// The forms of [`Expr`]. Operands are evaluated left to right.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// An `int` constant.
    Int(i64),
    /// A `float` constant.
    Float(f64),
    /// A `bool` constant.
    Bool(bool),
    /// The null reference, of the expression's (reference) type.
    Nil,
    /// The value of a variable slot.
    Local(LocalId),
    /// The value of a module-level variable.
    Global(GlobalId),
    /// A call of a function that returns a value.
    Call {
        /// The callee.
        func: FuncId,
        /// Arguments, evaluated left to right.
        args: Vec<Expr>,
    },
    /// Load a field (nil object: runtime error).
    Field {
        /// The record reference.
        object: Box<Expr>,
        /// The field.
        field: FieldRef,
    },
    /// Load an element (nil array or index outside `0..len`: runtime error).
    Index {
        /// The array reference.
        array: Box<Expr>,
        /// An `int` index.
        index: Box<Expr>,
    },
    /// The length of an array, an `int` (nil: runtime error).
    Len(Box<Expr>),
    /// Allocate a record; every field is initialized. Initializers are
    /// evaluated in source order, each stored to its field.
    NewRecord {
        /// The record type.
        record: RecordId,
        /// `(field index, value)` in source order, each field exactly once.
        fields: Vec<(u32, Expr)>,
    },
    /// Allocate an array of `len` elements, all zero, `0.0`, `false` or nil
    /// (negative length: runtime error). The element type is the array type's.
    NewArray(Box<Expr>),
    /// `int` arithmetic: `+ - *` wrap around; `/` and `%` truncate, and a zero
    /// divisor or `i64::MIN / -1` (and `% -1`) is a runtime error.
    IntArith(ArithOp, Box<Expr>, Box<Expr>),
    /// `float` arithmetic (IEEE 754; `%` is `fmod`).
    FloatArith(ArithOp, Box<Expr>, Box<Expr>),
    /// `-x` on `int`, wrapping.
    IntNeg(Box<Expr>),
    /// `-x` on `float`.
    FloatNeg(Box<Expr>),
    /// A comparison giving `bool`. Both operands have the same type: `int`,
    /// `float` (ordered; `!=` unordered), `bool` (`==`/`!=` only) or a
    /// reference type (`==`/`!=` only: identity).
    Compare(CmpOp, Box<Expr>, Box<Expr>),
    /// `&&`: the right operand is evaluated only if the left is true.
    And(Box<Expr>, Box<Expr>),
    /// `||`: the right operand is evaluated only if the left is false.
    Or(Box<Expr>, Box<Expr>),
    /// `!x`
    Not(Box<Expr>),
    /// `float(i)`: the nearest `float` (round to nearest even).
    IntToFloat(Box<Expr>),
    /// `int(f)`: truncates toward zero, saturating at the `int` range; NaN
    /// gives 0 (Rust's `as`, LLVM's `fptosi.sat`).
    FloatToInt(Box<Expr>),
    /// A bitwise operator; both operands `int`, or both `bool` for `& | ^`.
    Bitwise(BitOp, Box<Expr>, Box<Expr>),
    /// `~x` on `int`.
    BitNot(Box<Expr>),
    /// `sqrt`, `abs`, `floor`, `ceil` of a `float`.
    FloatFn(FloatFn, Box<Expr>),
    /// `abs(i)` of an `int`, wrapping (`abs(MIN)` is `MIN`).
    IntAbs(Box<Expr>),
    /// `min(a, b)` (`max` if the flag is true) of two `int`s, or of two
    /// `float`s with IEEE 754-2019 `minimum`/`maximum`: NaN if either is NaN,
    /// and `-0.0` below `0.0`.
    MinMax(bool, Box<Expr>, Box<Expr>),
    /// `recover()`: `true` if it stopped a panic in flight.
    Recover,
    /// `spawn f(args)`: queues the call as a task and gives its handle, an
    /// `int`. The arguments (at most `cfree_toy_rt::MAX_TASK_ARGS`) are
    /// `int`, `float` or `bool`: a task shares no references with its spawner.
    Spawn {
        /// The function, which returns an `int` or nothing.
        func: FuncId,
        /// The arguments, evaluated by the spawner.
        args: Vec<Expr>,
    },
    /// `join(t)`: the result of task `t` (0 for a function without one),
    /// once it has finished.
    Join(Box<Expr>),
}

/// A checked program, ready for a code generator.
#[derive(Clone, Debug)]
pub struct TypedProgram {
    /// The file name given to [`crate::check`].
    pub file_name: String,
    /// Every type used by the program.
    pub types: TypeTable,
    /// Record types in declaration order.
    pub records: Vec<RecordLayout>,
    /// Functions in declaration order.
    pub functions: Vec<Function>,
    /// Module-level variables in declaration order (the order their
    /// initializers run).
    pub globals: Vec<Global>,
    /// How many globals hold references: they have slots `0..global_refs`.
    pub global_refs: u32,
    /// The entry point, `fn main(n: int) -> int`.
    pub main: FuncId,
    /// Line starts of the source, for runtime error messages.
    pub lines: LineIndex,
}

impl TypedProgram {
    /// The record with this id.
    pub fn record(&self, id: RecordId) -> &RecordLayout {
        &self.records[id.index()]
    }

    /// The field an access selects.
    pub fn field(&self, field: FieldRef) -> &FieldLayout {
        &self.records[field.record.index()].fields[field.index as usize]
    }

    /// The function with this id.
    pub fn function(&self, id: FuncId) -> &Function {
        &self.functions[id.index()]
    }

    /// The global with this id.
    pub fn global(&self, id: GlobalId) -> &Global {
        &self.globals[id.index()]
    }

    /// The 1-based `(line, column)` of a span's start, for messages such as
    /// "nil dereference at file:line:col".
    pub fn position(&self, span: Span) -> (u32, u32) {
        self.lines.position(span.start)
    }
}
