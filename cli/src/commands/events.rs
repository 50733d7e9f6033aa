//! Sinks of the engine's event stream on the command line: lines for people (with a spinner
//! on a terminal) or JSON lines (`--log-format json`), both on stderr.

use conv_runtime::event::{self, Event, Sink};
use std::io::IsTerminal;
use std::sync::Arc;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The sink for a run, and the spinner to clear when it ends.
pub fn sink(format: LogFormat, color: bool) -> (Sink, Option<indicatif::ProgressBar>) {
    if format == LogFormat::Json {
        return (Arc::new(|e: &Event| eprintln!("{}", event::json_line(e))), None);
    }
    if !std::io::stderr().is_terminal() {
        return (
            Arc::new(|e: &Event| {
                if let Some(line) = event::text_line(e) {
                    eprintln!("{line}");
                }
            }),
            None,
        );
    }
    let bar = indicatif::ProgressBar::new_spinner();
    let template = if color { "{spinner:.cyan} {elapsed:>4} {msg}" } else { "{spinner} {elapsed:>4} {msg}" };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let shown = bar.clone();
    let sink: Sink = Arc::new(move |e: &Event| {
        if let Some(line) = event::text_line(e) {
            shown.println(&line);
            shown.set_message(line.trim().to_string());
        }
    });
    (sink, Some(bar))
}

/// The terminal's sink joined by the journal's, so that other processes can follow the run.
pub fn with_journal(sink: Sink, rec: &conv_runtime::record::Recorder) -> (conv_runtime::record::EventLog, Sink) {
    let (log, journal) = conv_runtime::record::EventLog::start(rec);
    (log, event::fan_out(vec![sink, journal]))
}
