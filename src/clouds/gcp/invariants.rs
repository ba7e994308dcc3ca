//! GCP's security invariant checks, on settings as the plan writes them and as the
//! provider reads them back.

use serde_json::Value;

use crate::plan::invariants::{cidr_is_private, public_endpoint, str_of, strings, truthy, Checker, Invariant};
use crate::plan::ownership::Component;
use crate::plan::resource::Resource;
use crate::profile::Model;

/// Checks of one resource's settings.
pub fn check_resource(c: &mut Checker<'_>, r: &Resource) {
    match r.type_name() {
        "container_cluster" => {
            if !truthy(r.setting("/privateClusterConfig/enablePrivateNodes")) {
                c.fail(Invariant::OutboundOnly, r, "/privateClusterConfig/enablePrivateNodes", "spec.cluster.endpointAccess", "nodes must have private addresses only");
            }
            if !truthy(r.setting("/privateClusterConfig/enablePrivateEndpoint")) {
                public_endpoint(c, r, "/privateClusterConfig/enablePrivateEndpoint");
            }
            if str_of(r.setting("/databaseEncryption/state")) != "ENCRYPTED" || r.setting("/databaseEncryption/keyName").is_none() {
                c.fail(Invariant::EncryptionAtRest, r, "/databaseEncryption", "spec.storage.encryption.key", "application-layer secrets encryption with the customer-managed key is off");
            }
            if !strings(r.setting("/loggingConfig/componentConfig/enableComponents")).contains(&"APISERVER") {
                c.fail(Invariant::AuditLogging, r, "/loggingConfig/componentConfig/enableComponents", "spec.audit.clusterLogs", "API server logs are off");
            }
            if str_of(r.setting("/workloadIdentityConfig/workloadPool")).is_empty() {
                c.fail(Invariant::TenantIsolation, r, "/workloadIdentityConfig", "spec.tenancy", "Workload Identity is off: pods would share the node's identity");
            }
        }
        "container_node_pool"
            if r.setting("/config/bootDiskKmsKey").is_none() => {
                c.fail(Invariant::EncryptionAtRest, r, "/config/bootDiskKmsKey", "spec.storage.encryption.key", "node boot disks are not encrypted with the customer-managed key");
            }
        "storage_bucket" => {
            if r.setting("/encryption/defaultKmsKeyName").is_none() {
                c.fail(Invariant::EncryptionAtRest, r, "/encryption/defaultKmsKeyName", "spec.storage.encryption.key", "the bucket has no customer-managed key");
            }
            if str_of(r.setting("/iamConfiguration/publicAccessPrevention")) != "enforced" {
                c.fail(Invariant::NoPublicBuckets, r, "/iamConfiguration/publicAccessPrevention", "spec.storage.blockPublicAccess", "public access prevention is not enforced");
            }
            if !truthy(r.setting("/iamConfiguration/uniformBucketLevelAccess/enabled")) {
                c.fail(Invariant::NoPublicBuckets, r, "/iamConfiguration/uniformBucketLevelAccess", "spec.storage.blockPublicAccess", "uniform bucket-level access is off (object ACLs possible)");
            }
        }
        "compute_subnetwork"
            if str_of(r.setting("/purpose")) != "PRIVATE_SERVICE_CONNECT" && !truthy(r.setting("/logConfig/enable")) => {
                c.fail(Invariant::AuditLogging, r, "/logConfig/enable", "spec.audit.flowLogs", "VPC flow logs are off");
            }
        "compute_firewall" => {
            let allows = r.setting("/allowed").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
            match str_of(r.setting("/direction")) {
                "INGRESS" if allows => {
                    for range in strings(r.setting("/sourceRanges")) {
                        if !cidr_is_private(range) {
                            c.fail(Invariant::OutboundOnly, r, "/sourceRanges", "spec.network.ingress", format!("ingress from {range}, which is not a private range"));
                        }
                    }
                }
                "EGRESS" if allows => {
                    let public = strings(r.setting("/destinationRanges")).iter().any(|d| !cidr_is_private(d));
                    if public {
                        for rule in r.setting("/allowed").and_then(Value::as_array).into_iter().flatten() {
                            let proto = str_of(rule.get("IPProtocol"));
                            let ports = strings(rule.get("ports"));
                            let ok = match proto {
                                "tcp" => !ports.is_empty() && ports.iter().all(|p| *p == "443" || *p == "7844"),
                                "udp" => !ports.is_empty() && ports.iter().all(|p| *p == "7844"),
                                _ => false,
                            };
                            if !ok {
                                c.fail(Invariant::OutboundOnly, r, "/allowed", "spec.network", format!("egress to the internet on {proto} {ports:?}; only 443 and 7844 are allowed"));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        "compute_service_attachment" => {
            if str_of(r.setting("/connectionPreference")) != "ACCEPT_MANUAL" {
                c.fail(Invariant::OutboundOnly, r, "/connectionPreference", "spec.model", "connections must be accepted by hand (ACCEPT_MANUAL)");
            }
            let accepted: Vec<&str> = r.setting("/consumerAcceptLists").and_then(Value::as_array).into_iter().flatten().map(|e| str_of(e.get("projectIdOrNum"))).collect();
            if accepted.is_empty() || accepted.iter().any(|p| p.is_empty() || !c.cx.union_identifiers_byoc.iter().any(|u| u == p)) {
                c.fail(Invariant::OutboundOnly, r, "/consumerAcceptLists", "spec.union.gcpProjectId", "the attachment must accept Union.ai's project only");
            }
        }
        "iam_workload_identity_pool_provider"
            if str_of(r.setting("/attributeCondition")).trim().is_empty() => {
                c.fail(Invariant::AdminTrust, r, "/attributeCondition", "spec.union", "the workload-identity pool is open: it needs an attribute condition");
            }
        "service_account_iam_binding" | "service_account_iam_member" => {
            let members: Vec<&str> = strings(r.setting("/members")).into_iter().chain(strings(r.setting("/member"))).collect();
            for m in members {
                if m.contains('*') || m.contains("svc.id.goog[") && m.contains("[/") {
                    c.fail(Invariant::LeastPrivilege, r, "/members", "spec.tenancy.namespaces", format!("workload trust must name exact namespaces and service accounts, not `{m}`"));
                }
            }
        }
        "project_iam_custom_role"
            if strings(r.setting("/role/includedPermissions")).iter().any(|p| p.contains('*')) => {
                c.fail(Invariant::LeastPrivilege, r, "/role/includedPermissions", "spec", "custom roles list permissions explicitly");
            }
        "project_iam_member" => {
            let role = str_of(r.setting("/role"));
            if role == "roles/owner" || role == "roles/editor" {
                c.fail(Invariant::LeastPrivilege, r, "/role", "spec", format!("{role} is a basic role: far more than needed"));
            }
        }
        _ => {}
    }
}

/// What must exist somewhere in a GCP plan: Cloud Audit Logs, and in BYOC the admin trust.
pub fn check_plan(c: &mut Checker<'_>, resources: &[Resource]) {
    let Some(first) = resources.first() else { return };
    if !resources.iter().any(|r| r.kind == "gcp.project_iam_audit_config") {
        c.fail(Invariant::AuditLogging, first, "", "spec.audit.trail", "Cloud Audit Logs (data access) are not configured");
    }
    if c.cx.model == Model::Byoc && !resources.iter().any(|r| r.component == Component::AdminIdentity && r.kind == "gcp.iam_workload_identity_pool_provider") {
        c.fail(Invariant::AdminTrust, first, "", "spec.model", "BYOC needs the admin identity, and the plan has none");
    }
}
