//! The embedded backend: SQLite in WAL mode, each write synced before it returns.

use crate::JournalError;
use crate::backend::{Backend, Value};
use crate::schema;
use rusqlite::Connection;
use std::path::Path;

pub struct Sqlite {
    conn: Connection,
    path: String,
}

fn classify(path: &str, err: rusqlite::Error) -> JournalError {
    let p = path.to_string();
    match &err {
        rusqlite::Error::SqliteFailure(e, _) => match e.code {
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => JournalError::Busy { path: p },
            rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt => {
                JournalError::Corrupt { path: p, detail: err.to_string() }
            }
            _ => JournalError::Other(err.to_string()),
        },
        _ => JournalError::Other(err.to_string()),
    }
}

fn bind(params: &[Value]) -> Vec<rusqlite::types::Value> {
    params
        .iter()
        .map(|v| match v {
            Value::Int(i) => rusqlite::types::Value::Integer(*i),
            Value::Text(s) => rusqlite::types::Value::Text(s.clone()),
            Value::Null => rusqlite::types::Value::Null,
        })
        .collect()
}

impl Sqlite {
    pub fn open(path: &Path) -> Result<Sqlite, JournalError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| JournalError::Other(format!("cannot create {}: {e}", dir.display())))?;
        }
        let p = path.display().to_string();
        let conn = Connection::open(path).map_err(|e| classify(&p, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(|e| classify(&p, e))?;
        // WAL survives crashes and lets readers (status, history) run beside an apply; FULL
        // sync makes each intent durable before the step acts.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| classify(&p, e))?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(|e| classify(&p, e))?;
        let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| classify(&p, e))?;
        if version > schema::SCHEMA_VERSION {
            return Err(JournalError::NewerSchema { path: p, found: version, supported: schema::SCHEMA_VERSION });
        }
        for (from, sql) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.unchecked_transaction().map_err(|e| classify(&p, e))?;
            tx.execute_batch(sql).map_err(|e| classify(&p, e))?;
            tx.pragma_update(None, "user_version", from as u32 + 1).map_err(|e| classify(&p, e))?;
            tx.commit().map_err(|e| classify(&p, e))?;
        }
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Sqlite { conn, path: p })
    }
}

impl Backend for Sqlite {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<(), JournalError> {
        // Cached: a run repeats a few statements hundreds of thousands of times.
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| classify(&self.path, e))?;
        stmt.execute(rusqlite::params_from_iter(bind(params))).map(|_| ()).map_err(|e| classify(&self.path, e))
    }

    fn insert(&mut self, sql: &str, params: &[Value]) -> Result<i64, JournalError> {
        self.execute(sql, params)?;
        Ok(self.conn.last_insert_rowid())
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, JournalError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| classify(&self.path, e))?;
        let columns = stmt.column_count();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(bind(params)), |row| {
                (0..columns)
                    .map(|i| {
                        Ok(match row.get::<_, rusqlite::types::Value>(i)? {
                            rusqlite::types::Value::Integer(n) => Value::Int(n),
                            rusqlite::types::Value::Text(s) => Value::Text(s),
                            rusqlite::types::Value::Real(f) => Value::Int(f as i64),
                            _ => Value::Null,
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|e| classify(&self.path, e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| classify(&self.path, e))?;
        Ok(rows)
    }

    fn begin_locking(&mut self) -> Result<(), JournalError> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| classify(&self.path, e))
    }

    fn begin(&mut self) -> Result<(), JournalError> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| classify(&self.path, e))
    }

    fn commit(&mut self) -> Result<(), JournalError> {
        self.conn.execute_batch("COMMIT").map_err(|e| classify(&self.path, e))
    }

    fn rollback(&mut self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    fn describe(&self) -> String {
        self.path.clone()
    }
}
