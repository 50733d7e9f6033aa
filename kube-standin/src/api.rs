//! The REST paths of the Kubernetes API that conv uses, as the API server answers them,
//! plus `/standin/...` to stage an outage and count writes.

use crate::store::Store;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub type Shared = Arc<Mutex<Store>>;

pub fn router(store: Shared) -> Router {
    Router::new()
        .route("/version", get(version))
        .route("/api/v1/namespaces/{ns}", get(namespace))
        .route("/apis/apps/v1/namespaces/{ns}/deployments", get(list_deployments))
        .route(
            "/apis/apps/v1/namespaces/{ns}/deployments/{name}",
            get(get_deployment).patch(patch_deployment).delete(delete_deployment),
        )
        .route("/api/v1/namespaces/{ns}/pods", get(list_pods))
        .route("/api/v1/namespaces/{ns}/secrets", get(list_secrets))
        .route("/api/v1/namespaces/{ns}/secrets/{name}", get(get_secret).patch(patch_secret).delete(delete_secret))
        .route("/api/v1/namespaces/{ns}/pods/{pod}/proxy", get(proxy_root))
        .route("/api/v1/namespaces/{ns}/pods/{pod}/proxy/{*rest}", get(proxy))
        .layer(middleware::from_fn_with_state(store.clone(), outage))
        .route("/standin/outage", post(stage_outage))
        .route("/standin/writes", get(writes))
        .route("/standin/unpullable", post(unpullable))
        .route("/standin/erring", post(erring))
        .with_state(store)
}

fn status(code: StatusCode, reason: &str, message: String) -> Response {
    let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code.as_u16()});
    (code, axum::Json(body)).into_response()
}

fn not_found(kind: &str, name: &str) -> Response {
    status(StatusCode::NOT_FOUND, "NotFound", format!("{kind}.apps \"{name}\" not found"))
}

/// Answers every API request with the staged error while an outage lasts.
async fn outage(State(store): State<Shared>, request: Request, next: Next) -> Response {
    let staged = {
        let mut s = store.lock().unwrap();
        match s.outage {
            Some((n, code)) if n > 0 => {
                s.outage = (n > 1).then_some((n - 1, code));
                Some(code)
            }
            _ => None,
        }
    };
    match staged {
        Some(code) => {
            let code = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let (reason, message) = match code.as_u16() {
                401 => ("Unauthorized", "Unauthorized"),
                403 => {
                    ("Forbidden", "deployments.apps is forbidden: User \"conv\" cannot list resource \"deployments\"")
                }
                429 => {
                    ("TooManyRequests", "the server has received too many requests and has asked us to try again later")
                }
                _ => ("ServiceUnavailable", "the server is currently unable to handle the request"),
            };
            status(code, reason, message.into())
        }
        None => next.run(request).await,
    }
}

async fn version() -> Response {
    axum::Json(json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0-conv-standin", "platform": "linux/amd64"}))
        .into_response()
}

async fn namespace(Path(ns): Path<String>) -> Response {
    axum::Json(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}, "status": {"phase": "Active"}}),
    )
    .into_response()
}

fn selector(query: &HashMap<String, String>) -> &str {
    query.get("labelSelector").map(String::as_str).unwrap_or("")
}

fn list(kind: &str, api_version: &str, rv: u64, items: Vec<Value>) -> Response {
    axum::Json(json!({"apiVersion": api_version, "kind": kind, "metadata": {"resourceVersion": rv.to_string()}, "items": items})).into_response()
}

async fn list_deployments(
    State(store): State<Shared>,
    Path(ns): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let s = store.lock().unwrap();
    list("DeploymentList", "apps/v1", s.resource_version, s.list(&ns, selector(&q)))
}

async fn get_deployment(State(store): State<Shared>, Path((ns, name)): Path<(String, String)>) -> Response {
    match store.lock().unwrap().get(&ns, &name) {
        Some(d) => axum::Json(d).into_response(),
        None => not_found("deployments", &name),
    }
}

async fn patch_deployment(
    State(store): State<Shared>,
    Path((ns, name)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let kind = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    // JSON is YAML; kube-rs sends apply patches as JSON.
    let Ok(patch) = serde_json::from_slice::<Value>(&body) else {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the body of the request was in an unknown format".into(),
        );
    };
    let mut s = store.lock().unwrap();
    let answer = match kind.as_str() {
        "application/apply-patch+yaml" => {
            let Some(manager) = q.get("fieldManager") else {
                return status(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "PATCH with apply-patch requires a fieldManager".into(),
                );
            };
            Some(s.apply(&ns, &name, &patch, manager))
        }
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => s.merge_patch(&ns, &name, &patch),
        other => {
            return status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                format!("the stand-in does not take {other:?} patches"),
            );
        }
    };
    match answer {
        Some(d) => axum::Json(d).into_response(),
        None => not_found("deployments", &name),
    }
}

async fn delete_deployment(State(store): State<Shared>, Path((ns, name)): Path<(String, String)>) -> Response {
    match store.lock().unwrap().delete(&ns, &name) {
        Some(d) => axum::Json(d).into_response(),
        None => not_found("deployments", &name),
    }
}

async fn list_secrets(
    State(store): State<Shared>,
    Path(ns): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let s = store.lock().unwrap();
    list("SecretList", "v1", s.resource_version, s.list_secrets(&ns, selector(&q)))
}

async fn get_secret(State(store): State<Shared>, Path((ns, name)): Path<(String, String)>) -> Response {
    match store.lock().unwrap().secret(&ns, &name) {
        Some(s) => axum::Json(s).into_response(),
        None => status(StatusCode::NOT_FOUND, "NotFound", format!("secrets \"{name}\" not found")),
    }
}

/// Server-side apply only: conv writes Secrets no other way.
async fn patch_secret(
    State(store): State<Shared>,
    Path((ns, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let kind = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if kind != "application/apply-patch+yaml" {
        return status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!("the stand-in applies Secrets only, not {kind:?}"),
        );
    }
    let Ok(applied) = serde_json::from_slice::<Value>(&body) else {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the body of the request was in an unknown format".into(),
        );
    };
    axum::Json(store.lock().unwrap().apply_secret(&ns, &name, &applied)).into_response()
}

async fn delete_secret(State(store): State<Shared>, Path((ns, name)): Path<(String, String)>) -> Response {
    match store.lock().unwrap().delete_secret(&ns, &name) {
        Some(s) => axum::Json(s).into_response(),
        None => status(StatusCode::NOT_FOUND, "NotFound", format!("secrets \"{name}\" not found")),
    }
}

async fn list_pods(
    State(store): State<Shared>,
    Path(ns): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let s = store.lock().unwrap();
    list("PodList", "v1", s.resource_version, s.pods(&ns, selector(&q)))
}

async fn proxy_root(state: State<Shared>, Path((ns, pod)): Path<(String, String)>) -> Response {
    proxy(state, Path((ns, pod, String::new()))).await
}

/// `pods/NAME:PORT/proxy/PATH`: what the pod answers on PATH.
async fn proxy(State(store): State<Shared>, Path((ns, pod, rest)): Path<(String, String, String)>) -> Response {
    let name = pod.split_once(':').map(|(n, _)| n).unwrap_or(&pod);
    let s = store.lock().unwrap();
    let found = s.deployments.iter().filter(|((n, _), _)| *n == ns).flat_map(|(_, d)| &d.pods).find(|p| p.name == name);
    let Some(pod) = found else {
        return status(StatusCode::NOT_FOUND, "NotFound", format!("pods \"{name}\" not found"));
    };
    let now = Instant::now();
    if !crate::controller::pod_ready(pod, &s, now) {
        return (StatusCode::SERVICE_UNAVAILABLE, format!("pod {name} is not ready")).into_response();
    }
    let (code, text) = crate::controller::proxy_answer(pod, &rest, now, &s.erring);
    (StatusCode::from_u16(code).unwrap_or(StatusCode::OK), text).into_response()
}

async fn stage_outage(State(store): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let requests = q.get("requests").and_then(|v| v.parse().ok()).unwrap_or(10);
    let code = q.get("code").and_then(|v| v.parse().ok()).unwrap_or(503);
    store.lock().unwrap().outage = Some((requests, code));
    (StatusCode::OK, format!("the next {requests} requests answer {code}\n")).into_response()
}

async fn writes(State(store): State<Shared>) -> Response {
    (StatusCode::OK, store.lock().unwrap().writes.to_string()).into_response()
}

/// `?image=SUBSTRING`: this cluster can no longer pull images containing it.
async fn unpullable(State(store): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some(image) = q.get("image") else {
        return (StatusCode::BAD_REQUEST, "?image= is required\n").into_response();
    };
    store.lock().unwrap().unpullable.push(image.clone());
    (StatusCode::OK, format!("images containing {image:?} cannot be pulled here\n")).into_response()
}

/// `?image=SUBSTRING`: pods of images containing it fail one request in five here.
async fn erring(State(store): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some(image) = q.get("image") else {
        return (StatusCode::BAD_REQUEST, "?image= is required\n").into_response();
    };
    store.lock().unwrap().erring.push(image.clone());
    (StatusCode::OK, format!("images containing {image:?} fail one request in five here\n")).into_response()
}
