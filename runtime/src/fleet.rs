//! One provider for a whole program: each environment's operations go to the provider it
//! names (local processes or the simulator).

use crate::gates::Sample;
use crate::live::LiveState;
use crate::local::LocalProvider;
use crate::provider::{Provider, Started};
use crate::simulator::Simulator;
use conv_model::{EnvName, Program, Service, ServiceName, SiteName};
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
        self.local.destroy_all() + self.sim.destroy_all()
    }
}

impl Provider for Fleet {
    fn observe(&self, program: &Program) -> impl std::future::Future<Output = LiveState> + Send {
        let (this, program) = (self.clone(), program.clone());
        async move { tokio::task::spawn_blocking(move || this.observe_now(&program)).await.unwrap_or_default() }
    }

    fn start(
        &self,
        env: &EnvName,
        site: &SiteName,
        service: &Service,
        index: u32,
        port: u16,
        version: &str,
    ) -> impl std::future::Future<Output = Result<Started, String>> + Send {
        let simulated = Simulator::serves(&self.program, env);
        let (this, env, site, service, version) =
            (self.clone(), env.clone(), site.clone(), service.clone(), version.to_string());
        async move {
            if simulated {
                Provider::start(&this.sim, &env, &site, &service, index, port, &version).await
            } else {
                Provider::start(&this.local, &env, &site, &service, index, port, &version).await
            }
        }
    }

    fn stop(
        &self,
        env: &EnvName,
        site: &SiteName,
        service: &ServiceName,
        index: u32,
    ) -> impl std::future::Future<Output = ()> + Send {
        let simulated = Simulator::serves(&self.program, env);
        let (this, env, site, service) = (self.clone(), env.clone(), site.clone(), service.clone());
        async move {
            if simulated {
                Provider::stop(&this.sim, &env, &site, &service, index).await
            } else {
                Provider::stop(&this.local, &env, &site, &service, index).await
            }
        }
    }

    fn alive(&self, pid: u32) -> impl std::future::Future<Output = bool> + Send {
        // Simulated instances have no process.
        async move { pid == 0 || crate::local::is_alive(pid) }
    }

    fn ready(&self, started: &Started, port: u16) -> impl std::future::Future<Output = Result<bool, String>> + Send {
        let (this, started) = (self.clone(), started.clone());
        async move {
            // Simulated instances have no process.
            if started.pid == 0 {
                Provider::ready(&this.sim, &started, port).await
            } else {
                Provider::ready(&this.local, &started, port).await
            }
        }
    }

    fn probe(
        &self,
        port: u16,
        path: &str,
        timeout: Duration,
    ) -> impl std::future::Future<Output = Result<u16, String>> + Send {
        let (this, path) = (self.clone(), path.to_string());
        async move {
            if this.sim.owns_port(port) {
                Provider::probe(&this.sim, port, &path, timeout).await
            } else {
                Provider::probe(&this.local, port, &path, timeout).await
            }
        }
    }

    fn signals(&self, port: u16) -> impl std::future::Future<Output = Result<Sample, String>> + Send {
        let this = self.clone();
        async move {
            if this.sim.owns_port(port) {
                Provider::signals(&this.sim, port).await
            } else {
                Provider::signals(&this.local, port).await
            }
        }
    }

    fn state_dir(&self) -> &Path {
        Provider::state_dir(&self.local)
    }

    fn root(&self) -> &Path {
        Provider::root(&self.local)
    }
}
