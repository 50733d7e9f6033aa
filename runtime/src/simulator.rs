//! The simulator provider: sites and instances that exist only in records under
//! `.conv/sim/`, with the latency and failures an environment declares (seeded, so a
//! rehearsal fails the same sites every time). For rehearsals and scale tests of fleets.

use crate::gates::Sample;
use crate::live::{Instance, LiveState};
use crate::provider::{Provider, ProviderError, Started};
use conv_model::InstanceAddress;
use conv_model::{EnvName, Program, Provider as Kind, Service, ServiceName, SiteName};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Record {
    version: String,
    port: u16,
    started_at_ms: u64,
    #[serde(default)]
    spec: Option<crate::live::Spec>,
}

#[derive(Clone, Debug)]
pub struct Simulator {
    state_dir: PathBuf,
    root: PathBuf,
    program: Arc<Program>,
    /// Simulated instances by pseudo-port, for probes and signals.
    ports: Arc<Mutex<HashMap<u16, Record>>>,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// FNV-1a: a stable hash, so the same seed fails the same sites.
fn hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    h
}

impl Simulator {
    pub fn new(program_root: &Path, program: Arc<Program>) -> Self {
        let root = std::path::absolute(program_root).unwrap_or_else(|_| program_root.to_path_buf());
        Simulator { state_dir: crate::state_dir(&root), root, program, ports: Arc::new(Mutex::new(HashMap::new())) }
    }

    fn dir(&self, env: &EnvName, site: &SiteName, service: &ServiceName) -> PathBuf {
        self.state_dir.join("sim").join(env.as_str()).join(site.as_str()).join(service.as_str())
    }

    pub fn serves(program: &Program, env: &EnvName) -> bool {
        matches!(program.environment(env).map(|e| &e.provider), Some(Kind::Simulator { .. }))
    }

    /// Reads the simulated instances of every simulator environment.
    pub fn observe_now(&self, program: &Program) -> LiveState {
        let mut live = LiveState::default();
        let mut ports = self.ports.lock().unwrap_or_else(|e| e.into_inner());
        for env in program.environments.iter().filter(|e| matches!(e.provider, Kind::Simulator { .. })) {
            // A site or environment never started has no folder: one look skips all of it.
            if !self.state_dir.join("sim").join(env.name.as_str()).is_dir() {
                continue;
            }
            for site in &env.sites {
                if !self.state_dir.join("sim").join(env.name.as_str()).join(site.as_str()).is_dir() {
                    continue;
                }
                for service in &program.services {
                    let Ok(entries) = std::fs::read_dir(self.dir(&env.name, site, &service.name)) else { continue };
                    let mut instances = Vec::new();
                    for entry in entries.flatten() {
                        let name = entry.file_name().to_string_lossy().into_owned();
                        let Some(index) = name.strip_suffix(".json").and_then(|n| n.parse::<u32>().ok()) else {
                            continue;
                        };
                        let Some(rec) = std::fs::read_to_string(entry.path())
                            .ok()
                            .and_then(|t| serde_json::from_str::<Record>(&t).ok())
                        else {
                            continue;
                        };
                        ports.insert(rec.port, rec.clone());
                        instances.push(Instance {
                            index,
                            version: rec.version,
                            port: rec.port,
                            pid: 0,
                            alive: true,
                            health: Default::default(),
                            spec: rec.spec.clone(),
                        });
                    }
                    instances.sort_by_key(|i| i.index);
                    if !instances.is_empty() {
                        live.sites.insert((env.name.clone(), site.clone(), service.name.clone()), instances);
                    }
                }
            }
        }
        live
    }

    /// Removes every simulated instance; returns how many.
    pub fn destroy_all(&self) -> usize {
        let dir = self.state_dir.join("sim");
        let count = count_records(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        count
    }
}

fn count_records(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| {
            if e.path().is_dir() {
                count_records(&e.path())
            } else {
                usize::from(e.path().extension().is_some_and(|x| x == "json"))
            }
        })
        .sum()
}

impl Provider for Simulator {
    fn observe(&self, program: &Program) -> impl std::future::Future<Output = LiveState> + Send {
        let live = self.observe_now(program);
        async move { live }
    }

    fn start(
        &self,
        at: &InstanceAddress,
        service: &Service,
        port: u16,
        version: &str,
    ) -> impl std::future::Future<Output = Result<Started, ProviderError>> + Send {
        let this = self.clone();
        let spec = crate::live::Spec::of(service);
        let (at, version) = (at.clone(), version.to_string());
        async move {
            let (env, site, service) = (&at.env, &at.site, &at.service);
            let Some(Kind::Simulator { seed, failure_rate_percent, latency_ms }) =
                this.program.environment(env).map(|e| e.provider.clone())
            else {
                return Err(ProviderError::permanent(format!("environment {env} is not simulated")));
            };
            tokio::time::sleep(Duration::from_millis(latency_ms)).await;
            let roll = hash(&[&seed.to_string(), env.as_str(), site.as_str(), service.as_str(), &version]) % 10_000;
            if (roll as f64) < failure_rate_percent * 100.0 {
                // Seeded: the same version fails on the same site every time.
                return Err(ProviderError::permanent(format!(
                    "simulated failure on {env}[{:?}] (seed {seed}, failure rate {failure_rate_percent}%)",
                    site.as_str()
                )));
            }
            let rec = Record { version, port, started_at_ms: now_ms(), spec: Some(spec) };
            let path = this.dir(env, site, service).join(format!("{}.json", at.slot));
            let json = serde_json::to_vec(&rec).map_err(|e| ProviderError::transient(e.to_string()))?;
            crate::write_atomically(&path, &json).map_err(|e| ProviderError::transient(e.to_string()))?;
            if let Ok(mut ports) = this.ports.lock() {
                ports.insert(port, rec);
            }
            Ok(Started { handle: "simulated".into(), port, log: "(simulated)".into() })
        }
    }

    fn stop(&self, at: &InstanceAddress) -> impl std::future::Future<Output = ()> + Send {
        let path = self.dir(&at.env, &at.site, &at.service).join(format!("{}.json", at.slot));
        async move {
            let _ = std::fs::remove_file(path);
        }
    }

    fn ready(
        &self,
        _at: &InstanceAddress,
        _started: &Started,
    ) -> impl std::future::Future<Output = Result<bool, ProviderError>> + Send {
        async { Ok(true) }
    }

    fn alive(&self, _at: &InstanceAddress, _instance: &Instance) -> impl std::future::Future<Output = bool> + Send {
        async { true }
    }

    fn probe(
        &self,
        _at: &InstanceAddress,
        instance: &Instance,
        _path: &str,
        _timeout: Duration,
    ) -> impl std::future::Future<Output = Result<u16, ProviderError>> + Send {
        let rec = self.ports.lock().ok().and_then(|p| p.get(&instance.port).cloned());
        let port = instance.port;
        async move {
            match rec {
                Some(r) if r.version.contains("bad") => Ok(500),
                Some(_) => Ok(200),
                None => Err(ProviderError::transient(format!("no simulated instance on port {port}"))),
            }
        }
    }

    /// Synthetic metrics: 20 requests a second since start; a version containing `bad`
    /// fails half of them and answers in 300 ms instead of 5 ms.
    fn signals(
        &self,
        _at: &InstanceAddress,
        instance: &Instance,
    ) -> impl std::future::Future<Output = Result<Sample, ProviderError>> + Send {
        let rec = self.ports.lock().ok().and_then(|p| p.get(&instance.port).cloned());
        let port = instance.port;
        async move {
            let r = rec.ok_or_else(|| ProviderError::transient(format!("no simulated instance on port {port}")))?;
            let requests = (now_ms().saturating_sub(r.started_at_ms) / 50) as f64;
            let bad = r.version.contains("bad");
            let latency = if bad { 0.3 } else { 0.005 };
            let buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, f64::INFINITY]
                .iter()
                .map(|le| (*le, if latency <= *le { requests } else { 0.0 }))
                .collect();
            Ok(Sample { requests, errors: if bad { (requests / 2.0).floor() } else { 0.0 }, buckets })
        }
    }

    fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    fn root(&self) -> &Path {
        &self.root
    }
}
