//! The journal writer commits writes in batches; none may be lost when more are waiting
//! than one batch holds.

use conv_journal::Journal;
use conv_runtime::record::Recorder;
use std::sync::{Arc, Mutex};

#[tokio::test]
async fn every_posted_outcome_is_committed_when_more_wait_than_a_batch_holds() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(&dir.path().join("journal.db")).unwrap();
    let run = journal.begin_run("test").unwrap();
    let journal = Arc::new(Mutex::new(journal));
    let rec = Recorder::new(journal.clone(), run);
    // Far more than one batch (4096), all queued before the writer can drain them.
    let steps: Vec<_> = (0..10_000).map(|i| ("deploy", format!("site-{i}"), String::new())).collect();
    let ids = rec.intents(steps).await.unwrap();
    for id in &ids {
        rec.post_outcome(*id, true, "done").unwrap();
    }
    rec.flush().await.unwrap();
    let steps = journal.lock().unwrap().steps(run).unwrap();
    assert_eq!(steps.len(), 10_000);
    let unfinished = steps.iter().filter(|s| s.outcome.as_deref() != Some("ok")).count();
    assert_eq!(unfinished, 0, "every outcome is recorded");
}
