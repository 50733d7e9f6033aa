//! What the apply engine writes to the journal: a step's intent before it acts, its outcome
//! after, gate readings, approvals, and the versions known good once a release converges.

use conv_journal::Journal;
use std::sync::{Arc, Mutex};

/// Runs a journal call from inside the engine's runtime: the PostgreSQL client blocks on a
/// runtime of its own, which must not start on a runtime thread.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// A handle on the journal for one run; without a journal, it records nothing.
#[derive(Clone, Default)]
pub struct Recorder {
    journal: Option<Arc<Mutex<Journal>>>,
    run: i64,
    /// Stages an interrupted run left unfinished (`release/stage`): they bake again.
    pub unfinished_stages: Vec<String>,
}

impl Recorder {
    pub fn new(journal: Arc<Mutex<Journal>>, run: i64) -> Self {
        Recorder { journal: Some(journal), run, unfinished_stages: Vec::new() }
    }

    /// Resuming: these stages bake and check their gates again, changes or not.
    pub fn resuming(mut self, stages: Vec<String>) -> Self {
        self.unfinished_stages = stages;
        self
    }

    /// Writes the intent of a step; the step must not act if this fails.
    pub fn intent(&self, kind: &str, address: &str, detail: &str) -> Result<Option<i64>, String> {
        let Some(j) = &self.journal else { return Ok(None) };
        blocking(|| {
            let mut j = j.lock().map_err(|_| "the journal is unavailable".to_string())?;
            j.intent(self.run, kind, address, detail).map(Some).map_err(|e| e.to_string())
        })
    }

    pub fn outcome(&self, step: Option<i64>, ok: bool, message: &str) {
        if let (Some(j), Some(step)) = (&self.journal, step) {
            blocking(|| {
                if let Ok(mut j) = j.lock() {
                    let _ = j.outcome(step, ok, message);
                }
            })
        }
    }

    pub fn gate(&self, stage: &str, gate: &str, passed: bool, reading: &str) {
        if let Some(j) = &self.journal {
            blocking(|| {
                if let Ok(mut j) = j.lock() {
                    let _ = j.record_gate(self.run, stage, gate, passed, reading);
                }
            })
        }
    }

    pub fn approval(&self, release: &str, stage: &str, by: &str) {
        if let Some(j) = &self.journal {
            blocking(|| {
                if let Ok(mut j) = j.lock() {
                    let _ = j.record_approval(release, stage, by);
                }
            })
        }
    }

    pub fn known_good(&self, env: &str, site: &str, service: &str, version: &str, instances: u32) {
        if let Some(j) = &self.journal {
            blocking(|| {
                if let Ok(mut j) = j.lock() {
                    let _ = j.set_known_good(env, site, service, version, instances);
                }
            })
        }
    }
}
