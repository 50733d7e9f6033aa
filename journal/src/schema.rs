//! The journal's schema and its migrations, one step per version, written once for both
//! backends (PostgreSQL reads `INTEGER PRIMARY KEY` as `BIGSERIAL PRIMARY KEY`).

/// The schema this conv writes.
pub const SCHEMA_VERSION: u32 = 2;

/// Each migration takes the schema from its index to the next version.
pub const MIGRATIONS: &[&str] = &[
    // 0 -> 1
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        outcome TEXT NOT NULL,
        summary TEXT NOT NULL,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        username TEXT NOT NULL
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
        version TEXT NOT NULL, instances INTEGER NOT NULL, recorded_at INTEGER NOT NULL,
        PRIMARY KEY (env, site, service)
    );
    CREATE TABLE approvals (release_name TEXT NOT NULL, stage TEXT NOT NULL, approver TEXT NOT NULL, approved_at INTEGER NOT NULL);
    CREATE TABLE gate_readings (
        run INTEGER NOT NULL, stage TEXT NOT NULL, gate TEXT NOT NULL,
        passed INTEGER NOT NULL, reading TEXT NOT NULL, read_at INTEGER NOT NULL
    );
    CREATE TABLE locks (env TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, username TEXT NOT NULL, since INTEGER NOT NULL);",
    // 1 -> 2: convergence is a recorded fact per stage, for the versions it judged; the
    // engine's events, for views in other processes.
    "CREATE TABLE stage_results (
        release_name TEXT NOT NULL, stage TEXT NOT NULL, env TEXT NOT NULL,
        versions TEXT NOT NULL, state TEXT NOT NULL, run INTEGER NOT NULL,
        reason TEXT NOT NULL, recorded_at INTEGER NOT NULL,
        PRIMARY KEY (release_name, stage)
    );
    ALTER TABLE known_good ADD COLUMN spec TEXT NOT NULL DEFAULT '';
    ALTER TABLE approvals ADD COLUMN grp TEXT NOT NULL DEFAULT '';
    ALTER TABLE approvals ADD COLUMN used_by_run INTEGER;
    CREATE TABLE events (
        id INTEGER PRIMARY KEY, run INTEGER NOT NULL, at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL, body TEXT NOT NULL
    );
    CREATE INDEX events_by_run ON events(run);",
];
