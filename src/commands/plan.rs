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

    // With state, the plan is the diff against what exists, read live with the
    // customer's credentials (they can read every resource of the data plane).
    let backend = super::state_backend(settings, &loaded)?;
    if let Some(state) = super::load_state(backend.as_ref(), &loaded)? {
        let cloud = super::cloud_of(&loaded);
        super::runtime()?.block_on(async {
            let provider = cloud
                .connect(Party::Customer, &loaded.profile, &state)
                .await?;
            super::refresh_plan(&mut plan, &loaded, &state, provider.as_ref(), None).await
        })?;
    } else if args.refresh {
        ui.status("No state yet: nothing to refresh; every resource is a create.");
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
            PlanFormat::Table => render::table(&plan),
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
