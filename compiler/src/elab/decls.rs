//! Declarations: types and enums, signatures, lets, function bodies, entity blocks, defaults.

use super::{Elab, EntityInfo, LetState, ParamInfo};
use crate::codes;
use crate::core::{Core, DeclId};
use crate::hash::HashSet;
use crate::index::{Binding, DeclKind};
use crate::suggest;
use crate::types::{EnumTy, FieldTy, ModuleId, RecordTy, Ty, VariantTy};
use conv_lang::Diagnostic;
use conv_lang::ast::{EntityKind, FieldDecl, ItemKind, TypeExpr, TypeExprKind};

const BUILTIN_TYPES: &[&str] = &[
    "Int",
    "Float",
    "Bool",
    "String",
    "Duration",
    "ByteSize",
    "Percent",
    "List",
    "Map",
    "Environment",
    "Service",
    "Release",
];

impl<'a> Elab<'a, '_> {
    /// Gives every record type and enum an id first, so that types may refer to each other
    /// in any order, then fills in their fields and variants.
    pub(super) fn declare_types(&mut self) {
        let index = self.index;
        let mut to_fill = Vec::new();
        for decl in &index.decls {
            match (&decl.kind, &decl.item.kind) {
                (DeclKind::Type, ItemKind::Type(t)) => {
                    if let TypeExprKind::Record(fields) = &t.ty.kind {
                        let id = self.types.add_record(RecordTy::new(Some(t.name.name.to_string()), Vec::new()));
                        self.decl_types.insert(decl.id, Ty::Record(id));
                        to_fill.push((decl.module, Some(id), None, fields.as_slice()));
                    }
                }
                (DeclKind::Enum, ItemKind::Enum(e)) => {
                    let id = self.types.add_enum(EnumTy { name: e.name.name.to_string(), variants: Vec::new() });
                    self.decl_types.insert(decl.id, Ty::Enum(id));
                    self.enum_decls.push(decl.id);
                    to_fill.push((decl.module, None, Some((id, e)), &[][..]));
                }
                _ => {}
            }
        }
        for (module, record, enum_decl, fields) in to_fill {
            self.in_module(module, |this| {
                if let Some(id) = record {
                    let lowered = this.lower_fields(module, fields);
                    let name = this.types.records[id.0 as usize].name.take();
                    this.types.records[id.0 as usize] = RecordTy::new(name, lowered);
                }
                if let Some((id, e)) = enum_decl {
                    let mut variants = Vec::new();
                    for v in &e.variants {
                        let payload = v.fields.as_ref().map(|fields| {
                            let lowered = this.lower_fields(module, fields);
                            this.types
                                .add_record(RecordTy::new(Some(format!("{}.{}", e.name.name, v.name.name)), lowered))
                        });
                        variants.push(VariantTy { name: v.name.name.to_string(), payload, doc: v.doc.clone() });
                    }
                    this.types.enums[id.0 as usize].variants = variants;
                }
            });
        }
    }

    fn lower_fields(&mut self, module: ModuleId, fields: &'a [FieldDecl]) -> Vec<FieldTy<'a>> {
        let mut seen = HashSet::default();
        let mut out = Vec::new();
        for f in fields {
            if !seen.insert(f.name.name.as_str()) {
                self.error(
                    Diagnostic::error(
                        &codes::DUPLICATE_FIELD,
                        self.file,
                        f.name.span,
                        format!("field `{}` is declared twice", f.name.name),
                    )
                    .with_primary_label("declared again here"),
                );
                continue;
            }
            let ty = self.lower_type(&f.ty);
            out.push(FieldTy {
                name: f.name.name.to_string(),
                ty,
                default: f.default.as_ref().map(|d| (module, d)),
                doc: f.doc.clone(),
                file: self.file,
                span: f.span,
            });
        }
        out
    }

    /// The type a type expression denotes, in the current module.
    pub(super) fn lower_type_unguarded(&mut self, texpr: &'a TypeExpr) -> Ty {
        match &texpr.kind {
            TypeExprKind::Error => Ty::Error,
            TypeExprKind::Optional(inner) => match self.lower_type(inner) {
                Ty::Optional(t) => Ty::Optional(t),
                t => self.nest(Ty::Optional(std::rc::Rc::new(t)), texpr.span),
            },
            TypeExprKind::Record(fields) => {
                let module = self.module;
                let lowered = self.lower_fields(module, fields);
                Ty::Record(self.types.add_record(RecordTy::new(None, lowered)))
            }
            TypeExprKind::Named { path, args } => {
                let name = path[path.len() - 1].name.as_str();
                if path.len() == 1 {
                    let arity = match name {
                        "List" | "Map" => 1,
                        n if BUILTIN_TYPES.contains(&n) => 0,
                        _ => usize::MAX,
                    };
                    if arity != usize::MAX {
                        if args.len() != arity {
                            self.error(
                                Diagnostic::error(
                                    &codes::WRONG_TYPE_ARGUMENTS,
                                    self.file,
                                    texpr.span,
                                    format!(
                                        "`{name}` takes {arity} type argument{}, found {}",
                                        if arity == 1 { "" } else { "s" },
                                        args.len()
                                    ),
                                )
                                .with_primary_label("here")
                                .with_help(if arity == 1 {
                                    format!("write `{name}[String]`")
                                } else {
                                    format!("write `{name}`")
                                }),
                            );
                            return Ty::Error;
                        }
                        return match name {
                            "Int" => Ty::Int,
                            "Float" => Ty::Float,
                            "Bool" => Ty::Bool,
                            "String" => Ty::String,
                            "Duration" => Ty::Duration,
                            "ByteSize" => Ty::Bytes,
                            "Percent" => Ty::Percent,
                            "Environment" => Ty::Entity(EntityKind::Environment),
                            "Service" => Ty::Entity(EntityKind::Service),
                            "Release" => Ty::Entity(EntityKind::Release),
                            "List" => {
                                let inner = self.lower_type(&args[0]);
                                self.nest(Ty::List(std::rc::Rc::new(inner)), texpr.span)
                            }
                            _ => {
                                let inner = self.lower_type(&args[0]);
                                self.nest(Ty::Map(std::rc::Rc::new(inner)), texpr.span)
                            }
                        };
                    }
                }
                let decl = if path.len() == 1 {
                    match self.index.lookup(self.module, name) {
                        Some(Binding::Decl(d)) => Some(d),
                        _ => None,
                    }
                } else {
                    match self.index.lookup(self.module, &path[0].name) {
                        Some(Binding::Module(m)) if path.len() == 2 => self.index.member(m, name),
                        _ => None,
                    }
                };
                let found = decl.filter(|d| matches!(self.index.decl(*d).kind, DeclKind::Type | DeclKind::Enum));
                match found {
                    Some(d) => {
                        if !args.is_empty() {
                            self.error(
                                Diagnostic::error(
                                    &codes::WRONG_TYPE_ARGUMENTS,
                                    self.file,
                                    texpr.span,
                                    format!("`{name}` takes no type arguments"),
                                )
                                .with_primary_label("here"),
                            );
                        }
                        self.decl_type(d)
                    }
                    None => {
                        let span = path[0].span.to(path[path.len() - 1].span);
                        let mut candidates: Vec<&str> = BUILTIN_TYPES.to_vec();
                        let visible =
                            if suggest::budget_left() { self.index.visible_names(self.module) } else { Vec::new() };
                        candidates.extend(
                            visible.iter().copied().filter(|n| {
                                matches!(self.index.lookup(self.module, n), Some(Binding::Decl(d)) if matches!(self.index.decl(d).kind, DeclKind::Type | DeclKind::Enum))
                            }),
                        );
                        let mut diag =
                            Diagnostic::error(&codes::UNKNOWN_TYPE, self.file, span, format!("unknown type `{name}`"))
                                .with_primary_label("no type of this name is in scope");
                        if let Some(hint) = suggest::did_you_mean(name, candidates) {
                            diag = diag.with_help(hint);
                        }
                        self.error(diag);
                        Ty::Error
                    }
                }
            }
        }
    }

    /// The type a `type` or `enum` declaration stands for; aliases are resolved on demand.
    fn decl_type(&mut self, id: DeclId) -> Ty {
        if let Some(t) = self.decl_types.get(&id) {
            return t.clone();
        }
        let decl = self.index.decl(id);
        let ItemKind::Type(t) = &decl.item.kind else {
            return Ty::Error;
        };
        if !self.aliases_in_progress.insert(id) {
            self.error(
                Diagnostic::error(
                    &codes::DECLARATION_CYCLE,
                    decl.file,
                    decl.name_span,
                    format!("type `{}` is defined in terms of itself", decl.name),
                )
                .with_primary_label("this alias refers back to itself"),
            );
            return Ty::Error;
        }
        let ty = self.in_module(decl.module, |this| this.lower_type(&t.ty));
        self.aliases_in_progress.remove(&id);
        if matches!(ty, Ty::Enum(_)) {
            self.enum_decls.push(id);
        }
        self.decl_types.insert(id, ty.clone());
        ty
    }

    pub(super) fn declare_signatures(&mut self) {
        let index = self.index;
        for decl in &index.decls {
            let ItemKind::Fn(f) = &decl.item.kind else {
                continue;
            };
            let sig = self.in_module(decl.module, |this| {
                let mut seen = HashSet::default();
                let mut params = Vec::new();
                for p in &f.params {
                    if !seen.insert(p.name.name.as_str()) {
                        this.error(
                            Diagnostic::error(
                                &codes::DUPLICATE_NAME,
                                this.file,
                                p.name.span,
                                format!("parameter `{}` is declared twice", p.name.name),
                            )
                            .with_primary_label("declared again here"),
                        );
                    }
                    let ty = this.lower_type(&p.ty);
                    params.push(ParamInfo {
                        name: p.name.name.to_string(),
                        ty,
                        default: p.default.as_ref(),
                        span: p.span,
                    });
                }
                (params, this.lower_type(&f.ret))
            });
            self.sigs.insert(decl.id, std::rc::Rc::new(sig));
        }
    }

    pub(super) fn find_schemas(&mut self) {
        let find = |this: &mut Self, name: &str| match this.index.prelude_decl(name) {
            Some(d) => match this.decl_type(d) {
                Ty::Record(r) => Some(r),
                _ => None,
            },
            None => None,
        };
        self.schemas.environment = find(self, "EnvironmentSpec");
        self.schemas.service = find(self, "ServiceSpec");
        self.schemas.release = find(self, "ReleaseSpec");
    }

    pub(super) fn check_lets(&mut self) {
        let index = self.index;
        for decl in &index.decls {
            if decl.kind == DeclKind::Let {
                self.let_type(decl.id);
            }
        }
    }

    /// The type of a `let`, checking it on first use; a chain back to itself is E0402.
    pub(super) fn let_type(&mut self, id: DeclId) -> Ty {
        match self.let_states.get(&id) {
            Some(LetState::Done(t)) => return t.clone(),
            Some(LetState::InProgress) => {
                let decl = self.index.decl(id);
                let start = self.let_stack.iter().position(|d| *d == id).unwrap_or(0);
                let mut names: Vec<&str> = self.let_stack[start..].iter().map(|d| self.index.decl(*d).name).collect();
                names.push(decl.name);
                self.error(
                    Diagnostic::error(
                        &codes::DECLARATION_CYCLE,
                        decl.file,
                        decl.name_span,
                        format!("`{}` depends on itself: {}", decl.name, names.join(" -> ")),
                    )
                    .with_primary_label("its value needs its own value")
                    .with_help("write one of the values in the chain directly"),
                );
                self.let_states.insert(id, LetState::Done(Ty::Error));
                return Ty::Error;
            }
            None => {}
        }
        let decl = self.index.decl(id);
        let ItemKind::Let(l) = &decl.item.kind else {
            return Ty::Error;
        };
        self.let_states.insert(id, LetState::InProgress);
        self.let_stack.push(id);
        let (core, ty) = self.in_module(decl.module, |this| match &l.ty {
            Some(annotation) => {
                let ty = this.lower_type(annotation);
                (this.check(&l.value, &ty), ty)
            }
            None => this.infer(&l.value),
        });
        self.let_stack.pop();
        // A cycle found inside marks the let as failed; keep that.
        if !matches!(self.let_states.get(&id), Some(LetState::Done(_))) {
            self.let_states.insert(id, LetState::Done(ty.clone()));
        }
        self.let_cores.insert(id, core);
        match self.let_states.get(&id) {
            Some(LetState::Done(t)) => t.clone(),
            _ => ty,
        }
    }

    pub(super) fn check_fn_bodies(&mut self) {
        let index = self.index;
        for decl in &index.decls {
            let ItemKind::Fn(f) = &decl.item.kind else {
                continue;
            };
            let Some(sig) = self.sigs.get(&decl.id).cloned() else {
                continue;
            };
            let (params, ret) = &*sig;
            let body = self.in_module(decl.module, |this| {
                this.locals = params.iter().map(|p| (p.name.clone(), p.ty.clone())).collect();
                this.check(&f.body, ret)
            });
            self.fn_bodies.insert(decl.id, body);
            for (i, p) in params.iter().enumerate() {
                if let Some(default) = p.default {
                    let core = self.in_module(decl.module, |this| this.check(default, &p.ty));
                    self.param_defaults.insert((decl.id, i), core);
                }
            }
        }
    }

    pub(super) fn check_entities(&mut self) -> Vec<EntityInfo> {
        let index = self.index;
        let mut out = Vec::new();
        for decl in &index.decls {
            let ItemKind::Entity(e) = &decl.item.kind else {
                continue;
            };
            if index.entities.get(decl.name) != Some(&decl.id) {
                continue;
            }
            let body = match self.schemas.of(e.kind) {
                Some(schema) => self.in_module(decl.module, |this| this.record_block(schema, &e.body, e.name.span)),
                None => Core::Error,
            };
            out.push(EntityInfo {
                decl: decl.id,
                kind: e.kind,
                name: e.name.name.to_string(),
                file: decl.file,
                name_span: e.name.span,
                body,
            });
        }
        out
    }

    /// Checks every field default of every record type, used or not.
    pub(super) fn check_all_defaults(&mut self) {
        for r in 0..self.types.records.len() {
            for f in 0..self.types.records[r].fields.len() {
                self.record_default(crate::types::RecordId(r as u32), f);
            }
        }
    }

    /// The checked default of a record field, on first use.
    pub(super) fn record_default(&mut self, record: crate::types::RecordId, field: usize) {
        let key = (record, field);
        if self.record_defaults.contains_key(&key) || !self.defaults_in_progress.insert(key) {
            return;
        }
        let f = self.types.record(record).fields[field].clone();
        if let Some((module, expr)) = f.default {
            let core = self.in_module(module, |this| this.check(expr, &f.ty));
            self.record_defaults.insert(key, core);
        }
        self.defaults_in_progress.remove(&key);
    }

    /// Reports functions that call themselves, directly or not; returns them all.
    pub(super) fn report_recursion(&mut self) -> HashSet<DeclId> {
        let fns: Vec<DeclId> = {
            let mut v: Vec<DeclId> = self.sigs.keys().copied().collect();
            v.sort();
            v
        };
        let position = |d: DeclId| fns.iter().position(|f| *f == d);
        let mut graph = vec![Vec::new(); fns.len()];
        for (i, f) in fns.iter().enumerate() {
            let mut calls = Vec::new();
            if let Some(body) = self.fn_bodies.get(f) {
                collect_calls(body, &mut calls);
            }
            for ((owner, _), core) in &self.param_defaults {
                if owner == f {
                    collect_calls(core, &mut calls);
                }
            }
            graph[i] = calls.into_iter().filter_map(position).collect();
            graph[i].sort();
            graph[i].dedup();
        }
        let mut recursive = HashSet::default();
        for cycle in crate::cycles::find_cycles(&graph) {
            let decl = self.index.decl(fns[cycle[0]]);
            let mut names: Vec<&str> = cycle.iter().map(|i| self.index.decl(fns[*i]).name).collect();
            names.push(names[0]);
            let message = if cycle.len() == 1 {
                format!("function `{}` calls itself", decl.name)
            } else {
                format!("functions call each other: {}", names.join(" -> "))
            };
            self.diags.push(
                Diagnostic::error(&codes::RECURSIVE_FUNCTION, decl.file, decl.name_span, message)
                    .with_primary_label("recursion is not allowed")
                    .with_note("conv forbids recursion so that every program terminates")
                    .with_help("repeat with a `for` comprehension over a list instead"),
            );
            recursive.extend(cycle.iter().map(|i| fns[*i]));
        }
        recursive
    }
}

fn collect_calls(core: &Core, out: &mut Vec<DeclId>) {
    match core {
        Core::Call(f, args) => {
            out.push(*f);
            args.iter().flatten().for_each(|a| collect_calls(a, out));
        }
        Core::Field(b, _) | Core::Neg(b, _) | Core::Not(b) => collect_calls(b, out),
        Core::List(items) => items.iter().for_each(|i| collect_calls(i, out)),
        Core::Map(items) => items.iter().for_each(|(_, i)| collect_calls(i, out)),
        Core::Record(_, fields) => fields.iter().flatten().for_each(|f| collect_calls(f, out)),
        Core::Variant(_, _, Some(p)) => collect_calls(p, out),
        Core::For { iter, filter, body, .. } => {
            collect_calls(iter, out);
            if let Some(f) = filter {
                collect_calls(f, out);
            }
            collect_calls(body, out);
        }
        Core::If(c, t, e) => {
            collect_calls(c, out);
            collect_calls(t, out);
            collect_calls(e, out);
        }
        Core::Binary { lhs, rhs, .. } => {
            collect_calls(lhs, out);
            collect_calls(rhs, out);
        }
        Core::Interp(parts) => {
            for p in parts {
                if let crate::core::InterpPart::Value(c) = p {
                    collect_calls(c, out);
                }
            }
        }
        Core::Value(_) | Core::Local(_) | Core::Let(_) | Core::Entity(..) | Core::Variant(_, _, None) | Core::Error => {
        }
    }
}
