//! Locks that hold across checkouts on one machine. Two checkouts of a program (or two
//! programs) whose local environments share base ports would collide on them; the journal's
//! locks cannot see that, since each checkout has a journal of its own. So each local base
//! port gets a lock file in the system's temporary folder, held with flock for the run: the
//! kernel lets it go when the process ends, however it ends.

use conv_model::{Program, Provider};
use nix::fcntl::{Flock, FlockArg};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Held for the length of a run.
#[derive(Debug)]
pub struct PortLocks {
    _held: Vec<Flock<File>>,
    /// Other programs on this machine that used the same ports before (warnings).
    pub shared_with: Vec<String>,
}

fn lock_dir() -> PathBuf {
    std::env::temp_dir().join("conv-locks")
}

/// The base ports of the program's local environments.
fn base_ports(program: &Program) -> Vec<u16> {
    let mut ports: Vec<u16> = program
        .environments
        .iter()
        .filter_map(|e| match e.provider {
            Provider::Local { base_port, .. } => Some(base_port),
            _ => None,
        })
        .collect();
    ports.sort();
    ports.dedup();
    ports
}

/// Takes the lock of every local base port of the program, or says who holds one.
pub fn lock_local_ports(program: &Program, root: &Path) -> Result<PortLocks, String> {
    let dir = lock_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    let mut held = Vec::new();
    let mut shared_with = Vec::new();
    for port in base_ports(program) {
        let path = dir.join(format!("local-{port}.lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let mut lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => lock,
            Err((_, _)) => {
                let who = std::fs::read_to_string(&path).unwrap_or_default();
                return Err(format!(
                    "the local ports from {port} are in use by another apply on this machine: {}",
                    if who.trim().is_empty() { "(unknown)".to_string() } else { who.trim().to_string() }
                ));
            }
        };
        let previous = std::fs::read_to_string(&path).unwrap_or_default();
        if let Some(other) = previous.split(" for ").nth(1).map(str::trim)
            && other != root.display().to_string()
            && has_instances(Path::new(other))
        {
            shared_with.push(format!(
                "ports from {port} are also used by the program at {other}, which has instances running"
            ));
        }
        let (_, pid, user) = conv_journal::whoami();
        let _ = lock.set_len(0);
        let _ = write!(&mut *lock, "pid {pid} ({user}) for {}", root.display());
        held.push(lock);
    }
    Ok(PortLocks { _held: held, shared_with })
}

/// Whether the program at `root` has local instances on record.
fn has_instances(root: &Path) -> bool {
    fn any_record(dir: &Path, depth: u32) -> bool {
        let Ok(entries) = std::fs::read_dir(dir) else { return false };
        entries.flatten().any(|e| {
            let path = e.path();
            if path.is_dir() {
                depth < 4 && any_record(&path, depth + 1)
            } else {
                path.extension().is_some_and(|x| x == "json")
            }
        })
    }
    any_record(&crate::state_dir(root).join("local"), 0)
}
