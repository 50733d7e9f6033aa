//! Helpers shared by the CLI's test suites.
#![allow(dead_code)]

pub mod project;
pub mod web;

use std::path::{Path, PathBuf};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The `.conv` files of `tests/fixtures/<suite>`, sorted.
pub fn fixtures(suite: &str) -> Vec<PathBuf> {
    let dir = repo_root().join("tests/fixtures").join(suite);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conv"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

/// Snapshots of a suite live in tests/snapshots/<suite>/, named after the fixture.
pub fn snapshot_settings(suite: &str, input: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo_root().join("tests/snapshots").join(suite));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_input_file(input);
    settings.set_omit_expression(true);
    settings
}

/// The first line of a fixture: `// expect: ok` or `// expect: E0105 E0106`.
pub struct Expectation(Vec<String>);

impl Expectation {
    pub fn from_header(text: &str) -> Self {
        let first = text.lines().next().unwrap_or("");
        let rest = first
            .strip_prefix("// expect:")
            .unwrap_or_else(|| panic!("fixture must start with `// expect:`, found {first:?}"));
        let codes: Vec<String> = rest.split_whitespace().filter(|c| *c != "ok").map(str::to_string).collect();
        Expectation(codes)
    }

    pub fn codes(&self) -> Vec<&str> {
        self.0.iter().map(String::as_str).collect()
    }
}

/// Polls until `done` holds, for at most `limit`; whether it did.
pub fn eventually(limit: std::time::Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    done()
}

/// Kills `pid` and waits until it is gone (or a zombie nobody reaps).
pub fn kill_and_wait(pid: &str) {
    std::process::Command::new("kill").arg(pid).status().unwrap();
    let gone = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| s.contains(") Z") || s.contains(") X"))
    };
    assert!(eventually(std::time::Duration::from_secs(10), gone), "process {pid} did not exit");
}
