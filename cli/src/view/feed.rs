//! The events of the latest run, read from the journal as they are written: how
//! `conv status --watch` and `conv serve` follow an apply running in another process.

use super::progress::RunProgress;
use conv_journal::{EventRow, Journal};
use std::path::{Path, PathBuf};

/// Events read from the journal per query.
const PAGE: u32 = 5000;

pub struct Feed {
    root: PathBuf,
    journal: Option<Journal>,
    /// The id of the last event read.
    pub last_id: i64,
    /// The run the progress is of.
    pub run: Option<i64>,
    pub progress: RunProgress,
}

/// The project's journal, or `None` while there is none (no apply yet); never prints.
pub fn open(root: &Path) -> Option<Journal> {
    conv_runtime::project::existing_journal(root).ok()
}

impl Feed {
    pub fn new(root: &Path) -> Feed {
        Feed { root: root.to_path_buf(), journal: None, last_id: 0, run: None, progress: RunProgress::default() }
    }

    /// Reads what was written since the last call and folds the latest run's events into
    /// `progress` (a newer run starts it afresh). Returns the rows read, oldest first.
    pub fn poll(&mut self) -> Vec<EventRow> {
        if self.journal.is_none() {
            self.journal = open(&self.root);
        }
        let Some(journal) = self.journal.as_mut() else { return Vec::new() };
        // On the first read, only the latest run's events matter: skip to it.
        if self.run.is_none() {
            let latest = journal.runs(1).ok().and_then(|r| r.first().map(|r| r.id));
            self.run = latest;
        }
        let mut out = Vec::new();
        loop {
            let rows = match journal.events_after(self.last_id, PAGE) {
                Ok(rows) => rows,
                Err(_) => {
                    // A journal replaced under us (a new project state): open it again later.
                    self.journal = None;
                    break;
                }
            };
            let full = rows.len() == PAGE as usize;
            for row in rows {
                self.last_id = row.id;
                if Some(row.run) < self.run {
                    continue;
                }
                if Some(row.run) != self.run {
                    self.run = Some(row.run);
                    self.progress = RunProgress::default();
                }
                if let Ok(value) = serde_json::from_str::<serde_json::Value>(&row.body) {
                    self.progress.apply(&value);
                }
                out.push(row);
            }
            if !full {
                break;
            }
        }
        out
    }
}
