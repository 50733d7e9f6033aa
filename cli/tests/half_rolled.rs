//! A release never ends half-rolled: an interrupted, paused or failed stage is judged again
//! or reported, never taken as converged; an instance that does not serve is not "up". Real
//! demo-app processes on the local provider, as in runtime.rs.

mod common;

use common::eventually;
use common::project::{Project, text};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn demo_app() -> String {
    std::path::Path::new(env!("CARGO_BIN_EXE_conv")).with_file_name("demo-app").display().to_string()
}

/// One environment of `sites`, one service `web` with an error-rate gate, one stage.
fn single_stage(base_port: u16, sites: &[&str], instances: u32, bake: &str, on_failure: &str) -> String {
    let sites: Vec<String> = sites.iter().map(|s| format!("{s:?}")).collect();
    format!(
        r#"import std.gates.{{max_error_rate}}

let version = "1.0.0"

environment production {{
  provider = local {{ instances_per_site = {instances}, base_port = {base_port} }}
  sites = [{}]
}}

service web {{
  run = command {{ argv = ["demo-app", "--port", "{{port}}", "--version", "{{version}}"] }}
  version = version
  gates = [max_error_rate(under: 5%, window: 1s)]
}}

release site {{
  services = [web]
  strategy = rollout {{
    stage full {{ env = production, bake = {bake} }}
  }}
  on_failure = {on_failure}
}}
"#,
        sites.join(", ")
    )
}

fn record(p: &Project, site: &str, slot: u32) -> serde_json::Value {
    let path = p.path().join(format!(".conv/local/production/{site}/web/{slot}.json"));
    std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

fn spawn_apply(p: &Project, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_conv"))
        .args(["apply", ".", "--yes"])
        .args(args)
        .current_dir(p.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Whether `child` writes a line containing `needle` on stderr within `timeout`; what it
/// writes afterwards is read and dropped, so that it never blocks on a full pipe.
fn said(child: &mut Child, needle: &str, timeout: Duration) -> bool {
    use std::io::BufRead;
    let Some(stderr) = child.stderr.take() else { return false };
    let (tx, rx) = std::sync::mpsc::channel();
    let needle = needle.to_string();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains(&needle) {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(timeout).is_ok()
}

#[test]
fn a_kill_while_the_last_stage_bakes_a_failing_version_is_judged_and_rolled_back() {
    let p = Project::new(&single_stage(27000, &["p1"], 2, "1s", "rollback"));
    assert_eq!(p.run(&["apply", ".", "--yes"]).status.code(), Some(0));
    // A bake long enough to be killed in.
    std::fs::write(p.path().join("main.conv"), single_stage(27000, &["p1"], 2, "20s", "rollback")).unwrap();
    let mut bad = spawn_apply(&p, &["--set", "version=2.0.0-bad"]);
    let deployed =
        eventually(Duration::from_secs(20), || (0..2).all(|i| record(&p, "p1", i)["version"] == "2.0.0-bad"));
    assert!(deployed, "both slots run the bad version");
    assert!(said(&mut bad, "baking full for 20s", Duration::from_secs(20)), "the bake began");
    bad.kill().unwrap(); // SIGKILL, mid-bake
    bad.wait().unwrap();

    // Nothing says converged: status, plan and apply all know the stage was never judged.
    let rows = p.status_with(&["--set", "version=2.0.0-bad"]);
    assert!(rows.iter().all(|r| r["state"] != "converged"), "{rows:?}");
    assert!(rows.iter().all(|r| r["state"] == "unjudged"), "{rows:?}");
    let plan = p.run(&["plan", ".", "--detailed-exitcode", "--set", "version=2.0.0-bad"]);
    assert_eq!(plan.status.code(), Some(4), "a stage to judge is work: {}", text(&plan));
    assert!(text(&plan).contains("judged again: run"), "{}", text(&plan));

    let again = p.run(&["apply", ".", "--yes", "--set", "version=2.0.0-bad"]);
    let log = text(&again);
    assert_eq!(again.status.code(), Some(1), "{log}");
    assert!(!log.contains("nothing to do"), "{log}");
    assert!(log.contains("stopped before this stage finished; baking it again"), "{log}");
    assert!(log.contains("gate `error rate under 5% over 1s` of web failed on production[\"p1\"]"), "{log}");
    assert!(log.contains("#0 back to 1.0.0") && log.contains("#1 back to 1.0.0"), "back to known good: {log}");
    assert!(p.versions("web").iter().all(|v| v == "1.0.0"), "{:?}", p.versions("web"));
    let report = p.report_with(&["--set", "version=2.0.0-bad"]);
    assert_eq!(report["releases"][0]["stages"][0]["state"], "failed", "{report}");
}

#[test]
fn a_paused_release_is_judged_again_and_never_nothing_to_do() {
    let p = Project::new(&single_stage(27100, &["p1"], 1, "1s", "pause"));
    assert_eq!(p.run(&["apply", ".", "--yes"]).status.code(), Some(0));
    let bad = p.run(&["apply", ".", "--yes", "--set", "version=2.0.0-bad"]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(text(&bad).contains("pauses here"), "{}", text(&bad));
    let rows = p.status_with(&["--set", "version=2.0.0-bad"]);
    assert_eq!(rows[0]["state"], "paused", "{rows:?}");
    assert!(rows[0]["reason"].as_str().unwrap().contains("against a limit of 5% on instance #0"), "{rows:?}");

    let again = p.run(&["apply", ".", "--yes", "--set", "version=2.0.0-bad"]);
    let log = text(&again);
    assert_eq!(again.status.code(), Some(1), "{log}");
    assert!(!log.contains("nothing to do"), "{log}");
    assert!(log.contains("nothing to deploy, but paused in run"), "{log}");
    assert!(log.contains("pauses here"), "{log}");
}

#[test]
fn a_hung_instance_is_not_up_and_apply_replaces_it() {
    let p = Project::new(&single_stage(27200, &["p1"], 2, "1s", "rollback"));
    assert_eq!(p.run(&["apply", ".", "--yes"]).status.code(), Some(0));
    let hung = record(&p, "p1", 1)["pid"].as_u64().unwrap();
    Command::new("kill").args(["-STOP", &hung.to_string()]).status().unwrap();

    let drift = p.run(&["drift", "."]);
    assert_eq!(drift.status.code(), Some(4), "{}", text(&drift));
    assert!(text(&drift).contains("#1 1.0.0 (alive but not answering on port 27201)"), "{}", text(&drift));
    let rows = p.status();
    assert_eq!(rows[0]["state"], "unhealthy", "{rows:?}");
    let plan = p.run(&["plan", "."]);
    assert!(text(&plan).contains("! drift production[\"p1\"]/web"), "{}", text(&plan));

    let out = p.run(&["apply", ".", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("production[\"p1\"]/web #1 1.0.0 up"), "{}", text(&out));
    assert!(!text(&out).contains("#0 1.0.0 up"), "the serving slot is left alone: {}", text(&out));
    assert_ne!(record(&p, "p1", 1)["pid"].as_u64(), Some(hung), "slot 1 runs a new process");
    assert!(!std::path::Path::new(&format!("/proc/{hung}/stat")).exists() || zombie(hung), "the hung one is gone");
    assert_eq!(p.run(&["drift", "."]).status.code(), Some(0));
}

fn zombie(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z"))
}

#[test]
fn another_program_on_an_instance_port_is_neither_up_nor_converged() {
    let p = Project::new(&single_stage(27300, &["p1"], 1, "1s", "pause"));
    assert_eq!(p.run(&["apply", ".", "--yes"]).status.code(), Some(0));
    let pid = record(&p, "p1", 0)["pid"].as_u64().unwrap();
    Command::new("kill").arg(pid.to_string()).status().unwrap();
    assert!(eventually(Duration::from_secs(5), || !std::path::Path::new(&format!("/proc/{pid}/fd")).exists()));
    // Another program answers HTTP on the slot's port.
    let mut squatter =
        Command::new(demo_app()).args(["--port", "27300", "--version", "9.9.9"]).stdout(Stdio::null()).spawn().unwrap();
    assert!(eventually(Duration::from_secs(5), || std::net::TcpStream::connect(("127.0.0.1", 27300)).is_ok()));

    let drift = p.run(&["drift", "."]);
    let squatter_pid = squatter.id().to_string();
    assert_eq!(drift.status.code(), Some(4), "{}", text(&drift));
    assert!(
        text(&drift).contains(&format!("#0 1.0.0 (dead; port 27300 answered by pid {squatter_pid} (demo-app))")),
        "{}",
        text(&drift)
    );
    let out = p.run(&["apply", ".", "--yes"]);
    let log = text(&out);
    squatter.kill().unwrap();
    squatter.wait().unwrap();
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(!log.contains("#0 1.0.0 up"), "the squatter's answer is not our instance: {log}");
    assert!(log.contains(&format!("port 27300 is taken by pid {squatter_pid} (demo-app)")), "{log}");
    let rows = p.status();
    assert_eq!(rows[0]["state"], "failed", "{rows:?}");
    assert!(rows[0]["reason"].as_str().unwrap().contains("is taken by"), "{rows:?}");
}

#[test]
fn one_bad_site_of_four_fails_its_gate_by_name_and_instance() {
    // Site p2's instances fail a third of their requests; the others' none. Environment-wide,
    // the error rate would be about 8%; each site is judged on its own instances.
    let program = single_stage(27400, &["p1", "p2", "p3", "p4"], 2, "2s", "pause").replace(
        r#"run = command { argv = ["demo-app", "--port", "{port}", "--version", "{version}"] }"#,
        &format!(
            r#"run = command {{ argv = ["sh", "-c", "if [ {{site}} = p2 ]; then export DEMO_ERROR_PERCENT=34; fi; exec {} --port {{port}} --version {{version}}"] }}"#,
            demo_app()
        ),
    );
    let p = Project::new(&program);
    let out = p.run(&["apply", ".", "--yes"]);
    let log = text(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(log.contains("gate `error rate under 5% over 1s` of web failed on production[\"p2\"]"), "{log}");
    assert!(log.contains("against a limit of 5%"), "{log}");
    assert!(log.contains("worst instance #"), "{log}");
    for good in ["p1", "p3", "p4"] {
        assert!(!log.contains(&format!("failed on production[\"{good}\"]")), "{log}");
    }
}

#[test]
fn an_environment_wide_gate_is_judged_over_every_site_and_the_plan_says_so() {
    // The same bad site; at 10% across the environment's eight instances the gate holds.
    let program = single_stage(27450, &["p1", "p2", "p3", "p4"], 2, "5s", "pause")
        .replace("max_error_rate(under: 5%, window: 1s)", "max_error_rate(under: 10%, window: 1s, scope: environment_wide)")
        .replace(
            r#"run = command { argv = ["demo-app", "--port", "{port}", "--version", "{version}"] }"#,
            &format!(
                r#"run = command {{ argv = ["sh", "-c", "if [ {{site}} = p2 ]; then export DEMO_ERROR_PERCENT=34; fi; exec {} --port {{port}} --version {{version}}"] }}"#,
                demo_app()
            ),
        );
    let p = Project::new(&program);
    let plan = p.run(&["plan", "."]);
    assert!(text(&plan).contains("gate web: error rate under 10% over 1s across the environment"), "{}", text(&plan));
    let out = p.run(&["apply", ".", "--yes", "--log-format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let readings: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "gate_reading")
        .collect();
    // Readings so far during the bake, for the views; then the one verdict.
    let (interim, verdicts): (Vec<_>, Vec<_>) = readings.into_iter().partition(|e| e["interim"] == true);
    assert!(!interim.is_empty(), "the bake reports its gates as it goes");
    assert!(interim.iter().all(|e| e["site"] == "production" && e["threshold"] == 10.0), "{interim:?}");
    let readings = verdicts;
    assert_eq!(readings.len(), 1, "one reading for the environment: {readings:?}");
    assert_eq!(readings[0]["site"], "production");
    let value = readings[0]["value"].as_f64().unwrap();
    assert!(value > 0.0 && value < 10.0, "{value}");
}

#[test]
fn status_shows_what_production_waits_for_and_which_requirements_hold() {
    let program = r#"
environment staging {
  provider = local { instances_per_site = 1, base_port = 27500 }
  sites = ["s1"]
}

environment production {
  provider = local { instances_per_site = 1, base_port = 27510 }
  sites = ["p1"]
  after = [staging]
  requires = [approval { group = "sre" }, converged { env = staging }]
}

service web {
  run = command { argv = ["demo-app", "--port", "{port}", "--version", "{version}"] }
  version = "1.0.0"
}

release site {
  services = [web]
  strategy = rollout {
    stage stage { env = staging, bake = 1s }
    stage prod { env = production, bake = 1s }
  }
}
"#;
    let p = Project::new(program);
    let refused = p.run(&["approve", "site", "prd", "."]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("has no stage `prd`; did you mean `prod`?"), "{}", text(&refused));
    let no_need = p.run(&["approve", "site", "stage", "."]);
    assert_eq!(no_need.status.code(), Some(2), "{}", text(&no_need));
    assert!(text(&no_need).contains("waits for no approval"), "{}", text(&no_need));

    let apply = spawn_apply(&p, &[]);
    // Waiting in the run (with its number), not only waiting to be reached.
    let waiting = eventually(Duration::from_secs(20), || {
        let stage = &p.report()["releases"][0]["stages"][1];
        stage["state"] == "waiting" && stage["run"].is_number()
    });
    let report = p.report();
    assert!(waiting, "{report}");
    let prod = &report["releases"][0]["stages"][1];
    assert!(prod["reason"].as_str().unwrap().contains("approval by sre"), "{report}");
    let requirements = prod["requirements"].as_array().unwrap();
    assert_eq!(requirements[0]["requirement"], "approval by sre");
    assert_eq!(requirements[0]["holds"], false, "{report}");
    assert_eq!(requirements[1]["requirement"], "staging converged");
    assert_eq!(requirements[1]["holds"], true, "{report}");
    let row =
        |env: &str| report["sites"].as_array().unwrap().iter().find(|r| r["environment"] == env).cloned().unwrap();
    assert_eq!(row("staging")["state"], "converged", "{report}");
    assert_eq!(row("production")["state"], "waiting", "{report}");
    let table = p.run(&["status", "."]);
    assert!(text(&table).contains("[ ] approval by sre: conv approve site prod"), "{}", text(&table));
    assert!(text(&table).contains("[x] staging converged"), "{}", text(&table));

    let approve_as = |groups: &str| {
        Command::new(env!("CARGO_BIN_EXE_conv"))
            .args(["approve", "site", "prod", "."])
            .current_dir(p.path())
            .env("CONV_APPROVER", "alice")
            .env("CONV_GROUPS", groups)
            .output()
            .unwrap()
    };
    let outsider = approve_as("dev");
    assert_eq!(outsider.status.code(), Some(2), "{}", text(&outsider));
    assert!(text(&outsider).contains("waits for approval by sre; alice is in dev"), "{}", text(&outsider));
    let member = approve_as("dev, sre");
    assert_eq!(member.status.code(), Some(0), "{}", text(&member));
    assert!(text(&member).contains("approved site/prod as alice for sre"), "{}", text(&member));
    let out = apply.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stage site/prod approved by alice"));
    assert!(p.status().iter().all(|r| r["state"] == "converged"), "{:?}", p.status());
    let history = text(&p.run(&["history", "."]));
    assert!(history.contains("site/prod approved by alice for sre"), "{history}");
    assert!(history.contains("used by run"), "{history}");
}

#[test]
fn the_json_log_is_one_versioned_event_a_line() {
    let p = Project::new(&single_stage(27600, &["p1"], 1, "1s", "rollback"));
    let out = p.run(&["apply", ".", "--yes", "--log-format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    for expected in [
        "run_started",
        "stage_started",
        "instance_up",
        "bake_started",
        "gate_reading",
        "stage_done",
        "release_converged",
        "run_ended",
    ] {
        assert!(kinds.contains(&expected), "{expected} in {kinds:?}");
    }
    assert!(events.iter().all(|e| e["v"] == 1 && e["at_ms"].is_number()), "{events:?}");
    let reading = events.iter().find(|e| e["event"] == "gate_reading").unwrap();
    assert_eq!(reading["site"], "production[\"p1\"]");
    assert_eq!(reading["threshold"], 5.0);
    assert_eq!(reading["passed"], true);
}

#[test]
fn a_closed_deployment_window_stops_with_no_wait_and_is_waited_for_otherwise() {
    let program = single_stage(27650, &["p1"], 1, "1s", "rollback").replace(
        "  sites = [\"p1\"]\n",
        "  sites = [\"p1\"]\n  requires = [window { weekdays = [\"wed\"], from = \"10:00\", until = \"11:00\" }]\n",
    );
    let p = Project::new(&program);
    let at = |now: &str, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_conv"))
            .args(["apply", ".", "--yes"])
            .args(args)
            .current_dir(p.path())
            .env("NO_COLOR", "1")
            .env("CONV_NOW", now)
            .output()
            .unwrap()
    };
    // Wednesday 2026-12-02 09:59:58 UTC: two seconds before the window opens.
    let closed = at("1796205598", &["--no-wait"]);
    assert_eq!(closed.status.code(), Some(3), "{}", text(&closed));
    assert!(
        text(&closed).contains("the deployment window wed 10:00-11:00 UTC is closed; it opens 2026-12-02 10:00 UTC"),
        "{}",
        text(&closed)
    );
    assert!(!p.path().join(".conv/local").exists(), "nothing was deployed");
    let report = p.report();
    assert_eq!(report["releases"][0]["stages"][0]["state"], "waiting", "{report}");
    // Without --no-wait it waits the minute, saying until when, then deploys.
    let waited = at("1796205598", &[]);
    assert_eq!(waited.status.code(), Some(0), "{}", text(&waited));
    assert!(
        text(&waited)
            .contains("waits for its deployment window (wed 10:00-11:00 UTC), which opens 2026-12-02 10:00 UTC")
    );
    // Inside the window, nothing to wait for.
    let inside = at("1796207400", &["--no-wait"]);
    assert_eq!(inside.status.code(), Some(0), "{}", text(&inside));
}

#[test]
fn a_freeze_refuses_apply_until_overridden_with_a_reason_the_journal_keeps() {
    let program = single_stage(27680, &["p1"], 1, "1s", "rollback").replace(
        "  sites = [\"p1\"]\n",
        "  sites = [\"p1\"]\n  requires = [freeze { from = \"2026-12-01\", until = \"2026-12-03T06:00\", reason = \"launch week\" }]\n",
    );
    let p = Project::new(&program);
    let at = |now: &str, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_conv"))
            .args(["apply", ".", "--yes"])
            .args(args)
            .current_dir(p.path())
            .env("NO_COLOR", "1")
            .env("CONV_NOW", now)
            .output()
            .unwrap()
    };
    // Wednesday 2026-12-02 10:30 UTC, inside the freeze.
    let refused = at("1796207400", &[]);
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused));
    assert!(
        text(&refused).contains("production is frozen from 2026-12-01 until 2026-12-03T06:00 UTC (launch week)"),
        "{}",
        text(&refused)
    );
    assert!(!p.path().join(".conv/local").exists(), "nothing was deployed");
    let empty = at("1796207400", &["--override-freeze", " "]);
    assert_eq!(empty.status.code(), Some(2), "an override needs a reason: {}", text(&empty));

    let overridden = at("1796207400", &["--override-freeze", "hotfix for INC-42"]);
    assert_eq!(overridden.status.code(), Some(0), "{}", text(&overridden));
    assert!(text(&overridden).contains("deploying anyway: hotfix for INC-42"), "{}", text(&overridden));
    let mut journal = conv_journal::Journal::open(&p.path().join(".conv/journal.db")).unwrap();
    let run = journal.runs(1).unwrap().remove(0);
    let steps = journal.steps(run.id).unwrap();
    let step = steps.iter().find(|s| s.kind == "override-freeze").expect("the override is a journal step");
    assert!(step.detail.contains("overridden: hotfix for INC-42"), "{step:?}");
    assert_eq!(step.outcome.as_deref(), Some("ok"));
    let stage = steps.iter().position(|s| s.kind == "stage").unwrap();
    let at_override = steps.iter().position(|s| s.kind == "override-freeze").unwrap();
    assert!(
        at_override > stage && steps.iter().skip(at_override).any(|s| s.kind == "deploy"),
        "recorded before it deploys"
    );
}
