//! The simulator provider: sites and instances that exist only as records in
//! `.conv/sim/` (sim_store.rs), with the latency and failures an environment declares (seeded, so a
//! rehearsal fails the same sites every time). For rehearsals and scale tests of fleets.

use crate::gates::Sample;
use crate::live::{Instance, LiveState};
use crate::provider::{Provider, ProviderError, Rollout, Started, Up};
use crate::sim_store::{Record, Store};
use conv_model::InstanceAddress;
use conv_model::{EnvName, Program, Provider as Kind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Clone)]
pub struct Simulator {
    state_dir: PathBuf,
    root: PathBuf,
    program: Arc<Program>,
    store: Arc<Mutex<Store>>,
    /// The ports instances are told apart by, as local ones are; made on first use.
    ports: Arc<std::sync::OnceLock<crate::local::Ports>>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator").field("state_dir", &self.state_dir).finish_non_exhaustive()
    }
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
        let state_dir = crate::state_dir(&root);
        let store = Arc::new(Mutex::new(Store::new(state_dir.join("sim"))));
        Simulator { state_dir, root, program, store, ports: Default::default() }
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn serves(program: &Program, env: &EnvName) -> bool {
        matches!(program.environment(env).map(|e| &e.provider), Some(Kind::Simulator { .. }))
    }

    /// Reads the simulated instances of every simulator environment.
    pub fn observe_now(&self, program: &Program) -> LiveState {
        let mut live = LiveState::default();
        for env in &program.environments {
            self.observe_into(&mut live, program, &env.name);
        }
        live
    }

    /// Reads the simulated instances of one environment.
    pub fn observe_in(&self, program: &Program, env: &EnvName) -> LiveState {
        let mut live = LiveState::default();
        self.observe_into(&mut live, program, env);
        live
    }

    fn observe_into(&self, live: &mut LiveState, program: &Program, env: &EnvName) {
        let mut store = self.store();
        if let Some(env) = program.environment(env).filter(|e| matches!(e.provider, Kind::Simulator { .. })) {
            // An environment never simulated has no log; one that cannot be read shows
            // nothing running, as a site that cannot be reached would.
            let Ok(Some(slots)) = store.refresh(&env.name) else { return };
            for (site, service, list) in slots.iter().flat_map(|(site, s)| s.iter().map(move |(v, l)| (site, v, l))) {
                let instances = list
                    .iter()
                    .map(|(index, rec)| Instance {
                        index: *index,
                        version: rec.version.clone(),
                        port: rec.port,
                        pid: 0,
                        alive: true,
                        health: Default::default(),
                        spec: rec.spec.clone(),
                    })
                    .collect();
                live.sites.insert((env.name.clone(), site.clone(), service.clone()), instances);
            }
        }
    }

    /// Removes every simulated instance; returns how many.
    pub fn destroy_all(&self, program: &Program) -> usize {
        let mut store = self.store();
        let count = program
            .environments
            .iter()
            .filter_map(|e| {
                store
                    .refresh(&e.name)
                    .ok()
                    .flatten()
                    .map(|s| s.values().flat_map(|v| v.values()).map(|l| l.len()).sum::<usize>())
            })
            .sum();
        store.clear();
        let _ = std::fs::remove_dir_all(self.state_dir.join("sim"));
        count
    }

    fn record(&self, at: &InstanceAddress) -> Option<Record> {
        self.store().get(at).cloned()
    }
}

impl Simulator {
    /// Simulates starting `version` in the slot `at`.
    async fn start_one(
        &self,
        at: &InstanceAddress,
        spec: crate::live::Spec,
        port: u16,
        version: String,
    ) -> Result<Started, ProviderError> {
        let (env, site, service) = (&at.env, &at.site, &at.service);
        let Some(Kind::Simulator { seed, failure_rate_percent, latency_ms }) =
            self.program.environment(env).map(|e| e.provider.clone())
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
        self.store().write(at, Some(rec)).map_err(|e| ProviderError::transient(e.to_string()))?;
        Ok(Started { handle: "simulated".into(), port, log: "(simulated)".into(), place: format!("on port {port}") })
    }
}

impl Provider for Simulator {
    fn observe(&self, program: &Program) -> impl std::future::Future<Output = LiveState> + Send {
        let live = self.observe_now(program);
        async move { live }
    }

    fn observe_env(&self, program: &Program, env: &EnvName) -> impl std::future::Future<Output = LiveState> + Send {
        let live = self.observe_in(program, env);
        async move { live }
    }

    /// Each instance after the environment's latency, one after another, as processes would;
    /// seeded failures fail the same version on the same site every time.
    fn roll_out(
        &self,
        rollout: &Rollout<'_>,
        up: &Up<'_>,
    ) -> impl std::future::Future<Output = Result<(), ProviderError>> + Send {
        let spec = crate::live::Spec::of(rollout.service);
        let version = rollout.version.to_string();
        let start = move |at: InstanceAddress| {
            let port = self.ports.get_or_init(|| crate::local::Ports::new(&self.program)).port(
                &at.env,
                &at.site,
                &at.service,
                at.slot,
            );
            let (this, spec, version) = (self.clone(), spec.clone(), version.clone());
            async move { this.start_one(&at, spec, port, version).await }
        };
        crate::provider::one_by_one(rollout, up, Duration::from_secs(10), start, |_, _| async { Ok(true) })
    }

    fn stop(&self, at: &InstanceAddress) -> impl std::future::Future<Output = ()> + Send {
        // A stop that cannot be recorded leaves the slot running, as observing will show.
        let _ = self.store().write(at, None);
        async {}
    }

    async fn alive(&self, _at: &InstanceAddress, _instance: &Instance) -> bool {
        true
    }

    fn probe(
        &self,
        at: &InstanceAddress,
        _instance: &Instance,
        _path: &str,
        _timeout: Duration,
    ) -> impl std::future::Future<Output = Result<u16, ProviderError>> + Send {
        let rec = self.record(at);
        let at = at.clone();
        async move {
            match rec {
                Some(r) if r.version.contains("bad") => Ok(500),
                Some(_) => Ok(200),
                None => Err(ProviderError::transient(format!("no simulated instance at {at}"))),
            }
        }
    }

    /// Synthetic metrics: 20 requests a second since start; a version containing `bad`
    /// fails half of them and answers in 300 ms instead of 5 ms.
    fn signals(
        &self,
        at: &InstanceAddress,
        _instance: &Instance,
    ) -> impl std::future::Future<Output = Result<Sample, ProviderError>> + Send {
        let rec = self.record(at);
        let at = at.clone();
        async move {
            let r = rec.ok_or_else(|| ProviderError::transient(format!("no simulated instance at {at}")))?;
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
