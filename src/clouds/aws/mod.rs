//! AWS: the plan builder, invariant checks, the provider over the official `aws-sdk-*`
//! crates (one file per service), and the hand-off.

mod cloudtrail;
mod ec2;
mod eks;
mod elb;
mod iam;
pub mod invariants;
mod kms;
pub mod outputs;
pub mod plan;
pub mod provider;
mod s3;

use anyhow::{Context, Result};
use futures_util::future::LocalBoxFuture;
use serde_json::Value;

use crate::error::UserError;
use crate::exec::Provider;
use crate::plan::builder::Builder;
use crate::plan::invariants::Checker;
use crate::plan::{CloudPlan, Party, Resource};
use crate::profile::{self, Profile};
use crate::state::State;
use provider::AwsProvider;

pub struct Aws;

/// Settings whose change the AWS APIs cannot make in place: the resource is replaced.
const REPLACE: &[(&str, &str)] = &[
    ("aws.vpc", "/CidrBlock"),
    ("aws.subnet", "/CidrBlock"),
    ("aws.subnet", "/AvailabilityZone"),
    ("aws.subnet", "/VpcId"),
    ("aws.security_group", "/GroupName"),
    ("aws.security_group", "/Description"),
    ("aws.security_group", "/VpcId"),
    ("aws.vpc_endpoint", "/ServiceName"),
    ("aws.vpc_endpoint", "/VpcId"),
    ("aws.vpc_endpoint", "/VpcEndpointType"),
    ("aws.nat_gateway", "/SubnetId"),
    ("aws.nat_gateway", "/AllocationId"),
    ("aws.eks_cluster", "/name"),
    ("aws.eks_cluster", "/encryptionConfig"),
    ("aws.eks_cluster", "/kubernetesNetworkConfig"),
    ("aws.eks_cluster", "/resourcesVpcConfig/subnetIds"),
    ("aws.eks_node_group", "/instanceTypes"),
    ("aws.eks_node_group", "/amiType"),
    ("aws.eks_node_group", "/subnets"),
    ("aws.eks_node_group", "/nodeRole"),
    ("aws.eks_node_group", "/capacityType"),
    ("aws.s3_bucket", "/Bucket"),
    ("aws.kms_key", "/KeySpec"),
    ("aws.kms_key", "/KeyUsage"),
    ("aws.iam_role", "/RoleName"),
    ("aws.lb", "/Name"),
    ("aws.lb", "/Scheme"),
    ("aws.lb", "/Type"),
    ("aws.lb", "/Subnets"),
    ("aws.lb_target_group", "/Name"),
    ("aws.lb_target_group", "/Port"),
    ("aws.lb_target_group", "/Protocol"),
    ("aws.lb_target_group", "/VpcId"),
    ("aws.lb_target_group", "/TargetType"),
];

impl CloudPlan for Aws {
    fn provider(&self) -> profile::Provider {
        profile::Provider::Aws
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
        REPLACE.iter().any(|(k, p)| *k == kind && path.starts_with(p))
    }
    fn retains(&self, kind: &str) -> Option<&'static str> {
        match kind {
            "aws.s3_bucket" => Some("it holds the data plane's objects"),
            "aws.kms_key" => Some("data encrypted with it would become unreadable"),
            "aws.eks_cluster" => Some("it runs every workload of the data plane"),
            _ => None,
        }
    }
}

impl super::Cloud for Aws {
    fn connect<'a>(&'a self, stage: Party, profile: &'a Profile, state: &'a State) -> LocalBoxFuture<'a, Result<Box<dyn Provider>>> {
        Box::pin(async move {
            let name = &profile.metadata.name;
            let provider = match stage {
                Party::Customer => AwsProvider::from_environment(name).await?,
                Party::Union => {
                    let role = state.output(plan::ADMIN_ROLE, "arn").and_then(Value::as_str).ok_or_else(|| {
                        UserError::new("the admin identity does not exist yet, so the union stage cannot assume it")
                            .hint("the customer stage creates it: `unionctl apply --stage customer` with the customer's credentials")
                    })?;
                    let external_id = match profile.spec.union.as_ref().and_then(|u| u.external_id.clone()) {
                        Some(id) => id,
                        None => state
                            .output(plan::EXTERNAL_ID, "value")
                            .and_then(Value::as_str)
                            .map(String::from)
                            .ok_or_else(|| UserError::new("the external ID is not in state; run the customer stage first"))?,
                    };
                    AwsProvider::assume_role(name, role, &external_id).await.with_context(|| format!("cannot act as {role}"))?
                }
            };
            Ok(Box::new(provider) as Box<dyn Provider>)
        })
    }

    fn hand_off(&self, profile: &Profile, state: &State) -> Result<Value> {
        Ok(outputs::hand_off(profile, state))
    }
}
