//! The shape of files: folding ranges (blocks, lists and calls over several lines, runs of
//! comments, runs of imports) and the declarations of whole programs for workspace symbols.

use crate::convert::Text;
use conv_lang::FileId;
use conv_lang::ast::{EntityKind, ItemKind};
use conv_lang::token::Token;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tower_lsp_server::ls_types::*;

pub fn folding_ranges(text: &str) -> Vec<FoldingRange> {
    let t = Text::new(text);
    let line = |offset: usize| t.position(offset).line;
    let mut out: Vec<FoldingRange> = Vec::new();
    let mut add = |start: u32, end: u32, kind: Option<FoldingRangeKind>| {
        if end > start {
            out.push(FoldingRange { start_line: start, end_line: end, kind, ..Default::default() });
        }
    };
    let lexed = conv_lang::lexer::lex(FileId(0), text);
    // Brackets: from the opening line to the line before the closing one, which stays shown.
    let mut open: Vec<(Token<'_>, usize)> = Vec::new();
    for (tok, span) in &lexed.tokens {
        match tok {
            Token::LBrace | Token::LBracket | Token::LParen => open.push((*tok, span.start)),
            Token::RBrace | Token::RBracket | Token::RParen => {
                let opener = match tok {
                    Token::RBrace => Token::LBrace,
                    Token::RBracket => Token::LBracket,
                    _ => Token::LParen,
                };
                if open.last().is_some_and(|(t, _)| *t == opener) {
                    let (_, start) = open.pop().unwrap_or((opener, 0));
                    let close = line(span.start);
                    add(line(start), close.saturating_sub(1), None);
                }
            }
            _ => {}
        }
    }
    // Comments on consecutive lines, each alone on its line.
    let mut run: Option<(u32, u32)> = None;
    for c in &lexed.comments {
        let (a, b) = (line(c.span.start), line(c.span.end));
        let alone = text[..c.span.start].rsplit(['\n', '\r']).next().is_some_and(|s| s.trim().is_empty());
        match run {
            Some((s, e)) if alone && a == e + 1 => run = Some((s, b)),
            _ => {
                if let Some((s, e)) = run.take() {
                    add(s, e, Some(FoldingRangeKind::Comment));
                }
                run = alone.then_some((a, b));
            }
        }
    }
    if let Some((s, e)) = run {
        add(s, e, Some(FoldingRangeKind::Comment));
    }
    // Imports, one after the other.
    let parsed = conv_lang::parse(FileId(0), text);
    let mut run: Option<(u32, u32)> = None;
    for item in &parsed.file.items {
        if matches!(item.kind, ItemKind::Import(_)) {
            let (a, b) = (line(item.span.start), line(item.span.end));
            run = Some(run.map_or((a, b), |(s, _)| (s, b)));
        } else if let Some((s, e)) = run.take() {
            add(s, e, Some(FoldingRangeKind::Imports));
        }
    }
    if let Some((s, e)) = run {
        add(s, e, Some(FoldingRangeKind::Imports));
    }
    // One range per start line: the longest.
    out.sort_by(|a, b| a.start_line.cmp(&b.start_line).then(b.end_line.cmp(&a.end_line)));
    out.dedup_by(|later, first| later.start_line == first.start_line);
    out
}

/// Whether the letters of `query` appear in `name` in order, ignoring case.
pub fn matches(query: &str, name: &str) -> bool {
    let mut name = name.chars().flat_map(char::to_lowercase);
    query.chars().flat_map(char::to_lowercase).all(|q| name.any(|c| c == q))
}

/// The declarations of every `.conv` file under `folders` (the open programs' roots and the
/// editor's workspace folders) whose names match `query`. Each file is read once, from its
/// unsaved buffer when it is open.
#[allow(deprecated)]
pub fn workspace_symbols(folders: &[PathBuf], open: &HashMap<PathBuf, String>, query: &str) -> Vec<SymbolInformation> {
    const MAX_FILES: usize = 5_000;
    const MAX_RESULTS: usize = 1_000;
    let mut files: Vec<PathBuf> = Vec::new();
    for folder in folders {
        crate::workspace::walk(folder, &mut files);
        if files.len() > MAX_FILES {
            break;
        }
    }
    files.extend(open.keys().cloned());
    files.sort();
    files.dedup();
    let mut out = Vec::new();
    for path in files.iter().take(MAX_FILES) {
        let Some(text) = crate::text_of(path, open) else { continue };
        let Some(uri) = crate::uri_of(path) else { continue };
        let parsed = conv_lang::parse(FileId(0), &text);
        let t = Text::new(&text);
        let container = folders
            .iter()
            .filter_map(|f| path.strip_prefix(f).ok())
            .min_by_key(|r| r.as_os_str().len())
            .unwrap_or(Path::new(""))
            .display()
            .to_string();
        for item in &parsed.file.items {
            let (name, kind) = match &item.kind {
                ItemKind::Entity(e) => (
                    &e.name,
                    match e.kind {
                        EntityKind::Environment => SymbolKind::NAMESPACE,
                        EntityKind::Service => SymbolKind::CLASS,
                        EntityKind::Release => SymbolKind::PACKAGE,
                    },
                ),
                ItemKind::Fn(f) => (&f.name, SymbolKind::FUNCTION),
                ItemKind::Type(ty) => (&ty.name, SymbolKind::STRUCT),
                ItemKind::Enum(e) => (&e.name, SymbolKind::ENUM),
                ItemKind::Let(l) => (&l.name, SymbolKind::CONSTANT),
                ItemKind::Import(_) => continue,
            };
            if name.name.is_empty() || !matches(query, &name.name) {
                continue;
            }
            out.push(SymbolInformation {
                name: name.name.to_string(),
                kind,
                tags: None,
                deprecated: None,
                location: Location::new(uri.clone(), t.range(name.span)),
                container_name: (!container.is_empty()).then(|| container.clone()),
            });
            if out.len() >= MAX_RESULTS {
                return out;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_match() {
        assert!(matches("", "api"));
        assert!(matches("stg", "staging"));
        assert!(matches("DBP", "db_proxy"));
        assert!(!matches("xyz", "staging"));
    }

    #[test]
    fn folds() {
        let text = "// a\n// b\nimport x.{a}\nimport y\nservice s {\n  v = [\n    1,\n  ]\n}\n";
        let ranges: Vec<(u32, u32)> = folding_ranges(text).iter().map(|r| (r.start_line, r.end_line)).collect();
        assert_eq!(ranges, [(0, 1), (2, 3), (4, 7), (5, 6)]);
    }
}
