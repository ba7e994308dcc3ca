//! Azure's security invariant checks, on settings as the plan writes them and as the
//! provider reads them back.

use serde_json::Value;

use crate::plan::invariants::{cidr_is_private, public_endpoint, str_of, strings, truthy, Checker, Invariant};
use crate::plan::ownership::Component;
use crate::plan::resource::Resource;
use crate::profile::Model;

/// Checks of one resource's settings.
pub fn check_resource(c: &mut Checker<'_>, r: &Resource) {
    match r.type_name() {
        "kubernetes_cluster" => {
            if !truthy(r.setting("/properties/apiServerAccessProfile/enablePrivateCluster")) {
                public_endpoint(c, r, "/properties/apiServerAccessProfile/enablePrivateCluster");
            }
            if !truthy(r.setting("/properties/securityProfile/azureKeyVaultKms/enabled")) {
                c.fail(Invariant::EncryptionAtRest, r, "/properties/securityProfile/azureKeyVaultKms", "spec.storage.encryption.key", "Key Vault KMS encryption of etcd is off");
            }
            if r.setting("/properties/diskEncryptionSetID").is_none() {
                c.fail(Invariant::EncryptionAtRest, r, "/properties/diskEncryptionSetID", "spec.storage.encryption.key", "node disks are not encrypted with the customer-managed key");
            }
            if !truthy(r.setting("/properties/oidcIssuerProfile/enabled")) || !truthy(r.setting("/properties/securityProfile/workloadIdentity/enabled")) {
                c.fail(Invariant::TenantIsolation, r, "/properties/securityProfile/workloadIdentity", "spec.tenancy", "workload identity is off");
            }
        }
        "storage_account" => {
            if truthy(r.setting("/properties/allowBlobPublicAccess")) {
                c.fail(Invariant::NoPublicBuckets, r, "/properties/allowBlobPublicAccess", "spec.storage.blockPublicAccess", "blob public access is allowed");
            }
            if !["TLS1_2", "TLS1_3"].contains(&str_of(r.setting("/properties/minimumTlsVersion"))) {
                c.fail(Invariant::EncryptionInTransit, r, "/properties/minimumTlsVersion", "spec.storage.minimumTlsVersion", "the storage account accepts TLS below 1.2");
            }
            if !truthy(r.setting("/properties/supportsHttpsTrafficOnly")) {
                c.fail(Invariant::EncryptionInTransit, r, "/properties/supportsHttpsTrafficOnly", "spec.storage.minimumTlsVersion", "the storage account accepts plain HTTP");
            }
            if str_of(r.setting("/properties/encryption/keySource")) != "Microsoft.Keyvault" {
                c.fail(Invariant::EncryptionAtRest, r, "/properties/encryption/keySource", "spec.storage.encryption.key", "the storage account has no customer-managed key");
            }
        }
        "storage_container"
            if str_of(r.setting("/properties/publicAccess")) != "None" => {
                c.fail(Invariant::NoPublicBuckets, r, "/properties/publicAccess", "spec.storage.blockPublicAccess", "the container allows anonymous reads");
            }
        "network_security_group" => {
            for (i, rule) in r.setting("/properties/securityRules").and_then(Value::as_array).into_iter().flatten().enumerate() {
                let p = rule.get("properties").cloned().unwrap_or(Value::Null);
                if str_of(p.get("access")) != "Allow" {
                    continue;
                }
                let at = format!("/properties/securityRules/{i}");
                match str_of(p.get("direction")) {
                    "Inbound" => {
                        let src = str_of(p.get("sourceAddressPrefix"));
                        let private = src == "VirtualNetwork" || src == "AzureLoadBalancer" || cidr_is_private(src);
                        if !private {
                            c.fail(Invariant::OutboundOnly, r, &at, "spec.network.ingress", format!("inbound from {src}, which is not private"));
                        }
                    }
                    "Outbound" => {
                        let dst = str_of(p.get("destinationAddressPrefix"));
                        let port = str_of(p.get("destinationPortRange"));
                        let proto = str_of(p.get("protocol"));
                        let to_internet = dst == "Internet" || dst == "*" || (!dst.is_empty() && !cidr_is_private(dst) && dst != "VirtualNetwork");
                        let ok = matches!((proto, port), ("Tcp", "443") | ("Tcp", "7844") | ("Udp", "7844"));
                        if to_internet && !ok {
                            c.fail(Invariant::OutboundOnly, r, &at, "spec.network", format!("egress to the internet on {proto} {port}; only 443 and 7844 are allowed"));
                        }
                    }
                    _ => {}
                }
            }
        }
        "private_link_service" => {
            let visible = strings(r.setting("/properties/visibility/subscriptions"));
            let approved = strings(r.setting("/properties/autoApproval/subscriptions"));
            let union_only = |list: &[&str]| list.iter().all(|s| c.cx.union_identifiers_byoc.iter().any(|u| u == s) && !s.is_empty());
            if visible.is_empty() || visible.contains(&"*") || !union_only(&visible) || !union_only(&approved) {
                c.fail(Invariant::OutboundOnly, r, "/properties/visibility", "spec.union.azureSubscriptionId", "the Private Link service must be visible to and approved for Union.ai's subscription only");
            }
        }
        "federated_identity_credential" => {
            let subject = r.setting("/properties/subject").or_else(|| r.setting("/subject")).and_then(Value::as_str).unwrap_or("");
            let field = if r.component == Component::AdminIdentity { "spec.union.azureFederatedSubject" } else { "spec.tenancy.namespaces" };
            if subject.is_empty() || subject.contains('*') {
                let inv = if r.component == Component::AdminIdentity { Invariant::AdminTrust } else { Invariant::LeastPrivilege };
                c.fail(inv, r, "/properties/subject", field, format!("a federated credential must name an exact subject, not `{subject}`"));
            }
        }
        "role_definition"
            if r.setting("/properties/permissions").and_then(Value::as_array).into_iter().flatten().any(|p| strings(p.get("actions")).contains(&"*")) => {
                c.fail(Invariant::LeastPrivilege, r, "/properties/permissions", "spec", "a custom role allows every action");
            }
        "monitor_diagnostic_setting" if r.name.ends_with("aks-audit") => {
            let on = r.setting("/properties/logs").and_then(Value::as_array).into_iter().flatten().any(|l| str_of(l.get("category")) == "kube-audit" && truthy(l.get("enabled")));
            if !on {
                c.fail(Invariant::AuditLogging, r, "/properties/logs", "spec.audit.clusterLogs", "kube-audit logs are not exported");
            }
        }
        "network_watcher_flow_log"
            if !truthy(r.setting("/properties/enabled")) => {
                c.fail(Invariant::AuditLogging, r, "/properties/enabled", "spec.audit.flowLogs", "VNet flow logs are off");
            }
        _ => {}
    }
}

/// What must exist somewhere in an Azure plan: the Activity Log export, and in BYOC the
/// admin identity's federated credential.
pub fn check_plan(c: &mut Checker<'_>, resources: &[Resource]) {
    let Some(first) = resources.first() else { return };
    let exported = resources
        .iter()
        .any(|r| r.kind == "azure.monitor_diagnostic_setting" && r.name.ends_with("activity-log") || r.address == "data.azure.monitor_diagnostic_setting.existing");
    if !exported {
        c.fail(Invariant::AuditLogging, first, "", "spec.audit.trail", "the subscription's Activity Log is not exported");
    }
    if c.cx.model == Model::Byoc && !resources.iter().any(|r| r.component == Component::AdminIdentity && r.kind == "azure.federated_identity_credential") {
        c.fail(Invariant::AdminTrust, first, "", "spec.model", "BYOC needs the admin identity, and the plan has none");
    }
}
