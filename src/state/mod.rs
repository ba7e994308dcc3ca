//! State: what unionctl created, recorded after every resource.
//!
//! One JSON document per data plane, in a [`Backend`]: by default a local file,
//! `.unionctl/<profile>.state.json`, written atomically; or an object in a team's bucket.
//! `serial` grows with every write; `lineage` is fixed when the state is born, so a saved
//! plan can tell "the same state, moved on" from "another state".

pub mod backend;
pub mod file;
pub mod local;
pub mod lock;
pub mod remote;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub use crate::profile::state_url::Location;
pub use backend::{Backend, LockGuard, LockInfo, Locked};
pub use file::write_atomically;
pub use local::LocalBackend;
pub use lock::StateLock;

use crate::plan::diff::Recorded;
use crate::plan::resolve::Outputs;
use crate::plan::{Mode, Observed, Party, Resource, StateRef};
use crate::profile::{Model, Provider};

pub const STATE_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub lineage: String,
    pub serial: u64,
    pub data_plane: String,
    pub cloud: Provider,
    pub model: Model,
    /// By address.
    pub resources: BTreeMap<String, ResourceState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    pub address: String,
    pub kind: String,
    pub name: String,
    pub mode: Mode,
    pub owner: Party,
    pub stage: Party,
    /// The cloud's id for it (VPC id, ARN, bucket name, …).
    pub id: String,
    /// Attributes other resources refer to (`id`, `arn`, `oidc_issuer`, …).
    pub outputs: Map<String, Value>,
    /// The settings last applied, references resolved.
    pub settings: Value,
    /// Kept so that destroy can order resources no longer in the plan.
    pub depends_on: Vec<String>,
    /// Written before the resource is first worked on: a run killed between a create and
    /// the tag that marks the resource as ours leaves the proof here that unionctl made it,
    /// so the next run adopts it instead of refusing it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
    /// The idempotency token of a pending create, so that a resumed create is the same
    /// request to the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl ResourceState {
    /// The kind without its cloud: `compute_network` for `gcp.compute_network`.
    pub fn type_name(&self) -> &str {
        self.kind
            .split_once('.')
            .map_or(self.kind.as_str(), |(_, t)| t)
    }
    pub fn setting(&self, pointer: &str) -> Option<&Value> {
        self.settings.pointer(pointer)
    }

    /// The record of `r` as applied: what the cloud reported, and the settings sent.
    pub fn of(r: &Resource, observed: Observed, settings: Value) -> Self {
        ResourceState {
            address: r.address.clone(),
            kind: r.kind.clone(),
            name: r.name.clone(),
            mode: r.mode,
            owner: r.owner,
            stage: r.stage,
            id: observed.id,
            outputs: observed.outputs,
            settings,
            depends_on: r.depends_on.clone(),
            pending: false,
            token: None,
        }
    }

    /// The view of this record that planning reads.
    pub fn recorded(&self) -> Recorded<'_> {
        Recorded {
            kind: &self.kind,
            mode: self.mode,
            owner: self.owner,
            stage: self.stage,
            settings: &self.settings,
            pending: self.pending,
            depends_on: &self.depends_on,
            id: &self.id,
        }
    }
}

impl Outputs for State {
    fn output(&self, address: &str, attribute: &str) -> Option<Value> {
        State::output(self, address, attribute).cloned()
    }
}

impl State {
    pub fn new(data_plane: &str, cloud: Provider, model: Model) -> Self {
        let mut bytes = [0u8; 16];
        rand::Rng::fill(&mut rand::rng(), &mut bytes);
        State {
            version: STATE_VERSION,
            lineage: hex::encode(bytes),
            serial: 0,
            data_plane: data_plane.to_string(),
            cloud,
            model,
            resources: BTreeMap::new(),
        }
    }

    pub fn reference(&self) -> StateRef {
        StateRef {
            lineage: self.lineage.clone(),
            serial: self.serial,
        }
    }

    /// The value of `${address.attribute}`.
    pub fn output(&self, address: &str, attribute: &str) -> Option<&Value> {
        self.resources
            .get(address)
            .and_then(|r| r.outputs.get(attribute))
    }
}

/// Reads a state document.
pub fn parse(bytes: &[u8], location: &str) -> Result<State> {
    let state: State = serde_json::from_slice(bytes)
        .with_context(|| format!("state {location} is not valid state JSON"))?;
    if state.version != STATE_VERSION {
        anyhow::bail!(
            "state {location} has version {}; this unionctl reads version {STATE_VERSION}",
            state.version
        );
    }
    Ok(state)
}

/// Moves the state to its next serial and returns the document to write.
pub fn next_version(state: &mut State) -> Result<Vec<u8>> {
    state.serial += 1;
    let mut text = serde_json::to_vec_pretty(state)?;
    text.push(b'\n');
    Ok(text)
}
