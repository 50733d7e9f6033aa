//! The journal: what conv did, durably. Every step's intent is written (and synced) before
//! the step acts, and its outcome after, so a crash, a kill or a power cut loses nothing:
//! the next apply finds the unfinished run, marks its in-flight steps as interrupted and
//! carries on from live state.
//!
//! SQLite in WAL mode under the project's `.conv/journal.db`; the schema is versioned and
//! migrated forward; a journal written by a newer conv is refused, never rewritten.

mod schema;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

pub use schema::SCHEMA_VERSION;

/// Why the journal cannot be used. Each says what to do.
#[derive(Debug)]
pub enum JournalError {
    /// The file is not a journal conv can read (damaged, or not SQLite at all).
    Corrupt { path: String, detail: String },
    /// Another program holds the database locked for longer than conv waits.
    Busy { path: String },
    /// Written by a newer conv: its schema is ahead of this one.
    NewerSchema { path: String, found: u32, supported: u32 },
    /// Anything else the database reports.
    Other(String),
}

impl std::fmt::Display for JournalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JournalError::Corrupt { path, detail } => write!(
                f,
                "the journal {path} is damaged ({detail}); move it aside to start a new one: live state is observed again, nothing is lost on the sites"
            ),
            JournalError::Busy { path } => {
                write!(f, "the journal {path} is locked by another program; try again when it is done")
            }
            JournalError::NewerSchema { path, found, supported } => write!(
                f,
                "the journal {path} was written by a newer conv (schema {found}; this conv reads up to {supported}); upgrade conv"
            ),
            JournalError::Other(detail) => write!(f, "journal error: {detail}"),
        }
    }
}

impl std::error::Error for JournalError {}

fn classify(path: &Path, err: rusqlite::Error) -> JournalError {
    let p = path.display().to_string();
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

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Run {
    pub id: i64,
    pub started_at: u64,
    pub finished_at: Option<u64>,
    /// `running` (or interrupted, when found unfinished), `converged`, `failed`, `paused`.
    pub outcome: String,
    pub summary: String,
    pub host: String,
    pub pid: u32,
    pub user: String,
    pub steps: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Step {
    pub id: i64,
    pub run: i64,
    pub kind: String,
    pub address: String,
    pub detail: String,
    /// `None` while in flight; `ok`, `failed` or `interrupted` after.
    pub outcome: Option<String>,
    pub message: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Holder {
    pub env: String,
    pub host: String,
    pub pid: u32,
    pub user: String,
    pub since: u64,
}

pub struct Journal {
    conn: Connection,
    path: String,
    /// For crash tests: exit the process right after this many writes.
    crash_after: Option<u64>,
    writes: u64,
}

impl Journal {
    /// Opens (creating and migrating) the journal at `path`.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| JournalError::Other(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path).map_err(|e| classify(path, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(|e| classify(path, e))?;
        // WAL survives crashes and lets readers (status, history) run beside an apply;
        // FULL sync makes each intent durable before the step acts.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| classify(path, e))?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(|e| classify(path, e))?;
        schema::migrate(&conn, path).map_err(|e| match e {
            schema::MigrateError::Sql(err) => classify(path, err),
            schema::MigrateError::Newer(found) => {
                JournalError::NewerSchema { path: path.display().to_string(), found, supported: SCHEMA_VERSION }
            }
        })?;
        let crash_after = std::env::var("CONV_CRASH_AFTER_WRITES").ok().and_then(|v| v.parse().ok());
        Ok(Journal { conn, path: path.display().to_string(), crash_after, writes: 0 })
    }

    fn wrote(&mut self) {
        self.writes += 1;
        if self.crash_after == Some(self.writes) {
            // A test asked for a crash here: die as SIGKILL would, with no cleanup.
            std::process::abort();
        }
    }

    fn exec(&mut self, sql: &str, p: impl rusqlite::Params) -> Result<(), JournalError> {
        self.conn.execute(sql, p).map_err(|e| classify(Path::new(&self.path), e))?;
        self.wrote();
        Ok(())
    }

    /// The last run, if it never finished (conv was killed or crashed during it).
    pub fn unfinished_run(&self) -> Result<Option<Run>, JournalError> {
        Ok(self.runs(1)?.into_iter().next().filter(|r| r.finished_at.is_none()))
    }

    /// Marks the steps a crash left in flight as interrupted, and the run as ended.
    pub fn close_interrupted(&mut self, run: i64) -> Result<Vec<Step>, JournalError> {
        let in_flight: Vec<Step> = self.steps(run)?.into_iter().filter(|s| s.outcome.is_none()).collect();
        self.exec(
            "UPDATE steps SET outcome = 'interrupted', outcome_at = ?2, message = 'conv stopped before this step finished' WHERE run = ?1 AND outcome IS NULL",
            params![run, now() as i64],
        )?;
        self.exec(
            "UPDATE runs SET finished_at = ?2, outcome = 'interrupted' WHERE id = ?1",
            params![run, now() as i64],
        )?;
        Ok(in_flight)
    }

    pub fn begin_run(&mut self, summary: &str) -> Result<i64, JournalError> {
        let (host, pid, user) = whoami();
        self.exec(
            "INSERT INTO runs (started_at, outcome, summary, host, pid, user) VALUES (?1, 'running', ?2, ?3, ?4, ?5)",
            params![now() as i64, summary, host, pid, user],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn finish_run(&mut self, run: i64, outcome: &str) -> Result<(), JournalError> {
        self.exec("UPDATE runs SET finished_at = ?2, outcome = ?3 WHERE id = ?1", params![run, now() as i64, outcome])
    }

    /// Records what a step is about to do; durable when this returns.
    pub fn intent(&mut self, run: i64, kind: &str, address: &str, detail: &str) -> Result<i64, JournalError> {
        self.exec(
            "INSERT INTO steps (run, kind, address, detail, intent_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![run, kind, address, detail, now() as i64],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn outcome(&mut self, step: i64, ok: bool, message: &str) -> Result<(), JournalError> {
        self.exec(
            "UPDATE steps SET outcome = ?2, outcome_at = ?3, message = ?4 WHERE id = ?1",
            params![step, if ok { "ok" } else { "failed" }, now() as i64, message],
        )
    }

    /// The version last seen healthy on a site, per service: what rollbacks and drift compare with.
    pub fn set_known_good(
        &mut self,
        env: &str,
        site: &str,
        service: &str,
        version: &str,
        instances: u32,
    ) -> Result<(), JournalError> {
        self.exec(
            "INSERT INTO known_good (env, site, service, version, instances, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (env, site, service) DO UPDATE SET version = excluded.version, instances = excluded.instances, at = excluded.at",
            params![env, site, service, version, instances, now() as i64],
        )
    }

    /// `(env, site, service) -> (version, instances)`
    pub fn known_good(&self) -> Result<Vec<((String, String, String), (String, u32))>, JournalError> {
        let mut stmt = self
            .conn
            .prepare("SELECT env, site, service, version, instances FROM known_good ORDER BY env, site, service")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok(((r.get(0)?, r.get(1)?, r.get(2)?), (r.get(3)?, r.get(4)?))))
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    pub fn record_gate(
        &mut self,
        run: i64,
        stage: &str,
        gate: &str,
        passed: bool,
        reading: &str,
    ) -> Result<(), JournalError> {
        self.exec(
            "INSERT INTO gate_readings (run, stage, gate, passed, reading, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![run, stage, gate, passed, reading, now() as i64],
        )
    }

    pub fn record_approval(&mut self, release: &str, stage: &str, by: &str) -> Result<(), JournalError> {
        self.exec(
            "INSERT INTO approvals (release, stage, by, at) VALUES (?1, ?2, ?3, ?4)",
            params![release, stage, by, now() as i64],
        )
    }

    fn err(&self, e: rusqlite::Error) -> JournalError {
        classify(Path::new(&self.path), e)
    }

    /// The latest runs, newest first.
    pub fn runs(&self, limit: u32) -> Result<Vec<Run>, JournalError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.id, r.started_at, r.finished_at, r.outcome, r.summary, r.host, r.pid, r.user,
                        (SELECT COUNT(*) FROM steps s WHERE s.run = r.id)
                 FROM runs r ORDER BY r.id DESC LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([limit], |r| {
                Ok(Run {
                    id: r.get(0)?,
                    started_at: r.get::<_, i64>(1)? as u64,
                    finished_at: r.get::<_, Option<i64>>(2)?.map(|v| v as u64),
                    outcome: r.get(3)?,
                    summary: r.get(4)?,
                    host: r.get(5)?,
                    pid: r.get(6)?,
                    user: r.get(7)?,
                    steps: r.get::<_, i64>(8)? as u64,
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    pub fn steps(&self, run: i64) -> Result<Vec<Step>, JournalError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, run, kind, address, detail, outcome, COALESCE(message, '') FROM steps WHERE run = ?1 ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([run], |r| {
                Ok(Step {
                    id: r.get(0)?,
                    run: r.get(1)?,
                    kind: r.get(2)?,
                    address: r.get(3)?,
                    detail: r.get(4)?,
                    outcome: r.get(5)?,
                    message: r.get(6)?,
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// The failed deploy steps of the last finished run: `address -> reason`.
    pub fn last_failures(&self) -> Result<Vec<(String, String)>, JournalError> {
        let Some(run) = self.runs(20)?.into_iter().find(|r| r.finished_at.is_some()) else { return Ok(Vec::new()) };
        Ok(self
            .steps(run.id)?
            .into_iter()
            .filter(|s| s.kind == "deploy" && s.outcome.as_deref() == Some("failed"))
            .map(|s| (s.address, s.message))
            .collect())
    }

    /// Takes the lock of every environment, or names who holds one. A holder that died on
    /// this host is stale and its lock is taken over.
    pub fn lock(&mut self, envs: &[String]) -> Result<Result<(), Holder>, JournalError> {
        let (host, pid, user) = whoami();
        let tx = self.conn.transaction().map_err(|e| classify(Path::new(&self.path), e))?;
        for env in envs {
            let holder: Option<Holder> = tx
                .query_row("SELECT env, host, pid, user, since FROM locks WHERE env = ?1", [env], |r| {
                    Ok(Holder {
                        env: r.get(0)?,
                        host: r.get(1)?,
                        pid: r.get(2)?,
                        user: r.get(3)?,
                        since: r.get::<_, i64>(4)? as u64,
                    })
                })
                .optional()
                .map_err(|e| classify(Path::new(&self.path), e))?;
            if let Some(h) = holder {
                let stale = h.host == host && !process_alive(h.pid);
                let mine = h.host == host && h.pid == pid;
                if !stale && !mine {
                    return Ok(Err(h));
                }
            }
            tx.execute(
                "INSERT INTO locks (env, host, pid, user, since) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (env) DO UPDATE SET host = excluded.host, pid = excluded.pid, user = excluded.user, since = excluded.since",
                params![env, host, pid, user, now() as i64],
            )
            .map_err(|e| classify(Path::new(&self.path), e))?;
        }
        tx.commit().map_err(|e| classify(Path::new(&self.path), e))?;
        self.wrote();
        Ok(Ok(()))
    }

    /// Releases this process's locks.
    pub fn unlock_mine(&mut self) -> Result<(), JournalError> {
        let (host, pid, _) = whoami();
        self.exec("DELETE FROM locks WHERE host = ?1 AND pid = ?2", params![host, pid])
    }

    /// `conv unlock ENV --force`: removes a lock whoever holds it; returns the holder.
    pub fn force_unlock(&mut self, env: &str) -> Result<Option<Holder>, JournalError> {
        let holder = self.holders()?.into_iter().find(|h| h.env == env);
        self.exec("DELETE FROM locks WHERE env = ?1", [env])?;
        Ok(holder)
    }

    pub fn holders(&self) -> Result<Vec<Holder>, JournalError> {
        let mut stmt =
            self.conn.prepare("SELECT env, host, pid, user, since FROM locks ORDER BY env").map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Holder {
                    env: r.get(0)?,
                    host: r.get(1)?,
                    pid: r.get(2)?,
                    user: r.get(3)?,
                    since: r.get::<_, i64>(4)? as u64,
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }
}

/// `(host, pid, user)` of this process.
pub fn whoami() -> (String, u32, String) {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    (host, std::process::id(), user)
}

fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            .is_some_and(|s| s != "Z" && s != "X"),
        Err(_) => false,
    }
}
