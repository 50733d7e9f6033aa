//! Journals to test against: always SQLite in a temporary folder, and PostgreSQL when
//! `CONV_TEST_POSTGRES_URL` names a server (CI starts one), in a fresh database per test.
#![allow(dead_code)]

use conv_journal::Journal;

pub struct Subject {
    pub name: &'static str,
    pub journal: Journal,
    _dir: Option<tempfile::TempDir>,
}

pub fn subjects() -> Vec<Subject> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Journal::open(&dir.path().join("journal.db")).unwrap();
    let mut out = vec![Subject { name: "sqlite", journal: sqlite, _dir: Some(dir) }];
    if let Some(url) = fresh_postgres_database() {
        out.push(Subject { name: "postgres", journal: Journal::open_postgres(&url).unwrap(), _dir: None });
    }
    out
}

/// A new, empty database on the test server; its URL.
pub fn fresh_postgres_database() -> Option<String> {
    let url = std::env::var("CONV_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty())?;
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("the test PostgreSQL answers");
    let name = format!(
        "conv_test_{}_{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    );
    admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let base = url.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(url.clone());
    Some(format!("{base}/{name}"))
}
