//! Writes the peer workload of BENCHMARKS.md: N services, 5 environments of 2 sites in a
//! chain, and one release per service whose strategy comes from one shared function,
//! `policy(bake_factor)`, building a stage per environment with a comprehension, as teams
//! write it. Each service depends on 1 to 3 earlier ones and has latency and error-rate gates.
//!
//! Usage: conv-gen-peer SERVICES OUT_DIR

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

const ENVIRONMENTS: usize = 5;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(services), Some(out)) = (args.first().and_then(|s| s.parse::<usize>().ok()), args.get(1)) else {
        eprintln!("usage: conv-gen-peer SERVICES OUT_DIR");
        return ExitCode::from(2);
    };
    let out = PathBuf::from(out);
    if let Err(err) =
        std::fs::create_dir_all(&out).and_then(|_| std::fs::write(out.join("main.conv"), generate(services)))
    {
        eprintln!("error: cannot write {}: {err}", out.display());
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

fn generate(services: usize) -> String {
    let mut s = String::from("import std.gates.{latency_p99, max_error_rate}\n\n");
    for e in 0..ENVIRONMENTS {
        let after = if e == 0 { String::new() } else { format!("  after = [env_{}]\n", e - 1) };
        let _ = write!(
            s,
            "environment env_{e} {{\n  provider = local {{ instances_per_site = 2 }}\n  sites = [\"env-{e}-a\", \"env-{e}-b\"]\n{after}}}\n\n"
        );
    }
    let envs: Vec<String> = (0..ENVIRONMENTS).map(|e| format!("env_{e}")).collect();
    let _ = write!(
        s,
        "let envs = [{}]\n\n\
         /// A stage per environment, in order, each baking `bake_factor` minutes.\n\
         fn policy(bake_factor: Int) -> Strategy = rollout {{\n  \
         stages = [for e in envs: {{ name = \"to_${{e}}\", env = e, fraction = 100%, bake = 1m * bake_factor, max_parallel = 2 }}]\n\
         }}\n\n",
        envs.join(", ")
    );
    for i in 0..services {
        // 1 to 3 earlier services, where there are that many.
        let wanted = 1 + i % 3;
        let deps: Vec<String> = (1..=wanted.min(i)).map(|d| format!("svc_{}", i - d)).collect();
        let depends = if deps.is_empty() { String::new() } else { format!("  depends_on = [{}]\n", deps.join(", ")) };
        let _ = write!(
            s,
            "service svc_{i} {{\n  run = command {{ argv = [\"demo-app\", \"--port\", \"{{port}}\", \"--version\", \"{{version}}\"] }}\n  version = \"1.{}.{}\"\n{depends}  gates = [latency_p99(under: 250ms, window: 30s), max_error_rate(under: 1%, window: 30s)]\n}}\n\n",
            i / 100,
            i % 100
        );
        let _ = write!(
            s,
            "release rel_{i} {{\n  services = [svc_{i}]\n  strategy = policy(bake_factor: {})\n}}\n\n",
            1 + i % 3
        );
    }
    s
}
