//! The only module that writes to the terminal. Results go to stdout, diagnostics and
//! progress to stderr, so `unionctl plan --format json > plan.json` stays clean. With
//! `--output json`, stdout carries JSON lines only: progress events, then exactly one
//! versioned result object per command (docs/results-format.md), on failure too.

pub mod log;
pub mod progress;
pub mod view;

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use console::Style;
use serde_json::{json, Value};

use crate::error::{ExitStatus, InvariantFailure, UserError};
use crate::profile::{Diagnostic, ProfileError, Severity};

/// Version of the `--output json` result objects. Minor bumps add fields; a major bump
/// changes or removes one.
pub const RESULT_FORMAT_VERSION: &str = "2.0";

/// Set once a command has written its result, so that a failure after it (an invariant
/// that `verify` found) does not write a second one.
static RESULT_WRITTEN: AtomicBool = AtomicBool::new(false);

#[derive(Debug, Clone)]
pub struct Ui {
    /// Colour on stderr (messages, progress).
    pub color: bool,
    /// Colour on stdout (the plan table): only on a terminal, unless `--color always`.
    pub color_out: bool,
    /// stderr is a terminal (progress bars) rather than a log.
    pub interactive: bool,
    pub json_events: bool,
    /// One data plane of a fleet: what it would print is kept here instead, for the
    /// fleet's summary (several run at once; their lines must not interleave).
    pub capture: Option<Arc<Capture>>,
}

/// What a captured command printed, and its result object.
#[derive(Debug, Default)]
pub struct Capture {
    pub log: Mutex<String>,
    pub result: Mutex<Option<Value>>,
}

impl Ui {
    /// The UI of one data plane in a fleet: plain text, kept.
    pub fn captured() -> Ui {
        Ui {
            color: false,
            color_out: false,
            interactive: false,
            json_events: false,
            capture: Some(Arc::new(Capture::default())),
        }
    }

    /// A line for stderr (or the capture).
    pub fn line(&self, text: &str) {
        match &self.capture {
            Some(c) => {
                let mut log = c.log.lock().unwrap_or_else(|e| e.into_inner());
                log.push_str(text);
                log.push('\n');
            }
            None => {
                if !progress::print_above_bars(text) {
                    eprintln!("{text}");
                }
            }
        }
    }

    fn paint(&self, s: Style, text: &str) -> String {
        if self.color {
            s.force_styling(true).apply_to(text).to_string()
        } else {
            text.to_string()
        }
    }

    /// A command's result, on stdout.
    pub fn out(&self, text: &str) {
        match &self.capture {
            Some(_) => self.line(text.trim_end_matches('\n')),
            None => Ui::raw_out(text),
        }
    }

    pub fn raw_out(text: &str) {
        let mut stdout = std::io::stdout().lock();
        // A closed pipe (`| head`) is not an error worth a panic.
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }

    /// What a command shows: with `--output json` its result object (`body`), otherwise
    /// `text` on stdout.
    pub fn show(&self, command: &str, body: Value, text: &str) {
        if self.json_events {
            self.result(command, ExitStatus::Success, body);
        } else {
            self.out(text);
        }
    }

    /// The command's versioned result, with `--output json`: one JSON line on stdout.
    pub fn result(&self, command: &str, status: ExitStatus, body: Value) {
        let captured = self
            .capture
            .as_ref()
            .map(|c| c.result.lock().unwrap_or_else(|e| e.into_inner()));
        if captured.as_ref().is_some_and(|r| r.is_some())
            || (captured.is_none()
                && (!self.json_events || RESULT_WRITTEN.swap(true, Ordering::SeqCst)))
        {
            return;
        }
        let mut doc = json!({
            "format_version": RESULT_FORMAT_VERSION,
            "command": command,
            "ok": matches!(status, ExitStatus::Success | ExitStatus::Changes),
            "exit_code": status as u8,
        });
        if let (Some(d), Value::Object(b)) = (doc.as_object_mut(), body) {
            d.extend(b);
        }
        match captured {
            Some(mut slot) => *slot = Some(doc),
            None => Ui::raw_out(&format!("{doc}\n")),
        }
    }

    /// A failed command's result, with `--output json`: the error, its causes and hints,
    /// and the profile problems or invariant violations behind it.
    pub fn error_result(&self, command: &str, err: &anyhow::Error, status: ExitStatus) {
        let causes: Vec<String> = err.chain().skip(1).map(|c| c.to_string()).collect();
        let hints: Vec<String> = err
            .chain()
            .filter_map(|c| c.downcast_ref::<UserError>())
            .filter_map(|u| u.hint.clone())
            .collect();
        let mut error = json!({ "message": err.to_string(), "causes": causes, "hints": hints });
        if let Some(ProfileError::Invalid { path, diagnostics }) =
            err.downcast_ref::<ProfileError>()
        {
            error["file"] = json!(path);
            error["diagnostics"] = diagnostics
                .iter()
                .map(|d| json!({ "severity": d.severity, "path": d.path, "line": d.mark.map(|m| m.line), "column": d.mark.map(|m| m.col), "message": d.message, "hint": d.hint }))
                .collect();
        }
        if let Some(failed) = err
            .chain()
            .find_map(|c| c.downcast_ref::<crate::exec::WalkFailed>())
        {
            error["failures"] = failed
                .failures
                .iter()
                .map(|(address, message)| json!({ "address": address, "message": message }))
                .collect();
        }
        if let Some(f) = err.downcast_ref::<InvariantFailure>() {
            error["violations"] = f
                .violations
                .iter()
                .enumerate()
                .map(|(i, (v, mark))| {
                    let live = f.live.as_ref().and_then(|l| l.get(i));
                    json!({ "violation": v, "line": mark.map(|m| m.line), "column": mark.map(|m| m.col), "id": live.map(|l| &l.id), "remedy": live.map(|l| &l.remedy) })
                })
                .collect();
        }
        self.result(command, status, json!({ "error": error }));
    }

    /// The result of a command line clap refused (`--output json`): the command is not
    /// known yet, so it is named by what clap reports.
    pub fn usage_error_result(kind: &str, rendered: &str) {
        let message = rendered
            .lines()
            .next()
            .unwrap_or(kind)
            .trim_start_matches("error: ")
            .to_string();
        let hints: Vec<String> = rendered
            .lines()
            .filter_map(|l| l.trim().strip_prefix("tip: ").map(String::from))
            .collect();
        let doc = json!({
            "format_version": RESULT_FORMAT_VERSION,
            "command": std::env::args().nth(1).filter(|a| !a.starts_with('-')).unwrap_or_default(),
            "ok": false,
            "exit_code": ExitStatus::Failure as u8,
            "error": { "message": message, "causes": [], "hints": hints, "usage": true },
        });
        Ui::raw_out(&format!("{doc}\n"));
    }

    /// Asks for `yes` on a terminal; refuses when there is no terminal to ask.
    pub fn confirm(&self, question: &str) -> anyhow::Result<bool> {
        use std::io::IsTerminal;
        if self.capture.is_some() || !std::io::stdin().is_terminal() {
            return Err(UserError::new(
                "refusing to change anything without confirmation, and there is no terminal to ask",
            )
            .hint("review the plan, then pass --auto-approve")
            .into());
        }
        eprint!("{question} Only `yes` is accepted: ");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        Ok(answer.trim() == "yes")
    }

    /// A plan as a table: within the terminal's width (at most 100 columns), in colour
    /// when colour is on.
    pub fn plan_table(&self, plan: &crate::plan::Plan) -> String {
        use std::io::IsTerminal;
        let terminal = std::io::stdout()
            .is_terminal()
            .then(|| console::Term::stdout().size().1 as usize)
            .filter(|w| *w >= 60);
        let width = terminal.map_or(100, |w| w.min(100));
        crate::plan::render::table_styled(
            plan,
            &crate::plan::render::TableStyle {
                color: self.color_out,
                width,
            },
        )
    }

    /// A status line on stderr.
    pub fn status(&self, text: &str) {
        self.line(text);
    }

    pub fn success(&self, text: &str) {
        self.line(&self.paint(Style::new().green(), text));
    }

    pub fn warning(&self, text: &str) {
        self.line(&format!(
            "{} {text}",
            self.paint(Style::new().yellow().bold(), "warning:")
        ));
    }

    fn located(
        &self,
        severity: Severity,
        path: &str,
        message: &str,
        file: &Path,
        mark: Option<crate::profile::yaml::Mark>,
        hint: Option<&str>,
    ) {
        let (label, colour) = match severity {
            Severity::Error => ("error:", Style::new().red().bold()),
            Severity::Warning => ("warning:", Style::new().yellow().bold()),
        };
        let subject = if path.is_empty() {
            String::new()
        } else {
            format!("{path}: ")
        };
        self.line(&format!("{} {subject}{message}", self.paint(colour, label)));
        match mark {
            Some(m) => self.line(&format!(
                "  {} {}:{}",
                self.paint(Style::new().blue(), "-->"),
                file.display(),
                m
            )),
            None => self.line(&format!(
                "  {} {}",
                self.paint(Style::new().blue(), "-->"),
                file.display()
            )),
        }
        if let Some(h) = hint {
            self.line(&format!(
                "  {} {h}",
                self.paint(Style::new().cyan().bold(), "hint:")
            ));
        }
    }

    pub fn diagnostics(&self, file: &Path, items: &[Diagnostic]) {
        for d in items {
            self.located(
                d.severity,
                &d.path,
                &d.message,
                file,
                d.mark,
                d.hint.as_deref(),
            );
        }
    }

    /// An error with its causes and hints, the way cargo and uv show them.
    pub fn error(&self, err: &anyhow::Error) {
        if let Some(ProfileError::Invalid { path, diagnostics }) =
            err.downcast_ref::<ProfileError>()
        {
            self.diagnostics(path, diagnostics);
        }
        if let Some(f) = err.downcast_ref::<InvariantFailure>() {
            for (i, (v, mark)) in f.violations.iter().enumerate() {
                if let Some(live) = f.live.as_ref().and_then(|l| l.get(i)) {
                    // A live resource: lead with it; the profile field only where the
                    // profile sets it.
                    let id = if live.id.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", live.id)
                    };
                    let at = if v.setting.is_empty() {
                        String::new()
                    } else {
                        format!(" at {}", v.setting)
                    };
                    self.line(&format!(
                        "{} {}: `{}`{id}{at}: {}",
                        self.paint(Style::new().red().bold(), "error:"),
                        v.invariant,
                        v.address,
                        v.message
                    ));
                    if let Some(m) = mark {
                        self.line(&format!(
                            "  {} {}:{m} ({})",
                            self.paint(Style::new().blue(), "-->"),
                            f.profile.display(),
                            v.profile_field
                        ));
                    }
                    self.line(&format!(
                        "  {} {}",
                        self.paint(Style::new().cyan().bold(), "hint:"),
                        live.remedy
                    ));
                    continue;
                }
                let message = format!("{}: {}", v.invariant, v.message);
                let hint = format!(
                    "in `{}`{}",
                    v.address,
                    if v.setting.is_empty() {
                        String::new()
                    } else {
                        format!(" at {}", v.setting)
                    }
                );
                self.located(
                    Severity::Error,
                    &v.profile_field,
                    &message,
                    &f.profile,
                    *mark,
                    Some(&hint),
                );
            }
        }
        self.line(&format!(
            "{} {err}",
            self.paint(Style::new().red().bold(), "error:")
        ));
        let mut hints = Vec::new();
        for (i, cause) in err.chain().enumerate() {
            if let Some(u) = cause.downcast_ref::<UserError>() {
                hints.extend(u.hint.clone());
            }
            if i > 0 {
                self.line(&format!(
                    "  {} {cause}",
                    self.paint(Style::new().bold(), "Caused by:")
                ));
            }
        }
        for h in hints {
            self.line(&format!(
                "  {} {h}",
                self.paint(Style::new().cyan().bold(), "hint:")
            ));
        }
    }
}
