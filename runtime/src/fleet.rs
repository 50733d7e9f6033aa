//! One provider for a whole program: a registry of the providers this conv has, each
//! environment's operations going to the one of the kind it names (local processes or the
//! simulator), by the environment in the instance's address.

use crate::gates::Sample;
use crate::live::Instance;
use crate::live::LiveState;
use crate::local::LocalProvider;
use crate::provider::{Provider, ProviderError, Started};
use crate::simulator::Simulator;
use conv_model::{EnvName, InstanceAddress, Program, Service};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Fleet {
    pub local: LocalProvider,
    pub sim: Simulator,
    program: Arc<Program>,
}

impl Fleet {
    pub fn new(program_root: &Path, program: &Program) -> Self {
        let program = Arc::new(program.clone());
        Fleet { local: LocalProvider::new(program_root), sim: Simulator::new(program_root, program.clone()), program }
    }

    /// Observes every environment, without a runtime.
    pub fn observe_now(&self, program: &Program) -> LiveState {
        let mut live = self.local.observe(program);
        live.sites.extend(self.sim.observe_now(program).sites);
        live
    }

    /// Stops everything conv started or simulated for the project.
    pub fn destroy_all(&self) -> usize {
        self.local.destroy_all() + self.sim.destroy_all(&self.program)
    }
}

/// The kinds of provider this conv reaches; the registry `Fleet` routes by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Local,
    Simulator,
}

impl Fleet {
    /// Which provider serves the environment of `at`, from the kind the program names.
    fn kind(&self, at: &InstanceAddress) -> Kind {
        self.kind_of(&at.env)
    }

    fn kind_of(&self, env: &EnvName) -> Kind {
        match self.program.environment(env).map(|e| &e.provider) {
            Some(conv_model::Provider::Simulator { .. }) => Kind::Simulator,
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
            }
        }
    }};
}

impl Provider for Fleet {
    fn observe(&self, program: &Program) -> impl std::future::Future<Output = LiveState> + Send {
        // The simulator reads memory; local processes are looked at off the async threads.
        let local = program.environments.iter().any(|e| matches!(e.provider, conv_model::Provider::Local { .. }));
        let simulated = (!local).then(|| self.sim.observe_now(program));
        let (this, program) = (self.clone(), local.then(|| program.clone()));
        async move {
            match (simulated, program) {
                (Some(live), _) => live,
                (None, Some(program)) => {
                    tokio::task::spawn_blocking(move || this.observe_now(&program)).await.unwrap_or_default()
                }
                (None, None) => LiveState::default(),
            }
        }
    }

    fn observe_env(&self, program: &Program, env: &EnvName) -> impl std::future::Future<Output = LiveState> + Send {
        let simulated = (self.kind_of(env) == Kind::Simulator).then(|| self.sim.observe_in(program, env));
        let (this, program, env) = (self.clone(), simulated.is_none().then(|| program.clone()), env.clone());
        async move {
            match (simulated, program) {
                (Some(live), _) => live,
                (None, Some(program)) => {
                    tokio::task::spawn_blocking(move || this.local.observe_in(&program, &env)).await.unwrap_or_default()
                }
                (None, None) => LiveState::default(),
            }
        }
    }

    fn start(
        &self,
        at: &InstanceAddress,
        service: &Service,
        port: u16,
        version: &str,
    ) -> impl std::future::Future<Output = Result<Started, ProviderError>> + Send {
        let (at, service, version) = (at.clone(), service.clone(), version.to_string());
        routed!(self, &at, |p| Provider::start(p, &at, &service, port, &version))
    }

    fn stop(&self, at: &InstanceAddress) -> impl std::future::Future<Output = ()> + Send {
        let at = at.clone();
        routed!(self, &at, |p| Provider::stop(p, &at))
    }

    fn ready(
        &self,
        at: &InstanceAddress,
        started: &Started,
    ) -> impl std::future::Future<Output = Result<bool, ProviderError>> + Send {
        let (at, started) = (at.clone(), started.clone());
        routed!(self, &at, |p| Provider::ready(p, &at, &started))
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
