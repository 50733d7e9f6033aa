//! `conv graph`: the execution graph as DOT, Mermaid or JSON.

use super::OK;
use std::path::Path;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Json,
}

pub fn run(path: &Path, format: GraphFormat, color: bool) -> u8 {
    let program = match super::runtime::compile(path, &[], color) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let graph = conv_graph::build(&program);
    let text = match format {
        GraphFormat::Dot => conv_graph::to_dot(&graph),
        GraphFormat::Mermaid => conv_graph::to_mermaid(&graph),
        GraphFormat::Json => conv_graph::to_json(&graph),
    };
    super::runtime::write_stdout(&text);
    OK
}
