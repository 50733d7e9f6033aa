//! What must hold for every input: the whole check, both renderers and the formatter run
//! without panicking; spans stay inside their file, on character boundaries; the reports
//! print no line separator, control, zero-width or bidirectional character as it is; syntax
//! trees stay as shallow as the parser promises; and what parses formats to a fixed point
//! that checks with the same codes.

use crate::render;
use conv_compiler::{Sources, check};
use conv_lang::parser::MAX_NESTING;
use conv_lang::{Diagnostic, FileId, fmt, parse};

/// The deepest syntax tree the parser may build: its nesting count bounds the depth within
/// a small factor (see lang/src/parser/nesting.rs).
const MAX_TREE_DEPTH: usize = 4 * MAX_NESTING;

/// Runs everything on one input; `Err` says which property failed. Panics are the caller's
/// to catch.
pub fn run(data: &[u8]) -> Result<(), String> {
    let mut sources = Sources::new();
    sources.add_bytes("input.conv", data.to_vec());
    let checked = check(&sources);
    for d in &checked.diagnostics {
        spans_inside(d, &checked.sources)?;
    }
    let human = render::human(&checked.diagnostics, &checked.sources, false);
    let json = render::json(&checked.diagnostics, &checked.sources);
    if human.is_empty() != checked.diagnostics.is_empty() {
        return Err("diagnostics rendered as nothing".into());
    }
    if let Some(c) = human.chars().chain(json.chars()).find(|c| conv_lang::excerpt::shown_escaped(*c)) {
        return Err(format!("a report prints {c:?} as it is"));
    }
    let Some(parsed) = checked.parsed.first() else { return Ok(()) };
    for item in &parsed.file.items {
        let depth = conv_lang::tree_depth::item_depth(item);
        if depth > MAX_TREE_DEPTH {
            return Err(format!("a syntax tree {depth} deep passed the parser"));
        }
    }
    if parsed.has_errors() || checked.diagnostics.iter().any(|d| d.code.id == "E0108" || d.code.id == "E0109") {
        return Ok(());
    }
    let text = &checked.sources.get(FileId(0)).text;
    let once = fmt::format(text, parsed);
    let reparsed = parse(FileId(0), &once);
    if reparsed.has_errors() {
        return Err(format!("formatted text does not parse: {:?}", reparsed.diagnostics.first().map(|d| &d.message)));
    }
    let twice = fmt::format(&once, &reparsed);
    if twice != once {
        return Err("formatting twice differs from formatting once".into());
    }
    let mut formatted = Sources::new();
    formatted.add("input.conv", once);
    let after = check(&formatted);
    let (before, after) = (codes(&checked.diagnostics), codes(&after.diagnostics));
    if before != after {
        return Err(format!("formatting changed the codes: {before:?} -> {after:?}"));
    }
    Ok(())
}

fn codes(diagnostics: &[Diagnostic]) -> Vec<&'static str> {
    let mut codes: Vec<&'static str> = diagnostics.iter().map(|d| d.code.id).collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

fn spans_inside(d: &Diagnostic, sources: &Sources) -> Result<(), String> {
    let labels = std::iter::once((d.primary.file, d.primary.span)).chain(d.labels.iter().map(|l| (l.file, l.span)));
    for (file, span) in labels {
        let text = &sources.get(file).text;
        let len = text.len();
        if span.start > span.end || span.end > len {
            return Err(format!("{} span {}..{} outside a file of {len} bytes", d.code.id, span.start, span.end));
        }
        if !text.is_char_boundary(span.start) || !text.is_char_boundary(span.end) {
            return Err(format!("{} span {}..{} inside a character", d.code.id, span.start, span.end));
        }
    }
    Ok(())
}
