//! An environment's requirements, enforced when a release's first stage there is reached:
//! a deployment window must be open, the environments it names must have converged, and no
//! change freeze may hold (unless overridden). A stage
//! whose requirement does not hold waits (saying for what, and when a window opens) or, with
//! `--no-wait`, stops the run with the reason. Approvals are waited for in apply.rs.

use crate::apply::StageError;
use crate::event::{Event, Sink, Waiting};
use crate::plan::{ReleasePlan, StagePlan};
use crate::record::Recorder;
use conv_model::{Program, ReleaseName, Requirement};
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

/// The engine's clock for requirements: the real one, or one that starts at a given time
/// (`CONV_NOW`), so that rehearsals and tests do not depend on the time of day.
#[derive(Clone, Copy, Debug, Default)]
pub struct Clock {
    offset_secs: i64,
}

fn real_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Clock {
    /// A clock that reads `unix` now and runs on from there.
    pub fn starting_at(unix: u64) -> Clock {
        Clock { offset_secs: unix as i64 - real_now() as i64 }
    }

    pub fn now(&self) -> u64 {
        (real_now() as i64 + self.offset_secs).max(0) as u64
    }
}

/// How a run treats what it must wait for.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Stop at the first requirement that does not hold, instead of waiting for it.
    pub no_wait: bool,
    pub clock: Clock,
    /// Deploy into a frozen environment anyway, for this reason (`--override-freeze`); the
    /// journal records it.
    pub override_freeze: Option<String>,
}

/// What one run knows of convergence: the journal's results when it began, and the stages
/// that converged since.
#[derive(Debug, Default)]
pub struct Converged {
    pub(crate) in_this_run: Mutex<HashSet<(String, String)>>,
}

/// How often a stage waiting for an environment to converge looks again.
const CONVERGED_POLL: Duration = Duration::from_secs(5);

/// Waits until every requirement of the stage's environment holds (or stops, with
/// `no_wait`). Only a release's first stage in an environment has requirements to meet.
pub(crate) async fn meet(
    program: &Program,
    release: &ReleasePlan,
    stage: &StagePlan,
    options: &Options,
    converged: &Converged,
    events: &Sink,
    rec: &Recorder,
) -> Result<(), StageError> {
    let Some(def) = program.release(&ReleaseName(release.name.clone())) else { return Ok(()) };
    let first_in_env = def.stages.iter().find(|s| s.env == stage.env).is_some_and(|s| s.name == stage.name);
    let Some(env) = program.environment(&stage.env).filter(|_| first_in_env) else { return Ok(()) };
    for req in &env.requires {
        match req {
            Requirement::Window { weekdays, from, until } => {
                let window = format!("{} {from}-{until} UTC", weekdays.join(","));
                let mut told = false;
                while !crate::window::open(weekdays, from, until, options.clock.now()) {
                    let opens = crate::window::next_open(weekdays, from, until, options.clock.now());
                    let when = opens.map(crate::window::format_utc).unwrap_or_else(|| "never".into());
                    let why = format!("the deployment window {window} is closed; it opens {when}");
                    if options.no_wait {
                        return Err(StageError::Waiting(why));
                    }
                    if !told {
                        let on = Waiting::Window { window: window.clone(), opens_at_unix: opens };
                        tell_waiting(release, stage, &why, on, events, rec).await?;
                        told = true;
                    }
                    let Some(opens) = opens else { return Err(StageError::Waiting(why)) };
                    let wait = opens.saturating_sub(options.clock.now()).clamp(1, 60);
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                }
            }
            Requirement::Converged { env: other } => {
                let mine: Vec<&str> = def.stages.iter().filter(|s| &s.env == other).map(|s| s.name.as_str()).collect();
                let mut told = false;
                loop {
                    let results = rec.stage_results().await?;
                    let done = |name: &str| {
                        converged
                            .in_this_run
                            .lock()
                            .is_ok_and(|c| c.contains(&(release.name.clone(), name.to_string())))
                            || results.iter().any(|r| {
                                r.release == release.name
                                    && r.stage == name
                                    && r.versions == release.versions
                                    && r.state == "converged"
                            })
                    };
                    if mine.iter().all(|name| done(name)) {
                        break;
                    }
                    let why = format!("environment {other} has not converged for these versions");
                    if options.no_wait {
                        return Err(StageError::Waiting(why));
                    }
                    if !told {
                        let on = Waiting::Requirement { what: format!("{other} converged") };
                        tell_waiting(release, stage, &why, on, events, rec).await?;
                        told = true;
                    }
                    tokio::time::sleep(CONVERGED_POLL).await;
                }
            }
            Requirement::Freeze { from, until, reason } => {
                check_freeze(release, stage, (from, until, reason), options, events, rec).await?
            }
            // Waited for with the stage's other approvals.
            Requirement::Approval { .. } => {}
        }
    }
    Ok(())
}

/// A freeze is never waited out (it may last weeks): inside it the run stops before the
/// stage, unless overridden, and then the override is recorded before the stage acts.
async fn check_freeze(
    release: &ReleasePlan,
    stage: &StagePlan,
    (from, until, reason): (&str, &str, &str),
    options: &Options,
    events: &Sink,
    rec: &Recorder,
) -> Result<(), StageError> {
    let frozen = crate::freeze::frozen(from, until, options.clock.now())
        .map_err(|e| StageError::Waiting(format!("{e}; apply refuses rather than guess")))?;
    if !frozen {
        return Ok(());
    }
    let why = if reason.is_empty() { String::new() } else { format!(" ({reason})") };
    let freeze = format!("{} is frozen from {from} until {until} UTC{why}", stage.env);
    let Some(override_reason) = &options.override_freeze else {
        return Err(StageError::Waiting(format!("{freeze}; `conv apply --override-freeze REASON` deploys anyway")));
    };
    let detail = format!("{}/{}: {freeze}; overridden: {override_reason}", release.name, stage.name);
    let step = rec.intent("override-freeze", stage.env.as_str(), &detail).await?;
    rec.outcome(step, true, override_reason).await?;
    events(&Event::Warning { message: format!("{freeze}; deploying anyway: {override_reason}") });
    Ok(())
}

/// Records that the stage waits, and why, then tells the event stream: in that order, so that
/// whoever sees `waiting` in the journal also sees the event.
pub(crate) async fn tell_waiting(
    release: &ReleasePlan,
    stage: &StagePlan,
    why: &str,
    on: Waiting,
    events: &Sink,
    rec: &Recorder,
) -> Result<(), crate::record::JournalWriteError> {
    rec.stage(&release.name, &stage.name, stage.env.as_str(), &release.versions, "waiting", why).await?;
    events(&Event::StageWaiting { release: release.name.clone(), stage: stage.name.clone(), on });
    Ok(())
}
