//! The execution graph as DOT, Mermaid or JSON. Node ids are their insertion order, so the
//! output is the same for the same program.

use crate::{EdgeKind, ExecutionGraph, Step};
use petgraph::visit::EdgeRef;
use serde::Serialize;

fn quoted(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"")
}

fn shape(step: &Step) -> &'static str {
    match step {
        Step::Barrier { .. } => "point",
        Step::Approval { .. } => "hexagon",
        Step::Deploy { .. } => "box",
        Step::Bake { .. } => "ellipse",
        Step::GateCheck { .. } => "diamond",
    }
}

fn style(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Sequence => "solid",
        EdgeKind::Dependency => "bold",
        EdgeKind::EnvironmentOrder => "dashed",
    }
}

pub fn to_dot(g: &ExecutionGraph) -> String {
    let mut out = String::from("digraph conv {\n  rankdir=LR;\n");
    for (i, step) in g.nodes() {
        let label = match step {
            Step::Barrier { label, .. } => label.clone(),
            other => other.label(),
        };
        out.push_str(&format!("  n{} [shape={}, label=\"{}\"];\n", i.index(), shape(step), quoted(&label)));
    }
    for e in g.graph.edge_references() {
        out.push_str(&format!(
            "  n{} -> n{} [style={}];\n",
            e.source().index(),
            e.target().index(),
            style(*e.weight())
        ));
    }
    for plan in &g.releases {
        let path: Vec<String> = plan.rollback.iter().map(|s| s.address.to_string()).collect();
        out.push_str(&format!("  // rollback {}: {}\n", plan.release, path.join(", ")));
    }
    out.push_str("}\n");
    out
}

pub fn to_mermaid(g: &ExecutionGraph) -> String {
    let mut out = String::from("flowchart LR\n");
    for (i, step) in g.nodes() {
        let label = step.label().replace('"', "#quot;");
        let node = match step {
            Step::Barrier { .. } => format!("n{}((\"{label}\"))", i.index()),
            Step::Approval { .. } => format!("n{}{{{{\"{label}\"}}}}", i.index()),
            Step::GateCheck { .. } => format!("n{}{{\"{label}\"}}", i.index()),
            Step::Bake { .. } => format!("n{}([\"{label}\"])", i.index()),
            Step::Deploy { .. } => format!("n{}[\"{label}\"]", i.index()),
        };
        out.push_str(&format!("  {node}\n"));
    }
    for e in g.graph.edge_references() {
        let arrow = match e.weight() {
            EdgeKind::Sequence => "-->",
            EdgeKind::Dependency => "==>",
            EdgeKind::EnvironmentOrder => "-.->",
        };
        out.push_str(&format!("  n{} {arrow} n{}\n", e.source().index(), e.target().index()));
    }
    for plan in &g.releases {
        let path: Vec<String> = plan.rollback.iter().map(|s| s.address.to_string()).collect();
        out.push_str(&format!("  %% rollback {}: {}\n", plan.release, path.join(", ")));
    }
    out
}

#[derive(Serialize)]
struct JsonNode<'a> {
    id: usize,
    label: String,
    #[serde(flatten)]
    step: &'a Step,
}

#[derive(Serialize)]
struct JsonEdge {
    from: usize,
    to: usize,
    kind: EdgeKind,
}

#[derive(Serialize)]
struct JsonGraph<'a> {
    nodes: Vec<JsonNode<'a>>,
    edges: Vec<JsonEdge>,
    rollback: &'a [crate::ReleasePlan],
}

pub fn to_json(g: &ExecutionGraph) -> String {
    let nodes = g.nodes().map(|(i, step)| JsonNode { id: i.index(), label: step.label(), step }).collect();
    let edges = g
        .graph
        .edge_references()
        .map(|e| JsonEdge { from: e.source().index(), to: e.target().index(), kind: *e.weight() })
        .collect();
    serde_json::to_string_pretty(&JsonGraph { nodes, edges, rollback: &g.releases }).unwrap_or_else(|_| "{}".into())
}
