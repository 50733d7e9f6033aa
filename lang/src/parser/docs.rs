//! Attaches `///` comments to the declaration, field, parameter or variant below them.

use crate::ast::*;
use crate::lexer::Comment;

pub(crate) fn attach(src: &str, comments: &[Comment], items: &mut [Item]) {
    let docs: Vec<&Comment> = comments.iter().filter(|c| c.doc).collect();
    if docs.is_empty() {
        return;
    }
    let finder = DocFinder { src, docs };
    for item in items {
        item.doc = finder.doc_before(item.span.start);
        match &mut item.kind {
            ItemKind::Entity(entity) => finder.block(&mut entity.body),
            ItemKind::Fn(f) => {
                for p in &mut f.params {
                    p.doc = finder.doc_before(p.span.start);
                }
            }
            ItemKind::Type(t) => finder.type_expr(&mut t.ty),
            ItemKind::Enum(e) => {
                for v in &mut e.variants {
                    v.doc = finder.doc_before(v.span.start);
                    for f in v.fields.iter_mut().flatten() {
                        f.doc = finder.doc_before(f.span.start);
                    }
                }
            }
            ItemKind::Import(_) | ItemKind::Let(_) => {}
        }
    }
}

struct DocFinder<'a> {
    src: &'a str,
    docs: Vec<&'a Comment>,
}

impl DocFinder<'_> {
    fn block(&self, block: &mut Block) {
        for entry in &mut block.entries {
            entry.doc = self.doc_before(entry.span.start);
            if let EntryKind::Nested { body, .. } = &mut entry.kind {
                self.block(body);
            }
        }
    }

    fn type_expr(&self, ty: &mut TypeExpr) {
        match &mut ty.kind {
            TypeExprKind::Record(fields) => {
                for f in fields {
                    f.doc = self.doc_before(f.span.start);
                }
            }
            TypeExprKind::Optional(inner) => self.type_expr(inner),
            TypeExprKind::Named { .. } | TypeExprKind::Error => {}
        }
    }

    /// The run of doc comments ending right above `offset`, with only whitespace between.
    fn doc_before(&self, offset: usize) -> Option<String> {
        let mut idx = self.docs.partition_point(|c| c.span.end <= offset);
        let mut lines = Vec::new();
        let mut cursor = offset;
        while idx > 0 {
            let c = self.docs[idx - 1];
            if !self.src[c.span.end..cursor].trim().is_empty() {
                break;
            }
            let text = &self.src[c.span.start + 3..c.span.end];
            lines.push(text.strip_prefix(' ').unwrap_or(text).trim_end());
            cursor = c.span.start;
            idx -= 1;
        }
        if lines.is_empty() {
            return None;
        }
        lines.reverse();
        Some(lines.join("\n"))
    }
}
