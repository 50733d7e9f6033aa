//! `conv plan`, `conv apply`, `conv status`, `conv approve`, `conv destroy`: the commands
//! that observe and change live state through the runtime.

use super::events::{self, LogFormat};
use super::{FAILED, FOUND, OK, WAITING};
use conv_cli::{load, render};
use conv_model::Program;
use conv_runtime::apply::Outcome;
use conv_runtime::fleet::Fleet;
use conv_runtime::plan::{self, Plan};
use conv_runtime::run;
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
    let plan = if is_saved_plan {
        match conv_runtime::project::saved_plan(target) {
            Ok(p) => p,
            Err(plan::SavedPlanError::Stale(stale)) => {
                eprintln!("error: live state changed since the plan was made; refusing to apply {}", target.display());
                for (addr, then, now) in &stale {
                    eprintln!("  {addr}: planned against `{then}`, now `{now}`");
                }
                eprintln!("make a new plan with `conv plan -o {}`", target.display());
                return FOUND;
            }
            Err(err) => {
                eprintln!("error: cannot apply the plan {}: {err}", target.display());
                return FAILED;
            }
        }
    } else {
        let program = match compile(target, set, color) {
            Ok(p) => p,
            Err(code) => return code,
        };
        plan_from_live(&root_of(target), &program)
    };
    let root = plan.root.clone();
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
    let session = match super::journal::told(run::begin_apply(&plan)) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (sink, progress) = events::sink_for(log_format, color, Some(&plan));
    let finished = rt.block_on(run::apply(session, plan, provider, sink, options, NOTIFY_WAIT));
    if finished.notifications_pending {
        eprintln!(
            "warning: notifications were still being delivered after {}s; conv stopped waiting",
            NOTIFY_WAIT.as_secs()
        );
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Some(err) = finished.end_error {
        eprintln!("warning: {err}");
    }
    match finished.outcome {
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
            let summary = format!("watch: {} corrections", plan.change_count());
            let keys = run::lock_keys(&plan, None);
            match super::journal::told(run::begin(&root, Some(&program), &keys, &summary)) {
                Ok(session) => {
                    let (sink, _) = events::sink(LogFormat::Text, false);
                    let options = conv_runtime::requirements::Options::default();
                    let finished = rt.block_on(run::apply(session, plan, provider.clone(), sink, options, NOTIFY_WAIT));
                    if let Outcome::Failed { reason, .. } = finished.outcome {
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

fn plan_from_live(root: &Path, program: &Program) -> Plan {
    conv_runtime::project::plan_from_live(root, program)
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
