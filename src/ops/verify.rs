//! Verify: every live resource read back, and the security invariants checked on what the
//! cloud reports (the same checks as for plans, on observed settings).

use std::collections::HashMap;

use anyhow::Result;

use crate::error::UserError;
use crate::plan::invariants::{self, Violation};
use crate::plan::{Party, Resource};
use crate::profile::LoadedProfile;
use crate::state::Backend;

/// What verify found.
pub struct Verified {
    /// The live resources, their settings as the cloud reports them.
    pub observed: Vec<Resource>,
    /// Invariants the live settings break (warnings left out).
    pub violations: Vec<Violation>,
    /// Recorded or planned, but not found.
    pub missing: Vec<String>,
    /// The cloud's id of each live resource, by address.
    pub ids: HashMap<String, String>,
}

pub fn verify(loaded: &LoadedProfile, backend: &dyn Backend) -> Result<Verified> {
    let cloud = super::cloud_of(loaded);
    let state = super::load_state(backend, loaded)?.ok_or_else(|| {
        UserError::new("no state: nothing has been applied yet, so there is nothing to verify")
    })?;
    let desired = crate::plan::desired_resources(&loaded.profile, cloud)?;
    let live = super::runtime()?.block_on(async {
        let provider = super::connect(loaded, Party::Customer, &state).await?;
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
    )
    .into_iter()
    .filter(|v| !v.warning_only)
    .collect();
    let ids = live
        .iter()
        .filter_map(|(a, o)| o.as_ref().map(|o| (a.clone(), o.id.clone())))
        .collect();
    Ok(Verified {
        observed,
        violations,
        missing,
        ids,
    })
}
