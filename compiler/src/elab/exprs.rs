//! Expressions: checking against an expected type, and inferring a type.

use super::Elab;
use super::records::VariantLabel;
use crate::codes;
use crate::core::{Core, DeclId, InterpPart};
use crate::index::{Binding, DeclKind};
use crate::suggest;
use crate::types::{self, Ty};
use crate::value::Value;
use conv_lang::ast::{Arg, Expr, ExprKind, Ident, LitValue, StrPart, UnOp};
use conv_lang::{Diagnostic, Span};

/// What a name stands for where it is used.
enum Named {
    Local(usize, Ty),
    Decl(DeclId),
    Module,
    Unknown,
}

impl<'a> Elab<'a, '_> {
    /// Checks `e` against `expected`; on a mismatch, reports it and carries on.
    pub(super) fn check_unguarded(&mut self, e: &'a Expr, expected: &Ty) -> Core {
        let want = match expected {
            Ty::Optional(inner) => inner.as_ref(),
            t => t,
        };
        match &e.kind {
            ExprKind::Literal(lit) if lit.value == LitValue::None => {
                if matches!(expected, Ty::Optional(_) | Ty::Error) {
                    return Core::Value(Value::None);
                }
                let msg = format!("expected {}, found `none`", self.show(expected));
                self.error(
                    Diagnostic::error(&codes::TYPE_MISMATCH, self.file, e.span, msg)
                        .with_primary_label("`none` is only a value of an optional type (`T?`)"),
                );
                return Core::Error;
            }
            ExprKind::List(items) => {
                if let Ty::List(elem) = want {
                    let elem = (**elem).clone();
                    return Core::List(items.iter().map(|i| self.check(i, &elem)).collect());
                }
            }
            ExprKind::For(c) => {
                if let Ty::List(elem) = want {
                    let elem = (**elem).clone();
                    return self.comprehension(&c.var, &c.iter, c.filter.as_ref(), &c.body, Some(&elem)).0;
                }
            }
            ExprKind::Record(r) => {
                return self.check_record(r.tag.as_ref(), &r.body, expected, e.span);
            }
            ExprKind::Name(name) if !self.is_local(&name.name) => {
                if let Ty::Enum(id) = want {
                    if let Some((idx, variant)) = self.types.enum_ty(*id).variant(&name.name) {
                        if variant.payload.is_some() {
                            let msg = format!("variant `{}` of {} needs fields", name.name, self.show(want));
                            self.error(
                                Diagnostic::error(&codes::MISSING_FIELD, self.file, e.span, msg)
                                    .with_primary_label("written without its fields")
                                    .with_help(format!("write `{} {{ ... }}`", name.name)),
                            );
                            return Core::Error;
                        }
                        return Core::Variant(*id, idx, None);
                    }
                    if self.index.lookup(self.module, &name.name).is_none() {
                        self.unknown_variant(*id, &name.name, e.span, VariantLabel::ExpectedOneOf);
                        return Core::Error;
                    }
                }
            }
            ExprKind::If { cond, then, otherwise } => {
                let c = self.check(cond, &Ty::Bool);
                let t = self.check(then, expected);
                let o = self.check(otherwise, expected);
                return Core::If(Box::new(c), Box::new(t), Box::new(o));
            }
            ExprKind::Paren(inner) => return self.check(inner, expected),
            _ => {}
        }
        let (core, actual) = self.infer(e);
        if !self.types.assignable(&actual, expected) {
            self.mismatch(e.span, expected, &actual);
            return Core::Error;
        }
        core
    }

    pub(super) fn mismatch(&mut self, span: Span, expected: &Ty, actual: &Ty) {
        let (exp, act) = (self.show(expected), self.show(actual));
        let mut diag =
            Diagnostic::error(&codes::TYPE_MISMATCH, self.file, span, format!("expected {exp}, found {act}"))
                .with_primary_label(format!("this is {}", types::with_article(&act)));
        if let Ty::Optional(inner) = actual {
            if self.types.assignable(inner, expected) {
                diag = Diagnostic::error(
                    &codes::OPTIONAL_USED,
                    self.file,
                    span,
                    format!("expected {exp}, found the optional {act}"),
                )
                .with_primary_label("this may be `none`")
                .with_help("test it first: `if x != none then x else ...`");
            }
        } else if let Some(hint) = unit_hint(expected, actual) {
            diag = diag.with_help(hint);
        } else if matches!(expected, Ty::String) && matches!(actual, Ty::Int | Ty::Float) {
            diag = diag.with_help("quote it to make it a string: `\"...\"`");
        }
        self.error(diag);
    }

    fn is_local(&self, name: &str) -> bool {
        self.locals.iter().any(|(n, _)| n == name)
    }

    pub(super) fn infer_unguarded(&mut self, e: &'a Expr) -> (Core, Ty) {
        match &e.kind {
            ExprKind::Error => (Core::Error, Ty::Error),
            ExprKind::Literal(lit) => self.literal(&lit.value, &lit.text, e.span),
            ExprKind::Str(parts) => self.string(parts),
            ExprKind::Name(name) => self.name(name),
            ExprKind::Field { base, name } => self.field(base, name),
            ExprKind::Call { callee, args } => self.call_expr(callee, args, e.span),
            ExprKind::List(items) => {
                let Some((first, rest)) = items.split_first() else {
                    self.error(
                        Diagnostic::error(&codes::CANNOT_INFER, self.file, e.span, "cannot infer the type of `[]`")
                            .with_primary_label("an empty list with nothing to expect")
                            .with_help("annotate the declaration, such as `let gates: List[Gate] = []`"),
                    );
                    return (Core::Error, Ty::Error);
                };
                let (c, ty) = self.infer(first);
                let mut cores = vec![c];
                cores.extend(rest.iter().map(|i| self.check(i, &ty)));
                (Core::List(cores), self.nest(Ty::List(std::rc::Rc::new(ty)), e.span))
            }
            ExprKind::Record(r) => self.infer_record(r.tag.as_ref(), &r.body, e.span),
            ExprKind::For(c) => self.comprehension(&c.var, &c.iter, c.filter.as_ref(), &c.body, None),
            ExprKind::If { cond, then, otherwise } => {
                let c = self.check(cond, &Ty::Bool);
                let (t, ty) = self.infer(then);
                let o = self.check(otherwise, &ty);
                (Core::If(Box::new(c), Box::new(t), Box::new(o)), ty)
            }
            ExprKind::Binary { op, op_span, lhs, rhs } => self.binary(*op, *op_span, lhs, rhs),
            ExprKind::Unary { op: UnOp::Not, operand } => {
                (Core::Not(Box::new(self.check(operand, &Ty::Bool))), Ty::Bool)
            }
            ExprKind::Unary { op: UnOp::Neg, operand } => {
                let (c, ty) = self.infer(operand);
                match ty {
                    Ty::Int | Ty::Float | Ty::Error => (Core::Neg(Box::new(c), (self.file, e.span)), ty),
                    other => {
                        let shown = self.show(&other);
                        self.error(
                            Diagnostic::error(
                                &codes::INVALID_OPERANDS,
                                self.file,
                                e.span,
                                format!("cannot negate a {shown}"),
                            )
                            .with_primary_label(format!("this is {}", types::with_article(&shown)))
                            .with_help("durations, sizes and percentages are never negative"),
                        );
                        (Core::Error, Ty::Error)
                    }
                }
            }
            ExprKind::Paren(inner) => self.infer(inner),
        }
    }

    fn literal(&mut self, value: &LitValue, text: &str, span: Span) -> (Core, Ty) {
        match value {
            LitValue::Int(i) => (Core::Value(Value::Int(*i)), Ty::Int),
            LitValue::Float(f) => (Core::Value(Value::Float(*f)), Ty::Float),
            LitValue::Bool(b) => (Core::Value(Value::Bool(*b)), Ty::Bool),
            LitValue::Duration(ms) => (Core::Value(Value::Duration(*ms)), Ty::Duration),
            LitValue::Bytes(b) => (Core::Value(Value::Bytes(*b)), Ty::Bytes),
            LitValue::Percent(p) => {
                if *p > 100.0 {
                    self.error(
                        Diagnostic::error(
                            &codes::LITERAL_OUT_OF_RANGE,
                            self.file,
                            span,
                            format!("`{text}` is more than 100%"),
                        )
                        .with_primary_label("a Percent is between 0% and 100%"),
                    );
                    return (Core::Error, Ty::Percent);
                }
                (Core::Value(Value::Percent(*p)), Ty::Percent)
            }
            LitValue::None => {
                self.error(
                    Diagnostic::error(&codes::CANNOT_INFER, self.file, span, "cannot infer the type of `none`")
                        .with_primary_label("nothing says what this is the absence of")
                        .with_help("annotate the declaration with an optional type, such as `let x: String? = none`"),
                );
                (Core::Error, Ty::Error)
            }
        }
    }

    fn string(&mut self, parts: &'a [StrPart]) -> (Core, Ty) {
        if let [StrPart::Text(t)] = parts {
            return (Core::Value(Value::Str(t.as_str().into())), Ty::String);
        }
        if parts.is_empty() {
            return (Core::Value(Value::Str("".into())), Ty::String);
        }
        let mut out = Vec::new();
        for part in parts {
            match part {
                StrPart::Text(t) => out.push(InterpPart::Text(t.to_string())),
                StrPart::Interp(e) => {
                    let (c, ty) = self.infer(e);
                    let ok = matches!(
                        ty,
                        Ty::String
                            | Ty::Int
                            | Ty::Float
                            | Ty::Bool
                            | Ty::Duration
                            | Ty::Bytes
                            | Ty::Percent
                            | Ty::Entity(_)
                            | Ty::Enum(_)
                            | Ty::Error
                    );
                    if !ok {
                        let shown = self.show(&ty);
                        self.error(
                            Diagnostic::error(
                                &codes::NOT_INTERPOLATABLE,
                                self.file,
                                e.span,
                                format!("a {shown} cannot be put in a string"),
                            )
                            .with_primary_label(format!("this is {}", types::with_article(&shown)))
                            .with_help("interpolate one of its fields instead"),
                        );
                    }
                    out.push(InterpPart::Value(c));
                }
            }
        }
        (Core::Interp(out), Ty::String)
    }

    fn resolve(&self, name: &str) -> Named {
        if let Some(slot) = self.locals.iter().rposition(|(n, _)| n == name) {
            return Named::Local(slot, self.locals[slot].1.clone());
        }
        match self.index.lookup(self.module, name) {
            Some(Binding::Decl(d)) => Named::Decl(d),
            Some(Binding::Module(_)) => Named::Module,
            None => Named::Unknown,
        }
    }

    fn name(&mut self, name: &'a Ident) -> (Core, Ty) {
        match self.resolve(&name.name) {
            Named::Local(slot, ty) => (Core::Local(slot), ty),
            Named::Decl(d) => self.decl_value(d, name.span),
            Named::Module => {
                self.error(
                    Diagnostic::error(
                        &codes::TYPE_MISMATCH,
                        self.file,
                        name.span,
                        format!("module `{}` is not a value", name.name),
                    )
                    .with_primary_label("a module")
                    .with_help(format!("use one of its declarations: `{}.name`", name.name)),
                );
                (Core::Error, Ty::Error)
            }
            Named::Unknown => {
                self.unknown_name(name);
                (Core::Error, Ty::Error)
            }
        }
    }

    /// A module of the standard library that declares `name`, for a name used unimported.
    fn importable_from(&self, name: &str) -> Option<String> {
        self.index
            .decls
            .iter()
            .filter(|d| d.name == name && !matches!(d.kind, crate::index::DeclKind::Let))
            .map(|d| self.index.module(d.module))
            .find(|m| m.is_std && m.path != "std.prelude" && m.path != "std")
            .map(|m| m.path.clone())
    }

    fn unknown_name(&mut self, name: &Ident) {
        if self.index.failed_import(self.module, &name.name) {
            return;
        }
        let mut candidates: Vec<&str> = Vec::new();
        if suggest::budget_left() {
            candidates = self.index.visible_names(self.module);
            candidates.extend(self.locals.iter().map(|(n, _)| n.as_str()));
        }
        let mut diag =
            Diagnostic::error(&codes::UNKNOWN_NAME, self.file, name.span, format!("unknown name `{}`", name.name))
                .with_primary_label("not declared, imported or an entity");
        if let Some(module) = self.importable_from(&name.name) {
            diag = diag.with_help(format!("import it: `import {module}.{{{}}}`", name.name));
        } else if let Some(hint) = suggest::did_you_mean(&name.name, candidates.iter().copied()) {
            diag = diag.with_help(hint);
        } else if ["port", "version", "site", "instance"].contains(&name.name.as_str()) {
            diag = diag.with_help(format!("did you mean the runtime placeholder `{{{}}}`, without `$`?", name.name));
        }
        self.error(diag);
    }

    /// A declaration used as a value.
    fn decl_value(&mut self, d: DeclId, span: Span) -> (Core, Ty) {
        let decl = self.index.decl(d);
        match decl.kind {
            DeclKind::Let => (Core::Let(d), self.let_type(d)),
            DeclKind::Entity(kind) => (Core::Entity(kind, decl.name.into()), Ty::Entity(kind)),
            DeclKind::Fn => {
                self.error(
                    Diagnostic::error(
                        &codes::NOT_CALLABLE,
                        self.file,
                        span,
                        format!("function `{}` is used as a value", decl.name),
                    )
                    .with_primary_label("functions are not values")
                    .with_help(format!("call it: `{}(...)`", decl.name)),
                );
                (Core::Error, Ty::Error)
            }
            DeclKind::Type | DeclKind::Enum => {
                self.error(
                    Diagnostic::error(
                        &codes::TYPE_MISMATCH,
                        self.file,
                        span,
                        format!("type `{}` is used as a value", decl.name),
                    )
                    .with_primary_label("a type, not a value"),
                );
                (Core::Error, Ty::Error)
            }
        }
    }

    fn field(&mut self, base: &'a Expr, name: &'a Ident) -> (Core, Ty) {
        // `module.name` and `Enum.variant` are names, not field reads.
        if let ExprKind::Name(b) = &base.kind
            && !self.is_local(&b.name)
        {
            match self.index.lookup(self.module, &b.name) {
                Some(Binding::Module(m)) => {
                    return match self.index.member(m, &name.name) {
                        Some(d) => self.decl_value(d, name.span),
                        None => {
                            let path = self.index.module(m).path.clone();
                            self.error(
                                Diagnostic::error(
                                    &codes::UNKNOWN_NAME,
                                    self.file,
                                    name.span,
                                    format!("module `{path}` has no `{}`", name.name),
                                )
                                .with_primary_label("not declared there"),
                            );
                            (Core::Error, Ty::Error)
                        }
                    };
                }
                Some(Binding::Decl(d)) if self.index.decl(d).kind == DeclKind::Enum => {
                    let Ty::Enum(id) = self.lower_enum_decl(d) else {
                        return (Core::Error, Ty::Error);
                    };
                    let e = self.types.enum_ty(id);
                    return match e.variant(&name.name) {
                        Some((idx, v)) if v.payload.is_none() => (Core::Variant(id, idx, None), Ty::Enum(id)),
                        Some(_) => {
                            let msg = format!("variant `{}` needs fields", name.name);
                            self.error(
                                Diagnostic::error(&codes::MISSING_FIELD, self.file, name.span, msg)
                                    .with_primary_label("here"),
                            );
                            (Core::Error, Ty::Error)
                        }
                        None => {
                            self.unknown_variant(id, &name.name, name.span, VariantLabel::NotAVariant);
                            (Core::Error, Ty::Error)
                        }
                    };
                }
                _ => {}
            }
        }
        let (core, ty) = self.infer(base);
        let record = match &ty {
            Ty::Error => return (Core::Error, Ty::Error),
            Ty::Record(r) => Some(*r),
            Ty::Entity(kind) => self.schemas.of(*kind),
            _ => None,
        };
        let Some(rid) = record else {
            let shown = self.show(&ty);
            let code = if matches!(ty, Ty::Optional(_)) { &codes::OPTIONAL_USED } else { &codes::UNKNOWN_FIELD };
            self.error(
                Diagnostic::error(code, self.file, name.span, format!("a {shown} has no field `{}`", name.name))
                    .with_primary_label(format!("`{}` is a {shown}", expr_text(base))),
            );
            return (Core::Error, Ty::Error);
        };
        let rec = self.types.record(rid);
        match rec.field(&name.name) {
            Some((idx, f)) => {
                let ty = f.ty.clone();
                (Core::Field(Box::new(core), idx), ty)
            }
            None => {
                let names: Vec<&str> = rec.fields.iter().map(|f| f.name.as_str()).collect();
                let shown = self.show(&Ty::Record(rid));
                let mut diag = Diagnostic::error(
                    &codes::UNKNOWN_FIELD,
                    self.file,
                    name.span,
                    format!("{shown} has no field `{}`", name.name),
                )
                .with_primary_label("unknown field");
                if let Some(hint) = suggest::did_you_mean(&name.name, names.iter().copied()) {
                    diag = diag.with_help(hint);
                }
                self.error(diag);
                (Core::Error, Ty::Error)
            }
        }
    }

    fn lower_enum_decl(&mut self, d: DeclId) -> Ty {
        self.decl_types.get(&d).cloned().unwrap_or(Ty::Error)
    }

    fn call_expr(&mut self, callee: &'a Expr, args: &'a [Arg], span: Span) -> (Core, Ty) {
        let target = match &callee.kind {
            ExprKind::Name(n) => match self.resolve(&n.name) {
                Named::Decl(d) => Some(d),
                Named::Unknown => {
                    self.unknown_name(n);
                    return (Core::Error, Ty::Error);
                }
                _ => None,
            },
            ExprKind::Field { base, name } => match &base.kind {
                ExprKind::Name(b) if !self.is_local(&b.name) => match self.index.lookup(self.module, &b.name) {
                    Some(Binding::Module(m)) => self.index.member(m, &name.name),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
        match target {
            Some(d) if self.index.decl(d).kind == DeclKind::Fn => self.call(d, args, span),
            _ => {
                self.error(
                    Diagnostic::error(
                        &codes::NOT_CALLABLE,
                        self.file,
                        callee.span,
                        format!("`{}` is not a function", expr_text(callee)),
                    )
                    .with_primary_label("only functions can be called"),
                );
                for a in args {
                    self.infer(&a.value);
                }
                (Core::Error, Ty::Error)
            }
        }
    }

    fn call(&mut self, f: DeclId, args: &'a [Arg], span: Span) -> (Core, Ty) {
        let Some(sig) = self.sigs.get(&f).cloned() else {
            return (Core::Error, Ty::Error);
        };
        let (params, ret) = &*sig;
        if *ret == Ty::Error {
            // A function whose signature did not check was reported there; its calls are
            // taken as they are.
            for a in args {
                self.infer(&a.value);
            }
            return (Core::Error, Ty::Error);
        }
        let decl = self.index.decl(f);
        let (fname, ffile, fspan) = (decl.name, decl.file, decl.name_span);
        let mut slots: Vec<Option<Core>> = vec![None; params.len()];
        let mut given = vec![false; params.len()];
        let mut positional = 0;
        let mut seen_named = false;
        for arg in args {
            let idx = match &arg.name {
                Some(n) => {
                    seen_named = true;
                    match params.iter().position(|p| p.name == n.name) {
                        Some(i) => Some(i),
                        None => {
                            let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
                            let mut diag = Diagnostic::error(
                                &codes::WRONG_ARGUMENTS,
                                self.file,
                                n.span,
                                format!("`{fname}` has no parameter `{}`", n.name),
                            )
                            .with_primary_label("unknown argument")
                            .with_label(ffile, fspan, "declared here");
                            let meant = suggest::closest(&n.name, names.iter().copied())
                                .and_then(|m| params.iter().position(|p| p.name == m));
                            if let Some(m) = meant {
                                diag = diag.with_help(format!("did you mean `{}`?", params[m].name));
                            }
                            self.error(diag);
                            // The argument it was meant to be is not also "missing".
                            meant.filter(|m| !given[*m])
                        }
                    }
                }
                None if seen_named => {
                    self.error(
                        Diagnostic::error(
                            &codes::WRONG_ARGUMENTS,
                            self.file,
                            arg.value.span,
                            "a positional argument after a named one",
                        )
                        .with_primary_label("name this argument")
                        .with_help("write positional arguments first"),
                    );
                    None
                }
                None => {
                    positional += 1;
                    if positional > params.len() {
                        let msg = format!(
                            "`{fname}` takes {} argument{}",
                            params.len(),
                            if params.len() == 1 { "" } else { "s" }
                        );
                        self.error(
                            Diagnostic::error(&codes::WRONG_ARGUMENTS, self.file, arg.value.span, msg)
                                .with_primary_label("one too many")
                                .with_label(ffile, fspan, "declared here"),
                        );
                        None
                    } else {
                        Some(positional - 1)
                    }
                }
            };
            let Some(i) = idx else {
                self.infer(&arg.value);
                continue;
            };
            if given[i] {
                self.error(
                    Diagnostic::error(
                        &codes::WRONG_ARGUMENTS,
                        self.file,
                        arg.value.span,
                        format!("argument `{}` is given twice", params[i].name),
                    )
                    .with_primary_label("given again here"),
                );
                continue;
            }
            given[i] = true;
            slots[i] = Some(self.check(&arg.value, &params[i].ty));
        }
        let missing: Vec<String> = params
            .iter()
            .zip(&given)
            .filter(|(p, g)| !**g && p.default.is_none())
            .map(|(p, _)| format!("`{}`", p.name))
            .collect();
        if !missing.is_empty() {
            let list = missing.join(", ");
            self.error(
                Diagnostic::error(
                    &codes::WRONG_ARGUMENTS,
                    self.file,
                    span,
                    format!("missing argument {list} of `{fname}`"),
                )
                .with_primary_label("this call leaves it out")
                .with_label(ffile, fspan, "declared here")
                .with_help(format!("add it: `{fname}({}: ...)`", missing[0].trim_matches('`'))),
            );
            return (Core::Error, ret.clone());
        }
        (Core::Call(f, slots), ret.clone())
    }

    fn comprehension(
        &mut self,
        var: &'a Ident,
        iter: &'a Expr,
        filter: Option<&'a Expr>,
        body: &'a Expr,
        elem: Option<&Ty>,
    ) -> (Core, Ty) {
        let (iter_core, iter_ty) = self.infer(iter);
        let item_ty = match iter_ty {
            Ty::List(t) => (*t).clone(),
            Ty::Error => Ty::Error,
            other => {
                let shown = self.show(&other);
                self.error(
                    Diagnostic::error(
                        &codes::TYPE_MISMATCH,
                        self.file,
                        iter.span,
                        format!("`for` iterates over a list, found {shown}"),
                    )
                    .with_primary_label(format!("this is {}", types::with_article(&shown))),
                );
                Ty::Error
            }
        };
        let slot = self.locals.len();
        self.locals.push((var.name.to_string(), item_ty));
        let filter_core = filter.map(|f| Box::new(self.check(f, &Ty::Bool)));
        let (body_core, body_ty) = match elem {
            Some(t) => (self.check(body, t), t.clone()),
            None => self.infer(body),
        };
        self.locals.pop();
        (
            Core::For { slot, iter: Box::new(iter_core), filter: filter_core, body: Box::new(body_core) },
            self.nest(Ty::List(std::rc::Rc::new(body_ty)), body.span),
        )
    }
}

/// A short rendering of simple expressions for messages.
pub(super) fn expr_text(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Name(n) => n.name.to_string(),
        ExprKind::Field { base, name } => format!("{}.{}", expr_text(base), name.name),
        ExprKind::Call { callee, .. } => format!("{}(...)", expr_text(callee)),
        _ => "this".into(),
    }
}

/// `give the number a unit` when a bare number stands where a unit is expected.
pub(super) fn unit_hint(expected: &Ty, actual: &Ty) -> Option<String> {
    let example = match expected {
        Ty::Duration => "`30s`, `5m`",
        Ty::Bytes => "`512Mi`, `2Gi`",
        Ty::Percent => "`1%`, `99.9%`",
        _ => return None,
    };
    matches!(actual, Ty::Int | Ty::Float).then(|| format!("give the number a unit: {example}"))
}
