//! How the runtime reaches sites. The engine knows only this trait; `local` implements it
//! with real processes on this machine.

use crate::gates::Sample;
use crate::live::LiveState;
use conv_model::{EnvName, Program, Service, ServiceName, SiteName};
use std::future::Future;
use std::path::Path;
use std::time::Duration;

/// An instance a provider started.
#[derive(Clone, Debug)]
pub struct Started {
    pub pid: u32,
    /// Where its output goes, for failure reports.
    pub log: String,
}

/// Every operation is idempotent: starting a slot replaces whatever runs in it, stopping an
/// empty slot does nothing, observing changes nothing. So a step interrupted at any point
/// can simply be done again.
pub trait Provider: Clone + Send + Sync + 'static {
    /// The live state of every site of the program this provider serves.
    fn observe(&self, program: &Program) -> impl Future<Output = LiveState> + Send;

    /// Runs `version` of `service` in instance slot `index` on `port`, replacing what ran there.
    fn start(
        &self,
        env: &EnvName,
        site: &SiteName,
        service: &Service,
        index: u32,
        port: u16,
        version: &str,
    ) -> impl Future<Output = Result<Started, String>> + Send;

    /// Stops instance slot `index`.
    fn stop(
        &self,
        env: &EnvName,
        site: &SiteName,
        service: &ServiceName,
        index: u32,
    ) -> impl Future<Output = ()> + Send;

    /// Whether a started process is still running.
    fn alive(&self, pid: u32) -> impl Future<Output = bool> + Send;

    /// Whether a started instance is ready: its own process answers on `port`. `Ok(false)`
    /// while it starts; an error when it cannot become ready (it exited, or another program
    /// holds its port).
    fn ready(&self, started: &Started, port: u16) -> impl Future<Output = Result<bool, String>> + Send;

    /// `GET path` on an instance: its status code.
    fn probe(&self, port: u16, path: &str, timeout: Duration) -> impl Future<Output = Result<u16, String>> + Send;

    /// The health signals of an instance: request counts and latency histogram.
    fn signals(&self, port: u16) -> impl Future<Output = Result<Sample, String>> + Send;

    /// Where the project's records live (`<program root>/.conv`).
    fn state_dir(&self) -> &Path;

    /// The program root, shown in hints such as `conv approve ... PATH`.
    fn root(&self) -> &Path;
}
