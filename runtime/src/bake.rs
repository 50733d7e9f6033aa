//! Baking a stage: for its bake time (at least a second) HTTP gates are probed and every
//! instance must stay alive; then error-rate and latency gates judge the metrics of the bake
//! per site, each site on its own instances, and PromQL gates judge the environment. A
//! failure names the site and the instance whose readings failed, against the threshold.

use crate::apply::{PROBE_INTERVAL, StageError};
use crate::event::{Event, Sink};
use crate::gates::{self, Sample};
use crate::live::{Instance, LiveState};
use crate::plan::StagePlan;
use crate::provider::Provider;
use crate::record::Recorder;
use conv_model::program::{duration, trim_float};
use conv_model::{EnvName, Gate, GateScope, InstanceAddress, Program, ServiceName, SiteName};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// One instance the gates read: a service on a site, running the new version.
#[derive(Clone, Debug)]
struct Target {
    service: ServiceName,
    site: SiteName,
    index: u32,
    port: u16,
    at: InstanceAddress,
    instance: Instance,
}

impl Target {
    fn site_label(&self, env: &EnvName) -> String {
        format!("{env}[{:?}]", self.site.as_str())
    }
}

/// The instances of `services` on their new version in the stage's environment.
fn targets(live: &LiveState, program: &Program, env: &EnvName, services: &[ServiceName]) -> Vec<Target> {
    let Some(e) = program.environment(env) else { return Vec::new() };
    let mut out = Vec::new();
    for service in services {
        let Some(svc) = program.service(service) else { continue };
        for site in &e.sites {
            for i in live.instances(env, site, service) {
                if i.version == svc.version {
                    out.push(Target {
                        service: service.clone(),
                        site: site.clone(),
                        index: i.index,
                        port: i.port,
                        at: InstanceAddress::new(env, site, service, i.index),
                        instance: i.clone(),
                    });
                }
            }
        }
    }
    out
}

pub(crate) async fn bake_and_check<P: Provider>(
    provider: &P,
    program: &Program,
    release: &str,
    stage: &StagePlan,
    services: &[ServiceName],
    events: &Sink,
    rec: &Recorder,
) -> Result<(), StageError> {
    let settings = stage.settings(program, release);
    let stage_gates: Vec<Gate> = settings.map(|s| s.gates.clone()).unwrap_or_default();
    let live = provider.observe_env(program, &stage.env).await;
    let targets = targets(&live, program, &stage.env, services);
    let mut checks: Vec<(ServiceName, Gate)> = Vec::new();
    for service in services {
        let Some(svc) = program.service(service) else { continue };
        for g in svc.gates.iter().chain(stage_gates.iter()) {
            if !matches!(g, Gate::Approval { .. }) {
                checks.push((service.clone(), g.clone()));
            }
        }
    }
    // Rates need two scrapes a while apart; without metrics gates a zero bake is one look.
    let metrics = checks.iter().any(|(_, g)| matches!(g, Gate::ErrorRate { .. } | Gate::Latency { .. }));
    let bake = match (settings.map_or(0, |s| s.bake_ms), metrics) {
        (0, false) => Duration::ZERO,
        (ms, _) => Duration::from_millis(ms.max(1000)),
    };
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    events(&Event::BakeStarted {
        release: release.to_string(),
        stage: stage.name.clone(),
        duration_ms: bake.as_millis() as u64,
        ends_at_unix_ms: now_ms + bake.as_millis() as u64,
        checks: checks.len(),
    });
    let scrape = |targets| async move { if metrics { samples(provider, targets).await } else { Vec::new() } };
    let baseline = scrape(&targets).await;
    let start = Instant::now();
    let mut last_interim = start;
    // At least one look at every target, however short the bake.
    loop {
        for t in &targets {
            if !provider.alive(&t.at, &t.instance).await {
                return Err(StageError::Failed(format!(
                    "{} #{} on {} (port {}) exited while baking",
                    t.service,
                    t.index,
                    t.site_label(&stage.env),
                    t.port
                )));
            }
            for (service, gate) in checks.iter().filter(|(s, _)| *s == t.service) {
                if let Gate::Http { path, timeout_ms, .. } = gate {
                    let answer = provider.probe(&t.at, &t.instance, path, Duration::from_millis(*timeout_ms)).await;
                    let failed = match answer {
                        Ok(code) if (200..300).contains(&code) => None,
                        Ok(code) => Some(format!("GET {path} answered {code}")),
                        Err(why) => Some(why.message),
                    };
                    if let Some(why) = failed {
                        let detail = format!("instance #{}: {why}", t.index);
                        reading(
                            events,
                            rec,
                            release,
                            stage,
                            &t.site_label(&stage.env),
                            service,
                            gate,
                            None,
                            false,
                            &detail,
                        )
                        .await?;
                        return Err(StageError::Failed(format!(
                            "gate `{}` of {service} failed on {}: {detail}",
                            gate.describe(),
                            t.site_label(&stage.env)
                        )));
                    }
                }
            }
        }
        if metrics && targets.len() <= INTERIM_TARGETS && last_interim.elapsed() >= INTERIM_EVERY {
            interim(provider, events, release, stage, &targets, &baseline, &checks).await;
            last_interim = Instant::now();
        }
        if start.elapsed() >= bake {
            break;
        }
        tokio::time::sleep(PROBE_INTERVAL.min(bake)).await;
    }
    let end = scrape(&targets).await;
    for (service, gate) in &checks {
        match gate {
            Gate::ErrorRate { .. } | Gate::Latency { .. } => {
                judge_per_site(events, rec, release, stage, &targets, &baseline, &end, service, gate).await?;
            }
            Gate::Query { .. } => judge_query(events, rec, program, release, stage, service, gate).await?,
            Gate::Http { .. } => {
                for site in sites_of(&targets, service) {
                    let label = format!("{}[{:?}]", stage.env, site.as_str());
                    reading(events, rec, release, stage, &label, service, gate, None, true, "answered 2xx throughout")
                        .await?;
                }
            }
            Gate::Approval { .. } => {}
        }
    }
    events(&Event::GatesPassed { release: release.to_string(), stage: stage.name.clone() });
    Ok(())
}

fn sites_of(targets: &[Target], service: &ServiceName) -> Vec<SiteName> {
    let mut sites: Vec<SiteName> = targets.iter().filter(|t| &t.service == service).map(|t| t.site.clone()).collect();
    sites.dedup();
    sites
}

/// One scrape of every target; a scrape that fails is tried once more, then kept as the
/// reason: a gate that cannot read what an instance did fails, it does not pass for lack of
/// traffic.
async fn samples<P: Provider>(provider: &P, targets: &[Target]) -> Vec<Result<Sample, String>> {
    let mut out = Vec::with_capacity(targets.len());
    for t in targets {
        let mut read = provider.signals(&t.at, &t.instance).await;
        if read.is_err() {
            tokio::time::sleep(Duration::from_millis(200)).await;
            read = provider.signals(&t.at, &t.instance).await;
        }
        out.push(read.map_err(|e| e.message));
    }
    out
}

/// A metrics gate's value over a window: error percent or the quantile's latency in ms.
fn value_of(gate: &Gate, window: &Sample) -> Option<f64> {
    match gate {
        Gate::ErrorRate { .. } => window.error_percent(),
        Gate::Latency { quantile_percent, .. } => window.quantile(quantile_percent / 100.0).map(|s| s * 1000.0),
        _ => None,
    }
}

fn threshold_of(gate: &Gate) -> Option<f64> {
    match gate {
        Gate::ErrorRate { under_percent, .. } => Some(*under_percent),
        Gate::Latency { under_ms, .. } => Some(*under_ms as f64),
        Gate::Query { max, .. } => Some(*max),
        _ => None,
    }
}

fn show(gate: &Gate, value: f64) -> String {
    match gate {
        Gate::Latency { quantile_percent, .. } => {
            format!("p{} latency {}ms", trim_float(*quantile_percent), trim_float(value))
        }
        _ => format!("error rate {}%", trim_float(value)),
    }
}

fn limit(gate: &Gate) -> String {
    match gate {
        Gate::Latency { under_ms, .. } => duration(*under_ms),
        Gate::ErrorRate { under_percent, .. } => format!("{}%", trim_float(*under_percent)),
        _ => String::new(),
    }
}

/// One site's (or the environment's) verdict on a metrics gate over a window.
struct Verdict {
    label: String,
    value: Option<f64>,
    passed: bool,
    detail: String,
}

/// An error-rate or latency gate over the window between two scrapes, per site on its own
/// instances (or over the environment when the gate asks), naming the worst instance.
fn verdicts(
    stage: &StagePlan,
    targets: &[Target],
    baseline: &[Result<Sample, String>],
    end: &[Result<Sample, String>],
    service: &ServiceName,
    gate: &Gate,
) -> Vec<Verdict> {
    let environment_wide = matches!(
        gate,
        Gate::ErrorRate { scope: GateScope::Environment, .. } | Gate::Latency { scope: GateScope::Environment, .. }
    );
    // Per site, keyed by its label; one group for the whole environment when the gate asks.
    let mut groups: BTreeMap<String, Vec<(String, Sample)>> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, t) in targets.iter().enumerate().filter(|(_, t)| &t.service == service) {
        let (label, instance) = if environment_wide {
            (stage.env.to_string(), format!("{} #{}", t.site_label(&stage.env), t.index))
        } else {
            (t.site_label(&stage.env), format!("#{}", t.index))
        };
        match (&baseline[i], &end[i]) {
            (Ok(before), Ok(after)) => groups.entry(label).or_default().push((instance, after.since(before))),
            (Err(why), _) | (_, Err(why)) => out.push(Verdict {
                label,
                value: None,
                passed: false,
                detail: format!("cannot read the metrics of instance {instance}: {why}"),
            }),
        }
    }
    let threshold = threshold_of(gate).unwrap_or(f64::INFINITY);
    for (label, instances) in groups {
        let mut total = Sample::default();
        instances.iter().for_each(|(_, s)| total.add(s));
        let Some(value) = value_of(gate, &total) else {
            out.push(Verdict { label, value: None, passed: true, detail: "no traffic in the window".into() });
            continue;
        };
        let passed = value <= threshold;
        let worst = instances
            .iter()
            .filter_map(|(instance, s)| value_of(gate, s).map(|v| (instance.clone(), v)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let detail = match (passed, worst) {
            (false, Some((index, v))) if instances.len() > 1 => format!(
                "{} against a limit of {} ({} of {} requests; worst instance {index} at {})",
                show(gate, value),
                limit(gate),
                total.errors,
                total.requests,
                show(gate, v)
            ),
            (false, Some((index, _))) => format!(
                "{} against a limit of {} on instance {index} ({} of {} requests)",
                show(gate, value),
                limit(gate),
                total.errors,
                total.requests
            ),
            _ => format!("{} ({} requests, {} errors)", show(gate, value), total.requests, total.errors),
        };
        out.push(Verdict { label, value: Some(value), passed, detail });
    }
    out
}

/// Judges an error-rate or latency gate at the end of the bake: every verdict is a reading in
/// the journal and the event stream; the first that fails fails the stage.
#[allow(clippy::too_many_arguments)]
async fn judge_per_site(
    events: &Sink,
    rec: &Recorder,
    release: &str,
    stage: &StagePlan,
    targets: &[Target],
    baseline: &[Result<Sample, String>],
    end: &[Result<Sample, String>],
    service: &ServiceName,
    gate: &Gate,
) -> Result<(), StageError> {
    for v in verdicts(stage, targets, baseline, end, service, gate) {
        reading(events, rec, release, stage, &v.label, service, gate, v.value, v.passed, &v.detail).await?;
        if !v.passed {
            return Err(StageError::Failed(format!(
                "gate `{}` of {service} failed on {}: {}",
                gate.describe(),
                v.label,
                v.detail
            )));
        }
    }
    Ok(())
}

/// How often the bake reads metrics gates so far, for the views; and up to how many
/// instances (a larger fleet is read at the end only).
const INTERIM_EVERY: Duration = Duration::from_secs(2);
const INTERIM_TARGETS: usize = 500;

/// The metrics gates so far in the bake, as interim readings: events for the views, not
/// verdicts (the journal records only the readings at the end).
async fn interim<P: Provider>(
    provider: &P,
    events: &Sink,
    release: &str,
    stage: &StagePlan,
    targets: &[Target],
    baseline: &[Result<Sample, String>],
    checks: &[(ServiceName, Gate)],
) {
    let now = samples(provider, targets).await;
    for (service, gate) in checks.iter().filter(|(_, g)| matches!(g, Gate::ErrorRate { .. } | Gate::Latency { .. })) {
        for v in verdicts(stage, targets, baseline, &now, service, gate) {
            events(&Event::GateReading {
                release: release.to_string(),
                stage: stage.name.clone(),
                site: v.label,
                service: service.to_string(),
                gate: gate.describe(),
                value: v.value,
                threshold: threshold_of(gate),
                passed: v.passed,
                detail: v.detail,
                interim: true,
            });
        }
    }
}

/// A PromQL gate reads the environment's Prometheus: one value for the whole environment.
async fn judge_query(
    events: &Sink,
    rec: &Recorder,
    program: &Program,
    release: &str,
    stage: &StagePlan,
    service: &ServiceName,
    gate: &Gate,
) -> Result<(), StageError> {
    let Gate::Query { promql, max, .. } = gate else { return Ok(()) };
    let label = stage.env.to_string();
    let Some(url) = program.environment(&stage.env).and_then(|e| e.prometheus.clone()) else {
        return Err(StageError::Failed(format!(
            "gate `{}` needs `prometheus` on environment {}",
            gate.describe(),
            stage.env
        )));
    };
    let query = promql.clone();
    let value = tokio::task::spawn_blocking(move || gates::prometheus_query(&url, &query))
        .await
        .unwrap_or_else(|e| Err(e.to_string()))
        .map_err(|e| StageError::Failed(format!("gate `{}`: {e}", gate.describe())))?;
    let passed = value <= *max;
    let detail = format!("{} against a maximum of {}", trim_float(value), trim_float(*max));
    reading(events, rec, release, stage, &label, service, gate, Some(value), passed, &detail).await?;
    if !passed {
        return Err(StageError::Failed(format!("gate `{}` failed in {}: {detail}", gate.describe(), stage.env)));
    }
    Ok(())
}

/// One gate reading: an event, and a journal record.
#[allow(clippy::too_many_arguments)]
async fn reading(
    events: &Sink,
    rec: &Recorder,
    release: &str,
    stage: &StagePlan,
    site: &str,
    service: &ServiceName,
    gate: &Gate,
    value: Option<f64>,
    passed: bool,
    detail: &str,
) -> Result<(), StageError> {
    events(&Event::GateReading {
        release: release.to_string(),
        stage: stage.name.clone(),
        site: site.to_string(),
        service: service.to_string(),
        gate: gate.describe(),
        value,
        threshold: threshold_of(gate),
        passed,
        detail: detail.to_string(),
        interim: false,
    });
    rec.gate(&stage.name, &format!("{service}: {} on {site}", gate.describe()), passed, detail).await?;
    Ok(())
}
