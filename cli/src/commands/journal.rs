//! `conv history`, `conv drift`, `conv unlock`, and the journal side of `conv apply`: locks,
//! resuming an interrupted run, and recording the new one.

use super::{FAILED, FOUND, OK};
use conv_journal::{Holder, Journal};
use conv_runtime::plan::{self, KnownGood};
use std::path::Path;

/// The project's journal (see `conv_runtime::project`); an error is printed.
pub fn open(root: &Path) -> Result<Journal, u8> {
    conv_runtime::project::open_journal(root).map_err(|err| {
        eprintln!("error: {err}");
        FAILED
    })
}

pub fn known_good(journal: &mut Journal) -> KnownGood {
    conv_runtime::project::known_good(journal)
}

fn since(at: u64) -> String {
    let ago = conv_journal::now().saturating_sub(at);
    format!("{} ago", conv_model::program::duration(ago * 1000))
}

pub fn describe_holder(h: &Holder) -> String {
    format!("{}@{} (pid {}) since {}", h.user, h.host, h.pid, since(h.since))
}

use conv_runtime::run::BeginError;
pub use conv_runtime::session::Session;
use conv_runtime::session::{SessionError, split_key};

/// Begins a session (locks, resume, a new run) for `program`'s `keys`, saying what it found.
pub fn begin(
    root: &Path,
    program: Option<&conv_model::Program>,
    keys: &[String],
    summary: &str,
) -> Result<Session, u8> {
    told(conv_runtime::run::begin(root, program, keys, summary))
}

/// Says why a run could not begin (and returns the exit status), or what its session found:
/// ports shared with another program, a run a kill left open and now resumed.
pub fn told(begun: Result<Session, BeginError>) -> Result<Session, u8> {
    let session = match begun {
        Ok(s) => s,
        Err(BeginError::MissingSecrets(missing)) => {
            eprintln!(
                "error: not applied: {} secret{} cannot be read",
                missing.len(),
                if missing.len() == 1 { "" } else { "s" }
            );
            for m in &missing {
                eprintln!("  {m}");
            }
            return Err(FAILED);
        }
        Err(BeginError::Session(SessionError::Locked(holder))) => {
            let (env, site) = split_key(&holder.env);
            let site = site.map(|s| format!(" at site {s}")).unwrap_or_default();
            eprintln!("error: environment {env} is locked by {}{site}", describe_holder(&holder));
            eprintln!("wait for that apply to finish; if its holder is gone, `conv unlock {env} --force`");
            return Err(FOUND);
        }
        Err(BeginError::Session(SessionError::PortsInUse(why))) => {
            eprintln!("error: {why}");
            eprintln!("wait for that apply to finish: it runs from another checkout or program on this machine");
            return Err(FOUND);
        }
        Err(BeginError::Session(SessionError::Journal(err)) | BeginError::Journal(err)) => {
            eprintln!("error: {err}");
            return Err(FAILED);
        }
    };
    for warning in &session.shared_ports {
        eprintln!(
            "warning: {warning}; two programs on one machine with the same base_port replace each other's instances"
        );
    }
    if let Some(resumed) = &session.resumed {
        eprintln!("resuming after run {} ({}), which stopped before it finished", resumed.run, resumed.summary);
        for step in &resumed.in_flight {
            eprintln!(
                "  was in flight: {} {} {}; observed again and completed from live state",
                step.kind, step.address, step.detail
            );
        }
    }
    Ok(session)
}

/// With nothing to apply, a run a crash left open is still closed, so the journal says
/// how it ended.
pub fn settle(root: &Path) {
    let Ok(mut journal) = open_quietly(root) else { return };
    if let Some((run, summary)) = conv_runtime::session::settle(&mut journal) {
        eprintln!("run {run} ({summary}) had stopped before it finished; live state already matches the program");
    }
}

/// What status needs from the journal; an unreadable journal reads as an empty one.
pub fn view(root: &Path) -> conv_runtime::status::JournalView {
    let mut out = conv_runtime::status::JournalView::default();
    let Ok(mut journal) = open_quietly(root) else { return out };
    out.pending_approvals =
        journal.pending_approvals().unwrap_or_default().into_iter().map(|(r, s, by, _)| (r, s, by)).collect();
    out.stage_results = journal.stage_results().unwrap_or_default();
    out.failures = journal.last_failures().unwrap_or_default();
    if let Ok(Some(run)) = journal.unfinished_run() {
        let alive = std::path::Path::new(&format!("/proc/{}", run.pid)).exists();
        let at = journal.steps(run.id).ok().and_then(|steps| {
            steps.into_iter().rev().find(|s| s.kind == "stage" && s.outcome.is_none()).map(|s| s.address)
        });
        out.unfinished = Some((run.id, alive, at));
    }
    out
}

fn open_quietly(root: &Path) -> Result<Journal, conv_journal::JournalError> {
    conv_runtime::project::existing_journal(root)
}

/// Where an unfinished rollout stands, from the journal: in progress, or interrupted.
pub fn in_flight(root: &Path) -> Option<String> {
    let mut journal = open_quietly(root).ok()?;
    let run = journal.unfinished_run().ok()??;
    let steps = journal.steps(run.id).ok()?;
    let stage = steps
        .iter()
        .rev()
        .find(|s| s.kind == "stage")
        .map(|s| format!("stage {} ({})", s.address, s.detail))
        .unwrap_or_else(|| "starting".into());
    let alive = std::path::Path::new(&format!("/proc/{}", run.pid)).exists();
    Some(if alive {
        format!("apply in progress: run {} by {}@{} (pid {}), at {stage}", run.id, run.user, run.host, run.pid)
    } else {
        format!("run {} stopped at {stage} before it finished; `conv apply` resumes it", run.id)
    })
}

pub fn end(session: Session, outcome: &str) {
    if let Err(err) = session.end(outcome) {
        eprintln!("warning: {err}");
    }
}

pub fn history_cmd(path: &Path, json: bool) -> u8 {
    let root = super::runtime::root_of(path);
    if !conv_runtime::project::has_journal(&root) {
        // Nothing has run here: say so, and leave the folder as it was.
        super::runtime::write_stdout(if json { "[]" } else { "no runs yet" });
        return OK;
    }
    let mut journal = match open(&root) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let runs = match journal.runs(50) {
        Ok(r) => r,
        Err(err) => {
            eprintln!("error: {err}");
            return FAILED;
        }
    };
    if json {
        super::runtime::write_stdout(&serde_json::to_string_pretty(&runs).unwrap_or_default());
        return OK;
    }
    let mut out = format!(
        "{:<5} {:<12} {:<10} {:<9} {:<6} {:<22} {}\n",
        "RUN", "STARTED", "DURATION", "OUTCOME", "STEPS", "BY", "WHAT"
    );
    for r in &runs {
        let duration = r
            .finished_at
            .map(|f| conv_model::program::duration(f.saturating_sub(r.started_at) * 1000))
            .unwrap_or_else(|| "-".into());
        out.push_str(&format!(
            "{:<5} {:<12} {:<10} {:<9} {:<6} {:<22} {}\n",
            r.id,
            since(r.started_at),
            duration,
            r.outcome,
            r.steps,
            format!("{}@{}", r.user, r.host),
            r.summary
        ));
    }
    if runs.is_empty() {
        out.push_str("no runs yet\n");
    }
    let first = runs.iter().map(|r| r.id).min().unwrap_or(i64::MAX);
    let warnings = journal.warnings_since(first, 50).unwrap_or_default();
    if !warnings.is_empty() {
        out.push_str("\nWARNINGS\n");
        for (run, body) in warnings {
            let message = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
                .unwrap_or(body);
            out.push_str(&format!("run {run}: {message}\n"));
        }
    }
    let approvals = journal.approvals(20).unwrap_or_default();
    if !approvals.is_empty() {
        out.push_str("\nAPPROVALS\n");
        for (release, stage, by, at, group, used) in approvals {
            let group = if group.is_empty() { String::new() } else { format!(" for {group}") };
            let used = used.map(|run| format!(", used by run {run}")).unwrap_or_else(|| ", not used yet".into());
            out.push_str(&format!("{release}/{stage} approved by {by}{group} {}{used}\n", since(at)));
        }
    }
    super::runtime::write_stdout(&out);
    OK
}

pub fn drift_cmd(path: &Path, json: bool, color: bool) -> u8 {
    let program = match super::runtime::compile(path, &[], color) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let root = super::runtime::root_of(path);
    // Nothing applied yet is nothing to drift from, and reading makes no journal.
    let last_applied = match conv_runtime::project::has_journal(&root) {
        false => Default::default(),
        true => match open(&root) {
            Ok(mut journal) => known_good(&mut journal),
            Err(_) => return FOUND,
        },
    };
    let provider = conv_runtime::fleet::Fleet::new(&root, &program);
    let diffs = plan::drift(&program, &provider.observe_now(&program), &last_applied);
    if json {
        super::runtime::write_stdout(&serde_json::to_string_pretty(&diffs).unwrap_or_default());
    } else if diffs.is_empty() {
        eprintln!("no drift: live state matches what was last applied");
    } else {
        let mut out = String::new();
        for d in &diffs {
            out.push_str(&format!("{}: expected {}, found {}\n", d.address, d.expected, d.found));
        }
        out.push_str(&format!(
            "{} difference{}; `conv apply` converges them back\n",
            diffs.len(),
            if diffs.len() == 1 { "" } else { "s" }
        ));
        super::runtime::write_stdout(&out);
    }
    if diffs.is_empty() { OK } else { super::CHANGES }
}

pub fn unlock_cmd(env: &str, path: &Path, force: bool, yes: bool) -> u8 {
    if !force {
        eprintln!("error: `conv unlock` takes a lock from whoever holds it; pass --force to confirm you mean it");
        return FAILED;
    }
    let root = super::runtime::root_of(path);
    let mut journal = match open(&root) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let site_prefix = format!("{env}[");
    let holder =
        journal.holders().ok().and_then(|h| h.into_iter().find(|h| h.env == env || h.env.starts_with(&site_prefix)));
    let Some(holder) = holder else {
        eprintln!("environment {env} is not locked");
        return OK;
    };
    if !yes && !super::runtime::confirm(&format!("take the lock of {env} from {}?", describe_holder(&holder))) {
        eprintln!("the lock stays");
        return FAILED;
    }
    match journal.force_unlock(env) {
        Ok(_) => {
            eprintln!("unlocked {env} (it was held by {})", describe_holder(&holder));
            OK
        }
        Err(err) => {
            eprintln!("error: {err}");
            FAILED
        }
    }
}
