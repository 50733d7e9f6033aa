//! The Kubernetes provider against stand-in API servers (kube-standin/): the real `conv`
//! binary, kube-rs over HTTP, a kubeconfig with a context per cluster, and the program of
//! examples/multi-cluster (one staging cluster, twelve production clusters). The stand-ins
//! are not Kubernetes; docs/kubernetes.md says which API behaviours they cover.

mod common;

use common::eventually;
use common::project::text;
use conv_kube_standin::StandIns;
use serde_json::{Value, json};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const CLUSTERS: &[&str] = &[
    "staging",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-west-4",
    "us-east-1",
    "us-east-2",
    "us-east-3",
    "us-east-4",
    "ap-south-1",
    "ap-south-2",
    "ap-south-3",
    "ap-south-4",
];
const FAST: &[&str] = &["--set", "bake=1s", "--set", "window=1s"];

struct Setup {
    clusters: StandIns,
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let clusters = StandIns::spawn(CLUSTERS, Duration::from_millis(150)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let program = common::repo_root().join("examples/multi-cluster/main.conv");
        std::fs::copy(program, dir.path().join("main.conv")).unwrap();
        std::fs::write(dir.path().join("kubeconfig"), clusters.kubeconfig()).unwrap();
        Setup { clusters, dir }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_conv"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env("KUBECONFIG", self.dir.path().join("kubeconfig"));
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn apply(&self, extra: &[&str]) -> Output {
        let mut args = vec!["apply", ".", "--yes"];
        args.extend_from_slice(FAST);
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn deployments(&self, cluster: &str) -> Vec<Value> {
        self.clusters.cluster(cluster).deployments("shop")
    }

    /// `name -> (replicas, image)` of a cluster's Deployments.
    fn shape(&self, cluster: &str) -> Vec<(String, u64, String)> {
        self.deployments(cluster)
            .iter()
            .map(|d| {
                (
                    d["metadata"]["name"].as_str().unwrap_or_default().to_string(),
                    d["spec"]["replicas"].as_u64().unwrap_or(0),
                    d["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    fn writes(&self) -> Vec<u64> {
        self.clusters.clusters.iter().map(|c| c.writes()).collect()
    }
}

fn stable(version: &str) -> Vec<(String, u64, String)> {
    vec![(format!("api-{}", version.replace('.', "-")), 4, format!("registry.example/shop/api:{version}"))]
}

#[test]
fn a_rollout_across_twelve_clusters_converges_with_labelled_deployments_and_applying_again_writes_nothing() {
    let s = Setup::new();
    let out = s.apply(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("in Deployment api-2-0-0"), "{}", text(&out));
    for cluster in CLUSTERS {
        assert_eq!(s.shape(cluster), stable("2.0.0"), "{cluster}");
    }
    // A stage's slots on a cluster go in one apply: staging once; production once for the
    // canary's slot and once for the other three.
    assert_eq!(s.clusters.cluster("staging").writes(), 1);
    assert_eq!(s.clusters.cluster("eu-west-1").writes(), 2);
    let d = &s.deployments("eu-west-1")[0];
    let labels = &d["metadata"]["labels"];
    assert_eq!(labels["conv.dev/service"], "api");
    assert_eq!(labels["conv.dev/version"], "2.0.0");
    assert_eq!(labels["conv.dev/release"], "shop");
    assert_eq!(labels["app.kubernetes.io/managed-by"], "conv");
    assert_eq!(d["metadata"]["managedFields"][0]["manager"], "conv", "a server-side apply by conv");
    assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["env"], json!([{"name": "LOG_LEVEL", "value": "info"}]));
    assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["ports"], json!([{"containerPort": 8080}]));

    let status = s.run(&["status", ".", "--format", "json"]);
    let report: Value = serde_json::from_slice(&status.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&status)));
    let rows = report["sites"].as_array().unwrap();
    assert_eq!(rows.len(), 13);
    assert!(rows.iter().all(|r| r["versions"] == json!(["2.0.0"])), "{report}");

    let before = s.writes();
    let mut plan = vec!["plan", ".", "--detailed-exitcode"];
    plan.extend_from_slice(FAST);
    let plan = s.run(&plan);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    assert!(text(&plan).contains("No changes."), "{}", text(&plan));
    assert_eq!(s.apply(&[]).status.code(), Some(0));
    assert_eq!(s.writes(), before, "a second apply of the same program writes nothing");

    // Destroy deletes what conv made and nothing else.
    let theirs = json!({"metadata": {"labels": {"app": "billing"}}, "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "billing", "image": "billing:1"}]}}}});
    s.clusters.cluster("staging").store.lock().unwrap().apply("shop", "billing", &theirs, "kubectl");
    let out = s.run(&["destroy", ".", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(s.shape("staging").iter().map(|d| d.0.as_str()).collect::<Vec<_>>(), ["billing"]);
    assert!(CLUSTERS[1..].iter().all(|c| s.shape(c).is_empty()));
}

#[test]
fn secrets_go_into_a_kubernetes_secret_that_the_pods_read_and_never_into_the_deployment() {
    let s = Setup::new();
    let program = std::fs::read_to_string(s.dir.path().join("main.conv")).unwrap().replace(
        "config = { LOG_LEVEL = \"info\" }",
        "config = { LOG_LEVEL = \"info\" }\n  secrets = { DB_PASSWORD = env { name = \"SHOP_DB_PASSWORD\" } }",
    );
    std::fs::write(s.dir.path().join("main.conv"), program).unwrap();
    let mut apply = vec!["apply", ".", "--yes"];
    apply.extend_from_slice(FAST);
    let out = s.command(&apply).env("SHOP_DB_PASSWORD", "s3cr3t-7f2a").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("s3cr3t-7f2a"));
    let secret = s.clusters.cluster("us-east-3").secret_as_applied("shop", "api-secrets").expect("a Secret");
    assert_eq!(secret["stringData"]["DB_PASSWORD"], "s3cr3t-7f2a");
    let d = &s.deployments("us-east-3")[0];
    let env = &d["spec"]["template"]["spec"]["containers"][0]["env"];
    assert_eq!(
        env[1],
        json!({"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "api-secrets", "key": "DB_PASSWORD"}}})
    );
    assert!(!d.to_string().contains("s3cr3t-7f2a"));
    let drift = s.run(&["drift", "."]);
    assert_eq!(drift.status.code(), Some(0), "a Secret's variable reads back as its reference: {}", text(&drift));
    let out = s.run(&["destroy", ".", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(s.clusters.cluster("us-east-3").secret_as_applied("shop", "api-secrets").is_none());
}

#[test]
fn a_canary_that_errs_in_one_region_rolls_the_whole_release_back_everywhere() {
    let s = Setup::new();
    assert_eq!(s.apply(&[]).status.code(), Some(0));
    s.clusters.cluster("ap-south-2").errs_with(":2.1.0");
    let out = s.apply(&["--set", "version=2.1.0"]);
    let all = text(&out);
    assert_ne!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("ap-south-2"), "the failing cluster is named: {all}");
    assert!(all.contains("rolled back") || all.contains("rolling back"), "{all}");
    for cluster in CLUSTERS {
        assert_eq!(s.shape(cluster), stable("2.0.0"), "{cluster} runs the previous version again, all four pods");
    }
}

#[test]
fn a_rollout_that_cannot_become_available_fails_its_cluster_with_kubernetes_reason() {
    let s = Setup::new();
    assert_eq!(s.apply(&[]).status.code(), Some(0));
    let out = s.apply(&["--set", "version=2.1.0-bad"]);
    let all = text(&out);
    assert_ne!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("ImagePullBackOff"), "{all}");
    assert_eq!(s.shape("staging"), stable("2.0.0"), "staging is rolled back");
}

#[test]
fn three_clusters_that_fail_are_left_and_the_next_apply_touches_only_them() {
    let s = Setup::new();
    let refusing = ["us-east-2", "ap-south-1", "ap-south-3"];
    for c in refusing {
        s.clusters.cluster(c).outage(1_000_000, 403);
    }
    let out = s.apply(&[]);
    let all = text(&out);
    for c in refusing {
        assert!(all.contains(c) && all.contains("forbidden"), "{c} is reported with the API's answer: {all}");
        assert!(s.shape(c).is_empty());
    }
    for c in CLUSTERS.iter().filter(|c| !refusing.contains(c)) {
        assert_eq!(s.shape(c), stable("2.0.0"), "{c}");
    }
    let mut plan = vec!["plan", "."];
    plan.extend_from_slice(FAST);
    let unseen = text(&s.run(&plan));
    assert!(unseen.contains("production[\"us-east-2\"] could not be observed"), "{unseen}");
    for c in refusing {
        s.clusters.cluster(c).end_outage();
    }
    let mut plan = vec!["plan", "."];
    plan.extend_from_slice(FAST);
    let plan = text(&s.run(&plan));
    for c in CLUSTERS {
        assert_eq!(plan.contains(&format!("[\"{c}\"]/api")), refusing.contains(c), "{c} in the plan:\n{plan}");
    }
    let before = s.writes();
    let out = s.apply(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for (n, c) in CLUSTERS.iter().enumerate() {
        assert_eq!(s.writes()[n] > before[n], refusing.contains(c), "{c} written to");
        assert_eq!(s.shape(c), stable("2.0.0"), "{c}");
    }
}

#[test]
fn an_edit_by_hand_is_drift_and_apply_converges_it_back() {
    let s = Setup::new();
    assert_eq!(s.apply(&[]).status.code(), Some(0));
    let image = json!({"spec": {"template": {"spec": {"containers": [{"name": "api", "image": "registry.example/shop/api:hotfix"}]}}}});
    assert!(s.clusters.cluster("eu-west-3").edit("shop", "api-2-0-0", image));
    assert!(s.clusters.cluster("us-east-1").edit("shop", "api-2-0-0", json!({"spec": {"replicas": 1}})));
    assert!(s.clusters.cluster("ap-south-4").delete("shop", "api-2-0-0"));
    let drift = s.run(&["drift", "."]);
    let all = text(&drift);
    assert_eq!(drift.status.code(), Some(4), "{all}");
    for c in ["eu-west-3", "us-east-1", "ap-south-4"] {
        assert!(all.contains(c), "{c} drifted: {all}");
    }
    assert!(!all.contains("eu-west-1"), "{all}");
    let out = s.apply(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for c in CLUSTERS {
        assert_eq!(s.shape(c), stable("2.0.0"), "{c}");
    }
    assert_eq!(s.run(&["drift", "."]).status.code(), Some(0));
}

#[test]
fn an_api_server_that_answers_503_for_a_while_is_retried() {
    let s = Setup::new();
    s.clusters.cluster("staging").outage(3, 503);
    s.clusters.cluster("eu-west-1").outage(4, 503);
    let out = s.apply(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for c in CLUSTERS {
        assert_eq!(s.shape(c), stable("2.0.0"), "{c}");
    }
}

#[test]
fn an_apply_killed_midway_resumes_and_converges() {
    let s = Setup::new();
    let mut child = s
        .command(&["apply", ".", "--yes", "--set", "bake=3s", "--set", "window=1s"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = eventually(Duration::from_secs(60), || !s.deployments("eu-west-1").is_empty());
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(started, "the canary reached production before the kill");
    assert!(s.shape("ap-south-4").first().is_none_or(|d| d.1 < 4), "killed before production was done");
    let out = s.apply(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for c in CLUSTERS {
        assert_eq!(s.shape(c), stable("2.0.0"), "{c}");
    }
}
