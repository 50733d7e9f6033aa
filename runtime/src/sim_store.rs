//! Where the simulator keeps its instances: one append-only log per environment
//! (`.conv/sim/<env>.log`), a JSON line for each start or stop, and the state is that log
//! replayed. A start costs one appended line, not a file, so a fleet of 200,000 slots is
//! written in seconds; observing reads only what was appended since the last look, so two
//! conv processes on different sites of one environment see each other's work.
//!
//! The log is compacted (rewritten with only the live slots) when it is opened, if it has
//! grown to several times its live state and no other process holds it: every process keeps
//! a shared flock on the log it has open, and compaction takes the exclusive one without
//! waiting. Records are simulated state, so lines are not synced: a process killed mid-run
//! loses nothing (the page cache keeps it), and a torn last line is ignored.

use crate::live::Spec;
use conv_model::{EnvName, InstanceAddress, ServiceName, SiteName};
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What runs in a simulated slot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Record {
    pub version: String,
    pub port: u16,
    pub started_at_ms: u64,
    #[serde(default)]
    pub spec: Option<Spec>,
}

/// One line of a log: a slot started (`record`) or stopped (no record).
#[derive(Serialize, Deserialize)]
struct Line {
    site: SiteName,
    service: ServiceName,
    slot: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    record: Option<Record>,
}

/// Slots of one site's service, by slot number.
pub(crate) type Slots = BTreeMap<u32, Record>;

/// Slots by site, then service (nested, so that a lookup borrows its names).
pub(crate) type Sites = HashMap<SiteName, HashMap<ServiceName, Slots>>;

/// Compact when the log holds this many times more lines than live slots (and at least
/// `COMPACT_MIN_LINES`), so that repeated applies do not grow it without end.
const COMPACT_RATIO: usize = 4;
const COMPACT_MIN_LINES: usize = 10_000;

/// One environment's log, open, and its state as replayed so far.
struct EnvLog {
    file: Flock<File>,
    /// How far the log has been read (always at a line's end).
    read_to: u64,
    lines: usize,
    slots: Sites,
}

/// The logs of every simulated environment this process has touched.
#[derive(Default)]
pub(crate) struct Store {
    dir: PathBuf,
    logs: HashMap<EnvName, EnvLog>,
}

impl Store {
    pub fn new(dir: PathBuf) -> Store {
        Store { dir, logs: HashMap::new() }
    }

    fn path(&self, env: &EnvName) -> PathBuf {
        self.dir.join(format!("{}.log", env.as_str()))
    }

    /// The state of `env`, up to date with what any process appended. `None` when the
    /// environment was never simulated (no log).
    pub fn refresh(&mut self, env: &EnvName) -> std::io::Result<Option<&Sites>> {
        if !self.logs.contains_key(env) {
            let path = self.path(env);
            if !path.exists() {
                return Ok(None);
            }
            let log = EnvLog::open(&path)?;
            self.logs.insert(env.clone(), log);
        }
        let log = self.logs.get_mut(env).expect("opened above");
        log.read_new()?;
        Ok(Some(&log.slots))
    }

    /// What runs in one slot, as last read or written by this process.
    pub fn get(&self, at: &InstanceAddress) -> Option<&Record> {
        let log = self.logs.get(&at.env)?;
        log.slots.get(&at.site)?.get(&at.service)?.get(&at.slot)
    }

    /// Records that `at` runs `record` (`None`: that it stopped).
    pub fn write(&mut self, at: &InstanceAddress, record: Option<Record>) -> std::io::Result<()> {
        if !self.logs.contains_key(&at.env) {
            std::fs::create_dir_all(&self.dir)?;
            let log = EnvLog::open(&self.path(&at.env))?;
            self.logs.insert(at.env.clone(), log);
        }
        let log = self.logs.get_mut(&at.env).expect("opened above");
        let line = Line { site: at.site.clone(), service: at.service.clone(), slot: at.slot, record: record.clone() };
        let mut text = serde_json::to_vec(&line).map_err(std::io::Error::other)?;
        text.push(b'\n');
        // One write of a whole line on a file opened for appending: lines of concurrent
        // writers never interleave.
        log.file.write_all(&text)?;
        log.lines += 1;
        log.apply(line.site, line.service, at.slot, record);
        Ok(())
    }

    /// Forgets every log (after `destroy` removed them).
    pub fn clear(&mut self) {
        self.logs.clear();
    }
}

impl EnvLog {
    /// Opens a log (creating it), holding a shared lock; compacts it first when it is
    /// mostly history and nobody else has it open.
    fn open(path: &Path) -> std::io::Result<EnvLog> {
        loop {
            let file = OpenOptions::new().create(true).append(true).read(true).open(path)?;
            let file = Flock::lock(file, FlockArg::LockShared).map_err(|(_, e)| std::io::Error::from(e))?;
            // A compaction may have replaced the file between open and lock: use the new one.
            if file.metadata()?.ino() != std::fs::metadata(path)?.ino() {
                continue;
            }
            let mut log = EnvLog { file, read_to: 0, lines: 0, slots: HashMap::new() };
            log.read_new()?;
            let live: usize = log.slots.values().flat_map(HashMap::values).map(BTreeMap::len).sum();
            if log.lines >= COMPACT_MIN_LINES && log.lines > COMPACT_RATIO * live.max(1) {
                return log.compact(path);
            }
            return Ok(log);
        }
    }

    /// Reads and replays what was appended since the last read, up to the last whole line.
    fn read_new(&mut self) -> std::io::Result<()> {
        let end = self.file.metadata()?.len();
        if end <= self.read_to {
            return Ok(());
        }
        let mut bytes = Vec::with_capacity((end - self.read_to) as usize);
        self.file.seek(SeekFrom::Start(self.read_to))?;
        (&*self.file).take(end - self.read_to).read_to_end(&mut bytes)?;
        let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        for text in bytes[..whole].split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            // A line this conv cannot read (an older format, a torn write) is skipped.
            if let Ok(line) = serde_json::from_slice::<Line>(text) {
                self.lines += 1;
                self.apply(line.site, line.service, line.slot, line.record);
            }
        }
        self.read_to += whole as u64;
        Ok(())
    }

    fn apply(&mut self, site: SiteName, service: ServiceName, slot: u32, record: Option<Record>) {
        match record {
            Some(r) => {
                self.slots.entry(site).or_default().entry(service).or_default().insert(slot, r);
            }
            None => {
                let Some(services) = self.slots.get_mut(&site) else { return };
                if let Some(slots) = services.get_mut(&service) {
                    slots.remove(&slot);
                    if slots.is_empty() {
                        services.remove(&service);
                    }
                }
            }
        }
    }

    /// Rewrites the log with only its live slots, if no other process holds it; either way
    /// returns the log open with a shared lock.
    fn compact(self, path: &Path) -> std::io::Result<EnvLog> {
        let EnvLog { file, slots, .. } = self;
        let exclusive = match file.relock(FlockArg::LockExclusiveNonblock) {
            Ok(()) => true,
            Err(nix::errno::Errno::EWOULDBLOCK) => false,
            Err(e) => return Err(e.into()),
        };
        if exclusive {
            let mut text = Vec::new();
            for (site, service, list) in slots.iter().flat_map(|(site, s)| s.iter().map(move |(v, l)| (site, v, l))) {
                for (slot, record) in list {
                    let line = Line {
                        site: site.clone(),
                        service: service.clone(),
                        slot: *slot,
                        record: Some(record.clone()),
                    };
                    serde_json::to_writer(&mut text, &line).map_err(std::io::Error::other)?;
                    text.push(b'\n');
                }
            }
            crate::write_atomically(path, &text)?;
        }
        drop(file);
        // Reopen the compacted file (or the same one, when another process held it).
        let file = OpenOptions::new().create(true).append(true).read(true).open(path)?;
        let file = Flock::lock(file, FlockArg::LockShared).map_err(|(_, e)| std::io::Error::from(e))?;
        let mut log = EnvLog { file, read_to: 0, lines: 0, slots: HashMap::new() };
        log.read_new()?;
        Ok(log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(site: &str, slot: u32) -> InstanceAddress {
        InstanceAddress::new(&EnvName("prod".into()), &SiteName(site.into()), &ServiceName("api".into()), slot)
    }

    fn record(version: &str) -> Option<Record> {
        Some(Record { version: version.into(), port: 1, started_at_ms: 0, spec: None })
    }

    #[test]
    fn a_second_store_sees_what_the_first_appended_and_a_torn_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = Store::new(dir.path().to_path_buf());
        let mut b = Store::new(dir.path().to_path_buf());
        a.write(&at("eu", 0), record("1.0")).unwrap();
        b.write(&at("us", 0), record("2.0")).unwrap();
        a.write(&at("eu", 1), record("1.0")).unwrap();
        a.write(&at("eu", 1), None).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("prod.log"))
            .unwrap()
            .write_all(b"{\"site\":\"eu\",\"serv")
            .unwrap();
        let seen = b.refresh(&EnvName("prod".into())).unwrap().unwrap();
        let eu = &seen[&SiteName("eu".into())][&ServiceName("api".into())];
        assert_eq!(eu.keys().collect::<Vec<_>>(), vec![&0]);
        assert_eq!(seen[&SiteName("us".into())][&ServiceName("api".into())][&0].version, "2.0");
    }

    #[test]
    fn a_log_mostly_history_is_compacted_when_opened_and_keeps_its_state() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = Store::new(dir.path().to_path_buf());
        for i in 0..COMPACT_MIN_LINES as u32 {
            a.write(&at("eu", 0), record(&format!("1.{i}"))).unwrap();
        }
        drop(a);
        let before = std::fs::metadata(dir.path().join("prod.log")).unwrap().len();
        let mut b = Store::new(dir.path().to_path_buf());
        let seen = b.refresh(&EnvName("prod".into())).unwrap().unwrap();
        let last = format!("1.{}", COMPACT_MIN_LINES - 1);
        assert_eq!(seen[&SiteName("eu".into())][&ServiceName("api".into())][&0].version, last);
        let after = std::fs::metadata(dir.path().join("prod.log")).unwrap().len();
        assert!(after * 100 < before, "compacted from {before} to {after} bytes");
    }

    #[test]
    fn a_log_another_process_holds_is_not_compacted() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = Store::new(dir.path().to_path_buf());
        for i in 0..COMPACT_MIN_LINES as u32 {
            a.write(&at("eu", 0), record(&format!("1.{i}"))).unwrap();
        }
        let before = std::fs::metadata(dir.path().join("prod.log")).unwrap().len();
        let mut b = Store::new(dir.path().to_path_buf());
        b.refresh(&EnvName("prod".into())).unwrap().unwrap();
        assert_eq!(std::fs::metadata(dir.path().join("prod.log")).unwrap().len(), before);
        // Both still write to the same, one file.
        b.write(&at("us", 0), record("2.0")).unwrap();
        let seen = a.refresh(&EnvName("prod".into())).unwrap().unwrap();
        assert!(seen[&SiteName("us".into())].contains_key(&ServiceName("api".into())));
    }
}
