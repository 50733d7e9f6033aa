//! The checked program as a small expression language: every name resolved, every record
//! tied to its type, every call to its function. Evaluation walks this, never the syntax.

use crate::types::{EnumId, RecordId};
use crate::value::Value;
use conv_lang::ast::{BinOp, EntityKind};
use conv_lang::{FileId, Span};

/// A declaration of the program: an entity, fn, type, enum or let.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeclId(pub u32);

#[derive(Clone, Debug)]
pub enum Core {
    Value(Value),
    /// A parameter or comprehension variable, by slot in the current frame.
    Local(usize),
    Let(DeclId),
    Entity(EntityKind, std::rc::Rc<str>),
    /// A field of a record value, or of a referenced entity's block, by index in its type.
    Field(Box<Core>, usize),
    List(Vec<Core>),
    Map(Vec<(String, Core)>),
    /// One entry per field of the type; `None` takes the field's default.
    Record(RecordId, Vec<Option<Core>>),
    Variant(EnumId, usize, Option<Box<Core>>),
    /// One entry per parameter; `None` takes the parameter's default.
    Call(DeclId, Vec<Option<Core>>),
    For {
        slot: usize,
        iter: Box<Core>,
        filter: Option<Box<Core>>,
        body: Box<Core>,
    },
    If(Box<Core>, Box<Core>, Box<Core>),
    Binary {
        op: BinOp,
        lhs: Box<Core>,
        rhs: Box<Core>,
        at: (FileId, Span),
    },
    Neg(Box<Core>, (FileId, Span)),
    Not(Box<Core>),
    Interp(Vec<InterpPart>),
    Error,
}

#[derive(Clone, Debug)]
pub enum InterpPart {
    Text(String),
    Value(Core),
}
