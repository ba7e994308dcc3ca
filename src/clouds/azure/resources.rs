//! The ARM resources of a data plane, one row per kind: where it lives (its resource id),
//! the pinned stable api-version, and which plan keys only address it. ARM's contract is
//! the same for every kind — PUT is create-or-update, GET reads, DELETE deletes, long
//! operations are followed (arm.rs) — so the kinds share one implementation here; what
//! differs by kind is data, plus a few documented exceptions (keys, vaults, the load
//! balancer's backend).

use anyhow::{anyhow, bail, Result};
use azure_core::http::Method;
use serde_json::{json, Map, Value};

use super::arm::{self, Done};
use super::provider::AzureProvider;
use crate::clouds::live::project;
use crate::exec::adoption::{Claim, TAG_LINEAGE};
use crate::exec::Observed;
use crate::plan::{Mode, Resource};
use crate::state::ResourceState;

/// The ARM api-version of each kind: stable versions, pinned so that a field means what it
/// meant when this was written. (Diagnostic settings have no stable version newer than
/// 2016-09-01, which cannot address a subscription: 2021-05-01-preview is the one the
/// Azure CLI and Terraform use.)
pub fn api_version(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "resource_group" => "2022-09-01",
        "key_vault" | "key_vault_key" => "2023-07-01",
        "user_assigned_identity" | "federated_identity_credential" => "2023-01-31",
        "role_assignment" | "role_definition" => "2022-04-01",
        "disk_encryption_set" => "2023-04-02",
        "virtual_network"
        | "subnet"
        | "public_ip"
        | "nat_gateway"
        | "network_security_group"
        | "lb"
        | "private_link_service"
        | "network_watcher_flow_log"
        | "private_endpoint" => "2024-05-01",
        "storage_account" | "storage_container" => "2023-05-01",
        "log_analytics_workspace" => "2022-10-01",
        "monitor_diagnostic_setting" => "2021-05-01-preview",
        "kubernetes_cluster" | "kubernetes_cluster_node_pool" => "2024-09-01",
        _ => return None,
    })
}

/// Plan keys that say where a resource is (they become its id) and are not sent.
const ADDRESSING: &[&str] = &[
    "name",
    "resourceGroup",
    "vault",
    "virtualNetwork",
    "storageAccount",
    "cluster",
    "scope",
    "apiServerEndpoint",
];

/// Kinds whose plan key `identity` names the parent identity (not ARM's `identity` block).
fn addressing(kind: &str) -> Vec<&'static str> {
    let mut keys = ADDRESSING.to_vec();
    if kind == "federated_identity_credential" {
        keys.push("identity");
    }
    keys
}

/// The resource id a plan resource has (or will have).
pub fn id_of(p: &AzureProvider, kind: &str, name: &str, s: &Value) -> Result<String> {
    let get = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or_default();
    if let Some(id) = s.get("id").and_then(Value::as_str) {
        return Ok(id.to_string());
    }
    let sub = format!("/subscriptions/{}", p.subscription);
    let rg = format!(
        "{sub}/resourceGroups/{}",
        if get("resourceGroup").is_empty() {
            p.resource_group.as_str()
        } else {
            get("resourceGroup")
        }
    );
    let name = if get("name").is_empty() {
        name
    } else {
        get("name")
    };
    let in_rg = |t: &str| format!("{rg}/providers/{t}/{name}");
    Ok(match kind {
        "resource_group" => format!("{sub}/resourceGroups/{name}"),
        "key_vault" => in_rg("Microsoft.KeyVault/vaults"),
        "key_vault_key" => format!("{rg}/providers/Microsoft.KeyVault/vaults/{}/keys/{name}", get("vault")),
        "user_assigned_identity" => in_rg("Microsoft.ManagedIdentity/userAssignedIdentities"),
        "federated_identity_credential" => format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}/federatedIdentityCredentials/{name}", get("identity")),
        "role_assignment" => format!("{}/providers/Microsoft.Authorization/roleAssignments/{}", get("scope"), p.guid(name)),
        "role_definition" => format!("{}/providers/Microsoft.Authorization/roleDefinitions/{}", get("scope"), p.guid(name)),
        "disk_encryption_set" => in_rg("Microsoft.Compute/diskEncryptionSets"),
        "virtual_network" => in_rg("Microsoft.Network/virtualNetworks"),
        "subnet" if name.starts_with('/') => name.to_string(),
        "subnet" => {
            let vnet = get("virtualNetwork");
            let vnet = if vnet.starts_with('/') { vnet.to_string() } else { format!("{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}") };
            format!("{vnet}/subnets/{name}")
        }
        "public_ip" => in_rg("Microsoft.Network/publicIPAddresses"),
        "nat_gateway" => in_rg("Microsoft.Network/natGateways"),
        "network_security_group" => in_rg("Microsoft.Network/networkSecurityGroups"),
        "lb" => in_rg("Microsoft.Network/loadBalancers"),
        "private_link_service" => in_rg("Microsoft.Network/privateLinkServices"),
        // Network Watcher is one per region, made by Azure in NetworkWatcherRG when the
        // first virtual network of the region is (Network Watcher overview).
        "network_watcher_flow_log" => format!("{sub}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_{}/flowLogs/{name}", get("location")),
        "storage_account" => in_rg("Microsoft.Storage/storageAccounts"),
        "storage_container" => format!("{rg}/providers/Microsoft.Storage/storageAccounts/{}/blobServices/default/containers/{name}", get("storageAccount")),
        "log_analytics_workspace" => in_rg("Microsoft.OperationalInsights/workspaces"),
        "monitor_diagnostic_setting" => format!("{}/providers/Microsoft.Insights/diagnosticSettings/{name}", get("scope")),
        "kubernetes_cluster" => in_rg("Microsoft.ContainerService/managedClusters"),
        "kubernetes_cluster_node_pool" => format!("{rg}/providers/Microsoft.ContainerService/managedClusters/{}/agentPools/{name}", get("cluster")),
        other => bail!("the Azure provider does not know `{other}`"),
    })
}

/// The request body: the plan's settings without the keys that only address the resource.
fn body_of(kind: &str, s: &Value) -> Value {
    let mut b = s.as_object().cloned().unwrap_or_default();
    for k in addressing(kind) {
        b.remove(k);
    }
    Value::Object(b)
}

/// The attributes other resources refer to, where ARM puts them.
const OUTPUTS: &[(&str, &str)] = &[
    ("principalId", "/properties/principalId"),
    ("clientId", "/properties/clientId"),
    ("tenantId", "/properties/tenantId"),
    ("keyUri", "/properties/keyUri"),
    ("keyUriWithVersion", "/properties/keyUriWithVersion"),
    ("vaultUri", "/properties/vaultUri"),
    (
        "oidcIssuerProfile.issuerURL",
        "/properties/oidcIssuerProfile/issuerURL",
    ),
    ("nodeResourceGroup", "/properties/nodeResourceGroup"),
    ("privateFQDN", "/properties/privateFQDN"),
    ("customerId", "/properties/customerId"),
    ("blobEndpoint", "/properties/primaryEndpoints/blob"),
    // What a consumer in another tenant connects to.
    ("alias", "/properties/alias"),
];

/// What was read, in the plan's shape: the addressing keys as the plan wrote them, the rest
/// as ARM says (only the keys the plan sets are compared).
fn observed(kind: &str, id: &str, live: &Value, desired: &Value) -> Observed {
    let mut outputs = Map::new();
    outputs.insert(
        "id".into(),
        json!(live.get("id").and_then(Value::as_str).unwrap_or(id)),
    );
    outputs.insert(
        "name".into(),
        live.get("name")
            .cloned()
            .unwrap_or_else(|| json!(id.rsplit('/').next().unwrap_or_default())),
    );
    for (attribute, pointer) in OUTPUTS {
        if let Some(v) = live.pointer(pointer).filter(|v| !v.is_null()) {
            outputs.insert((*attribute).into(), v.clone());
        }
    }
    if kind == "key_vault_key" {
        // What a key's users name: its vault's URI (storage encryption) and id (the scope
        // of the grants to use it).
        if let Some((vault, _)) = id.split_once("/keys/") {
            outputs.insert("vaultId".into(), json!(vault));
            outputs.insert(
                "vaultUri".into(),
                json!(format!(
                    "https://{}.vault.azure.net",
                    vault.rsplit('/').next().unwrap_or_default()
                )),
            );
        }
    }
    let mut shaped = live.clone();
    if let (Some(m), Some(d)) = (shaped.as_object_mut(), desired.as_object()) {
        for k in addressing(kind) {
            if let Some(v) = d.get(k) {
                m.insert(k.to_string(), v.clone());
            }
        }
    }
    if kind == "kubernetes_cluster" {
        // AKS lists every agent pool of the cluster here; the plan names the system pool
        // (the others are their own resources).
        let planned: Vec<&str> = desired
            .pointer("/properties/agentPoolProfiles")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p["name"].as_str())
            .collect();
        if let Some(pools) = shaped
            .pointer_mut("/properties/agentPoolProfiles")
            .and_then(Value::as_array_mut)
        {
            pools.retain(|p| p["name"].as_str().is_some_and(|n| planned.contains(&n)));
        }
    }
    if kind == "disk_encryption_set"
        && desired.pointer("/properties/rotationToLatestKeyVersionEnabled") == Some(&json!(true))
    {
        // It follows the key's rotation by itself: the key matters, not its version.
        let versionless = |v: Option<&Value>| {
            v.and_then(Value::as_str).map(|u| {
                u.trim_end_matches('/')
                    .rsplit_once("/keys/")
                    .map(|(vault, key)| {
                        format!("{vault}/keys/{}", key.split('/').next().unwrap_or_default())
                    })
                    .unwrap_or_default()
            })
        };
        if versionless(live.pointer("/properties/activeKey/keyUrl"))
            == versionless(desired.pointer("/properties/activeKey/keyUrl"))
        {
            if let Some(url) = shaped.pointer_mut("/properties/activeKey/keyUrl") {
                *url = desired["properties"]["activeKey"]["keyUrl"].clone();
            }
        }
    }
    let mut settings = project(&shaped, desired, desired, &write_only(kind));
    // A map of identities is compared by its keys (ids, in any case): the projection,
    // driven by the plan's keys, would not see one swapped for another.
    if let Some(want) = desired
        .pointer("/identity/userAssignedIdentities")
        .and_then(Value::as_object)
    {
        let lower = |m: Option<&Map<String, Value>>| {
            m.map(|m| {
                m.keys()
                    .map(|k| k.to_ascii_lowercase())
                    .collect::<std::collections::BTreeSet<_>>()
            })
            .unwrap_or_default()
        };
        let live_ids = live
            .pointer("/identity/userAssignedIdentities")
            .and_then(Value::as_object);
        if lower(live_ids) != lower(Some(want)) {
            settings["identity"]["userAssignedIdentities"] = Value::Object(
                live_ids
                    .map(|m| m.keys().map(|k| (k.clone(), json!({}))).collect())
                    .unwrap_or_default(),
            );
        }
    }
    Observed {
        id: id.to_string(),
        outputs,
        settings,
    }
}

/// Sent, never returned (or returned in another form): taken as desired.
fn write_only(kind: &str) -> Vec<&'static str> {
    match kind {
        // The vault's key is created once; ARM returns the key's current attributes. Its
        // tags too are set only then: Keys - Create If Not Exist returns an existing key
        // unchanged, so a later edit of the profile's tags reaches every resource but it.
        "key_vault_key" => vec!["/properties/rotationPolicy", "/properties/keyOps", "/tags"],
        // The autoscaler owns the node count once the pool exists.
        "kubernetes_cluster_node_pool" => vec!["/properties/count"],
        _ => vec![],
    }
}

/// Refuses what carries our fixed name but was made for another data plane, another state
/// or by hand: unionctl never takes over what it did not create. (Resources without tags,
/// such as role assignments, are named by a GUID of the data plane and resource.)
fn check_ours(p: &AzureProvider, r: &Resource, id: &str, live: &Value, claim: Claim) -> Result<()> {
    if r.settings.get("tags").and_then(Value::as_object).is_none() {
        return Ok(());
    }
    let tag = |k: &str| {
        live.pointer("/tags")
            .and_then(|t| t.get(k))
            .and_then(Value::as_str)
    };
    p.check_marks(
        id,
        tag(crate::plan::builder::TAG_DATA_PLANE),
        tag(TAG_LINEAGE),
        claim,
    )
}

pub async fn read(
    p: &AzureProvider,
    r: &Resource,
    d: &Value,
    claim: Claim,
) -> Result<Option<Observed>> {
    let kind = r.type_name();
    let id = match d.get("kid").and_then(Value::as_str) {
        Some(kid) => match existing_key_id(p, kid).await? {
            Some(id) => id,
            None => return Ok(None),
        },
        None => id_of(p, kind, &r.name, d)?,
    };
    let Some(live) = get(p, kind, &id).await? else {
        return Ok(None);
    };
    if r.mode == Mode::Data {
        // What the checks of an existing resource need: all of it.
        let mut o = observed(kind, &id, &live, d);
        o.settings = live.clone();
        if let (Some(m), Some(dm)) = (o.settings.as_object_mut(), d.as_object()) {
            for (k, v) in dm {
                m.entry(k.clone()).or_insert(v.clone());
            }
            // Where it is: the checks of an existing key want its subscription.
            m.insert(
                "subscriptionId".into(),
                json!(id.split('/').nth(2).unwrap_or_default()),
            );
        }
        return Ok(Some(o));
    }
    check_ours(p, r, &id, &live, claim)?;
    Ok(Some(observed(kind, &id, &live, d)))
}

/// The resource id of an existing key the profile names by its URI
/// (`https://<vault>.vault.azure.net/keys/<name>[/<version>]`): the vault is found among the
/// subscription's vaults (Vaults - List By Subscription), since the URI does not say its
/// resource group.
async fn existing_key_id(p: &AzureProvider, kid: &str) -> Result<Option<String>> {
    let rest = kid.strip_prefix("https://").unwrap_or(kid);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let vault = host.split('.').next().unwrap_or_default();
    let key = path
        .strip_prefix("keys/")
        .and_then(|k| k.split('/').next())
        .unwrap_or_default();
    if vault.is_empty() || key.is_empty() {
        bail!("{kid} is not a Key Vault key URI (https://<vault>.vault.azure.net/keys/<name>)");
    }
    let mut url = format!(
        "{}/subscriptions/{}/providers/Microsoft.KeyVault/vaults?api-version={}",
        p.endpoints.arm,
        p.subscription,
        api_version("key_vault").unwrap_or_default()
    );
    loop {
        let reply = p
            .call("GET key_vault list", false, || {
                p.arm.send(Method::Get, &url, None, &[])
            })
            .await?;
        if !reply.ok() {
            return Err(reply.error("listing the subscription's key vaults").into());
        }
        let found = reply.json["value"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| {
                v["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(vault))
            });
        if let Some(id) = found.and_then(|v| v["id"].as_str()) {
            return Ok(Some(format!("{id}/keys/{key}")));
        }
        // Lists come in pages (ARM's nextLink).
        match reply.json["nextLink"].as_str() {
            Some(next) if !next.is_empty() => url = next.to_string(),
            _ => return Ok(None),
        }
    }
}

/// The resource, or `None`. One Azure is deleting (`provisioningState: Deleting`, a
/// destroy killed after it asked) is `None` too, once Azure has finished: it still holds
/// its name until then, and a create must not meet it.
pub async fn get(p: &AzureProvider, kind: &str, id: &str) -> Result<Option<Value>> {
    let api = api_version(kind).ok_or_else(|| anyhow!("no api-version for `{kind}`"))?;
    let url = p.arm_url(id, api);
    let started = std::time::Instant::now();
    loop {
        let reply = p
            .call(&format!("GET {kind}"), false, || {
                p.arm.send(Method::Get, &url, None, &[])
            })
            .await?;
        match reply.status {
            200 if reply
                .json
                .pointer("/properties/provisioningState")
                .and_then(Value::as_str)
                == Some("Deleting") =>
            {
                if started.elapsed() > p.wait_timeout {
                    bail!(
                        "{id} is still being deleted after {} s",
                        p.wait_timeout.as_secs()
                    );
                }
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
            200 => return Ok(Some(reply.json)),
            404 => return Ok(None),
            _ => return Err(reply.error(&format!("reading {id}")).into()),
        }
    }
}

/// PUT (create or update: ARM's PUT is idempotent by name), then follow the operation to
/// its end and read the result.
pub async fn put(p: &AzureProvider, r: &Resource, d: &Value) -> Result<Observed> {
    let kind = r.type_name();
    let id = id_of(p, kind, &r.name, d)?;
    let api = api_version(kind).ok_or_else(|| anyhow!("no api-version for `{kind}`"))?;
    let mut body = body_of(kind, d);
    // What this state makes carries its lineage (`exec::adoption`).
    if let Some(tags) = body.get_mut("tags").and_then(Value::as_object_mut) {
        tags.insert(TAG_LINEAGE.into(), Value::String(p.lineage.clone()));
    }
    if kind == "lb" {
        fill_api_server_address(p, d, &mut body).await?;
    }
    // One write at a time where Azure allows only one: a cluster and its agent pools run
    // one operation at a time; federated credentials of one identity are written one by one.
    let _serial = match kind {
        "kubernetes_cluster" | "kubernetes_cluster_node_pool" => Some(p.cluster_lock.lock().await),
        "federated_identity_credential" => Some(p.credential_lock.lock().await),
        _ => None,
    };
    let url = p.arm_url(&id, api);
    let mut recovered = false;
    loop {
        let reply = p
            .call(&format!("PUT {kind}"), true, || {
                p.arm.send(Method::Put, &url, Some(&body), &[])
            })
            .await?;
        if !reply.ok() {
            let e = reply.error(&format!("writing {id}"));
            // A vault deleted earlier stays soft-deleted (purge protection): recover it
            // under the same name instead of failing (Key Vault soft-delete overview).
            if kind == "key_vault"
                && e.is(409)
                && !recovered
                && e.message.to_ascii_lowercase().contains("deleted")
            {
                body["properties"]["createMode"] = json!("recover");
                recovered = true;
                continue;
            }
            return Err(e.into());
        }
        match arm::wait(&p.arm, &reply, p.wait_timeout).await? {
            Done::Succeeded => {}
            Done::Failed(why) => bail!("{id}: the operation failed: {why}"),
        }
        break;
    }
    let live = wait_provisioned(p, kind, &id).await?;
    Ok(observed(kind, &id, &live, d))
}

/// Reads until `provisioningState` is terminal (a PUT answered 200/201 without an
/// operation header may still be provisioning).
async fn wait_provisioned(p: &AzureProvider, kind: &str, id: &str) -> Result<Value> {
    let started = std::time::Instant::now();
    loop {
        let live = get(p, kind, id)
            .await?
            .ok_or_else(|| anyhow!("{id} is not there after it was written"))?;
        match live
            .pointer("/properties/provisioningState")
            .and_then(Value::as_str)
        {
            None | Some("Succeeded") => return Ok(live),
            Some("Failed") | Some("Canceled") => bail!(
                "{id}: provisioning ended {}",
                live["properties"]["provisioningState"]
            ),
            Some(_) if started.elapsed() > p.wait_timeout => bail!(
                "{id} is still provisioning after {} s",
                p.wait_timeout.as_secs()
            ),
            Some(_) => tokio::time::sleep(std::time::Duration::from_secs(2)).await,
        }
    }
}

pub async fn delete(p: &AzureProvider, r: &ResourceState) -> Result<()> {
    let kind = r.type_name();
    if kind == "key_vault_key" {
        // ARM has no delete for keys (only Key Vault's data plane does): the key goes with
        // its vault, recoverable for the vault's soft-delete retention.
        return Ok(());
    }
    let id = if r.id.starts_with('/') {
        r.id.clone()
    } else {
        id_of(p, kind, &r.name, &r.settings)?
    };
    let api = api_version(kind).ok_or_else(|| anyhow!("no api-version for `{kind}`"))?;
    let _serial = match kind {
        "kubernetes_cluster" | "kubernetes_cluster_node_pool" => Some(p.cluster_lock.lock().await),
        "federated_identity_credential" => Some(p.credential_lock.lock().await),
        _ => None,
    };
    if kind == "resource_group" {
        // Deleting a group deletes everything in it: by now it holds nothing of the data
        // plane's (those were deleted first), so whatever is left is someone else's.
        let list = format!("{}{id}/resources?api-version=2021-04-01", p.endpoints.arm);
        let reply = p
            .call("GET resource_group resources", false, || {
                p.arm.send(Method::Get, &list, None, &[])
            })
            .await?;
        let others: Vec<&str> = reply.json["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["id"].as_str())
            .collect();
        if reply.ok() && !others.is_empty() {
            return Err(crate::error::UserError::new(format!(
                "resource group {} still holds resources unionctl did not create: {}",
                r.name,
                others.join(", ")
            ))
            .hint("move or delete them first; deleting the group would delete them too")
            .into());
        }
    }
    let url = p.arm_url(&id, api);
    let reply = p
        .call(&format!("DELETE {kind}"), true, || {
            p.arm.send(Method::Delete, &url, None, &[])
        })
        .await?;
    match reply.status {
        404 | 204 => Ok(()),
        s if (200..300).contains(&s) => match arm::wait(&p.arm, &reply, p.wait_timeout).await? {
            Done::Succeeded => Ok(()),
            Done::Failed(why) => bail!("{id}: the delete failed: {why}"),
        },
        _ => Err(reply.error(&format!("deleting {id}")).into()),
    }
}

/// The load balancer's one backend is the API server's private address: the private
/// endpoint AKS made for it in the nodes' resource group (`kube-apiserver`).
async fn fill_api_server_address(p: &AzureProvider, d: &Value, body: &mut Value) -> Result<()> {
    let Some(endpoint) = d.get("apiServerEndpoint").and_then(Value::as_str) else {
        return Ok(());
    };
    let pe = get(p, "private_endpoint", endpoint).await?.ok_or_else(|| {
        anyhow!(
            "the cluster's API server endpoint {endpoint} does not exist (is the cluster private?)"
        )
    })?;
    let ip = pe
        .pointer("/properties/customDnsConfigs/0/ipAddresses/0")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("{endpoint} has no private address yet"))?;
    if let Some(addresses) = body.pointer_mut(
        "/properties/backendAddressPools/0/properties/loadBalancerBackendAddresses/0/properties",
    ) {
        addresses["ipAddress"] = json!(ip);
    }
    Ok(())
}
