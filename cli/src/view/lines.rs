//! A run drawn as text: one line per stage with a bar of its sites (converged, failed, in
//! flight, pending), the bake's countdown with the latest gate readings against their
//! thresholds, or what the stage waits for; and the summary table at the end.

use super::progress::{Phase, RunProgress, StageProgress, unit};
use conv_model::program::{duration, trim_float};

const BAR_WIDTH: usize = 20;

fn paint(color: bool, code: &str, text: &str) -> String {
    if color && !text.is_empty() { format!("\u{1b}[{code}m{text}\u{1b}[0m") } else { text.to_string() }
}

/// Splits `width` cells among counts in proportion; a count above zero gets at least one.
fn cells(counts: &[usize], total: usize, width: usize) -> Vec<usize> {
    if total == 0 {
        return counts.iter().map(|_| 0).collect();
    }
    let mut out: Vec<usize> = counts.iter().map(|&c| if c == 0 { 0 } else { (c * width / total).max(1) }).collect();
    // Rounding down leaves cells over; they go to the largest count, as do cells taken
    // back when minimums overflow the width.
    let largest = (0..counts.len()).max_by_key(|&i| counts[i]).unwrap_or(0);
    let used: usize = out.iter().sum();
    let filled = counts.iter().sum::<usize>().min(total) * width / total;
    if used < filled {
        out[largest] += filled - used;
    } else if used > width {
        out[largest] = out[largest].saturating_sub(used - width);
    }
    out
}

/// `[████▓▓░░░░]`: converged green, failed red, in flight cyan, pending dim.
pub fn bar(s: &StageProgress, color: bool) -> String {
    let total = s.sites.max(s.converged + s.failed + s.in_flight);
    let counts = [s.converged, s.failed, s.in_flight];
    let widths = cells(&counts, total, BAR_WIDTH);
    let pending = BAR_WIDTH.saturating_sub(widths.iter().sum());
    let mut out = String::from("[");
    out.push_str(&paint(color, "32", &"█".repeat(widths[0])));
    out.push_str(&paint(color, "31", &"█".repeat(widths[1])));
    out.push_str(&paint(color, "36", &"▓".repeat(widths[2])));
    out.push_str(&paint(color, "2", &"░".repeat(pending)));
    out.push(']');
    out
}

fn reading(v: Option<f64>, gate: &str) -> String {
    v.map(|v| format!("{}{}", trim_float((v * 100.0).round() / 100.0), unit(gate))).unwrap_or_else(|| "-".into())
}

/// A gate's name without its threshold and window: `p99 latency`, `GET /healthz`.
fn short(gate: &str) -> &str {
    let gate = gate.split(" under ").next().unwrap_or(gate);
    gate.split(" answers ").next().unwrap_or(gate)
}

/// The latest readings by service: `api: p99 latency 4.9ms < 250ms ok, error rate 0% < 1% ok`.
pub fn gates(s: &StageProgress, color: bool) -> String {
    let mut services: Vec<&str> = s.gates.iter().map(|g| g.service.as_str()).collect();
    services.sort();
    services.dedup();
    services
        .iter()
        .map(|service| {
            let readings: Vec<String> = s
                .gates
                .iter()
                .filter(|g| g.service == *service)
                .map(|g| {
                    let verdict = if g.failing == 0 {
                        paint(color, "32", "ok")
                    } else {
                        paint(color, "31", &format!("failing on {}", g.failing))
                    };
                    let against = match g.threshold {
                        Some(t) => format!(" {} < {}", reading(g.value, &g.gate), reading(Some(t), &g.gate)),
                        None => String::new(),
                    };
                    format!("{}{against} {verdict}", short(&g.gate))
                })
                .collect();
            format!("{service}: {}", readings.join(", "))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn phase(s: &StageProgress, now_ms: u64, color: bool) -> String {
    match s.phase {
        Phase::Pending => paint(color, "2", "pending"),
        Phase::Waiting => paint(
            color,
            "33",
            &format!("waiting for {}", s.waiting_for.clone().unwrap_or_else(|| "its requirements".into())),
        ),
        Phase::Deploying => paint(color, "36", "deploying"),
        Phase::Baking => {
            let left = s.bake_ends_at_ms.map(|end| end.saturating_sub(now_ms)).unwrap_or(0);
            let countdown = paint(color, "36", &format!("baking {} left", duration(left.div_ceil(1000) * 1000)));
            let readings = gates(s, color);
            match (readings.is_empty(), s.checks) {
                (false, _) => format!("{countdown} · {readings}"),
                (true, 0) => countdown,
                (true, n) => {
                    format!("{countdown} · {n} gate check{}, judged as it ends", if n == 1 { "" } else { "s" })
                }
            }
        }
        Phase::Done => {
            let readings = gates(s, color);
            let done = paint(color, "32", "done");
            if readings.is_empty() { done } else { format!("{done} · {readings}") }
        }
        Phase::Converged => paint(color, "32", "already converged"),
        Phase::Failed => paint(color, "31", &format!("failed: {}", s.reason.clone().unwrap_or_default())),
    }
}

/// One stage as one line; `name_width` aligns the names of a run's stages.
pub fn stage_line(s: &StageProgress, name_width: usize, now_ms: u64, color: bool) -> String {
    let name = format!("{}/{}", s.release, s.stage);
    let mut counts = format!("{}/{} converged", s.converged, s.sites);
    if s.failed > 0 {
        counts.push_str(&format!(", {}", paint(color, "31", &format!("{} failed", s.failed))));
    }
    if s.in_flight > 0 {
        counts.push_str(&format!(", {} in flight", s.in_flight));
    }
    if s.in_flight > 0 && s.pending() > 0 {
        counts.push_str(&format!(", {} pending", s.pending()));
    }
    format!("{name:<name_width$} {:<12} {} {counts} · {}", s.env, bar(s, color), phase(s, now_ms, color))
}

pub fn name_width(p: &RunProgress) -> usize {
    p.stages.iter().map(|s| s.release.chars().count() + s.stage.chars().count() + 1).max().unwrap_or(0)
}

/// Every stage's line.
pub fn stage_lines(p: &RunProgress, now_ms: u64, color: bool) -> Vec<String> {
    let w = name_width(p);
    p.stages.iter().map(|s| stage_line(s, w, now_ms, color)).collect()
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The table printed when a run ends: each stage's sites and result.
pub fn summary(p: &RunProgress, color: bool) -> String {
    let mut rows = Vec::new();
    for s in &p.stages {
        let took = match (s.started_at_ms, s.ended_at_ms) {
            (Some(a), Some(b)) => duration(b.saturating_sub(a)),
            _ => "-".into(),
        };
        let result = match s.phase {
            Phase::Done => "done".to_string(),
            Phase::Converged => "already converged".into(),
            Phase::Failed => format!("failed: {}", s.reason.clone().unwrap_or_default()),
            Phase::Waiting => "waiting".into(),
            Phase::Pending => "not reached".into(),
            Phase::Deploying | Phase::Baking => "interrupted".into(),
        };
        let failing = s.gates.iter().filter(|g| g.failing > 0).count();
        let gates = match (s.gates.len(), failing) {
            (0, _) => "-".to_string(),
            (n, 0) => format!("{n} passed"),
            (n, f) => format!("{f} of {n} failing"),
        };
        rows.push(vec![
            format!("{}/{}", s.release, s.stage),
            s.env.clone(),
            s.sites.to_string(),
            s.converged.to_string(),
            s.failed.to_string(),
            gates,
            took,
            result,
        ]);
    }
    let mut out = super::table::render(
        &["STAGE", "ENVIRONMENT", "SITES", "CONVERGED", "FAILED", "GATES", "TOOK", "RESULT"],
        &rows,
        &|_, col, cell| {
            if !color || col != 7 {
                return None;
            }
            Some(if cell.starts_with("done") || cell.starts_with("already") {
                "32"
            } else if cell.starts_with("failed") {
                "31"
            } else {
                "33"
            })
        },
    );
    if !p.rolling_back.is_empty() {
        out.push_str(&format!(
            "rolled back {}: {} step{}, {} failed\n",
            p.rolling_back.join(", "),
            p.rollback_steps,
            if p.rollback_steps == 1 { "" } else { "s" },
            p.rollback_failed
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(sites: usize, converged: usize, failed: usize, in_flight: usize) -> StageProgress {
        let mut p = RunProgress::default();
        p.apply(&serde_json::json!({"event":"stage_started","release":"r","stage":"s","env":"e","sites":sites}));
        let mut s = p.stages.remove(0);
        (s.converged, s.failed, s.in_flight) = (converged, failed, in_flight);
        s
    }

    #[test]
    fn the_bar_is_always_as_wide_and_shows_a_single_failure() {
        for (sites, c, f, i) in [(10000, 9999, 1, 0), (3, 1, 1, 1), (0, 0, 0, 0), (7, 7, 0, 0), (10000, 0, 0, 10000)] {
            let b = bar(&stage(sites, c, f, i), false);
            assert_eq!(b.chars().count(), BAR_WIDTH + 2, "{b}");
        }
        let one_failed = bar(&stage(10000, 9999, 1, 0), true);
        assert!(one_failed.contains("\u{1b}[31m█"), "{one_failed}");
    }

    #[test]
    fn a_line_at_ten_thousand_sites_stays_one_line() {
        let line = stage_line(&stage(10000, 4000, 12, 300), 3, 0, false);
        assert!(!line.contains('\n'));
        assert!(line.contains("4000/10000 converged, 12 failed, 300 in flight"), "{line}");
    }
}
