//! Inlay hints for defaults: after the `{` of a block whose schema is known (an entity, a
//! `stage`, a tagged record such as `local { }`), the fields it leaves out that have a
//! default worth seeing, as `provider = local {}`, in one hint per block. Defaults that
//! mean "nothing" (`[]`, `{}`, `none`, `""`, `false`) are not shown: they would be on every
//! block and tell little.

use crate::convert::Text;
use crate::schema::{Field, Schema, element_type, spec_name};
use conv_compiler::refs::References;
use conv_lang::FileId;
use conv_lang::ast::{Block, EntryKind, Expr, ExprKind, ItemKind};
use tower_lsp_server::ls_types::*;

const EMPTY: &[&str] = &["[]", "{}", "none", "\"\"", "false"];

struct Hints<'a> {
    schema: Schema<'a>,
    text: &'a str,
    t: Text<'a>,
    out: Vec<InlayHint>,
}

impl Hints<'_> {
    fn block(&mut self, body: &Block, fields: &[Field], owner: &str) {
        conv_lang::stack::grow(|| {
            let written: Vec<&str> = body
                .entries
                .iter()
                .map(|e| match &e.kind {
                    EntryKind::Field { key, .. } => key.text(),
                    EntryKind::Nested { kind, .. } => kind.name.as_str(),
                })
                .collect();
            let omitted: Vec<String> = fields
                .iter()
                .filter(|f| !written.contains(&f.name.as_str()))
                .filter_map(|f| {
                    let d = f.default.as_deref()?;
                    (!EMPTY.contains(&d) && !d.contains('\n')).then(|| format!("{} = {d}", f.name))
                })
                .collect();
            let at = body.span.start;
            if !omitted.is_empty() && self.text.as_bytes().get(at) == Some(&b'{') {
                self.out.push(InlayHint {
                    position: self.t.position(at + 1),
                    label: InlayHintLabel::String(omitted.join(", ")),
                    kind: None,
                    text_edits: None,
                    tooltip: Some(InlayHintTooltip::String(format!(
                        "Defaults of the fields this block leaves out ({owner} in the standard library)"
                    ))),
                    padding_left: Some(true),
                    padding_right: Some(true),
                    data: None,
                });
            }
            for entry in &body.entries {
                match &entry.kind {
                    EntryKind::Field { key, value } => {
                        if let Some(f) = fields.iter().find(|f| f.name == key.text()) {
                            self.value(value, &f.ty);
                        }
                    }
                    EntryKind::Nested { kind, body, .. } => {
                        let Some(list) = fields.iter().find(|f| f.name == format!("{}s", kind.name)) else { continue };
                        let record = element_type(&list.ty).to_string();
                        if let Some(mut nested) = self.schema.record(&record) {
                            nested.retain(|f| f.name != "name");
                            self.block(body, &nested, &record);
                        }
                    }
                }
            }
        })
    }

    fn value(&mut self, e: &Expr, ty: &str) {
        conv_lang::stack::grow(|| match &e.kind {
            ExprKind::Record(r) => {
                let Some(tag) = &r.tag else { return };
                let within = element_type(ty).to_string();
                if let Some(fields) = self.schema.variant(&tag.name, Some(&within)) {
                    self.block(&r.body, &fields, &format!("{within}.{}", tag.name));
                }
            }
            ExprKind::List(items) => items.iter().for_each(|i| self.value(i, ty)),
            _ => {}
        })
    }
}

pub fn inlay_hints(refs: &References, file: FileId, range: Range) -> Vec<InlayHint> {
    let text = refs.sources.get(file).text.as_str();
    let Some((_, parsed)) = refs.parsed.iter().find(|(f, _)| *f == file) else { return Vec::new() };
    let mut h = Hints { schema: Schema::new(refs), text, t: Text::new(text), out: Vec::new() };
    for item in &parsed.file.items {
        if let ItemKind::Entity(e) = &item.kind {
            let name = spec_name(e.kind);
            if let Some(fields) = h.schema.record(name) {
                h.block(&e.body, &fields, name);
            }
        }
    }
    let inside = |p: &Position| range.start <= *p && *p <= range.end;
    h.out.into_iter().filter(|hint| inside(&hint.position)).collect()
}
