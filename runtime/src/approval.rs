//! Manual approvals: `conv approve RELEASE STAGE` writes a journal record that a waiting
//! apply takes, once. Which groups a stage waits for, and who approves.

use conv_model::{Gate, Program, ReleaseName, Requirement};

/// Who approves: `CONV_APPROVER` (else `$USER`), and the groups they say they are in,
/// `CONV_GROUPS` (comma-separated). An audit record, not authentication: conv writes down who
/// said they approved for which group; it cannot prove either.
#[derive(Clone, Debug, PartialEq)]
pub struct Approver {
    pub name: String,
    /// `None` when `CONV_GROUPS` is not set: membership is then not checked.
    pub groups: Option<Vec<String>>,
}

impl Approver {
    pub fn from_env() -> Approver {
        let name = std::env::var("CONV_APPROVER")
            .ok()
            .filter(|n| !n.is_empty())
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "unknown".into());
        let groups = std::env::var("CONV_GROUPS")
            .ok()
            .map(|g| g.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect());
        Approver { name, groups }
    }

    /// Of the groups a stage waits for, those this approver answers for.
    pub fn answers_for(&self, wanted: &[String]) -> Vec<String> {
        match &self.groups {
            Some(mine) => wanted.iter().filter(|g| mine.contains(g)).cloned().collect(),
            None => wanted.to_vec(),
        }
    }
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
        if let Gate::Approval { group } = gate
            && !out.contains(group)
        {
            out.push(group.clone());
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
