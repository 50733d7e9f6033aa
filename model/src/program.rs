//! The resolved program: every default applied, every template expanded, every reference a
//! name that is known to exist. Serialized by `conv eval --format json` and saved in plans.

use crate::address::{EnvName, ReleaseName, ServiceName, SiteName};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of the JSON shape of [`Program`]; bumped on any incompatible change.
pub const PROGRAM_SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Program {
    pub schema_version: u32,
    /// In declaration order: files sorted by path, then source order.
    pub environments: Vec<Environment>,
    pub services: Vec<Service>,
    pub releases: Vec<Release>,
}

impl Program {
    pub fn environment(&self, name: &EnvName) -> Option<&Environment> {
        self.environments.iter().find(|e| &e.name == name)
    }

    pub fn service(&self, name: &ServiceName) -> Option<&Service> {
        self.services.iter().find(|s| &s.name == name)
    }

    pub fn release(&self, name: &ReleaseName) -> Option<&Release> {
        self.releases.iter().find(|r| &r.name == name)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub name: EnvName,
    pub provider: Provider,
    pub sites: Vec<SiteName>,
    pub after: Vec<EnvName>,
    pub requires: Vec<Requirement>,
    pub critical: bool,
    pub prometheus: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<Notify>,
}

/// Where a secret's value is read when an instance starts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum SecretSource {
    Env { name: String },
    File { path: String },
}

impl SecretSource {
    /// How plans, specs and logs show it: `(secret env SHOP_DB_PASSWORD)`.
    pub fn reference(&self) -> String {
        match self {
            SecretSource::Env { name } => format!("(secret env {name})"),
            SecretSource::File { path } => format!("(secret file {path})"),
        }
    }
}

/// Where news of rollouts goes: a webhook and the events it takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notify {
    pub url: String,
    pub events: Vec<NotifyEvent>,
    pub format: NotifyFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyEvent {
    StageStarted,
    WaitingForApproval,
    GateFailed,
    RolledBack,
    Paused,
    Converged,
    Failed,
}

impl NotifyEvent {
    pub fn from_name(name: &str) -> Option<NotifyEvent> {
        Some(match name {
            "stage_started" => NotifyEvent::StageStarted,
            "waiting_for_approval" => NotifyEvent::WaitingForApproval,
            "gate_failed" => NotifyEvent::GateFailed,
            "rolled_back" => NotifyEvent::RolledBack,
            "paused" => NotifyEvent::Paused,
            "converged" => NotifyEvent::Converged,
            "failed" => NotifyEvent::Failed,
            _ => return None,
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            NotifyEvent::StageStarted => "stage_started",
            NotifyEvent::WaitingForApproval => "waiting_for_approval",
            NotifyEvent::GateFailed => "gate_failed",
            NotifyEvent::RolledBack => "rolled_back",
            NotifyEvent::Paused => "paused",
            NotifyEvent::Converged => "converged",
            NotifyEvent::Failed => "failed",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyFormat {
    #[default]
    Json,
    Slack,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Provider {
    Local { instances_per_site: u32, base_port: u16 },
    Kubernetes { context: Option<String>, namespace: String },
    Simulator { seed: u64, failure_rate_percent: f64, latency_ms: u64 },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Requirement {
    Approval {
        group: String,
    },
    Converged {
        env: EnvName,
    },
    Window {
        weekdays: Vec<String>,
        from: String,
        until: String,
    },
    /// No rollout starts in the environment between the two moments (UTC), unless overridden.
    Freeze {
        from: String,
        until: String,
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub name: ServiceName,
    pub run: Run,
    pub version: String,
    pub replicas: Option<u32>,
    pub config: BTreeMap<String, String>,
    /// Environment variables whose values are secrets: where to read each, never the value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, SecretSource>,
    pub ports: Vec<u16>,
    pub depends_on: Vec<ServiceName>,
    pub gates: Vec<Gate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Run {
    Command { argv: Vec<String>, env: BTreeMap<String, String> },
    Image { name: String, tag: Option<String> },
}

/// Over what a metrics gate is judged: each site on its own instances (the default), or the
/// whole environment at once, when the gate asks for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateScope {
    #[default]
    Site,
    Environment,
}

impl GateScope {
    pub fn is_site(&self) -> bool {
        *self == GateScope::Site
    }
}

/// A health condition; percentages are in percent points (`99.9` for `99.9%`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Gate {
    Latency {
        quantile_percent: f64,
        under_ms: u64,
        window_ms: u64,
        #[serde(default, skip_serializing_if = "GateScope::is_site")]
        scope: GateScope,
    },
    ErrorRate {
        under_percent: f64,
        window_ms: u64,
        #[serde(default, skip_serializing_if = "GateScope::is_site")]
        scope: GateScope,
    },
    Http {
        path: String,
        timeout_ms: u64,
        window_ms: u64,
    },
    Query {
        promql: String,
        max: f64,
        window_ms: u64,
    },
    Approval {
        group: String,
    },
}

impl Gate {
    /// How long the condition must hold; approvals have no window.
    pub fn window_ms(&self) -> Option<u64> {
        match self {
            Gate::Latency { window_ms, .. }
            | Gate::ErrorRate { window_ms, .. }
            | Gate::Http { window_ms, .. }
            | Gate::Query { window_ms, .. } => Some(*window_ms),
            Gate::Approval { .. } => None,
        }
    }

    /// A short description in .conv terms, such as `p99 latency under 250ms over 30s`.
    pub fn describe(&self) -> String {
        match self {
            Gate::Latency { quantile_percent, under_ms, window_ms, scope } => {
                format!(
                    "p{} latency under {} over {}{}",
                    trim_float(*quantile_percent),
                    duration(*under_ms),
                    duration(*window_ms),
                    scope_words(*scope)
                )
            }
            Gate::ErrorRate { under_percent, window_ms, scope } => {
                format!(
                    "error rate under {}% over {}{}",
                    trim_float(*under_percent),
                    duration(*window_ms),
                    scope_words(*scope)
                )
            }
            Gate::Http { path, timeout_ms, window_ms } => {
                format!("GET {path} answers 2xx within {} for {}", duration(*timeout_ms), duration(*window_ms))
            }
            Gate::Query { promql, max, window_ms } => {
                format!("{promql} at most {} over {}", trim_float(*max), duration(*window_ms))
            }
            Gate::Approval { group } => format!("approval by {group}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub name: ReleaseName,
    pub services: Vec<ServiceName>,
    pub stages: Vec<Stage>,
    pub on_failure: OnFailure,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<Notify>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub name: String,
    pub env: EnvName,
    /// Percent points of the environment's instances on the new version when the stage is done.
    pub fraction_percent: f64,
    pub bake_ms: u64,
    /// Sites updated at once; `None` means no limit.
    pub max_parallel: Option<u32>,
    /// Percent points of the stage's sites that may fail before the stage fails.
    pub max_failures_percent: f64,
    pub gates: Vec<Gate>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    Rollback,
    Pause,
}

/// ` across the environment` for a gate judged environment-wide; per site, nothing.
fn scope_words(scope: GateScope) -> &'static str {
    match scope {
        GateScope::Site => "",
        GateScope::Environment => " across the environment",
    }
}

/// Formats milliseconds the way .conv writes them: the largest whole unit (`90s`, `2m`).
pub fn duration(ms: u64) -> String {
    const UNITS: [(u64, &str); 5] = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1_000, "s"), (1, "ms")];
    if ms == 0 {
        return "0s".into();
    }
    for (size, unit) in UNITS {
        if ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// `1.0` as `1`, `99.9` as `99.9`.
pub fn trim_float(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
