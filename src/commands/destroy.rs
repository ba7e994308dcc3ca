//! `destroy`: a plan of what state records, each a delete (dependents first, the stages in
//! reverse), shown, saved with `--out` or carried out; never a bucket that holds data
//! unless `--delete-data` says so.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::cli::DestroyArgs;
use crate::error::{ExitStatus, UserError};
use crate::exec::Refreshed;
use crate::ops::{
    self,
    execute::{Providers, Run},
};
use crate::plan::{render, schedule, PlanMode};
use crate::settings::Settings;
use crate::state::write_atomically;
use crate::ui::view::RunView;

pub fn run(args: DestroyArgs, settings: &Settings) -> Result<ExitStatus> {
    match super::fleet::targets(&args.profile.profiles)? {
        super::fleet::Targets::One(path) => one(&path, &args, settings),
        super::fleet::Targets::Fleet(files) => {
            if args.out.is_some() || args.plan_file.is_some() {
                return Err(UserError::new(
                    "a saved plan is one data plane's; a fleet is planned again",
                )
                .into());
            }
            crate::ops::refuse_shared_state(settings)?;
            // One answer for the fleet, as for apply; then each data plane unattended.
            if !args.auto_approve {
                let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
                settings.ui.out(&format!(
                    "Destroy the data planes of {} profiles:\n  {}\n",
                    files.len(),
                    names.join("\n  ")
                ));
                if !settings
                    .ui
                    .confirm("Destroy every resource unionctl created for them?")?
                {
                    return Err(UserError::new("destroy cancelled; nothing was deleted").into());
                }
            }
            let unattended = DestroyArgs {
                auto_approve: true,
                ..args.clone()
            };
            let rows = super::fleet::run_all(
                &files,
                args.profile.fleet_parallelism.into(),
                settings,
                "destroy",
                &|file, own| one(file, &unattended, own),
            );
            Ok(super::fleet::report(&rows, "destroy", false, &settings.ui))
        }
    }
}

/// One data plane's destroy: planned from state, shown, confirmed, carried out.
pub fn one(profile: &Path, args: &DestroyArgs, settings: &Settings) -> Result<ExitStatus> {
    let ui = &settings.ui;
    let view = RunView::new(ui, PlanMode::Destroy);
    let loaded = ops::load_profile(profile, ui)?;
    ops::check_model(&loaded, args.model.map(Into::into))?;
    let stages = super::stages(loaded.profile.spec.model, args.stage)?;
    let backend = ops::state_backend(settings, &loaded)?;
    let _lock = ops::lock(backend.as_ref(), "destroy", &loaded)?;
    let prior = ops::load_state(backend.as_ref(), &loaded)?;
    let saved = args
        .plan_file
        .as_deref()
        .map(|file| ops::saved::load(file, &loaded, prior.as_ref(), PlanMode::Destroy))
        .transpose()?;
    let Some(mut state) = prior else {
        view.no_state();
        return Ok(ExitStatus::Success);
    };
    ops::runtime()?.block_on(async {
        let t0 = Instant::now();
        let mut providers = Providers::default();
        if saved.as_ref().is_some_and(|p| args.delete_data && !p.delete_data) {
            return Err(UserError::new("the saved plan keeps data: it was made without --delete-data, and a saved plan is carried out as it is")
                .hint(format!("make a new plan with `unionctl destroy -f {} --delete-data -o FILE`", loaded.path.display()))
                .into());
        }
        let delete_data = saved.as_ref().map_or(args.delete_data, |p| p.delete_data);
        let plan =
            ops::destroy::plan(&loaded, &state, &stages, delete_data, &mut providers).await?;
        if let (Some(saved), Some(file)) = (&saved, &args.plan_file) {
            ops::saved::same_changes(saved, &plan, file)?;
        }
        if let Some(out) = &args.out {
            // Saved, not carried out: as `plan --out`.
            if !ui.json_events {
                ui.out(&ui.plan_table(&plan));
            }
            ops::refuse_blocked(&plan)?;
            write_atomically(out, render::json(&plan).as_bytes())
                .with_context(|| format!("cannot save the plan to {}", out.display()))?;
            view.saved(&plan, out, &loaded.path);
            let status = if args.detailed_exitcode && plan.has_changes() {
                ExitStatus::Changes
            } else {
                ExitStatus::Success
            };
            view.planned(&plan, status);
            return Ok(status);
        }
        view.plan(&plan, args.auto_approve);
        ops::refuse_blocked(&plan)?;
        if !plan.has_changes() {
            view.nothing_to_do(&plan, providers.calls(), t0.elapsed(), state.serial);
            return Ok(ExitStatus::Success);
        }
        if plan.delete_data {
            view.deletes_data(&plan);
        }
        let count = plan.summary().delete;
        if !args.auto_approve && !ui.confirm(&format!("Delete these {count} resources?"))? {
            return Err(UserError::new("destroy cancelled; nothing was deleted").into());
        }
        ops::watch_interrupts(ui, "destroy");
        let schedule = schedule::schedule(&plan, &stages, &|_| true);
        let refreshed = Refreshed::default();
        let run = Run {
            loaded: &loaded,
            plan: &plan,
            refreshed: &refreshed,
            backend: backend.as_ref(),
            ui,
            parallelism: args.parallelism.into(),
        };
        super::carry_out(&run, &schedule, &mut state, &mut providers, &view, t0).await?;
        Ok::<_, anyhow::Error>(ExitStatus::Success)
    })
}
