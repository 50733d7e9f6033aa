//! The Deployments conv makes. Each version of a service that runs on a site is one
//! Deployment, `<service>-<version>`, whose replicas are the instance slots that run that
//! version (listed in an annotation); a canary is the new version's Deployment beside the
//! stable one, and promoting moves slots from one to the other. Labels say which conv
//! project, release, service and version own it.

use conv_model::{Program, Service};
use k8s_openapi::api::apps::v1::Deployment;
use serde_json::{Value, json};

pub const MANAGER: &str = "conv";
pub const PROJECT: &str = "conv.dev/project";
pub const SERVICE: &str = "conv.dev/service";
pub const VERSION: &str = "conv.dev/version";
pub const RELEASE: &str = "conv.dev/release";
/// Annotations: the exact version (label values are restricted) and the slots it runs.
pub const VERSION_EXACT: &str = "conv.dev/version-exact";
pub const SLOTS: &str = "conv.dev/slots";
/// How long Kubernetes gives a rollout before it says ProgressDeadlineExceeded.
pub const PROGRESS_DEADLINE_SECONDS: u32 = 120;

/// A DNS label: lowercase letters, digits and `-`, at most `max` long, not ending in `-`.
pub fn dns_label(text: &str, max: usize) -> String {
    let mut out: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    out.truncate(max);
    let trimmed = out.trim_matches('-').to_string();
    if trimmed.is_empty() { "x".into() } else { trimmed }
}

pub fn deployment_name(service: &str, version: &str) -> String {
    let service = dns_label(service, 40);
    format!("{service}-{}", dns_label(version, 62 - service.len()))
}

/// A label value: letters, digits, `-`, `_` and `.`, at most 63, alphanumeric at both ends.
pub fn label_value(text: &str) -> String {
    let mut out: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    out.truncate(63);
    out.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_string()
}

/// The image a service runs at `version`: its tag, or the version as the tag.
pub fn image(service: &Service, version: &str) -> Option<String> {
    match &service.run {
        conv_model::Run::Image { name, tag: Some(tag) } => Some(format!("{name}:{tag}")),
        conv_model::Run::Image { name, tag: None } => Some(format!("{name}:{version}")),
        conv_model::Run::Command { .. } => None,
    }
}

pub fn selector(project: &str, service: &str, version: &str) -> Value {
    json!({PROJECT: project, SERVICE: label_value(service), VERSION: label_value(version)})
}

pub fn selector_text(labels: &Value) -> String {
    labels
        .as_object()
        .map(|m| m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or(""))).collect::<Vec<_>>().join(","))
        .unwrap_or_default()
}

/// Everything conv owns for a service on a site, across versions.
pub fn service_selector(project: &str, service: &str) -> String {
    format!("{PROJECT}={project},{SERVICE}={}", label_value(service))
}

fn release_of(program: &Program, service: &Service) -> Option<String> {
    program.releases.iter().find(|r| r.services.contains(&service.name)).map(|r| r.name.to_string())
}

/// The Deployment that runs `version` of `service` in `slots`, as conv applies it.
pub fn desired(program: &Program, project: &str, service: &Service, version: &str, slots: &[u32]) -> Option<Value> {
    let image = image(service, version)?;
    let mut labels = selector(project, service.name.as_str(), version);
    labels["app.kubernetes.io/managed-by"] = json!("conv");
    labels["app.kubernetes.io/name"] = json!(label_value(service.name.as_str()));
    if let Some(release) = release_of(program, service) {
        labels[RELEASE] = json!(label_value(&release));
    }
    let mut env: Vec<Value> = service.config.iter().map(|(k, v)| json!({"name": k, "value": v})).collect();
    let secret = secret_name(service.name.as_str());
    env.extend(
        service.secrets.keys().map(|k| json!({"name": k, "valueFrom": {"secretKeyRef": {"name": secret, "key": k}}})),
    );
    let ports: Vec<Value> = service.ports.iter().map(|p| json!({"containerPort": p})).collect();
    Some(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": deployment_name(service.name.as_str(), version),
            "labels": labels,
            "annotations": {VERSION_EXACT: version, SLOTS: slots_text(slots)},
        },
        "spec": {
            "replicas": slots.len(),
            "progressDeadlineSeconds": PROGRESS_DEADLINE_SECONDS,
            "selector": {"matchLabels": selector(project, service.name.as_str(), version)},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": dns_label(service.name.as_str(), 63), "image": image, "env": env, "ports": ports}]},
            },
        },
    }))
}

/// The Secret that holds a service's secret values on a site, one key per variable.
pub fn secret_name(service: &str) -> String {
    format!("{}-secrets", dns_label(service, 55))
}

/// The Secret a service's pods read their secret variables from, as conv applies it.
pub fn secret(project: &str, service: &Service, values: &std::collections::BTreeMap<String, String>) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": secret_name(service.name.as_str()),
            "labels": {PROJECT: project, SERVICE: label_value(service.name.as_str()), "app.kubernetes.io/managed-by": "conv"},
        },
        "type": "Opaque",
        "stringData": values,
    })
}

/// The same Deployment with other slots: what a version keeps when a slot moves away from
/// it. Built from what the cluster holds, so an older version keeps its own image and env.
pub fn with_slots(existing: &Deployment, slots: &[u32]) -> Value {
    let mut spec = serde_json::to_value(existing.spec.clone().unwrap_or_default()).unwrap_or_else(|_| json!({}));
    spec["replicas"] = json!(slots.len());
    let meta = &existing.metadata;
    let mut annotations =
        serde_json::to_value(meta.annotations.clone().unwrap_or_default()).unwrap_or_else(|_| json!({}));
    annotations[SLOTS] = json!(slots_text(slots));
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": meta.name, "labels": meta.labels, "annotations": annotations},
        "spec": spec,
    })
}

pub fn slots_text(slots: &[u32]) -> String {
    slots.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

pub fn slots_of(d: &Deployment) -> Vec<u32> {
    let text = d.metadata.annotations.as_ref().and_then(|a| a.get(SLOTS)).map(String::as_str).unwrap_or("");
    let mut slots: Vec<u32> = text.split(',').filter_map(|s| s.trim().parse().ok()).collect();
    slots.sort_unstable();
    slots.dedup();
    slots
}

pub fn version_of(d: &Deployment) -> Option<String> {
    d.metadata.annotations.as_ref().and_then(|a| a.get(VERSION_EXACT)).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels_are_what_kubernetes_accepts() {
        assert_eq!(deployment_name("api", "1.4.2"), "api-1-4-2");
        assert_eq!(deployment_name("Api_Server", "v2+build.7"), "api-server-v2-build-7");
        assert!(deployment_name(&"s".repeat(80), &"v".repeat(80)).len() <= 63);
        assert_eq!(label_value("1.4.2+meta"), "1.4.2_meta");
        assert_eq!(label_value("-x-"), "x");
    }
}
