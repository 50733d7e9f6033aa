//! The engine's event stream: everything apply, rollback and watch do, as typed events.
//! The terminal view, the JSON-lines log (`--log-format json`) and tests are sinks of it;
//! nothing else reports progress.

use serde::Serialize;
use std::sync::Arc;

/// The version of the JSON-lines log's shape; bumped on any incompatible change.
pub const EVENT_SCHEMA_VERSION: u32 = 1;

/// What a waiting stage waits for.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Waiting {
    Approval {
        group: String,
        command: String,
    },
    /// A deployment window that is closed; when it opens next (`None`: never).
    Window {
        window: String,
        opens_at_unix: Option<u64>,
    },
    /// Another requirement, such as `staging converged`.
    Requirement {
        what: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        releases: usize,
        changes: usize,
    },
    /// The stage is done already: the journal records it converged for these versions.
    StageConverged {
        release: String,
        stage: String,
        env: String,
    },
    /// Nothing to deploy, but the stage's gates judge what runs again, and why.
    StageRejudged {
        release: String,
        stage: String,
        why: String,
    },
    StageWaiting {
        release: String,
        stage: String,
        on: Waiting,
    },
    Approved {
        release: String,
        stage: String,
        by: String,
    },
    StageStarted {
        release: String,
        stage: String,
        env: String,
        sites: usize,
        fraction_percent: f64,
    },
    SiteDeployStarted {
        release: String,
        stage: String,
        site: String,
    },
    /// An instance runs its new version and answers (`address` names env, site and service).
    InstanceUp {
        address: String,
        index: u32,
        version: String,
        at: String,
    },
    InstanceStopped {
        address: String,
        index: u32,
    },
    SiteDone {
        release: String,
        stage: String,
        site: String,
    },
    SiteFailed {
        release: String,
        stage: String,
        site: String,
        reason: String,
    },
    /// Some sites failed, no more than the stage's failure budget allows.
    FailedWithinBudget {
        release: String,
        stage: String,
        sites: Vec<String>,
        budget: usize,
    },
    BakeStarted {
        release: String,
        stage: String,
        duration_ms: u64,
        ends_at_unix_ms: u64,
        checks: usize,
    },
    /// One gate judged on one site: `value` against `threshold` where the gate has them.
    GateReading {
        release: String,
        stage: String,
        site: String,
        service: String,
        gate: String,
        value: Option<f64>,
        threshold: Option<f64>,
        passed: bool,
        detail: String,
        /// A reading so far in the bake, for the views; the verdict is the reading at its end.
        #[serde(default)]
        interim: bool,
    },
    GatesPassed {
        release: String,
        stage: String,
    },
    StageDone {
        release: String,
        stage: String,
    },
    StageFailed {
        release: String,
        stage: String,
        reason: String,
    },
    RollbackStarted {
        release: String,
    },
    RollbackStep {
        address: String,
        index: u32,
        to: String,
        ok: bool,
        detail: String,
    },
    ReleaseConverged {
        release: String,
    },
    ReleasePaused {
        release: String,
        stage: String,
    },
    ReleaseFailed {
        release: String,
        stage: String,
    },
    Warning {
        message: String,
    },
    RunEnded {
        outcome: String,
    },
}

impl Event {
    /// The event's name in the JSON log: `stage_started`, `gate_reading`, ...
    pub fn kind(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("event").and_then(|k| k.as_str().map(str::to_string)))
            .unwrap_or_default()
    }
}

/// Where events go. Cheap to clone; called from the engine's tasks.
pub type Sink = Arc<dyn Fn(&Event) + Send + Sync>;

/// A sink that drops everything.
pub fn discard() -> Sink {
    Arc::new(|_| {})
}

/// A sink that feeds several.
pub fn fan_out(sinks: Vec<Sink>) -> Sink {
    Arc::new(move |e| sinks.iter().for_each(|s| s(e)))
}

/// One line of the JSON-lines log: `{"v":1,"at_ms":...,"event":"stage_started",...}`.
pub fn json_line(event: &Event) -> String {
    let at_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let mut value = serde_json::to_value(event).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.insert("v".into(), EVENT_SCHEMA_VERSION.into());
        map.insert("at_ms".into(), serde_json::Value::from(at_ms as u64));
    }
    value.to_string()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The event as a line for people, or `None` for events a terminal does not show alone.
pub fn text_line(event: &Event) -> Option<String> {
    use conv_model::program::{duration, trim_float};
    Some(match event {
        Event::RunStarted { .. } | Event::SiteDeployStarted { .. } | Event::SiteDone { .. } => return None,
        Event::StageConverged { release, stage, env } => format!("stage {release}/{stage}: {env} already converged"),
        Event::StageRejudged { release, stage, why } => {
            format!("stage {release}/{stage}: nothing to deploy, but {why}; baking it again")
        }
        Event::StageWaiting { on: Waiting::Approval { group, command }, .. } => {
            format!("waiting for approval by {group}: run `{command}`")
        }
        Event::StageWaiting { release, stage, on: Waiting::Window { window, opens_at_unix } } => format!(
            "stage {release}/{stage} waits for its deployment window ({window}), which opens {}",
            opens_at_unix.map(crate::window::format_utc).unwrap_or_else(|| "never".into())
        ),
        Event::StageWaiting { release, stage, on: Waiting::Requirement { what } } => {
            format!("stage {release}/{stage} waits until {what}")
        }
        Event::Approved { release, stage, by } => format!("stage {release}/{stage} approved by {by}"),
        Event::StageStarted { release, stage, env, sites, fraction_percent } => format!(
            "stage {release}/{stage}: {sites} site{} of {env} at {}%",
            plural(*sites),
            trim_float(*fraction_percent)
        ),
        Event::InstanceUp { address, index, version, at } => format!("  {address} #{index} {version} up {at}"),
        Event::InstanceStopped { address, index } => format!("  {address} #{index} stopped"),
        Event::SiteFailed { site, reason, .. } => format!("  {site} failed: {reason}"),
        Event::FailedWithinBudget { sites, budget, .. } => format!(
            "  {} site{} failed within the stage's budget of {budget}: {}; the next apply retries {}",
            sites.len(),
            plural(sites.len()),
            sites.join(", "),
            if sites.len() == 1 { "it" } else { "them" }
        ),
        Event::BakeStarted { stage, duration_ms, checks, .. } => {
            format!("  baking {stage} for {}: {checks} gate check{}", duration(*duration_ms), plural(*checks))
        }
        // A failed reading is told once, as the stage's failure.
        Event::GateReading { .. } => return None,
        Event::GatesPassed { stage, .. } => format!("  gates of {stage} passed"),
        Event::StageDone { release, stage } => format!("stage {release}/{stage} done"),
        Event::StageFailed { release, stage, reason } => format!("stage {release}/{stage} failed: {reason}"),
        Event::RollbackStarted { release } => format!("rolling back release {release}"),
        Event::RollbackStep { address, index, to, ok: true, detail } if detail.is_empty() => {
            format!("  {address} #{index} back to {to}")
        }
        Event::RollbackStep { address, index, ok: true, detail, .. } => format!("  {address} #{index} {detail}"),
        Event::RollbackStep { address, index, to, detail, .. } => {
            format!("  {address} #{index} could not go back to {to}: {detail}")
        }
        Event::ReleaseConverged { release } => format!("release {release} converged"),
        Event::ReleasePaused { release, .. } => format!(
            "release {release} pauses here (on_failure = pause); fix forward with a new version, or `conv rollback {release}`"
        ),
        Event::ReleaseFailed { .. } | Event::RunEnded { .. } => return None,
        Event::Warning { message } => format!("warning: {message}"),
    })
}
