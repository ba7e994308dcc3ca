use std::collections::BTreeSet;

use anyhow::{Context, Result};

use crate::cli::ApplyArgs;
use crate::error::{ExitStatus, UserError};
use crate::exec::{self, Outcome};
use crate::plan::{render, Plan};
use crate::settings::Settings;
use crate::state::{self, State, StateLock};
use crate::ui::progress::Progress;

pub fn run(args: ApplyArgs, settings: &Settings) -> Result<ExitStatus> {
    let ui = &settings.ui;
    let loaded = super::load_profile(&args.profile.profile, ui)?;
    super::check_model(&loaded, Some(args.model.into()))?;
    super::require_aws(&loaded, "apply")?;
    let stages = super::stages(loaded.profile.spec.model, args.stage)?;
    let paths = super::state_paths(settings, &loaded);
    let _lock = StateLock::acquire(&paths.lock, "apply")?;
    let prior = super::load_state(&paths, &loaded)?;

    let plan = match &args.plan_file {
        Some(file) => saved_plan(file, &loaded, prior.as_ref())?,
        None => {
            let plan = super::build_plan(&loaded)?;
            super::show_plan_warnings(&plan, &loaded, ui);
            plan
        }
    };
    let mut state = prior.unwrap_or_else(|| State::new(&loaded.profile.metadata.name, loaded.profile.spec.cloud.provider, loaded.profile.spec.model));

    if !args.auto_approve {
        ui.out(&render::table(&plan));
        if !ui.confirm("Apply this plan?")? {
            return Err(UserError::new("apply cancelled; nothing was changed").into());
        }
    }

    let parallelism = usize::from(args.parallelism);
    let desired: BTreeSet<String> = plan.resources.iter().map(|r| r.address.clone()).collect();
    super::runtime()?.block_on(async {
        let mut total_calls = 0;
        let mut mutating_calls = 0;
        let t0 = std::time::Instant::now();
        for stage in stages {
            let provider = super::provider_for(stage, &loaded, &state).await.with_context(|| format!("stage {stage}"))?;
            let nodes = exec::stage_nodes(&plan.resources, stage);
            let progress = Progress::new(ui, &format!("Applying stage {stage}: {} resources, {parallelism} at a time", nodes.len()));
            let mut sink = |s: &mut State| state::save(&paths.state, s);
            let result = exec::apply(&nodes, &provider, &mut state, &mut sink, &progress, parallelism).await;
            // Resources state still records that the profile no longer wants: delete them.
            let orphans = result.is_ok() && state.resources.values().any(|r| r.stage == stage && !desired.contains(&r.address));
            let cleanup = if orphans {
                let select = |r: &state::ResourceState| r.stage == stage && !desired.contains(&r.address);
                Some(exec::destroy(&select, &provider, &mut state, &mut sink, &progress, parallelism).await)
            } else {
                None
            };
            progress.finish();
            let calls = provider.calls();
            total_calls += calls.total;
            mutating_calls += calls.mutating;
            let report = result.with_context(|| format!("stage {stage} stopped; state records what was done, and re-running apply resumes"))?;
            let deleted = match cleanup {
                Some(r) => r?.count(Outcome::Deleted),
                None => 0,
            };
            ui.success(&format!(
                "Stage {stage} done: {} created, {} updated, {} unchanged, {} checked, {} read, {deleted} deleted in {:.1}s ({} API calls, {} mutating).",
                report.count(Outcome::Created),
                report.count(Outcome::Updated),
                report.count(Outcome::Unchanged),
                report.count(Outcome::Checked),
                report.count(Outcome::Read),
                report.elapsed_ms as f64 / 1000.0,
                calls.total,
                calls.mutating
            ));
        }
        ui.success(&format!(
            "Apply complete in {:.1}s: {total_calls} API calls ({mutating_calls} mutating). State: {} (serial {}).",
            t0.elapsed().as_secs_f64(),
            paths.state.display(),
            state.serial
        ));
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitStatus::Success)
}

/// A plan saved by `plan --out`: applied exactly, and only if neither the profile nor the
/// state moved since it was made.
fn saved_plan(file: &std::path::Path, loaded: &crate::profile::LoadedProfile, state: Option<&State>) -> Result<Plan> {
    let text = std::fs::read(file).with_context(|| format!("cannot read plan {}", file.display()))?;
    let plan: Plan = serde_json::from_slice(&text).with_context(|| format!("{} is not a unionctl plan", file.display()))?;
    if plan.format_version.split('.').next() != crate::plan::FORMAT_VERSION.split('.').next() {
        return Err(UserError::new(format!("plan {} has format {}; this unionctl reads {}", file.display(), plan.format_version, crate::plan::FORMAT_VERSION)).into());
    }
    if plan.profile_digest != loaded.digest {
        return Err(UserError::new(format!("the profile changed since plan {} was made", file.display())).hint("make a new plan with `unionctl plan --out`").into());
    }
    let current = state.map(State::reference);
    if plan.prior_state != current {
        let describe = |s: &Option<crate::plan::StateRef>| s.as_ref().map_or("no state".to_string(), |s| format!("serial {} of lineage {}", s.serial, s.lineage));
        return Err(UserError::new(format!(
            "plan {} is stale: it was made against {}, and state is now at {}",
            file.display(),
            describe(&plan.prior_state),
            describe(&current)
        ))
        .hint("make a new plan with `unionctl plan --out`")
        .into());
    }
    if plan.model != loaded.profile.spec.model {
        return Err(UserError::new("the saved plan is for another model").into());
    }
    Ok(plan)
}
