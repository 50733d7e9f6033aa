//! Notifications: a sink of the event stream that POSTs the events an environment or release
//! chose (`notify = [webhook { url, events, format }]`) to their webhooks, from a thread of its
//! own, so a slow or dead receiver never holds the rollout up. A delivery is tried three
//! times; one that still fails is reported as a warning in the run's log (and so the
//! journal). The document is versioned: docs/notifications.md.

use crate::event::{Event, Sink, Waiting};
use conv_model::{EnvName, Notify, NotifyEvent, NotifyFormat, Program, ReleaseName};
use serde_json::json;
use std::collections::HashSet;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The version of the webhook document; bumped on any incompatible change.
pub const NOTIFY_SCHEMA_VERSION: u32 = 1;
const ATTEMPTS: u32 = 3;
const TIMEOUT: Duration = Duration::from_secs(5);

/// One POST to make.
struct Delivery {
    url: String,
    body: String,
    event: &'static str,
}

/// What a notification says, before it is shaped for a receiver.
#[derive(Clone, Debug, Default)]
struct News {
    release: String,
    stage: Option<String>,
    env: Option<String>,
    site: Option<String>,
    service: Option<String>,
    detail: Option<String>,
    summary: String,
}

enum Job {
    Deliver(Delivery),
    /// Answered once everything queued before it has been delivered or given up on.
    Flush(mpsc::Sender<()>),
}

/// The delivering thread; `finish` waits for what is queued.
pub struct Notifier {
    queue: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notifier")
    }
}

impl Notifier {
    /// The notifier of a program and the sink that feeds it; `None` when nothing asks for
    /// notifications. Failed deliveries go to `report` as warnings.
    pub fn start(program: &Program, project: &str, report: Sink) -> Option<(Notifier, Sink)> {
        let any = program.environments.iter().any(|e| !e.notify.is_empty())
            || program.releases.iter().any(|r| !r.notify.is_empty());
        if !any {
            return None;
        }
        let (queue, jobs) = mpsc::channel::<Job>();
        std::thread::spawn(move || {
            let agent = crate::http::agent(TIMEOUT, false);
            for job in jobs {
                match job {
                    Job::Deliver(d) => {
                        if let Err(why) = deliver(&agent, &d) {
                            report(&Event::Warning {
                                message: format!(
                                    "notification `{}` to {} failed after {ATTEMPTS} tries: {why}",
                                    d.event, d.url
                                ),
                            });
                        }
                    }
                    Job::Flush(answer) => {
                        let _ = answer.send(());
                    }
                }
            }
        });
        let router = Router {
            program: Arc::new(program.clone()),
            project: project.to_string(),
            rolled_back: Default::default(),
        };
        let sender = Mutex::new(queue.clone());
        let sink: Sink = Arc::new(move |e: &Event| {
            for d in router.deliveries(e) {
                let _ = sender.lock().map(|s| s.send(Job::Deliver(d)));
            }
        });
        Some((Notifier { queue }, sink))
    }

    /// Waits up to `within` for the notifications queued so far to be delivered (or given
    /// up on, and reported); whether they were.
    pub fn finish(self, within: Duration) -> bool {
        let (answer, answered) = mpsc::channel();
        self.queue.send(Job::Flush(answer)).is_ok() && answered.recv_timeout(within).is_ok()
    }
}

fn deliver(agent: &ureq::Agent, d: &Delivery) -> Result<(), String> {
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        match agent.post(&d.url).header("Content-Type", "application/json").send(d.body.as_str()) {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
        if attempt < ATTEMPTS {
            std::thread::sleep(Duration::from_millis(500 * u64::from(attempt)));
        }
    }
    Err(last)
}

struct Router {
    program: Arc<Program>,
    project: String,
    /// Releases whose rollback began, so that their failure is news of a rollback.
    rolled_back: Mutex<HashSet<String>>,
}

impl Router {
    fn stage_env(&self, release: &str, stage: &str) -> Option<String> {
        let r = self.program.release(&ReleaseName(release.to_string()))?;
        r.stages.iter().find(|s| s.name == stage).map(|s| s.env.to_string())
    }

    /// What an event is news of, if anything.
    fn news(&self, e: &Event) -> Option<(NotifyEvent, News)> {
        let stage_news = |release: &str, stage: &str, summary: String| News {
            release: release.to_string(),
            stage: Some(stage.to_string()),
            env: self.stage_env(release, stage),
            summary,
            ..News::default()
        };
        Some(match e {
            Event::StageStarted { release, stage, env, sites, fraction_percent } => (
                NotifyEvent::StageStarted,
                stage_news(
                    release,
                    stage,
                    format!(
                        "release {release}: stage {stage} started on {sites} site{} of {env} at {}%",
                        if *sites == 1 { "" } else { "s" },
                        conv_model::program::trim_float(*fraction_percent)
                    ),
                ),
            ),
            Event::StageWaiting { release, stage, on: Waiting::Approval { group, command } } => (
                NotifyEvent::WaitingForApproval,
                News {
                    detail: Some(command.clone()),
                    ..stage_news(
                        release,
                        stage,
                        format!("release {release}: stage {stage} waits for approval by {group}"),
                    )
                },
            ),
            Event::GateReading {
                release, stage, site, service, gate, passed: false, interim: false, detail, ..
            } => (
                NotifyEvent::GateFailed,
                News {
                    site: Some(site.clone()),
                    service: Some(service.clone()),
                    detail: Some(detail.clone()),
                    ..stage_news(
                        release,
                        stage,
                        format!(
                            "release {release}: gate `{gate}` failed on {site} for {service} at stage {stage}: {detail}"
                        ),
                    )
                },
            ),
            Event::RollbackStarted { release } => {
                self.rolled_back.lock().ok()?.insert(release.clone());
                return None;
            }
            Event::ReleaseFailed { release, stage } => {
                let rolled = self.rolled_back.lock().ok()?.contains(release);
                let (kind, what) = if rolled {
                    (NotifyEvent::RolledBack, "failed and was rolled back")
                } else {
                    (NotifyEvent::Failed, "failed")
                };
                (kind, stage_news(release, stage, format!("release {release} {what} at stage {stage}")))
            }
            Event::ReleasePaused { release, stage } => (
                NotifyEvent::Paused,
                stage_news(release, stage, format!("release {release} failed at stage {stage} and is paused there")),
            ),
            Event::ReleaseConverged { release } => (
                NotifyEvent::Converged,
                News { release: release.clone(), summary: format!("release {release} converged"), ..News::default() },
            ),
            _ => return None,
        })
    }

    /// The webhooks that take news of `kind`: the release's, and those of the environment
    /// of the stage (of every environment the release reaches, for news of the release).
    fn hooks(&self, kind: NotifyEvent, news: &News) -> Vec<&Notify> {
        let release = self.program.release(&ReleaseName(news.release.clone()));
        let envs: Vec<EnvName> = match (&news.env, release) {
            (Some(env), _) => vec![EnvName(env.clone())],
            (None, Some(r)) => {
                let mut all: Vec<EnvName> = r.stages.iter().map(|s| s.env.clone()).collect();
                all.dedup();
                all
            }
            (None, None) => Vec::new(),
        };
        let mut out: Vec<&Notify> = Vec::new();
        let from_envs = envs.iter().filter_map(|e| self.program.environment(e)).flat_map(|e| &e.notify);
        for hook in release.into_iter().flat_map(|r| &r.notify).chain(from_envs) {
            if hook.events.contains(&kind) && !out.iter().any(|h| h.url == hook.url && h.format == hook.format) {
                out.push(hook);
            }
        }
        out
    }

    fn deliveries(&self, e: &Event) -> Vec<Delivery> {
        let Some((kind, news)) = self.news(e) else { return Vec::new() };
        let at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        self.hooks(kind, &news)
            .into_iter()
            .map(|hook| Delivery {
                url: hook.url.clone(),
                body: body(hook.format, kind, &news, &self.project, at_ms),
                event: kind.name(),
            })
            .collect()
    }
}

fn body(format: NotifyFormat, kind: NotifyEvent, news: &News, project: &str, at_ms: u64) -> String {
    match format {
        NotifyFormat::Slack => json!({"text": format!("conv ({project}): {}", news.summary)}).to_string(),
        NotifyFormat::Json => json!({
            "v": NOTIFY_SCHEMA_VERSION,
            "event": kind.name(),
            "project": project,
            "release": news.release,
            "stage": news.stage,
            "env": news.env,
            "site": news.site,
            "service": news.service,
            "summary": news.summary,
            "detail": news.detail,
            "at_ms": at_ms,
        })
        .to_string(),
    }
}
