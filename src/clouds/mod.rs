//! The clouds: one module per cloud, each with its plan builder, invariant checks,
//! provider (the only code that calls a cloud SDK, one file per service) and hand-off.
//!
//! This module is the seam: [`Cloud`] is everything the commands need from a cloud, and
//! [`of`] is the one place that maps a profile's `spec.cloud.provider` to its module. The
//! core (`profile`, `plan`, `exec`, `state`, `ui`) never imports this tree.

pub mod aws;
pub mod azure;
pub mod gcp;

use anyhow::Result;
use futures_util::future::LocalBoxFuture;
use serde_json::Value;

use crate::exec::Provider;
use crate::plan::{CloudPlan, Party};
use crate::profile::{self, Profile};
use crate::state::State;

/// What a cloud gives the commands beyond planning.
pub trait Cloud: CloudPlan {
    /// A provider that acts for `stage`: the caller's credentials for the customer stage;
    /// for the union stage, Union.ai's admin identity reached from them (AWS AssumeRole
    /// with the external ID, GCP service-account impersonation, Azure federated sign-in),
    /// named by what state recorded.
    fn connect<'a>(&'a self, stage: Party, profile: &'a Profile, state: &'a State) -> LocalBoxFuture<'a, Result<Box<dyn Provider>>>;

    /// The hand-off after apply: identities, buckets, cluster, private connection, and the
    /// values of the `unionai/dataplane` Helm chart (`helm_values`).
    fn hand_off(&self, profile: &Profile, state: &State) -> Result<Value>;
}

/// The cloud a profile names.
pub fn of(provider: profile::Provider) -> &'static dyn Cloud {
    match provider {
        profile::Provider::Aws => &aws::Aws,
        profile::Provider::Gcp => &gcp::Gcp,
        profile::Provider::Azure => &azure::Azure,
    }
}

/// The plan of a validated profile on the cloud it names (no state: every resource a
/// create). Refuses a plan that breaks a security invariant.
pub fn plan(profile: &Profile, digest: &str) -> Result<crate::plan::Plan, crate::plan::PlanError> {
    crate::plan::build(profile, digest, of(profile.spec.cloud.provider))
}

/// The error of a cloud whose apply is not in this release.
fn not_available(cloud: profile::Provider) -> anyhow::Error {
    crate::error::UserError::new(format!("applying to {} is not available in this release: only `plan` and `validate` are", cloud.title()))
        .hint("the plan is complete and reviewable (`unionctl plan --format markdown`)")
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::invariants::{check, Invariant};
    use crate::plan::Resource;
    use serde_json::{json, Value};

    fn plan_of(name: &str) -> (crate::profile::Profile, Vec<Resource>) {
        let text = std::fs::read_to_string(format!("profiles/{name}.yaml")).unwrap();
        let loaded = crate::profile::load_bytes(text.as_bytes(), std::path::Path::new("p.yaml")).unwrap();
        let resources = crate::plan::desired_resources(&loaded.profile, of(loaded.profile.spec.cloud.provider)).unwrap();
        (loaded.profile, resources)
    }

    fn violations(profile: &crate::profile::Profile, resources: &[Resource]) -> Vec<Invariant> {
        check(resources, &crate::plan::invariant_context(profile), of(profile.spec.cloud.provider)).into_iter().filter(|v| !v.warning_only).map(|v| v.invariant).collect()
    }

    fn edit(resources: &mut [Resource], address: &str, pointer: &str, value: Value) {
        let r = resources.iter_mut().find(|r| r.address == address).unwrap();
        *r.settings.pointer_mut(pointer).unwrap() = value;
    }

    #[test]
    fn examples_hold_every_invariant() {
        for name in ["aws-byoc", "aws-self-managed", "gcp-byoc", "gcp-self-managed", "azure-byoc", "azure-self-managed"] {
            let (profile, resources) = plan_of(name);
            assert_eq!(violations(&profile, &resources), vec![], "{name}");
        }
    }

    #[test]
    fn admin_trust_without_external_id_is_refused() {
        let (profile, mut resources) = plan_of("aws-byoc");
        edit(&mut resources, "aws.iam_role.union_admin", "/AssumeRolePolicyDocument/Statement/0/Condition", json!({}));
        assert_eq!(violations(&profile, &resources), vec![Invariant::AdminTrust]);
        let (profile, mut resources) = plan_of("gcp-byoc");
        edit(&mut resources, "gcp.iam_workload_identity_pool_provider.unionai_aws", "/attributeCondition", json!(""));
        assert_eq!(violations(&profile, &resources), vec![Invariant::AdminTrust]);
        let (profile, mut resources) = plan_of("azure-byoc");
        edit(&mut resources, "azure.federated_identity_credential.unionai", "/subject", json!("*"));
        assert_eq!(violations(&profile, &resources), vec![Invariant::AdminTrust]);
    }

    #[test]
    fn a_union_principal_in_self_managed_is_refused() {
        let (profile, mut resources) = plan_of("aws-self-managed");
        edit(&mut resources, "aws.iam_role.node", "/AssumeRolePolicyDocument/Statement/0/Principal", json!({ "AWS": "arn:aws:iam::479331373192:root" }));
        assert!(violations(&profile, &resources).contains(&Invariant::AdminTrust));
    }

    /// The JSON pointer of the statement with `sid` in the admin policy of an AWS plan.
    fn admin_statement(resources: &[Resource], sid: &str) -> String {
        let r = resources.iter().find(|r| r.address == "aws.iam_role.union_admin").unwrap();
        let statements = r.settings.pointer("/Policies/acme-prod-union-ai-admin/Statement").and_then(Value::as_array).unwrap();
        let i = statements.iter().position(|s| s["Sid"] == sid).unwrap_or_else(|| panic!("no statement {sid}"));
        format!("/Policies/acme-prod-union-ai-admin/Statement/{i}")
    }

    fn only(found: Vec<Invariant>, expected: Invariant) {
        assert!(!found.is_empty() && found.iter().all(|i| *i == expected), "{found:?}");
    }

    #[test]
    fn workload_reaching_other_buckets_breaks_tenant_isolation() {
        let (profile, mut resources) = plan_of("aws-byoc");
        edit(&mut resources, "aws.iam_role.workload_worker_development", "/Policies/acme-prod-w-development-data/Statement/2/Resource", json!(["arn:aws:s3:::*"]));
        only(violations(&profile, &resources), Invariant::TenantIsolation);
        // … and so does a tenant's identity that reaches outside its namespace's prefix.
        let (profile, mut resources) = plan_of("aws-byoc");
        edit(&mut resources, "aws.iam_role.workload_worker_development", "/Policies/acme-prod-w-development-data/Statement/2/Resource", json!(["arn:aws:s3:::acme-prod-metadata/production/*"]));
        only(violations(&profile, &resources), Invariant::TenantIsolation);
    }

    #[test]
    fn an_identity_trusted_by_two_namespaces_breaks_tenant_isolation() {
        let (profile, mut resources) = plan_of("aws-byoc");
        edit(&mut resources, "aws.iam_role.workload_worker_development", "/AssumeRolePolicyDocument/Statement/0/Condition/StringEquals/aws:RequestTag~1kubernetes-namespace", json!(["development", "production"]));
        assert!(violations(&profile, &resources).contains(&Invariant::TenantIsolation));
        // A trust that does not name this data plane's cluster is refused too.
        let (profile, mut resources) = plan_of("aws-self-managed");
        edit(&mut resources, "aws.iam_role.workload_backend", "/AssumeRolePolicyDocument/Statement/0/Condition/StringEquals/aws:RequestTag~1eks-cluster-arn", json!("arn:aws:eks:us-east-2:123456789012:cluster/other"));
        only(violations(&profile, &resources), Invariant::LeastPrivilege);
    }

    #[test]
    fn star_on_star_breaks_least_privilege() {
        let (profile, mut resources) = plan_of("aws-byoc");
        edit(&mut resources, "aws.iam_role.union_admin", "/Policies/acme-prod-union-ai-admin/Statement/1", json!({ "Effect": "Allow", "Action": "*", "Resource": "*" }));
        only(violations(&profile, &resources), Invariant::LeastPrivilege);
    }

    /// The trust boundary of the AWS admin identity: each hole a review found is refused
    /// when put back into the plan.
    #[test]
    fn the_aws_admin_identity_cannot_reach_beyond_its_data_plane() {
        let cases: Vec<(&str, &str, Value)> = vec![
            // Tagging outside a create would tag customer resources into reach.
            ("TagOnlyWhileCreatingEc2", "/Condition", json!({})),
            ("TagOnlyWhileCreatingElb", "/Condition", json!({})),
            // Changes on anything with the data-plane tag alone (customer resources carry it).
            ("ChangeOnlyWhatUnionAiOwns", "/Condition", json!({ "StringEquals": {} })),
            ("ChangeOnlyWhatUnionAiOwns", "/Condition", json!({ "StringEquals": { "aws:ResourceTag/unionctl.union.ai/data-plane": "acme-prod" } })),
            // Trust authoring: a role of Union.ai's making with any trust.
            ("CreateOwnCluster", "/Action", json!(["eks:CreateCluster", "iam:CreateRole"])),
            ("CreateOwnCluster", "/Action", json!(["eks:CreateCluster", "iam:UpdateAssumeRolePolicy"])),
            // Removing unionctl's tags.
            ("CreateOwnCluster", "/Action", json!(["eks:CreateCluster", "ec2:DeleteTags"])),
            // Every action of a service.
            ("RunOwnCluster", "/Action", json!("eks:*")),
            // Key grants to any principal.
            ("GrantDataPlaneKeyToAwsServices", "/Condition", json!({})),
        ];
        for (sid, pointer, value) in cases {
            let (profile, mut resources) = plan_of("aws-byoc");
            let at = format!("{}{pointer}", admin_statement(&resources, sid));
            edit(&mut resources, "aws.iam_role.union_admin", &at, value.clone());
            let found = violations(&profile, &resources);
            assert!(found.contains(&Invariant::LeastPrivilege), "{sid}{pointer} = {value} was not refused: {found:?}");
        }
    }

    #[test]
    fn nodes_run_with_the_restricted_security_group() {
        let (profile, mut resources) = plan_of("aws-self-managed");
        edit(&mut resources, "aws.launch_template.workers", "/LaunchTemplateData/SecurityGroupIds", json!([]));
        only(violations(&profile, &resources), Invariant::OutboundOnly);
    }

    #[test]
    fn endpoint_service_open_to_anyone_is_refused() {
        let (profile, mut resources) = plan_of("aws-byoc");
        edit(&mut resources, "aws.vpc_endpoint_service.api", "/AllowedPrincipals", json!(["*"]));
        edit(&mut resources, "aws.vpc_endpoint_service.api", "/AcceptanceRequired", json!(false));
        assert_eq!(violations(&profile, &resources), vec![Invariant::OutboundOnly, Invariant::OutboundOnly]);
    }

    #[test]
    fn union_stage_reads_only_the_customer_resources_it_needs() {
        let (_, resources) = plan_of("aws-byoc");
        let inputs = crate::exec::stage_inputs(&resources, Party::Union);
        let checked: Vec<&str> = resources.iter().filter(|r| r.stage == Party::Customer && inputs.contains(r.address.as_str())).map(|r| r.address.as_str()).collect();
        assert!(checked.contains(&"aws.iam_role.union_admin") && checked.contains(&"aws.kms_key.main"), "{checked:?}");
        assert!(!checked.contains(&"aws.cloudtrail.main"), "the trail is not an input of any union resource");
        let customer_inputs = crate::exec::stage_inputs(&resources, Party::Customer);
        assert!(resources.iter().filter(|r| customer_inputs.contains(r.address.as_str())).all(|r| r.stage == Party::Customer));
    }
}
