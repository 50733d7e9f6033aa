//! Secrets: a service's `secrets` name where each value is read (an environment variable of
//! the apply, or a file); the value is read only when an instance starts and goes only to
//! that instance. Everything conv writes (plans, specs, records, the journal, events) carries
//! the reference, `(secret env NAME)`, so a rotated value is not a planned change.

use crate::provider::ProviderError;
use conv_model::{Program, SecretSource, Service};
use std::collections::BTreeMap;
use std::path::Path;

/// Reads one secret's value.
pub fn read(source: &SecretSource, root: &Path) -> Result<String, String> {
    match source {
        SecretSource::Env { name } => {
            std::env::var(name).map_err(|_| format!("environment variable {name} is not set"))
        }
        SecretSource::File { path } => {
            let full = root.join(path);
            std::fs::read_to_string(&full)
                .map(|text| text.strip_suffix('\n').map(str::to_string).unwrap_or(text))
                .map_err(|e| format!("cannot read {}: {e}", full.display()))
        }
    }
}

/// The secret environment of an instance of `service`: variable name to value.
pub fn values(service: &Service, root: &Path) -> Result<BTreeMap<String, String>, ProviderError> {
    service
        .secrets
        .iter()
        .map(|(var, source)| {
            read(source, root)
                .map(|value| (var.clone(), value))
                .map_err(|why| ProviderError::permanent(format!("secret {var} of {}: {why}", service.name)))
        })
        .collect()
}

/// The secrets of `services` that cannot be read now, a line each; what an apply checks
/// before it begins, so that it never stops halfway for want of one.
pub fn missing<'a>(program: &Program, services: impl IntoIterator<Item = &'a str>, root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for name in services {
        let Some(service) = program.services.iter().find(|s| s.name.as_str() == name) else { continue };
        for (var, source) in &service.secrets {
            if let Err(why) = read(source, root) {
                out.push(format!("secret {var} of {name} {}: {why}", source.reference()));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
