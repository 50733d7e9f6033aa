//! Turns chumsky's errors into diagnostics that read like the rest of conv's.

use super::literals::INVALID_NUMBER_PREFIX;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};
use crate::token::Token;
use chumsky::error::{Rich, RichPattern, RichReason};

/// Recovery may report a consequence of the first mistake further on; in one declaration
/// only the first syntax error is the root cause, but number errors are independent.
pub(crate) fn first_independent<'t, 's>(errs: Vec<Rich<'t, Token<'s>>>) -> Vec<Rich<'t, Token<'s>>> {
    let mut out = Vec::new();
    let mut seen_syntax = false;
    for err in errs {
        let is_number = matches!(err.reason(), RichReason::Custom(msg) if msg.starts_with(INVALID_NUMBER_PREFIX));
        if is_number {
            out.push(err);
        } else if !seen_syntax {
            seen_syntax = true;
            out.push(err);
        }
    }
    out
}

pub(crate) fn to_diagnostic(file: FileId, err: Rich<'_, Token<'_>>, chunk: Span) -> Diagnostic {
    let span = Span::new(err.span().start, err.span().end);
    if let RichReason::Custom(msg) = err.reason() {
        if let Some(rest) = msg.strip_prefix(INVALID_NUMBER_PREFIX) {
            return Diagnostic::error(&codes::INVALID_NUMBER, file, span, format!("number {rest}"))
                .with_primary_label("cannot be read");
        }
        return Diagnostic::error(&codes::SYNTAX_ERROR, file, span, msg.to_string()).with_primary_label("here");
    }
    let found = match err.found() {
        Some(tok) => tok.to_string(),
        None => "the end of the declaration".to_string(),
    };
    let expected = expected_list(err.expected());
    let label = match &expected {
        Some(list) => format!("expected {list}"),
        None => "not expected here".to_string(),
    };
    let mut diag =
        Diagnostic::error(&codes::SYNTAX_ERROR, file, span, format!("unexpected {found}")).with_primary_label(label);
    if let Some(help) = hint(err.found(), expected.as_deref()) {
        diag = diag.with_help(help);
    }
    if err.found().is_some_and(|t| t.starts_declaration()) || span.start >= chunk.end {
        diag = diag.with_note("the declaration ends here");
    }
    diag
}

fn expected_list<'a, 's: 'a>(patterns: impl Iterator<Item = &'a RichPattern<'a, Token<'s>>>) -> Option<String> {
    let mut names: Vec<String> = Vec::new();
    for pattern in patterns {
        let name = match pattern {
            RichPattern::Token(tok) => tok.to_string(),
            RichPattern::Label(label) => label.to_string(),
            RichPattern::Identifier(id) => format!("`{id}`"),
            RichPattern::EndOfInput => "the end of the declaration".to_string(),
            _ => continue,
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    // Postfix and operator tokens only say the previous expression could go on; when a
    // separator or closing bracket is also possible, they are noise.
    const CONTINUATIONS: &[&str] =
        &["`(`", "`.`", "`+`", "`-`", "`*`", "`/`", "`==`", "`!=`", "`<`", "`<=`", "`>`", "`>=`", "`and`", "`or`"];
    if names.iter().any(|n| !CONTINUATIONS.contains(&n.as_str())) {
        names.retain(|n| !CONTINUATIONS.contains(&n.as_str()));
    }
    names.sort();
    match names.len() {
        0 => None,
        1 => Some(names.remove(0)),
        _ => {
            let last = names.pop().unwrap_or_default();
            Some(format!("{} or {last}", names.join(", ")))
        }
    }
}

fn hint(found: Option<&Token<'_>>, expected: Option<&str>) -> Option<String> {
    let expected = expected.unwrap_or("");
    match found {
        Some(Token::Colon) if expected.contains("`=`") => {
            Some("fields are written `name = value`; `name: value` is for call arguments".into())
        }
        Some(Token::Eq) if expected.contains("`:`") || expected.contains("`)`") => {
            Some("call arguments are written `name: value`; `name = value` is for fields".into())
        }
        Some(tok) if tok.is_keyword() && expected.contains("a name") => {
            Some(format!("{tok} is a keyword and cannot be used as a name"))
        }
        Some(Token::StrStart) if expected.contains("`=`") => Some("add `=` between the field and its value".into()),
        Some(_) if expected.contains("`,`") && (expected.contains("`]`") || expected.contains("`)`")) => {
            Some("separate elements with commas".into())
        }
        _ => None,
    }
}

/// A broken declaration the parser gave up on before finding its first mistake.
pub(super) fn too_tangled(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::error(
        &codes::SYNTAX_ERROR,
        file,
        Span::new(span.start, span.start),
        "cannot make sense of this declaration",
    )
    .with_primary_label("a mistake in this declaration, too entangled to pin down")
    .with_help("look for an unclosed string or bracket, or split the declaration into smaller ones")
}
