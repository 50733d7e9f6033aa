//! Secrets reach the instance that needs them and nothing else: a real apply of demo-app
//! processes, then every output conv gave and every file it wrote is searched for the value.

mod common;

use common::project::{Project, text};
use std::process::{Command, Output};

const VALUE: &str = "hunter2-d9f1c7a0-not-for-logs";

fn program(base_port: u16) -> String {
    let demo = std::path::Path::new(env!("CARGO_BIN_EXE_conv")).with_file_name("demo-app");
    format!(
        r#"environment production {{
  provider = local {{ base_port = {base_port} }}
  sites = ["a"]
}}

service web {{
  run = command {{
    argv = ["sh", "-c", "printf %s \"$DB_PASSWORD\" > got-{{instance}}.txt; exec {} --port {{port}} --version {{version}}"]
  }}
  version = "1.0.0"
  config = {{ LOG_LEVEL = "info" }}
  secrets = {{ DB_PASSWORD = env {{ name = "SHOP_DB_PASSWORD" }} }}
}}

release site {{
  services = [web]
  strategy = rollout {{
    stage full {{ env = production }}
  }}
}}
"#,
        demo.display()
    )
}

fn run(p: &Project, args: &[&str], secret: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_conv"));
    c.args(args).current_dir(p.path()).env("NO_COLOR", "1").env_remove("SHOP_DB_PASSWORD");
    if let Some(v) = secret {
        c.env("SHOP_DB_PASSWORD", v);
    }
    c.output().unwrap()
}

/// Every file under `dir`, as bytes.
fn files(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_secret_reaches_its_instance_and_no_output_or_file_of_conv() {
    let p = Project::new(&program(23440));
    let mut outputs = Vec::new();
    for args in [
        vec!["plan", "."],
        vec!["plan", ".", "--format", "json"],
        vec!["plan", ".", "--format", "markdown"],
        vec!["plan", ".", "-o", "plan.json"],
        vec!["eval", "."],
        vec!["apply", ".", "--yes", "--log-format", "json"],
        vec!["apply", ".", "--yes"],
        vec!["status", "."],
        vec!["status", ".", "--format", "json"],
        vec!["drift", "."],
        vec!["history", "."],
    ] {
        let out = run(&p, &args, Some(VALUE));
        outputs.push((args.join(" "), text(&out)));
    }
    assert!(outputs[5].1.contains("\"event\":\"release_converged\""), "{}", outputs[5].1);
    let got = std::fs::read_to_string(p.path().join("got-0.txt")).unwrap();
    assert_eq!(got, VALUE, "the instance got the secret in its environment");
    assert!(outputs[4].1.contains("SHOP_DB_PASSWORD"), "eval shows where the secret comes from: {}", outputs[4].1);
    for (command, output) in &outputs {
        assert!(!output.contains(VALUE), "`conv {command}` printed the secret:\n{output}");
    }
    let written = files(&p.path().join(".conv"));
    assert!(written.iter().any(|(path, _)| path.ends_with("journal.db")), "the journal is searched too");
    let saved = std::fs::read(p.path().join("plan.json")).unwrap();
    assert!(contains(&saved, "(secret env SHOP_DB_PASSWORD)") || contains(&saved, "SHOP_DB_PASSWORD"));
    for (path, bytes) in written.iter().chain([(p.path().join("plan.json"), saved.clone())].iter()) {
        assert!(!contains(bytes, VALUE), "{} holds the secret", path.display());
    }
}

#[test]
fn an_apply_whose_secret_cannot_be_read_refuses_before_it_starts_anything() {
    let p = Project::new(&program(23450));
    let out = run(&p, &["apply", ".", "--yes"], None);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains(
            "secret DB_PASSWORD of web (secret env SHOP_DB_PASSWORD): environment variable SHOP_DB_PASSWORD is not set"
        ),
        "{all}"
    );
    assert!(!p.path().join(".conv/local").exists(), "nothing started");
    assert!(!p.path().join("got-0.txt").exists());
}
