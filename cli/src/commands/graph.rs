//! `conv graph`: the execution graph as DOT, Mermaid or JSON.

use super::{FAILED, FOUND, OK};
use conv_cli::{load, render};
use std::path::Path;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Json,
}

pub fn run(path: &Path, format: GraphFormat, color: bool) -> u8 {
    let sources = match load::load_program(path) {
        Ok(s) => s,
        Err(err) => {
            eprintln!("error: {err}");
            return FAILED;
        }
    };
    let checked = conv_compiler::check(&sources);
    eprint!("{}", render::human(&checked.diagnostics, &checked.sources, color));
    let Some(program) = &checked.program else {
        eprintln!("{}: {}", load::display_name(path), render::summary(checked.error_count(), checked.warning_count()));
        return FOUND;
    };
    let graph = conv_graph::build(program);
    let text = match format {
        GraphFormat::Dot => conv_graph::to_dot(&graph),
        GraphFormat::Mermaid => conv_graph::to_mermaid(&graph),
        GraphFormat::Json => conv_graph::to_json(&graph),
    };
    print!("{text}");
    if !text.ends_with('\n') {
        println!();
    }
    OK
}
