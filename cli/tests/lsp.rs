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
        Server::start_with(json!({ "capabilities": {} }))
    }

    fn start_with(initialize: Value) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_conv"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut s = Server { child, stdin, stdout, next_id: 1 };
        s.request("initialize", initialize);
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

fn labels(response: &Value) -> Vec<String> {
    let items = response["result"].as_array().unwrap_or_else(|| panic!("no completion list: {response}"));
    items.iter().map(|i| i["label"].as_str().unwrap().to_string()).collect()
}

fn complete(server: &mut Server, uri: &str, at: Value) -> Value {
    server.request("textDocument/completion", json!({ "textDocument": { "uri": uri }, "position": at }))
}

#[test]
fn completion_follows_the_context() {
    let (dir, uri, text) = fixture();
    let mut server = Server::start();
    open(&mut server, &uri, &text);
    // At the start of an entry of a service: the fields it does not write yet.
    let fields = labels(&complete(&mut server, &uri, position(&text, "  version = \"1.4.2\"", 0)));
    assert_eq!(fields, ["replicas", "config", "secrets", "ports"], "ServiceSpec less run, version, depends_on, gates");
    // Between declarations: the keywords a declaration starts with, and nothing else.
    let top = labels(&complete(&mut server, &uri, position(&text, "\nservice api", 1)));
    assert_eq!(top, ["environment", "service", "release", "import", "let", "fn", "type", "enum"]);
    // After `env =`: the environments.
    let envs = labels(&complete(&mut server, &uri, position(&text, "env = staging", 6)));
    assert_eq!(envs, ["staging"]);
    // In `depends_on = [`: the services.
    let services = labels(&complete(&mut server, &uri, position(&text, "depends_on = [", 14)));
    assert_eq!(services, ["db_proxy", "api"]);
    // In a `stage` block of a release's rollout: Stage's fields less `name`, `env`, `bake`.
    let stage = labels(&complete(&mut server, &uri, position(&text, "staging, bake", 9)));
    assert_eq!(stage, ["fraction", "max_parallel", "max_failures", "gates"]);
    // In `gates = [`: Gate's variants and the functions that return a Gate; the ones not
    // imported yet bring their import, into the existing `import std.gates.{...}`.
    let gates = complete(&mut server, &uri, position(&text, "gates = [http_ok", 9));
    let names = labels(&gates);
    for expected in ["latency", "http", "http_ok", "latency_p99", "max_error_rate", "manual_approval"] {
        assert!(names.contains(&expected.to_string()), "{expected} missing from {names:?}");
    }
    assert!(!names.iter().any(|n| n == "service" || n == "staging" || n == "progressive"), "{names:?}");
    let item = |response: &Value, label: &str| {
        response["result"].as_array().unwrap().iter().find(|i| i["label"] == label).cloned().unwrap()
    };
    assert_eq!(item(&gates, "http_ok").get("additionalTextEdits"), None, "already imported");
    let edit = &item(&gates, "latency_p99")["additionalTextEdits"][0];
    assert_eq!(edit["newText"], ", latency_p99");
    assert_eq!(edit["range"]["start"], json!({ "line": 0, "character": 25 }));
    // Without an import of std.gates, a new import line at the top.
    let bare = text.replacen("import std.gates.{http_ok}\n", "", 1);
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": bare }] }),
    );
    server.diagnostics();
    let fresh = complete(&mut server, &uri, position(&bare, "gates = [http_ok", 9));
    let edit = &item(&fresh, "latency_p99")["additionalTextEdits"][0];
    assert_eq!(edit["newText"], "import std.gates.{latency_p99}\n\n");
    assert_eq!(edit["range"]["start"], json!({ "line": 0, "character": 0 }));
    let summary: Vec<Value> = gates["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| json!({ "label": i["label"], "kind": i["kind"], "detail": i["detail"], "additionalTextEdits": i["additionalTextEdits"] }))
        .collect();
    snapshot("completion_gates", stable(&json!(summary), &dir));
}

#[test]
fn signature_help_shows_parameters_and_the_active_one() {
    let (_dir, uri, text) = fixture();
    let mut server = Server::start();
    open(&mut server, &uri, &text);
    let named = server.request(
        "textDocument/signatureHelp",
        json!({ "textDocument": { "uri": uri }, "position": position(&text, "window: 1s", 8) }),
    );
    let signature = &named["result"]["signatures"][0];
    let label = signature["label"].as_str().unwrap();
    assert_eq!(label, "http_ok(path: String = \"/healthz\", timeout: Duration = 2s, window: Duration = 10s) -> Gate");
    assert_eq!(named["result"]["activeParameter"], 2, "the named argument `window`: {named}");
    let offsets = &signature["parameters"][2]["label"];
    let (a, b) = (offsets[0].as_u64().unwrap() as usize, offsets[1].as_u64().unwrap() as usize);
    assert_eq!(&label[a..b], "window: Duration = 10s");
    assert!(signature["documentation"].as_str().unwrap().contains("2xx"), "{signature}");
    // By position: the second argument after one comma.
    let positional = text.replacen("http_ok(window: 1s)", "latency_p99(1s, )", 1);
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": positional }] }),
    );
    server.diagnostics();
    let second = server.request(
        "textDocument/signatureHelp",
        json!({ "textDocument": { "uri": uri }, "position": position(&positional, "latency_p99(1s, ", 16) }),
    );
    assert!(second["result"]["signatures"][0]["label"].as_str().unwrap().starts_with("latency_p99(under: Duration"));
    assert_eq!(second["result"]["activeParameter"], 1);
    // Outside a call: nothing.
    let none = server.request(
        "textDocument/signatureHelp",
        json!({ "textDocument": { "uri": uri }, "position": position(&positional, "version", 0) }),
    );
    assert_eq!(none["result"], Value::Null);
}

#[test]
fn document_highlight_marks_the_declaration_and_its_uses() {
    let (_dir, uri, text) = fixture();
    let mut server = Server::start();
    open(&mut server, &uri, &text);
    let request = |server: &mut Server, at: Value| {
        server.request("textDocument/documentHighlight", json!({ "textDocument": { "uri": uri }, "position": at }))
    };
    let proxy = request(&mut server, position(&text, "db_proxy, api]", 1));
    assert_eq!(
        proxy["result"],
        json!([
            { "kind": 3, "range": { "start": position(&text, "db_proxy {", 0), "end": position(&text, "db_proxy {", 8) } },
            { "kind": 2, "range": { "start": position(&text, "db_proxy, api]", 0), "end": position(&text, "db_proxy, api]", 8) } },
        ])
    );
    // A standard-library name: its import and its two calls, all reads.
    let http_ok = request(&mut server, position(&text, "http_ok}", 2));
    let kinds: Vec<&Value> = http_ok["result"].as_array().unwrap().iter().map(|h| &h["kind"]).collect();
    assert_eq!(kinds, [&json!(2), &json!(2), &json!(2)], "{http_ok}");
    let nothing = request(&mut server, position(&text, "\"1.4.2\"", 2));
    assert_eq!(nothing["result"], Value::Null);
}

#[test]
fn folding_ranges_cover_blocks_lists_comments_and_imports() {
    let (_dir, uri, text) = fixture();
    let mut server = Server::start();
    let commented = format!("// Two lines\n// of comment.\nimport std.rollout\n{text}");
    open(&mut server, &uri, &commented);
    let folds = server.request("textDocument/foldingRange", json!({ "textDocument": { "uri": uri } }));
    let ranges: Vec<(u64, u64, String)> = folds["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (r["startLine"].as_u64().unwrap(), r["endLine"].as_u64().unwrap(), r["kind"].as_str().unwrap_or("").into())
        })
        .collect();
    let line = |needle: &str| commented[..commented.find(needle).unwrap()].matches('\n').count() as u64;
    let expected = vec![
        (0, 1, "comment".to_string()),
        (2, 3, "imports".to_string()),
        (line("environment staging"), line("environment staging") + 1, String::new()),
        (line("service db_proxy"), line("service api") - 3, String::new()),
        (line("service api"), line("release storefront") - 3, String::new()),
        (line("release storefront"), line("release storefront") + 4, String::new()),
        (line("strategy = rollout"), line("strategy = rollout") + 1, String::new()),
    ];
    assert_eq!(ranges, expected);
}

#[test]
fn inlay_hints_show_the_defaults_left_out() {
    let (dir, uri, text) = fixture();
    let mut server = Server::start();
    open(&mut server, &uri, &text);
    let hints = server.request(
        "textDocument/inlayHint",
        json!({ "textDocument": { "uri": uri }, "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 99, "character": 0 } } }),
    );
    let shown: Vec<(Value, &str)> = hints["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["position"].clone(), h["label"].as_str().unwrap()))
        .collect();
    assert_eq!(
        shown,
        [
            (position(&text, "staging {", 9), "provider = local {}"),
            (position(&text, "storefront {", 12), "on_failure = rollback"),
            (position(&text, "all {", 5), "fraction = 100%, max_failures = 0%"),
        ]
    );
    // Only the hints in the range asked for.
    let first_lines = server.request(
        "textDocument/inlayHint",
        json!({ "textDocument": { "uri": uri }, "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 10, "character": 0 } } }),
    );
    assert_eq!(first_lines["result"].as_array().unwrap().len(), 1);
    snapshot("inlay_hints", stable(&hints["result"], &dir));
}

#[test]
fn prepare_rename_and_rename_refuse_what_cannot_change() {
    let (_dir, uri, text) = fixture();
    let mut server = Server::start();
    open(&mut server, &uri, &text);
    let prepare = |server: &mut Server, at: Value| {
        server.request("textDocument/prepareRename", json!({ "textDocument": { "uri": uri }, "position": at }))
    };
    let ok = prepare(&mut server, position(&text, "db_proxy, api]", 3));
    assert_eq!(
        ok["result"],
        json!({ "range": { "start": position(&text, "db_proxy, api]", 0), "end": position(&text, "db_proxy, api]", 8) }, "placeholder": "db_proxy" })
    );
    for (at, message) in [
        (position(&text, "service api", 2), "`service` is a keyword"),
        (position(&text, "\"1.4.2\"", 2), "a literal cannot be renamed"),
        (position(&text, "http_ok(window", 2), "`http_ok` is declared in the standard library"),
        (position(&text, "version = \"1.4.2\"", 2), "`version` is a field"),
    ] {
        let refused = prepare(&mut server, at);
        assert_eq!(refused["error"]["code"], -32803, "{refused}");
        assert!(refused["error"]["message"].as_str().unwrap().starts_with(message), "{refused}");
    }
    let rename = |server: &mut Server, at: Value, name: &str| {
        server
            .request("textDocument/rename", json!({ "textDocument": { "uri": uri }, "position": at, "newName": name }))
    };
    let clash = rename(&mut server, position(&text, "service db_proxy", 9), "api");
    assert_eq!(clash["error"]["code"], -32803, "{clash}");
    assert_eq!(
        clash["error"]["message"],
        "cannot rename `db_proxy` to `api`: `api` is already declared in main.conv and visible in main.conv"
    );
    let clash_env = rename(&mut server, position(&text, "environment staging", 13), "storefront");
    assert!(
        clash_env["error"]["message"].as_str().unwrap().contains("`storefront` is already declared"),
        "{clash_env}"
    );
    let prelude = rename(&mut server, position(&text, "environment staging", 13), "Gate");
    assert!(prelude["error"]["message"].as_str().unwrap().contains("standard library"), "{prelude}");
    let invalid = rename(&mut server, position(&text, "service db_proxy", 9), "9lives");
    assert_eq!(invalid["error"]["code"], -32602, "{invalid}");
    let std_name = rename(&mut server, position(&text, "http_ok(window", 2), "ok");
    assert_eq!(std_name["error"]["code"], -32803, "{std_name}");
    let fine = rename(&mut server, position(&text, "service db_proxy", 9), "proxy");
    assert_eq!(fine["result"]["changes"][&uri].as_array().unwrap().len(), 2, "{fine}");
    // A name a use would be captured by: a parameter of the function, a `for` variable.
    let locals = format!(
        "{text}\nlet size = 1s\nfn gate(w: Duration) -> Gate = http_ok(window: size)\nlet all = [for v in [1]: size]\n"
    );
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": locals }] }),
    );
    server.diagnostics();
    let at = position(&locals, "let size", 4);
    let param = rename(&mut server, at.clone(), "w");
    assert_eq!(
        param["error"]["message"], "cannot rename `size` to `w`: `w` is a parameter of `gate`, which uses `size`",
        "{param}"
    );
    let var = rename(&mut server, at.clone(), "v");
    assert_eq!(var["error"]["message"], "cannot rename `size` to `v`: `v` is a `for` variable where `size` is used");
    let free = rename(&mut server, at, "span");
    assert_eq!(free["result"]["changes"][&uri].as_array().unwrap().len(), 3, "{free}");
}

/// Copies a fixture folder, subfolders included, into a fresh temporary folder.
fn fixture_dir(name: &str) -> tempfile::TempDir {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let target = to.join(path.file_name().unwrap());
            if path.is_dir() {
                copy(&path, &target);
            } else {
                std::fs::copy(&path, &target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&repo_root().join("tests/fixtures/lsp").join(name), dir.path());
    dir
}

/// A module in a subfolder (`lib/gates.conv`, imported as `lib.gates` and itself importing
/// `lib.windows`) is checked in the editor as `conv check` checks the program's folder:
/// no errors, whether the file opened is the root's or the subfolder's.
#[test]
fn subfolder_modules_resolve_as_conv_check_resolves_them() {
    let dir = fixture_dir("subfolder");
    let check = Command::new(env!("CARGO_BIN_EXE_conv")).arg("check").current_dir(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(check.status.success() && stderr.contains(".: ok"), "conv check: {stderr}");
    for opened in ["lib/gates.conv", "main.conv", "lib/windows.conv"] {
        let mut server = Server::start();
        let path = dir.path().join(opened);
        let uri = format!("file://{}", path.display());
        let text = std::fs::read_to_string(&path).unwrap();
        server.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "conv", "version": 1, "text": text } }),
        );
        // One notification per file of the program, all empty.
        let mut published = Vec::new();
        while published.len() < 3 {
            let d = server.diagnostics();
            assert_eq!(d["diagnostics"], json!([]), "opening {opened}: {}", stable(&d, &dir));
            published.push(d["uri"].as_str().unwrap().replace(&dir.path().display().to_string(), "$DIR"));
        }
        published.sort();
        assert_eq!(published, ["file://$DIR/lib/gates.conv", "file://$DIR/lib/windows.conv", "file://$DIR/main.conv"]);
        // Navigation crosses the folders: `short` in lib/gates.conv is declared in lib/windows.conv.
        if opened == "lib/gates.conv" {
            let def = server.request(
                "textDocument/definition",
                json!({ "textDocument": { "uri": uri }, "position": position(&text, "window: short", 9) }),
            );
            assert!(def["result"]["uri"].as_str().unwrap().ends_with("lib/windows.conv"), "{def}");
        }
    }
}

#[test]
fn workspace_symbols_list_the_declarations_of_the_program() {
    let dir = fixture_dir("subfolder");
    let root = format!("file://{}", dir.path().display());
    let mut server =
        Server::start_with(json!({ "capabilities": {}, "workspaceFolders": [{ "uri": root, "name": "subfolder" }] }));
    let query = |server: &mut Server, q: &str| {
        let response = server.request("workspace/symbol", json!({ "query": q }));
        response["result"]
            .as_array()
            .unwrap_or_else(|| panic!("{response}"))
            .iter()
            .map(|s| {
                let uri = s["location"]["uri"].as_str().unwrap().replace(&root, "");
                format!("{} {} {}", s["name"].as_str().unwrap(), s["kind"], uri)
            })
            .collect::<Vec<_>>()
    };
    // Before any file is open: the workspace folder's files.
    assert_eq!(
        query(&mut server, ""),
        [
            "standard 14 /lib/gates.conv",
            "short 14 /lib/windows.conv",
            "staging 3 /main.conv",
            "api 5 /main.conv",
            "storefront 4 /main.conv",
        ]
    );
    // Letters in order, any case; an open buffer's unsaved text is what is listed.
    assert_eq!(query(&mut server, "StG"), ["staging 3 /main.conv"]);
    let main = dir.path().join("main.conv");
    let text = std::fs::read_to_string(&main)
        .unwrap()
        .replace("service api", "service checkout")
        .replace("[api]", "[checkout]");
    server.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": format!("file://{}", main.display()), "languageId": "conv", "version": 1, "text": text } }),
    );
    server.diagnostics();
    assert_eq!(query(&mut server, "check"), ["checkout 5 /main.conv"]);
    assert_eq!(query(&mut server, "zzz"), Vec::<String>::new());
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
/// answered without an internal error (a rename may be refused with a message), every position it answers with (ranges, locations,
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
        "textDocument/signatureHelp",
        "textDocument/documentHighlight",
        "textDocument/prepareRename",
        "textDocument/inlayHint",
        "textDocument/foldingRange",
        "workspace/symbol",
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
            "textDocument/inlayHint" => {
                params["range"] =
                    json!({ "start": { "line": 0, "character": 0 }, "end": { "line": line, "character": character } })
            }
            "workspace/symbol" => {
                let query = ["", "a", "st", "zz"][rng.below(4)];
                params = json!({ "query": query })
            }
            _ => {}
        }
        let response = server.request(method, params);
        // A rename may be refused (a keyword, a literal, a standard-library name), with a
        // message; nothing may fail otherwise.
        let refused = response["error"]["code"] == -32803
            && matches!(method, "textDocument/rename" | "textDocument/prepareRename");
        assert!(
            response.get("result").is_some() || refused,
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
