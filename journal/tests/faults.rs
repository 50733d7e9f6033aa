//! The journal under normal and bad conditions: records, interrupted runs, a corrupt file,
//! a newer schema, locks. Each bad case is a clear error, and nothing is overwritten.

mod common;

use conv_journal::{Journal, JournalError, SCHEMA_VERSION};

#[test]
fn a_fresh_journal_records_runs_steps_and_known_good_versions() {
    for common::Subject { name, journal: mut j, .. } in common::subjects() {
        eprintln!("backend: {name}");
        records(&mut j);
    }
}

fn records(j: &mut Journal) {
    let run = j.begin_run("storefront: 2 changes").unwrap();
    let step = j.intent(run, "deploy", "staging[\"s1\"]/api#0", "1.4.2").unwrap();
    assert_eq!(j.unfinished_run().unwrap().map(|r| r.id), Some(run), "a run is unfinished until finished");
    j.outcome(step, true, "up").unwrap();
    j.set_known_good("staging", "s1", "api", "1.4.2", 2, "").unwrap();
    j.finish_run(run, "converged").unwrap();
    assert!(j.unfinished_run().unwrap().is_none());
    let runs = j.runs(10).unwrap();
    assert_eq!((runs[0].outcome.as_str(), runs[0].steps), ("converged", 1));
    assert_eq!(j.known_good().unwrap()[0].1, ("1.4.2".to_string(), 2, String::new()));
    stage_results_and_events(j, run);
}

fn stage_results_and_events(j: &mut Journal, run: i64) {
    let mut result = conv_journal::StageResult {
        release: "storefront".into(),
        stage: "canary".into(),
        env: "staging".into(),
        versions: "api=1.4.2".into(),
        state: "running".into(),
        run,
        reason: String::new(),
        recorded_at: 0,
    };
    j.set_stage_result(&result).unwrap();
    result.state = "converged".into();
    j.set_stage_result(&result).unwrap();
    let results = j.stage_results().unwrap();
    assert_eq!(results.len(), 1, "one record per stage, replaced: {results:?}");
    assert_eq!(results[0].state, "converged");
    let events: Vec<(i64, u64, String, String)> =
        (0..3).map(|i| (run, 1000 + i, "stage_started".to_string(), format!("{{\"n\":{i}}}"))).collect();
    j.record_events(&events).unwrap();
    let first = j.events_after(0, 2).unwrap();
    assert_eq!(first.iter().map(|e| e.at_ms).collect::<Vec<_>>(), [1000, 1001]);
    let rest = j.events_after(first[1].id, 10).unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].body, "{\"n\":2}");
}

#[test]
fn an_interrupted_run_is_closed_with_its_in_flight_steps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    {
        let mut j = Journal::open(&path).unwrap();
        let run = j.begin_run("r").unwrap();
        let done = j.intent(run, "deploy", "a#0", "2").unwrap();
        j.outcome(done, true, "up").unwrap();
        j.intent(run, "deploy", "a#1", "2").unwrap();
        // Dropped here without an outcome, as a kill would leave it.
    }
    let mut j = Journal::open(&path).unwrap();
    let run = j.unfinished_run().unwrap().expect("the run is found unfinished");
    let in_flight = j.close_interrupted(run.id).unwrap();
    assert_eq!(in_flight.iter().map(|s| s.address.as_str()).collect::<Vec<_>>(), ["a#1"]);
    let steps = j.steps(run.id).unwrap();
    assert_eq!(steps[0].outcome.as_deref(), Some("ok"));
    assert_eq!(steps[1].outcome.as_deref(), Some("interrupted"));
    assert_eq!(j.runs(1).unwrap()[0].outcome, "interrupted");
}

#[test]
fn a_corrupt_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    std::fs::write(&path, b"this is not a database, it is a text file that someone saved here by mistake").unwrap();
    let before = std::fs::read(&path).unwrap();
    match Journal::open(&path) {
        Err(JournalError::Corrupt { .. }) => {}
        Err(other) => panic!("expected Corrupt, got {other}"),
        Ok(_) => panic!("a text file opened as a journal"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before, "not overwritten");
    let message = Journal::open(&path).err().unwrap().to_string();
    assert!(message.contains("is damaged") && message.contains("move it aside"), "{message}");
}

#[test]
fn a_journal_from_a_newer_conv_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    drop(Journal::open(&path).unwrap());
    // A newer conv sets SQLite's user_version (bytes 60..64 of the header, big-endian).
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[60..64].copy_from_slice(&(SCHEMA_VERSION + 1).to_be_bytes());
    std::fs::write(&path, bytes).unwrap();
    match Journal::open(&path) {
        Err(JournalError::NewerSchema { found, supported, .. }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION))
        }
        Err(other) => panic!("expected NewerSchema, got {other}"),
        Ok(_) => panic!("a newer journal opened"),
    }
}

#[test]
fn locks_name_their_holder() {
    for common::Subject { name, journal: mut j, .. } in common::subjects() {
        eprintln!("backend: {name}");
        locks(&mut j);
    }
}

fn locks(j: &mut Journal) {
    let (host, pid, user) = conv_journal::whoami();
    j.lock(&["production".to_string(), "staging".to_string()]).unwrap().unwrap();
    let holders = j.holders().unwrap();
    assert_eq!(holders.len(), 2);
    assert_eq!(
        (holders[0].host.as_str(), holders[0].pid, holders[0].user.as_str()),
        (host.as_str(), pid, user.as_str())
    );
    assert!(j.lock(&["production".to_string()]).unwrap().is_ok(), "a process may take its own lock again");
    j.unlock_mine().unwrap();
    assert!(j.holders().unwrap().is_empty());
}

#[test]
fn an_interrupted_run_is_found_in_postgres_too() {
    let Some(url) = common::fresh_postgres_database() else { return };
    {
        let mut j = Journal::open_postgres(&url).unwrap();
        let run = j.begin_run("r").unwrap();
        j.intent(run, "deploy", "a#0", "2").unwrap();
    }
    let mut j = Journal::open_postgres(&url).unwrap();
    let run = j.unfinished_run().unwrap().expect("found unfinished");
    assert_eq!(j.close_interrupted(run.id).unwrap().len(), 1);
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    match Journal::open_postgres("postgresql://conv:secret@127.0.0.1:9/conv") {
        Err(JournalError::Unreachable { url, .. }) => {
            assert!(!url.contains("secret"), "the password is not shown: {url}")
        }
        Err(other) => panic!("expected Unreachable, got {other}"),
        Ok(_) => panic!("connected to nothing"),
    }
}

#[test]
fn a_dropped_connection_is_opened_again() {
    let Some(url) = common::fresh_postgres_database() else { return };
    let mut j = Journal::open_postgres(&url).unwrap();
    let run = j.begin_run("r").unwrap();
    // Another session ends every other connection to the database, as a failover would.
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        .unwrap();
    let step = j.intent(run, "deploy", "a#0", "2").expect("the write goes through after reconnecting");
    j.outcome(step, true, "up").unwrap();
    assert_eq!(j.steps(run).unwrap().len(), 1);
}

#[test]
fn a_database_held_by_another_program_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    drop(Journal::open(&path).unwrap());
    // Another program takes the database and keeps it.
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;").unwrap();
    let mut j = match Journal::open(&path) {
        Err(JournalError::Busy { .. }) => return,
        Err(other) => panic!("expected Busy, got {other}"),
        Ok(j) => j,
    };
    // Opening may succeed on a WAL database; the first write then waits and gives up.
    match j.begin_run("r") {
        Err(JournalError::Busy { path: p }) => assert!(p.ends_with("journal.db")),
        Err(other) => panic!("expected Busy, got {other}"),
        Ok(_) => panic!("wrote past another program's exclusive lock"),
    }
    let message = j.begin_run("r").err().unwrap().to_string();
    assert!(message.contains("locked by another program"), "{message}");
}
