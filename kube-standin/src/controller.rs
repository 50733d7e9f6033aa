//! Moves Deployment status the way Kubernetes' controllers do: a Deployment's pods follow
//! its replicas and template; a pod becomes ready a while after it is made, unless its
//! image cannot run; status counts them, and a rollout that is not available within
//! `progressDeadlineSeconds` says `ProgressDeadlineExceeded`.

use crate::store::{Pod, Store};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Why a pod of `image` never becomes ready, as a real cluster would say it, by a word in
/// the image's tag (`bad` cannot be pulled, `crash` exits as it starts) or because this
/// cluster cannot pull it (`unpullable`: as when one region's registry mirror lacks it).
pub fn stuck_reason(image: &str, unpullable: &[String]) -> Option<(&'static str, String)> {
    let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
    if tag.contains("bad") || unpullable.iter().any(|u| image.contains(u.as_str())) {
        Some(("ImagePullBackOff", format!("Back-off pulling image \"{image}\"")))
    } else if tag.contains("crash") {
        Some(("CrashLoopBackOff", "back-off 10s restarting failed container=app".to_string()))
    } else {
        None
    }
}

pub fn pod_ready(pod: &Pod, store: &Store, now: Instant) -> bool {
    stuck_reason(&pod.image, &store.unpullable).is_none() && now.duration_since(pod.created) >= store.ready_after
}

fn template_hash(template: &Value) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in template.to_string().bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{:010x}", h & 0xff_ffff_ffff)
}

pub fn tick(store: &mut Store, now: Instant) {
    let (ready_after, unpullable) = (store.ready_after, store.unpullable.clone());
    let ready = |p: &Pod| stuck_reason(&p.image, &unpullable).is_none() && now.duration_since(p.created) >= ready_after;
    for ((_, name), d) in store.deployments.iter_mut() {
        let spec = &d.object["spec"];
        let template = &spec["template"];
        let hash = template_hash(template);
        let image = template["spec"]["containers"][0]["image"].as_str().unwrap_or("").to_string();
        let replicas = spec["replicas"].as_u64().unwrap_or(1) as usize;
        let deadline = Duration::from_secs(spec["progressDeadlineSeconds"].as_u64().unwrap_or(600));
        // A new template replaces the pods at once (no surge): simple, and what conv sees is
        // the same: the new pods are not available until they are ready.
        d.pods.retain(|p| p.template_hash == hash);
        d.pods.truncate(replicas);
        while d.pods.len() < replicas {
            let n = store.next_pod;
            store.next_pod += 1;
            d.pods.push(Pod {
                name: format!("{name}-{hash}-{n:05}"),
                template_hash: hash.clone(),
                image: image.clone(),
                created: now,
            });
        }
        d.observed_generation = d.generation;
        let available = d.pods.iter().filter(|p| ready(p)).count();
        let complete = available >= replicas;
        if complete {
            d.progressing_since = now;
        }
        let progressing = if complete {
            json!({"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": format!("ReplicaSet \"{name}-{hash}\" has successfully progressed.")})
        } else if now.duration_since(d.progressing_since) > deadline {
            json!({"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": format!("ReplicaSet \"{name}-{hash}\" has timed out progressing.")})
        } else {
            json!({"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated", "message": format!("ReplicaSet \"{name}-{hash}\" is progressing.")})
        };
        let availability = if complete {
            json!({"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."})
        } else {
            json!({"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability."})
        };
        d.status = json!({
            "observedGeneration": d.observed_generation,
            "replicas": d.pods.len(),
            "updatedReplicas": d.pods.len(),
            "readyReplicas": available,
            "availableReplicas": available,
            "unavailableReplicas": d.pods.len() - available,
            "conditions": [availability, progressing],
        });
    }
}

pub fn pod_json(namespace: &str, pod: &Pod, labels: Value, store: &Store) -> Value {
    let ready = pod_ready(pod, store, Instant::now());
    let state = match stuck_reason(&pod.image, &store.unpullable) {
        Some((reason, message)) => json!({"waiting": {"reason": reason, "message": message}}),
        None if ready => json!({"running": {"startedAt": "2026-01-01T00:00:00Z"}}),
        None => json!({"waiting": {"reason": "ContainerCreating"}}),
    };
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": pod.name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "app", "image": pod.image}]},
        "status": {
            "phase": if ready { "Running" } else { "Pending" },
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
            "containerStatuses": [{"name": "app", "image": pod.image, "imageID": "", "ready": ready, "restartCount": 0, "state": state}],
        },
    })
}

/// What a ready pod answers through the API server's pod proxy: `/metrics` in Prometheus'
/// text format (traffic that grows with the pod's age; a tag with `errors`, or an image the
/// cluster was told errs, fails one request in five, one with `slow` answers in about a second), `ok` on any other path.
pub fn proxy_answer(pod: &Pod, path: &str, now: Instant, erring: &[String]) -> (u16, String) {
    if path.trim_start_matches('/') != "metrics" {
        return (200, "ok\n".into());
    }
    let tag = pod.image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
    let requests = (now.duration_since(pod.created).as_millis() / 10) as u64 + 1;
    let errs = tag.contains("errors") || erring.iter().any(|e| pod.image.contains(e.as_str()));
    let errors = if errs { requests / 5 } else { 0 };
    let fast = if tag.contains("slow") { 0 } else { requests };
    let mut s = String::new();
    s.push_str("# TYPE app_requests_total counter\n");
    s.push_str(&format!("app_requests_total{{status=\"200\"}} {}\n", requests - errors));
    s.push_str(&format!("app_requests_total{{status=\"500\"}} {errors}\n"));
    s.push_str("# TYPE app_request_duration_seconds histogram\n");
    s.push_str(&format!("app_request_duration_seconds_bucket{{le=\"0.05\"}} {fast}\n"));
    s.push_str(&format!("app_request_duration_seconds_bucket{{le=\"1.5\"}} {requests}\n"));
    s.push_str(&format!("app_request_duration_seconds_bucket{{le=\"+Inf\"}} {requests}\n"));
    (200, s)
}
