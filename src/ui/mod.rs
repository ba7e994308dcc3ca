//! The only module that writes to the terminal. Results go to stdout, diagnostics and
//! progress to stderr, so `unionctl plan --format json > plan.json` stays clean.



pub mod progress;

use std::io::Write;
use std::path::Path;

use console::Style;

use crate::error::{InvariantFailure, UserError};
use crate::profile::{Diagnostic, ProfileError, Severity};

#[derive(Debug, Clone, Copy)]
pub struct Ui {
    pub color: bool,
    /// stderr is a terminal (progress bars) rather than a log.
    pub interactive: bool,
    pub json_events: bool,
}

impl Ui {
    fn paint(&self, s: Style, text: &str) -> String {
        if self.color {
            s.force_styling(true).apply_to(text).to_string()
        } else {
            text.to_string()
        }
    }

    /// A command's result, on stdout.
    pub fn out(&self, text: &str) {
        Ui::raw_out(text);
    }

    pub fn raw_out(text: &str) {
        let mut stdout = std::io::stdout().lock();
        // A closed pipe (`| head`) is not an error worth a panic.
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }

    /// Asks for `yes` on a terminal; refuses when there is no terminal to ask.
    pub fn confirm(&self, question: &str) -> anyhow::Result<bool> {
        use std::io::IsTerminal;
        if !std::io::stdin().is_terminal() {
            return Err(UserError::new("refusing to change anything without confirmation, and there is no terminal to ask")
                .hint("review the plan, then pass --auto-approve")
                .into());
        }
        eprint!("{question} Only `yes` is accepted: ");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        Ok(answer.trim() == "yes")
    }

    /// A status line on stderr.
    pub fn status(&self, text: &str) {
        eprintln!("{text}");
    }

    pub fn success(&self, text: &str) {
        eprintln!("{}", self.paint(Style::new().green(), text));
    }

    pub fn warning(&self, text: &str) {
        eprintln!("{} {text}", self.paint(Style::new().yellow().bold(), "warning:"));
    }

    fn located(&self, severity: Severity, path: &str, message: &str, file: &Path, mark: Option<crate::profile::yaml::Mark>, hint: Option<&str>) {
        let (label, colour) = match severity {
            Severity::Error => ("error:", Style::new().red().bold()),
            Severity::Warning => ("warning:", Style::new().yellow().bold()),
        };
        let subject = if path.is_empty() { String::new() } else { format!("{path}: ") };
        eprintln!("{} {subject}{message}", self.paint(colour, label));
        match mark {
            Some(m) => eprintln!("  {} {}:{}", self.paint(Style::new().blue(), "-->"), file.display(), m),
            None => eprintln!("  {} {}", self.paint(Style::new().blue(), "-->"), file.display()),
        }
        if let Some(h) = hint {
            eprintln!("  {} {h}", self.paint(Style::new().cyan().bold(), "hint:"));
        }
    }

    pub fn diagnostics(&self, file: &Path, items: &[Diagnostic]) {
        for d in items {
            self.located(d.severity, &d.path, &d.message, file, d.mark, d.hint.as_deref());
        }
    }

    /// An error with its causes and hints, the way cargo and uv show them.
    pub fn error(&self, err: &anyhow::Error) {
        if let Some(ProfileError::Invalid { path, diagnostics }) = err.downcast_ref::<ProfileError>() {
            self.diagnostics(path, diagnostics);
        }
        if let Some(f) = err.downcast_ref::<InvariantFailure>() {
            for (v, mark) in &f.violations {
                let message = format!("{}: {}", v.invariant, v.message);
                let hint = format!("in `{}`{}", v.address, if v.setting.is_empty() { String::new() } else { format!(" at {}", v.setting) });
                self.located(Severity::Error, &v.profile_field, &message, &f.profile, *mark, Some(&hint));
            }
        }
        eprintln!("{} {err}", self.paint(Style::new().red().bold(), "error:"));
        let mut hints = Vec::new();
        for (i, cause) in err.chain().enumerate() {
            if let Some(u) = cause.downcast_ref::<UserError>() {
                hints.extend(u.hint.clone());
            }
            if i > 0 {
                eprintln!("  {} {cause}", self.paint(Style::new().bold(), "Caused by:"));
            }
        }
        for h in hints {
            eprintln!("  {} {h}", self.paint(Style::new().cyan().bold(), "hint:"));
        }
    }
}
