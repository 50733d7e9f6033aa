//! What one stand-in cluster holds: Deployments as the API returned them, and the Pods its
//! controller made for them. Objects are JSON, as on the wire.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Pod {
    pub name: String,
    pub template_hash: String,
    pub image: String,
    pub created: Instant,
}

#[derive(Debug)]
pub struct Deployment {
    /// `metadata` and `spec` as last written; `status` is made by the controller.
    pub object: Value,
    pub generation: i64,
    pub observed_generation: i64,
    /// Since when the current generation has been rolling out.
    pub progressing_since: Instant,
    pub pods: Vec<Pod>,
    pub status: Value,
}

#[derive(Debug)]
pub struct Store {
    pub deployments: BTreeMap<(String, String), Deployment>,
    /// Secrets as applied, `stringData` kept as given (answers leave the values out).
    pub secrets: BTreeMap<(String, String), Value>,
    /// The next `n` API requests answer `code` (an outage), when set.
    pub outage: Option<(u32, u16)>,
    /// Writes (PATCH, DELETE) the API accepted, to tell what an apply touched.
    pub writes: u64,
    pub ready_after: Duration,
    /// Images this cluster cannot pull (by substring).
    pub unpullable: Vec<String>,
    /// Images that fail one request in five here (by substring), as a version that meets a
    /// dependency only one region has.
    pub erring: Vec<String>,
    pub resource_version: u64,
    pub next_pod: u64,
}

impl Store {
    pub fn new(ready_after: Duration) -> Self {
        Store {
            deployments: BTreeMap::new(),
            secrets: BTreeMap::new(),
            outage: None,
            writes: 0,
            ready_after,
            unpullable: Vec::new(),
            erring: Vec::new(),
            resource_version: 1,
            next_pod: 1,
        }
    }

    fn bump(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    /// Server-side apply: the applied object is the manager's whole intent for the fields it
    /// names; labels, annotations and spec are taken from it, status stays the controller's.
    pub fn apply(&mut self, namespace: &str, name: &str, applied: &Value, manager: &str) -> Value {
        self.writes += 1;
        let rv = self.bump();
        let key = (namespace.to_string(), name.to_string());
        let metadata = applied.get("metadata").cloned().unwrap_or_else(|| json!({}));
        let spec = applied.get("spec").cloned().unwrap_or_else(|| json!({}));
        let now = Instant::now();
        let entry = self.deployments.entry(key).or_insert_with(|| Deployment {
            object: json!({"metadata": {"uid": format!("uid-{namespace}-{name}"), "creationTimestamp": "2026-01-01T00:00:00Z"}, "spec": {}}),
            generation: 0,
            observed_generation: 0,
            progressing_since: now,
            pods: Vec::new(),
            status: json!({}),
        });
        if entry.object["spec"] != spec || entry.generation == 0 {
            entry.generation += 1;
            entry.progressing_since = now;
        }
        let meta = &mut entry.object["metadata"];
        meta["name"] = json!(name);
        meta["namespace"] = json!(namespace);
        meta["labels"] = metadata.get("labels").cloned().unwrap_or_else(|| json!({}));
        meta["annotations"] = metadata.get("annotations").cloned().unwrap_or_else(|| json!({}));
        meta["resourceVersion"] = json!(rv);
        meta["managedFields"] = json!([{"manager": manager, "operation": "Apply", "apiVersion": "apps/v1"}]);
        entry.object["spec"] = spec;
        render(namespace, name, entry)
    }

    /// Server-side apply of a Secret; the answer carries no values.
    pub fn apply_secret(&mut self, namespace: &str, name: &str, applied: &Value) -> Value {
        self.writes += 1;
        let rv = self.bump();
        let mut object = applied.clone();
        object["metadata"]["name"] = json!(name);
        object["metadata"]["namespace"] = json!(namespace);
        object["metadata"]["resourceVersion"] = json!(rv);
        self.secrets.insert((namespace.to_string(), name.to_string()), object.clone());
        without_values(object)
    }

    pub fn secret(&self, namespace: &str, name: &str) -> Option<Value> {
        self.secrets.get(&(namespace.to_string(), name.to_string())).cloned().map(without_values)
    }

    pub fn list_secrets(&self, namespace: &str, selector: &str) -> Vec<Value> {
        self.secrets
            .iter()
            .filter(|((ns, _), s)| ns == namespace && crate::selector::matches(selector, &s["metadata"]["labels"]))
            .map(|(_, s)| without_values(s.clone()))
            .collect()
    }

    pub fn delete_secret(&mut self, namespace: &str, name: &str) -> Option<Value> {
        let s = self.secrets.remove(&(namespace.to_string(), name.to_string()))?;
        self.writes += 1;
        Some(without_values(s))
    }

    /// A JSON merge patch (RFC 7386), as `kubectl edit` or `kubectl scale` would send by hand.
    pub fn merge_patch(&mut self, namespace: &str, name: &str, patch: &Value) -> Option<Value> {
        let rv = self.bump();
        let d = self.deployments.get_mut(&(namespace.to_string(), name.to_string()))?;
        self.writes += 1;
        let before = d.object["spec"].clone();
        merge(&mut d.object, patch);
        if d.object["spec"] != before {
            d.generation += 1;
            d.progressing_since = Instant::now();
        }
        d.object["metadata"]["resourceVersion"] = json!(rv);
        Some(render(namespace, name, d))
    }

    pub fn delete(&mut self, namespace: &str, name: &str) -> Option<Value> {
        let d = self.deployments.remove(&(namespace.to_string(), name.to_string()))?;
        self.writes += 1;
        self.bump();
        Some(render(namespace, name, &d))
    }

    pub fn get(&self, namespace: &str, name: &str) -> Option<Value> {
        self.deployments.get(&(namespace.to_string(), name.to_string())).map(|d| render(namespace, name, d))
    }

    pub fn list(&self, namespace: &str, selector: &str) -> Vec<Value> {
        self.deployments
            .iter()
            .filter(|((ns, _), d)| {
                ns == namespace && crate::selector::matches(selector, &d.object["metadata"]["labels"])
            })
            .map(|((ns, name), d)| render(ns, name, d))
            .collect()
    }

    pub fn pods(&self, namespace: &str, selector: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for ((ns, _), d) in self.deployments.iter().filter(|((ns, _), _)| ns == namespace) {
            let labels = d.object["spec"]["template"]["metadata"]["labels"].clone();
            for pod in &d.pods {
                let mut pod_labels = labels.clone();
                if let Some(map) = pod_labels.as_object_mut() {
                    map.insert("pod-template-hash".into(), json!(pod.template_hash));
                }
                if crate::selector::matches(selector, &pod_labels) {
                    out.push(crate::controller::pod_json(ns, pod, pod_labels, self));
                }
            }
        }
        out
    }
}

fn without_values(mut secret: Value) -> Value {
    if let Some(map) = secret.as_object_mut() {
        map.remove("stringData");
        map.remove("data");
    }
    secret
}

/// RFC 7386: objects merge key by key, `null` removes, anything else replaces.
fn merge(target: &mut Value, patch: &Value) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(t), Some(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

pub fn render(namespace: &str, name: &str, d: &Deployment) -> Value {
    let mut obj = d.object.clone();
    obj["apiVersion"] = json!("apps/v1");
    obj["kind"] = json!("Deployment");
    obj["metadata"]["name"] = json!(name);
    obj["metadata"]["namespace"] = json!(namespace);
    obj["metadata"]["generation"] = json!(d.generation);
    obj["status"] = d.status.clone();
    obj
}
