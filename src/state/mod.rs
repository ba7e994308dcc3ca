//! State: what unionctl created, recorded after every resource.
//!
//! One JSON file per profile, `.unionctl/<profile>.state.json`, written atomically. `serial`
//! grows with every write; `lineage` is fixed when the state is born, so a saved plan can
//! tell "the same state, moved on" from "another state".

pub mod file;
pub mod lock;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use file::write_atomically;
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
}

impl ResourceState {
    /// The kind without its cloud: `compute_network` for `gcp.compute_network`.
    pub fn type_name(&self) -> &str {
        self.kind.split_once('.').map_or(self.kind.as_str(), |(_, t)| t)
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
        }
    }

    /// The view of this record that planning reads.
    pub fn recorded(&self) -> Recorded<'_> {
        Recorded { kind: &self.kind, mode: self.mode, owner: self.owner, stage: self.stage, settings: &self.settings, pending: self.pending }
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
        StateRef { lineage: self.lineage.clone(), serial: self.serial }
    }

    /// The value of `${address.attribute}`.
    pub fn output(&self, address: &str, attribute: &str) -> Option<&Value> {
        self.resources.get(address).and_then(|r| r.outputs.get(attribute))
    }
}

/// Where a profile's state and lock live.
#[derive(Debug, Clone)]
pub struct StatePaths {
    pub state: PathBuf,
    pub lock: PathBuf,
}

impl StatePaths {
    pub fn for_profile(state_dir: &Path, profile: &Path) -> Self {
        let stem = profile.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "profile".into());
        StatePaths { state: state_dir.join(format!("{stem}.state.json")), lock: state_dir.join(format!("{stem}.lock")) }
    }
}

/// Reads state; `None` if there is none yet.
pub fn load(path: &Path) -> Result<Option<State>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read state {}", path.display())),
    };
    let state: State = serde_json::from_slice(&bytes).with_context(|| format!("state {} is not valid state JSON", path.display()))?;
    if state.version != STATE_VERSION {
        anyhow::bail!("state {} has version {}; this unionctl reads version {STATE_VERSION}", path.display(), state.version);
    }
    Ok(Some(state))
}

/// Writes state with the next serial, atomically.
pub fn save(path: &Path, state: &mut State) -> Result<()> {
    state.serial += 1;
    let mut text = serde_json::to_vec_pretty(state)?;
    text.push(b'\n');
    write_atomically(path, &text).with_context(|| format!("cannot write state {}", path.display()))
}
