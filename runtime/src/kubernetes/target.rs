//! Where a site of a `kubernetes` environment is: a kubeconfig context and a namespace.
//! Without `context`, each site is the cluster of the context named like the site, and
//! services go into `namespace`; with `context`, the sites are namespaces of that one
//! cluster, each named like its site.

use conv_model::{EnvName, Program, Provider, SiteName};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    pub context: String,
    pub namespace: String,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "context {} namespace {}", self.context, self.namespace)
    }
}

pub fn target(program: &Program, env: &EnvName, site: &SiteName) -> Option<Target> {
    match &program.environment(env)?.provider {
        Provider::Kubernetes { context: None, namespace } => {
            Some(Target { context: site.as_str().to_string(), namespace: namespace.clone() })
        }
        Provider::Kubernetes { context: Some(context), .. } => {
            Some(Target { context: context.clone(), namespace: site.as_str().to_string() })
        }
        _ => None,
    }
}

/// The environments of the program that run on Kubernetes.
pub fn environments(program: &Program) -> impl Iterator<Item = &conv_model::Environment> {
    program.environments.iter().filter(|e| matches!(e.provider, Provider::Kubernetes { .. }))
}
