//! `conv status` as text: the sites x services table, then each release's stages with what
//! they wait for and which requirements hold; aligned by the table crate, colored on a
//! terminal.

use conv_runtime::status::{State, Status};

pub fn state_word(s: &State) -> &'static str {
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

/// The SGR color of a state word.
pub fn state_color(s: &State) -> &'static str {
    match s {
        State::Converged => "32",
        State::Failed | State::Unhealthy => "31",
        State::Paused | State::Waiting | State::Unjudged => "33",
        State::InFlight => "36",
        State::Pending => "2",
    }
}

fn why(r: &conv_runtime::status::Row) -> String {
    match (&r.reason, &r.waiting, r.run) {
        (Some(why), _, Some(run)) => format!("{why} (run {run})"),
        (Some(why), _, None) => why.clone(),
        (None, Some(w), _) => w.clone(),
        _ => String::new(),
    }
}

/// The sites x services table alone.
pub fn sites_table(report: &Status, color: bool) -> String {
    let rows: Vec<Vec<String>> = report
        .sites
        .iter()
        .map(|r| {
            vec![
                r.environment.clone(),
                r.site.clone(),
                r.service.clone(),
                if r.versions.is_empty() { "-".into() } else { r.versions.join(",") },
                format!("{}/{}", r.up, r.instances),
                r.healthy.to_string(),
                state_word(&r.state).to_string(),
                why(r),
            ]
        })
        .collect();
    let states: Vec<&State> = report.sites.iter().map(|r| &r.state).collect();
    crate::view::table::render(
        &["ENVIRONMENT", "SITE", "SERVICE", "VERSION", "UP", "HEALTHY", "STATE", "WHY"],
        &rows,
        &|row, col, _| (color && col == 6).then(|| state_color(states[row])),
    )
}

/// Each release's stages, with what they wait for and which requirements hold.
pub fn releases_table(report: &Status, color: bool) -> String {
    let mut out = String::new();
    for release in &report.releases {
        out.push_str(&format!("\nrelease {} ({})\n", release.name, release.versions));
        let mut rows = Vec::new();
        let mut colors = Vec::new();
        for stage in &release.stages {
            let mut detail = stage.reason.clone().unwrap_or_default();
            if let Some(run) = stage.run {
                detail = if detail.is_empty() { format!("run {run}") } else { format!("{detail} (run {run})") };
            }
            rows.push(vec![
                format!("  {}", stage.name),
                stage.environment.clone(),
                state_word(&stage.state).to_string(),
                detail,
            ]);
            colors.push(Some(state_color(&stage.state)));
            for q in &stage.requirements {
                let mark = if q.holds { "[x]" } else { "[ ]" };
                rows.push(vec![
                    String::new(),
                    String::new(),
                    String::new(),
                    format!("{mark} {}: {}", q.requirement, q.detail),
                ]);
                colors.push(None);
            }
        }
        out.push_str(&crate::view::table::render(
            &["  STAGE", "ENVIRONMENT", "STATE", "DETAIL"],
            &rows,
            &|row, col, _| {
                if color && col == 2 { colors[row] } else { None }
            },
        ));
    }
    out
}

pub fn table(report: &Status, color: bool) -> String {
    sites_table(report, color) + &releases_table(report, color)
}
