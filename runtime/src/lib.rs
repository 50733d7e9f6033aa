//! The runtime: observe live state, diff it with the resolved program, plan, and apply
//! progressive rollouts, gated by real health signals, rolling a release back as a whole
//! when a gate fails.
//!
//! Providers reach sites; `local` (the default) runs real processes on this machine and
//! keeps their records under the project's `.conv/` directory.

pub mod apply;
pub mod approval;
mod bake;
pub mod event;
pub mod fleet;
pub mod freeze;
pub mod gates;
pub mod http;
pub mod kubernetes;
pub mod live;
pub mod local;
pub mod machine_lock;
pub mod markdown_plan;
pub mod notify;
pub mod plan;
pub mod plan_warnings;
pub mod ports;
pub mod process;
pub mod project;
pub mod provider;
pub mod record;
pub mod render;
pub mod requirements;
pub mod rollback;
pub mod run;
pub mod secrets;
pub mod session;
mod sim_store;
pub mod simulator;
pub mod status;
pub mod window;

pub use live::LiveState;
pub use plan::Plan;

use std::path::{Path, PathBuf};

/// Where a project keeps what conv started and decided: `<program root>/.conv`.
pub fn state_dir(program_root: &Path) -> PathBuf {
    program_root.join(".conv")
}

/// The project's name, as labels and notifications give it: the program root's directory name.
pub fn project_name(program_root: &Path) -> String {
    let root = std::path::absolute(program_root).unwrap_or_else(|_| program_root.to_path_buf());
    root.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "conv".into())
}

/// Writes beside the target and renames over it, so a crash never leaves half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
