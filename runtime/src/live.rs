//! Live state: what is running where, as observed, and whether it serves.

use conv_model::{EnvName, ServiceName, SiteName};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Whether an instance does its job, as far as observing can tell: its process lives, its
/// port is its own, and it answers there. What it answers is for the gates to judge.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum Health {
    #[default]
    Serving,
    /// The process is gone; `Some(who)` when another program now listens on its port.
    Dead(Option<String>),
    /// Alive, but does not answer on its port (hung, stopped, deadlocked).
    NotAnswering,
    /// Alive, but another program listens on its port.
    PortTaken(String),
}

/// One instance slot of a service on a site.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub index: u32,
    pub version: String,
    pub port: u16,
    pub pid: u32,
    /// Whether the process was alive when observed.
    pub alive: bool,
    #[serde(default)]
    pub health: Health,
}

impl Instance {
    /// Up and answering on its own port: the only state that counts as running a version.
    pub fn serving(&self) -> bool {
        self.alive && self.health == Health::Serving
    }

    /// Why it does not serve, in a few stable words (plans are compared by this text).
    pub fn trouble(&self) -> Option<String> {
        match (&self.health, self.alive) {
            (Health::Serving, true) => None,
            (Health::Serving, false) | (Health::Dead(None), _) => Some("dead".into()),
            (Health::Dead(Some(who)), _) => Some(format!("dead; port {} answered by {who}", self.port)),
            (Health::NotAnswering, _) => Some(format!("alive but not answering on port {}", self.port)),
            (Health::PortTaken(who), _) => Some(format!("port {} taken by {who}", self.port)),
        }
    }
}

/// Keyed by environment, site and service; instances sorted by index.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveState {
    pub sites: BTreeMap<(EnvName, SiteName, ServiceName), Vec<Instance>>,
}

impl LiveState {
    pub fn instances(&self, env: &EnvName, site: &SiteName, service: &ServiceName) -> &[Instance] {
        self.sites.get(&(env.clone(), site.clone(), service.clone())).map(Vec::as_slice).unwrap_or(&[])
    }

    /// A short, stable text of one site's state, for fingerprints and diffs.
    pub fn describe(&self, env: &EnvName, site: &SiteName, service: &ServiceName) -> String {
        describe(self.instances(env, site, service))
    }
}

pub fn describe(list: &[Instance]) -> String {
    if list.is_empty() {
        return "not running".into();
    }
    list.iter()
        .map(|i| match i.trouble() {
            None => format!("#{} {}", i.index, i.version),
            Some(why) => format!("#{} {} ({why})", i.index, i.version),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
