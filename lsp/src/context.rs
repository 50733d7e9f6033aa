//! Where the cursor stands, read from the tokens before it: which brackets enclose it, what
//! each bracket belongs to (an entity block, a `stage` block, a tagged record such as
//! `rollout { ... }`, a call), and whether the cursor starts an entry or writes a value.
//! Token-based rather than tree-based, so half-typed text (`depends_on = [`) still has a
//! context.

use conv_lang::FileId;
use conv_lang::ast::EntityKind;
use conv_lang::token::Token;

#[derive(Clone, Debug, PartialEq)]
pub enum FrameKind {
    /// `service api {`
    Entity(EntityKind),
    /// `stage canary {` inside another block: the nested block's keyword.
    Nested(String),
    /// `rollout {`, `local {`: a record tagged with a variant's name.
    Tagged(String),
    /// `import std.gates.{`: the module path.
    ImportList(String),
    /// `{` of anything else: a plain record, an enum or type body.
    Brace,
    /// `[`
    List,
    /// `(` after a callee: the callee's name and, for `gates.http_ok(`, its qualifier.
    Call { name: String, qualifier: Option<String> },
    /// `(` of a parenthesized expression.
    Paren,
    /// `${` inside a string.
    Interp,
}

#[derive(Clone, Debug)]
pub struct Frame {
    pub kind: FrameKind,
    /// The entry key this bracket is the value of: `depends_on` in `depends_on = [`.
    pub key: Option<String>,
    /// Keys written so far at this frame's level (`name =`).
    pub keys: Vec<String>,
    /// Commas at this frame's level before the cursor.
    pub commas: usize,
    /// The name before `:` of the current argument, in a call: `window` in `window: 1`.
    pub named_arg: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Position {
    /// Where a top-level declaration may start.
    TopLevel,
    /// The start of an entry of the innermost block.
    Entry,
    /// A value; `key` is the entry it is the value of, when there is one.
    Value { key: Option<String> },
    /// After `import `: a module path (what is typed so far, without the last segment).
    ImportPath(String),
    /// After `name.`: a member of `name`.
    Member(String),
    /// Inside a string's text or a comment: nothing to offer.
    Nothing,
}

#[derive(Clone, Debug)]
pub struct Context {
    /// Outermost first.
    pub frames: Vec<Frame>,
    pub position: Position,
}

fn ident(t: &Token<'_>) -> Option<String> {
    match t {
        Token::Ident(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether a token can end an expression (so that a following line starts a new entry).
fn ends_expression(t: &Token<'_>) -> bool {
    t.is_number()
        || matches!(
            t,
            Token::Ident(_)
                | Token::StrEnd
                | Token::RBrace
                | Token::RBracket
                | Token::RParen
                | Token::True
                | Token::False
                | Token::None
        )
}

/// The context at byte `offset` of `text`.
pub fn at(text: &str, offset: usize) -> Context {
    let lexed = conv_lang::lexer::lex(FileId(0), text);
    if lexed.comments.iter().any(|c| c.span.start < offset && offset <= c.span.end) {
        return Context { frames: Vec::new(), position: Position::Nothing };
    }
    let tokens: Vec<(Token<'_>, usize, usize)> = lexed.tokens.iter().map(|(t, s)| (*t, s.start, s.end)).collect();
    // The tokens wholly before the cursor; an identifier the cursor is at the end of (or
    // inside) is the word being typed, and does not count.
    let mut before: Vec<(Token<'_>, usize, usize)> =
        tokens.iter().copied().filter(|(_, s, e)| *e <= offset || *s < offset && offset < *e).collect();
    let mut typed_start = offset;
    if let Some((Token::Ident(_), s, e)) = before.last() {
        if *e >= offset {
            typed_start = *s;
            before.pop();
        }
    } else if let Some((t, s, e)) = before.last()
        && *s < offset
        && offset < *e
        && !matches!(t, Token::StrText(_))
    {
        // Inside a number or another token that is not a name.
        return Context { frames: Vec::new(), position: Position::Nothing };
    }
    let mut frames: Vec<Frame> = Vec::new();
    let mut in_string = 0usize;
    for (i, (tok, _, _)) in before.iter().enumerate() {
        let prev = |k: usize| if i >= k { Some(before[i - k].0) } else { None };
        match tok {
            Token::StrStart => in_string += 1,
            Token::StrEnd => in_string = in_string.saturating_sub(1),
            Token::InterpOpen => push(&mut frames, FrameKind::Interp, None),
            Token::InterpClose => pop(&mut frames, |k| *k == FrameKind::Interp),
            Token::LBrace => {
                let kind = match (prev(1), prev(2)) {
                    (Some(Token::Ident(_)), Some(Token::Environment)) => FrameKind::Entity(EntityKind::Environment),
                    (Some(Token::Ident(_)), Some(Token::Service)) => FrameKind::Entity(EntityKind::Service),
                    (Some(Token::Ident(_)), Some(Token::Release)) => FrameKind::Entity(EntityKind::Release),
                    (Some(Token::Dot), _) => {
                        let mut path = Vec::new();
                        let mut k = i.saturating_sub(2);
                        while let Some(n) = ident(&before[k].0) {
                            path.push(n);
                            if k >= 2 && before[k - 1].0 == Token::Dot {
                                k -= 2;
                            } else {
                                break;
                            }
                        }
                        path.reverse();
                        if k > 0 && before[k - 1].0 == Token::Import {
                            FrameKind::ImportList(path.join("."))
                        } else {
                            FrameKind::Brace
                        }
                    }
                    (Some(Token::Ident(_)), Some(Token::Ident(kind))) if !frames.is_empty() => {
                        FrameKind::Nested(kind.to_string())
                    }
                    (Some(Token::Ident(tag)), Some(t)) if !matches!(t, Token::Enum | Token::Type) => {
                        FrameKind::Tagged(tag.to_string())
                    }
                    _ => FrameKind::Brace,
                };
                let key = value_key(&before, i, matches!(kind, FrameKind::Tagged(_)));
                push(&mut frames, kind, key);
            }
            Token::LBracket => {
                let key = value_key(&before, i, false);
                push(&mut frames, FrameKind::List, key);
            }
            Token::LParen => {
                let kind = match prev(1).as_ref().and_then(ident) {
                    Some(name) => {
                        let qualifier = match (prev(2), prev(3)) {
                            (Some(Token::Dot), Some(Token::Ident(q))) => Some(q.to_string()),
                            _ => None,
                        };
                        FrameKind::Call { name, qualifier }
                    }
                    None => FrameKind::Paren,
                };
                push(&mut frames, kind, None);
            }
            Token::RBrace => pop(&mut frames, |k| {
                matches!(
                    k,
                    FrameKind::Entity(_)
                        | FrameKind::Nested(_)
                        | FrameKind::Tagged(_)
                        | FrameKind::ImportList(_)
                        | FrameKind::Brace
                )
            }),
            Token::RBracket => pop(&mut frames, |k| *k == FrameKind::List),
            Token::RParen => pop(&mut frames, |k| matches!(k, FrameKind::Call { .. } | FrameKind::Paren)),
            Token::Comma => {
                if let Some(f) = frames.last_mut() {
                    f.commas += 1;
                    f.named_arg = None;
                }
            }
            Token::Eq if in_string == 0 => {
                if let (Some(f), Some(k)) = (frames.last_mut(), prev(1).as_ref().and_then(ident)) {
                    f.keys.push(k);
                }
            }
            Token::Colon => {
                if let (Some(f), Some(k)) = (frames.last_mut(), prev(1).as_ref().and_then(ident))
                    && matches!(f.kind, FrameKind::Call { .. })
                {
                    f.named_arg = Some(k);
                }
            }
            _ => {}
        }
    }
    let last_key = frames.last().and_then(|f| f.keys.last().cloned());
    // The keys the innermost block writes after the cursor count as written too.
    if let Some(frame) = frames.last_mut() {
        let after: Vec<Token<'_>> = tokens.iter().filter(|(_, s, _)| *s >= offset).map(|(t, _, _)| *t).collect();
        let mut depth = 0usize;
        for (k, tok) in after.iter().enumerate() {
            match tok {
                Token::LBrace | Token::LBracket | Token::LParen | Token::InterpOpen => depth += 1,
                Token::RBrace | Token::RBracket | Token::RParen | Token::InterpClose => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                }
                Token::Ident(name) if depth == 0 && after.get(k + 1) == Some(&Token::Eq) => {
                    frame.keys.push(name.to_string());
                }
                _ => {}
            }
        }
    }
    let inside_text = in_string > frames.iter().filter(|f| f.kind == FrameKind::Interp).count();
    if inside_text {
        return Context { frames, position: Position::Nothing };
    }
    let last = before.last().copied();
    // Does a line break separate the last token from the word being typed?
    let new_line = last.is_some_and(|(_, _, e)| text.get(e..typed_start).is_some_and(|gap| gap.contains(['\n', '\r'])));
    let position = match last {
        Some((Token::Dot, _, _)) => {
            let mut path = Vec::new();
            let mut k = before.len() - 1;
            while k >= 1 {
                let Some(n) = ident(&before[k - 1].0) else { break };
                path.push(n);
                if k >= 2 && before[k - 2].0 == Token::Dot {
                    k -= 2;
                } else {
                    k -= 1;
                    break;
                }
            }
            path.reverse();
            if k >= 1 && before[k - 1].0 == Token::Import {
                Position::ImportPath(path.join("."))
            } else {
                Position::Member(path.join("."))
            }
        }
        Some((Token::Import, _, _)) => Position::ImportPath(String::new()),
        _ => match frames.last().map(|f| &f.kind) {
            None => match last {
                None => Position::TopLevel,
                Some((t, _, _)) if new_line && (ends_expression(&t) || t == Token::Gt) => Position::TopLevel,
                Some(_) => Position::Value { key: None },
            },
            Some(
                FrameKind::Entity(_)
                | FrameKind::Nested(_)
                | FrameKind::Tagged(_)
                | FrameKind::Brace
                | FrameKind::ImportList(_),
            ) => match last {
                Some((Token::LBrace | Token::Comma, _, _)) => Position::Entry,
                Some((t, _, _)) if new_line && ends_expression(&t) => Position::Entry,
                Some((Token::Eq, _, _)) => {
                    Position::Value { key: before.len().checked_sub(2).and_then(|k| ident(&before[k].0)) }
                }
                _ => Position::Value { key: last_key },
            },
            Some(FrameKind::List) => Position::Value { key: frames.last().and_then(|f| f.key.clone()) },
            Some(_) => Position::Value { key: None },
        },
    };
    Context { frames, position }
}

/// The key of `key = [` or `key = tag {`, for the bracket at `i`.
fn value_key(before: &[(Token<'_>, usize, usize)], i: usize, tagged: bool) -> Option<String> {
    let eq = if tagged { i.checked_sub(2)? } else { i.checked_sub(1)? };
    if before.get(eq)?.0 != Token::Eq {
        return None;
    }
    ident(&before.get(eq.checked_sub(1)?)?.0)
}

fn push(frames: &mut Vec<Frame>, kind: FrameKind, key: Option<String>) {
    frames.push(Frame { kind, key, keys: Vec::new(), commas: 0, named_arg: None });
}

/// Closes the innermost frame if it matches; an unbalanced closer is ignored.
fn pop(frames: &mut Vec<Frame>, matches: impl Fn(&FrameKind) -> bool) {
    if frames.last().is_some_and(|f| matches(&f.kind)) {
        frames.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(text_with_cursor: &str) -> Context {
        let offset = text_with_cursor.find('|').unwrap();
        let text = text_with_cursor.replacen('|', "", 1);
        at(&text, offset)
    }

    #[test]
    fn positions() {
        assert_eq!(ctx("|").position, Position::TopLevel);
        assert_eq!(ctx("let x = 1\nser|").position, Position::TopLevel);
        assert_eq!(ctx("let x = |").position, Position::Value { key: None });
        let c = ctx("service api {\n  ver|\n}");
        assert_eq!(c.position, Position::Entry);
        assert_eq!(c.frames[0].kind, FrameKind::Entity(EntityKind::Service));
        let c = ctx("service api {\n  version = \"1\"\n  |\n}");
        assert_eq!(c.position, Position::Entry);
        assert_eq!(c.frames[0].keys, ["version"]);
        let c = ctx("service api {\n  |\n  version = \"1\"\n  run = command { argv = [] }\n}\nlet x = 1");
        assert_eq!(c.frames[0].keys, ["version", "run"], "keys after the cursor, at the block's level");
        assert_eq!(
            ctx("service a { replicas = 1 + |\n version = \"1\" }").position,
            Position::Value { key: Some("replicas".into()) }
        );
        assert_eq!(
            ctx("service api { depends_on = [db, |] }").position,
            Position::Value { key: Some("depends_on".into()) }
        );
        let c = ctx("release r { strategy = rollout {\n stage a { env = st| } } }");
        assert_eq!(c.position, Position::Value { key: Some("env".into()) });
        let kinds: Vec<_> = c.frames.iter().map(|f| f.kind.clone()).collect();
        assert_eq!(
            kinds,
            [
                FrameKind::Entity(EntityKind::Release),
                FrameKind::Tagged("rollout".into()),
                FrameKind::Nested("stage".into())
            ]
        );
        assert_eq!(ctx("service a { version = \"x|\" }").position, Position::Nothing);
        assert_eq!(ctx("// a |comment").position, Position::Nothing);
        let c = ctx("let g = latency_p99(1s, window: |");
        assert_eq!(c.frames[0].kind, FrameKind::Call { name: "latency_p99".into(), qualifier: None });
        assert_eq!((c.frames[0].commas, c.frames[0].named_arg.as_deref()), (1, Some("window")));
        assert_eq!(ctx("import std.gates.{http_ok, |}").frames[0].kind, FrameKind::ImportList("std.gates".into()));
        assert_eq!(ctx("import std.|").position, Position::ImportPath("std".into()));
        assert_eq!(ctx("let x = gates.|").position, Position::Member("gates".into()));
    }
}
