//! Azure: the plan builder and invariant checks. Apply is not in this release.

pub mod invariants;
pub mod plan;

use anyhow::Result;
use futures_util::future::LocalBoxFuture;
use serde_json::Value;

use crate::exec::Provider;
use crate::plan::builder::Builder;
use crate::plan::invariants::Checker;
use crate::plan::{CloudPlan, Party, Resource};
use crate::profile::{self, Profile};
use crate::state::State;

pub struct Azure;

impl CloudPlan for Azure {
    fn provider(&self) -> profile::Provider {
        profile::Provider::Azure
    }
    fn build(&self, b: &mut Builder<'_>) {
        plan::build(b)
    }
    fn check_resource(&self, c: &mut Checker<'_>, r: &Resource) {
        invariants::check_resource(c, r)
    }
    fn check_existing(&self, c: &mut Checker<'_>, r: &Resource) {
        invariants::check_existing(c, r)
    }
    fn check_plan(&self, c: &mut Checker<'_>, resources: &[Resource]) {
        invariants::check_plan(c, resources)
    }
    fn forces_replacement(&self, kind: &str, path: &str) -> bool {
        plan::REPLACE.iter().any(|(k, p)| *k == kind && path.starts_with(p))
    }
    fn retains(&self, kind: &str) -> Option<&'static str> {
        plan::retains(kind)
    }
}

impl super::Cloud for Azure {
    fn connect<'a>(&'a self, _stage: Party, _profile: &'a Profile, _state: &'a State) -> LocalBoxFuture<'a, Result<Box<dyn Provider>>> {
        Box::pin(async { Err(super::not_available(profile::Provider::Azure)) })
    }
    fn hand_off(&self, _profile: &Profile, _state: &State) -> Result<Value> {
        Err(super::not_available(profile::Provider::Azure))
    }
}
