//! Where a run stands, folded from its events: per stage, how many sites converged, failed
//! or are in flight, the bake's end, the latest gate readings and what a waiting stage waits
//! for. The terminal view and `conv status --watch` draw it; it never holds a line per site
//! beyond a set of names, so it stays small at 10,000 sites.

use serde::Serialize;
use std::collections::HashSet;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Pending,
    Waiting,
    Deploying,
    Baking,
    Done,
    /// Converged before this run: nothing to do.
    Converged,
    Failed,
}

/// The latest reading of one gate of one service, over every site it was read on.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GateLatest {
    pub service: String,
    pub gate: String,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub passing: usize,
    pub failing: usize,
    #[serde(skip)]
    failing_sites: HashSet<String>,
    #[serde(skip)]
    read_sites: HashSet<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StageProgress {
    pub release: String,
    pub stage: String,
    pub env: String,
    pub sites: usize,
    pub converged: usize,
    pub failed: usize,
    pub in_flight: usize,
    pub phase: Phase,
    /// What a waiting stage waits for (`approval by sre`), and the command that gives it.
    pub waiting_for: Option<String>,
    pub waiting_command: Option<String>,
    pub reason: Option<String>,
    pub bake_ms: u64,
    pub bake_ends_at_ms: Option<u64>,
    /// Gate checks of the bake; metrics gates are judged when it ends.
    pub checks: usize,
    pub started_at_ms: Option<u64>,
    pub ended_at_ms: Option<u64>,
    pub gates: Vec<GateLatest>,
    /// The first failed sites with their reasons; the rest are counted only.
    pub failures: Vec<(String, String)>,
}

impl StageProgress {
    fn new(release: &str, stage: &str, env: &str, sites: usize) -> Self {
        StageProgress {
            release: release.into(),
            stage: stage.into(),
            env: env.into(),
            sites,
            converged: 0,
            failed: 0,
            in_flight: 0,
            phase: Phase::Pending,
            waiting_for: None,
            waiting_command: None,
            reason: None,
            bake_ms: 0,
            bake_ends_at_ms: None,
            checks: 0,
            started_at_ms: None,
            ended_at_ms: None,
            gates: Vec::new(),
            failures: Vec::new(),
        }
    }

    pub fn pending(&self) -> usize {
        self.sites.saturating_sub(self.converged + self.failed + self.in_flight)
    }
}

/// Failed sites kept by name per stage; more are only counted.
const FAILURES_KEPT: usize = 20;

#[derive(Clone, Debug, Default, Serialize)]
pub struct RunProgress {
    pub stages: Vec<StageProgress>,
    pub rolling_back: Vec<String>,
    pub rollback_steps: usize,
    pub rollback_failed: usize,
    pub outcome: Option<String>,
    pub releases_converged: Vec<String>,
    pub warnings: Vec<String>,
}

fn text<'a>(e: &'a serde_json::Value, key: &str) -> &'a str {
    e.get(key).and_then(|v| v.as_str()).unwrap_or_default()
}

fn count(e: &serde_json::Value, key: &str) -> u64 {
    e.get(key).and_then(|v| v.as_u64()).unwrap_or(0)
}

impl RunProgress {
    /// A view seeded with every stage of a plan, so pending stages show before they start.
    pub fn from_plan(plan: &conv_runtime::plan::Plan) -> Self {
        let mut out = RunProgress::default();
        for r in &plan.releases {
            for s in &r.stages {
                let mut stage = StageProgress::new(&r.name, &s.name, s.env.as_str(), s.sites.len());
                stage.bake_ms = s.settings(&plan.program, &r.name).map_or(0, |x| x.bake_ms);
                out.stages.push(stage);
            }
        }
        out
    }

    fn stage_mut(&mut self, release: &str, stage: &str) -> &mut StageProgress {
        let at = match self.stages.iter().position(|s| s.release == release && s.stage == stage) {
            Some(at) => at,
            None => {
                self.stages.push(StageProgress::new(release, stage, "", 0));
                self.stages.len() - 1
            }
        };
        &mut self.stages[at]
    }

    /// Folds one event, given as its JSON line's value (live or read back from the journal).
    pub fn apply(&mut self, e: &serde_json::Value) {
        let at_ms = count(e, "at_ms");
        let (release, stage) = (text(e, "release"), text(e, "stage"));
        match text(e, "event") {
            "stage_converged" => {
                let s = self.stage_mut(release, stage);
                s.env = text(e, "env").into();
                s.phase = Phase::Converged;
                s.converged = s.sites;
            }
            "stage_rejudged" => {
                let s = self.stage_mut(release, stage);
                s.reason = Some(text(e, "why").into());
                s.started_at_ms.get_or_insert(at_ms);
            }
            "stage_waiting" => {
                let on = e.get("on").cloned().unwrap_or_default();
                let s = self.stage_mut(release, stage);
                s.phase = Phase::Waiting;
                s.waiting_for = Some(format!("approval by {}", text(&on, "group")));
                s.waiting_command = Some(text(&on, "command").to_string());
            }
            "approved" => {
                let by = text(e, "by").to_string();
                let s = self.stage_mut(release, stage);
                s.waiting_for = None;
                s.waiting_command = None;
                s.phase = Phase::Pending;
                s.reason = Some(format!("approved by {by}"));
            }
            "stage_started" => {
                let s = self.stage_mut(release, stage);
                s.env = text(e, "env").into();
                s.sites = count(e, "sites") as usize;
                s.phase = Phase::Deploying;
                s.waiting_for = None;
                s.converged = 0;
                s.failed = 0;
                s.in_flight = 0;
                s.started_at_ms.get_or_insert(at_ms);
            }
            "site_deploy_started" => self.stage_mut(release, stage).in_flight += 1,
            "site_done" => {
                let s = self.stage_mut(release, stage);
                s.in_flight = s.in_flight.saturating_sub(1);
                s.converged += 1;
            }
            "site_failed" => {
                let s = self.stage_mut(release, stage);
                s.in_flight = s.in_flight.saturating_sub(1);
                s.failed += 1;
                if s.failures.len() < FAILURES_KEPT {
                    s.failures.push((text(e, "site").into(), text(e, "reason").into()));
                }
            }
            "bake_started" => {
                let s = self.stage_mut(release, stage);
                s.phase = Phase::Baking;
                s.bake_ms = count(e, "duration_ms");
                s.bake_ends_at_ms = Some(count(e, "ends_at_unix_ms"));
                s.checks = count(e, "checks") as usize;
                s.started_at_ms.get_or_insert(at_ms);
            }
            "gate_reading" => self.reading(e),
            "stage_done" | "gates_passed" => {
                let s = self.stage_mut(release, stage);
                s.phase = Phase::Done;
                s.bake_ends_at_ms = None;
                s.ended_at_ms = Some(at_ms);
                if s.converged == 0 && s.failed == 0 {
                    s.converged = s.sites;
                }
            }
            "stage_failed" => {
                let s = self.stage_mut(release, stage);
                s.phase = Phase::Failed;
                s.bake_ends_at_ms = None;
                s.ended_at_ms = Some(at_ms);
                s.reason = Some(text(e, "reason").into());
            }
            "rollback_started" => self.rolling_back.push(text(e, "release").into()),
            "rollback_step" => {
                self.rollback_steps += 1;
                if e.get("ok").and_then(|v| v.as_bool()) == Some(false) {
                    self.rollback_failed += 1;
                }
            }
            "release_converged" => self.releases_converged.push(text(e, "release").into()),
            "warning" => self.warnings.push(text(e, "message").into()),
            "run_ended" => self.outcome = Some(text(e, "outcome").into()),
            _ => {}
        }
    }

    fn reading(&mut self, e: &serde_json::Value) {
        let (service, gate, site) = (text(e, "service"), text(e, "gate"), text(e, "site").to_string());
        let passed = e.get("passed").and_then(|v| v.as_bool()).unwrap_or(false);
        let s = self.stage_mut(text(e, "release"), text(e, "stage"));
        let at = match s.gates.iter().position(|g| g.service == service && g.gate == gate) {
            Some(at) => at,
            None => {
                s.gates.push(GateLatest { service: service.into(), gate: gate.into(), ..Default::default() });
                s.gates.len() - 1
            }
        };
        let g = &mut s.gates[at];
        g.value = e.get("value").and_then(|v| v.as_f64()).or(g.value);
        g.threshold = e.get("threshold").and_then(|v| v.as_f64()).or(g.threshold);
        g.read_sites.insert(site.clone());
        if passed {
            g.failing_sites.remove(&site);
        } else {
            g.failing_sites.insert(site);
        }
        g.failing = g.failing_sites.len();
        g.passing = g.read_sites.len() - g.failing;
    }

    /// The stage a run is at: the last one that started and has not finished, else the last.
    pub fn current(&self) -> Option<&StageProgress> {
        self.stages
            .iter()
            .rev()
            .find(|s| matches!(s.phase, Phase::Deploying | Phase::Baking | Phase::Waiting))
            .or_else(|| self.stages.iter().rev().find(|s| s.phase != Phase::Pending))
    }
}

/// A gate's unit, told by its name: latencies are in milliseconds, error rates in percent.
pub fn unit(gate: &str) -> &'static str {
    if gate.contains("latency") {
        "ms"
    } else if gate.contains("error") {
        "%"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ten_thousand_sites_fold_into_counts() {
        let mut p = RunProgress::default();
        p.apply(&json!({"event":"stage_started","release":"r","stage":"s","env":"e","sites":10000,"at_ms":1}));
        for i in 0..10000 {
            let site = format!("site-{i}");
            p.apply(&json!({"event":"site_deploy_started","release":"r","stage":"s","site":site}));
            if i % 100 == 0 {
                p.apply(&json!({"event":"site_failed","release":"r","stage":"s","site":site,"reason":"no"}));
            } else if i < 9000 {
                p.apply(&json!({"event":"site_done","release":"r","stage":"s","site":site}));
            }
        }
        let s = &p.stages[0];
        assert_eq!((s.converged, s.failed, s.in_flight, s.pending()), (8910, 100, 990, 0));
        assert_eq!(s.failures.len(), FAILURES_KEPT);
    }

    #[test]
    fn a_gate_failing_on_one_site_then_passing_counts_once() {
        let mut p = RunProgress::default();
        let reading = |site: &str, passed: bool, value: f64| {
            json!({"event":"gate_reading","release":"r","stage":"s","site":site,"service":"api",
                   "gate":"latency_p99","value":value,"threshold":250.0,"passed":passed})
        };
        p.apply(&reading("a", false, 300.0));
        p.apply(&reading("b", true, 100.0));
        p.apply(&reading("a", true, 120.0));
        let g = &p.stages[0].gates[0];
        assert_eq!((g.passing, g.failing, g.value, g.threshold), (2, 0, Some(120.0), Some(250.0)));
    }

    #[test]
    fn a_waiting_stage_says_what_it_waits_for_until_approved() {
        let mut p = RunProgress::default();
        let on = json!({"kind":"approval","group":"sre","command":"conv approve r prod"});
        p.apply(&json!({"event":"stage_waiting","release":"r","stage":"prod","on":on}));
        assert_eq!(p.current().map(|s| s.phase.clone()), Some(Phase::Waiting));
        assert_eq!(p.stages[0].waiting_for.as_deref(), Some("approval by sre"));
        assert_eq!(p.stages[0].waiting_command.as_deref(), Some("conv approve r prod"));
        p.apply(&json!({"event":"approved","release":"r","stage":"prod","by":"ana"}));
        assert_eq!(p.stages[0].waiting_for, None);
    }
}
