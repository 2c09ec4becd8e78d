//! Diagnostics: source positions and error rendering.
//!
//! Every phase reports errors as a [`Diagnostic`] with a 1-based line and a
//! 1-based column counted in characters (Unicode scalar values; a tab counts
//! as one). Positions inside the compiler are byte offsets ([`Span`]); a
//! [`LineIndex`] turns them into lines and columns only when a diagnostic is
//! made.

use std::fmt;

/// A half-open byte range `start..end` of the source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// Offset of the first byte.
    pub start: u32,
    /// Offset one past the last byte.
    pub end: u32,
}

impl Span {
    /// The span `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Self { start: to_u32(start), end: to_u32(end) }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// Offsets are stored as `u32`; `lib::check` refuses sources of 4 GiB or more,
/// so this saturation never changes a real offset.
fn to_u32(offset: usize) -> u32 {
    u32::try_from(offset).unwrap_or(u32::MAX)
}

/// One error, located in a source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file name given to [`crate::check`].
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// What is wrong, starting in lower case, without a trailing period.
    pub message: String,
}

impl Diagnostic {
    /// The full rendering: the `file:line:col: error: message` header, the
    /// offending source line, and a caret under the column. Tabs before the
    /// column are kept so the caret lines up in a terminal.
    pub fn render(&self, source: &str) -> String {
        let mut out = format!("{self}\n");
        let Some(text) = source.split('\n').nth(self.line.saturating_sub(1) as usize) else {
            return out;
        };
        let text = text.strip_suffix('\r').unwrap_or(text);
        let pad: String = text
            .chars()
            .take(self.column.saturating_sub(1) as usize)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        out.push_str(text);
        out.push('\n');
        out.push_str(&pad);
        out.push_str("^\n");
        out
    }
}

/// The one-line header `file:line:col: error: message`.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: error: {}", self.file, self.line, self.column, self.message)
    }
}

/// Renders every diagnostic with [`Diagnostic::render`], in order.
pub fn render_all(diagnostics: &[Diagnostic], source: &str) -> String {
    diagnostics.iter().map(|d| d.render(source)).collect()
}

/// Maps byte offsets of one source text to lines and columns.
#[derive(Clone, Debug)]
pub struct LineIndex {
    /// Byte offset at which each line starts; `line_starts[0] == 0`.
    line_starts: Vec<u32>,
    /// For each line, whether it is pure ASCII (columns are then byte counts).
    ascii: Vec<bool>,
    /// The source text, kept to count characters on non-ASCII lines.
    source: String,
}

impl LineIndex {
    /// Indexes `source`.
    pub fn new(source: &str) -> Self {
        let mut line_starts = vec![0];
        let mut ascii = Vec::new();
        let mut line_ascii = true;
        for (i, b) in source.bytes().enumerate() {
            line_ascii &= b.is_ascii();
            if b == b'\n' {
                line_starts.push(to_u32(i + 1));
                ascii.push(line_ascii);
                line_ascii = true;
            }
        }
        ascii.push(line_ascii);
        Self { line_starts, ascii, source: source.to_owned() }
    }

    /// The 1-based `(line, column)` of byte `offset`. Offsets past the end
    /// map to the end; an offset inside a multi-byte character maps to that
    /// character.
    pub fn position(&self, offset: u32) -> (u32, u32) {
        let offset = offset.min(to_u32(self.source.len()));
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let column = if self.ascii[line] {
            offset - start
        } else {
            let text = &self.source.as_bytes()[start as usize..offset as usize];
            // Count the bytes that start a character.
            to_u32(text.iter().filter(|&&b| (b as i8) >= -0x40).count())
        };
        (to_u32(line + 1), column + 1)
    }

    /// A diagnostic for `file` at byte `offset`.
    pub fn diagnostic(&self, file: &str, offset: u32, message: impl Into<String>) -> Diagnostic {
        let (line, column) = self.position(offset);
        Diagnostic { file: file.to_owned(), line, column, message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let index = LineIndex::new("ab\n\u{e9}x\n\ty");
        assert_eq!(index.position(0), (1, 1));
        assert_eq!(index.position(2), (1, 3));
        assert_eq!(index.position(3), (2, 1));
        assert_eq!(index.position(5), (2, 2)); // 'x' after a two-byte 'é'
        assert_eq!(index.position(8), (3, 2));
        assert_eq!(index.position(999), (3, 3));
    }

    #[test]
    fn render_keeps_tabs_under_the_caret() {
        let source = "fn f() {\n\tlet x = y;\n}\n";
        let d = LineIndex::new(source).diagnostic("a.toy", 18, "unknown variable `y`");
        assert_eq!(d.render(source), "a.toy:2:10: error: unknown variable `y`\n\tlet x = y;\n\t        ^\n");
    }
}
