//! The Kubernetes provider: a site is a cluster (a kubeconfig context) or a namespace, and
//! what runs there is Deployments that carry conv's labels (objects.rs says which). Writes
//! are server-side applies with the field manager `conv`, so applying the same intent again
//! changes nothing; readiness is the Deployment's rollout status; probes and metrics go
//! through the API server's pod proxy. See docs/kubernetes.md.

mod client;
pub mod objects;
mod observe;
pub mod target;

use crate::gates::Sample;
use crate::live::{Instance, LiveState};
use crate::provider::{Provider, ProviderError, Rollout, Started, Up};
use client::{Clients, retried};
use conv_model::{EnvName, InstanceAddress, Program, Service, ServiceName, SiteName};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use target::Target;

/// Waiting reasons of a container that do not pass by themselves.
const STUCK: &[&str] =
    &["ImagePullBackOff", "CrashLoopBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError"];

#[derive(Clone, Debug)]
pub struct KubernetesProvider {
    program: Arc<Program>,
    /// The `conv.dev/project` label: the program root's directory name.
    project: String,
    root: PathBuf,
    state_dir: PathBuf,
    clients: Clients,
    /// One slot change at a time per site and service: moving a slot rewrites the
    /// Deployments of every version there.
    site_locks: SiteLocks,
}

type SiteLocks = Arc<Mutex<HashMap<(EnvName, SiteName, ServiceName), Arc<tokio::sync::Mutex<()>>>>>;

impl KubernetesProvider {
    pub fn new(program_root: &Path, program: Arc<Program>) -> Self {
        let root = std::path::absolute(program_root).unwrap_or_else(|_| program_root.to_path_buf());
        KubernetesProvider {
            program,
            project: objects::label_value(&crate::project_name(&root)),
            state_dir: crate::state_dir(&root),
            root,
            clients: Clients::default(),
            site_locks: Default::default(),
        }
    }

    pub fn project(&self) -> &str {
        &self.project
    }

    fn target(&self, env: &EnvName, site: &SiteName) -> Result<Target, ProviderError> {
        target::target(&self.program, env, site)
            .ok_or_else(|| ProviderError::permanent(format!("{env} is not a kubernetes environment")))
    }

    async fn deployments(&self, target: &Target) -> Result<Api<Deployment>, ProviderError> {
        Ok(Api::namespaced(self.clients.client(target).await?, &target.namespace))
    }

    fn lock(&self, at: &InstanceAddress) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.site_locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry((at.env.clone(), at.site.clone(), at.service.clone())).or_default().clone()
    }

    /// The Deployments conv owns for the service of `at`, by exact version.
    async fn owned(
        &self,
        api: &Api<Deployment>,
        target: &Target,
        service: &ServiceName,
    ) -> Result<Vec<Deployment>, ProviderError> {
        let params = ListParams::default().labels(&objects::service_selector(&self.project, service.as_str()));
        Ok(retried("listing Deployments", target, || api.list(&params)).await?.items)
    }

    async fn write(
        &self,
        api: &Api<Deployment>,
        target: &Target,
        body: serde_json::Value,
    ) -> Result<(), ProviderError> {
        let name = body["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let params = PatchParams::apply(objects::MANAGER).force();
        let patch = Patch::Apply(&body);
        retried(&format!("applying Deployment {name}"), target, || api.patch(&name, &params, &patch)).await?;
        Ok(())
    }

    /// Applies the Secret the service's pods read their secret variables from.
    async fn write_secret(&self, target: &Target, service: &Service) -> Result<(), ProviderError> {
        let values = crate::secrets::values(service, &self.root)?;
        let body = objects::secret(&self.project, service, &values);
        let api: Api<Secret> = Api::namespaced(self.clients.client(target).await?, &target.namespace);
        let name = objects::secret_name(service.name.as_str());
        let params = PatchParams::apply(objects::MANAGER).force();
        let patch = Patch::Apply(&body);
        // The error names the Secret, never its contents.
        retried(&format!("applying Secret {name}"), target, || api.patch(&name, &params, &patch)).await?;
        Ok(())
    }

    async fn remove(&self, api: &Api<Deployment>, target: &Target, name: &str) -> Result<(), ProviderError> {
        retried(&format!("deleting Deployment {name}"), target, || async {
            match api.delete(name, &DeleteParams::foreground()).await {
                Err(kube::Error::Api(s)) if s.is_not_found() => Ok(()),
                other => other.map(|_| ()),
            }
        })
        .await
    }

    /// Moves the slots `moved` of the site and service of `at` to `version` (`None`: stops
    /// them): the version's Deployment gains them first, in one apply, then the ones that held
    /// them lose them (deleted when they hold none).
    async fn move_slots(
        &self,
        at: &InstanceAddress,
        moved: &[u32],
        to: Option<(&Service, &str)>,
    ) -> Result<String, ProviderError> {
        let lock = self.lock(at);
        let _held = lock.lock().await;
        let target = self.target(&at.env, &at.site)?;
        let api = self.deployments(&target).await?;
        let owned = self.owned(&api, &target, &at.service).await?;
        let mut name = String::new();
        if let Some((service, version)) = to {
            let mut slots = owned
                .iter()
                .find(|d| objects::version_of(d).as_deref() == Some(version))
                .map(objects::slots_of)
                .unwrap_or_default();
            slots.extend(moved.iter().filter(|m| !slots.contains(m)).copied().collect::<Vec<_>>());
            slots.sort_unstable();
            let body = objects::desired(&self.program, &self.project, service, version, &slots).ok_or_else(|| {
                ProviderError::permanent(format!(
                    "{} runs a command; a kubernetes environment runs images",
                    service.name
                ))
            })?;
            name = body["metadata"]["name"].as_str().unwrap_or_default().to_string();
            if !service.secrets.is_empty() {
                self.write_secret(&target, service).await?;
            }
            self.write(&api, &target, body).await?;
        }
        let version = to.map(|(_, v)| v);
        for d in &owned {
            let holds = objects::slots_of(d);
            if objects::version_of(d).as_deref() == version || !holds.iter().any(|h| moved.contains(h)) {
                continue;
            }
            let rest: Vec<u32> = holds.into_iter().filter(|s| !moved.contains(s)).collect();
            let old = d.metadata.name.clone().unwrap_or_default();
            if rest.is_empty() {
                self.remove(&api, &target, &old).await?;
            } else {
                self.write(&api, &target, objects::with_slots(d, &rest)).await?;
            }
        }
        Ok(name)
    }

    /// The pods of a version's Deployment, sorted by name.
    async fn pods(&self, target: &Target, service: &ServiceName, version: &str) -> Result<Vec<Pod>, ProviderError> {
        let api: Api<Pod> = Api::namespaced(self.clients.client(target).await?, &target.namespace);
        let labels = objects::selector(&self.project, service.as_str(), version);
        let params = ListParams::default().labels(&objects::selector_text(&labels));
        let mut pods = retried("listing Pods", target, || api.list(&params)).await?.items;
        pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        Ok(pods)
    }

    /// `GET path` on the pod that stands for slot `at`, through the API server's pod proxy.
    async fn through_proxy(
        &self,
        at: &InstanceAddress,
        instance: &Instance,
        path: &str,
        timeout: Duration,
    ) -> Result<(u16, String), ProviderError> {
        let target = self.target(&at.env, &at.site)?;
        let pods = self.pods(&target, &at.service, &instance.version).await?;
        if pods.is_empty() {
            return Err(ProviderError::transient(format!("no pod of {} {} in {target}", at.service, instance.version)));
        }
        let pod = pods[at.slot as usize % pods.len()].metadata.name.clone().unwrap_or_default();
        let port = if instance.port == 0 { String::new() } else { format!(":{}", instance.port) };
        let uri =
            format!("/api/v1/namespaces/{}/pods/{pod}{port}/proxy/{}", target.namespace, path.trim_start_matches('/'));
        let request = http::Request::get(uri).body(Vec::new()).map_err(|e| ProviderError::permanent(e.to_string()))?;
        let client = self.clients.client(&target).await?;
        let call = async {
            let response = client.send(request.map(kube::client::Body::from)).await?;
            let code = response.status().as_u16();
            let bytes = http_body_util::BodyExt::collect(response.into_body()).await?.to_bytes();
            Ok::<_, kube::Error>((code, String::from_utf8_lossy(&bytes).to_string()))
        };
        match tokio::time::timeout(timeout, call).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => Err(ProviderError::transient(format!("pod {pod} in {target}: {}", client::describe(&e)))),
            Err(_) => Err(ProviderError::transient(format!("pod {pod} in {target}: no answer within {timeout:?}"))),
        }
    }

    /// Deletes every Deployment of this project in every kubernetes site; how many.
    pub async fn destroy_all(&self) -> usize {
        let mut count = 0;
        for env in target::environments(&self.program) {
            for site in &env.sites {
                let Ok(target) = self.target(&env.name, site) else { continue };
                let Ok(api) = self.deployments(&target).await else { continue };
                let params = ListParams::default().labels(&format!("{}={}", objects::PROJECT, self.project));
                let Ok(list) = retried("listing Deployments", &target, || api.list(&params)).await else { continue };
                for d in list.items {
                    let name = d.metadata.name.unwrap_or_default();
                    if self.remove(&api, &target, &name).await.is_ok() {
                        count += 1;
                    }
                }
                if let Ok(client) = self.clients.client(&target).await {
                    let secrets: Api<Secret> = Api::namespaced(client, &target.namespace);
                    if let Ok(list) = secrets.list(&params).await {
                        for s in list.items {
                            let _ =
                                secrets.delete(&s.metadata.name.unwrap_or_default(), &DeleteParams::default()).await;
                        }
                    }
                }
            }
        }
        count
    }

    /// Why a version's rollout cannot finish, from its pods, as Kubernetes says it.
    async fn stuck(&self, target: &Target, service: &ServiceName, version: &str) -> Option<String> {
        let pods = self.pods(target, service, version).await.ok()?;
        pods.iter().find_map(|pod| {
            let statuses = pod.status.as_ref()?.container_statuses.as_ref()?;
            statuses.iter().find_map(|c| {
                let waiting = c.state.as_ref()?.waiting.as_ref()?;
                let reason = waiting.reason.as_deref()?;
                STUCK.contains(&reason).then(|| match &waiting.message {
                    Some(m) => format!("{reason}: {m} (pod {})", pod.metadata.name.clone().unwrap_or_default()),
                    None => format!("{reason} (pod {})", pod.metadata.name.clone().unwrap_or_default()),
                })
            })
        })
    }
}

/// Rolled out: the controller saw this generation and every replica is updated and available.
impl KubernetesProvider {
    /// Whether the Deployment `name` of the site of `at` has rolled out; an error when it is
    /// gone or stuck (a pod that cannot pull its image, a missed progress deadline).
    async fn rolled_out(&self, at: &InstanceAddress, name: &str) -> Result<bool, ProviderError> {
        let target = self.target(&at.env, &at.site)?;
        let api = self.deployments(&target).await?;
        let Some(d) = retried("reading Deployment", &target, || api.get_opt(name)).await? else {
            return Err(ProviderError::transient(format!("Deployment {name} is gone from {target}")));
        };
        if rolled_out(&d) {
            return Ok(true);
        }
        let version = objects::version_of(&d).unwrap_or_default();
        if let Some(why) = self.stuck(&target, &at.service, &version).await.or_else(|| deadline_exceeded(&d)) {
            return Err(ProviderError::permanent(format!("Deployment {name} in {target}: {why}")));
        }
        Ok(false)
    }
}

fn rolled_out(d: &Deployment) -> bool {
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let Some(status) = &d.status else { return false };
    status.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
        && status.updated_replicas.unwrap_or(0) >= want
        && status.available_replicas.unwrap_or(0) >= want
}

fn deadline_exceeded(d: &Deployment) -> Option<String> {
    let conditions = d.status.as_ref()?.conditions.as_ref()?;
    conditions
        .iter()
        .find(|c| {
            c.type_ == "Progressing" && c.status == "False" && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
        })
        .map(|c| format!("ProgressDeadlineExceeded: {}", c.message.clone().unwrap_or_default()))
}

impl Provider for KubernetesProvider {
    fn observe(&self, program: &Program) -> impl std::future::Future<Output = LiveState> + Send {
        let (this, program) = (self.clone(), program.clone());
        async move {
            let envs: Vec<EnvName> = target::environments(&program).map(|e| e.name.clone()).collect();
            let mut live = LiveState::default();
            for env in envs {
                let seen = observe::environment(&this, &program, &env).await;
                live.sites.extend(seen.sites);
                live.unobserved.extend(seen.unobserved);
            }
            live
        }
    }

    fn observe_env(&self, program: &Program, env: &EnvName) -> impl std::future::Future<Output = LiveState> + Send {
        let (this, program, env) = (self.clone(), program.clone(), env.clone());
        async move { observe::environment(&this, &program, &env).await }
    }

    /// One apply and one rollout for all of the rollout's instances on the site, not one per
    /// instance; they are told up together once the Deployment has rolled out.
    async fn roll_out(&self, rollout: &Rollout<'_>, up: &Up<'_>) -> Result<(), ProviderError> {
        let Some(first) = rollout.instances.first() else { return Ok(()) };
        let at = rollout.slot(*first);
        let name = self.move_slots(&at, rollout.instances, Some((rollout.service, rollout.version))).await?;
        let target = self.target(rollout.env, rollout.site)?;
        let started = Started {
            log: format!("kubectl --context {} -n {} describe deployment {name}", target.context, target.namespace),
            place: format!("in Deployment {name} ({target})"),
            handle: name,
            port: rollout.service.ports.first().copied().unwrap_or(0),
        };
        // Kubernetes' own progress deadline says when a rollout is stuck; this is the backstop.
        let backstop = Duration::from_secs(u64::from(objects::PROGRESS_DEADLINE_SECONDS) + 30);
        crate::provider::wait_ready(backstop, &started, || self.rolled_out(&at, &started.handle)).await?;
        for &index in rollout.instances {
            up(index, &started);
        }
        Ok(())
    }

    fn stop(&self, at: &InstanceAddress) -> impl std::future::Future<Output = ()> + Send {
        let (this, at) = (self.clone(), at.clone());
        async move {
            let _ = this.move_slots(&at, &[at.slot], None).await;
        }
    }

    fn alive(&self, at: &InstanceAddress, instance: &Instance) -> impl std::future::Future<Output = bool> + Send {
        let (this, at, version) = (self.clone(), at.clone(), instance.version.clone());
        async move {
            let Ok(target) = this.target(&at.env, &at.site) else { return false };
            let Ok(api) = this.deployments(&target).await else { return false };
            let name = objects::deployment_name(at.service.as_str(), &version);
            match retried("reading Deployment", &target, || api.get_opt(&name)).await {
                Ok(Some(d)) => d.status.and_then(|s| s.available_replicas).unwrap_or(0) > 0,
                _ => false,
            }
        }
    }

    fn probe(
        &self,
        at: &InstanceAddress,
        instance: &Instance,
        path: &str,
        timeout: Duration,
    ) -> impl std::future::Future<Output = Result<u16, ProviderError>> + Send {
        let (this, at, instance, path) = (self.clone(), at.clone(), instance.clone(), path.to_string());
        async move { this.through_proxy(&at, &instance, &path, timeout).await.map(|(code, _)| code) }
    }

    fn signals(
        &self,
        at: &InstanceAddress,
        instance: &Instance,
    ) -> impl std::future::Future<Output = Result<Sample, ProviderError>> + Send {
        let (this, at, instance) = (self.clone(), at.clone(), instance.clone());
        async move {
            match this.through_proxy(&at, &instance, "/metrics", Duration::from_secs(5)).await? {
                (200, text) => Ok(crate::gates::parse_metrics(&text)),
                (code, text) => Err(ProviderError::transient(format!("/metrics answered {code}: {}", text.trim()))),
            }
        }
    }

    fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    fn root(&self) -> &Path {
        &self.root
    }
}
