//! Checking expressions and assignment targets.
//!
//! `nil` has no type of its own: it takes the reference type its context
//! expects (an annotation, a parameter, a field, the other operand of `==`),
//! and is an error where there is none.

use super::{Checker, Variable};
use crate::ast::{self, BinOp, Builtin, UnOp};
use crate::diag::Span;
use crate::typed::*;

fn boxed(expr: Expr) -> Box<Expr> {
    Box::new(expr)
}

fn arith_op(op: BinOp) -> Option<ArithOp> {
    Some(match op {
        BinOp::Add => ArithOp::Add,
        BinOp::Sub => ArithOp::Sub,
        BinOp::Mul => ArithOp::Mul,
        BinOp::Div => ArithOp::Div,
        BinOp::Rem => ArithOp::Rem,
        _ => return None,
    })
}

fn cmp_op(op: BinOp) -> Option<CmpOp> {
    Some(match op {
        BinOp::Eq => CmpOp::Eq,
        BinOp::Ne => CmpOp::Ne,
        BinOp::Lt => CmpOp::Lt,
        BinOp::Le => CmpOp::Le,
        BinOp::Gt => CmpOp::Gt,
        BinOp::Ge => CmpOp::Ge,
        _ => return None,
    })
}

fn bit_op(op: BinOp) -> Option<BitOp> {
    Some(match op {
        BinOp::BitAnd => BitOp::And,
        BinOp::BitOr => BitOp::Or,
        BinOp::BitXor => BitOp::Xor,
        BinOp::Shl => BitOp::Shl,
        BinOp::Shr => BitOp::Shr,
        BinOp::UShr => BitOp::UShr,
        _ => return None,
    })
}

/// Built-in math functions, called by name unless the program declares a
/// function of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Math {
    Float(FloatFn),
    Min,
    Max,
}

fn math_builtin(name: &str) -> Option<Math> {
    Some(match name {
        "sqrt" => Math::Float(FloatFn::Sqrt),
        "abs" => Math::Float(FloatFn::Abs),
        "floor" => Math::Float(FloatFn::Floor),
        "ceil" => Math::Float(FloatFn::Ceil),
        "min" => Math::Min,
        "max" => Math::Max,
        _ => return None,
    })
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// "1 was" or "N were", for argument counts.
fn were_given(n: usize) -> String {
    if n == 1 {
        "1 was".to_owned()
    } else {
        format!("{n} were")
    }
}

impl Checker<'_> {
    /// A placeholder for an expression that has been reported.
    fn poisoned(span: Span) -> Expr {
        Expr { kind: ExprKind::Int(0), ty: TypeId::ERROR, span }
    }

    /// Reports `message` at `span` and returns a placeholder.
    fn fail(&mut self, span: Span, message: impl Into<String>) -> Expr {
        self.error(span, message);
        Self::poisoned(span)
    }

    /// Checks `e`, which must have type `ty`; a mismatch is reported with
    /// `message(expected, found)`.
    pub(super) fn coerce(&mut self, e: &ast::Expr, ty: TypeId, message: impl FnOnce(&str, &str) -> String) -> Expr {
        if matches!(e.kind, ast::ExprKind::Nil) && ty != TypeId::ERROR && !self.types.is_ref(ty) {
            let message = message(&self.type_name(ty), "nil");
            return self.fail(e.span, message);
        }
        let typed = self.expr(e, Some(ty));
        if typed.ty != ty && typed.ty != TypeId::ERROR && ty != TypeId::ERROR {
            let message = message(&self.type_name(ty), &self.type_name(typed.ty));
            return self.fail(e.span, message);
        }
        typed
    }

    /// [`Self::coerce`] with the plain "type mismatch" message.
    pub(super) fn coerce_to(&mut self, e: &ast::Expr, ty: TypeId) -> Expr {
        self.coerce(e, ty, |expected, found| format!("type mismatch: expected `{expected}`, found `{found}`"))
    }

    /// Checks an expression; `expected` only gives `nil` its type.
    pub(super) fn expr(&mut self, e: &ast::Expr, expected: Option<TypeId>) -> Expr {
        let span = e.span;
        let (kind, ty) = match &e.kind {
            ast::ExprKind::Int(value) => (ExprKind::Int(*value), TypeId::INT),
            ast::ExprKind::Float(value) => (ExprKind::Float(*value), TypeId::FLOAT),
            ast::ExprKind::Bool(value) => (ExprKind::Bool(*value), TypeId::BOOL),
            ast::ExprKind::Nil => match expected {
                Some(ty) if self.types.is_ref(ty) => (ExprKind::Nil, ty),
                Some(TypeId::ERROR) => return Self::poisoned(span),
                _ => return self.fail(span, "cannot infer the type of `nil` here"),
            },
            ast::ExprKind::Var(name) => match self.variable(name) {
                Some(Variable::Local(local, ty)) => (ExprKind::Local(local), ty),
                Some(Variable::Global(global, ty)) => (ExprKind::Global(global), ty),
                None => return self.fail(span, format!("unknown variable `{name}`")),
            },
            ast::ExprKind::Call { name, args } if !self.func_ids.contains_key(&name.name) => {
                match math_builtin(&name.name) {
                    Some(math) => return self.math(span, name, math, args),
                    None => match self.call(name, args) {
                        Some(_) => unreachable!("`call` reports unknown functions"),
                        None => return Self::poisoned(span),
                    },
                }
            }
            ast::ExprKind::Call { name, args } => match self.call(name, args) {
                Some((func, args, Some(ret))) => (ExprKind::Call { func, args }, ret),
                Some((_, _, None)) => {
                    return self.fail(name.span, format!("function `{}` returns no value", name.name))
                }
                None => return Self::poisoned(span),
            },
            ast::ExprKind::Builtin { builtin, args } => return self.builtin(span, *builtin, args),
            ast::ExprKind::Spawn { name, args } => return self.spawn(span, name, args),
            ast::ExprKind::Field { object, field } => match self.field(object, field) {
                Some((object, field, ty)) => (ExprKind::Field { object: boxed(object), field }, ty),
                None => return Self::poisoned(span),
            },
            ast::ExprKind::Index { array, index } => match self.index(array, index) {
                Some((array, index, ty)) => (ExprKind::Index { array: boxed(array), index: boxed(index) }, ty),
                None => return Self::poisoned(span),
            },
            ast::ExprKind::NewRecord { record, fields } => return self.new_record(span, record, fields),
            ast::ExprKind::NewArray { elem, len } => {
                let elem = self.resolve(elem);
                let len = self.coerce_to(len, TypeId::INT);
                if elem == TypeId::ERROR {
                    return Self::poisoned(span);
                }
                (ExprKind::NewArray(boxed(len)), self.types.intern(TypeKind::Array(elem)))
            }
            ast::ExprKind::Unary { op, operand } => return self.unary(span, *op, operand),
            ast::ExprKind::Binary { op, op_span, lhs, rhs } => return self.binary(span, *op, *op_span, lhs, rhs),
        };
        Expr { kind, ty, span }
    }

    /// Checks a call's callee and arguments: the function, its arguments and
    /// its return type, or `None` if an error was reported.
    pub(super) fn call(
        &mut self,
        name: &ast::Ident,
        args: &[ast::Expr],
    ) -> Option<(FuncId, Vec<Expr>, Option<TypeId>)> {
        let Some(&func) = self.func_ids.get(&name.name) else {
            for arg in args {
                self.expr(arg, None);
            }
            let message = match math_builtin(&name.name) {
                Some(_) => format!("the result of the built-in function `{}` must be used", name.name),
                None => format!("unknown function `{}`", name.name),
            };
            self.error(name.span, message);
            return None;
        };
        let params = self.signatures[func.index()].params.clone();
        let ret = self.signatures[func.index()].ret;
        let checked: Vec<Expr> = args
            .iter()
            .enumerate()
            .map(|(i, arg)| match params.get(i) {
                Some(&ty) => self.coerce_to(arg, ty),
                None => self.expr(arg, None),
            })
            .collect();
        if args.len() != params.len() {
            let message = format!(
                "function `{}` takes {} but {} given",
                name.name,
                plural(params.len(), "argument"),
                were_given(args.len())
            );
            self.error(name.span, message);
            return None;
        }
        if checked.iter().any(|arg| arg.ty == TypeId::ERROR) {
            return None;
        }
        Some((func, checked, ret))
    }

    /// `spawn f(args)`: a call of a declared function returning an `int` or
    /// nothing, with scalar arguments only.
    fn spawn(&mut self, span: Span, name: &ast::Ident, args: &[ast::Expr]) -> Expr {
        let Some((func, args, ret)) = self.call(name, args) else { return Self::poisoned(span) };
        if let Some(ret) = ret.filter(|&r| r != TypeId::INT) {
            let found = self.type_name(ret);
            let message =
                format!("`spawn` runs functions that return an `int` or nothing, `{}` returns `{found}`", name.name);
            return self.fail(name.span, message);
        }
        if args.len() > cfree_toy_rt::MAX_TASK_ARGS {
            let message = format!("`spawn` passes at most {} arguments", cfree_toy_rt::MAX_TASK_ARGS);
            return self.fail(name.span, message);
        }
        if let Some(arg) = args.iter().find(|a| ![TypeId::INT, TypeId::FLOAT, TypeId::BOOL].contains(&a.ty)) {
            let found = self.type_name(arg.ty);
            let message = format!(
                "`spawn` passes only `int`, `float` and `bool` arguments (a task shares no references), found `{found}`"
            );
            return self.fail(arg.span, message);
        }
        Expr { kind: ExprKind::Spawn { func, args }, ty: TypeId::INT, span }
    }

    fn builtin(&mut self, span: Span, builtin: Builtin, args: &[ast::Expr]) -> Expr {
        let checked: Vec<Expr> = args.iter().map(|arg| self.expr(arg, None)).collect();
        let name = builtin.name();
        if builtin == Builtin::Recover {
            if !checked.is_empty() {
                let given = were_given(checked.len());
                return self.fail(span, format!("`recover` takes no arguments but {given} given"));
            }
            return Expr { kind: ExprKind::Recover, ty: TypeId::BOOL, span };
        }
        let arg = match <[Expr; 1]>::try_from(checked) {
            Ok([arg]) => arg,
            Err(checked) => {
                let given = were_given(checked.len());
                return self.fail(span, format!("`{name}` takes 1 argument but {given} given"));
            }
        };
        if arg.ty == TypeId::ERROR {
            return Self::poisoned(span);
        }
        let found = self.type_name(arg.ty);
        let arg_span = arg.span;
        let (kind, ty) = match builtin {
            Builtin::Len if self.types.array_elem(arg.ty).is_some() => (ExprKind::Len(boxed(arg)), TypeId::INT),
            Builtin::Len => return self.fail(arg_span, format!("`len` expects an array, found `{found}`")),
            Builtin::Int if arg.ty == TypeId::FLOAT => (ExprKind::FloatToInt(boxed(arg)), TypeId::INT),
            Builtin::Float if arg.ty == TypeId::INT => (ExprKind::IntToFloat(boxed(arg)), TypeId::FLOAT),
            Builtin::Int => return self.fail(arg_span, format!("`int` converts a `float`, found `{found}`")),
            Builtin::Float => return self.fail(arg_span, format!("`float` converts an `int`, found `{found}`")),
            Builtin::Join if arg.ty == TypeId::INT => (ExprKind::Join(boxed(arg)), TypeId::INT),
            Builtin::Join => return self.fail(arg_span, format!("`join` expects a task (an `int`), found `{found}`")),
            Builtin::Recover => unreachable!("handled above"),
        };
        Expr { kind, ty, span }
    }

    /// A call of a built-in math function.
    fn math(&mut self, span: Span, name: &ast::Ident, math: Math, args: &[ast::Expr]) -> Expr {
        let checked: Vec<Expr> = args.iter().map(|arg| self.expr(arg, None)).collect();
        let arity = if matches!(math, Math::Float(_)) { 1 } else { 2 };
        let callee = &name.name;
        if checked.len() != arity {
            let (takes, given) = (plural(arity, "argument"), were_given(checked.len()));
            return self.fail(name.span, format!("`{callee}` takes {takes} but {given} given"));
        }
        if checked.iter().any(|arg| arg.ty == TypeId::ERROR) {
            return Self::poisoned(span);
        }
        let mut checked = checked.into_iter();
        let first = checked.next().expect("arity checked");
        let found = self.type_name(first.ty);
        let (kind, ty) = match math {
            Math::Float(FloatFn::Abs) if first.ty == TypeId::INT => (ExprKind::IntAbs(boxed(first)), TypeId::INT),
            Math::Float(f) if first.ty == TypeId::FLOAT => (ExprKind::FloatFn(f, boxed(first)), TypeId::FLOAT),
            Math::Float(FloatFn::Abs) => {
                return self.fail(first.span, format!("`abs` expects an `int` or a `float`, found `{found}`"))
            }
            Math::Float(_) => return self.fail(first.span, format!("`{callee}` expects a `float`, found `{found}`")),
            Math::Min | Math::Max => {
                let second = checked.next().expect("arity checked");
                if first.ty != TypeId::INT && first.ty != TypeId::FLOAT {
                    let message = format!("`{callee}` expects two `int`s or two `float`s, found `{found}`");
                    return self.fail(first.span, message);
                }
                if second.ty != first.ty {
                    let other = self.type_name(second.ty);
                    let message = format!("`{callee}` expects two values of one type, found `{found}` and `{other}`");
                    return self.fail(second.span, message);
                }
                let ty = first.ty;
                (ExprKind::MinMax(math == Math::Max, boxed(first), boxed(second)), ty)
            }
        };
        Expr { kind, ty, span }
    }

    /// `object.field`: the checked object, the field and its type.
    fn field(&mut self, object: &ast::Expr, field: &ast::Ident) -> Option<(Expr, FieldRef, TypeId)> {
        let object = self.expr(object, None);
        if object.ty == TypeId::ERROR {
            return None;
        }
        let Some(record) = self.types.record(object.ty) else {
            let found = self.type_name(object.ty);
            self.error(field.span, format!("type `{found}` has no fields"));
            return None;
        };
        let layout = &self.records[record.index()];
        let Some(index) = layout.fields.iter().position(|f| f.name == field.name) else {
            let message = format!("record `{}` has no field `{}`", layout.name, field.name);
            self.error(field.span, message);
            return None;
        };
        let FieldLayout { ty, offset, .. } = layout.fields[index];
        if ty == TypeId::ERROR {
            return None;
        }
        Some((object, FieldRef { record, index: index as u32, offset }, ty))
    }

    /// `array[index]`: the checked array, the index and the element type.
    fn index(&mut self, array: &ast::Expr, index: &ast::Expr) -> Option<(Expr, Expr, TypeId)> {
        let array = self.expr(array, None);
        let index = self.coerce_to(index, TypeId::INT);
        if array.ty == TypeId::ERROR {
            return None;
        }
        let Some(elem) = self.types.array_elem(array.ty) else {
            let found = self.type_name(array.ty);
            self.error(array.span, format!("cannot index a value of type `{found}`"));
            return None;
        };
        (index.ty != TypeId::ERROR).then_some((array, index, elem))
    }

    /// The target of an assignment, or `None` if an error was reported.
    pub(super) fn place(&mut self, target: &ast::Expr) -> Option<Place> {
        let span = target.span;
        let (kind, ty) = match &target.kind {
            ast::ExprKind::Var(name) => match self.variable(name) {
                Some(Variable::Local(local, ty)) => (PlaceKind::Local(local), ty),
                Some(Variable::Global(global, ty)) => (PlaceKind::Global(global), ty),
                None => {
                    self.error(span, format!("assignment to undeclared variable `{name}`"));
                    return None;
                }
            },
            ast::ExprKind::Field { object, field } => {
                let (object, field, ty) = self.field(object, field)?;
                (PlaceKind::Field { object, field }, ty)
            }
            ast::ExprKind::Index { array, index } => {
                let (array, index, ty) = self.index(array, index)?;
                (PlaceKind::Index { array, index }, ty)
            }
            _ => {
                self.expr(target, None);
                self.error(span, "cannot assign to this expression; expected a variable, field or array element");
                return None;
            }
        };
        (ty != TypeId::ERROR).then_some(Place { kind, ty, span })
    }

    fn new_record(&mut self, span: Span, name: &ast::Ident, inits: &[(ast::Ident, ast::Expr)]) -> Expr {
        let Some(&record) = self.record_ids.get(&name.name) else {
            for (_, value) in inits {
                self.expr(value, None);
            }
            return self.fail(name.span, format!("unknown type `{}`", name.name));
        };
        let mut fields: Vec<(u32, Expr)> = Vec::with_capacity(inits.len());
        let mut failed = false;
        for (field, value) in inits {
            let layout = &self.records[record.index()];
            let Some(index) = layout.fields.iter().position(|f| f.name == field.name) else {
                let message = format!("record `{}` has no field `{}`", layout.name, field.name);
                self.expr(value, None);
                self.error(field.span, message);
                failed = true;
                continue;
            };
            let ty = layout.fields[index].ty;
            let value = self.coerce_to(value, ty);
            if fields.iter().any(|&(i, _)| i as usize == index) {
                self.error(field.span, format!("field `{}` is given twice", field.name));
                failed = true;
            }
            failed |= value.ty == TypeId::ERROR;
            fields.push((index as u32, value));
        }
        let layout = &self.records[record.index()];
        let missing: Vec<String> = (0..layout.fields.len())
            .filter(|&i| !fields.iter().any(|&(f, _)| f as usize == i))
            .map(|i| format!("`{}`", layout.fields[i].name))
            .collect();
        if !missing.is_empty() {
            let what = if missing.len() == 1 { "field" } else { "fields" };
            let message = format!("missing {what} {} in `new {}`", missing.join(", "), layout.name);
            return self.fail(name.span, message);
        }
        if failed {
            return Self::poisoned(span);
        }
        Expr { kind: ExprKind::NewRecord { record, fields }, ty: layout.ty, span }
    }

    fn unary(&mut self, span: Span, op: UnOp, operand: &ast::Expr) -> Expr {
        let operand = self.expr(operand, None);
        let (kind, ty) = match (op, operand.ty) {
            (_, TypeId::ERROR) => return Self::poisoned(span),
            (UnOp::Neg, TypeId::INT) => (ExprKind::IntNeg(boxed(operand)), TypeId::INT),
            (UnOp::Neg, TypeId::FLOAT) => (ExprKind::FloatNeg(boxed(operand)), TypeId::FLOAT),
            (UnOp::Not, TypeId::BOOL) => (ExprKind::Not(boxed(operand)), TypeId::BOOL),
            (UnOp::BitNot, TypeId::INT) => (ExprKind::BitNot(boxed(operand)), TypeId::INT),
            (_, other) => {
                let symbol = match op {
                    UnOp::Neg => "-",
                    UnOp::Not => "!",
                    UnOp::BitNot => "~",
                };
                let found = self.type_name(other);
                return self.fail(span, format!("operator `{symbol}` cannot be applied to `{found}`"));
            }
        };
        Expr { kind, ty, span }
    }

    fn binary(&mut self, span: Span, op: BinOp, op_span: Span, lhs: &ast::Expr, rhs: &ast::Expr) -> Expr {
        let symbol = op.symbol();
        if matches!(op, BinOp::And | BinOp::Or) {
            let message = |_: &str, found: &str| format!("operator `{symbol}` expects `bool`, found `{found}`");
            let lhs = self.coerce(lhs, TypeId::BOOL, message);
            let rhs = self.coerce(rhs, TypeId::BOOL, message);
            if lhs.ty == TypeId::ERROR || rhs.ty == TypeId::ERROR {
                return Self::poisoned(span);
            }
            let kind = if op == BinOp::And { ExprKind::And } else { ExprKind::Or };
            return Expr { kind: kind(boxed(lhs), boxed(rhs)), ty: TypeId::BOOL, span };
        }
        let (lhs, rhs) = match (&lhs.kind, &rhs.kind) {
            (ast::ExprKind::Nil, ast::ExprKind::Nil) => return self.fail(op_span, "cannot compare `nil` with `nil`"),
            (ast::ExprKind::Nil, _) => {
                let rhs = self.expr(rhs, None);
                (self.nil_operand(lhs, rhs.ty), rhs)
            }
            _ => {
                let lhs = self.expr(lhs, None);
                let rhs = self.nil_operand(rhs, lhs.ty);
                (lhs, rhs)
            }
        };
        let ty = lhs.ty;
        if ty == TypeId::ERROR || rhs.ty == TypeId::ERROR {
            return Self::poisoned(span);
        }
        if ty != rhs.ty {
            let (l, r) = (self.type_name(ty), self.type_name(rhs.ty));
            return self.fail(op_span, format!("mismatched operand types for `{symbol}`: `{l}` and `{r}`"));
        }
        let (l, r) = (boxed(lhs), boxed(rhs));
        if let Some(bit) = bit_op(op) {
            let logical = matches!(bit, BitOp::And | BitOp::Or | BitOp::Xor);
            if ty == TypeId::INT || (logical && ty == TypeId::BOOL) {
                return Expr { kind: ExprKind::Bitwise(bit, l, r), ty, span };
            }
            let found = self.type_name(ty);
            return self.fail(op_span, format!("operator `{symbol}` cannot be applied to `{found}`"));
        }
        let kind = match (arith_op(op), cmp_op(op)) {
            (Some(op), _) if ty == TypeId::INT => Some(ExprKind::IntArith(op, l, r)),
            (Some(op), _) if ty == TypeId::FLOAT => Some(ExprKind::FloatArith(op, l, r)),
            (_, Some(op)) => {
                let ordered = ty == TypeId::INT || ty == TypeId::FLOAT;
                let equality = ordered || ty == TypeId::BOOL || self.types.is_ref(ty);
                let allowed = if matches!(op, CmpOp::Eq | CmpOp::Ne) { equality } else { ordered };
                allowed.then_some(ExprKind::Compare(op, l, r))
            }
            _ => None,
        };
        let Some(kind) = kind else {
            let found = self.type_name(ty);
            return self.fail(op_span, format!("operator `{symbol}` cannot be applied to `{found}`"));
        };
        let ty = if matches!(kind, ExprKind::Compare(..)) { TypeId::BOOL } else { ty };
        Expr { kind, ty, span }
    }

    /// The operand `e` of a binary operator whose other operand has type
    /// `other`: `nil` takes that type if it is a reference type.
    fn nil_operand(&mut self, e: &ast::Expr, other: TypeId) -> Expr {
        match e.kind {
            ast::ExprKind::Nil if other == TypeId::ERROR => Self::poisoned(e.span),
            ast::ExprKind::Nil if !self.types.is_ref(other) => {
                let found = self.type_name(other);
                self.fail(e.span, format!("`nil` is not a value of type `{found}`"))
            }
            _ => self.expr(e, Some(other)),
        }
    }
}
