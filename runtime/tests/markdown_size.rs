//! A plan of 50 services on 40 sites, as a pull-request comment, stays under GitHub's
//! 65,535-character limit, and still starts with the summary table.

use conv_model::*;
use conv_runtime::{LiveState, plan, render};
use std::collections::BTreeMap;

fn program() -> Program {
    let sites: Vec<SiteName> = (0..40).map(|i| SiteName(format!("cluster-{i:02}"))).collect();
    let env = Environment {
        name: EnvName("production".into()),
        provider: Provider::Local { instances_per_site: 2, base_port: 40000 },
        sites,
        after: vec![],
        requires: vec![Requirement::Approval { group: "sre".into() }],
        critical: true,
        prometheus: None,
        notify: vec![],
    };
    let services: Vec<Service> = (0..50)
        .map(|i| Service {
            name: ServiceName(format!("service_{i:02}")),
            run: Run::Command { argv: vec!["demo-app".into()], env: BTreeMap::new() },
            version: "2.0.0".into(),
            replicas: None,
            config: BTreeMap::new(),
            secrets: BTreeMap::new(),
            ports: vec![],
            depends_on: vec![],
            gates: vec![Gate::ErrorRate { under_percent: 1.0, window_ms: 60_000, scope: GateScope::Site }],
        })
        .collect();
    let stage = |name: &str, fraction: f64| Stage {
        name: name.into(),
        env: EnvName("production".into()),
        fraction_percent: fraction,
        bake_ms: 60_000,
        max_parallel: Some(5),
        max_failures_percent: 10.0,
        gates: vec![],
    };
    let release = Release {
        name: ReleaseName("everything".into()),
        services: services.iter().map(|s| s.name.clone()).collect(),
        stages: vec![stage("canary", 10.0), stage("full", 100.0)],
        on_failure: OnFailure::Rollback,
        notify: vec![],
    };
    Program { schema_version: PROGRAM_SCHEMA_VERSION, environments: vec![env], services, releases: vec![release] }
}

#[test]
fn a_large_plan_fits_in_a_pull_request_comment() {
    let program = program();
    let plan = plan::make_plan(std::path::Path::new("/tmp/project"), &program, &LiveState::default());
    assert_eq!(plan.change_count(), 50 * 40 * 2, "every service on every site, in both stages");
    let origin = render::Origin { path: "deploy/".into(), commit: Some("3f2c1ab".into()) };
    let md = render::markdown(&plan, &origin);
    assert!(md.len() < 65_535, "{} characters", md.len());
    assert!(md.starts_with("## conv plan for `deploy/` at `3f2c1ab`\n\n**4000 changes**"), "{}", &md[..200]);
    assert!(md.trim_end().ends_with("Planned by conv 0.1.0."), "the apply footer survives the cut");
    assert!(md.contains("Apply with `conv apply deploy/`"));
    assert!(md.contains("| everything | canary | production | 10% | 1m | 40 of 40 | sre |"), "{}", &md[..600]);
}

#[test]
fn a_cut_plan_keeps_the_first_changes_and_says_how_many_it_left_out() {
    let plan = plan::make_plan(std::path::Path::new("/tmp/project"), &program(), &LiveState::default());
    let md = render::markdown(&plan, &render::Origin::default());
    // One release of 4,000 changes: its first ones are shown, not none of them.
    let first = "```diff\n@@ production[\"cluster-00\"] @@\n  service_00: start #0\n- not running\n+ #0 2.0.0\n";
    assert!(md.contains(first), "{}", &md[..3000]);
    let shown = md.matches("\n  service_").count();
    assert!(shown > 100, "{shown} changes shown");
    let left = format!("_... and {} more changes left out to fit a comment", 4000 - shown);
    assert!(md.contains(&left), "says how many it left out ({left}): {}", &md[md.len() - 400..]);
    assert!(md.contains("</details>\n\n---\nApply with"), "the folded details are closed before the footer");
}
