use std::path::Path;

use anyhow::Result;

use crate::error::{ExitStatus, UserError};
use crate::plan::invariants::{self, Invariant};
use crate::plan::Resource;
use crate::settings::Settings;

/// Reads every live resource and checks the security invariants on what the cloud
/// reports: the same checks as for plans, on observed settings.
pub fn run(profile: &Path, settings: &Settings) -> Result<ExitStatus> {
    let ui = &settings.ui;
    let loaded = super::load_profile(profile, ui)?;
    super::require_aws(&loaded, "verify")?;
    let paths = super::state_paths(settings, &loaded);
    let state = super::load_state(&paths, &loaded)?.ok_or_else(|| UserError::new("no state: nothing has been applied yet, so there is nothing to verify"))?;
    let desired = crate::plan::desired_resources(&loaded.profile)?;
    let live = super::runtime()?.block_on(async {
        let provider = crate::providers::aws::AwsProvider::from_environment(&loaded.profile.metadata.name).await?;
        crate::exec::refresh(&desired, &provider, &state, 8).await
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
    let violations = invariants::check(&observed, &crate::plan::invariant_context(&loaded.profile));
    let errors: Vec<_> = violations.iter().filter(|v| !v.warning_only).cloned().collect();

    let mut report = format!("Verified {} live resources of {} against SPEC §6:\n", observed.len(), loaded.profile.metadata.name);
    for inv in Invariant::ALL {
        let failed: Vec<_> = errors.iter().filter(|v| v.invariant == inv).collect();
        let mark = if failed.is_empty() { "PASS" } else { "FAIL" };
        report.push_str(&format!("  {mark}  {:>2}. {:<22} {}\n", inv.number(), inv.slug(), inv.title()));
        for v in failed {
            report.push_str(&format!("          {}{}: {}\n", v.address, if v.setting.is_empty() { String::new() } else { format!(" {}", v.setting) }, v.message));
        }
    }
    if !missing.is_empty() {
        report.push_str(&format!("  MISSING {} resource(s) recorded or planned but not found: {}\n", missing.len(), missing.join(", ")));
    }
    ui.out(&report);
    if !errors.is_empty() {
        return Err(anyhow::Error::new(super::invariant_failure(&loaded, "the live data plane breaks", errors)));
    }
    if !missing.is_empty() {
        return Err(UserError::new(format!("{} resource(s) are missing", missing.len())).hint("run `unionctl apply` to re-create them").into());
    }
    ui.success("All security invariants hold.");
    Ok(ExitStatus::Success)
}
