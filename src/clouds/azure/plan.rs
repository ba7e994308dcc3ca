//! The Azure plan: ARM resource bodies, `properties` as the ARM REST API
//! spells them.

use ipnet::Ipv4Net;
use serde_json::{json, Value};

use crate::plan::builder::{r, Builder, GPU_TAINT};
use crate::plan::invariants::Invariant::*;
use crate::plan::ownership::Component::*;
use crate::plan::resource::reference;
use crate::profile::names;
use crate::profile::schema::{EndpointAccess, Protocol};

/// Built-in role definition ids.
pub const STORAGE_BLOB_DATA_CONTRIBUTOR: &str = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
pub const KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER: &str = "e147488a-f6f5-4113-8e2d-b22465e65bf6";
pub const KEY_VAULT_CRYPTO_USER: &str = "12338af0-0e69-4776-bea7-57ae8d297424";
/// Issuer of Union.ai's federated identity (its AWS identity, through Cognito).
pub const UNION_ISSUER: &str = "https://cognito-identity.amazonaws.com";
pub const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// Built-in role: read and assign user-assigned identities (granted on the cluster's
/// identity only, so that Union.ai can create the cluster with it).
pub const MANAGED_IDENTITY_OPERATOR: &str = "f1a07417-d97a-45cb-824c-7a7467783830";
/// Built-in role the cluster's identity needs on the subnet its nodes join.
pub const NETWORK_CONTRIBUTOR: &str = "4d97b98b-1d4f-4787-a291-c67834d212e7";

/// What Union.ai's administrator may do, inside the data plane's resource group only: run
/// the cluster and its agent pools. Nothing that writes identities, federated credentials,
/// role assignments, diagnostic settings or the network (the private connection is the
/// customer's: it publishes the customer's network, and only the customer can read the
/// API server's address in the resource group AKS creates for the nodes).
pub const ADMIN_ACTIONS: &[&str] = &[
    "Microsoft.ContainerService/managedClusters/read",
    "Microsoft.ContainerService/managedClusters/write",
    "Microsoft.ContainerService/managedClusters/delete",
    "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
    "Microsoft.ContainerService/managedClusters/agentPools/read",
    "Microsoft.ContainerService/managedClusters/agentPools/write",
    "Microsoft.ContainerService/managedClusters/agentPools/delete",
    "Microsoft.Network/virtualNetworks/subnets/read",
    "Microsoft.Network/virtualNetworks/subnets/join/action",
    // Reads of the customer's pieces the cluster is built on, checked before the union
    // stage builds on them (metadata only: no key operation).
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Compute/diskEncryptionSets/read",
    "Microsoft.KeyVault/vaults/keys/read",
];

/// Actions no role of Union.ai's may hold: they grant access or author trust.
pub const IDENTITY_WRITING_ACTIONS: &[&str] = &[
    "Microsoft.Authorization/roleAssignments/write",
    "Microsoft.Authorization/roleDefinitions/write",
    "Microsoft.ManagedIdentity/userAssignedIdentities/write",
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
    "Microsoft.Insights/diagnosticSettings/write",
    "Microsoft.Insights/diagnosticSettings/delete",
    "Microsoft.Resources/deployments/write",
];

/// Properties whose change ARM cannot make in place (the resource must be re-created).
pub const REPLACE: &[(&str, &str)] = &[
    ("azure.resource_group", "/location"),
    ("azure.virtual_network", "/location"),
    ("azure.subnet", "/properties/addressPrefix"),
    ("azure.storage_account", "/location"),
    ("azure.storage_account", "/kind"),
    ("azure.storage_account", "/properties/isHnsEnabled"),
    ("azure.key_vault", "/location"),
    ("azure.kubernetes_cluster", "/location"),
    ("azure.kubernetes_cluster", "/properties/dnsPrefix"),
    (
        "azure.kubernetes_cluster",
        "/properties/apiServerAccessProfile/enablePrivateCluster",
    ),
    ("azure.kubernetes_cluster", "/properties/networkProfile"),
    ("azure.kubernetes_cluster_node_pool", "/properties/vmSize"),
    (
        "azure.kubernetes_cluster_node_pool",
        "/properties/osDiskSizeGB",
    ),
    ("azure.user_assigned_identity", "/location"),
    // A role assignment's scope, role and principal are its identity; ARM refuses to change them.
    ("azure.role_assignment", "/scope"),
    ("azure.role_assignment", "/properties/roleDefinitionId"),
    ("azure.role_assignment", "/properties/principalId"),
    ("azure.storage_container", "/storageAccount"),
    ("azure.federated_identity_credential", "/identity"),
    ("azure.federated_identity_credential", "/application"),
];

/// Why apply never deletes or replaces a kind.
pub fn retains(kind: &str) -> Option<&'static str> {
    match kind {
        "azure.storage_account" | "azure.storage_container" => {
            Some("it holds the data plane's objects")
        }
        "azure.key_vault" | "azure.key_vault_key" | "azure.disk_encryption_set" => {
            Some("data encrypted with it would become unreadable")
        }
        "azure.kubernetes_cluster" => Some("it runs every workload of the data plane"),
        "azure.application" | "azure.service_principal" => {
            Some("Union.ai's access to the data plane depends on it")
        }
        "azure.resource_group" => Some("deleting it deletes everything in it"),
        _ => None,
    }
}

/// Where this data plane is: its subscription, location, name prefix and resource group.
struct Place {
    az: crate::profile::schema::AzureSubscription,
    location: String,
    prefix: String,
    rg_id: String,
}

/// What the areas built so far name, for the areas after them.
#[derive(Clone, Default)]
struct Parts {
    rg: String,
    key: Option<CustomerKey>,
    cmk_identity: String,
    aks_identity: String,
    disk_set: Option<String>,
    key_grants: Vec<String>,
    vnet_id: Value,
    nodes_subnet: Value,
    link_subnet: Value,
    aks_network: String,
    account: String,
    containers: Vec<(String, String)>,
    workspace: String,
    aks: String,
}

/// The Azure plan, area by area (eksctl's resource sets): each builder only describes its
/// resources and records in `Parts` what the next ones refer to.
pub fn build(b: &mut Builder<'_>) {
    let p = b.profile;
    let az =
        p.spec
            .cloud
            .azure
            .clone()
            .unwrap_or_else(|| crate::profile::schema::AzureSubscription {
                subscription_id: String::new(),
                tenant_id: String::new(),
                resource_group: String::new(),
            });
    let location = p.spec.cloud.region.clone();
    let prefix = b.prefix().to_string();
    let rg_id = format!(
        "/subscriptions/{}/resourceGroups/{}",
        az.subscription_id, az.resource_group
    );

    let g = Place {
        az: az.clone(),
        location: location.clone(),
        prefix: prefix.clone(),
        rg_id,
    };
    let mut parts = Parts::default();
    let rg = b.managed(
        "azure.resource_group",
        "main",
        az.resource_group.clone(),
        Account,
        &[],
        json!({
            "name": az.resource_group, "location": location, "tags": b.tags(Account),
        }),
    );
    parts.rg = rg.clone();
    keys(b, &g, &mut parts);
    network(b, &g, &mut parts);
    subnet_grant(b, &g, &mut parts);
    storage(b, &g, &mut parts);
    audit(b, &g, &mut parts);
    if b.byoc() {
        admin_identity(b, &g, &mut parts);
    }
    cluster_and_pools(b, &g, &mut parts);
    workload_identities(b, &g, &mut parts);
    if b.byoc() {
        private_connection(b, &g, &mut parts);
    }
    let Parts {
        key_grants,
        aks_network,
        rg,
        ..
    } = parts;
    // Whatever encrypts with the key checks its access when it is created: it waits for the
    // grants (the key's, and the cluster identity's on the subnet).
    // (In BYOC the cluster comes in the union stage, after every customer resource.)
    let users: &[&str] = if b.byoc() {
        &[
            "azure.disk_encryption_set.main",
            "azure.storage_account.main",
        ]
    } else {
        &[
            "azure.disk_encryption_set.main",
            "azure.storage_account.main",
            "azure.kubernetes_cluster.main",
        ]
    };
    for user in users {
        for grant in key_grants.iter().chain(std::iter::once(&aks_network)) {
            b.order_after(user, grant);
        }
    }
    after_resource_group(b, &rg);
}

/// The key (the customer's): Key Vault with purge protection and RBAC, a rotating key,
/// and the identities that use it (storage CMK, AKS KMS, disk encryption set).
fn keys(b: &mut Builder<'_>, g: &Place, parts: &mut Parts) {
    let p = b.profile;
    let (az, location, prefix) = (&g.az, &g.location, &g.prefix);
    let Parts { rg, .. } = parts.clone();
    // Keys (customer): Key Vault with purge protection and RBAC, a rotating key, and the
    // identities that use it (storage CMK, AKS KMS, disk encryption set).
    let vault_name = names::azure_key_vault(p);
    // The key, as its users name it: its versioned URI, its vault (URI and resource id) and
    // its name. An existing key's come from reading it (its vault is found by name).
    let key: Option<CustomerKey> = match p.spec.storage.encryption.key.as_str() {
        "none" => None,
        "create" => {
            let vault = b.managed(
                "azure.key_vault",
                "main",
                vault_name.clone(),
                Storage,
                &[EncryptionAtRest],
                json!({
                    "name": vault_name,
                    "location": location,
                    "resourceGroup": r(&rg, "name"),
                    "properties": {
                        "tenantId": az.tenant_id,
                        "sku": { "family": "A", "name": "premium" },
                        "enableRbacAuthorization": true,
                        "enablePurgeProtection": true,
                        "softDeleteRetentionInDays": 90,
                        "networkAcls": { "defaultAction": "Deny", "bypass": "AzureServices" }
                    },
                    "tags": b.tags(Storage),
                }),
            );
            let key = b.managed("azure.key_vault_key", "main", format!("{prefix}-cmk"), Storage, &[EncryptionAtRest], json!({
                "vault": r(&vault, "name"),
                "name": format!("{prefix}-cmk"),
                "properties": {
                    "kty": "RSA",
                    "keySize": 3072,
                    "keyOps": ["wrapKey", "unwrapKey", "encrypt", "decrypt"],
                    "rotationPolicy": {
                        "lifetimeActions": [{ "trigger": { "timeBeforeExpiry": "P30D" }, "action": { "type": "rotate" } }],
                        "attributes": { "expiryTime": "P1Y" }
                    }
                },
                "tags": b.tags(Storage),
            }));
            Some(CustomerKey::of(&key))
        }
        existing => {
            let k = b.data(
                "azure.key_vault_key",
                "existing",
                existing,
                Storage,
                json!({ "kid": existing }),
            );
            Some(CustomerKey::of(&k))
        }
    };
    let cmk_identity = b.managed("azure.user_assigned_identity", "cmk", format!("{prefix}-cmk"), Storage, &[EncryptionAtRest], json!({
        "name": format!("{prefix}-cmk"), "location": location, "resourceGroup": r(&rg, "name"), "tags": b.tags(Storage),
    }));
    let aks_identity = b.managed("azure.user_assigned_identity", "aks", format!("{prefix}-aks"), Account, &[LeastPrivilege], json!({
        "name": format!("{prefix}-aks"), "location": location, "resourceGroup": r(&rg, "name"), "tags": b.tags(Account),
    }));
    let mut disk_set: Option<String> = None;
    let mut key_grants: Vec<String> = Vec::new();
    if let Some(k) = &key {
        // On the key only (Key Vault RBAC scopes to a key): not every key of the vault.
        let key_scope = format!(
            "{}/keys/{}",
            k.vault_id.as_str().unwrap_or_default(),
            k.name.as_str().unwrap_or_default()
        );
        for (name, principal, role) in [
            (
                "cmk_crypto",
                &cmk_identity,
                KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
            ),
            ("aks_kms", &aks_identity, KEY_VAULT_CRYPTO_USER),
        ] {
            key_grants.push(b.managed("azure.role_assignment", name, format!("{prefix}-{name}"), Storage, &[EncryptionAtRest, LeastPrivilege], json!({
                "scope": key_scope,
                "properties": {
                    "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{role}", az.subscription_id),
                    "principalId": r(principal, "principalId"),
                    "principalType": "ServicePrincipal"
                },
            })));
        }
        disk_set = Some(b.managed("azure.disk_encryption_set", "main", format!("{prefix}-disks"), Storage, &[EncryptionAtRest], json!({
            "name": format!("{prefix}-disks"),
            "location": location,
            "identity": user_assigned(&cmk_identity),
            "properties": { "activeKey": { "keyUrl": k.uri }, "encryptionType": "EncryptionAtRestWithCustomerKey", "rotationToLatestKeyVersionEnabled": true },
            "tags": b.tags(Storage),
        })));
    }
    parts.key = key;
    parts.cmk_identity = cmk_identity;
    parts.aks_identity = aks_identity;
    parts.disk_set = disk_set;
    parts.key_grants = key_grants;
}

/// The network (the customer's).
fn network(b: &mut Builder<'_>, g: &Place, parts: &mut Parts) {
    let p = b.profile;
    let (location, prefix) = (&g.location, &g.prefix);
    let net_cfg = &p.spec.network;
    // Network (customer).
    let (vnet_id, nodes_subnet, link_subnet) = match &net_cfg.existing {
        Some(e) => {
            let v = b.data(
                "azure.virtual_network",
                "existing",
                e.network_id.clone(),
                Network,
                json!({ "id": e.network_id }),
            );
            let first = e.subnet_ids.first().cloned().unwrap_or_default();
            let s = b.data(
                "azure.subnet",
                "existing",
                first.clone(),
                Network,
                json!({ "virtualNetwork": e.network_id, "name": first }),
            );
            (r(&v, "id"), r(&s, "id"), r(&s, "id"))
        }
        None => {
            let cidr: Ipv4Net = net_cfg
                .cidr
                .parse()
                .unwrap_or_else(|_| "10.0.0.0/16".parse().expect("literal"));
            let halves: Vec<Ipv4Net> = cidr
                .subnets(cidr.prefix_len() + 1)
                .map(|s| s.collect())
                .unwrap_or_default();
            let link_range = halves
                .get(1)
                .and_then(|h| h.subnets(h.prefix_len() + 4).ok())
                .and_then(|mut s| s.next());
            let vnet = b.managed(
                "azure.virtual_network",
                "main",
                prefix.clone(),
                Network,
                &[OutboundOnly],
                json!({
                    "name": prefix, "location": location,
                    "properties": { "addressSpace": { "addressPrefixes": [cidr.to_string()] } },
                    "tags": b.tags(Network),
                }),
            );
            let pip = b.managed("azure.public_ip", "nat", format!("{prefix}-nat"), Network, &[], json!({
                "name": format!("{prefix}-nat"), "location": location,
                "sku": { "name": "Standard" },
                "properties": { "publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4" },
                "tags": b.tags(Network),
            }));
            let nat = b.managed("azure.nat_gateway", "main", prefix.clone(), Network, &[OutboundOnly], json!({
                "name": prefix, "location": location,
                "sku": { "name": "Standard" },
                "properties": { "publicIpAddresses": [{ "id": r(&pip, "id") }], "idleTimeoutInMinutes": 10 },
                "tags": b.tags(Network),
            }));
            let nsg = nsg(b, location);
            let nodes = b.managed(
                "azure.subnet",
                "nodes",
                format!("{prefix}-nodes"),
                Network,
                &[OutboundOnly],
                json!({
                    "virtualNetwork": r(&vnet, "name"),
                    "name": "nodes",
                    "properties": {
                        "addressPrefix": halves.first().map(|h| h.to_string()),
                        "natGateway": { "id": r(&nat, "id") },
                        "networkSecurityGroup": { "id": r(&nsg, "id") },
                        "privateEndpointNetworkPolicies": "Enabled",
                        // The storage account admits this subnet (networkAcls.virtualNetworkRules),
                        // which Azure refuses unless the subnet has the Storage service endpoint.
                        "serviceEndpoints": [{ "service": "Microsoft.Storage" }],
                        "defaultOutboundAccess": false
                    },
                }),
            );
            let link = if b.byoc() {
                let s = b.managed(
                    "azure.subnet",
                    "private_link",
                    format!("{prefix}-private-link"),
                    Network,
                    &[OutboundOnly],
                    json!({
                        "virtualNetwork": r(&vnet, "name"),
                        "name": "private-link",
                        "properties": {
                            "addressPrefix": link_range.map(|h| h.to_string()),
                            "networkSecurityGroup": { "id": r(&nsg, "id") },
                            "privateLinkServiceNetworkPolicies": "Disabled",
                            "defaultOutboundAccess": false
                        },
                    }),
                );
                r(&s, "id")
            } else {
                r(&nodes, "id")
            };
            (r(&vnet, "id"), r(&nodes, "id"), link)
        }
    };
    parts.vnet_id = vnet_id;
    parts.nodes_subnet = nodes_subnet;
    parts.link_subnet = link_subnet;
}

/// The cluster's identity joins its nodes to the subnet (the customer grants it).
fn subnet_grant(b: &mut Builder<'_>, g: &Place, parts: &mut Parts) {
    let (az, prefix) = (&g.az, &g.prefix);
    let Parts {
        aks_identity,
        nodes_subnet,
        ..
    } = parts.clone();
    // The cluster's identity joins its nodes to the subnet (the customer grants it).
    let aks_network = b.managed("azure.role_assignment", "aks_network", format!("{prefix}-aks-network"), Account, &[LeastPrivilege], json!({
        "scope": nodes_subnet,
        "properties": {
            "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{NETWORK_CONTRIBUTOR}", az.subscription_id),
            "principalId": r(&aks_identity, "principalId"),
            "principalType": "ServicePrincipal"
        },
    }));
    parts.aks_network = aks_network;
}

/// Storage (the customer's): one account, hierarchical namespace, CMK, TLS 1.2+, no
/// public blobs.
fn storage(b: &mut Builder<'_>, g: &Place, parts: &mut Parts) {
    let p = b.profile;
    let location = &g.location;
    let Parts {
        key,
        cmk_identity,
        nodes_subnet,
        ..
    } = parts.clone();
    // Storage (customer): one account, hierarchical namespace, CMK, TLS 1.2+, no public blobs.
    let account_name = names::azure_storage_account(p);
    let tls = match p.spec.storage.minimum_tls_version.as_str() {
        "1.0" => "TLS1_0",
        "1.1" => "TLS1_1",
        "1.3" => "TLS1_3",
        _ => "TLS1_2",
    };
    let encryption = match &key {
        Some(k) => json!({
            "keySource": "Microsoft.Keyvault",
            // No key version: the account follows the key's rotation (Storage: customer-managed
            // keys, automatic version update).
            "keyvaultproperties": { "keyvaulturi": k.vault_uri, "keyname": k.name },
            "identity": { "userAssignedIdentity": r(&cmk_identity, "id") },
            "requireInfrastructureEncryption": true,
            "services": { "blob": { "enabled": true, "keyType": "Account" } }
        }),
        None => json!({ "keySource": "Microsoft.Storage" }),
    };
    let account = b.managed("azure.storage_account", "main", account_name.clone(), Storage, &[EncryptionAtRest, EncryptionInTransit, NoPublicBuckets], json!({
        "name": account_name,
        "location": location,
        "kind": "StorageV2",
        "sku": { "name": "Standard_ZRS" },
        "identity": user_assigned(&cmk_identity),
        "properties": {
            "isHnsEnabled": true,
            "allowBlobPublicAccess": !p.spec.storage.block_public_access,
            "minimumTlsVersion": tls,
            "supportsHttpsTrafficOnly": true,
            "allowSharedKeyAccess": false,
            "encryption": encryption,
            "networkAcls": { "defaultAction": "Deny", "bypass": "AzureServices", "virtualNetworkRules": [{ "id": nodes_subnet }] }
        },
        "tags": b.tags(Storage),
    }));
    let mut containers = Vec::new();
    for logical in &p.spec.storage.buckets {
        let c = b.managed("azure.storage_container", logical, logical.clone(), Storage, &[NoPublicBuckets], json!({
            "storageAccount": r(&account, "name"),
            "name": logical,
            "properties": { "publicAccess": if p.spec.storage.block_public_access { "None" } else { "Blob" } },
        }));
        containers.push((logical.clone(), c));
    }
    parts.account = account;
    parts.containers = containers;
}

/// Audit (the customer's): Log Analytics, the subscription's Activity Log exported to it,
/// and VNet flow logs.
fn audit(b: &mut Builder<'_>, g: &Place, parts: &mut Parts) {
    let p = b.profile;
    let (az, location, prefix) = (&g.az, &g.location, &g.prefix);
    let Parts {
        vnet_id, account, ..
    } = parts.clone();
    // Audit (customer): Log Analytics, the subscription's Activity Log exported to it, and
    // VNet flow logs.
    let workspace = b.managed(
        "azure.log_analytics_workspace",
        "main",
        prefix.clone(),
        Account,
        &[AuditLogging],
        json!({
            "name": prefix, "location": location,
            "properties": { "sku": { "name": "PerGB2018" }, "retentionInDays": 90 },
            "tags": b.tags(Account),
        }),
    );
    match p.spec.audit.trail.as_str() {
        "create" => {
            let activity_categories: Vec<Value> = ["Administrative", "Security", "Policy", "Alert"]
                .iter()
                .map(|c| json!({ "category": c, "enabled": true }))
                .collect();
            b.managed(
                "azure.monitor_diagnostic_setting",
                "activity_log",
                format!("{prefix}-activity-log"),
                Account,
                &[AuditLogging],
                json!({
                    "scope": format!("/subscriptions/{}", az.subscription_id),
                    "name": format!("{prefix}-activity-log"),
                    "properties": {
                        "workspaceId": r(&workspace, "id"),
                        "logs": activity_categories
                    },
                }),
            );
        }
        existing => {
            b.data("azure.monitor_diagnostic_setting", "existing", existing, Account, json!({ "scope": format!("/subscriptions/{}", az.subscription_id), "name": existing }));
        }
    }
    b.managed("azure.network_watcher_flow_log", "vnet", format!("{prefix}-vnet"), Network, &[AuditLogging], json!({
        "name": format!("{prefix}-vnet"),
        "location": location,
        "properties": {
            "targetResourceId": vnet_id,
            "storageId": r(&account, "id"),
            "enabled": p.spec.audit.flow_logs,
            "retentionPolicy": { "days": 90, "enabled": true },
            "flowAnalyticsConfiguration": { "networkWatcherFlowAnalyticsConfiguration": { "enabled": true, "workspaceResourceId": r(&workspace, "id") } }
        },
        "tags": b.tags(Network),
    }));
    parts.workspace = workspace;
}

/// BYOC: the admin identity (the customer creates it, Union.ai uses it).
fn admin_identity(b: &mut Builder<'_>, g: &Place, parts: &mut Parts) {
    let p = b.profile;
    let (az, prefix, rg_id) = (&g.az, &g.prefix, &g.rg_id);
    let Parts { aks_identity, .. } = parts.clone();
    // BYOC admin identity (customer creates, Union.ai uses): an app whose only credential is
    // a federated one with Union.ai's exact subject, and a custom role on the resource group.
    let union = p.spec.union.clone().unwrap_or_default();
    let app = b.managed(
        "azure.application",
        "unionai",
        format!("{prefix}-unionai-admin"),
        AdminIdentity,
        &[AdminTrust],
        json!({
            "displayName": format!("{prefix}-unionai-admin"),
            "signInAudience": "AzureADMyOrg",
            // Its only credential is the federated one: a password or certificate added
            // later is drift (and the next apply removes it).
            "passwordCredentials": [],
            "keyCredentials": [],
        }),
    );
    let sp = b.managed(
        "azure.service_principal",
        "unionai",
        format!("{prefix}-unionai-admin"),
        AdminIdentity,
        &[AdminTrust],
        json!({
            "appId": r(&app, "appId"),
        }),
    );
    b.managed(
        "azure.federated_identity_credential",
        "unionai",
        "unionai",
        AdminIdentity,
        &[AdminTrust],
        json!({
            "application": r(&app, "id"),
            "name": "unionai",
            // The token Union.ai presents is an Amazon Cognito identity-pool token: its
            // `iss` is Cognito's, its `sub` the identity, its `aud` the identity pool.
            "issuer": UNION_ISSUER,
            "subject": union.azure_federated_subject,
            "audiences": [union.azure_federated_audience],
        }),
    );
    let role = b.managed("azure.role_definition", "unionai_administrator", "UnionaiAdministrator", AdminIdentity, &[LeastPrivilege], json!({
        "scope": rg_id,
        "properties": {
            "roleName": format!("UnionaiAdministrator ({prefix})"),
            "description": "What Union.ai needs to operate this BYOC data plane",
            "type": "CustomRole",
            "assignableScopes": [rg_id],
            "permissions": [{ "actions": ADMIN_ACTIONS, "notActions": [], "dataActions": [], "notDataActions": [] }]
        },
    }));
    b.managed(
        "azure.role_assignment",
        "unionai_admin",
        format!("{prefix}-unionai-admin"),
        AdminIdentity,
        &[LeastPrivilege],
        json!({
            "scope": rg_id,
            "properties": {
                "roleDefinitionId": r(&role, "id"),
                "principalId": r(&sp, "id"),
                "principalType": "ServicePrincipal"
            },
        }),
    );
    // The cluster's identity only: Union.ai creates the cluster with it, and can assign
    // no other identity (a workload identity's access) to anything.
    b.managed("azure.role_assignment", "unionai_cluster_identity", format!("{prefix}-unionai-aks-identity"), AdminIdentity, &[LeastPrivilege], json!({
        "scope": r(&aks_identity, "id"),
        "properties": {
            "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{MANAGED_IDENTITY_OPERATOR}", az.subscription_id),
            "principalId": r(&sp, "id"),
            "principalType": "ServicePrincipal"
        },
    }));
}

/// The cluster (Union.ai's in BYOC), its audit export and its node pools.
fn cluster_and_pools(b: &mut Builder<'_>, g: &Place, parts: &mut Parts) {
    let p = b.profile;
    let (location, prefix) = (&g.location, &g.prefix);
    let net_cfg = &p.spec.network;
    let Parts {
        key,
        aks_identity,
        disk_set,
        nodes_subnet,
        workspace,
        ..
    } = parts.clone();
    // Cluster (Union.ai in BYOC).
    let public = p.spec.cluster.endpoint_access == EndpointAccess::PrivateAndPublic;
    let services: Ipv4Net = net_cfg
        .services_cidr
        .parse()
        .unwrap_or_else(|_| "10.68.0.0/20".parse().expect("literal"));
    let dns_ip = services.hosts().nth(9).map(|ip| ip.to_string());
    let system_pool = p.spec.cluster.node_pools.iter().find(|pool| !pool.gpu).or(p
        .spec
        .cluster
        .node_pools
        .first());
    let mut properties = json!({
        "kubernetesVersion": p.spec.cluster.kubernetes_version,
        "dnsPrefix": prefix,
        "apiServerAccessProfile": { "enablePrivateCluster": !public, "enablePrivateClusterPublicFQDN": false },
        "oidcIssuerProfile": { "enabled": true },
        "securityProfile": {
            "workloadIdentity": { "enabled": true },
            "azureKeyVaultKms": match &key {
                Some(k) => json!({ "enabled": true, "keyId": k.uri, "keyVaultNetworkAccess": "Public" }),
                None => json!({ "enabled": false }),
            }
        },
        "networkProfile": {
            "networkPlugin": "azure",
            "networkPluginMode": "overlay",
            "podCidr": net_cfg.pods_cidr,
            "serviceCidr": net_cfg.services_cidr,
            "dnsServiceIP": dns_ip,
            "outboundType": "userAssignedNATGateway"
        },
        "agentPoolProfiles": [{
            "name": "system",
            "mode": "System",
            "count": 2,
            "vmSize": system_pool.map(|p| p.instance_type.clone()),
            "vnetSubnetID": nodes_subnet,
            "osDiskSizeGB": 128,
            "nodeTaints": ["CriticalAddonsOnly=true:NoSchedule"]
        }],
        "aadProfile": { "managed": true, "enableAzureRBAC": true },
        "disableLocalAccounts": true,
    });
    if let Some(set) = &disk_set {
        properties["diskEncryptionSetID"] = r(set, "id");
    }
    let aks = b.managed(
        "azure.kubernetes_cluster",
        "main",
        prefix.clone(),
        Cluster,
        &[PrivateEndpoint, EncryptionAtRest],
        json!({
            "name": prefix,
            "location": location,
            "identity": user_assigned(&aks_identity),
            "sku": { "name": "Base", "tier": "Standard" },
            "properties": properties,
            "tags": b.tags(Cluster),
        }),
    );
    let audit_logs = if p.spec.audit.cluster_logs {
        vec!["kube-audit", "kube-audit-admin", "kube-apiserver"]
    } else {
        vec![]
    };
    let audit_categories: Vec<Value> = audit_logs
        .iter()
        .map(|c| json!({ "category": c, "enabled": true }))
        .collect();
    // The cluster's audit export is the customer's: Union.ai's actions are audited by a
    // setting it cannot change (created after the union stage, with the customer's credentials).
    b.managed(
        "azure.monitor_diagnostic_setting",
        "aks_audit",
        format!("{prefix}-aks-audit"),
        Account,
        &[AuditLogging],
        json!({
            "scope": r(&aks, "id"),
            "name": format!("{prefix}-aks-audit"),
            "properties": {
                "workspaceId": r(&workspace, "id"),
                "logs": audit_categories
            },
        }),
    );
    for pool in &p.spec.cluster.node_pools {
        let taints: Vec<String> = if pool.gpu {
            vec![format!("{}={}:NoSchedule", GPU_TAINT.0, GPU_TAINT.1)]
        } else {
            vec![]
        };
        let pool_name = names::azure_pool(&pool.name);
        b.managed(
            "azure.kubernetes_cluster_node_pool",
            &pool.name,
            pool_name.clone(),
            NodePools,
            &[EncryptionAtRest],
            json!({
                "cluster": r(&aks, "name"),
                "name": pool_name,
                "properties": {
                    "mode": "User",
                    "vmSize": pool.instance_type,
                    "enableAutoScaling": true,
                    "minCount": pool.min,
                    "maxCount": pool.max,
                    "count": pool.min,
                    "osDiskSizeGB": pool.disk_size_gib,
                    "osDiskType": "Managed",
                    "vnetSubnetID": nodes_subnet,
                    "nodeTaints": taints,
                    "nodeLabels": { "union.ai/node-pool": pool.name },
                    "enableEncryptionAtHost": true
                },
            }),
        );
    }
    parts.aks = aks;
}

/// Workload identities (the customer's).
fn workload_identities(b: &mut Builder<'_>, g: &Place, parts: &mut Parts) {
    let p = b.profile;
    let (az, location, prefix) = (&g.az, &g.location, &g.prefix);
    let Parts {
        rg,
        containers,
        aks,
        ..
    } = parts.clone();
    // Workload identities (the customer's): one for the platform and one per tenant
    // namespace, federated to exact service accounts of the cluster (after the union stage:
    // the issuer is the cluster's), with Storage Blob Data Contributor on this data plane's
    // containers; a tenant's only under its namespace's path (an ABAC condition).
    for identity in crate::plan::builder::workload_identities(p, format!("{prefix}-backend")) {
        let crate::plan::builder::WorkloadIdentity {
            key: name,
            name: identity_name,
            namespace: ns,
            service_accounts,
            tenant,
        } = identity;
        let identity = b.managed("azure.user_assigned_identity", &format!("workload_{name}"), identity_name.clone(), WorkloadIdentity, &[TenantIsolation], json!({
            "name": identity_name, "location": location, "resourceGroup": r(&rg, "name"), "tags": b.tags(WorkloadIdentity),
        }));
        for sa in service_accounts {
            b.managed("azure.federated_identity_credential", &format!("{name}_{}", crate::plan::builder::address_name(&sa)), format!("{identity_name}-{sa}"), WorkloadIdentity, &[LeastPrivilege, TenantIsolation], json!({
                "identity": r(&identity, "name"),
                "name": format!("{ns}-{sa}"),
                "properties": { "issuer": r(&aks, "oidcIssuerProfile.issuerURL"), "subject": format!("system:serviceaccount:{ns}:{sa}"), "audiences": [TOKEN_EXCHANGE_AUDIENCE] },
            }));
        }
        for (logical, container) in &containers {
            let mut properties = json!({
                "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{STORAGE_BLOB_DATA_CONTRIBUTOR}", az.subscription_id),
                "principalId": r(&identity, "principalId"),
                "principalType": "ServicePrincipal"
            });
            if tenant {
                properties["condition"] = json!(blob_path_condition(&ns));
                properties["conditionVersion"] = json!("2.0");
            }
            b.managed(
                "azure.role_assignment",
                &format!("{name}_{}", crate::plan::builder::address_name(logical)),
                format!("{identity_name}-{logical}"),
                WorkloadIdentity,
                &[TenantIsolation, LeastPrivilege],
                json!({
                    "scope": r(container, "id"),
                    "properties": properties,
                }),
            );
        }
    }
}

/// BYOC: the API server's private address, published to Union.ai's subscription only.
fn private_connection(b: &mut Builder<'_>, g: &Place, parts: &mut Parts) {
    let p = b.profile;
    let (az, location, prefix, rg_id) = (&g.az, &g.location, &g.prefix, &g.rg_id);
    let Parts {
        vnet_id,
        nodes_subnet,
        link_subnet,
        aks,
        ..
    } = parts.clone();
    // BYOC: the API server's private address behind an internal load balancer, published by
    // a Private Link service visible to, and approved for, Union.ai's subscription only. The
    // customer's (after the union stage): the address is read from the private endpoint AKS
    // creates for the API server in the nodes' resource group, which only the customer can
    // read, and what is published from the customer's network stays the customer's decision.
    let union_sub = p
        .spec
        .union
        .as_ref()
        .and_then(|u| u.azure_subscription_id.clone())
        .unwrap_or_default();
    let lb_name = format!("{prefix}-api");
    let lb_id = format!("{rg_id}/providers/Microsoft.Network/loadBalancers/{lb_name}");
    let lb = b.managed("azure.lb", "api", lb_name.clone(), Network, &[PrivateEndpoint], json!({
        "name": lb_name,
        "location": location,
        "sku": { "name": "Standard" },
        // Read by the provider: the backend is this private endpoint's address.
        "apiServerEndpoint": format!("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/privateEndpoints/kube-apiserver", az.subscription_id, reference(&aks, "nodeResourceGroup")),
        "properties": {
            "frontendIPConfigurations": [{ "name": "api", "properties": { "subnet": { "id": nodes_subnet }, "privateIPAllocationMethod": "Dynamic" } }],
            "backendAddressPools": [{ "name": "apiserver", "properties": { "loadBalancerBackendAddresses": [{ "name": "apiserver", "properties": { "virtualNetwork": { "id": vnet_id } } }] } }],
            "probes": [{ "name": "apiserver", "properties": { "protocol": "Tcp", "port": 443, "intervalInSeconds": 5, "numberOfProbes": 2 } }],
            "loadBalancingRules": [{ "name": "https", "properties": {
                "protocol": "Tcp", "frontendPort": 443, "backendPort": 443,
                "frontendIPConfiguration": { "id": format!("{lb_id}/frontendIPConfigurations/api") },
                "backendAddressPool": { "id": format!("{lb_id}/backendAddressPools/apiserver") },
                "probe": { "id": format!("{lb_id}/probes/apiserver") }
            } }]
        },
        "tags": b.tags(Network),
    }));
    b.managed("azure.private_link_service", "api", format!("{prefix}-api"), Network, &[OutboundOnly, PrivateEndpoint], json!({
        "name": format!("{prefix}-api"),
        "location": location,
        "properties": {
            "loadBalancerFrontendIpConfigurations": [{ "id": format!("{}/frontendIPConfigurations/api", reference(&lb, "id")) }],
            "ipConfigurations": [{ "name": "nat", "properties": { "subnet": { "id": link_subnet }, "privateIPAllocationMethod": "Dynamic", "primary": true } }],
            "visibility": { "subscriptions": [union_sub] },
            "autoApproval": { "subscriptions": [union_sub] }
        },
        "tags": b.tags(Network),
    }));
}

/// Everything ARM keeps in the data plane's resource group waits for the group, whether or
/// not its settings name it (Graph objects, subscription-wide settings and the region's
/// Network Watcher live elsewhere).
fn after_resource_group(b: &mut Builder<'_>, rg: &str) {
    const ELSEWHERE: &[&str] = &[
        "azure.resource_group.",
        "azure.application.",
        "azure.service_principal.",
        "azure.federated_identity_credential.unionai",
        "azure.monitor_diagnostic_setting.activity_log",
        "azure.network_watcher_flow_log.",
    ];
    for address in b.managed_addresses() {
        if !ELSEWHERE.iter().any(|e| address.starts_with(e)) {
            b.order_after(&address, rg);
        }
    }
}

/// A customer-managed key as the resources that use it refer to it.
#[derive(Clone, Default)]
struct CustomerKey {
    uri: Value,
    vault_uri: Value,
    vault_id: Value,
    name: Value,
}

impl CustomerKey {
    fn of(address: &str) -> Self {
        CustomerKey {
            uri: r(address, "keyUriWithVersion"),
            vault_uri: r(address, "vaultUri"),
            vault_id: r(address, "vaultId"),
            name: r(address, "name"),
        }
    }
}

/// ARM's `identity` block for one user-assigned identity (a map keyed by the identity's id).
fn user_assigned(identity: &str) -> Value {
    let mut ids = serde_json::Map::new();
    ids.insert(reference(identity, "id"), json!({}));
    json!({ "type": "UserAssigned", "userAssignedIdentities": ids })
}

/// An ABAC condition that limits Storage Blob Data Contributor to blobs under `<ns>/`:
/// reads, writes and deletes by blob path, listing by the requested prefix.
pub fn blob_path_condition(ns: &str) -> String {
    const BLOBS: &str = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs";
    let by_path = ["read", "write", "delete", "add/action", "move/action"]
        .iter()
        .map(|a| {
            format!(
                "!(ActionMatches{{'{BLOBS}/{a}'}}{})",
                if *a == "read" {
                    " AND NOT SubOperationMatches{'Blob.List'}"
                } else {
                    ""
                }
            )
        })
        .collect::<Vec<_>>()
        .join(" AND ");
    format!(
        "(({by_path}) OR (@Resource[{BLOBS}:path] StringStartsWith '{ns}/')) AND ((!(ActionMatches{{'{BLOBS}/read'}} AND SubOperationMatches{{'Blob.List'}})) OR (@Request[{BLOBS}:prefix] StringStartsWith '{ns}/'))"
    )
}

/// Network security group: the internet may not come in; going out, only 443 and 7844.
fn nsg(b: &mut Builder<'_>, location: &str) -> String {
    let p = b.profile;
    let prefix = b.prefix().to_string();
    let mut rules = vec![
        json!({ "name": "AllowHttpsOut", "properties": { "priority": 100, "direction": "Outbound", "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": "VirtualNetwork", "sourcePortRange": "*", "destinationAddressPrefix": "Internet", "destinationPortRange": "443" } }),
        json!({ "name": "AllowTunnelTcpOut", "properties": { "priority": 110, "direction": "Outbound", "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": "VirtualNetwork", "sourcePortRange": "*", "destinationAddressPrefix": "Internet", "destinationPortRange": "7844" } }),
        json!({ "name": "AllowTunnelUdpOut", "properties": { "priority": 120, "direction": "Outbound", "access": "Allow", "protocol": "Udp", "sourceAddressPrefix": "VirtualNetwork", "sourcePortRange": "*", "destinationAddressPrefix": "Internet", "destinationPortRange": "7844" } }),
        json!({ "name": "DenyInternetOut", "properties": { "priority": 4000, "direction": "Outbound", "access": "Deny", "protocol": "*", "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "Internet", "destinationPortRange": "*" } }),
        json!({ "name": "DenyInternetIn", "properties": { "priority": 4000, "direction": "Inbound", "access": "Deny", "protocol": "*", "sourceAddressPrefix": "Internet", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "*" } }),
    ];
    for (i, rule) in p.spec.network.ingress.iter().enumerate() {
        let proto = match rule.protocol {
            Protocol::Tcp => "Tcp",
            Protocol::Udp => "Udp",
        };
        rules.push(json!({ "name": format!("AllowProfileIngress{i}"), "properties": { "priority": 200 + i, "direction": "Inbound", "access": "Allow", "protocol": proto, "sourceAddressPrefix": rule.cidr, "sourcePortRange": "*", "destinationAddressPrefix": "VirtualNetwork", "destinationPortRange": rule.port.to_string() } }));
    }
    b.managed(
        "azure.network_security_group",
        "nodes",
        format!("{prefix}-nodes"),
        Network,
        &[OutboundOnly],
        json!({
            "name": format!("{prefix}-nodes"),
            "location": location,
            "properties": { "securityRules": rules },
            "tags": b.tags(Network),
        }),
    )
}

/// What an update in place renews (`CloudPlan::renewed_by_update`): nothing here.
pub fn renewed_by_update(_kind: &str) -> &'static [&'static str] {
    &[]
}

/// Changes the cloud refuses outright (`CloudPlan::refuses_change`).
pub fn refuses_change(
    kind: &str,
    path: &str,
    before: &serde_json::Value,
    after: &serde_json::Value,
) -> Option<String> {
    crate::plan::kubernetes_version_step(
        kind,
        path,
        before,
        after,
        &[("azure.kubernetes_cluster", "/properties/kubernetesVersion")],
    )
}
