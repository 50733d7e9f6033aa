//! The terminal during `conv apply`: a line per stage that redraws in place (indicatif's
//! multi-progress), the few events worth keeping printed above it, and a summary table when
//! the run ends. Sites are only ever counted, so 10,000 of them draw as few lines as 2.

use super::lines;
use super::progress::{Phase, RunProgress};
use conv_runtime::event::{self, Event, Sink};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Lines about single sites or instances kept above the bars; more are counted in the
/// summary, so that a bad run on 10,000 sites does not scroll away everything else.
const SITE_LINES: usize = 30;

struct State {
    model: RunProgress,
    bars: Vec<ProgressBar>,
    site_lines: usize,
}

/// The live view of one run; `finish_and_clear` removes the bars and prints the summary.
pub struct Live {
    multi: MultiProgress,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    color: bool,
}

fn style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {wide_msg}").unwrap_or_else(|_| ProgressStyle::default_spinner())
}

impl State {
    /// Adds bars for stages the model gained, then redraws every line.
    fn draw(&mut self, multi: &MultiProgress, color: bool) {
        while self.bars.len() < self.model.stages.len() {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(style());
            self.bars.push(bar);
        }
        let now = lines::now_ms();
        let width = lines::name_width(&self.model);
        for (s, bar) in self.model.stages.iter().zip(&self.bars) {
            bar.set_message(lines::stage_line(s, width, now, color));
            if matches!(s.phase, Phase::Deploying | Phase::Baking | Phase::Waiting) {
                bar.tick();
            }
        }
    }
}

/// Whether an event is worth a line of its own above the bars, and if it is about one site.
fn kept(e: &Event) -> Option<bool> {
    match e {
        Event::SiteFailed { .. } | Event::RollbackStep { .. } => Some(true),
        Event::StageRejudged { .. }
        | Event::StageWaiting { .. }
        | Event::Approved { .. }
        | Event::FailedWithinBudget { .. }
        | Event::StageFailed { .. }
        | Event::RollbackStarted { .. }
        | Event::ReleaseConverged { .. }
        | Event::ReleasePaused { .. }
        | Event::Warning { .. } => Some(false),
        _ => None,
    }
}

/// The line of a kept event; a list of failed sites is cut to its first few.
fn shown_line(e: &Event) -> Option<String> {
    match e {
        Event::FailedWithinBudget { sites, budget, .. } if sites.len() > 5 => Some(format!(
            "  {} sites failed within the stage's budget of {budget}: {}, and {} more; the next apply retries them",
            sites.len(),
            sites[..5].join(", "),
            sites.len() - 5
        )),
        _ => event::text_line(e),
    }
}

impl Live {
    pub fn start(plan: Option<&conv_runtime::plan::Plan>, color: bool) -> (Sink, Live) {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let model = plan.map(RunProgress::from_plan).unwrap_or_default();
        let state = Arc::new(Mutex::new(State { model, bars: Vec::new(), site_lines: 0 }));
        if let Ok(mut s) = state.lock() {
            s.draw(&multi, color);
        }
        let stop = Arc::new(AtomicBool::new(false));
        // The bake countdown moves without events: redraw a few times a second.
        {
            let (state, multi, stop) = (state.clone(), multi.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(std::time::Duration::from_millis(250));
                    if let Ok(mut s) = state.lock()
                        && !stop.load(Ordering::Relaxed)
                    {
                        s.draw(&multi, color);
                    }
                }
            });
        }
        let (shared, shown) = (state.clone(), multi.clone());
        let detached = stop.clone();
        let sink: Sink = Arc::new(move |e: &Event| {
            // Without its handle (dropped unfinished, as `apply --watch` does), the view has
            // no end to clear it: plain lines then, as in a pipe.
            if detached.load(Ordering::Relaxed) {
                if let Some(line) = event::text_line(e) {
                    let _ = shown.println(line);
                }
                return;
            }
            let Ok(mut s) = shared.lock() else { return };
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(&event::json_line(e)) {
                s.model.apply(&value);
            }
            if let (Some(about_a_site), Some(line)) = (kept(e), shown_line(e)) {
                if !about_a_site || s.site_lines < SITE_LINES {
                    let _ = shown.println(line);
                }
                if about_a_site {
                    s.site_lines += 1;
                    if s.site_lines == SITE_LINES {
                        let _ = shown.println("  (more sites: see the summary, `conv status` and the journal)");
                    }
                }
            }
            s.draw(&shown, color);
        });
        (sink, Live { multi, state, stop, color })
    }

    /// Removes the live lines and prints the summary table in their place.
    pub fn finish_and_clear(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let Ok(s) = self.state.lock() else { return };
        for bar in &s.bars {
            bar.finish_and_clear();
        }
        let _ = self.multi.clear();
        if !s.model.stages.is_empty() {
            eprint!("\n{}", lines::summary(&s.model, self.color));
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        // The redraw thread ends with the view, and its lines are cleared, whether or not a
        // summary was printed.
        self.stop.store(true, Ordering::Relaxed);
        if let Ok(s) = self.state.lock() {
            s.bars.iter().for_each(ProgressBar::finish_and_clear);
        }
        let _ = self.multi.clear();
    }
}
