//! `conv init`, shell completions, the man page and help text, run with the real binary.

mod common;

use common::project::{conv, text};

#[test]
fn init_writes_a_program_that_checks_and_applies_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("deploy");
    let out = conv(&["init", target.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let written = std::fs::read_to_string(target.join("main.conv")).unwrap();
    let check = conv(&["check", "deploy"], dir.path());
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    let fmt = conv(&["fmt", "--check", "deploy"], dir.path());
    assert_eq!(fmt.status.code(), Some(0), "the written program is formatted: {}", text(&fmt));
    let apply = conv(&["apply", "deploy", "--yes"], dir.path());
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply));
    assert!(text(&apply).contains("release website converged"), "{}", text(&apply));

    std::fs::write(target.join("main.conv"), "// mine\n").unwrap();
    let again = conv(&["init", "deploy"], dir.path());
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again).contains("already exists; nothing was written"), "{}", text(&again));
    assert_eq!(std::fs::read_to_string(target.join("main.conv")).unwrap(), "// mine\n");
    assert!(written.contains("environment production"));
}

#[test]
fn completions_are_printed_for_every_shell_and_name_the_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = conv(&["completions", shell], dir.path());
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out));
        let script = String::from_utf8_lossy(&out.stdout);
        for sub in ["check", "apply", "rollback", "init"] {
            assert!(script.contains(sub), "{shell} completes {sub}");
        }
    }
}

#[test]
fn the_man_page_is_roff_with_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = conv(&["man"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains(".TH conv 1"), "{}", &page[..page.len().min(300)]);
    assert!(page.contains("conv\\-apply") || page.contains("apply"), "names apply");
}

#[test]
fn help_keeps_its_examples_one_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = conv(&["check", "--help"], dir.path());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains(
            "Examples:\n  conv check examples/quickstart\n  conv check --format json deploy/ > diagnostics.json\n"
        ),
        "{help}"
    );
}
