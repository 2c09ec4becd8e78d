//! The type checker: [`ast::Program`] to [`TypedProgram`].
//!
//! Declarations are collected first (records, then their fields and layouts,
//! then function signatures), so types and functions may be used before they
//! are declared and may be (mutually) recursive. Bodies are then checked
//! statement by statement; this file has declarations and statements,
//! `types/expr.rs` expressions and places.
//!
//! Errors do not stop the checker: an erroneous expression gets
//! [`TypeId::ERROR`], which is accepted everywhere without further messages,
//! so one mistake gives one diagnostic. A program with any diagnostic yields
//! no [`TypedProgram`].

mod expr;

use crate::ast;
use crate::diag::{Diagnostic, LineIndex, Span};
use crate::typed::*;
use std::collections::HashMap;

/// Checks a parsed program.
pub(crate) fn check_program(
    file: &str,
    lines: &LineIndex,
    program: &ast::Program,
) -> Result<TypedProgram, Vec<Diagnostic>> {
    let record_names = program.records.iter().map(|r| r.name.name.clone()).collect();
    let mut checker = Checker {
        file,
        lines,
        diagnostics: Vec::new(),
        types: TypeTable::new(record_names),
        record_ids: HashMap::new(),
        records: Vec::new(),
        func_ids: HashMap::new(),
        signatures: Vec::new(),
        global_ids: HashMap::new(),
        globals: Vec::new(),
        body: Body::default(),
    };
    checker.declare_records(&program.records);
    checker.declare_functions(&program.functions);
    let main = checker.entry_point(&program.functions);
    let global_refs = checker.globals(&program.globals);
    let functions: Vec<Function> = program.functions.iter().map(|f| checker.function(f)).collect();
    match main {
        Some(main) if checker.diagnostics.is_empty() => Ok(TypedProgram {
            file_name: file.to_owned(),
            types: checker.types,
            records: checker.records,
            functions,
            globals: checker.globals,
            global_refs,
            main,
            lines: lines.clone(),
        }),
        _ => Err(checker.diagnostics),
    }
}

/// What a name in an expression refers to, with its type.
#[derive(Clone, Copy)]
enum Variable {
    Local(LocalId, TypeId),
    Global(GlobalId, TypeId),
}

/// A function's type, known before any body is checked.
struct Signature {
    name: String,
    params: Vec<TypeId>,
    ret: Option<TypeId>,
}

/// State of the function body being checked.
#[derive(Default)]
struct Body {
    name: String,
    ret: Option<TypeId>,
    locals: Vec<Local>,
    /// Visible variables, innermost last.
    scope: Vec<(String, LocalId)>,
    /// Where each open block's variables start in `scope`.
    scope_starts: Vec<usize>,
    /// How many loops enclose the statement being checked.
    loops: u32,
    /// `defer` statements so far.
    defers: u32,
}

struct Checker<'a> {
    file: &'a str,
    lines: &'a LineIndex,
    diagnostics: Vec<Diagnostic>,
    types: TypeTable,
    record_ids: HashMap<String, RecordId>,
    records: Vec<RecordLayout>,
    func_ids: HashMap<String, FuncId>,
    signatures: Vec<Signature>,
    /// Globals visible by name: while an initializer is checked, only the
    /// globals declared before it.
    global_ids: HashMap<String, GlobalId>,
    globals: Vec<Global>,
    body: Body,
}

impl Checker<'_> {
    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.diagnostics.push(self.lines.diagnostic(self.file, span.start, message));
    }

    fn type_name(&self, ty: TypeId) -> String {
        self.types.name(ty)
    }

    /// The type a written type denotes; unknown names are reported.
    fn resolve(&mut self, ty: &ast::TypeExpr) -> TypeId {
        match &ty.kind {
            ast::TypeExprKind::Int => TypeId::INT,
            ast::TypeExprKind::Float => TypeId::FLOAT,
            ast::TypeExprKind::Bool => TypeId::BOOL,
            ast::TypeExprKind::Named(name) => match self.record_ids.get(name) {
                Some(&record) => self.types.intern(TypeKind::Record(record)),
                None => {
                    self.error(ty.span, format!("unknown type `{name}`"));
                    TypeId::ERROR
                }
            },
            ast::TypeExprKind::Array(elem) => match self.resolve(elem) {
                TypeId::ERROR => TypeId::ERROR,
                elem => self.types.intern(TypeKind::Array(elem)),
            },
        }
    }

    fn declare_records(&mut self, decls: &[ast::RecordDecl]) {
        for (i, decl) in decls.iter().enumerate() {
            let id = RecordId(i as u32);
            if self.record_ids.insert(decl.name.name.clone(), id).is_some() {
                self.error(decl.name.span, format!("record `{}` is declared twice", decl.name.name));
            }
        }
        for (i, decl) in decls.iter().enumerate() {
            let ty = self.types.intern(TypeKind::Record(RecordId(i as u32)));
            let mut fields: Vec<FieldLayout> = Vec::new();
            for (name, field_ty) in &decl.fields {
                if fields.iter().any(|f| f.name == name.name) {
                    self.error(name.span, format!("field `{}` is declared twice in `{}`", name.name, decl.name.name));
                }
                let ty = self.resolve(field_ty);
                fields.push(FieldLayout { name: name.name.clone(), ty, is_ref: self.types.is_ref(ty), offset: 0 });
            }
            // Reference fields first, each group in declaration order.
            let ref_fields = fields.iter().filter(|f| f.is_ref).count() as u32;
            let (mut next_ref, mut next_value) = (0, ref_fields);
            for field in &mut fields {
                let slot = if field.is_ref { &mut next_ref } else { &mut next_value };
                field.offset = *slot * WORD;
                *slot += 1;
            }
            if fields.len() as u64 > cfree_toy_rt::MAX_RECORD_FIELDS {
                let limit = cfree_toy_rt::MAX_RECORD_FIELDS;
                self.error(decl.name.span, format!("record `{}` has more than {limit} fields", decl.name.name));
            }
            let size = (fields.len() as u32).saturating_mul(WORD);
            self.records.push(RecordLayout { name: decl.name.name.clone(), ty, fields, ref_fields, size });
        }
    }

    fn declare_functions(&mut self, decls: &[ast::FnDecl]) {
        for (i, decl) in decls.iter().enumerate() {
            if self.func_ids.insert(decl.name.name.clone(), FuncId(i as u32)).is_some() {
                self.error(decl.name.span, format!("function `{}` is declared twice", decl.name.name));
            }
            // Functions are emitted as `toy_<name>`, which must not be a runtime entry's symbol.
            let symbol = crate::codegen::symbol_name(&decl.name.name);
            if cfree_toy_rt::symbols().iter().any(|(runtime, _)| *runtime == symbol) {
                let message = format!("the name `{}` is reserved: the runtime defines `{symbol}`", decl.name.name);
                self.error(decl.name.span, message);
            }
            let params = decl.params.iter().map(|(_, ty)| self.resolve(ty)).collect();
            let ret = decl.ret.as_ref().map(|ty| self.resolve(ty));
            self.signatures.push(Signature { name: decl.name.name.clone(), params, ret });
        }
    }

    /// `main`, if declared as `fn main(n: int) -> int`.
    fn entry_point(&mut self, decls: &[ast::FnDecl]) -> Option<FuncId> {
        let Some(&main) = self.func_ids.get("main") else {
            self.error(Span::default(), "missing entry point `fn main(n: int) -> int`");
            return None;
        };
        let sig = &self.signatures[main.index()];
        if sig.params != [TypeId::INT] || sig.ret != Some(TypeId::INT) {
            let span = decls[main.index()].name.span;
            self.error(span, "entry point `main` must be declared `fn main(n: int) -> int`");
            return None;
        }
        Some(main)
    }

    /// Checks the globals' declarations and initializers in order, then gives
    /// them slots (references first); returns the number of reference globals.
    fn globals(&mut self, decls: &[ast::GlobalDecl]) -> u32 {
        for decl in decls {
            self.body = Body { name: "a global initializer".into(), scope_starts: vec![0], ..Body::default() };
            let init = match &decl.ty {
                Some(ty) => {
                    let ty = self.resolve(ty);
                    self.coerce_to(&decl.init, ty)
                }
                None => self.expr(&decl.init, None),
            };
            let id = GlobalId(self.globals.len() as u32);
            if self.global_ids.insert(decl.name.name.clone(), id).is_some() {
                self.error(decl.name.span, format!("global `{}` is declared twice", decl.name.name));
            }
            let (ty, is_ref) = (init.ty, self.types.is_ref(init.ty));
            self.globals.push(Global { name: decl.name.name.clone(), ty, is_ref, slot: 0, init, span: decl.name.span });
        }
        let refs = self.globals.iter().filter(|g| g.is_ref).count() as u32;
        let (mut next_ref, mut next_value) = (0, refs);
        for global in &mut self.globals {
            let slot = if global.is_ref { &mut next_ref } else { &mut next_value };
            global.slot = *slot;
            *slot += 1;
        }
        refs
    }

    fn function(&mut self, decl: &ast::FnDecl) -> Function {
        let sig = &self.signatures[self.func_ids[&decl.name.name].index()];
        let (name, ret, param_types) = (sig.name.clone(), sig.ret, sig.params.clone());
        self.body = Body { name: name.clone(), ret, scope_starts: vec![0], ..Body::default() };
        for ((param, _), ty) in decl.params.iter().zip(param_types) {
            self.declare(param, ty);
        }
        // Parameters and the body's own variables share one scope.
        let (body, returns) = self.stmts(&decl.body.stmts);
        if ret.is_some() && !returns {
            let closing = Span { start: decl.body.span.end.saturating_sub(1), end: decl.body.span.end };
            self.error(closing, format!("missing `return` at the end of function `{name}`"));
        }
        let locals = std::mem::take(&mut self.body.locals);
        let defers = self.body.defers;
        Function { name, params: decl.params.len() as u32, locals, ret, body, defers, span: decl.name.span }
    }

    /// A new variable slot visible until the end of the current block.
    fn declare(&mut self, name: &ast::Ident, ty: TypeId) -> LocalId {
        let start = *self.body.scope_starts.last().unwrap_or(&0);
        if self.body.scope[start..].iter().any(|(n, _)| *n == name.name) {
            self.error(name.span, format!("variable `{}` is already declared in this scope", name.name));
        }
        let id = LocalId(self.body.locals.len() as u32);
        let is_ref = self.types.is_ref(ty);
        self.body.locals.push(Local { name: name.name.clone(), ty, is_ref, span: name.span });
        self.body.scope.push((name.name.clone(), id));
        id
    }

    fn lookup(&self, name: &str) -> Option<LocalId> {
        self.body.scope.iter().rev().find(|(n, _)| n == name).map(|&(_, id)| id)
    }

    /// A variable by name: a local (innermost first), else a global.
    fn variable(&self, name: &str) -> Option<Variable> {
        match self.lookup(name) {
            Some(local) => Some(Variable::Local(local, self.body.locals[local.index()].ty)),
            None => self.global_ids.get(name).map(|&g| Variable::Global(g, self.globals[g.index()].ty)),
        }
    }

    /// Checks a loop body (with `break` and `continue` allowed).
    fn loop_body(&mut self, body: &ast::Block) -> Vec<Stmt> {
        self.body.loops += 1;
        let (body, _) = self.block(body);
        self.body.loops -= 1;
        body
    }

    fn block(&mut self, block: &ast::Block) -> (Vec<Stmt>, bool) {
        self.body.scope_starts.push(self.body.scope.len());
        let result = self.stmts(&block.stmts);
        let start = self.body.scope_starts.pop().unwrap_or(0);
        self.body.scope.truncate(start);
        result
    }

    /// Checks statements in the current scope; also returns whether every
    /// path through them ends in `return`.
    fn stmts(&mut self, stmts: &[ast::Stmt]) -> (Vec<Stmt>, bool) {
        let mut checked = Vec::with_capacity(stmts.len());
        let mut returns = false;
        for stmt in stmts {
            if returns {
                self.error(stmt.span, "unreachable statement");
                break;
            }
            let (kind, stmt_returns) = self.stmt(stmt);
            returns = stmt_returns;
            checked.extend(kind.map(|kind| Stmt { kind, span: stmt.span }));
        }
        (checked, returns)
    }

    fn stmt(&mut self, stmt: &ast::Stmt) -> (Option<StmtKind>, bool) {
        let kind = match &stmt.kind {
            ast::StmtKind::Let { name, ty, init } => {
                let (init, ty) = match ty {
                    Some(ty) => {
                        let ty = self.resolve(ty);
                        (self.coerce_to(init, ty), ty)
                    }
                    None => {
                        let init = self.expr(init, None);
                        let ty = init.ty;
                        (init, ty)
                    }
                };
                let local = self.declare(name, ty);
                StmtKind::Let { local, init }
            }
            ast::StmtKind::Assign { target, value } => {
                let target = self.place(target);
                let value = self.coerce_to(value, target.as_ref().map_or(TypeId::ERROR, |t| t.ty));
                match target {
                    Some(target) => StmtKind::Assign { target, value },
                    None => return (None, false),
                }
            }
            ast::StmtKind::If { cond, then_block, else_block } => {
                let cond = self.condition(cond);
                let (then_block, then_returns) = self.block(then_block);
                let (else_block, else_returns) = match else_block {
                    Some(block) => self.block(block),
                    None => (Vec::new(), false),
                };
                let kind = StmtKind::If { cond, then_block, else_block };
                return (Some(kind), then_returns && else_returns);
            }
            ast::StmtKind::While { cond, body } => {
                let cond = self.condition(cond);
                let body = self.loop_body(body);
                StmtKind::While { cond, body }
            }
            ast::StmtKind::For { var, start, end, body } => {
                let message = |_: &str, found: &str| format!("a `for` range needs `int` bounds, found `{found}`");
                let start = self.coerce(start, TypeId::INT, message);
                let end = self.coerce(end, TypeId::INT, message);
                // The variable's own scope encloses the body's.
                self.body.scope_starts.push(self.body.scope.len());
                let var = self.declare(var, TypeId::INT);
                let body = self.loop_body(body);
                let scope_start = self.body.scope_starts.pop().unwrap_or(0);
                self.body.scope.truncate(scope_start);
                StmtKind::For { var, start, end, body }
            }
            ast::StmtKind::Break | ast::StmtKind::Continue => {
                let (kind, word) = match stmt.kind {
                    ast::StmtKind::Break => (StmtKind::Break, "break"),
                    _ => (StmtKind::Continue, "continue"),
                };
                if self.body.loops == 0 {
                    self.error(stmt.span, format!("`{word}` outside of a loop"));
                    return (None, true);
                }
                // Like `return`, nothing after it in the same block runs.
                return (Some(kind), true);
            }
            ast::StmtKind::Return(value) => return (Some(StmtKind::Return(self.return_value(stmt, value))), true),
            ast::StmtKind::Print(args) => {
                let args = args.iter().filter_map(|arg| self.print_arg(arg)).collect();
                StmtKind::Print(args)
            }
            ast::StmtKind::Panic(args) => return (self.panic(stmt.span, args), true),
            ast::StmtKind::Defer(call) => return (self.defer(stmt.span, call), false),
            ast::StmtKind::Expr(expr) => match &expr.kind {
                ast::ExprKind::Call { name, args } => {
                    let Some((func, args, _)) = self.call(name, args) else { return (None, false) };
                    StmtKind::Call { func, args }
                }
                ast::ExprKind::Builtin { builtin: ast::Builtin::Recover, .. } => {
                    if self.expr(expr, None).ty == TypeId::ERROR {
                        return (None, false);
                    }
                    StmtKind::Recover
                }
                _ => {
                    self.expr(expr, None);
                    self.error(expr.span, "only calls of functions can be used as statements");
                    return (None, false);
                }
            },
        };
        (Some(kind), false)
    }

    /// `panic(message)`: one string literal.
    fn panic(&mut self, span: Span, args: &[ast::PrintArg]) -> Option<StmtKind> {
        match args {
            [ast::PrintArg::Str(text)] => Some(StmtKind::Panic(text.clone())),
            [ast::PrintArg::Expr(e)] => {
                let typed = self.expr(e, None);
                if typed.ty != TypeId::ERROR {
                    let found = self.type_name(typed.ty);
                    self.error(e.span, format!("`panic` needs a string literal message, found `{found}`"));
                }
                None
            }
            _ => {
                for arg in args {
                    if let ast::PrintArg::Expr(e) = arg {
                        self.expr(e, None);
                    }
                }
                let n = args.len();
                let given = if n == 1 { "1 was".to_owned() } else { format!("{n} were") };
                self.error(span, format!("`panic` takes 1 string literal message but {given} given"));
                None
            }
        }
    }

    /// `defer f(args);`: a call of a user function, at the function body's
    /// top level, so each defer statement runs at most once per call and
    /// its arguments can live in fixed hidden slots.
    fn defer(&mut self, span: Span, call: &ast::Expr) -> Option<StmtKind> {
        let top_level = self.body.scope_starts.len() == 1;
        let checked = match &call.kind {
            ast::ExprKind::Call { name, args } if self.func_ids.contains_key(&name.name) => self.call(name, args),
            _ => {
                self.expr(call, None);
                self.error(call.span, "`defer` needs a call of a function declared in the program");
                return None;
            }
        };
        if !top_level {
            let message = "`defer` is allowed only at the top level of a function body (not in a block or loop)";
            self.error(span, message);
            return None;
        }
        let (func, args, _) = checked?;
        let index = self.body.defers;
        self.body.defers += 1;
        Some(StmtKind::Defer { index, func, args })
    }

    /// A `bool` condition of `if` or `while`.
    fn condition(&mut self, cond: &ast::Expr) -> Expr {
        self.coerce(cond, TypeId::BOOL, |_, found| format!("condition must be `bool`, found `{found}`"))
    }

    fn return_value(&mut self, stmt: &ast::Stmt, value: &Option<ast::Expr>) -> Option<Expr> {
        let name = self.body.name.clone();
        match (self.body.ret, value) {
            (None, None) => None,
            (Some(ret), Some(value)) => Some(self.coerce(value, ret, |expected, found| {
                format!("return type mismatch: function `{name}` returns `{expected}`, found `{found}`")
            })),
            (None, Some(value)) => {
                self.expr(value, None);
                self.error(value.span, format!("function `{name}` returns no value, but `return` has one"));
                None
            }
            (Some(ret), None) => {
                let ret = self.type_name(ret);
                self.error(stmt.span, format!("`return` needs a value: function `{name}` returns `{ret}`"));
                None
            }
        }
    }

    fn print_arg(&mut self, arg: &ast::PrintArg) -> Option<PrintArg> {
        let expr = match arg {
            ast::PrintArg::Str(text) => return Some(PrintArg::Str(text.clone())),
            ast::PrintArg::Expr(expr) => expr,
        };
        let typed = self.expr(expr, None);
        Some(match typed.ty {
            TypeId::INT => PrintArg::Int(typed),
            TypeId::FLOAT => PrintArg::Float(typed),
            TypeId::BOOL => PrintArg::Bool(typed),
            TypeId::ERROR => return None,
            other => {
                let name = self.type_name(other);
                self.error(expr.span, format!("cannot print a value of type `{name}`"));
                return None;
            }
        })
    }
}
