//! Reaching a cluster: kube-rs clients from the kubeconfig (KUBECONFIG, else
//! ~/.kube/config), one context per site, and API calls retried with backoff while the
//! answer is transient (429, 5xx, a timeout, a refused connection).

use super::target::Target;
use crate::provider::ProviderError;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many times a call is tried, in all, and the first pause between tries (doubling).
const ATTEMPTS: u32 = 6;
const FIRST_PAUSE: Duration = Duration::from_millis(200);

#[derive(Clone, Debug, Default)]
pub struct Clients {
    /// The kubeconfig, read once; `Err` says why it could not be.
    kubeconfig: Arc<Mutex<Option<Result<Kubeconfig, String>>>>,
    configs: Arc<Mutex<HashMap<String, Config>>>,
}

impl Clients {
    fn kubeconfig(&self) -> Result<Kubeconfig, ProviderError> {
        let mut slot = self.kubeconfig.lock().unwrap_or_else(|p| p.into_inner());
        let read =
            slot.get_or_insert_with(|| Kubeconfig::read().map_err(|e| format!("cannot read the kubeconfig: {e}")));
        read.clone().map_err(ProviderError::permanent)
    }

    /// A client for the site's cluster. A kube-rs client runs a task on the runtime it is
    /// made on, so one is made per operation; the parsed config is what is kept.
    pub async fn client(&self, target: &Target) -> Result<Client, ProviderError> {
        let cached = self.configs.lock().unwrap_or_else(|p| p.into_inner()).get(&target.context).cloned();
        let config = match cached {
            Some(c) => c,
            None => {
                let options = KubeConfigOptions { context: Some(target.context.clone()), ..Default::default() };
                let mut config = Config::from_custom_kubeconfig(self.kubeconfig()?, &options)
                    .await
                    .map_err(|e| ProviderError::permanent(format!("kubeconfig context {:?}: {e}", target.context)))?;
                config.connect_timeout = Some(Duration::from_secs(5));
                config.read_timeout = Some(Duration::from_secs(20));
                config.write_timeout = Some(Duration::from_secs(20));
                self.configs.lock().unwrap_or_else(|p| p.into_inner()).insert(target.context.clone(), config.clone());
                config
            }
        };
        Client::try_from(config).map_err(|e| ProviderError::permanent(format!("context {:?}: {e}", target.context)))
    }
}

/// Whether an API error is worth another try.
pub fn transient(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => status.code == 429 || status.code >= 500,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

pub fn describe(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) if !status.message.is_empty() => format!("{} ({})", status.message, status.code),
        other => other.to_string(),
    }
}

/// Runs `call` until it succeeds, fails for good, or has been tried `ATTEMPTS` times.
pub async fn retried<T, F, Fut>(what: &str, target: &Target, mut call: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut pause = FIRST_PAUSE;
    for attempt in 1..=ATTEMPTS {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) if transient(&e) && attempt < ATTEMPTS => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(3));
            }
            Err(e) => {
                let message = format!("{what} in {target}: {}", describe(&e));
                return Err(if transient(&e) {
                    ProviderError::transient(format!("{message}, after {ATTEMPTS} tries"))
                } else {
                    ProviderError::permanent(message)
                });
            }
        }
    }
    Err(ProviderError::transient(format!("{what} in {target}: no answer")))
}
