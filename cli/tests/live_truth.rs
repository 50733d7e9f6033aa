//! Live state that tells the truth: a configuration change is a planned change, and two
//! checkouts of one program never apply at once. Real demo-app processes, as in runtime.rs.

mod common;

use common::project::{Project, text};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn program(base_port: u16, level: &str, bake: &str) -> String {
    format!(
        r#"environment production {{
  provider = local {{ instances_per_site = 2, base_port = {base_port} }}
  sites = ["p1"]
}}

service web {{
  run = command {{ argv = ["demo-app", "--port", "{{port}}", "--version", "{{version}}"] }}
  version = "1.0.0"
  config = {{ LOG_LEVEL = "{level}" }}
}}

release site {{
  services = [web]
  strategy = rollout {{
    stage canary {{ env = production, fraction = 50%, bake = 1s }}
    stage full {{ env = production, bake = {bake} }}
  }}
}}
"#
    )
}

fn environ(pid: u64) -> String {
    std::fs::read(format!("/proc/{pid}/environ"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', "\n"))
        .unwrap_or_default()
}

fn pid(p: &Project, slot: u32) -> u64 {
    let text = std::fs::read_to_string(p.path().join(format!(".conv/local/production/p1/web/{slot}.json"))).unwrap();
    serde_json::from_str::<serde_json::Value>(&text).unwrap()["pid"].as_u64().unwrap()
}

#[test]
fn a_config_change_without_a_new_version_is_planned_and_applied_progressively() {
    let p = Project::new(&program(27700, "info", "1s"));
    assert_eq!(p.run(&["apply", ".", "--yes"]).status.code(), Some(0));
    assert!(environ(pid(&p, 0)).contains("LOG_LEVEL=info"));
    std::fs::write(p.path().join("main.conv"), program(27700, "debug", "1s")).unwrap();

    let plan = p.run(&["plan", ".", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(4), "{}", text(&plan));
    assert!(text(&plan).contains(r#"~ config LOG_LEVEL: "info" -> "debug""#), "{}", text(&plan));
    assert!(!text(&plan).contains("! drift"), "a program change is not drift: {}", text(&plan));
    let out = p.run(&["apply", ".", "--yes"]);
    let log = text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    // Slot #0 in the canary, slot #1 in the full stage: as progressive as a version change.
    let canary = log.find("stage site/canary: 1 site").expect("canary deploys");
    let full = log.find("stage site/full: 1 site").expect("full deploys");
    let slot0 = log.find("web #0 1.0.0 up").expect("slot 0 restarted");
    let slot1 = log.find("web #1 1.0.0 up").expect("slot 1 restarted");
    assert!(canary < slot0 && slot0 < full && full < slot1, "{log}");
    assert!(environ(pid(&p, 0)).contains("LOG_LEVEL=debug") && environ(pid(&p, 1)).contains("LOG_LEVEL=debug"));
    assert!(text(&p.run(&["apply", ".", "--yes"])).contains("nothing to do"));
    assert_eq!(p.run(&["drift", "."]).status.code(), Some(0), "what ran is what was applied");
}

#[test]
fn two_checkouts_of_one_program_never_apply_at_once() {
    let first = Project::new(&program(27800, "info", "5s"));
    let second = Project::new(&program(27800, "info", "5s"));
    let mut running = Command::new(env!("CARGO_BIN_EXE_conv"))
        .args(["apply", ".", "--yes"])
        .current_dir(first.path())
        .env("NO_COLOR", "1")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first apply runs (its first instance is up), then try the second.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !first.path().join(".conv/local/production/p1/web/0.json").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let refused = second.run(&["apply", ".", "--yes"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("the local ports from 27800 are in use by another apply on this machine"),
        "{}",
        text(&refused)
    );
    assert!(
        text(&refused).contains(&first.path().display().to_string()),
        "names the other checkout: {}",
        text(&refused)
    );
    assert!(!second.path().join(".conv/local").exists(), "the second checkout started nothing");
    assert!(running.wait().unwrap().success(), "the first apply was not disturbed");
    // Once the first is done, the second may run: it warns that the ports are shared.
    let after = second.run(&["apply", ".", "--yes"]);
    assert!(text(&after).contains("are also used by the program at"), "{}", text(&after));
}

#[test]
fn fewer_instances_stop_the_slots_the_program_no_longer_has() {
    let p = Project::new(&program(27900, "info", "1s"));
    assert_eq!(p.run(&["apply", ".", "--yes"]).status.code(), Some(0));
    let second = pid(&p, 1);
    std::fs::write(
        p.path().join("main.conv"),
        program(27900, "info", "1s").replace("instances_per_site = 2", "instances_per_site = 1"),
    )
    .unwrap();
    let plan = p.run(&["plan", ".", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let full = &json["releases"][0]["stages"][1]["sites"][0]["changes"][0];
    assert_eq!(full["action"], "stop", "{json}");
    assert_eq!(full["instances"], serde_json::json!([1]), "slots alone: where each runs is the provider's");
    assert!(text(&p.run(&["plan", "."])).contains(r#"- production["p1"]/web (stop #1)"#));
    let out = p.run(&["apply", ".", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains(r#"production["p1"]/web #1 stopped"#), "{}", text(&out));
    assert!(
        common::eventually(Duration::from_secs(10), || !std::path::Path::new(&format!("/proc/{second}/fd")).exists())
    );
    assert!(!p.path().join(".conv/local/production/p1/web/1.json").exists());
    assert_eq!(p.status()[0]["state"], "converged", "{:?}", p.status());
}
