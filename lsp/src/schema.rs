//! The fields blocks may hold, read from the standard library's own declarations: the
//! records `EnvironmentSpec`, `ServiceSpec`, `ReleaseSpec` and `Stage`, and the fields of
//! enum variants (`rollout { stages }`, `local { instances_per_site, base_port }`).

use crate::context::{Frame, FrameKind};
use conv_compiler::refs::References;
use conv_lang::ast::{EntityKind, FieldDecl, ItemKind, TypeExprKind};

#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    /// The type as written: `List[Service]`.
    pub ty: String,
    /// The default as written: `[]`; `None` when the field is required.
    pub default: Option<String>,
    pub doc: Option<String>,
}

impl Field {
    /// `depends_on: List[Service] = []`
    pub fn declaration(&self) -> String {
        match &self.default {
            Some(d) => format!("{}: {} = {d}", self.name, self.ty),
            None => format!("{}: {}", self.name, self.ty),
        }
    }
}

pub struct Schema<'r> {
    refs: &'r References,
}

pub fn spec_name(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Environment => "EnvironmentSpec",
        EntityKind::Service => "ServiceSpec",
        EntityKind::Release => "ReleaseSpec",
    }
}

impl<'r> Schema<'r> {
    pub fn new(refs: &'r References) -> Self {
        Schema { refs }
    }

    /// The standard library's files, the prelude first.
    fn std_items(&self) -> impl Iterator<Item = (&'r str, &'r conv_lang::ast::Item)> + 'r {
        let refs = self.refs;
        conv_compiler::stdlib::MODULES.iter().flat_map(move |(_, name, _)| {
            refs.parsed
                .iter()
                .filter(move |(f, _)| refs.sources.get(*f).name == *name)
                .flat_map(move |(f, p)| p.file.items.iter().map(move |i| (refs.sources.get(*f).text.as_str(), i)))
        })
    }

    fn fields(text: &str, decls: &[FieldDecl]) -> Vec<Field> {
        let slice = |s: conv_lang::Span| text.get(s.start..s.end).unwrap_or("").to_string();
        decls
            .iter()
            .map(|f| Field {
                name: f.name.name.to_string(),
                ty: slice(f.ty.span),
                default: f.default.as_ref().map(|d| slice(d.span)),
                doc: f.doc.clone(),
            })
            .collect()
    }

    /// The fields of the record type `name` (`type Stage = { ... }`).
    pub fn record(&self, name: &str) -> Option<Vec<Field>> {
        self.std_items().find_map(|(text, item)| match &item.kind {
            ItemKind::Type(t) if t.name.name == name => match &t.ty.kind {
                TypeExprKind::Record(fields) => Some(Self::fields(text, fields)),
                _ => None,
            },
            _ => None,
        })
    }

    /// The fields of the variant `tag` of a standard enum, preferring the enum `within`.
    pub fn variant(&self, tag: &str, within: Option<&str>) -> Option<Vec<Field>> {
        let mut found = None;
        for (text, item) in self.std_items() {
            let ItemKind::Enum(e) = &item.kind else { continue };
            for v in &e.variants {
                if v.name.name == tag {
                    let fields = Self::fields(text, v.fields.as_deref().unwrap_or(&[]));
                    if within.is_none_or(|w| w == e.name.name) {
                        return Some(fields);
                    }
                    found.get_or_insert(fields);
                }
            }
        }
        found
    }

    /// The variants of the standard enum `name`, with their docs.
    pub fn variants(&self, name: &str) -> Vec<(String, Option<String>, bool)> {
        for (_, item) in self.std_items() {
            if let ItemKind::Enum(e) = &item.kind
                && e.name.name == name
            {
                return e
                    .variants
                    .iter()
                    .map(|v| (v.name.name.to_string(), v.doc.clone(), v.fields.is_some()))
                    .collect();
            }
        }
        Vec::new()
    }

    /// The fields of the block `frames[i]` opens, when its schema is known: an entity's
    /// spec, a variant's fields, or a nested block's record (`stage NAME { ... }` in a
    /// `rollout` is a `Stage`, less the `name` its header gives).
    pub fn of_frame(&self, frames: &[Frame], i: usize) -> Option<Vec<Field>> {
        match &frames.get(i)?.kind {
            FrameKind::Entity(kind) => self.record(spec_name(*kind)),
            FrameKind::Tagged(tag) => {
                let within = i.checked_sub(1).and_then(|p| {
                    let key = frames[i].key.as_deref()?;
                    let ty = self.of_frame(frames, p)?.into_iter().find(|f| f.name == key)?.ty;
                    Some(element_type(&ty).to_string())
                });
                self.variant(tag, within.as_deref())
            }
            FrameKind::Nested(kind) => {
                let parent = self.of_frame(frames, i.checked_sub(1)?)?;
                let list = parent.into_iter().find(|f| f.name == format!("{kind}s"))?;
                let mut fields = self.record(element_type(&list.ty))?;
                fields.retain(|f| f.name != "name");
                Some(fields)
            }
            // `stages = [{ ... }]` or `probe = { ... }`: the record type of the field.
            FrameKind::Brace => {
                let (key, holder) = match &frames[i].key {
                    Some(k) => (k.as_str(), i.checked_sub(1)?),
                    None if i >= 1 && frames[i - 1].kind == FrameKind::List => {
                        (frames[i - 1].key.as_deref()?, i.checked_sub(2)?)
                    }
                    None => return None,
                };
                let ty = self.of_frame(frames, holder)?.into_iter().find(|f| f.name == key)?.ty;
                self.record(element_type(&ty))
            }
            _ => None,
        }
    }

    /// The type of the value being written at the innermost frame, for entry `key`.
    pub fn value_type(&self, frames: &[Frame], key: &str) -> Option<String> {
        // The nearest block frame with a schema holds the key.
        let i = frames
            .iter()
            .rposition(|f| matches!(f.kind, FrameKind::Entity(_) | FrameKind::Tagged(_) | FrameKind::Nested(_)))?;
        let ty = self.of_frame(frames, i)?.into_iter().find(|f| f.name == key)?.ty;
        Some(ty)
    }
}

/// `List[Stage]` as `Stage`, `Int?` as `Int`, `Map[Secret]` as `Secret`.
pub fn element_type(ty: &str) -> &str {
    let ty = ty.trim().trim_end_matches('?');
    for wrapper in ["List[", "Map["] {
        if let Some(inner) = ty.strip_prefix(wrapper).and_then(|t| t.strip_suffix(']')) {
            return element_type(inner);
        }
    }
    ty
}
