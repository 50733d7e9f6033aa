//! Between byte offsets and LSP positions (lines and UTF-16 columns), and from compiler
//! diagnostics to LSP diagnostics.

use conv_lang::{Diagnostic, Severity, Span};
use std::cell::Cell;
use tower_lsp_server::ls_types::{
    self as lsp, DiagnosticRelatedInformation, Location, NumberOrString, Position, Range, Uri,
};

/// A document's text with its line starts, for conversions between byte offsets and LSP
/// positions. Lines end at `\n`, `\r\n` or a lone `\r`, as the protocol says (not at
/// U+2028 or U+2029); columns count UTF-16 code units.
pub struct Text<'t> {
    pub text: &'t str,
    line_starts: Vec<usize>,
    /// The last position found: scans that go forward on a line (semantic tokens, a list
    /// of diagnostics) count columns from there instead of from the line start.
    last: Cell<(usize, usize, u32)>,
}

impl<'t> Text<'t> {
    pub fn new(text: &'t str) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                line_starts.push(i + 1);
            }
        }
        Text { text, line_starts, last: Cell::new((0, 0, 0)) }
    }

    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        // Between the `\r` and the `\n` of a line end (where a comment's span ends, since
        // the `\r` is part of the comment to the lexer): the end of the line's text, not
        // one unit past it.
        let bytes = self.text.as_bytes();
        if offset > 0 && bytes[offset - 1] == b'\r' && bytes.get(offset) == Some(&b'\n') {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let (last_offset, last_line, last_column) = self.last.get();
        let (from, mut column) = if last_line == line && last_offset <= offset && last_offset >= start {
            (last_offset, last_column)
        } else {
            (start, 0)
        };
        column += self.text[from..offset].encode_utf16().count() as u32;
        self.last.set((offset, line, column));
        Position::new(line as u32, column)
    }

    pub fn range(&self, span: Span) -> Range {
        Range::new(self.position(span.start), self.position(span.end))
    }

    /// The byte offset of a position: past the end of a line is its end, past the last line
    /// the end of the text, and inside a surrogate pair the end of that character.
    pub fn offset(&self, pos: Position) -> usize {
        let Some(&start) = self.line_starts.get(pos.line as usize) else {
            return self.text.len();
        };
        let mut units = 0u32;
        for (i, c) in self.text[start..].char_indices() {
            if units >= pos.character || c == '\n' || c == '\r' {
                return start + i;
            }
            units += c.len_utf16() as u32;
        }
        self.text.len()
    }
}

/// The replacement a `did you mean` hint proposes, if the diagnostic has one.
pub fn suggestion(diag: &Diagnostic) -> Option<String> {
    let help = diag.help.as_deref()?;
    let rest = help.strip_prefix("did you mean `")?;
    Some(rest.split('`').next()?.to_string())
}

pub fn diagnostic(
    d: &Diagnostic,
    text: &Text<'_>,
    related: impl Fn(conv_lang::FileId, Span) -> Option<(Uri, Range)>,
) -> lsp::Diagnostic {
    let mut message = d.message.clone();
    if !d.primary.message.is_empty() {
        message.push_str(&format!("\n{}", d.primary.message));
    }
    for note in &d.notes {
        message.push_str(&format!("\nnote: {note}"));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related_information: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter_map(|l| {
            let (uri, range) = related(l.file, l.span)?;
            Some(DiagnosticRelatedInformation { location: Location::new(uri, range), message: l.message.clone() })
        })
        .collect();
    lsp::Diagnostic {
        range: text.range(d.primary.span),
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.id.to_string())),
        source: Some("conv".into()),
        message,
        related_information: if related_information.is_empty() { None } else { Some(related_information) },
        data: suggestion(d).map(|s| serde_json::json!({ "replacement": s })),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_at_lf_crlf_and_lone_cr_only() {
        let t = Text::new("a\rb\r\nc\nd\u{2028}e");
        assert_eq!(t.position(2), Position::new(1, 0));
        assert_eq!(t.position(5), Position::new(2, 0));
        assert_eq!(t.position(7), Position::new(3, 0));
        assert_eq!(t.position(11), Position::new(3, 2), "U+2028 is one UTF-16 unit, not a line end");
        assert_eq!(t.offset(Position::new(1, 9)), 3, "past the end of a line is its end");
        assert_eq!(t.offset(Position::new(9, 0)), t.text.len());
        assert_eq!(t.position(4), Position::new(1, 1), "between \\r and \\n: the end of the line's text");
    }

    #[test]
    fn columns_count_utf16_and_surrogate_halves_round_up() {
        let t = Text::new("x😀y");
        assert_eq!(t.position(5), Position::new(0, 3));
        assert_eq!(t.offset(Position::new(0, 2)), 5, "inside the pair: after the emoji");
        assert_eq!(t.position(3), Position::new(0, 1), "inside the emoji's bytes: its start");
        assert_eq!(t.position(99), Position::new(0, 4));
    }
}
