//! The two places a journal can live: an embedded SQLite file (one person, one machine) and a
//! PostgreSQL database (a team's CI and laptops sharing one state and one set of locks). The
//! journal's queries are written once, with `?N` placeholders; each backend runs them.

use crate::JournalError;

/// A value passed to or read from a query.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Text(String),
    Null,
}

impl Value {
    pub fn int(&self) -> i64 {
        match self {
            Value::Int(i) => *i,
            _ => 0,
        }
    }

    pub fn opt_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn text(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Null => String::new(),
        }
    }

    pub fn opt_text(&self) -> Option<String> {
        match self {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(v as i64)
    }
}
impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Int(v as i64)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(v as i64)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

pub trait Backend: Send {
    /// Runs a statement.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<(), JournalError>;
    /// Runs an INSERT and returns the new row's `id`.
    fn insert(&mut self, sql: &str, params: &[Value]) -> Result<i64, JournalError>;
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, JournalError>;
    /// Starts a transaction that holds the locks table against other writers.
    fn begin_locking(&mut self) -> Result<(), JournalError>;
    /// Starts a transaction for a batch of writes.
    fn begin(&mut self) -> Result<(), JournalError>;
    fn commit(&mut self) -> Result<(), JournalError>;
    fn rollback(&mut self);
    /// Where it is, for messages.
    fn describe(&self) -> String;
}
