//! Runs the real `conv` binary as a user would: exit codes, output channels, bad input.

mod common;

use common::repo_root;
use std::path::Path;
use std::process::{Command, Output};

fn conv(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conv"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("conv runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn examples_check_clean() {
    let out = conv(&["check", "examples/quickstart", "examples/storage-team", "stdlib"], &repo_root());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("examples/quickstart: ok"));
}

#[test]
fn errors_exit_one_and_json_follows_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.conv"), "service api {\n  version \"1\"\n}\n").unwrap();
    let out = conv(&["check", "--format", "json", "bad.conv"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("stdout is JSON");
    let first = &json.as_array().unwrap()[0];
    assert_eq!(first["code"], "E0105");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["file"], "bad.conv");
    assert_eq!(first["range"]["start"]["line"], 2);
    assert_eq!(first["range"]["start"]["column"], 11);
    assert_eq!(first["range"]["start"]["offset"], 24);
    assert_eq!(first["labels"][0]["primary"], true);
    assert!(first["help"].is_string());
}

#[test]
fn human_output_is_uncolored_in_a_pipe_and_colored_on_request() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.conv"), "let x = 5min\n").unwrap();
    let plain = conv(&["check", "bad.conv"], dir.path());
    assert!(!stderr(&plain).contains('\u{1b}'), "no escape codes in a pipe");
    assert!(stderr(&plain).contains("[E0104]"));
    let colored = conv(&["check", "--color", "always", "bad.conv"], dir.path());
    assert!(stderr(&colored).contains('\u{1b}'));
    let never = conv(&["--color", "never", "check", "bad.conv"], dir.path());
    assert!(!stderr(&never).contains('\u{1b}'));
}

#[test]
fn missing_file_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = conv(&["check", "nope.conv"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read nope.conv: no such file or directory"), "{}", stderr(&out));
}

#[test]
fn directory_without_conv_files_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("README.md"), "hi").unwrap();
    let out = conv(&["check", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no .conv files under ."), "{}", stderr(&out));
}

#[test]
fn non_utf8_file_gets_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("latin1.conv"), b"let name = \"caf\xe9\"\n").unwrap();
    let out = conv(&["check", "latin1.conv"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("[E0108] Error: file is not valid UTF-8"), "{}", stderr(&out));
    assert!(stderr(&out).contains("invalid byte at offset 15"), "{}", stderr(&out));
}

#[test]
fn empty_file_is_a_valid_program() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.conv"), "").unwrap();
    let out = conv(&["check", "empty.conv"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn twenty_thousand_nested_brackets_are_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("let x = {}{}\n", "[".repeat(20_000), "]".repeat(20_000));
    std::fs::write(dir.path().join("deep.conv"), text).unwrap();
    let out = conv(&["check", "deep.conv"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("E0107"), "{}", stderr(&out));
}

#[test]
fn fifty_megabyte_file_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let decl = "service api_0 {\n  version = \"1.0.0\"\n  replicas = 2\n  gates = [http_ok(path: \"/healthz\")]\n}\n\n";
    let mut text = String::with_capacity(50 << 20);
    let mut i = 0;
    while text.len() < 50 << 20 {
        text.push_str(&decl.replace("api_0", &format!("api_{i}")));
        i += 1;
    }
    std::fs::write(dir.path().join("big.conv"), &text).unwrap();
    let out = conv(&["check", "big.conv"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("[E0109] Error: file is too large: 50 MiB"), "{}", stderr(&out));
    let fmt = conv(&["fmt", "big.conv"], dir.path());
    assert_eq!(fmt.status.code(), Some(1), "{}", stderr(&fmt));
    assert_eq!(std::fs::metadata(dir.path().join("big.conv")).unwrap().len(), text.len() as u64, "not rewritten");
}

#[test]
fn fmt_rewrites_in_place_and_check_mode_lists_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.conv");
    std::fs::write(&file, "let   x=1 // keep me\n").unwrap();
    let check = conv(&["fmt", "--check", "."], dir.path());
    assert_eq!(check.status.code(), Some(1));
    assert!(stdout(&check).contains("a.conv"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "let   x=1 // keep me\n", "--check never writes");
    let fmt = conv(&["fmt", "a.conv"], dir.path());
    assert_eq!(fmt.status.code(), Some(0), "{}", stderr(&fmt));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "let x = 1 // keep me\n");
    let again = conv(&["fmt", "--check", "a.conv"], dir.path());
    assert_eq!(again.status.code(), Some(0));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
}

#[test]
fn fmt_refuses_a_file_with_syntax_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.conv");
    std::fs::write(&file, "service api {\n  version =\n").unwrap();
    let out = conv(&["fmt", "bad.conv"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not formatted, it has syntax errors"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "service api {\n  version =\n");
}

#[test]
fn explain_prints_the_long_story() {
    let out = conv(&["explain", "E0105"], &repo_root());
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("## E0105: syntax error"));
    let by_name = conv(&["explain", "unknown-unit-that-does-not-exist"], &repo_root());
    assert_eq!(by_name.status.code(), Some(2));
    let list = conv(&["explain", "--list"], &repo_root());
    assert!(stdout(&list).contains("E0107  too-deeply-nested"));
    let one: serde_json::Value =
        serde_json::from_slice(&conv(&["explain", "E0105", "--format", "json"], &repo_root()).stdout).unwrap();
    assert_eq!((one["code"].as_str(), one["name"].as_str()), (Some("E0105"), Some("syntax-error")), "{one}");
    assert!(one["explanation"].as_str().is_some_and(|e| e.starts_with("## E0105: syntax error")), "{one}");
    let all: serde_json::Value =
        serde_json::from_slice(&conv(&["explain", "--list", "--format", "json"], &repo_root()).stdout).unwrap();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), conv_cli::explain::all_codes().len());
    assert!(all.iter().any(|c| c["code"] == "E0107" && c["name"] == "too-deeply-nested"));
}

#[test]
fn every_code_has_an_explanation_with_an_example() {
    for code in conv_cli::explain::all_codes() {
        assert!(code.explanation.starts_with(&format!("## {}:", code.id)), "{} explanation header", code.id);
        assert!(code.explanation.contains("Fix") || code.explanation.contains("fix"), "{} explains the fix", code.id);
    }
}

#[test]
fn usage_errors_exit_two() {
    let out = conv(&["check", "--format", "yaml"], &repo_root());
    assert_eq!(out.status.code(), Some(2));
    let out = conv(&["frobnicate"], &repo_root());
    assert_eq!(out.status.code(), Some(2));
}

/// Line separators, a lone CR, NUL and other controls, tabs, zero-width and right-to-left
/// characters, in the source and in the strings that messages quote: the text report and the
/// JSON print none of them as they are (only escapes), and every JSON offset falls on a
/// character boundary of the file.
#[test]
fn odd_characters_are_escaped_in_text_and_json_and_offsets_stay_on_characters() {
    let fixtures = [
        "tests/fixtures/syntax/err_odd_characters_are_escaped.conv",
        "tests/fixtures/check/e0511_odd_characters_in_messages_are_escaped.conv",
    ];
    for fixture in fixtures {
        let source = std::fs::read_to_string(repo_root().join(fixture)).unwrap();
        let human = conv(&["check", fixture], &repo_root());
        assert_eq!(human.status.code(), Some(1), "{}", stderr(&human));
        let raw: Vec<char> = stderr(&human).chars().filter(|c| conv_lang::excerpt::shown_escaped(*c)).collect();
        assert!(raw.is_empty(), "{fixture}: the report prints {raw:?} as they are:\n{}", stderr(&human));

        let out = conv(&["check", "--format", "json", fixture], &repo_root());
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let text = stdout(&out);
        let raw: Vec<char> = text.chars().filter(|c| conv_lang::excerpt::shown_escaped(*c)).collect();
        assert!(raw.is_empty(), "{fixture}: the JSON holds {raw:?} unescaped");
        let json: serde_json::Value = serde_json::from_str(&text).expect("stdout is JSON");
        for d in json.as_array().unwrap() {
            let labels = d["labels"].as_array().unwrap();
            for range in std::iter::once(&d["range"]).chain(labels.iter().map(|l| &l["range"])) {
                for end in ["start", "end"] {
                    let offset = range[end]["offset"].as_u64().unwrap() as usize;
                    assert!(source.is_char_boundary(offset), "{fixture}: offset {offset} inside a character");
                }
            }
        }
        if fixture.contains("e0511") {
            // The escapes are JSON's own: the message decodes to the characters of the source.
            let stages = json.as_array().unwrap().iter().find(|d| d["code"] == "E0511").unwrap();
            assert!(stages["message"].as_str().unwrap().contains("x\u{202e}y\u{200b}"), "{}", stages["message"]);
            let mut settings = insta::Settings::clone_current();
            settings.set_snapshot_path(repo_root().join("tests/snapshots/json"));
            settings.set_prepend_module_to_snapshot(false);
            settings.set_omit_expression(true);
            settings.bind(|| insta::assert_snapshot!("odd_characters_in_messages", text));
        }
    }
}

/// A program with 100,000 errors: at most 1000 are shown, in text and in JSON, and the
/// rest are counted; the summary and the exit status still count them all.
#[test]
fn a_hundred_thousand_errors_are_capped_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..100_000 {
        text.push_str(&format!("let a{i}: Int = \"s\"\n"));
    }
    std::fs::write(dir.path().join("errors.conv"), text).unwrap();
    let path = dir.path().to_path_buf();
    let json = std::thread::spawn(move || conv(&["check", "--format", "json", "errors.conv"], &path));
    let human = conv(&["check", "errors.conv"], dir.path());
    let json = json.join().unwrap();

    assert_eq!(human.status.code(), Some(1));
    let report = stderr(&human);
    assert_eq!(report.lines().filter(|l| l.starts_with("[E")).count(), 1000);
    assert!(report.contains("\n... and 99000 more not shown\n"), "{}", &report[report.len().saturating_sub(500)..]);
    assert!(report.ends_with("errors.conv: 100000 errors, 0 warnings\n"));

    assert_eq!(json.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("stdout is JSON");
    let items = value.as_array().unwrap();
    assert_eq!(items.len(), 1000);
    let notes = items[999]["notes"].as_array().unwrap();
    assert!(notes.iter().any(|n| n.as_str().unwrap().starts_with("... and 99000 more not shown")), "{notes:?}");
}

#[test]
fn a_program_with_subfolder_modules_checks_however_its_root_is_named() {
    let program = repo_root().join("tests/fixtures/lsp/subfolder");
    let parent = program.parent().unwrap().to_path_buf();
    for (path, from) in [(".", program.clone()), ("subfolder", parent.clone()), (program.to_str().unwrap(), parent)] {
        let out = conv(&["check", path], &from);
        assert_eq!(out.status.code(), Some(0), "conv check {path}: {}", stderr(&out));
        assert!(stderr(&out).ends_with(": ok\n"), "conv check {path}: {}", stderr(&out));
    }
}

#[test]
fn reading_a_program_that_never_ran_makes_no_journal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo_root().join("examples/quickstart/main.conv"), dir.path().join("main.conv")).unwrap();
    let out = conv(&["history", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "no runs yet\n");
    let json = conv(&["history", ".", "--format", "json"], dir.path());
    assert_eq!(stdout(&json).trim(), "[]");
    assert!(!dir.path().join(".conv").exists(), "reading the history made no state");
    for command in ["status", "plan", "drift"] {
        let out = conv(&[command, "."], dir.path());
        assert_ne!(out.status.code(), Some(2), "{command}: {}", stderr(&out));
        assert!(!dir.path().join(".conv/journal.db").exists(), "{command} made a journal");
    }
}
