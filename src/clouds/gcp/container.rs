//! GKE: the cluster and its node pools, through `google-cloud-container-v1`.
//!
//! Every GKE change is a long-running operation, one at a time per cluster; GKE's
//! `Operation` has no poller in the client, so [`wait`] polls `GetOperation`. The cluster's
//! resource labels say which data plane and plan address made it.

use std::time::Duration;

use anyhow::{anyhow, Result};
use google_cloud_container_v1::model;
use serde_json::{json, Value};

use super::provider::{absent, gone, project, to_json, typed, ApiError, GcpProvider};
use crate::exec::adoption::Claim;
use crate::exec::Observed;
use crate::plan::Resource;
use crate::state::ResourceState;

/// Create-time inputs GKE does not return as sent: the default pool's settings (the pool
/// is removed), and the version, which GKE resolves (`1.31` becomes `1.31.5-gke.…`) and
/// upgrades within its channel.
const CLUSTER_WRITE_ONLY: &[&str] = &[
    "/removeDefaultNodePool",
    "/initialNodeCount",
    "/nodeConfig",
    "/initialClusterVersion",
];
const POOL_WRITE_ONLY: &[&str] = &["/cluster", "/initialNodeCount"];

impl GcpProvider {
    fn location(&self) -> String {
        format!("projects/{}/locations/{}", self.project, self.region)
    }
    fn cluster_path(&self, cluster: &str) -> String {
        format!("{}/clusters/{cluster}", self.location())
    }
}

fn s<'a>(d: &'a Value, key: &str) -> &'a str {
    d.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Polls a GKE operation until it is done; fails with its error.
async fn wait(p: &GcpProvider, op: model::Operation) -> Result<()> {
    let name = format!("{}/operations/{}", p.location(), op.name);
    let what = format!("GKE operation {} ({:?})", op.name, op.operation_type);
    crate::exec::wait_until(&what, p.wait_timeout, || {
        let name = name.clone();
        async move {
            let o = p
                .call("container.operations.get", || {
                    let f = p.gke.get_operation().set_name(&name).send();
                    async move { f.await.map_err(ApiError::from) }
                })
                .await?;
            if o.status != model::operation::Status::Done {
                return Ok(false);
            }
            match &o.error {
                Some(e) if !e.message.is_empty() => {
                    Err(anyhow!("GKE operation {} failed: {}", o.name, e.message))
                }
                _ => Ok(true),
            }
        }
    })
    .await
}

/// Sends a GKE request that starts an operation and waits for it. GKE runs one operation
/// per cluster at a time: this process queues its own (node pools are created one after
/// the other), and retries while someone else's is running.
async fn operate<F, Fut>(p: &GcpProvider, api: &'static str, send: F) -> Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<model::Operation, google_cloud_gax::error::Error>>,
{
    let _one_at_a_time = p.cluster_lock.lock().await;
    let mut delay = Duration::from_secs(1);
    for attempt in 1.. {
        match p
            .call(api, || {
                let f = send();
                async move { f.await.map_err(ApiError::from) }
            })
            .await
        {
            Ok(op) => return wait(p, op).await,
            Err(e)
                if (e.is(412) || (e.is(400) && e.message.contains("operation")))
                    && attempt < 30 =>
            {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
            Err(e) => return Err(e.into()),
        }
    }
    unreachable!("the loop returns")
}

async fn get_cluster(p: &GcpProvider, name: &str) -> Result<Option<Value>> {
    let path = p.cluster_path(name);
    let r = p
        .call("container.clusters.get", || {
            let f = p.gke.get_cluster().set_name(&path).send();
            async move { f.await.map_err(ApiError::from) }
        })
        .await;
    Ok(absent(r)?.map(|c| to_json(&c)))
}

async fn get_pool(p: &GcpProvider, cluster: &str, name: &str) -> Result<Option<Value>> {
    let path = format!("{}/nodePools/{name}", p.cluster_path(cluster));
    let r = p
        .call("container.nodePools.get", || {
            let f = p.gke.get_node_pool().set_name(&path).send();
            async move { f.await.map_err(ApiError::from) }
        })
        .await;
    Ok(absent(r)?.map(|c| to_json(&c)))
}

fn normal_cluster(d: &Value) -> Value {
    typed::<model::Cluster>(strip(d, CLUSTER_WRITE_ONLY))
        .map(|c| to_json(&c))
        .unwrap_or_else(|_| d.clone())
}

fn normal_pool(d: &Value) -> Value {
    typed::<model::NodePool>(strip(d, POOL_WRITE_ONLY))
        .map(|c| to_json(&c))
        .unwrap_or_else(|_| d.clone())
}

fn strip(v: &Value, pointers: &[&str]) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        for p in pointers {
            m.remove(p.trim_start_matches('/'));
        }
    }
    v
}

fn cluster_observed(live: &Value, d: &Value) -> Observed {
    let settings = project(live, d, &normal_cluster(d), CLUSTER_WRITE_ONLY);
    let mut outputs = serde_json::Map::new();
    outputs.insert("name".into(), json!(live.get("name")));
    outputs.insert("selfLink".into(), json!(live.get("selfLink")));
    outputs.insert("endpoint".into(), json!(live.get("endpoint")));
    outputs.insert(
        "privateClusterConfig.privateEndpoint".into(),
        json!(live.pointer("/privateClusterConfig/privateEndpoint")),
    );
    outputs.insert(
        "labelFingerprint".into(),
        json!(live.get("labelFingerprint")),
    );
    Observed {
        id: live
            .get("selfLink")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        outputs,
        settings,
    }
}

fn pool_observed(live: &Value, d: &Value) -> Observed {
    let settings = project(live, d, &normal_pool(d), POOL_WRITE_ONLY);
    let mut outputs = serde_json::Map::new();
    outputs.insert("name".into(), json!(live.get("name")));
    outputs.insert("selfLink".into(), json!(live.get("selfLink")));
    Observed {
        id: live
            .get("selfLink")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        outputs,
        settings,
    }
}

pub async fn read(
    p: &GcpProvider,
    r: &Resource,
    d: &Value,
    claim: Claim,
) -> Result<Option<Observed>> {
    let (cluster, name) = (s(d, "cluster"), s(d, "name"));
    match r.type_name() {
        "container_cluster" => {
            let Some(live) = get_cluster(p, name).await? else {
                return Ok(None);
            };
            p.check_labels(
                &format!("GKE cluster {name}"),
                live.get("resourceLabels"),
                claim,
            )?;
            if stopping(&live, CLUSTER_STOPPING) {
                return until_deleted(p, &format!("GKE cluster {name}"), || get_cluster(p, name))
                    .await;
            }
            Ok(Some(cluster_observed(&live, d)))
        }
        _ => match get_pool(p, cluster, name).await? {
            Some(live) if stopping(&live, POOL_STOPPING) => {
                until_deleted(p, &format!("GKE node pool {name}"), || {
                    get_pool(p, cluster, name)
                })
                .await
            }
            live => Ok(live.map(|live| pool_observed(&live, d))),
        },
    }
}

/// `Cluster.Status.STOPPING` and `NodePool.Status.STOPPING`, as numbers when the client
/// gives them as such.
const CLUSTER_STOPPING: i64 = 4;
const POOL_STOPPING: i64 = 5;

fn stopping(live: &Value, code: i64) -> bool {
    matches!(live.get("status"), Some(v) if v == "STOPPING" || v == &json!(code))
}

/// A cluster or node pool GKE is deleting (a destroy killed after it asked) is absent to
/// the plan, but it still holds its name: waits until GKE has finished, so that the create
/// that follows does not meet it.
async fn until_deleted<'a, F, Fut>(
    p: &'a GcpProvider,
    what: &str,
    get: F,
) -> Result<Option<Observed>>
where
    F: Fn() -> Fut + 'a,
    Fut: std::future::Future<Output = Result<Option<Value>>> + 'a,
{
    crate::exec::wait_until(
        &format!("{what} to finish deleting"),
        p.wait_timeout,
        || {
            let got = get();
            async move { Ok(got.await?.is_none()) }
        },
    )
    .await?;
    Ok(None)
}

pub async fn create(p: &GcpProvider, r: &Resource, d: &Value) -> Result<Observed> {
    match r.type_name() {
        "container_cluster" => {
            let name = s(d, "name").to_string();
            let mut body = strip(d, &["/removeDefaultNodePool"]);
            body["resourceLabels"] = p.labels_for(r, d.get("resourceLabels"));
            let request: model::CreateClusterRequest =
                typed(json!({ "parent": p.location(), "cluster": body }))?;
            if let Err(e) = operate(p, "container.clusters.create", || {
                p.gke.create_cluster().with_request(request.clone()).send()
            })
            .await
            {
                // 409: made by a run that died before recording it; ours if labelled so.
                if !e.downcast_ref::<ApiError>().is_some_and(|a| a.is(409)) {
                    return Err(e);
                }
                // Someone else's cluster of that name is refused before any wait.
                let live = get_cluster(p, &name)
                    .await?
                    .ok_or_else(|| anyhow!("GKE cluster {name} exists (409) but cannot be read"))?;
                p.check_labels(
                    &format!("GKE cluster {name}"),
                    live.get("resourceLabels"),
                    Claim::Found,
                )?;
                wait_running(p, &name).await?;
            }
            // GKE creates a cluster with a default node pool; the data plane's pools are
            // its own resources, so the default one goes (as `removeDefaultNodePool` says).
            if d.get("removeDefaultNodePool") == Some(&json!(true)) {
                let path = format!("{}/nodePools/default-pool", p.cluster_path(&name));
                let deleted = operate(p, "container.nodePools.delete", || {
                    p.gke.delete_node_pool().set_name(&path).send()
                })
                .await;
                if let Err(e) = deleted {
                    if !e.downcast_ref::<ApiError>().is_some_and(|a| a.is(404)) {
                        return Err(e);
                    }
                }
            }
            let live = get_cluster(p, &name).await?.ok_or_else(|| {
                anyhow!("GKE cluster {name} is not there after its creation finished")
            })?;
            p.check_labels(
                &format!("GKE cluster {name}"),
                live.get("resourceLabels"),
                Claim::Found,
            )?;
            Ok(cluster_observed(&live, d))
        }
        _ => {
            let cluster = s(d, "cluster").to_string();
            let name = s(d, "name").to_string();
            let request: model::CreateNodePoolRequest = typed(
                json!({ "parent": p.cluster_path(&cluster), "nodePool": strip(d, &["/cluster"]) }),
            )?;
            if let Err(e) = operate(p, "container.nodePools.create", || {
                p.gke
                    .create_node_pool()
                    .with_request(request.clone())
                    .send()
            })
            .await
            {
                if !e.downcast_ref::<ApiError>().is_some_and(|a| a.is(409)) {
                    return Err(e);
                }
            }
            let live = get_pool(p, &cluster, &name).await?.ok_or_else(|| {
                anyhow!("node pool {name} is not there after its creation finished")
            })?;
            Ok(pool_observed(&live, d))
        }
    }
}

/// A cluster a previous run started creating: wait until GKE says RUNNING.
async fn wait_running(p: &GcpProvider, name: &str) -> Result<()> {
    crate::exec::wait_until(
        &format!("GKE cluster {name} to be RUNNING"),
        p.wait_timeout,
        || async move {
            let live = get_cluster(p, name)
                .await?
                .ok_or_else(|| anyhow!("GKE cluster {name} disappeared"))?;
            let status = live.get("status");
            Ok(status == Some(&json!("RUNNING")) || status == Some(&json!(2)))
        },
    )
    .await
}

/// The `ClusterUpdate` field that changes each top-level setting, as GKE's API reference
/// lists them (`projects.locations.clusters.update`).
const CLUSTER_UPDATES: &[(&str, &str)] = &[
    (
        "/masterAuthorizedNetworksConfig",
        "desiredMasterAuthorizedNetworksConfig",
    ),
    ("/loggingConfig", "desiredLoggingConfig"),
    ("/databaseEncryption", "desiredDatabaseEncryption"),
    ("/workloadIdentityConfig", "desiredWorkloadIdentityConfig"),
    ("/shieldedNodes", "desiredShieldedNodes"),
    ("/releaseChannel", "desiredReleaseChannel"),
];

pub async fn update(
    p: &GcpProvider,
    r: &Resource,
    d: &Value,
    live: &Observed,
    changed: &[String],
) -> Result<Observed> {
    let name = s(d, "name").to_string();
    if r.type_name() == "container_node_pool" {
        return update_pool(p, r, d, changed).await;
    }
    let path = p.cluster_path(&name);
    // One update per setting, however many of its fields changed.
    let mut done: Vec<&str> = Vec::new();
    for c in changed {
        let setting = c.split('/').nth(1).unwrap_or_default();
        if done.contains(&setting) {
            continue;
        }
        done.push(setting);
        let update = if c.starts_with("/privateClusterConfig/enablePrivateEndpoint") {
            json!({ "desiredEnablePrivateEndpoint": d.pointer("/privateClusterConfig/enablePrivateEndpoint") })
        } else if c.starts_with("/resourceLabels") {
            let request: model::SetLabelsRequest = typed(json!({
                "name": path, "resourceLabels": p.labels_for(r, d.get("resourceLabels")), "labelFingerprint": live.outputs.get("labelFingerprint"),
            }))?;
            operate(p, "container.clusters.setResourceLabels", || {
                p.gke.set_labels().with_request(request.clone()).send()
            })
            .await?;
            continue;
        } else if c.starts_with("/legacyAbac") {
            let request: model::SetLegacyAbacRequest =
                typed(json!({ "name": path, "enabled": d.pointer("/legacyAbac/enabled") }))?;
            operate(p, "container.clusters.setLegacyAbac", || {
                p.gke.set_legacy_abac().with_request(request.clone()).send()
            })
            .await?;
            continue;
        } else if let Some((field, desired)) = CLUSTER_UPDATES
            .iter()
            .find(|(prefix, _)| c.starts_with(prefix))
            .map(|(prefix, f)| (*f, d.pointer(prefix)))
        {
            json!({ field: desired })
        } else {
            return Err(super::unsupported(r, std::slice::from_ref(c)));
        };
        let request: model::UpdateClusterRequest =
            typed(json!({ "name": path, "update": update }))?;
        operate(p, "container.clusters.update", || {
            p.gke.update_cluster().with_request(request.clone()).send()
        })
        .await?;
    }
    let live = get_cluster(p, &name)
        .await?
        .ok_or_else(|| anyhow!("GKE cluster {name} disappeared during the update"))?;
    Ok(cluster_observed(&live, d))
}

async fn update_pool(
    p: &GcpProvider,
    r: &Resource,
    d: &Value,
    changed: &[String],
) -> Result<Observed> {
    let (cluster, name) = (s(d, "cluster").to_string(), s(d, "name").to_string());
    let path = format!("{}/nodePools/{name}", p.cluster_path(&cluster));
    let mut config_changed = false;
    let mut done: Vec<&str> = Vec::new();
    for c in changed {
        let setting = c.split('/').nth(1).unwrap_or_default();
        if setting != "config" && done.contains(&setting) {
            continue;
        }
        done.push(setting);
        if c.starts_with("/autoscaling") {
            let request: model::SetNodePoolAutoscalingRequest =
                typed(json!({ "name": path, "autoscaling": d.get("autoscaling") }))?;
            operate(p, "container.nodePools.setAutoscaling", || {
                p.gke
                    .set_node_pool_autoscaling()
                    .with_request(request.clone())
                    .send()
            })
            .await?;
        } else if c.starts_with("/management") {
            let request: model::SetNodePoolManagementRequest =
                typed(json!({ "name": path, "management": d.get("management") }))?;
            operate(p, "container.nodePools.setManagement", || {
                p.gke
                    .set_node_pool_management()
                    .with_request(request.clone())
                    .send()
            })
            .await?;
        } else if [
            "/config/taints",
            "/config/labels",
            "/config/workloadMetadataConfig",
        ]
        .iter()
        .any(|x| c.starts_with(x))
        {
            config_changed = true;
        } else {
            return Err(super::unsupported(r, std::slice::from_ref(c)));
        }
    }
    if config_changed {
        // `taints` and `labels` replace the lists whole (`projects.locations.clusters.nodePools.update`).
        let request: model::UpdateNodePoolRequest = typed(json!({
            "name": path,
            "taints": { "taints": d.pointer("/config/taints") },
            "labels": { "labels": d.pointer("/config/labels") },
            "workloadMetadataConfig": d.pointer("/config/workloadMetadataConfig"),
        }))?;
        operate(p, "container.nodePools.update", || {
            p.gke
                .update_node_pool()
                .with_request(request.clone())
                .send()
        })
        .await?;
    }
    let live = get_pool(p, &cluster, &name)
        .await?
        .ok_or_else(|| anyhow!("node pool {name} disappeared during the update"))?;
    Ok(pool_observed(&live, d))
}

pub async fn delete(p: &GcpProvider, r: &ResourceState) -> Result<()> {
    let name = r
        .setting("/name")
        .and_then(Value::as_str)
        .unwrap_or(&r.name)
        .to_string();
    let path = match r.type_name() {
        "container_cluster" => p.cluster_path(&name),
        _ => format!(
            "{}/nodePools/{name}",
            p.cluster_path(
                r.setting("/cluster")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            )
        ),
    };
    let api = if r.type_name() == "container_cluster" {
        "container.clusters.delete"
    } else {
        "container.nodePools.delete"
    };
    let result = if r.type_name() == "container_cluster" {
        operate(p, api, || p.gke.delete_cluster().set_name(&path).send()).await
    } else {
        operate(p, api, || p.gke.delete_node_pool().set_name(&path).send()).await
    };
    match result {
        Err(e) if e.downcast_ref::<ApiError>().is_some_and(|a| a.is(404)) => Ok(()),
        other => gone(other.map_err(|e| ApiError::other(format!("{e:#}")))),
    }
}
