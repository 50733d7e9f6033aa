//! Where a project's state lives and what it says now: its journal (the team's PostgreSQL
//! when one is configured, else SQLite under `.conv/`) and the plan made from live state
//! and that journal. Every command reads them through here, so they agree.

use crate::fleet::Fleet;
use crate::plan::{self, KnownGood, Plan, SavedPlanError};
use conv_journal::{Journal, JournalError};
use conv_model::Program;
use std::path::Path;

/// The team journal's URL: `CONV_JOURNAL_URL`, else `journal` in the project's `conv.json`.
pub fn journal_url(root: &Path) -> Option<String> {
    if let Some(url) = std::env::var("CONV_JOURNAL_URL").ok().filter(|u| !u.is_empty()) {
        return Some(url);
    }
    let text = std::fs::read_to_string(root.join("conv.json")).ok()?;
    let settings: serde_json::Value = serde_json::from_str(&text).ok()?;
    settings["journal"].as_str().map(str::to_string)
}

/// The project's journal, created on first use.
pub fn open_journal(root: &Path) -> Result<Journal, JournalError> {
    match journal_url(root) {
        Some(url) => Journal::open_postgres(&url),
        None => Journal::open(&crate::state_dir(root).join("journal.db")),
    }
}

/// The project's journal if there is one yet: readers (status, the web view) never create it.
pub fn existing_journal(root: &Path) -> Result<Journal, JournalError> {
    match journal_url(root) {
        Some(url) => Journal::open_postgres(&url),
        None => {
            let path = crate::state_dir(root).join("journal.db");
            if !path.exists() {
                return Err(JournalError::Other("no journal yet".into()));
            }
            Journal::open(&path)
        }
    }
}

/// Whether the project has a journal to read: a team journal is named, or the local one was
/// made by a run. Commands that only read ask first, so that reading makes nothing.
pub fn has_journal(root: &Path) -> bool {
    journal_url(root).is_some() || crate::state_dir(root).join("journal.db").exists()
}

/// What the journal last saw converged, per site and service.
pub fn known_good(journal: &mut Journal) -> KnownGood {
    journal.known_good().map(|rows| rows.into_iter().collect()).unwrap_or_default()
}

/// Live state diffed with the program; drift, retries and stages to judge again are marked
/// from the journal (a project without one has none of them).
pub fn plan_from_live(root: &Path, program: &Program) -> Plan {
    let provider = Fleet::new(root, program);
    let mut plan = plan::make_plan(root, program, &provider.observe_now(program));
    // Planning only reads: a project that never ran gets no journal from it.
    if let Ok(mut journal) = existing_journal(root) {
        plan::mark_drift(&mut plan, &known_good(&mut journal));
        plan::mark_retries(&mut plan, &journal.last_failures().unwrap_or_default());
        plan::mark_judging(&mut plan, &journal.stage_results().unwrap_or_default());
    }
    plan
}

/// A plan saved by `conv plan -o`, if it can still be applied: readable, of this schema,
/// consistent, and made against the live state there is now.
pub fn saved_plan(path: &Path) -> Result<Plan, SavedPlanError> {
    let plan = plan::read_saved(path)?;
    let provider = Fleet::new(&plan.root, &plan.program);
    let stale = plan::stale_sites(&plan, &provider.observe_now(&plan.program));
    if stale.is_empty() { Ok(plan) } else { Err(SavedPlanError::Stale(stale)) }
}
