//! `conv status --watch`: the live view of the latest run (from the journal, so an apply in
//! another process shows), the releases' stages and the sites, redrawn every second until
//! interrupted. Many sites are summed per environment rather than listed.

use super::feed::Feed;
use super::lines;
use conv_runtime::status::{State, Status};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Above this many site x service rows, the watch shows counts per environment.
const ROWS_LISTED: usize = 40;

const STATES: [State; 8] = [
    State::Converged,
    State::InFlight,
    State::Failed,
    State::Paused,
    State::Unjudged,
    State::Unhealthy,
    State::Waiting,
    State::Pending,
];

/// Counts of site x service rows by state, per environment.
pub fn per_environment(report: &Status, color: bool) -> String {
    let mut counts: BTreeMap<&str, [usize; 8]> = BTreeMap::new();
    for r in &report.sites {
        let at = STATES.iter().position(|s| *s == r.state).unwrap_or(7);
        counts.entry(r.environment.as_str()).or_default()[at] += 1;
    }
    let rows: Vec<Vec<String>> = counts
        .iter()
        .map(|(env, c)| {
            let mut row = vec![env.to_string(), c.iter().sum::<usize>().to_string()];
            row.extend(c.iter().map(|n| if *n == 0 { "-".to_string() } else { n.to_string() }));
            row
        })
        .collect();
    let mut header = vec!["ENVIRONMENT", "ROWS"];
    header.extend(STATES.iter().map(crate::commands::status_view::state_word));
    let header: Vec<String> = header.iter().map(|h| h.to_uppercase()).collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    super::table::render(&header, &rows, &|_, col, cell| {
        (color && col >= 2 && cell != "-").then(|| crate::commands::status_view::state_color(&STATES[col - 2]))
    })
}

/// One frame of the watch.
pub fn frame(root: &Path, report: &Status, feed: &Feed, color: bool) -> String {
    let mut out = String::new();
    if let Some(line) = crate::commands::journal::in_flight(root) {
        out.push_str(&line);
        out.push('\n');
    }
    if let (Some(run), false) = (feed.run, feed.progress.stages.is_empty()) {
        let state = feed.progress.outcome.clone().unwrap_or_else(|| "running".into());
        out.push_str(&format!("run {run} ({state})\n"));
        for line in lines::stage_lines(&feed.progress, lines::now_ms(), color) {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out.push_str(&crate::commands::status_view::releases_table(report, color));
    out.push('\n');
    if report.sites.len() > ROWS_LISTED {
        out.push_str(&per_environment(report, color));
        out.push_str(&format!("{} site x service rows; `conv status` lists them all\n", report.sites.len()));
    } else {
        out.push_str(&crate::commands::status_view::sites_table(report, color));
    }
    out
}

/// Redraws until the process is interrupted. On a terminal each frame replaces the last;
/// in a pipe a frame is printed when it differs from the one before.
pub fn run(root: &Path, mut report: impl FnMut() -> Status, color: bool) -> u8 {
    let terminal = std::io::stdout().is_terminal();
    let mut feed = Feed::new(root);
    let mut last = String::new();
    loop {
        feed.poll();
        let text = frame(root, &report(), &feed, color && terminal);
        if text != last {
            let mut out = std::io::stdout().lock();
            let written = if terminal { write!(out, "\u{1b}[H\u{1b}[2J{text}") } else { writeln!(out, "{text}") };
            if written.and_then(|_| out.flush()).is_err() {
                // The reader went away (`| head`): that ends the watch.
                return super::super::commands::OK;
            }
            last = text;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}
