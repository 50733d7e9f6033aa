//! For the web view's tests: `conv serve` started and stopped with the test, JSON over
//! HTTP, and headless Chromium driven through chromedriver (WebDriver over HTTP).

use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Polls until `done` holds, for at most `limit`.
pub fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    false
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// A request's status and JSON body (`Null` when the body is not JSON).
pub fn call(method: &str, url: &str, body: Option<&Value>, bearer: Option<&str>) -> (u16, Value) {
    let agent = agent();
    let auth = bearer.map(|t| format!("Bearer {t}"));
    let response = match (method, body) {
        ("GET", _) => {
            let mut r = agent.get(url);
            if let Some(a) = &auth {
                r = r.header("authorization", a);
            }
            r.call()
        }
        ("DELETE", _) => agent.delete(url).call(),
        (_, b) => {
            let mut r = agent.post(url).header("content-type", "application/json");
            if let Some(a) = &auth {
                r = r.header("authorization", a);
            }
            r.send(b.map(Value::to_string).unwrap_or_else(|| "{}".into()))
        }
    };
    match response {
        Ok(mut r) => {
            let status = r.status().as_u16();
            let text = r.body_mut().with_config().limit(64 << 20).read_to_string().unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        }
        Err(e) => (0, json!({ "transport_error": e.to_string() })),
    }
}

/// A GET with another `Host` header, as a browser sends for a name that resolves here.
pub fn call_with_host(url: &str, host: &str) -> (u16, Value) {
    match agent().get(url).header("host", host).call() {
        Ok(mut r) => {
            let status = r.status().as_u16();
            (status, serde_json::from_str(&r.body_mut().read_to_string().unwrap_or_default()).unwrap_or(Value::Null))
        }
        Err(e) => (0, json!({ "transport_error": e.to_string() })),
    }
}

/// A child process killed when the test ends.
pub struct Running {
    pub child: Child,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `conv serve DIR --listen ADDR [extra]`, once it answers.
pub fn serve(dir: &Path, listen: &str, extra: &[&str], bearer: Option<&str>) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_conv"))
        .args(["serve", ".", "--listen", listen])
        .args(extra)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CONV_SERVE_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("conv serve starts");
    let running = Running { child };
    let port = listen.rsplit(':').next().unwrap_or_default();
    let url = format!("http://127.0.0.1:{port}/api/overview");
    assert!(
        eventually(Duration::from_secs(30), || call("GET", &url, None, bearer).0 != 0),
        "conv serve never answered on {listen}"
    );
    running
}

/// Headless Chromium through chromedriver; the browser closes when this drops.
pub struct Browser {
    base: String,
    _driver: Running,
    _profile: tempfile::TempDir,
}

fn element_id(v: &Value) -> Option<String> {
    v.as_object()?.values().next()?.as_str().map(str::to_string)
}

impl Browser {
    pub fn start(port: u16) -> Browser {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            assert!(
                Path::new(tool).exists(),
                "{tool} is missing: `apt-get install chromium chromium-driver` (.ci/run does)"
            );
        }
        let child = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Running { child };
        let base = format!("http://127.0.0.1:{port}");
        assert!(
            eventually(
                Duration::from_secs(20),
                || call("GET", &format!("{base}/status"), None, None).1["value"]["ready"] == true
            ),
            "chromedriver never became ready"
        );
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
        ];
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        all.push(format!("--user-data-dir={}", profile.path().display()));
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": all}}}});
        let (status, body) = call("POST", &format!("{base}/session"), Some(&caps), None);
        assert_eq!(status, 200, "no browser session: {body}");
        let session = body["value"]["sessionId"].as_str().expect("a session id").to_string();
        Browser { base: format!("{base}/session/{session}"), _driver: driver, _profile: profile }
    }

    fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let (status, out) = call(method, &format!("{}{path}", self.base), Some(&body), None);
        assert_eq!(status, 200, "WebDriver {method} {path} failed: {out}");
        out["value"].clone()
    }

    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", json!({ "url": url }));
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub fn script(&self, script: &str) -> Value {
        self.command("POST", "/execute/sync", json!({ "script": script, "args": [] }))
    }

    pub fn find(&self, css: &str) -> Option<String> {
        let (status, out) = call(
            "POST",
            &format!("{}/element", self.base),
            Some(&json!({"using": "css selector", "value": css})),
            None,
        );
        if status == 200 { element_id(&out["value"]) } else { None }
    }

    /// Waits for an element, then clicks it. The page redraws parts of itself as events
    /// arrive, so an element found may be replaced before the click: then it is found again.
    pub fn click(&self, css: &str) {
        let mut last = Value::Null;
        let clicked = eventually(Duration::from_secs(20), || {
            let Some(id) = self.find(css) else { return false };
            let (status, out) = call("POST", &format!("{}/element/{id}/click", self.base), Some(&json!({})), None);
            last = out;
            status == 200
        });
        assert!(clicked, "no element `{css}` could be clicked: {last}");
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).unwrap_or_else(|| panic!("no element `{css}`"));
        self.command("POST", &format!("/element/{id}/clear"), json!({}));
        self.command("POST", &format!("/element/{id}/value"), json!({ "text": text }));
    }

    /// Saves a PNG of the window and returns its size in bytes.
    pub fn screenshot(&self, path: &Path) -> usize {
        use base64_free::decode;
        let data = self.command("GET", "/screenshot", Value::Null);
        let bytes = decode(data.as_str().unwrap_or_default());
        std::fs::write(path, &bytes).unwrap();
        bytes.len()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        call("DELETE", &self.base, None, None);
    }
}

/// Base64 decoding for screenshots, without a dependency for it.
mod base64_free {
    pub fn decode(text: &str) -> Vec<u8> {
        let value = |c: u8| match c {
            b'A'..=b'Z' => Some(c - b'A'),
            b'a'..=b'z' => Some(c - b'a' + 26),
            b'0'..=b'9' => Some(c - b'0' + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        };
        let mut out = Vec::with_capacity(text.len() * 3 / 4);
        let (mut acc, mut bits) = (0u32, 0);
        for v in text.bytes().filter_map(value) {
            acc = (acc << 6) | u32::from(v);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
            }
        }
        out
    }
}
