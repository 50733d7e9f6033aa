//! Sinks of the engine's event stream on the command line: the live view on a terminal,
//! plain lines in a pipe, or JSON lines (`--log-format json`), all on stderr.

use conv_runtime::event::{self, Event, Sink};
use std::io::IsTerminal;
use std::sync::Arc;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The sink for a run, and the live view to finish when it ends.
pub fn sink(format: LogFormat, color: bool) -> (Sink, Option<crate::view::live::Live>) {
    sink_for(format, color, None)
}

/// As [`sink`], with the plan's stages shown (pending) before they start.
pub fn sink_for(
    format: LogFormat,
    color: bool,
    plan: Option<&conv_runtime::plan::Plan>,
) -> (Sink, Option<crate::view::live::Live>) {
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
    let (sink, live) = crate::view::live::Live::start(plan, color);
    (sink, Some(live))
}
