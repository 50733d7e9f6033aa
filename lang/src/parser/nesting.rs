//! Before a declaration is parsed, its tokens are scanned once for unbalanced brackets and
//! for nesting deeper than [`MAX_NESTING`], so that no later phase, the parser included,
//! recurses deeper than that on any input.
//!
//! The depth counted is an upper bound of the syntax tree's depth (within a small constant):
//! each open bracket is a level, and so is each link of a chain that nests without brackets
//! (`if`, `for`, operators, `.`, and a call's or parenthesis's closing `)`). A `,`, `=` or
//! `:` ends the expression on its level, so the links before it no longer count.

use super::MAX_NESTING;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};
use crate::token::Token;
use chumsky::span::SimpleSpan;

/// Reports the first token nested too deeply, or else the first unbalanced bracket. Depth
/// is counted past an unbalanced bracket too: recovery still builds a tree from the rest.
pub(super) fn check(file: FileId, chunk: &[(Token<'_>, SimpleSpan)]) -> Option<Diagnostic> {
    let mut unbalanced: Option<Diagnostic> = None;
    let mut open: Vec<(Token<'_>, SimpleSpan)> = Vec::new();
    // Chain links counted on each level: the declaration's own, then one per open bracket.
    let mut links: Vec<usize> = vec![0];
    let mut depth = 0usize;
    for (tok, span) in chunk {
        let closer = match tok {
            Token::LBrace | Token::LBracket | Token::LParen | Token::InterpOpen => {
                open.push((*tok, *span));
                links.push(0);
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(too_deep(file, *tok, *span));
                }
                continue;
            }
            Token::RBrace | Token::RBracket | Token::RParen | Token::InterpClose => *tok,
            Token::Comma | Token::Eq | Token::Colon => {
                let level = links.last_mut().expect("the declaration's level is never popped");
                depth -= *level;
                *level = 0;
                continue;
            }
            t if is_link(t) => {
                *links.last_mut().expect("the declaration's level is never popped") += 1;
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(too_deep(file, *tok, *span));
                }
                continue;
            }
            _ => continue,
        };
        let popped = open.pop();
        if popped.is_some() {
            depth -= 1 + links.pop().unwrap_or(0);
        }
        match popped {
            Some((opener, _)) if matches_delimiter(opener, closer) => {
                // `f(x)(y)` and `((x))` nest one level per closed parenthesis.
                if closer == Token::RParen {
                    *links.last_mut().expect("the declaration's level is never popped") += 1;
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Some(too_deep(file, *tok, *span));
                    }
                }
            }
            Some((opener, open_span)) => {
                unbalanced = unbalanced.or(Some(
                    Diagnostic::error(
                        &codes::UNCLOSED_DELIMITER,
                        file,
                        Span::from(open_span),
                        format!("unclosed {opener}"),
                    )
                    .with_primary_label(format!("this {opener} is never closed"))
                    .with_label(file, Span::from(*span), format!("expected {} before this {closer}", closing(opener)))
                    .with_help(format!("add the missing {}", closing(opener))),
                ));
            }
            None => {
                unbalanced = unbalanced.or(Some(
                    Diagnostic::error(
                        &codes::UNCLOSED_DELIMITER,
                        file,
                        Span::from(*span),
                        format!("unmatched {closer}"),
                    )
                    .with_primary_label("nothing to close here"),
                ));
            }
        }
    }
    if unbalanced.is_some() {
        return unbalanced;
    }
    let (opener, open_span) = open.pop()?;
    let end = chunk.last().map(|(_, s)| s.end).unwrap_or(open_span.end);
    Some(
        Diagnostic::error(&codes::UNCLOSED_DELIMITER, file, Span::from(open_span), format!("unclosed {opener}"))
            .with_primary_label(format!("this {opener} is never closed"))
            .with_label(file, Span::new(end, end), format!("expected {} before here", closing(opener)))
            .with_help(format!("add the missing {}", closing(opener))),
    )
}

/// Tokens that add a level to the expression they are in without a bracket.
fn is_link(tok: &Token<'_>) -> bool {
    matches!(
        tok,
        Token::If
            | Token::For
            | Token::Not
            | Token::Dot
            | Token::Plus
            | Token::Minus
            | Token::Star
            | Token::Slash
            | Token::EqEq
            | Token::NotEq
            | Token::Lt
            | Token::Le
            | Token::Gt
            | Token::Ge
            | Token::And
            | Token::Or
    )
}

fn too_deep(file: FileId, tok: Token<'_>, span: SimpleSpan) -> Diagnostic {
    let bracket = matches!(tok, Token::LBrace | Token::LBracket | Token::LParen | Token::InterpOpen);
    let (message, label, help) = if bracket {
        (
            format!("brackets nested more than {MAX_NESTING} deep"),
            "this bracket is too deep".to_string(),
            "flatten the value, for example with `let` declarations for the inner parts",
        )
    } else {
        (
            format!("expression nested more than {MAX_NESTING} levels deep"),
            format!("this {tok} is too deep"),
            "split the chain into `let` declarations; each `if`, operator, `.` and call in a chain is one level",
        )
    };
    Diagnostic::error(&codes::TOO_DEEPLY_NESTED, file, Span::from(span), message)
        .with_primary_label(label)
        .with_help(help)
}

/// E0107 for a tree too deep that recovery built from a declaration with broken brackets.
pub(super) fn too_deep_tree(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::error(
        &codes::TOO_DEEPLY_NESTED,
        file,
        Span::new(span.start, span.start),
        format!("expression nested more than {MAX_NESTING} levels deep"),
    )
    .with_primary_label("somewhere in this declaration")
    .with_help("split the expression into `let` declarations")
}

fn matches_delimiter(open: Token<'_>, close: Token<'_>) -> bool {
    matches!(
        (open, close),
        (Token::LBrace, Token::RBrace)
            | (Token::LBracket, Token::RBracket)
            | (Token::LParen, Token::RParen)
            | (Token::InterpOpen, Token::InterpClose)
    )
}

fn closing(open: Token<'_>) -> &'static str {
    match open {
        Token::LBrace | Token::InterpOpen => "`}`",
        Token::LBracket => "`]`",
        _ => "`)`",
    }
}
