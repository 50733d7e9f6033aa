//! The web view's JSON endpoints, its event stream, and its two operations. Live state is
//! observed at most about once a second however many pages ask, into a shared snapshot.

use super::App;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use conv_runtime::plan::Plan;
use conv_runtime::status::{State as RowState, Status};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Status (and, when asked, the plan) as of one moment of live state.
pub struct Snapshot {
    at: Instant,
    last_id: i64,
    program: Arc<conv_model::Program>,
    status: Arc<Status>,
    plan: Option<Arc<Plan>>,
}

/// What one moment shows: the program, its status, and (when asked) its plan.
type Seen = (Arc<conv_model::Program>, Arc<Status>, Option<Arc<Plan>>);

/// The version of the JSON the endpoints answer; bumped on any incompatible change.
pub const WEB_SCHEMA_VERSION: u32 = 1;

/// Rollback steps sent with the overview; the rest are counted.
const ROLLBACK_SHOWN: usize = 50;

type Failure = (StatusCode, Json<Value>);

fn failure(code: StatusCode, message: impl Into<String>) -> Failure {
    (code, Json(json!({ "error": message.into() })))
}

/// Runs blocking work (probes, the journal, a rollback) on a thread of its own, off the
/// server's worker threads.
async fn off<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Failure> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.await.map_err(|_| failure(StatusCode::INTERNAL_SERVER_ERROR, "the request's work stopped before it answered"))
}

fn last_id(app: &App) -> i64 {
    app.tracker.lock().map(|t| t.feed.last_id).unwrap_or(0)
}

/// The shared snapshot, observed again when older than a second or when the journal moved;
/// the plan (stage details, rollback order) is made only for the pages that show it.
async fn snapshot(app: &Arc<App>, with_plan: bool) -> Result<Seen, Failure> {
    let cached = || {
        let id = last_id(app);
        let s = app.snapshot.lock().ok()?;
        let fresh = s.as_ref().filter(|s| s.at.elapsed() < Duration::from_millis(900) && s.last_id == id);
        fresh.filter(|s| !with_plan || s.plan.is_some()).map(|s| (s.program.clone(), s.status.clone(), s.plan.clone()))
    };
    if let Some(hit) = cached() {
        return Ok(hit);
    }
    // One observation at a time: pages asking together wait for it rather than repeat it.
    let _turn = app.observing.lock().await;
    if let Some(hit) = cached() {
        return Ok(hit);
    }
    let id = last_id(app);
    let a = app.clone();
    let (program, status, plan) = off(move || {
        a.refresh_program();
        let program = a.program();
        let fleet = conv_runtime::fleet::Fleet::new(&a.root, &program);
        let live = fleet.observe_now(&program);
        let view = crate::commands::journal::view(&a.root);
        let status = conv_runtime::status::status(&program, &live, &view, conv_journal::now());
        let plan = with_plan.then(|| Arc::new(conv_runtime::plan::make_plan(&a.root, &program, &live)));
        (program, Arc::new(status), plan)
    })
    .await?;
    if let Ok(mut s) = app.snapshot.lock() {
        *s = Some(Snapshot {
            at: Instant::now(),
            last_id: id,
            program: program.clone(),
            status: status.clone(),
            plan: plan.clone(),
        });
    }
    Ok((program, status, plan))
}

fn state_name(s: &RowState) -> String {
    serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

pub async fn overview(State(app): State<Arc<App>>) -> Result<Json<Value>, Failure> {
    let (program, status, plan) = snapshot(&app, true).await?;
    let plan = plan.ok_or_else(|| failure(StatusCode::INTERNAL_SERVER_ERROR, "no plan was made"))?;
    let root = app.root.clone();
    let pending: Vec<Value> = off(move || {
        let given = crate::view::feed::open(&root).and_then(|mut j| j.pending_approvals().ok()).unwrap_or_default();
        given
            .into_iter()
            .map(|(release, stage, by, group)| json!({"release": release, "stage": stage, "by": by, "group": group}))
            .collect()
    })
    .await?;
    let mut releases = Vec::new();
    for r in &status.releases {
        let planned = plan.releases.iter().find(|p| p.name == r.name);
        let def = program.releases.iter().find(|d| d.name.as_str() == r.name);
        let stages: Vec<Value> = r
            .stages
            .iter()
            .map(|s| {
                let p = planned.and_then(|p| p.stages.iter().find(|x| x.name == s.name));
                let sites = program
                    .environments
                    .iter()
                    .find(|e| e.name.as_str() == s.environment)
                    .map(|e| e.sites.len())
                    .unwrap_or(0);
                let approvals = def
                    .and_then(|d| d.stages.iter().find(|x| x.name == s.name).map(|x| (d, x)))
                    .map(|(d, x)| conv_runtime::approval::groups(&program, d, x))
                    .unwrap_or_default();
                let mut v = serde_json::to_value(s).unwrap_or_default();
                if let Some(m) = v.as_object_mut() {
                    m.insert("sites".into(), sites.into());
                    m.insert("approvals".into(), json!(approvals));
                    let settings = def.and_then(|d| d.stages.iter().find(|x| x.name == s.name));
                    m.insert("fraction_percent".into(), json!(settings.map(|x| x.fraction_percent)));
                    m.insert("bake_ms".into(), json!(settings.map(|x| x.bake_ms)));
                    m.insert("max_failures_percent".into(), json!(settings.map(|x| x.max_failures_percent)));
                    m.insert("gates".into(), json!(p.map(|p| p.gates.clone()).unwrap_or_default()));
                    m.insert(
                        "changes".into(),
                        json!(p.map(|p| p.sites.iter().map(|x| x.changes.len()).sum::<usize>())),
                    );
                }
                v
            })
            .collect();
        releases.push(json!({
            "name": r.name,
            "versions": r.versions,
            "on_failure": planned.map(|p| format!("{:?}", p.on_failure).to_lowercase()),
            // The first steps of the order; the page says how many follow.
            "rollback": planned.map(|p| p.rollback.iter().take(ROLLBACK_SHOWN).map(|a| a.to_string()).collect::<Vec<_>>()).unwrap_or_default(),
            "rollback_steps": planned.map(|p| p.rollback.len()).unwrap_or(0),
            "stages": stages,
        }));
    }
    let mut counts: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for row in &status.sites {
        *counts.entry(row.environment.clone()).or_default().entry(state_name(&row.state)).or_insert(0) += 1;
    }
    let (run, progress, last_id) = match app.tracker.lock() {
        Ok(t) => (t.feed.run, serde_json::to_value(&t.feed.progress).unwrap_or_default(), t.feed.last_id),
        Err(_) => (None, Value::Null, 0),
    };
    let root = app.root.clone();
    let (in_flight, last_run) = off(move || {
        let last = crate::view::feed::open(&root).and_then(|mut j| j.runs(1).ok()).and_then(|r| r.into_iter().next());
        (crate::commands::journal::in_flight(&root), last)
    })
    .await?;
    Ok(Json(json!({
        "schema_version": WEB_SCHEMA_VERSION,
        "project": app.root.display().to_string(),
        "writable": app.writable,
        "in_flight": in_flight,
        "last_run": last_run,
        "program_error": app.program_error.lock().ok().and_then(|e| e.clone()),
        "run": run,
        "progress": progress,
        "last_event_id": last_id,
        "releases": releases,
        "counts": counts,
        "pending_approvals": pending,
        "rows": status.sites.len(),
    })))
}

#[derive(Deserialize)]
pub struct SitesQuery {
    env: Option<String>,
    state: Option<String>,
    version: Option<String>,
    q: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
}

/// Site x service rows, filtered and paged (at most 500 a page).
pub async fn sites(State(app): State<Arc<App>>, Query(q): Query<SitesQuery>) -> Result<Json<Value>, Failure> {
    let (_, status, _) = snapshot(&app, false).await?;
    let wanted = |x: &Option<String>| x.as_deref().filter(|v| !v.is_empty()).map(str::to_string);
    let (env, state, version, text) = (wanted(&q.env), wanted(&q.state), wanted(&q.version), wanted(&q.q));
    let matched: Vec<&conv_runtime::status::Row> = status
        .sites
        .iter()
        .filter(|r| env.as_ref().is_none_or(|e| &r.environment == e))
        .filter(|r| state.as_ref().is_none_or(|s| &state_name(&r.state) == s))
        .filter(|r| version.as_ref().is_none_or(|v| r.versions.contains(v) || (v == "-" && r.versions.is_empty())))
        .filter(|r| text.as_ref().is_none_or(|t| r.site.contains(t.as_str()) || r.service.contains(t.as_str())))
        .collect();
    let offset = q.offset.unwrap_or(0);
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let page: Vec<&&conv_runtime::status::Row> = matched.iter().skip(offset).take(limit).collect();
    let mut environments: Vec<&str> = status.sites.iter().map(|r| r.environment.as_str()).collect();
    environments.dedup();
    let mut versions: Vec<&str> = status.sites.iter().flat_map(|r| r.versions.iter().map(String::as_str)).collect();
    versions.sort();
    versions.dedup();
    Ok(Json(json!({
        "schema_version": WEB_SCHEMA_VERSION,
        "total": status.sites.len(),
        "matched": matched.len(),
        "offset": offset,
        "limit": limit,
        "rows": page,
        "environments": environments,
        "versions": versions,
    })))
}

/// How bad a state is, for a site's color on the map: its worst service.
fn badness(s: &RowState) -> u8 {
    match s {
        RowState::Failed => 7,
        RowState::Unhealthy => 6,
        RowState::Paused => 5,
        RowState::Waiting => 4,
        RowState::Unjudged => 3,
        RowState::InFlight => 2,
        RowState::Pending => 1,
        RowState::Converged => 0,
    }
}

/// Every site by environment with its worst state: `{"environments":[{"name", "sites":
/// [[site, state], ...]}]}`, compact enough for 10,000 sites.
pub async fn grid(State(app): State<Arc<App>>) -> Result<Json<Value>, Failure> {
    let (_, status, _) = snapshot(&app, false).await?;
    let mut envs: Vec<(String, Vec<(String, &RowState)>)> = Vec::new();
    for r in &status.sites {
        if envs.last().is_none_or(|(e, _)| *e != r.environment) {
            envs.push((r.environment.clone(), Vec::new()));
        }
        let Some((_, sites)) = envs.last_mut() else { continue };
        match sites.last_mut() {
            Some((site, worst)) if *site == r.site => {
                if badness(&r.state) > badness(worst) {
                    *worst = &r.state;
                }
            }
            _ => sites.push((r.site.clone(), &r.state)),
        }
    }
    let environments: Vec<Value> = envs
        .into_iter()
        .map(|(name, sites)| {
            let sites: Vec<Value> = sites.into_iter().map(|(s, st)| json!([s, state_name(st)])).collect();
            json!({"name": name, "sites": sites})
        })
        .collect();
    Ok(Json(json!({ "environments": environments })))
}

/// The gate readings over time of the run's current stage (or of `?stage=release/stage`).
#[derive(Deserialize)]
pub struct GatesQuery {
    stage: Option<String>,
}

pub async fn gates(State(app): State<Arc<App>>, Query(q): Query<GatesQuery>) -> Result<Json<Value>, Failure> {
    let t = app.tracker.lock().map_err(|_| failure(StatusCode::INTERNAL_SERVER_ERROR, "the tracker is unavailable"))?;
    let current = t.feed.progress.current().map(|s| format!("{}/{}", s.release, s.stage));
    let stage = q.stage.filter(|s| !s.is_empty()).or_else(|| {
        // The current stage, else the last one that had readings.
        current.filter(|c| t.series.contains_key(c)).or_else(|| {
            t.feed
                .progress
                .stages
                .iter()
                .rev()
                .map(|s| format!("{}/{}", s.release, s.stage))
                .find(|k| t.series.contains_key(k))
        })
    });
    let series: Vec<&super::tracker::Series> =
        stage.as_ref().and_then(|s| t.series.get(s)).map(|m| m.values().collect()).unwrap_or_default();
    let stages: Vec<&String> = t.series.keys().collect();
    Ok(Json(json!({ "run": t.feed.run, "stage": stage, "stages": stages, "series": series })))
}

pub async fn history(State(app): State<Arc<App>>) -> Result<Json<Value>, Failure> {
    let root = app.root.clone();
    off(move || {
        let Some(mut j) = crate::view::feed::open(&root) else {
            return Json(json!({"runs": [], "approvals": []}));
        };
        let runs = j.runs(50).unwrap_or_default();
        let approvals: Vec<Value> = j
            .approvals(50)
            .unwrap_or_default()
            .into_iter()
            .map(|(release, stage, by, at, group, run)| {
                json!({"release": release, "stage": stage, "by": by, "at": at, "group": group, "used_by_run": run})
            })
            .collect();
        Json(json!({"runs": runs, "approvals": approvals}))
    })
    .await
}

pub async fn graph_svg(State(app): State<Arc<App>>) -> Response {
    let svg = crate::commands::graph_view::svg(&app.program());
    ([("content-type", "image/svg+xml")], svg).into_response()
}

/// Server-sent events: `journal` whenever the journal gained events (the page then asks
/// again for what it shows), with the latest event id and run.
pub async fn events(State(app): State<Arc<App>>) -> impl IntoResponse {
    let stream = futures_util::stream::unfold((app, -1i64), |(app, sent)| async move {
        loop {
            let (id, run) = app.tracker.lock().map(|t| (t.feed.last_id, t.feed.run)).unwrap_or((0, None));
            if id != sent {
                let event =
                    SseEvent::default().event("journal").data(json!({"last_event_id": id, "run": run}).to_string());
                return Some((Ok::<_, std::convert::Infallible>(event), (app, id)));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[derive(Deserialize)]
pub struct Operation {
    release: String,
    stage: Option<String>,
    /// Who gives it, as typed on the page; recorded with the server's user.
    by: Option<String>,
}

fn actor(op: &Operation) -> conv_runtime::approval::Approver {
    crate::commands::operations::web_approver(op.by.as_deref().map(str::trim).filter(|b| !b.is_empty()))
}

fn writable(app: &App) -> Result<(), Failure> {
    if app.writable {
        Ok(())
    } else {
        Err(failure(
            StatusCode::FORBIDDEN,
            "this conv serve is read-only: start it with --token to approve or roll back",
        ))
    }
}

pub async fn approve(State(app): State<Arc<App>>, Json(op): Json<Operation>) -> Result<Json<Value>, Failure> {
    writable(&app)?;
    let Some(stage) = op.stage.clone() else {
        return Err(failure(StatusCode::BAD_REQUEST, "an approval names a stage"));
    };
    let who = actor(&op);
    let groups = crate::commands::operations::approve(&app.program(), &app.root, &op.release, &stage, &who)
        .map_err(|why| failure(StatusCode::BAD_REQUEST, why))?;
    eprintln!("approved {}/{stage} as {} for {}", op.release, who.name, groups.join(", "));
    Ok(Json(json!({"approved": {"release": op.release, "stage": stage, "by": who.name, "groups": groups}})))
}

pub async fn rollback(State(app): State<Arc<App>>, Json(op): Json<Operation>) -> Result<Json<Value>, Failure> {
    writable(&app)?;
    let by = actor(&op).name;
    let a = app.clone();
    let (release, who) = (op.release.clone(), by.clone());
    // The rollback runs on the server's runtime (main's), driven from a thread of its own.
    let rt = tokio::runtime::Handle::current();
    let result = off(move || {
        let (sink, _) = crate::commands::events::sink(crate::commands::events::LogFormat::Text, false);
        crate::commands::operations::rollback(&rt, &a.program(), &a.root, &release, Some(&who), sink)
    })
    .await?;
    use crate::commands::operations::RollbackError;
    match result {
        Ok(done) => Ok(Json(json!({"rolled_back": done, "release": op.release, "by": by}))),
        Err(RollbackError::Refused(why, _)) if why.is_empty() => {
            Err(failure(StatusCode::CONFLICT, "the rollback could not start; the server's log says why"))
        }
        Err(RollbackError::Refused(why, _)) => Err(failure(StatusCode::CONFLICT, why)),
        Err(RollbackError::Failed(why)) => Err(failure(StatusCode::BAD_REQUEST, why)),
    }
}
