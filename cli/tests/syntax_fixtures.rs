//! Every file under tests/fixtures/syntax is one case: its `// expect:` header lists the
//! diagnostic codes it must produce (or `ok`), and a snapshot shows the source with the
//! outline of its tree (valid cases) or its rendered, uncolored diagnostics (invalid ones).

mod common;

use common::{Expectation, fixtures, snapshot_settings};
use conv_compiler::Sources;

#[test]
fn syntax_fixtures() {
    let mut failures = Vec::new();
    for path in fixtures("syntax") {
        let text = std::fs::read_to_string(&path).unwrap();
        let expectation = Expectation::from_header(&text);
        let mut sources = Sources::new();
        let name = format!("syntax/{}", path.file_name().unwrap().to_string_lossy());
        let id = sources.add(name, text.clone());
        let parsed = conv_lang::parse(id, &text);
        let codes: Vec<&str> = parsed.diagnostics.iter().map(|d| d.code.id).collect();
        if codes != expectation.codes() {
            failures.push(format!("{}: expected {:?}, got {:?}", path.display(), expectation.codes(), codes));
        }
        let output = if parsed.diagnostics.is_empty() {
            conv_lang::dump::dump(&parsed.file)
        } else {
            conv_cli::render::human(&parsed.diagnostics, &sources, false)
        };
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        snapshot_settings("syntax", &path).bind(|| {
            insta::assert_snapshot!(stem, format!("{text}\n---\n{output}"));
        });
    }
    assert!(failures.is_empty(), "fixtures with unexpected codes:\n{}", failures.join("\n"));
}
