//! `conv plan`, `conv apply`, `conv status`, `conv approve`, `conv destroy`: the commands
//! that observe and change live state through the runtime.

use super::events::{self, LogFormat};
use super::{FAILED, FOUND, OK, WAITING};
use conv_cli::{load, render};
use conv_model::Program;
use conv_runtime::apply::{self, Outcome};
use conv_runtime::fleet::Fleet;
use conv_runtime::plan::{self, Plan};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use tokio::runtime::Handle;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    Table,
    Json,
}

/// The program root: a directory itself, or a file's folder. State lives in `<root>/.conv`.
pub fn root_of(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
    }
}

/// How long an apply waits at its end for notifications to go out.
const NOTIFY_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Compiles the program, printing its diagnostics; `None` (and the exit status) on errors.
pub fn compile(path: &Path, overrides: &[String], color: bool) -> Result<Program, u8> {
    let sources = load::load_program(path).map_err(|err| {
        eprintln!("error: {err}");
        FAILED
    })?;
    let mut parsed = Vec::new();
    for o in overrides {
        let Some((name, value)) = o.split_once('=') else {
            eprintln!("error: `--set {o}` must be NAME=VALUE");
            return Err(FAILED);
        };
        parsed.push(conv_compiler::Override { name: name.trim().to_string(), value: value.to_string() });
    }
    let unknown = conv_compiler::unknown_overrides(&sources, &parsed);
    if !unknown.is_empty() {
        eprintln!("error: `--set` names no `let` of the program: {}", unknown.join(", "));
        for name in &unknown {
            if let Some(hint) = conv_compiler::override_hint(&sources, name) {
                eprintln!("  {name}: {hint}");
            }
        }
        let lets = conv_compiler::let_names(&sources);
        if !lets.is_empty() {
            let more = if lets.len() > 20 { format!(" and {} more", lets.len() - 20) } else { String::new() };
            eprintln!("the program's `let`s: {}{more}", lets[..lets.len().min(20)].join(", "));
        }
        return Err(FAILED);
    }
    let mut checked = conv_compiler::check_with(&sources, &parsed);
    eprint!("{}", render::human(&checked.diagnostics, &checked.sources, color));
    let program = checked.program.take();
    if program.is_none() {
        eprintln!("{}: {}", load::display_name(path), render::summary(checked.error_count(), checked.warning_count()));
    }
    // Freeing a large program's syntax trees takes tens of milliseconds: another thread does
    // it while this one goes on (a process that exits first just lets the system reclaim it).
    std::thread::spawn(move || drop(checked));
    program.ok_or(FOUND)
}

pub fn plan_cmd(
    path: &Path,
    set: &[String],
    format: PlanFormat,
    out: Option<&Path>,
    detailed: bool,
    color: bool,
) -> u8 {
    let program = match compile(path, set, color) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let root = root_of(path);
    let plan = plan_from_live(&root, &program);
    if let Some(out) = out {
        let json = match serde_json::to_vec_pretty(&plan) {
            Ok(j) => j,
            Err(err) => {
                eprintln!("error: cannot serialize the plan: {err}");
                return FAILED;
            }
        };
        if let Err(err) = conv_runtime::write_atomically(out, &json) {
            eprintln!("error: cannot write {}: {err}", out.display());
            return FAILED;
        }
        eprintln!("saved the plan to {}; apply it with `conv apply {}`", out.display(), out.display());
    }
    let text = match format {
        PlanFormat::Text => conv_runtime::render::text(&plan, color && std::io::stdout().is_terminal()),
        PlanFormat::Markdown => {
            let origin = conv_runtime::render::Origin { path: path.display().to_string(), commit: git_commit(&root) };
            conv_runtime::render::markdown(&plan, &origin)
        }
        PlanFormat::Json => serde_json::to_string_pretty(&plan).unwrap_or_default(),
    };
    write_stdout(&text);
    // Changes to make or stages to judge again: both are work for `conv apply`.
    match (detailed, plan.has_work()) {
        (true, true) => super::CHANGES,
        _ => OK,
    }
}

/// The commit the program root is at, when it is in git: the Markdown plan's title names it.
fn git_commit(root: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--short", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !commit.is_empty()).then_some(commit)
}

/// The engine's options: `--no-wait`, and the clock (`CONV_NOW`, seconds since the epoch,
/// makes a rehearsal or a test run as if it were then).
pub fn options(no_wait: bool, override_freeze: Option<String>) -> conv_runtime::requirements::Options {
    let clock = std::env::var("CONV_NOW")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(conv_runtime::requirements::Clock::starting_at)
        .unwrap_or_default();
    conv_runtime::requirements::Options { no_wait, clock, override_freeze }
}

pub fn apply_cmd(
    rt: &Handle,
    target: &Path,
    set: &[String],
    yes: bool,
    color: bool,
    log_format: LogFormat,
    options: conv_runtime::requirements::Options,
) -> u8 {
    let is_saved_plan = target.is_file() && target.extension().is_some_and(|e| e == "json");
    let (plan, root) = if is_saved_plan {
        let plan: Plan = match plan::read_saved(target) {
            Ok(p) => p,
            Err(err) => {
                eprintln!("error: cannot apply the plan {}: {err}", target.display());
                return FAILED;
            }
        };
        let root = plan.root.clone();
        let provider = Fleet::new(&root, &plan.program);
        let stale = plan::stale_sites(&plan, &provider.observe_now(&plan.program));
        if !stale.is_empty() {
            eprintln!("error: live state changed since the plan was made; refusing to apply {}", target.display());
            for (addr, then, now) in &stale {
                eprintln!("  {addr}: planned against `{then}`, now `{now}`");
            }
            eprintln!("make a new plan with `conv plan -o {}`", target.display());
            return FOUND;
        }
        (plan, root)
    } else {
        let program = match compile(target, set, color) {
            Ok(p) => p,
            Err(code) => return code,
        };
        let root = root_of(target);
        (plan_from_live(&root, &program), root)
    };
    let provider = Fleet::new(&root, &plan.program);
    eprint!("{}", conv_runtime::render::text(&plan, color));
    if !plan.has_work() {
        super::journal::settle(&root);
        eprintln!("nothing to do: live state matches the program, and every stage's gates passed on it");
        return OK;
    }
    if !yes && !is_saved_plan && !confirm("apply this plan?") {
        eprintln!("not applied");
        return FAILED;
    }
    // Every secret a start needs is read now, so that no apply stops halfway for want of one.
    let starting = plan.releases.iter().flat_map(|r| &r.stages).flat_map(|s| &s.sites).flat_map(|x| &x.changes);
    let starting = starting.filter(|c| c.action != plan::Action::Stop).map(|c| c.service.as_str());
    let missing = conv_runtime::secrets::missing(&plan.program, starting, &root);
    if !missing.is_empty() {
        eprintln!(
            "error: not applied: {} secret{} cannot be read",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" }
        );
        for m in &missing {
            eprintln!("  {m}");
        }
        return FAILED;
    }
    let mut envs: Vec<String> = plan.releases.iter().flat_map(|r| r.stages.iter().map(|s| s.env.to_string())).collect();
    envs.sort();
    envs.dedup();
    // `storefront (api 1.4.2, db_proxy 2.0.1): 10 changes`: what a run shipped, for history.
    let summary = plan
        .releases
        .iter()
        .map(|r| {
            let mut versions: Vec<String> = r
                .stages
                .iter()
                .flat_map(|s| {
                    s.sites.iter().flat_map(|x| x.changes.iter().map(|c| format!("{} {}", c.service, c.version)))
                })
                .collect();
            versions.sort();
            versions.dedup();
            if versions.is_empty() { r.name.clone() } else { format!("{} ({})", r.name, versions.join(", ")) }
        })
        .collect::<Vec<_>>()
        .join(", ")
        + &format!(": {} change{}", plan.change_count(), if plan.change_count() == 1 { "" } else { "s" });
    let keys = super::journal::lock_keys(&plan.program, &envs);
    let session = match super::journal::begin(&root, Some(&plan.program), &keys, &summary) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (sink, progress) = events::sink_for(log_format, color, Some(&plan));
    let recorder = session.recorder();
    let (event_log, sink) = events::with_journal(sink, &recorder);
    let project = conv_runtime::project_name(&root);
    let (notifier, sink) = match conv_runtime::notify::Notifier::start(&plan.program, &project, sink.clone()) {
        Some((notifier, news)) => (Some(notifier), conv_runtime::event::fan_out(vec![sink, news])),
        None => (None, sink),
    };
    let outcome = rt.block_on(apply::apply_plan_with(plan.clone(), provider.clone(), sink, recorder, options));
    // Last news (converged, rolled back) goes out before the run's log is closed, so a
    // delivery that fails is recorded with the run.
    if let Some(notifier) = notifier
        && !notifier.finish(NOTIFY_WAIT)
    {
        eprintln!(
            "warning: notifications were still being delivered after {}s; conv stopped waiting",
            NOTIFY_WAIT.as_secs()
        );
    }
    event_log.finish();
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    super::journal::end(
        session,
        match &outcome {
            Outcome::Waiting { .. } => "waiting",
            Outcome::Converged { failed_sites } if failed_sites.is_empty() => "converged",
            Outcome::Converged { .. } => "partial",
            Outcome::Failed { paused: true, .. } => "paused",
            Outcome::Failed { .. } => "failed",
        },
    );
    match outcome {
        Outcome::Converged { failed_sites } if failed_sites.is_empty() => {
            eprintln!("applied: every release converged");
            OK
        }
        Outcome::Converged { failed_sites } => {
            eprintln!(
                "\napplied within the failure budgets, but {} site{} failed and did not converge:",
                failed_sites.len(),
                if failed_sites.len() == 1 { "" } else { "s" }
            );
            // A few by name; `conv status` lists every one.
            for site in failed_sites.iter().take(20) {
                eprintln!("  {site}");
            }
            if failed_sites.len() > 20 {
                eprintln!("  and {} more: `conv status` lists them", failed_sites.len() - 20);
            }
            eprintln!("the next `conv apply` retries them only");
            FOUND
        }
        Outcome::Waiting { release, stage, reason } => {
            eprintln!("\nrelease {release} stops before stage {stage}: {reason}");
            eprintln!("nothing of that stage was done; run `conv apply` again (without --no-wait it waits)");
            WAITING
        }
        Outcome::Failed { release, stage, reason, rolled_back, paused } => {
            eprintln!("\nrelease {release} failed at stage {stage}: {reason}");
            if paused {
                eprintln!("the release is paused where it failed");
            } else {
                eprintln!(
                    "rolled back: {}",
                    if rolled_back.is_empty() { "nothing had changed".to_string() } else { rolled_back.join(", ") }
                );
            }
            FOUND
        }
    }
}

/// `conv apply --watch`: converges, then keeps re-planning every `seconds` and corrects what
/// drifted, logging each correction, until the process is interrupted.
pub fn watch_cmd(rt: &Handle, target: &Path, set: &[String], seconds: u64, color: bool) -> u8 {
    let program = match compile(target, set, color) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let root = root_of(target);
    let provider = Fleet::new(&root, &program);
    eprintln!("watching {}: converging every {seconds}s until interrupted", load::display_name(target));
    loop {
        let plan = plan_from_live(&root, &program);
        if plan.has_work() {
            for r in &plan.releases {
                for s in &r.stages {
                    for site in &s.sites {
                        for c in &site.changes {
                            let what = if c.drift { "drift" } else { "change" };
                            eprintln!(
                                "correcting {what}: {}[{:?}]/{}: {} -> {}",
                                s.env,
                                site.site.as_str(),
                                c.service,
                                c.from,
                                c.to
                            );
                        }
                    }
                }
            }
            let mut envs: Vec<String> =
                plan.releases.iter().flat_map(|r| r.stages.iter().map(|s| s.env.to_string())).collect();
            envs.sort();
            envs.dedup();
            let keys = super::journal::lock_keys(&program, &envs);
            let summary = format!("watch: {} corrections", plan.change_count());
            match super::journal::begin(&root, Some(&program), &keys, &summary) {
                Ok(session) => {
                    let (sink, _) = events::sink(LogFormat::Text, false);
                    let recorder = session.recorder();
                    let (event_log, sink) = events::with_journal(sink, &recorder);
                    let outcome = rt.block_on(apply::apply_plan(plan.clone(), provider.clone(), sink, recorder));
                    event_log.finish();
                    let converged = matches!(&outcome, Outcome::Converged { failed_sites } if failed_sites.is_empty());
                    super::journal::end(session, if converged { "converged" } else { "failed" });
                    if let Outcome::Failed { reason, .. } = outcome {
                        eprintln!("correction failed: {reason}; trying again in {seconds}s");
                    }
                }
                Err(_) => eprintln!("could not start a run (see above); trying again in {seconds}s"),
            }
        }
        std::thread::sleep(std::time::Duration::from_secs(seconds.max(1)));
    }
}

pub fn rollback_cmd(rt: &Handle, release: &str, path: &Path, yes: bool, color: bool) -> u8 {
    let program = match compile(path, &[], color) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let root = root_of(path);
    if !yes && !confirm(&format!("roll release {release} back?")) {
        eprintln!("nothing rolled back");
        return FAILED;
    }
    let (sink, progress) = events::sink(LogFormat::Text, color);
    let result = super::operations::rollback(rt, &program, &root, release, None, sink);
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    match result {
        Ok(done) if done.is_empty() => {
            eprintln!("release {release}: nothing to roll back");
            OK
        }
        Ok(done) => {
            eprintln!("rolled back: {}", done.join(", "));
            OK
        }
        Err(super::operations::RollbackError::Refused(why, code)) => {
            if !why.is_empty() {
                eprintln!("error: {why}");
            }
            code
        }
        Err(super::operations::RollbackError::Failed(err)) => {
            eprintln!("error: {err}");
            FOUND
        }
    }
}

/// Live state diffed with the program, drift and retries marked from the journal.
fn plan_from_live(root: &Path, program: &Program) -> Plan {
    let provider = Fleet::new(root, program);
    let mut plan = plan::make_plan(root, program, &provider.observe_now(program));
    if let Ok(mut journal) = super::journal::open(root) {
        plan::mark_drift(&mut plan, &super::journal::known_good(&mut journal));
        plan::mark_retries(&mut plan, &journal.last_failures().unwrap_or_default());
        plan::mark_judging(&mut plan, &journal.stage_results().unwrap_or_default());
    }
    plan
}

/// Asks on the terminal; with no terminal, refuses (use `--yes`).
pub fn confirm(question: &str) -> bool {
    if !std::io::stdin().is_terminal() {
        eprintln!("error: no terminal to confirm on; pass --yes to go ahead without asking");
        return false;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim(), "y" | "Y" | "yes")
}

pub fn status_cmd(path: &Path, set: &[String], format: StatusFormat, color: bool) -> u8 {
    let program = match compile(path, set, color) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let root = root_of(path);
    let provider = Fleet::new(&root, &program);
    let live = provider.observe_now(&program);
    let view = super::journal::view(&root);
    let report = conv_runtime::status::status(&program, &live, &view, conv_journal::now());
    match format {
        StatusFormat::Json => write_stdout(&serde_json::to_string_pretty(&report).unwrap_or_default()),
        StatusFormat::Table => {
            if let Some(line) = super::journal::in_flight(&root) {
                eprintln!("{line}");
            }
            write_stdout(&super::status_view::table(&report, color && std::io::stdout().is_terminal()));
        }
    }
    OK
}

/// `conv status --watch`: the status, and the latest run's stages, redrawn until interrupted.
pub fn status_watch_cmd(path: &Path, set: &[String], color: bool) -> u8 {
    let program = match compile(path, set, color) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let root = root_of(path);
    let provider = Fleet::new(&root, &program);
    crate::view::watch::run(
        &root,
        || {
            let live = provider.observe_now(&program);
            conv_runtime::status::status(&program, &live, &super::journal::view(&root), conv_journal::now())
        },
        color,
    )
}

pub fn approve_cmd(release: &str, stage: &str, path: &Path) -> u8 {
    let program = match compile(path, &[], false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let who = conv_runtime::approval::Approver::from_env();
    match super::operations::approve(&program, &root_of(path), release, stage, &who) {
        Ok(groups) => {
            let checked =
                if who.groups.is_some() { "" } else { " (membership not checked: set CONV_GROUPS to check it)" };
            eprintln!("approved {release}/{stage} as {} for {}{checked}", who.name, groups.join(", "));
            OK
        }
        Err(why) => {
            eprintln!("error: {why}");
            FAILED
        }
    }
}

pub fn destroy_cmd(path: &Path, yes: bool) -> u8 {
    let nothing = Program {
        schema_version: conv_model::PROGRAM_SCHEMA_VERSION,
        environments: Vec::new(),
        services: Vec::new(),
        releases: Vec::new(),
    };
    let root = root_of(path);
    // Local and simulated instances are found from their records; clusters only from the
    // program that names them, so it is read when it checks.
    let program = load::load_program(path)
        .ok()
        .and_then(|sources| conv_compiler::check_with(&sources, &[]).program)
        .unwrap_or_else(|| {
            eprintln!("warning: the program does not check; Kubernetes clusters it names are left as they are");
            nothing
        });
    let provider = Fleet::new(&root, &program);
    if !yes && !confirm("stop every instance conv started for this project?") {
        eprintln!("nothing stopped");
        return FAILED;
    }
    // Never under a running apply: every environment it holds must be free (or stale).
    let mut journal = match super::journal::open(&root) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let envs: Vec<String> = journal.holders().unwrap_or_default().into_iter().map(|h| h.env).collect();
    drop(journal);
    let session = match super::journal::begin(&root, None, &envs, "destroy") {
        Ok(s) => s,
        Err(code) => return code,
    };
    let stopped = provider.destroy_all();
    super::journal::end(session, "destroyed");
    eprintln!("stopped {stopped} instance{}", if stopped == 1 { "" } else { "s" });
    OK
}

/// Prints to stdout; a closed pipe (`conv plan | head`) is not an error worth a panic.
pub fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}
