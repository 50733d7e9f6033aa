//! Blocks and record literals: fields against a record type, nested blocks, maps, variants.

use super::Elab;
use crate::codes;
use crate::core::Core;
use crate::hash::HashMap;
use crate::index::{Binding, DeclKind};
use crate::suggest;
use crate::types::{EnumId, FieldTy, RecordId, RecordTy, Ty};
use crate::value::Value;
use conv_lang::ast::{Block, EntryKind, Ident};
use conv_lang::{Diagnostic, Span};

impl<'a> Elab<'a, '_> {
    /// Checks a block against record type `rid`: every field known, none twice, every
    /// required one present; nested `kind name { }` blocks append to the list `kinds`.
    pub(super) fn record_block(&mut self, rid: RecordId, body: &'a Block, at: Span) -> Core {
        self.record_block_named(rid, body, at, None)
    }

    fn record_block_named(&mut self, rid: RecordId, body: &'a Block, at: Span, name: Option<&'a Ident>) -> Core {
        let record = self.types.record(rid).clone();
        let fields = record.fields.clone();
        let mut values: Vec<Option<Core>> = vec![None; fields.len()];
        // Where each field was first given.
        let mut seen: Vec<Option<Span>> = vec![None; fields.len()];
        let mut nested: Vec<(usize, Vec<Core>, Span)> = Vec::new();
        if let Some(name) = name
            && let Some(i) = fields.iter().position(|f| f.name == "name")
        {
            values[i] = Some(Core::Value(Value::Str(name.name.as_str().into())));
            seen[i] = Some(name.span);
        }
        for entry in &body.entries {
            match &entry.kind {
                EntryKind::Field { key, value } => {
                    let Some((i, _)) = record.field(key.text()) else {
                        let type_name = self.show(&Ty::Record(rid));
                        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                        let mut diag = Diagnostic::error(
                            &codes::UNKNOWN_FIELD,
                            self.file,
                            key.span(),
                            format!("{type_name} has no field `{}`", key.text()),
                        )
                        .with_primary_label("unknown field");
                        let meant = suggest::closest(key.text(), names.iter().copied())
                            .and_then(|m| fields.iter().position(|f| f.name == m));
                        diag = match meant {
                            Some(m) => diag.with_help(format!("did you mean `{}`?", fields[m].name)),
                            None => diag.with_note(format!("the fields of {type_name} are: {}", listed(&names))),
                        };
                        self.error(diag);
                        // One mistake, one error: the field it was meant to be is not also
                        // "missing"; its value is checked as that field's.
                        match meant.filter(|m| seen[*m].is_none()) {
                            Some(m) => {
                                seen[m] = Some(key.span());
                                values[m] = Some(self.check(value, &fields[m].ty));
                            }
                            None => {
                                self.infer(value);
                            }
                        }
                        continue;
                    };
                    if let Some(first) = seen[i].replace(key.span()) {
                        self.duplicate_field(key.text(), key.span(), first);
                        continue;
                    }
                    values[i] = Some(self.check(value, &fields[i].ty));
                }
                EntryKind::Nested { kind, name, body } => {
                    let list = format!("{}s", kind.name);
                    let elem = record.field(&list).map(|(i, _)| i).and_then(|i| match &fields[i].ty {
                        Ty::List(t) => match **t {
                            Ty::Record(r) => Some((i, r)),
                            _ => None,
                        },
                        _ => None,
                    });
                    let Some((i, elem_rid)) = elem else {
                        let type_name = self.show(&Ty::Record(rid));
                        self.error(
                            Diagnostic::error(
                                &codes::INVALID_NESTED_BLOCK,
                                self.file,
                                kind.span,
                                format!("{type_name} has no list `{list}` for `{} {}` blocks", kind.name, name.name),
                            )
                            .with_primary_label("not allowed here"),
                        );
                        continue;
                    };
                    let core = self.record_block_named(elem_rid, body, name.span, Some(name));
                    match nested.iter_mut().find(|(f, _, _)| *f == i) {
                        Some((_, items, _)) => items.push(core),
                        None => nested.push((i, vec![core], kind.span)),
                    }
                }
            }
        }
        for (i, items, span) in nested {
            if let Some(first) = seen[i].replace(span) {
                self.duplicate_field(&fields[i].name, span, first);
                continue;
            }
            values[i] = Some(Core::List(items));
        }
        let missing: Vec<&str> = fields
            .iter()
            .zip(&values)
            .filter(|(f, v)| v.is_none() && f.default.is_none())
            .map(|(f, _)| f.name.as_str())
            .collect();
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
            let plural = if missing.len() == 1 { "" } else { "s" };
            let first = &fields[fields.iter().position(|f| f.name == missing[0]).unwrap_or(0)];
            let type_name = self.show(&Ty::Record(rid));
            self.error(
                Diagnostic::error(
                    &codes::MISSING_FIELD,
                    self.file,
                    at,
                    format!("missing field{plural} {} of {type_name}", list.join(", ")),
                )
                .with_primary_label(format!("needs {}", list.join(", ")))
                .with_label(first.file, first.span, "declared without a default here")
                .with_help(format!("add `{} = ...`", missing[0])),
            );
            return Core::Error;
        }
        for (i, f) in fields.iter().enumerate() {
            if values[i].is_none() && f.default.is_some() {
                self.record_default(rid, i);
            }
        }
        Core::Record(rid, values)
    }

    fn duplicate_field(&mut self, name: &str, span: Span, first: Span) {
        self.error(
            Diagnostic::error(&codes::DUPLICATE_FIELD, self.file, span, format!("`{name}` is given twice"))
                .with_primary_label("given again here")
                .with_label(self.file, first, "first given here")
                .with_help("keep one of them"),
        );
    }

    /// A record literal or block against an expected type: a record, a map, an enum variant.
    pub(super) fn check_record(&mut self, tag: Option<&'a Ident>, body: &'a Block, expected: &Ty, span: Span) -> Core {
        let want = match expected {
            Ty::Optional(inner) => (**inner).clone(),
            t => t.clone(),
        };
        match (tag, &want) {
            (Some(t), Ty::Enum(id)) => self.variant_block(*id, t, body, span),
            (None, Ty::Record(rid)) => self.record_block(*rid, body, span),
            (None, Ty::Map(elem)) => self.map_literal(body, elem),
            _ => {
                let (core, actual) = self.infer_record(tag, body, span);
                if !self.types.assignable(&actual, expected) {
                    self.mismatch(span, expected, &actual);
                    return Core::Error;
                }
                // An anonymous record written where a named one is expected takes its type.
                match (&core, &want) {
                    (Core::Record(_, _), Ty::Record(rid)) => self.record_block(*rid, body, span),
                    _ => core,
                }
            }
        }
    }

    fn variant_block(&mut self, id: EnumId, tag: &'a Ident, body: &'a Block, span: Span) -> Core {
        let found = self.types.enum_ty(id).variant(&tag.name).map(|(idx, v)| (idx, v.payload));
        match found {
            Some((idx, Some(payload))) => {
                let core = self.record_block(payload, body, span);
                Core::Variant(id, idx, Some(Box::new(core)))
            }
            Some((idx, None)) if body.entries.is_empty() => Core::Variant(id, idx, None),
            Some((_, None)) => {
                let message = format!("variant `{}` of {} has no fields", tag.name, self.types.enum_ty(id).name);
                self.error(
                    Diagnostic::error(&codes::UNKNOWN_FIELD, self.file, body.span, message)
                        .with_primary_label("remove these fields")
                        .with_help(format!("write `{}`", tag.name)),
                );
                Core::Error
            }
            None => {
                self.unknown_variant(id, &tag.name, tag.span, VariantLabel::ExpectedOneOf);
                Core::Error
            }
        }
    }

    /// Reports `name` as no variant of enum `id` (E0201), with `did you mean` when one is close.
    pub(super) fn unknown_variant(&mut self, id: EnumId, name: &str, span: Span, label: VariantLabel) {
        let e = self.types.enum_ty(id);
        let names: Vec<&str> = e.variants.iter().map(|v| v.name.as_str()).collect();
        let label = match label {
            VariantLabel::ExpectedOneOf => format!("expected one of: {}", listed(&names)),
            VariantLabel::NotAVariant => "not a variant".to_string(),
        };
        let mut diag =
            Diagnostic::error(&codes::UNKNOWN_NAME, self.file, span, format!("{} has no variant `{name}`", e.name))
                .with_primary_label(label);
        if let Some(hint) = suggest::did_you_mean(name, names.iter().copied()) {
            diag = diag.with_help(hint);
        }
        self.error(diag);
    }

    pub(super) fn map_literal(&mut self, body: &'a Block, elem: &Ty) -> Core {
        let mut seen: HashMap<String, Span> = HashMap::default();
        let mut out = Vec::new();
        for entry in &body.entries {
            match &entry.kind {
                EntryKind::Field { key, value } => {
                    if let Some(first) = seen.insert(key.text().to_string(), key.span()) {
                        self.duplicate_field(key.text(), key.span(), first);
                        continue;
                    }
                    out.push((key.text().to_string(), self.check(value, elem)));
                }
                EntryKind::Nested { kind, .. } => {
                    self.error(
                        Diagnostic::error(
                            &codes::INVALID_NESTED_BLOCK,
                            self.file,
                            kind.span,
                            "a map cannot hold nested blocks",
                        )
                        .with_primary_label("not allowed in a map"),
                    );
                }
            }
        }
        Core::Map(out)
    }

    /// A record literal with nothing to expect: a named record type, a variant of the one
    /// enum in scope that has it, or an anonymous record of exactly the fields written.
    pub(super) fn infer_record(&mut self, tag: Option<&'a Ident>, body: &'a Block, span: Span) -> (Core, Ty) {
        if let Some(t) = tag {
            if let Some(Binding::Decl(d)) = self.index.lookup(self.module, &t.name)
                && self.index.decl(d).kind == DeclKind::Type
                && let Some(Ty::Record(rid)) = self.decl_types.get(&d).cloned()
            {
                return (self.record_block(rid, body, span), Ty::Record(rid));
            }
            let owners: Vec<EnumId> = self
                .enums_in_scope()
                .into_iter()
                .filter(|id| self.types.enum_ty(*id).variant(&t.name).is_some())
                .collect();
            return match owners.as_slice() {
                [one] => (self.variant_block(*one, t, body, span), Ty::Enum(*one)),
                [] => {
                    let mut diag = Diagnostic::error(
                        &codes::UNKNOWN_NAME,
                        self.file,
                        t.span,
                        format!("unknown record type or variant `{}`", t.name),
                    )
                    .with_primary_label("no type or enum variant of this name is in scope");
                    let names = if suggest::budget_left() { self.index.visible_names(self.module) } else { Vec::new() };
                    if let Some(hint) = suggest::did_you_mean(&t.name, names.iter().copied()) {
                        diag = diag.with_help(hint);
                    }
                    self.error(diag);
                    (Core::Error, Ty::Error)
                }
                many => {
                    let names: Vec<String> = many.iter().map(|id| self.types.enum_ty(*id).name.clone()).collect();
                    self.error(
                        Diagnostic::error(
                            &codes::CANNOT_INFER,
                            self.file,
                            t.span,
                            format!("`{}` is a variant of {}", t.name, names.join(" and ")),
                        )
                        .with_primary_label("which one is meant cannot be told here")
                        .with_help("annotate the declaration with the type you mean"),
                    );
                    (Core::Error, Ty::Error)
                }
            };
        }
        let mut fields: Vec<FieldTy<'a>> = Vec::new();
        let mut cores = Vec::new();
        let mut seen: crate::hash::HashMap<&str, Span> = crate::hash::HashMap::default();
        for entry in &body.entries {
            match &entry.kind {
                EntryKind::Field { key, value } => {
                    if let Some(&first) = seen.get(key.text()) {
                        self.duplicate_field(key.text(), key.span(), first);
                        continue;
                    }
                    seen.insert(key.text(), key.span());
                    let (core, ty) = self.infer(value);
                    fields.push(FieldTy {
                        name: key.text().to_string(),
                        ty,
                        default: None,
                        doc: None,
                        file: self.file,
                        span: key.span(),
                    });
                    cores.push(Some(core));
                }
                EntryKind::Nested { kind, .. } => {
                    self.error(
                        Diagnostic::error(
                            &codes::INVALID_NESTED_BLOCK,
                            self.file,
                            kind.span,
                            "a record without a type cannot hold nested blocks",
                        )
                        .with_primary_label("not allowed here")
                        .with_help("annotate the declaration with the record type"),
                    );
                }
            }
        }
        let rid = self.types.add_record(RecordTy::new(None, fields));
        (Core::Record(rid, cores), Ty::Record(rid))
    }

    /// The enums visible in the current module, sorted: those of the declarations in
    /// `enum_decls` that the module's scope binds under their name. Each module goes
    /// through the declarations found since it last asked, not through every name in scope.
    fn enums_in_scope(&mut self) -> Vec<EnumId> {
        let module = self.module;
        let (mut seen, mut enums) = self.enums_seen.remove(&module).unwrap_or_default();
        for &d in &self.enum_decls[seen..] {
            let name = self.index.decl(d).name;
            if self.index.lookup(module, name) == Some(Binding::Decl(d))
                && let Some(Ty::Enum(id)) = self.decl_types.get(&d)
                && let Err(at) = enums.binary_search(id)
            {
                enums.insert(at, *id);
            }
        }
        seen = self.enum_decls.len();
        self.enums_seen.insert(module, (seen, enums.clone()));
        enums
    }
}

/// The label of an unknown variant: the variants to choose from, where a variant is all that
/// may stand there, or plain, after `Enum.` where the enum's name already says it.
pub(super) enum VariantLabel {
    ExpectedOneOf,
    NotAVariant,
}

/// Up to 20 names, comma-separated: a note stays short however large the record.
fn listed(names: &[&str]) -> String {
    match names.len() {
        0..=20 => names.join(", "),
        n => format!("{}, and {} more", names[..20].join(", "), n - 20),
    }
}
