//! What the web view follows between requests: the latest run's events from the journal
//! (read by a thread a few times a second) and, per stage, its gate readings over time,
//! bucketed per second with the worst value, so the chart stays small at 10,000 sites.

use crate::view::feed::Feed;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Seconds of readings kept per gate.
const KEPT: usize = 900;

#[derive(Clone, Debug, Serialize)]
pub struct Series {
    pub stage: String,
    pub service: String,
    pub gate: String,
    pub threshold: Option<f64>,
    pub unit: &'static str,
    /// `[unix ms of the second, worst value read in it, sites failing in it]`.
    pub points: Vec<(u64, Option<f64>, u32)>,
}

pub struct Tracker {
    pub feed: Feed,
    /// Keyed by `release/stage`, then service and gate.
    pub series: BTreeMap<String, BTreeMap<(String, String), Series>>,
}

impl Tracker {
    pub fn new(root: &Path) -> Tracker {
        Tracker { feed: Feed::new(root), series: BTreeMap::new() }
    }

    /// Reads new events; returns whether there were any.
    pub fn poll(&mut self) -> bool {
        let run = self.feed.run;
        let rows = self.feed.poll();
        if self.feed.run != run {
            self.series.clear();
        }
        for row in &rows {
            if row.kind != "gate_reading" || Some(row.run) != self.feed.run {
                continue;
            }
            let Ok(e) = serde_json::from_str::<serde_json::Value>(&row.body) else { continue };
            let s = |k: &str| e.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            let stage = format!("{}/{}", s("release"), s("stage"));
            let (service, gate) = (s("service"), s("gate"));
            let value = e.get("value").and_then(|v| v.as_f64());
            let passed = e.get("passed").and_then(|v| v.as_bool()).unwrap_or(true);
            let series =
                self.series.entry(stage.clone()).or_default().entry((service.clone(), gate.clone())).or_insert(
                    Series {
                        stage,
                        unit: crate::view::progress::unit(&gate),
                        service,
                        gate,
                        threshold: e.get("threshold").and_then(|v| v.as_f64()),
                        points: Vec::new(),
                    },
                );
            let second = row.at_ms / 1000 * 1000;
            match series.points.last_mut() {
                Some(last) if last.0 == second => {
                    last.1 = match (last.1, value) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                    last.2 += u32::from(!passed);
                }
                _ => series.points.push((second, value, u32::from(!passed))),
            }
            if series.points.len() > KEPT {
                series.points.remove(0);
            }
        }
        !rows.is_empty()
    }
}
