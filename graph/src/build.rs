//! Lowering: the resolved program to the execution graph, one release at a time.

use crate::{EdgeKind, ExecutionGraph, ReleasePlan, RollbackStep, Step};
use conv_model::{Address, Program, Release, Requirement, ServiceName};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;

pub fn build(program: &Program) -> ExecutionGraph {
    let mut graph = DiGraph::new();
    let mut releases = Vec::new();
    for release in &program.releases {
        releases.push(lower_release(program, release, &mut graph));
    }
    ExecutionGraph { graph, releases }
}

/// The release's services in start order: each after the services it depends on within the
/// release; ties keep the order of `services`.
pub fn start_order(program: &Program, release: &Release) -> Vec<ServiceName> {
    let members = &release.services;
    let mut placed: Vec<ServiceName> = Vec::new();
    while placed.len() < members.len() {
        let next = members.iter().find(|s| {
            !placed.contains(s)
                && program
                    .service(s)
                    .is_none_or(|svc| svc.depends_on.iter().all(|d| !members.contains(d) || placed.contains(d)))
        });
        match next {
            Some(s) => placed.push(s.clone()),
            // A cycle is a compile error; keep the declared order for the rest.
            None => placed.extend(members.iter().filter(|s| !placed.contains(s)).cloned().collect::<Vec<_>>()),
        }
    }
    placed
}

fn lower_release(program: &Program, release: &Release, graph: &mut DiGraph<Step, EdgeKind>) -> ReleasePlan {
    let order = start_order(program, release);
    let mut previous_end: Option<NodeIndex> = None;
    let mut last_end_in_env: HashMap<&str, NodeIndex> = HashMap::new();
    let mut approved_envs: Vec<&str> = Vec::new();
    let mut rollback = Vec::new();
    for stage in &release.stages {
        let barrier = |label: String| Step::Barrier { release: release.name.clone(), stage: stage.name.clone(), label };
        let start = graph.add_node(barrier(format!("start {}/{}", release.name, stage.name)));
        if let Some(prev) = previous_end {
            graph.add_edge(prev, start, EdgeKind::Sequence);
        }
        let Some(env) = program.environment(&stage.env) else { continue };
        for before in &env.after {
            if let Some(end) = last_end_in_env.get(before.as_str()) {
                graph.add_edge(*end, start, EdgeKind::EnvironmentOrder);
            }
        }
        let mut entry = start;
        if !approved_envs.contains(&env.name.as_str()) {
            approved_envs.push(env.name.as_str());
            for req in &env.requires {
                if let Requirement::Approval { group } = req {
                    let approval = graph.add_node(Step::Approval {
                        release: release.name.clone(),
                        stage: stage.name.clone(),
                        env: env.name.clone(),
                        group: group.clone(),
                    });
                    graph.add_edge(entry, approval, EdgeKind::Sequence);
                    entry = approval;
                }
            }
        }
        let bake = graph.add_node(Step::Bake {
            release: release.name.clone(),
            stage: stage.name.clone(),
            env: env.name.clone(),
            duration_ms: stage.bake_ms,
        });
        for site in &env.sites {
            let mut on_site: HashMap<&ServiceName, NodeIndex> = HashMap::new();
            for service_name in &order {
                let Some(service) = program.service(service_name) else { continue };
                let address = Address::site(&env.name, site).with_release(&release.name).with_service(service_name);
                let deploy = graph.add_node(Step::Deploy {
                    address,
                    stage: stage.name.clone(),
                    version: service.version.clone(),
                    fraction_percent: stage.fraction_percent,
                });
                let deps: Vec<NodeIndex> = service.depends_on.iter().filter_map(|d| on_site.get(d).copied()).collect();
                if deps.is_empty() {
                    graph.add_edge(entry, deploy, EdgeKind::Sequence);
                }
                for d in deps {
                    graph.add_edge(d, deploy, EdgeKind::Dependency);
                }
                graph.add_edge(deploy, bake, EdgeKind::Sequence);
                on_site.insert(service_name, deploy);
            }
        }
        let end = graph.add_node(barrier(format!("{}/{} done", release.name, stage.name)));
        let mut gates = 0;
        for gate in &stage.gates {
            let check = graph.add_node(Step::GateCheck {
                release: release.name.clone(),
                stage: stage.name.clone(),
                env: env.name.clone(),
                service: None,
                gate: gate.clone(),
            });
            graph.add_edge(bake, check, EdgeKind::Sequence);
            graph.add_edge(check, end, EdgeKind::Sequence);
            gates += 1;
        }
        for service_name in &order {
            let Some(service) = program.service(service_name) else { continue };
            for gate in &service.gates {
                let check = graph.add_node(Step::GateCheck {
                    release: release.name.clone(),
                    stage: stage.name.clone(),
                    env: env.name.clone(),
                    service: Some(service_name.clone()),
                    gate: gate.clone(),
                });
                graph.add_edge(bake, check, EdgeKind::Sequence);
                graph.add_edge(check, end, EdgeKind::Sequence);
                gates += 1;
            }
        }
        if gates == 0 {
            graph.add_edge(bake, end, EdgeKind::Sequence);
        }
        last_end_in_env.insert(env.name.as_str(), end);
        previous_end = Some(end);
    }
    rollback.extend(rollback_path(program, release, &order));
    ReleasePlan { release: release.name.clone(), rollback }
}

/// The release's rollback path, without building the graph (planning a large fleet needs it
/// alone): undo the stages from the last; on a site, stop dependents before dependencies.
pub fn rollback_path(program: &Program, release: &Release, order: &[ServiceName]) -> Vec<RollbackStep> {
    let mut rollback = Vec::new();
    // A later stage in an environment already names every site and service of it, so
    // skipping environments seen is the same as skipping addresses seen, without hashing
    // each address.
    let mut seen = std::collections::HashSet::new();
    for stage in release.stages.iter().rev() {
        let Some(env) = program.environment(&stage.env) else { continue };
        if !seen.insert(&env.name) {
            continue;
        }
        for site in env.sites.iter().rev() {
            let at_site = Address::site(&env.name, site).with_release(&release.name);
            for service in order.iter().rev() {
                rollback.push(RollbackStep { address: at_site.clone().with_service(service) });
            }
        }
    }
    rollback
}
