//! Apply: walks a plan stage by stage with tokio. Within a stage, sites deploy in parallel
//! up to `max_parallel`, services in dependency order; a stage fails when more sites fail
//! than its budget allows or when a gate fails while it bakes. A failed stage rolls every
//! service of its release back, in the plan's rollback order, to what was last known good,
//! or pauses. Each stage's result is recorded in the journal for the versions it judged, so
//! an interrupted, paused or failed stage is judged again, never taken as converged.

use crate::bake;
use crate::event::{Event, Sink, Waiting};
use crate::live::LiveState;
use crate::plan::{Action, Plan, ReleasePlan, SitePlan, StagePlan, address};
use crate::provider::{ErrorKind, Provider, Rollout, Started, Up};
use crate::record::{JournalWriteError, Recorder};
use crate::requirements::{Converged, Options};
use crate::rollback;
use conv_model::{EnvName, InstanceAddress, OnFailure, Program, ReleaseName, Service, ServiceName};
use std::sync::Arc;
use std::time::Duration;

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every release converged; `failed_sites` failed within their stage's budget and are
    /// retried by the next apply (`env["site"]: why`).
    Converged { failed_sites: Vec<String> },
    /// A stage failed; the release was rolled back (or paused, with `rolled_back` empty).
    Failed { release: String, stage: String, reason: String, rolled_back: Vec<String>, paused: bool },
    /// With `--no-wait`: a stage's requirement did not hold, so the run stopped before it.
    Waiting { release: String, stage: String, reason: String },
}

/// Why a stage did not pass.
#[derive(Debug)]
pub(crate) enum StageError {
    /// Its sites or gates failed: the release's `on_failure` decides.
    Failed(String),
    /// The journal could not record a step: stop at once, act no further.
    Journal(JournalWriteError),
    /// A requirement does not hold and the run does not wait for it.
    Waiting(String),
}

impl From<JournalWriteError> for StageError {
    fn from(e: JournalWriteError) -> Self {
        StageError::Journal(e)
    }
}

/// How long a started instance has to answer HTTP before it counts as failed.
pub(crate) const PROBE_INTERVAL: Duration = Duration::from_millis(500);

// The engine is async and owns no runtime: the program that runs it (the CLI's `main`)
// owns one multi-threaded tokio runtime and drives every run on it.

pub async fn apply_plan<P: Provider>(plan: Plan, provider: P, events: Sink, rec: Recorder) -> Outcome {
    apply_plan_with(plan, provider, events, rec, Options::default()).await
}

pub async fn apply_plan_with<P: Provider>(
    plan: Plan,
    provider: P,
    events: Sink,
    rec: Recorder,
    options: Options,
) -> Outcome {
    let outcome = apply_releases(plan, provider, &events, &rec, options).await;
    // Outcomes were posted without waiting: the run is over only once they are written.
    match (rec.flush().await, outcome) {
        (Err(why), Outcome::Converged { .. }) => Outcome::Failed {
            release: String::new(),
            stage: String::new(),
            reason: why.to_string(),
            rolled_back: Vec::new(),
            paused: true,
        },
        (_, outcome) => outcome,
    }
}

async fn apply_releases<P: Provider>(
    plan: Plan,
    provider: P,
    events: &Sink,
    rec: &Recorder,
    options: Options,
) -> Outcome {
    let converged = Converged::default();
    let program = Arc::new(plan.program.clone());
    events(&Event::RunStarted { releases: plan.releases.len(), changes: plan.change_count() });
    let before = provider.observe(&program).await;
    let mut failed_sites = Vec::new();
    for release in &plan.releases {
        if release.stages.iter().any(StagePlan::has_changes)
            && let Err(err) = rollback::save_previous(&provider, &program, &before, release)
        {
            events(&Event::Warning {
                message: format!("cannot record what release {} ran before: {err}", release.name),
            });
        }
        // Environments recorded known good in this run, so the release's end skips them.
        let mut recorded: Vec<EnvName> = Vec::new();
        for stage in &release.stages {
            let result = record_stage(&program, &provider, release, stage, events, rec, &options, &converged).await;
            match result {
                Ok(mut failed) => {
                    failed_sites.append(&mut failed);
                    // An environment whose last stage of the release converged is known good
                    // now, whatever later stages elsewhere do: drift compares with it.
                    if stage.has_work() && last_stage_in_env(release, stage) {
                        let only = [stage.env.clone()];
                        if let Err(e) = record_known_good(&provider, &program, release, &only, rec).await {
                            return journal_failure(release, stage, e, events);
                        }
                        recorded.push(stage.env.clone());
                    }
                }
                Err(StageError::Journal(e)) => return journal_failure(release, stage, e, events),
                Err(StageError::Waiting(reason)) => {
                    events(&Event::RunEnded { outcome: "waiting".into() });
                    return Outcome::Waiting { release: release.name.clone(), stage: stage.name.clone(), reason };
                }
                Err(StageError::Failed(reason)) => {
                    return fail_release(&provider, &program, &before, release, stage, reason, events, rec).await;
                }
            }
        }
        let mut rest: Vec<EnvName> = Vec::new();
        for env in release.stages.iter().map(|s| &s.env) {
            if !recorded.contains(env) && !rest.contains(env) {
                rest.push(env.clone());
            }
        }
        if let Err(e) = record_known_good(&provider, &program, release, &rest, rec).await {
            return journal_failure(release, release.stages.last().unwrap_or(&empty_stage()), e, events);
        }
        events(&Event::ReleaseConverged { release: release.name.clone() });
    }
    events(&Event::RunEnded { outcome: "converged".into() });
    Outcome::Converged { failed_sites }
}

/// Runs one stage between its journal records: intent and `running` before, the outcome
/// and `converged` after, so that a kill in between leaves the stage unjudged.
#[allow(clippy::too_many_arguments)]
async fn record_stage<P: Provider>(
    program: &Arc<Program>,
    provider: &P,
    release: &ReleasePlan,
    stage: &StagePlan,
    events: &Sink,
    rec: &Recorder,
    options: &Options,
    converged: &Converged,
) -> Result<Vec<String>, StageError> {
    let step = rec.intent("stage", &format!("{}/{}", release.name, stage.name), stage.env.as_str()).await?;
    let working = stage.has_work();
    if working {
        rec.stage(&release.name, &stage.name, stage.env.as_str(), &release.versions, "running", "").await?;
    }
    let result = run_stage(program, provider, release, stage, events, rec, options, converged).await;
    match &result {
        Ok(_) => {
            if working {
                rec.stage(&release.name, &stage.name, stage.env.as_str(), &release.versions, "converged", "").await?;
            }
            if let Ok(mut c) = converged.in_this_run.lock() {
                c.insert((release.name.clone(), stage.name.clone()));
            }
            rec.outcome(step, true, "done").await?;
        }
        Err(StageError::Failed(reason)) => {
            let state = if release.on_failure == OnFailure::Pause { "paused" } else { "failed" };
            rec.stage(&release.name, &stage.name, stage.env.as_str(), &release.versions, state, reason).await?;
            rec.outcome(step, false, reason).await?;
        }
        Err(StageError::Waiting(reason)) => {
            rec.stage(&release.name, &stage.name, stage.env.as_str(), &release.versions, "waiting", reason).await?;
            rec.outcome(step, false, &format!("waiting: {reason}")).await?;
        }
        Err(StageError::Journal(_)) => {}
    }
    result
}

fn empty_stage() -> StagePlan {
    StagePlan {
        name: String::new(),
        env: EnvName(String::new()),
        approvals: Vec::new(),
        gates: Vec::new(),
        sites: Vec::new(),
        judge: None,
    }
}

#[allow(clippy::too_many_arguments)]
async fn fail_release<P: Provider>(
    provider: &P,
    program: &Arc<Program>,
    before: &LiveState,
    release: &ReleasePlan,
    stage: &StagePlan,
    reason: String,
    events: &Sink,
    rec: &Recorder,
) -> Outcome {
    events(&Event::StageFailed { release: release.name.clone(), stage: stage.name.clone(), reason: reason.clone() });
    let paused = release.on_failure == OnFailure::Pause;
    let rolled_back = if paused {
        events(&Event::ReleasePaused { release: release.name.clone(), stage: stage.name.clone() });
        Vec::new()
    } else {
        events(&Event::RollbackStarted { release: release.name.clone() });
        let targets = rollback::Targets::known_good_or(before, &rec.known_good);
        let done = rollback::run(provider, program, &targets, release, events, rec).await;
        rollback::mark_rolled_back(release, Some(&stage.name), rec).await;
        events(&Event::ReleaseFailed { release: release.name.clone(), stage: stage.name.clone() });
        done
    };
    events(&Event::RunEnded { outcome: if paused { "paused" } else { "failed" }.into() });
    Outcome::Failed { release: release.name.clone(), stage: stage.name.clone(), reason, rolled_back, paused }
}

/// The services of a release, in the program's order.
pub(crate) fn release_services(program: &Program, release: &str) -> Vec<ServiceName> {
    program.release(&ReleaseName(release.to_string())).map(|r| r.services.clone()).unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
async fn run_stage<P: Provider>(
    program: &Arc<Program>,
    provider: &P,
    release: &ReleasePlan,
    stage: &StagePlan,
    events: &Sink,
    rec: &Recorder,
    options: &Options,
    converged: &Converged,
) -> Result<Vec<String>, StageError> {
    let services = release_services(program, &release.name);
    let Some(settings) = stage.settings(program, &release.name) else {
        return Err(StageError::Failed(format!("the plan's program has no stage `{}`", stage.name)));
    };
    if !stage.has_changes() {
        let Some(why) = &stage.judge else {
            events(&Event::StageConverged {
                release: release.name.clone(),
                stage: stage.name.clone(),
                env: stage.env.to_string(),
            });
            return Ok(Vec::new());
        };
        // Deployed before, but the gates never passed on what runs now: they judge it now.
        events(&Event::StageRejudged { release: release.name.clone(), stage: stage.name.clone(), why: why.clone() });
        bake::bake_and_check(provider, program, &release.name, stage, &services, events, rec).await?;
        events(&Event::StageDone { release: release.name.clone(), stage: stage.name.clone() });
        return Ok(Vec::new());
    }
    crate::requirements::meet(program, release, stage, options, converged, events, rec).await?;
    for group in approval_groups(program, release, stage) {
        if wait_for_approval(provider, release, stage, &group, events, rec).await? {
            rec.stage(&release.name, &stage.name, stage.env.as_str(), &release.versions, "running", "").await?;
        }
    }
    let changed: Vec<SitePlan> = stage.sites.iter().filter(|s| !s.changes.is_empty()).cloned().collect();
    events(&Event::StageStarted {
        release: release.name.clone(),
        stage: stage.name.clone(),
        env: stage.env.to_string(),
        sites: changed.len(),
        fraction_percent: settings.fraction_percent,
    });
    let failures = deploy_sites(program, provider, release, stage, settings.max_parallel, changed, events, rec).await?;
    let allowed = (settings.max_failures_percent / 100.0 * stage.sites.len() as f64).floor() as usize;
    if failures.len() > allowed {
        let (site, why) = &failures[0];
        return Err(StageError::Failed(format!(
            "{} of {} sites failed, the budget allows {allowed} (first: {site}: {why})",
            failures.len(),
            stage.sites.len(),
        )));
    }
    if !failures.is_empty() {
        events(&Event::FailedWithinBudget {
            release: release.name.clone(),
            stage: stage.name.clone(),
            sites: failures.iter().map(|(site, _)| site.clone()).collect(),
            budget: allowed,
        });
    }
    bake::bake_and_check(provider, program, &release.name, stage, &services, events, rec).await?;
    events(&Event::StageDone { release: release.name.clone(), stage: stage.name.clone() });
    Ok(failures.into_iter().map(|(site, why)| format!("{site}: {why}")).collect())
}

/// Deploys the changed sites, at most `max_parallel` at once. A site whose task fails, errs
/// or panics counts as failed, with the reason; a journal write that fails stops the stage.
async fn deploy_sites<P: Provider>(
    program: &Arc<Program>,
    provider: &P,
    release: &ReleasePlan,
    stage: &StagePlan,
    max_parallel: Option<u32>,
    changed: Vec<SitePlan>,
    events: &Sink,
    rec: &Recorder,
) -> Result<Vec<(String, String)>, StageError> {
    let limit = max_parallel.map(|m| m as usize).unwrap_or(changed.len()).max(1);
    let semaphore = Arc::new(tokio::sync::Semaphore::new(limit));
    let mut tasks = Vec::new();
    for site in changed {
        let (sem, p, prog, env, ev, r) =
            (semaphore.clone(), provider.clone(), program.clone(), stage.env.clone(), events.clone(), rec.clone());
        let (release_name, stage_name) = (release.name.clone(), stage.name.clone());
        let label = format!("{}[{:?}]", stage.env, site.site.as_str());
        tasks.push((
            label,
            tokio::spawn(async move {
                let _permit = sem.acquire_owned().await;
                ev(&Event::SiteDeployStarted {
                    release: release_name,
                    stage: stage_name,
                    site: format!("{env}[{:?}]", site.site.as_str()),
                });
                deploy_site(&p, &prog, &env, &site, &ev, &r).await
            }),
        ));
    }
    let mut failures = Vec::new();
    let mut journal_error = None;
    for (label, task) in tasks {
        let result = match task.await {
            Ok(Ok(result)) => result,
            Ok(Err(journal)) => {
                journal_error.get_or_insert(journal);
                continue;
            }
            Err(join) => Err(format!("its deploy task stopped: {}", panic_text(join))),
        };
        match result {
            Ok(()) => events(&Event::SiteDone {
                release: release.name.clone(),
                stage: stage.name.clone(),
                site: label.clone(),
            }),
            Err(why) => {
                events(&Event::SiteFailed {
                    release: release.name.clone(),
                    stage: stage.name.clone(),
                    site: label.clone(),
                    reason: why.clone(),
                });
                failures.push((label, why));
            }
        }
    }
    match journal_error {
        Some(e) => Err(StageError::Journal(e)),
        None => Ok(failures),
    }
}

fn panic_text(join: tokio::task::JoinError) -> String {
    if !join.is_panic() {
        return "cancelled".into();
    }
    let payload = join.into_panic();
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    format!("it panicked: {text}")
}

/// Groups whose approval a stage waits for (approval.rs says which).
fn approval_groups(program: &Program, release: &ReleasePlan, stage: &StagePlan) -> Vec<String> {
    let def = program.release(&ReleaseName(release.name.clone()));
    match def.and_then(|r| r.stages.iter().find(|s| s.name == stage.name).map(|s| (r, s))) {
        Some((r, s)) => crate::approval::groups(program, r, s),
        None => stage.approvals.clone(),
    }
}

/// Waits until an approval of the stage for `group` is given; whether it had to wait.
async fn wait_for_approval<P: Provider>(
    provider: &P,
    release: &ReleasePlan,
    stage: &StagePlan,
    group: &str,
    events: &Sink,
    rec: &Recorder,
) -> Result<bool, JournalWriteError> {
    let mut waited = false;
    loop {
        if let Some(by) = rec.take_approval(&release.name, &stage.name, group).await? {
            events(&Event::Approved { release: release.name.clone(), stage: stage.name.clone(), by });
            return Ok(waited);
        }
        if !waited {
            let why = format!("approval by {group}: conv approve {} {}", release.name, stage.name);
            let on = Waiting::Approval {
                group: group.to_string(),
                command: format!("conv approve {} {} {}", release.name, stage.name, provider.root().display()),
            };
            crate::requirements::tell_waiting(release, stage, &why, on, events, rec).await?;
            waited = true;
        }
        tokio::time::sleep(PROBE_INTERVAL).await;
    }
}

/// Deploys one site's changes in order: each is one rollout of the provider's, or stops. The
/// intents of all its steps (one per instance) are recorded in one write before the first
/// acts; each outcome is posted as it comes (a failed post stops the run at the next write).
/// The outer error is the journal's (stop the run); the inner one is the site's (it failed,
/// with the reason).
async fn deploy_site<P: Provider>(
    provider: &P,
    program: &Program,
    env: &EnvName,
    site: &SitePlan,
    events: &Sink,
    rec: &Recorder,
) -> Result<Result<(), String>, JournalWriteError> {
    let changes: Vec<(&crate::plan::Change, &Service)> =
        site.changes.iter().filter_map(|c| program.service(&c.service).map(|s| (c, s))).collect();
    let intents = changes
        .iter()
        .flat_map(|(change, _)| {
            let kind = if change.action == Action::Stop { "stop" } else { "deploy" };
            change.instances.iter().map(move |index| {
                let slot = InstanceAddress::new(env, &site.site, &change.service, *index);
                (kind, slot.to_string(), change.version.clone())
            })
        })
        .collect();
    let ids = rec.intents(intents).await?;
    let mut first_step = 0;
    for (change, service) in &changes {
        let steps = &ids[first_step..first_step + change.instances.len()];
        first_step += change.instances.len();
        let at = address(env, &site.site, &change.service);
        if change.action == Action::Stop {
            for (index, step) in change.instances.iter().zip(steps) {
                provider.stop(&InstanceAddress::new(env, &site.site, &change.service, *index)).await;
                rec.post_outcome(*step, true, "stopped")?;
                events(&Event::InstanceStopped { address: at.clone(), index: *index });
            }
            continue;
        }
        let rollout =
            Rollout { env, site: &site.site, service, version: &change.version, instances: &change.instances };
        let told = Told::default();
        let up = |index: u32, started: &Started| {
            let step = change.instances.iter().position(|i| *i == index).map(|n| steps[n]);
            told.up(index, rec.post_outcome(step.flatten(), true, "up"));
            events(&Event::InstanceUp {
                address: at.clone(),
                index,
                version: change.version.clone(),
                at: started.place.clone(),
            });
        };
        let result = roll_out_retrying(provider, &rollout, &up, &told).await;
        told.journal_error()?;
        if let Err(why) = result {
            let mut not_up = change.instances.iter().zip(steps).filter(|(i, _)| !told.was_up(**i));
            let why = match not_up.next() {
                Some((failed, step)) => {
                    let why = format!("{} #{failed} {why}", change.service);
                    rec.post_outcome(*step, false, &why)?;
                    why
                }
                None => format!("{} {why}", change.service),
            };
            for (_, later) in not_up {
                rec.post_skipped(*later, "not tried: an earlier step on this site failed")?;
            }
            for later in &ids[first_step..] {
                rec.post_skipped(*later, "not tried: an earlier step on this site failed")?;
            }
            return Ok(Err(why));
        }
    }
    Ok(Ok(()))
}

/// Which instances of a rollout came up, and the first journal write about them that failed.
#[derive(Default)]
struct Told {
    up: std::sync::Mutex<(Vec<u32>, Option<JournalWriteError>)>,
}

impl Told {
    fn up(&self, index: u32, posted: Result<(), JournalWriteError>) {
        if let Ok(mut told) = self.up.lock() {
            told.0.push(index);
            if let (Err(e), None) = (posted, &told.1) {
                told.1 = Some(e);
            }
        }
    }

    fn was_up(&self, index: u32) -> bool {
        self.up.lock().is_ok_and(|told| told.0.contains(&index))
    }

    fn journal_error(&self) -> Result<(), JournalWriteError> {
        match self.up.lock().ok().and_then(|mut told| told.1.take()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// How many times a rollout that failed transiently is tried, in all.
const START_ATTEMPTS: u32 = 3;

/// Rolls out, and after a transient failure (a timeout, a file that could not be written)
/// tries again, after a pause, with the instances not up yet; a permanent failure is the
/// site's.
async fn roll_out_retrying<P: Provider>(
    provider: &P,
    rollout: &Rollout<'_>,
    up: &Up<'_>,
    told: &Told,
) -> Result<(), String> {
    let mut attempt = 1;
    let mut left = rollout.instances.to_vec();
    loop {
        let result = provider.roll_out(&Rollout { instances: &left, ..*rollout }, up).await;
        match result {
            Ok(()) => return Ok(()),
            Err(e) if e.kind == ErrorKind::Transient && attempt < START_ATTEMPTS => {
                attempt += 1;
                left.retain(|i| !told.was_up(*i));
                tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
            }
            Err(e) => return Err(e.message),
        }
    }
}

fn journal_failure(release: &ReleasePlan, stage: &StagePlan, why: JournalWriteError, events: &Sink) -> Outcome {
    events(&Event::RunEnded { outcome: "failed".into() });
    Outcome::Failed {
        release: release.name.clone(),
        stage: stage.name.clone(),
        reason: why.to_string(),
        rolled_back: Vec::new(),
        paused: true,
    }
}

/// Once a release converges, what runs on its sites is known good: rollbacks and drift
/// compare with it.
fn last_stage_in_env(release: &ReleasePlan, stage: &StagePlan) -> bool {
    release.stages.iter().rev().find(|s| s.env == stage.env).is_some_and(|s| s.name == stage.name)
}

/// Records what runs and serves on the release's sites in `envs` as known good.
async fn record_known_good<P: Provider>(
    provider: &P,
    program: &Program,
    release: &ReleasePlan,
    envs: &[EnvName],
    rec: &Recorder,
) -> Result<(), JournalWriteError> {
    let Some(def) = program.release(&ReleaseName(release.name.clone())) else { return Ok(()) };
    let mut rows = Vec::new();
    for env in envs {
        let Some(e) = program.environment(env) else { continue };
        let live = provider.observe_env(program, env).await;
        for service in &def.services {
            let Some(svc) = program.service(service) else { continue };
            let spec = crate::live::Spec::of(svc);
            let fingerprint = spec.fingerprint();
            for site in &e.sites {
                let up = live
                    .instances(env, site, service)
                    .iter()
                    .filter(|i| i.serving() && i.runs(&svc.version, &spec))
                    .count();
                if up > 0 {
                    rows.push(crate::record::KnownGoodRow {
                        env: env.to_string(),
                        site: site.to_string(),
                        service: service.to_string(),
                        version: svc.version.clone(),
                        instances: up as u32,
                        spec: fingerprint.clone(),
                    });
                }
            }
        }
    }
    rec.known_good(rows).await
}
