//! One provider for a whole program: a registry of the providers this conv has, each
//! environment's operations going to the one of the kind it names (local processes,
//! Kubernetes clusters or the simulator), by the environment in the instance's address.

use crate::gates::Sample;
use crate::kubernetes::KubernetesProvider;
use crate::live::Instance;
use crate::live::LiveState;
use crate::local::LocalProvider;
use crate::provider::{Provider, ProviderError, Rollout, Up};
use crate::simulator::Simulator;
use conv_model::{EnvName, InstanceAddress, Program};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Fleet {
    pub local: LocalProvider,
    pub sim: Simulator,
    pub kube: KubernetesProvider,
    program: Arc<Program>,
}

impl Fleet {
    pub fn new(program_root: &Path, program: &Program) -> Self {
        let program = Arc::new(program.clone());
        Fleet {
            local: LocalProvider::for_program(program_root, program.clone()),
            sim: Simulator::new(program_root, program.clone()),
            kube: KubernetesProvider::new(program_root, program.clone()),
            program,
        }
    }

    fn has_kubernetes(&self, program: &Program) -> bool {
        crate::kubernetes::target::environments(program).next().is_some()
    }

    /// Observes every environment, without a runtime of the caller's.
    pub fn observe_now(&self, program: &Program) -> LiveState {
        let mut live = self.local.observe(program);
        live.sites.extend(self.sim.observe_now(program).sites);
        if self.has_kubernetes(program) {
            let kube = self.kube.clone();
            let seen = on_own_runtime(async move { Provider::observe(&kube, program).await }).unwrap_or_default();
            live.sites.extend(seen.sites);
            live.unobserved.extend(seen.unobserved);
        }
        live
    }

    /// Stops everything conv started or simulated for the project.
    pub fn destroy_all(&self) -> usize {
        let mut stopped = self.local.destroy_all() + self.sim.destroy_all(&self.program);
        if self.has_kubernetes(&self.program) {
            let kube = self.kube.clone();
            stopped += on_own_runtime(async move { kube.destroy_all().await }).unwrap_or(0);
        }
        stopped
    }
}

/// Runs `work` to its end on a runtime of its own, on a thread of its own, so that it can be
/// called from sync code and from inside another runtime alike.
fn on_own_runtime<T: Send>(work: impl std::future::Future<Output = T> + Send) -> Option<T> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                Some(runtime.block_on(work))
            })
            .join()
            .ok()
            .flatten()
    })
}

/// The kinds of provider this conv reaches; the registry `Fleet` routes by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Local,
    Simulator,
    Kubernetes,
}

impl Fleet {
    /// Which provider serves the environment of `at`, from the kind the program names.
    fn kind(&self, at: &InstanceAddress) -> Kind {
        self.kind_of(&at.env)
    }

    fn kind_of(&self, env: &EnvName) -> Kind {
        match self.program.environment(env).map(|e| &e.provider) {
            Some(conv_model::Provider::Simulator { .. }) => Kind::Simulator,
            Some(conv_model::Provider::Kubernetes { .. }) => Kind::Kubernetes,
            _ => Kind::Local,
        }
    }
}

/// Runs `$call` on the provider of `$at`'s environment.
macro_rules! routed {
    ($self:ident, $at:expr, |$p:ident| $call:expr) => {{
        let this = $self.clone();
        let kind = this.kind($at);
        async move {
            match kind {
                Kind::Local => {
                    let $p = &this.local;
                    $call.await
                }
                Kind::Simulator => {
                    let $p = &this.sim;
                    $call.await
                }
                Kind::Kubernetes => {
                    let $p = &this.kube;
                    $call.await
                }
            }
        }
    }};
}

impl Provider for Fleet {
    fn observe(&self, program: &Program) -> impl std::future::Future<Output = LiveState> + Send {
        // The simulator reads memory; local processes are looked at off the async threads.
        let local = program.environments.iter().any(|e| matches!(e.provider, conv_model::Provider::Local { .. }));
        let mut simulated = self.sim.observe_now(program);
        let (this, program) = (self.clone(), program.clone());
        async move {
            if local {
                let (this, program) = (this.clone(), program.clone());
                let seen = tokio::task::spawn_blocking(move || this.local.observe(&program)).await.unwrap_or_default();
                simulated.sites.extend(seen.sites);
            }
            if this.has_kubernetes(&program) {
                let seen = Provider::observe(&this.kube, &program).await;
                simulated.sites.extend(seen.sites);
                simulated.unobserved.extend(seen.unobserved);
            }
            simulated
        }
    }

    fn observe_env(&self, program: &Program, env: &EnvName) -> impl std::future::Future<Output = LiveState> + Send {
        let kind = self.kind_of(env);
        let simulated = (kind == Kind::Simulator).then(|| self.sim.observe_in(program, env));
        let (this, program, env) = (self.clone(), program.clone(), env.clone());
        async move {
            match (kind, simulated) {
                (_, Some(live)) => live,
                (Kind::Kubernetes, None) => this.kube.observe_env(&program, &env).await,
                (_, None) => {
                    tokio::task::spawn_blocking(move || this.local.observe_in(&program, &env)).await.unwrap_or_default()
                }
            }
        }
    }

    fn roll_out(
        &self,
        rollout: &Rollout<'_>,
        up: &Up<'_>,
    ) -> impl std::future::Future<Output = Result<(), ProviderError>> + Send {
        let kind = self.kind_of(rollout.env);
        async move {
            match kind {
                Kind::Local => self.local.roll_out(rollout, up).await,
                Kind::Simulator => self.sim.roll_out(rollout, up).await,
                Kind::Kubernetes => self.kube.roll_out(rollout, up).await,
            }
        }
    }

    fn stop(&self, at: &InstanceAddress) -> impl std::future::Future<Output = ()> + Send {
        let at = at.clone();
        routed!(self, &at, |p| Provider::stop(p, &at))
    }

    fn alive(&self, at: &InstanceAddress, instance: &Instance) -> impl std::future::Future<Output = bool> + Send {
        let (at, instance) = (at.clone(), instance.clone());
        routed!(self, &at, |p| Provider::alive(p, &at, &instance))
    }

    fn probe(
        &self,
        at: &InstanceAddress,
        instance: &Instance,
        path: &str,
        timeout: Duration,
    ) -> impl std::future::Future<Output = Result<u16, ProviderError>> + Send {
        let (at, instance, path) = (at.clone(), instance.clone(), path.to_string());
        routed!(self, &at, |p| Provider::probe(p, &at, &instance, &path, timeout))
    }

    fn signals(
        &self,
        at: &InstanceAddress,
        instance: &Instance,
    ) -> impl std::future::Future<Output = Result<Sample, ProviderError>> + Send {
        let (at, instance) = (at.clone(), instance.clone());
        routed!(self, &at, |p| Provider::signals(p, &at, &instance))
    }

    fn state_dir(&self) -> &Path {
        Provider::state_dir(&self.local)
    }

    fn root(&self) -> &Path {
        Provider::root(&self.local)
    }
}
