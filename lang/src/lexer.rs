//! Turns source text into tokens for the parser and comments for the formatter.
//!
//! Lexing never fails: an unknown character becomes a diagnostic and is skipped, so the
//! parser sees a clean stream and does not cascade. Strings are scanned by hand because
//! `${...}` nests ordinary tokens inside them.

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};
use crate::token::Token;
use chumsky::span::SimpleSpan;
use logos::Logos;

/// A `//` or `///` comment, kept aside for the formatter and for doc comments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    pub doc: bool,
}

#[derive(Debug, Default)]
pub struct Lexed<'src> {
    /// Spans are chumsky's, so the parser reads this vector in place.
    pub tokens: Vec<(Token<'src>, SimpleSpan)>,
    pub comments: Vec<Comment>,
    /// The first [`MAX_DIAGNOSTICS`](crate::parser::MAX_DIAGNOSTICS) lexical errors.
    pub diagnostics: Vec<Diagnostic>,
    /// Where every lexical error starts, reported or not.
    pub error_offsets: Vec<usize>,
}

pub fn lex(file: FileId, src: &str) -> Lexed<'_> {
    let mut out = Lexed::default();
    lex_into(file, src, 0..src.len(), &mut out);
    out
}

/// Lexes `src[range]`, appending to `out`; spans stay offsets into the whole of `src`.
/// `range` must start at the start of a line (or of the file), where no string, comment or
/// interpolation can be open.
pub fn lex_into<'src>(file: FileId, src: &'src str, range: std::ops::Range<usize>, out: &mut Lexed<'src>) {
    let mut driver = Driver { src: &src[..range.end], file, out, interpolations: 0 };
    driver.run(range.start, false);
}

struct Driver<'src, 'out> {
    src: &'src str,
    file: FileId,
    out: &'out mut Lexed<'src>,
    /// Interpolations open around the current position: each is a level of recursion here.
    interpolations: usize,
}

/// Past this many nested `${`, a `${` is read as text: the parser refuses the declaration
/// (E0107) at a lower depth anyway, and the scanner's recursion stays bounded.
const MAX_INTERPOLATIONS: usize = 2 * crate::parser::MAX_NESTING;

impl<'src> Driver<'src, '_> {
    /// Lexes from `start`; inside an interpolation, stops after its closing `}` and returns
    /// the offset just past it. At top level, runs to the end.
    fn run(&mut self, mut start: usize, interpolation: bool) -> usize {
        let mut lexer = Token::lexer(&self.src[start..]);
        let mut depth = 0usize;
        let mut last_end = start;
        while let Some(result) = lexer.next() {
            let span = Span::from(lexer.span()).shifted(start);
            if interpolation && self.src[last_end..span.start].contains('\n') {
                // An interpolation never spans lines: close it where the line ends and let the
                // string scanner report the unterminated string.
                let newline = last_end + self.src[last_end..span.start].find('\n').unwrap_or(0);
                self.push(Token::InterpClose, Span::new(newline, newline));
                return newline;
            }
            last_end = span.end;
            match result {
                Ok(Token::Quote) => {
                    let end = self.string(span.start);
                    start = end;
                    last_end = end;
                    lexer = Token::lexer(&self.src[end..]);
                }
                Ok(Token::Comment(_)) => self.out.comments.push(Comment { span, doc: false }),
                Ok(Token::DocComment(text)) => {
                    // `////...` is a plain comment, as in Rust.
                    let doc = !text.starts_with("////");
                    self.out.comments.push(Comment { span, doc });
                }
                Ok(token @ Token::BadNumber(text)) => {
                    if self.report(span.start) {
                        self.out.diagnostics.push(bad_number(self.file, span, text));
                    }
                    self.push(token, span);
                }
                Ok(Token::LBrace) if interpolation => {
                    depth += 1;
                    self.push(Token::LBrace, span);
                }
                Ok(Token::RBrace) if interpolation && depth == 0 => {
                    self.push(Token::InterpClose, span);
                    return span.end;
                }
                Ok(Token::RBrace) if interpolation => {
                    depth -= 1;
                    self.push(Token::RBrace, span);
                }
                Ok(
                    token @ (Token::Int(text)
                    | Token::Float(text)
                    | Token::Duration(text)
                    | Token::Bytes(text)
                    | Token::Percent(text)),
                ) => match crate::parser::literals::number_problem(&token) {
                    Some(why) => {
                        if self.report(span.start) {
                            self.out.diagnostics.push(
                                Diagnostic::error(&codes::INVALID_NUMBER, self.file, span, format!("`{text}` {why}"))
                                    .with_primary_label("cannot be read"),
                            );
                        }
                        self.push(Token::BadNumber(text), span);
                    }
                    None => self.push(token, span),
                },
                Ok(token) => self.push(token, span),
                Err(()) => self.unexpected_character(span),
            }
        }
        if interpolation {
            let end = self.src.len();
            self.push(Token::InterpClose, Span::new(end, end));
        }
        self.src.len()
    }

    fn push(&mut self, token: Token<'src>, span: Span) {
        self.out.tokens.push((token, SimpleSpan::from(span.start..span.end)));
    }

    /// Records a lexical error at `at`; `true` while its diagnostic is still to be built.
    fn report(&mut self, at: usize) -> bool {
        self.out.error_offsets.push(at);
        self.out.diagnostics.len() < crate::parser::MAX_DIAGNOSTICS
    }

    fn unexpected_character(&mut self, span: Span) {
        if !self.report(span.start) {
            return;
        }
        let text = &self.src[span.start..span.end];
        let shown = text.chars().next().map(|c| c.escape_debug().to_string()).unwrap_or_default();
        let mut diag =
            Diagnostic::error(&codes::UNEXPECTED_CHARACTER, self.file, span, format!("unexpected character `{shown}`"))
                .with_primary_label("not part of the .conv language");
        if text.starts_with('\'') {
            diag = diag.with_help("strings use double quotes: \"...\"");
        } else if text.starts_with('&') || text.starts_with('|') || text.starts_with('!') {
            diag = diag.with_help("the logical operators are the words `and`, `or` and `not`");
        }
        self.out.diagnostics.push(diag);
    }

    /// Scans a string whose opening quote is at `quote`; returns the offset after it ends.
    fn string(&mut self, quote: usize) -> usize {
        self.push(Token::StrStart, Span::new(quote, quote + 1));
        let bytes = self.src.as_bytes();
        let mut pos = quote + 1;
        let mut text_start = pos;
        loop {
            match bytes.get(pos) {
                None | Some(b'\n') | Some(b'\r') => {
                    self.flush_text(text_start, pos);
                    if self.report(quote) {
                        self.out.diagnostics.push(
                            Diagnostic::error(
                                &codes::UNTERMINATED_STRING,
                                self.file,
                                Span::new(quote, pos),
                                "unterminated string",
                            )
                            .with_primary_label("this string has no closing quote")
                            .with_help("close it with `\"` on the same line; strings cannot span lines"),
                        );
                    }
                    self.push(Token::StrEnd, Span::new(pos, pos));
                    return pos;
                }
                Some(b'"') => {
                    self.flush_text(text_start, pos);
                    self.push(Token::StrEnd, Span::new(pos, pos + 1));
                    return pos + 1;
                }
                Some(b'\\') => {
                    let next = self.src[pos + 1..].chars().next();
                    match next {
                        Some('n' | 't' | 'r' | '\\' | '"' | '$') => pos += 2,
                        Some('\n') | None => pos += 1,
                        Some(other) => {
                            let span = Span::new(pos, pos + 1 + other.len_utf8());
                            if !self.report(pos) {
                                pos = span.end;
                                continue;
                            }
                            self.out.diagnostics.push(
                                Diagnostic::error(
                                    &codes::INVALID_ESCAPE,
                                    self.file,
                                    span,
                                    format!("unknown escape `\\{}`", other.escape_debug()),
                                )
                                .with_primary_label("not a valid escape")
                                .with_help("the escapes are \\n \\t \\r \\\\ \\\" and \\$ (for a literal `${`)"),
                            );
                            pos = span.end;
                        }
                    }
                }
                Some(b'$') if bytes.get(pos + 1) == Some(&b'{') && self.interpolations < MAX_INTERPOLATIONS => {
                    self.flush_text(text_start, pos);
                    self.push(Token::InterpOpen, Span::new(pos, pos + 2));
                    self.interpolations += 1;
                    pos = self.run(pos + 2, true);
                    self.interpolations -= 1;
                    text_start = pos;
                }
                Some(_) => pos += 1,
            }
        }
    }

    fn flush_text(&mut self, start: usize, end: usize) {
        if end > start {
            self.push(Token::StrText(&self.src[start..end]), Span::new(start, end));
        }
    }
}

fn bad_number(file: FileId, span: Span, text: &str) -> Diagnostic {
    let digits = text.trim_start_matches(|c: char| c.is_ascii_digit() || c == '_' || c == '.');
    Diagnostic::error(&codes::INVALID_NUMBER, file, span, format!("unknown unit `{digits}` in `{text}`"))
        .with_primary_label("not a unit conv knows")
        .with_help(unit_hint(digits))
}

fn unit_hint(unit: &str) -> String {
    let suggestion = match unit {
        "sec" | "secs" | "second" | "seconds" => Some("s"),
        "min" | "mins" | "minute" | "minutes" => Some("m"),
        "hr" | "hrs" | "hour" | "hours" => Some("h"),
        "day" | "days" => Some("d"),
        "k" | "K" | "KB" | "kb" | "KiB" => Some("Ki"),
        "M" | "MB" | "mb" | "MiB" => Some("Mi"),
        "G" | "GB" | "gb" | "GiB" => Some("Gi"),
        "T" | "TB" | "TiB" => Some("Ti"),
        "us" | "ns" => Some("ms"),
        _ => None,
    };
    let units = "durations take ms s m h d, sizes B Ki Mi Gi Ti, percentages %";
    match suggestion {
        Some(s) => format!("did you mean `{s}`? ({units})"),
        None => units.to_string(),
    }
}
