//! examples/ci: the pull-request workflow's script, run with the real `conv` on the
//! quickstart and a stand-in `gh` (GitHub's CLI, which cannot reach GitHub here) that records
//! the API calls and answers the comment lookup from what was posted before.

mod common;

use common::project::text;
use std::path::Path;
use std::process::{Command, Output};

const FAKE_GH: &str = r#"#!/bin/sh
echo "$*" >> "$GH_LOG"
case "$*" in
  *"--method POST"*) echo 1234 > "$GH_STATE"; echo '{}' ;;
  *"--method PATCH"*) echo '{}' ;;
  *) if [ -f "$GH_STATE" ]; then cat "$GH_STATE"; fi ;;
esac
"#;

fn run_script(dir: &Path) -> Output {
    let conv_dir = Path::new(env!("CARGO_BIN_EXE_conv")).parent().unwrap();
    let path =
        format!("{}:{}:{}", dir.join("bin").display(), conv_dir.display(), std::env::var("PATH").unwrap_or_default());
    Command::new("sh")
        .arg(common::repo_root().join("examples/ci/plan-comment.sh"))
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env("DEPLOY_DIR", "deploy")
        .env("PR_NUMBER", "7")
        .env("GITHUB_REPOSITORY", "acme/shop")
        .env("GH_LOG", dir.join("gh.log"))
        .env("GH_STATE", dir.join("gh.state"))
        .output()
        .unwrap()
}

fn setup(program: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("bin")).unwrap();
    std::fs::create_dir_all(dir.path().join("deploy")).unwrap();
    std::fs::write(dir.path().join("bin/gh"), FAKE_GH).unwrap();
    Command::new("chmod").arg("+x").arg(dir.path().join("bin/gh")).status().unwrap();
    std::fs::write(dir.path().join("deploy/main.conv"), program).unwrap();
    dir
}

#[test]
fn the_plan_is_posted_once_then_updated_in_place_with_the_saved_plan_beside_it() {
    let quickstart = std::fs::read_to_string(common::repo_root().join("examples/quickstart/main.conv")).unwrap();
    let dir = setup(&quickstart);
    let first = run_script(dir.path());
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert!(text(&first).contains("posted the plan comment"), "{}", text(&first));
    let comment = std::fs::read_to_string(dir.path().join("plan.md")).unwrap();
    assert!(comment.starts_with("<!-- conv-plan: deploy -->\n"), "{comment}");
    assert!(comment.contains("```diff"), "the Markdown plan: {comment}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap()).unwrap();
    assert_eq!(saved["schema_version"], 4);

    let second = run_script(dir.path());
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert!(text(&second).contains("updated the plan comment (1234)"), "{}", text(&second));
    let calls = std::fs::read_to_string(dir.path().join("gh.log")).unwrap();
    let writes: Vec<&str> = calls.lines().filter(|l| l.contains("--method")).collect();
    assert_eq!(
        writes,
        [
            "api --method POST repos/acme/shop/issues/7/comments -F body=@plan.md",
            "api --method PATCH repos/acme/shop/issues/comments/1234 -F body=@plan.md"
        ],
        "{calls}"
    );
}

#[test]
fn a_program_with_errors_fails_the_job_and_posts_nothing() {
    let dir = setup("service web {\n  version = 5\n}\n");
    let out = run_script(dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("error"), "{}", text(&out));
    assert!(!dir.path().join("gh.log").exists(), "no API call");
}
