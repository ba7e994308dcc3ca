//! Saved plans: carried out exactly, and only if neither the profile, the state nor what
//! exists moved since they were made.

use std::path::Path;

use anyhow::{Context, Result};

use crate::error::UserError;
use crate::plan::{Change, Plan, PlanMode};
use crate::profile::LoadedProfile;
use crate::state::State;

/// A plan saved by `plan --out` or `destroy --out`: carried out exactly, and only if neither the profile nor the
/// state moved since it was made.
pub fn load(
    file: &Path,
    loaded: &LoadedProfile,
    state: Option<&State>,
    mode: PlanMode,
) -> Result<Plan> {
    let text =
        std::fs::read(file).with_context(|| format!("cannot read plan {}", file.display()))?;
    let plan: Plan = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a unionctl plan", file.display()))?;
    if plan.format_version.split('.').next() != crate::plan::FORMAT_VERSION.split('.').next() {
        return Err(UserError::new(format!(
            "plan {} has format {}; this unionctl reads {}",
            file.display(),
            plan.format_version,
            crate::plan::FORMAT_VERSION
        ))
        .into());
    }
    if plan.profile_digest != loaded.digest {
        return Err(UserError::new(format!(
            "the profile changed since plan {} was made",
            file.display()
        ))
        .hint("make a new plan with `unionctl plan --out`")
        .into());
    }
    let current = state.map(State::reference);
    if plan.prior_state != current {
        let describe = |s: &Option<crate::plan::StateRef>| {
            s.as_ref().map_or("no state".to_string(), |s| {
                format!("serial {} of lineage {}", s.serial, s.lineage)
            })
        };
        return Err(UserError::new(format!(
            "plan {} is stale: it was made against {}, and state is now at {}",
            file.display(),
            describe(&plan.prior_state),
            describe(&current)
        ))
        .hint("make a new plan with `unionctl plan --out`")
        .into());
    }
    if plan.mode != mode {
        return Err(UserError::new(format!(
            "plan {} is a{} {} plan",
            file.display(),
            if plan.mode == PlanMode::Apply {
                "n"
            } else {
                ""
            },
            plan.mode.as_str()
        ))
        .hint(format!(
            "carry it out with `unionctl {} -f {} {}`",
            plan.mode.as_str(),
            loaded.path.display(),
            file.display()
        ))
        .into());
    }
    if plan.model != loaded.profile.spec.model {
        return Err(UserError::new("the saved plan is for another model").into());
    }
    Ok(plan)
}

/// A saved plan is carried out only if what exists still gives exactly its changes.
pub fn same_changes(saved: &Plan, fresh: &Plan, file: &Path) -> Result<()> {
    let key = |c: &Change| {
        (
            c.address.clone(),
            c.action,
            c.changed_paths.clone(),
            c.replace_paths.clone(),
        )
    };
    let mut a: Vec<_> = saved
        .resource_changes
        .iter()
        .filter(|c| c.action.is_change())
        .map(key)
        .collect();
    let mut b: Vec<_> = fresh
        .resource_changes
        .iter()
        .filter(|c| c.action.is_change())
        .map(key)
        .collect();
    a.sort();
    b.sort();
    if a != b {
        let differ: Vec<String> = b
            .iter()
            .filter(|x| !a.contains(x))
            .chain(a.iter().filter(|x| !b.contains(x)))
            .map(|x| x.0.clone())
            .collect();
        return Err(UserError::new(format!(
            "the live resources changed since plan {} was made ({}); nothing was changed",
            file.display(),
            differ.join(", ")
        ))
        .hint("make a new plan with `unionctl plan --out` and review it")
        .into());
    }
    Ok(())
}
