//! One run of apply, watch or rollback, from a plan to its outcome: what must hold before
//! anything acts (every secret readable), what the run locks (the sites of the environments
//! it touches) and how the journal sums it up, then the run itself with its sinks (the
//! journal's event log, notifications) and its end in the journal. The CLI and the web view
//! only render what these return.

use crate::apply::{self, Outcome};
use crate::event::{self, Sink};
use crate::notify::Notifier;
use crate::plan::{Action, Plan};
use crate::provider::Provider;
use crate::record::EventLog;
use crate::requirements::Options;
use crate::session::{Session, SessionError};
use conv_journal::JournalError;
use conv_model::Program;
use std::path::Path;
use std::time::Duration;

/// Why a run could not begin.
#[derive(Debug)]
pub enum BeginError {
    /// Secrets a start needs cannot be read: nothing was started (one line per secret).
    MissingSecrets(Vec<String>),
    /// The journal could not be opened.
    Journal(JournalError),
    /// Locks are held, or the journal refused the run.
    Session(SessionError),
}

/// The environments whose stages `plan` has (of `release` only, when given), sorted.
pub fn envs(plan: &Plan, release: Option<&str>) -> Vec<String> {
    let mut envs: Vec<String> = plan
        .releases
        .iter()
        .filter(|r| release.is_none_or(|name| r.name == name))
        .flat_map(|r| r.stages.iter().map(|s| s.env.to_string()))
        .collect();
    envs.sort();
    envs.dedup();
    envs
}

/// The journal's lock keys of a run of `plan`: one per site of every environment it touches.
pub fn lock_keys(plan: &Plan, release: Option<&str>) -> Vec<String> {
    crate::session::lock_keys(&plan.program, &envs(plan, release))
}

/// What a run of `plan` ships, for history: `storefront (api 1.4.2, db_proxy 2.0.1): 10 changes`.
pub fn summary(plan: &Plan) -> String {
    let releases = plan.releases.iter().map(|r| {
        let mut versions: Vec<String> = r
            .stages
            .iter()
            .flat_map(|s| s.sites.iter().flat_map(|x| x.changes.iter().map(|c| format!("{} {}", c.service, c.version))))
            .collect();
        versions.sort();
        versions.dedup();
        if versions.is_empty() { r.name.clone() } else { format!("{} ({})", r.name, versions.join(", ")) }
    });
    let count = plan.change_count();
    format!("{}: {count} change{}", releases.collect::<Vec<_>>().join(", "), if count == 1 { "" } else { "s" })
}

/// The secrets the starts of `plan` need that cannot be read now: read before anything runs,
/// so that no apply stops halfway for want of one.
pub fn missing_secrets(plan: &Plan) -> Vec<String> {
    let changes = plan.releases.iter().flat_map(|r| &r.stages).flat_map(|s| &s.sites).flat_map(|x| &x.changes);
    let starting = changes.filter(|c| c.action != Action::Stop).map(|c| c.service.as_str());
    crate::secrets::missing(&plan.program, starting, &plan.root)
}

/// Opens the project's journal and begins a session on `keys` (see [`Session::begin`]).
pub fn begin(root: &Path, program: Option<&Program>, keys: &[String], summary: &str) -> Result<Session, BeginError> {
    let journal = crate::project::open_journal(root).map_err(BeginError::Journal)?;
    Session::begin(journal, program, root, keys, summary).map_err(BeginError::Session)
}

/// Begins an apply of `plan`: its secrets first, then its locks and its run in the journal.
pub fn begin_apply(plan: &Plan) -> Result<Session, BeginError> {
    let missing = missing_secrets(plan);
    if !missing.is_empty() {
        return Err(BeginError::MissingSecrets(missing));
    }
    begin(&plan.root, Some(&plan.program), &lock_keys(plan, None), &summary(plan))
}

/// How an apply ended, and what went wrong around it.
#[derive(Debug)]
pub struct Finished {
    pub outcome: Outcome,
    /// Notifications were still being delivered when the run stopped waiting for them.
    pub notifications_pending: bool,
    /// The journal could not record the run's end.
    pub end_error: Option<JournalError>,
}

impl Outcome {
    /// The outcome the journal records for the run.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Waiting { .. } => "waiting",
            Outcome::Converged { failed_sites } if failed_sites.is_empty() => "converged",
            Outcome::Converged { .. } => "partial",
            Outcome::Failed { paused: true, .. } => "paused",
            Outcome::Failed { .. } => "failed",
        }
    }
}

/// Applies `plan` in `session`: `sink` (the terminal's view) is joined by the journal's
/// event log and the program's notifications; at the end, queued notifications get up to
/// `notify_wait` to go out (a delivery that fails is recorded with the run), and the run
/// ends in the journal with its outcome.
pub async fn apply<P: Provider>(
    session: Session,
    plan: Plan,
    provider: P,
    sink: Sink,
    options: Options,
    notify_wait: Duration,
) -> Finished {
    let (recorder, (event_log, sink)) = blocking(|| (session.recorder(), with_journal(sink, &session)));
    let project = crate::project_name(&plan.root);
    let (notifier, sink) = match Notifier::start(&plan.program, &project, sink.clone()) {
        Some((notifier, news)) => (Some(notifier), event::fan_out(vec![sink, news])),
        None => (None, sink),
    };
    let outcome = apply::apply_plan_with(plan, provider, sink, recorder, options).await;
    // Both waits are short and at the very end of the run: blocking here holds up nothing.
    let notifications_pending = notifier.is_some_and(|n| !n.finish(notify_wait));
    event_log.finish();
    let label = outcome.label();
    let end_error = blocking(move || session.end(label).err());
    Finished { outcome, notifications_pending, end_error }
}

/// Rolls `release` of `plan` back in `session`; the journal records it as a run.
pub async fn rollback<P: Provider>(
    session: Session,
    plan: &Plan,
    release: &str,
    provider: &P,
    sink: Sink,
) -> (Result<Vec<String>, String>, Option<JournalError>) {
    let (recorder, (event_log, sink)) = blocking(|| (session.recorder(), with_journal(sink, &session)));
    let result = crate::rollback::rollback_release(plan, release, provider, sink, recorder).await;
    event_log.finish();
    let label = if result.is_ok() { "rolled back" } else { "failed" };
    let end_error = blocking(move || session.end(label).err());
    (result, end_error)
}

/// Runs journal work that blocks on a thread of its own: the PostgreSQL client drives a
/// runtime of its own, which cannot be entered from a thread of the async runtime. The
/// session is ended (and dropped) there too, since closing its connection blocks as well.
fn blocking<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(work).join()).unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// `sink` joined by the journal's event log, so that other processes can follow the run.
fn with_journal(sink: Sink, session: &Session) -> (EventLog, Sink) {
    let (log, journal) = EventLog::start(&session.recorder());
    (log, event::fan_out(vec![sink, journal]))
}
