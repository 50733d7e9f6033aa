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

/// What an instance was started with, besides its version: the command (before `{port}`
/// and the like are filled in) and its environment (the command's `env` and the service's
/// `config`). A change to either is a planned change, like a new version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
}

impl Spec {
    /// What the program asks a service to run with. A secret is its reference,
    /// `(secret env NAME)`: specs are written down, values never are.
    pub fn of(service: &conv_model::Service) -> Spec {
        let mut spec = match &service.run {
            conv_model::Run::Command { argv, env } => {
                let mut all = env.clone();
                all.extend(service.config.iter().map(|(k, v)| (k.clone(), v.clone())));
                Spec { argv: argv.clone(), env: all }
            }
            conv_model::Run::Image { name, tag } => Spec {
                argv: vec![match tag {
                    Some(t) => format!("{name}:{t}"),
                    None => name.clone(),
                }],
                env: service.config.clone(),
            },
        };
        spec.env.extend(service.secrets.iter().map(|(k, source)| (k.clone(), source.reference())));
        spec
    }

    /// A short, stable fingerprint (FNV-1a), recorded with known-good versions for drift.
    pub fn fingerprint(&self) -> String {
        let mut h: u64 = 0xcbf29ce484222325;
        let parts = self.argv.iter().chain(self.env.iter().flat_map(|(k, v)| [k, v]));
        for p in parts {
            for b in p.bytes().chain(std::iter::once(0)) {
                h ^= b as u64;
                h = h.wrapping_mul(0x100000001b3);
            }
        }
        format!("{h:016x}")
    }

    /// What differs from `desired`, a line each: `config LOG_LEVEL: "info" -> "debug"`.
    pub fn differences(&self, desired: &Spec) -> Vec<String> {
        let mut out = Vec::new();
        if self.argv != desired.argv {
            out.push(format!("command: {:?} -> {:?}", self.argv.join(" "), desired.argv.join(" ")));
        }
        let keys: std::collections::BTreeSet<&String> = self.env.keys().chain(desired.env.keys()).collect();
        for k in keys {
            match (self.env.get(k), desired.env.get(k)) {
                (Some(a), Some(b)) if a != b => out.push(format!("config {k}: {a:?} -> {b:?}")),
                (Some(a), None) => out.push(format!("config {k}: {a:?} -> (unset)")),
                (None, Some(b)) => out.push(format!("config {k}: (unset) -> {b:?}")),
                _ => {}
            }
        }
        out
    }
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
    /// What it was started with; `None` for records older than specs.
    #[serde(default)]
    pub spec: Option<Spec>,
}

impl Instance {
    /// Up and answering on its own port: the only state that counts as running a version.
    pub fn serving(&self) -> bool {
        self.alive && self.health == Health::Serving
    }

    /// Whether it runs `version` with `spec`, as the program asks (an unrecorded spec counts
    /// as the same, so that older records do not all churn at once).
    pub fn runs(&self, version: &str, spec: &Spec) -> bool {
        self.version == version && self.spec.as_ref().is_none_or(|s| s == spec)
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
    /// Sites that could not be observed (`production["eu-1"]`), with why: what runs there is
    /// unknown, and a plan says so rather than take them for empty in silence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unobserved: Vec<(String, String)>,
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
