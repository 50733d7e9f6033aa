//! Manual approvals: `conv approve RELEASE STAGE` writes a record that a waiting apply sees.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Approval {
    pub release: String,
    pub stage: String,
    pub by: String,
    pub at_unix: u64,
}

fn path(state_dir: &Path, release: &str, stage: &str) -> PathBuf {
    state_dir.join("approvals").join(release).join(format!("{stage}.json"))
}

pub fn approve(state_dir: &Path, release: &str, stage: &str, by: &str) -> std::io::Result<Approval> {
    let at_unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let approval = Approval { release: release.into(), stage: stage.into(), by: by.into(), at_unix };
    let json = serde_json::to_vec_pretty(&approval).map_err(std::io::Error::other)?;
    crate::write_atomically(&path(state_dir, release, stage), &json)?;
    Ok(approval)
}

pub fn find(state_dir: &Path, release: &str, stage: &str) -> Option<Approval> {
    let text = std::fs::read_to_string(path(state_dir, release, stage)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Approvals are used once: a new rollout of the stage asks again.
pub fn consume(state_dir: &Path, release: &str, stage: &str) {
    let _ = std::fs::remove_file(path(state_dir, release, stage));
}
