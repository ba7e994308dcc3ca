//! `verify`: the security invariants on what the cloud reports, not on what was sent.

use std::path::Path;

use anyhow::Result;
use serde_json::json;

use crate::error::{ExitStatus, UserError};
use crate::plan::invariants::{self, Invariant};
use crate::plan::{Party, Resource};
use crate::settings::Settings;

/// Reads every live resource and checks the security invariants on what the cloud
/// reports: the same checks as for plans, on observed settings.
pub fn run(args: &crate::cli::ProfilesArgs, settings: &Settings) -> Result<ExitStatus> {
    match super::fleet::targets(&args.profiles)? {
        super::fleet::Targets::One(path) => one(&path, settings),
        super::fleet::Targets::Fleet(files) => {
            let rows = super::fleet::run_all(
                &files,
                args.fleet_parallelism.into(),
                settings,
                "verify",
                &|file, own| one(file, own),
            );
            Ok(super::fleet::report(&rows, "verify", false, &settings.ui))
        }
    }
}

/// One data plane's verify.
pub fn one(profile: &Path, settings: &Settings) -> Result<ExitStatus> {
    let ui = &settings.ui;
    let loaded = crate::ops::load_profile(profile, ui)?;
    let cloud = crate::ops::cloud_of(&loaded);
    let backend = crate::ops::state_backend(settings, &loaded)?;
    let state = crate::ops::load_state(backend.as_ref(), &loaded)?.ok_or_else(|| {
        UserError::new("no state: nothing has been applied yet, so there is nothing to verify")
    })?;
    let desired = crate::plan::desired_resources(&loaded.profile, cloud)?;
    let live = crate::ops::runtime()?.block_on(async {
        let provider = crate::ops::connect(&loaded, Party::Customer, &state).await?;
        let recorded: Vec<Resource> = desired
            .iter()
            .filter(|r| state.resources.contains_key(&r.address))
            .cloned()
            .collect();
        crate::exec::refresh(&recorded, provider.as_ref(), &state, 8).await
    })?;

    let mut observed: Vec<Resource> = Vec::new();
    let mut missing = Vec::new();
    for r in &desired {
        match live.get(&r.address) {
            Some(Some(obs)) => {
                let mut seen = r.clone();
                seen.settings = obs.settings.clone();
                observed.push(seen);
            }
            Some(None) => missing.push(r.address.clone()),
            None if !r.kind.starts_with("local.") => missing.push(r.address.clone()),
            None => observed.push(r.clone()),
        }
    }
    let violations = invariants::check(
        &observed,
        &crate::plan::invariant_context(&loaded.profile),
        cloud,
    );
    let errors: Vec<_> = violations
        .iter()
        .filter(|v| !v.warning_only)
        .cloned()
        .collect();

    let mut report = format!(
        "Verified {} live resources of {} against the security invariants (docs/security.md):\n",
        observed.len(),
        loaded.profile.metadata.name
    );
    let mut results = Vec::new();
    for inv in Invariant::ALL {
        let failed: Vec<_> = errors.iter().filter(|v| v.invariant == inv).collect();
        let mark = if failed.is_empty() { "PASS" } else { "FAIL" };
        report.push_str(&format!(
            "  {mark}  {:>2}. {:<22} {}\n",
            inv.number(),
            inv.slug(),
            inv.title()
        ));
        for v in &failed {
            report.push_str(&format!(
                "          {}{}: {}\n",
                v.address,
                if v.setting.is_empty() {
                    String::new()
                } else {
                    format!(" {}", v.setting)
                },
                v.message
            ));
        }
        results.push(json!({ "number": inv.number(), "invariant": inv, "title": inv.title(), "status": mark.to_lowercase(), "violations": failed }));
    }
    if !missing.is_empty() {
        report.push_str(&format!(
            "  MISSING {} resource(s) recorded or planned but not found: {}\n",
            missing.len(),
            missing.join(", ")
        ));
    }
    if !ui.json_events {
        ui.out(&report);
    }
    let status = if !errors.is_empty() {
        ExitStatus::Invariant
    } else if !missing.is_empty() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    };
    ui.result(
        "verify",
        status,
        json!({ "resources_checked": observed.len(), "invariants": results, "missing": missing }),
    );
    if !errors.is_empty() {
        let ids: std::collections::HashMap<String, String> = live
            .iter()
            .filter_map(|(a, o)| o.as_ref().map(|o| (a.clone(), o.id.clone())))
            .collect();
        return Err(anyhow::Error::new(crate::ops::live_failure(
            &loaded,
            "the live data plane breaks",
            errors,
            &observed,
            &ids,
        )));
    }
    if !missing.is_empty() {
        return Err(
            UserError::new(format!("{} resource(s) are missing", missing.len()))
                .hint(format!(
                    "run `unionctl apply --model {} -f {}` to re-create them",
                    loaded.profile.spec.model,
                    loaded.path.display()
                ))
                .into(),
        );
    }
    ui.success("All security invariants hold.");
    Ok(ExitStatus::Success)
}
