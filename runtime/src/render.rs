//! Plans for people: text for the terminal (colored on request) and Markdown for a pull
//! request comment. JSON is the plan's serde form.

use crate::plan::{Action, Change, Plan, ReleasePlan};
use conv_model::program::{duration, trim_float};
use similar::{ChangeTag, TextDiff};

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color { format!("\u{1b}[{code}m{text}\u{1b}[0m") } else { text.to_string() }
    }
}

/// The plan as text: per release, the path through the stages with each stage's sites,
/// changes (a line diff of the instances), gates and approvals, then the rollback path.
pub fn text(plan: &Plan, color: bool) -> String {
    use std::fmt::Write;
    let st = Style { color };
    let mut out = String::new();
    if !plan.has_work() {
        // Nothing to deploy and nothing to judge again: reprinting every stage would hide that.
        let stages: usize = plan.releases.iter().map(|r| r.stages.len()).sum();
        let mut out = format!(
            "No changes. {} release{} and {stages} stage{} already run what the program says.\n",
            plan.releases.len(),
            plural(plan.releases.len()),
            plural(stages)
        );
        for w in &plan.warnings {
            let _ = writeln!(out, "{} {w}", st.paint("33", "warning:"));
        }
        return out;
    }
    let changes = plan.change_count();
    out.push_str(&format!(
        "Plan: {changes} change{} in {} release{}{}\n",
        plural(changes),
        plan.releases.len(),
        plural(plan.releases.len()),
        rejudged(plan)
    ));
    for w in &plan.warnings {
        let _ = writeln!(out, "{} {w}", st.paint("33", "warning:"));
    }
    for r in &plan.releases {
        out.push_str(&format!("\n{} {} (on failure: {})\n", st.paint("1", "release"), r.name, on_failure(r)));
        for s in &r.stages {
            let changed: usize = s.sites.iter().map(|x| x.changes.len()).sum();
            let Some(settings) = s.settings(&plan.program, &r.name) else { continue };
            let limit = settings
                .max_parallel
                .map(|m| format!(", {m} site{} at a time", plural(m as usize)))
                .unwrap_or_default();
            out.push_str(&format!(
                "  stage {} -> {} at {}%, bake {}{limit}, max failures {}%{}\n",
                s.name,
                s.env,
                trim_float(settings.fraction_percent),
                duration(settings.bake_ms),
                trim_float(settings.max_failures_percent),
                match (&s.judge, changed) {
                    (Some(why), 0) => st.paint("33", &format!(" (no changes; judged again: {why})")),
                    (None, 0) => st.paint("2", " (no changes)"),
                    _ => String::new(),
                }
            ));
            for group in &s.approvals {
                out.push_str(&format!("    waits for approval by {group}: conv approve {} {}\n", r.name, s.name));
            }
            for g in &s.gates {
                out.push_str(&format!("    gate {g}\n"));
            }
            for site in &s.sites {
                for c in &site.changes {
                    let mark = match (c.drift, c.action) {
                        (true, _) => st.paint("33", "! drift"),
                        (false, Action::Start) => st.paint("32", "+"),
                        (false, Action::Replace) => "~".to_string(),
                        (false, Action::Stop) => st.paint("31", "-"),
                    };
                    let _ = writeln!(
                        out,
                        "    {mark} {}[{:?}]/{}{}",
                        s.env,
                        site.site.as_str(),
                        c.service,
                        if c.action == Action::Stop { format!(" (stop {})", slots(c)) } else { String::new() }
                    );
                    if let Some(why) = &c.retry {
                        out.push_str(&format!(
                            "      {}\n",
                            st.paint("33", &format!("retry: failed in the last run: {why}"))
                        ));
                    }
                    diff(&c.from, &c.to, &st, &mut out);
                    for line in &c.what {
                        out.push_str(&format!("      {}\n", st.paint("33", &format!("~ {line}"))));
                    }
                }
            }
        }
        if !r.rollback.is_empty() {
            // A fleet's whole order is one line of megabytes; the JSON plan keeps all of it.
            const SHOWN: usize = 40;
            let order: Vec<String> = r.rollback.iter().take(SHOWN).map(|a| a.to_string()).collect();
            let rest = r.rollback.len().saturating_sub(SHOWN);
            let more =
                if rest > 0 { format!(", and {rest} more (`--format json` lists them all)") } else { String::new() };
            out.push_str(&format!("  rollback order if a stage fails: {}{more}\n", order.join(", ")));
        }
    }
    out
}

/// A line per instance, `-` what runs now, `+` what will.
fn diff(from: &str, to: &str, st: &Style, out: &mut String) {
    use std::fmt::Write;
    let (a, b): (Vec<&str>, Vec<&str>) = (from.split(", ").collect(), to.split(", ").collect());
    // Most changes share no line with what ran (a fresh start, a new version on every
    // slot); printing them needs no diff.
    if !a.iter().any(|l| b.contains(l)) {
        for line in &a {
            let _ = writeln!(out, "      {}", st.paint("31", &format!("- {line}")));
        }
        for line in &b {
            let _ = writeln!(out, "      {}", st.paint("32", &format!("+ {line}")));
        }
        return;
    }
    for change in TextDiff::from_slices(&a, &b).iter_all_changes() {
        let line = change.value();
        let _ = match change.tag() {
            ChangeTag::Delete => writeln!(out, "      {}", st.paint("31", &format!("- {line}"))),
            ChangeTag::Insert => writeln!(out, "      {}", st.paint("32", &format!("+ {line}"))),
            ChangeTag::Equal => writeln!(out, "        {line}"),
        };
    }
}

pub use crate::markdown_plan::{Origin, markdown};

pub(crate) fn slots(c: &Change) -> String {
    c.instances.iter().map(|i| format!("#{i}")).collect::<Vec<_>>().join(", ")
}

pub(crate) fn on_failure(r: &ReleasePlan) -> &'static str {
    match r.on_failure {
        conv_model::OnFailure::Rollback => "roll back",
        conv_model::OnFailure::Pause => "pause",
    }
}

/// `, 1 stage to judge again` when stages without changes bake again.
pub(crate) fn rejudged(plan: &Plan) -> String {
    let n = plan.releases.iter().flat_map(|r| &r.stages).filter(|s| !s.has_changes() && s.judge.is_some()).count();
    if n == 0 { String::new() } else { format!(", {n} stage{} to judge again", plural(n)) }
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
