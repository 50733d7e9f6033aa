//! The operations both the command line and the web view perform: approving a waiting
//! stage and rolling a release back. One code path, so the page is checked, locked and
//! journaled exactly as `conv approve` and `conv rollback` are.

use conv_model::Program;
use conv_runtime::event::Sink;
use conv_runtime::fleet::Fleet;
use std::path::Path;

/// Who acts from the web view: the server's approver, with the name typed on the page.
pub fn web_approver(typed: Option<&str>) -> conv_runtime::approval::Approver {
    let mut who = conv_runtime::approval::Approver::from_env();
    who.name = match typed {
        Some(name) => format!("{} ({name} via conv serve)", who.name),
        None => format!("{} (via conv serve)", who.name),
    };
    who
}

/// Records an approval of `release`/`stage` by `who` in the journal, for each group it
/// waits for that `who` answers for; the waiting apply takes it. Returns those groups; the
/// error is a sentence for people.
pub fn approve(
    program: &Program,
    root: &Path,
    release: &str,
    stage: &str,
    who: &conv_runtime::approval::Approver,
) -> Result<Vec<String>, String> {
    let wanted = conv_runtime::approval::check_target(program, release, stage).map_err(|refusal| {
        use conv_runtime::approval::Refusal;
        let hint = |name: &str, all: &[String]| {
            conv_compiler::suggest::did_you_mean(name, all.iter().map(String::as_str))
                .unwrap_or_else(|| format!("there are: {}", all.join(", ")))
        };
        match refusal {
            Refusal::NoRelease { candidates } => {
                format!("the program has no release `{release}`; {}", hint(release, &candidates))
            }
            Refusal::NoStage { candidates } => {
                format!("release `{release}` has no stage `{stage}`; {}", hint(stage, &candidates))
            }
            Refusal::NotNeeded { env } => format!(
                "stage {release}/{stage} waits for no approval: environment {env} requires none there and no manual_approval gate applies"
            ),
        }
    })?;
    let groups = who.answers_for(&wanted);
    if groups.is_empty() {
        return Err(format!(
            "{release}/{stage} waits for approval by {}; {} is in {} (CONV_GROUPS)",
            wanted.join(", "),
            who.name,
            who.groups.as_ref().map(|g| g.join(", ")).unwrap_or_default()
        ));
    }
    let mut journal = super::journal::open(root).map_err(|_| "cannot open the journal".to_string())?;
    for group in &groups {
        journal
            .record_approval(release, stage, &who.name, group)
            .map_err(|err| format!("cannot record the approval: {err}"))?;
    }
    Ok(groups)
}

/// Who holds one of `envs` now, said as `conv apply` says it; a lock whose process is gone
/// is left for `begin` to judge.
fn held_lock(root: &Path, envs: &[String]) -> Option<String> {
    let mut journal = crate::view::feed::open(root)?;
    let (host, _, _) = conv_journal::whoami();
    journal.holders().ok()?.into_iter().find_map(|h| {
        let alive = h.host != host || Path::new(&format!("/proc/{}", h.pid)).exists();
        // A lock is an environment's, or one site's (`production["p1"]`).
        let env = h.env.split('[').next().unwrap_or(&h.env).to_string();
        (envs.contains(&env) && alive).then(|| {
            format!(
                "environment {env} is locked by {}; wait for that apply to finish",
                super::journal::describe_holder(&h)
            )
        })
    })
}

/// Why a rollback did not happen or did not finish.
pub enum RollbackError {
    /// The run could not begin: a lock is held (the reason), or the journal refused (the
    /// reason is empty: it was printed on stderr). With the exit status.
    Refused(String, u8),
    /// No such release, or the rollback ran and failed.
    Failed(String),
}

/// Rolls `release` back under its environments' locks, as a run of the journal whose
/// summary names who asked. Returns the addresses rolled back.
pub fn rollback(
    rt: &tokio::runtime::Handle,
    program: &Program,
    root: &Path,
    release: &str,
    by: Option<&str>,
    sink: Sink,
) -> Result<Vec<String>, RollbackError> {
    if !program.releases.iter().any(|r| r.name.as_str() == release) {
        let names: Vec<String> = program.releases.iter().map(|r| r.name.to_string()).collect();
        return Err(RollbackError::Failed(format!(
            "the program has no release `{release}`; there are: {}",
            names.join(", ")
        )));
    }
    let provider = Fleet::new(root, program);
    let plan = conv_runtime::plan::make_plan(root, program, &provider.observe_now(program));
    if let Some(held) = held_lock(root, &conv_runtime::run::envs(&plan, Some(release))) {
        return Err(RollbackError::Refused(held, super::FOUND));
    }
    let summary = match by {
        Some(by) => format!("rollback {release} by {by}"),
        None => format!("rollback {release}"),
    };
    let keys = conv_runtime::run::lock_keys(&plan, Some(release));
    let session = super::journal::begin(root, Some(program), &keys, &summary)
        .map_err(|code| RollbackError::Refused(String::new(), code))?;
    let (result, end_error) = rt.block_on(conv_runtime::run::rollback(session, &plan, release, &provider, sink));
    if let Some(err) = end_error {
        eprintln!("warning: {err}");
    }
    result.map_err(RollbackError::Failed)
}
