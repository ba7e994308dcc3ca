//! AWS: the plan builder, invariant checks, the provider over the official `aws-sdk-*`
//! crates (one file per service), and the hand-off.

mod cloudtrail;
mod ec2;
mod eks;
mod elb;
mod errors;
mod iam;
pub mod invariants;
mod kms;
pub mod outputs;
pub mod plan;
pub mod provider;
mod s3;
pub mod state;

use anyhow::{Context, Result};
use futures_util::future::LocalBoxFuture;
use serde_json::Value;

use crate::error::UserError;
use crate::exec::Provider;
use crate::plan::Party;
use crate::profile::{self, Profile};
use crate::state::State;
use provider::AwsProvider;

pub struct Aws;

super::cloud_plan!(Aws, profile::Provider::Aws);

impl super::Cloud for Aws {
    fn connect<'a>(
        &'a self,
        stage: Party,
        profile: &'a Profile,
        state: &'a State,
    ) -> LocalBoxFuture<'a, Result<Box<dyn Provider>>> {
        Box::pin(async move {
            let provider = match stage {
                Party::Customer => AwsProvider::from_environment(profile, &state.lineage).await?,
                Party::Union => {
                    let role = state.output(plan::ADMIN_ROLE, "arn").and_then(Value::as_str).ok_or_else(|| {
                        UserError::new("the admin identity does not exist yet, so the union stage cannot assume it")
                            .hint("the customer stage creates it: `unionctl apply --stage customer` with the customer's credentials")
                    })?;
                    let external_id = match profile
                        .spec
                        .union
                        .as_ref()
                        .and_then(|u| u.external_id.clone())
                    {
                        Some(id) => id,
                        None => state
                            .output(plan::EXTERNAL_ID, "value")
                            .and_then(Value::as_str)
                            .map(String::from)
                            .ok_or_else(|| {
                                UserError::new(
                                    "the external ID is not in state; run the customer stage first",
                                )
                            })?,
                    };
                    AwsProvider::assume_role(profile, &state.lineage, role, &external_id)
                        .await
                        .with_context(|| format!("cannot act as {role}"))?
                }
            };
            Ok(Box::new(provider) as Box<dyn Provider>)
        })
    }

    fn hand_off(&self, profile: &Profile, state: &State) -> Result<Value> {
        Ok(outputs::hand_off(profile, state))
    }
}
