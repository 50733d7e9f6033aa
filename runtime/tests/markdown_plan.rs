//! The pull-request plan of a fixture program, held to a snapshot: title, summary table,
//! gates once each, a diff per site, the numbered rollback order and the apply footer.

use conv_model::Program;
use conv_runtime::live::LiveState;
use conv_runtime::{plan, render};

#[test]
fn the_pull_request_plan_of_two_environments() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/two-envs.json")).unwrap();
    let program: Program = serde_json::from_str(&text).unwrap();
    let plan = plan::make_plan(std::path::Path::new("/tmp/project"), &program, &LiveState::default());
    let origin = render::Origin { path: "deploy/".into(), commit: Some("3f2c1ab".into()) };
    insta::assert_snapshot!(render::markdown(&plan, &origin));
}
