//! Parsing never fails and never panics, whatever it is fed; formatting what parsed is
//! stable. Random bytes, random token soups, and pathological shapes.

use conv_lang::{FileId, fmt, parse};
use proptest::prelude::*;

fn parse_and_maybe_format(text: &str) {
    let parsed = parse(FileId(0), text);
    for d in &parsed.diagnostics {
        assert!(
            d.primary.span.start <= d.primary.span.end && d.primary.span.end <= text.len(),
            "span out of range: {d:?}"
        );
    }
    if !parsed.has_errors() {
        let once = fmt::format(text, &parsed);
        let reparsed = parse(FileId(0), &once);
        assert!(!reparsed.has_errors(), "formatting produced errors for {text:?}:\n{once}\n{:?}", reparsed.diagnostics);
        assert_eq!(fmt::format(&once, &reparsed), once, "not idempotent for {text:?}");
    }
}

/// Keywords, names, punctuation, literals, comments and junk.
fn soup() -> Vec<&'static str> {
    let mut parts: Vec<&'static str> = conv_lang::token::KEYWORDS.to_vec();
    parts.extend([
        "api",
        "x",
        "stage",
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        ",",
        ":",
        "=",
        ".",
        "->",
        "?",
        "+",
        "-",
        "*",
        "/",
        "==",
        "<",
        ">=",
        "5m",
        "1%",
        "2Gi",
        "3",
        "1.5",
        "\"s\"",
        "\"a${x}b\"",
        "\"${",
        "\"",
        "//c\n",
        "///d\n",
        "\n",
        " ",
        "'",
        "@",
        "5min",
        "\\",
    ]);
    parts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        parse_and_maybe_format(&text);
    }

    #[test]
    fn token_soup_never_panics(picks in proptest::collection::vec(0..60usize, 0..120)) {
        let soup = soup();
        let text: String = picks.iter().map(|i| soup[*i % soup.len()]).collect::<Vec<_>>().join(" ");
        parse_and_maybe_format(&text);
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    for (open, close) in [("[", "]"), ("(", ")"), ("{", "}")] {
        let text = format!("let x = {}{}", open.repeat(20_000), close.repeat(20_000));
        let parsed = parse(FileId(0), &text);
        assert!(parsed.diagnostics.iter().any(|d| d.code.id == "E0107"), "{open}: {:?}", parsed.diagnostics.first());
    }
    let unclosed = format!("let x = {}", "[".repeat(20_000));
    let parsed = parse(FileId(0), &unclosed);
    assert!(parsed.has_errors());
}

#[test]
fn nesting_within_the_limit_parses() {
    let text = format!("let x = {}1{}", "[".repeat(200), "]".repeat(200));
    let parsed = parse(FileId(0), &text);
    assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
}

#[test]
fn empty_and_comment_only_files_are_fine() {
    for text in ["", "\n\n", "// only a comment\n", "/// a doc comment with nothing below"] {
        let parsed = parse(FileId(0), text);
        assert!(parsed.diagnostics.is_empty(), "{text:?}: {:?}", parsed.diagnostics);
        assert!(parsed.file.items.is_empty());
        assert_eq!(fmt::format(text, &parsed).trim(), text.trim());
    }
}

#[test]
fn interpolation_cut_by_a_newline_reports_one_error() {
    let parsed = parse(FileId(0), "let s = \"a ${x\nlet t = 1\n");
    let codes: Vec<_> = parsed.diagnostics.iter().map(|d| d.code.id).collect();
    assert_eq!(codes, ["E0102"]);
    assert_eq!(parsed.file.items.len(), 2, "the next declaration still parses");
}

/// Every shape that nests without brackets, far past the limit: refused with E0107, and the
/// next declaration still parses.
#[test]
fn chains_without_brackets_are_refused_not_overflowed() {
    let n = 100_000;
    let shapes = [
        format!("let x = {}1{}", "if true then 1 else ".repeat(n), ""),
        format!("let x = {}x", "- ".repeat(n)),
        format!("let x = {}x", "not ".repeat(n)),
        format!("let x = a{}", " + a".repeat(n)),
        format!("let x = a{}", ".b".repeat(n)),
        format!("let x = f{}", "()".repeat(n)),
        format!("let x = {}", "if ".repeat(n)),
        format!("let x = \"{}\"", "${\"".repeat(n)),
    ];
    for shape in shapes {
        let text = format!("{shape}\nlet y = 1\n");
        let parsed = parse(FileId(0), &text);
        let codes: Vec<_> = parsed.diagnostics.iter().map(|d| d.code.id).collect();
        assert!(codes.contains(&"E0107"), "{}: {codes:?}", &shape[..40]);
        let names: Vec<_> = parsed
            .file
            .items
            .iter()
            .filter_map(|i| match &i.kind {
                conv_lang::ast::ItemKind::Let(l) => Some(l.name.name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["x", "y"], "{}", &shape[..40]);
    }
}

/// Long flat shapes are not nesting: a list of many elements and a record of many fields.
#[test]
fn long_lists_and_records_are_not_too_deep() {
    let list = format!("let x = [{}]", "a + b.c, ".repeat(5_000));
    let record = format!("service s {{ {} }}", "f = if a then b.c else d + e ".repeat(5_000));
    for text in [list, record] {
        let parsed = parse(FileId(0), &text);
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics.first());
    }
}

#[test]
fn chains_within_the_limit_parse() {
    let text = format!("let x = a{}\nlet y = {}1\n", " + a".repeat(200), "if a then 1 else ".repeat(200));
    let parsed = parse(FileId(0), &text);
    assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
}

/// A broken bracket before a long chain: recovery would build the chain's deep tree, so the
/// depth is counted past the broken bracket too.
#[test]
fn chains_after_a_broken_bracket_are_refused() {
    let text = format!("service s {{\n  a = [x, y]]\n  b = a{}\n}}\nlet y = 1\n", " + a".repeat(50_000));
    let parsed = std::thread::spawn(move || parse(FileId(0), &text)).join().expect("no overflow");
    let codes: Vec<_> = parsed.diagnostics.iter().map(|d| d.code.id).collect();
    assert!(codes.contains(&"E0107"), "{codes:?}");
    assert_eq!(parsed.file.items.len(), 2);
}
