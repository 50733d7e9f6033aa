//! Live state of a kubernetes environment, from the Deployments that carry conv's labels:
//! each slot a Deployment lists is an instance of its version. A slot beyond the replicas
//! the Deployment has (scaled down by hand) is dead; one not yet available does not answer;
//! the image and env as the cluster holds them are its spec, so an edit by hand is drift.

use super::{KubernetesProvider, objects};
use crate::live::{Health, Instance, LiveState, Spec};
use conv_model::{EnvName, Program};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, ListParams};

pub async fn environment(provider: &KubernetesProvider, program: &Program, env: &EnvName) -> LiveState {
    let Some(environment) = program.environment(env) else { return LiveState::default() };
    let mut tasks = tokio::task::JoinSet::new();
    for site in environment.sites.clone() {
        let (provider, env) = (provider.clone(), env.clone());
        tasks.spawn(async move {
            let listed = list_site(&provider, &env, &site).await;
            (site, listed)
        });
    }
    let mut live = LiveState::default();
    while let Some(Ok((site, listed))) = tasks.join_next().await {
        let deployments = match listed {
            Ok(d) => d,
            Err(why) => {
                live.unobserved.push((format!("{env}[{:?}]", site.as_str()), why.message));
                continue;
            }
        };
        for d in deployments {
            let Some(service) = d.metadata.labels.as_ref().and_then(|l| l.get(objects::SERVICE)).cloned() else {
                continue;
            };
            let Some(service) = program.services.iter().find(|s| objects::label_value(s.name.as_str()) == service)
            else {
                continue;
            };
            let list = live.sites.entry((env.clone(), site.clone(), service.name.clone())).or_default();
            list.extend(instances(service, &d));
        }
    }
    for list in live.sites.values_mut() {
        list.sort_by_key(|i| i.index);
    }
    live.unobserved.sort();
    live
}

/// A site's Deployments, or why the cluster could not tell (after retries).
async fn list_site(
    provider: &KubernetesProvider,
    env: &EnvName,
    site: &conv_model::SiteName,
) -> Result<Vec<Deployment>, crate::provider::ProviderError> {
    let target = provider.target(env, site)?;
    let api: Api<Deployment> = Api::namespaced(provider.clients.client(&target).await?, &target.namespace);
    let params = ListParams::default().labels(&format!("{}={}", objects::PROJECT, provider.project));
    super::client::retried("listing Deployments", &target, || api.list(&params)).await.map(|l| l.items)
}

fn instances(service: &conv_model::Service, d: &Deployment) -> Vec<Instance> {
    let Some(version) = objects::version_of(d) else { return Vec::new() };
    let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0) as usize;
    let available = d.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0).max(0) as usize;
    let spec = observed_spec(service, &version, d);
    let port = service.ports.first().copied().unwrap_or(0);
    objects::slots_of(d)
        .into_iter()
        .enumerate()
        .map(|(n, index)| {
            let health = if n >= replicas {
                Health::Dead(None)
            } else if n >= available {
                Health::NotAnswering
            } else {
                Health::Serving
            };
            Instance {
                index,
                version: version.clone(),
                port,
                pid: 0,
                alive: n < replicas,
                health,
                spec: Some(spec.clone()),
            }
        })
        .collect()
}

/// The spec as the program would write it: an image whose tag is the version, for a service
/// with no tag of its own, reads back as the bare image name.
fn observed_spec(service: &conv_model::Service, version: &str, d: &Deployment) -> Spec {
    let container = d.spec.as_ref().and_then(|s| s.template.spec.as_ref()).and_then(|p| p.containers.first());
    let image = container.and_then(|c| c.image.clone()).unwrap_or_default();
    let argv = match &service.run {
        conv_model::Run::Image { name, tag: None } if image == format!("{name}:{version}") => name.clone(),
        _ => image,
    };
    let env = container
        .and_then(|c| c.env.as_ref())
        .map(|vars| {
            vars.iter()
                .map(|v| {
                    // A variable read from conv's Secret reads back as the program's reference.
                    let value = match (&v.value_from, service.secrets.get(&v.name)) {
                        (Some(_), Some(source)) => source.reference(),
                        (Some(_), None) => "(from a Secret)".to_string(),
                        (None, _) => v.value.clone().unwrap_or_default(),
                    };
                    (v.name.clone(), value)
                })
                .collect()
        })
        .unwrap_or_default();
    Spec { argv: vec![argv], env }
}
