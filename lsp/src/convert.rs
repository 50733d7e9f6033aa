//! Between byte offsets and LSP positions (lines and UTF-16 columns), and from compiler
//! diagnostics to LSP diagnostics.

use conv_lang::line_index::LineIndex;
use conv_lang::{Diagnostic, Severity, Span};
use tower_lsp_server::ls_types::{
    self as lsp, DiagnosticRelatedInformation, Location, NumberOrString, Position, Range, Uri,
};

pub struct Text<'t> {
    pub text: &'t str,
    index: LineIndex,
}

impl<'t> Text<'t> {
    pub fn new(text: &'t str) -> Self {
        Text { text, index: LineIndex::new(text) }
    }

    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.index.line_of(offset);
        let start = self.index.line_start(line);
        let column: usize = self.text.get(start..offset).map(|s| s.encode_utf16().count()).unwrap_or(0);
        Position::new(line as u32, column as u32)
    }

    pub fn range(&self, span: Span) -> Range {
        Range::new(self.position(span.start), self.position(span.end))
    }

    pub fn offset(&self, pos: Position) -> usize {
        let lines = self.text.split_inclusive('\n').count().max(1);
        if pos.line as usize >= lines {
            return self.text.len();
        }
        let start = self.index.line_start(pos.line as usize);
        let mut units = 0u32;
        for (i, c) in self.text[start..].char_indices() {
            if units >= pos.character || c == '\n' {
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
    related: impl Fn(conv_lang::FileId) -> Option<(Uri, String)>,
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
            let (uri, other) = related(l.file)?;
            let t = Text::new(&other);
            Some(DiagnosticRelatedInformation {
                location: Location::new(uri, t.range(l.span)),
                message: l.message.clone(),
            })
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
