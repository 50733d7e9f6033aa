//! The plan: live state diffed with the program, stage by stage, with each release's
//! rollback path. Versioned and serializable: a saved plan alone is enough to apply.

use crate::live::{Instance, LiveState};
use crate::local::{Ports, instance_count};
use conv_model::{Address, EnvName, OnFailure, Program, Release, Requirement, ServiceName, SiteName, Stage};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of the JSON shape of [`Plan`]; bumped on any incompatible change.
pub const PLAN_SCHEMA_VERSION: u32 = 4;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    pub schema_version: u32,
    /// The program root whose `.conv/` holds the live records (absolute).
    pub root: std::path::PathBuf,
    /// The resolved program the plan was made from.
    pub program: Program,
    /// What each site and service ran when the plan was made (`env["site"]/service` -> state).
    pub live: BTreeMap<String, String>,
    pub releases: Vec<ReleasePlan>,
    /// What the program does that is probably not meant: a stage that deploys nothing.
    #[serde(default)]
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReleasePlan {
    pub name: String,
    pub on_failure: OnFailure,
    /// The versions of the release's services this plan ships (`api=1.2.0,db=2.0.1`): what
    /// the journal's stage results are recorded for.
    pub versions: String,
    pub stages: Vec<StagePlan>,
    /// On failure, the services go back in this order.
    pub rollback: Vec<Address>,
}

/// What a stage of the program does in this plan. Its settings (fraction, bake, limits,
/// gates) are the program's: [`StagePlan::settings`] reads them from the program the plan
/// carries, so that a plan never holds a second copy to disagree with.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StagePlan {
    pub name: String,
    pub env: EnvName,
    /// Groups whose approval the stage waits for.
    pub approvals: Vec<String>,
    /// The gates checked while the stage bakes, described in .conv terms.
    pub gates: Vec<String>,
    pub sites: Vec<SitePlan>,
    /// Why the stage bakes and checks its gates again though nothing is left to deploy: it
    /// was interrupted, paused or failed, or never judged these versions. `None`: the journal
    /// records it converged for them (or there is no journal to ask).
    #[serde(default)]
    pub judge: Option<String>,
}

impl StagePlan {
    /// The program's stage this plan is for (`None` only in a plan whose program lacks it,
    /// which [`read_saved`] refuses).
    pub fn settings<'p>(&self, program: &'p Program, release: &str) -> Option<&'p Stage> {
        program.releases.iter().find(|r| r.name.as_str() == release)?.stages.iter().find(|s| s.name == self.name)
    }

    pub fn has_changes(&self) -> bool {
        self.sites.iter().any(|s| !s.changes.is_empty())
    }

    /// Whether applying does anything in this stage: deploys, or judges again.
    pub fn has_work(&self) -> bool {
        self.has_changes() || self.judge.is_some()
    }
}

/// What a change does to the instance slots it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Starts instances in empty slots.
    Start,
    /// Replaces what runs in the slots (another version, or an instance that does not serve).
    Replace,
    /// Stops the slots: the program wants fewer instances.
    Stop,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SitePlan {
    pub site: SiteName,
    pub changes: Vec<Change>,
}

/// One service on one site: which instance slots start which version.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Change {
    pub service: ServiceName,
    pub action: Action,
    pub version: String,
    /// The slot of each instance to start, replace (on `version`) or stop. Where an instance
    /// runs (a port, a pod) is its provider's to say.
    pub instances: Vec<u32>,
    pub from: String,
    pub to: String,
    /// The program already had this version here and live state moved away from it: a hand
    /// edit, a dead process. Applying converges it back.
    #[serde(default)]
    pub drift: bool,
    /// Why this site and service failed in the last run, when it did: the apply retries it.
    #[serde(default)]
    pub retry: Option<String>,
    /// What else changes besides the version: `config LOG_LEVEL: "info" -> "debug"`.
    #[serde(default)]
    pub what: Vec<String>,
}

impl Plan {
    pub fn change_count(&self) -> usize {
        self.releases.iter().flat_map(|r| &r.stages).flat_map(|s| &s.sites).map(|s| s.changes.len()).sum()
    }

    pub fn has_changes(&self) -> bool {
        self.change_count() > 0
    }

    /// Changes to make or stages to judge again: `conv apply` has something to do.
    pub fn has_work(&self) -> bool {
        self.releases.iter().flat_map(|r| &r.stages).any(StagePlan::has_work)
    }
}

/// The versions of a release's services, sorted by service: `api=1.2.0,db=2.0.1`.
pub fn release_versions(program: &Program, release: &Release) -> String {
    let mut parts: Vec<String> = release
        .services
        .iter()
        .filter_map(|s| program.service(s))
        .map(|s| format!("{}={}", s.name, s.version))
        .collect();
    parts.sort();
    parts.join(",")
}

pub fn address(env: &EnvName, site: &SiteName, service: &ServiceName) -> String {
    format!("{env}[{:?}]/{service}", site.as_str())
}

/// The stable text of live state the plan was made against, per site and service.
pub fn fingerprint(program: &Program, live: &LiveState) -> BTreeMap<String, String> {
    let state: std::collections::HashMap<(&str, &str, &str), &[Instance]> =
        live.sites.iter().map(|((e, s, v), list)| ((e.as_str(), s.as_str(), v.as_str()), list.as_slice())).collect();
    let mut out = BTreeMap::new();
    for env in &program.environments {
        for site in &env.sites {
            for service in &program.services {
                let key = (env.name.as_str(), site.as_str(), service.name.as_str());
                let list = state.get(&key).copied().unwrap_or(&[]);
                out.insert(address(&env.name, site, &service.name), crate::live::describe(list));
            }
        }
    }
    out
}

/// Live state keyed by borrowed names, so that looking a site up allocates nothing.
fn by_name(live: &LiveState) -> std::collections::HashMap<(&str, &str, &str), Vec<Instance>> {
    live.sites.iter().map(|((e, s, v), list)| ((e.as_str(), s.as_str(), v.as_str()), list.clone())).collect()
}

/// Diffs live state with the program, simulating each stage on the state the stages before
/// it leave, so that instances already on the new version are never touched again.
pub fn make_plan(root: &std::path::Path, program: &Program, live: &LiveState) -> Plan {
    let ports = Ports::new(program);
    let mut simulated = by_name(live);
    // What each service should run, worked out once rather than per site.
    let specs: Vec<crate::live::Spec> = program.services.iter().map(crate::live::Spec::of).collect();
    let mut releases = Vec::new();
    for release in &program.releases {
        let order = conv_graph::build::start_order(program, release);
        let order_indexes: Vec<(usize, &ServiceName)> = order
            .iter()
            .filter_map(|name| program.services.iter().position(|s| &s.name == name).map(|i| (i, name)))
            .collect();
        let mut stages = Vec::new();
        for stage in &release.stages {
            let Some(env_index) = program.environments.iter().position(|e| e.name == stage.env) else { continue };
            let env = &program.environments[env_index];
            let last_stage = last_in_env(release, &stage.name, &env.name);
            let totals: Vec<u32> =
                order_indexes.iter().map(|(_, name)| instance_count(program, &env.name, name)).collect();
            let mut sites = Vec::new();
            for (site_index, site) in env.sites.iter().enumerate() {
                let mut changes = Vec::new();
                for (&(service_index, service_name), &total) in order_indexes.iter().zip(&totals) {
                    let service = &program.services[service_index];
                    let wanted = ((total as f64) * stage.fraction_percent / 100.0).ceil().max(1.0) as u32;
                    let key = (env.name.as_str(), site.as_str(), service.name.as_str());
                    let current = simulated.remove(&key).unwrap_or_default();
                    let from = crate::live::describe(&current);
                    let spec = &specs[service_index];
                    let mut what: Vec<String> = Vec::new();
                    let mut instances = Vec::new();
                    let mut replaces = false;
                    let mut next: Vec<Instance> = current.clone();
                    for index in 0..wanted.min(total) {
                        let slot = current.iter().find(|i| i.index == index);
                        let ok = slot.is_some_and(|i| i.serving() && i.runs(&service.version, spec));
                        if let Some(old) = slot.and_then(|i| i.spec.as_ref()).filter(|_| !ok) {
                            for line in old.differences(spec) {
                                if !what.contains(&line) {
                                    what.push(line);
                                }
                            }
                        }
                        if !ok {
                            let port = ports.port_at(env_index, site_index, service_index, index);
                            instances.push(index);
                            replaces |= current.iter().any(|i| i.index == index);
                            next.retain(|i| i.index != index);
                            next.push(Instance {
                                index,
                                version: service.version.clone(),
                                port,
                                pid: 0,
                                alive: true,
                                health: Default::default(),
                                // What the stage leaves runs the wanted spec; `None` reads so.
                                spec: None,
                            });
                        }
                    }
                    // The last stage in an environment stops the slots the program no longer has.
                    let surplus: Vec<u32> = if last_stage {
                        current.iter().filter(|i| i.index >= total).map(|i| i.index).collect()
                    } else {
                        Vec::new()
                    };
                    next.retain(|i| i.index < total || !last_stage);
                    next.sort_by_key(|i| i.index);
                    let to = crate::live::describe(&next);
                    simulated.insert(key, next);
                    if !instances.is_empty() {
                        changes.push(Change {
                            service: service_name.clone(),
                            action: if replaces { Action::Replace } else { Action::Start },
                            version: service.version.clone(),
                            instances,
                            from: from.clone(),
                            to: to.clone(),
                            drift: false,
                            retry: None,
                            what,
                        });
                    }
                    if !surplus.is_empty() {
                        changes.push(Change {
                            service: service_name.clone(),
                            action: Action::Stop,
                            version: service.version.clone(),
                            instances: surplus,
                            from,
                            to,
                            drift: false,
                            retry: None,
                            what: Vec::new(),
                        });
                    }
                }
                sites.push(SitePlan { site: site.clone(), changes });
            }
            let approvals = if release.stages.iter().position(|s| s.env == stage.env)
                == release.stages.iter().position(|s| s.name == stage.name)
            {
                env.requires
                    .iter()
                    .filter_map(|r| match r {
                        Requirement::Approval { group } => Some(group.clone()),
                        _ => None,
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let mut gates: Vec<String> = stage.gates.iter().map(|g| g.describe()).collect();
            for s in &order {
                if let Some(svc) = program.service(s) {
                    gates.extend(svc.gates.iter().map(|g| format!("{s}: {}", g.describe())));
                }
            }
            stages.push(StagePlan {
                name: stage.name.clone(),
                env: stage.env.clone(),
                approvals,
                gates,
                sites,
                judge: None,
            });
        }
        let rollback =
            conv_graph::build::rollback_path(program, release, &order).into_iter().map(|s| s.address).collect();
        releases.push(ReleasePlan {
            name: release.name.to_string(),
            on_failure: release.on_failure,
            versions: release_versions(program, release),
            stages,
            rollback,
        });
    }
    Plan {
        schema_version: PLAN_SCHEMA_VERSION,
        root: std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf()),
        program: program.clone(),
        live: fingerprint(program, live),
        releases,
        warnings: crate::plan_warnings::idle_stages(program)
            .into_iter()
            .chain(live.unobserved.iter().map(|(site, why)| {
                format!("{site} could not be observed ({why}); the plan takes it for running nothing")
            }))
            .collect(),
    }
}

/// Why a saved plan cannot be applied.
#[derive(Debug, PartialEq)]
pub enum SavedPlanError {
    /// The file cannot be read or is not a plan.
    Unreadable(String),
    /// Written by a conv with another plan schema.
    Schema { found: u32 },
    /// A stage of the plan is not in the program it carries: the file was edited.
    Inconsistent(String),
    /// Live state changed since the plan was made: `(site address, then, now)` per site.
    Stale(Vec<(String, String, String)>),
}

impl std::fmt::Display for SavedPlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SavedPlanError::Unreadable(why) => write!(f, "{why}"),
            SavedPlanError::Schema { found } => {
                write!(f, "it has plan schema {found}; this conv reads schema {PLAN_SCHEMA_VERSION}")
            }
            SavedPlanError::Inconsistent(why) => write!(f, "{why}"),
            SavedPlanError::Stale(sites) => {
                write!(f, "live state changed since the plan was made at {} sites", sites.len())
            }
        }
    }
}

/// Reads a plan saved by `conv plan -o`, refusing another schema and a plan whose stages
/// are not all in the program it carries.
pub fn read_saved(path: &std::path::Path) -> Result<Plan, SavedPlanError> {
    let text = std::fs::read_to_string(path).map_err(|e| SavedPlanError::Unreadable(e.to_string()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| SavedPlanError::Unreadable(e.to_string()))?;
    let found = value.get("schema_version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
    if found != PLAN_SCHEMA_VERSION {
        return Err(SavedPlanError::Schema { found });
    }
    let plan: Plan = serde_json::from_value(value).map_err(|e| SavedPlanError::Unreadable(e.to_string()))?;
    for r in &plan.releases {
        for s in &r.stages {
            if s.settings(&plan.program, &r.name).is_none() {
                return Err(SavedPlanError::Inconsistent(format!(
                    "stage `{}` of release `{}` is not in the program the plan carries",
                    s.name, r.name
                )));
            }
        }
    }
    Ok(plan)
}

/// Whether `stage` is the release's last stage in `env`: the one that reaches its full count.
fn last_in_env(release: &Release, stage: &str, env: &EnvName) -> bool {
    release.stages.iter().rev().find(|s| &s.env == env).is_some_and(|s| s.name == stage)
}

/// Marks the stages that must bake and check their gates again though nothing is left to
/// deploy: every stage whose journal result is not `converged` for the versions planned.
pub fn mark_judging(plan: &mut Plan, results: &[conv_journal::StageResult]) {
    for r in &mut plan.releases {
        for s in &mut r.stages {
            if s.has_changes() {
                continue;
            }
            let found = results.iter().find(|x| x.release == r.name && x.stage == s.name);
            s.judge = match found {
                Some(x) if x.versions == r.versions && x.state == "converged" => None,
                Some(x) if x.versions == r.versions && x.state == "running" => {
                    Some(format!("run {} stopped before this stage finished", x.run))
                }
                Some(x) if x.versions == r.versions => Some(format!("{} in run {}: {}", x.state, x.run, x.reason)),
                _ => Some("its gates have not judged these versions yet".into()),
            };
        }
    }
}

/// The sites whose live state differs from what the plan was made against.
pub fn stale_sites(plan: &Plan, live: &LiveState) -> Vec<(String, String, String)> {
    let now = fingerprint(&plan.program, live);
    let mut out = Vec::new();
    for (addr, then) in &plan.live {
        let current = now.get(addr).cloned().unwrap_or_else(|| "not running".into());
        if &current != then {
            out.push((addr.clone(), then.clone(), current));
        }
    }
    out
}

/// `(env, site, service) -> (version, instances, spec fingerprint)` as the journal last saw
/// them converged.
pub type KnownGood = std::collections::BTreeMap<(String, String, String), (String, u32, String)>;

/// Marks the changes that only restore what was last applied as drift.
pub fn mark_drift(plan: &mut Plan, known: &KnownGood) {
    let program = &plan.program;
    let desired: std::collections::HashMap<&ServiceName, String> =
        program.services.iter().map(|svc| (&svc.name, crate::live::Spec::of(svc).fingerprint())).collect();
    for r in &mut plan.releases {
        for s in &mut r.stages {
            for site in &mut s.sites {
                for c in &mut site.changes {
                    let key = (s.env.to_string(), site.site.to_string(), c.service.to_string());
                    let desired = desired.get(&c.service);
                    let restores = known
                        .get(&key)
                        .is_some_and(|(v, _, spec)| *v == c.version && (spec.is_empty() || Some(spec) == desired));
                    // Stopping slots the program dropped is a program change, never drift.
                    if restores && c.action != Action::Stop {
                        c.drift = true;
                    }
                }
            }
        }
    }
}

/// One difference between live state and what was last applied.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Drift {
    pub address: String,
    pub expected: String,
    pub found: String,
}

/// Live state against the journal's known-good versions.
pub fn drift(program: &Program, live: &LiveState, known: &KnownGood) -> Vec<Drift> {
    let mut out = Vec::new();
    for ((env, site, service), (version, count, spec)) in known {
        let key = (EnvName(env.clone()), SiteName(site.clone()), ServiceName(service.clone()));
        if program.environment(&key.0).is_none() {
            continue;
        }
        let instances = live.sites.get(&key).cloned().unwrap_or_default();
        // What ran is compared field by field with what was applied: version and spec.
        let same_spec = |i: &Instance| spec.is_empty() || i.spec.as_ref().is_none_or(|s| &s.fingerprint() == spec);
        let good = instances.iter().filter(|i| i.serving() && &i.version == version && same_spec(i)).count() as u32;
        let others = instances.iter().any(|i| !i.serving() || &i.version != version || !same_spec(i));
        if good < *count || others {
            let mut found = live.describe(&key.0, &key.1, &key.2);
            if instances.iter().any(|i| !same_spec(i)) {
                found.push_str(" (its command or config differs from what was applied)");
            }
            out.push(Drift {
                address: address(&key.0, &key.1, &key.2),
                expected: format!("{count} x {version}"),
                found,
            });
        }
    }
    out
}

/// Marks the changes of sites whose last run failed there, with the reason.
pub fn mark_retries(plan: &mut Plan, failures: &[(String, String, i64)]) {
    if failures.is_empty() {
        return;
    }
    for r in &mut plan.releases {
        for s in &mut r.stages {
            for site in &mut s.sites {
                for c in &mut site.changes {
                    let here = |a: &String| {
                        conv_model::InstanceAddress::parse(a)
                            .is_some_and(|x| x.env == s.env && x.site == site.site && x.service == c.service)
                    };
                    if let Some((_, why, _)) = failures.iter().find(|(a, _, _)| here(a)) {
                        c.retry = Some(why.clone());
                    }
                }
            }
        }
    }
}
