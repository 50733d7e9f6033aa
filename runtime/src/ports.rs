//! Who listens on a local TCP port, from /proc: the socket's inode in /proc/net/tcp{,6} and
//! the process whose file descriptors hold it. Live state uses it to tell an instance that
//! serves its port from another program answering there.

use std::path::Path;

/// The inodes of sockets listening on `port` (IPv4 and IPv6, any address).
fn listening_inodes(port: u16) -> Vec<u64> {
    let mut out = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else { continue };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            let (Some(local), Some(state), Some(inode)) = (fields.get(1), fields.get(3), fields.get(9)) else {
                continue;
            };
            let listening = *state == "0A";
            let on_port = local.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok()) == Some(port);
            if listening
                && on_port
                && let Ok(inode) = inode.parse::<u64>()
                && inode != 0
            {
                out.push(inode);
            }
        }
    }
    out
}

/// Whether process `pid` holds one of `inodes` among its open files.
fn holds(pid: u32, inodes: &[u64]) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return false };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path()).ok().and_then(|target| socket_inode(&target)).is_some_and(|i| inodes.contains(&i))
    })
}

fn socket_inode(target: &Path) -> Option<u64> {
    let text = target.to_str()?;
    text.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
}

/// `pid` and every process below it (a service's command may be a wrapper that starts the
/// server as a child).
fn tree(pid: u32) -> Vec<u32> {
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() && out.len() < 1024 {
        let parent = out[i];
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{parent}/task")) {
            for task in tasks.flatten() {
                let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
                out.extend(children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
            }
        }
        i += 1;
    }
    out
}

/// Who listens on a port, as far as this machine tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listener {
    Nobody,
    /// The instance's own process, or one of its children.
    Instance,
    /// Another process: `pid 123 (python3)`, or `another process` when /proc hides it.
    Other(String),
}

/// Who listens on `port`, judged for the instance whose process is `pid` (0: none).
pub fn listener(port: u16, pid: u32) -> Listener {
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return Listener::Nobody;
    }
    if pid != 0 && tree(pid).into_iter().any(|p| holds(p, &inodes)) {
        return Listener::Instance;
    }
    Listener::Other(owner_of(&inodes).unwrap_or_else(|| "another process".into()))
}

fn owner_of(inodes: &[u64]) -> Option<String> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        if holds(pid, inodes) {
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            return Some(format!("pid {pid} ({})", name.trim()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_of_this_process_is_the_instance_and_anyone_else_is_named() {
        let socket = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = socket.local_addr().unwrap().port();
        assert_eq!(listener(port, std::process::id()), Listener::Instance);
        // Seen from an instance whose process is another one, this process holds the port.
        match listener(port, 0) {
            Listener::Other(who) => assert!(who.contains(&std::process::id().to_string()), "{who}"),
            other => panic!("{other:?}"),
        }
        drop(socket);
        assert_eq!(listener(port, std::process::id()), Listener::Nobody);
    }
}
