//! What a plan warns about in the program it was made from, whatever runs now.

use crate::local::instance_count;
use conv_model::Program;
use conv_model::program::trim_float;

/// A stage whose fraction rounds to the same instance counts as the stage before it in the
/// same environment deploys nothing: `1%` and `10%` of 4 instances are both 1.
pub fn idle_stages(program: &Program) -> Vec<String> {
    let mut out = Vec::new();
    for release in &program.releases {
        for (i, stage) in release.stages.iter().enumerate() {
            let Some(before) = release.stages[..i].iter().rev().find(|s| s.env == stage.env) else { continue };
            let counts = |fraction: f64| -> Vec<(String, u32, u32)> {
                release
                    .services
                    .iter()
                    .map(|service| {
                        let total = instance_count(program, &stage.env, service);
                        let wanted = ((total as f64) * fraction / 100.0).ceil().max(1.0) as u32;
                        (service.to_string(), wanted.min(total), total)
                    })
                    .collect()
            };
            let now = counts(stage.fraction_percent);
            if now.is_empty() || now != counts(before.fraction_percent) {
                continue;
            }
            let shown: Vec<String> = now.iter().map(|(s, n, total)| format!("{s} {n} of {total}")).collect();
            out.push(format!(
                "stage `{}` of release `{}` deploys nothing: at {}% each site runs the same instances \
                 as at stage `{}`'s {}% ({} per site); raise its fraction or drop the stage",
                stage.name,
                release.name,
                trim_float(stage.fraction_percent),
                before.name,
                trim_float(before.fraction_percent),
                shown.join(", ")
            ));
        }
    }
    out
}
