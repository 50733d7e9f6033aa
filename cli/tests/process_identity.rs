//! The local provider knows its instances by pid and start time, signals their process
//! groups only, and says why an instance could not start: real processes throughout.

mod common;

use common::eventually;
use common::project::{Project, text};
use std::process::{Command, Stdio};
use std::time::Duration;

fn program(base_port: u16, argv: &str) -> String {
    format!(
        r#"environment production {{
  provider = local {{ base_port = {base_port} }}
  sites = ["a"]
}}

service web {{
  run = command {{ argv = {argv} }}
  version = "1.0.0"
}}

release site {{
  services = [web]
  strategy = rollout {{
    stage full {{ env = production }}
  }}
}}
"#
    )
}

fn demo_argv() -> String {
    let demo = std::path::Path::new(env!("CARGO_BIN_EXE_conv")).with_file_name("demo-app");
    format!(r#"["{}", "--port", "{{port}}", "--version", "{{version}}"]"#, demo.display())
}

#[test]
fn a_pid_reused_by_another_process_is_neither_taken_for_the_instance_nor_signalled() {
    let p = Project::new(&program(23460, &demo_argv()));
    assert_eq!(p.run(&["apply", ".", "--yes"]).status.code(), Some(0));
    let path = p.path().join(".conv/local/production/a/web/0.json");
    let mut record: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(record["proc_start"].as_u64().is_some(), "the start time is recorded: {record}");
    let old = record["pid"].as_u64().unwrap();
    Command::new("kill").arg(old.to_string()).status().unwrap();
    assert!(eventually(Duration::from_secs(5), || !std::path::Path::new(&format!("/proc/{old}/fd")).exists()));

    // Another process now holds a pid the record names, as when the kernel reuses it.
    let mut other = Command::new("sleep").arg("60").stdout(Stdio::null()).spawn().unwrap();
    record["pid"] = other.id().into();
    std::fs::write(&path, record.to_string()).unwrap();

    let rows = p.status();
    assert_eq!(rows[0]["up"], 0, "the other process is not the instance: {rows:?}");
    let out = p.run(&["destroy", ".", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    std::thread::sleep(Duration::from_millis(300));
    assert!(other.try_wait().unwrap().is_none(), "the other process was not signalled");
    other.kill().unwrap();
    other.wait().unwrap();
}

#[test]
fn stopping_an_instance_stops_what_it_started_too() {
    // A shell that starts demo-app as its child: the child is in the instance's group.
    let demo = std::path::Path::new(env!("CARGO_BIN_EXE_conv")).with_file_name("demo-app");
    let argv = format!(r#"["sh", "-c", "{} --port {{port}} --version {{version}} & wait"]"#, demo.display());
    let p = Project::new(&program(23470, &argv));
    assert_eq!(p.run(&["apply", ".", "--yes"]).status.code(), Some(0));
    assert!(std::net::TcpStream::connect(("127.0.0.1", 23470)).is_ok());
    assert_eq!(p.run(&["destroy", ".", "--yes"]).status.code(), Some(0));
    assert!(
        eventually(Duration::from_secs(5), || std::net::TcpStream::connect(("127.0.0.1", 23470)).is_err()),
        "the child demo-app was stopped with its shell"
    );
}

#[test]
fn an_instance_that_exits_at_start_is_reported_with_the_last_lines_of_its_log() {
    let argv = r#"["sh", "-c", "echo reading /etc/web.toml; echo 'error: no such file: /etc/web.toml' >&2; exit 3"]"#;
    let p = Project::new(&program(23480, argv));
    let out = p.run(&["apply", ".", "--yes"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("exited at start; its log ends: reading /etc/web.toml | error: no such file: /etc/web.toml"),
        "{all}"
    );
}
