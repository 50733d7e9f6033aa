//! Live state: what is running where, as observed.

use conv_model::{EnvName, ServiceName, SiteName};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One instance slot of a service on a site.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub index: u32,
    pub version: String,
    pub port: u16,
    pub pid: u32,
    /// Whether the process was alive when observed.
    pub alive: bool,
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
        let list = self.instances(env, site, service);
        if list.is_empty() {
            return "not running".into();
        }
        list.iter()
            .map(|i| format!("#{} {}{}", i.index, i.version, if i.alive { "" } else { " (dead)" }))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
