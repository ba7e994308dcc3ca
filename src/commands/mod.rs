//! One thin function per command over the library. Shared steps (load the profile and
//! show its warnings, build the plan and map invariant violations to profile positions)
//! live here once.

pub mod init;
pub mod plan;
pub mod responsibilities;
pub mod schema;
pub mod validate;

use std::path::Path;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::error::{ExitStatus, InvariantFailure, UserError};
use crate::plan::{Plan, PlanError};
use crate::profile::{self, LoadedProfile, Model};
use crate::ui::Ui;

pub fn run(cli: Cli, ui: &Ui) -> Result<ExitStatus> {
    match cli.command {
        Command::Init(args) => init::run(args, ui),
        Command::Validate(args) => validate::run(&args.profile, ui),
        Command::Plan(args) => plan::run(args, ui),
        Command::Responsibilities(args) => responsibilities::run(args, ui),
        Command::Schema => schema::run(ui),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, "unionctl", &mut buf);
            ui.out(&String::from_utf8_lossy(&buf));
            Ok(ExitStatus::Success)
        }
        Command::Apply(_) | Command::Destroy(_) | Command::Show(_) | Command::State(_) | Command::Outputs(_) | Command::Verify(_) => {
            Err(UserError::new("this command is not available in this build yet").into())
        }
    }
}

/// Loads and validates a profile, printing its warnings.
pub fn load_profile(path: &Path, ui: &Ui) -> Result<LoadedProfile> {
    let loaded = profile::load_file(path)?;
    ui.diagnostics(&loaded.path, &loaded.warnings);
    Ok(loaded)
}

/// `--model` on the command line must agree with the profile: it protects against applying
/// the wrong model to an account.
pub fn check_model(loaded: &LoadedProfile, given: Option<Model>) -> Result<()> {
    let Some(given) = given else { return Ok(()) };
    let in_profile = loaded.profile.spec.model;
    if given != in_profile {
        let at = loaded.source.mark("spec.model").map(|m| format!(":{m}")).unwrap_or_default();
        return Err(UserError::new(format!(
            "`--model {given}` does not match `spec.model: {in_profile}` in {}{at}",
            loaded.path.display()
        ))
        .hint("the model decides who owns what in the account; fix whichever of the two is wrong")
        .into());
    }
    Ok(())
}

/// Builds the plan; invariant violations become an `InvariantFailure` pointing into the profile.
pub fn build_plan(loaded: &LoadedProfile) -> Result<Plan> {
    crate::plan::build(&loaded.profile, &loaded.digest).map_err(|e| match e {
        PlanError::Invariants(violations) => anyhow::Error::new(invariant_failure(loaded, "the plan breaks", violations)),
        other => anyhow::Error::new(other),
    })
}

pub fn invariant_failure(loaded: &LoadedProfile, subject: &str, mut violations: Vec<crate::plan::Violation>) -> InvariantFailure {
    violations.sort_by_key(|v| v.invariant);
    InvariantFailure {
        subject: subject.to_string(),
        profile: loaded.path.clone(),
        violations: violations
            .into_iter()
            .map(|v| {
                let mark = loaded.source.mark(&v.profile_field);
                (v, mark)
            })
            .collect(),
    }
}

/// Prints plan warnings (the ones that do not refuse it).
pub fn show_plan_warnings(plan: &Plan, loaded: &LoadedProfile, ui: &Ui) {
    for w in &plan.warnings {
        let at = loaded.source.mark(&w.profile_field).map(|m| format!(" ({}:{m})", loaded.path.display())).unwrap_or_default();
        ui.warning(&format!("{}: {} — {}{at}", w.invariant, w.address, w.message));
    }
}
