//! Three views of the executor's event stream: progress bars on a terminal (one line per
//! resource in flight with its elapsed time, and an overall N-of-M bar), plain log lines
//! when stderr is not a terminal, and one JSON object per line for CI (`--output json`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Ui;
use crate::exec::{Event, Reporter};

/// The bars on screen, if any: a line printed while they are drawn goes above them
/// (a plain write would be drawn over).
static ACTIVE: Mutex<Option<MultiProgress>> = Mutex::new(None);

/// Prints `text` above the bars when bars are on screen; `false` when none are.
pub fn print_above_bars(text: &str) -> bool {
    match ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        Some(multi) => multi.println(text).is_ok(),
        None => false,
    }
}

pub enum Progress {
    Bars {
        multi: MultiProgress,
        overall: ProgressBar,
        lines: Mutex<HashMap<String, ProgressBar>>,
    },
    Lines(Ui),
    Json,
}

impl Progress {
    pub fn new(ui: &Ui, title: &str) -> Progress {
        if ui.json_events {
            return Progress::Json;
        }
        if !ui.interactive {
            ui.line(title);
            return Progress::Lines(ui.clone());
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos} of {len}  {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        overall.set_message(title.to_string());
        overall.enable_steady_tick(Duration::from_millis(200));
        *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = Some(multi.clone());
        Progress::Bars {
            multi,
            overall,
            lines: Mutex::new(HashMap::new()),
        }
    }

    pub fn finish(&self) {
        if let Progress::Bars { overall, .. } = self {
            *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = None;
            overall.finish();
        }
    }
}

impl Reporter for Progress {
    fn event(&self, event: Event) {
        match self {
            Progress::Json => {
                let mut line = serde_json::to_string(&event).unwrap_or_default();
                line.push('\n');
                Ui::raw_out(&line);
            }
            Progress::Lines(ui) => match &event {
                Event::Start { .. } => {}
                Event::Done {
                    address,
                    outcome,
                    elapsed_ms,
                    done,
                    total,
                    ..
                } => {
                    ui.line(&format!(
                        "[{done}/{total}] {address}: {outcome} ({:.1}s)",
                        *elapsed_ms as f64 / 1000.0
                    ));
                }
                Event::Error { address, message } => {
                    ui.line(&format!("error: {address}: {message}"))
                }
            },
            Progress::Bars {
                multi,
                overall,
                lines,
            } => {
                let mut lines = lines.lock().unwrap_or_else(|e| e.into_inner());
                match event {
                    Event::Start {
                        address,
                        action,
                        total,
                        ..
                    } => {
                        overall.set_length(total as u64);
                        let bar = multi.add(ProgressBar::new_spinner());
                        bar.set_style(
                            ProgressStyle::with_template("  {spinner} {msg} {elapsed}")
                                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                        );
                        bar.set_message(format!("{action} {address}"));
                        bar.enable_steady_tick(Duration::from_millis(120));
                        lines.insert(address, bar);
                    }
                    Event::Done {
                        address,
                        outcome,
                        elapsed_ms,
                        ..
                    } => {
                        overall.inc(1);
                        if let Some(bar) = lines.remove(&address) {
                            bar.finish_and_clear();
                        }
                        let _ = multi.println(format!(
                            "  {address}: {outcome} ({:.1}s)",
                            elapsed_ms as f64 / 1000.0
                        ));
                    }
                    Event::Error { address, message } => {
                        if let Some(bar) = lines.remove(&address) {
                            bar.finish_and_clear();
                        }
                        let _ = multi.println(format!("  error: {address}: {message}"));
                    }
                }
            }
        }
    }
}
