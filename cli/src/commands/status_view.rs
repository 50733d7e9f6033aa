//! `conv status` as text: the sites x services table, then each release's stages with what
//! they wait for and which requirements hold.

use conv_runtime::status::{State, Status};

fn state_word(s: &State) -> &'static str {
    match s {
        State::Converged => "converged",
        State::InFlight => "in flight",
        State::Failed => "failed",
        State::Paused => "paused",
        State::Unjudged => "unjudged",
        State::Unhealthy => "unhealthy",
        State::Waiting => "waiting",
        State::Pending => "pending",
    }
}

fn paint(color: bool, s: &State, text: &str) -> String {
    let code = match s {
        State::Converged => "32",
        State::Failed | State::Unhealthy => "31",
        State::Paused | State::Waiting | State::Unjudged => "33",
        State::InFlight => "36",
        State::Pending => "2",
    };
    if color { format!("\u{1b}[{code}m{text}\u{1b}[0m") } else { text.to_string() }
}

/// Columns padded to their widest cell; the last column is free.
fn aligned(rows: &[Vec<String>]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|x| x.chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            let mut line = String::new();
            for (c, cell) in r.iter().enumerate() {
                if c + 1 == r.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<w$}  ", w = widths[c]));
                }
            }
            line.trim_end().to_string()
        })
        .collect()
}

pub fn table(report: &Status, color: bool) -> String {
    let mut rows =
        vec![["ENVIRONMENT", "SITE", "SERVICE", "VERSION", "UP", "HEALTHY", "STATE", "WHY"].map(String::from).to_vec()];
    let mut states = vec![State::Pending];
    for r in &report.sites {
        let why = match (&r.reason, &r.waiting, r.run) {
            (Some(why), _, Some(run)) => format!("{why} (run {run})"),
            (Some(why), _, None) => why.clone(),
            (None, Some(w), _) => w.clone(),
            _ => String::new(),
        };
        rows.push(vec![
            r.environment.clone(),
            r.site.clone(),
            r.service.clone(),
            if r.versions.is_empty() { "-".into() } else { r.versions.join(",") },
            format!("{}/{}", r.up, r.instances),
            r.healthy.to_string(),
            state_word(&r.state).to_string(),
            why,
        ]);
        states.push(r.state.clone());
    }
    let mut out = String::new();
    for (i, line) in aligned(&rows).into_iter().enumerate() {
        // Color the state word only, after alignment, so escape codes do not skew widths.
        let word = state_word(&states[i]);
        let line = if i > 0 && color {
            line.replacen(&format!("  {word}"), &format!("  {}", paint(true, &states[i], word)), 1)
        } else {
            line
        };
        out.push_str(&line);
        out.push('\n');
    }
    for release in &report.releases {
        out.push_str(&format!("\nrelease {} ({})\n", release.name, release.versions));
        for stage in &release.stages {
            let mut line = format!(
                "  {:<12} {:<12} {}",
                stage.name,
                stage.environment,
                paint(color, &stage.state, state_word(&stage.state))
            );
            if let Some(why) = &stage.reason {
                line.push_str(&format!(": {why}"));
            }
            if let Some(run) = stage.run {
                line.push_str(&format!(" (run {run})"));
            }
            out.push_str(&line);
            out.push('\n');
            for q in &stage.requirements {
                let mark = if q.holds { "[x]" } else { "[ ]" };
                out.push_str(&format!("      {mark} {}: {}\n", q.requirement, q.detail));
            }
        }
    }
    out
}
