//! A compact, indented outline of a syntax tree, for snapshots and debugging.

use crate::ast::*;
use std::fmt::Write;

pub fn dump(file: &SourceFile) -> String {
    let mut d = Dumper { out: String::new(), depth: 0 };
    for item in &file.items {
        d.item(item);
    }
    d.out
}

struct Dumper {
    out: String,
    depth: usize,
}

impl Dumper {
    fn line(&mut self, text: impl AsRef<str>) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        self.out.push_str(text.as_ref());
        self.out.push('\n');
    }

    fn nested(&mut self, f: impl FnOnce(&mut Self)) {
        self.depth += 1;
        f(self);
        self.depth -= 1;
    }

    fn item(&mut self, item: &Item) {
        let doc = item.doc.as_deref().map(|d| format!(" doc={d:?}")).unwrap_or_default();
        match &item.kind {
            ItemKind::Import(i) => {
                let path: Vec<_> = i.path.iter().map(|p| p.name.as_str()).collect();
                let names = i.names.as_ref().map(|n| {
                    let n: Vec<_> = n.iter().map(|p| p.name.as_str()).collect();
                    format!(" {{{}}}", n.join(", "))
                });
                self.line(format!("import {}{}{doc} @{}", path.join("."), names.unwrap_or_default(), span(item)));
            }
            ItemKind::Entity(e) => {
                self.line(format!("{} {}{doc} @{}", e.kind.keyword(), e.name.name, span(item)));
                self.nested(|d| d.block(&e.body));
            }
            ItemKind::Fn(f) => {
                self.line(format!("fn {}{doc} -> {}", f.name.name, ty(&f.ret)));
                self.nested(|d| {
                    for p in &f.params {
                        d.line(format!("param {}: {}", p.name.name, ty(&p.ty)));
                        if let Some(def) = &p.default {
                            d.nested(|d| d.expr(def));
                        }
                    }
                    d.line("body");
                    d.nested(|d| d.expr(&f.body));
                });
            }
            ItemKind::Type(t) => {
                self.line(format!("type {}{doc} = {}", t.name.name, ty(&t.ty)));
            }
            ItemKind::Enum(e) => {
                self.line(format!("enum {}{doc}", e.name.name));
                self.nested(|d| {
                    for v in &e.variants {
                        let fields = v.fields.as_ref().map(|f| format!(" {}", record_ty(f))).unwrap_or_default();
                        let doc = v.doc.as_deref().map(|d| format!(" doc={d:?}")).unwrap_or_default();
                        d.line(format!("variant {}{fields}{doc}", v.name.name));
                    }
                });
            }
            ItemKind::Let(l) => {
                let t = l.ty.as_ref().map(|t| format!(": {}", ty(t))).unwrap_or_default();
                self.line(format!("let {}{t}{doc}", l.name.name));
                self.nested(|d| d.expr(&l.value));
            }
        }
    }

    fn block(&mut self, b: &Block) {
        crate::stack::grow(|| {
            for entry in &b.entries {
                let doc = entry.doc.as_deref().map(|d| format!(" doc={d:?}")).unwrap_or_default();
                match &entry.kind {
                    EntryKind::Field { key, value } => {
                        self.line(format!("field {}{doc}", key.text()));
                        self.nested(|d| d.expr(value));
                    }
                    EntryKind::Nested { kind, name, body } => {
                        self.line(format!("{} {}{doc}", kind.name, name.name));
                        self.nested(|d| d.block(body));
                    }
                }
            }
        })
    }

    fn expr(&mut self, e: &Expr) {
        crate::stack::grow(|| match &e.kind {
            ExprKind::Literal(l) => self.line(format!("{:?} `{}`", l.value, l.text)),
            ExprKind::Str(parts) => {
                self.line("string");
                self.nested(|d| {
                    for p in parts {
                        match p {
                            StrPart::Text(t) => d.line(format!("text {t:?}")),
                            StrPart::Interp(x) => d.expr(x),
                        }
                    }
                });
            }
            ExprKind::Name(n) => self.line(format!("name {}", n.name)),
            ExprKind::Field { base, name } => {
                self.line(format!("field access .{}", name.name));
                self.nested(|d| d.expr(base));
            }
            ExprKind::Call { callee, args } => {
                self.line("call");
                self.nested(|d| {
                    d.expr(callee);
                    for a in args {
                        match &a.name {
                            Some(n) => {
                                d.line(format!("arg {}", n.name));
                                d.nested(|d| d.expr(&a.value));
                            }
                            None => d.expr(&a.value),
                        }
                    }
                });
            }
            ExprKind::List(items) => {
                self.line("list");
                self.nested(|d| items.iter().for_each(|x| d.expr(x)));
            }
            ExprKind::Record(r) => {
                let RecordLit { tag, body } = &**r;
                let tag = tag.as_ref().map(|t| format!(" {}", t.name)).unwrap_or_default();
                self.line(format!("record{tag}"));
                self.nested(|d| d.block(body));
            }
            ExprKind::For(c) => {
                let Comprehension { var, iter, filter, body } = &**c;
                self.line(format!("for {}", var.name));
                self.nested(|d| {
                    d.expr(iter);
                    if let Some(f) = filter {
                        d.line("if");
                        d.nested(|d| d.expr(f));
                    }
                    d.expr(body);
                });
            }
            ExprKind::If { cond, then, otherwise } => {
                self.line("if");
                self.nested(|d| {
                    d.expr(cond);
                    d.expr(then);
                    d.expr(otherwise);
                });
            }
            ExprKind::Binary { op, lhs, rhs, .. } => {
                self.line(format!("binary {}", op.symbol()));
                self.nested(|d| {
                    d.expr(lhs);
                    d.expr(rhs);
                });
            }
            ExprKind::Unary { op, operand } => {
                self.line(format!("unary {op:?}"));
                self.nested(|d| d.expr(operand));
            }
            ExprKind::Paren(inner) => {
                self.line("paren");
                self.nested(|d| d.expr(inner));
            }
            ExprKind::Error => self.line("error"),
        })
    }
}

fn span(item: &Item) -> String {
    let mut s = String::new();
    let _ = write!(s, "{}..{}", item.span.start, item.span.end);
    s
}

fn ty(t: &TypeExpr) -> String {
    crate::stack::grow(|| match &t.kind {
        TypeExprKind::Named { path, args } => {
            let p: Vec<_> = path.iter().map(|i| i.name.as_str()).collect();
            if args.is_empty() {
                p.join(".")
            } else {
                let a: Vec<_> = args.iter().map(ty).collect();
                format!("{}[{}]", p.join("."), a.join(", "))
            }
        }
        TypeExprKind::Record(fields) => record_ty(fields),
        TypeExprKind::Optional(inner) => format!("{}?", ty(inner)),
        TypeExprKind::Error => "<error>".into(),
    })
}

fn record_ty(fields: &[FieldDecl]) -> String {
    let f: Vec<_> = fields
        .iter()
        .map(|f| format!("{}: {}{}", f.name.name, ty(&f.ty), if f.default.is_some() { " = ..." } else { "" }))
        .collect();
    format!("{{{}}}", f.join(", "))
}
