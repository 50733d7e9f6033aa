//! How the runtime reaches sites. The engine knows only this trait. Every operation names
//! the instance it is about by its `InstanceAddress` (environment, site, service, slot), so a
//! program's environments can each go to the provider of their kind; what an instance is on
//! the provider's side (a process, a record, a Kubernetes workload) stays the provider's:
//! the engine holds its `Started` handle and the `Instance`s that `observe` reports.

use crate::gates::Sample;
use crate::live::{Instance, LiveState};
use conv_model::{EnvName, InstanceAddress, Program, Service};
use std::future::Future;
use std::path::Path;
use std::time::Duration;

/// Whether trying again may help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Worth another try: a timeout, a file that could not be written, a busy port.
    Transient,
    /// Trying again fails the same way until someone changes something.
    Permanent,
}

/// Why a provider operation failed, with a message for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ProviderError {
    pub fn transient(message: impl Into<String>) -> Self {
        ProviderError { kind: ErrorKind::Transient, message: message.into() }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        ProviderError { kind: ErrorKind::Permanent, message: message.into() }
    }
}

impl std::fmt::Display for ProviderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// An instance a provider started: an opaque handle of the provider's (a pid for local
/// processes), the port it serves on where the provider uses ports, and where its output goes.
#[derive(Clone, Debug)]
pub struct Started {
    pub handle: String,
    pub port: u16,
    pub log: String,
    /// Where it runs, for people: `on port 20001`, `in Deployment api-2-0-0 (context eu-1)`.
    pub place: String,
}

/// Every operation is idempotent: starting a slot replaces whatever runs in it, stopping an
/// empty slot does nothing, observing changes nothing. So a step interrupted at any point
/// can simply be done again.
pub trait Provider: Clone + Send + Sync + 'static {
    /// The live state of every site of the program this provider serves.
    fn observe(&self, program: &Program) -> impl Future<Output = LiveState> + Send;

    /// The live state of the sites of one environment: what a stage looks at.
    fn observe_env(&self, program: &Program, env: &EnvName) -> impl Future<Output = LiveState> + Send {
        let (this, program, env) = (self.clone(), program.clone(), env.clone());
        async move {
            let mut live = this.observe(&program).await;
            live.sites.retain(|(e, _, _), _| *e == env);
            live
        }
    }

    /// Runs `version` of `service` in the slot `at`, replacing what ran there. `port` is the
    /// plan's port for the slot, for providers whose instances listen on this machine.
    fn start(
        &self,
        at: &InstanceAddress,
        service: &Service,
        port: u16,
        version: &str,
    ) -> impl Future<Output = Result<Started, ProviderError>> + Send;

    /// Whether a change's slots on a site are started together, with `start_all`, as one
    /// rollout (Kubernetes), rather than one by one with `start` (processes).
    fn starts_together(&self, _at: &InstanceAddress) -> bool {
        false
    }

    /// Runs `version` of `service` in every slot of `slots` (all of one site and service) at
    /// once; the `Started` stands for them all, and `ready` with it says when all serve.
    /// Asked only where `starts_together`.
    fn start_all(
        &self,
        slots: &[InstanceAddress],
        service: &Service,
        version: &str,
    ) -> impl Future<Output = Result<Started, ProviderError>> + Send {
        let what = format!("{} {version} in {} slots", service.name, slots.len());
        async move { Err(ProviderError::permanent(format!("this provider starts slots one at a time, not {what}"))) }
    }

    /// Stops the slot `at`.
    fn stop(&self, at: &InstanceAddress) -> impl Future<Output = ()> + Send;

    /// Whether a started instance is ready: it serves. `Ok(false)` while it starts; an error
    /// when it cannot become ready.
    fn ready(
        &self,
        at: &InstanceAddress,
        started: &Started,
    ) -> impl Future<Output = Result<bool, ProviderError>> + Send;

    /// How long a started instance may take to become ready before its start fails.
    fn ready_timeout(&self, _at: &InstanceAddress) -> Duration {
        Duration::from_secs(10)
    }

    /// Whether an observed instance still runs.
    fn alive(&self, at: &InstanceAddress, instance: &Instance) -> impl Future<Output = bool> + Send;

    /// `GET path` on an instance: its status code.
    fn probe(
        &self,
        at: &InstanceAddress,
        instance: &Instance,
        path: &str,
        timeout: Duration,
    ) -> impl Future<Output = Result<u16, ProviderError>> + Send;

    /// The health signals of an instance: request counts and latency histogram.
    fn signals(
        &self,
        at: &InstanceAddress,
        instance: &Instance,
    ) -> impl Future<Output = Result<Sample, ProviderError>> + Send;

    /// Where the project's records live (`<program root>/.conv`).
    fn state_dir(&self) -> &Path;

    /// The program root, shown in hints such as `conv approve ... PATH`.
    fn root(&self) -> &Path;
}
