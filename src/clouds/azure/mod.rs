//! Azure: the plan builder and invariant checks. Apply is not in this release.

pub mod invariants;
pub mod plan;

use anyhow::Result;
use futures_util::future::LocalBoxFuture;
use serde_json::Value;

use crate::exec::Provider;
use crate::plan::Party;
use crate::profile::{self, Profile};
use crate::state::State;

pub struct Azure;

super::cloud_plan!(Azure, profile::Provider::Azure);

impl super::Cloud for Azure {
    fn connect<'a>(&'a self, _stage: Party, _profile: &'a Profile, _state: &'a State) -> LocalBoxFuture<'a, Result<Box<dyn Provider>>> {
        Box::pin(async { Err(super::not_available(profile::Provider::Azure)) })
    }
    fn hand_off(&self, _profile: &Profile, _state: &State) -> Result<Value> {
        Err(super::not_available(profile::Provider::Azure))
    }
}
