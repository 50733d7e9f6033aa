//! A declaration that fails to parse still declares its name, so that the rest of the program
//! does not report each use of it as unknown: the syntax error is its one diagnostic.

use super::Spanned;
use crate::ast::{Block, Entity, EntityKind, Expr, ExprKind, FnDecl, Ident, Item, ItemKind, LetDecl, Name, TypeDecl};
use crate::ast::{TypeExpr, TypeExprKind};
use crate::span::Span;
use crate::token::Token;

/// An item with the declaration's kind and name and nothing else, where that is silent for
/// the checker: entities (their uses are typed by the entity's schema), `let`s and `type`s
/// (whose error value and type are compatible with everything), and functions (whose error
/// return type makes the checker take any call as it is). Enums have none: a use of a
/// variant would be checked against variants the placeholder does not have.
pub(super) fn placeholder(chunk: &[Spanned<'_>]) -> Option<Item> {
    let (Token::Ident(name), name_span) = chunk.get(1)? else { return None };
    let name = Ident { name: Name::new(name), span: Span::from(*name_span) };
    let span = Span::new(chunk[0].1.start, chunk[chunk.len() - 1].1.end);
    let entity =
        |kind| ItemKind::Entity(Entity { kind, name: name.clone(), body: Block { entries: Vec::new(), span } });
    let kind = match chunk[0].0 {
        Token::Environment => entity(EntityKind::Environment),
        Token::Service => entity(EntityKind::Service),
        Token::Release => entity(EntityKind::Release),
        Token::Let => ItemKind::Let(LetDecl { name, ty: None, value: Expr { kind: ExprKind::Error, span } }),
        Token::Type => ItemKind::Type(TypeDecl { name, ty: TypeExpr { kind: TypeExprKind::Error, span } }),
        Token::Fn => ItemKind::Fn(FnDecl {
            name,
            params: Vec::new(),
            ret: TypeExpr { kind: TypeExprKind::Error, span },
            body: Expr { kind: ExprKind::Error, span },
        }),
        _ => return None,
    };
    Some(Item { doc: None, kind, span })
}
