//! The destroy plan: what state records for the stages being destroyed, each a delete;
//! a bucket that holds data is refused unless the plan deletes data.

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;

use super::execute::Providers;
use crate::plan::diff::{Known, Recorded};
use crate::plan::{Party, Plan};
use crate::profile::LoadedProfile;
use crate::state::State;

/// Plans the destroy of `stages` (in any order). What the customer's buckets hold is read
/// with the customer's credentials before anything is deleted, so a refusal leaves the
/// data plane whole (data-holding resources are the customer's in both models).
pub async fn plan(
    loaded: &LoadedProfile,
    state: &State,
    stages: &[Party],
    delete_data: bool,
    providers: &mut Providers,
) -> Result<Plan> {
    let mut contents = HashMap::new();
    let customer: Vec<_> = state
        .resources
        .values()
        .filter(|r| r.stage == Party::Customer)
        .collect();
    if stages.contains(&Party::Customer) && !customer.is_empty() {
        let provider = providers.get(loaded, Party::Customer, state).await?;
        for r in customer {
            if let Some(n) = provider.contents(r).await? {
                contents.insert(r.address.clone(), n);
            }
        }
    }
    let recorded: BTreeMap<&str, Recorded<'_>> = state
        .resources
        .iter()
        .map(|(a, r)| (a.as_str(), r.recorded()))
        .collect();
    let known = Known {
        recorded,
        outputs: state,
        live: &HashMap::new(),
        contents: &contents,
    };
    let mut plan = crate::plan::build_destroy(
        &loaded.profile,
        &loaded.digest,
        super::cloud_of(loaded),
        &known,
        stages,
        delete_data,
    )?;
    plan.prior_state = Some(state.reference());
    Ok(plan)
}
