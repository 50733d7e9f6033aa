//! How deep a syntax tree is, measured without recursion, and taking one apart without
//! recursion: the parser checks the trees that error recovery builds with these, since
//! recovery may pair brackets differently from the nesting count (`parser/nesting.rs`).

use crate::ast::{Block, EntryKind, Expr, ExprKind, Item, ItemKind, StrPart};

/// The depth of an item's expressions and blocks.
pub fn item_depth(item: &Item) -> usize {
    let mut exprs: Vec<(&Expr, usize)> = Vec::new();
    let mut blocks: Vec<(&Block, usize)> = Vec::new();
    match &item.kind {
        ItemKind::Entity(e) => blocks.push((&e.body, 1)),
        ItemKind::Fn(f) => {
            exprs.push((&f.body, 1));
            exprs.extend(f.params.iter().filter_map(|p| p.default.as_ref()).map(|e| (e, 1)));
        }
        ItemKind::Let(l) => exprs.push((&l.value, 1)),
        ItemKind::Import(_) | ItemKind::Type(_) | ItemKind::Enum(_) => {}
    }
    let mut deepest = 0;
    loop {
        if let Some((block, depth)) = blocks.pop() {
            deepest = deepest.max(depth);
            for entry in &block.entries {
                match &entry.kind {
                    EntryKind::Field { value, .. } => exprs.push((value, depth + 1)),
                    EntryKind::Nested { body, .. } => blocks.push((body, depth + 1)),
                }
            }
            continue;
        }
        let Some((e, depth)) = exprs.pop() else { break };
        deepest = deepest.max(depth);
        let d = depth + 1;
        match &e.kind {
            ExprKind::Field { base, .. } => exprs.push((base, d)),
            ExprKind::Call { callee, args } => {
                exprs.push((callee, d));
                exprs.extend(args.iter().map(|a| (&a.value, d)));
            }
            ExprKind::List(items) => exprs.extend(items.iter().map(|i| (i, d))),
            ExprKind::Record(r) => blocks.push((&r.body, d)),
            ExprKind::For(c) => {
                exprs.push((&c.iter, d));
                exprs.push((&c.body, d));
                exprs.extend(c.filter.as_ref().map(|f| (f, d)));
            }
            ExprKind::If { cond, then, otherwise } => exprs.extend([(&**cond, d), (&**then, d), (&**otherwise, d)]),
            ExprKind::Binary { lhs, rhs, .. } => exprs.extend([(&**lhs, d), (&**rhs, d)]),
            ExprKind::Unary { operand, .. } | ExprKind::Paren(operand) => exprs.push((operand, d)),
            ExprKind::Str(parts) => exprs.extend(parts.iter().filter_map(|p| match p {
                StrPart::Interp(e) => Some((&**e, d)),
                StrPart::Text(_) => None,
            })),
            ExprKind::Literal(_) | ExprKind::Name(_) | ExprKind::Error => {}
        }
    }
    deepest
}

/// Frees a tree of any depth: dropping it as it is would recurse once per level.
pub fn dismantle(item: Item) {
    let mut exprs: Vec<Expr> = Vec::new();
    let mut blocks: Vec<Block> = Vec::new();
    match item.kind {
        ItemKind::Entity(e) => blocks.push(e.body),
        ItemKind::Fn(f) => {
            exprs.push(f.body);
            exprs.extend(f.params.into_iter().filter_map(|p| p.default));
        }
        ItemKind::Let(l) => exprs.push(l.value),
        ItemKind::Import(_) | ItemKind::Type(_) | ItemKind::Enum(_) => {}
    }
    loop {
        if let Some(block) = blocks.pop() {
            for entry in block.entries {
                match entry.kind {
                    EntryKind::Field { value, .. } => exprs.push(value),
                    EntryKind::Nested { body, .. } => blocks.push(body),
                }
            }
            continue;
        }
        let Some(e) = exprs.pop() else { break };
        match e.kind {
            ExprKind::Field { base, .. } => exprs.push(*base),
            ExprKind::Call { callee, args } => {
                exprs.push(*callee);
                exprs.extend(args.into_iter().map(|a| a.value));
            }
            ExprKind::List(items) => exprs.extend(items),
            ExprKind::Record(r) => blocks.push(r.body),
            ExprKind::For(c) => {
                let c = *c;
                exprs.push(c.iter);
                exprs.push(c.body);
                exprs.extend(c.filter);
            }
            ExprKind::If { cond, then, otherwise } => exprs.extend([*cond, *then, *otherwise]),
            ExprKind::Binary { lhs, rhs, .. } => exprs.extend([*lhs, *rhs]),
            ExprKind::Unary { operand, .. } | ExprKind::Paren(operand) => exprs.push(*operand),
            ExprKind::Str(parts) => exprs.extend(parts.into_iter().filter_map(|p| match p {
                StrPart::Interp(e) => Some(*e),
                StrPart::Text(_) => None,
            })),
            ExprKind::Literal(_) | ExprKind::Name(_) | ExprKind::Error => {}
        }
    }
}
