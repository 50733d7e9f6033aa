//! The execution graph: what `conv apply` walks, step by step.
//!
//! Built from the resolved program alone (no IO), deterministically: the same program
//! always gives the same nodes, in the same order, with the same ids. Each release becomes
//! a chain of stages; in each stage, every site gets a deploy step per service, in
//! dependency order, then the stage bakes, then its gates are checked. Each release also
//! carries its rollback path: which services revert, where, in which order.

pub mod build;
mod render;

pub use build::build;
pub use render::{to_dot, to_json, to_mermaid};

use conv_model::{Address, EnvName, Gate, ReleaseName, ServiceName, SiteName};
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    /// Waits for every step before it; marks the start or the end of a stage.
    Barrier { release: ReleaseName, stage: String, label: String },
    /// Waits for `conv approve RELEASE STAGE` by a member of `group`.
    Approval { release: ReleaseName, stage: String, env: EnvName, group: String },
    /// Puts `fraction_percent` of a site's instances of a service on `version`.
    Deploy { address: Address, stage: String, version: String, fraction_percent: f64 },
    /// Holds the stage for `duration_ms` while its gates are watched.
    Bake { release: ReleaseName, stage: String, env: EnvName, duration_ms: u64 },
    /// Checks one gate over the stage's sites.
    GateCheck { release: ReleaseName, stage: String, env: EnvName, service: Option<ServiceName>, gate: Gate },
}

impl Step {
    /// A one-line label in .conv terms.
    pub fn label(&self) -> String {
        match self {
            Step::Barrier { label, .. } => label.clone(),
            Step::Approval { release, stage, group, .. } => format!("approve {release}/{stage} ({group})"),
            Step::Deploy { address, version, fraction_percent, .. } => {
                format!("deploy {address} {version} at {}%", conv_model::program::trim_float(*fraction_percent))
            }
            Step::Bake { release, stage, duration_ms, .. } => {
                format!("bake {release}/{stage} {}", conv_model::program::duration(*duration_ms))
            }
            Step::GateCheck { release, stage, service, gate, .. } => match service {
                Some(s) => format!("gate {release}/{stage}/{s}: {}", gate.describe()),
                None => format!("gate {release}/{stage}: {}", gate.describe()),
            },
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// One stage after the other, and the steps within a stage.
    Sequence,
    /// A service after the services it depends on, on the same site.
    Dependency,
    /// An environment after the environments it is `after`.
    EnvironmentOrder,
}

/// One step of a release's rollback path: `service` on `site` goes back to the version it
/// ran before the release (known at apply time from live state and the journal).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RollbackStep {
    pub address: Address,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReleasePlan {
    pub release: ReleaseName,
    /// Rollback order: the last stage's sites first; on a site, dependents before their dependencies.
    pub rollback: Vec<RollbackStep>,
}

#[derive(Debug)]
pub struct ExecutionGraph {
    pub graph: DiGraph<Step, EdgeKind>,
    pub releases: Vec<ReleasePlan>,
}

impl ExecutionGraph {
    pub fn nodes(&self) -> impl Iterator<Item = (NodeIndex, &Step)> {
        self.graph.node_indices().map(|i| (i, &self.graph[i]))
    }

    /// The sites a stage deploys to, for progress display and failure budgets.
    pub fn stage_sites(&self, release: &ReleaseName, stage: &str) -> Vec<(EnvName, SiteName)> {
        let mut out: Vec<(EnvName, SiteName)> = Vec::new();
        for step in self.graph.node_weights() {
            if let Step::Deploy { address, stage: s, .. } = step
                && address.release.as_ref() == Some(release)
                && s == stage
                && let (Some(e), Some(site)) = (&address.env, &address.site)
            {
                let pair = (e.clone(), site.clone());
                if !out.contains(&pair) {
                    out.push(pair);
                }
            }
        }
        out
    }
}
