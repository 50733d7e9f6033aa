//! Values: what evaluation produces. Records keep their fields in their type's order.
//!
//! Compound values are shared, not copied: a `let` used by ten thousand services is one
//! list in memory, and reading a field out of an entity costs a reference count.

use crate::types::{EnumId, RecordId};
use conv_lang::ast::EntityKind;
use std::rc::Rc;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(Rc<str>),
    /// Milliseconds.
    Duration(u64),
    Bytes(u64),
    /// Percent points.
    Percent(f64),
    List(Rc<[Value]>),
    /// Sorted by key, each key once: most maps hold a few entries, for which a tree's nodes
    /// would be mostly empty.
    Map(Rc<[(Rc<str>, Value)]>),
    Record(RecordId, Rc<[Value]>),
    Variant(EnumId, usize, Option<Rc<Value>>),
    Entity(EntityKind, Rc<str>),
    None,
    /// The value of something that failed and was reported.
    Error,
}

impl Value {
    pub fn is_error(&self) -> bool {
        matches!(self, Value::Error)
    }
}
