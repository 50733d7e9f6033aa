//! Who refers to what: every declaration of a program and every place a name resolves to
//! one, for the language server's hover, go to definition, references and rename. Pure, and
//! computed from the same index the checker uses, so it agrees with it.

use crate::index::{Binding, DeclKind, Index};
use crate::{Sources, add_stdlib};
use conv_lang::ast::*;
use conv_lang::{FileId, Parsed, Span};

#[derive(Clone, Debug)]
pub struct Symbol {
    pub name: String,
    pub kind: SymbolKind,
    pub file: FileId,
    pub name_span: Span,
    pub item_span: Span,
    pub doc: Option<String>,
    /// The declaration's first line, as written: `fn latency_p99(under: Duration, ...) -> Gate =`.
    pub signature: String,
    pub is_std: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    Environment,
    Service,
    Release,
    Function,
    Type,
    Enum,
    Let,
}

/// A field of an entity block, with what its schema says of it.
#[derive(Clone, Debug)]
pub struct SchemaField {
    pub entity: EntityKind,
    pub name: String,
    /// `replicas: Int? = none`
    pub declaration: String,
    pub doc: Option<String>,
}

#[derive(Debug)]
pub struct References {
    /// The user's files and the standard library's (user file ids come first).
    pub sources: Sources,
    pub parsed: Vec<(FileId, Parsed)>,
    pub symbols: Vec<Symbol>,
    /// `(file, span of the name, index into symbols)`
    pub refs: Vec<(FileId, Span, usize)>,
    /// `(file, span of the key, entity kind, field name)` for fields written in entity blocks.
    pub field_keys: Vec<(FileId, Span, EntityKind, String)>,
    pub schema: Vec<SchemaField>,
    /// Names visible in each user file, for completion.
    pub visible: Vec<(FileId, Vec<String>)>,
}

impl References {
    pub fn symbol_at(&self, file: FileId, offset: usize) -> Option<usize> {
        let hit = |s: &Span| s.start <= offset && offset <= s.end;
        if let Some((_, _, i)) = self.refs.iter().find(|(f, s, _)| *f == file && hit(s)) {
            return Some(*i);
        }
        self.symbols.iter().position(|s| s.file == file && hit(&s.name_span))
    }

    pub fn field_at(&self, file: FileId, offset: usize) -> Option<&SchemaField> {
        let (_, _, kind, name) =
            self.field_keys.iter().find(|(f, s, _, _)| *f == file && s.start <= offset && offset <= s.end)?;
        self.schema.iter().find(|f| f.entity == *kind && &f.name == name)
    }

    /// Every place that names symbol `i`, its declaration first.
    pub fn occurrences(&self, i: usize) -> Vec<(FileId, Span)> {
        let s = &self.symbols[i];
        let mut out = vec![(s.file, s.name_span)];
        out.extend(self.refs.iter().filter(|(_, _, j)| *j == i).map(|(f, sp, _)| (*f, *sp)));
        out
    }
}

pub fn references(user: &Sources) -> References {
    let mut sources = user.clone();
    let std_ids = add_stdlib(&mut sources);
    let parsed: Vec<(FileId, Parsed)> = sources.iter().map(|s| (s.id, conv_lang::parse(s.id, &s.text))).collect();
    let modules = crate::index::module_sources(&sources, &parsed, &std_ids);
    let mut ignored = Vec::new();
    let index = Index::build(modules, &mut ignored);
    let symbols: Vec<Symbol> = index
        .decls
        .iter()
        .map(|d| {
            let text = &sources.get(d.file).text;
            let first_line = text[d.item.span.start..d.item.span.end]
                .lines()
                .next()
                .unwrap_or("")
                .trim_end_matches('{')
                .trim()
                .to_string();
            Symbol {
                name: d.name.to_string(),
                kind: match d.kind {
                    DeclKind::Entity(EntityKind::Environment) => SymbolKind::Environment,
                    DeclKind::Entity(EntityKind::Service) => SymbolKind::Service,
                    DeclKind::Entity(EntityKind::Release) => SymbolKind::Release,
                    DeclKind::Fn => SymbolKind::Function,
                    DeclKind::Type => SymbolKind::Type,
                    DeclKind::Enum => SymbolKind::Enum,
                    DeclKind::Let => SymbolKind::Let,
                },
                file: d.file,
                name_span: d.name_span,
                item_span: d.item.span,
                doc: d.item.doc.clone(),
                signature: first_line,
                is_std: std_ids.contains(&d.file),
            }
        })
        .collect();
    let mut walker = Walker {
        index: &index,
        module: crate::types::ModuleId(0),
        file: FileId(0),
        locals: Vec::new(),
        refs: Vec::new(),
        field_keys: Vec::new(),
    };
    for module in &index.modules {
        walker.module = module.id;
        walker.file = module.file;
        for item in &module.ast.items {
            walker.item(item);
        }
    }
    let visible = index
        .modules
        .iter()
        .filter(|m| !m.is_std)
        .map(|m| (m.file, index.visible_names(m.id).iter().map(|s| s.to_string()).collect()))
        .collect();
    let schema = schema_fields(&index, &sources);
    let (refs, field_keys) = (walker.refs, walker.field_keys);
    drop(index);
    References { sources, parsed, symbols, refs, field_keys, schema, visible }
}

fn schema_fields(index: &Index<'_>, sources: &Sources) -> Vec<SchemaField> {
    let mut out = Vec::new();
    for (kind, name) in [
        (EntityKind::Environment, "EnvironmentSpec"),
        (EntityKind::Service, "ServiceSpec"),
        (EntityKind::Release, "ReleaseSpec"),
    ] {
        let Some(d) = index.prelude_decl(name) else { continue };
        let decl = index.decl(d);
        let ItemKind::Type(t) = &decl.item.kind else { continue };
        let TypeExprKind::Record(fields) = &t.ty.kind else { continue };
        let text = &sources.get(decl.file).text;
        for f in fields {
            out.push(SchemaField {
                entity: kind,
                name: f.name.name.to_string(),
                declaration: text[f.span.start..f.span.end].to_string(),
                doc: f.doc.clone(),
            });
        }
    }
    out
}

struct Walker<'i, 'a> {
    index: &'i Index<'a>,
    module: crate::types::ModuleId,
    file: FileId,
    locals: Vec<String>,
    refs: Vec<(FileId, Span, usize)>,
    field_keys: Vec<(FileId, Span, EntityKind, String)>,
}

impl Walker<'_, '_> {
    fn push(&mut self, span: Span, binding: Option<Binding>) {
        if let Some(Binding::Decl(d)) = binding {
            self.refs.push((self.file, span, d.0 as usize));
        }
    }

    fn item(&mut self, item: &Item) {
        match &item.kind {
            ItemKind::Import(i) => {
                let path: Vec<&str> = i.path.iter().map(|p| p.name.as_str()).collect();
                let target = self.index.modules.iter().find(|m| m.path == path.join(".")).map(|m| m.id);
                if let (Some(t), Some(names)) = (target, &i.names) {
                    for n in names {
                        if let Some(d) = self.index.member(t, &n.name) {
                            self.refs.push((self.file, n.span, d.0 as usize));
                        }
                    }
                }
            }
            ItemKind::Entity(e) => self.block(&e.body, Some(e.kind)),
            ItemKind::Fn(f) => {
                for p in &f.params {
                    self.ty(&p.ty);
                    if let Some(d) = &p.default {
                        self.expr(d);
                    }
                }
                self.ty(&f.ret);
                self.locals = f.params.iter().map(|p| p.name.name.to_string()).collect();
                self.expr(&f.body);
                self.locals.clear();
            }
            ItemKind::Type(t) => self.ty(&t.ty),
            ItemKind::Enum(e) => {
                for v in &e.variants {
                    for f in v.fields.iter().flatten() {
                        self.ty(&f.ty);
                        if let Some(d) = &f.default {
                            self.expr(d);
                        }
                    }
                }
            }
            ItemKind::Let(l) => {
                if let Some(t) = &l.ty {
                    self.ty(t);
                }
                self.expr(&l.value);
            }
        }
    }

    fn block(&mut self, block: &Block, entity: Option<EntityKind>) {
        conv_lang::stack::grow(|| {
            for entry in &block.entries {
                match &entry.kind {
                    EntryKind::Field { key, value } => {
                        if let (Some(kind), Key::Name(k)) = (entity, key) {
                            self.field_keys.push((self.file, k.span, kind, k.name.to_string()));
                        }
                        self.expr(value);
                    }
                    EntryKind::Nested { body, .. } => self.block(body, None),
                }
            }
        })
    }

    fn ty(&mut self, t: &TypeExpr) {
        conv_lang::stack::grow(|| match &t.kind {
            TypeExprKind::Named { path, args } => {
                if path.len() == 1 {
                    let b = self.index.lookup(self.module, &path[0].name);
                    self.push(path[0].span, b);
                } else if let Some(Binding::Module(m)) = self.index.lookup(self.module, &path[0].name) {
                    let last = &path[path.len() - 1];
                    self.push(last.span, self.index.member(m, &last.name).map(Binding::Decl));
                }
                args.iter().for_each(|a| self.ty(a));
            }
            TypeExprKind::Record(fields) => {
                for f in fields {
                    self.ty(&f.ty);
                    if let Some(d) = &f.default {
                        self.expr(d);
                    }
                }
            }
            TypeExprKind::Optional(inner) => self.ty(inner),
            TypeExprKind::Error => {}
        })
    }

    fn expr(&mut self, e: &Expr) {
        conv_lang::stack::grow(|| match &e.kind {
            ExprKind::Name(n) => {
                if !self.locals.iter().any(|l| *l == n.name) {
                    let b = self.index.lookup(self.module, &n.name);
                    self.push(n.span, b);
                }
            }
            ExprKind::Field { base, name } => {
                if let ExprKind::Name(b) = &base.kind
                    && !self.locals.iter().any(|l| *l == b.name)
                    && let Some(Binding::Module(m)) = self.index.lookup(self.module, &b.name)
                {
                    self.push(name.span, self.index.member(m, &name.name).map(Binding::Decl));
                    return;
                }
                self.expr(base);
            }
            ExprKind::Call { callee, args } => {
                self.expr(callee);
                args.iter().for_each(|a| self.expr(&a.value));
            }
            ExprKind::List(items) => items.iter().for_each(|i| self.expr(i)),
            ExprKind::Record(r) => self.block(&r.body, None),
            ExprKind::For(c) => {
                let Comprehension { var, iter, filter, body } = &**c;
                self.expr(iter);
                self.locals.push(var.name.to_string());
                if let Some(f) = filter {
                    self.expr(f);
                }
                self.expr(body);
                self.locals.pop();
            }
            ExprKind::If { cond, then, otherwise } => {
                self.expr(cond);
                self.expr(then);
                self.expr(otherwise);
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            ExprKind::Unary { operand, .. } => self.expr(operand),
            ExprKind::Paren(inner) => self.expr(inner),
            ExprKind::Str(parts) => {
                for p in parts {
                    if let StrPart::Interp(x) = p {
                        self.expr(x);
                    }
                }
            }
            ExprKind::Literal(_) | ExprKind::Error => {}
        })
    }
}
