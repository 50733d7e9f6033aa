//! Large files are lexed and parsed in batches of declarations, each batch's tokens
//! cleared before the next is lexed, and the batches shared out between threads.

use super::{Spanned, declarations, docs, parse_declarations};
use crate::ast::Item;
use crate::diagnostic::Diagnostic;
use crate::lexer::{Comment, Lexed, lex_into};
use crate::span::FileId;
use crate::token::Token;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What one batch gave: its items, comments and diagnostics, in source order.
pub(super) struct Part {
    pub(super) items: Vec<Item>,
    pub(super) comments: Vec<Comment>,
    pub(super) diagnostics: Vec<Diagnostic>,
}

/// Source is lexed and parsed in batches of about this many bytes, so the tokens in flight
/// stay few (and in cache) however large the file is.
pub(super) const BATCH_BYTES: usize = 64 * 1024;

/// Below this size, starting threads costs more than it saves.
pub(super) const PARALLEL_BYTES: usize = 512 * 1024;

/// Cuts `src` into ranges of about `target` bytes, each ending just before a line that
/// starts with a declaration keyword in its first column, or before the doc comments and
/// blank lines above it, so that a declaration and its docs land in the same batch. A line
/// start is a clean place to cut: no string, comment or interpolation spans lines.
/// Declarations are cut at the same places by [`declarations`](super::declarations), so
/// batching changes nothing in the result.
pub(super) fn batches(src: &str, target: usize) -> Vec<Range<usize>> {
    let bytes = src.as_bytes();
    let mut ranges = Vec::with_capacity(src.len() / target + 1);
    let mut start = 0;
    let mut at = target;
    while at < src.len() {
        let Some(line) = next_declaration_line(bytes, at) else { break };
        let cut = docs_above(bytes, line);
        if cut > start {
            ranges.push(start..cut);
            start = cut;
        }
        at = line + target;
    }
    ranges.push(start..src.len());
    ranges
}

/// The first offset at or after `from` that starts a line beginning with a declaration keyword.
fn next_declaration_line(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(newline) = bytes[at..].iter().position(|&b| b == b'\n') {
        let line = at + newline + 1;
        let rest = &bytes[line..];
        let word_len = rest.iter().position(|b| !(b.is_ascii_alphanumeric() || *b == b'_')).unwrap_or(rest.len());
        if Token::is_declaration_keyword(&rest[..word_len]) {
            return Some(line);
        }
        at = line;
    }
    None
}

/// The start of the run of blank lines and `///` lines that ends at `line`.
fn docs_above(bytes: &[u8], line: usize) -> usize {
    let mut start = line;
    while start > 0 {
        let end = start - 1;
        let above = bytes[..end].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let text = bytes[above..end].trim_ascii();
        let doc = text.starts_with(b"///") && !text.starts_with(b"////");
        if !(text.is_empty() || doc) {
            break;
        }
        start = above;
    }
    start
}

/// Lexes and parses every batch, on up to `threads` threads, each taking the next batch not
/// yet taken (so a thread that drew light batches does not wait for one that drew heavy
/// ones). The parts come back in source order.
pub(super) fn parse_all(file: FileId, src: &str, batches: &[Range<usize>], threads: usize) -> Vec<Part> {
    let next = AtomicUsize::new(0);
    let work = || {
        let mut tokens = Vec::new();
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(range) = batches.get(i) else { return done };
            done.push((i, parse_batch(file, src, range.clone(), &mut tokens)));
        }
    };
    let mut parts: Vec<(usize, Part)> = if threads > 1 {
        std::thread::scope(|scope| {
            // This thread is one of the workers.
            let handles: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
            let mut parts = work();
            // A panic in a parsing thread is a bug; it is raised here rather than losing the
            // thread's declarations without a word.
            for h in handles {
                parts.extend(h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
            }
            parts
        })
    } else {
        work()
    };
    parts.sort_unstable_by_key(|(i, _)| *i);
    parts.into_iter().map(|(_, part)| part).collect()
}

/// Lexes and parses one batch; `tokens` is a buffer kept from batch to batch.
fn parse_batch<'s>(file: FileId, src: &'s str, range: Range<usize>, tokens: &mut Vec<Spanned<'s>>) -> Part {
    tokens.clear();
    let mut lexed = Lexed { tokens: std::mem::take(tokens), ..Lexed::default() };
    lex_into(file, src, range, &mut lexed);
    let mut lexical = std::mem::take(&mut lexed.error_offsets);
    lexical.sort_unstable();
    let chunks = declarations(src, &lexed.tokens);
    let (mut items, parse_diagnostics) = parse_declarations(file, &chunks, &lexical);
    docs::attach(src, &lexed.comments, &mut items);
    let mut diagnostics = lexed.diagnostics;
    diagnostics.extend(parse_diagnostics);
    *tokens = lexed.tokens;
    Part { items, comments: lexed.comments, diagnostics }
}

#[cfg(test)]
mod tests {
    use super::super::parse_in_batches;
    use crate::diagnostic::sort_diagnostics;
    use crate::span::FileId;
    use crate::token::{KEYWORDS, Token};
    use logos::Logos;

    #[test]
    fn declaration_keywords_are_the_tokens_that_start_declarations() {
        for word in KEYWORDS {
            let token = Token::lexer(word).next().and_then(Result::ok);
            let starts = token.is_some_and(|t| t.starts_declaration());
            assert_eq!(Token::is_declaration_keyword(word.as_bytes()), starts, "{word}");
        }
    }

    fn assert_same_in_batches(src: &str, what: &str) {
        let whole = parse_in_batches(FileId(0), src, usize::MAX);
        let mut cut = parse_in_batches(FileId(0), src, 1);
        let mut whole_diags = whole.diagnostics.clone();
        sort_diagnostics(&mut whole_diags);
        sort_diagnostics(&mut cut.diagnostics);
        assert_eq!(whole.file, cut.file, "{what}");
        assert_eq!(whole.comments, cut.comments, "{what}");
        assert_eq!(whole_diags, cut.diagnostics, "{what}");
    }

    /// Doc comments stay with their declaration when a batch is cut just above it, across
    /// blank lines, and plain comments still end a run of docs.
    #[test]
    fn docs_stay_with_their_declaration_across_cuts() {
        let src = "let a = 1\n/// A doc.\n\n///   spaced\nlet b = 2\n/// not b's\n// plain\nlet c = 3\n//// four\nlet d = 4\n";
        assert_same_in_batches(src, "docs");
        let parsed = parse_in_batches(FileId(0), src, 1);
        let docs: Vec<Option<&str>> = parsed.file.items.iter().map(|i| i.doc.as_deref()).collect();
        assert_eq!(docs, [None, Some("A doc.\n  spaced"), None, None]);
        assert!(super::batches(src, 1).len() >= 4, "every declaration line is a cut");
    }

    /// A file large enough to be parsed on several threads gives the result of one batch,
    /// mistakes and doc comments included.
    #[test]
    fn threads_give_the_result_of_one_batch() {
        let mut src = String::new();
        let mut i = 0;
        while src.len() <= super::PARALLEL_BYTES {
            let broken = if i % 500 == 7 { "=" } else { "" };
            src.push_str(&format!(
                "/// Service {i}.\n\nservice svc_{i} {{\n  version ={broken} \"1.{i}\"\n  replicas = {}\n}}\n// {i}\n",
                i % 3 + 1
            ));
            i += 1;
        }
        assert_same_in_batches(&src, "a large file");
        let parsed = parse_in_batches(FileId(0), &src, super::BATCH_BYTES);
        assert_eq!(parsed.file.items.len(), i);
        assert!(parsed.diagnostics.len() >= 2, "the broken services are reported");
        assert_eq!(parsed.file.items[i - 1].doc.as_deref(), Some(format!("Service {}.", i - 1).as_str()));
    }

    /// Cutting at every declaration line gives the tree, comments and diagnostics of one
    /// batch, for every syntax fixture, valid or broken.
    #[test]
    fn batch_size_does_not_change_the_result() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/syntax");
        let (mut seen, mut cuts) = (0, 0);
        for entry in std::fs::read_dir(&dir).expect("the syntax fixtures exist") {
            let path = entry.expect("a directory entry").path();
            let Ok(src) = std::fs::read_to_string(&path) else { continue };
            assert_same_in_batches(&src, &path.display().to_string());
            seen += 1;
            cuts += super::batches(&src, 1).len() - 1;
        }
        assert!(seen > 20, "only {seen} fixtures found in {}", dir.display());
        assert!(cuts > seen, "the fixtures were hardly cut: {cuts} cuts in {seen} files");
    }
}
