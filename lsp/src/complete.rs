//! Completion that follows the cursor's context: declaration keywords where a declaration
//! may start, a block's fields at the start of an entry, environments after `env =`,
//! services in `depends_on = [`, a type's variants and the functions that return it in a
//! value, a module's members in an import list or after `module.`. A standard-library
//! function that the file does not import yet brings its import along.

use crate::context::{self, FrameKind, Position};
use crate::convert::Text;
use crate::schema::{Schema, element_type};
use conv_compiler::refs::{References, Symbol, SymbolKind as Kind};
use conv_lang::FileId;
use conv_lang::ast::{ItemKind, SourceFile};
use tower_lsp_server::ls_types::*;

/// The keywords a top-level declaration starts with.
pub const DECLARATION_KEYWORDS: &[&str] = &["environment", "service", "release", "import", "let", "fn", "type", "enum"];

/// Keywords that may start or continue an expression.
const EXPRESSION_KEYWORDS: &[&str] = &["if", "for", "not", "true", "false", "none"];

fn keyword(k: &str) -> CompletionItem {
    CompletionItem { label: k.to_string(), kind: Some(CompletionItemKind::KEYWORD), ..Default::default() }
}

fn completion_kind(kind: Kind) -> CompletionItemKind {
    match kind {
        Kind::Function => CompletionItemKind::FUNCTION,
        Kind::Type => CompletionItemKind::STRUCT,
        Kind::Enum => CompletionItemKind::ENUM,
        Kind::Let => CompletionItemKind::CONSTANT,
        Kind::Environment | Kind::Service | Kind::Release => CompletionItemKind::REFERENCE,
    }
}

/// The standard-library module a symbol is declared in (`std.gates`), if any.
pub fn std_module(refs: &References, s: &Symbol) -> Option<&'static str> {
    if !s.is_std {
        return None;
    }
    let name = &refs.sources.get(s.file).name;
    conv_compiler::stdlib::MODULES.iter().find(|(_, n, _)| n == name).map(|(p, _, _)| *p)
}

/// The edit that imports `name` from `module`: into an existing `import module.{...}`
/// list, else as a new import after the last one, else at the top of the file.
pub fn import_edit(ast: &SourceFile, text: &str, module: &str, name: &str) -> Option<TextEdit> {
    let t = Text::new(text);
    let at = |offset: usize, new: String| {
        let p = t.position(offset);
        TextEdit::new(Range::new(p, p), new)
    };
    let mut last_import = None;
    for item in &ast.items {
        let ItemKind::Import(i) = &item.kind else { continue };
        last_import = Some(item.span.end);
        let path: Vec<&str> = i.path.iter().map(|p| p.name.as_str()).collect();
        if path.join(".") != module {
            continue;
        }
        let Some(names) = &i.names else { continue };
        if names.iter().any(|n| n.name == name) {
            return None;
        }
        let end = item.span.end;
        if text.get(..end).is_some_and(|s| s.ends_with('}')) {
            let sep = if names.is_empty() { "" } else { ", " };
            return Some(at(end - 1, format!("{sep}{name}")));
        }
    }
    Some(match last_import {
        Some(end) => at(end, format!("\nimport {module}.{{{name}}}")),
        None => at(0, format!("import {module}.{{{name}}}\n\n")),
    })
}

struct Completer<'a> {
    refs: &'a References,
    file: FileId,
    text: &'a str,
    ast: Option<&'a SourceFile>,
    visible: Vec<String>,
    items: Vec<CompletionItem>,
}

impl Completer<'_> {
    fn has(&self, label: &str) -> bool {
        self.items.iter().any(|i| i.label == label)
    }

    /// A declaration, with its import when it is a standard-library function the file
    /// does not see yet.
    fn symbol(&mut self, s: &Symbol) {
        if self.has(&s.name) {
            return;
        }
        let in_scope = self.visible.contains(&s.name);
        let signature = short_signature(&s.signature);
        let mut item = CompletionItem {
            label: s.name.clone(),
            kind: Some(completion_kind(s.kind)),
            detail: Some(signature.to_string()),
            documentation: s.doc.clone().map(Documentation::String),
            ..Default::default()
        };
        if !in_scope {
            let Some(module) = std_module(self.refs, s) else { return };
            item.detail = Some(format!("{signature} (import from {module})"));
            item.additional_text_edits =
                self.ast.and_then(|ast| import_edit(ast, self.text, module, &s.name)).map(|e| vec![e]);
        }
        self.items.push(item);
    }

    fn entities(&mut self, kind: Kind) {
        let refs = self.refs;
        for s in refs.symbols.iter().filter(|s| s.kind == kind && !s.is_std) {
            self.symbol(s);
        }
    }

    /// Everything a value may name: the visible declarations and the standard library's
    /// functions.
    fn names(&mut self) {
        let refs = self.refs;
        for s in &refs.symbols {
            let visible = self.visible.contains(&s.name);
            let importable = s.is_std && s.kind == Kind::Function && std_module(refs, s) != Some("std.prelude");
            if visible || importable {
                self.symbol(s);
            }
        }
    }

    /// A value of type `ty`: its variants, the functions that return it, the `let`s.
    fn typed(&mut self, ty: &str, schema: &Schema<'_>) {
        let elem = element_type(ty).to_string();
        match elem.as_str() {
            "Environment" => return self.entities(Kind::Environment),
            "Service" => return self.entities(Kind::Service),
            "Release" => return self.entities(Kind::Release),
            "Bool" => ["true", "false"].iter().for_each(|k| self.items.push(keyword(k))),
            _ => {}
        }
        for (name, doc, has_fields) in schema.variants(&elem) {
            self.items.push(CompletionItem {
                label: name.clone(),
                kind: Some(CompletionItemKind::ENUM_MEMBER),
                detail: Some(format!("{elem}.{name}")),
                documentation: doc.map(Documentation::String),
                insert_text: has_fields.then(|| format!("{name} {{ }}")),
                ..Default::default()
            });
        }
        let refs = self.refs;
        for s in &refs.symbols {
            let visible = self.visible.contains(&s.name);
            let fits = match s.kind {
                Kind::Function => return_type(&s.signature) == Some(elem.as_str()),
                Kind::Let => visible && !s.is_std,
                _ => false,
            };
            if fits && (visible || std_module(refs, s).is_some_and(|m| m != "std.prelude")) {
                self.symbol(s);
            }
        }
        if ty.trim_end().ends_with('?') {
            self.items.push(keyword("none"));
        }
    }

    fn members(&mut self, module: &str) {
        let refs = self.refs;
        let Some(file) = refs.sources.all().iter().find(|s| module_of(refs, s.id) == module).map(|s| s.id) else {
            return;
        };
        for s in refs.symbols.iter().filter(|s| s.file == file && !matches_entity(s.kind)) {
            if !self.has(&s.name) {
                self.items.push(CompletionItem {
                    label: s.name.clone(),
                    kind: Some(completion_kind(s.kind)),
                    detail: Some(s.signature.clone()),
                    documentation: s.doc.clone().map(Documentation::String),
                    ..Default::default()
                });
            }
        }
    }
}

/// A function's first line up to its return type, without the `=` and a body on that line.
fn short_signature(signature: &str) -> &str {
    match (signature.find(") -> "), return_type(signature)) {
        (Some(at), Some(ret)) => &signature[..at + 5 + ret.len()],
        _ => signature.trim_end_matches('=').trim_end(),
    }
}

/// The return type in a function's first line: `Gate` in `fn http_ok(...) -> Gate =`.
fn return_type(signature: &str) -> Option<&str> {
    let (_, rest) = signature.split_once(") -> ")?;
    Some(rest.split(" =").next()?.trim())
}

fn matches_entity(k: Kind) -> bool {
    matches!(k, Kind::Environment | Kind::Service | Kind::Release)
}

/// A file's module path: `lib.gates`, or `std.gates` for the standard library.
fn module_of(refs: &References, file: FileId) -> String {
    let source = refs.sources.get(file);
    match conv_compiler::stdlib::MODULES.iter().find(|(_, n, _)| *n == source.name) {
        Some((path, _, _)) if source.module.is_empty() => path.to_string(),
        _ => source.module.clone(),
    }
}

pub fn completion(refs: &References, file: FileId, offset: usize) -> Vec<CompletionItem> {
    let text = refs.sources.get(file).text.as_str();
    let ctx = context::at(text, offset);
    let schema = Schema::new(refs);
    let mut c = Completer {
        refs,
        file,
        text,
        ast: refs.parsed.iter().find(|(f, _)| *f == file).map(|(_, p)| &p.file),
        visible: refs.visible.iter().find(|(f, _)| *f == file).map(|(_, v)| v.clone()).unwrap_or_default(),
        items: Vec::new(),
    };
    match &ctx.position {
        Position::Nothing => {}
        Position::TopLevel => c.items.extend(DECLARATION_KEYWORDS.iter().map(|k| keyword(k))),
        Position::ImportPath(prefix) => {
            let mut seen = Vec::new();
            for s in refs.sources.all() {
                let path = module_of(refs, s.id);
                if path.is_empty() || path == conv_compiler::stdlib::PRELUDE || s.id == c.file {
                    continue;
                }
                let rest =
                    if prefix.is_empty() { Some(path.as_str()) } else { path.strip_prefix(&format!("{prefix}.")) };
                let Some(segment) = rest.and_then(|r| r.split('.').next()) else { continue };
                if !seen.contains(&segment.to_string()) {
                    seen.push(segment.to_string());
                    c.items.push(CompletionItem {
                        label: segment.to_string(),
                        kind: Some(CompletionItemKind::MODULE),
                        ..Default::default()
                    });
                }
            }
        }
        Position::Member(name) => {
            // `gates.` after `import std.gates`: the module's members.
            let module = c.ast.and_then(|ast| {
                ast.items.iter().find_map(|item| match &item.kind {
                    ItemKind::Import(i) if i.names.is_none() && i.path.last().is_some_and(|l| l.name == *name) => {
                        Some(i.path.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join("."))
                    }
                    _ => None,
                })
            });
            if let Some(m) = module {
                c.members(&m);
            }
        }
        Position::Entry => {
            let i = ctx.frames.len().saturating_sub(1);
            let Some(frame) = ctx.frames.last() else { return c.items };
            if let FrameKind::ImportList(module) = &frame.kind {
                c.members(module);
            } else if let Some(fields) = schema.of_frame(&ctx.frames, i) {
                for f in fields.iter().filter(|f| !frame.keys.contains(&f.name)) {
                    c.items.push(CompletionItem {
                        label: f.name.clone(),
                        kind: Some(CompletionItemKind::FIELD),
                        detail: Some(f.declaration()),
                        documentation: f.doc.clone().map(Documentation::String),
                        insert_text: Some(format!("{} = ", f.name)),
                        ..Default::default()
                    });
                }
                // `stage NAME { ... }` adds to `stages`: offer the nested block's keyword.
                for f in &fields {
                    if let Some(kind) = f.name.strip_suffix('s')
                        && f.ty.starts_with("List[")
                        && schema.record(element_type(&f.ty)).is_some()
                    {
                        c.items.push(CompletionItem {
                            label: kind.to_string(),
                            kind: Some(CompletionItemKind::KEYWORD),
                            detail: Some(format!("{kind} NAME {{ ... }}: adds to `{}`", f.name)),
                            insert_text: Some(format!("{kind} ")),
                            ..Default::default()
                        });
                    }
                }
            }
        }
        Position::Value { key } => {
            let ty = key.as_deref().and_then(|k| schema.value_type(&ctx.frames, k));
            match ty {
                Some(ty) => c.typed(&ty, &schema),
                None => {
                    c.names();
                    c.items.extend(EXPRESSION_KEYWORDS.iter().map(|k| keyword(k)));
                }
            }
        }
    }
    c.items
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The labels offered at `|` in `text`, a one-file program.
    fn labels(text_with_cursor: &str) -> Vec<String> {
        let offset = text_with_cursor.find('|').unwrap();
        let text = text_with_cursor.replacen('|', "", 1);
        let mut sources = conv_compiler::Sources::new();
        let file = sources.add("main.conv", text);
        let refs = conv_compiler::refs::references(&sources);
        completion(&refs, file, offset).into_iter().map(|i| i.label).collect()
    }

    const PROGRAM: &str =
        "environment staging { sites = [\"s1\"] }\nservice api { run = command { argv = [] }, version = \"1\" }\n";

    #[test]
    fn values_by_type() {
        let on_failure = labels(&format!("{PROGRAM}release r {{ services = [api], on_failure = | }}"));
        assert_eq!(on_failure, ["rollback", "pause"]);
        let strategy = labels(&format!("{PROGRAM}release r {{ services = [api], strategy = | }}"));
        assert_eq!(strategy, ["rollout", "progressive", "blue_green", "all_at_once"]);
        let after = labels(&format!("{PROGRAM}environment production {{ sites = [\"p1\"], after = [|] }}"));
        assert_eq!(after, ["staging", "production"]);
    }

    #[test]
    fn records_lists_and_modules() {
        let stage = labels(&format!("{PROGRAM}release r {{ strategy = rollout {{ stages = [{{ | }}] }} }}"));
        assert_eq!(stage, ["name", "env", "fraction", "bake", "max_parallel", "max_failures", "gates"]);
        let local = labels("environment e { provider = local { | } }");
        assert_eq!(local, ["instances_per_site", "base_port"]);
        let rollout = labels(&format!("{PROGRAM}release r {{ strategy = rollout {{\n  |\n}} }}"));
        assert_eq!(rollout, ["stages", "stage"]);
        let members = labels("import std.rollout.{|}");
        assert_eq!(members, ["progressive", "blue_green", "all_at_once"]);
        assert_eq!(labels("import std.|"), ["gates", "rollout"]);
        let qualified = labels("import std.gates\nlet g = gates.|");
        assert!(
            qualified.contains(&"http_ok".to_string()) && !qualified.contains(&"staging".to_string()),
            "{qualified:?}"
        );
        assert_eq!(labels("service a { version = \"|\" }"), Vec::<String>::new());
    }
}
