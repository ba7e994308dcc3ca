//! `destroy`: what state records, dependents first, stage by stage in reverse; never a
//! bucket that holds data unless `--delete-data` says so.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use serde_json::json;

use crate::cli::DestroyArgs;
use crate::error::{ExitStatus, UserError};
use crate::exec::{self, Outcome};
use crate::plan::Party;
use crate::settings::Settings;
use crate::state::{self, State};
use crate::ui::progress::Progress;

pub fn run(args: DestroyArgs, settings: &Settings) -> Result<ExitStatus> {
    match super::fleet::targets(&args.profile.profiles)? {
        super::fleet::Targets::One(path) => one(&path, &args, settings),
        super::fleet::Targets::Fleet(files) => {
            super::refuse_shared_state(settings)?;
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

/// One data plane's destroy.
pub fn one(
    profile: &std::path::Path,
    args: &DestroyArgs,
    settings: &Settings,
) -> Result<ExitStatus> {
    let ui = &settings.ui;
    let loaded = super::load_profile(profile, ui)?;
    super::check_model(&loaded, args.model.map(Into::into))?;
    let mut stages = super::stages(loaded.profile.spec.model, args.stage)?;
    stages.reverse();
    let backend = super::state_backend(settings, &loaded)?;
    let _lock = super::lock(backend.as_ref(), "destroy", &loaded)?;
    let Some(mut st) = super::load_state(backend.as_ref(), &loaded)? else {
        ui.success("No state: unionctl created nothing here, so there is nothing to destroy.");
        ui.result("destroy", ExitStatus::Success, json!({ "stages": [] }));
        return Ok(ExitStatus::Success);
    };
    if !st.resources.values().any(|r| stages.contains(&r.stage)) {
        ui.success("State records no resources: nothing to destroy.");
        ui.result("destroy", ExitStatus::Success, json!({ "stages": [] }));
        return Ok(ExitStatus::Success);
    }
    let parallelism = usize::from(args.parallelism);
    let desired = crate::plan::desired_resources(&loaded.profile, super::cloud_of(&loaded))?;
    super::runtime()?.block_on(async {
        // What the buckets hold, read before anything is deleted: a refusal leaves the data
        // plane whole. Data-holding resources are the customer's in both models.
        let mut holding = Vec::new();
        if stages.contains(&Party::Customer) {
            let provider = super::connect(&loaded, Party::Customer, &st).await?;
            for r in st.resources.values().filter(|r| r.stage == Party::Customer) {
                if let Some(n) = provider.contents(r).await? {
                    if n > 0 {
                        holding.push((r.address.clone(), r.id.clone(), n));
                    }
                }
            }
        }
        if !holding.is_empty() && !args.delete_data {
            let list = holding.iter().map(|(a, id, n)| format!("{a} ({id}): {}", crate::plan::count(*n, "object"))).collect::<Vec<_>>().join("; ");
            return Err(UserError::new(format!("{} bucket(s) hold data, and destroy never deletes data unless asked: {list}; nothing was deleted", holding.len()))
                .hint("copy out what must be kept, then run destroy again with --delete-data (every object version is deleted)")
                .into());
        }
        if !args.auto_approve {
            let mut listing = String::new();
            for r in st.resources.values().filter(|r| stages.contains(&r.stage)) {
                listing.push_str(&format!("  - {} ({}, owner {})\n", r.address, r.id, r.owner));
            }
            for (a, _, n) in &holding {
                listing.push_str(&format!("  ! {a} holds {}, which will be deleted (--delete-data)\n", crate::plan::count(*n, "object")));
            }
            ui.out(&listing);
            let count = st.resources.values().filter(|r| stages.contains(&r.stage)).count();
            if !ui.confirm(&format!("Delete these {count} resources?"))? {
                return Err(UserError::new("destroy cancelled; nothing was deleted").into());
            }
        }
        super::watch_interrupts(ui, "destroy");
        // The customer's resources that refer to Union.ai's go first (they were made last),
        // then Union.ai's, then the rest of the customer's.
        let mut late: BTreeSet<String> = BTreeSet::new();
        loop {
            let more: Vec<String> = st
                .resources
                .values()
                .filter(|r| r.stage == Party::Customer && !late.contains(&r.address))
                .filter(|r| r.depends_on.iter().any(|d| late.contains(d) || st.resources.get(d).is_some_and(|x| x.stage == Party::Union)))
                .map(|r| r.address.clone())
                .collect();
            if more.is_empty() {
                break;
            }
            late.extend(more);
        }
        let mut runs: Vec<(Party, bool)> = Vec::new();
        if stages.contains(&Party::Union) && stages.contains(&Party::Customer) && !late.is_empty() {
            runs.push((Party::Customer, true));
        }
        runs.extend(stages.iter().map(|s| (*s, false)));
        let mut results = Vec::new();
        for (stage, only_late) in runs {
            let picks = |r: &state::ResourceState| r.stage == stage && (!only_late || late.contains(&r.address));
            if !st.resources.values().any(picks) {
                continue;
            }
            // The union stage deletes only what Union.ai created; the customer's resources
            // go only with the customer's credentials.
            let provider = super::connect(&loaded, stage, &st).await?;
            // What a killed run made before it could record an id is looked up first: a
            // destroy must name it to delete it.
            if exec::find_pending(&desired, stage, provider.as_ref(), &mut st).await? {
                backend.save(&mut st)?;
            }
            let progress = Progress::new(ui, &format!("Destroying stage {stage}"));
            let mut sink = |s: &mut State| backend.save(s);
            let result = exec::destroy(&picks, args.delete_data, stage, provider.as_ref(), &mut st, &mut sink, &progress, parallelism).await;
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
            results.push(json!({ "stage": stage, "deleted": report.count(Outcome::Deleted), "gone": report.count(Outcome::Gone), "elapsed_ms": report.elapsed_ms, "calls": calls }));
        }
        ui.result("destroy", ExitStatus::Success, json!({ "stages": results, "state_serial": st.serial }));
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitStatus::Success)
}
