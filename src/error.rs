//! Errors the user acts on, and the exit-code contract:
//! 0 success, 1 error, 2 changes present (`plan --detailed-exitcode`), 3 a security
//! invariant failed.

use std::path::PathBuf;

use crate::plan::{PlanError, Violation};
use crate::profile::yaml::Mark;
use crate::profile::ProfileError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success = 0,
    Failure = 1,
    Changes = 2,
    Invariant = 3,
}

/// A failure with a message written for the person at the terminal and, where the fix is
/// known, a hint.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UserError {
    pub message: String,
    pub hint: Option<String>,
}

impl UserError {
    pub fn new(message: impl Into<String>) -> Self {
        UserError {
            message: message.into(),
            hint: None,
        }
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// A plan (or live data plane) that breaks security invariants, with each violation's
/// position in the profile.
#[derive(Debug, thiserror::Error)]
#[error("{} {}; nothing was changed", subject, describe(violations))]
pub struct InvariantFailure {
    pub subject: String,
    pub profile: PathBuf,
    /// Each violation, with the position of its profile field when the profile sets it.
    pub violations: Vec<(Violation, Option<Mark>)>,
    /// Found on live resources (`verify`, an existing resource read): each finding names
    /// the live resource and what restores it, not a profile field that caused nothing.
    pub live: Option<Vec<LiveFinding>>,
}

/// What a live finding is about, beside its violation: the resource's cloud id, and how
/// to bring it back.
#[derive(Debug, Clone)]
pub struct LiveFinding {
    pub id: String,
    pub remedy: String,
}

/// "security invariants 1, 2 (9 violations)".
fn describe(violations: &[(Violation, Option<Mark>)]) -> String {
    let mut numbers: Vec<usize> = violations
        .iter()
        .map(|(v, _)| v.invariant.number())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    let list = numbers
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let noun = if numbers.len() == 1 {
        "invariant"
    } else {
        "invariants"
    };
    let count = violations.len();
    format!(
        "security {noun} {list} ({count} {}; the invariants: docs/security.md)",
        if count == 1 {
            "violation"
        } else {
            "violations"
        }
    )
}

/// The exit status an error maps to.
pub fn exit_status(err: &anyhow::Error) -> ExitStatus {
    for cause in err.chain() {
        if cause.downcast_ref::<InvariantFailure>().is_some() {
            return ExitStatus::Invariant;
        }
        if let Some(PlanError::Invariants(_)) = cause.downcast_ref::<PlanError>() {
            return ExitStatus::Invariant;
        }
        if cause.downcast_ref::<ProfileError>().is_some() {
            return ExitStatus::Failure;
        }
    }
    ExitStatus::Failure
}
