use anyhow::{Context, Result};

use crate::cli::DestroyArgs;
use crate::error::{ExitStatus, UserError};
use crate::exec::{self, Outcome};
use crate::settings::Settings;
use crate::state::{self, State, StateLock};
use crate::ui::progress::Progress;

pub fn run(args: DestroyArgs, settings: &Settings) -> Result<ExitStatus> {
    let ui = &settings.ui;
    let loaded = super::load_profile(&args.profile.profile, ui)?;
    super::require_aws(&loaded, "destroy")?;
    let mut stages = super::stages(loaded.profile.spec.model, args.stage)?;
    stages.reverse();
    let paths = super::state_paths(settings, &loaded);
    let _lock = StateLock::acquire(&paths.lock, "destroy")?;
    let Some(mut st) = super::load_state(&paths, &loaded)? else {
        ui.success("No state: unionctl created nothing here, so there is nothing to destroy.");
        return Ok(ExitStatus::Success);
    };
    if st.resources.is_empty() {
        ui.success("State records no resources: nothing to destroy.");
        return Ok(ExitStatus::Success);
    }
    if !args.auto_approve {
        for r in st.resources.values() {
            ui.out(&format!("  - {} ({}, owner {})\n", r.address, r.id, r.owner));
        }
        if !ui.confirm(&format!("Delete these {} resources?", st.resources.len()))? {
            return Err(UserError::new("destroy cancelled; nothing was deleted").into());
        }
    }
    let parallelism = usize::from(args.parallelism);
    super::runtime()?.block_on(async {
        for stage in stages {
            if !st.resources.values().any(|r| r.stage == stage) {
                continue;
            }
            // The union stage deletes only what Union.ai created; the customer's resources
            // go only with the customer's credentials.
            let provider = super::provider_for(stage, &loaded, &st).await.with_context(|| format!("stage {stage}"))?;
            let progress = Progress::new(ui, &format!("Destroying stage {stage}"));
            let mut sink = |s: &mut State| state::save(&paths.state, s);
            let select = |r: &state::ResourceState| r.stage == stage;
            let result = exec::destroy(&select, &provider, &mut st, &mut sink, &progress, parallelism).await;
            progress.finish();
            let report = result.with_context(|| format!("stage {stage} stopped; re-running destroy resumes"))?;
            let calls = provider.calls();
            ui.success(&format!(
                "Stage {stage} destroyed: {} deleted, {} already gone in {:.1}s ({} API calls).",
                report.count(Outcome::Deleted),
                report.count(Outcome::Gone),
                report.elapsed_ms as f64 / 1000.0,
                calls.total
            ));
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitStatus::Success)
}
