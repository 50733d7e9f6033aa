//! The engine without processes: a provider written for these tests, on tokio's paused
//! clock, so that bakes of minutes pass in no time. Stage order, dependency order,
//! `max_parallel`, failure budgets, a panicking deploy, rollback order and pause.

use conv_model::*;
use conv_runtime::apply::{Outcome, apply_plan};
use conv_runtime::event::{Event, Sink};
use conv_runtime::gates::Sample;
use conv_runtime::live::{Instance, LiveState};
use conv_runtime::plan::{self, Plan};
use conv_runtime::provider::{Provider, ProviderError, Rollout, Started, Up};
use conv_runtime::record::Recorder;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `(env, site, service, slot)`.
type Slot = (String, String, String, u32);

/// What the fake sites run and what happened to them.
#[derive(Default)]
struct State {
    /// What runs in each slot: version, port and when it started.
    slots: BTreeMap<Slot, (String, u16, tokio::time::Instant)>,
    /// Every start and stop, in order: `start prod/p03/api 2.0.0`.
    log: Vec<String>,
    starting: usize,
    most_starting: usize,
    failing: HashSet<String>,
    panicking: HashSet<String>,
    /// Sites whose next start fails transiently, once.
    flaky: HashSet<String>,
    /// Instances (site and slot) whose start fails.
    failing_slots: HashSet<(String, u32)>,
    /// What each rollout asked for: `prod/prod-00/api 2.0.0 on #0 #1 #2`.
    rollouts: Vec<String>,
}

/// A provider of sites that exist only in memory. A start takes 100 ms of (paused) time; a
/// version containing `bad` fails half of its requests.
#[derive(Clone)]
struct Fake {
    state: Arc<Mutex<State>>,
    dir: PathBuf,
}

impl Fake {
    fn new(dir: &Path) -> Fake {
        Fake { state: Arc::default(), dir: dir.to_path_buf() }
    }

    fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }

    /// Starts one instance: 100 ms of (paused) time.
    fn start(
        &self,
        at: InstanceAddress,
        version: String,
    ) -> impl std::future::Future<Output = Result<Started, ProviderError>> + Send + use<> {
        let state = self.state.clone();
        async move {
            {
                let mut s = state.lock().unwrap();
                s.starting += 1;
                s.most_starting = s.most_starting.max(s.starting);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            let mut s = state.lock().unwrap();
            s.starting -= 1;
            let (env, site, service) = (at.env.to_string(), at.site.to_string(), at.service.to_string());
            s.log.push(format!("start {env}/{site}/{service} {version}"));
            if s.panicking.contains(&site) {
                drop(s);
                panic!("the fake provider broke on {site}");
            }
            if s.failing.contains(&site) || s.failing_slots.contains(&(site.clone(), at.slot)) {
                return Err(ProviderError::permanent(format!("{site} is down")));
            }
            if s.flaky.remove(&site) {
                return Err(ProviderError::transient(format!("{site} timed out")));
            }
            s.slots.insert((env, site, service, at.slot), (version, 0, tokio::time::Instant::now()));
            Ok(Started { handle: "fake".into(), port: 0, log: "(fake)".into(), place: "in memory".into() })
        }
    }
}

impl Provider for Fake {
    fn observe(&self, _program: &Program) -> impl std::future::Future<Output = LiveState> + Send {
        let mut live = LiveState::default();
        for ((env, site, service, index), (version, port, _)) in &self.state.lock().unwrap().slots {
            live.sites
                .entry((EnvName(env.clone()), SiteName(site.clone()), ServiceName(service.clone())))
                .or_default()
                .push(Instance {
                    index: *index,
                    version: version.clone(),
                    port: *port,
                    pid: 1,
                    alive: true,
                    health: Default::default(),
                    spec: None,
                });
        }
        async move { live }
    }

    async fn roll_out(&self, rollout: &Rollout<'_>, up: &Up<'_>) -> Result<(), ProviderError> {
        let slots: Vec<String> = rollout.instances.iter().map(|i| format!("#{i}")).collect();
        let (env, site, service) = (rollout.env, rollout.site, &rollout.service.name);
        let asked = format!("{env}/{site}/{service} {} on {}", rollout.version, slots.join(" "));
        self.state.lock().unwrap().rollouts.push(asked);
        conv_runtime::provider::one_by_one(
            rollout,
            up,
            Duration::from_secs(10),
            |at| self.start(at, rollout.version.to_string()),
            |_, _| async { Ok(true) },
        )
        .await
    }

    async fn stop(&self, at: &InstanceAddress) {
        let mut s = self.state.lock().unwrap();
        s.log.push(format!("stop {}/{}/{}", at.env, at.site, at.service));
        s.slots.remove(&(at.env.to_string(), at.site.to_string(), at.service.to_string(), at.slot));
    }

    async fn alive(&self, _at: &InstanceAddress, _instance: &Instance) -> bool {
        true
    }

    async fn probe(
        &self,
        _at: &InstanceAddress,
        _instance: &Instance,
        _path: &str,
        _timeout: Duration,
    ) -> Result<u16, ProviderError> {
        Ok(200)
    }

    fn signals(
        &self,
        at: &InstanceAddress,
        _instance: &Instance,
    ) -> impl std::future::Future<Output = Result<Sample, ProviderError>> + Send {
        let key = (at.env.to_string(), at.site.to_string(), at.service.to_string(), at.slot);
        let found = self.state.lock().unwrap().slots.get(&key).cloned();
        async move {
            let (version, _, since) = found.ok_or_else(|| ProviderError::transient("no such instance"))?;
            let requests = since.elapsed().as_millis() as f64 / 10.0;
            let errors = if version.contains("bad") { (requests / 2.0).floor() } else { 0.0 };
            Ok(Sample { requests, errors, buckets: vec![(0.01, requests), (f64::INFINITY, requests)] })
        }
    }

    fn state_dir(&self) -> &Path {
        &self.dir
    }

    fn root(&self) -> &Path {
        &self.dir
    }
}

fn environment(name: &str, sites: usize) -> Environment {
    Environment {
        name: EnvName(name.into()),
        provider: conv_model::Provider::Simulator { seed: 0, failure_rate_percent: 0.0, latency_ms: 0 },
        sites: (0..sites).map(|i| SiteName(format!("{name}-{i:02}"))).collect(),
        after: vec![],
        requires: vec![],
        critical: false,
        prometheus: None,
        notify: vec![],
    }
}

fn service(name: &str, version: &str, depends_on: &[&str]) -> Service {
    Service {
        name: ServiceName(name.into()),
        run: Run::Image { name: name.into(), tag: None },
        version: version.into(),
        replicas: None,
        config: BTreeMap::new(),
        secrets: BTreeMap::new(),
        ports: vec![],
        depends_on: depends_on.iter().map(|d| ServiceName((*d).into())).collect(),
        gates: vec![Gate::ErrorRate { under_percent: 5.0, window_ms: 60_000, scope: GateScope::Site }],
    }
}

/// `staging` (2 sites), then `prod` (20 sites, 3 at a time, 10% may fail); `api` needs `db`.
fn program(api: &str, on_failure: OnFailure) -> Program {
    let stage = |name: &str, env: &str, max_parallel: Option<u32>, max_failures_percent: f64| Stage {
        name: name.into(),
        env: EnvName(env.into()),
        fraction_percent: 100.0,
        bake_ms: 5 * 60_000,
        max_parallel,
        max_failures_percent,
        gates: vec![],
    };
    Program {
        schema_version: PROGRAM_SCHEMA_VERSION,
        environments: vec![environment("staging", 2), environment("prod", 20)],
        services: vec![service("api", api, &["db"]), service("db", "1.0.0", &[])],
        releases: vec![Release {
            name: ReleaseName("shop".into()),
            services: vec![ServiceName("api".into()), ServiceName("db".into())],
            stages: vec![stage("staging", "staging", None, 0.0), stage("prod", "prod", Some(3), 10.0)],
            on_failure,
            notify: vec![],
        }],
    }
}

/// Every event of a run, and its outcome.
async fn apply(program: &Program, fake: &Fake) -> (Outcome, Vec<Event>, Plan) {
    let live = fake.observe(program).await;
    let plan = plan::make_plan(&fake.dir, program, &live);
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let sink: Sink = Arc::new(move |e: &Event| seen.lock().unwrap().push(e.clone()));
    let outcome = apply_plan(plan.clone(), fake.clone(), sink, Recorder::default()).await;
    let events = events.lock().unwrap().clone();
    (outcome, events, plan)
}

#[tokio::test(start_paused = true)]
async fn stages_go_in_order_and_services_after_what_they_depend_on() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(dir.path());
    let (outcome, events, _) = apply(&program("2.0.0", OnFailure::Rollback), &fake).await;
    assert_eq!(outcome, Outcome::Converged { failed_sites: vec![] });
    let stages: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::StageStarted { stage, .. } => Some(stage.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(stages, ["staging", "prod"]);
    let log = fake.log();
    assert_eq!(log.len(), 44, "2 services on 22 sites: {log:?}");
    for site in ["staging-00", "prod-07"] {
        let env = site.split('-').next().unwrap();
        let db = log.iter().position(|l| l == &format!("start {env}/{site}/db 1.0.0")).unwrap();
        let api = log.iter().position(|l| l == &format!("start {env}/{site}/api 2.0.0")).unwrap();
        assert!(db < api, "db before api on {site}: {log:?}");
    }
    // Every staging start comes before every prod start.
    let last_staging = log.iter().rposition(|l| l.contains(" staging/")).unwrap();
    let first_prod = log.iter().position(|l| l.contains(" prod/")).unwrap();
    assert!(last_staging < first_prod);
}

#[tokio::test(start_paused = true)]
async fn no_more_sites_deploy_at_once_than_max_parallel() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(dir.path());
    let (outcome, _, _) = apply(&program("2.0.0", OnFailure::Rollback), &fake).await;
    assert!(matches!(outcome, Outcome::Converged { .. }));
    // Staging has no limit (2 at once); prod's 20 sites go 3 at a time, and do reach 3.
    assert_eq!(fake.state.lock().unwrap().most_starting, 3);
}

#[tokio::test(start_paused = true)]
async fn sites_within_the_failure_budget_are_reported_and_one_more_fails_the_stage() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(dir.path());
    fake.state.lock().unwrap().failing.extend(["prod-03".to_string(), "prod-11".to_string()]);
    let (outcome, events, _) = apply(&program("2.0.0", OnFailure::Rollback), &fake).await;
    let Outcome::Converged { failed_sites } = outcome else { panic!("{outcome:?}") };
    assert_eq!(failed_sites.len(), 2, "{failed_sites:?}");
    assert!(failed_sites[0].contains("is down"), "{failed_sites:?}");
    assert!(events.iter().any(|e| matches!(e, Event::FailedWithinBudget { budget: 2, .. })));

    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(dir.path());
    fake.state.lock().unwrap().failing.extend(["prod-03", "prod-11", "prod-15"].map(String::from));
    let (outcome, _, _) = apply(&program("2.0.0", OnFailure::Rollback), &fake).await;
    let Outcome::Failed { stage, reason, .. } = outcome else { panic!("{outcome:?}") };
    assert_eq!(stage, "prod");
    assert!(reason.starts_with("3 of 20 sites failed, the budget allows 2"), "{reason}");
}

#[tokio::test(start_paused = true)]
async fn a_panicking_deploy_is_a_failed_site_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(dir.path());
    fake.state.lock().unwrap().panicking.insert("prod-05".into());
    let (outcome, events, _) = apply(&program("2.0.0", OnFailure::Rollback), &fake).await;
    let Outcome::Converged { failed_sites } = outcome else { panic!("{outcome:?}") };
    assert_eq!(failed_sites.len(), 1);
    assert!(failed_sites[0].starts_with("prod[\"prod-05\"]: its deploy task stopped: it panicked"), "{failed_sites:?}");
    assert!(events.iter().any(|e| matches!(e, Event::SiteFailed { site, .. } if site == "prod[\"prod-05\"]")));
}

#[tokio::test(start_paused = true)]
async fn a_failed_gate_rolls_the_release_back_in_the_order_the_plan_showed() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(dir.path());
    assert!(matches!(apply(&program("1.0.0", OnFailure::Rollback), &fake).await.0, Outcome::Converged { .. }));
    let (outcome, events, plan) = apply(&program("2.0.0-bad", OnFailure::Rollback), &fake).await;
    let Outcome::Failed { stage, reason, paused: false, .. } = outcome else { panic!("{outcome:?}") };
    assert_eq!(stage, "staging", "the first stage's gate fails");
    assert!(reason.contains("of api failed on staging[\"staging-0"), "{reason}");
    let rolled: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::RollbackStep { address, to, ok: true, .. } => Some(format!("{address} {to}")),
            _ => None,
        })
        .collect();
    assert_eq!(rolled, ["staging[\"staging-01\"]/api 1.0.0", "staging[\"staging-00\"]/api 1.0.0"]);
    // The same relative order as the plan's rollback path.
    let order: Vec<String> = plan.releases[0]
        .rollback
        .iter()
        .filter(|a| a.env.as_ref().is_some_and(|e| e.as_str() == "staging"))
        .filter(|a| a.service.as_ref().is_some_and(|s| s.as_str() == "api"))
        .map(|a| format!("{}[{:?}]/api 1.0.0", a.env.as_ref().unwrap(), a.site.as_ref().unwrap().as_str()))
        .collect();
    assert_eq!(rolled, order);
    assert!(fake.log().iter().all(|l| !l.contains("prod/") || !l.contains("bad")), "prod was never touched");
}

#[tokio::test(start_paused = true)]
async fn a_paused_release_stays_where_it_failed() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(dir.path());
    assert!(matches!(apply(&program("1.0.0", OnFailure::Pause), &fake).await.0, Outcome::Converged { .. }));
    let (outcome, events, _) = apply(&program("2.0.0-bad", OnFailure::Pause), &fake).await;
    assert!(matches!(outcome, Outcome::Failed { paused: true, .. }), "{outcome:?}");
    assert!(events.iter().any(|e| matches!(e, Event::ReleasePaused { .. })));
    assert!(!events.iter().any(|e| matches!(e, Event::RollbackStarted { .. })));
    let live = fake.observe(&program("2.0.0-bad", OnFailure::Pause)).await;
    let bad = live.sites.values().flatten().filter(|i| i.version == "2.0.0-bad").count();
    assert_eq!(bad, 2, "the bad version stays on staging's two sites");
}

#[tokio::test(start_paused = true)]
async fn a_transient_provider_error_is_tried_again_and_a_permanent_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(dir.path());
    {
        let mut s = fake.state.lock().unwrap();
        s.flaky.insert("prod-04".into());
        s.failing.insert("prod-09".into());
    }
    let (outcome, _, _) = apply(&program("2.0.0", OnFailure::Rollback), &fake).await;
    let Outcome::Converged { failed_sites } = outcome else { panic!("{outcome:?}") };
    assert_eq!(failed_sites.len(), 1, "only the permanent failure remains: {failed_sites:?}");
    assert!(failed_sites[0].contains("prod-09 is down"), "{failed_sites:?}");
    let log = fake.log();
    let tries = |site: &str| log.iter().filter(|l| l.starts_with(&format!("start prod/{site}/db"))).count();
    assert_eq!(tries("prod-04"), 2, "tried again after the transient error");
    assert_eq!(tries("prod-09"), 1, "not tried again after the permanent one");
}

/// A saved plan as `conv plan -o` writes it, for `read_saved`.
fn saved(dir: &Path, plan: &serde_json::Value) -> PathBuf {
    let path = dir.join("plan.json");
    std::fs::write(&path, serde_json::to_string(plan).unwrap()).unwrap();
    path
}

#[test]
fn a_saved_plan_reads_its_stage_settings_from_the_program_it_carries() {
    let dir = tempfile::tempdir().unwrap();
    let program = program("2.0.0", OnFailure::Rollback);
    let made = plan::make_plan(dir.path(), &program, &LiveState::default());
    let read = plan::read_saved(&saved(dir.path(), &serde_json::to_value(&made).unwrap())).unwrap();
    let prod = &read.releases[0].stages[1];
    let settings = prod.settings(&read.program, &read.releases[0].name).unwrap();
    assert_eq!((settings.max_parallel, settings.max_failures_percent), (Some(3), 10.0));
}

#[test]
fn a_saved_plan_of_another_schema_or_with_a_stage_its_program_lacks_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let made = plan::make_plan(dir.path(), &program("2.0.0", OnFailure::Rollback), &LiveState::default());
    let mut old = serde_json::to_value(&made).unwrap();
    old["schema_version"] = 2.into();
    assert_eq!(plan::read_saved(&saved(dir.path(), &old)).unwrap_err(), plan::SavedPlanError::Schema { found: 2 });
    let mut edited = serde_json::to_value(&made).unwrap();
    edited["releases"][0]["stages"][1]["name"] = "everywhere".into();
    let err = plan::read_saved(&saved(dir.path(), &edited)).unwrap_err().to_string();
    assert!(err.contains("stage `everywhere` of release `shop` is not in the program"), "{err}");
}

#[test]
fn a_stage_whose_fraction_rounds_to_the_previous_count_is_warned_about() {
    let mut program = program("2.0.0", OnFailure::Rollback);
    for s in &mut program.services {
        s.replicas = Some(4);
    }
    let prod = program.releases[0].stages[1].clone();
    let at = |name: &str, fraction_percent: f64| Stage { name: name.into(), fraction_percent, ..prod.clone() };
    program.releases[0].stages = vec![at("one", 1.0), at("ten", 10.0), at("half", 50.0), at("all", 100.0)];
    let plan = plan::make_plan(Path::new("."), &program, &LiveState::default());
    assert_eq!(plan.warnings.len(), 1, "{:?}", plan.warnings);
    assert!(
        plan.warnings[0].starts_with("stage `ten` of release `shop` deploys nothing: at 10%"),
        "{:?}",
        plan.warnings
    );
    assert!(plan.warnings[0].contains("api 1 of 4, db 1 of 4"), "{:?}", plan.warnings);
    assert!(conv_runtime::render::text(&plan, false).contains("\nwarning: stage `ten`"));
    assert!(conv_runtime::render::markdown(&plan, &Default::default()).contains("### Warnings\n\n- stage `ten`"));
}

#[tokio::test(start_paused = true)]
async fn a_run_reads_its_secrets_first_then_locks_records_and_ends_in_the_journal() {
    use conv_runtime::run::{self, BeginError};
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(dir.path());
    let mut program = program("2.0.0", OnFailure::Rollback);
    program.services[0]
        .secrets
        .insert("TOKEN".into(), SecretSource::Env { name: "CONV_TEST_SECRET_THAT_IS_NEVER_SET".into() });
    let plan = plan::make_plan(dir.path(), &program, &fake.observe(&program).await);
    match run::begin_apply(&plan) {
        Err(BeginError::MissingSecrets(missing)) => {
            assert_eq!(missing.len(), 1, "{missing:?}");
            assert!(missing[0].contains("CONV_TEST_SECRET_THAT_IS_NEVER_SET"), "{missing:?}");
        }
        other => panic!("a missing secret must refuse the run before it begins: {:?}", other.err()),
    }
    assert!(fake.log().is_empty(), "nothing started");
    assert!(!conv_runtime::state_dir(dir.path()).join("journal.db").exists(), "no run was begun");

    program.services[0].secrets.clear();
    let plan = plan::make_plan(dir.path(), &program, &fake.observe(&program).await);
    assert_eq!(run::summary(&plan), "shop (api 2.0.0, db 1.0.0): 44 changes");
    let keys = run::lock_keys(&plan, None);
    assert_eq!(keys.len(), 22, "one lock per site of staging and prod: {keys:?}");
    assert!(keys.contains(&"prod[\"prod-07\"]".to_string()), "{keys:?}");
    let session = run::begin_apply(&plan).unwrap();
    let mut journal = conv_runtime::project::open_journal(dir.path()).unwrap();
    assert_eq!(journal.holders().unwrap().len(), 22, "the sites are locked while the run goes");
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let sink: Sink = Arc::new(move |e: &Event| seen.lock().unwrap().push(e.clone()));
    let options = conv_runtime::requirements::Options::default();
    let finished = run::apply(session, plan, fake.clone(), sink, options, Duration::from_secs(1)).await;
    assert_eq!(finished.outcome, Outcome::Converged { failed_sites: vec![] });
    assert!(finished.end_error.is_none() && !finished.notifications_pending);
    let runs = journal.runs(5).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].outcome.as_str(), runs[0].summary.as_str()),
        ("converged", "shop (api 2.0.0, db 1.0.0): 44 changes")
    );
    assert!(journal.holders().unwrap().is_empty(), "the locks are let go at the end");
    let recorded = journal.events_after(0, 10_000).unwrap();
    assert_eq!(recorded.len(), events.lock().unwrap().len(), "the journal's event log has every event the sink saw");
}

#[tokio::test(start_paused = true)]
async fn a_provider_is_asked_for_a_site_at_a_time_and_an_instance_that_fails_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(dir.path());
    let mut three = program("2.0.0", OnFailure::Rollback);
    three.services[0].replicas = Some(3);
    fake.state.lock().unwrap().failing_slots.insert(("prod-04".into(), 1));
    let (outcome, events, _) = apply(&three, &fake).await;
    let rollouts = fake.state.lock().unwrap().rollouts.clone();
    assert!(rollouts.contains(&"prod/prod-00/api 2.0.0 on #0 #1 #2".to_string()), "{rollouts:?}");
    assert!(rollouts.contains(&"prod/prod-00/db 1.0.0 on #0".to_string()), "{rollouts:?}");
    assert_eq!(rollouts.len(), 44, "one rollout per site and service: {rollouts:?}");
    let Outcome::Converged { failed_sites } = outcome else { panic!("{outcome:?}") };
    assert_eq!(failed_sites, ["prod[\"prod-04\"]: api #1 prod-04 is down"]);
    let up: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            Event::InstanceUp { address, index, .. } if address == "prod[\"prod-04\"]/api" => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!(up, [0], "the instance before the failed one came up, the one after was not tried");
}
