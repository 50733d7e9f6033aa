//! `conv plan`, `conv apply`, `conv status`, `conv approve`, `conv destroy`: the commands
//! that observe and change live state through the runtime.

use super::{FAILED, FOUND, OK};
use conv_cli::{load, render};
use conv_model::Program;
use conv_runtime::apply::{self, Outcome};
use conv_runtime::fleet::Fleet;
use conv_runtime::plan::{self, Plan};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// The runtime reaches local sites only, for now: an environment on another provider is
/// refused up front rather than run on this machine by mistake.
fn unsupported_providers(program: &Program) -> Result<(), u8> {
    let other: Vec<String> = program
        .environments
        .iter()
        .filter(|e| matches!(e.provider, conv_model::Provider::Kubernetes { .. }))
        .map(|e| {
            let kind = match e.provider {
                conv_model::Provider::Kubernetes { .. } => "kubernetes",
                conv_model::Provider::Simulator { .. } => "simulator",
                conv_model::Provider::Local { .. } => "local",
            };
            format!("{} ({kind})", e.name)
        })
        .collect();
    if other.is_empty() {
        return Ok(());
    }
    eprintln!(
        "error: this conv applies to the local and simulator providers; these environments use another: {}",
        other.join(", ")
    );
    eprintln!("`conv check`, `conv eval` and `conv graph` work for them");
    Err(FAILED)
}

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
    // With --detailed-exitcode, 2 means changes; every error is 1.
    let error = |code: u8| if detailed { FOUND } else { code };
    let program = match compile(path, set, color).and_then(|p| unsupported_providers(&p).map(|_| p)) {
        Ok(p) => p,
        Err(code) => return error(code),
    };
    let root = root_of(path);
    let plan = plan_from_live(&root, &program);
    if let Some(out) = out {
        let json = match serde_json::to_vec_pretty(&plan) {
            Ok(j) => j,
            Err(err) => {
                eprintln!("error: cannot serialize the plan: {err}");
                return error(FAILED);
            }
        };
        if let Err(err) = conv_runtime::write_atomically(out, &json) {
            eprintln!("error: cannot write {}: {err}", out.display());
            return error(FAILED);
        }
        eprintln!("saved the plan to {}; apply it with `conv apply {}`", out.display(), out.display());
    }
    let text = match format {
        PlanFormat::Text => conv_runtime::render::text(&plan, color && std::io::stdout().is_terminal()),
        PlanFormat::Markdown => conv_runtime::render::markdown(&plan),
        PlanFormat::Json => serde_json::to_string_pretty(&plan).unwrap_or_default(),
    };
    write_stdout(&text);
    match (detailed, plan.has_changes()) {
        (true, true) => 2,
        _ => OK,
    }
}

pub fn apply_cmd(target: &Path, set: &[String], yes: bool, color: bool) -> u8 {
    let is_saved_plan = target.is_file() && target.extension().is_some_and(|e| e == "json");
    let (plan, root) = if is_saved_plan {
        let plan: Plan = match std::fs::read_to_string(target)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        {
            Ok(p) => p,
            Err(err) => {
                eprintln!("error: cannot read the plan {}: {err}", target.display());
                return FAILED;
            }
        };
        if plan.schema_version != plan::PLAN_SCHEMA_VERSION {
            eprintln!(
                "error: {} has plan schema {}; this conv reads schema {}",
                target.display(),
                plan.schema_version,
                plan::PLAN_SCHEMA_VERSION
            );
            return FAILED;
        }
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
        let program = match compile(target, set, color).and_then(|p| unsupported_providers(&p).map(|_| p)) {
            Ok(p) => p,
            Err(code) => return code,
        };
        let root = root_of(target);
        (plan_from_live(&root, &program), root)
    };
    let provider = Fleet::new(&root, &plan.program);
    eprint!("{}", conv_runtime::render::text(&plan, color));
    if !plan.has_changes() {
        super::journal::settle(&root);
        eprintln!("nothing to do: live state matches the program");
        return OK;
    }
    if !yes && !is_saved_plan && !confirm("apply this plan?") {
        eprintln!("not applied");
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
    let session = match super::journal::begin(&root, &envs, &summary) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (log, progress) = progress_log(color);
    let recorder = conv_runtime::record::Recorder::new(session.journal.clone(), session.run)
        .resuming(session.unfinished_stages.clone());
    let outcome = apply::run(&plan, &provider, log, recorder);
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    super::journal::end(
        &session,
        match &outcome {
            Outcome::Converged => "converged",
            Outcome::Failed { paused: true, .. } => "paused",
            Outcome::Failed { .. } => "failed",
        },
    );
    match outcome {
        Outcome::Converged => {
            eprintln!("applied: every release converged");
            OK
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
pub fn watch_cmd(target: &Path, set: &[String], seconds: u64, color: bool) -> u8 {
    let program = match compile(target, set, color).and_then(|p| unsupported_providers(&p).map(|_| p)) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let root = root_of(target);
    let provider = Fleet::new(&root, &program);
    eprintln!("watching {}: converging every {seconds}s until interrupted", load::display_name(target));
    loop {
        let plan = plan_from_live(&root, &program);
        if plan.has_changes() {
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
            match super::journal::begin(&root, &envs, &format!("watch: {} corrections", plan.change_count())) {
                Ok(session) => {
                    let log: apply::Log = Arc::new(|line: String| eprintln!("{line}"));
                    let recorder = conv_runtime::record::Recorder::new(session.journal.clone(), session.run);
                    let outcome = apply::run(&plan, &provider, log, recorder);
                    let converged = outcome == Outcome::Converged;
                    super::journal::end(&session, if converged { "converged" } else { "failed" });
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

/// Progress lines: on a terminal, a spinner shows the step in flight and finished lines
/// scroll above it; in a pipe, plain lines.
fn progress_log(color: bool) -> (apply::Log, Option<indicatif::ProgressBar>) {
    if !std::io::stderr().is_terminal() {
        return (Arc::new(|line: String| eprintln!("{line}")), None);
    }
    let bar = indicatif::ProgressBar::new_spinner();
    let template = if color { "{spinner:.cyan} {elapsed:>4} {msg}" } else { "{spinner} {elapsed:>4} {msg}" };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let shown = bar.clone();
    let log: apply::Log = Arc::new(move |line: String| {
        shown.println(&line);
        shown.set_message(line.trim().to_string());
    });
    (log, Some(bar))
}

pub fn rollback_cmd(release: &str, path: &Path, yes: bool, color: bool) -> u8 {
    let program = match compile(path, &[], color) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let root = root_of(path);
    let provider = Fleet::new(&root, &program);
    let plan = plan::make_plan(&root, &program, &provider.observe_now(&program));
    if !yes && !confirm(&format!("roll release {release} back?")) {
        eprintln!("nothing rolled back");
        return FAILED;
    }
    let mut envs: Vec<String> = plan
        .releases
        .iter()
        .filter(|r| r.name == release)
        .flat_map(|r| r.stages.iter().map(|s| s.env.to_string()))
        .collect();
    envs.sort();
    envs.dedup();
    let session = match super::journal::begin(&root, &envs, &format!("rollback {release}")) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (log, progress) = progress_log(color);
    let recorder = conv_runtime::record::Recorder::new(session.journal.clone(), session.run);
    let result = apply::rollback_release(&plan, release, &provider, log, recorder);
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    super::journal::end(&session, if result.is_ok() { "rolled back" } else { "failed" });
    match result {
        Ok(done) if done.is_empty() => {
            eprintln!("release {release}: nothing to roll back");
            OK
        }
        Ok(done) => {
            eprintln!("rolled back: {}", done.join(", "));
            OK
        }
        Err(err) => {
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
    let provider = Fleet::new(&root_of(path), &program);
    let live = provider.observe_now(&program);
    let mut rows = Vec::new();
    for env in &program.environments {
        for site in &env.sites {
            for service in &program.services {
                let instances = live.instances(&env.name, site, &service.name);
                let up = instances.iter().filter(|i| i.alive).count();
                let healthy = instances
                    .iter()
                    .filter(|i| {
                        // A simulated instance (no process) is healthy unless its version is bad.
                        i.alive
                            && if i.pid == 0 {
                                !i.version.contains("bad")
                            } else {
                                conv_runtime::gates::http_status(
                                    i.port,
                                    "/healthz",
                                    std::time::Duration::from_millis(500),
                                )
                                .is_ok_and(|c| (200..300).contains(&c))
                            }
                    })
                    .count();
                let mut versions: Vec<&str> = instances.iter().map(|i| i.version.as_str()).collect();
                versions.dedup();
                let state = if instances.is_empty() {
                    "not deployed"
                } else if versions.len() == 1 && versions[0] == service.version && healthy == instances.len() {
                    "converged"
                } else if versions.contains(&service.version.as_str()) {
                    "in progress"
                } else {
                    "behind"
                };
                rows.push(serde_json::json!({
                    "environment": env.name, "site": site, "service": service.name,
                    "versions": versions, "desired": service.version,
                    "instances": instances.len(), "up": up, "healthy": healthy, "state": state,
                }));
            }
        }
    }
    if format == StatusFormat::Table {
        if let Some(line) = super::journal::in_flight(&root_of(path)) {
            eprintln!("{line}");
        }
    }
    match format {
        StatusFormat::Json => write_stdout(&serde_json::to_string_pretty(&rows).unwrap_or_default()),
        StatusFormat::Table => {
            let mut out = format!(
                "{:<14} {:<14} {:<14} {:<16} {:<10} {:<8} {}\n",
                "ENVIRONMENT", "SITE", "SERVICE", "VERSION", "UP", "HEALTHY", "STATE"
            );
            for r in &rows {
                let versions: Vec<String> = r["versions"]
                    .as_array()
                    .map(|v| v.iter().filter_map(|x| x.as_str().map(String::from)).collect())
                    .unwrap_or_default();
                out.push_str(&format!(
                    "{:<14} {:<14} {:<14} {:<16} {:<10} {:<8} {}\n",
                    r["environment"].as_str().unwrap_or(""),
                    r["site"].as_str().unwrap_or(""),
                    r["service"].as_str().unwrap_or(""),
                    if versions.is_empty() { "-".to_string() } else { versions.join(",") },
                    format!("{}/{}", r["up"], r["instances"]),
                    r["healthy"],
                    r["state"].as_str().unwrap_or("")
                ));
            }
            write_stdout(&out);
        }
    }
    OK
}

pub fn approve_cmd(release: &str, stage: &str, path: &Path) -> u8 {
    let who = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let state = conv_runtime::state_dir(&root_of(path));
    match conv_runtime::approval::approve(&state, release, stage, &who) {
        Ok(_) => {
            eprintln!("approved {release}/{stage} as {who}");
            OK
        }
        Err(err) => {
            eprintln!("error: cannot record the approval: {err}");
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
    let provider = Fleet::new(&root, &nothing);
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
    let session = match super::journal::begin(&root, &envs, "destroy") {
        Ok(s) => s,
        Err(code) => return code,
    };
    let stopped = provider.destroy_all();
    super::journal::end(&session, "destroyed");
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
