//! Azure's security invariant checks, on settings as the plan writes them and as the
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
        "kubernetes_cluster" => check_kubernetes_cluster(c, r),
        "storage_account" => check_storage_account(c, r),
        "storage_container" if str_of(r.setting("/properties/publicAccess")) != "None" => {
            c.fail(
                Invariant::NoPublicBuckets,
                r,
                "/properties/publicAccess",
                "spec.storage.blockPublicAccess",
                "the container allows anonymous reads",
            );
        }
        "network_security_group" => check_network_security_group(c, r),
        "private_link_service" => check_private_link_service(c, r),
        "federated_identity_credential" => check_federated_identity_credential(c, r),
        "role_definition" => check_role_definition(c, r),
        "role_assignment"
            if r.component == Component::AdminIdentity
                && subscription_wide(str_of(r.setting("/scope"))) =>
        {
            c.fail(Invariant::LeastPrivilege, r, "/scope", "spec.model", "Union.ai's role is assigned on the whole subscription: the resource group (or one resource) is the widest scope");
        }
        "role_assignment" if r.component == Component::WorkloadIdentity => {
            // A tenant's identity (any but the platform's) reaches blobs under its own path only.
            // (Told by its address: in live settings the principal is a GUID.)
            let platform = r.address.starts_with("azure.role_assignment.backend_");
            let condition = str_of(r.setting("/properties/condition"));
            let scoped = condition.contains(":path] StringStartsWith")
                && condition.contains(":prefix] StringStartsWith");
            if !(platform || scoped) {
                c.fail(Invariant::TenantIsolation, r, "/properties/condition", "spec.tenancy.namespaces", "a tenant's identity must reach its namespace's path only (an ABAC condition on blob path and list prefix)");
            }
        }
        "monitor_diagnostic_setting" if r.owner != crate::plan::Party::Customer => {
            c.fail(Invariant::AuditLogging, r, "", "spec.model", "an audit export Union.ai owns could be switched off by Union.ai: the customer owns it");
        }
        "monitor_diagnostic_setting" if r.name.ends_with("aks-audit") => {
            let on = r
                .setting("/properties/logs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|l| str_of(l.get("category")) == "kube-audit" && truthy(l.get("enabled")));
            if !on {
                c.fail(
                    Invariant::AuditLogging,
                    r,
                    "/properties/logs",
                    "spec.audit.clusterLogs",
                    "kube-audit logs are not exported",
                );
            }
        }
        "network_watcher_flow_log" if !truthy(r.setting("/properties/enabled")) => {
            c.fail(
                Invariant::AuditLogging,
                r,
                "/properties/enabled",
                "spec.audit.flowLogs",
                "VNet flow logs are off",
            );
        }
        _ => {}
    }
}

/// Check_resource of `kubernetes_cluster`.
fn check_kubernetes_cluster(c: &mut Checker<'_>, r: &Resource) {
    if !truthy(r.setting("/properties/apiServerAccessProfile/enablePrivateCluster")) {
        public_endpoint(
            c,
            r,
            "/properties/apiServerAccessProfile/enablePrivateCluster",
        );
    }
    if !truthy(r.setting("/properties/securityProfile/azureKeyVaultKms/enabled")) {
        c.fail(
            Invariant::EncryptionAtRest,
            r,
            "/properties/securityProfile/azureKeyVaultKms",
            "spec.storage.encryption.key",
            "Key Vault KMS encryption of etcd is off",
        );
    }
    if r.setting("/properties/diskEncryptionSetID").is_none() {
        c.fail(
            Invariant::EncryptionAtRest,
            r,
            "/properties/diskEncryptionSetID",
            "spec.storage.encryption.key",
            "node disks are not encrypted with the customer-managed key",
        );
    }
    if !truthy(r.setting("/properties/oidcIssuerProfile/enabled"))
        || !truthy(r.setting("/properties/securityProfile/workloadIdentity/enabled"))
    {
        c.fail(
            Invariant::TenantIsolation,
            r,
            "/properties/securityProfile/workloadIdentity",
            "spec.tenancy",
            "workload identity is off",
        );
    }
}

/// Check_resource of `storage_account`.
fn check_storage_account(c: &mut Checker<'_>, r: &Resource) {
    if truthy(r.setting("/properties/allowBlobPublicAccess")) {
        c.fail(
            Invariant::NoPublicBuckets,
            r,
            "/properties/allowBlobPublicAccess",
            "spec.storage.blockPublicAccess",
            "blob public access is allowed",
        );
    }
    if !["TLS1_2", "TLS1_3"].contains(&str_of(r.setting("/properties/minimumTlsVersion"))) {
        c.fail(
            Invariant::EncryptionInTransit,
            r,
            "/properties/minimumTlsVersion",
            "spec.storage.minimumTlsVersion",
            "the storage account accepts TLS below 1.2",
        );
    }
    if !truthy(r.setting("/properties/supportsHttpsTrafficOnly")) {
        c.fail(
            Invariant::EncryptionInTransit,
            r,
            "/properties/supportsHttpsTrafficOnly",
            "spec.storage.minimumTlsVersion",
            "the storage account accepts plain HTTP",
        );
    }
    if str_of(r.setting("/properties/encryption/keySource")) != "Microsoft.Keyvault" {
        c.fail(
            Invariant::EncryptionAtRest,
            r,
            "/properties/encryption/keySource",
            "spec.storage.encryption.key",
            "the storage account has no customer-managed key",
        );
    }
}

/// Check_resource of `network_security_group`.
fn check_network_security_group(c: &mut Checker<'_>, r: &Resource) {
    for (i, rule) in r
        .setting("/properties/securityRules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let p = rule.get("properties").cloned().unwrap_or(Value::Null);
        if str_of(p.get("access")) != "Allow" {
            continue;
        }
        let at = format!("/properties/securityRules/{i}");
        match str_of(p.get("direction")) {
            "Inbound" => {
                let src = str_of(p.get("sourceAddressPrefix"));
                let private =
                    src == "VirtualNetwork" || src == "AzureLoadBalancer" || cidr_is_private(src);
                if !private {
                    c.fail(
                        Invariant::OutboundOnly,
                        r,
                        &at,
                        "spec.network.ingress",
                        format!("inbound from {src}, which is not private"),
                    );
                }
            }
            "Outbound" => {
                let dst = str_of(p.get("destinationAddressPrefix"));
                let port = str_of(p.get("destinationPortRange"));
                let proto = str_of(p.get("protocol"));
                let to_internet = dst == "Internet"
                    || dst == "*"
                    || (!dst.is_empty() && !cidr_is_private(dst) && dst != "VirtualNetwork");
                let ok = matches!(
                    (proto, port),
                    ("Tcp", "443") | ("Tcp", "7844") | ("Udp", "7844")
                );
                if to_internet && !ok {
                    c.fail(Invariant::OutboundOnly, r, &at, "spec.network", format!("egress to the internet on {proto} {port}; only 443 and 7844 are allowed"));
                }
            }
            _ => {}
        }
    }
}

/// Check_resource of `private_link_service`.
fn check_private_link_service(c: &mut Checker<'_>, r: &Resource) {
    let visible = strings(r.setting("/properties/visibility/subscriptions"));
    let approved = strings(r.setting("/properties/autoApproval/subscriptions"));
    let union_only = |list: &[&str]| {
        list.iter()
            .all(|s| c.cx.union_identifiers_byoc.iter().any(|u| u == s) && !s.is_empty())
    };
    if visible.is_empty()
        || visible.contains(&"*")
        || !union_only(&visible)
        || !union_only(&approved)
    {
        c.fail(Invariant::OutboundOnly, r, "/properties/visibility", "spec.union.azureSubscriptionId", "the Private Link service must be visible to and approved for Union.ai's subscription only");
    }
}

/// Check_resource of `federated_identity_credential`.
fn check_federated_identity_credential(c: &mut Checker<'_>, r: &Resource) {
    let subject = r
        .setting("/properties/subject")
        .or_else(|| r.setting("/subject"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let field = if r.component == Component::AdminIdentity {
        "spec.union.azureFederatedSubject"
    } else {
        "spec.tenancy.namespaces"
    };
    if subject.is_empty() || subject.contains('*') {
        let inv = if r.component == Component::AdminIdentity {
            Invariant::AdminTrust
        } else {
            Invariant::LeastPrivilege
        };
        c.fail(
            inv,
            r,
            "/properties/subject",
            field,
            format!("a federated credential must name an exact subject, not `{subject}`"),
        );
    }
    if r.component == Component::AdminIdentity {
        // The token Union.ai presents: issued by Cognito, for its identity pool.
        let audiences = strings(r.setting("/audiences"));
        if str_of(r.setting("/issuer")) != super::plan::UNION_ISSUER
            || audiences.len() != 1
            || audiences[0] == super::plan::TOKEN_EXCHANGE_AUDIENCE
            || audiences[0].is_empty()
        {
            c.fail(Invariant::AdminTrust, r, "/audiences", "spec.union.azureFederatedAudience", "Union.ai's credential must name Cognito's issuer and Union.ai's identity pool as its one audience");
        }
    }
}

/// Check_resource of `role_definition`.
fn check_role_definition(c: &mut Checker<'_>, r: &Resource) {
    let actions: Vec<&str> = r
        .setting("/properties/permissions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|p| strings(p.get("actions")))
        .collect();
    if actions.contains(&"*") {
        c.fail(
            Invariant::LeastPrivilege,
            r,
            "/properties/permissions",
            "spec",
            "a custom role allows every action",
        );
    }
    if r.component == Component::AdminIdentity {
        let writes_identity = |a: &&&str| {
            super::plan::IDENTITY_WRITING_ACTIONS
                .iter()
                .any(|w| w == *a)
                || a.ends_with("/*")
                || a.starts_with("Microsoft.Authorization/")
        };
        if let Some(a) = actions.iter().find(writes_identity) {
            c.fail(Invariant::LeastPrivilege, r, "/properties/permissions", "spec.model", format!("Union.ai's role may `{a}`: it could grant access, author a trust or silence its own audit"));
        }
    }
}

/// An existing key's vault must be in this data plane's subscription; the data plane's
/// existing subnet must carry a network security group (or the data plane is refused: an
/// existing network is read, never left open); an existing diagnostic setting must export
/// the Activity Log.
pub fn check_existing(c: &mut Checker<'_>, r: &Resource) {
    match r.kind.as_str() {
        "azure.key_vault_key" => match r.setting("/subscriptionId").and_then(Value::as_str) {
            None => unverified(
                c,
                Invariant::EncryptionAtRest,
                r,
                "spec.storage.encryption.key",
                "that the key's vault is in this data plane's subscription",
            ),
            Some(s) if s != c.cx.home => c.fail(
                Invariant::EncryptionAtRest,
                r,
                "/subscriptionId",
                "spec.storage.encryption.key",
                format!("the key's vault is in subscription {s}, not {}", c.cx.home),
            ),
            Some(_) => {}
        },
        "azure.subnet" => match r.setting("/properties") {
            None => unverified(
                c,
                Invariant::OutboundOnly,
                r,
                "spec.network.existing",
                "that the subnet has a network security group",
            ),
            Some(p) if p.get("networkSecurityGroup").is_none_or(Value::is_null) => c.fail(
                Invariant::OutboundOnly,
                r,
                "/properties/networkSecurityGroup",
                "spec.network.existing",
                "the existing subnet has no network security group: its nodes would be open",
            ),
            Some(_) => {}
        },
        "azure.monitor_diagnostic_setting" if r.setting("/properties/logs").is_none() => {
            unverified(
                c,
                Invariant::AuditLogging,
                r,
                "spec.audit.trail",
                "that the diagnostic setting exports the Activity Log",
            );
        }
        _ => {}
    }
}

/// What must exist somewhere in an Azure plan: the Activity Log export, and in BYOC the
/// admin identity's federated credential.
pub fn check_plan(c: &mut Checker<'_>, resources: &[Resource]) {
    let Some(first) = resources.first() else {
        return;
    };
    // One identity per namespace: the federated credentials of one identity name subjects
    // of one namespace only.
    let mut by_identity: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> =
        Default::default();
    for r in resources.iter().filter(|r| {
        r.kind == "azure.federated_identity_credential"
            && r.component == Component::WorkloadIdentity
    }) {
        if let Some(ns) = str_of(r.setting("/properties/subject"))
            .strip_prefix("system:serviceaccount:")
            .and_then(|s| s.split(':').next())
        {
            by_identity
                .entry(str_of(r.setting("/identity")))
                .or_default()
                .insert(ns);
        }
    }
    for (identity, namespaces) in by_identity.into_iter().filter(|(_, n)| n.len() > 1) {
        if let Some(r) = resources.iter().find(|r| {
            r.kind == "azure.federated_identity_credential"
                && str_of(r.setting("/identity")) == identity
        }) {
            c.fail(
                Invariant::TenantIsolation,
                r,
                "/properties/subject",
                "spec.tenancy.namespaces",
                format!(
                    "one identity is usable from {} namespaces ({}): each namespace needs its own",
                    namespaces.len(),
                    namespaces.into_iter().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
    let exported = resources.iter().any(|r| {
        r.kind == "azure.monitor_diagnostic_setting" && r.name.ends_with("activity-log")
            || r.address == "data.azure.monitor_diagnostic_setting.existing"
    });
    if !exported {
        c.fail(
            Invariant::AuditLogging,
            first,
            "",
            "spec.audit.trail",
            "the subscription's Activity Log is not exported",
        );
    }
    if c.cx.model == Model::Byoc
        && !resources.iter().any(|r| {
            r.component == Component::AdminIdentity
                && r.kind == "azure.federated_identity_credential"
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

/// A scope above a resource group: the root, a management group, or a subscription.
fn subscription_wide(scope: &str) -> bool {
    let parts: Vec<&str> = scope
        .trim_matches('/')
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    !scope.contains("${") && (parts.len() <= 2 || scope.contains("/managementGroups/"))
}
