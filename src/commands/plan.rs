use anyhow::{Context, Result};

use std::path::Path;

use super::fleet::{self, Targets};
use crate::cli::{PlanArgs, PlanFormat};
use crate::error::{ExitStatus, UserError};
use crate::plan::{render, Party};
use crate::settings::Settings;
use crate::state::write_atomically;

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
            super::refuse_shared_state(settings)?;
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
    let loaded = super::load_profile(profile, ui)?;
    super::check_model(&loaded, args.model.map(Into::into))?;
    let mut plan = super::build_plan(&loaded)?;

    // With state (or --refresh), the plan is the diff against what exists, read live with
    // the customer's credentials (they can read every resource of the data plane).
    let backend = super::state_backend(settings, &loaded)?;
    let location = backend.location();
    let prior = super::load_state(backend.as_ref(), &loaded)?;
    match &prior {
        Some(state) => ui.status(&format!("State: {location} (serial {}, {} resources).", state.serial, state.resources.len())),
        None if args.refresh => ui.status(&format!("No state for data plane {} at {location}: looking for its resources in the account.", loaded.profile.metadata.name)),
        None => ui.status(&format!(
            "No state for data plane {} at {location}: every resource is planned as new (`plan --refresh` also looks for an existing data plane of this name in the account).",
            loaded.profile.metadata.name
        )),
    }
    if prior.is_some() || args.refresh {
        let state = super::state_or_new(prior, &loaded);
        super::runtime()?.block_on(async {
            let provider = super::connect(&loaded, Party::Customer, &state).await?;
            super::refresh_plan(
                &mut plan,
                &loaded,
                &state,
                &location,
                provider.as_ref(),
                None,
            )
            .await
        })?;
    }
    super::show_plan_warnings(&plan, &loaded, ui);

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
    super::refuse_blocked(&plan)?;
    if let Some(out) = &args.out {
        write_atomically(out, render::json(&plan).as_bytes())
            .with_context(|| format!("cannot save the plan to {}", out.display()))?;
        ui.status(&format!(
            "Saved the plan to {}; apply exactly it with: unionctl apply --model {} -f {} {}",
            out.display(),
            plan.model,
            loaded.path.display(),
            out.display()
        ));
    }
    ui.result("plan", status, render::changes_result(&plan));
    Ok(status)
}
