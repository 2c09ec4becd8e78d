//! The lexer: source text to tokens with byte spans.
//!
//! Whitespace and comments (`// ...` to the end of the line, `/* ... */`
//! without nesting) separate tokens and are dropped. The token list always
//! ends with [`TokenKind::Eof`], whose span is empty at the end of the text.

use crate::diag::Span;
use std::fmt;

/// What a token is; literals carry their value.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
    /// An identifier that is not a keyword.
    Ident(String),
    /// A decimal integer literal (its sign is a separate `-` token; the
    /// parser checks the range of `i64`).
    Int(u64),
    /// A float literal `digits.digits[e[+|-]digits]`, always finite.
    Float(f64),
    /// A string literal with its escapes resolved.
    Str(String),
    /// `fn`
    Fn,
    /// `type`
    Type,
    /// `let`
    Let,
    /// `if`
    If,
    /// `else`
    Else,
    /// `while`
    While,
    /// `return`
    Return,
    /// `new`
    New,
    /// `nil`
    Nil,
    /// `true`
    True,
    /// `false`
    False,
    /// `int`
    IntKw,
    /// `float`
    FloatKw,
    /// `bool`
    BoolKw,
    /// `len`
    Len,
    /// `print`
    Print,
    /// `for`
    For,
    /// `in`
    In,
    /// `break`
    Break,
    /// `continue`
    Continue,
    /// `panic`
    Panic,
    /// `defer`
    Defer,
    /// `recover`
    Recover,
    /// `spawn`
    Spawn,
    /// `join`
    Join,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `:`
    Colon,
    /// `;`
    Semi,
    /// `.`
    Dot,
    /// `->`
    Arrow,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `%`
    Percent,
    /// `=`
    Assign,
    /// `==`
    EqEq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    AndAnd,
    /// `||`
    OrOr,
    /// `!`
    Bang,
    /// `..`
    DotDot,
    /// `&`
    Amp,
    /// `|`
    Pipe,
    /// `^`
    Caret,
    /// `~`
    Tilde,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `>>>`
    UShr,
    /// The end of the source text.
    Eof,
}

const KEYWORDS: &[(&str, TokenKind)] = &[
    ("fn", TokenKind::Fn),
    ("type", TokenKind::Type),
    ("let", TokenKind::Let),
    ("if", TokenKind::If),
    ("else", TokenKind::Else),
    ("while", TokenKind::While),
    ("return", TokenKind::Return),
    ("new", TokenKind::New),
    ("nil", TokenKind::Nil),
    ("true", TokenKind::True),
    ("false", TokenKind::False),
    ("int", TokenKind::IntKw),
    ("float", TokenKind::FloatKw),
    ("bool", TokenKind::BoolKw),
    ("len", TokenKind::Len),
    ("print", TokenKind::Print),
    ("for", TokenKind::For),
    ("in", TokenKind::In),
    ("break", TokenKind::Break),
    ("continue", TokenKind::Continue),
    ("panic", TokenKind::Panic),
    ("defer", TokenKind::Defer),
    ("recover", TokenKind::Recover),
    ("spawn", TokenKind::Spawn),
    ("join", TokenKind::Join),
];

/// Operators and punctuation, longest first so `->` wins over `-`.
const PUNCTUATION: &[(&str, TokenKind)] = &[
    (">>>", TokenKind::UShr),
    ("<<", TokenKind::Shl),
    (">>", TokenKind::Shr),
    ("..", TokenKind::DotDot),
    ("->", TokenKind::Arrow),
    ("==", TokenKind::EqEq),
    ("!=", TokenKind::NotEq),
    ("<=", TokenKind::Le),
    (">=", TokenKind::Ge),
    ("&&", TokenKind::AndAnd),
    ("||", TokenKind::OrOr),
    ("(", TokenKind::LParen),
    (")", TokenKind::RParen),
    ("{", TokenKind::LBrace),
    ("}", TokenKind::RBrace),
    ("[", TokenKind::LBracket),
    ("]", TokenKind::RBracket),
    (",", TokenKind::Comma),
    (":", TokenKind::Colon),
    (";", TokenKind::Semi),
    (".", TokenKind::Dot),
    ("+", TokenKind::Plus),
    ("-", TokenKind::Minus),
    ("*", TokenKind::Star),
    ("/", TokenKind::Slash),
    ("%", TokenKind::Percent),
    ("=", TokenKind::Assign),
    ("<", TokenKind::Lt),
    (">", TokenKind::Gt),
    ("!", TokenKind::Bang),
    ("&", TokenKind::Amp),
    ("|", TokenKind::Pipe),
    ("^", TokenKind::Caret),
    ("~", TokenKind::Tilde),
];

/// How a token is named in "expected X, found Y" messages.
impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenKind::Ident(name) => write!(f, "identifier `{name}`"),
            TokenKind::Int(value) => write!(f, "integer literal `{value}`"),
            TokenKind::Float(_) => f.write_str("float literal"),
            TokenKind::Str(_) => f.write_str("string literal"),
            TokenKind::Eof => f.write_str("end of file"),
            other => {
                let spelling =
                    KEYWORDS.iter().chain(PUNCTUATION).find(|(_, kind)| kind == other).map_or("?", |(text, _)| text);
                write!(f, "`{spelling}`")
            }
        }
    }
}

/// One token and where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Its bytes in the source.
    pub span: Span,
}

/// A lexical error: byte offset and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    /// Where the offending token or character starts.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// Splits `source` into tokens, stopping at the first error.
pub fn tokenize(source: &str) -> Result<Vec<Token>, LexError> {
    let mut lexer = Lexer { src: source, pos: 0 };
    let mut tokens = Vec::new();
    loop {
        lexer.skip_trivia()?;
        let start = lexer.pos;
        let kind = match lexer.next_kind()? {
            Some(kind) => kind,
            None => {
                tokens.push(Token { kind: TokenKind::Eof, span: Span::new(start, start) });
                return Ok(tokens);
            }
        };
        tokens.push(Token { kind, span: Span::new(start, lexer.pos) });
    }
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek_byte(&self, ahead: usize) -> Option<u8> {
        self.src.as_bytes().get(self.pos + ahead).copied()
    }

    fn error<T>(offset: usize, message: impl Into<String>) -> Result<T, LexError> {
        Err(LexError { offset, message: message.into() })
    }

    fn skip_trivia(&mut self) -> Result<(), LexError> {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start_matches([' ', '\t', '\r', '\n']);
            self.pos += rest.len() - trimmed.len();
            if trimmed.starts_with("//") {
                self.pos += trimmed.find('\n').unwrap_or(trimmed.len());
            } else if let Some(body) = trimmed.strip_prefix("/*") {
                match body.find("*/") {
                    Some(end) => self.pos += end + 4,
                    None => return Self::error(self.pos, "unterminated block comment"),
                }
            } else {
                return Ok(());
            }
        }
    }

    /// The next token's kind, or `None` at the end of the text.
    fn next_kind(&mut self) -> Result<Option<TokenKind>, LexError> {
        let Some(c) = self.rest().chars().next() else { return Ok(None) };
        if c.is_ascii_alphabetic() || c == '_' {
            return Ok(Some(self.word()));
        }
        if c.is_ascii_digit() {
            return self.number().map(Some);
        }
        if c == '"' {
            return self.string().map(Some);
        }
        for (text, kind) in PUNCTUATION {
            if self.rest().starts_with(text) {
                self.pos += text.len();
                return Ok(Some(kind.clone()));
            }
        }
        Self::error(self.pos, format!("unexpected character `{}`", c.escape_debug()))
    }

    fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek_byte(0).is_some_and(&pred) {
            self.pos += 1;
        }
        &self.src[start..self.pos]
    }

    fn word(&mut self) -> TokenKind {
        let word = self.take_while(|b| b.is_ascii_alphanumeric() || b == b'_');
        match KEYWORDS.iter().find(|(text, _)| *text == word) {
            Some((_, kind)) => kind.clone(),
            None => TokenKind::Ident(word.to_owned()),
        }
    }

    fn number(&mut self) -> Result<TokenKind, LexError> {
        let start = self.pos;
        self.take_while(|b| b.is_ascii_digit());
        let is_float = self.peek_byte(0) == Some(b'.') && self.peek_byte(1).is_some_and(|b| b.is_ascii_digit());
        if !is_float {
            let digits = &self.src[start..self.pos];
            return match digits.parse::<u64>() {
                Ok(value) => Ok(TokenKind::Int(value)),
                Err(_) => Self::error(start, "integer literal is too large"),
            };
        }
        self.pos += 1;
        self.take_while(|b| b.is_ascii_digit());
        if matches!(self.peek_byte(0), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(self.peek_byte(1), Some(b'+' | b'-')));
            if !self.peek_byte(1 + sign).is_some_and(|b| b.is_ascii_digit()) {
                return Self::error(self.pos, "missing digits in the exponent of a float literal");
            }
            self.pos += 1 + sign;
            self.take_while(|b| b.is_ascii_digit());
        }
        match self.src[start..self.pos].parse::<f64>() {
            Ok(value) if value.is_finite() => Ok(TokenKind::Float(value)),
            _ => Self::error(start, "float literal is out of range"),
        }
    }

    fn string(&mut self) -> Result<TokenKind, LexError> {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            let Some(c) = self.rest().chars().next() else {
                return Self::error(start, "unterminated string literal");
            };
            match c {
                '"' => {
                    self.pos += 1;
                    return Ok(TokenKind::Str(value));
                }
                '\n' => return Self::error(start, "unterminated string literal"),
                '\\' => {
                    let escaped = match self.peek_byte(1) {
                        Some(b'n') => '\n',
                        Some(b't') => '\t',
                        Some(b'\\') => '\\',
                        Some(b'"') => '"',
                        _ => return Self::error(self.pos, "unknown escape sequence (use \\n, \\t, \\\\ or \\\")"),
                    };
                    value.push(escaped);
                    self.pos += 2;
                }
                c => {
                    value.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<TokenKind> {
        tokenize(source).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn splits_operators_keywords_and_literals() {
        use TokenKind::*;
        assert_eq!(
            kinds("fn f(x:int)->[float]{a.b[1]=2.5e-1;} // c\n/* d */ \"t\\t\" != <= !x"),
            vec![
                Fn,
                Ident("f".into()),
                LParen,
                Ident("x".into()),
                Colon,
                IntKw,
                RParen,
                Arrow,
                LBracket,
                FloatKw,
                RBracket,
                LBrace,
                Ident("a".into()),
                Dot,
                Ident("b".into()),
                LBracket,
                Int(1),
                RBracket,
                Assign,
                Float(0.25),
                Semi,
                RBrace,
                Str("t\t".into()),
                NotEq,
                Le,
                Bang,
                Ident("x".into()),
                Eof
            ]
        );
    }

    #[test]
    fn bitwise_operators_ranges_and_loop_keywords() {
        use TokenKind::*;
        assert_eq!(
            kinds("a>>>b>>c<<d>=e&&f&g||h|i^~j for x in 0..n break continue"),
            vec![
                Ident("a".into()),
                UShr,
                Ident("b".into()),
                Shr,
                Ident("c".into()),
                Shl,
                Ident("d".into()),
                Ge,
                Ident("e".into()),
                AndAnd,
                Ident("f".into()),
                Amp,
                Ident("g".into()),
                OrOr,
                Ident("h".into()),
                Pipe,
                Ident("i".into()),
                Caret,
                Tilde,
                Ident("j".into()),
                For,
                Ident("x".into()),
                In,
                Int(0),
                DotDot,
                Ident("n".into()),
                Break,
                Continue,
                Eof
            ]
        );
    }

    #[test]
    fn a_dot_after_digits_needs_a_digit_to_make_a_float() {
        assert_eq!(kinds("1.x"), vec![TokenKind::Int(1), TokenKind::Dot, TokenKind::Ident("x".into()), TokenKind::Eof]);
    }

    #[test]
    fn errors_point_at_the_start() {
        assert_eq!(tokenize("a /* b").unwrap_err().offset, 2);
        assert_eq!(tokenize("x \"abc\ny\"").unwrap_err().offset, 2);
        assert_eq!(tokenize("99999999999999999999").unwrap_err().message, "integer literal is too large");
        assert_eq!(tokenize("a # b").unwrap_err().message, "unexpected character `#`");
    }
}
