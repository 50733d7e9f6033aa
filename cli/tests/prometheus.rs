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
    start_prometheus_with(port, None)
}

/// Prometheus on `port`; with `tls`, a directory of `.ci/tls-test-certs` files, over HTTPS
/// (scraping itself over HTTPS too).
fn start_prometheus_with(port: u16, tls: Option<&std::path::Path>) -> Option<Prometheus> {
    if Command::new("prometheus").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
        assert!(std::env::var_os("CI").is_none(), "prometheus must be installed in CI (.ci/run installs it)");
        eprintln!("note: prometheus is not installed; skipping");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prom.yml");
    let scrape_tls = match tls {
        Some(t) => format!("    scheme: https\n    tls_config:\n      ca_file: {}\n", t.join("ca.crt").display()),
        None => String::new(),
    };
    std::fs::write(
        &config,
        format!("global:\n  scrape_interval: 250ms\nscrape_configs:\n  - job_name: self\n{scrape_tls}    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"),
    )
    .unwrap();
    let mut command = Command::new("prometheus");
    command
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"));
    if let Some(t) = tls {
        let web = dir.path().join("web.yml");
        let (cert, key) = (t.join("server.crt"), t.join("server.key"));
        std::fs::write(
            &web,
            format!("tls_server_config:\n  cert_file: {}\n  key_file: {}\n", cert.display(), key.display()),
        )
        .unwrap();
        command.arg(format!("--web.config.file={}", web.display()));
    }
    let child = command
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("prometheus.log")).map(Stdio::from).unwrap_or(Stdio::null()))
        .spawn()
        .expect("prometheus starts");
    let prom = Prometheus { child, port, _dir: dir };
    // The first scrape lands a few seconds after start: poll until `up` has a value.
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let answered = match tls {
            None => conv_runtime::gates::prometheus_query(&format!("http://127.0.0.1:{port}"), "max(up)").is_ok(),
            Some(t) => https_up(port, &t.join("ca.crt")),
        };
        if answered {
            return Some(prom);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let log = std::fs::read_to_string(prom._dir.path().join("prometheus.log")).unwrap_or_default();
    panic!("prometheus did not answer `up` within 30s:\n{log}");
}

/// Whether an HTTPS Prometheus has a value for `max(up)`, trusting `ca` for it.
fn https_up(port: u16, ca: &std::path::Path) -> bool {
    let pem = std::fs::read(ca).unwrap();
    let certs: Vec<_> = ureq::tls::parse_pem(&pem)
        .filter_map(|i| match i {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    let tls = ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::new_with_certs(&certs)).build();
    let agent: ureq::Agent = ureq::Agent::config_builder().tls_config(tls).build().into();
    let url = format!("https://127.0.0.1:{port}/api/v1/query?query=max%28up%29");
    agent
        .get(&url)
        .call()
        .ok()
        .and_then(|mut r| r.body_mut().read_to_string().ok())
        .is_some_and(|b| b.contains("\"value\""))
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

#[test]
fn a_promql_gate_reads_an_https_prometheus_whose_authority_ssl_cert_file_names() {
    let certs = tempfile::tempdir().unwrap();
    let made = Command::new("bash")
        .arg(common::repo_root().join(".ci/tls-test-certs"))
        .arg(certs.path())
        .status()
        .expect("bash runs");
    assert!(made.success(), "the test certificates are made (openssl)");
    let Some(prom) = start_prometheus_with(29091, Some(certs.path())) else { return };
    let project = tempfile::tempdir().unwrap();
    let program = format!(
        r#"import std.gates.{{promql}}

let web_version = "1.0.0"

environment production {{
  provider = local {{ instances_per_site = 1, base_port = 24720 }}
  sites = ["p1"]
  prometheus = "https://127.0.0.1:{}"
}}

service web {{
  run = command {{ argv = ["demo-app", "--port", "{{port}}", "--version", "{{version}}"] }}
  version = web_version
  gates = [promql(query: "max(up)", max: 2.0, window: 1s)]
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
    let run = |args: &[&str], ca: Option<&std::path::Path>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_conv"));
        c.args(args).current_dir(project.path()).env("NO_COLOR", "1").env_remove("SSL_CERT_FILE");
        if let Some(ca) = ca {
            c.env("SSL_CERT_FILE", ca);
        }
        c.output().unwrap()
    };
    let ok = run(&["apply", ".", "--yes"], Some(&certs.path().join("ca.crt")));
    assert_eq!(ok.status.code(), Some(0), "the gate read max(up) over HTTPS: {}", text(&ok));
    let untrusted = run(&["apply", ".", "--yes", "--set", "web_version=1.1.0"], None);
    assert_eq!(untrusted.status.code(), Some(1), "{}", text(&untrusted));
    assert!(
        text(&untrusted).contains("UnknownIssuer") || text(&untrusted).contains("certificate"),
        "{}",
        text(&untrusted)
    );
    conv(&["destroy", ".", "--yes"], project.path());
}
