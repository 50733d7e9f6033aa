//! The language server over its real protocol: the `conv lsp` binary driven over stdio with
//! JSON-RPC, one fixture program (tests/fixtures/lsp/main.conv), a snapshot per feature.

mod common;

use common::{repo_root, snapshot_settings};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_conv"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut s = Server { child, stdin, stdout, next_id: 1 };
        s.request("initialize", json!({ "capabilities": {} }));
        s.notify("initialized", json!({}));
        s
    }

    fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn read(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            let read = self.stdout.read_line(&mut line).unwrap();
            assert!(read > 0, "the server closed its output: it died");
            if line == "\r\n" {
                break;
            }
            if let Some(n) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = n.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.stdout.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its response, skipping notifications in between.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let msg = self.read();
            if msg["id"] == id {
                return msg;
            }
        }
    }

    fn diagnostics(&mut self) -> Value {
        loop {
            let msg = self.read();
            if msg["method"] == "textDocument/publishDiagnostics" {
                return msg["params"].clone();
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fixture copied into a fresh folder, so the server sees exactly one program.
fn fixture() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo_root().join("tests/fixtures/lsp/main.conv")).unwrap();
    let path = dir.path().join("main.conv");
    std::fs::write(&path, &text).unwrap();
    (dir, format!("file://{}", path.display()), text)
}

fn position(text: &str, needle: &str, offset: usize) -> Value {
    let at = text.find(needle).unwrap_or_else(|| panic!("{needle} not in fixture")) + offset;
    let line = text[..at].matches('\n').count();
    let column = at - text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    json!({ "line": line, "character": column })
}

/// Replaces the temporary folder in responses so snapshots are stable.
fn stable(value: &Value, dir: &tempfile::TempDir) -> String {
    serde_json::to_string_pretty(value)
        .unwrap()
        .replace(&dir.path().display().to_string(), "$DIR")
        .replace(&std::env::temp_dir().display().to_string(), "$TMP")
}

fn snapshot(name: &str, value: String) {
    let input = repo_root().join("tests/fixtures/lsp/main.conv");
    snapshot_settings("lsp", &input).bind(|| insta::assert_snapshot!(name.to_string(), value));
}

fn open(server: &mut Server, uri: &str, text: &str) -> Value {
    server.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "conv", "version": 1, "text": text } }),
    );
    server.diagnostics()
}

#[test]
fn diagnostics_arrive_on_open_and_follow_changes() {
    let (dir, uri, text) = fixture();
    let mut server = Server::start();
    let diags = open(&mut server, &uri, &text);
    assert_eq!(diags["diagnostics"][0]["code"], "E0201");
    snapshot("diagnostics_on_open", stable(&diags, &dir));
    let fixed = text.replace("db_prxy", "db_proxy");
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": fixed }] }),
    );
    let after = server.diagnostics();
    assert_eq!(after["diagnostics"], json!([]), "the fix clears the diagnostic");
}

#[test]
fn hover_shows_docs_and_schema_fields() {
    let (dir, uri, text) = fixture();
    let mut server = Server::start();
    open(&mut server, &uri, &text);
    let on_reference = server.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": position(&text, "db_proxy, api]", 2) }),
    );
    assert!(on_reference["result"]["contents"]["value"].as_str().unwrap().contains("The database proxy."));
    let on_field = server.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": position(&text, "depends_on", 3) }),
    );
    assert!(on_field["result"]["contents"]["value"].as_str().unwrap().contains("depends_on: List[Service] = []"));
    snapshot("hover", stable(&json!([on_reference["result"], on_field["result"]]), &dir));
}

#[test]
fn definition_lands_on_declarations_in_the_program_and_the_standard_library() {
    let (dir, uri, text) = fixture();
    let mut server = Server::start();
    open(&mut server, &uri, &text);
    let entity = server.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": uri }, "position": position(&text, "env = staging", 7) }),
    );
    assert_eq!(entity["result"]["range"]["start"], position(&text, "staging {", 0));
    let std_fn = server.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": uri }, "position": position(&text, "http_ok(window", 1) }),
    );
    let target = std_fn["result"]["uri"].as_str().unwrap();
    assert!(target.ends_with("std/gates.conv"), "{target}");
    let std_text = std::fs::read_to_string(target.strip_prefix("file://").unwrap()).unwrap();
    let line = std_fn["result"]["range"]["start"]["line"].as_u64().unwrap() as usize;
    assert!(std_text.lines().nth(line).unwrap().starts_with("fn http_ok("), "lands on the declaration");
    snapshot("definition", stable(&json!([entity["result"], std_fn["result"]]), &dir));
}

#[test]
fn references_and_rename_cover_every_use() {
    let (dir, uri, text) = fixture();
    let mut server = Server::start();
    open(&mut server, &uri, &text);
    let at = position(&text, "service db_proxy", 9);
    let refs = server.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": uri }, "position": at, "context": { "includeDeclaration": true } }),
    );
    assert_eq!(refs["result"].as_array().unwrap().len(), 2, "the declaration and the release's list: {refs}");
    let rename = server
        .request("textDocument/rename", json!({ "textDocument": { "uri": uri }, "position": at, "newName": "proxy" }));
    let edits = rename["result"]["changes"][&uri].as_array().unwrap();
    assert!(edits.iter().all(|e| e["newText"] == "proxy") && edits.len() == 2);
    let bad = server.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": uri }, "position": at, "newName": "not a name" }),
    );
    assert!(bad["error"].is_object(), "an invalid name is refused: {bad}");
    snapshot("references", stable(&refs["result"], &dir));
}

#[test]
fn completion_offers_schema_fields_names_and_templates() {
    let (_dir, uri, text) = fixture();
    let mut server = Server::start();
    open(&mut server, &uri, &text);
    let response = server.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri }, "position": position(&text, "  version = \"1.4.2\"", 0) }),
    );
    let labels: Vec<&str> =
        response["result"].as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap()).collect();
    for expected in ["replicas", "depends_on", "db_proxy", "staging", "http_ok", "latency_p99", "service"] {
        assert!(labels.contains(&expected), "{expected} missing from {labels:?}");
    }
}

#[test]
fn formatting_symbols_tokens_and_quick_fixes() {
    let (dir, uri, text) = fixture();
    let mut server = Server::start();
    let diags = open(&mut server, &uri, &text);
    let messy = text.replace("  version = \"2.0.1\"", "  version=\"2.0.1\"");
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": messy }] }),
    );
    server.diagnostics();
    let format = server.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(format["result"][0]["newText"].as_str().unwrap(), text, "formatting restores the canonical text");
    let symbols = server.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri } }));
    let names: Vec<&str> = symbols["result"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["staging", "db_proxy", "api", "storefront"]);
    let tokens = server.request("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": uri } }));
    assert!(tokens["result"]["data"].as_array().unwrap().len() > 100, "five numbers per token");
    let fix = server.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": diags["diagnostics"][0]["range"], "context": { "diagnostics": diags["diagnostics"] } }),
    );
    assert_eq!(fix["result"][0]["title"], "Change to `db_proxy`");
    snapshot("symbols_and_fix", stable(&json!({ "symbols": names, "fix": fix["result"] }), &dir));
}

#[test]
fn half_typed_input_and_bad_requests_leave_the_server_alive() {
    let (_dir, uri, _) = fixture();
    let mut server = Server::start();
    for partial in [
        "service api {\n  version = ",
        "service",
        "import std.",
        "fn f(",
        "\"${",
        "release r { strategy = rollout { stage",
    ] {
        server.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": 3 }, "contentChanges": [{ "text": partial }] }),
        );
        let hover = server.request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri }, "position": { "line": 0, "character": 3 } }),
        );
        assert!(hover.get("error").is_none() || hover["error"].is_object());
    }
    let unknown = server.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": "file:///nonexistent/x.conv" }, "position": { "line": 99, "character": 99 } }),
    );
    assert!(unknown.get("result").is_some() || unknown.get("error").is_some());
    let alive = server.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri } }));
    assert!(alive["result"].is_array(), "still answering: {alive}");
}

/// A small seeded generator, so a failure replays the same edits.
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// The nearest character boundary at or before `at`.
fn boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The lines of `text` as the Language Server Protocol counts them (ended by `\n`, `\r\n` or
/// a lone `\r`; U+2028 and U+2029 end none), each as the UTF-16 offsets a position may take
/// in it: the start of every character and the end of the line, never inside a surrogate pair.
fn lsp_lines(text: &str) -> Vec<Vec<usize>> {
    let mut lines = vec![vec![0]];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let last = lines.last_mut().unwrap();
        match c {
            '\r' if chars.peek() == Some(&'\n') => {
                chars.next();
                lines.push(vec![0]);
            }
            '\n' | '\r' => lines.push(vec![0]),
            c => {
                let at = *last.last().unwrap() + c.len_utf16();
                last.push(at);
            }
        }
    }
    lines
}

/// Every range of `value` that is not in another file's location lies within `lines`, on
/// positions a character may start at.
fn ranges_are_in(value: &Value, uri: &str, lines: &[Vec<usize>], path: &str) -> Result<(), String> {
    match value {
        Value::Object(map) => {
            if map.get("uri").and_then(Value::as_str).is_some_and(|u| u != uri)
                || map.get("targetUri").and_then(Value::as_str).is_some_and(|u| u != uri)
            {
                return Ok(());
            }
            if let (Some(line), Some(character)) =
                (map.get("line").and_then(Value::as_u64), map.get("character").and_then(Value::as_u64))
            {
                let (line, character) = (line as usize, character as usize);
                let valid = lines.get(line).is_some_and(|offsets| offsets.binary_search(&character).is_ok());
                if !valid {
                    let len = lines.get(line).and_then(|o| o.last()).copied();
                    return Err(format!(
                        "{path}: position {line}:{character} is not in the document ({} lines, this one {len:?} UTF-16 units long)",
                        lines.len()
                    ));
                }
            }
            for (key, v) in map {
                ranges_are_in(v, uri, lines, &format!("{path}.{key}"))?;
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                ranges_are_in(v, uri, lines, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Semantic tokens (relative lines and starts, lengths in UTF-16 units) within `lines`.
fn tokens_are_in(data: &[Value], lines: &[Vec<usize>]) -> Result<(), String> {
    let (mut line, mut start) = (0usize, 0usize);
    for (i, t) in data.chunks(5).enumerate() {
        let n = |k: usize| t.get(k).and_then(Value::as_u64).unwrap_or(0) as usize;
        if n(0) > 0 {
            line += n(0);
            start = n(1);
        } else {
            start += n(1);
        }
        let valid = lines
            .get(line)
            .is_some_and(|o| o.binary_search(&start).is_ok() && o.binary_search(&(start + n(2))).is_ok());
        if !valid {
            return Err(format!("token {i} at {line}:{start}, {} long, is not in the document", n(2)));
        }
    }
    Ok(())
}

/// Thousands of random edits, each followed by a random request at a random position (past
/// the end of a line or of the document, inside a surrogate pair): every request is
/// answered without an internal error, every position it answers with (ranges, locations,
/// edits, semantic tokens) is in the document as the protocol counts lines and UTF-16
/// units, and the server lives to the end.
#[test]
fn random_edits_and_requests_are_all_answered() {
    let (_dir, uri, fixture_text) = fixture();
    let mut server = Server::start();
    open(&mut server, &uri, &fixture_text);
    let mut rng = Random(0x2545_f491_4f6c_dd1d);
    let snippets = [
        "😀",
        "\u{2028}",
        "\u{2029}",
        "\r",
        "\r\n",
        "\t",
        "\0",
        "\u{200b}",
        "\u{202e}",
        "é",
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        "\"",
        "${",
        "=",
        ".",
        ",",
        "\n",
        "service",
        "let x = ",
        "if a then b else ",
        "- - - - x",
        "a + a + a",
        "99999999999999999999",
        "5min",
        "api",
        "std.gates.",
        "// comment\n",
    ];
    let methods = [
        "textDocument/hover",
        "textDocument/definition",
        "textDocument/completion",
        "textDocument/rename",
        "textDocument/formatting",
        "textDocument/semanticTokens/full",
        "textDocument/documentSymbol",
        "textDocument/references",
    ];
    let mut doc = fixture_text.clone();
    for version in 2..1_502 {
        let at = boundary(&doc, rng.below(doc.len() + 1));
        match rng.below(4) {
            0 => {
                let end = boundary(&doc, at + rng.below(40));
                doc.replace_range(at..end, "");
            }
            1 => {
                let end = boundary(&doc, at + rng.below(200));
                let copy = doc[at..end].to_string();
                doc.insert_str(at, &copy);
            }
            2 => doc.insert_str(at, &snippets[rng.below(snippets.len())].repeat(1 + rng.below(300))),
            _ => doc.insert_str(at, snippets[rng.below(snippets.len())]),
        }
        if doc.len() > 6_000 {
            doc = fixture_text.clone();
        }
        server.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": doc }] }),
        );
        let lines = doc.lines().count();
        let (line, character) = match rng.below(4) {
            // Inside a surrogate pair, where there is one.
            0 if doc.contains('😀') => {
                let at = doc.find('😀').unwrap_or(0);
                let start = doc[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
                (doc[..at].matches('\n').count(), doc[start..at].encode_utf16().count() + 1)
            }
            1 => (lines + rng.below(5), rng.below(10)),
            _ => (rng.below(lines + 1), rng.below(120)),
        };
        let method = methods[rng.below(methods.len())];
        let mut params =
            json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } });
        match method {
            "textDocument/rename" => params["newName"] = json!("renamed"),
            "textDocument/formatting" => params["options"] = json!({ "tabSize": 2, "insertSpaces": true }),
            "textDocument/references" => params["context"] = json!({ "includeDeclaration": true }),
            _ => {}
        }
        let response = server.request(method, params);
        assert!(
            response.get("result").is_some(),
            "edit {version}, {method} at {line}:{character}: {response}\n--- document:\n{doc}"
        );
        let lines = lsp_lines(&doc);
        let result = &response["result"];
        let checked = if method == "textDocument/semanticTokens/full" {
            tokens_are_in(result["data"].as_array().map_or(&[][..], |d| d.as_slice()), &lines)
        } else if method == "textDocument/formatting" {
            // Edits are ranges of the document before them; their new text is not.
            ranges_are_in(
                &json!(result.as_array().map(|e| e.iter().map(|e| e["range"].clone()).collect::<Vec<_>>())),
                &uri,
                &lines,
                "result",
            )
        } else {
            ranges_are_in(result, &uri, &lines, "result")
        };
        if let Err(e) = checked {
            panic!("edit {version}, {method} at {line}:{character}: {e}\n{response}\n--- document:\n{doc:?}");
        }
    }
    let alive = server.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri } }));
    assert!(alive["result"].is_array(), "still answering: {alive}");
}
