//! How the runtime reaches sites. The engine knows only this trait. Every operation names
//! the instance it is about by its `InstanceAddress` (environment, site, service, slot), so a
//! program's environments can each go to the provider of their kind; what an instance is on
//! the provider's side (a process, a record, a Kubernetes workload) stays the provider's:
//! the engine holds its `Started` handle and the `Instance`s that `observe` reports.

use crate::gates::Sample;
use crate::live::{Instance, LiveState};
use conv_model::{EnvName, InstanceAddress, Program, Service, SiteName};
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

/// What a provider is asked for: make one site run `version` of `service` on `instances`,
/// the share of the site's instances a stage's fraction covers (by slot), replacing what ran
/// on them. Where each runs (a port, a pod) is the provider's to choose.
#[derive(Clone, Copy, Debug)]
pub struct Rollout<'a> {
    pub env: &'a EnvName,
    pub site: &'a SiteName,
    pub service: &'a Service,
    pub version: &'a str,
    pub instances: &'a [u32],
}

impl Rollout<'_> {
    /// The address of one of the rollout's instances.
    pub fn slot(&self, index: u32) -> InstanceAddress {
        InstanceAddress::new(self.env, self.site, &self.service.name, index)
    }
}

/// Told of each instance of a rollout as it comes up and serves: its slot and handle.
pub type Up<'a> = dyn Fn(u32, &Started) + Send + Sync + 'a;

/// Every operation is idempotent: rolling out what already runs replaces it with the same,
/// stopping an empty slot does nothing, observing changes nothing. So a step interrupted at
/// any point can simply be done again.
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

    /// Makes the rollout's site run its version on its instances, and returns once they all
    /// serve; each instance is told to `up` as it comes up, so an instance not told of did
    /// not start. How is the provider's: processes one at a time, one Kubernetes rollout.
    fn roll_out(&self, rollout: &Rollout<'_>, up: &Up<'_>) -> impl Future<Output = Result<(), ProviderError>> + Send;

    /// Stops the slot `at`.
    fn stop(&self, at: &InstanceAddress) -> impl Future<Output = ()> + Send;

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

/// A rollout for providers whose instances start one at a time (processes, the simulator):
/// each is started, then waited for until `ready` says it serves (polled every 100 ms, for
/// at most `timeout`), then told up, then the next; the first that fails ends the rollout.
pub async fn one_by_one<S, R>(
    rollout: &Rollout<'_>,
    up: &Up<'_>,
    timeout: Duration,
    start: impl Fn(InstanceAddress) -> S,
    ready: impl Fn(InstanceAddress, Started) -> R,
) -> Result<(), ProviderError>
where
    S: Future<Output = Result<Started, ProviderError>>,
    R: Future<Output = Result<bool, ProviderError>>,
{
    for &index in rollout.instances {
        let at = rollout.slot(index);
        let started = start(at.clone()).await?;
        wait_ready(timeout, &started, || ready(at.clone(), started.clone())).await?;
        up(index, &started);
    }
    Ok(())
}

/// Polls `ready` until it says the started instance serves, for at most `timeout`; a failure
/// names where the instance's output went.
pub async fn wait_ready<R: Future<Output = Result<bool, ProviderError>>>(
    timeout: Duration,
    started: &Started,
    ready: impl Fn() -> R,
) -> Result<(), ProviderError> {
    // tokio's clock, so that tests can pause it.
    let deadline = tokio::time::Instant::now() + timeout;
    let with_log =
        |e: ProviderError| ProviderError { kind: e.kind, message: format!("{} (log: {})", e.message, started.log) };
    loop {
        if ready().await.map_err(with_log)? {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            let what = match started.port {
                0 => "was not ready".to_string(),
                port => format!("did not answer on port {port}"),
            };
            let within = conv_model::program::duration(timeout.as_millis() as u64);
            return Err(with_log(ProviderError::transient(format!("{what} within {within}"))));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
