//! Rollback: puts a release's services back, in the plan's rollback order, to what was last
//! known good (the journal's record of the last convergence), or else to what ran before the
//! run began; `conv rollback RELEASE` goes back to what ran before the last apply changed it.

use crate::event::{Event, Sink};
use crate::live::{Instance, LiveState};
use crate::local::{Ports, instance_count};
use crate::plan::{KnownGood, Plan, ReleasePlan, address};
use crate::provider::{Provider, Rollout};
use crate::record::Recorder;
use conv_model::{EnvName, InstanceAddress, Program, ReleaseName, ServiceName, SiteName};

/// What each site and service goes back to.
pub(crate) struct Targets<'a> {
    before: &'a LiveState,
    known_good: Option<&'a KnownGood>,
    ports: std::sync::OnceLock<Ports>,
}

impl<'a> Targets<'a> {
    /// Known-good versions where the journal has them, else what ran before.
    pub(crate) fn known_good_or(before: &'a LiveState, known_good: &'a KnownGood) -> Self {
        Targets { before, known_good: Some(known_good), ports: Default::default() }
    }

    fn before(before: &'a LiveState) -> Self {
        Targets { before, known_good: None, ports: Default::default() }
    }

    fn instances(&self, program: &Program, env: &EnvName, site: &SiteName, service: &ServiceName) -> Vec<Instance> {
        let key = (env.to_string(), site.to_string(), service.to_string());
        if let Some((version, count, _)) = self.known_good.and_then(|k| k.get(&key)) {
            let ports = self.ports.get_or_init(|| Ports::new(program));
            return (0..*count)
                .map(|index| Instance {
                    index,
                    version: version.clone(),
                    port: ports.port(env, site, service, index),
                    pid: 0,
                    alive: true,
                    health: Default::default(),
                    spec: None,
                })
                .collect();
        }
        self.before.instances(env, site, service).to_vec()
    }
}

fn previous_path(state_dir: &std::path::Path, release: &str) -> std::path::PathBuf {
    state_dir.join("releases").join(release).join("previous.json")
}

/// Records what the release's services ran before this apply changed them, for
/// `conv rollback RELEASE` later.
pub(crate) fn save_previous<P: Provider>(
    provider: &P,
    program: &Program,
    before: &LiveState,
    release: &ReleasePlan,
) -> std::io::Result<()> {
    let Some(def) = program.release(&ReleaseName(release.name.clone())) else { return Ok(()) };
    let entries: Vec<_> = before.sites.iter().filter(|((_, _, service), _)| def.services.contains(service)).collect();
    let json = serde_json::to_vec_pretty(&entries).map_err(std::io::Error::other)?;
    crate::write_atomically(&previous_path(provider.state_dir(), &release.name), &json)
}

/// `conv rollback RELEASE`: puts the release's services back to what they ran before the
/// last apply that changed them, in the plan's rollback order.
pub async fn rollback_release<P: Provider>(
    plan: &Plan,
    release: &str,
    provider: &P,
    events: Sink,
    rec: Recorder,
) -> Result<Vec<String>, String> {
    let Some(r) = plan.releases.iter().find(|r| r.name == release) else {
        return Err(format!("no release `{release}` in the program"));
    };
    let text = std::fs::read_to_string(previous_path(provider.state_dir(), release)).map_err(|_| {
        format!("release `{release}` has no recorded previous state: it was never changed by `conv apply`")
    })?;
    let entries: Vec<((EnvName, SiteName, ServiceName), Vec<Instance>)> =
        serde_json::from_str(&text).map_err(|e| format!("the record of release `{release}` is damaged: {e}"))?;
    let before = LiveState { sites: entries.into_iter().collect(), ..Default::default() };
    events(&Event::RollbackStarted { release: release.to_string() });
    let done = run(provider, &plan.program, &Targets::before(&before), r, &events, &rec).await;
    if !done.is_empty() {
        mark_rolled_back(r, None, &rec).await;
    }
    Ok(done)
}

/// Puts every site and service of the release back to its target, in the plan's rollback
/// order; returns the addresses rolled back. A slot that already runs its target is left.
pub(crate) async fn run<P: Provider>(
    provider: &P,
    program: &Program,
    targets: &Targets<'_>,
    release: &ReleasePlan,
    events: &Sink,
    rec: &Recorder,
) -> Vec<String> {
    let now = provider.observe(program).await;
    let mut done = Vec::new();
    for addr in &release.rollback {
        let (Some(env), Some(site), Some(service)) = (&addr.env, &addr.site, &addr.service) else { continue };
        let Some(svc) = program.service(service) else { continue };
        let previous = targets.instances(program, env, site, service);
        let current = now.instances(env, site, service);
        let count = instance_count(program, env, service)
            .max(previous.iter().map(|i| i.index + 1).max().unwrap_or(0))
            .max(current.iter().map(|i| i.index + 1).max().unwrap_or(0));
        let at = address(env, site, service);
        let mut touched = false;
        for index in 0..count {
            let running = current.iter().find(|i| i.index == index);
            match previous.iter().find(|i| i.index == index) {
                Some(old) if running.is_some_and(|c| c.version == old.version && c.serving()) => {}
                Some(old) => {
                    touched = true;
                    // Going back to known good matters more than its record: a journal that
                    // fails here does not keep a release half-rolled.
                    let slot = InstanceAddress::new(env, site, service, index);
                    let step = rec.intent("rollback", &slot.to_string(), &old.version).await.ok().flatten();
                    let rollout = Rollout { env, site, service: svc, version: &old.version, instances: &[index] };
                    let result = provider.roll_out(&rollout, &|_, _| {}).await.map_err(|e| e.message);
                    let _ = rec
                        .outcome(
                            step,
                            result.is_ok(),
                            result.as_ref().err().map(String::as_str).unwrap_or("rolled back"),
                        )
                        .await;
                    events(&Event::RollbackStep {
                        address: at.clone(),
                        index,
                        to: old.version.clone(),
                        ok: result.is_ok(),
                        detail: result.err().unwrap_or_default(),
                    });
                }
                None if running.is_some() => {
                    touched = true;
                    provider.stop(&InstanceAddress::new(env, site, service, index)).await;
                    events(&Event::RollbackStep {
                        address: at.clone(),
                        index,
                        to: "nothing".into(),
                        ok: true,
                        detail: "stopped (it did not run before)".into(),
                    });
                }
                None => {}
            }
        }
        if touched {
            done.push(addr.to_string());
        }
    }
    done
}

/// What the release's stages had judged no longer runs after a rollback: none of them is
/// converged now (`except` keeps the failed stage's own reason).
pub(crate) async fn mark_rolled_back(release: &ReleasePlan, except: Option<&str>, rec: &Recorder) {
    let reason = format!("rolled back in run {}", rec.run());
    let results = rec.stage_results().await.unwrap_or_default();
    let judged = results.iter().filter(|r| r.release == release.name && r.state == "converged");
    for r in judged.filter(|r| Some(r.stage.as_str()) != except) {
        let _ = rec.stage(&r.release, &r.stage, &r.env, &r.versions, "rolled_back", &reason).await;
    }
}
