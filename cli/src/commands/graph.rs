//! `conv graph`: releases and stages as DOT or SVG, or the whole execution graph as DOT,
//! Mermaid or JSON.

use super::OK;
use std::path::Path;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Releases and stages as clusters, for Graphviz.
    Dot,
    /// The same picture drawn by conv, without Graphviz.
    Svg,
    /// Every step (deploys, bakes, gate checks) as DOT.
    StepsDot,
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
        GraphFormat::Dot => super::graph_view::dot(&program),
        GraphFormat::Svg => super::graph_view::svg(&program),
        GraphFormat::StepsDot => conv_graph::to_dot(&graph),
        GraphFormat::Mermaid => conv_graph::to_mermaid(&graph),
        GraphFormat::Json => conv_graph::to_json(&graph),
    };
    super::runtime::write_stdout(&text);
    OK
}
