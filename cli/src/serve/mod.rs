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
    pub program: Program,
    pub token: Option<String>,
    pub writable: bool,
    pub tracker: Mutex<tracker::Tracker>,
    pub snapshot: Mutex<Option<api::Snapshot>>,
    pub observing: tokio::sync::Mutex<()>,
    page: String,
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

pub fn serve_cmd(path: &Path, set: &[String], listen: &str, token: Option<String>, color: bool) -> u8 {
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
        program,
        token: token.clone(),
        writable,
        page: page(),
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(err) => {
            eprintln!("error: cannot start the server: {err}");
            return FAILED;
        }
    };
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
