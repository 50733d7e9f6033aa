//! The journal end to end: a kill at any point of an apply loses nothing and applies
//! nothing twice; drift is found and converged; two applies never run at once; history.

mod common;

use common::project::{Project, text};
use std::process::Command;

fn small(base_port: u16) -> String {
    format!(
        r#"environment production {{
  provider = local {{ instances_per_site = 2, base_port = {base_port} }}
  sites = ["p1"]
}}

service web {{
  run = command {{ argv = ["demo-app", "--port", "{{port}}", "--version", "{{version}}"] }}
  version = "1.0.0"
}}

release site {{
  services = [web]
  strategy = rollout {{
    stage canary {{ env = production, fraction = 50%, bake = 1s }}
    stage full {{ env = production, bake = 1s }}
  }}
}}
"#
    )
}

#[test]
fn a_kill_after_any_journal_write_resumes_to_the_same_end_state() {
    // An apply of `small` writes about 13 times: lock, begin, 2 stages x (intent, outcome),
    // 2 deploys x (intent, outcome), known good, finish, unlock. Try a crash after each.
    let mut rebaked = false;
    for k in 1..=20u64 {
        let p = Project::new(&small(25100 + (k as u16) * 10));
        let crashed = Command::new(env!("CARGO_BIN_EXE_conv"))
            .args(["apply", ".", "--yes"])
            .current_dir(p.path())
            .env("NO_COLOR", "1")
            .env("CONV_CRASH_AFTER_WRITES", k.to_string())
            .output()
            .unwrap();
        if crashed.status.success() {
            // Past the last write of the apply: every crash point has been tried.
            assert!(k > 1, "the first write must be a crash point");
            break;
        }
        // What the crashed run already finished: slots running the new version, by pid.
        let finished: Vec<(u32, String)> = (0..2)
            .filter_map(|i| {
                std::fs::read_to_string(p.path().join(format!(".conv/local/production/p1/web/{i}.json"))).ok()
            })
            .filter_map(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .filter(|r| r["version"] == "1.0.0" && std::path::Path::new(&format!("/proc/{}", r["pid"])).exists())
            .map(|r| (r["pid"].as_u64().unwrap() as u32, r["log"].as_str().unwrap_or_default().to_string()))
            .collect();
        let resumed = p.run(&["apply", ".", "--yes"]);
        assert_eq!(resumed.status.code(), Some(0), "k={k}: {}", text(&resumed));
        let rows = p.status();
        assert!(rows.iter().all(|r| r["state"] == "converged" && r["up"] == 2), "k={k}: {rows:?}");
        // Nothing finished is done again: those processes are the same ones.
        for (pid, _) in &finished {
            assert!(
                std::path::Path::new(&format!("/proc/{pid}")).exists(),
                "k={k}: finished instance {pid} was restarted: {}",
                text(&resumed)
            );
        }
        // The journal is consistent: every step of every run has an outcome, and the
        // crashed run (if it got as far as beginning) is marked interrupted.
        let history: Vec<serde_json::Value> =
            serde_json::from_slice(&p.run(&["history", ".", "--json"]).stdout).unwrap();
        assert!(history.iter().all(|r| r["finished_at"].is_number()), "k={k}: every run is closed: {history:?}");
        let log = text(&resumed);
        rebaked |= log.contains("stopped before this stage finished; baking it again");
        if log.contains("nothing to do") {
            // The crash came after the last change: the crashed run is closed, as interrupted
            // (or as converged, when it got as far as saying so).
            assert!(
                history.iter().all(|r| r["outcome"] == "interrupted" || r["outcome"] == "converged"),
                "k={k}: {history:?}"
            );
            continue;
        }
        assert_eq!(history[0]["outcome"], "converged", "k={k}: {history:?}");
        assert!(history.iter().skip(1).all(|r| r["outcome"] == "interrupted"), "k={k}: {history:?}");
        // Nothing is applied twice: no slot is started again once it runs the new version.
        for slot in ["#0 1.0.0 up", "#1 1.0.0 up"] {
            assert!(log.matches(slot).count() <= 1, "k={k}: {slot} twice: {log}");
        }
    }
    assert!(rebaked, "some crash point falls inside a stage, whose bake is redone on resume");
}

#[test]
fn drift_is_reported_shown_in_the_plan_and_converged_back() {
    let p = Project::new(&small(26000));
    assert_eq!(p.run(&["apply", ".", "--yes"]).status.code(), Some(0));
    let clean = p.run(&["drift", "."]);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path().join(".conv/local/production/p1/web/1.json")).unwrap())
            .unwrap();
    common::kill_and_wait(&record["pid"].to_string());
    let drift = p.run(&["drift", "."]);
    assert_eq!(drift.status.code(), Some(4), "{}", text(&drift));
    assert!(
        text(&drift).contains("production[\"p1\"]/web: expected 2 x 1.0.0, found #0 1.0.0, #1 1.0.0 (dead)"),
        "{}",
        text(&drift)
    );
    // `--format json` and its alias `--json` print the same differences.
    let as_json = p.run(&["drift", ".", "--format", "json"]);
    assert_eq!(as_json.status.code(), Some(4));
    let diffs: serde_json::Value = serde_json::from_slice(&as_json.stdout).unwrap();
    assert_eq!(diffs.as_array().map(Vec::len), Some(1), "{diffs}");
    assert_eq!(diffs[0]["address"], "production[\"p1\"]/web", "{diffs}");
    assert_eq!(p.run(&["drift", ".", "--json"]).stdout, as_json.stdout);
    let history = p.run(&["history", ".", "--format", "json"]);
    assert_eq!(history.status.code(), Some(0));
    let runs: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(runs[0]["outcome"], "converged", "{runs}");
    let plan = p.run(&["plan", "."]);
    assert!(text(&plan).contains("! drift production[\"p1\"]/web"), "{}", text(&plan));
    assert_eq!(p.run(&["apply", ".", "--yes"]).status.code(), Some(0));
    assert_eq!(p.run(&["drift", "."]).status.code(), Some(0));
}

/// A project whose apply bakes 4 s a stage, started in the background; returns once that
/// apply holds its locks.
fn slow_apply(base_port: u16) -> (Project, std::process::Child) {
    let p = Project::new(&small(base_port).replace("bake = 1s }\n  }", "bake = 4s }\n  }"));
    let first = Command::new(env!("CARGO_BIN_EXE_conv"))
        .args(["apply", ".", "--yes"])
        .current_dir(p.path())
        .env("NO_COLOR", "1")
        .spawn()
        .unwrap();
    // Its first instance is up only once it holds its locks.
    let slot = p.path().join(".conv/local/production/p1/web/0.json");
    assert!(common::eventually(std::time::Duration::from_secs(15), || slot.exists()), "the slow apply started");
    (p, first)
}

#[test]
fn a_second_apply_is_refused_while_one_runs_and_names_the_holder() {
    let (p, first) = slow_apply(27000);
    let second = p.run(&["apply", ".", "--yes"]);
    assert_eq!(second.status.code(), Some(1), "{}", text(&second));
    assert!(text(&second).contains("environment production is locked by"), "{}", text(&second));
    assert!(text(&second).contains(&format!("(pid {})", first.id())), "names the holder's pid: {}", text(&second));
    let out = first.wait_with_output().unwrap();
    assert!(out.status.success());
    let history = p.run(&["history", "."]);
    assert!(text(&history).contains("converged"), "{}", text(&history));
}

#[test]
fn unlock_needs_force() {
    let p = Project::new(&small(27500));
    let out = p.run(&["unlock", "production", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("pass --force"));
    let forced = p.run(&["unlock", "production", ".", "--force", "--yes"]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    assert!(text(&forced).contains("is not locked"));
}

#[test]
fn watch_corrects_drift_by_itself() {
    let p = Project::new(&small(27700));
    assert_eq!(p.run(&["apply", ".", "--yes"]).status.code(), Some(0));
    let mut watcher = Command::new(env!("CARGO_BIN_EXE_conv"))
        .args(["apply", ".", "--watch", "1"])
        .current_dir(p.path())
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path().join(".conv/local/production/p1/web/0.json")).unwrap())
            .unwrap();
    Command::new("kill").arg(record["pid"].to_string()).status().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut healed = false;
    while std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(500));
        if p.status().iter().all(|r| r["state"] == "converged" && r["up"] == 2) {
            healed = true;
            break;
        }
    }
    let _ = watcher.kill();
    let out = watcher.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(healed, "the killed instance came back: {log}");
    assert!(log.contains("correcting drift: production[\"p1\"]/web"), "{log}");
}

/// A fresh database on the test PostgreSQL server (CI starts one), or `None` to skip.
fn team_database() -> Option<String> {
    let url = std::env::var("CONV_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty())?;
    let name = format!("conv_cli_{}", std::process::id());
    let status = Command::new("psql")
        .args([url.as_str(), "-q", "-c", &format!("CREATE DATABASE {name}")])
        .status()
        .expect("psql runs");
    assert!(status.success());
    Some(format!("{}/{name}", url.rsplit_once('/').unwrap().0))
}

#[test]
fn a_team_journal_on_postgres_is_shared_between_checkouts() {
    let Some(url) = team_database() else {
        assert!(std::env::var_os("CI").is_none(), "CI must set CONV_TEST_POSTGRES_URL");
        eprintln!("note: no CONV_TEST_POSTGRES_URL; skipping");
        return;
    };
    let laptop = Project::new(&small(27800));
    std::fs::write(laptop.path().join("conv.json"), format!("{{ \"journal\": \"{url}\" }}")).unwrap();
    let applied = laptop.run(&["apply", ".", "--yes"]);
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied));
    assert!(!laptop.path().join(".conv/journal.db").exists(), "the local journal is not used");
    // A second checkout (CI, say) names the same database and sees the same history.
    let ci = Project::new(&small(27800));
    let history = Command::new(env!("CARGO_BIN_EXE_conv"))
        .args(["history", ".", "--json"])
        .current_dir(ci.path())
        .env("CONV_JOURNAL_URL", &url)
        .output()
        .unwrap();
    let runs: Vec<serde_json::Value> = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["outcome"], "converged");
}

#[test]
fn an_unreachable_team_journal_stops_apply_before_anything_runs() {
    let p = Project::new(&small(27900));
    let out = Command::new(env!("CARGO_BIN_EXE_conv"))
        .args(["apply", ".", "--yes"])
        .current_dir(p.path())
        .env("CONV_JOURNAL_URL", "postgresql://conv:hunter2@127.0.0.1:9/conv")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("cannot reach the team journal at postgresql://conv:***@127.0.0.1:9/conv"),
        "{}",
        text(&out)
    );
    assert!(p.versions("web").is_empty(), "nothing was started");
}

#[test]
fn destroy_waits_for_no_apply_and_is_in_the_history() {
    let (p, first) = slow_apply(27600);
    let refused = p.run(&["destroy", ".", "--yes"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("is locked by"), "{}", text(&refused));
    assert!(first.wait_with_output().unwrap().status.success());
    let destroyed = p.run(&["destroy", ".", "--yes"]);
    assert_eq!(destroyed.status.code(), Some(0), "{}", text(&destroyed));
    let history = p.run(&["history", "."]);
    assert!(text(&history).contains("destroy"), "{}", text(&history));
}
