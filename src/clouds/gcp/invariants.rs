//! GCP's security invariant checks, on settings as the plan writes them and as the
//! provider reads them back.

use serde_json::Value;

use crate::plan::invariants::{
    cidr_is_private, public_endpoint, str_of, strings, truthy, unverified, Checker, Invariant,
};
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
            // Proxy-only and PSC NAT subnetworks carry no VMs and take no flow logs.
            if !["PRIVATE_SERVICE_CONNECT", "REGIONAL_MANAGED_PROXY"].contains(&str_of(r.setting("/purpose"))) && !truthy(r.setting("/logConfig/enable")) => {
                c.fail(Invariant::AuditLogging, r, "/logConfig/enable", "spec.audit.flowLogs", "VPC flow logs are off");
            }
        "compute_firewall" => {
            if strings(r.setting("/targetServiceAccounts")).is_empty() && strings(r.setting("/targetTags")).is_empty() {
                c.fail(Invariant::OutboundOnly, r, "/targetServiceAccounts", "spec.network", "the rule applies to the whole network: it must target the data plane's nodes");
            }
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
        "iam_workload_identity_pool_provider" => {
            let condition = str_of(r.setting("/attributeCondition")).trim();
            if condition.is_empty() {
                c.fail(Invariant::AdminTrust, r, "/attributeCondition", "spec.union", "the workload-identity pool is open: it needs an attribute condition");
            } else if !exact_role_condition(condition) {
                c.fail(Invariant::AdminTrust, r, "/attributeCondition", "spec.union.roleName", format!("the condition must compare attribute.aws_role with one assumed-role ARN, not `{condition}`"));
            }
            if r.setting("/aws").is_some() && str_of(r.setting("/attributeMapping/attribute.aws_role")) != super::plan::AWS_ROLE_MAPPING {
                c.fail(Invariant::AdminTrust, r, "/attributeMapping", "spec.union", "attribute.aws_role must be mapped as GCP documents for AWS (the assumed role's ARN without the session)");
            }
        }
        "service_account_iam_binding" | "service_account_iam_member" => {
            let members: Vec<&str> = strings(r.setting("/members")).into_iter().chain(strings(r.setting("/member"))).collect();
            let mut namespaces = std::collections::BTreeSet::new();
            for m in &members {
                if m.contains('*') || m.contains("svc.id.goog[") && m.contains("[/") {
                    c.fail(Invariant::LeastPrivilege, r, "/members", "spec.tenancy.namespaces", format!("workload trust must name exact namespaces and service accounts, not `{m}`"));
                }
                if let Some(ns) = m.split_once(".svc.id.goog[").and_then(|(_, rest)| rest.split('/').next()) {
                    namespaces.insert(ns.to_string());
                }
            }
            if namespaces.len() > 1 {
                c.fail(Invariant::TenantIsolation, r, "/members", "spec.tenancy.namespaces", format!("one identity is usable from {} namespaces ({}): each namespace needs its own", namespaces.len(), namespaces.into_iter().collect::<Vec<_>>().join(", ")));
            }
        }
        "storage_bucket_iam_member" if r.component == Component::WorkloadIdentity => {
            let role = str_of(r.setting("/role"));
            if ["roles/storage.admin", "roles/storage.objectAdmin", "roles/owner", "roles/editor"].contains(&role) {
                c.fail(Invariant::LeastPrivilege, r, "/role", "spec", format!("{role} can change access, not only objects"));
            }
            let platform = str_of(r.setting("/member")).starts_with(&format!("serviceAccount:{}-backend@", c.cx.prefix));
            let expression = str_of(r.setting("/condition/expression"));
            let scoped = expression.contains("/objects/") && expression.contains("objectListPrefix");
            if !(platform || scoped) {
                c.fail(Invariant::TenantIsolation, r, "/condition", "spec.tenancy.namespaces", "a tenant's identity must reach its namespace's prefix only (a condition on the object name and the list prefix)");
            }
        }
        "project_iam_custom_role" => {
            let permissions = strings(r.setting("/role/includedPermissions"));
            if permissions.iter().any(|p| p.contains('*')) {
                c.fail(Invariant::LeastPrivilege, r, "/role/includedPermissions", "spec", "custom roles list permissions explicitly");
            }
            if r.component == Component::AdminIdentity {
                if let Some(p) = permissions.iter().find(|p| super::plan::IAM_SETTING_PERMISSIONS.contains(p) || p.ends_with(".setIamPolicy") || **p == "iam.serviceAccounts.actAs") {
                    c.fail(Invariant::LeastPrivilege, r, "/role/includedPermissions", "spec.model", format!("Union.ai's role holds `{p}`: it could change who may do what, or act as any service account"));
                }
            }
        }
        "project_iam_member" => {
            let role = str_of(r.setting("/role"));
            if role == "roles/owner" || role == "roles/editor" {
                c.fail(Invariant::LeastPrivilege, r, "/role", "spec", format!("{role} is a basic role: far more than needed"));
            }
            // Union.ai's project-wide grants reach only this data plane's resources.
            if r.component == Component::AdminIdentity && !str_of(r.setting("/condition/expression")).contains(c.cx.prefix) {
                c.fail(Invariant::LeastPrivilege, r, "/condition", "spec.model", "Union.ai's project-level grant needs a condition that names this data plane's resources");
            }
        }
        _ => {}
    }
}

/// An existing key must be in this data plane's project; an existing subnetwork must have
/// flow logs on; an existing log sink must export the audit logs.
pub fn check_existing(c: &mut Checker<'_>, r: &Resource) {
    match r.kind.as_str() {
        "gcp.kms_crypto_key" => {
            let project = str_of(r.setting("/name"))
                .strip_prefix("projects/")
                .and_then(|rest| rest.split('/').next())
                .unwrap_or("");
            if project != c.cx.home
                || c.cx
                    .union_identifiers_byoc
                    .iter()
                    .chain(&c.cx.union_identifiers)
                    .any(|u| u == project)
            {
                c.fail(
                    Invariant::EncryptionAtRest,
                    r,
                    "/name",
                    "spec.storage.encryption.key",
                    format!(
                        "the key is in project `{project}`, not this data plane's project `{}`",
                        c.cx.home
                    ),
                );
            }
            if r.setting("/purpose").is_none() {
                unverified(
                    c,
                    Invariant::EncryptionAtRest,
                    r,
                    "spec.storage.encryption.key",
                    "that the key exists and encrypts (ENCRYPT_DECRYPT)",
                );
            } else if str_of(r.setting("/purpose")) != "ENCRYPT_DECRYPT" {
                c.fail(
                    Invariant::EncryptionAtRest,
                    r,
                    "/purpose",
                    "spec.storage.encryption.key",
                    "the key is not a symmetric encryption key",
                );
            }
        }
        "gcp.compute_subnetwork" => match r.setting("/logConfig/enable") {
            None => unverified(
                c,
                Invariant::AuditLogging,
                r,
                "spec.network.existing",
                "that the subnetwork has flow logs on",
            ),
            Some(v) if v.as_bool() != Some(true) => c.fail(
                Invariant::AuditLogging,
                r,
                "/logConfig/enable",
                "spec.network.existing",
                "the existing subnetwork has flow logs off",
            ),
            Some(_) => {}
        },
        "gcp.logging_project_sink" => match r.setting("/filter") {
            None => unverified(
                c,
                Invariant::AuditLogging,
                r,
                "spec.audit.trail",
                "that the sink exists and exports Cloud Audit Logs",
            ),
            Some(f) if !str_of(Some(f)).contains("cloudaudit.googleapis.com") => c.fail(
                Invariant::AuditLogging,
                r,
                "/filter",
                "spec.audit.trail",
                "the existing sink does not export Cloud Audit Logs",
            ),
            Some(_) => {}
        },
        _ => {}
    }
}

/// What must exist somewhere in a GCP plan: Cloud Audit Logs, and in BYOC the admin trust.
pub fn check_plan(c: &mut Checker<'_>, resources: &[Resource]) {
    let Some(first) = resources.first() else {
        return;
    };
    if !resources
        .iter()
        .any(|r| r.kind == "gcp.project_iam_audit_config")
    {
        c.fail(
            Invariant::AuditLogging,
            first,
            "",
            "spec.audit.trail",
            "Cloud Audit Logs (data access) are not configured",
        );
    }
    if c.cx.model == Model::Byoc
        && !resources.iter().any(|r| {
            r.component == Component::AdminIdentity
                && r.kind == "gcp.iam_workload_identity_pool_provider"
        })
    {
        c.fail(
            Invariant::AdminTrust,
            first,
            "",
            "spec.model",
            "BYOC needs the admin identity, and the plan has none",
        );
    }
}

/// `attribute.aws_role == 'arn:aws:sts::ACCOUNT:assumed-role/ROLE'`, and nothing looser.
fn exact_role_condition(condition: &str) -> bool {
    let Some(arn) = condition
        .strip_prefix("attribute.aws_role == '")
        .and_then(|s| s.strip_suffix('\''))
    else {
        return false;
    };
    let Some(rest) = arn.strip_prefix("arn:aws:sts::") else {
        return false;
    };
    let Some((account, role)) = rest.split_once(":assumed-role/") else {
        return false;
    };
    account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !role.is_empty()
        && role
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}
