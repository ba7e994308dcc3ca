//! `apply`: the plan against what exists, shown; then exactly its changes, stage by stage.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;

use super::fleet::{self, Targets};
use crate::cli::ApplyArgs;
use crate::error::{ExitStatus, UserError};
use crate::ops::{
    self,
    execute::{Providers, Run},
};
use crate::plan::{schedule, Change, Party, PlanMode};
use crate::settings::Settings;
use crate::ui::view::RunView;

pub fn run(args: ApplyArgs, settings: &Settings) -> Result<ExitStatus> {
    match fleet::targets(&args.profile.profiles)? {
        Targets::One(path) => one(&path, &args, settings),
        Targets::Fleet(files) => apply_fleet(&files, &args, settings),
    }
}

/// A fleet: unattended, each data plane applied as a single one is. Otherwise each is
/// planned and its plan saved, the fleet's table shown and one answer asked for; then
/// exactly the saved plans are applied (each refused if its state moved since).
fn apply_fleet(
    files: &[std::path::PathBuf],
    args: &ApplyArgs,
    settings: &Settings,
) -> Result<ExitStatus> {
    if args.plan_file.is_some() {
        return Err(
            UserError::new("a saved plan is one data plane's; a fleet is planned again").into(),
        );
    }
    crate::ops::refuse_shared_state(settings)?;
    let limit = args.profile.fleet_parallelism.into();
    if args.auto_approve {
        let rows = fleet::run_all(files, limit, settings, "apply", &|file, own| {
            one(file, args, own)
        });
        return Ok(fleet::report(&rows, "apply", false, &settings.ui));
    }
    let saved_dir = settings.state_dir.join("fleet-plans");
    // By position in the fleet: two profiles of one file name (in two directories) are two
    // data planes.
    let saved = |file: &Path| {
        let i = files.iter().position(|f| f == file).unwrap_or(0);
        saved_dir.join(format!(
            "{i}-{}.plan.json",
            file.file_stem().unwrap_or_default().to_string_lossy()
        ))
    };
    let plan_args = |file: &Path| crate::cli::PlanArgs {
        profile: args.profile.clone(),
        model: Some(args.model),
        refresh: false,
        out: Some(saved(file)),
        format: crate::cli::PlanFormat::Table,
        detailed_exitcode: true,
        destroy: false,
        delete_data: false,
    };
    let planned = fleet::run_all(files, limit, settings, "plan", &|file, own| {
        super::plan::one(file, &plan_args(file), own)
    });
    let to_apply: Vec<std::path::PathBuf> = planned
        .iter()
        .filter(|r| r.status == ExitStatus::Changes)
        .map(|r| r.file.clone())
        .collect();
    if to_apply.is_empty() {
        return Ok(fleet::report(&planned, "apply", false, &settings.ui));
    }
    if !settings.ui.json_events {
        settings.ui.out(&fleet::table(&planned));
    }
    if !settings.ui.confirm(&format!(
        "Apply the changes of {} data planes?",
        to_apply.len()
    ))? {
        return Err(UserError::new("apply cancelled; nothing was changed").into());
    }
    let applied = fleet::run_all(&to_apply, limit, settings, "apply", &|file, own| {
        let exact = ApplyArgs {
            plan_file: Some(saved(file)),
            auto_approve: true,
            ..args.clone()
        };
        one(file, &exact, own)
    });
    let _ = std::fs::remove_dir_all(&saved_dir);
    let mut rows = applied;
    rows.extend(
        planned
            .into_iter()
            .filter(|r| r.status != ExitStatus::Changes),
    );
    Ok(fleet::report(&rows, "apply", false, &settings.ui))
}

/// One data plane's apply.
pub fn one(profile: &Path, args: &ApplyArgs, settings: &Settings) -> Result<ExitStatus> {
    let ui = &settings.ui;
    let view = RunView::new(ui, PlanMode::Apply);
    let loaded = ops::load_profile(profile, ui)?;
    ops::check_model(&loaded, Some(args.model.into()))?;
    let stages = super::stages(loaded.profile.spec.model, args.stage)?;
    let backend = ops::state_backend(settings, &loaded)?;
    let _lock = ops::lock(backend.as_ref(), "apply", &loaded)?;
    let prior = ops::load_state(backend.as_ref(), &loaded)?;
    let saved = args
        .plan_file
        .as_deref()
        .map(|file| ops::saved::load(file, &loaded, prior.as_ref(), PlanMode::Apply))
        .transpose()?;
    let mut plan = ops::build_plan(&loaded)?;
    let mut state = ops::state_or_new(prior, &loaded);
    let union_alone = stages == [Party::Union];

    ops::runtime()?.block_on(async {
        let t0 = Instant::now();
        // The union stage alone reads with Union.ai's identity (all it has); otherwise the
        // customer's credentials read everything.
        let first = if union_alone {
            Party::Union
        } else {
            Party::Customer
        };
        let mut providers = Providers::with(first, ops::connect(&loaded, first, &state).await?);
        let reader = providers.get(&loaded, first, &state).await?;
        let refreshed = ops::refresh_plan(
            &mut plan,
            &loaded,
            &state,
            &backend.location(),
            reader,
            union_alone.then_some(Party::Union),
        )
        .await?;
        ops::show_plan_warnings(&plan, &loaded, ui);
        if let Some(saved) = &saved {
            ops::saved::same_changes(
                saved,
                &plan,
                args.plan_file.as_deref().unwrap_or(Path::new("")),
            )?;
        }
        plan.resource_changes
            .retain(|c| shown_for(&plan.resources, &stages, c));
        if union_alone {
            ops::refuse_customer_changes(&plan)?;
        }
        view.plan(&plan, args.auto_approve);
        ops::refuse_blocked(&plan)?;
        // What a killed run made and this run found is recorded, even when nothing in the
        // cloud changes (a destroy could not name it otherwise).
        let to_record = plan.resource_changes.iter().any(|c| {
            c.action == crate::plan::Action::NoOp
                && state.resources.get(&c.address).is_none_or(|r| r.pending)
                && refreshed.live.get(&c.address).is_some_and(Option::is_some)
        });
        if !plan.has_changes() && !to_record {
            view.nothing_to_do(&plan, providers.calls(), t0.elapsed(), state.serial);
            return Ok(());
        }
        if plan.has_changes() && !args.auto_approve && !ui.confirm("Apply these changes?")? {
            return Err(UserError::new("apply cancelled; nothing was changed").into());
        }
        ops::watch_interrupts(ui, "apply");
        let applied = |a: &str| state.resources.get(a).is_some_and(|r| !r.pending);
        let schedule = schedule::schedule(&plan, &stages, &applied);
        let run = Run {
            loaded: &loaded,
            plan: &plan,
            refreshed: &refreshed,
            backend: backend.as_ref(),
            ui,
            parallelism: args.parallelism.into(),
        };
        super::carry_out(&run, &schedule, &mut state, &mut providers, &view, t0).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitStatus::Success)
}

/// Whether a change belongs to the stages being applied: its own stage, or (the union
/// stage) a customer-owned resource that stage depends on and checks.
fn shown_for(resources: &[crate::plan::Resource], stages: &[Party], c: &Change) -> bool {
    stages.contains(&c.stage)
        || (stages.contains(&Party::Union)
            && schedule::stage_inputs(resources, Party::Union).contains(c.address.as_str()))
}
