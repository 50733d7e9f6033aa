//! A stand-in Kubernetes API server. No real API server is packaged for the machines conv is
//! tested on, so its tests start these on loopback ports: each serves the part of the REST
//! API conv's Kubernetes provider uses, and a controller inside moves Deployment status the
//! way Kubernetes does. conv talks to them through kube-rs over HTTP, as to a real cluster.
//! docs/kubernetes.md says what it covers and what it does not.

pub mod api;
pub mod controller;
pub mod selector;
pub mod store;

use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::Store;

/// One stand-in cluster: its name (the kubeconfig context), its port and what it holds.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub name: String,
    pub port: u16,
    pub store: api::Shared,
}

impl Cluster {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Writes (PATCH and DELETE) this cluster accepted so far.
    pub fn writes(&self) -> u64 {
        self.store.lock().unwrap().writes
    }

    /// The next `requests` API requests answer `code`.
    pub fn outage(&self, requests: u32, code: u16) {
        self.store.lock().unwrap().outage = Some((requests, code));
    }

    /// Ends a staged outage.
    pub fn end_outage(&self) {
        self.store.lock().unwrap().outage = None;
    }

    /// Pods of images containing `image` never become ready here: ImagePullBackOff.
    pub fn cannot_pull(&self, image: &str) {
        self.store.lock().unwrap().unpullable.push(image.to_string());
    }

    /// Pods of images containing `image` fail one request in five here.
    pub fn errs_with(&self, image: &str) {
        self.store.lock().unwrap().erring.push(image.to_string());
    }

    /// A Secret as it was applied, values included (what a pod would read).
    pub fn secret_as_applied(&self, namespace: &str, name: &str) -> Option<Value> {
        self.store.lock().unwrap().secrets.get(&(namespace.to_string(), name.to_string())).cloned()
    }

    /// The Deployments of a namespace, as the API returns them.
    pub fn deployments(&self, namespace: &str) -> Vec<Value> {
        self.store.lock().unwrap().list(namespace, "")
    }

    /// A change by hand, as `kubectl patch --type merge` makes it.
    pub fn edit(&self, namespace: &str, name: &str, patch: Value) -> bool {
        self.store.lock().unwrap().merge_patch(namespace, name, &patch).is_some()
    }

    pub fn delete(&self, namespace: &str, name: &str) -> bool {
        self.store.lock().unwrap().delete(namespace, name).is_some()
    }
}

/// Stand-in clusters served from a thread of their own, for as long as this value lives.
#[derive(Debug)]
pub struct StandIns {
    pub clusters: Vec<Cluster>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StandIns {
    /// Starts one cluster per name on free loopback ports; pods become ready `ready_after`
    /// after they are made.
    pub fn spawn(names: &[&str], ready_after: Duration) -> std::io::Result<StandIns> {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
        let mut clusters = Vec::new();
        let mut listeners = Vec::new();
        for name in names {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            listener.set_nonblocking(true)?;
            let port = listener.local_addr()?.port();
            let store = Arc::new(Mutex::new(Store::new(ready_after)));
            clusters.push(Cluster { name: name.to_string(), port, store });
            listeners.push(listener);
        }
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = clusters.clone();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                for (cluster, listener) in served.into_iter().zip(listeners) {
                    tokio::spawn(serve(cluster, listener));
                }
                let _ = stopped.await;
            });
        });
        Ok(StandIns { clusters, stop: Some(stop), thread: Some(thread) })
    }

    pub fn cluster(&self, name: &str) -> &Cluster {
        self.clusters.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no stand-in cluster {name}"))
    }

    /// A kubeconfig with a cluster, a user and a context per stand-in, contexts named after
    /// the clusters (JSON, which is YAML too).
    pub fn kubeconfig(&self) -> String {
        kubeconfig(&self.clusters)
    }
}

impl Drop for StandIns {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn kubeconfig(clusters: &[Cluster]) -> String {
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": clusters.iter().map(|c| json!({"name": c.name, "cluster": {"server": c.url()}})).collect::<Vec<_>>(),
        "users": [{"name": "conv-standin", "user": {"token": "stand-in"}}],
        "contexts": clusters.iter().map(|c| json!({"name": c.name, "context": {"cluster": c.name, "user": "conv-standin"}})).collect::<Vec<_>>(),
        "current-context": clusters.first().map(|c| c.name.clone()).unwrap_or_default(),
    });
    serde_json::to_string_pretty(&config).unwrap_or_default()
}

/// Serves one cluster's API and runs its controller.
pub async fn serve(cluster: Cluster, listener: std::net::TcpListener) {
    let store = cluster.store.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(50));
        loop {
            every.tick().await;
            controller::tick(&mut store.lock().unwrap(), Instant::now());
        }
    });
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
    let _ = axum::serve(listener, api::router(cluster.store)).await;
}
