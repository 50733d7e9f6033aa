//! The formatter: snapshots of tests/fixtures/format, and over every fixture, example and
//! standard-library file, the two promises: formatting twice changes nothing, and the
//! formatted file parses to the same tree (spans aside).

mod common;

use common::{fixtures, repo_root, snapshot_settings};
use conv_lang::FileId;
use std::path::{Path, PathBuf};

fn format(text: &str) -> String {
    let parsed = conv_lang::parse(FileId(0), text);
    assert!(!parsed.has_errors(), "cannot format a file with errors: {:?}", parsed.diagnostics);
    conv_lang::fmt::format(text, &parsed)
}

/// The tree as JSON without positions, so two layouts of one program compare equal.
fn tree_without_spans(text: &str) -> serde_json::Value {
    let parsed = conv_lang::parse(FileId(0), text);
    let mut value = serde_json::to_value(&parsed.file).unwrap();
    strip_spans(&mut value);
    value
}

fn strip_spans(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.remove("span");
            map.remove("op_span");
            map.values_mut().for_each(strip_spans);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_spans),
        _ => {}
    }
}

fn comments(text: &str) -> Vec<String> {
    let lexed = conv_lang::lexer::lex(FileId(0), text);
    lexed.comments.iter().map(|c| text[c.span.start..c.span.end].trim_end().to_string()).collect()
}

fn all_valid_sources() -> Vec<PathBuf> {
    let mut files = fixtures("format");
    for f in fixtures("syntax") {
        if std::fs::read_to_string(&f).unwrap().starts_with("// expect: ok") {
            files.push(f);
        }
    }
    for dir in ["examples", "stdlib"] {
        collect(&repo_root().join(dir), &mut files);
    }
    files
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "conv") {
            out.push(path);
        }
    }
}

#[test]
fn format_fixtures() {
    for path in fixtures("format") {
        let text = std::fs::read_to_string(&path).unwrap();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        snapshot_settings("format", &path).bind(|| insta::assert_snapshot!(stem, format(&text)));
    }
}

#[test]
fn formatting_is_idempotent() {
    for path in all_valid_sources() {
        let once = format(&std::fs::read_to_string(&path).unwrap());
        let twice = format(&once);
        similar_asserts(&path, &once, &twice);
    }
}

#[test]
fn formatting_preserves_meaning_and_comments() {
    for path in all_valid_sources() {
        let text = std::fs::read_to_string(&path).unwrap();
        let formatted = format(&text);
        assert_eq!(tree_without_spans(&text), tree_without_spans(&formatted), "{} changed meaning", path.display());
        assert_eq!(comments(&text), comments(&formatted), "{} lost or reordered comments", path.display());
    }
}

#[test]
fn examples_and_stdlib_are_formatted() {
    for dir in ["examples", "stdlib"] {
        let mut files = Vec::new();
        collect(&repo_root().join(dir), &mut files);
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            similar_asserts(&path, &text, &format(&text));
        }
    }
}

fn similar_asserts(path: &Path, expected: &str, actual: &str) {
    if expected != actual {
        let diff = similar::TextDiff::from_lines(expected, actual);
        panic!("{} is not stable under formatting:\n{}", path.display(), diff.unified_diff());
    }
}
