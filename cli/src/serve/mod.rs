//! `conv serve`: the web view of a project, served by conv itself. The page (plain HTML,
//! CSS and JS embedded in the binary) reads JSON endpoints and follows the journal through
//! server-sent events, so an apply in another process shows live. Approve and roll back go
//! through the same operations as the command line.
//!
//! **Access:** on a loopback address without a token, anyone on this machine may read and
//! operate. With a token (`--token` or `CONV_SERVE_TOKEN`), every request must carry it.
//! On another address without a token, the page is read-only.

mod api;
mod tracker;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use conv_model::Program;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub struct App {
    pub root: PathBuf,
    /// The program as last compiled; `refresh_program` compiles it again when its files change.
    program: Mutex<Arc<Program>>,
    path: PathBuf,
    set: Vec<String>,
    stamp: Mutex<(std::time::Instant, Stamp)>,
    /// Why the files as they are now do not compile, while the last program that did is shown.
    pub program_error: Mutex<Option<String>>,
    pub token: Option<String>,
    pub writable: bool,
    pub tracker: Mutex<tracker::Tracker>,
    pub snapshot: Mutex<Option<api::Snapshot>>,
    pub observing: tokio::sync::Mutex<()>,
    page: String,
}

/// The program's files with their sizes and modification times.
type Stamp = Vec<(PathBuf, u64, Option<std::time::SystemTime>)>;

fn stamp(path: &Path) -> Stamp {
    let files = conv_cli::load::conv_files(path).unwrap_or_default();
    files
        .into_iter()
        .map(|f| {
            let meta = std::fs::metadata(&f).ok();
            let size = meta.as_ref().map(|m| m.len()).unwrap_or(0);
            (f, size, meta.and_then(|m| m.modified().ok()))
        })
        .collect()
}

impl App {
    pub fn program(&self) -> Arc<Program> {
        match self.program.lock() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Compiles the program again when its files changed (looked at most every 2 seconds),
    /// so that the page follows edits; blocking. Until the files compile, the last program
    /// that did stays, and `program_error` says why.
    pub fn refresh_program(&self) {
        let Ok(mut last) = self.stamp.lock() else { return };
        if last.0.elapsed() < std::time::Duration::from_secs(2) {
            return;
        }
        let now = stamp(&self.path);
        last.0 = std::time::Instant::now();
        if now == last.1 {
            return;
        }
        last.1 = now;
        let compiled = crate::commands::runtime::compile(&self.path, &self.set, false);
        let error = match compiled {
            Ok(program) => {
                if let Ok(mut p) = self.program.lock() {
                    *p = Arc::new(program);
                }
                None
            }
            Err(_) => Some("the program's files have errors now (the server's log shows them); this is the last program that compiled".to_string()),
        };
        if let Ok(mut e) = self.program_error.lock() {
            *e = error;
        }
    }
}

/// The page with its style and script inlined: one request, which alone carries the token.
fn page() -> String {
    include_str!("assets/index.html")
        .replace("/*STYLE*/", include_str!("assets/style.css"))
        .replace("/*SCRIPT*/", include_str!("assets/app.js"))
}

/// Whether a request carries the token: `Authorization: Bearer T` or `?token=T`.
fn carries(req: &Request, token: &str) -> bool {
    let header = req.headers().get("authorization").and_then(|v| v.to_str().ok());
    if header.and_then(|h| h.strip_prefix("Bearer ")) == Some(token) {
        return true;
    }
    req.uri().query().unwrap_or_default().split('&').any(|kv| kv.strip_prefix("token=") == Some(token))
}

/// Without a token, operations are open to pages of this machine only: a `Host` that is an
/// address or `localhost` keeps another site's page (DNS rebinding) from reaching the server
/// through a browser.
fn loopback_host(req: &Request) -> bool {
    let host = req.headers().get("host").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    name == "localhost" || name.parse::<std::net::IpAddr>().is_ok()
}

async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    if app.token.is_none() && app.writable && !loopback_host(&req) {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(
                serde_json::json!({"error": "open this conv serve by its address (127.0.0.1), or give it a --token"}),
            ),
        )
            .into_response();
    }
    match &app.token {
        Some(token) if !carries(&req, token) => (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({"error": "this conv serve needs its token: open the URL it printed, or send `Authorization: Bearer TOKEN`"})),
        )
            .into_response(),
        _ => next.run(req).await,
    }
}

async fn index(State(app): State<Arc<App>>) -> impl IntoResponse {
    ([("content-type", "text/html; charset=utf-8"), ("cache-control", "no-store")], app.page.clone())
}

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/api/overview", get(api::overview))
        .route("/api/sites", get(api::sites))
        .route("/api/grid", get(api::grid))
        .route("/api/gates", get(api::gates))
        .route("/api/history", get(api::history))
        .route("/api/graph.svg", get(api::graph_svg))
        .route("/api/events", get(api::events))
        .route("/api/approve", post(api::approve))
        .route("/api/rollback", post(api::rollback))
        .layer(axum::middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

pub fn serve_cmd(
    runtime: &tokio::runtime::Handle,
    path: &Path,
    set: &[String],
    listen: &str,
    token: Option<String>,
    color: bool,
) -> u8 {
    use crate::commands::{FAILED, OK};
    let program = match crate::commands::runtime::compile(path, set, color) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let addr: SocketAddr = match listen.parse() {
        Ok(a) => a,
        Err(_) => {
            eprintln!("error: `--listen {listen}` is not an address and port such as 127.0.0.1:4800");
            return FAILED;
        }
    };
    let token = token.filter(|t| !t.is_empty());
    let writable = token.is_some() || addr.ip().is_loopback();
    let root = crate::commands::runtime::root_of(path);
    let root = root.canonicalize().unwrap_or(root);
    let app = Arc::new(App {
        tracker: Mutex::new(tracker::Tracker::new(&root)),
        snapshot: Mutex::new(None),
        observing: tokio::sync::Mutex::new(()),
        root,
        program: Mutex::new(Arc::new(program)),
        stamp: Mutex::new((std::time::Instant::now(), stamp(path))),
        path: path.to_path_buf(),
        set: set.to_vec(),
        program_error: Mutex::new(None),
        token: token.clone(),
        writable,
        page: page(),
    });
    // The journal is read off the server's threads, a few times a second.
    let follower = app.clone();
    std::thread::spawn(move || {
        loop {
            if let Ok(mut t) = follower.tracker.lock() {
                t.poll();
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
    });
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(err) => {
                eprintln!("error: cannot listen on {addr}: {err}");
                return FAILED;
            }
        };
        let shown = listener.local_addr().unwrap_or(addr);
        let query = token.as_ref().map(|t| format!("?token={t}")).unwrap_or_default();
        eprintln!("serving the web view of {} at http://{shown}/{query}", app.root.display());
        if !writable {
            eprintln!("read-only: approving and rolling back from the page need `--token` (or CONV_SERVE_TOKEN) on a non-loopback address");
        }
        eprintln!("stop with Ctrl-C");
        match axum::serve(listener, router(app)).await {
            Ok(()) => OK,
            Err(err) => {
                eprintln!("error: the server stopped: {err}");
                FAILED
            }
        }
    })
}
