//! The plan as a pull-request comment: a title naming the program and commit, a summary
//! table, warnings, then per release (folded) its gates once each, a ```diff block per site,
//! the rollback order as a numbered list, and how to apply. Cut to fit GitHub's 65,535
//! characters, saying what was left out.

use crate::plan::{Action, Change, Plan, ReleasePlan, StagePlan};
use crate::render::{on_failure, plural, rejudged, slots};
use conv_model::program::{duration, trim_float};

/// Where the plan comes from, for its title and its apply footer.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    /// The program's path as the user gave it (`deploy/`).
    pub path: String,
    /// The commit it was planned at, when the program is in git (`3f2c1ab`).
    pub commit: Option<String>,
}

/// Room left under GitHub's limit for the closing lines.
const BUDGET: usize = 60_000;
/// Rollback steps listed; the rest are counted.
const ROLLBACK_SHOWN: usize = 30;

pub fn markdown(plan: &Plan, origin: &Origin) -> String {
    let mut out = title(origin);
    out.push_str(&format!(
        "**{} change{}** in {} release{}{}.\n\n",
        plan.change_count(),
        plural(plan.change_count()),
        plan.releases.len(),
        plural(plan.releases.len()),
        rejudged(plan)
    ));
    summary_table(plan, &mut out);
    if !plan.warnings.is_empty() {
        out.push_str("\n### Warnings\n\n");
        for w in &plan.warnings {
            out.push_str(&format!("- {w}\n"));
        }
    }
    let total = plan.change_count();
    let mut shown = 0;
    for r in &plan.releases {
        out.push_str(&format!(
            "\n<details><summary>release <code>{}</code> (on failure: {}): gates, changes and rollback order</summary>\n\n",
            r.name,
            on_failure(r)
        ));
        gates(r, &mut out);
        for s in &r.stages {
            out.push_str(&stage_heading(plan, r, s));
            for site in s.sites.iter().filter(|x| !x.changes.is_empty()) {
                let block = site_diff(s, site);
                if out.len() + block.len() > BUDGET {
                    return cut(out, total - shown, origin);
                }
                out.push_str(&block);
                shown += site.changes.len();
            }
        }
        let order = rollback_list(r);
        if out.len() + order.len() > BUDGET {
            return cut(out, total - shown, origin);
        }
        out.push_str(&order);
        out.push_str("\n</details>\n");
    }
    out.push_str(&footer(origin));
    out
}

fn title(origin: &Origin) -> String {
    let mut out = String::from("## conv plan");
    if !origin.path.is_empty() {
        out.push_str(&format!(" for `{}`", origin.path));
    }
    if let Some(commit) = &origin.commit {
        out.push_str(&format!(" at `{commit}`"));
    }
    out.push_str("\n\n");
    out
}

fn summary_table(plan: &Plan, out: &mut String) {
    out.push_str("| release | stage | environment | fraction | bake | sites changed | approvals |\n|---|---|---|---|---|---|---|\n");
    for r in &plan.releases {
        for s in &r.stages {
            let sites = s.sites.iter().filter(|x| !x.changes.is_empty()).count();
            let Some(settings) = s.settings(&plan.program, &r.name) else { continue };
            out.push_str(&format!(
                "| {} | {} | {} | {}% | {} | {} of {} | {} |\n",
                r.name,
                s.name,
                s.env,
                trim_float(settings.fraction_percent),
                duration(settings.bake_ms),
                sites,
                s.sites.len(),
                if s.approvals.is_empty() { "-".to_string() } else { s.approvals.join(", ") }
            ));
        }
    }
}

/// Each gate once, with the stages it is checked in, rather than the same list per stage.
fn gates(r: &ReleasePlan, out: &mut String) {
    let mut seen: Vec<(&str, Vec<&str>)> = Vec::new();
    for s in &r.stages {
        for g in &s.gates {
            match seen.iter_mut().find(|(text, _)| *text == g.as_str()) {
                Some((_, stages)) => stages.push(&s.name),
                None => seen.push((g, vec![&s.name])),
            }
        }
    }
    if seen.is_empty() {
        return;
    }
    out.push_str("Gates, checked while a stage bakes:\n\n");
    let every = r.stages.len();
    for (gate, stages) in seen {
        let when =
            if stages.len() == every { "every stage".to_string() } else { format!("stages {}", stages.join(", ")) };
        out.push_str(&format!("- {gate} ({when})\n"));
    }
    out.push('\n');
}

fn stage_heading(plan: &Plan, r: &ReleasePlan, s: &StagePlan) -> String {
    let fraction = s.settings(&plan.program, &r.name).map_or(0.0, |x| x.fraction_percent);
    let mut out = format!("**{}** -> `{}` at {}%", s.name, s.env, trim_float(fraction));
    if !s.approvals.is_empty() {
        out.push_str(&format!(", waits for approval by {}", s.approvals.join(", ")));
    }
    match (&s.judge, s.has_changes()) {
        (Some(why), false) => out.push_str(&format!(" (no changes; judged again: {why})")),
        (None, false) => out.push_str(" (no changes)"),
        _ => {}
    }
    out.push_str("\n\n");
    out
}

/// One site's changes as a diff GitHub colors: a context line per service, `-` what runs
/// now, `+` what will.
fn site_diff(s: &StagePlan, site: &crate::plan::SitePlan) -> String {
    let mut out = format!("```diff\n@@ {}[{:?}] @@\n", s.env, site.site.as_str());
    for c in &site.changes {
        out.push_str(&format!("  {}: {}\n", c.service, action_words(c)));
        let (from, to): (Vec<&str>, Vec<&str>) = (c.from.split(", ").collect(), c.to.split(", ").collect());
        for line in &from {
            if to.contains(line) {
                out.push_str(&format!("  {line}\n"));
            } else {
                out.push_str(&format!("- {line}\n"));
            }
        }
        for line in to.iter().filter(|l| !from.contains(l)) {
            out.push_str(&format!("+ {line}\n"));
        }
        for what in &c.what {
            out.push_str(&format!("  ~ {what}\n"));
        }
    }
    out.push_str("```\n\n");
    out
}

fn action_words(c: &Change) -> String {
    let mut words = match c.action {
        Action::Start => format!("start {}", slots(c)),
        Action::Replace => format!("replace {}", slots(c)),
        Action::Stop => format!("stop {}", slots(c)),
    };
    if c.drift {
        words.push_str(" (drift: back to what was last applied)");
    }
    if let Some(why) = &c.retry {
        words.push_str(&format!(" (retry: failed in the last run: {why})"));
    }
    words
}

fn rollback_list(r: &ReleasePlan) -> String {
    if r.rollback.is_empty() {
        return String::new();
    }
    let mut out = String::from("Rollback order if a stage fails:\n\n");
    for (i, a) in r.rollback.iter().take(ROLLBACK_SHOWN).enumerate() {
        out.push_str(&format!("{}. `{a}`\n", i + 1));
    }
    if r.rollback.len() > ROLLBACK_SHOWN {
        out.push_str(&format!(
            "\n_... and {} more steps; `conv plan --format json` lists them all._\n",
            r.rollback.len() - ROLLBACK_SHOWN
        ));
    }
    out
}

fn footer(origin: &Origin) -> String {
    let path = if origin.path.is_empty() { "." } else { origin.path.as_str() };
    format!(
        "\n---\nApply with `conv apply {path}`, or exactly this plan with `conv plan {path} -o plan.json` then \
         `conv apply plan.json` (refused if live state moved since). Planned by conv {}.\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Closes a plan that reached its size budget: says how many changes it left out.
fn cut(mut out: String, left: usize, origin: &Origin) -> String {
    out.push_str(&format!(
        "\n_... and {left} more change{} left out to fit a comment; run `conv plan` for all of them._\n\n</details>\n",
        plural(left)
    ));
    out.push_str(&footer(origin));
    out
}
