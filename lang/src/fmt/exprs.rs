//! Layout of expressions: one line when they fit and hold no comment, else broken.

use super::Printer;
use super::items::key_text;
use crate::ast::*;
use crate::parser::literals::escape;

impl Printer<'_> {
    pub(super) fn expr(&mut self, e: &Expr) {
        crate::stack::grow(|| {
            if let Some(flat) = self.flat_expr(e) {
                if self.fits(&flat) {
                    self.out.push_str(&flat);
                    return;
                }
            }
            match &e.kind {
                ExprKind::List(elems) => {
                    self.out.push('[');
                    self.broken_items(elems.iter().map(|x| (x.span, None, x)), e.span.end);
                    self.out.push(']');
                }
                ExprKind::Record(r) => {
                    let RecordLit { tag, body } = &**r;
                    if let Some(tag) = tag {
                        self.out.push_str(&tag.name);
                        self.out.push(' ');
                    }
                    self.block_broken(body);
                }
                ExprKind::Call { callee, args } => {
                    self.expr(callee);
                    self.out.push('(');
                    self.broken_items(
                        args.iter().map(|a| {
                            (
                                a.name.as_ref().map(|n| n.span).unwrap_or(a.value.span).to(a.value.span),
                                a.name.as_ref(),
                                &a.value,
                            )
                        }),
                        e.span.end,
                    );
                    self.out.push(')');
                }
                ExprKind::For(c) => {
                    let Comprehension { var, iter, filter, body } = &**c;
                    self.out.push_str("[for ");
                    self.out.push_str(&var.name);
                    self.out.push_str(" in ");
                    self.expr(iter);
                    if let Some(f) = filter {
                        self.out.push_str(" if ");
                        self.expr(f);
                    }
                    self.out.push_str(": ");
                    self.expr(body);
                    self.out.push(']');
                }
                ExprKind::If { cond, then, otherwise } => {
                    self.out.push_str("if ");
                    self.expr(cond);
                    self.out.push_str(" then ");
                    self.expr(then);
                    self.out.push_str(" else ");
                    self.expr(otherwise);
                }
                ExprKind::Binary { op, lhs, rhs, .. } => {
                    self.expr(lhs);
                    self.out.push(' ');
                    self.out.push_str(op.symbol());
                    self.out.push(' ');
                    self.expr(rhs);
                }
                ExprKind::Unary { op, operand } => {
                    self.out.push_str(unary_symbol(*op));
                    self.expr(operand);
                }
                ExprKind::Paren(inner) => {
                    self.out.push('(');
                    self.expr(inner);
                    self.out.push(')');
                }
                ExprKind::Field { base, name } => {
                    self.expr(base);
                    self.out.push('.');
                    self.out.push_str(&name.name);
                }
                ExprKind::Literal(_) | ExprKind::Str(_) | ExprKind::Name(_) | ExprKind::Error => {
                    let text = self.render(e, false).unwrap_or_default();
                    self.out.push_str(&text);
                }
            }
        })
    }

    /// One element per line, each followed by a comma, then the comments before `end`.
    fn broken_items<'e>(
        &mut self,
        items: impl Iterator<Item = (crate::span::Span, Option<&'e Ident>, &'e Expr)>,
        end: usize,
    ) {
        self.newline();
        self.indent += 1;
        for (i, (span, name, value)) in items.enumerate() {
            self.line_start(span.start, i == 0, false);
            if let Some(name) = name {
                self.out.push_str(&name.name);
                self.out.push_str(": ");
            }
            self.expr(value);
            self.out.push(',');
            self.trailing_comment(span.end);
            self.newline();
        }
        self.comments_before(end.saturating_sub(1));
        self.indent -= 1;
        self.write_indent();
    }

    /// The one-line form, or `None` if a comment inside or a nested block forbids it.
    /// Every caller uses it only when it fits in `WIDTH` columns, so a node that cannot is
    /// refused at once.
    pub(super) fn flat_expr(&self, e: &Expr) -> Option<String> {
        if self.ink.within(self.src, e.span.start, e.span.end) > super::WIDTH
            || self.comment_within(e.span.start, e.span.end)
        {
            return None;
        }
        self.render(e, true)
    }

    /// Renders on one line. With `strict`, refuses what must be broken (nested blocks).
    fn render(&self, e: &Expr, strict: bool) -> Option<String> {
        crate::stack::grow(|| {
            let r = |x: &Expr| self.render(x, strict);
            Some(match &e.kind {
                ExprKind::Literal(lit) => lit.text.to_string(),
                ExprKind::Str(parts) => {
                    let mut s = String::from("\"");
                    for part in parts {
                        match part {
                            StrPart::Text(t) => s.push_str(&escape(t)),
                            StrPart::Interp(x) => {
                                s.push_str("${");
                                // An interpolation is always one line, whatever it holds.
                                s.push_str(&self.render(x, false).unwrap_or_default());
                                s.push('}');
                            }
                        }
                    }
                    s.push('"');
                    s
                }
                ExprKind::Name(id) => id.name.to_string(),
                ExprKind::Field { base, name } => format!("{}.{}", r(base)?, name.name),
                ExprKind::Call { callee, args } => {
                    let args: Option<Vec<String>> = args
                        .iter()
                        .map(|a| {
                            let v = r(&a.value)?;
                            Some(match &a.name {
                                Some(n) => format!("{}: {v}", n.name),
                                None => v,
                            })
                        })
                        .collect();
                    format!("{}({})", r(callee)?, args?.join(", "))
                }
                ExprKind::List(elems) => {
                    let elems: Option<Vec<String>> = elems.iter().map(r).collect();
                    format!("[{}]", elems?.join(", "))
                }
                ExprKind::Record(lit) => {
                    let RecordLit { tag, body } = &**lit;
                    let mut fields = Vec::new();
                    for entry in &body.entries {
                        match &entry.kind {
                            EntryKind::Field { key, value } => {
                                fields.push(format!("{} = {}", key_text(key), r(value)?))
                            }
                            EntryKind::Nested { .. } if strict => return None,
                            EntryKind::Nested { .. } => fields.push("...".into()),
                        }
                        if strict && entry.doc.is_some() {
                            return None;
                        }
                    }
                    let inner =
                        if fields.is_empty() { "{}".to_string() } else { format!("{{ {} }}", fields.join(", ")) };
                    match tag {
                        Some(t) => format!("{} {inner}", t.name),
                        None => inner,
                    }
                }
                ExprKind::For(c) => {
                    let Comprehension { var, iter, filter, body } = &**c;
                    let filter = match filter {
                        Some(f) => format!(" if {}", r(f)?),
                        None => String::new(),
                    };
                    format!("[for {} in {}{filter}: {}]", var.name, r(iter)?, r(body)?)
                }
                ExprKind::If { cond, then, otherwise } => {
                    format!("if {} then {} else {}", r(cond)?, r(then)?, r(otherwise)?)
                }
                ExprKind::Binary { op, lhs, rhs, .. } => {
                    format!("{} {} {}", r(lhs)?, op.symbol(), r(rhs)?)
                }
                ExprKind::Unary { op, operand } => format!("{}{}", unary_symbol(*op), r(operand)?),
                ExprKind::Paren(inner) => format!("({})", r(inner)?),
                ExprKind::Error => String::new(),
            })
        })
    }
}

fn unary_symbol(op: UnOp) -> &'static str {
    match op {
        UnOp::Neg => "-",
        UnOp::Not => "not ",
    }
}
