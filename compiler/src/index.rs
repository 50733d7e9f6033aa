//! Modules, declarations and scopes: which name means what, in which file.
//!
//! Entities are program-wide; functions, types, enums and lets belong to their file and are
//! reached from other files through `import`. The prelude is visible everywhere.

use crate::codes;
use crate::core::DeclId;
use crate::hash::HashMap;
use crate::suggest;
use crate::types::ModuleId;
use conv_lang::ast::{EntityKind, Import, Item, ItemKind, SourceFile};
use conv_lang::{Diagnostic, FileId, Span};

#[derive(Debug)]
pub struct Module<'a> {
    pub id: ModuleId,
    /// Dotted path: `std.gates`, or `teams.gates` for teams/gates.conv.
    pub path: String,
    pub file: FileId,
    pub ast: &'a SourceFile,
    pub is_std: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeclKind {
    Entity(EntityKind),
    Fn,
    Type,
    Enum,
    Let,
}

#[derive(Debug)]
pub struct Decl<'a> {
    pub id: DeclId,
    pub module: ModuleId,
    pub file: FileId,
    pub name: &'a str,
    pub name_span: Span,
    pub kind: DeclKind,
    pub item: &'a Item,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binding {
    Decl(DeclId),
    Module(ModuleId),
}

#[derive(Debug)]
pub struct Index<'a> {
    pub modules: Vec<Module<'a>>,
    pub decls: Vec<Decl<'a>>,
    /// Per module: its own non-entity declarations.
    own: Vec<HashMap<&'a str, DeclId>>,
    /// Per module: own declarations and imports.
    scopes: Vec<HashMap<&'a str, Binding>>,
    pub entities: HashMap<&'a str, DeclId>,
    prelude: Option<ModuleId>,
    /// Per module: names its imports promised but could not bind (an unknown module or
    /// name). Their uses follow from the import's error and are not reported again.
    failed_imports: Vec<std::collections::HashSet<&'a str>>,
}

/// The modules of parsed files: user files by their module path, the standard library's by
/// its `std.` path.
pub fn module_sources<'a>(
    sources: &crate::Sources,
    parsed: &'a [(FileId, conv_lang::Parsed)],
    std_ids: &[FileId],
) -> Vec<ModuleSource<'a>> {
    parsed
        .iter()
        .map(|(id, p)| {
            let source = sources.get(*id);
            let is_std = std_ids.contains(id);
            let path = if is_std {
                crate::stdlib::MODULES
                    .iter()
                    .find(|(_, name, _)| *name == source.name)
                    .map(|(path, _, _)| path.to_string())
                    .unwrap_or_default()
            } else {
                source.module.clone()
            };
            ModuleSource { path, file: *id, ast: &p.file, is_std }
        })
        .collect()
}

/// One file handed to the index.
pub struct ModuleSource<'a> {
    pub path: String,
    pub file: FileId,
    pub ast: &'a SourceFile,
    pub is_std: bool,
}

impl<'a> Index<'a> {
    pub fn build(sources: Vec<ModuleSource<'a>>, diags: &mut Vec<Diagnostic>) -> Index<'a> {
        let mut index = Index {
            modules: Vec::new(),
            decls: Vec::new(),
            own: Vec::new(),
            scopes: Vec::new(),
            entities: HashMap::default(),
            prelude: None,
            failed_imports: Vec::new(),
        };
        for (i, src) in sources.into_iter().enumerate() {
            let id = ModuleId(i as u32);
            if src.path == crate::stdlib::PRELUDE {
                index.prelude = Some(id);
            }
            index.modules.push(Module { id, path: src.path, file: src.file, ast: src.ast, is_std: src.is_std });
            index.own.push(HashMap::default());
            index.scopes.push(HashMap::default());
            index.failed_imports.push(Default::default());
        }
        for m in 0..index.modules.len() {
            index.declare_module(ModuleId(m as u32), diags);
        }
        for m in 0..index.modules.len() {
            index.resolve_imports(ModuleId(m as u32), diags);
        }
        index.report_import_cycles(diags);
        index
    }

    fn declare_module(&mut self, id: ModuleId, diags: &mut Vec<Diagnostic>) {
        let module = &self.modules[id.0 as usize];
        let (file, ast) = (module.file, module.ast);
        for item in &ast.items {
            let (name, kind) = match &item.kind {
                ItemKind::Import(_) => continue,
                ItemKind::Entity(e) => (&e.name, DeclKind::Entity(e.kind)),
                ItemKind::Fn(f) => (&f.name, DeclKind::Fn),
                ItemKind::Type(t) => (&t.name, DeclKind::Type),
                ItemKind::Enum(e) => (&e.name, DeclKind::Enum),
                ItemKind::Let(l) => (&l.name, DeclKind::Let),
            };
            let decl_id = DeclId(self.decls.len() as u32);
            let table = match kind {
                DeclKind::Entity(_) => &mut self.entities,
                _ => &mut self.own[id.0 as usize],
            };
            if let Some(previous) = table.get(name.name.as_str()) {
                let prev = &self.decls[previous.0 as usize];
                diags.push(
                    Diagnostic::error(
                        &codes::DUPLICATE_NAME,
                        file,
                        name.span,
                        format!("`{}` is declared twice", name.name),
                    )
                    .with_primary_label("declared again here")
                    .with_label(prev.file, prev.name_span, "first declared here")
                    .with_help("rename one of them"),
                );
                continue;
            }
            table.insert(name.name.as_str(), decl_id);
            if !matches!(kind, DeclKind::Entity(_)) {
                self.scopes[id.0 as usize].insert(name.name.as_str(), Binding::Decl(decl_id));
            }
            self.decls.push(Decl { id: decl_id, module: id, file, name: &name.name, name_span: name.span, kind, item });
        }
    }

    fn module_by_path(&self, path: &str) -> Option<ModuleId> {
        self.modules.iter().find(|m| m.path == path).map(|m| m.id)
    }

    fn resolve_imports(&mut self, id: ModuleId, diags: &mut Vec<Diagnostic>) {
        let module = &self.modules[id.0 as usize];
        let (file, ast) = (module.file, module.ast);
        for item in &ast.items {
            let ItemKind::Import(import) = &item.kind else {
                continue;
            };
            let Some(target) = self.import_target(file, import, diags) else {
                let promised = match &import.names {
                    Some(names) => names.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
                    None => import.path.last().map(|l| vec![l.name.as_str()]).unwrap_or_default(),
                };
                self.failed_imports[id.0 as usize].extend(promised);
                continue;
            };
            match &import.names {
                Some(names) => {
                    for name in names {
                        match self.own[target.0 as usize].get(name.name.as_str()) {
                            Some(decl) => self.bind(id, file, &name.name, name.span, Binding::Decl(*decl), diags),
                            None => {
                                diags.push(self.unknown_import(file, target, &name.name, name.span));
                                self.failed_imports[id.0 as usize].insert(name.name.as_str());
                            }
                        }
                    }
                }
                None => {
                    let last = import.path.last().expect("an import path has at least one segment");
                    self.bind(id, file, &last.name, last.span, Binding::Module(target), diags);
                }
            }
        }
    }

    fn import_target(&self, file: FileId, import: &Import, diags: &mut Vec<Diagnostic>) -> Option<ModuleId> {
        let path: Vec<&str> = import.path.iter().map(|p| p.name.as_str()).collect();
        let dotted = path.join(".");
        let span = import.path[0].span.to(import.path[import.path.len() - 1].span);
        match self.module_by_path(&dotted) {
            Some(m) if Some(m) == self.prelude => None,
            Some(m) => Some(m),
            None => {
                let mut diag = Diagnostic::error(&codes::UNKNOWN_MODULE, file, span, format!("no module `{dotted}`"))
                    .with_primary_label("not a module of this program or of the standard library");
                let candidates: Vec<&str> = self.modules.iter().map(|m| m.path.as_str()).collect();
                diag = match suggest::did_you_mean(&dotted, candidates) {
                    Some(hint) => diag.with_help(hint),
                    None => diag.with_help("`import a.b` loads a/b.conv relative to the program root; check the directory, not a single file, to include it"),
                };
                diags.push(diag);
                None
            }
        }
    }

    fn unknown_import(&self, file: FileId, target: ModuleId, name: &str, span: Span) -> Diagnostic {
        let module = &self.modules[target.0 as usize];
        let mut diag =
            Diagnostic::error(&codes::UNKNOWN_IMPORT, file, span, format!("module `{}` has no `{name}`", module.path))
                .with_primary_label("not declared there");
        if self.entities.contains_key(name) {
            diag = diag.with_help(format!("`{name}` is an entity: entities are visible everywhere without an import"));
        } else if let Some(hint) = suggest::did_you_mean(name, self.own[target.0 as usize].keys().copied()) {
            diag = diag.with_help(hint);
        }
        diag
    }

    fn bind(
        &mut self,
        id: ModuleId,
        file: FileId,
        name: &'a str,
        span: Span,
        binding: Binding,
        diags: &mut Vec<Diagnostic>,
    ) {
        let scope = &mut self.scopes[id.0 as usize];
        if let Some(existing) = scope.get(name) {
            if *existing != binding {
                let mut diag = Diagnostic::error(
                    &codes::DUPLICATE_NAME,
                    file,
                    span,
                    format!("`{name}` is already defined in this file"),
                )
                .with_primary_label("imported here")
                .with_help("import it under another path, or rename the local declaration");
                if let Binding::Decl(d) = existing {
                    let d = &self.decls[d.0 as usize];
                    diag = diag.with_label(d.file, d.name_span, "already defined here");
                }
                diags.push(diag);
            }
            return;
        }
        scope.insert(name, binding);
    }

    fn report_import_cycles(&self, diags: &mut Vec<Diagnostic>) {
        let edges: Vec<Vec<(ModuleId, Span)>> = self
            .modules
            .iter()
            .map(|m| {
                m.ast
                    .items
                    .iter()
                    .filter_map(|item| match &item.kind {
                        ItemKind::Import(i) => {
                            let dotted: Vec<&str> = i.path.iter().map(|p| p.name.as_str()).collect();
                            self.module_by_path(&dotted.join(".")).map(|t| (t, item.span))
                        }
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        let graph: Vec<Vec<usize>> = edges.iter().map(|e| e.iter().map(|(m, _)| m.0 as usize).collect()).collect();
        for cycle in crate::cycles::find_cycles(&graph) {
            let first = cycle[0];
            let next = cycle[1 % cycle.len()];
            let span = edges[first].iter().find(|(m, _)| m.0 as usize == next).map(|(_, s)| *s).unwrap_or_default();
            let mut names: Vec<&str> = cycle.iter().map(|m| self.modules[*m].path.as_str()).collect();
            names.push(names[0]);
            diags.push(
                Diagnostic::error(
                    &codes::IMPORT_CYCLE,
                    self.modules[first].file,
                    span,
                    format!("import cycle: {}", names.join(" -> ")),
                )
                .with_primary_label("this import closes the cycle")
                .with_help("move what both modules need into a module of their own"),
            );
        }
    }

    /// What `name` means in `module`: its own declarations and imports, then the entities,
    /// then the prelude.
    pub fn lookup(&self, module: ModuleId, name: &str) -> Option<Binding> {
        if let Some(b) = self.scopes[module.0 as usize].get(name) {
            return Some(*b);
        }
        if let Some(d) = self.entities.get(name) {
            return Some(Binding::Decl(*d));
        }
        let prelude = self.prelude?;
        self.own[prelude.0 as usize].get(name).map(|d| Binding::Decl(*d))
    }

    /// A declaration of `module` itself, for qualified access `module.name`.
    pub fn member(&self, module: ModuleId, name: &str) -> Option<DeclId> {
        self.own[module.0 as usize].get(name).copied()
    }

    /// Every name visible in `module`, for `did you mean`.
    /// Whether `module` tried to import `name` and failed (so its uses are not errors of
    /// their own).
    pub fn failed_import(&self, module: ModuleId, name: &str) -> bool {
        self.failed_imports.get(module.0 as usize).is_some_and(|set| set.contains(name))
    }

    pub fn visible_names(&self, module: ModuleId) -> Vec<&'a str> {
        let mut names: Vec<&'a str> = self.scopes[module.0 as usize].keys().copied().collect();
        names.extend(self.entities.keys().copied());
        if let Some(p) = self.prelude {
            names.extend(self.own[p.0 as usize].keys().copied());
        }
        names
    }

    pub fn decl(&self, id: DeclId) -> &Decl<'a> {
        &self.decls[id.0 as usize]
    }

    pub fn module(&self, id: ModuleId) -> &Module<'a> {
        &self.modules[id.0 as usize]
    }

    pub fn prelude_decl(&self, name: &str) -> Option<DeclId> {
        let p = self.prelude?;
        self.own[p.0 as usize].get(name).copied()
    }
}
