//! Values: what evaluation produces. Records keep their fields in their type's order.
//!
//! Compound values are shared, not copied: a `let` used by ten thousand services is one
//! list in memory, and reading a field out of an entity costs a reference count.

use crate::hash::HashSet;
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

/// Whether `v` holds an error value anywhere. Values share their parts, so a value can be
/// far larger as a tree than in memory (a chain of `let`s that each list the previous one
/// twice): each shared part is visited once.
pub fn contains_error(v: &Value) -> bool {
    let mut seen: HashSet<usize> = HashSet::default();
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        match v {
            Value::Error => return true,
            Value::List(items) | Value::Record(_, items) => {
                if seen.insert(items.as_ptr() as usize) {
                    todo.extend(items.iter());
                }
            }
            Value::Map(entries) => {
                if seen.insert(entries.as_ptr() as usize) {
                    todo.extend(entries.iter().map(|(_, v)| v));
                }
            }
            Value::Variant(_, _, Some(payload)) => {
                if seen.insert(Rc::as_ptr(payload) as usize) {
                    todo.push(payload);
                }
            }
            _ => {}
        }
    }
    false
}

/// Equality as `==` sees it (an `Int` equals the `Float` of the same number), in time linear
/// in the values' size in memory: a pair of shared parts is compared once.
pub fn equal(a: &Value, b: &Value) -> bool {
    let mut same: HashSet<(usize, usize)> = HashSet::default();
    let mut todo = vec![(a, b)];
    while let Some((a, b)) = todo.pop() {
        let parts = match (a, b) {
            (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => {
                if *x as f64 == *y {
                    continue;
                }
                return false;
            }
            (Value::List(x), Value::List(y)) => (x.as_ptr() as usize, y.as_ptr() as usize, x.len() == y.len()),
            (Value::Record(r, x), Value::Record(s, y)) => {
                (x.as_ptr() as usize, y.as_ptr() as usize, r == s && x.len() == y.len())
            }
            (Value::Map(x), Value::Map(y)) => (x.as_ptr() as usize, y.as_ptr() as usize, x.len() == y.len()),
            (Value::Variant(e, i, Some(x)), Value::Variant(f, j, Some(y))) => {
                (Rc::as_ptr(x) as usize, Rc::as_ptr(y) as usize, e == f && i == j)
            }
            (Value::Variant(_, _, Some(_)), Value::Variant(..))
            | (Value::Variant(..), Value::Variant(_, _, Some(_))) => {
                return false;
            }
            _ => {
                if a == b {
                    continue;
                }
                return false;
            }
        };
        let (x, y, comparable) = parts;
        if !comparable {
            return false;
        }
        if !same.insert((x, y)) {
            continue;
        }
        match (a, b) {
            (Value::List(x), Value::List(y)) | (Value::Record(_, x), Value::Record(_, y)) => {
                todo.extend(x.iter().zip(y.iter()));
            }
            (Value::Map(x), Value::Map(y)) => {
                for ((k, v), (l, w)) in x.iter().zip(y.iter()) {
                    if k != l {
                        return false;
                    }
                    todo.push((v, w));
                }
            }
            (Value::Variant(_, _, Some(x)), Value::Variant(_, _, Some(y))) => todo.push((x, y)),
            _ => {}
        }
    }
    true
}
