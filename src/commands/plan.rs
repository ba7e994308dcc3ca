use anyhow::{Context, Result};

use std::path::Path;

use super::fleet::{self, Targets};
use crate::cli::{PlanArgs, PlanFormat, StageArg};
use crate::error::{ExitStatus, UserError};
use crate::ops::execute::Providers;
use crate::plan::{render, Party, Plan};
use crate::profile::LoadedProfile;
use crate::settings::Settings;
use crate::state::{write_atomically, State};
use crate::ui::view::RunView;
use crate::ui::Ui;

pub fn run(args: PlanArgs, settings: &Settings) -> Result<ExitStatus> {
    match fleet::targets(&args.profile.profiles)? {
        Targets::One(path) => one(&path, &args, settings),
        Targets::Fleet(files) => {
            if args.out.is_some() {
                return Err(UserError::new(
                    "--out saves one plan, and a fleet has one per data plane",
                )
                .hint("plan a single profile to save its plan")
                .into());
            }
            crate::ops::refuse_shared_state(settings)?;
            let rows = fleet::run_all(
                &files,
                args.profile.fleet_parallelism.into(),
                settings,
                "plan",
                &|file, own| one(file, &args, own),
            );
            Ok(fleet::report(
                &rows,
                "plan",
                args.detailed_exitcode,
                &settings.ui,
            ))
        }
    }
}

/// The plan of one data plane.
pub fn one(profile: &Path, args: &PlanArgs, settings: &Settings) -> Result<ExitStatus> {
    let ui = &settings.ui;
    let loaded = crate::ops::load_profile(profile, ui)?;
    crate::ops::check_model(&loaded, args.model.map(Into::into))?;
    let backend = crate::ops::state_backend(settings, &loaded)?;
    let location = backend.location();
    let prior = crate::ops::load_state(backend.as_ref(), &loaded)?;
    let plan = if args.destroy {
        destroy_plan(&loaded, prior, &location, args.delete_data, ui)?
    } else {
        apply_plan(&loaded, prior, &location, args.refresh, ui)?
    };
    crate::ops::show_plan_warnings(&plan, &loaded, ui);

    let status = if args.detailed_exitcode && plan.has_changes() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    };
    // One data plane of a fleet: the fleet shows a row for it, not its whole plan.
    if !ui.json_events && ui.capture.is_none() {
        let text = match args.format {
            PlanFormat::Table => ui.plan_table(&plan),
            PlanFormat::Json => render::json(&plan),
            PlanFormat::Yaml => render::yaml(&plan)
                .map_err(|e| UserError::new(format!("cannot render the plan as YAML: {e}")))?,
            PlanFormat::Markdown => render::markdown(&plan),
            PlanFormat::Dot => render::dot(&plan),
        };
        ui.out(&text);
    }
    crate::ops::refuse_blocked(&plan)?;
    if let Some(out) = &args.out {
        write_atomically(out, render::json(&plan).as_bytes())
            .with_context(|| format!("cannot save the plan to {}", out.display()))?;
        RunView::new(ui, plan.mode).saved(&plan, out, &loaded.path);
    }
    ui.result("plan", status, render::changes_result(&plan));
    Ok(status)
}

/// The plan that brings the data plane to the profile: with state (or `refresh`), the diff
/// against what exists, read live with the customer's credentials (they can read every
/// resource of the data plane).
fn apply_plan(
    loaded: &LoadedProfile,
    prior: Option<State>,
    location: &str,
    refresh: bool,
    ui: &Ui,
) -> Result<Plan> {
    let mut plan = crate::ops::build_plan(loaded)?;

    // With state (or --refresh), the plan is the diff against what exists, read live with
    // the customer's credentials (they can read every resource of the data plane).
    match &prior {
        Some(state) => ui.status(&format!("State: {location} (serial {}, {} resources).", state.serial, state.resources.len())),
        None if refresh => ui.status(&format!("No state for data plane {} at {location}: looking for its resources in the account.", loaded.profile.metadata.name)),
        None => ui.status(&format!(
            "No state for data plane {} at {location}: every resource is planned as new (`plan --refresh` also looks for an existing data plane of this name in the account).",
            loaded.profile.metadata.name
        )),
    }
    if prior.is_some() || refresh {
        let state = crate::ops::state_or_new(prior, loaded);
        crate::ops::runtime()?.block_on(async {
            let provider = crate::ops::connect(loaded, Party::Customer, &state).await?;
            crate::ops::refresh_plan(&mut plan, loaded, &state, location, provider.as_ref(), None)
                .await
        })?;
    }
    Ok(plan)
}

/// The plan that deletes what state records (every stage), as `destroy --out` makes it.
fn destroy_plan(
    loaded: &LoadedProfile,
    prior: Option<State>,
    location: &str,
    delete_data: bool,
    ui: &Ui,
) -> Result<Plan> {
    let had_state = prior.is_some();
    match &prior {
        Some(state) => ui.status(&format!(
            "State: {location} (serial {}, {} resources).",
            state.serial,
            state.resources.len()
        )),
        None => ui.status(&format!(
            "No state for data plane {} at {location}: nothing to destroy.",
            loaded.profile.metadata.name
        )),
    }
    let state = crate::ops::state_or_new(prior, loaded);
    let stages = super::stages(loaded.profile.spec.model, StageArg::All)?;
    let mut plan = crate::ops::runtime()?.block_on(async {
        let mut providers = Providers::default();
        crate::ops::destroy::plan(loaded, &state, &stages, delete_data, &mut providers).await
    })?;
    if !had_state {
        plan.prior_state = None;
    }
    Ok(plan)
}
