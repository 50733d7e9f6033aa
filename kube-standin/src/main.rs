//! `conv-kube-standin`: stand-in Kubernetes API servers on loopback, one per cluster name,
//! and a kubeconfig that reaches them, for rehearsing conv's Kubernetes provider without a
//! cluster. Not a Kubernetes: docs/kubernetes.md says what it covers.

use clap::Parser;
use std::time::Duration;

#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The clusters to stand in for, by context name: `staging eu-1 eu-2`.
    #[arg(required = true)]
    clusters: Vec<String>,
    /// Where to write the kubeconfig with a context per cluster.
    #[arg(long, default_value = "kubeconfig.standin")]
    kubeconfig: std::path::PathBuf,
    /// How long a new pod takes to become ready, in milliseconds.
    #[arg(long, default_value_t = 300)]
    ready_ms: u64,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let names: Vec<&str> = args.clusters.iter().map(String::as_str).collect();
    let standins = match conv_kube_standin::StandIns::spawn(&names, Duration::from_millis(args.ready_ms)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot start the stand-in clusters: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let tmp = args.kubeconfig.with_extension("tmp");
    if let Err(e) = std::fs::write(&tmp, standins.kubeconfig()).and_then(|()| std::fs::rename(&tmp, &args.kubeconfig)) {
        eprintln!("error: cannot write {}: {e}", args.kubeconfig.display());
        return std::process::ExitCode::FAILURE;
    }
    for c in &standins.clusters {
        println!("{:<16} {}", c.name, c.url());
    }
    println!("kubeconfig: {} (export KUBECONFIG={})", args.kubeconfig.display(), args.kubeconfig.display());
    println!("stand-in API servers, not Kubernetes; Ctrl-C stops them");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    if let Ok(rt) = runtime {
        rt.block_on(async {
            let _ = tokio::signal::ctrl_c().await;
        });
    }
    std::process::ExitCode::SUCCESS
}
