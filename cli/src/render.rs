//! Renders diagnostics for people (ariadne) and for programs (JSON).

use ariadne::{Color, Config, IndexType, Label, Report, ReportKind};
use conv_compiler::Sources;
use conv_lang::line_index::{LineCol, LineIndex};
use conv_lang::{Diagnostic, Severity};
use serde::Serialize;
use std::collections::HashMap;

/// Renders diagnostics as ariadne reports, one after another.
pub fn human(diagnostics: &[Diagnostic], sources: &Sources, color: bool) -> String {
    if diagnostics.is_empty() {
        return String::new();
    }
    let mut cache = ariadne::sources(sources.all().iter().map(|s| (s.name.clone(), s.text.clone())));
    let mut out = Vec::new();
    for diag in diagnostics {
        let report = report(diag, sources, color);
        // Writing into a Vec cannot fail; a source missing from the cache would be our bug.
        let _ = report.write(&mut cache, &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn report<'a>(diag: &Diagnostic, sources: &Sources, color: bool) -> Report<'a, (String, std::ops::Range<usize>)> {
    let name = |file| sources.get(file).name.clone();
    let (kind, tint) = match diag.severity {
        Severity::Error => (ReportKind::Error, Color::Red),
        Severity::Warning => (ReportKind::Warning, Color::Yellow),
    };
    let primary = &diag.primary;
    let mut builder = Report::build(kind, (name(primary.file), primary.span.start..primary.span.end))
        .with_config(Config::default().with_color(color).with_index_type(IndexType::Byte))
        .with_code(diag.code.id)
        .with_message(&diag.message);
    let mut label =
        Label::new((name(primary.file), primary.span.start..primary.span.end)).with_color(tint).with_order(0);
    if !primary.message.is_empty() {
        label = label.with_message(&primary.message);
    }
    builder = builder.with_label(label);
    for (i, extra) in diag.labels.iter().enumerate() {
        builder = builder.with_label(
            Label::new((name(extra.file), extra.span.start..extra.span.end))
                .with_message(&extra.message)
                .with_color(Color::Blue)
                .with_order(i as i32 + 1),
        );
    }
    for note in &diag.notes {
        builder = builder.with_note(note);
    }
    if let Some(help) = &diag.help {
        builder = builder.with_help(help);
    }
    builder.finish()
}

/// A one-line summary such as `2 errors, 1 warning`.
pub fn summary(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| {
        if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") }
    };
    format!("{}, {}", plural(errors, "error"), plural(warnings, "warning"))
}

/// The JSON contract of `conv check --format json` (see docs/diagnostics-json.md).
#[derive(Serialize)]
pub struct JsonDiagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub file: String,
    pub range: JsonRange,
    pub labels: Vec<JsonLabel>,
    pub notes: Vec<String>,
    pub help: Option<String>,
}

#[derive(Serialize)]
pub struct JsonRange {
    pub start: JsonPosition,
    pub end: JsonPosition,
}

#[derive(Serialize)]
pub struct JsonPosition {
    /// Byte offset from the start of the file.
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

#[derive(Serialize)]
pub struct JsonLabel {
    pub file: String,
    pub range: JsonRange,
    pub message: String,
    pub primary: bool,
}

pub fn json(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    let mut indexes: HashMap<conv_lang::FileId, LineIndex> = HashMap::new();
    let mut range = |file: conv_lang::FileId, span: conv_lang::Span| {
        let text = &sources.get(file).text;
        let index = indexes.entry(file).or_insert_with(|| LineIndex::new(text));
        let pos = |offset: usize| {
            let LineCol { line, column } = index.line_col(text, offset);
            JsonPosition { offset, line, column }
        };
        JsonRange { start: pos(span.start), end: pos(span.end) }
    };
    let items: Vec<JsonDiagnostic> = diagnostics
        .iter()
        .map(|d| {
            let mut labels = vec![JsonLabel {
                file: sources.get(d.primary.file).name.clone(),
                range: range(d.primary.file, d.primary.span),
                message: d.primary.message.clone(),
                primary: true,
            }];
            labels.extend(d.labels.iter().map(|l| JsonLabel {
                file: sources.get(l.file).name.clone(),
                range: range(l.file, l.span),
                message: l.message.clone(),
                primary: false,
            }));
            JsonDiagnostic {
                code: d.code.id,
                severity: d.severity,
                message: d.message.clone(),
                file: sources.get(d.primary.file).name.clone(),
                range: range(d.primary.file, d.primary.span),
                labels,
                notes: d.notes.clone(),
                help: d.help.clone(),
            }
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into())
}
