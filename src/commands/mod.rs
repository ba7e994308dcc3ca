//! One thin function per command over the library. Shared steps (load the profile and
//! show its warnings, build the plan and map invariant violations to profile positions)
//! live here once.

pub mod apply;
pub mod destroy;
pub mod init;
pub mod outputs;
pub mod plan;
pub mod responsibilities;
pub mod schema;
pub mod show;
pub mod validate;
pub mod verify;

use std::path::Path;

use anyhow::Result;

use crate::cli::{Cli, Command, StateCommand};
use crate::error::{ExitStatus, InvariantFailure, UserError};
use crate::plan::{Party, Plan, PlanError};
use crate::profile::{self, LoadedProfile, Model, Provider};
use crate::providers::aws::AwsProvider;
use crate::settings::Settings;
use crate::state::{State, StatePaths};
use crate::ui::Ui;

pub fn run(command: Command, settings: &Settings) -> Result<ExitStatus> {
    let ui = &settings.ui;
    match command {
        Command::Init(args) => init::run(args, ui),
        Command::Validate(args) => validate::run(&args.profile, ui),
        Command::Plan(args) => plan::run(args, settings),
        Command::Apply(args) => apply::run(args, settings),
        Command::Destroy(args) => destroy::run(args, settings),
        Command::Show(args) | Command::State(StateCommand::List(args)) => show::run(&args.profile, settings),
        Command::Outputs(args) => outputs::run(args, settings),
        Command::Verify(args) => verify::run(&args.profile, settings),
        Command::Responsibilities(args) => responsibilities::run(args, ui),
        Command::Schema => schema::run(ui),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, "unionctl", &mut buf);
            ui.out(&String::from_utf8_lossy(&buf));
            Ok(ExitStatus::Success)
        }
    }
}

/// A runtime for the commands that talk to a cloud.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}

pub fn state_paths(settings: &Settings, loaded: &LoadedProfile) -> StatePaths {
    StatePaths::for_profile(&settings.state_dir, &loaded.path)
}

/// Loads state and checks that it belongs to this profile.
pub fn load_state(paths: &StatePaths, loaded: &LoadedProfile) -> Result<Option<State>> {
    let Some(state) = crate::state::load(&paths.state)? else { return Ok(None) };
    let p = &loaded.profile;
    if state.data_plane != p.metadata.name || state.cloud != p.spec.cloud.provider || state.model != p.spec.model {
        return Err(UserError::new(format!(
            "state {} is for data plane `{}` ({} {}), not `{}` ({} {})",
            paths.state.display(),
            state.data_plane,
            state.cloud,
            state.model,
            p.metadata.name,
            p.spec.cloud.provider,
            p.spec.model
        ))
        .hint("use another --state-dir, or the profile this state was made with")
        .into());
    }
    Ok(Some(state))
}

/// Only AWS has a provider in this release; GCP and Azure plan offline.
pub fn require_aws(loaded: &LoadedProfile, what: &str) -> Result<()> {
    if loaded.profile.spec.cloud.provider != Provider::Aws {
        return Err(UserError::new(format!("`{what}` on {} is not available in this release: only `plan` is", loaded.profile.spec.cloud.provider.title()))
            .hint("AWS profiles can be applied; GCP and Azure plans are complete and reviewable")
            .into());
    }
    Ok(())
}

/// The provider a stage runs with: the caller's credentials for the customer stage, the
/// admin identity (AssumeRole with the external ID) for the union stage.
pub async fn provider_for(stage: Party, loaded: &LoadedProfile, state: &State) -> Result<AwsProvider> {
    let name = &loaded.profile.metadata.name;
    match stage {
        Party::Customer => AwsProvider::from_environment(name).await,
        Party::Union => {
            let role = state.output("aws.iam_role.union_admin", "arn").and_then(|v| v.as_str()).ok_or_else(|| {
                UserError::new("the admin identity does not exist yet, so the union stage cannot assume it")
                    .hint("run `unionctl apply --stage customer` first (the customer's credentials create it)")
            })?;
            let external_id = match loaded.profile.spec.union.as_ref().and_then(|u| u.external_id.clone()) {
                Some(id) => id,
                None => state
                    .output("local.external_id.union", "value")
                    .and_then(|v| v.as_str())
                    .map(String::from)
                    .ok_or_else(|| UserError::new("the external ID is not in state; run the customer stage first"))?,
            };
            AwsProvider::assume_role(name, role, &external_id).await
        }
    }
}

/// The stages to run, in apply order.
pub fn stages(model: Model, arg: crate::cli::StageArg) -> Result<Vec<Party>> {
    use crate::cli::StageArg;
    match (model, arg) {
        (Model::SelfManaged, StageArg::Union) => Err(UserError::new("self-managed has no union stage: Union.ai has no access")
            .hint("drop --stage, or use --stage customer")
            .into()),
        (Model::SelfManaged, _) | (Model::Byoc, StageArg::Customer) => Ok(vec![Party::Customer]),
        (Model::Byoc, StageArg::Union) => Ok(vec![Party::Union]),
        (Model::Byoc, StageArg::All) => Ok(vec![Party::Customer, Party::Union]),
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
