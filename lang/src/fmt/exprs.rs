//! Layout of expressions: one line when they fit and hold no comment, else broken.

use super::Printer;
use super::items::key_text;
use crate::ast::*;
use crate::parser::literals::escape;

impl Printer<'_> {
    pub(super) fn expr(&mut self, e: &Expr) {
        crate::stack::grow(|| {
            if let Some(flat) = self.flat_expr(e)
                && self.fits(&flat)
            {
                self.out.push_str(&flat);
                return;
            }
            let base = self.indent;
            self.broken(e, base);
            self.indent = base;
        })
    }

    /// The broken form of `e`, at indentation `base`; comments in the gaps between its parts
    /// may leave the indentation one level deeper, which the caller restores.
    fn broken(&mut self, e: &Expr, base: usize) {
        match &e.kind {
            ExprKind::List(elems) => {
                self.out.push('[');
                self.broken_items(e.span.start, elems.iter().map(|x| (x.span, None, x)), e.span.end);
                self.out.push(']');
            }
            ExprKind::Record(r) => {
                let RecordLit { tag, body } = &**r;
                if let Some(tag) = tag {
                    self.out.push_str(&tag.name);
                    if !self.gap(base, tag.span.end, body.span.start) {
                        self.out.push(' ');
                    }
                }
                self.block_broken(body);
            }
            ExprKind::Call { callee, args } => {
                self.expr(callee);
                self.out.push('(');
                self.broken_items(
                    callee.span.end,
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
                self.out.push_str("[for");
                self.joint(base, e.span.start, var.span.start, " ");
                self.out.push_str(&var.name);
                self.joint(base, var.span.end, iter.span.start, " in ");
                self.expr(iter);
                let mut last = iter.span.end;
                if let Some(f) = filter {
                    self.joint(base, last, f.span.start, " if ");
                    self.expr(f);
                    last = f.span.end;
                }
                self.joint(base, last, body.span.start, ": ");
                self.expr(body);
                self.gap(base, body.span.end, e.span.end);
                self.out.push(']');
            }
            ExprKind::If { cond, then, otherwise } => {
                self.out.push_str("if");
                self.joint(base, e.span.start, cond.span.start, " ");
                self.expr(cond);
                self.joint(base, cond.span.end, then.span.start, " then ");
                self.expr(then);
                self.joint(base, then.span.end, otherwise.span.start, " else ");
                self.expr(otherwise);
            }
            ExprKind::Binary { op, lhs, rhs, .. } => {
                self.expr(lhs);
                self.joint(base, lhs.span.end, rhs.span.start, &format!(" {} ", op.symbol()));
                self.expr(rhs);
            }
            ExprKind::Unary { op, operand } => {
                self.out.push_str(unary_symbol(*op));
                self.gap(base, e.span.start, operand.span.start);
                self.expr(operand);
            }
            ExprKind::Paren(inner) => {
                self.out.push('(');
                self.gap(base, e.span.start, inner.span.start);
                self.expr(inner);
                self.gap(base, inner.span.end, e.span.end);
                self.out.push(')');
            }
            ExprKind::Field { base: of, name } => {
                self.expr(of);
                self.gap(base, of.span.end, name.span.start);
                self.out.push('.');
                self.out.push_str(&name.name);
            }
            ExprKind::Literal(_) | ExprKind::Str(_) | ExprKind::Name(_) | ExprKind::Error => {
                let text = self.render(e, false).unwrap_or_default();
                self.out.push_str(&text);
            }
        }
    }

    /// Prints `text` between two parts of an expression (`" then "`, `" + "`), after the
    /// comments that lie between them, if any: see `gap`.
    pub(super) fn joint(&mut self, base: usize, after: usize, before: usize, text: &str) {
        if self.gap(base, after, before) {
            self.out.push_str(text.trim_start());
        } else {
            self.out.push_str(text);
        }
    }

    /// The comments not yet printed that start before `before`, the next part of an
    /// expression at indentation `base`: comments between two operands, after `if` or
    /// before `.name`, which no bracket of the expression prints. A comment on the source
    /// line of the part that ends at `after` stays on its line; the others go on lines of
    /// their own, one level deeper than `base`, and the expression goes on at that level on
    /// a fresh line. Printing them here, where they were, keeps the layout the same the
    /// next time: a comment inside an expression always keeps it from one line. Returns
    /// whether it printed any.
    pub(super) fn gap(&mut self, base: usize, after: usize, before: usize) -> bool {
        let mut printed = false;
        while let Some(c) = self.pending_comment().filter(|c| c.span.start < before).cloned() {
            self.indent = base + 1;
            let same_line = !printed && c.span.start >= after && !self.breaks_between(after, c.span.start);
            if same_line {
                while self.out.ends_with(' ') {
                    self.out.pop();
                }
                self.out.push(' ');
            } else {
                self.newline();
                self.write_indent();
            }
            self.out.push_str(self.src[c.span.start..c.span.end].trim_end());
            self.last_end = c.span.end;
            self.next_comment += 1;
            printed = true;
        }
        if printed {
            self.newline();
            self.write_indent();
        }
        printed
    }

    /// One element per line, each followed by a comma, then the comments before `end`;
    /// blank lines count from `open`, the opening bracket.
    fn broken_items<'e>(
        &mut self,
        open: usize,
        items: impl Iterator<Item = (crate::span::Span, Option<&'e Ident>, &'e Expr)>,
        end: usize,
    ) {
        self.newline();
        self.last_end = self.last_end.max(open);
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
