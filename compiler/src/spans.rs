//! Where in the source an entity, a field of it or a stage was written, so that domain
//! diagnostics point at the code a user would change.

use crate::hash::HashMap;
use conv_lang::ast::{Block, EntityKind, EntryKind, ExprKind, Item, ItemKind};
use conv_lang::{FileId, Span};

pub type Place = (FileId, Span);

pub struct EntitySpans<'a> {
    entities: HashMap<(EntityKind, &'a str), (FileId, &'a conv_lang::ast::Entity)>,
}

impl<'a> EntitySpans<'a> {
    pub fn new(files: impl IntoIterator<Item = (FileId, &'a [Item])>) -> Self {
        let mut entities = HashMap::default();
        for (file, items) in files {
            for item in items {
                if let ItemKind::Entity(e) = &item.kind {
                    entities.entry((e.kind, e.name.name.as_str())).or_insert((file, e));
                }
            }
        }
        EntitySpans { entities }
    }

    pub fn entity(&self, kind: EntityKind, name: &str) -> Place {
        self.entities.get(&(kind, name)).map(|(f, e)| (*f, e.name.span)).unwrap_or_default()
    }

    /// The value of `field` in the entity's block, or the entity's name if it is not written.
    pub fn field(&self, kind: EntityKind, name: &str, field: &str) -> Place {
        let Some((file, e)) = self.entities.get(&(kind, name)) else {
            return Place::default();
        };
        match field_value_span(&e.body, field) {
            Some(span) => (*file, span),
            None => (*file, e.name.span),
        }
    }

    /// A stage of a release: its `stage NAME { }` block, or the `strategy` field that made it.
    pub fn stage(&self, release: &str, stage: &str) -> Place {
        let Some((file, e)) = self.entities.get(&(EntityKind::Release, release)) else {
            return Place::default();
        };
        for entry in &e.body.entries {
            if let EntryKind::Field { key, value } = &entry.kind
                && key.text() == "strategy"
            {
                if let ExprKind::Record(r) = &value.kind
                    && let Some(span) = nested_span(&r.body, stage)
                {
                    return (*file, span);
                }
                return (*file, value.span);
            }
        }
        (*file, e.name.span)
    }

    /// A field inside a stage block (`fraction`), or the stage itself.
    pub fn stage_field(&self, release: &str, stage: &str, field: &str) -> Place {
        let (file, span) = self.stage(release, stage);
        let Some((_, e)) = self.entities.get(&(EntityKind::Release, release)) else {
            return (file, span);
        };
        for entry in &e.body.entries {
            if let EntryKind::Field { key, value } = &entry.kind
                && key.text() == "strategy"
                && let ExprKind::Record(r) = &value.kind
            {
                for inner in &r.body.entries {
                    if let EntryKind::Nested { name, body, .. } = &inner.kind
                        && name.name == stage
                        && let Some(s) = field_value_span(body, field)
                    {
                        return (file, s);
                    }
                }
            }
        }
        (file, span)
    }
}

fn field_value_span(body: &Block, field: &str) -> Option<Span> {
    body.entries.iter().find_map(|entry| match &entry.kind {
        EntryKind::Field { key, value } if key.text() == field => Some(value.span),
        _ => None,
    })
}

fn nested_span(body: &Block, name: &str) -> Option<Span> {
    body.entries.iter().find_map(|entry| match &entry.kind {
        EntryKind::Nested { name: n, .. } if n.name == name => Some(n.span),
        _ => None,
    })
}
