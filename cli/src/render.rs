//! Renders diagnostics for people (ariadne) and for programs (JSON).

use ariadne::{Color, Config, IndexType, Label, Report, ReportKind};
use conv_compiler::Sources;
use conv_lang::excerpt::{Excerpt, escape_text, shown_escaped};
use conv_lang::line_index::{LineCol, LineIndex};
use conv_lang::{Diagnostic, FileId, Severity, Span};
use serde::Serialize;
use std::collections::HashMap;

/// Renders diagnostics as ariadne reports, one after another.
///
/// Each report is drawn from an excerpt of its files (`conv_lang::excerpt`): only the lines
/// its labels touch, long lines cut around them, and unprintable characters escaped, so the
/// cost of a report does not grow with the file and no character can break its layout.
pub fn human(diagnostics: &[Diagnostic], sources: &Sources, color: bool) -> String {
    if diagnostics.is_empty() {
        return String::new();
    }
    let mut indexes: HashMap<FileId, LineIndex> = HashMap::new();
    let mut out = Vec::new();
    let mut explained = std::collections::HashSet::new();
    for diag in diagnostics.iter().take(MAX_SHOWN) {
        let mut spans: Vec<(FileId, Span)> = vec![(diag.primary.file, diag.primary.span)];
        spans.extend(diag.labels.iter().map(|l| (l.file, l.span)));
        let mut excerpts: HashMap<FileId, Excerpt> = HashMap::new();
        for &(file, _) in &spans {
            if excerpts.contains_key(&file) {
                continue;
            }
            let text = &sources.get(file).text;
            let index = indexes.entry(file).or_insert_with(|| LineIndex::new(text));
            let of_file: Vec<Span> = spans.iter().filter(|(f, _)| *f == file).map(|(_, s)| *s).collect();
            excerpts.insert(file, Excerpt::new(text, index, &of_file));
        }
        let shown = excerpts.iter().map(|(file, e)| (sources.get(*file).name.clone(), numbered(e))).collect();
        let mut cache = ariadne::FnCache::new(
            (|id: &String| Err(format!("no source {id}"))) as fn(&String) -> Result<String, String>,
        )
        .with_sources(shown);
        // The first report of each code says where its long story is; later ones need not.
        let explain = explained.insert(diag.code.id);
        let report = report(diag, sources, &excerpts, color, explain);
        // Writing into a Vec cannot fail, and every file of the report is in the cache.
        let _ = report.write(&mut cache, &mut out);
    }
    if diagnostics.len() > MAX_SHOWN {
        out.extend(format!("... and {} more not shown\n", diagnostics.len() - MAX_SHOWN).into_bytes());
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Past this many, the rest of a program's diagnostics are counted, not shown, in text and in
/// JSON alike: a wall of reports helps nobody, and each costs time to draw. The summary line
/// and the exit status still count them all.
pub const MAX_SHOWN: usize = 1000;

/// The note the last diagnostic shown in JSON carries when some are not.
fn not_shown_note(more: usize) -> String {
    format!("... and {more} more not shown: at most {MAX_SHOWN} diagnostics are listed per program")
}

/// Excerpts that start below this line are numbered by blank lines ahead of them.
const PADDED_LINES: usize = 5000;

/// The excerpt as ariadne's source, numbered from the excerpt's first line. Ariadne 0.6
/// applies a display line offset to the location header but not to the line numbers in the
/// margin, so excerpts near the top of a file are preceded by blank lines instead, which
/// numbers both; further down, only the header's line is right.
fn numbered(e: &Excerpt) -> ariadne::Source<String> {
    if e.first_line <= PADDED_LINES {
        let mut text = "\n".repeat(e.first_line);
        text.push_str(&e.text);
        return ariadne::Source::from(text);
    }
    ariadne::Source::from(e.text.clone()).with_display_line_offset(e.first_line)
}

fn report<'a>(
    diag: &Diagnostic,
    sources: &Sources,
    excerpts: &HashMap<FileId, Excerpt>,
    color: bool,
    explain: bool,
) -> Report<'a, (String, std::ops::Range<usize>)> {
    let at = |file: FileId, span: Span| {
        let range = excerpts.get(&file).map_or(0..0, |e| {
            let pad = if e.first_line <= PADDED_LINES { e.first_line } else { 0 };
            let r = e.map_span(span);
            r.start + pad..r.end + pad
        });
        (sources.get(file).name.clone(), range)
    };
    let (kind, tint) = match diag.severity {
        Severity::Error => (ReportKind::Error, Color::Red),
        Severity::Warning => (ReportKind::Warning, Color::Yellow),
    };
    let primary = &diag.primary;
    // Messages quote names and strings of the source: escaped as excerpts are, so that a
    // line separator or a bidirectional control in a string cannot break the report.
    let mut builder = Report::build(kind, at(primary.file, primary.span))
        .with_config(Config::default().with_color(color).with_index_type(IndexType::Byte))
        .with_code(diag.code.id)
        .with_message(escape_text(&diag.message));
    let mut label = Label::new(at(primary.file, primary.span)).with_color(tint).with_order(0);
    if !primary.message.is_empty() {
        label = label.with_message(escape_text(&primary.message));
    }
    builder = builder.with_label(label);
    for (i, extra) in diag.labels.iter().enumerate() {
        builder = builder.with_label(
            Label::new(at(extra.file, extra.span))
                .with_message(escape_text(&extra.message))
                .with_color(Color::Blue)
                .with_order(i as i32 + 1),
        );
    }
    for note in &diag.notes {
        builder = builder.with_note(escape_text(note));
    }
    if explain {
        builder = builder.with_note(format!("`conv explain {}` shows an example and the fix", diag.code.id));
    }
    if let Some(help) = &diag.help {
        builder = builder.with_help(escape_text(help));
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

/// The diagnostics as the JSON array of docs/diagnostics-json.md: the first [`MAX_SHOWN`],
/// the last of them with a note counting the others.
pub fn json(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    let shown = &diagnostics[..diagnostics.len().min(MAX_SHOWN)];
    let positions = Positions::new(shown, sources);
    let range = |file: conv_lang::FileId, span: conv_lang::Span| JsonRange {
        start: positions.at(file, span.start),
        end: positions.at(file, span.end.max(span.start)),
    };
    let mut items: Vec<JsonDiagnostic> = shown
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
    if diagnostics.len() > shown.len()
        && let Some(last) = items.last_mut()
    {
        last.notes.push(not_shown_note(diagnostics.len() - shown.len()));
    }
    escape_json(serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into()))
}

/// Writes the characters that JSON allows as they are in a string but that a terminal or a
/// JavaScript parser would not take as themselves (U+2028, U+2029, DEL and the C1 controls,
/// zero-width and bidirectional characters) as `\uXXXX` escapes: the same JSON values,
/// safe to print. Outside strings JSON is ASCII, so every such character is in one.
pub fn escape_json(json: String) -> String {
    if !json.chars().any(shown_escaped) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 64);
    for c in json.chars() {
        if shown_escaped(c) {
            // serde_json has escaped the controls below U+0020 already; these are all in the
            // Basic Multilingual Plane, one `\u` each.
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// The line and column of every offset the diagnostics name, found in one pass over each
/// file: counting a column from the start of its line for each diagnostic would take time
/// proportional to the line for each, and a long line may hold many.
struct Positions {
    found: HashMap<(conv_lang::FileId, usize), LineCol>,
    /// Offsets that are not on a character boundary of their file, and the boundary used.
    boundary: HashMap<(conv_lang::FileId, usize), usize>,
}

impl Positions {
    fn new(diagnostics: &[Diagnostic], sources: &Sources) -> Positions {
        let mut wanted: HashMap<conv_lang::FileId, Vec<usize>> = HashMap::new();
        for d in diagnostics {
            for (file, span) in
                std::iter::once((d.primary.file, d.primary.span)).chain(d.labels.iter().map(|l| (l.file, l.span)))
            {
                wanted.entry(file).or_default().extend([span.start, span.end]);
            }
        }
        let mut found = HashMap::new();
        let mut boundary = HashMap::new();
        for (file, mut offsets) in wanted {
            offsets.sort_unstable();
            offsets.dedup();
            let text = &sources.get(file).text;
            for &offset in &offsets {
                let mut b = offset.min(text.len());
                while !text.is_char_boundary(b) {
                    b -= 1;
                }
                if b != offset {
                    boundary.insert((file, offset), b);
                }
            }
            let (mut line, mut column) = (1, 1);
            let mut chars = text.char_indices().peekable();
            for offset in offsets {
                // An offset inside a character is taken as the start of that character.
                while let Some(&(i, c)) = chars.peek() {
                    if i + c.len_utf8() > offset {
                        break;
                    }
                    chars.next();
                    if c == '\n' {
                        (line, column) = (line + 1, 1);
                    } else {
                        column += 1;
                    }
                }
                found.insert((file, offset), LineCol { line, column });
            }
        }
        Positions { found, boundary }
    }

    /// The position of `offset`, moved back to the start of its character if it falls
    /// inside one, and to the end of the file if past it.
    fn at(&self, file: conv_lang::FileId, offset: usize) -> JsonPosition {
        let LineCol { line, column } =
            self.found.get(&(file, offset)).copied().unwrap_or(LineCol { line: 1, column: 1 });
        let offset = self.boundary.get(&(file, offset)).copied().unwrap_or(offset);
        JsonPosition { offset, line, column }
    }
}
