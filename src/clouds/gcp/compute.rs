//! Compute Engine, through `google-cloud-compute-v1`: the network, subnetworks, Cloud
//! Router and NAT, firewall rules, and the private connection — an internal proxy load
//! balancer in front of the GKE endpoint (hybrid endpoint group, health check, backend
//! service, target TCP proxy, forwarding rule) published by a service attachment.
//!
//! Compute resources carry no labels (most kinds): the `description` says which data plane
//! and plan address made one, which is how a re-run tells ours from someone else's. Every
//! insert carries a `requestId`, so an insert whose answer was lost is not made twice.
//! Insert, patch and delete are long-running operations polled to completion.

use anyhow::{anyhow, Result};
use google_cloud_compute_v1::model;
use google_cloud_lro::Poller;
use serde_json::{json, Value};

use super::provider::{absent, gone, project, to_json, typed, ApiError, GcpProvider};
use crate::exec::adoption::Claim;
use crate::exec::Observed;
use crate::plan::{Mode, Resource};
use crate::state::ResourceState;

/// The description that marks a compute resource as this data plane's.
fn ours(p: &GcpProvider, address: &str) -> String {
    format!("unionctl data plane {} ({address})", p.data_plane)
}

/// A random UUID for one insert, patch or delete: reused by every retry of it, so Compute
/// runs it once.
fn request_id() -> String {
    let b: [u8; 16] = rand::random();
    let h = hex::encode(b);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// Fails with the operation's own error when it finished with one.
fn done(op: model::Operation) -> Result<model::Operation, ApiError> {
    match &op.error {
        Some(e) if !e.errors.is_empty() => {
            let msg: Vec<String> = e
                .errors
                .iter()
                .map(|x| {
                    format!(
                        "{}: {}",
                        x.code.clone().unwrap_or_default(),
                        x.message.clone().unwrap_or_default()
                    )
                })
                .collect();
            Err(ApiError::other(format!(
                "operation {} failed: {}",
                op.name.clone().unwrap_or_default(),
                msg.join("; ")
            )))
        }
        _ => Ok(op),
    }
}

/// The calls of one compute kind: its client, its model, the setter that names it, and
/// whether requests name the region.
macro_rules! calls {
    (@scope $b:expr, $p:ident, regional) => { $b.set_project(&$p.project).set_region(&$p.region) };
    (@scope $b:expr, $p:ident, global) => { $b.set_project(&$p.project) };
    (@scope $b:expr, $p:ident, zonal) => { $b.set_project(&$p.project).set_zone($p.zone()) };
    ($client:ident, $model:ty, $setter:ident, $scope:ident, get: $get:ident, insert: $insert:ident, delete: $delete:ident $(, patch: $patch:ident)?) => {
        async fn $get(p: &GcpProvider, name: &str) -> Result<Option<Value>> {
            let r = p.call(concat!("compute.", stringify!($client), ".get"), || {
                let f = calls!(@scope p.$client.get(), p, $scope).$setter(name).send();
                async move { f.await.map_err(ApiError::from) }
            }).await;
            Ok(absent(r)?.map(|m| to_json(&m)))
        }
        async fn $insert(p: &GcpProvider, body: Value) -> Result<()> {
            let body: $model = typed(body)?;
            let id = request_id();
            p.call(concat!("compute.", stringify!($client), ".insert"), || {
                let f = calls!(@scope p.$client.insert(), p, $scope).set_body(body.clone()).set_request_id(&id).poller().until_done();
                async move { done(f.await.map_err(ApiError::from)?) }
            }).await?;
            Ok(())
        }
        async fn $delete(p: &GcpProvider, name: &str) -> Result<()> {
            let id = request_id();
            gone(p.call(concat!("compute.", stringify!($client), ".delete"), || {
                let f = calls!(@scope p.$client.delete(), p, $scope).$setter(name).set_request_id(&id).poller().until_done();
                async move { done(f.await.map_err(ApiError::from)?) }
            }).await)
        }
        $(
        async fn $patch(p: &GcpProvider, name: &str, body: Value) -> Result<()> {
            let body: $model = typed(body)?;
            let id = request_id();
            p.call(concat!("compute.", stringify!($client), ".patch"), || {
                let f = calls!(@scope p.$client.patch(), p, $scope).$setter(name).set_body(body.clone()).set_request_id(&id).poller().until_done();
                async move { done(f.await.map_err(ApiError::from)?) }
            }).await?;
            Ok(())
        }
        )?
    };
}

calls!(networks, model::Network, set_network, global, get: get_network, insert: insert_network, delete: delete_network, patch: patch_network);
calls!(firewalls, model::Firewall, set_firewall, global, get: get_firewall, insert: insert_firewall, delete: delete_firewall, patch: patch_firewall);
calls!(subnetworks, model::Subnetwork, set_subnetwork, regional, get: get_subnetwork, insert: insert_subnetwork, delete: delete_subnetwork, patch: patch_subnetwork);
calls!(routers, model::Router, set_router, regional, get: get_router, insert: insert_router, delete: delete_router, patch: patch_router);
calls!(backends, model::BackendService, set_backend_service, regional, get: get_backend, insert: insert_backend, delete: delete_backend, patch: patch_backend);
calls!(forwarding_rules, model::ForwardingRule, set_forwarding_rule, regional, get: get_rule, insert: insert_rule, delete: delete_rule);
calls!(zonal_negs, model::NetworkEndpointGroup, set_network_endpoint_group, zonal, get: get_zonal_neg, insert: insert_zonal_neg, delete: delete_zonal_neg);
calls!(health_checks, model::HealthCheck, set_health_check, regional, get: get_health_check, insert: insert_health_check, delete: delete_health_check, patch: patch_health_check);
calls!(tcp_proxies, model::TargetTcpProxy, set_target_tcp_proxy, regional, get: get_proxy, insert: insert_proxy, delete: delete_proxy);
calls!(attachments, model::ServiceAttachment, set_service_attachment, regional, get: get_attachment, insert: insert_attachment, delete: delete_attachment, patch: patch_attachment);

async fn get(p: &GcpProvider, kind: &str, name: &str) -> Result<Option<Value>> {
    match kind {
        "compute_network" => get_network(p, name).await,
        "compute_firewall" => get_firewall(p, name).await,
        "compute_subnetwork" => get_subnetwork(p, name).await,
        "compute_router" => get_router(p, name).await,
        "compute_region_backend_service" => get_backend(p, name).await,
        "compute_forwarding_rule" => get_rule(p, name).await,
        "compute_service_attachment" => get_attachment(p, name).await,
        "compute_network_endpoint_group" => get_zonal_neg(p, name).await,
        "compute_region_health_check" => get_health_check(p, name).await,
        "compute_region_target_tcp_proxy" => get_proxy(p, name).await,
        other => Err(anyhow!("not a compute kind: {other}")),
    }
}

/// The endpoints attached to a hybrid connectivity group (not part of the group's body).
async fn endpoints(p: &GcpProvider, neg: &str) -> Result<Value> {
    let listed = p
        .call("compute.networkEndpointGroups.listNetworkEndpoints", || {
            let f = p
                .zonal_negs
                .list_network_endpoints()
                .set_project(&p.project)
                .set_zone(p.zone())
                .set_network_endpoint_group(neg)
                .send();
            async move { f.await.map_err(ApiError::from) }
        })
        .await?;
    Ok(Value::Array(
        listed
            .items
            .iter()
            .filter_map(|i| i.network_endpoint.as_ref())
            .map(to_json)
            .collect(),
    ))
}

/// Attaches (or detaches) endpoints: `{ipAddress, port}` items.
async fn change_endpoints(p: &GcpProvider, neg: &str, items: &Value, attach: bool) -> Result<()> {
    if items.as_array().is_none_or(|a| a.is_empty()) {
        return Ok(());
    }
    let body = json!({ "networkEndpoints": items });
    if attach {
        let request: model::NetworkEndpointGroupsAttachEndpointsRequest = typed(body)?;
        p.call(
            "compute.networkEndpointGroups.attachNetworkEndpoints",
            || {
                let f = p
                    .zonal_negs
                    .attach_network_endpoints()
                    .set_project(&p.project)
                    .set_zone(p.zone())
                    .set_network_endpoint_group(neg)
                    .set_body(request.clone())
                    .poller()
                    .until_done();
                async move { done(f.await.map_err(ApiError::from)?) }
            },
        )
        .await?;
    } else {
        let request: model::NetworkEndpointGroupsDetachEndpointsRequest = typed(body)?;
        p.call(
            "compute.networkEndpointGroups.detachNetworkEndpoints",
            || {
                let f = p
                    .zonal_negs
                    .detach_network_endpoints()
                    .set_project(&p.project)
                    .set_zone(p.zone())
                    .set_network_endpoint_group(neg)
                    .set_body(request.clone())
                    .poller()
                    .until_done();
                async move { done(f.await.map_err(ApiError::from)?) }
            },
        )
        .await?;
    }
    Ok(())
}

/// What the API does not return (inputs only) or returns in another form.
fn write_only(kind: &str) -> &'static [&'static str] {
    match kind {
        // The region is in the URL; the API answers with the region's URL.
        "compute_subnetwork"
        | "compute_router"
        | "compute_region_backend_service"
        | "compute_forwarding_rule"
        | "compute_service_attachment"
        | "compute_region_health_check"
        | "compute_region_target_tcp_proxy" => &["/region"],
        "compute_network_endpoint_group" => &["/zone"],
        _ => &[],
    }
}

fn observed(kind: &str, live: &Value, desired: &Value) -> Result<Observed> {
    let normal = normal(kind, desired);
    let settings = project(live, desired, &normal, write_only(kind));
    let mut outputs = serde_json::Map::new();
    for key in ["selfLink", "name", "id", "fingerprint"] {
        if let Some(v) = live.get(key) {
            outputs.insert(key.into(), v.clone());
        }
    }
    Ok(Observed {
        id: live
            .get("selfLink")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        outputs,
        settings,
    })
}

/// The desired settings as the client's message writes them.
fn normal(kind: &str, desired: &Value) -> Value {
    fn via<T: serde::de::DeserializeOwned + serde::Serialize>(v: &Value) -> Value {
        serde_json::from_value::<T>(v.clone())
            .map(|m| to_json(&m))
            .unwrap_or_else(|_| v.clone())
    }
    match kind {
        "compute_network" => via::<model::Network>(desired),
        "compute_firewall" => via::<model::Firewall>(desired),
        "compute_subnetwork" => via::<model::Subnetwork>(desired),
        "compute_router" => via::<model::Router>(desired),
        "compute_router_nat" => via::<model::RouterNat>(&strip(desired, &["router"])),
        "compute_region_backend_service" => via::<model::BackendService>(desired),
        "compute_forwarding_rule" => via::<model::ForwardingRule>(desired),
        "compute_service_attachment" => via::<model::ServiceAttachment>(desired),
        "compute_network_endpoint_group" => {
            let mut n = via::<model::NetworkEndpointGroup>(&strip(desired, &["networkEndpoints"]));
            n["networkEndpoints"] = desired
                .get("networkEndpoints")
                .cloned()
                .unwrap_or(Value::Null);
            n
        }
        "compute_region_health_check" => via::<model::HealthCheck>(desired),
        "compute_region_target_tcp_proxy" => via::<model::TargetTcpProxy>(desired),
        _ => desired.clone(),
    }
}

fn strip(v: &Value, keys: &[&str]) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        for k in keys {
            m.remove(*k);
        }
    }
    v
}

fn name_of(d: &Value) -> String {
    d.get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Refuses a resource under our fixed name that this data plane did not make.
/// (Compute resources carry no labels: a second state of this data plane's name is caught
/// by the labelled resources the same refresh reads: the cluster, the buckets, the key.)
fn check_ours(p: &GcpProvider, r: &Resource, live: &Value, claim: Claim) -> Result<()> {
    let description = live
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if description == ours(p, &r.address) || claim != Claim::Found {
        return Ok(());
    }
    Err(crate::error::UserError::new(format!("{} `{}` exists but was not created by this data plane (its description is {description:?})", r.kind, name_of(live)))
        .hint("rename or remove it, or name it in the profile as an existing resource")
        .into())
}

pub async fn read(
    p: &GcpProvider,
    r: &Resource,
    d: &Value,
    claim: Claim,
) -> Result<Option<Observed>> {
    let kind = r.type_name();
    if kind == "compute_router_nat" {
        let router = d.get("router").and_then(Value::as_str).unwrap_or_default();
        let Some(live) = get_router(p, router).await? else {
            return Ok(None);
        };
        let Some(nat) = live
            .get("nats")
            .and_then(Value::as_array)
            .and_then(|n| n.iter().find(|x| x.get("name") == d.get("name")))
            .cloned()
        else {
            return Ok(None);
        };
        let settings = project(&nat, d, &normal(kind, d), &["/router"]);
        return Ok(Some(Observed {
            id: format!(
                "{}/nats/{}",
                live["selfLink"].as_str().unwrap_or_default(),
                name_of(d)
            ),
            outputs: Default::default(),
            settings,
        }));
    }
    let name = if r.mode == Mode::Data {
        existing_name(d)
    } else {
        name_of(d)
    };
    let Some(live) = get(p, kind, &name).await? else {
        return Ok(None);
    };
    if r.mode == Mode::Managed {
        check_ours(p, r, &live, claim)?;
    }
    let mut live = live;
    if kind == "compute_network_endpoint_group" {
        live["networkEndpoints"] = endpoints(p, &name).await?;
    }
    if r.mode == Mode::Data {
        // What the checks of an existing network need: flow logs on its subnetwork.
        let mut o = observed(kind, &live, &json!({}))?;
        o.settings = json!({ "name": name, "logConfig": live.get("logConfig"), "network": live.get("network") });
        return Ok(Some(o));
    }
    observed(kind, &live, d).map(Some)
}

/// An existing resource named in the profile: a name or a URL/path ending in it.
fn existing_name(d: &Value) -> String {
    let n = name_of(d);
    n.rsplit('/').next().unwrap_or(&n).to_string()
}

pub async fn create(p: &GcpProvider, r: &Resource, d: &Value) -> Result<Observed> {
    let kind = r.type_name();
    if kind == "compute_router_nat" {
        return set_nat(p, r, d).await;
    }
    let mut body = d.clone();
    body["description"] = json!(ours(p, &r.address));
    if kind == "compute_forwarding_rule" {
        body["labels"] = p.labels_for(r, d.get("labels"));
    }
    let name = name_of(d);
    let inserted = match kind {
        "compute_network" => insert_network(p, body).await,
        "compute_firewall" => insert_firewall(p, body).await,
        "compute_subnetwork" => insert_subnetwork(p, body).await,
        "compute_router" => insert_router(p, body).await,
        "compute_region_backend_service" => insert_backend(p, body).await,
        "compute_forwarding_rule" => insert_rule(p, body).await,
        "compute_service_attachment" => insert_attachment(p, body).await,
        "compute_network_endpoint_group" => {
            insert_zonal_neg(p, strip(&body, &["networkEndpoints"])).await
        }
        "compute_region_health_check" => insert_health_check(p, body).await,
        "compute_region_target_tcp_proxy" => insert_proxy(p, body).await,
        other => Err(anyhow!("not a compute kind: {other}")),
    };
    if let Err(e) = inserted {
        // 409: a previous run made it (ours, by description) or someone else did.
        if !e.downcast_ref::<ApiError>().is_some_and(|a| a.is(409)) {
            return Err(e);
        }
    }
    let mut live = get(p, kind, &name)
        .await?
        .ok_or_else(|| anyhow!("{kind} {name} is not there after its insert finished"))?;
    check_ours(p, r, &live, Claim::Found)?;
    if kind == "compute_network_endpoint_group" {
        let attached = endpoints(p, &name).await?;
        let missing: Vec<Value> = d["networkEndpoints"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| !attached.as_array().is_some_and(|a| a.contains(e)))
            .cloned()
            .collect();
        change_endpoints(p, &name, &Value::Array(missing), true).await?;
        live["networkEndpoints"] = endpoints(p, &name).await?;
    }
    observed(kind, &live, d)
}

/// Cloud NAT is a list on the router: the whole router is written back (`routers.update`)
/// with this NAT added or replaced (or removed), the others kept.
async fn put_nats(p: &GcpProvider, router: &str, name: &Value, nat: Option<Value>) -> Result<()> {
    let Some(mut live) = get_router(p, router).await? else {
        return Err(anyhow!("router {router} does not exist"));
    };
    let mut nats: Vec<Value> = live
        .get("nats")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let before = nats.clone();
    nats.retain(|n| n.get("name") != Some(name));
    nats.extend(nat);
    if nats == before {
        return Ok(());
    }
    live["nats"] = Value::Array(nats);
    let body: model::Router = typed(live)?;
    let id = request_id();
    p.call("compute.routers.update", || {
        let f = p
            .routers
            .update()
            .set_project(&p.project)
            .set_region(&p.region)
            .set_router(router)
            .set_body(body.clone())
            .set_request_id(&id)
            .poller()
            .until_done();
        async move { done(f.await.map_err(ApiError::from)?) }
    })
    .await?;
    Ok(())
}

async fn set_nat(p: &GcpProvider, r: &Resource, d: &Value) -> Result<Observed> {
    let router = d.get("router").and_then(Value::as_str).unwrap_or_default();
    put_nats(p, router, &d["name"], Some(strip(d, &["router"]))).await?;
    read(p, r, d, Claim::Recorded)
        .await?
        .ok_or_else(|| anyhow!("the NAT is not on router {router} after the update"))
}

pub async fn update(
    p: &GcpProvider,
    r: &Resource,
    d: &Value,
    live: &Observed,
    changed: &[String],
) -> Result<Observed> {
    let kind = r.type_name();
    if kind == "compute_router_nat" {
        return set_nat(p, r, d).await;
    }
    let name = name_of(d);
    let fingerprint = live.outputs.get("fingerprint").cloned();
    let mut body = d.clone();
    body["description"] = json!(ours(p, &r.address));
    if let Some(f) = fingerprint {
        body["fingerprint"] = f;
    }
    match kind {
        "compute_network" => {
            patch_network(p, &name, json!({ "routingConfig": d.get("routingConfig") })).await?
        }
        "compute_firewall" => patch_firewall(p, &name, body).await?,
        // Patchable on a subnetwork: what is not its identity or range.
        "compute_subnetwork" => {
            // Private Google Access changes only through `setPrivateIpGoogleAccess`.
            if changed
                .iter()
                .any(|c| c.starts_with("/privateIpGoogleAccess"))
            {
                let request: model::SubnetworksSetPrivateIpGoogleAccessRequest =
                    typed(json!({ "privateIpGoogleAccess": d["privateIpGoogleAccess"] }))?;
                let id = request_id();
                p.call("compute.subnetworks.setPrivateIpGoogleAccess", || {
                    let f = p
                        .subnetworks
                        .set_private_ip_google_access()
                        .set_project(&p.project)
                        .set_region(&p.region)
                        .set_subnetwork(&name)
                        .set_body(request.clone())
                        .set_request_id(&id)
                        .poller()
                        .until_done();
                    async move { done(f.await.map_err(ApiError::from)?) }
                })
                .await?;
            }
            if changed
                .iter()
                .any(|c| !c.starts_with("/privateIpGoogleAccess"))
            {
                patch_subnetwork(
                    p,
                    &name,
                    strip(
                        &body,
                        &[
                            "network",
                            "region",
                            "ipCidrRange",
                            "purpose",
                            "name",
                            "privateIpGoogleAccess",
                        ],
                    ),
                )
                .await?;
            }
        }
        "compute_router" => patch_router(p, &name, body).await?,
        "compute_region_backend_service" => patch_backend(p, &name, body).await?,
        "compute_service_attachment" => {
            patch_attachment(p, &name, strip(&body, &["targetService", "region", "name"])).await?
        }
        "compute_region_health_check" => patch_health_check(p, &name, body).await?,
        "compute_network_endpoint_group"
            if changed.iter().all(|c| c.starts_with("/networkEndpoints")) =>
        {
            let attached = endpoints(p, &name).await?;
            change_endpoints(p, &name, &attached, false).await?;
            change_endpoints(p, &name, &d["networkEndpoints"], true).await?;
        }
        _ => return Err(super::unsupported(r, changed)),
    }
    let mut live = get(p, kind, &name)
        .await?
        .ok_or_else(|| anyhow!("{kind} {name} disappeared during the update"))?;
    if kind == "compute_network_endpoint_group" {
        live["networkEndpoints"] = endpoints(p, &name).await?;
    }
    observed(kind, &live, d)
}

pub async fn delete(p: &GcpProvider, r: &ResourceState) -> Result<()> {
    let kind = r.type_name();
    if kind == "compute_router_nat" {
        let router = r
            .setting("/router")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if get_router(p, router).await?.is_none() {
            return Ok(());
        }
        return put_nats(p, router, &Value::String(r.name.clone()), None).await;
    }
    let name = r
        .setting("/name")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| r.id.rsplit('/').next().unwrap_or_default().to_string());
    match kind {
        "compute_network" => delete_network(p, &name).await,
        "compute_firewall" => delete_firewall(p, &name).await,
        "compute_subnetwork" => delete_subnetwork(p, &name).await,
        "compute_router" => delete_router(p, &name).await,
        "compute_region_backend_service" => delete_backend(p, &name).await,
        "compute_forwarding_rule" => delete_rule(p, &name).await,
        "compute_service_attachment" => delete_attachment(p, &name).await,
        "compute_network_endpoint_group" => delete_zonal_neg(p, &name).await,
        "compute_region_health_check" => delete_health_check(p, &name).await,
        "compute_region_target_tcp_proxy" => delete_proxy(p, &name).await,
        other => Err(anyhow!("not a compute kind: {other}")),
    }
}
