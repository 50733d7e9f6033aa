//! Webhook notifications from a real apply of demo-app processes to a real HTTP receiver on
//! loopback (a small server in this file that records what it is sent).

mod common;

use common::eventually;
use common::project::{Project, text};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An HTTP server on loopback that answers 200 to every POST and keeps (path, body).
struct Receiver {
    port: u16,
    got: Arc<Mutex<Vec<(String, String)>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let kept = got.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap_or(0);
                let path = request_line.split_whitespace().nth(1).unwrap_or("").to_string();
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap_or(());
                kept.lock().unwrap().push((path, String::from_utf8_lossy(&body).to_string()));
                let mut stream = stream;
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
            }
        });
        Receiver { port, got }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn bodies(&self, path: &str) -> Vec<serde_json::Value> {
        let got = self.got.lock().unwrap();
        got.iter().filter(|(p, _)| p == path).map(|(_, b)| serde_json::from_str(b).unwrap()).collect()
    }

    fn events(&self, path: &str) -> Vec<String> {
        self.bodies(path).iter().map(|b| b["event"].as_str().unwrap_or_default().to_string()).collect()
    }
}

fn program(base_port: u16, env_hook: &str, release_hook: &str) -> String {
    format!(
        r#"import std.gates.{{max_error_rate}}

let version = "1.0.0"

environment production {{
  provider = local {{ base_port = {base_port} }}
  sites = ["a", "b"]
  notify = [webhook {{ url = "{env_hook}", events = [stage_started, gate_failed, rolled_back, converged] }}]
}}

service web {{
  run = command {{ argv = ["demo-app", "--port", "{{port}}", "--version", "{{version}}"] }}
  version = version
  gates = [max_error_rate(under: 5%, window: 1s)]
}}

release site {{
  services = [web]
  strategy = rollout {{
    stage full {{ env = production, bake = 2s }}
  }}
  notify = [webhook {{ url = "{release_hook}", format = slack }}]
}}
"#
    )
}

#[test]
fn webhooks_get_the_events_they_chose_as_versioned_json_or_slack_text() {
    let hooks = Receiver::start();
    let p = Project::new(&program(23400, &hooks.url("/env"), &hooks.url("/slack")));
    let out = p.run(&["apply", ".", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(hooks.events("/env"), ["stage_started", "converged"], "delivered before apply exits");
    let converged = &hooks.bodies("/env")[1];
    assert_eq!(converged["v"], 1);
    assert_eq!(converged["release"], "site");
    assert_eq!(converged["project"], p.path().file_name().unwrap().to_str().unwrap());
    let started = &hooks.bodies("/env")[0];
    assert_eq!((started["stage"].as_str(), started["env"].as_str()), (Some("full"), Some("production")));
    let slack = hooks.bodies("/slack");
    assert_eq!(slack.len(), 1, "stage_started is not among the release hook's default events: {slack:?}");
    assert!(slack[0]["text"].as_str().unwrap().contains("release site converged"), "{slack:?}");

    let bad = p.run(&["apply", ".", "--yes", "--set", "version=2.0.0-bad"]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    let events = hooks.events("/env");
    assert!(events.contains(&"gate_failed".to_string()), "{events:?}");
    assert_eq!(events.last().map(String::as_str), Some("rolled_back"), "{events:?}");
    let failed = hooks.bodies("/env").into_iter().find(|b| b["event"] == "gate_failed").unwrap();
    assert!(failed["site"].as_str().unwrap().starts_with("production["), "{failed}");
    assert_eq!(failed["service"], "web");
    let slack = hooks.bodies("/slack");
    assert!(slack.last().unwrap()["text"].as_str().unwrap().contains("rolled back"), "{slack:?}");
}

#[test]
fn a_receiver_that_is_down_never_holds_the_rollout_and_the_failure_is_in_the_log_and_history() {
    // A port nothing listens on: every delivery is refused.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dead = format!("http://127.0.0.1:{closed}/hook");
    let p = Project::new(&program(23420, &dead, &dead));
    let out = p.run(&["apply", ".", "--yes"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("notification `converged` to") && all.contains("failed after 3 tries"), "{all}");
    let history = text(&p.run(&["history", "."]));
    assert!(eventually(Duration::from_secs(1), || history.contains("WARNINGS")), "{history}");
    assert!(history.contains("run 1: notification `stage_started`"), "{history}");
}
