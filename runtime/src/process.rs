//! Which process an instance is: its pid and the moment it started (the kernel's start time,
//! in clock ticks since boot, from /proc/PID/stat). A pid the kernel gave to another process
//! since has another start time, so it is never taken for the instance and never signalled.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::time::{Duration, Instant};

/// Field 22 of /proc/PID/stat: when the process started, in ticks since boot.
pub fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from its last `)`.
    let rest = stat.rsplit_once(')')?.1;
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Alive, not a zombie, and (when its start time is known) the same process as recorded.
pub fn alive(pid: u32, started: Option<u64>) -> bool {
    if pid == 0 {
        return false;
    }
    if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        && let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r)
    {
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("");
        let ticks = fields.nth(18).and_then(|t| t.parse::<u64>().ok());
        return state != "Z" && state != "X" && started.is_none_or(|s| ticks == Some(s));
    }
    started.is_none() && kill(Pid::from_raw(pid as i32), None).is_ok()
}

/// Stops the instance and everything it started: SIGTERM to its process group (conv starts
/// each instance as a group of its own), SIGKILL after `grace`. A pid that is no longer the
/// instance is left alone.
pub fn terminate(pid: u32, started: Option<u64>, grace: Duration) {
    if !alive(pid, started) {
        return;
    }
    let group = Pid::from_raw(-(pid as i32));
    let signal = |s: Signal| {
        // A group leader that left its group (or a record from before groups) gets it alone.
        if kill(group, s).is_err() {
            let _ = kill(Pid::from_raw(pid as i32), s);
        }
    };
    signal(Signal::SIGTERM);
    // A stopped (hung by SIGSTOP) process acts on SIGTERM only once it runs again.
    signal(Signal::SIGCONT);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !alive(pid, started) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    signal(Signal::SIGKILL);
}

/// The last `n` lines of an instance's log, for a failure report.
pub fn log_tail(path: &std::path::Path, n: usize) -> String {
    let text = std::fs::read(path).map(|b| String::from_utf8_lossy(&b).to_string()).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_is_known_by_its_start_time() {
        let me = std::process::id();
        let started = start_ticks(me);
        assert!(started.is_some());
        assert!(alive(me, started));
        assert!(!alive(me, started.map(|s| s + 1)), "same pid, another start: not the same process");
        assert!(!alive(0, None));
    }
}
