//! Parsing never fails: it returns the tree it could build and every diagnostic.
//!
//! The token stream is cut into declarations at the keywords that can only start one
//! (`service`, `fn`, `import`...), and each declaration is parsed on its own. A missing
//! brace or a stray token therefore costs one declaration, never the rest of the file.

mod batch;
mod docs;
mod errors;
mod grammar;
pub(crate) mod literals;
mod nesting;
mod placeholder;

use crate::ast::{Item, SourceFile};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::lexer::Comment;
use crate::span::{FileId, Span};
use crate::token::Token;
use chumsky::input::Input as _;
use chumsky::prelude::*;

/// Expressions nested deeper than this are refused rather than risking the stack: brackets,
/// and chains that nest without brackets (`if ... else if`, `- - x`, `a + b + ...`, `a.b.c`,
/// `f()()`), each link one level. Every later phase walks trees at most this deep.
pub const MAX_NESTING: usize = 256;

#[derive(Debug)]
pub struct Parsed {
    pub file: SourceFile,
    pub comments: Vec<Comment>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

pub fn parse(file: FileId, src: &str) -> Parsed {
    parse_in_batches(file, src, batch::BATCH_BYTES)
}

/// [`parse`] with batches of about `batch_bytes` (any size gives the same result).
fn parse_in_batches(file: FileId, src: &str, batch_bytes: usize) -> Parsed {
    let batches = batch::batches(src, batch_bytes);
    // Batches parse independently, so a large file is split across the cores.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    let threads = if src.len() >= batch::PARALLEL_BYTES { cores } else { 1 };
    let parts = batch::parse_all(file, src, &batches, threads);
    let mut items = Vec::with_capacity(parts.iter().map(|p| p.items.len()).sum());
    let mut comments = Vec::with_capacity(parts.iter().map(|p| p.comments.len()).sum());
    let mut diagnostics = Vec::new();
    for mut part in parts {
        items.append(&mut part.items);
        comments.append(&mut part.comments);
        diagnostics.append(&mut part.diagnostics);
    }
    if diagnostics.len() > MAX_DIAGNOSTICS {
        // The first ones in the file are kept, whichever phase found them.
        crate::diagnostic::sort_diagnostics(&mut diagnostics);
        let more = diagnostics.len() - MAX_DIAGNOSTICS;
        diagnostics.truncate(MAX_DIAGNOSTICS);
        if let Some(last) = diagnostics.pop() {
            diagnostics.push(last.with_note(format!("{more} more syntax errors in this file are not reported")));
        }
    }
    Parsed { file: SourceFile { items }, comments, diagnostics }
}

/// Syntax errors past this many in one file are counted, not reported: a file that far from
/// .conv (a binary, or the wrong file) would otherwise flood every screen and editor.
pub const MAX_DIAGNOSTICS: usize = 1000;

pub(super) type Spanned<'s> = (Token<'s>, SimpleSpan);
type ChunkInput<'t, 's> = chumsky::input::MappedInput<
    't,
    Token<'s>,
    SimpleSpan,
    &'t [Spanned<'s>],
    fn(&'t Spanned<'s>) -> (&'t Token<'s>, &'t SimpleSpan),
>;

/// Parses declarations in order. `lexical` holds the sorted offsets of lexical errors.
pub(super) fn parse_declarations(
    file: FileId,
    chunks: &[&[Spanned<'_>]],
    lexical: &[usize],
) -> (Vec<Item>, Vec<Diagnostic>) {
    // Most declarations are well formed: a first pass with chumsky's empty error type builds
    // them without the cost of rich errors; only a declaration that fails is parsed again
    // with rich errors and recovery, to report it.
    let fast = grammar::item::<ChunkInput<'_, '_>, extra::Default>();
    let rich = grammar::item::<ChunkInput<'_, '_>, grammar::Extra<'_, '_>>();
    let mut items = Vec::with_capacity(chunks.len());
    let mut diagnostics = Vec::new();
    for chunk in chunks {
        let chunk_start = chunk[0].1.start;
        let chunk_end = chunk[chunk.len() - 1].1.end;
        // A lexical error is the root cause of whatever the parser would say about the same
        // declaration, so the parser's complaints are dropped there.
        let first_at_or_after = lexical.partition_point(|&offset| offset < chunk_start);
        let lexical_error = lexical.get(first_at_or_after).is_some_and(|&offset| offset < chunk_end);
        let delimiter_problem = nesting::check(file, chunk);
        if !lexical_error && delimiter_problem.is_none() {
            grammar::set_fuel(fuel_for(chunk));
            if let (Some(item), errs) = fast.parse(chunk_input(chunk, chunk_end)).into_output_errors()
                && errs.is_empty()
            {
                items.push(item);
                continue;
            }
        }
        if let Some(problem) = delimiter_problem {
            let fatal = problem.code.id == codes::TOO_DEEPLY_NESTED.id;
            diagnostics.push(problem);
            // Recovery from an unbalanced bracket searches ahead for the bracket that closes
            // each failed group, to the end when there is none: quadratic in a long
            // declaration. Past a size, only the name is kept.
            if fatal || chunk.len() > RECOVERED_TOKENS {
                // Nothing of it is parsed, but its name is still declared.
                items.extend(placeholder::placeholder(chunk));
                continue;
            }
            // The bracket error is the root cause: keep whatever tree recovery builds,
            // but not the parser's own complaints about the same brackets, so the parser
            // without rich errors (much the cheaper) is enough.
            grammar::set_fuel(fuel_for(chunk));
            let (item, _) = fast.parse(chunk_input(chunk, chunk_end)).into_output_errors();
            let item = item.filter(|_| !grammar::out_of_fuel()).and_then(|i| shallow(file, i, &mut diagnostics));
            items.extend(item.or_else(|| placeholder::placeholder(chunk)));
            continue;
        }
        if lexical_error {
            // As for brackets: the lexical error is reported, only the tree is wanted.
            grammar::set_fuel(fuel_for(chunk));
            let (item, _) = fast.parse(chunk_input(chunk, chunk_end)).into_output_errors();
            let item = item.filter(|_| !grammar::out_of_fuel()).and_then(|i| shallow(file, i, &mut diagnostics));
            items.extend(item.or_else(|| placeholder::placeholder(chunk)));
            continue;
        }
        grammar::set_fuel(rich_fuel_for(chunk));
        let (item, errs) = rich.parse(chunk_input(chunk, chunk_end)).into_output_errors();
        if grammar::out_of_fuel() {
            diagnostics.push(errors::too_tangled(file, Span::new(chunk_start, chunk_end)));
            items.extend(placeholder::placeholder(chunk));
            continue;
        }
        let errs = errors::first_independent(errs);
        diagnostics.extend(errs.into_iter().map(|e| errors::to_diagnostic(file, e, Span::new(chunk_start, chunk_end))));
        let item = item.and_then(|i| shallow(file, i, &mut diagnostics));
        items.extend(item.or_else(|| placeholder::placeholder(chunk)));
    }
    (items, diagnostics)
}

/// A tree that error recovery built, unless it is deeper than later phases may walk (recovery
/// can pair brackets differently from [`nesting::check`]); then it is E0107, freed without
/// recursion.
fn shallow(file: FileId, item: Item, diagnostics: &mut Vec<Diagnostic>) -> Option<Item> {
    if crate::tree_depth::item_depth(&item) <= 2 * MAX_NESTING {
        return Some(item);
    }
    diagnostics.push(nesting::too_deep_tree(file, item.span));
    crate::tree_depth::dismantle(item);
    None
}

/// A declaration with an unbalanced bracket and more tokens than this is not recovered.
const RECOVERED_TOKENS: usize = 2048;

/// The parsing steps a declaration may take: well-formed ones take fewer than one per
/// token (at most 0.56 in the examples, the standard library and the fixtures).
fn fuel_for(chunk: &[Spanned<'_>]) -> usize {
    4 * chunk.len() + 1024
}

/// The same for the parse with rich errors and recovery, whose steps cost more: enough for a
/// declaration with a few mistakes, not for retrying every token.
fn rich_fuel_for(chunk: &[Spanned<'_>]) -> usize {
    chunk.len() + 1024
}

fn chunk_input<'t, 's>(chunk: &'t [Spanned<'s>], end: usize) -> ChunkInput<'t, 's> {
    let eoi = SimpleSpan::from(end..end);
    chunk.map(eoi, (|(t, s)| (t, s)) as fn(&'t Spanned<'s>) -> (&'t Token<'s>, &'t SimpleSpan))
}

/// Splits tokens into runs that each start at a declaration keyword at the start of a line.
/// Tokens before the first keyword form a run of their own, so they are reported rather
/// than dropped. (A keyword inside a line, as in `let type = 3`, is a mistake in that
/// declaration, not the start of another.)
pub(super) fn declarations<'a, 's>(
    src: &str,
    tokens: &'a [(Token<'s>, SimpleSpan)],
) -> Vec<&'a [(Token<'s>, SimpleSpan)]> {
    let mut chunks = Vec::new();
    let mut start = 0;
    for (i, (tok, span)) in tokens.iter().enumerate() {
        if i > start && tok.starts_declaration() && src[tokens[i - 1].1.end..span.start].contains('\n') {
            chunks.push(&tokens[start..i]);
            start = i;
        }
    }
    if start < tokens.len() {
        chunks.push(&tokens[start..]);
    }
    chunks
}
