//! The conv compiler: from source files to a checked, resolved program.
//!
//! Pure: source text comes in through [`Sources`], diagnostics and values come out. The CLI
//! and the language server do the reading and the showing.
//!
//! The pipeline: parse every file, index modules and declarations (names and imports),
//! elaborate (type check into a core program), evaluate, extract the resolved
//! `conv_model::Program`, then validate the rollout as a whole.

pub mod codes;
pub mod core;
pub mod cycles;
pub mod depth;
pub mod elab;
pub mod eval;
pub mod extract;
pub mod hash;
pub mod index;
pub mod refs;
pub mod sources;
pub mod spans;
pub mod stdlib;
pub mod suggest;
pub mod types;
pub mod validate;
pub mod value;

pub use sources::{Source, Sources};

use conv_lang::{Diagnostic, FileId, Parsed, Span};
use conv_model::Program;

/// What checking a program produced.
#[derive(Debug)]
pub struct Checked {
    /// The parsed user files, in the order of [`Sources`].
    pub parsed: Vec<Parsed>,
    /// Every diagnostic, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// The resolved program, when there are no errors.
    pub program: Option<Program>,
    /// Every file the diagnostics may point into: the user's and the standard library's.
    pub sources: Sources,
}

impl Checked {
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }
}

/// The standard library's files, added after the user's so user file ids stay 0..n.
pub fn add_stdlib(sources: &mut Sources) -> Vec<FileId> {
    stdlib::MODULES.iter().map(|(_, name, text)| sources.add_std(name, text)).collect()
}

/// Runs the whole pipeline over a program. `sources` should hold the user's files; the
/// standard library is added here.
pub fn check(sources: &Sources) -> Checked {
    check_with(sources, &[])
}

/// A `--set NAME=VALUE` from the command line: replaces the value of the program's `let NAME`
/// with the string VALUE, as if it were written in the file.
#[derive(Clone, Debug)]
pub struct Override {
    pub name: String,
    pub value: String,
}

/// What `--set NAME=VALUE` puts in place of a `let`'s value: a literal of the same kind when
/// the `let` holds a number, duration, percentage or boolean literal and VALUE is one
/// (`--set bake=30s`), else the string VALUE.
fn override_value(current: &conv_lang::ast::ExprKind, value: &str) -> conv_lang::ast::ExprKind {
    use conv_lang::ast::{ExprKind, ItemKind, StrPart};
    let as_string = || ExprKind::Str(vec![StrPart::Text(value.into())]);
    if !matches!(current, ExprKind::Literal(_)) {
        return as_string();
    }
    let parsed = conv_lang::parse(FileId(u32::MAX), &format!("let override = {value}\n"));
    if !parsed.diagnostics.is_empty() {
        return as_string();
    }
    match parsed.file.items.into_iter().next().map(|i| i.kind) {
        Some(ItemKind::Let(l)) if matches!(l.value.kind, ExprKind::Literal(_)) => l.value.kind,
        _ => as_string(),
    }
}

/// The `let`s of the user's files that `--set` can override.
pub fn let_names(sources: &Sources) -> Vec<String> {
    let mut names = Vec::new();
    for s in sources.iter() {
        for item in conv_lang::parse(s.id, &s.text).file.items {
            if let conv_lang::ast::ItemKind::Let(l) = item.kind {
                names.push(l.name.name.to_string());
            }
        }
    }
    names
}

/// ` (did you mean `x`?)` for an override that names no `let`.
pub fn override_hint(sources: &Sources, name: &str) -> Option<String> {
    let names = let_names(sources);
    suggest::did_you_mean(name, names.iter().map(String::as_str))
}

/// Overrides naming no `let` of the program.
pub fn unknown_overrides<'o>(sources: &Sources, overrides: &'o [Override]) -> Vec<&'o str> {
    overrides
        .iter()
        .filter(|o| {
            !sources.iter().any(|s| {
                conv_lang::parse(s.id, &s.text)
                    .file
                    .items
                    .iter()
                    .any(|i| matches!(&i.kind, conv_lang::ast::ItemKind::Let(l) if l.name.name == o.name))
            })
        })
        .map(|o| o.name.as_str())
        .collect()
}

/// [`check`] with `let` overrides applied to the user's files.
pub fn check_with(sources: &Sources, overrides: &[Override]) -> Checked {
    suggest::reset_budget();
    let mut all = sources.clone();
    let std_ids = add_stdlib(&mut all);
    let mut diagnostics: Vec<Diagnostic> = all.load_diagnostics().to_vec();
    let mut parsed: Vec<(FileId, Parsed)> = all.iter().map(|s| (s.id, conv_lang::parse(s.id, &s.text))).collect();
    for (id, p) in &mut parsed {
        if std_ids.contains(id) {
            continue;
        }
        for item in &mut p.file.items {
            if let conv_lang::ast::ItemKind::Let(l) = &mut item.kind
                && let Some(o) = overrides.iter().find(|o| o.name == l.name.name)
            {
                l.value.kind = override_value(&l.value.kind, &o.value);
            }
        }
    }
    for (_, p) in &parsed {
        diagnostics.extend(p.diagnostics.iter().cloned());
    }
    let syntax_errors = diagnostics.iter().any(Diagnostic::is_error);

    let modules = index::module_sources(&all, &parsed, &std_ids);
    let mut front = Vec::new();
    let index = index::Index::build(modules, &mut front);
    let (elaborated, elab_diags) = elab::elaborate(&index);
    front.extend(elab_diags);

    let spans = spans::EntitySpans::new(parsed.iter().map(|(id, p)| (*id, p.file.items.as_slice())));
    let mut evaluator = eval::Evaluator::new(&elaborated, &index);
    let mut extractor = extract::Extractor {
        ev: &mut evaluator,
        elab: &elaborated,
        spans: &spans,
        diags: Vec::new(),
        errors: Default::default(),
    };
    let program = extractor.program();
    let extract_diags = std::mem::take(&mut extractor.diags);
    // Every `let` is evaluated, used or not, so its errors are reported.
    for decl in &index.decls {
        if decl.kind == index::DeclKind::Let {
            evaluator.let_value(decl.id);
        }
    }
    front.append(&mut evaluator.diags);
    front.extend(extract_diags);
    // A declaration with a syntax error is reported for that error alone: what the checker
    // would say about it (a field "missing" because its line did not parse) follows from it.
    let broken = broken_declarations(&parsed);
    front.retain(|d| !broken.iter().any(|(file, span)| *file == d.primary.file && span.contains(d.primary.span.start)));

    let clean = !syntax_errors && !front.iter().any(Diagnostic::is_error);
    if clean {
        front.extend(validate::validate(&program, &spans));
    }
    diagnostics.extend(front);
    conv_lang::diagnostic::sort_diagnostics(&mut diagnostics);
    diagnostics.dedup();
    let ok = !diagnostics.iter().any(Diagnostic::is_error);
    let user_parsed = parsed.into_iter().filter(|(id, _)| !std_ids.contains(id)).map(|(_, p)| p).collect();
    Checked { parsed: user_parsed, diagnostics, program: ok.then_some(program), sources: all }
}

/// The spans of the declarations that hold a syntax error.
fn broken_declarations(parsed: &[(FileId, Parsed)]) -> Vec<(FileId, Span)> {
    let mut broken = Vec::new();
    for (file, p) in parsed {
        for d in p.diagnostics.iter().filter(|d| d.is_error()) {
            let at = d.primary.span.start;
            let items = &p.file.items;
            let i = items.partition_point(|item| item.span.end <= at);
            if let Some(item) = items.get(i).filter(|item| item.span.start <= at) {
                broken.push((*file, item.span));
            }
        }
    }
    broken
}
