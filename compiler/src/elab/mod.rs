//! Elaboration: type checking that produces the core program.
//!
//! Types flow both ways (bidirectional): declarations are typed by their kind or annotation
//! and push the expected type into their values; everything else is inferred. Each
//! expression is checked once, and the result is the core expression evaluation runs.

mod decls;
mod exprs;
mod guard;
mod ops;
mod records;

use crate::core::{Core, DeclId};
use crate::hash::{HashMap, HashSet};
use crate::index::Index;
use crate::types::{ModuleId, RecordId, Ty, TypeTable};
use conv_lang::ast::{EntityKind, Expr};
use conv_lang::{Diagnostic, FileId, Span};
use std::rc::Rc;

/// A function's signature and checked body.
#[derive(Debug)]
pub struct FnInfo<'a> {
    pub params: Vec<ParamInfo<'a>>,
    pub ret: Ty,
    pub body: Core,
}

#[derive(Debug, Clone)]
pub struct ParamInfo<'a> {
    pub name: String,
    pub ty: Ty,
    pub default: Option<&'a Expr>,
    pub span: Span,
}

/// An entity with its checked body: a record of its schema type.
#[derive(Debug)]
pub struct EntityInfo {
    pub decl: DeclId,
    pub kind: EntityKind,
    pub name: String,
    pub file: FileId,
    pub name_span: Span,
    pub body: Core,
}

/// Everything evaluation needs.
#[derive(Debug)]
pub struct Elaborated<'a> {
    pub types: TypeTable<'a>,
    pub fns: HashMap<DeclId, FnInfo<'a>>,
    pub lets: HashMap<DeclId, Core>,
    pub entities: Vec<EntityInfo>,
    pub recursive_fns: HashSet<DeclId>,
    pub record_defaults: HashMap<(RecordId, usize), Core>,
    pub param_defaults: HashMap<(DeclId, usize), Core>,
    pub schemas: Schemas,
}

/// The prelude records that type entity blocks.
#[derive(Debug, Clone, Copy)]
pub struct Schemas {
    pub environment: Option<RecordId>,
    pub service: Option<RecordId>,
    pub release: Option<RecordId>,
}

impl Schemas {
    pub fn of(&self, kind: EntityKind) -> Option<RecordId> {
        match kind {
            EntityKind::Environment => self.environment,
            EntityKind::Service => self.service,
            EntityKind::Release => self.release,
        }
    }
}

#[derive(Debug, Clone)]
enum LetState {
    InProgress,
    Done(Ty),
}

pub(crate) struct Elab<'a, 'i> {
    index: &'i Index<'a>,
    types: TypeTable<'a>,
    diags: Vec<Diagnostic>,
    /// Types of `type` and `enum` declarations, once resolved.
    decl_types: HashMap<DeclId, Ty>,
    /// The declarations whose type is an enum (enums, and aliases of one once resolved), in
    /// the order they were found, and per module how many of them it has looked at and
    /// which enums it sees: a record literal with a tag and nothing to expect looks for
    /// its variant among them, and going through every name in scope each time would cost
    /// time quadratic in the size of the program.
    enum_decls: Vec<DeclId>,
    enums_seen: HashMap<ModuleId, (usize, Vec<crate::types::EnumId>)>,
    aliases_in_progress: HashSet<DeclId>,
    /// Shared, so that checking a call does not copy its function's parameters.
    sigs: HashMap<DeclId, Rc<(Vec<ParamInfo<'a>>, Ty)>>,
    fn_bodies: HashMap<DeclId, Core>,
    let_states: HashMap<DeclId, LetState>,
    let_cores: HashMap<DeclId, Core>,
    let_stack: Vec<DeclId>,
    record_defaults: HashMap<(RecordId, usize), Core>,
    param_defaults: HashMap<(DeclId, usize), Core>,
    defaults_in_progress: HashSet<(RecordId, usize)>,
    schemas: Schemas,
    /// Where names are looked up now.
    module: ModuleId,
    file: FileId,
    /// Parameters and comprehension variables in scope, innermost last.
    locals: Vec<(String, Ty)>,
    /// How deep checking has recursed, through expressions and declarations alike.
    depth: crate::depth::Depth,
}

pub fn elaborate<'a>(index: &Index<'a>) -> (Elaborated<'a>, Vec<Diagnostic>) {
    let mut elab = Elab {
        index,
        types: TypeTable::default(),
        diags: Vec::new(),
        decl_types: HashMap::default(),
        enum_decls: Vec::new(),
        enums_seen: HashMap::default(),
        aliases_in_progress: HashSet::default(),
        sigs: HashMap::default(),
        fn_bodies: HashMap::default(),
        let_states: HashMap::default(),
        let_cores: HashMap::default(),
        let_stack: Vec::new(),
        record_defaults: HashMap::default(),
        param_defaults: HashMap::default(),
        defaults_in_progress: HashSet::default(),
        schemas: Schemas { environment: None, service: None, release: None },
        module: ModuleId(0),
        file: FileId(0),
        locals: Vec::new(),
        depth: crate::depth::Depth::default(),
    };
    elab.declare_types();
    elab.declare_signatures();
    elab.find_schemas();
    elab.check_lets();
    elab.check_fn_bodies();
    let entities = elab.check_entities();
    elab.check_all_defaults();
    let recursive_fns = elab.report_recursion();
    let fns = elab
        .sigs
        .drain()
        .map(|(id, sig)| {
            let (params, ret) = Rc::unwrap_or_clone(sig);
            let body = elab.fn_bodies.remove(&id).unwrap_or(Core::Error);
            (id, FnInfo { params, ret, body })
        })
        .collect();
    let out = Elaborated {
        types: elab.types,
        fns,
        lets: elab.let_cores,
        entities,
        recursive_fns,
        record_defaults: elab.record_defaults,
        param_defaults: elab.param_defaults,
        schemas: elab.schemas,
    };
    (out, elab.diags)
}

impl<'a> Elab<'a, '_> {
    /// Runs `f` with names looked up in `module`, with no locals in scope.
    fn in_module<T>(&mut self, module: ModuleId, f: impl FnOnce(&mut Self) -> T) -> T {
        let saved = (self.module, self.file, std::mem::take(&mut self.locals));
        self.module = module;
        self.file = self.index.module(module).file;
        let out = f(self);
        self.module = saved.0;
        self.file = saved.1;
        self.locals = saved.2;
        out
    }

    fn show(&self, ty: &Ty) -> String {
        self.types.show(ty)
    }

    fn error(&mut self, diag: Diagnostic) {
        self.diags.push(diag);
    }
}
