//! demo-app: the service conv's examples deploy.
//!
//!     demo-app --port PORT --version VERSION
//!
//! Serves `/healthz`, `/version`, `/metrics` (Prometheus text: requests by status and a
//! latency histogram) and `/work` (one simulated request). It also generates its own
//! traffic, 20 requests a second, so its metrics move without a load generator.
//!
//! Making a version bad, for rollback demos: a version containing `bad` fails half of its
//! requests, answers `/healthz` with 500 and is slow (300 ms). The environment variables
//! `DEMO_ERROR_PERCENT`, `DEMO_LATENCY_MS` and `DEMO_UNHEALTHY=1` set each behaviour alone.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 8] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

struct Behaviour {
    version: String,
    error_percent: u64,
    latency_ms: u64,
    unhealthy: bool,
}

#[derive(Default)]
struct Metrics {
    ok: AtomicU64,
    errors: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    /// Sum of latencies in microseconds.
    sum_micros: AtomicU64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let Some(port) = arg("--port").and_then(|p| p.parse::<u16>().ok()) else {
        eprintln!("usage: demo-app --port PORT --version VERSION");
        std::process::exit(2);
    };
    let version = arg("--version").unwrap_or_else(|| "0.0.0".into());
    let bad = version.contains("bad");
    let env_num = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let behaviour = Arc::new(Behaviour {
        error_percent: env_num("DEMO_ERROR_PERCENT", if bad { 50 } else { 0 }).min(100),
        latency_ms: env_num("DEMO_LATENCY_MS", if bad { 300 } else { 2 }),
        unhealthy: bad || std::env::var("DEMO_UNHEALTHY").is_ok_and(|v| v == "1"),
        version,
    });
    let metrics = Arc::new(Metrics::default());
    let listener = match TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l,
        Err(err) => {
            eprintln!("demo-app: cannot listen on 127.0.0.1:{port}: {err}");
            std::process::exit(1);
        }
    };
    println!("demo-app {} listening on 127.0.0.1:{port}", behaviour.version);
    {
        let (b, m) = (behaviour.clone(), metrics.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            loop {
                work(&b, &m, n);
                n += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
        });
    }
    for stream in listener.incoming().flatten() {
        let (b, m) = (behaviour.clone(), metrics.clone());
        std::thread::spawn(move || handle(stream, &b, &m));
    }
}

/// One simulated request: records its status and latency. Deterministic per `n`.
fn work(b: &Behaviour, m: &Metrics, n: u64) -> bool {
    let failed = (n * 37 + 11) % 100 < b.error_percent;
    let latency = Duration::from_millis(b.latency_ms);
    std::thread::sleep(latency);
    if failed {
        m.errors.fetch_add(1, Ordering::Relaxed);
    } else {
        m.ok.fetch_add(1, Ordering::Relaxed);
    }
    let secs = latency.as_secs_f64();
    for (i, bound) in BUCKETS.iter().enumerate() {
        if secs <= *bound {
            m.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
    }
    m.count.fetch_add(1, Ordering::Relaxed);
    m.sum_micros.fetch_add(latency.as_micros() as u64, Ordering::Relaxed);
    !failed
}

fn handle(stream: TcpStream, b: &Behaviour, m: &Metrics) {
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Drain the headers.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let (status, body) = match path {
        "/healthz" if b.unhealthy => (500, "unhealthy\n".to_string()),
        "/healthz" => (200, "ok\n".to_string()),
        "/version" => (200, format!("{}\n", b.version)),
        "/metrics" => (200, metrics_text(m)),
        "/work" => {
            let n = m.count.load(Ordering::Relaxed);
            if work(b, m, n) { (200, "done\n".to_string()) } else { (500, "failed\n".to_string()) }
        }
        _ => (404, "not found\n".to_string()),
    };
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = (&stream).write_all(response.as_bytes());
}

fn metrics_text(m: &Metrics) -> String {
    let mut s = String::new();
    s.push_str("# HELP demo_requests_total Requests served, by status.\n# TYPE demo_requests_total counter\n");
    s.push_str(&format!("demo_requests_total{{status=\"200\"}} {}\n", m.ok.load(Ordering::Relaxed)));
    s.push_str(&format!("demo_requests_total{{status=\"500\"}} {}\n", m.errors.load(Ordering::Relaxed)));
    s.push_str(
        "# HELP demo_request_duration_seconds Request latency.\n# TYPE demo_request_duration_seconds histogram\n",
    );
    for (i, bound) in BUCKETS.iter().enumerate() {
        s.push_str(&format!(
            "demo_request_duration_seconds_bucket{{le=\"{bound}\"}} {}\n",
            m.buckets[i].load(Ordering::Relaxed)
        ));
    }
    let count = m.count.load(Ordering::Relaxed);
    s.push_str(&format!("demo_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n"));
    s.push_str(&format!("demo_request_duration_seconds_sum {}\n", m.sum_micros.load(Ordering::Relaxed) as f64 / 1e6));
    s.push_str(&format!("demo_request_duration_seconds_count {count}\n"));
    s
}
