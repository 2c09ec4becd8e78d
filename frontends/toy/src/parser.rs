//! The parser: tokens to an [`crate::ast::Program`], by recursive descent, with
//! precedence climbing for binary operators.
//!
//! Parsing stops at the first error. Nesting (blocks, parentheses, unary
//! operators, operator and postfix chains, array types) is limited to
//! [`MAX_NESTING`] so that no input can overflow the stack of the parser, the
//! type checker or a code generator walking the tree.

use crate::ast::*;
use crate::diag::Span;
use crate::lexer::{Token, TokenKind};

/// The deepest syntax tree the parser builds; deeper input is an error.
pub const MAX_NESTING: u32 = 200;

/// A syntax error: byte offset and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Where the offending token starts.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

type Result<T> = std::result::Result<T, ParseError>;

/// Parses a token list that ends with [`TokenKind::Eof`] (as
/// [`crate::lexer::tokenize`] returns it).
pub fn parse(tokens: &[Token]) -> Result<Program> {
    let mut parser = Parser { tokens, pos: 0, depth: 0 };
    let mut program = Program::default();
    loop {
        match parser.peek() {
            TokenKind::Type => program.records.push(parser.record_decl()?),
            TokenKind::Fn => program.functions.push(parser.fn_decl()?),
            TokenKind::Let => program.globals.push(parser.global_decl()?),
            TokenKind::Eof => return Ok(program),
            _ => return Err(parser.unexpected("`fn`, `type` or `let`")),
        }
    }
}

/// Binding strength of comparison operators (which do not chain).
const CMP_PRECEDENCE: u8 = 3;

/// Operators and their binding strength (Rust's order: `* / %`, then `+ -`,
/// then shifts, `&`, `^`, `|`, comparisons, `&&`, `||`).
fn binary_op(kind: &TokenKind) -> Option<(BinOp, u8)> {
    Some(match kind {
        TokenKind::OrOr => (BinOp::Or, 1),
        TokenKind::AndAnd => (BinOp::And, 2),
        TokenKind::EqEq => (BinOp::Eq, CMP_PRECEDENCE),
        TokenKind::NotEq => (BinOp::Ne, CMP_PRECEDENCE),
        TokenKind::Lt => (BinOp::Lt, CMP_PRECEDENCE),
        TokenKind::Le => (BinOp::Le, CMP_PRECEDENCE),
        TokenKind::Gt => (BinOp::Gt, CMP_PRECEDENCE),
        TokenKind::Ge => (BinOp::Ge, CMP_PRECEDENCE),
        TokenKind::Pipe => (BinOp::BitOr, 4),
        TokenKind::Caret => (BinOp::BitXor, 5),
        TokenKind::Amp => (BinOp::BitAnd, 6),
        TokenKind::Shl => (BinOp::Shl, 7),
        TokenKind::Shr => (BinOp::Shr, 7),
        TokenKind::UShr => (BinOp::UShr, 7),
        TokenKind::Plus => (BinOp::Add, 8),
        TokenKind::Minus => (BinOp::Sub, 8),
        TokenKind::Star => (BinOp::Mul, 9),
        TokenKind::Slash => (BinOp::Div, 9),
        TokenKind::Percent => (BinOp::Rem, 9),
        _ => return None,
    })
}

struct Parser<'t> {
    tokens: &'t [Token],
    pos: usize,
    /// Current nesting, bounded by [`MAX_NESTING`].
    depth: u32,
}

impl Parser<'_> {
    fn token(&self, ahead: usize) -> &Token {
        // The list ends with Eof, and nothing advances past it.
        &self.tokens[(self.pos + ahead).min(self.tokens.len() - 1)]
    }

    fn peek(&self) -> &TokenKind {
        &self.token(0).kind
    }

    fn span(&self) -> Span {
        self.token(0).span
    }

    /// End of the last consumed token.
    fn prev_end(&self) -> u32 {
        if self.pos == 0 {
            0
        } else {
            self.tokens[self.pos - 1].span.end
        }
    }

    fn since(&self, start: Span) -> Span {
        Span { start: start.start, end: self.prev_end().max(start.start) }
    }

    fn advance(&mut self) -> Span {
        let span = self.span();
        if !matches!(self.peek(), TokenKind::Eof) {
            self.pos += 1;
        }
        span
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        let found = self.peek() == kind;
        if found {
            self.advance();
        }
        found
    }

    fn error_at(span: Span, message: impl Into<String>) -> ParseError {
        ParseError { offset: span.start as usize, message: message.into() }
    }

    fn unexpected(&self, expected: &str) -> ParseError {
        Self::error_at(self.span(), format!("expected {expected}, found {}", self.peek()))
    }

    fn expect(&mut self, kind: TokenKind) -> Result<Span> {
        if self.peek() == &kind {
            Ok(self.advance())
        } else {
            Err(self.unexpected(&kind.to_string()))
        }
    }

    fn ident(&mut self, what: &str) -> Result<Ident> {
        match self.peek() {
            TokenKind::Ident(name) => {
                let name = name.clone();
                Ok(Ident { name, span: self.advance() })
            }
            _ => Err(self.unexpected(what)),
        }
    }

    /// Counts one more level of nesting at the current token.
    fn deeper(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(Self::error_at(self.span(), format!("program is nested too deeply (limit {MAX_NESTING})")));
        }
        Ok(())
    }

    /// Runs `f` one nesting level deeper.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.deeper()?;
        let result = f(self);
        self.depth -= 1;
        result
    }

    /// `item, item, ... close` with an optional trailing comma; consumes `close`.
    fn comma_list<T>(&mut self, close: TokenKind, mut item: impl FnMut(&mut Self) -> Result<T>) -> Result<Vec<T>> {
        let mut items = Vec::new();
        while self.peek() != &close {
            items.push(item(self)?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        self.expect(close)?;
        Ok(items)
    }

    fn typed_name(&mut self, what: &str) -> Result<(Ident, TypeExpr)> {
        let name = self.ident(what)?;
        self.expect(TokenKind::Colon)?;
        Ok((name, self.type_expr()?))
    }

    fn record_decl(&mut self) -> Result<RecordDecl> {
        self.expect(TokenKind::Type)?;
        let name = self.ident("a record name")?;
        self.expect(TokenKind::LBrace)?;
        let fields = self.comma_list(TokenKind::RBrace, |p| p.typed_name("a field name"))?;
        Ok(RecordDecl { name, fields })
    }

    fn global_decl(&mut self) -> Result<GlobalDecl> {
        self.expect(TokenKind::Let)?;
        let name = self.ident("a variable name")?;
        let ty = if self.eat(&TokenKind::Colon) { Some(self.type_expr()?) } else { None };
        self.expect(TokenKind::Assign)?;
        let init = self.expr()?;
        self.expect(TokenKind::Semi)?;
        Ok(GlobalDecl { name, ty, init })
    }

    fn fn_decl(&mut self) -> Result<FnDecl> {
        self.expect(TokenKind::Fn)?;
        let name = self.ident("a function name")?;
        self.expect(TokenKind::LParen)?;
        let params = self.comma_list(TokenKind::RParen, |p| p.typed_name("a parameter name"))?;
        let ret = if self.eat(&TokenKind::Arrow) { Some(self.type_expr()?) } else { None };
        let body = self.block()?;
        Ok(FnDecl { name, params, ret, body })
    }

    fn type_expr(&mut self) -> Result<TypeExpr> {
        let start = self.span();
        let kind = match self.peek() {
            TokenKind::IntKw => TypeExprKind::Int,
            TokenKind::FloatKw => TypeExprKind::Float,
            TokenKind::BoolKw => TypeExprKind::Bool,
            TokenKind::Ident(name) => TypeExprKind::Named(name.clone()),
            TokenKind::LBracket => {
                self.advance();
                let elem = self.nested(Self::type_expr)?;
                self.expect(TokenKind::RBracket)?;
                return Ok(TypeExpr { kind: TypeExprKind::Array(Box::new(elem)), span: self.since(start) });
            }
            _ => return Err(self.unexpected("a type")),
        };
        self.advance();
        Ok(TypeExpr { kind, span: start })
    }

    fn block(&mut self) -> Result<Block> {
        let start = self.expect(TokenKind::LBrace)?;
        self.nested(|p| {
            let mut stmts = Vec::new();
            while !p.eat(&TokenKind::RBrace) {
                if p.peek() == &TokenKind::Eof {
                    return Err(p.unexpected("`}`"));
                }
                stmts.push(p.stmt()?);
            }
            Ok(Block { stmts, span: p.since(start) })
        })
    }

    fn stmt(&mut self) -> Result<Stmt> {
        let start = self.span();
        let kind = match self.peek() {
            TokenKind::Let => {
                self.advance();
                let name = self.ident("a variable name")?;
                let ty = if self.eat(&TokenKind::Colon) { Some(self.type_expr()?) } else { None };
                self.expect(TokenKind::Assign)?;
                let init = self.expr()?;
                self.expect(TokenKind::Semi)?;
                StmtKind::Let { name, ty, init }
            }
            TokenKind::If => return self.if_stmt(),
            TokenKind::While => {
                self.advance();
                let cond = self.expr()?;
                StmtKind::While { cond, body: self.block()? }
            }
            TokenKind::For => {
                self.advance();
                let var = self.ident("a loop variable")?;
                self.expect(TokenKind::In)?;
                let start = self.expr()?;
                self.expect(TokenKind::DotDot)?;
                let end = self.expr()?;
                StmtKind::For { var, start, end, body: self.block()? }
            }
            kind @ (TokenKind::Break | TokenKind::Continue) => {
                let kind = if *kind == TokenKind::Break { StmtKind::Break } else { StmtKind::Continue };
                self.advance();
                self.expect(TokenKind::Semi)?;
                kind
            }
            TokenKind::Return => {
                self.advance();
                let value = if self.peek() == &TokenKind::Semi { None } else { Some(self.expr()?) };
                self.expect(TokenKind::Semi)?;
                StmtKind::Return(value)
            }
            kind @ (TokenKind::Print | TokenKind::Panic) => {
                let is_print = *kind == TokenKind::Print;
                self.advance();
                self.expect(TokenKind::LParen)?;
                let args = self.comma_list(TokenKind::RParen, |p| match p.peek() {
                    TokenKind::Str(text) => {
                        let text = text.clone();
                        p.advance();
                        Ok(PrintArg::Str(text))
                    }
                    _ => Ok(PrintArg::Expr(p.expr()?)),
                })?;
                self.expect(TokenKind::Semi)?;
                if is_print {
                    StmtKind::Print(args)
                } else {
                    StmtKind::Panic(args)
                }
            }
            TokenKind::Defer => {
                self.advance();
                let call = self.expr()?;
                self.expect(TokenKind::Semi)?;
                StmtKind::Defer(call)
            }
            _ => {
                let target = self.expr()?;
                let kind = if self.eat(&TokenKind::Assign) {
                    StmtKind::Assign { target, value: self.expr()? }
                } else {
                    StmtKind::Expr(target)
                };
                self.expect(TokenKind::Semi)?;
                kind
            }
        };
        Ok(Stmt { kind, span: self.since(start) })
    }

    fn if_stmt(&mut self) -> Result<Stmt> {
        let start = self.expect(TokenKind::If)?;
        let cond = self.expr()?;
        let then_block = self.block()?;
        let else_block = if !self.eat(&TokenKind::Else) {
            None
        } else if self.peek() == &TokenKind::If {
            let inner = self.nested(Self::if_stmt)?;
            Some(Block { span: inner.span, stmts: vec![inner] })
        } else {
            Some(self.block()?)
        };
        Ok(Stmt { kind: StmtKind::If { cond, then_block, else_block }, span: self.since(start) })
    }

    /// An expression (one nesting level deeper than its context).
    fn expr(&mut self) -> Result<Expr> {
        self.nested(|p| p.binary(1))
    }

    /// Precedence climbing: operands bound at least as tightly as `min_prec`.
    /// Each operator applied deepens the tree by one, so the chain counts
    /// towards the nesting limit.
    fn binary(&mut self, min_prec: u8) -> Result<Expr> {
        let saved_depth = self.depth;
        let mut lhs = self.unary()?;
        let mut last_was_cmp = false;
        while let Some((op, prec)) = binary_op(self.peek()) {
            if prec < min_prec {
                break;
            }
            if prec == CMP_PRECEDENCE && last_was_cmp {
                return Err(Self::error_at(self.span(), "comparison operators cannot be chained; add parentheses"));
            }
            last_was_cmp = prec == CMP_PRECEDENCE;
            self.deeper()?;
            let op_span = self.advance();
            let rhs = self.binary(prec + 1)?;
            let span = lhs.span.to(rhs.span);
            lhs = Expr { kind: ExprKind::Binary { op, op_span, lhs: Box::new(lhs), rhs: Box::new(rhs) }, span };
        }
        self.depth = saved_depth;
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr> {
        let start = self.span();
        let op = match self.peek() {
            TokenKind::Minus => UnOp::Neg,
            TokenKind::Bang => UnOp::Not,
            TokenKind::Tilde => UnOp::BitNot,
            _ => return self.postfix(),
        };
        self.advance();
        if let (UnOp::Neg, TokenKind::Int(value)) = (op, self.peek()) {
            // Fold `-literal` so that `-9223372036854775808` is writable.
            let value = *value;
            if value > 1 << 63 {
                return Err(Self::error_at(start, "integer literal is out of range for `int`"));
            }
            let span = start.to(self.advance());
            let literal = Expr { kind: ExprKind::Int((value as i64).wrapping_neg()), span };
            return self.postfix_ops(literal);
        }
        let operand = self.nested(Self::unary)?;
        let span = start.to(operand.span);
        Ok(Expr { kind: ExprKind::Unary { op, operand: Box::new(operand) }, span })
    }

    fn postfix(&mut self) -> Result<Expr> {
        let primary = self.primary()?;
        self.postfix_ops(primary)
    }

    /// `.field` and `[index]` after `expr`; each deepens the tree by one.
    fn postfix_ops(&mut self, mut expr: Expr) -> Result<Expr> {
        let saved_depth = self.depth;
        loop {
            let kind = match self.peek() {
                TokenKind::Dot => {
                    self.deeper()?;
                    self.advance();
                    let field = self.ident("a field name")?;
                    ExprKind::Field { object: Box::new(expr), field }
                }
                TokenKind::LBracket => {
                    self.deeper()?;
                    self.advance();
                    let index = self.expr()?;
                    self.expect(TokenKind::RBracket)?;
                    ExprKind::Index { array: Box::new(expr), index: Box::new(index) }
                }
                _ => break,
            };
            let span = match &kind {
                ExprKind::Field { object, .. } | ExprKind::Index { array: object, .. } => self.since(object.span),
                _ => unreachable!("only postfix forms are built here"),
            };
            expr = Expr { kind, span };
        }
        self.depth = saved_depth;
        Ok(expr)
    }

    fn args(&mut self) -> Result<Vec<Expr>> {
        self.expect(TokenKind::LParen)?;
        self.comma_list(TokenKind::RParen, Self::expr)
    }

    fn primary(&mut self) -> Result<Expr> {
        let start = self.span();
        let kind = match self.peek().clone() {
            TokenKind::Int(value) => {
                let value = i64::try_from(value)
                    .map_err(|_| Self::error_at(start, "integer literal is out of range for `int`"))?;
                self.advance();
                ExprKind::Int(value)
            }
            TokenKind::Float(value) => {
                self.advance();
                ExprKind::Float(value)
            }
            kind @ (TokenKind::True | TokenKind::False) => {
                self.advance();
                ExprKind::Bool(kind == TokenKind::True)
            }
            TokenKind::Nil => {
                self.advance();
                ExprKind::Nil
            }
            TokenKind::Ident(name) => {
                let span = self.advance();
                if self.peek() == &TokenKind::LParen {
                    ExprKind::Call { name: Ident { name, span }, args: self.args()? }
                } else {
                    ExprKind::Var(name)
                }
            }
            TokenKind::Spawn => {
                self.advance();
                let TokenKind::Ident(name) = self.peek().clone() else {
                    return Err(self.unexpected("the name of the function `spawn` calls"));
                };
                let span = self.advance();
                if self.peek() != &TokenKind::LParen {
                    return Err(self.unexpected("`(` of the call `spawn` runs"));
                }
                ExprKind::Spawn { name: Ident { name, span }, args: self.args()? }
            }
            kind @ (TokenKind::Len | TokenKind::IntKw | TokenKind::FloatKw | TokenKind::Recover | TokenKind::Join) => {
                self.advance();
                let builtin = match kind {
                    TokenKind::Len => Builtin::Len,
                    TokenKind::IntKw => Builtin::Int,
                    TokenKind::Recover => Builtin::Recover,
                    TokenKind::Join => Builtin::Join,
                    _ => Builtin::Float,
                };
                ExprKind::Builtin { builtin, args: self.args()? }
            }
            TokenKind::LParen => {
                self.advance();
                let inner = self.expr()?;
                self.expect(TokenKind::RParen)?;
                inner.kind
            }
            TokenKind::New => {
                self.advance();
                self.new_expr()?
            }
            TokenKind::Str(_) => {
                return Err(Self::error_at(start, "string literals are only allowed as arguments of `print`"))
            }
            _ => return Err(self.unexpected("an expression")),
        };
        Ok(Expr { kind, span: self.since(start) })
    }

    /// After `new`: `Name { field: value, ... }` or `[T](len)`.
    fn new_expr(&mut self) -> Result<ExprKind> {
        if self.eat(&TokenKind::LBracket) {
            let elem = self.nested(Self::type_expr)?;
            self.expect(TokenKind::RBracket)?;
            self.expect(TokenKind::LParen)?;
            let len = self.expr()?;
            self.expect(TokenKind::RParen)?;
            return Ok(ExprKind::NewArray { elem, len: Box::new(len) });
        }
        let record = self.ident("a record name or `[` after `new`")?;
        self.expect(TokenKind::LBrace)?;
        let fields = self.comma_list(TokenKind::RBrace, |p| {
            let name = p.ident("a field name")?;
            p.expect(TokenKind::Colon)?;
            Ok((name, p.expr()?))
        })?;
        Ok(ExprKind::NewRecord { record, fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::tokenize;

    fn expr(source: &str) -> Expr {
        let program = parse(&tokenize(&format!("fn f() {{ g({source}); }}")).unwrap()).unwrap();
        match &program.functions[0].body.stmts[0].kind {
            StmtKind::Expr(Expr { kind: ExprKind::Call { args, .. }, .. }) => args[0].clone(),
            other => panic!("not a call: {other:?}"),
        }
    }

    /// Fully parenthesized rendering, to check precedence.
    fn show(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Int(v) => v.to_string(),
            ExprKind::Var(name) => name.clone(),
            ExprKind::Binary { op, lhs, rhs, .. } => format!("({} {} {})", show(lhs), op.symbol(), show(rhs)),
            ExprKind::Unary { op, operand } => format!("({op:?} {})", show(operand)),
            ExprKind::Field { object, field } => format!("{}.{}", show(object), field.name),
            ExprKind::Index { array, index } => format!("{}[{}]", show(array), show(index)),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(show(&expr("a || b && c == d + e * f")), "(a || (b && (c == (d + (e * f)))))");
        assert_eq!(show(&expr("a - b - c")), "((a - b) - c)");
        assert_eq!(show(&expr("-a.b[1] * !c")), "((Neg a.b[1]) * (Not c))");
        assert_eq!(show(&expr("-9223372036854775808")), "-9223372036854775808");
        assert_eq!(show(&expr("(a + b) * c")), "((a + b) * c)");
        assert_eq!(show(&expr("a | b ^ c & d << e + f")), "(a | (b ^ (c & (d << (e + f)))))");
        assert_eq!(show(&expr("a & b == c | d")), "((a & b) == (c | d))");
        assert_eq!(show(&expr("a >> 1 >>> 2 * ~b")), "((a >> 1) >>> (2 * (BitNot b)))");
    }

    #[test]
    fn spans_cover_the_whole_expression() {
        let e = expr("a.b[c + 1]");
        assert_eq!((e.span.start, e.span.end), (11, 21));
    }

    #[test]
    fn comparisons_do_not_chain() {
        let err = parse(&tokenize("fn f() { g(a < b < c); }").unwrap()).unwrap_err();
        assert_eq!((err.offset, err.message.as_str()), (17, "comparison operators cannot be chained; add parentheses"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        for source in [
            format!("fn f() {{ g({}1{}); }}", "(".repeat(100_000), ")".repeat(100_000)),
            format!("fn f() {{ g(1{}); }}", " + 1".repeat(100_000)),
            format!("fn f() {{ g(a{}); }}", ".b".repeat(100_000)),
            format!("fn f() {{ {} }}", "while true {".repeat(100_000)),
            format!("fn f(a: {}int) {{ }}", "[".repeat(100_000)),
            format!("fn f() {{ g({}1); }}", "-!".repeat(100_000)),
        ] {
            let err = parse(&tokenize(&source).unwrap()).unwrap_err();
            assert!(err.message.starts_with("program is nested too deeply"), "{}", err.message);
        }
    }
}
