//! A project in a temporary folder, run with the real binary; its processes are stopped
//! when the test ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn conv(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conv"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("conv runs")
}

pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A project directory whose processes are stopped when the test ends.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    pub fn new(program: &str) -> Project {
        let demo = Path::new(env!("CARGO_BIN_EXE_conv")).with_file_name("demo-app");
        assert!(demo.is_file(), "build demo-app first (`cargo build --workspace`): {} is missing", demo.display());
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.conv"), program).unwrap();
        Project { dir }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        conv(args, self.dir.path())
    }

    /// `conv status --format json`: the whole report.
    pub fn report(&self) -> serde_json::Value {
        self.report_with(&[])
    }

    pub fn report_with(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["status", ".", "--format", "json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)))
    }

    /// One row per site and service.
    pub fn status(&self) -> Vec<serde_json::Value> {
        self.status_with(&[])
    }

    pub fn status_with(&self, args: &[&str]) -> Vec<serde_json::Value> {
        let report = self.report_with(args);
        report["sites"].as_array().cloned().unwrap_or_else(|| panic!("no sites in {report}"))
    }

    pub fn versions(&self, service: &str) -> Vec<String> {
        self.status()
            .iter()
            .filter(|r| r["service"] == service)
            .flat_map(|r| r["versions"].as_array().cloned().unwrap_or_default())
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        conv(&["destroy", ".", "--yes"], self.dir.path());
    }
}
