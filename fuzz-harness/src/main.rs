//! `conv-fuzz-harness`: runs mutated inputs through conv until time is up or something fails.
//!
//!     cargo run --release -p conv-fuzz-harness -- --seconds 120 --seed 1
//!
//! Options: `--seconds N` (default 120), `--inputs N` (stop after N inputs), `--seed N`
//! (default 1), `--out DIR` (default target/fuzz-found). It stops at the first input that
//! panics, crashes the process (a stack overflow aborts it), takes over 1 s (plus 1 s per
//! MB of input), or breaks a property of `oracle::run`, with that input saved in DIR, and
//! exits 1. Timings assume a release build, and count the processor time the input used.
//!
//! The process runs itself as a worker and watches it: a stack overflow cannot be caught
//! in the process that overflows, so the worker writes each input to DIR/current.input
//! before running it, and the watcher keeps that file if the worker dies.

use conv_fuzz_harness::{corpus, mutate, oracle, rng::Rng};
use std::io::Write as _;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Resident memory past which the run stops: no input needs this much, so memory that grows
/// to it over many inputs is a leak.
const MEMORY_LIMIT: usize = 4 << 30;

/// How often a run says how far it got.
const PROGRESS_EVERY: Duration = Duration::from_secs(300);

/// This process's resident memory, in bytes (Linux; 0 where it cannot be read).
fn resident() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|pages| pages.parse::<usize>().ok()).unwrap_or(0) * 4096
}

/// An input that has used this much processor time is a hang: the watchdog stops the run.
const HANG: Duration = Duration::from_secs(10);

/// An input running this long in wall time is a hang however busy the machine is.
const HANG_WALL: Duration = Duration::from_secs(120);

/// The processor time this process has used. Times are judged by it rather than by the
/// clock, so that other work on a shared machine does not make an input look slow.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime, in clock ticks of 1/100 s on Linux.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

struct Options {
    seconds: u64,
    inputs: u64,
    seed: u64,
    out: PathBuf,
    worker: bool,
    replay: Option<PathBuf>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        seconds: 120,
        inputs: u64::MAX,
        seed: 1,
        out: PathBuf::from("target/fuzz-found"),
        worker: false,
        replay: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--seconds" => o.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--inputs" => o.inputs = value()?.parse().map_err(|e| format!("--inputs: {e}"))?,
            "--seed" => o.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--out" => o.out = PathBuf::from(value()?),
            "--worker" => o.worker = true,
            "--replay" => o.replay = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &o.replay {
        return replay(path);
    }
    if let Err(e) = std::fs::create_dir_all(&o.out) {
        eprintln!("error: cannot create {}: {e}", o.out.display());
        return ExitCode::from(2);
    }
    if o.worker { worker(&o) } else { watch(&o) }
}

/// `--replay FILE`: runs one saved input and times its phases.
fn replay(path: &Path) -> ExitCode {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let text = String::from_utf8_lossy(&data);
    let t = Instant::now();
    let lexed = conv_lang::lexer::lex(conv_lang::FileId(0), &text);
    println!("lex: {:?} ({} tokens)", t.elapsed(), lexed.tokens.len());
    let t = Instant::now();
    let parsed = conv_lang::parse(conv_lang::FileId(0), &text);
    println!("parse: {:?} ({} diagnostics)", t.elapsed(), parsed.diagnostics.len());
    let mut sources = conv_compiler::Sources::new();
    sources.add_bytes("input.conv", data.clone());
    let t = Instant::now();
    let checked = conv_compiler::check(&sources);
    println!("check: {:?} ({} diagnostics)", t.elapsed(), checked.diagnostics.len());
    let t = Instant::now();
    let human = conv_fuzz_harness::render::human(&checked.diagnostics, &checked.sources, false);
    println!("render: {:?} ({} bytes)", t.elapsed(), human.len());
    let t = Instant::now();
    let result = oracle::run(&data);
    println!("whole oracle: {:?}: {result:?}", t.elapsed());
    ExitCode::SUCCESS
}

/// Runs the worker and keeps the input that killed it, if one did.
fn watch(o: &Options) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let status = std::process::Command::new(exe).args(std::env::args().skip(1)).arg("--worker").status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) if s.code().is_some() => ExitCode::from(1),
        Ok(s) => {
            let kept = keep(&o.out, "crash", o.seed, &std::fs::read(o.out.join("current.input")).unwrap_or_default());
            eprintln!("CRASH: the worker died ({s}); the input is in {}", kept.display());
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: cannot start the worker: {e}");
            ExitCode::from(2)
        }
    }
}

fn keep(out: &Path, kind: &str, seed: u64, data: &[u8]) -> PathBuf {
    let path = out.join(format!("{kind}-seed{seed}-{}.conv", std::process::id()));
    let _ = std::fs::write(&path, data);
    path
}

/// Shared between the thread that runs inputs and the watchdog.
struct Progress {
    /// Milliseconds since the start at which the running input began; 0 when none runs.
    running_since: AtomicU64,
    /// The process's processor time, in milliseconds, when the running input began.
    cpu_since: AtomicU64,
    stop: AtomicBool,
    current: Mutex<Vec<u8>>,
    /// Inputs run so far.
    done: AtomicU64,
}

fn worker(o: &Options) -> ExitCode {
    let root = corpus::repo_root();
    let seeds: Vec<Vec<u8>> = corpus::seeds(&root).into_iter().map(|(_, bytes)| bytes).collect();
    if seeds.is_empty() {
        eprintln!("error: no .conv files found under {}", root.display());
        return ExitCode::from(2);
    }
    let current = match std::fs::File::create(o.out.join("current.input")) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    println!("fuzzing with seed {} for {} s: {} seed files", o.seed, o.seconds, seeds.len());
    let start = Instant::now();
    let progress = Arc::new(Progress {
        running_since: AtomicU64::new(0),
        cpu_since: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        current: Mutex::new(Vec::new()),
        done: AtomicU64::new(0),
    });
    let (seed, limit, out) = (o.seed, o.inputs, o.out.clone());
    let shared = Arc::clone(&progress);
    // A spawned thread, with the default stack of one: no input may need more.
    let runner = std::thread::spawn(move || run_inputs(seed, limit, &seeds, &current, &out, &shared, start));
    let deadline = Duration::from_secs(o.seconds);
    let mut told = Duration::ZERO;
    while !runner.is_finished() {
        std::thread::sleep(Duration::from_millis(50));
        if start.elapsed() >= deadline {
            progress.stop.store(true, Ordering::Relaxed);
        }
        let done = progress.done.load(Ordering::Relaxed);
        if start.elapsed() >= told + PROGRESS_EVERY {
            // So that a run cut short still says how far it got.
            told = start.elapsed();
            println!("{done} inputs in {} s, {} MB resident", told.as_secs(), resident() >> 20);
        }
        if resident() > MEMORY_LIMIT {
            // Inputs are independent: memory that grows with them is a leak, not an input's.
            let data = progress.current.lock().map(|d| d.clone()).unwrap_or_default();
            let kept = keep(&o.out, "leak", o.seed, &data);
            eprintln!(
                "LEAK: the worker holds {} MB after {done} inputs; the last input is in {}",
                resident() >> 20,
                kept.display()
            );
            let _ = std::io::stdout().flush();
            std::process::exit(1);
        }
        let since = progress.running_since.load(Ordering::Relaxed);
        let wall = start.elapsed().saturating_sub(Duration::from_millis(since));
        let cpu = cpu_time().saturating_sub(Duration::from_millis(progress.cpu_since.load(Ordering::Relaxed)));
        if since > 0 && (cpu > HANG || wall > HANG_WALL) {
            let data = progress.current.lock().map(|d| d.clone()).unwrap_or_default();
            let kept = keep(&o.out, "hang", o.seed, &data);
            eprintln!("HANG: an input ran for over {} s; it is in {}", HANG.as_secs(), kept.display());
            let _ = std::io::stdout().flush();
            std::process::exit(1);
        }
    }
    match runner.join() {
        Ok(Ok(summary)) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Ok(Err(finding)) => {
            eprintln!("{finding}");
            ExitCode::from(1)
        }
        Err(_) => ExitCode::from(1),
    }
}

fn run_inputs(
    seed: u64,
    limit: u64,
    seeds: &[Vec<u8>],
    current: &std::fs::File,
    out: &Path,
    progress: &Progress,
    start: Instant,
) -> Result<String, String> {
    let mut rng = Rng::new(seed);
    let (mut count, mut bytes, mut slowest) = (0u64, 0u64, (Duration::ZERO, 0usize));
    std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    while count < limit && !progress.stop.load(Ordering::Relaxed) {
        let base = rng.pick(seeds).clone();
        let data = mutate::mutate(&mut rng, &base, seeds);
        // Kept where the watcher finds it if this input kills the process.
        let _ = current.set_len(0);
        let _ = current.write_all_at(&data, 0);
        if let Ok(mut c) = progress.current.lock() {
            c.clone_from(&data);
        }
        let began = Instant::now();
        let cpu_began = cpu_time();
        progress.cpu_since.store(cpu_began.as_millis() as u64, Ordering::Relaxed);
        progress.running_since.store((began - start).as_millis().max(1) as u64, Ordering::Relaxed);
        let result = std::panic::catch_unwind(|| oracle::run(&data));
        let mut took = began.elapsed();
        let allowed = Duration::from_secs(1) + Duration::from_secs_f64(data.len() as f64 / 1e6);
        if took > allowed && matches!(result, Ok(Ok(()))) {
            // Slow by the clock; judged by the processor time it used (to within the 10 ms
            // of its ticks), since other work on the machine can stall a run.
            took = took.min(cpu_time().saturating_sub(cpu_began));
        }
        progress.running_since.store(0, Ordering::Relaxed);
        count += 1;
        progress.done.store(count, Ordering::Relaxed);
        bytes += data.len() as u64;
        if took > slowest.0 {
            slowest = (took, data.len());
        }
        let finding = match result {
            Err(_) => Some("PANIC"),
            Ok(Err(e)) => {
                eprintln!("property failed: {e}");
                Some("BROKEN")
            }
            Ok(Ok(())) if took > allowed => Some("SLOW"),
            Ok(Ok(())) => None,
        };
        if let Some(kind) = finding {
            let kept = keep(out, &kind.to_lowercase(), seed, &data);
            return Err(format!(
                "{kind}: input {count} ({} bytes, {:.2} s) is in {}",
                data.len(),
                took.as_secs_f64(),
                kept.display()
            ));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(format!(
        "{count} inputs ({:.1} MB) in {secs:.0} s, {:.0} per second: 0 panics, 0 crashes, 0 hangs, 0 slow; slowest {:.3} s ({} bytes)",
        bytes as f64 / 1e6,
        count as f64 / secs,
        slowest.0.as_secs_f64(),
        slowest.1
    ))
}
