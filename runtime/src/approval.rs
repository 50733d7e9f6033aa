//! Manual approvals: `conv approve RELEASE STAGE` writes a record that a waiting apply sees.

use conv_model::{Gate, Program, ReleaseName, Requirement};
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

/// Approvals given and not yet used by an apply.
pub fn pending(state_dir: &Path) -> Vec<Approval> {
    let mut out = Vec::new();
    let Ok(releases) = std::fs::read_dir(state_dir.join("approvals")) else { return out };
    for release in releases.flatten() {
        let Ok(stages) = std::fs::read_dir(release.path()) else { continue };
        for stage in stages.flatten() {
            if let Some(a) = std::fs::read_to_string(stage.path()).ok().and_then(|t| serde_json::from_str(&t).ok()) {
                out.push(a);
            }
        }
    }
    out.sort_by(|a: &Approval, b: &Approval| (&a.release, &a.stage).cmp(&(&b.release, &b.stage)));
    out
}

/// The groups whose approval `stage` of `release` waits for: its environment's
/// `approval` requirement (on the release's first stage there) and `manual_approval` gates.
pub fn groups(program: &Program, release: &conv_model::Release, stage: &conv_model::Stage) -> Vec<String> {
    let mut out = Vec::new();
    let first_in_env = release.stages.iter().find(|s| s.env == stage.env).is_some_and(|s| s.name == stage.name);
    if let (true, Some(env)) = (first_in_env, program.environment(&stage.env)) {
        for r in &env.requires {
            if let Requirement::Approval { group } = r {
                out.push(group.clone());
            }
        }
    }
    let service_gates = release.services.iter().filter_map(|s| program.service(s)).flat_map(|s| s.gates.iter());
    for gate in stage.gates.iter().chain(service_gates) {
        if let Gate::Approval { group } = gate {
            if !out.contains(group) {
                out.push(group.clone());
            }
        }
    }
    out
}

/// Why `conv approve` is refused.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// No such release; the program's releases, for a did-you-mean.
    NoRelease { candidates: Vec<String> },
    /// No such stage in the release; its stages.
    NoStage { candidates: Vec<String> },
    /// The stage waits for no approval.
    NotNeeded { env: String },
}

/// The groups a `conv approve RELEASE STAGE` answers, or why there are none.
pub fn check_target(program: &Program, release: &str, stage: &str) -> Result<Vec<String>, Refusal> {
    let Some(r) = program.release(&ReleaseName(release.to_string())) else {
        return Err(Refusal::NoRelease { candidates: program.releases.iter().map(|r| r.name.to_string()).collect() });
    };
    let Some(s) = r.stages.iter().find(|s| s.name == stage) else {
        return Err(Refusal::NoStage { candidates: r.stages.iter().map(|s| s.name.clone()).collect() });
    };
    let groups = groups(program, r, s);
    if groups.is_empty() {
        return Err(Refusal::NotNeeded { env: s.env.to_string() });
    }
    Ok(groups)
}
