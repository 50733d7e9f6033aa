//! A function called with equal scalar arguments is evaluated once and its value reused: the
//! values must still be those of each call's own arguments, defaults included.

use conv_compiler::{Sources, check};

const PROGRAM: &str = r#"
environment staging {
  provider = simulator {}
  sites = ["s-1"]
}

environment production {
  provider = simulator {}
  sites = ["p-1", "p-2"]
  after = [staging]
}

let envs = [staging, production]

fn policy(bake_factor: Int, fraction: Percent = 100%) -> Strategy = rollout {
  stages = [for e in envs: { name = "to_${e}", env = e, fraction = fraction, bake = 1m * bake_factor }]
}

service a {
  run = command { argv = ["demo-app", "--port", "{port}"] }
  version = "1.0.0"
}

service b {
  run = command { argv = ["demo-app", "--port", "{port}"] }
  version = "1.0.0"
}

service c {
  run = command { argv = ["demo-app", "--port", "{port}"] }
  version = "1.0.0"
}

release ra {
  services = [a]
  strategy = policy(bake_factor: 1)
}

release rb {
  services = [b]
  strategy = policy(bake_factor: 2)
}

release rc {
  services = [c]
  strategy = policy(bake_factor: 1, fraction: 100%)
}
"#;

#[test]
fn equal_calls_share_a_value_and_other_arguments_get_their_own() {
    let mut sources = Sources::new();
    sources.add("main.conv", PROGRAM.to_string());
    let checked = check(&sources);
    let codes: Vec<&str> = checked.diagnostics.iter().map(|d| d.code.id).collect();
    assert!(codes.is_empty(), "{codes:?}");
    let program = checked.program.expect("the program checks");
    let bakes = |release: &str| -> Vec<u64> {
        let r = program.releases.iter().find(|r| r.name.as_str() == release).unwrap();
        r.stages.iter().map(|s| s.bake_ms).collect()
    };
    assert_eq!(bakes("ra"), [60_000, 60_000]);
    assert_eq!(bakes("rb"), [120_000, 120_000]);
    assert_eq!(bakes("rc"), [60_000, 60_000]);
    let names: Vec<&str> = program.releases[0].stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["to_staging", "to_production"]);
}
