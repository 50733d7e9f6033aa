//! The journal: what conv did, durably. Every step's intent is written (and synced) before
//! the step acts, and its outcome after, so a crash, a kill or a power cut loses nothing:
//! the next apply finds the unfinished run, marks its in-flight steps as interrupted and
//! carries on from live state.
//!
//! SQLite in WAL mode under the project's `.conv/journal.db`; the schema is versioned and
//! migrated forward; a journal written by a newer conv is refused, never rewritten.

mod backend;
mod pg;
mod pg_tls;
mod schema;
mod sqlite;

use backend::{Backend, Value};
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
    /// The team journal's PostgreSQL server cannot be reached.
    Unreachable { url: String, detail: String },
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
            JournalError::Unreachable { url, detail } => write!(
                f,
                "cannot reach the team journal at {url} ({detail}); check the server, or remove the team journal setting (CONV_JOURNAL_URL or `journal` in conv.json) to use the local journal"
            ),
            JournalError::Other(detail) => write!(f, "journal error: {detail}"),
        }
    }
}

impl std::error::Error for JournalError {}

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

/// How a stage of a release last ended, for the versions it judged: `running` while a run is
/// in it (so a kill leaves it unjudged), then `converged`, `failed` or `paused`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StageResult {
    pub release: String,
    pub stage: String,
    pub env: String,
    /// The release's service versions the stage ran with (`api=1.2.0,db=2.0.1`).
    pub versions: String,
    pub state: String,
    pub run: i64,
    pub reason: String,
    pub recorded_at: u64,
}

/// One event of a run's event stream, as the engine emitted it (`body` is its JSON line).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EventRow {
    pub id: i64,
    pub run: i64,
    pub at_ms: u64,
    pub kind: String,
    pub body: String,
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
    db: Box<dyn Backend>,
    /// For crash tests: exit the process right after this many writes.
    crash_after: Option<u64>,
    writes: u64,
    /// Inside `batch`: the batch counts as one write, at its commit.
    in_batch: bool,
}

impl Journal {
    /// Opens (creating and migrating) the SQLite journal at `path`.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        Ok(Journal::with(Box::new(sqlite::Sqlite::open(path)?)))
    }

    /// Opens (creating and migrating) a team journal in PostgreSQL.
    pub fn open_postgres(url: &str) -> Result<Journal, JournalError> {
        Ok(Journal::with(Box::new(pg::Postgres::open(url)?)))
    }

    fn with(db: Box<dyn Backend>) -> Journal {
        let crash_after = std::env::var("CONV_CRASH_AFTER_WRITES").ok().and_then(|v| v.parse().ok());
        Journal { db, crash_after, writes: 0, in_batch: false }
    }

    /// Where the journal lives, for messages.
    pub fn location(&self) -> String {
        self.db.describe()
    }

    fn wrote(&mut self) {
        if self.in_batch {
            return;
        }
        self.writes += 1;
        if self.crash_after == Some(self.writes) {
            // A test asked for a crash here: die as SIGKILL would, with no cleanup.
            std::process::abort();
        }
    }

    /// Runs `f`'s writes in one transaction, durable together when this returns (one sync
    /// for many steps); any error rolls all of them back.
    pub fn batch<T>(&mut self, f: impl FnOnce(&mut Journal) -> Result<T, JournalError>) -> Result<T, JournalError> {
        self.db.begin()?;
        self.in_batch = true;
        let result = f(self);
        self.in_batch = false;
        match result {
            Ok(value) => {
                self.db.commit()?;
                self.wrote();
                Ok(value)
            }
            Err(e) => {
                self.db.rollback();
                Err(e)
            }
        }
    }

    fn exec(&mut self, sql: &str, p: &[Value]) -> Result<(), JournalError> {
        self.db.execute(sql, p)?;
        self.wrote();
        Ok(())
    }

    fn insert(&mut self, sql: &str, p: &[Value]) -> Result<i64, JournalError> {
        let id = self.db.insert(sql, p)?;
        self.wrote();
        Ok(id)
    }

    /// The last run, if it never finished (conv was killed or crashed during it).
    pub fn unfinished_run(&mut self) -> Result<Option<Run>, JournalError> {
        Ok(self.runs(1)?.into_iter().next().filter(|r| r.finished_at.is_none()))
    }

    /// Marks the steps a crash left in flight as interrupted, and the run as ended.
    pub fn close_interrupted(&mut self, run: i64) -> Result<Vec<Step>, JournalError> {
        let in_flight: Vec<Step> = self.steps(run)?.into_iter().filter(|s| s.outcome.is_none()).collect();
        self.exec(
            "UPDATE steps SET outcome = 'interrupted', outcome_at = ?2, message = 'conv stopped before this step finished' WHERE run = ?1 AND outcome IS NULL",
            &[run.into(), now().into()],
        )?;
        self.exec(
            "UPDATE runs SET finished_at = ?2, outcome = 'interrupted' WHERE id = ?1",
            &[run.into(), now().into()],
        )?;
        Ok(in_flight)
    }

    pub fn begin_run(&mut self, summary: &str) -> Result<i64, JournalError> {
        let (host, pid, user) = whoami();
        self.insert(
            "INSERT INTO runs (started_at, outcome, summary, host, pid, username) VALUES (?1, 'running', ?2, ?3, ?4, ?5)",
            &[now().into(), summary.into(), host.into(), pid.into(), user.into()],
        )
    }

    pub fn finish_run(&mut self, run: i64, outcome: &str) -> Result<(), JournalError> {
        self.exec(
            "UPDATE runs SET finished_at = ?2, outcome = ?3 WHERE id = ?1",
            &[run.into(), now().into(), outcome.into()],
        )
    }

    /// Records what a step is about to do; durable when this returns.
    pub fn intent(&mut self, run: i64, kind: &str, address: &str, detail: &str) -> Result<i64, JournalError> {
        self.insert(
            "INSERT INTO steps (run, kind, address, detail, intent_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            &[run.into(), kind.into(), address.into(), detail.into(), now().into()],
        )
    }

    pub fn outcome(&mut self, step: i64, ok: bool, message: &str) -> Result<(), JournalError> {
        self.exec(
            "UPDATE steps SET outcome = ?2, outcome_at = ?3, message = ?4 WHERE id = ?1",
            &[step.into(), (if ok { "ok" } else { "failed" }).into(), now().into(), message.into()],
        )
    }

    /// Records that a step whose intent was written was never tried (an earlier step of the
    /// same site failed first).
    pub fn skipped(&mut self, step: i64, message: &str) -> Result<(), JournalError> {
        self.exec(
            "UPDATE steps SET outcome = 'skipped', outcome_at = ?2, message = ?3 WHERE id = ?1",
            &[step.into(), now().into(), message.into()],
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
        spec: &str,
    ) -> Result<(), JournalError> {
        self.exec(
            "INSERT INTO known_good (env, site, service, version, instances, recorded_at, spec) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (env, site, service) DO UPDATE SET version = excluded.version, instances = excluded.instances,
               recorded_at = excluded.recorded_at, spec = excluded.spec",
            &[env.into(), site.into(), service.into(), version.into(), instances.into(), now().into(), spec.into()],
        )
    }

    /// `(env, site, service) -> (version, instances, spec)`; `spec` is the fingerprint of
    /// the command and configuration that ran (empty when not recorded).
    #[allow(clippy::type_complexity)]
    pub fn known_good(&mut self) -> Result<Vec<((String, String, String), (String, u32, String))>, JournalError> {
        let rows = self.db.query(
            "SELECT env, site, service, version, instances, spec FROM known_good ORDER BY env, site, service",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| ((r[0].text(), r[1].text(), r[2].text()), (r[3].text(), r[4].int() as u32, r[5].text())))
            .collect())
    }

    /// Records where a stage stands; replaces what an earlier run recorded for it.
    pub fn set_stage_result(&mut self, r: &StageResult) -> Result<(), JournalError> {
        self.exec(
            "INSERT INTO stage_results (release_name, stage, env, versions, state, run, reason, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (release_name, stage) DO UPDATE SET env = excluded.env, versions = excluded.versions,
               state = excluded.state, run = excluded.run, reason = excluded.reason, recorded_at = excluded.recorded_at",
            &[
                (&r.release).into(),
                (&r.stage).into(),
                (&r.env).into(),
                (&r.versions).into(),
                (&r.state).into(),
                r.run.into(),
                (&r.reason).into(),
                now().into(),
            ],
        )
    }

    pub fn stage_results(&mut self) -> Result<Vec<StageResult>, JournalError> {
        let rows = self.db.query(
            "SELECT release_name, stage, env, versions, state, run, reason, recorded_at FROM stage_results ORDER BY release_name, stage",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| StageResult {
                release: r[0].text(),
                stage: r[1].text(),
                env: r[2].text(),
                versions: r[3].text(),
                state: r[4].text(),
                run: r[5].int(),
                reason: r[6].text(),
                recorded_at: r[7].int() as u64,
            })
            .collect())
    }

    /// Appends events in one transaction. Events are a record for views, not steps: they are
    /// not crash points of `CONV_CRASH_AFTER_WRITES`.
    pub fn record_events(&mut self, events: &[(i64, u64, String, String)]) -> Result<(), JournalError> {
        if events.is_empty() {
            return Ok(());
        }
        self.db.begin()?;
        for (run, at_ms, kind, body) in events {
            let inserted = self.db.execute(
                "INSERT INTO events (run, at_ms, kind, body) VALUES (?1, ?2, ?3, ?4)",
                &[(*run).into(), (*at_ms).into(), kind.into(), body.into()],
            );
            if let Err(e) = inserted {
                self.db.rollback();
                return Err(e);
            }
        }
        self.db.commit()
    }

    /// The warnings runs recorded (a notification that could not be delivered, ...), for the
    /// runs from `first_run` on, oldest first, at most `limit`: (run, the event as recorded).
    pub fn warnings_since(&mut self, first_run: i64, limit: u32) -> Result<Vec<(i64, String)>, JournalError> {
        let rows = self.db.query(
            "SELECT run, body FROM events WHERE kind = 'warning' AND run >= ?1 ORDER BY id LIMIT ?2",
            &[first_run.into(), limit.into()],
        )?;
        Ok(rows.iter().map(|r| (r[0].int(), r[1].text())).collect())
    }

    /// Events after `after` (an event id; 0 for the first), oldest first, at most `limit`.
    pub fn events_after(&mut self, after: i64, limit: u32) -> Result<Vec<EventRow>, JournalError> {
        let rows = self.db.query(
            "SELECT id, run, at_ms, kind, body FROM events WHERE id > ?1 ORDER BY id LIMIT ?2",
            &[after.into(), limit.into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| EventRow {
                id: r[0].int(),
                run: r[1].int(),
                at_ms: r[2].int() as u64,
                kind: r[3].text(),
                body: r[4].text(),
            })
            .collect())
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
            "INSERT INTO gate_readings (run, stage, gate, passed, reading, read_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &[run.into(), stage.into(), gate.into(), passed.into(), reading.into(), now().into()],
        )
    }

    /// `conv approve`: an approval of `stage` by `by` for `group`, waiting to be used.
    pub fn record_approval(&mut self, release: &str, stage: &str, by: &str, group: &str) -> Result<(), JournalError> {
        self.exec(
            "INSERT INTO approvals (release_name, stage, approver, approved_at, grp) VALUES (?1, ?2, ?3, ?4, ?5)",
            &[release.into(), stage.into(), by.into(), now().into(), group.into()],
        )
    }

    /// Takes the oldest unused approval of `stage` for `group`, marking it used by `run`:
    /// `Some(approver)`, once. An approval is used once; the next rollout asks again.
    pub fn take_approval(
        &mut self,
        release: &str,
        stage: &str,
        group: &str,
        run: i64,
    ) -> Result<Option<String>, JournalError> {
        let rows = self.db.query(
            "SELECT approver, approved_at FROM approvals WHERE release_name = ?1 AND stage = ?2 AND grp = ?3 AND used_by_run IS NULL ORDER BY approved_at LIMIT 1",
            &[release.into(), stage.into(), group.into()],
        )?;
        let Some(row) = rows.first() else { return Ok(None) };
        let (approver, at) = (row[0].text(), row[1].int());
        self.exec(
            "UPDATE approvals SET used_by_run = ?4 WHERE release_name = ?1 AND stage = ?2 AND grp = ?3 AND approver = ?5 AND approved_at = ?6 AND used_by_run IS NULL",
            &[release.into(), stage.into(), group.into(), run.into(), (&approver).into(), at.into()],
        )?;
        Ok(Some(approver))
    }

    /// Approvals given and not used yet: `(release, stage, approver, group)`.
    pub fn pending_approvals(&mut self) -> Result<Vec<(String, String, String, String)>, JournalError> {
        let rows = self.db.query(
            "SELECT release_name, stage, approver, grp FROM approvals WHERE used_by_run IS NULL ORDER BY approved_at",
            &[],
        )?;
        Ok(rows.iter().map(|r| (r[0].text(), r[1].text(), r[2].text(), r[3].text())).collect())
    }

    /// The latest approvals, newest first: `(release, stage, approver, when, group, used by run)`.
    #[allow(clippy::type_complexity)]
    pub fn approvals(
        &mut self,
        limit: u32,
    ) -> Result<Vec<(String, String, String, u64, String, Option<i64>)>, JournalError> {
        let rows = self.db.query(
            "SELECT release_name, stage, approver, approved_at, grp, used_by_run FROM approvals ORDER BY approved_at DESC LIMIT ?1",
            &[limit.into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| (r[0].text(), r[1].text(), r[2].text(), r[3].int() as u64, r[4].text(), r[5].opt_int()))
            .collect())
    }

    /// The latest runs, newest first.
    pub fn runs(&mut self, limit: u32) -> Result<Vec<Run>, JournalError> {
        let rows = self.db.query(
            "SELECT r.id, r.started_at, r.finished_at, r.outcome, r.summary, r.host, r.pid, r.username,
                    (SELECT COUNT(*) FROM steps s WHERE s.run = r.id)
             FROM runs r ORDER BY r.id DESC LIMIT ?1",
            &[limit.into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| Run {
                id: r[0].int(),
                started_at: r[1].int() as u64,
                finished_at: r[2].opt_int().map(|v| v as u64),
                outcome: r[3].text(),
                summary: r[4].text(),
                host: r[5].text(),
                pid: r[6].int() as u32,
                user: r[7].text(),
                steps: r[8].int() as u64,
            })
            .collect())
    }

    pub fn steps(&mut self, run: i64) -> Result<Vec<Step>, JournalError> {
        let rows = self.db.query(
            "SELECT id, run, kind, address, detail, outcome, COALESCE(message, '') FROM steps WHERE run = ?1 ORDER BY id",
            &[run.into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| Step {
                id: r[0].int(),
                run: r[1].int(),
                kind: r[2].text(),
                address: r[3].text(),
                detail: r[4].text(),
                outcome: r[5].opt_text(),
                message: r[6].text(),
            })
            .collect())
    }

    /// The failed deploy steps of the last finished run that deployed: `(address, reason, run)`.
    pub fn last_failures(&mut self) -> Result<Vec<(String, String, i64)>, JournalError> {
        for run in self.runs(20)?.into_iter().filter(|r| r.finished_at.is_some()) {
            let steps = self.steps(run.id)?;
            if !steps.iter().any(|s| s.kind == "deploy") {
                continue;
            }
            return Ok(steps
                .into_iter()
                .filter(|s| s.kind == "deploy" && s.outcome.as_deref() == Some("failed"))
                .map(|s| (s.address, s.message, run.id))
                .collect());
        }
        Ok(Vec::new())
    }

    /// Takes the lock of every environment, or names who holds one. A holder that died on
    /// this host is stale and its lock is taken over.
    pub fn lock(&mut self, envs: &[String]) -> Result<Result<(), Holder>, JournalError> {
        let (host, pid, user) = whoami();
        self.db.begin_locking()?;
        let result = self.lock_in_transaction(envs, &host, pid, &user);
        match result {
            Ok(Ok(())) => {
                self.db.commit()?;
                self.wrote();
                Ok(Ok(()))
            }
            other => {
                self.db.rollback();
                other
            }
        }
    }

    fn lock_in_transaction(
        &mut self,
        envs: &[String],
        host: &str,
        pid: u32,
        user: &str,
    ) -> Result<Result<(), Holder>, JournalError> {
        for env in envs {
            let rows =
                self.db.query("SELECT env, host, pid, username, since FROM locks WHERE env = ?1", &[env.into()])?;
            if let Some(r) = rows.first() {
                let h = holder(r);
                let stale = h.host == host && !process_alive(h.pid);
                let mine = h.host == host && h.pid == pid;
                if !stale && !mine {
                    return Ok(Err(h));
                }
            }
            self.db.execute(
                "INSERT INTO locks (env, host, pid, username, since) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (env) DO UPDATE SET host = excluded.host, pid = excluded.pid, username = excluded.username, since = excluded.since",
                &[env.into(), host.into(), pid.into(), user.into(), now().into()],
            )?;
        }
        Ok(Ok(()))
    }

    /// Releases this process's locks.
    pub fn unlock_mine(&mut self) -> Result<(), JournalError> {
        let (host, pid, _) = whoami();
        self.exec("DELETE FROM locks WHERE host = ?1 AND pid = ?2", &[host.into(), pid.into()])
    }

    /// `conv unlock ENV --force`: removes a lock whoever holds it; returns the holder.
    /// Locks are keyed by site (`production["p1"]`); `env` names the environment's keys
    /// (and a key of the environment alone, as older journals wrote).
    pub fn force_unlock(&mut self, env: &str) -> Result<Option<Holder>, JournalError> {
        let site_prefix = format!("{env}[");
        let holder = self.holders()?.into_iter().find(|h| h.env == env || h.env.starts_with(&site_prefix));
        self.exec("DELETE FROM locks WHERE env = ?1 OR env LIKE ?2", &[env.into(), format!("{site_prefix}%").into()])?;
        Ok(holder)
    }

    pub fn holders(&mut self) -> Result<Vec<Holder>, JournalError> {
        let rows = self.db.query("SELECT env, host, pid, username, since FROM locks ORDER BY env", &[])?;
        Ok(rows.iter().map(|r| holder(r)).collect())
    }
}

/// A row of `SELECT env, host, pid, username, since FROM locks`.
fn holder(r: &[Value]) -> Holder {
    Holder { env: r[0].text(), host: r[1].text(), pid: r[2].int() as u32, user: r[3].text(), since: r[4].int() as u64 }
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
