//! Values: what evaluation produces. Records keep their fields in their type's order.

use crate::types::{EnumId, RecordId};
use conv_lang::ast::EntityKind;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    /// Milliseconds.
    Duration(u64),
    Bytes(u64),
    /// Percent points.
    Percent(f64),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Record(RecordId, Vec<Value>),
    Variant(EnumId, usize, Option<Box<Value>>),
    Entity(EntityKind, String),
    None,
    /// The value of something that failed and was reported.
    Error,
}

impl Value {
    pub fn is_error(&self) -> bool {
        matches!(self, Value::Error)
    }
}
