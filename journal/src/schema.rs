//! The journal's schema and its migrations, one step per version.

use rusqlite::Connection;
use std::path::Path;

/// The schema this conv writes.
pub const SCHEMA_VERSION: u32 = 1;

/// Each migration takes the schema from its index to the next version.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        outcome TEXT NOT NULL,
        summary TEXT NOT NULL,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        user TEXT NOT NULL
    );
    CREATE TABLE steps (
        id INTEGER PRIMARY KEY,
        run INTEGER NOT NULL REFERENCES runs(id),
        kind TEXT NOT NULL,
        address TEXT NOT NULL,
        detail TEXT NOT NULL,
        intent_at INTEGER NOT NULL,
        outcome TEXT,
        outcome_at INTEGER,
        message TEXT
    );
    CREATE INDEX steps_by_run ON steps(run);
    CREATE TABLE known_good (
        env TEXT NOT NULL, site TEXT NOT NULL, service TEXT NOT NULL,
        version TEXT NOT NULL, instances INTEGER NOT NULL, at INTEGER NOT NULL,
        PRIMARY KEY (env, site, service)
    );
    CREATE TABLE approvals (release TEXT NOT NULL, stage TEXT NOT NULL, by TEXT NOT NULL, at INTEGER NOT NULL);
    CREATE TABLE gate_readings (
        run INTEGER NOT NULL, stage TEXT NOT NULL, gate TEXT NOT NULL,
        passed INTEGER NOT NULL, reading TEXT NOT NULL, at INTEGER NOT NULL
    );
    CREATE TABLE locks (env TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, user TEXT NOT NULL, since INTEGER NOT NULL);",
];

pub enum MigrateError {
    Sql(rusqlite::Error),
    Newer(u32),
}

pub fn migrate(conn: &Connection, _path: &Path) -> Result<(), MigrateError> {
    let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(MigrateError::Sql)?;
    if version > SCHEMA_VERSION {
        return Err(MigrateError::Newer(version));
    }
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.unchecked_transaction().map_err(MigrateError::Sql)?;
        tx.execute_batch(sql).map_err(MigrateError::Sql)?;
        tx.pragma_update(None, "user_version", from as u32 + 1).map_err(MigrateError::Sql)?;
        tx.commit().map_err(MigrateError::Sql)?;
    }
    Ok(())
}
