//! Changes between the desired resources and what exists. Pure: the caller supplies what
//! state recorded and what was read live; rendering never computes a diff.

use serde_json::Value;

use super::resource::{Mode, Resource};
use super::{Action, Change};

/// The changes when nothing exists yet: create every managed resource, read every data source.
pub fn against_nothing(resources: &[Resource]) -> Vec<Change> {
    resources
        .iter()
        .map(|r| Change {
            address: r.address.clone(),
            action: if r.mode == Mode::Data { Action::Read } else { Action::Create },
            owner: r.owner,
            stage: r.stage,
            before: Value::Null,
            after: r.settings.clone(),
            changed_paths: Vec::new(),
            replace_paths: Vec::new(),
            drift: false,
        })
        .collect()
}
