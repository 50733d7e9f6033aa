//! `conv graph` as a picture people read: releases as clusters, their stages in order,
//! each stage with its environment, fraction, bake, gates and approvals, and the rollback
//! order, instead of every gate check as a node. As DOT (grouped by release and stage) and
//! as a self-contained SVG, which the web view shows too.

use conv_model::program::{duration, trim_float};
use conv_model::{Program, Release, Stage};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn dot_id(parts: &[&str]) -> String {
    format!("\"{}\"", parts.join("/").replace('\\', "\\\\").replace('"', "\\\""))
}

/// The rollback order of a release as the plan shows it, told short: the environments in
/// the order they go back, and the services' order on each site.
fn rollback_order(graph: &conv_graph::ExecutionGraph, release: &Release) -> String {
    let steps: Vec<&conv_model::Address> = graph
        .releases
        .iter()
        .find(|r| r.release == release.name)
        .map(|r| r.rollback.iter().map(|s| &s.address).collect())
        .unwrap_or_default();
    let mut envs: Vec<(String, Vec<String>)> = Vec::new();
    for a in &steps {
        let env = a.env.as_ref().map(|e| e.to_string()).unwrap_or_default();
        if envs.last().is_none_or(|(e, _)| *e != env) {
            envs.push((env.clone(), Vec::new()));
        }
        if let (Some((_, sites)), Some(site)) = (envs.last_mut(), &a.site)
            && !sites.contains(&site.to_string())
        {
            sites.push(site.to_string());
        }
    }
    let first_site = steps.first().map(|a| (a.env.clone(), a.site.clone()));
    let services: Vec<String> = steps
        .iter()
        .filter(|a| Some((a.env.clone(), a.site.clone())) == first_site)
        .filter_map(|a| a.service.as_ref().map(|s| s.to_string()))
        .collect();
    let envs: Vec<String> = envs
        .iter()
        .map(|(e, sites)| format!("{e} ({} site{})", sites.len(), if sites.len() == 1 { "" } else { "s" }))
        .collect();
    format!("{}; on each site {}", envs.join(" → "), services.join(" → "))
}

/// One stage's facts, a line each.
fn facts(program: &Program, release: &Release, stage: &Stage) -> Vec<String> {
    let sites = program.environment(&stage.env).map(|e| e.sites.len()).unwrap_or(0);
    let mut out = vec![
        format!("{} · {} site{}", stage.env, sites, if sites == 1 { "" } else { "s" }),
        format!("{}% · bake {}", trim_float(stage.fraction_percent), duration(stage.bake_ms)),
    ];
    let gates = stage.gates.len()
        + release.services.iter().filter_map(|s| program.service(s)).map(|s| s.gates.len()).sum::<usize>();
    out.push(format!("{gates} gate{}", if gates == 1 { "" } else { "s" }));
    let approvals = conv_runtime::approval::groups(program, release, stage);
    if !approvals.is_empty() {
        out.push(format!("approval: {}", approvals.join(", ")));
    }
    out
}

/// DOT: a cluster per release, a cluster per stage (deploy, bake and gates, approval), the
/// stage order as edges, the rollback order as a dashed path.
pub fn dot(program: &Program) -> String {
    let graph = conv_graph::build(program);
    let mut out = String::from(
        "digraph conv {\n  rankdir=LR;\n  compound=true;\n  node [shape=box, style=rounded, fontname=\"sans-serif\"];\n",
    );
    for r in &program.releases {
        let name = r.name.as_str();
        out.push_str(&format!("  subgraph \"cluster_{name}\" {{\n    label=\"release {name}\";\n"));
        let mut previous: Option<String> = None;
        for s in &r.stages {
            let f = facts(program, r, s);
            out.push_str(&format!(
                "    subgraph \"cluster_{name}_{}\" {{\n      label=\"stage {}\";\n",
                s.name, s.name
            ));
            let deploy = dot_id(&[name, &s.name, "deploy"]);
            let bake = dot_id(&[name, &s.name, "bake"]);
            let first = if f.len() > 3 {
                let approve = dot_id(&[name, &s.name, "approval"]);
                out.push_str(&format!("      {approve} [label=\"{}\", shape=diamond];\n", f[3].replace('"', "'")));
                out.push_str(&format!("      {approve} -> {deploy};\n"));
                approve
            } else {
                deploy.clone()
            };
            out.push_str(&format!("      {deploy} [label=\"deploy\\n{}\"];\n", f[0].replace('"', "'")));
            out.push_str(&format!("      {bake} [label=\"bake\\n{}\\n{}\"];\n", f[1], f[2]));
            out.push_str(&format!("      {deploy} -> {bake};\n    }}\n"));
            if let Some(p) = previous {
                out.push_str(&format!("    {p} -> {first};\n"));
            }
            previous = Some(bake);
        }
        let rollback = dot_id(&[name, "rollback"]);
        out.push_str(&format!(
            "    {rollback} [label=\"on failure: roll back\\n{}\", style=dashed];\n  }}\n",
            rollback_order(&graph, r).replace('"', "'")
        ));
    }
    out.push_str("}\n");
    out
}

const BOX_W: usize = 190;
const BOX_H: usize = 92;
const GAP: usize = 46;
const ROW_H: usize = 170;

/// A self-contained SVG: a row per release, its stages as boxes left to right.
pub fn svg(program: &Program) -> String {
    let graph = conv_graph::build(program);
    let widest = program.releases.iter().map(|r| r.stages.len()).max().unwrap_or(1).max(1);
    let width = 40 + widest * (BOX_W + GAP);
    let height = 20 + program.releases.len().max(1) * ROW_H;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>\n"
    );
    for (i, r) in program.releases.iter().enumerate() {
        let top = 10 + i * ROW_H;
        out.push_str(&format!(
            "<g class=\"release\" data-release=\"{}\"><rect x=\"10\" y=\"{top}\" width=\"{}\" height=\"{}\" rx=\"8\" fill=\"#f6f8fa\" stroke=\"#8c959f\"/>\n<text x=\"22\" y=\"{}\" font-weight=\"bold\" font-size=\"14\">release {}</text>\n",
            esc(r.name.as_str()),
            width - 20,
            ROW_H - 12,
            top + 20,
            esc(r.name.as_str())
        ));
        for (k, s) in r.stages.iter().enumerate() {
            let x = 30 + k * (BOX_W + GAP);
            let y = top + 32;
            out.push_str(&format!(
                "<g class=\"stage\" data-stage=\"{}\"><rect x=\"{x}\" y=\"{y}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"6\" fill=\"#fff\" stroke=\"#0969da\"/>\n<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{}</text>\n",
                esc(&s.name),
                x + 10,
                y + 18,
                esc(&s.name)
            ));
            for (l, line) in facts(program, r, s).iter().enumerate() {
                out.push_str(&format!(
                    "<text x=\"{}\" y=\"{}\" fill=\"#444\">{}</text>\n",
                    x + 10,
                    y + 36 + l * 15,
                    esc(line)
                ));
            }
            out.push_str("</g>\n");
            if k + 1 < r.stages.len() {
                let (ax, ay) = (x + BOX_W, y + BOX_H / 2);
                out.push_str(&format!(
                    "<line x1=\"{ax}\" y1=\"{ay}\" x2=\"{}\" y2=\"{ay}\" stroke=\"#555\" marker-end=\"url(#arrow)\"/>\n",
                    ax + GAP - 2
                ));
            }
        }
        out.push_str(&format!(
            "<text x=\"30\" y=\"{}\" fill=\"#cf222e\">on failure ({}), rollback order: {}</text>\n</g>\n",
            top + ROW_H - 30,
            format!("{:?}", r.on_failure).to_lowercase(),
            esc(&rollback_order(&graph, r))
        ));
    }
    out.push_str("</svg>\n");
    out
}
