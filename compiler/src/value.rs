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
            Value::List(items) | Value::Record(_, items) if seen.insert(items.as_ptr() as usize) => {
                todo.extend(items.iter());
            }
            Value::Map(entries) if seen.insert(entries.as_ptr() as usize) => {
                todo.extend(entries.iter().map(|(_, v)| v));
            }
            Value::Variant(_, _, Some(payload)) if seen.insert(Rc::as_ptr(payload) as usize) => {
                todo.push(payload);
            }
            _ => {}
        }
    }
    false
}

/// [`contains_error`] over many values that share parts (every release holding the one
/// strategy a call made): a part found free of errors is not walked again. The parts are
/// kept alive here, so that an address it knows is never reused by another value.
#[derive(Default)]
pub struct ErrorScan {
    clean: HashSet<usize>,
    kept: Vec<Value>,
}

impl ErrorScan {
    pub fn contains_error(&mut self, v: &Value) -> bool {
        let mut seen: Vec<(usize, Value)> = Vec::new();
        let mut todo = vec![v.clone()];
        let mut visited: HashSet<usize> = HashSet::default();
        while let Some(v) = todo.pop() {
            // The part's address, and whether another value holds it too (beside the value
            // it is in and the copy walked here): only those can be met again.
            let (key, shared) = match &v {
                Value::Error => return true,
                Value::List(items) | Value::Record(_, items) => (items.as_ptr() as usize, Rc::strong_count(items) > 2),
                Value::Map(entries) => (entries.as_ptr() as usize, Rc::strong_count(entries) > 2),
                Value::Variant(_, _, Some(payload)) => (Rc::as_ptr(payload) as usize, Rc::strong_count(payload) > 2),
                _ => continue,
            };
            if self.clean.contains(&key) || !visited.insert(key) {
                continue;
            }
            match &v {
                Value::List(items) | Value::Record(_, items) => todo.extend(items.iter().cloned()),
                Value::Map(entries) => todo.extend(entries.iter().map(|(_, v)| v.clone())),
                Value::Variant(_, _, Some(payload)) => todo.push((**payload).clone()),
                _ => {}
            }
            if shared {
                seen.push((key, v));
            }
        }
        // Everything walked is free of errors: remembered, with the value that holds it.
        for (key, v) in seen {
            self.clean.insert(key);
            self.kept.push(v);
        }
        false
    }
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

#[cfg(test)]
mod error_scan_tests {
    use super::*;

    #[test]
    fn a_part_found_clean_is_skipped_and_an_error_is_found_every_time() {
        let shared = Value::List(Rc::from(vec![Value::Int(1), Value::Int(2)]));
        let with_error = Value::List(Rc::from(vec![Value::Int(3), Value::Error]));
        let a = Value::List(Rc::from(vec![shared.clone()]));
        let b = Value::List(Rc::from(vec![shared.clone(), with_error.clone()]));
        let c = Value::List(Rc::from(vec![with_error.clone()]));
        let mut scan = ErrorScan::default();
        assert!(!scan.contains_error(&a));
        assert!(scan.contains_error(&b), "a clean part beside an error does not hide it");
        assert!(scan.contains_error(&c), "a part with an error is never remembered as clean");
        assert!(!scan.contains_error(&shared));
    }
}
