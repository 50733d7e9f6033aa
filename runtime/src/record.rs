//! What the apply engine writes to the journal: a step's intent before it acts, its outcome
//! after, where each stage stands, gate readings, approvals, and the versions known good once
//! a release converges. A write that fails stops the run before the next step acts.

use crate::plan::KnownGood;
use conv_journal::{Journal, StageResult};
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

/// A journal write that failed: the run stops, since what follows could not be recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct JournalWriteError(pub String);

impl std::fmt::Display for JournalWriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write the journal, so the run stops here: {}", self.0)
    }
}

type Written<T> = Result<T, JournalWriteError>;

/// A handle on the journal for one run; without a journal, it records nothing.
#[derive(Clone, Default)]
pub struct Recorder {
    journal: Option<Arc<Mutex<Journal>>>,
    run: i64,
    /// What the journal last saw converged: automatic rollbacks go back to it.
    pub known_good: KnownGood,
}

impl Recorder {
    pub fn new(journal: Arc<Mutex<Journal>>, run: i64) -> Self {
        let known_good = blocking(|| {
            journal.lock().ok().and_then(|mut j| j.known_good().ok()).map(|rows| rows.into_iter().collect())
        })
        .unwrap_or_default();
        Recorder { journal: Some(journal), run, known_good }
    }

    pub fn run(&self) -> i64 {
        self.run
    }

    fn with<T: Default>(&self, f: impl FnOnce(&mut Journal) -> Result<T, conv_journal::JournalError>) -> Written<T> {
        let Some(j) = &self.journal else { return Ok(T::default()) };
        blocking(|| {
            let mut j = j.lock().map_err(|_| JournalWriteError("the journal is unavailable".into()))?;
            f(&mut j).map_err(|e| JournalWriteError(e.to_string()))
        })
    }

    /// Writes the intent of a step; the step must not act if this fails.
    pub fn intent(&self, kind: &str, address: &str, detail: &str) -> Written<Option<i64>> {
        let run = self.run;
        self.with(|j| j.intent(run, kind, address, detail).map(Some))
    }

    pub fn outcome(&self, step: Option<i64>, ok: bool, message: &str) -> Written<()> {
        let Some(step) = step else { return Ok(()) };
        self.with(|j| j.outcome(step, ok, message))
    }

    /// Where a stage of a release stands for `versions`: running, converged, failed or paused.
    pub fn stage(
        &self,
        release: &str,
        stage: &str,
        env: &str,
        versions: &str,
        state: &str,
        reason: &str,
    ) -> Written<()> {
        let result = StageResult {
            release: release.into(),
            stage: stage.into(),
            env: env.into(),
            versions: versions.into(),
            state: state.into(),
            run: self.run,
            reason: reason.into(),
            recorded_at: 0,
        };
        self.with(|j| j.set_stage_result(&result))
    }

    pub fn gate(&self, stage: &str, gate: &str, passed: bool, reading: &str) -> Written<()> {
        let run = self.run;
        self.with(|j| j.record_gate(run, stage, gate, passed, reading))
    }

    pub fn approval(&self, release: &str, stage: &str, by: &str) -> Written<()> {
        self.with(|j| j.record_approval(release, stage, by))
    }

    pub fn known_good(
        &self,
        env: &str,
        site: &str,
        service: &str,
        version: &str,
        instances: u32,
        spec: &str,
    ) -> Written<()> {
        self.with(|j| j.set_known_good(env, site, service, version, instances, spec))
    }
}

/// The journal as a sink of the event stream: a thread writes the events in batches, so
/// that views in other processes (`conv status --watch`, `conv serve`) can follow a run.
/// Steps are still recorded one by one, before they act; events only tell what happened.
pub struct EventLog {
    tx: std::sync::Arc<std::sync::Mutex<Option<std::sync::mpsc::Sender<(u64, String, String)>>>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl EventLog {
    /// Starts the writer; without a journal, the sink drops everything.
    pub fn start(rec: &Recorder) -> (EventLog, crate::event::Sink) {
        let Some(journal) = rec.journal.clone() else {
            return (EventLog { tx: Default::default(), writer: None }, crate::event::discard());
        };
        let run = rec.run;
        let (tx, rx) = std::sync::mpsc::channel::<(u64, String, String)>();
        let writer = std::thread::spawn(move || {
            let mut warned = false;
            while let Ok(first) = rx.recv() {
                let mut batch = vec![(run, first.0, first.1, first.2)];
                while let (true, Ok(next)) = (batch.len() < 1000, rx.try_recv()) {
                    batch.push((run, next.0, next.1, next.2));
                }
                let written = journal
                    .lock()
                    .map_err(|_| "the journal is unavailable".to_string())
                    .and_then(|mut j| j.record_events(&batch).map_err(|e| e.to_string()));
                if let (Err(why), false) = (written, warned) {
                    eprintln!("warning: cannot record events in the journal: {why}");
                    warned = true;
                }
            }
        });
        let tx = std::sync::Arc::new(std::sync::Mutex::new(Some(tx)));
        let sender = tx.clone();
        let sink: crate::event::Sink = std::sync::Arc::new(move |e: &crate::event::Event| {
            let at_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
            if let Some(tx) = sender.lock().ok().as_ref().and_then(|g| g.as_ref()) {
                let _ = tx.send((at_ms, e.kind().to_string(), crate::event::json_line(e)));
            }
        });
        (EventLog { tx, writer: Some(writer) }, sink)
    }

    /// Waits until every event sent so far is written; later events are dropped.
    pub fn finish(mut self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}
