//! The local provider: a site is a set of instance slots on 127.0.0.1 ports; an instance is
//! a real process started from the service's command, detached so it outlives conv, and
//! recorded under `.conv/local/` (pid, version, port, start time, log file).

use crate::live::{Health, Instance, LiveState};
use conv_model::{EnvName, Program, Provider, Run, Service, ServiceName, SiteName};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// What conv knows of an instance it started.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InstanceRecord {
    pub pid: u32,
    pub version: String,
    pub port: u16,
    pub started_at_unix: u64,
    pub log: PathBuf,
    #[serde(default)]
    pub spec: Option<crate::live::Spec>,
    /// The process's start time (process.rs), so that a reused pid is not taken for it.
    #[serde(default)]
    pub proc_start: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct LocalProvider {
    /// `<project>/.conv`
    pub state_dir: PathBuf,
    /// Relative commands are looked up here first (the program root).
    pub program_root: PathBuf,
    /// The program whose ports instances listen on, with its port table made on first use;
    /// without it, the provider observes and stops but does not start.
    ports: Option<(std::sync::Arc<Program>, std::sync::Arc<std::sync::OnceLock<Ports>>)>,
}

/// How long a stopped process gets between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

impl LocalProvider {
    pub fn new(program_root: &Path) -> Self {
        // Absolute, so records and logs name the same files from any working directory.
        let root = std::path::absolute(program_root).unwrap_or_else(|_| program_root.to_path_buf());
        LocalProvider { state_dir: crate::state_dir(&root), program_root: root, ports: None }
    }

    /// A provider that starts the instances of `program`, each on the port its slot has.
    pub fn for_program(program_root: &Path, program: std::sync::Arc<Program>) -> Self {
        LocalProvider { ports: Some((program, Default::default())), ..LocalProvider::new(program_root) }
    }

    /// The port the instance `at` listens on.
    fn port(&self, at: &InstanceAddress) -> Result<u16, ProviderError> {
        let Some((program, ports)) = &self.ports else {
            return Err(ProviderError::permanent("the local provider was made without its program"));
        };
        Ok(ports.get_or_init(|| Ports::new(program)).port(&at.env, &at.site, &at.service, at.slot))
    }

    fn slot_dir(&self, env: &EnvName, site: &SiteName, service: &ServiceName) -> PathBuf {
        self.state_dir.join("local").join(env.as_str()).join(site.as_str()).join(service.as_str())
    }

    fn record_path(&self, env: &EnvName, site: &SiteName, service: &ServiceName, index: u32) -> PathBuf {
        self.slot_dir(env, site, service).join(format!("{index}.json"))
    }

    pub fn read_record(
        &self,
        env: &EnvName,
        site: &SiteName,
        service: &ServiceName,
        index: u32,
    ) -> Option<InstanceRecord> {
        let text = std::fs::read_to_string(self.record_path(env, site, service, index)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Observes every site of every local environment of the program.
    pub fn observe(&self, program: &Program) -> LiveState {
        let mut live = LiveState::default();
        for env in &program.environments {
            self.observe_into(&mut live, program, &env.name);
        }
        live
    }

    /// Observes the sites of one local environment.
    pub fn observe_in(&self, program: &Program, env: &EnvName) -> LiveState {
        let mut live = LiveState::default();
        self.observe_into(&mut live, program, env);
        live
    }

    fn observe_into(&self, live: &mut LiveState, program: &Program, env: &EnvName) {
        {
            let Some(env) = program.environment(env) else { return };
            if !matches!(env.provider, Provider::Local { .. }) {
                return;
            }
            // A site or environment never started has no folder: one look skips all of it.
            if !self.state_dir.join("local").join(env.name.as_str()).is_dir() {
                return;
            }
            for site in &env.sites {
                if !self.state_dir.join("local").join(env.name.as_str()).join(site.as_str()).is_dir() {
                    continue;
                }
                for service in &program.services {
                    let dir = self.slot_dir(&env.name, site, &service.name);
                    let Ok(entries) = std::fs::read_dir(&dir) else { continue };
                    let mut instances = Vec::new();
                    for entry in entries.flatten() {
                        let name = entry.file_name().to_string_lossy().into_owned();
                        let Some(index) = name.strip_suffix(".json").and_then(|n| n.parse::<u32>().ok()) else {
                            continue;
                        };
                        let Some(rec) = self.read_record(&env.name, site, &service.name, index) else { continue };
                        let alive = crate::process::alive(rec.pid, rec.proc_start);
                        let health = health(rec.pid, rec.port, alive);
                        instances.push(Instance {
                            index,
                            version: rec.version,
                            port: rec.port,
                            pid: rec.pid,
                            alive,
                            health,
                            spec: rec.spec,
                        });
                    }
                    instances.sort_by_key(|i| i.index);
                    if !instances.is_empty() {
                        live.sites.insert((env.name.clone(), site.clone(), service.name.clone()), instances);
                    }
                }
            }
        }
    }

    /// Starts `version` of `service` in slot `index` on `port`, replacing whatever runs there.
    pub fn start(
        &self,
        env: &EnvName,
        site: &SiteName,
        service: &Service,
        index: u32,
        port: u16,
        version: &str,
    ) -> Result<InstanceRecord, ProviderError> {
        self.stop(env, site, &service.name, index);
        let Run::Command { argv, env: vars } = &service.run else {
            return Err(ProviderError::permanent(format!(
                "service {} runs an image; the local provider runs commands",
                service.name
            )));
        };
        let substitute = |s: &str| {
            s.replace("{port}", &port.to_string())
                .replace("{version}", version)
                .replace("{site}", site.as_str())
                .replace("{instance}", &index.to_string())
        };
        let argv: Vec<String> = argv.iter().map(|a| substitute(a)).collect();
        let Some(program) = argv.first() else {
            return Err(ProviderError::permanent(format!("service {} has an empty command", service.name)));
        };
        let program = self.resolve_program(program);
        let secrets = crate::secrets::values(service, &self.program_root)?;
        // Another program on the port fails the slot before anything starts, by name.
        if let crate::ports::Listener::Other(who) = crate::ports::listener(port, 0) {
            return Err(ProviderError::permanent(format!("port {port} is taken by {who}")));
        }
        let dir = self.slot_dir(env, site, &service.name);
        std::fs::create_dir_all(&dir)
            .map_err(|e| ProviderError::transient(format!("cannot create {}: {e}", dir.display())))?;
        let log = dir.join(format!("{index}.log"));
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| ProviderError::transient(format!("cannot open {}: {e}", log.display())))?;
        let err = out.try_clone().map_err(|e| ProviderError::transient(e.to_string()))?;
        let mut cmd = Command::new(&program);
        cmd.args(&argv[1..])
            .envs(vars.iter())
            .envs(service.config.iter())
            .envs(secrets.iter())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .current_dir(&self.program_root);
        // A process group of its own: the instance outlives conv and its terminal.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        // A missing or forbidden program stays so until someone changes something.
        let child = cmd.spawn().map_err(|e| {
            let message = format!("cannot start {}: {e}", program.display());
            match e.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                    ProviderError::permanent(message)
                }
                _ => ProviderError::transient(message),
            }
        })?;
        let rec = InstanceRecord {
            proc_start: crate::process::start_ticks(child.id()),
            pid: child.id(),
            version: version.to_string(),
            port,
            started_at_unix: SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            log,
            spec: Some(crate::live::Spec::of(service)),
        };
        // The child is not waited for: it is detached and observed through its record.
        drop(child);
        let json = serde_json::to_vec_pretty(&rec).map_err(|e| ProviderError::transient(e.to_string()))?;
        crate::write_atomically(&self.record_path(env, site, &service.name, index), &json)
            .map_err(|e| ProviderError::transient(e.to_string()))?;
        Ok(rec)
    }

    /// Stops the instance in slot `index`, gracefully: SIGTERM, then SIGKILL after a grace
    /// period; returns once its port is free, so the next instance can take it.
    pub fn stop(&self, env: &EnvName, site: &SiteName, service: &ServiceName, index: u32) {
        if let Some(rec) = self.read_record(env, site, service, index) {
            crate::process::terminate(rec.pid, rec.proc_start, STOP_GRACE);
            wait_port_released(rec.port, rec.pid);
        }
        let _ = std::fs::remove_file(self.record_path(env, site, service, index));
    }

    /// Stops every instance recorded under `.conv/local`; returns how many.
    pub fn destroy_all(&self) -> usize {
        let mut stopped = 0;
        let root = self.state_dir.join("local");
        for record in walk_records(&root) {
            if let Ok(text) = std::fs::read_to_string(&record)
                && let Ok(rec) = serde_json::from_str::<InstanceRecord>(&text)
            {
                crate::process::terminate(rec.pid, rec.proc_start, STOP_GRACE);
                stopped += 1;
            }
            let _ = std::fs::remove_file(&record);
        }
        stopped
    }

    fn resolve_program(&self, name: &str) -> PathBuf {
        if name.contains('/') {
            return self.program_root.join(name);
        }
        if let Some(paths) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&paths) {
                let candidate = dir.join(name);
                if candidate.is_file() {
                    return candidate;
                }
            }
        }
        // Beside the conv binary: `cargo build` puts demo-app there.
        if let Some(dir) = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
        PathBuf::from(name)
    }
}

/// The first port of every site and service's slots, computed once for a program: planning
/// and rolling back a fleet ask for hundreds of thousands of ports, and `port_for` alone walks
/// the whole program for each.
/// Indexes by name, looked up without building a key.
#[derive(Debug, Default)]
struct Names {
    envs: std::collections::HashMap<String, (usize, std::collections::HashMap<String, usize>)>,
    services: std::collections::HashMap<String, usize>,
}

#[derive(Debug, Default)]
pub struct Ports {
    /// By the program's indexes: environment, site, service.
    first: Vec<Vec<Vec<u16>>>,
    /// The indexes of names, built on first use: environments with their sites, services.
    names: std::sync::OnceLock<Names>,
    envs: Vec<(EnvName, Vec<SiteName>)>,
    services: Vec<ServiceName>,
}

impl Ports {
    pub fn new(program: &Program) -> Ports {
        let mut next: std::collections::HashMap<u16, u32> = std::collections::HashMap::new();
        let mut first = Vec::with_capacity(program.environments.len());
        for e in &program.environments {
            let (base, per_site) = match e.provider {
                Provider::Local { base_port, instances_per_site } => (base_port, instances_per_site),
                Provider::Simulator { .. } => (SIMULATED_PORTS, 1),
                Provider::Kubernetes { .. } => {
                    first.push(Vec::new());
                    continue;
                }
            };
            let offset = next.entry(base).or_insert(0);
            let mut sites = Vec::with_capacity(e.sites.len());
            for _ in &e.sites {
                let mut services = Vec::with_capacity(program.services.len());
                for svc in &program.services {
                    services.push(base.saturating_add(*offset as u16));
                    *offset += svc.replicas.unwrap_or(per_site);
                }
                sites.push(services);
            }
            first.push(sites);
        }
        Ports {
            first,
            names: Default::default(),
            envs: program.environments.iter().map(|e| (e.name.clone(), e.sites.clone())).collect(),
            services: program.services.iter().map(|s| s.name.clone()).collect(),
        }
    }

    /// The port of slot `index` by the program's indexes; 0 for an unknown slot.
    pub fn port_at(&self, env: usize, site: usize, service: usize, index: u32) -> u16 {
        self.first
            .get(env)
            .and_then(|e| e.get(site))
            .and_then(|s| s.get(service))
            .map(|p| p.saturating_add(index as u16))
            .unwrap_or(0)
    }

    /// The port of slot `index`, as `port_for` computes it; 0 for an unknown slot.
    pub fn port(&self, env: &EnvName, site: &SiteName, service: &ServiceName, index: u32) -> u16 {
        let names = self.names.get_or_init(|| Names {
            envs: self
                .envs
                .iter()
                .enumerate()
                .map(|(e, (env, sites))| {
                    let sites = sites.iter().enumerate().map(|(s, site)| (site.to_string(), s)).collect();
                    (env.to_string(), (e, sites))
                })
                .collect(),
            services: self.services.iter().enumerate().map(|(v, service)| (service.to_string(), v)).collect(),
        });
        let Some((e, sites)) = names.envs.get(env.as_str()) else { return 0 };
        match (sites.get(site.as_str()), names.services.get(service.as_str())) {
            (Some(s), Some(v)) => self.port_at(*e, *s, *v, index),
            _ => 0,
        }
    }
}

/// The port of an instance slot: the environment's base port plus the slot's place among the
/// slots of every environment that shares that base port, so that no two slots collide.
pub fn port_for(program: &Program, env: &EnvName, site: &SiteName, service: &ServiceName, index: u32) -> u16 {
    // Simulated instances get pseudo-ports of their own range; nothing listens on them.
    let base_of = |e: &conv_model::Environment| match e.provider {
        Provider::Local { base_port, instances_per_site } => Some((base_port, instances_per_site)),
        Provider::Simulator { .. } => Some((SIMULATED_PORTS, 1)),
        Provider::Kubernetes { .. } => None,
    };
    let Some((base, _)) = program.environment(env).and_then(base_of) else { return 0 };
    let mut offset: u32 = 0;
    for e in &program.environments {
        let Some((b, per_site)) = base_of(e) else { continue };
        if b != base {
            continue;
        }
        for s in &e.sites {
            for svc in &program.services {
                if &e.name == env && s == site && &svc.name == service {
                    return base.saturating_add((offset + index) as u16);
                }
                offset += svc.replicas.unwrap_or(per_site);
            }
        }
    }
    0
}

/// The first pseudo-port of simulated instances.
pub const SIMULATED_PORTS: u16 = 40000;

/// How many instances a service has on each site of an environment.
pub fn instance_count(program: &Program, env: &EnvName, service: &ServiceName) -> u32 {
    let per_site = match program.environment(env).map(|e| &e.provider) {
        Some(Provider::Local { instances_per_site, .. }) => *instances_per_site,
        _ => 1,
    };
    program.service(service).and_then(|s| s.replicas).unwrap_or(per_site)
}

/// How long a stopped instance's port may stay held by its last threads before the slot is
/// handed over anyway (the new instance then fails with a clear reason).
const PORT_RELEASE: Duration = Duration::from_secs(5);

/// Waits until the stopped process `pid` (or its children) no longer listen on `port`. Its
/// main thread may be a zombie while other threads still hold the socket.
fn wait_port_released(port: u16, pid: u32) {
    let deadline = Instant::now() + PORT_RELEASE;
    while crate::ports::listener(port, pid) == crate::ports::Listener::Instance && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How long an instance has to answer a health look during observation.
const OBSERVE_PROBE: Duration = Duration::from_millis(800);

/// Whether an instance serves: its own process listens on its port and answers HTTP there.
pub fn health(pid: u32, port: u16, alive: bool) -> Health {
    use crate::ports::Listener;
    match (alive, crate::ports::listener(port, if alive { pid } else { 0 })) {
        (false, Listener::Other(who)) => Health::Dead(Some(who)),
        (false, _) => Health::Dead(None),
        (true, Listener::Other(who)) => Health::PortTaken(who),
        (true, Listener::Nobody) => Health::NotAnswering,
        (true, Listener::Instance) => match crate::gates::http_status(port, "/", OBSERVE_PROBE) {
            Ok(_) => Health::Serving,
            Err(_) => Health::NotAnswering,
        },
    }
}

/// Ready when the instance's own process answers HTTP on its port; what it answers is for
/// the gates. Another program on the port, or an exit, fails at once with the reason.
pub fn readiness(pid: u32, port: u16) -> Result<bool, String> {
    if !is_alive(pid) {
        return Err(match crate::ports::listener(port, 0) {
            crate::ports::Listener::Other(who) => format!("exited at start: port {port} is taken by {who}"),
            _ => "exited at start".into(),
        });
    }
    match crate::ports::listener(port, pid) {
        crate::ports::Listener::Instance => {
            Ok(crate::gates::http_status(port, "/", Duration::from_millis(500)).is_ok())
        }
        crate::ports::Listener::Other(who) => Err(format!("port {port} is taken by {who}")),
        crate::ports::Listener::Nobody => Ok(false),
    }
}

pub fn is_alive(pid: u32) -> bool {
    crate::process::alive(pid, None)
}

fn walk_records(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk_records(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    out
}

use crate::provider::{ProviderError, Rollout, Started, Up};
use conv_model::InstanceAddress;

/// How long a started process has to answer on its port.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether a started process serves: `Ok(false)` while it starts; an error (with the end of
/// its log, most often why) when it died.
async fn ready(started: Started) -> Result<bool, ProviderError> {
    let (pid, port, log) = (pid_of(&started), started.port, PathBuf::from(&started.log));
    tokio::task::spawn_blocking(move || {
        readiness(pid, port).map_err(|why| {
            let tail = crate::process::log_tail(&log, 5);
            ProviderError::permanent(if tail.is_empty() { why } else { format!("{why}; its log ends: {tail}") })
        })
    })
    .await
    .unwrap_or_else(|e| Err(ProviderError::transient(e.to_string())))
}

/// The pid in a local instance's handle.
fn pid_of(started: &Started) -> u32 {
    started.handle.parse().unwrap_or(0)
}

impl crate::provider::Provider for LocalProvider {
    fn observe(&self, program: &Program) -> impl std::future::Future<Output = LiveState> + Send {
        let (this, program) = (self.clone(), program.clone());
        async move { tokio::task::spawn_blocking(move || LocalProvider::observe(&this, &program)).await.unwrap_or_default() }
    }

    /// One process per instance, one after another: a version that cannot start fails on
    /// the first and leaves the rest serving what they served.
    fn roll_out(
        &self,
        rollout: &Rollout<'_>,
        up: &Up<'_>,
    ) -> impl std::future::Future<Output = Result<(), ProviderError>> + Send {
        let (service, version) = (rollout.service.clone(), rollout.version.to_string());
        let start = move |at: InstanceAddress| {
            let (this, service, version, port) = (self.clone(), service.clone(), version.clone(), self.port(&at));
            async move {
                let port = port?;
                tokio::task::spawn_blocking(move || {
                    LocalProvider::start(&this, &at.env, &at.site, &service, at.slot, port, &version).map(|rec| {
                        Started {
                            handle: rec.pid.to_string(),
                            port,
                            log: rec.log.display().to_string(),
                            place: format!("on port {port}"),
                        }
                    })
                })
                .await
                .unwrap_or_else(|e| Err(ProviderError::transient(e.to_string())))
            }
        };
        crate::provider::one_by_one(rollout, up, READY_TIMEOUT, start, |_, started| ready(started))
    }

    fn stop(&self, at: &InstanceAddress) -> impl std::future::Future<Output = ()> + Send {
        let (this, at) = (self.clone(), at.clone());
        async move {
            let _ = tokio::task::spawn_blocking(move || {
                LocalProvider::stop(&this, &at.env, &at.site, &at.service, at.slot)
            })
            .await;
        }
    }

    fn alive(&self, at: &InstanceAddress, instance: &Instance) -> impl std::future::Future<Output = bool> + Send {
        let started = self.read_record(&at.env, &at.site, &at.service, at.slot).filter(|r| r.pid == instance.pid);
        let pid = instance.pid;
        async move { crate::process::alive(pid, started.and_then(|r| r.proc_start)) }
    }

    fn probe(
        &self,
        _at: &InstanceAddress,
        instance: &Instance,
        path: &str,
        timeout: Duration,
    ) -> impl std::future::Future<Output = Result<u16, ProviderError>> + Send {
        let (path, port) = (path.to_string(), instance.port);
        async move {
            tokio::task::spawn_blocking(move || crate::gates::http_status(port, &path, timeout))
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
                .map_err(ProviderError::transient)
        }
    }

    fn signals(
        &self,
        _at: &InstanceAddress,
        instance: &Instance,
    ) -> impl std::future::Future<Output = Result<crate::gates::Sample, ProviderError>> + Send {
        let port = instance.port;
        async move {
            tokio::task::spawn_blocking(move || crate::gates::scrape(port))
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
                .map_err(ProviderError::transient)
        }
    }

    fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    fn root(&self) -> &Path {
        &self.program_root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_table_agrees_with_port_for() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/two-envs.json")).unwrap();
        let program: Program = serde_json::from_str(&text).unwrap();
        let ports = Ports::new(&program);
        for env in &program.environments {
            for site in &env.sites {
                for service in &program.services {
                    for index in 0..instance_count(&program, &env.name, &service.name) {
                        assert_eq!(
                            ports.port(&env.name, site, &service.name, index),
                            port_for(&program, &env.name, site, &service.name, index)
                        );
                    }
                }
            }
        }
    }
}
