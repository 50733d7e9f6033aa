//! Types as the checker sees them, and the table of record and enum types of a program.

use conv_lang::ast::EntityKind;
use conv_lang::ast::Expr;
use conv_lang::{FileId, Span};
use std::fmt;
use std::rc::Rc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnumId(pub u32);

/// A module of the program: a file, or a module of the standard library.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleId(pub u32);

#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    Int,
    Float,
    Bool,
    String,
    Duration,
    Bytes,
    Percent,
    // Shared, so that passing types around while checking does not allocate.
    List(Rc<Ty>),
    Map(Rc<Ty>),
    Optional(Rc<Ty>),
    Record(RecordId),
    Enum(EnumId),
    Entity(EntityKind),
    /// The type of something already reported: compatible with everything, so one mistake
    /// is reported once.
    Error,
}

/// A field of a record type, or of an enum variant's payload.
#[derive(Clone, Debug)]
pub struct FieldTy<'a> {
    pub name: String,
    pub ty: Ty,
    /// The default expression and the module whose names it sees.
    pub default: Option<(ModuleId, &'a Expr)>,
    pub doc: Option<String>,
    pub file: FileId,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct RecordTy<'a> {
    /// `None` for an anonymous record type.
    pub name: Option<String>,
    /// Shared, so that checking a block does not copy its type's fields.
    pub fields: std::rc::Rc<[FieldTy<'a>]>,
    /// Field positions by name, for records with many fields: looking each one up in turn
    /// would make checking a large record literal quadratic.
    by_name: Option<Rc<crate::hash::HashMap<String, usize>>>,
}

impl<'a> RecordTy<'a> {
    /// Records with more fields than this get an index of their names.
    const INDEXED: usize = 16;

    pub fn new(name: Option<String>, fields: Vec<FieldTy<'a>>) -> Self {
        let by_name = (fields.len() > Self::INDEXED).then(|| {
            let mut map = crate::hash::HashMap::default();
            for (i, f) in fields.iter().enumerate() {
                map.entry(f.name.clone()).or_insert(i);
            }
            Rc::new(map)
        });
        RecordTy { name, fields: fields.into(), by_name }
    }

    pub fn field(&self, name: &str) -> Option<(usize, &FieldTy<'a>)> {
        match &self.by_name {
            Some(map) => map.get(name).map(|&i| (i, &self.fields[i])),
            None => self.fields.iter().enumerate().find(|(_, f)| f.name == name),
        }
    }
}

#[derive(Clone, Debug)]
pub struct VariantTy {
    pub name: String,
    pub payload: Option<RecordId>,
    pub doc: Option<String>,
}

#[derive(Clone, Debug)]
pub struct EnumTy {
    pub name: String,
    pub variants: Vec<VariantTy>,
}

impl EnumTy {
    pub fn variant(&self, name: &str) -> Option<(usize, &VariantTy)> {
        self.variants.iter().enumerate().find(|(_, v)| v.name == name)
    }
}

#[derive(Debug, Default)]
pub struct TypeTable<'a> {
    pub records: Vec<RecordTy<'a>>,
    pub enums: Vec<EnumTy>,
}

impl<'a> TypeTable<'a> {
    pub fn add_record(&mut self, record: RecordTy<'a>) -> RecordId {
        self.records.push(record);
        RecordId(self.records.len() as u32 - 1)
    }

    pub fn add_enum(&mut self, e: EnumTy) -> EnumId {
        self.enums.push(e);
        EnumId(self.enums.len() as u32 - 1)
    }

    pub fn record(&self, id: RecordId) -> &RecordTy<'a> {
        &self.records[id.0 as usize]
    }

    pub fn enum_ty(&self, id: EnumId) -> &EnumTy {
        &self.enums[id.0 as usize]
    }

    /// `ty` as users write it: `List[Duration]`, `Gate?`, `{ a: Int }`.
    pub fn show(&self, ty: &Ty) -> String {
        let mut out = String::new();
        self.show_into(ty, 0, &mut out);
        out
    }

    /// Anonymous records nested deeper than this, and fields past [`SHOWN_FIELDS`], are
    /// shown as `...`: a message stays short however large the type (and showing a type in
    /// every message takes no time proportional to a chain of aliases).
    fn show_into(&self, ty: &Ty, depth: usize, out: &mut String) {
        const SHOWN_DEPTH: usize = 3;
        const SHOWN_FIELDS: usize = 8;
        // Lists, maps and optionals nest at most `depth::MAX_TYPE_DEPTH` deep.
        let mut closers = String::new();
        let mut at = ty;
        loop {
            match at {
                Ty::List(t) => {
                    out.push_str("List[");
                    closers.insert(0, ']');
                    at = t;
                }
                Ty::Map(t) => {
                    out.push_str("Map[");
                    closers.insert(0, ']');
                    at = t;
                }
                Ty::Optional(t) => {
                    closers.insert(0, '?');
                    at = t;
                }
                _ => break,
            }
        }
        match at {
            Ty::Int => out.push_str("Int"),
            Ty::Float => out.push_str("Float"),
            Ty::Bool => out.push_str("Bool"),
            Ty::String => out.push_str("String"),
            Ty::Duration => out.push_str("Duration"),
            Ty::Bytes => out.push_str("ByteSize"),
            Ty::Percent => out.push_str("Percent"),
            Ty::Record(id) => {
                let r = self.record(*id);
                match &r.name {
                    Some(n) => out.push_str(n),
                    None if depth >= SHOWN_DEPTH => out.push_str("{ ... }"),
                    None => {
                        out.push_str("{ ");
                        for (i, f) in r.fields.iter().enumerate() {
                            if i == SHOWN_FIELDS {
                                out.push_str(", ...");
                                break;
                            }
                            if i > 0 {
                                out.push_str(", ");
                            }
                            out.push_str(&f.name);
                            out.push_str(": ");
                            self.show_into(&f.ty, depth + 1, out);
                        }
                        out.push_str(" }");
                    }
                }
            }
            Ty::Enum(id) => out.push_str(&self.enum_ty(*id).name),
            Ty::Entity(kind) => out.push_str(entity_type_name(*kind)),
            Ty::Error => out.push('?'),
            Ty::List(_) | Ty::Map(_) | Ty::Optional(_) => {}
        }
        out.push_str(&closers);
    }

    /// Whether a value of type `actual` may stand where `expected` is required.
    pub fn assignable(&self, actual: &Ty, expected: &Ty) -> bool {
        conv_lang::stack::grow(|| {
            match (actual, expected) {
                (Ty::Error, _) | (_, Ty::Error) => true,
                (Ty::Int, Ty::Float) => true,
                (a, Ty::Optional(inner)) if !matches!(a, Ty::Optional(_)) => self.assignable(a, inner),
                (Ty::Optional(a), Ty::Optional(b)) => self.assignable(a, b),
                (Ty::List(a), Ty::List(b)) | (Ty::Map(a), Ty::Map(b)) => self.assignable(a, b),
                (Ty::Record(a), Ty::Record(b)) if a != b => {
                    // Anonymous records are structural; named ones are nominal.
                    let (ra, rb) = (self.record(*a), self.record(*b));
                    ra.name.is_none()
                        && rb.fields.iter().all(|f| match ra.field(&f.name) {
                            Some((_, af)) => self.assignable(&af.ty, &f.ty),
                            None => f.default.is_some(),
                        })
                        && ra.fields.iter().all(|f| rb.field(&f.name).is_some())
                }
                (a, b) => a == b,
            }
        })
    }
}

/// `an Int`, `a Duration`, `a { stages: List[?] }`: a type's name as a label says it.
pub fn with_article(name: &str) -> String {
    let vowel = name.chars().next().is_some_and(|c| "AEIOUaeiou".contains(c));
    format!("{} {name}", if vowel { "an" } else { "a" })
}

pub fn entity_type_name(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Environment => "Environment",
        EntityKind::Service => "Service",
        EntityKind::Release => "Release",
    }
}

impl fmt::Display for ModuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "module#{}", self.0)
    }
}
