//! The Azure hand-off: what Union.ai (BYOC) or the customer's platform team needs after
//! apply, and the `unionai/dataplane` Helm values for Azure.

use serde_json::{json, Map, Value};

use crate::plan::builder::address_name;
use crate::profile::{Model, Profile};
use crate::state::State;

/// The hand-off after apply, and the `unionai/dataplane` Helm values.
pub fn hand_off(p: &Profile, state: &State) -> Value {
    let out = |address: &str, attribute: &str| {
        state
            .output(address, attribute)
            .cloned()
            .unwrap_or(Value::Null)
    };
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
    let account = out("azure.storage_account.main", "name");
    let container = |logical: &str| {
        out(
            &format!("azure.storage_container.{}", address_name(logical)),
            "name",
        )
    };
    let containers: Map<String, Value> = p
        .spec
        .storage
        .buckets
        .iter()
        .map(|b| (b.clone(), container(b)))
        .collect();
    let client_id = |address: &str| out(address, "clientId");
    let worker = |ns: &str| {
        format!(
            "azure.user_assigned_identity.workload_worker_{}",
            address_name(ns)
        )
    };
    let cluster = "azure.kubernetes_cluster.main";
    let mut doc = json!({
        "data_plane": p.metadata.name,
        "org": p.metadata.org,
        "model": p.spec.model,
        "cloud": p.spec.cloud.provider,
        "region": p.spec.cloud.region,
        "subscription_id": az.subscription_id,
        "tenant_id": az.tenant_id,
        "resource_group": az.resource_group,
        "cluster": {
            "name": out(cluster, "name"),
            "id": out(cluster, "id"),
            "private_fqdn": out(cluster, "privateFQDN"),
            "oidc_issuer": out(cluster, "oidcIssuerProfile.issuerURL"),
            "node_resource_group": out(cluster, "nodeResourceGroup"),
        },
        "storage_account": account,
        "containers": containers,
        "key_vault_uri": out("azure.key_vault.main", "vaultUri"),
        "workload_identities": {
            "backend": client_id("azure.user_assigned_identity.workload_backend"),
            "workers": p.spec.tenancy.namespaces.iter().map(|ns| (ns.clone(), client_id(&worker(ns)))).collect::<Map<String, Value>>(),
        },
    });
    if p.spec.model == Model::Byoc {
        doc["union_access"] = json!({
            "application_client_id": out(super::UNION_APPLICATION, "appId"),
            "service_principal_id": out("azure.service_principal.unionai", "id"),
            "role_definition": out("azure.role_definition.unionai_administrator", "id"),
            "private_link_service": out("azure.private_link_service.api", "id"),
        });
    }
    let metadata = container("metadata");
    let blob_url = |c: &Value| match (account.as_str(), c.as_str()) {
        (Some(a), Some(c)) => json!(format!("abfs://{c}@{a}.dfs.core.windows.net")),
        _ => Value::Null,
    };
    doc["helm_values"] = json!({
        "global": {
            "CLUSTER_NAME": out(cluster, "name"),
            "ORG_NAME": p.metadata.org,
            "CONTROLPLANE_HOST": p.spec.control_plane.host,
            "AZURE_SUBSCRIPTION_ID": az.subscription_id,
            "AZURE_TENANT_ID": az.tenant_id,
            "AZURE_RESOURCE_GROUP": az.resource_group,
            "AZURE_REGION": p.spec.cloud.region,
            "STORAGE_ACCOUNT_NAME": account,
            "METADATA_BUCKET": blob_url(&metadata),
            "FAST_REGISTRATION_BUCKET": blob_url(&container("fast-registration")),
            "KEY_VAULT_URI": out("azure.key_vault.main", "vaultUri"),
            "BACKEND_CLIENT_ID": client_id("azure.user_assigned_identity.workload_backend"),
            // One managed identity per tenant namespace (its Kubernetes service account is
            // annotated with the client id), and the only path it may read and write.
            "NAMESPACES": p.spec.tenancy.namespaces.iter().map(|ns| {
                (ns.clone(), json!({
                    "CLIENT_ID": client_id(&worker(ns)),
                    "RAW_OUTPUT_PREFIX": match (account.as_str(), metadata.as_str()) {
                        (Some(a), Some(m)) => json!(format!("abfs://{m}@{a}.dfs.core.windows.net/{ns}/")),
                        _ => Value::Null,
                    },
                }))
            }).collect::<Map<String, Value>>(),
        }
    });
    doc
}
