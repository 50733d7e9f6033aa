//! Apply: walks a plan stage by stage with tokio. Within a stage, sites deploy in parallel
//! up to `max_parallel`, services in dependency order; a stage fails when more sites fail
//! than its budget allows or when a gate fails while it bakes. A failed stage rolls every
//! service of its release back, in the plan's rollback order, to what ran before, or pauses.

use crate::gates::{self, Sample};
use crate::live::LiveState;
use crate::plan::{Plan, ReleasePlan, StagePlan, address};
use crate::provider::Provider;
use crate::record::Recorder;
use conv_model::program::{duration, trim_float};
use conv_model::{EnvName, Gate, OnFailure, Program, ServiceName, SiteName};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Converged,
    /// A stage failed; the release was rolled back (or paused, with `rolled_back` empty).
    Failed {
        release: String,
        stage: String,
        reason: String,
        rolled_back: Vec<String>,
        paused: bool,
    },
}

/// Where progress lines go (a terminal, a pipe, a test).
pub type Log = Arc<dyn Fn(String) + Send + Sync>;

/// How long a started instance has to answer HTTP before it counts as failed.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
const PROBE_INTERVAL: Duration = Duration::from_millis(500);

pub fn run<P: Provider>(plan: &Plan, provider: &P, log: Log, rec: Recorder) -> Outcome {
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build() {
        Ok(rt) => rt,
        Err(err) => {
            return Outcome::Failed {
                release: String::new(),
                stage: String::new(),
                reason: format!("cannot start the runtime: {err}"),
                rolled_back: Vec::new(),
                paused: false,
            };
        }
    };
    runtime.block_on(apply_plan(plan.clone(), provider.clone(), log, rec))
}

async fn apply_plan<P: Provider>(plan: Plan, provider: P, log: Log, rec: Recorder) -> Outcome {
    let program = Arc::new(plan.program.clone());
    let before = provider.observe(&program).await;
    for release in &plan.releases {
        let mut touched: Vec<(EnvName, SiteName, ServiceName)> = Vec::new();
        if release.stages.iter().any(|s| s.sites.iter().any(|x| !x.changes.is_empty())) {
            if let Err(err) = save_previous(&provider, &program, &before, release) {
                log(format!("warning: cannot record what release {} ran before: {err}", release.name));
            }
        }
        for stage in &release.stages {
            let step = match rec.intent("stage", &format!("{}/{}", release.name, stage.name), &stage.env.to_string()) {
                Ok(s) => s,
                Err(e) => return journal_failure(release, stage, e),
            };
            let result = run_stage(&program, &provider, release, stage, &mut touched, &log, &rec).await;
            rec.outcome(step, result.is_ok(), result.as_ref().err().map(String::as_str).unwrap_or("done"));
            if let Err(reason) = result {
                log(format!("stage {}/{} failed: {reason}", release.name, stage.name));
                let paused = release.on_failure == OnFailure::Pause;
                let rolled_back = if paused {
                    log(format!(
                        "release {} pauses here (on_failure = pause); fix forward with a new version, or `conv rollback {}`",
                        release.name, release.name
                    ));
                    Vec::new()
                } else {
                    log(format!("rolling back release {}", release.name));
                    rollback(&provider, &program, &before, &touched, release, &log, &rec).await
                };
                return Outcome::Failed {
                    release: release.name.clone(),
                    stage: stage.name.clone(),
                    reason,
                    rolled_back,
                    paused,
                };
            }
        }
        record_known_good(&provider, &program, release, &rec).await;
        log(format!("release {} converged", release.name));
    }
    Outcome::Converged
}

async fn run_stage<P: Provider>(
    program: &Arc<Program>,
    provider: &P,
    release: &ReleasePlan,
    stage: &StagePlan,
    touched: &mut Vec<(EnvName, SiteName, ServiceName)>,
    log: &Log,
    rec: &Recorder,
) -> Result<(), String> {
    let changed: Vec<_> = stage.sites.iter().filter(|s| !s.changes.is_empty()).cloned().collect();
    if changed.is_empty() {
        if rec.unfinished_stages.contains(&format!("{}/{}", release.name, stage.name)) {
            // An interrupted run deployed this stage but never finished baking it: its gates
            // have not judged what now runs, so they judge it now.
            log(format!("stage {}/{}: deployed before the interruption; baking it again", release.name, stage.name));
            let services: Vec<ServiceName> = program
                .release(&conv_model::ReleaseName(release.name.clone()))
                .map(|r| r.services.clone())
                .unwrap_or_default();
            bake_and_check(provider, program, &release.name, &stage.name, stage, &services, log, rec).await?;
            log(format!("stage {}/{} done", release.name, stage.name));
            return Ok(());
        }
        log(format!("stage {}/{}: {} already converged", release.name, stage.name, stage.env));
        return Ok(());
    }
    let mut groups = stage.approvals.clone();
    // `manual_approval(...)` gates of the stage or its services wait the same way.
    if let Some(def) = program.release(&conv_model::ReleaseName(release.name.clone())) {
        let stage_gates = def.stages.iter().filter(|s| s.name == stage.name).flat_map(|s| s.gates.iter());
        let service_gates = def.services.iter().filter_map(|s| program.service(s)).flat_map(|s| s.gates.iter());
        for gate in stage_gates.chain(service_gates) {
            if let Gate::Approval { group } = gate {
                if !groups.contains(group) {
                    groups.push(group.clone());
                }
            }
        }
    }
    for group in &groups {
        wait_for_approval(provider, release, stage, group, log, rec).await;
    }
    log(format!(
        "stage {}/{}: {} site{} of {} at {}%",
        release.name,
        stage.name,
        changed.len(),
        if changed.len() == 1 { "" } else { "s" },
        stage.env,
        trim_float(stage.fraction_percent)
    ));
    let limit = stage.max_parallel.map(|m| m as usize).unwrap_or(changed.len()).max(1);
    let semaphore = Arc::new(tokio::sync::Semaphore::new(limit));
    let mut tasks = Vec::new();
    for site in changed {
        let (sem, p, prog, env, l, r) =
            (semaphore.clone(), provider.clone(), program.clone(), stage.env.clone(), log.clone(), rec.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await;
            let result = deploy_site(&p, &prog, &env, &site, &l, &r).await;
            (site.site.clone(), result)
        }));
    }
    let mut failures = Vec::new();
    for task in tasks {
        let Ok((site, result)) = task.await else { continue };
        for s in &stage.sites {
            if s.site == site {
                for c in &s.changes {
                    let key = (stage.env.clone(), site.clone(), c.service.clone());
                    if !touched.contains(&key) {
                        touched.push(key);
                    }
                }
            }
        }
        if let Err(why) = result {
            log(format!("  {}[{:?}] failed: {why}", stage.env, site.as_str()));
            failures.push((site, why));
        }
    }
    let allowed = (stage.max_failures_percent / 100.0 * stage.sites.len() as f64).floor() as usize;
    if failures.len() > allowed {
        let (site, why) = &failures[0];
        return Err(format!(
            "{} of {} sites failed, the budget allows {allowed} (first: {}[{:?}]: {why})",
            failures.len(),
            stage.sites.len(),
            stage.env,
            site.as_str()
        ));
    }
    if !failures.is_empty() {
        let list: Vec<String> =
            failures.iter().map(|(site, _)| format!("{}[{:?}]", stage.env, site.as_str())).collect();
        log(format!(
            "  {} site{} failed within the stage's budget of {allowed}: {}; the next apply retries {}",
            failures.len(),
            if failures.len() == 1 { "" } else { "s" },
            list.join(", "),
            if failures.len() == 1 { "it" } else { "them" }
        ));
    }
    let mut services: Vec<ServiceName> = Vec::new();
    for s in
        release.stages.iter().flat_map(|st| st.sites.iter().flat_map(|x| x.changes.iter().map(|c| c.service.clone())))
    {
        if !services.contains(&s) {
            services.push(s);
        }
    }
    bake_and_check(provider, program, &release.name, &stage.name, stage, &services, log, rec).await?;
    log(format!("stage {}/{} done", release.name, stage.name));
    Ok(())
}

async fn wait_for_approval<P: Provider>(
    provider: &P,
    release: &ReleasePlan,
    stage: &StagePlan,
    group: &str,
    log: &Log,
    rec: &Recorder,
) {
    let mut told = false;
    loop {
        if let Some(a) = crate::approval::find(provider.state_dir(), &release.name, &stage.name) {
            log(format!("stage {}/{} approved by {}", release.name, stage.name, a.by));
            rec.approval(&release.name, &stage.name, &a.by);
            crate::approval::consume(provider.state_dir(), &release.name, &stage.name);
            return;
        }
        if !told {
            log(format!(
                "waiting for approval by {group}: run `conv approve {} {} {}`",
                release.name,
                stage.name,
                provider.root().display()
            ));
            told = true;
        }
        tokio::time::sleep(PROBE_INTERVAL).await;
    }
}

async fn deploy_site<P: Provider>(
    provider: &P,
    program: &Program,
    env: &EnvName,
    site: &crate::plan::SitePlan,
    log: &Log,
    rec: &Recorder,
) -> Result<(), String> {
    for change in &site.changes {
        let Some(service) = program.service(&change.service) else { continue };
        for (index, port) in &change.instances {
            let addr = format!("{}#{index}", address(env, &site.site, &change.service));
            let step = rec.intent("deploy", &addr, &change.version)?;
            let result = match provider.start(env, &site.site, service, *index, *port, &change.version).await {
                Ok(started) => wait_ready(provider, started.pid, *port)
                    .await
                    .map_err(|why| format!("{} #{index} {why} (log: {})", change.service, started.log)),
                Err(e) => Err(e),
            };
            rec.outcome(step, result.is_ok(), result.as_ref().err().map(String::as_str).unwrap_or("up"));
            result?;
            log(format!(
                "  {} #{index} {} up on port {port}",
                address(env, &site.site, &change.service),
                change.version
            ));
        }
    }
    Ok(())
}

/// Ready when the instance answers HTTP at all; its health is for the gates to judge.
async fn wait_ready<P: Provider>(provider: &P, pid: u32, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if provider.probe(port, "/", Duration::from_millis(500)).await.is_ok() {
            return Ok(());
        }
        if !provider.alive(pid).await {
            return Err("exited at start".into());
        }
        if Instant::now() > deadline {
            return Err(format!("did not answer on port {port} within {}", duration(READY_TIMEOUT.as_millis() as u64)));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The instances of `service` on the new version in the stage's environment.
fn targets(live: &LiveState, program: &Program, env: &EnvName, service: &ServiceName) -> Vec<(SiteName, u16, u32)> {
    let (Some(e), Some(svc)) = (program.environment(env), program.service(service)) else { return Vec::new() };
    let mut out = Vec::new();
    for site in &e.sites {
        for i in live.instances(env, site, service) {
            if i.version == svc.version {
                out.push((site.clone(), i.port, i.pid));
            }
        }
    }
    out
}

/// Bakes for the stage's bake time (at least a second), probing HTTP gates and process
/// liveness as it goes; then judges error-rate and latency gates on the metrics gathered
/// over the bake, and PromQL gates at its end.
async fn bake_and_check<P: Provider>(
    provider: &P,
    program: &Program,
    release: &str,
    stage_name: &str,
    stage: &StagePlan,
    services: &[ServiceName],
    log: &Log,
    rec: &Recorder,
) -> Result<(), String> {
    let stage_def = program
        .release(&conv_model::ReleaseName(release.to_string()))
        .and_then(|r| r.stages.iter().find(|s| s.name == stage_name));
    let stage_gates: Vec<Gate> = stage_def.map(|s| s.gates.clone()).unwrap_or_default();
    let live = provider.observe(program).await;
    let mut checks: Vec<(ServiceName, Gate, Vec<(SiteName, u16, u32)>)> = Vec::new();
    for service in services {
        let Some(svc) = program.service(service) else { continue };
        let t = targets(&live, program, &stage.env, service);
        for g in svc.gates.iter().chain(stage_gates.iter()) {
            checks.push((service.clone(), g.clone(), t.clone()));
        }
    }
    let bake = Duration::from_millis(stage.bake_ms.max(1000));
    log(format!(
        "  baking {} for {}: {} gate check{}",
        stage_name,
        duration(bake.as_millis() as u64),
        checks.len(),
        if checks.len() == 1 { "" } else { "s" }
    ));
    let mut baseline = Vec::new();
    for (_, _, t) in &checks {
        baseline.push(sample(provider, t).await);
    }
    let start = Instant::now();
    while start.elapsed() < bake {
        for (service, gate, targets) in &checks {
            for (site, port, pid) in targets {
                if !provider.alive(*pid).await {
                    return Err(format!(
                        "{} on {}[{:?}] (port {port}) exited while baking",
                        service,
                        stage.env,
                        site.as_str()
                    ));
                }
                if let Gate::Http { path, timeout_ms, .. } = gate {
                    match provider.probe(*port, path, Duration::from_millis(*timeout_ms)).await {
                        Ok(code) if (200..300).contains(&code) => {}
                        Ok(code) => {
                            return Err(format!(
                                "gate `{}` of {service} failed on {}[{:?}]: GET {path} answered {code}",
                                gate.describe(),
                                stage.env,
                                site.as_str()
                            ));
                        }
                        Err(why) => {
                            return Err(format!(
                                "gate `{}` of {service} failed on {}[{:?}]: {why}",
                                gate.describe(),
                                stage.env,
                                site.as_str()
                            ));
                        }
                    }
                }
            }
        }
        tokio::time::sleep(PROBE_INTERVAL).await;
    }
    for (i, (service, gate, targets)) in checks.iter().enumerate() {
        let window = sample(provider, targets).await.since(&baseline[i]);
        let verdict = judge(program, stage, service, gate, &window).await;
        let reading = match &verdict {
            Ok(()) => format!("{} requests, {} errors", window.requests, window.errors),
            Err(why) => why.clone(),
        };
        rec.gate(stage_name, &format!("{service}: {}", gate.describe()), verdict.is_ok(), &reading);
        verdict?;
    }
    log(format!("  gates of {stage_name} passed"));
    Ok(())
}

/// The verdict of a metrics or PromQL gate over a bake.
async fn judge(
    program: &Program,
    stage: &StagePlan,
    service: &ServiceName,
    gate: &Gate,
    window: &Sample,
) -> Result<(), String> {
    match gate {
        Gate::ErrorRate { under_percent, .. } => {
            if let Some(rate) = window.error_percent() {
                if rate > *under_percent {
                    return Err(format!(
                        "gate `{}` of {service} failed in {}: error rate {}% against a limit of {}% ({} of {} requests)",
                        gate.describe(),
                        stage.env,
                        trim_float(rate),
                        trim_float(*under_percent),
                        window.errors,
                        window.requests
                    ));
                }
            }
        }
        Gate::Latency { quantile_percent, under_ms, .. } => {
            if let Some(seconds) = window.quantile(quantile_percent / 100.0) {
                let ms = seconds * 1000.0;
                if ms > *under_ms as f64 {
                    return Err(format!(
                        "gate `{}` of {service} failed in {}: p{} latency {}ms against a limit of {}",
                        gate.describe(),
                        stage.env,
                        trim_float(*quantile_percent),
                        trim_float(ms),
                        duration(*under_ms)
                    ));
                }
            }
        }
        Gate::Query { promql, max, .. } => {
            let Some(url) = program.environment(&stage.env).and_then(|e| e.prometheus.clone()) else {
                return Err(format!("gate `{}` needs `prometheus` on environment {}", gate.describe(), stage.env));
            };
            let query = promql.clone();
            let value = tokio::task::spawn_blocking(move || gates::prometheus_query(&url, &query))
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
                .map_err(|e| format!("gate `{}`: {e}", gate.describe()))?;
            if value > *max {
                return Err(format!(
                    "gate `{}` failed in {}: {} against a maximum of {}",
                    gate.describe(),
                    stage.env,
                    trim_float(value),
                    trim_float(*max)
                ));
            }
        }
        Gate::Http { .. } | Gate::Approval { .. } => {}
    }
    Ok(())
}

async fn sample<P: Provider>(provider: &P, targets: &[(SiteName, u16, u32)]) -> Sample {
    let mut total = Sample::default();
    for (_, port, _) in targets {
        if let Ok(s) = provider.signals(*port).await {
            total.add(&s);
        }
    }
    total
}

fn previous_path(state_dir: &std::path::Path, release: &str) -> std::path::PathBuf {
    state_dir.join("releases").join(release).join("previous.json")
}

/// Records what the release's services ran before this apply changed them, for
/// `conv rollback RELEASE` later.
fn save_previous<P: Provider>(
    provider: &P,
    program: &Program,
    before: &LiveState,
    release: &ReleasePlan,
) -> std::io::Result<()> {
    let Some(def) = program.release(&conv_model::ReleaseName(release.name.clone())) else { return Ok(()) };
    let entries: Vec<_> = before.sites.iter().filter(|((_, _, service), _)| def.services.contains(service)).collect();
    let json = serde_json::to_vec_pretty(&entries).map_err(std::io::Error::other)?;
    crate::write_atomically(&previous_path(provider.state_dir(), &release.name), &json)
}

/// `conv rollback RELEASE`: puts the release's services back to what they ran before the
/// last apply that changed them, in the plan's rollback order.
pub fn rollback_release<P: Provider>(
    plan: &Plan,
    release: &str,
    provider: &P,
    log: Log,
    rec: Recorder,
) -> Result<Vec<String>, String> {
    let Some(r) = plan.releases.iter().find(|r| r.name == release) else {
        return Err(format!("no release `{release}` in the program"));
    };
    let text = std::fs::read_to_string(previous_path(provider.state_dir(), release)).map_err(|_| {
        format!("release `{release}` has no recorded previous state: it was never changed by `conv apply`")
    })?;
    let entries: Vec<((EnvName, SiteName, ServiceName), Vec<crate::live::Instance>)> =
        serde_json::from_str(&text).map_err(|e| format!("the record of release `{release}` is damaged: {e}"))?;
    let before = LiveState { sites: entries.into_iter().collect() };
    let def = plan.program.release(&conv_model::ReleaseName(release.to_string())).ok_or("no such release")?;
    let mut touched = Vec::new();
    for env in &plan.program.environments {
        for site in &env.sites {
            for service in &def.services {
                touched.push((env.name.clone(), site.clone(), service.clone()));
            }
        }
    }
    // Multi-threaded, so that journal writes may block (see record.rs).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .map_err(|e| e.to_string())?;
    Ok(runtime.block_on(rollback(provider, &plan.program, &before, &touched, r, &log, &rec)))
}

/// Puts every touched site and service back to what ran before the apply, in the plan's
/// rollback order; returns the addresses rolled back.
async fn rollback<P: Provider>(
    provider: &P,
    program: &Program,
    before: &LiveState,
    touched: &[(EnvName, SiteName, ServiceName)],
    release: &ReleasePlan,
    log: &Log,
    rec: &Recorder,
) -> Vec<String> {
    let now = provider.observe(program).await;
    let mut done = Vec::new();
    for addr in &release.rollback {
        let Some((env, site, service)) =
            touched.iter().find(|(e, s, v)| &format!("{e}[{:?}]/{}/{v}", s.as_str(), release.name) == addr)
        else {
            continue;
        };
        let Some(svc) = program.service(service) else { continue };
        let previous = before.instances(env, site, service);
        let current = now.instances(env, site, service);
        let count = crate::local::instance_count(program, env, service);
        for index in 0..count {
            let running = current.iter().find(|i| i.index == index);
            match previous.iter().find(|i| i.index == index) {
                Some(old) if running.is_some_and(|c| c.version == old.version && c.alive) => {}
                Some(old) => {
                    let addr = format!("{}#{index}", address(env, site, service));
                    let step = rec.intent("rollback", &addr, &old.version).ok().flatten();
                    match provider.start(env, site, svc, index, old.port, &old.version).await {
                        Ok(_) => {
                            rec.outcome(step, true, "rolled back");
                            log(format!("  {} #{index} back to {}", address(env, site, service), old.version))
                        }
                        Err(why) => {
                            rec.outcome(step, false, &why);
                            log(format!(
                                "  {} #{index} could not go back to {}: {why}",
                                address(env, site, service),
                                old.version
                            ))
                        }
                    }
                }
                None if running.is_some() => {
                    provider.stop(env, site, service, index).await;
                    log(format!("  {} #{index} stopped (it did not run before)", address(env, site, service)));
                }
                None => {}
            }
        }
        done.push(addr.clone());
    }
    done
}

fn journal_failure(release: &ReleasePlan, stage: &StagePlan, why: String) -> Outcome {
    Outcome::Failed {
        release: release.name.clone(),
        stage: stage.name.clone(),
        reason: format!("cannot write the journal, so nothing was done: {why}"),
        rolled_back: Vec::new(),
        paused: true,
    }
}

/// Once a release converges, what runs on its sites is known good: rollbacks and drift
/// compare with it.
async fn record_known_good<P: Provider>(provider: &P, program: &Program, release: &ReleasePlan, rec: &Recorder) {
    let Some(def) = program.release(&conv_model::ReleaseName(release.name.clone())) else { return };
    let live = provider.observe(program).await;
    let mut envs: Vec<&EnvName> = def.stages.iter().map(|s| &s.env).collect();
    envs.dedup();
    for env in envs {
        let Some(e) = program.environment(env) else { continue };
        for site in &e.sites {
            for service in &def.services {
                let Some(svc) = program.service(service) else { continue };
                let up =
                    live.instances(env, site, service).iter().filter(|i| i.alive && i.version == svc.version).count();
                if up > 0 {
                    rec.known_good(env.as_str(), site.as_str(), service.as_str(), &svc.version, up as u32);
                }
            }
        }
    }
}
