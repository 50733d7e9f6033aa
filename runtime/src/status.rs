//! Where everything stands, per site and service and per stage: from live state and the
//! journal's records. The CLI only renders it (table or JSON).

use crate::live::LiveState;
use conv_journal::StageResult;
use conv_model::{EnvName, Program, Release, Requirement, Service, SiteName};
use serde::Serialize;

/// The version of the JSON shape of [`Status`]; bumped on any incompatible change.
pub const STATUS_SCHEMA_VERSION: u32 = 1;

/// What the journal says about runs, for status.
#[derive(Clone, Debug, Default)]
pub struct JournalView {
    pub stage_results: Vec<StageResult>,
    /// Failed deploys of the last run that deployed: `(address#slot, reason, run)`.
    pub failures: Vec<(String, String, i64)>,
    /// An unfinished run: its id, whether its process still lives, and the stage it was in
    /// (`release/stage`).
    pub unfinished: Option<(i64, bool, Option<String>)>,
    /// Approvals given and not yet used by an apply: `(release, stage, by)`.
    pub pending_approvals: Vec<(String, String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Runs the desired version, serves, and its stages' gates passed on it.
    Converged,
    /// An apply is working on it now.
    InFlight,
    /// Its deploy or its stage failed (see reason and run).
    Failed,
    /// Its release paused at a failed stage (on_failure = pause).
    Paused,
    /// Runs the desired version, but no gate has judged it yet (an interrupted run).
    Unjudged,
    /// An instance does not serve: dead, hung, or its port is another program's.
    Unhealthy,
    /// Its stage waits for something before it may start (see waiting).
    Waiting,
    /// Not yet deployed; nothing failed.
    Pending,
}

#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub environment: String,
    pub site: String,
    pub service: String,
    pub release: Option<String>,
    pub versions: Vec<String>,
    pub desired: String,
    pub instances: usize,
    pub up: usize,
    pub healthy: usize,
    pub state: State,
    pub reason: Option<String>,
    pub run: Option<i64>,
    pub waiting: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RequirementStatus {
    pub requirement: String,
    pub holds: bool,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct StageStatus {
    pub name: String,
    pub environment: String,
    /// `converged`, `in_flight`, `failed`, `paused`, `unjudged`, `waiting` or `pending`.
    pub state: State,
    pub run: Option<i64>,
    pub reason: Option<String>,
    pub requirements: Vec<RequirementStatus>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReleaseStatus {
    pub name: String,
    pub versions: String,
    pub stages: Vec<StageStatus>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Status {
    pub schema_version: u32,
    pub sites: Vec<Row>,
    pub releases: Vec<ReleaseStatus>,
}

/// Whether an instance answers `/healthz` with 2xx; a simulated one is healthy unless its
/// version is bad; a Kubernetes one when its Deployment has it available (its readiness
/// probe is the cluster's to run).
fn healthy(program: &Program, env: &EnvName, i: &crate::live::Instance) -> bool {
    if !i.serving() {
        return false;
    }
    match program.environment(env).map(|e| &e.provider) {
        Some(conv_model::Provider::Simulator { .. }) => return !i.version.contains("bad"),
        Some(conv_model::Provider::Kubernetes { .. }) => return true,
        _ => {}
    }
    crate::gates::http_status(i.port, "/healthz", std::time::Duration::from_millis(500))
        .is_ok_and(|c| (200..300).contains(&c))
}

pub fn status(program: &Program, live: &LiveState, journal: &JournalView, now_unix: u64) -> Status {
    let releases: Vec<ReleaseStatus> =
        program.releases.iter().map(|r| release_status(program, r, journal, now_unix)).collect();
    let mut sites = Vec::new();
    for env in &program.environments {
        for site in &env.sites {
            for service in &program.services {
                sites.push(row(program, live, journal, &releases, &env.name, site, service));
            }
        }
    }
    Status { schema_version: STATUS_SCHEMA_VERSION, sites, releases }
}

fn result_for<'a>(journal: &'a JournalView, release: &Release, stage: &str, versions: &str) -> Option<&'a StageResult> {
    journal
        .stage_results
        .iter()
        .find(|x| x.release == release.name.as_str() && x.stage == stage && x.versions == versions)
}

fn release_status(program: &Program, release: &Release, journal: &JournalView, now_unix: u64) -> ReleaseStatus {
    let versions = crate::plan::release_versions(program, release);
    let mut stages: Vec<StageStatus> = Vec::new();
    let mut seen_envs: Vec<&EnvName> = Vec::new();
    for stage in &release.stages {
        let first_in_env = !seen_envs.contains(&&stage.env);
        seen_envs.push(&stage.env);
        let recorded = result_for(journal, release, &stage.name, &versions);
        let in_flight = journal
            .unfinished
            .as_ref()
            .is_some_and(|(_, alive, at)| *alive && at.as_deref() == Some(&format!("{}/{}", release.name, stage.name)));
        let requirements = if first_in_env {
            requirements(program, release, &stage.name, &stage.env, journal, &versions, now_unix)
        } else {
            Vec::new()
        };
        let earlier_done = stages.iter().all(|s| s.state == State::Converged);
        let (state, run, reason) = match recorded {
            Some(r) if r.state == "waiting" => (State::Waiting, Some(r.run), Some(r.reason.clone())),
            _ if in_flight => (State::InFlight, journal.unfinished.as_ref().map(|u| u.0), None),
            Some(r) if r.state == "converged" => (State::Converged, Some(r.run), None),
            Some(r) if r.state == "paused" => (State::Paused, Some(r.run), Some(r.reason.clone())),
            Some(r) if r.state == "failed" || r.state == "rolled_back" => {
                (State::Failed, Some(r.run), Some(r.reason.clone()))
            }
            Some(r) => {
                (State::Unjudged, Some(r.run), Some(format!("run {} stopped before this stage finished", r.run)))
            }
            None if earlier_done && requirements.iter().any(|q| !q.holds) => {
                let missing: Vec<String> = requirements
                    .iter()
                    .filter(|q| !q.holds)
                    .map(|q| format!("{} ({})", q.requirement, q.detail))
                    .collect();
                (State::Waiting, None, Some(missing.join("; ")))
            }
            None => (State::Pending, None, None),
        };
        stages.push(StageStatus {
            name: stage.name.clone(),
            environment: stage.env.to_string(),
            state,
            run,
            reason,
            requirements,
        });
    }
    ReleaseStatus { name: release.name.to_string(), versions, stages }
}

fn requirements(
    program: &Program,
    release: &Release,
    stage: &str,
    env: &EnvName,
    journal: &JournalView,
    versions: &str,
    now_unix: u64,
) -> Vec<RequirementStatus> {
    let Some(e) = program.environment(env) else { return Vec::new() };
    let converged = |name: &str| result_for(journal, release, name, versions).is_some_and(|r| r.state == "converged");
    e.requires
        .iter()
        .map(|req| match req {
            Requirement::Approval { group } => {
                let given = journal.pending_approvals.iter().find(|(r, s, _)| r == release.name.as_str() && s == stage);
                let holds = given.is_some() || converged(stage);
                RequirementStatus {
                    requirement: format!("approval by {group}"),
                    holds,
                    detail: match given {
                        Some((_, _, by)) => format!("approved by {by}"),
                        None if holds => "given for these versions".into(),
                        None => format!("conv approve {} {stage}", release.name),
                    },
                }
            }
            Requirement::Converged { env: other } => {
                let mine: Vec<&conv_model::Stage> = release.stages.iter().filter(|s| &s.env == other).collect();
                let holds = !mine.is_empty() && mine.iter().all(|s| converged(&s.name));
                RequirementStatus {
                    requirement: format!("{other} converged"),
                    holds,
                    detail: if holds { "converged for these versions".into() } else { "not yet".into() },
                }
            }
            Requirement::Freeze { from, until, reason } => {
                let frozen = crate::freeze::frozen(from, until, now_unix);
                RequirementStatus {
                    requirement: if reason.is_empty() {
                        format!("no freeze {from} to {until} UTC")
                    } else {
                        format!("no freeze {from} to {until} UTC ({reason})")
                    },
                    holds: frozen == Ok(false),
                    detail: match frozen {
                        Ok(true) => "frozen now: conv apply --override-freeze REASON".into(),
                        Ok(false) => "not frozen now".into(),
                        Err(e) => e,
                    },
                }
            }
            Requirement::Window { weekdays, from, until } => {
                let holds = crate::window::open(weekdays, from, until, now_unix);
                RequirementStatus {
                    requirement: format!("window {} {from}-{until} UTC", weekdays.join(",")),
                    holds,
                    detail: if holds { "open now".into() } else { "closed now".into() },
                }
            }
        })
        .collect()
}

fn row(
    program: &Program,
    live: &LiveState,
    journal: &JournalView,
    releases: &[ReleaseStatus],
    env: &EnvName,
    site: &SiteName,
    service: &Service,
) -> Row {
    let instances = live.instances(env, site, &service.name);
    let mut versions: Vec<String> = instances.iter().map(|i| i.version.clone()).collect();
    versions.dedup();
    let release =
        program.releases.iter().find(|r| r.services.contains(&service.name) && r.stages.iter().any(|s| &s.env == env));
    let stages: Vec<&StageStatus> = release
        .and_then(|r| releases.iter().find(|x| x.name == r.name.as_str()))
        .map(|r| r.stages.iter().filter(|s| s.environment == env.as_str()).collect())
        .unwrap_or_default();
    let expected = crate::local::instance_count(program, env, &service.name) as usize;
    let on_desired = instances.iter().filter(|i| i.serving() && i.version == service.version).count();
    let here = |a: &String| {
        conv_model::InstanceAddress::parse(a)
            .is_some_and(|x| &x.env == env && &x.site == site && x.service == service.name)
    };
    let failed_deploy = journal.failures.iter().find(|(a, _, _)| here(a));
    let trouble = instances.iter().find_map(|i| i.trouble().map(|t| format!("#{} {t}", i.index)));
    let mut out = Row {
        environment: env.to_string(),
        site: site.to_string(),
        service: service.name.to_string(),
        release: release.map(|r| r.name.to_string()),
        versions,
        desired: service.version.clone(),
        instances: instances.len(),
        up: instances.iter().filter(|i| i.alive).count(),
        healthy: instances.iter().filter(|i| healthy(program, env, i)).count(),
        state: State::Pending,
        reason: None,
        run: None,
        waiting: None,
    };
    let marked = |s: State| stages.iter().find(|x| x.state == s);
    if let (Some(s), true) = (marked(State::Waiting), on_desired < expected) {
        out.state = State::Waiting;
        out.run = s.run;
        out.waiting = Some(format!("stage {}: {}", s.name, s.reason.clone().unwrap_or_default()));
    } else if let Some(s) = marked(State::InFlight) {
        out.state = State::InFlight;
        out.run = s.run;
        out.reason = Some(format!("stage {} is being applied", s.name));
    } else if let Some((_, why, run)) = failed_deploy {
        out.state = State::Failed;
        out.reason = Some(why.clone());
        out.run = Some(*run);
    } else if let Some(s) = marked(State::Paused).or_else(|| marked(State::Failed)) {
        out.state = s.state.clone();
        out.run = s.run;
        out.reason = Some(format!("stage {}: {}", s.name, s.reason.clone().unwrap_or_default()));
    } else if let Some(t) = trouble {
        out.state = State::Unhealthy;
        out.reason = Some(t);
    } else if on_desired >= expected && instances.len() == on_desired {
        match stages.iter().find(|s| s.state != State::Converged) {
            None => out.state = State::Converged,
            Some(s) => {
                out.state = State::Unjudged;
                out.run = s.run;
                out.reason = Some(
                    s.reason
                        .clone()
                        .unwrap_or_else(|| format!("stage {}'s gates have not judged this version", s.name)),
                );
            }
        }
    } else if let Some(s) = marked(State::Waiting) {
        out.state = State::Waiting;
        out.waiting = Some(format!("stage {}: {}", s.name, s.reason.clone().unwrap_or_default()));
    }
    out
}
