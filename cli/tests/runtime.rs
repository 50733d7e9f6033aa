//! The runtime end to end: the real `conv` binary rolls real demo-app processes out on the
//! local provider. Each test works in its own directory with its own ports, and stops every
//! process it started, whatever happens.

mod common;

use common::project::{Project, text};
use std::process::Command;

fn program(base_port: u16, db: &str, api: &str, on_failure: &str) -> String {
    format!(
        r#"import std.gates.{{http_ok, max_error_rate}}

let db_version = "{db}"
let api_version = "{api}"

environment production {{
  provider = local {{ instances_per_site = 2, base_port = {base_port} }}
  sites = ["p1", "p2"]
}}

service db {{
  run = command {{ argv = ["demo-app", "--port", "{{port}}", "--version", "{{version}}"] }}
  version = db_version
  gates = [http_ok(window: 1s)]
}}

service api {{
  run = command {{ argv = ["demo-app", "--port", "{{port}}", "--version", "{{version}}"] }}
  version = api_version
  depends_on = [db]
  gates = [http_ok(window: 1s), max_error_rate(under: 5%, window: 1s)]
}}

release shop {{
  services = [db, api]
  strategy = rollout {{
    stage canary {{ env = production, fraction = 50%, bake = 1s }}
    stage full {{ env = production, bake = 1s }}
  }}
  on_failure = {on_failure}
}}
"#
    )
}

#[test]
fn a_rollout_converges_and_applying_again_changes_nothing() {
    let p = Project::new(&program(24000, "1.0.0", "1.0.0", "rollback"));
    let out = p.run(&["apply", ".", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("stage shop/canary: 2 sites of production at 50%"), "{}", text(&out));
    assert!(text(&out).contains("release shop converged"));
    assert!(
        p.status().iter().all(|r| r["state"] == "converged" && r["up"] == 2 && r["healthy"] == 2),
        "{:?}",
        p.status()
    );
    let again = p.run(&["apply", ".", "--yes"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(text(&again).contains("nothing to do"), "{}", text(&again));
    let plan = p.run(&["plan", ".", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "no changes: {}", text(&plan));
    assert_eq!(
        String::from_utf8_lossy(&plan.stdout),
        "No changes. 1 release and 2 stages already run what the program says.\n"
    );
}

#[test]
fn a_bad_canary_rolls_back_every_sibling_of_its_release() {
    let p = Project::new(&program(24100, "1.0.0", "1.0.0", "rollback"));
    assert_eq!(p.run(&["apply", ".", "--yes"]).status.code(), Some(0));
    let out = p.run(&["apply", ".", "--yes", "--set", "db_version=2.0.0", "--set", "api_version=2.0.0-bad"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let log = text(&out);
    assert!(log.contains("release shop failed at stage canary"), "{log}");
    assert!(log.contains("of api failed"), "names the failing gate's service: {log}");
    // The sibling db went to 2.0.0 in the canary and must come back too, dependents first.
    let api_back = log.find("production[\"p2\"]/api #0 back to 1.0.0").expect("api rolled back");
    let db_back = log.find("production[\"p2\"]/db #0 back to 1.0.0").expect("db rolled back");
    assert!(api_back < db_back, "api (the dependent) goes back before db: {log}");
    assert!(p.versions("db").iter().all(|v| v == "1.0.0"), "{:?}", p.versions("db"));
    let report = p.report_with(&["--set", "db_version=2.0.0", "--set", "api_version=2.0.0-bad"]);
    let canary = &report["releases"][0]["stages"][0];
    assert_eq!(canary["state"], "failed", "{report}");
    assert!(
        canary["reason"].as_str().unwrap().contains("of api failed"),
        "the failed stage keeps its reason: {report}"
    );
    assert!(p.versions("api").iter().all(|v| v == "1.0.0"), "{:?}", p.versions("api"));
}

#[test]
fn a_saved_plan_is_refused_after_a_live_change() {
    let p = Project::new(&program(24200, "1.0.0", "1.0.0", "rollback"));
    assert_eq!(p.run(&["apply", ".", "--yes"]).status.code(), Some(0));
    let plan_file = p.path().join("plan.json");
    let saved =
        p.run(&["plan", ".", "--set", "api_version=1.1.0", "-o", plan_file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(saved.status.code(), Some(0), "{}", text(&saved));
    let json: serde_json::Value = serde_json::from_slice(&saved.stdout).unwrap();
    assert_eq!(json["schema_version"], 4);
    // Someone stops an instance by hand.
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path().join(".conv/local/production/p1/api/1.json")).unwrap())
            .unwrap();
    common::kill_and_wait(&record["pid"].to_string());
    let out = p.run(&["apply", plan_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("live state changed since the plan was made"), "{}", text(&out));
    assert!(text(&out).contains("production[\"p1\"]/api"), "names the site that differs: {}", text(&out));
}

#[test]
fn a_failure_in_one_region_leaves_the_other_and_the_next_apply_touches_it_only() {
    let program = r#"
environment west {
  provider = local { instances_per_site = 1, base_port = 24300 }
  sites = ["w1"]
}

environment east {
  provider = local { instances_per_site = 1, base_port = 24350 }
  sites = ["e1"]
}

service web {
  run = command { argv = ["demo-app", "--port", "{port}", "--version", "{version}"] }
  version = "1.0.0"
}

release site {
  services = [web]
  strategy = rollout {
    stage west { env = west, bake = 1s }
    stage east { env = east, bake = 1s }
  }
  on_failure = pause
}
"#;
    let p = Project::new(program);
    // East's port is taken, so its instance cannot start.
    let blocker = std::net::TcpListener::bind(("127.0.0.1", 24350)).unwrap();
    let out = p.run(&["apply", ".", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("release site failed at stage east"), "{}", text(&out));
    assert!(text(&out).contains("paused"), "{}", text(&out));
    let rows = p.status();
    let row = |env: &str| rows.iter().find(|r| r["environment"] == env).cloned().unwrap();
    assert_eq!(row("west")["state"], "converged", "{rows:?}");
    assert_eq!(row("east")["up"], 0, "east's instance could not start: {rows:?}");
    assert_eq!(row("east")["state"], "failed", "{rows:?}");
    // West converged before east failed: it is known good, not drift.
    let drift = p.run(&["drift", "."]);
    assert_eq!(drift.status.code(), Some(0), "{}", text(&drift));
    drop(blocker);
    let plan = p.run(&["plan", "."]);
    assert!(!text(&plan).contains("west[\"w1\"]/web\n"), "west is not in the plan: {}", text(&plan));
    let again = p.run(&["apply", ".", "--yes"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(text(&again).contains("stage site/west: west already converged"), "{}", text(&again));
    assert!(text(&again).contains("east[\"e1\"]/web #0 1.0.0 up"), "{}", text(&again));
}

#[test]
fn apply_without_a_terminal_requires_yes() {
    let p = Project::new(&program(24400, "1.0.0", "1.0.0", "rollback"));
    let out = p.run(&["apply", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("pass --yes to go ahead"), "{}", text(&out));
    assert!(p.versions("api").is_empty(), "nothing was started");
}

#[test]
fn a_fixed_version_continues_from_a_paused_rollout_without_rolling_back() {
    let p = Project::new(&program(24500, "1.0.0", "1.0.0", "pause"));
    assert_eq!(p.run(&["apply", ".", "--yes"]).status.code(), Some(0));
    let bad = p.run(&["apply", ".", "--yes", "--set", "api_version=2.0.0-bad"]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(text(&bad).contains("paused"), "{}", text(&bad));
    let mut versions = p.versions("api");
    versions.sort();
    assert!(versions.contains(&"2.0.0-bad".to_string()), "the bad canary stays where it paused: {versions:?}");
    let fixed = p.run(&["apply", ".", "--yes", "--set", "api_version=2.0.1"]);
    assert_eq!(fixed.status.code(), Some(0), "{}", text(&fixed));
    assert!(!text(&fixed).contains("back to"), "fix forward, no rollback: {}", text(&fixed));
    assert!(!text(&fixed).contains("/db #"), "db was already right and is not touched: {}", text(&fixed));
    assert!(p.versions("api").iter().all(|v| v == "2.0.1"), "{:?}", p.versions("api"));
}

#[test]
fn rollback_by_hand_restores_what_ran_before_the_last_apply() {
    let p = Project::new(&program(24600, "1.0.0", "1.0.0", "rollback"));
    assert_eq!(p.run(&["apply", ".", "--yes"]).status.code(), Some(0));
    assert_eq!(p.run(&["apply", ".", "--yes", "--set", "api_version=1.1.0"]).status.code(), Some(0));
    assert!(p.versions("api").iter().all(|v| v == "1.1.0"));
    let out = p.run(&["rollback", "shop", ".", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(p.versions("api").iter().all(|v| v == "1.0.0"), "{:?}", p.versions("api"));
    // The stages that had converged on 1.1.0 no longer say so.
    let report = p.report_with(&["--set", "api_version=1.1.0"]);
    let stages = report["releases"][0]["stages"].as_array().unwrap().clone();
    assert!(
        stages
            .iter()
            .all(|s| s["state"] == "failed" && s["reason"].as_str().unwrap().starts_with("rolled back in run")),
        "{stages:?}"
    );
    let unknown = p.run(&["rollback", "nope", ".", "--yes"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown).contains("no release `nope`"));
}

#[test]
fn a_simulated_fleet_rolls_out_within_its_failure_budget_and_retries_only_failed_sites() {
    let sites: Vec<String> = (1..=10).map(|i| format!("\"c{i:02}\"")).collect();
    let program = format!(
        r#"environment fleet {{
  provider = simulator {{ seed = 7, failure_rate = 20%, latency = 10ms }}
  sites = [{}]
}}

service edge {{
  run = image {{ name = "edge" }}
  version = "2.0.0"
}}

release edge_release {{
  services = [edge]
  strategy = rollout {{
    stage all {{ env = fleet, bake = 1s, max_parallel = 5, max_failures = 50% }}
  }}
}}
"#,
        sites.join(", ")
    );
    let p = Project::new(&program);
    let out = p.run(&["apply", ".", "--yes"]);
    // Within the budget the rollout goes on, but sites that did not converge are not a success.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let log = text(&out);
    let failed = log.matches("failed: edge #0 simulated failure on").count();
    assert!(failed > 0 && failed <= 5, "some sites fail, within the budget: {log}");
    assert!(log.contains("failed within the stage's budget of 5"), "{log}");
    assert!(log.contains("the next `conv apply` retries them only"), "{log}");
    let rows = p.status();
    let converged = rows.iter().filter(|r| r["state"] == "converged").count();
    let failed_rows: Vec<_> = rows.iter().filter(|r| r["state"] == "failed").collect();
    assert_eq!(converged + failed_rows.len(), 10, "every site is converged or failed: {rows:?}");
    assert_eq!(failed_rows.len(), failed, "{rows:?}");
    assert!(
        failed_rows
            .iter()
            .all(|r| r["reason"].as_str().unwrap_or("").contains("simulated failure") && r["run"].is_number()),
        "a failed site says why and in which run: {failed_rows:?}"
    );
    // The next plan touches the failed sites only, and says why.
    let plan = p.run(&["plan", "."]);
    assert_eq!(text(&plan).matches("retry: failed in the last run").count(), failed, "{}", text(&plan));
    assert!(text(&plan).contains(&format!("Plan: {failed} change")), "{}", text(&plan));
}

#[test]
fn a_stage_waits_for_approval_from_another_terminal() {
    let program = r#"
environment production {
  provider = local { instances_per_site = 1, base_port = 24800 }
  sites = ["p1"]
  requires = [approval { group = "sre" }]
}

service web {
  run = command { argv = ["demo-app", "--port", "{port}", "--version", "{version}"] }
  version = "1.0.0"
}

release site {
  services = [web]
  strategy = rollout {
    stage prod { env = production, bake = 1s }
  }
}
"#;
    let p = Project::new(program);
    let apply = Command::new(env!("CARGO_BIN_EXE_conv"))
        .args(["apply", ".", "--yes"])
        .current_dir(p.path())
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Waiting in a run (with its number), not only waiting to be reached.
    let waiting = common::eventually(std::time::Duration::from_secs(20), || {
        let stage = &p.report()["releases"][0]["stages"][0];
        stage["state"] == "waiting" && stage["run"].is_number()
    });
    assert!(waiting, "the stage waits: {}", p.report());
    assert!(p.versions("web").is_empty(), "nothing runs before the approval");
    let approve = p.run(&["approve", "site", "prod", "."]);
    assert_eq!(approve.status.code(), Some(0), "{}", text(&approve));
    let out = apply.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("waiting for approval by sre: run `conv approve site prod"), "{log}");
    assert!(log.contains("stage site/prod approved by"), "{log}");
    let history = p.run(&["history", "."]);
    assert!(text(&history).contains("site/prod approved by"), "{}", text(&history));
    assert!(text(&history).contains("site (web 1.0.0): 1 change"), "{}", text(&history));
}
