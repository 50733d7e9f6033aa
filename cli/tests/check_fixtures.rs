//! The compiler over fixtures: each file under tests/fixtures/check is a program, each folder
//! under tests/fixtures/check_programs is a program of several files. A `// expect:` header
//! (in the folder's first file) lists the codes it must produce; the snapshot shows the
//! source and the rendered diagnostics. Every example must check clean, and its resolved
//! program is snapshotted.

mod common;

use common::{Expectation, fixtures, repo_root, snapshot_settings};
use conv_compiler::Sources;
use std::path::{Path, PathBuf};

fn load(path: &Path) -> (Sources, String) {
    let mut sources = Sources::new();
    let mut shown = String::new();
    let root = if path.is_dir() { path.to_path_buf() } else { path.parent().unwrap().to_path_buf() };
    for file in conv_cli::load::conv_files(path).unwrap() {
        let text = std::fs::read_to_string(&file).unwrap();
        let relative = file.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        shown.push_str(&format!("=== {relative}\n{text}"));
        sources.add(relative, text);
    }
    (sources, shown)
}

fn run_case(path: &Path, suite: &str, failures: &mut Vec<String>) {
    let (sources, shown) = load(path);
    let expectation = Expectation::from_header(&sources.all()[0].text);
    let checked = conv_compiler::check(&sources);
    let codes: Vec<&str> = checked.diagnostics.iter().map(|d| d.code.id).collect();
    if codes != expectation.codes() {
        failures.push(format!("{}: expected {:?}, got {:?}", path.display(), expectation.codes(), codes));
    }
    let output = if checked.diagnostics.is_empty() {
        "ok\n".to_string()
    } else {
        conv_cli::render::human(&checked.diagnostics, &checked.sources, false)
    };
    let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
    snapshot_settings(suite, path).bind(|| insta::assert_snapshot!(stem, format!("{shown}\n---\n{output}")));
}

#[test]
fn check_fixtures() {
    let mut failures = Vec::new();
    for path in fixtures("check") {
        run_case(&path, "check", &mut failures);
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo_root().join("tests/fixtures/check_programs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        run_case(&dir, "check_programs", &mut failures);
    }
    assert!(failures.is_empty(), "fixtures with unexpected codes:\n{}", failures.join("\n"));
}

#[test]
fn every_compiler_code_has_a_fixture() {
    let mut covered = String::new();
    for path in fixtures("check") {
        covered.push_str(std::fs::read_to_string(path).unwrap().lines().next().unwrap_or(""));
    }
    for dir in std::fs::read_dir(repo_root().join("tests/fixtures/check_programs")).unwrap() {
        for file in conv_cli::load::conv_files(&dir.unwrap().path()).unwrap() {
            covered.push_str(std::fs::read_to_string(file).unwrap().lines().next().unwrap_or(""));
        }
    }
    let missing: Vec<&str> =
        conv_compiler::codes::ALL.iter().map(|c| c.id).filter(|id| !covered.contains(id)).collect();
    assert!(missing.is_empty(), "codes without a failing fixture: {missing:?}");
}

fn examples() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo_root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && conv_cli::load::conv_files(p).is_ok())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn examples_check_clean_and_their_programs_are_snapshotted() {
    for dir in examples() {
        let (sources, _) = load(&dir);
        let checked = conv_compiler::check(&sources);
        assert!(
            checked.diagnostics.is_empty(),
            "{}:\n{}",
            dir.display(),
            conv_cli::render::human(&checked.diagnostics, &checked.sources, false)
        );
        let json = serde_json::to_string_pretty(checked.program.as_ref().unwrap()).unwrap();
        let again = serde_json::to_string_pretty(conv_compiler::check(&sources).program.as_ref().unwrap()).unwrap();
        assert_eq!(json, again, "evaluation is deterministic");
        let stem = dir.file_name().unwrap().to_string_lossy().into_owned();
        snapshot_settings("eval", &dir).bind(|| insta::assert_snapshot!(stem.clone(), json));
        let graph = conv_graph::build(checked.program.as_ref().unwrap());
        // The small examples' graphs are reviewed whole; the large ones are checked by shape.
        if graph.graph.node_count() < 100 {
            snapshot_settings("graph", &dir).bind(|| insta::assert_snapshot!(stem, conv_graph::to_mermaid(&graph)));
        }
        let value: serde_json::Value = serde_json::from_str(&conv_graph::to_json(&graph)).unwrap();
        assert!(value["nodes"].as_array().is_some_and(|n| !n.is_empty()), "graph JSON has nodes");
        assert!(value["edges"].as_array().is_some_and(|e| !e.is_empty()), "graph JSON has edges");
    }
}

#[test]
fn the_standard_library_compiles() {
    let checked = conv_compiler::check(&Sources::new());
    assert!(
        checked.diagnostics.is_empty(),
        "{}",
        conv_cli::render::human(&checked.diagnostics, &checked.sources, false)
    );
    assert_eq!(checked.sources.all().len(), conv_compiler::stdlib::MODULES.len());
}

/// SPEC section 8 shows what `conv check` prints: its example block is the real output on
/// tests/fixtures/spec/services.conv. `CONV_UPDATE_SPEC=1` writes it there.
#[test]
fn spec_section_8_shows_what_conv_check_prints() {
    let dir = repo_root().join("tests/fixtures/spec");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_conv"))
        .args(["check", "services.conv"])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the example has one error");
    let printed = String::from_utf8(out.stderr).unwrap();
    let spec_path = repo_root().join("lang/SPEC.md");
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    let marker = "<!-- rendered from tests/fixtures/spec/services.conv";
    let at = spec.find(marker).expect("SPEC section 8 has the marker of its rendered example");
    let open = at + spec[at..].find("```\n").expect("a fenced block follows the marker") + 4;
    let close = open + spec[open..].find("```\n").expect("the block is closed");
    if std::env::var_os("CONV_UPDATE_SPEC").is_some() {
        let updated = format!("{}{printed}{}", &spec[..open], &spec[close..]);
        std::fs::write(&spec_path, updated).unwrap();
        return;
    }
    assert_eq!(
        &spec[open..close],
        printed,
        "SPEC section 8's example is not what conv prints; run with CONV_UPDATE_SPEC=1 to write it"
    );
}
