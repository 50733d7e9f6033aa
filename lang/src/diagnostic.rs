//! Diagnostics are data: a code, a severity, a message, labelled spans, notes and a hint.
//!
//! Nothing here renders: the CLI turns these values into ariadne reports or JSON, the
//! language server into LSP diagnostics.

use crate::span::{FileId, Span};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A stable diagnostic code with its long explanation, kept beside the code that emits it.
#[derive(Debug)]
pub struct Code {
    /// The stable identifier users search for, such as `E0105`.
    pub id: &'static str,
    /// A short kebab-case name, such as `syntax-error`.
    pub name: &'static str,
    /// What `conv explain` prints: what it means, why it matters, an example and the fix.
    pub explanation: &'static str,
}

/// One labelled place in a source file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static Code,
    pub severity: Severity,
    /// The title: short, in the domain's words.
    pub message: String,
    /// The place the problem is; its message says what is wrong there.
    pub primary: Label,
    /// Other places that explain it (the first declaration, the expected type...).
    pub labels: Vec<Label>,
    pub notes: Vec<String>,
    pub help: Option<String>,
}

impl PartialEq for Code {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for Code {}

impl Diagnostic {
    pub fn error(code: &'static Code, file: FileId, span: Span, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, file, span, message)
    }

    pub fn warning(code: &'static Code, file: FileId, span: Span, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, file, span, message)
    }

    fn new(code: &'static Code, severity: Severity, file: FileId, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity,
            message: message.into(),
            primary: Label { file, span, message: String::new() },
            labels: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// Sets the message shown under the primary span.
    pub fn with_primary_label(mut self, message: impl Into<String>) -> Self {
        self.primary.message = message.into();
        self
    }

    pub fn with_label(mut self, file: FileId, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label { file, span, message: message.into() });
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Orders diagnostics by file and position, so output is stable whatever order checks ran in.
pub fn sort_diagnostics(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (a.primary.file, a.primary.span.start, a.primary.span.end, a.code.id).cmp(&(
            b.primary.file,
            b.primary.span.start,
            b.primary.span.end,
            b.code.id,
        ))
    });
}
