//! Gates that ask a real Prometheus server (Debian's `prometheus`, started here on a
//! loopback port and scraping itself every 250 ms): a PromQL gate passes or fails a stage.
//! Skipped, with a note, where Prometheus is not installed, except in CI.

mod common;

use common::project::{conv, text};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Prometheus {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_prometheus(port: u16) -> Option<Prometheus> {
    if Command::new("prometheus").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
        assert!(std::env::var_os("CI").is_none(), "prometheus must be installed in CI (.ci/run installs it)");
        eprintln!("note: prometheus is not installed; skipping");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prom.yml");
    std::fs::write(
        &config,
        format!("global:\n  scrape_interval: 250ms\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"),
    )
    .unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("prometheus.log")).map(Stdio::from).unwrap_or(Stdio::null()))
        .spawn()
        .expect("prometheus starts");
    let prom = Prometheus { child, port, _dir: dir };
    // The first scrape lands a few seconds after start: poll until `up` has a value.
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if conv_runtime::gates::prometheus_query(&format!("http://127.0.0.1:{port}"), "max(up)").is_ok() {
            return Some(prom);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let log = std::fs::read_to_string(prom._dir.path().join("prometheus.log")).unwrap_or_default();
    panic!("prometheus did not answer `up` within 30s:\n{log}");
}

#[test]
fn a_promql_gate_passes_or_fails_a_stage() {
    let Some(prom) = start_prometheus(29090) else { return };
    let project = tempfile::tempdir().unwrap();
    let program = format!(
        r#"import std.gates.{{promql}}

let check = "max(up)"
let web_version = "1.0.0"

environment production {{
  provider = local {{ instances_per_site = 1, base_port = 24700 }}
  sites = ["p1"]
  prometheus = "http://127.0.0.1:{}"
}}

service web {{
  run = command {{ argv = ["demo-app", "--port", "{{port}}", "--version", "{{version}}"] }}
  version = web_version
  gates = [promql(query: check, max: 2.0, window: 1s)]
}}

release site {{
  services = [web]
  strategy = rollout {{
    stage all {{ env = production, bake = 1s }}
  }}
}}
"#,
        prom.port
    );
    std::fs::write(project.path().join("main.conv"), program).unwrap();
    let ok = conv(&["apply", ".", "--yes"], project.path());
    assert_eq!(ok.status.code(), Some(0), "max(up) is 1, under 2: {}", text(&ok));
    let failing =
        conv(&["apply", ".", "--yes", "--set", "web_version=1.1.0", "--set", "check=max(up) * 10"], project.path());
    assert_eq!(failing.status.code(), Some(1), "{}", text(&failing));
    assert!(text(&failing).contains("10 against a maximum of 2"), "{}", text(&failing));
    assert!(text(&failing).contains("back to 1.0.0"), "{}", text(&failing));
    conv(&["destroy", ".", "--yes"], project.path());
}
