//! The clouds: one module per cloud, each with its plan builder, invariant checks,
//! provider (the only code that calls a cloud SDK, one file per service) and hand-off.
//!
//! This module is the seam: [`Cloud`] is everything the commands need from a cloud, and
//! [`of`] is the one place that maps a profile's `spec.cloud.provider` to its module. The
//! core (`profile`, `plan`, `exec`, `state`, `ui`) never imports this tree.

pub mod aws;
pub mod azure;
pub mod gcp;
pub mod live;

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
    fn connect<'a>(
        &'a self,
        stage: Party,
        profile: &'a Profile,
        state: &'a State,
    ) -> LocalBoxFuture<'a, Result<Box<dyn Provider>>>;

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

/// The remote state backend a location names (the only place that maps a URL scheme to a
/// cloud's store), signed in as the customer: the profile's tenant for Azure Blob.
pub fn remote_state(
    location: &crate::state::Location,
    profile: &Profile,
) -> Result<Box<dyn crate::state::Backend>> {
    use crate::state::Location;
    Ok(Box::new(match location {
        Location::S3 { bucket, key } => {
            aws::state::backend(bucket, key, &profile.spec.cloud.region)?
        }
        Location::Gcs { bucket, key } => gcp::state::backend(bucket, key)?,
        Location::AzureBlob {
            account,
            container,
            key,
        } => {
            let tenant = profile
                .spec
                .cloud
                .azure
                .as_ref()
                .map(|a| a.tenant_id.clone());
            azure::state::backend(account, container, key, tenant)?
        }
    }))
}

/// The plan of a validated profile on the cloud it names (no state: every resource a
/// create). Refuses a plan that breaks a security invariant.
pub fn plan(profile: &Profile, digest: &str) -> Result<crate::plan::Plan, crate::plan::PlanError> {
    crate::plan::build(profile, digest, of(profile.spec.cloud.provider))
}

/// The planning side of a cloud, from its modules: `plan::build`, `plan::REPLACE` (the
/// settings the API cannot change in place), `plan::retains` (what apply never deletes)
/// and `invariants::check_{resource,existing,plan}`.
macro_rules! cloud_plan {
    ($cloud:ty, $provider:expr) => {
        impl crate::plan::CloudPlan for $cloud {
            fn provider(&self) -> crate::profile::Provider {
                $provider
            }
            fn build(&self, b: &mut crate::plan::builder::Builder<'_>) {
                plan::build(b)
            }
            fn check_resource(
                &self,
                c: &mut crate::plan::invariants::Checker<'_>,
                r: &crate::plan::Resource,
            ) {
                invariants::check_resource(c, r)
            }
            fn check_existing(
                &self,
                c: &mut crate::plan::invariants::Checker<'_>,
                r: &crate::plan::Resource,
            ) {
                invariants::check_existing(c, r)
            }
            fn check_plan(
                &self,
                c: &mut crate::plan::invariants::Checker<'_>,
                resources: &[crate::plan::Resource],
            ) {
                invariants::check_plan(c, resources)
            }
            fn forces_replacement(&self, kind: &str, path: &str) -> bool {
                // A rule names a setting and everything under it, never a longer name
                // (`/enablePrivateCluster` is not `/enablePrivateClusterPublicFQDN`).
                plan::REPLACE.iter().any(|(k, p)| {
                    *k == kind
                        && (path == *p
                            || path
                                .strip_prefix(p)
                                .is_some_and(|rest| rest.starts_with('/')))
                })
            }
            fn retains(&self, kind: &str) -> Option<&'static str> {
                plan::retains(kind)
            }
            fn renewed_by_update(&self, kind: &str) -> &'static [&'static str] {
                plan::renewed_by_update(kind)
            }
            fn refuses_change(
                &self,
                kind: &str,
                path: &str,
                before: &serde_json::Value,
                after: &serde_json::Value,
            ) -> Option<String> {
                plan::refuses_change(kind, path, before, after)
            }
        }
    };
}
pub(crate) use cloud_plan;

/// The `exec::Provider` impl of a cloud's provider, from its inherent async methods
/// (`read_resource`, `create_resource`, `update_resource`, `delete_resource`,
/// `contents_of`) and `calls_made`: the boxing is the same for every cloud.
macro_rules! boxed_provider {
    ($t:ty) => {
        impl crate::exec::Provider for $t {
            fn read<'a>(
                &'a self,
                r: &'a crate::plan::Resource,
                desired: &'a serde_json::Value,
                prior: Option<&'a crate::state::ResourceState>,
            ) -> futures_util::future::LocalBoxFuture<
                'a,
                anyhow::Result<Option<crate::exec::Observed>>,
            > {
                Box::pin(self.read_resource(r, desired, prior))
            }
            fn create<'a>(
                &'a self,
                r: &'a crate::plan::Resource,
                desired: &'a serde_json::Value,
                token: &'a str,
            ) -> futures_util::future::LocalBoxFuture<'a, anyhow::Result<crate::exec::Observed>>
            {
                Box::pin(self.create_resource(r, desired, token))
            }
            fn update<'a>(
                &'a self,
                r: &'a crate::plan::Resource,
                desired: &'a serde_json::Value,
                live: &'a crate::exec::Observed,
                changed: &'a [String],
            ) -> futures_util::future::LocalBoxFuture<'a, anyhow::Result<crate::exec::Observed>>
            {
                Box::pin(self.update_resource(r, desired, live, changed))
            }
            fn delete<'a>(
                &'a self,
                r: &'a crate::state::ResourceState,
                with_data: bool,
            ) -> futures_util::future::LocalBoxFuture<'a, anyhow::Result<()>> {
                Box::pin(self.delete_resource(r, with_data))
            }
            fn contents<'a>(
                &'a self,
                r: &'a crate::state::ResourceState,
            ) -> futures_util::future::LocalBoxFuture<'a, anyhow::Result<Option<u64>>> {
                Box::pin(self.contents_of(r))
            }
            fn calls(&self) -> crate::exec::CallCounts {
                self.calls_made()
            }
            fn signed_in(&self) -> &crate::exec::SignedIn {
                &self.signed_in
            }
        }
    };
}
pub(crate) use boxed_provider;

/// A change the cloud's API cannot make in place, and that the plan did not mark as a
/// replacement.
pub(crate) fn unsupported(r: &crate::plan::Resource, changed: &[String]) -> anyhow::Error {
    anyhow::anyhow!("`{}` differs at {}; changing that in place is not supported: destroy and re-create it, or revert the change", r.address, changed.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::invariants::{check, Invariant};
    use crate::plan::{Party, Resource};
    use serde_json::{json, Value};

    fn plan_of(name: &str) -> (crate::profile::Profile, Vec<Resource>) {
        let text = std::fs::read_to_string(format!("profiles/{name}.yaml")).unwrap();
        let loaded =
            crate::profile::load_bytes(text.as_bytes(), std::path::Path::new("p.yaml")).unwrap();
        let resources =
            crate::plan::desired_resources(&loaded.profile, of(loaded.profile.spec.cloud.provider))
                .unwrap();
        (loaded.profile, resources)
    }

    fn violations(profile: &crate::profile::Profile, resources: &[Resource]) -> Vec<Invariant> {
        check(
            resources,
            &crate::plan::invariant_context(profile),
            of(profile.spec.cloud.provider),
        )
        .into_iter()
        .filter(|v| !v.warning_only)
        .map(|v| v.invariant)
        .collect()
    }

    fn edit(resources: &mut [Resource], address: &str, pointer: &str, value: Value) {
        let r = resources.iter_mut().find(|r| r.address == address).unwrap();
        *r.settings.pointer_mut(pointer).unwrap() = value;
    }

    #[test]
    fn examples_hold_every_invariant() {
        for name in [
            "aws-byoc",
            "aws-self-managed",
            "gcp-byoc",
            "gcp-self-managed",
            "azure-byoc",
            "azure-self-managed",
        ] {
            let (profile, resources) = plan_of(name);
            assert_eq!(violations(&profile, &resources), vec![], "{name}");
        }
    }

    #[test]
    fn admin_trust_without_external_id_is_refused() {
        let (profile, mut resources) = plan_of("aws-byoc");
        edit(
            &mut resources,
            "aws.iam_role.union_admin",
            "/AssumeRolePolicyDocument/Statement/0/Condition",
            json!({}),
        );
        assert_eq!(
            violations(&profile, &resources),
            vec![Invariant::AdminTrust]
        );
        let (profile, mut resources) = plan_of("gcp-byoc");
        edit(
            &mut resources,
            "gcp.iam_workload_identity_pool_provider.unionai_aws",
            "/attributeCondition",
            json!(""),
        );
        assert_eq!(
            violations(&profile, &resources),
            vec![Invariant::AdminTrust]
        );
        let (profile, mut resources) = plan_of("azure-byoc");
        edit(
            &mut resources,
            "azure.federated_identity_credential.unionai",
            "/subject",
            json!("*"),
        );
        assert_eq!(
            violations(&profile, &resources),
            vec![Invariant::AdminTrust]
        );
    }

    #[test]
    fn a_union_principal_in_self_managed_is_refused() {
        let (profile, mut resources) = plan_of("aws-self-managed");
        edit(
            &mut resources,
            "aws.iam_role.node",
            "/AssumeRolePolicyDocument/Statement/0/Principal",
            json!({ "AWS": "arn:aws:iam::479331373192:root" }),
        );
        assert!(violations(&profile, &resources).contains(&Invariant::AdminTrust));
    }

    /// The JSON pointer of the statement with `sid` in the admin policy of an AWS plan.
    fn admin_statement(resources: &[Resource], sid: &str) -> String {
        let r = resources
            .iter()
            .find(|r| r.address == "aws.iam_role.union_admin")
            .unwrap();
        let statements = r
            .settings
            .pointer("/Policies/acme-prod-union-ai-admin/Statement")
            .and_then(Value::as_array)
            .unwrap();
        let i = statements
            .iter()
            .position(|s| s["Sid"] == sid)
            .unwrap_or_else(|| panic!("no statement {sid}"));
        format!("/Policies/acme-prod-union-ai-admin/Statement/{i}")
    }

    fn only(found: Vec<Invariant>, expected: Invariant) {
        assert!(
            !found.is_empty() && found.iter().all(|i| *i == expected),
            "{found:?}"
        );
    }

    #[test]
    fn workload_reaching_other_buckets_breaks_tenant_isolation() {
        let (profile, mut resources) = plan_of("aws-byoc");
        edit(
            &mut resources,
            "aws.iam_role.workload_worker_development",
            "/Policies/acme-prod-w-development-data/Statement/2/Resource",
            json!(["arn:aws:s3:::*"]),
        );
        only(violations(&profile, &resources), Invariant::TenantIsolation);
        // … and so does a tenant's identity that reaches outside its namespace's prefix.
        let (profile, mut resources) = plan_of("aws-byoc");
        edit(
            &mut resources,
            "aws.iam_role.workload_worker_development",
            "/Policies/acme-prod-w-development-data/Statement/2/Resource",
            json!(["arn:aws:s3:::acme-prod-metadata/production/*"]),
        );
        only(violations(&profile, &resources), Invariant::TenantIsolation);
    }

    #[test]
    fn an_identity_trusted_by_two_namespaces_breaks_tenant_isolation() {
        let (profile, mut resources) = plan_of("aws-byoc");
        edit(&mut resources, "aws.iam_role.workload_worker_development", "/AssumeRolePolicyDocument/Statement/0/Condition/StringEquals/aws:RequestTag~1kubernetes-namespace", json!(["development", "production"]));
        assert!(violations(&profile, &resources).contains(&Invariant::TenantIsolation));
        // A trust that does not name this data plane's cluster is refused too.
        let (profile, mut resources) = plan_of("aws-self-managed");
        edit(&mut resources, "aws.iam_role.workload_backend", "/AssumeRolePolicyDocument/Statement/0/Condition/StringEquals/aws:RequestTag~1eks-cluster-arn", json!("arn:aws:eks:us-east-2:482916350047:cluster/other"));
        only(violations(&profile, &resources), Invariant::LeastPrivilege);
    }

    #[test]
    fn star_on_star_breaks_least_privilege() {
        let (profile, mut resources) = plan_of("aws-byoc");
        edit(
            &mut resources,
            "aws.iam_role.union_admin",
            "/Policies/acme-prod-union-ai-admin/Statement/1",
            json!({ "Effect": "Allow", "Action": "*", "Resource": "*" }),
        );
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
            // Retagging what is not already Union.ai's, or changing its ownership.
            (
                "RetagOwnNetworkPiecesAsOurs",
                "/Condition/StringEquals/aws:ResourceTag~1unionctl.union.ai~1owner",
                json!("customer"),
            ),
            (
                "RetagOwnNetworkPiecesAsOurs",
                "/Condition",
                json!({ "StringEquals": { "aws:ResourceTag/unionctl.union.ai/data-plane": "acme-prod", "aws:ResourceTag/unionctl.union.ai/owner": "union" } }),
            ),
            // Changes on anything with the data-plane tag alone (customer resources carry it).
            (
                "ChangeOnlyWhatUnionAiOwns",
                "/Condition",
                json!({ "StringEquals": {} }),
            ),
            (
                "ChangeOnlyWhatUnionAiOwns",
                "/Condition",
                json!({ "StringEquals": { "aws:ResourceTag/unionctl.union.ai/data-plane": "acme-prod" } }),
            ),
            // Trust authoring: a role of Union.ai's making with any trust.
            (
                "CreateOwnCluster",
                "/Action",
                json!(["eks:CreateCluster", "iam:CreateRole"]),
            ),
            (
                "CreateOwnCluster",
                "/Action",
                json!(["eks:CreateCluster", "iam:UpdateAssumeRolePolicy"]),
            ),
            // Removing unionctl's tags.
            (
                "CreateOwnCluster",
                "/Action",
                json!(["eks:CreateCluster", "ec2:DeleteTags"]),
            ),
            // Every action of a service.
            ("RunOwnCluster", "/Action", json!("eks:*")),
            // Key grants to any principal.
            ("GrantDataPlaneKeyToAwsServices", "/Condition", json!({})),
        ];
        for (sid, pointer, value) in cases {
            let (profile, mut resources) = plan_of("aws-byoc");
            let at = format!("{}{pointer}", admin_statement(&resources, sid));
            edit(
                &mut resources,
                "aws.iam_role.union_admin",
                &at,
                value.clone(),
            );
            let found = violations(&profile, &resources);
            assert!(
                found.contains(&Invariant::LeastPrivilege),
                "{sid}{pointer} = {value} was not refused: {found:?}"
            );
        }
    }

    #[test]
    fn nodes_run_with_the_restricted_security_group() {
        let (profile, mut resources) = plan_of("aws-self-managed");
        edit(
            &mut resources,
            "aws.launch_template.workers",
            "/LaunchTemplateData/SecurityGroupIds",
            json!([]),
        );
        only(violations(&profile, &resources), Invariant::OutboundOnly);
    }

    #[test]
    fn endpoint_service_open_to_anyone_is_refused() {
        let (profile, mut resources) = plan_of("aws-byoc");
        edit(
            &mut resources,
            "aws.vpc_endpoint_service.api",
            "/AllowedPrincipals",
            json!(["*"]),
        );
        edit(
            &mut resources,
            "aws.vpc_endpoint_service.api",
            "/AcceptanceRequired",
            json!(false),
        );
        assert_eq!(
            violations(&profile, &resources),
            vec![Invariant::OutboundOnly, Invariant::OutboundOnly]
        );
    }

    #[test]
    fn union_stage_reads_only_the_customer_resources_it_needs() {
        let (_, resources) = plan_of("aws-byoc");
        let inputs = crate::plan::schedule::stage_inputs(&resources, Party::Union);
        let checked: Vec<&str> = resources
            .iter()
            .filter(|r| r.stage == Party::Customer && inputs.contains(r.address.as_str()))
            .map(|r| r.address.as_str())
            .collect();
        assert!(
            checked.contains(&"aws.iam_role.union_admin") && checked.contains(&"aws.kms_key.main"),
            "{checked:?}"
        );
        assert!(
            !checked.contains(&"aws.cloudtrail.main"),
            "the trail is not an input of any union resource"
        );
        let customer_inputs = crate::plan::schedule::stage_inputs(&resources, Party::Customer);
        assert!(resources
            .iter()
            .filter(|r| customer_inputs.contains(r.address.as_str()))
            .all(|r| r.stage == Party::Customer));
    }

    /// Changes one resource of a plan of `name`: `None` sets the whole settings pointer.
    fn refused(name: &str, address: &str, pointer: &str, value: Value) -> Vec<Invariant> {
        let (profile, mut resources) = plan_of(name);
        edit(&mut resources, address, pointer, value);
        violations(&profile, &resources)
    }

    /// The trust boundary on GCP: each hole a review found is refused when put back.
    #[test]
    fn the_gcp_admin_identity_cannot_reach_beyond_its_data_plane() {
        let cluster_role = "gcp.project_iam_custom_role.unionai_cluster";
        let mut with_iam = serde_json::to_value(gcp::plan::CLUSTER_PERMISSIONS).unwrap();
        with_iam
            .as_array_mut()
            .unwrap()
            .push(json!("iam.serviceAccounts.setIamPolicy"));
        only(
            refused(
                "gcp-byoc",
                cluster_role,
                "/role/includedPermissions",
                with_iam,
            ),
            Invariant::LeastPrivilege,
        );
        let mut acts_as = serde_json::to_value(gcp::plan::CLUSTER_PERMISSIONS).unwrap();
        acts_as
            .as_array_mut()
            .unwrap()
            .push(json!("iam.serviceAccounts.actAs"));
        only(
            refused(
                "gcp-byoc",
                cluster_role,
                "/role/includedPermissions",
                acts_as,
            ),
            Invariant::LeastPrivilege,
        );
        // A project-wide grant without a condition naming this data plane.
        only(
            refused(
                "gcp-byoc",
                "gcp.project_iam_member.unionai_cluster",
                "/condition",
                json!(null),
            ),
            Invariant::LeastPrivilege,
        );
        // A pool open to the whole account, or the mapping that never matches.
        let provider = "gcp.iam_workload_identity_pool_provider.unionai_aws";
        only(
            refused(
                "gcp-byoc",
                provider,
                "/attributeCondition",
                json!("attribute.aws_role.startsWith('arn:aws:sts::479331373192:')"),
            ),
            Invariant::AdminTrust,
        );
        only(
            refused(
                "gcp-byoc",
                provider,
                "/attributeMapping/attribute.aws_role",
                json!("assertion.arn.extract('{role}/')"),
            ),
            Invariant::AdminTrust,
        );
        // One identity for two namespaces; a tenant's bucket access without its prefix.
        only(
            refused(
                "gcp-self-managed",
                "gcp.service_account_iam_binding.workload_worker_development",
                "/members",
                json!([
                    "serviceAccount:acme-ml-prod.svc.id.goog[development/default]",
                    "serviceAccount:acme-ml-prod.svc.id.goog[production/default]"
                ]),
            ),
            Invariant::TenantIsolation,
        );
        only(
            refused(
                "gcp-byoc",
                "gcp.storage_bucket_iam_member.worker_staging_acme_prod_metadata",
                "/condition",
                json!(null),
            ),
            Invariant::TenantIsolation,
        );
        // A firewall rule for the whole network.
        only(
            refused(
                "gcp-self-managed",
                "gcp.compute_firewall.egress_allow",
                "/targetServiceAccounts",
                json!([]),
            ),
            Invariant::OutboundOnly,
        );
    }

    /// The trust boundary on Azure.
    #[test]
    fn the_azure_admin_identity_cannot_reach_beyond_its_data_plane() {
        let role = "azure.role_definition.unionai_administrator";
        for extra in [
            "Microsoft.Authorization/roleAssignments/write",
            "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
            "Microsoft.Insights/diagnosticSettings/write",
            "Microsoft.ManagedIdentity/*",
        ] {
            let mut actions = serde_json::to_value(azure::plan::ADMIN_ACTIONS).unwrap();
            actions.as_array_mut().unwrap().push(json!(extra));
            only(
                refused(
                    "azure-byoc",
                    role,
                    "/properties/permissions/0/actions",
                    actions,
                ),
                Invariant::LeastPrivilege,
            );
        }
        only(
            refused(
                "azure-byoc",
                "azure.role_assignment.unionai_admin",
                "/scope",
                json!("/subscriptions/0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"),
            ),
            Invariant::LeastPrivilege,
        );
        // Union.ai's credential for a token Union.ai does not present.
        only(
            refused(
                "azure-byoc",
                "azure.federated_identity_credential.unionai",
                "/audiences",
                json!(["api://AzureADTokenExchange"]),
            ),
            Invariant::AdminTrust,
        );
        // A tenant's identity usable from a second namespace, or reaching every blob.
        only(
            refused(
                "azure-self-managed",
                "azure.federated_identity_credential.worker_development_default",
                "/identity",
                json!("${azure.user_assigned_identity.workload_worker_production.name}"),
            ),
            Invariant::TenantIsolation,
        );
        only(
            refused(
                "azure-byoc",
                "azure.role_assignment.worker_staging_metadata",
                "/properties/condition",
                json!(null),
            ),
            Invariant::TenantIsolation,
        );
        // The audit of Union.ai's actions in Union.ai's hands.
        let (profile, mut resources) = plan_of("azure-byoc");
        resources
            .iter_mut()
            .find(|r| r.address == "azure.monitor_diagnostic_setting.aks_audit")
            .unwrap()
            .owner = Party::Union;
        only(violations(&profile, &resources), Invariant::AuditLogging);
    }
}
