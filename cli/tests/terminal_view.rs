//! The terminal during `conv apply`: on a terminal (a pseudo-terminal from util-linux
//! `script`), one line per stage with a bar and a summary table at the end, however many
//! sites; in a pipe, plain lines with no escape codes. A simulated fleet of 2,000 sites.

mod common;

use common::project::Project;
use std::process::{Command, Stdio};

fn fleet(sites: usize) -> String {
    let names: Vec<String> = (1..=sites).map(|i| format!("\"s{i:05}\"")).collect();
    format!(
        r#"environment edge {{
  provider = simulator {{ seed = 11, failure_rate = 2%, latency = 1ms }}
  sites = [{}]
}}

service cache {{
  run = image {{ name = "registry.example/cache" }}
  version = "1.0.0"
}}

release fleet {{
  services = [cache]
  strategy = rollout {{
    stage all {{ env = edge, bake = 1s, max_parallel = 400, max_failures = 10% }}
  }}
}}
"#,
        names.join(", ")
    )
}

#[test]
fn a_terminal_shows_a_line_per_stage_and_a_summary_not_a_line_per_site() {
    let p = Project::new(&fleet(2000));
    let typescript = p.path().join("typescript");
    let command = format!("{} apply . --yes --color always", env!("CARGO_BIN_EXE_conv"));
    let status = Command::new("script")
        .args(["-q", "-e", "-f", "-c", &command])
        .arg(&typescript)
        .current_dir(p.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("util-linux `script` runs");
    let out = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).to_string();
    // Some sites fail within the budget: the apply says so with status 1.
    assert_eq!(status.code(), Some(1), "{out}");
    assert!(out.contains("█") && out.contains("/2000 converged"), "the stage's bar is drawn: {out}");
    let summary = out.lines().skip_while(|l| !l.contains("STAGE")).take(2).collect::<Vec<_>>();
    assert!(summary.len() == 2 && summary[0].contains("CONVERGED"), "{out}");
    assert!(
        summary[1].contains("fleet/all") && summary[1].contains("2000") && summary[1].contains("done"),
        "{summary:?}"
    );
    let site_lines = out.matches("failed: simulated failure").count();
    assert!(site_lines <= 30, "{site_lines} lines about single sites");
    assert!(out.contains("more sites: see the summary"), "{out}");
    assert!(!out.contains("#0 1.0.0 up"), "no line per instance on a terminal");
    let listed = out.lines().filter(|l| l.starts_with("  edge[\"s") && !l.contains("failed")).count();
    assert!(listed <= 20, "{listed} failed sites listed one a line");
    assert!(out.contains("more: `conv status` lists them"), "{out}");
    assert!(
        out.contains("sites failed within the stage's budget of 200")
            && out.contains("more; the next apply retries them"),
        "{out}"
    );
}

#[test]
fn a_pipe_gets_plain_lines() {
    let p = Project::new(&fleet(50));
    let out = p.run(&["apply", ".", "--yes"]);
    let log = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(log.contains("stage fleet/all: 50 sites of edge at 100%"), "{log}");
    assert!(!log.contains('\u{1b}') && !log.contains('█'), "no escape codes or bars in a pipe: {log}");
}
