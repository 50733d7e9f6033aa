//! Writes a program of N services x M environments: environments in a chain (`after`), two
//! sites each; services in releases of 10, each depending on the one before it, with gates
//! from std.gates; every release rolls out stage by stage through every environment.
//!
//! Usage: conv-gen SERVICES ENVIRONMENTS OUT_DIR

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(services), Some(envs), Some(out)) = (
        args.first().and_then(|s| s.parse::<usize>().ok()),
        args.get(1).and_then(|s| s.parse::<usize>().ok()),
        args.get(2),
    ) else {
        eprintln!("usage: conv-gen SERVICES ENVIRONMENTS OUT_DIR");
        return ExitCode::from(2);
    };
    let out = PathBuf::from(out);
    if let Err(err) = std::fs::create_dir_all(&out)
        .and_then(|_| std::fs::write(out.join("main.conv"), generate(services, envs.max(1))))
    {
        eprintln!("error: cannot write {}: {err}", out.display());
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

fn generate(services: usize, envs: usize) -> String {
    let mut s = String::from("import std.gates.{http_ok, latency_p99, max_error_rate}\n\n");
    s.push_str("let standard_gates: List[Gate] = [latency_p99(under: 250ms, window: 30s), max_error_rate(under: 1%, window: 30s)]\n\n");
    for e in 0..envs {
        let after = if e == 0 { String::new() } else { format!("  after = [env_{}]\n", e - 1) };
        let critical = if e + 1 == envs { "  critical = true\n" } else { "" };
        let _ = write!(
            s,
            "environment env_{e} {{\n  provider = local {{ instances_per_site = 2 }}\n  sites = [\"env-{e}-a\", \"env-{e}-b\"]\n{after}{critical}}}\n\n"
        );
    }
    for i in 0..services {
        let depends = if i % 10 == 0 { String::new() } else { format!("  depends_on = [svc_{}]\n", i - 1) };
        let _ = write!(
            s,
            "/// Service {i}.\nservice svc_{i} {{\n  run = command {{ argv = [\"demo-app\", \"--port\", \"{{port}}\", \"--version\", \"{{version}}\"] }}\n  version = \"1.{}.{}\"\n{depends}  config = {{ \"SHARD\" = \"{i}\" }}\n  gates = standard_gates + [http_ok(window: 30s)]\n}}\n\n",
            i / 100,
            i % 100
        );
    }
    for r in 0..services.div_ceil(10) {
        let members: Vec<String> = (r * 10..((r + 1) * 10).min(services)).map(|i| format!("svc_{i}")).collect();
        let _ = write!(s, "release rel_{r} {{\n  services = [{}]\n  strategy = rollout {{\n", members.join(", "));
        for e in 0..envs {
            let _ = writeln!(s, "    stage s{e} {{ env = env_{e}, bake = 1m, max_parallel = 2 }}");
        }
        s.push_str("  }\n}\n\n");
    }
    s
}
