//! The .conv grammar as chumsky combinators over the token stream (see lang/SPEC.md).
//!
//! One item parser serves every top-level declaration; `parser/mod.rs` feeds it one
//! declaration at a time, which is what keeps one mistake from spilling into the next.

use super::literals::{literal, unescape};
use crate::ast::*;
use crate::span::Span;
use crate::token::Token;
use chumsky::input::ValueInput;
use chumsky::prelude::*;

pub(crate) type Extra<'t, 's> = extra::Err<Rich<'t, Token<'s>, SimpleSpan>>;

pub(crate) use chumsky::extra::ParserExtra;
pub(crate) use chumsky::label::LabelError;

thread_local! {
    /// Parsing steps left for the declaration being parsed (see [`set_fuel`]).
    static FUEL: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
}

/// Gives the next parse a budget of `steps` expressions and block entries. Backtracking
/// with error recovery can retry the same tokens once per enclosing level, which is
/// exponential in the nesting of a broken declaration; once the budget is spent every
/// expression fails at once, so the parse ends in time linear in its tokens.
pub(super) fn set_fuel(steps: usize) {
    FUEL.with(|f| f.set(steps));
}

/// Whether the last parse ran out of its budget.
pub(super) fn out_of_fuel() -> bool {
    FUEL.with(|f| f.get() == 0)
}

fn fuel<'t, 's: 't, I, E>() -> impl Parser<'t, I, (), E> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParserExtra<'t, I> + 't,
    E::Error: LabelError<'t, I, &'static str>,
{
    custom(|inp| {
        let left = FUEL.with(|f| {
            let left = f.get();
            f.set(left.saturating_sub(1));
            left
        });
        if left > 0 {
            return Ok(());
        }
        let before = inp.cursor();
        Err(LabelError::expected_found(["a simpler declaration"], None, inp.span_since(&before)))
    })
}

/// Drops the spare capacity a growing vector keeps: trees of large programs are mostly
/// short lists, and their memory is most of what checking a program touches.
fn exact<T>(mut items: Vec<T>) -> Vec<T> {
    items.shrink_to_fit();
    items
}

fn sp(s: SimpleSpan) -> Span {
    Span::new(s.start, s.end)
}

fn ident<'t, 's: 't, I, E>() -> impl Parser<'t, I, Ident, E> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParserExtra<'t, I> + 't,
    E::Error: LabelError<'t, I, &'static str>,
{
    select! { Token::Ident(name) = e => Ident { name: Name::new(name), span: sp(e.span()) } }.labelled("a name")
}

/// `a.b.c`
fn path<'t, 's: 't, I, E>() -> impl Parser<'t, I, Vec<Ident>, E> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParserExtra<'t, I> + 't,
    E::Error: LabelError<'t, I, &'static str>,
{
    ident().separated_by(just(Token::Dot)).at_least(1).collect()
}

fn optional_comma<'t, 's: 't, I, E>() -> impl Parser<'t, I, (), E> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParserExtra<'t, I> + 't,
    E::Error: LabelError<'t, I, &'static str>,
{
    just(Token::Comma).or_not().ignored()
}

/// Everything an item needs, built once and shared.
pub(crate) fn item<'t, 's: 't, I, E>() -> impl Parser<'t, I, Item, E> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParserExtra<'t, I> + 't,
    E::Error: LabelError<'t, I, &'static str>,
{
    let (expr, block) = expr_and_block();
    let ty = type_expr(expr.clone());

    let import = just(Token::Import)
        .ignore_then(ident().separated_by(just(Token::Dot)).at_least(1).collect::<Vec<_>>())
        .then(
            just(Token::Dot)
                .ignore_then(
                    ident()
                        .separated_by(just(Token::Comma))
                        .allow_trailing()
                        .collect::<Vec<_>>()
                        .delimited_by(just(Token::LBrace), just(Token::RBrace)),
                )
                .or_not(),
        )
        .map(|(path, names)| ItemKind::Import(Import { path, names }));

    let entity_kind = select! {
        Token::Environment => EntityKind::Environment,
        Token::Service => EntityKind::Service,
        Token::Release => EntityKind::Release,
    };
    let entity = entity_kind
        .then(ident())
        .then(block.clone())
        .map(|((kind, name), body)| ItemKind::Entity(Entity { kind, name, body }));

    let param = ident()
        .then_ignore(just(Token::Colon))
        .then(ty.clone())
        .then(just(Token::Eq).ignore_then(expr.clone()).or_not())
        .map_with(|((name, ty), default), e| Param { doc: None, name, ty, default, span: sp(e.span()) });
    let function = just(Token::Fn)
        .ignore_then(ident())
        .then(
            param
                .separated_by(just(Token::Comma))
                .allow_trailing()
                .collect::<Vec<_>>()
                .delimited_by(just(Token::LParen), just(Token::RParen)),
        )
        .then_ignore(just(Token::Arrow))
        .then(ty.clone())
        .then_ignore(just(Token::Eq))
        .then(expr.clone())
        .map(|(((name, params), ret), body)| ItemKind::Fn(FnDecl { name, params, ret, body }));

    let type_decl = just(Token::Type)
        .ignore_then(ident())
        .then_ignore(just(Token::Eq))
        .then(ty.clone())
        .map(|(name, ty)| ItemKind::Type(TypeDecl { name, ty }));

    let variant = ident()
        .then(record_fields(ty.clone(), expr.clone()).or_not())
        .map_with(|(name, fields), e| Variant { doc: None, name, fields, span: sp(e.span()) });
    let enum_decl = just(Token::Enum)
        .ignore_then(ident())
        .then(
            variant
                .then_ignore(optional_comma())
                .repeated()
                .collect::<Vec<_>>()
                .delimited_by(just(Token::LBrace), just(Token::RBrace)),
        )
        .map(|(name, variants)| ItemKind::Enum(EnumDecl { name, variants }));

    let let_decl = just(Token::Let)
        .ignore_then(ident())
        .then(just(Token::Colon).ignore_then(ty.clone()).or_not())
        .then_ignore(just(Token::Eq))
        .then(expr.clone())
        .map(|((name, ty), value)| ItemKind::Let(LetDecl { name, ty, value }));

    choice((import, entity, function, type_decl, enum_decl, let_decl))
        .labelled("a declaration")
        .map_with(|kind, e| Item { doc: None, kind, span: sp(e.span()) })
}

/// `{ name: Type = default, ... }`
fn record_fields<'t, 's: 't, I, E>(
    ty: impl Parser<'t, I, TypeExpr, E> + Clone + 't,
    expr: impl Parser<'t, I, Expr, E> + Clone + 't,
) -> impl Parser<'t, I, Vec<FieldDecl>, E> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParserExtra<'t, I> + 't,
    E::Error: LabelError<'t, I, &'static str>,
{
    let field = ident()
        .then_ignore(just(Token::Colon))
        .then(ty)
        .then(just(Token::Eq).ignore_then(expr).or_not())
        .map_with(|((name, ty), default), e| FieldDecl { doc: None, name, ty, default, span: sp(e.span()) })
        .labelled("a field declaration (`name: Type`)");
    field
        .then_ignore(optional_comma())
        .repeated()
        .collect::<Vec<_>>()
        .delimited_by(just(Token::LBrace), just(Token::RBrace))
}

fn type_expr<'t, 's: 't, I, E>(
    expr: impl Parser<'t, I, Expr, E> + Clone + 't,
) -> impl Parser<'t, I, TypeExpr, E> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParserExtra<'t, I> + 't,
    E::Error: LabelError<'t, I, &'static str>,
{
    recursive(|ty| {
        let named = path()
            .then(
                ty.clone()
                    .separated_by(just(Token::Comma))
                    .at_least(1)
                    .allow_trailing()
                    .collect::<Vec<_>>()
                    .delimited_by(just(Token::LBracket), just(Token::RBracket))
                    .or_not(),
            )
            .map(|(path, args)| TypeExprKind::Named { path, args: args.unwrap_or_default() });
        let record = record_fields(ty, expr).map(TypeExprKind::Record);
        let atom = choice((named, record)).map_with(|kind, e| TypeExpr { kind, span: sp(e.span()) });
        atom.then(just(Token::Question).map_with(|_, e| sp(e.span())).or_not())
            .map(|(inner, q)| match q {
                Some(q) => TypeExpr { span: inner.span.to(q), kind: TypeExprKind::Optional(Box::new(inner)) },
                None => inner,
            })
            .labelled("a type")
            .boxed()
    })
}

/// Builds the tree of `first op rhs op rhs ...` by precedence (all operators left-associative),
/// with an operand stack and an operator stack.
fn arrange(first: Expr, rest: Vec<((BinOp, Span), Expr)>) -> Expr {
    if rest.is_empty() {
        return first;
    }
    let mut operands = vec![first];
    let mut operators: Vec<(BinOp, Span)> = Vec::new();
    let reduce = |operands: &mut Vec<Expr>, (op, span): (BinOp, Span)| {
        let rhs = operands.pop().expect("an operator has a right operand");
        let lhs = operands.pop().expect("an operator has a left operand");
        operands.push(bin(op, span, lhs, rhs));
    };
    for (op, rhs) in rest {
        while operators.last().is_some_and(|(top, _)| top.precedence() >= op.0.precedence()) {
            let top = operators.pop().expect("checked above");
            reduce(&mut operands, top);
        }
        operators.push(op);
        operands.push(rhs);
    }
    while let Some(top) = operators.pop() {
        reduce(&mut operands, top);
    }
    operands.pop().expect("one operand is left")
}

fn bin(op: BinOp, op_span: Span, lhs: Expr, rhs: Expr) -> Expr {
    Expr { span: lhs.span.to(rhs.span), kind: ExprKind::Binary { op, op_span, lhs: Box::new(lhs), rhs: Box::new(rhs) } }
}

type Boxed<'t, I, O, E> = chumsky::Boxed<'t, 't, I, O, E>;

/// The expression parser and the block parser, which need each other. Each refers to the
/// other through chumsky's `recursive`, whose handle inside is weak: a block holds its own
/// expression parser, which points back at the block weakly, so that dropping the parsers
/// frees them (a `Recursive::declare` slot referred to from both sides is a cycle of strong
/// references, leaked on every parse: the language server parses on every edit).
#[allow(clippy::type_complexity)]
fn expr_and_block<'t, 's: 't, I, E>() -> (Boxed<'t, I, Expr, E>, Boxed<'t, I, Block, E>)
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParserExtra<'t, I> + 't,
    E::Error: LabelError<'t, I, &'static str>,
{
    let block = recursive(|block| block_over(expr_over(block.clone()), block)).boxed();
    (expr_over(block.clone()), block)
}

/// Expressions, with `block` for record literals.
fn expr_over<'t, 's: 't, I, E>(block: impl Parser<'t, I, Block, E> + Clone + 't) -> Boxed<'t, I, Expr, E>
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParserExtra<'t, I> + 't,
    E::Error: LabelError<'t, I, &'static str>,
{
    recursive(|expr| {
        let lit = literal().map_with(|lit, e| Expr { kind: lit, span: sp(e.span()) });

        let string = string(expr.clone()).map_with(|parts, e| Expr { kind: ExprKind::Str(parts), span: sp(e.span()) });

        let name_or_record = ident().then(block.clone().or_not()).map_with(|(name, body), e| Expr {
            kind: match body {
                Some(body) => ExprKind::Record(Box::new(RecordLit { tag: Some(name), body })),
                None => ExprKind::Name(name),
            },
            span: sp(e.span()),
        });

        let record = block.clone().map_with(|body, e| Expr {
            kind: ExprKind::Record(Box::new(RecordLit { tag: None, body })),
            span: sp(e.span()),
        });

        let comprehension = just(Token::For)
            .ignore_then(ident())
            .then_ignore(just(Token::In))
            .then(expr.clone())
            .then(just(Token::If).ignore_then(expr.clone()).or_not())
            .then_ignore(just(Token::Colon))
            .then(expr.clone())
            .map(|(((var, iter), filter), body)| ExprKind::For(Box::new(Comprehension { var, iter, filter, body })));
        let elements = expr
            .clone()
            .separated_by(just(Token::Comma))
            .allow_trailing()
            .collect::<Vec<_>>()
            .map(|items| ExprKind::List(exact(items)));
        let list = comprehension
            .or(elements)
            .delimited_by(just(Token::LBracket), just(Token::RBracket))
            .map_with(|kind, e| Expr { kind, span: sp(e.span()) })
            .recover_with(via_parser(nested_delimiters(
                Token::LBracket,
                Token::RBracket,
                [(Token::LParen, Token::RParen), (Token::LBrace, Token::RBrace)],
                |s| Expr { kind: ExprKind::Error, span: sp(s) },
            )));

        let paren = expr
            .clone()
            .delimited_by(just(Token::LParen), just(Token::RParen))
            .map_with(|inner, e| Expr { kind: ExprKind::Paren(Box::new(inner)), span: sp(e.span()) });

        let conditional = just(Token::If)
            .ignore_then(expr.clone())
            .then_ignore(just(Token::Then))
            .then(expr.clone())
            .then_ignore(just(Token::Else))
            .then(expr.clone())
            .map_with(|((cond, then), otherwise), e| Expr {
                kind: ExprKind::If { cond: Box::new(cond), then: Box::new(then), otherwise: Box::new(otherwise) },
                span: sp(e.span()),
            });

        let primary = fuel()
            .ignore_then(choice((lit, string, name_or_record, record, list, paren, conditional)))
            .labelled("an expression");

        let arg = ident()
            .then_ignore(just(Token::Colon))
            .or_not()
            .then(expr.clone())
            .map(|(name, value)| Arg { name, value });
        let args = arg
            .separated_by(just(Token::Comma))
            .allow_trailing()
            .collect::<Vec<_>>()
            .delimited_by(just(Token::LParen), just(Token::RParen))
            .map_with(|args, e| (exact(args), sp(e.span())));
        enum Postfix {
            Field(Ident),
            Call(Vec<Arg>, Span),
        }
        let postfix_op = choice((
            just(Token::Dot).ignore_then(ident()).map(Postfix::Field),
            args.map(|(args, span)| Postfix::Call(args, span)),
        ));
        let postfix = primary.foldl(postfix_op.repeated(), |base, op| match op {
            Postfix::Field(name) => {
                Expr { span: base.span.to(name.span), kind: ExprKind::Field { base: Box::new(base), name } }
            }
            Postfix::Call(args, span) => {
                Expr { span: base.span.to(span), kind: ExprKind::Call { callee: Box::new(base), args } }
            }
        });

        let unary_op =
            select! { Token::Minus => UnOp::Neg, Token::Not => UnOp::Not }.map_with(|op, e| (op, sp(e.span())));
        let unary = unary_op.repeated().foldr(postfix, |(op, span), operand| Expr {
            span: span.to(operand.span),
            kind: ExprKind::Unary { op, operand: Box::new(operand) },
        });

        let op = |table: &'static [(Token<'static>, BinOp)]| {
            any().filter(move |t: &Token<'s>| table.iter().any(|(tok, _)| tok == t)).map_with(move |t, e| {
                let op = table.iter().find(|(tok, _)| *tok == t).map(|(_, op)| *op).unwrap_or(BinOp::Add);
                (op, sp(e.span()))
            })
        };
        // Every binary operator at once: operands and operators are read as a flat sequence
        // (one operator attempt per operand), then arranged by precedence.
        static BINARY: &[(Token<'static>, BinOp)] = &[
            (Token::Star, BinOp::Mul),
            (Token::Slash, BinOp::Div),
            (Token::Plus, BinOp::Add),
            (Token::Minus, BinOp::Sub),
            (Token::EqEq, BinOp::Eq),
            (Token::NotEq, BinOp::Ne),
            (Token::Lt, BinOp::Lt),
            (Token::Le, BinOp::Le),
            (Token::Gt, BinOp::Gt),
            (Token::Ge, BinOp::Ge),
            (Token::And, BinOp::And),
            (Token::Or, BinOp::Or),
        ];
        unary
            .clone()
            .then(op(BINARY).then(unary).repeated().collect::<Vec<_>>())
            .map(|(first, rest)| arrange(first, rest))
            .labelled("an expression")
            .boxed()
    })
    .boxed()
}

/// Blocks of entries, with `expr` for field values and `block` for nested blocks.
fn block_over<'t, 's: 't, I, E>(
    expr: Boxed<'t, I, Expr, E>,
    block: impl Parser<'t, I, Block, E> + Clone + 't,
) -> impl Parser<'t, I, Block, E> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParserExtra<'t, I> + 't,
    E::Error: LabelError<'t, I, &'static str>,
{
    let key = ident().map(Key::Name).or(string(expr.clone())
        .filter(|parts: &Vec<StrPart>| parts.iter().all(|p| matches!(p, StrPart::Text(_))))
        .labelled("a key without `${...}`")
        .map_with(|parts, e| {
            let value = parts
                .into_iter()
                .map(|p| match p {
                    StrPart::Text(t) => t,
                    StrPart::Interp(_) => Name::default(),
                })
                .collect();
            Key::Str { value, span: sp(e.span()) }
        }));
    let field = key.then_ignore(just(Token::Eq)).then(expr.clone()).map(|(key, value)| EntryKind::Field { key, value });
    let nested =
        ident().then(ident()).then(block.clone()).map(|((kind, name), body)| EntryKind::Nested { kind, name, body });
    let entry = fuel()
        .ignore_then(choice((nested, field)))
        .labelled("a field (`name = value`)")
        .map_with(|kind, e| Some(Entry { doc: None, kind, span: sp(e.span()) }))
        .recover_with(skip_then_retry_until(any().ignored(), choice((just(Token::RBrace).ignored(), end()))));
    entry
        .then_ignore(optional_comma())
        .repeated()
        .collect::<Vec<_>>()
        .delimited_by(just(Token::LBrace), just(Token::RBrace))
        .map_with(|entries, e| Block { entries: exact(entries.into_iter().flatten().collect()), span: sp(e.span()) })
}

/// `"text ${expr} text"` as parts; escapes are already checked by the lexer.
fn string<'t, 's: 't, I, E>(
    expr: impl Parser<'t, I, Expr, E> + Clone + 't,
) -> impl Parser<'t, I, Vec<StrPart>, E> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParserExtra<'t, I> + 't,
    E::Error: LabelError<'t, I, &'static str>,
{
    let text = select! { Token::StrText(raw) => StrPart::Text(unescape(raw)) };
    let interp =
        expr.delimited_by(just(Token::InterpOpen), just(Token::InterpClose)).map(|e| StrPart::Interp(Box::new(e)));
    just(Token::StrStart)
        .ignore_then(text.or(interp).repeated().collect::<Vec<_>>().map(exact))
        .then_ignore(just(Token::StrEnd))
        .labelled("a string")
}
