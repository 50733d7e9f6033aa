//! A session: everything around one run of apply, rollback, watch or destroy. It takes the
//! locks (the journal's, per site, and this machine's, per local base port), closes a run a
//! kill left open, begins the new run, hands the engine its `Recorder`, and ends the run and
//! lets go of the locks. The CLI only says what happened.

use crate::machine_lock::{self, PortLocks};
use crate::record::Recorder;
use conv_journal::{Holder, Journal, JournalError, Step};
use conv_model::Program;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Why a session could not begin.
#[derive(Debug)]
pub enum SessionError {
    /// A site is locked in the journal by another apply.
    Locked(Holder),
    /// Another apply on this machine uses the same local ports.
    PortsInUse(String),
    Journal(JournalError),
}

/// A run a kill left open, closed by this session.
#[derive(Clone, Debug)]
pub struct Resumed {
    pub run: i64,
    pub summary: String,
    /// Its steps that were in flight, now marked `interrupted`.
    pub in_flight: Vec<Step>,
}

pub struct Session {
    journal: Arc<Mutex<Journal>>,
    run: i64,
    _ports: Option<PortLocks>,
    /// Other programs on this machine that use the same local ports (warnings).
    pub shared_ports: Vec<String>,
    pub resumed: Option<Resumed>,
}

/// The journal's lock keys of the sites of `envs`: `production["p1"]`, one per site, so that
/// programs sharing a journal exclude each other on the sites they share.
pub fn lock_keys(program: &Program, envs: &[String]) -> Vec<String> {
    let mut keys = Vec::new();
    for env in program.environments.iter().filter(|e| envs.contains(&e.name.to_string())) {
        for site in &env.sites {
            keys.push(format!("{}[{:?}]", env.name, site.as_str()));
        }
    }
    keys
}

/// `production["p1"]` -> (`production`, `Some("\"p1\"")`).
pub fn split_key(key: &str) -> (&str, Option<&str>) {
    match key.split_once('[') {
        Some((env, site)) => (env, Some(site.trim_end_matches(']'))),
        None => (key, None),
    }
}

impl Session {
    /// Locks `keys` in the journal, then the local ports of `program` on this machine, closes
    /// an interrupted run, and begins a run described by `summary`.
    pub fn begin(
        mut journal: Journal,
        program: Option<&Program>,
        root: &Path,
        keys: &[String],
        summary: &str,
    ) -> Result<Session, SessionError> {
        match journal.lock(keys).map_err(SessionError::Journal)? {
            Ok(()) => {}
            Err(holder) => return Err(SessionError::Locked(holder)),
        }
        // After the journal's locks, which name their holder best; these catch other checkouts.
        let ports = match program.map(|p| machine_lock::lock_local_ports(p, root)) {
            Some(Ok(locks)) => Some(locks),
            Some(Err(why)) => {
                let _ = journal.unlock_mine();
                return Err(SessionError::PortsInUse(why));
            }
            None => None,
        };
        let mut resumed = None;
        if let Some(run) = journal.unfinished_run().map_err(SessionError::Journal)? {
            let in_flight = journal.close_interrupted(run.id).map_err(SessionError::Journal)?;
            resumed = Some(Resumed { run: run.id, summary: run.summary, in_flight });
        }
        let run = journal.begin_run(summary).map_err(SessionError::Journal)?;
        let shared_ports = ports.as_ref().map(|p| p.shared_with.clone()).unwrap_or_default();
        Ok(Session { journal: Arc::new(Mutex::new(journal)), run, _ports: ports, shared_ports, resumed })
    }

    /// The engine's handle on this run's journal.
    pub fn recorder(&self) -> Recorder {
        Recorder::new(self.journal.clone(), self.run)
    }

    /// Ends the run with `outcome` and lets go of its locks.
    pub fn end(self, outcome: &str) -> Result<(), JournalError> {
        let mut j = self.journal.lock().map_err(|_| JournalError::Other("the journal is unavailable".into()))?;
        j.finish_run(self.run, outcome).and_then(|_| j.unlock_mine())
    }
}

/// With nothing to apply, a run a kill left open is still closed, so the journal says how it
/// ended; a run whose process still lives on this host (or that ran on another) is left open.
/// Returns the run closed.
pub fn settle(journal: &mut Journal) -> Option<(i64, String)> {
    let run = journal.unfinished_run().ok()??;
    let (host, _, _) = conv_journal::whoami();
    if run.host != host || Path::new(&format!("/proc/{}", run.pid)).exists() {
        return None;
    }
    journal.close_interrupted(run.id).ok()?;
    Some((run.id, run.summary))
}
