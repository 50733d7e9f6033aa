//! Layout of declarations, blocks and types.

use super::Printer;
use crate::ast::*;
use crate::parser::literals::escape;

impl Printer<'_> {
    pub(super) fn file(&mut self, file: &SourceFile) {
        let mut previous: Option<&ItemKind> = None;
        for (i, item) in file.items.iter().enumerate() {
            // Runs of imports, lets or type aliases may stay together; every other
            // declaration is set apart by a blank line.
            let groupable = |k: &ItemKind| matches!(k, ItemKind::Import(_) | ItemKind::Let(_) | ItemKind::Type(_));
            let same_group = previous
                .is_some_and(|p| groupable(p) && std::mem::discriminant(p) == std::mem::discriminant(&item.kind));
            let force_blank = i > 0 && !same_group;
            self.line_start(item.span.start, i == 0, force_blank);
            self.item(item);
            self.trailing_comment(item.span.end);
            self.newline();
            previous = Some(&item.kind);
        }
        self.comments_before(usize::MAX);
    }

    fn item(&mut self, item: &Item) {
        match &item.kind {
            ItemKind::Import(import) => {
                let path: Vec<&str> = import.path.iter().map(|i| i.name.as_str()).collect();
                self.out.push_str("import ");
                self.out.push_str(&path.join("."));
                if let Some(names) = &import.names {
                    let names: Vec<&str> = names.iter().map(|i| i.name.as_str()).collect();
                    self.out.push_str(".{");
                    self.out.push_str(&names.join(", "));
                    self.out.push('}');
                }
            }
            ItemKind::Entity(entity) => {
                self.out.push_str(entity.kind.keyword());
                self.out.push(' ');
                self.out.push_str(&entity.name.name);
                self.out.push(' ');
                self.block_broken(&entity.body);
            }
            ItemKind::Fn(f) => self.function(f),
            ItemKind::Type(t) => {
                self.out.push_str("type ");
                self.out.push_str(&t.name.name);
                self.out.push_str(" = ");
                self.type_expr(&t.ty);
            }
            ItemKind::Enum(e) => self.enum_decl(e),
            ItemKind::Let(l) => {
                self.out.push_str("let ");
                self.out.push_str(&l.name.name);
                if let Some(ty) = &l.ty {
                    self.out.push_str(": ");
                    self.type_expr(ty);
                }
                self.out.push_str(" =");
                self.assigned(&l.value);
            }
        }
    }

    fn function(&mut self, f: &FnDecl) {
        self.out.push_str("fn ");
        self.out.push_str(&f.name.name);
        let flat: Option<Vec<String>> = f.params.iter().map(|p| self.flat_param(p)).collect();
        let first = f.params.first().map(|p| p.span.start).unwrap_or(f.name.span.end);
        let last = f.params.last().map(|p| p.span.end).unwrap_or(f.name.span.end);
        // Only comments between parameters keep the list broken: one inside a parameter
        // (`envs: // note`) is printed after it in either layout, so breaking for it would
        // be undone by the next pass.
        let between = self.comments[self.next_comment..]
            .iter()
            .take_while(|c| c.span.start < last)
            .filter(|c| c.span.start >= first)
            .any(|c| !f.params.iter().any(|p| p.span.start < c.span.start && c.span.end <= p.span.end));
        match flat {
            Some(params)
                if !between
                    && self.fits(&format!(
                        "({}) -> {} =",
                        params.join(", "),
                        self.flat_type(&f.ret).unwrap_or_default()
                    )) =>
            {
                self.out.push('(');
                self.out.push_str(&params.join(", "));
                self.out.push(')');
            }
            _ => {
                self.out.push('(');
                self.newline();
                self.indent += 1;
                for (i, p) in f.params.iter().enumerate() {
                    self.line_start(p.span.start, i == 0, false);
                    self.out.push_str(&p.name.name);
                    self.out.push_str(": ");
                    self.type_expr(&p.ty);
                    if let Some(d) = &p.default {
                        self.out.push_str(" = ");
                        self.expr(d);
                    }
                    self.out.push(',');
                    self.trailing_comment(p.span.end);
                    self.newline();
                }
                self.indent -= 1;
                self.write_indent();
                self.out.push(')');
            }
        }
        self.out.push_str(" -> ");
        self.type_expr(&f.ret);
        self.out.push_str(" =");
        self.assigned(&f.body);
    }

    /// The value after a declaration's `=`: on the same line, or on the next line, indented,
    /// when that lets it stay on one line.
    fn assigned(&mut self, value: &Expr) {
        if let Some(flat) = self.flat_expr(value)
            && !self.fits(&format!(" {flat}"))
            && (self.indent + 1) * 2 + flat.chars().count() <= super::WIDTH
        {
            self.newline();
            self.indent += 1;
            self.write_indent();
            self.out.push_str(&flat);
            self.indent -= 1;
            return;
        }
        self.out.push(' ');
        self.expr(value);
    }

    fn flat_param(&self, p: &Param) -> Option<String> {
        let mut s = format!("{}: {}", p.name.name, self.flat_type(&p.ty)?);
        if let Some(d) = &p.default {
            s.push_str(" = ");
            s.push_str(&self.flat_expr(d)?);
        }
        Some(s)
    }

    fn enum_decl(&mut self, e: &EnumDecl) {
        self.out.push_str("enum ");
        self.out.push_str(&e.name.name);
        self.out.push(' ');
        let end = e.variants.last().map(|v| v.span.end).unwrap_or(e.name.span.end);
        let simple = e.variants.iter().all(|v| v.fields.is_none() && v.doc.is_none());
        let names: Vec<&str> = e.variants.iter().map(|v| v.name.name.as_str()).collect();
        let flat = format!("{{ {} }}", names.join(", "));
        if simple && !e.variants.is_empty() && !self.comment_within(e.name.span.end, end) && self.fits(&flat) {
            self.out.push_str(&flat);
            return;
        }
        self.out.push('{');
        self.newline();
        self.last_end = self.last_end.max(e.name.span.end);
        self.indent += 1;
        for (i, v) in e.variants.iter().enumerate() {
            self.line_start(v.span.start, i == 0, false);
            self.out.push_str(&v.name.name);
            if let Some(fields) = &v.fields {
                self.out.push(' ');
                self.record_type(fields, v.name.span.end, v.span);
            }
            self.trailing_comment(v.span.end);
            self.newline();
        }
        self.comments_before(self.enum_end(e));
        self.indent -= 1;
        self.write_indent();
        self.out.push('}');
    }

    /// The offset of an enum's closing brace: the first `}` after its last variant.
    fn enum_end(&self, e: &EnumDecl) -> usize {
        let after = e.variants.last().map(|v| v.span.end).unwrap_or(e.name.span.end);
        self.src[after..].find('}').map(|i| after + i).unwrap_or(self.src.len())
    }

    /// Entity bodies and nested blocks: always one entry per line.
    pub(super) fn block_broken(&mut self, block: &Block) {
        crate::stack::grow(|| {
            let close = block.span.end.saturating_sub(1);
            if block.entries.is_empty() && !self.comment_within(block.span.start, close) {
                self.out.push_str("{}");
                self.last_end = block.span.end;
                return;
            }
            self.out.push('{');
            self.newline();
            self.last_end = block.span.start + 1;
            self.indent += 1;
            for (i, entry) in block.entries.iter().enumerate() {
                self.line_start(entry.span.start, i == 0, false);
                self.entry(entry);
                self.trailing_comment(entry.span.end);
                self.newline();
            }
            self.comments_before(close);
            self.indent -= 1;
            self.write_indent();
            self.out.push('}');
            self.last_end = block.span.end;
        })
    }

    fn entry(&mut self, entry: &Entry) {
        match &entry.kind {
            EntryKind::Field { key, value } => {
                self.out.push_str(&key_text(key));
                let (base, key_end) = (self.indent, key.span().end);
                self.joint(base, key_end, value.span.start, " = ");
                self.expr(value);
                self.indent = base;
            }
            EntryKind::Nested { kind, name, body } => {
                self.out.push_str(&kind.name);
                self.out.push(' ');
                self.out.push_str(&name.name);
                self.out.push(' ');
                let as_record = Expr {
                    kind: ExprKind::Record(Box::new(RecordLit { tag: None, body: body.clone() })),
                    span: body.span,
                };
                match self.flat_expr(&as_record) {
                    Some(flat) if !body.entries.is_empty() && self.fits(&flat) => {
                        self.out.push_str(&flat);
                        self.last_end = body.span.end;
                    }
                    _ => self.block_broken(body),
                }
            }
        }
    }

    pub(super) fn type_expr(&mut self, ty: &TypeExpr) {
        crate::stack::grow(|| {
            if let TypeExprKind::Record(fields) = &ty.kind {
                return self.record_type(fields, ty.span.start, ty.span);
            }
            let flat = self.flat_type(ty).unwrap_or_default();
            self.out.push_str(&flat);
        })
    }

    /// A record type; blank lines count from `open`, where its `{` is.
    fn record_type(&mut self, fields: &[FieldDecl], open: usize, span: crate::span::Span) {
        let flat: Option<Vec<String>> = fields.iter().map(|f| self.flat_field_decl(f)).collect();
        if let Some(flat) = flat {
            let text = if flat.is_empty() { "{}".to_string() } else { format!("{{ {} }}", flat.join(", ")) };
            if !self.comment_within(span.start, span.end) && fields.iter().all(|f| f.doc.is_none()) && self.fits(&text)
            {
                self.out.push_str(&text);
                return;
            }
        }
        self.out.push('{');
        self.newline();
        self.last_end = self.last_end.max(open);
        self.indent += 1;
        for (i, f) in fields.iter().enumerate() {
            self.line_start(f.span.start, i == 0, false);
            self.out.push_str(&f.name.name);
            self.out.push_str(": ");
            self.type_expr(&f.ty);
            if let Some(d) = &f.default {
                self.out.push_str(" = ");
                self.expr(d);
            }
            self.trailing_comment(f.span.end);
            self.newline();
        }
        self.comments_before(span.end.saturating_sub(1));
        self.indent -= 1;
        self.write_indent();
        self.out.push('}');
    }

    pub(super) fn flat_type(&self, ty: &TypeExpr) -> Option<String> {
        crate::stack::grow(|| {
            Some(match &ty.kind {
                TypeExprKind::Named { path, args } => {
                    let mut s = path.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(".");
                    if !args.is_empty() {
                        let args: Option<Vec<String>> = args.iter().map(|a| self.flat_type(a)).collect();
                        s.push('[');
                        s.push_str(&args?.join(", "));
                        s.push(']');
                    }
                    s
                }
                TypeExprKind::Optional(inner) => format!("{}?", self.flat_type(inner)?),
                TypeExprKind::Record(fields) => {
                    if fields.iter().any(|f| f.doc.is_some()) {
                        return None;
                    }
                    let flat: Option<Vec<String>> = fields.iter().map(|f| self.flat_field_decl(f)).collect();
                    let flat = flat?;
                    if flat.is_empty() { "{}".into() } else { format!("{{ {} }}", flat.join(", ")) }
                }
                TypeExprKind::Error => return None,
            })
        })
    }

    fn flat_field_decl(&self, f: &FieldDecl) -> Option<String> {
        let mut s = format!("{}: {}", f.name.name, self.flat_type(&f.ty)?);
        if let Some(d) = &f.default {
            s.push_str(" = ");
            s.push_str(&self.flat_expr(d)?);
        }
        Some(s)
    }
}

pub(super) fn key_text(key: &Key) -> String {
    match key {
        Key::Name(id) => id.name.to_string(),
        Key::Str { value, .. } => format!("\"{}\"", escape(value)),
    }
}
