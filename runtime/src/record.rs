//! What the apply engine writes to the journal: a step's intent before it acts, its outcome
//! after, where each stage stands, gate readings, approvals, and the versions known good once
//! a release converges. A write that fails stops the run before the next step acts.

use crate::plan::KnownGood;
use conv_journal::{Journal, JournalError, StageResult};
use std::sync::{Arc, Mutex};

/// A journal write that failed: the run stops, since what follows could not be recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct JournalWriteError(pub String);

impl std::fmt::Display for JournalWriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write the journal, so the run stops here: {}", self.0)
    }
}

type Written<T> = Result<T, JournalWriteError>;

/// One write for the writer: what to do with the journal, and where its result goes.
type Write = Box<dyn FnOnce(&mut Journal) -> Result<Option<i64>, JournalError> + Send>;
type Reply = tokio::sync::oneshot::Sender<Result<Option<i64>, String>>;

/// The journal's one writer for a run: a thread that takes every write the engine's tasks
/// send and commits those waiting together in one transaction (group commit), so that a
/// thousand sites deploying at once cost a few syncs, not a thousand. Each caller still
/// waits until its own write is durable before its step acts.
/// The most writes committed together.
const MAX_BATCH: usize = 4096;

struct Writer {
    tx: std::sync::mpsc::Sender<(Write, Reply)>,
    /// Why a write failed, once one has: every later write fails with it, so that a write
    /// nobody waited for (a posted outcome) still stops the run before its next step acts.
    failed: Arc<Mutex<Option<String>>>,
}

impl Writer {
    fn start(journal: Arc<Mutex<Journal>>) -> Writer {
        let (tx, rx) = std::sync::mpsc::channel::<(Write, Reply)>();
        let failed = Arc::new(Mutex::new(None));
        let failure = failed.clone();
        std::thread::spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut batch = vec![first];
                // The size is checked before taking the next write, so that none is taken
                // and then dropped when the batch is full.
                while batch.len() < MAX_BATCH {
                    let Ok(next) = rx.try_recv() else { break };
                    batch.push(next);
                }
                let (writes, replies): (Vec<Write>, Vec<Reply>) = batch.into_iter().unzip();
                let results = match journal.lock() {
                    Ok(mut j) => j
                        .batch(|j| writes.into_iter().map(|w| w(j)).collect::<Result<Vec<_>, _>>())
                        .map_err(|e| e.to_string()),
                    Err(_) => Err("the journal is unavailable".to_string()),
                };
                match results {
                    Ok(ids) => {
                        for (reply, id) in replies.into_iter().zip(ids) {
                            let _ = reply.send(Ok(id));
                        }
                    }
                    Err(why) => {
                        if let Ok(mut f) = failure.lock() {
                            f.get_or_insert(why.clone());
                        }
                        for reply in replies {
                            let _ = reply.send(Err(why.clone()));
                        }
                    }
                }
            }
        });
        Writer { tx, failed }
    }

    /// Sends a write, unless an earlier one failed.
    fn send(&self, write: Write, reply: Reply) -> Written<()> {
        if let Some(why) = self.failed.lock().ok().and_then(|f| f.clone()) {
            return Err(JournalWriteError(why));
        }
        self.tx.send((write, reply)).map_err(|_| JournalWriteError("the journal writer stopped".into()))
    }
}

/// A handle on the journal for one run; without a journal, it records nothing.
#[derive(Clone, Default)]
pub struct Recorder {
    journal: Option<Arc<Mutex<Journal>>>,
    writer: Option<Arc<Writer>>,
    run: i64,
    /// What the journal last saw converged: automatic rollbacks go back to it.
    pub known_good: KnownGood,
}

impl Recorder {
    pub fn new(journal: Arc<Mutex<Journal>>, run: i64) -> Self {
        let known_good = journal
            .lock()
            .ok()
            .and_then(|mut j| j.known_good().ok())
            .map(|rows| rows.into_iter().collect())
            .unwrap_or_default();
        let writer = Some(Arc::new(Writer::start(journal.clone())));
        Recorder { journal: Some(journal), writer, run, known_good }
    }

    pub fn run(&self) -> i64 {
        self.run
    }

    /// Where every stage stands in the journal now (empty without a journal).
    pub async fn stage_results(&self) -> Written<Vec<StageResult>> {
        self.through_writer(|j| j.stage_results()).await
    }

    /// Runs `f` on the journal in the writer's order and gives back what it returned;
    /// without a journal, `T`'s default.
    async fn through_writer<T: Default + Send + 'static>(
        &self,
        f: impl FnOnce(&mut Journal) -> Result<T, JournalError> + Send + 'static,
    ) -> Written<T> {
        let found = Arc::new(Mutex::new(T::default()));
        let slot = found.clone();
        self.write(move |j| {
            let value = f(j)?;
            *slot.lock().map_err(|_| JournalError::Other("poisoned".into()))? = value;
            Ok(None)
        })
        .await?;
        let value = found.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default();
        Ok(value)
    }

    /// Sends a write to the writer and waits until it is committed.
    async fn write(
        &self,
        f: impl FnOnce(&mut Journal) -> Result<Option<i64>, JournalError> + Send + 'static,
    ) -> Written<Option<i64>> {
        let Some(writer) = &self.writer else { return Ok(None) };
        let (reply, answer) = tokio::sync::oneshot::channel();
        writer.send(Box::new(f), reply)?;
        match answer.await {
            Ok(result) => result.map_err(JournalWriteError),
            Err(_) => Err(JournalWriteError("the journal writer stopped".into())),
        }
    }

    /// Writes the intent of a step; the step must not act if this fails.
    pub async fn intent(&self, kind: &str, address: &str, detail: &str) -> Written<Option<i64>> {
        let (run, kind, address, detail) = (self.run, kind.to_string(), address.to_string(), detail.to_string());
        self.write(move |j| j.intent(run, &kind, &address, &detail).map(Some)).await
    }

    /// Writes the intents of several steps at once (one commit), before any of them acts.
    /// Each step is `(kind, address, detail)`.
    pub async fn intents(&self, steps: Vec<(&'static str, String, String)>) -> Written<Vec<Option<i64>>> {
        if self.writer.is_none() {
            return Ok(vec![None; steps.len()]);
        }
        let run = self.run;
        let ids = self
            .through_writer(move |j| {
                steps
                    .iter()
                    .map(|(kind, address, detail)| j.intent(run, kind, address, detail))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        Ok(ids.into_iter().map(Some).collect())
    }

    /// Sends the outcome of a step without waiting for it to be committed: it is, in order,
    /// before any later write, and if it fails, every later write fails (see `Writer`).
    pub fn post_outcome(&self, step: Option<i64>, ok: bool, message: &str) -> Written<()> {
        let (Some(writer), Some(step)) = (&self.writer, step) else { return Ok(()) };
        let message = message.to_string();
        let (reply, _unheard) = tokio::sync::oneshot::channel();
        writer.send(Box::new(move |j| j.outcome(step, ok, &message).map(|_| None)), reply)
    }

    /// Waits until every write sent so far is committed; the first that failed, if any did.
    pub async fn flush(&self) -> Written<()> {
        self.write(|_| Ok(None)).await.map(|_| ())
    }

    /// Posts (as `post_outcome`) that a step was never tried.
    pub fn post_skipped(&self, step: Option<i64>, message: &str) -> Written<()> {
        let (Some(writer), Some(step)) = (&self.writer, step) else { return Ok(()) };
        let message = message.to_string();
        let (reply, _unheard) = tokio::sync::oneshot::channel();
        writer.send(Box::new(move |j| j.skipped(step, &message).map(|_| None)), reply)
    }

    pub async fn outcome(&self, step: Option<i64>, ok: bool, message: &str) -> Written<()> {
        let Some(step) = step else { return Ok(()) };
        let message = message.to_string();
        self.write(move |j| j.outcome(step, ok, &message).map(|_| None)).await.map(|_| ())
    }

    /// Where a stage of a release stands for `versions`: running, converged, failed or paused.
    pub async fn stage(
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
        self.write(move |j| j.set_stage_result(&result).map(|_| None)).await.map(|_| ())
    }

    pub async fn gate(&self, stage: &str, gate: &str, passed: bool, reading: &str) -> Written<()> {
        let (run, stage, gate, reading) = (self.run, stage.to_string(), gate.to_string(), reading.to_string());
        self.write(move |j| j.record_gate(run, &stage, &gate, passed, &reading).map(|_| None)).await.map(|_| ())
    }

    /// Takes an approval of `stage` for `group` given with `conv approve`, once: who gave it.
    pub async fn take_approval(&self, release: &str, stage: &str, group: &str) -> Written<Option<String>> {
        let run = self.run;
        let (release, stage, group) = (release.to_string(), stage.to_string(), group.to_string());
        // Through the writer, so that taking it is ordered with this run's other writes.
        self.through_writer(move |j| j.take_approval(&release, &stage, &group, run)).await
    }

    /// Records what serves on sites as known good, in one write.
    pub async fn known_good(&self, rows: Vec<KnownGoodRow>) -> Written<()> {
        if rows.is_empty() {
            return Ok(());
        }
        self.write(move |j| {
            for r in &rows {
                j.set_known_good(&r.env, &r.site, &r.service, &r.version, r.instances, &r.spec)?;
            }
            Ok(None)
        })
        .await
        .map(|_| ())
    }
}

/// A site's service seen serving what the program asks, with how many instances and the
/// fingerprint of its spec.
pub struct KnownGoodRow {
    pub env: String,
    pub site: String,
    pub service: String,
    pub version: String,
    pub instances: u32,
    pub spec: String,
}

/// The journal as a sink of the event stream: a thread writes the events in batches, so
/// that views in other processes (`conv status --watch`, `conv serve`) can follow a run.
/// Steps are still recorded one by one, before they act; events only tell what happened.
/// One event for the writer thread: its sequence number, kind and JSON document.
type EventRow = (u64, String, String);

pub struct EventLog {
    tx: std::sync::Arc<std::sync::Mutex<Option<std::sync::mpsc::Sender<EventRow>>>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl EventLog {
    /// Starts the writer; without a journal, the sink drops everything.
    pub fn start(rec: &Recorder) -> (EventLog, crate::event::Sink) {
        let Some(journal) = rec.journal.clone() else {
            return (EventLog { tx: Default::default(), writer: None }, crate::event::discard());
        };
        let run = rec.run;
        let (tx, rx) = std::sync::mpsc::channel::<EventRow>();
        let writer = std::thread::spawn(move || {
            let mut warned = false;
            while let Ok(first) = rx.recv() {
                let mut batch = vec![(run, first.0, first.1, first.2)];
                // The length is checked before taking the next event: a full batch must not
                // take one it then drops.
                while batch.len() < 1000 {
                    let Ok(next) = rx.try_recv() else { break };
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
