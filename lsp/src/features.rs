//! The language features, each a pure function of the program's files and a position.

use crate::convert::{Text, diagnostic};
use crate::workspace::{self, Program};
use crate::{stdlib_file, text_range, uri_of};
use conv_compiler::refs::{References, SymbolKind as Kind};
use conv_lang::ast::{EntryKind, ItemKind};
use conv_lang::token::Token;
use conv_lang::{FileId, Span};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tower_lsp_server::ls_types::*;

pub const TOKEN_TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::KEYWORD,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::TYPE,
    SemanticTokenType::NUMBER,
    SemanticTokenType::STRING,
    SemanticTokenType::COMMENT,
    SemanticTokenType::PROPERTY,
];

use conv_lang::token::KEYWORDS;

pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&s)
}

/// Where a file of the analysis is, on disk: a user file, or the standard library written
/// out for the editor.
fn file_path(program: &Program, refs: &References, file: FileId) -> Option<PathBuf> {
    match program.paths.get(file.0 as usize) {
        Some(p) => Some(p.clone()),
        None => stdlib_file(&refs.sources.get(file).name),
    }
}

fn location(program: &Program, refs: &References, file: FileId, span: Span) -> Option<Location> {
    let path = file_path(program, refs, file)?;
    Some(Location::new(uri_of(&path)?, text_range(&refs.sources.get(file).text, span)))
}

fn analyze(path: &Path, open: &HashMap<PathBuf, String>) -> (Program, References, FileId) {
    let program = workspace::load(path, open);
    let refs = conv_compiler::refs::references(&program.sources);
    let file = program.file_of(path).unwrap_or(FileId(0));
    (program, refs, file)
}

pub fn diagnostics(path: &Path, open: &HashMap<PathBuf, String>) -> Vec<(Uri, Vec<Diagnostic>)> {
    let program = workspace::load(path, open);
    let checked = conv_compiler::check(&program.sources);
    let mut out = Vec::new();
    for (i, file) in program.paths.iter().enumerate() {
        let id = FileId(i as u32);
        let Some(uri) = uri_of(file) else { continue };
        let text = &checked.sources.get(id).text;
        let t = Text::new(text);
        // Each file's line starts once, however many labels point into it.
        let others: std::cell::RefCell<HashMap<FileId, std::rc::Rc<Text<'_>>>> = Default::default();
        let diags = checked
            .diagnostics
            .iter()
            .filter(|d| d.primary.file == id)
            .map(|d| {
                diagnostic(d, &t, |f, span| {
                    let p = program
                        .paths
                        .get(f.0 as usize)
                        .cloned()
                        .or_else(|| stdlib_file(&checked.sources.get(f).name))?;
                    let other = std::rc::Rc::clone(
                        others
                            .borrow_mut()
                            .entry(f)
                            .or_insert_with(|| std::rc::Rc::new(Text::new(&checked.sources.get(f).text))),
                    );
                    Some((uri_of(&p)?, other.range(span)))
                })
            })
            .collect();
        out.push((uri, diags));
    }
    out
}

pub fn hover(path: &Path, pos: Position, open: &HashMap<PathBuf, String>) -> Option<Hover> {
    let (_, refs, file) = analyze(path, open);
    let text = &refs.sources.get(file).text;
    let offset = Text::new(text).offset(pos);
    if let Some(field) = refs.field_at(file, offset) {
        let spec = match field.entity {
            conv_lang::ast::EntityKind::Environment => "EnvironmentSpec",
            conv_lang::ast::EntityKind::Service => "ServiceSpec",
            conv_lang::ast::EntityKind::Release => "ReleaseSpec",
        };
        let value = format!(
            "```conv\n{}\n```\n{}\n\n_field of `{spec}` in std.prelude_",
            field.declaration,
            field.doc.clone().unwrap_or_default()
        );
        return Some(Hover {
            contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value }),
            range: None,
        });
    }
    let i = refs.symbol_at(file, offset)?;
    let s = &refs.symbols[i];
    let kind = match s.kind {
        Kind::Environment => "environment",
        Kind::Service => "service",
        Kind::Release => "release",
        Kind::Function => "function",
        Kind::Type => "type",
        Kind::Enum => "enum",
        Kind::Let => "let",
    };
    let origin = if s.is_std {
        format!("standard library, {}", refs.sources.get(s.file).name)
    } else {
        refs.sources.get(s.file).name.clone()
    };
    let value = format!("```conv\n{}\n```\n{}\n\n_{kind} · {origin}_", s.signature, s.doc.clone().unwrap_or_default());
    Some(Hover { contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value }), range: None })
}

pub fn definition(path: &Path, pos: Position, open: &HashMap<PathBuf, String>) -> Option<Location> {
    let (program, refs, file) = analyze(path, open);
    let offset = Text::new(&refs.sources.get(file).text).offset(pos);
    let s = &refs.symbols[refs.symbol_at(file, offset)?];
    location(&program, &refs, s.file, s.name_span)
}

pub fn references(path: &Path, pos: Position, open: &HashMap<PathBuf, String>) -> Option<Vec<Location>> {
    let (program, refs, file) = analyze(path, open);
    let offset = Text::new(&refs.sources.get(file).text).offset(pos);
    let i = refs.symbol_at(file, offset)?;
    Some(locations(&program, &refs, refs.occurrences(i)))
}

/// The locations of spans, with each file's line starts computed once.
fn locations(program: &Program, refs: &References, spans: Vec<(FileId, Span)>) -> Vec<Location> {
    let mut texts: HashMap<FileId, Text<'_>> = HashMap::new();
    let mut out = Vec::with_capacity(spans.len());
    for (file, span) in spans {
        let Some(uri) = file_path(program, refs, file).and_then(|p| uri_of(&p)) else { continue };
        let text = texts.entry(file).or_insert_with(|| Text::new(&refs.sources.get(file).text));
        out.push(Location::new(uri, text.range(span)));
    }
    out
}

/// Why a rename cannot be done, for the client to show.
pub type Refusal = String;

pub fn rename(
    path: &Path,
    pos: Position,
    new_name: &str,
    open: &HashMap<PathBuf, String>,
) -> Result<Option<WorkspaceEdit>, Refusal> {
    let (program, refs, file) = analyze(path, open);
    let offset = Text::new(&refs.sources.get(file).text).offset(pos);
    let Some(i) = refs.symbol_at(file, offset) else { return Ok(None) };
    let s = &refs.symbols[i];
    if s.is_std {
        return Err(format!("`{}` is declared in the standard library and cannot be renamed", s.name));
    }
    if new_name != s.name
        && let Some(conflict) = rename_conflict(&program, &refs, i, new_name)
    {
        return Err(conflict);
    }
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for loc in locations(&program, &refs, refs.occurrences(i)) {
        changes.entry(loc.uri).or_default().push(TextEdit::new(loc.range, new_name.to_string()));
    }
    Ok(Some(WorkspaceEdit { changes: Some(changes), ..Default::default() }))
}

/// Why renaming symbol `i` to `new_name` would clash: the new name is already visible in a
/// file that names the symbol (for an entity, in any file, as entities are program-wide).
fn rename_conflict(program: &Program, refs: &References, i: usize, new_name: &str) -> Option<String> {
    let s = &refs.symbols[i];
    let entity = matches!(s.kind, Kind::Environment | Kind::Service | Kind::Release);
    let files: Vec<FileId> = if entity {
        (0..program.paths.len()).map(|f| FileId(f as u32)).collect()
    } else {
        let mut files: Vec<FileId> = refs.occurrences(i).into_iter().map(|(f, _)| f).collect();
        files.sort_by_key(|f| f.0);
        files.dedup();
        files
    };
    if let Some(capture) = local_capture(refs, i, new_name) {
        return Some(capture);
    }
    let clash =
        files.iter().find(|f| refs.visible.iter().any(|(v, names)| v == *f && names.iter().any(|n| n == new_name)))?;
    let other =
        refs.symbols.iter().filter(|o| o.name == new_name).min_by_key(|o| (o.is_std, o.file != *clash)).map(|o| {
            if o.is_std {
                format!("the standard library ({})", refs.sources.get(o.file).name)
            } else {
                file_path(program, refs, o.file)
                    .map(|p| p.strip_prefix(&program.root).unwrap_or(&p).display().to_string())
                    .unwrap_or_default()
            }
        });
    let name = refs.sources.get(*clash).name.clone();
    let shown = program
        .paths
        .get(clash.0 as usize)
        .map(|p| p.strip_prefix(&program.root).unwrap_or(p).display().to_string())
        .unwrap_or(name);
    Some(match other {
        Some(place) => format!(
            "cannot rename `{}` to `{new_name}`: `{new_name}` is already declared in {place} and visible in {shown}",
            s.name
        ),
        None => format!("cannot rename `{}` to `{new_name}`: `{new_name}` is already a name in {shown}", s.name),
    })
}

/// Whether a use of symbol `i` would, renamed to `new_name`, mean a local of that name
/// instead: a parameter of the function it is used in, or a `for` variable around it.
fn local_capture(refs: &References, i: usize, new_name: &str) -> Option<String> {
    let old = &refs.symbols[i].name;
    let uses: Vec<(FileId, Span)> = refs.occurrences(i).into_iter().skip(1).collect();
    let inside = |file: FileId, outer: Span| {
        uses.iter().any(|(f, s)| *f == file && outer.start <= s.start && s.end <= outer.end)
    };
    for (file, parsed) in refs.parsed.iter().filter(|(f, _)| uses.iter().any(|(u, _)| u == f)) {
        for item in &parsed.file.items {
            if let ItemKind::Fn(f) = &item.kind
                && f.params.iter().any(|p| p.name.name == new_name)
                && inside(*file, item.span)
            {
                return Some(format!(
                    "cannot rename `{old}` to `{new_name}`: `{new_name}` is a parameter of `{}`, which uses `{old}`",
                    f.name.name
                ));
            }
            let mut scopes = Vec::new();
            for_scopes(item, new_name, &mut scopes);
            if scopes.into_iter().any(|scope| inside(*file, scope)) {
                return Some(format!(
                    "cannot rename `{old}` to `{new_name}`: `{new_name}` is a `for` variable where `{old}` is used"
                ));
            }
        }
    }
    None
}

/// The spans where a `for` variable named `name` is in scope (its filter and body), in `item`.
fn for_scopes(item: &conv_lang::ast::Item, name: &str, out: &mut Vec<Span>) {
    use conv_lang::ast::{Block, Expr, ExprKind, StrPart};
    fn block(b: &Block, name: &str, out: &mut Vec<Span>) {
        for entry in &b.entries {
            match &entry.kind {
                EntryKind::Field { value, .. } => expr(value, name, out),
                EntryKind::Nested { body, .. } => block(body, name, out),
            }
        }
    }
    fn expr(e: &Expr, name: &str, out: &mut Vec<Span>) {
        conv_lang::stack::grow(|| match &e.kind {
            ExprKind::For(c) => {
                if c.var.name == name {
                    out.push(c.body.span);
                    if let Some(f) = &c.filter {
                        out.push(f.span);
                    }
                }
                expr(&c.iter, name, out);
                if let Some(f) = &c.filter {
                    expr(f, name, out);
                }
                expr(&c.body, name, out);
            }
            ExprKind::Field { base, .. } => expr(base, name, out),
            ExprKind::Call { callee, args } => {
                expr(callee, name, out);
                args.iter().for_each(|a| expr(&a.value, name, out));
            }
            ExprKind::List(items) => items.iter().for_each(|i| expr(i, name, out)),
            ExprKind::Record(r) => block(&r.body, name, out),
            ExprKind::If { cond, then, otherwise } => {
                expr(cond, name, out);
                expr(then, name, out);
                expr(otherwise, name, out);
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                expr(lhs, name, out);
                expr(rhs, name, out);
            }
            ExprKind::Unary { operand, .. } | ExprKind::Paren(operand) => expr(operand, name, out),
            ExprKind::Str(parts) => parts.iter().for_each(|p| {
                if let StrPart::Interp(x) = p {
                    expr(x, name, out);
                }
            }),
            ExprKind::Name(_) | ExprKind::Literal(_) | ExprKind::Error => {}
        })
    }
    match &item.kind {
        ItemKind::Entity(e) => block(&e.body, name, out),
        ItemKind::Fn(f) => {
            f.params.iter().filter_map(|p| p.default.as_ref()).for_each(|d| expr(d, name, out));
            expr(&f.body, name, out);
        }
        ItemKind::Let(l) => expr(&l.value, name, out),
        ItemKind::Import(_) | ItemKind::Type(_) | ItemKind::Enum(_) => {}
    }
}

/// What rename would change at the cursor: the name's range and the name itself, or why it
/// cannot be renamed (a keyword, a literal, a field, a standard-library name).
pub fn prepare_rename(
    path: &Path,
    pos: Position,
    open: &HashMap<PathBuf, String>,
) -> Result<Option<PrepareRenameResponse>, Refusal> {
    let (_, refs, file) = analyze(path, open);
    let text = &refs.sources.get(file).text;
    let t = Text::new(text);
    let offset = t.offset(pos);
    if let Some(i) = refs.symbol_at(file, offset) {
        let s = &refs.symbols[i];
        if s.is_std {
            return Err(format!("`{}` is declared in the standard library and cannot be renamed", s.name));
        }
        let hit = |sp: &Span| sp.start <= offset && offset <= sp.end;
        let span =
            refs.refs.iter().find(|(f, sp, _)| *f == file && hit(sp)).map(|(_, sp, _)| *sp).unwrap_or(s.name_span);
        return Ok(Some(PrepareRenameResponse::RangeWithPlaceholder {
            range: t.range(span),
            placeholder: s.name.clone(),
        }));
    }
    if let Some(field) = refs.field_at(file, offset) {
        return Err(format!("`{}` is a field of the schema and cannot be renamed", field.name));
    }
    let lexed = conv_lang::lexer::lex(FileId(0), text);
    let token = lexed
        .tokens
        .iter()
        .find(|(_, sp)| sp.start <= offset && offset < sp.end)
        .or_else(|| lexed.tokens.iter().find(|(_, sp)| sp.start < offset && offset == sp.end));
    match token.map(|(t, _)| *t) {
        Some(t) if t.is_keyword() => {
            let word = token.and_then(|(_, sp)| text.get(sp.start..sp.end)).unwrap_or("");
            Err(format!("`{word}` is a keyword and cannot be renamed"))
        }
        Some(t) if t.is_number() || matches!(t, Token::StrStart | Token::StrText(_) | Token::StrEnd) => {
            Err("a literal cannot be renamed".to_string())
        }
        _ => Ok(None),
    }
}

/// The declaration and the uses of the name at the cursor, in this file: the declaration
/// as a write, the uses as reads.
pub fn highlights(path: &Path, pos: Position, open: &HashMap<PathBuf, String>) -> Option<Vec<DocumentHighlight>> {
    let (_, refs, file) = analyze(path, open);
    let text = &refs.sources.get(file).text;
    let t = Text::new(text);
    let i = refs.symbol_at(file, t.offset(pos))?;
    let s = &refs.symbols[i];
    let mut out: Vec<DocumentHighlight> = refs
        .occurrences(i)
        .into_iter()
        .filter(|(f, _)| *f == file)
        .map(|(_, span)| DocumentHighlight {
            range: t.range(span),
            kind: Some(if s.file == file && span == s.name_span {
                DocumentHighlightKind::WRITE
            } else {
                DocumentHighlightKind::READ
            }),
        })
        .collect();
    out.sort_by_key(|h| (h.range.start.line, h.range.start.character));
    Some(out)
}

pub fn completion(path: &Path, pos: Position, open: &HashMap<PathBuf, String>) -> Option<Vec<CompletionItem>> {
    let (_, refs, file) = analyze(path, open);
    let offset = Text::new(&refs.sources.get(file).text).offset(pos);
    Some(crate::complete::completion(&refs, file, offset))
}

pub fn signature_help(path: &Path, pos: Position, open: &HashMap<PathBuf, String>) -> Option<SignatureHelp> {
    let (_, refs, file) = analyze(path, open);
    let offset = Text::new(&refs.sources.get(file).text).offset(pos);
    crate::signature::signature_help(&refs, file, offset)
}

pub fn inlay_hints(path: &Path, range: Range, open: &HashMap<PathBuf, String>) -> Option<Vec<InlayHint>> {
    let (_, refs, file) = analyze(path, open);
    Some(crate::hints::inlay_hints(&refs, file, range))
}

pub fn format(text: &str) -> Option<Vec<TextEdit>> {
    let parsed = conv_lang::parse(FileId(0), text);
    if parsed.has_errors() {
        return None;
    }
    let formatted = conv_lang::fmt::format(text, &parsed);
    if formatted == text {
        return Some(Vec::new());
    }
    Some(vec![TextEdit::new(text_range(text, Span::new(0, text.len())), formatted)])
}

#[allow(deprecated)]
pub fn symbols(text: &str) -> Vec<DocumentSymbol> {
    let parsed = conv_lang::parse(FileId(0), text);
    let t = Text::new(text);
    let symbol = |name: &str, kind: SymbolKind, span: Span, selection: Span, children: Option<Vec<DocumentSymbol>>| {
        DocumentSymbol {
            name: name.to_string(),
            detail: None,
            kind,
            tags: None,
            deprecated: None,
            range: t.range(span),
            selection_range: t.range(selection),
            children,
        }
    };
    let mut out = Vec::new();
    for item in &parsed.file.items {
        let s = match &item.kind {
            ItemKind::Entity(e) => {
                let children = e
                    .body
                    .entries
                    .iter()
                    .map(|entry| match &entry.kind {
                        EntryKind::Field { key, .. } => {
                            symbol(key.text(), SymbolKind::FIELD, entry.span, key.span(), None)
                        }
                        EntryKind::Nested { kind, name, .. } => symbol(
                            &format!("{} {}", kind.name, name.name),
                            SymbolKind::OBJECT,
                            entry.span,
                            name.span,
                            None,
                        ),
                    })
                    .collect();
                let kind = match e.kind {
                    conv_lang::ast::EntityKind::Environment => SymbolKind::NAMESPACE,
                    conv_lang::ast::EntityKind::Service => SymbolKind::CLASS,
                    conv_lang::ast::EntityKind::Release => SymbolKind::PACKAGE,
                };
                symbol(&e.name.name, kind, item.span, e.name.span, Some(children))
            }
            ItemKind::Fn(f) => symbol(&f.name.name, SymbolKind::FUNCTION, item.span, f.name.span, None),
            ItemKind::Type(ty) => symbol(&ty.name.name, SymbolKind::STRUCT, item.span, ty.name.span, None),
            ItemKind::Enum(e) => symbol(&e.name.name, SymbolKind::ENUM, item.span, e.name.span, None),
            ItemKind::Let(l) => symbol(&l.name.name, SymbolKind::CONSTANT, item.span, l.name.span, None),
            ItemKind::Import(_) => continue,
        };
        out.push(s);
    }
    out
}

/// Semantic tokens from the lexer: keywords, names (types capitalized, functions before
/// `(`, fields before `=`), numbers and units, strings, comments.
pub fn semantic_tokens(text: &str) -> Vec<SemanticToken> {
    let lexed = conv_lang::lexer::lex(FileId(0), text);
    let mut raw: Vec<(usize, usize, u32, u32)> = Vec::new();
    for c in &lexed.comments {
        raw.push((c.span.start, c.span.end, 6, u32::from(c.doc) << 1));
    }
    let tokens = &lexed.tokens;
    for (i, (tok, span)) in tokens.iter().enumerate() {
        let next = tokens.get(i + 1).map(|(t, _)| *t);
        let kind = match tok {
            t if t.is_keyword() => 0,
            Token::Ident(name) if name.starts_with(|c: char| c.is_ascii_uppercase()) => 3,
            Token::Ident(_) if next == Some(Token::LParen) => 2,
            Token::Ident(_) if next == Some(Token::Eq) => 7,
            Token::Ident(_) => 1,
            Token::Int(_) | Token::Float(_) | Token::Duration(_) | Token::Bytes(_) | Token::Percent(_) => 4,
            Token::StrStart | Token::StrText(_) | Token::StrEnd => 5,
            _ => continue,
        };
        if span.end > span.start {
            raw.push((span.start, span.end, kind, 0));
        }
    }
    raw.sort();
    let t = Text::new(text);
    let mut out = Vec::new();
    let (mut line, mut col) = (0u32, 0u32);
    for (start, end, kind, modifiers) in raw {
        let a = t.position(start);
        let b = t.position(end);
        if a.line != b.line {
            continue;
        }
        let delta_line = a.line - line;
        let delta_start = if delta_line == 0 { a.character - col } else { a.character };
        out.push(SemanticToken {
            delta_line,
            delta_start,
            length: b.character - a.character,
            token_type: kind,
            token_modifiers_bitset: modifiers,
        });
        line = a.line;
        col = a.character;
    }
    out
}

pub fn quick_fixes(uri: &Uri, diagnostics: &[Diagnostic]) -> Vec<CodeActionOrCommand> {
    let mut out = Vec::new();
    for d in diagnostics {
        let Some(replacement) = d.data.as_ref().and_then(|v| v.get("replacement")).and_then(|v| v.as_str()) else {
            continue;
        };
        let mut changes = HashMap::new();
        changes.insert(uri.clone(), vec![TextEdit::new(d.range, replacement.to_string())]);
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!("Change to `{replacement}`"),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![d.clone()]),
            edit: Some(WorkspaceEdit { changes: Some(changes), ..Default::default() }),
            is_preferred: Some(true),
            ..Default::default()
        }));
    }
    out
}
