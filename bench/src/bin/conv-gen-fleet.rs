//! Writes a fleet program for the engine's benchmark: SITES sites in 4 regions on the
//! simulator (no latency, no failures), SERVICES services, one release rolling through the
//! regions in 4 stages with no bake.
//!
//! Usage: conv-gen-fleet SITES SERVICES OUT_DIR

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

const REGIONS: usize = 4;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(sites), Some(services), Some(out)) = (
        args.first().and_then(|s| s.parse::<usize>().ok()),
        args.get(1).and_then(|s| s.parse::<usize>().ok()),
        args.get(2),
    ) else {
        eprintln!("usage: conv-gen-fleet SITES SERVICES OUT_DIR");
        return ExitCode::from(2);
    };
    let out = PathBuf::from(out);
    if let Err(err) = std::fs::create_dir_all(&out)
        .and_then(|_| std::fs::write(out.join("main.conv"), generate(sites.max(REGIONS), services.max(1))))
    {
        eprintln!("error: cannot write {}: {err}", out.display());
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

fn generate(sites: usize, services: usize) -> String {
    let mut s = String::new();
    for r in 0..REGIONS {
        let names: Vec<String> = (0..sites / REGIONS).map(|i| format!("\"r{r}-{i:05}\"")).collect();
        let _ = write!(
            s,
            "environment region_{r} {{\n  provider = simulator {{ seed = {r}, failure_rate = 0%, latency = 0ms }}\n  sites = [{}]\n}}\n\n",
            names.join(", ")
        );
    }
    for v in 0..services {
        let _ = write!(s, "service svc_{v:02} {{\n  run = image {{ name = \"svc\" }}\n  version = \"1.0.0\"\n}}\n\n");
    }
    let list: Vec<String> = (0..services).map(|v| format!("svc_{v:02}")).collect();
    let _ = write!(s, "release fleet {{\n  services = [{}]\n  strategy = rollout {{\n", list.join(", "));
    for r in 0..REGIONS {
        let _ = writeln!(s, "    stage region_{r} {{ env = region_{r}, bake = 0s }}");
    }
    s.push_str("  }\n}\n");
    s
}
