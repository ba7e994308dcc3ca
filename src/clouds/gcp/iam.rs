//! IAM: service accounts and their IAM policies, custom roles (`google-cloud-iam-admin-v1`),
//! and the workload identity pool and its AWS provider (REST: no Rust crate has them;
//! `iam.googleapis.com/v1/projects/*/locations/global/workloadIdentityPools`).
//!
//! IAM deletes softly: a deleted custom role or pool keeps its id for a while (recreating
//! it answers 409) and is undeleted, as `gcloud` and Terraform do.

use anyhow::{anyhow, Result};
use google_cloud_iam_admin_v1::model;
use serde_json::{json, Value};

use super::policy::{self, Target};
use super::provider::{
    absent, check_description, endpoint, gone, project, to_json, typed, ApiError, GcpProvider,
};
use crate::exec::adoption::Claim;
use crate::exec::Observed;
use crate::plan::Resource;
use crate::state::ResourceState;

fn s<'a>(d: &'a Value, key: &str) -> &'a str {
    d.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn ours(p: &GcpProvider, address: &str) -> String {
    format!("unionctl data plane {} ({address})", p.data_plane)
}

impl GcpProvider {
    fn service_account_name(&self, account_id: &str) -> String {
        format!(
            "projects/{}/serviceAccounts/{account_id}@{}.iam.gserviceaccount.com",
            self.project, self.project
        )
    }
}

async fn get_account(p: &GcpProvider, name: &str) -> Result<Option<model::ServiceAccount>> {
    absent(
        p.call("iam.serviceAccounts.get", || {
            let f = p.iam.get_service_account().set_name(name).send();
            async move { f.await.map_err(ApiError::from) }
        })
        .await,
    )
}

fn account_observed(a: &model::ServiceAccount, d: &Value) -> Observed {
    let live = to_json(a);
    let settings = project(&live, d, d, &["/accountId"]);
    let outputs = [
        ("name", json!(a.name)),
        ("email", json!(a.email)),
        ("uniqueId", json!(a.unique_id)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Observed {
        id: a.name.clone(),
        outputs,
        settings,
    }
}

async fn get_role(p: &GcpProvider, name: &str) -> Result<Option<model::Role>> {
    let role = absent(
        p.call("iam.roles.get", || {
            let f = p.iam.get_role().set_name(name).send();
            async move { f.await.map_err(ApiError::from) }
        })
        .await,
    )?;
    Ok(role)
}

fn role_observed(role: &model::Role, d: &Value) -> Observed {
    let mut live = json!({ "roleId": d["roleId"], "role": to_json(role) });
    // A role's permissions are a set (IAM answers them sorted).
    if super::policy::same_set(
        &live["role"]["includedPermissions"],
        &d["role"]["includedPermissions"],
    ) {
        live["role"]["includedPermissions"] = d["role"]["includedPermissions"].clone();
    }
    let normal = json!({ "roleId": d["roleId"], "role": typed::<model::Role>(d["role"].clone()).map(|r| to_json(&r)).unwrap_or(Value::Null) });
    let settings = project(&live, d, &normal, &[]);
    let outputs = [("name".to_string(), json!(role.name))]
        .into_iter()
        .collect();
    Observed {
        id: role.name.clone(),
        outputs,
        settings,
    }
}

fn pools_url(p: &GcpProvider) -> String {
    format!(
        "{}/v1/projects/{}/locations/global/workloadIdentityPools",
        endpoint("iam"),
        p.project
    )
}

/// Waits for an IAM long-running operation (`google.longrunning.Operation`).
async fn wait_operation(p: &GcpProvider, op: Value) -> Result<()> {
    let failed = |op: &Value| {
        op.get("error")
            .map(|e| anyhow!("IAM operation {} failed: {e}", s(op, "name")))
    };
    if let Some(e) = failed(&op) {
        return Err(e);
    }
    if op.get("done") == Some(&json!(true)) || op.get("name").is_none() {
        return Ok(());
    }
    let url = format!("{}/v1/{}", endpoint("iam"), s(&op, "name"));
    crate::exec::wait_until(
        &format!("IAM operation {}", s(&op, "name")),
        p.wait_timeout,
        || async {
            let next = p
                .call("iam.operations.get", || {
                    p.rest.send(reqwest::Method::GET, &url, None)
                })
                .await?;
            match failed(&next) {
                Some(e) => Err(e),
                None => Ok(next.get("done") == Some(&json!(true))),
            }
        },
    )
    .await
}

/// A pool or provider, `None` when absent or deleted (a deleted one keeps its id 30 days).
async fn get_rest(p: &GcpProvider, api: &'static str, url: &str) -> Result<Option<Value>> {
    let v = absent(
        p.call(api, || p.rest.send(reqwest::Method::GET, url, None))
            .await,
    )?;
    Ok(v.filter(|v| v.get("state").and_then(Value::as_str) != Some("DELETED")))
}

fn rest_observed(live: &Value, d: &Value, write_only: &[&str]) -> Observed {
    let settings = project(live, d, d, write_only);
    let name = live
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Observed {
        id: name.clone(),
        outputs: [("name".to_string(), json!(name))].into_iter().collect(),
        settings,
    }
}

const POOL_WRITE_ONLY: &[&str] = &["/workloadIdentityPoolId"];
const PROVIDER_WRITE_ONLY: &[&str] = &["/parent", "/workloadIdentityPoolProviderId"];

fn pool_url(p: &GcpProvider, d: &Value) -> String {
    format!("{}/{}", pools_url(p), s(d, "workloadIdentityPoolId"))
}

fn provider_url(d: &Value) -> String {
    format!(
        "{}/v1/{}/providers/{}",
        endpoint("iam"),
        s(d, "parent"),
        s(d, "workloadIdentityPoolProviderId")
    )
}

fn policy_target(d: &Value) -> Target {
    Target::ServiceAccount(s(d, "resource").to_string())
}

pub async fn read(
    p: &GcpProvider,
    r: &Resource,
    d: &Value,
    claim: Claim,
) -> Result<Option<Observed>> {
    match r.type_name() {
        "service_account" => {
            let Some(a) = get_account(p, &p.service_account_name(s(d, "accountId"))).await? else {
                return Ok(None);
            };
            check_description(
                &format!("service account {}", a.email),
                &a.description,
                &p.data_plane,
                claim,
            )?;
            Ok(Some(account_observed(&a, d)))
        }
        "service_account_iam_binding" | "service_account_iam_member" => {
            let Some(policy) = absent(policy::get(p, &policy_target(d)).await)? else {
                return Ok(None);
            };
            Ok(policy::settings(&policy, d).map(|settings| Observed {
                id: format!("{} {}", s(d, "resource"), s(d, "role")),
                outputs: Default::default(),
                settings,
            }))
        }
        "project_iam_custom_role" => {
            let name = format!("projects/{}/roles/{}", p.project, s(d, "roleId"));
            let Some(role) = get_role(p, &name).await?.filter(|r| !r.deleted) else {
                return Ok(None);
            };
            check_description(
                &format!("custom role {}", role.name),
                &role.description,
                &p.data_plane,
                claim,
            )?;
            Ok(Some(role_observed(&role, d)))
        }
        kind => {
            let (api, url, write_only) = match kind {
                "iam_workload_identity_pool" => (
                    "iam.workloadIdentityPools.get",
                    pool_url(p, d),
                    POOL_WRITE_ONLY,
                ),
                _ => (
                    "iam.workloadIdentityPoolProviders.get",
                    provider_url(d),
                    PROVIDER_WRITE_ONLY,
                ),
            };
            let Some(live) = get_rest(p, api, &url).await? else {
                return Ok(None);
            };
            check_description(
                &format!("{kind} {}", s(&live, "name")),
                s(&live, "description"),
                &p.data_plane,
                claim,
            )?;
            Ok(Some(rest_observed(&live, d, write_only)))
        }
    }
}

pub async fn create(p: &GcpProvider, r: &Resource, d: &Value) -> Result<Observed> {
    match r.type_name() {
        "service_account" => {
            let account: model::ServiceAccount = typed(
                json!({ "displayName": d["displayName"], "description": ours(p, &r.address) }),
            )?;
            let project = format!("projects/{}", p.project);
            let created = p
                .call("iam.serviceAccounts.create", || {
                    let f = p
                        .iam
                        .create_service_account()
                        .set_name(&project)
                        .set_account_id(s(d, "accountId"))
                        .set_service_account(account.clone())
                        .send();
                    async move { f.await.map_err(ApiError::from) }
                })
                .await;
            match created {
                Ok(a) => Ok(account_observed(&a, d)),
                // A previous run made it, or it exists already: service accounts have no
                // labels, so the description says whose it is.
                Err(e) if e.is(409) => {
                    let a = get_account(p, &p.service_account_name(s(d, "accountId")))
                        .await?
                        .ok_or_else(|| {
                            anyhow!("service account exists (409) but cannot be read")
                        })?;
                    if a.description != ours(p, &r.address) {
                        return Err(crate::error::UserError::new(format!(
                            "service account {} exists but was not created by this data plane",
                            a.email
                        ))
                        .hint("rename or remove it")
                        .into());
                    }
                    Ok(account_observed(&a, d))
                }
                Err(e) => Err(e.into()),
            }
        }
        "service_account_iam_binding" | "service_account_iam_member" => set_binding(p, d).await,
        "project_iam_custom_role" => {
            let role: model::Role = typed(d["role"].clone())?;
            let parent = format!("projects/{}", p.project);
            let created = p
                .call("iam.roles.create", || {
                    let f = p
                        .iam
                        .create_role()
                        .set_parent(&parent)
                        .set_role_id(s(d, "roleId"))
                        .set_role(role.clone())
                        .send();
                    async move { f.await.map_err(ApiError::from) }
                })
                .await;
            match created {
                Ok(role) => Ok(role_observed(&role, d)),
                Err(e) if e.is(409) || e.is(400) && e.message.contains("deleted") => {
                    let name = format!("{parent}/roles/{}", s(d, "roleId"));
                    if let Some(live) = get_role(p, &name).await?.filter(|r| !r.deleted) {
                        check_description(
                            &format!("custom role {name}"),
                            &live.description,
                            &p.data_plane,
                            Claim::Found,
                        )?;
                    }
                    let _ = p
                        .call("iam.roles.undelete", || {
                            let f = p.iam.undelete_role().set_name(&name).send();
                            async move { f.await.map_err(ApiError::from) }
                        })
                        .await;
                    update_role(p, d).await
                }
                Err(e) => Err(e.into()),
            }
        }
        "iam_workload_identity_pool" => {
            let url = format!(
                "{}?workloadIdentityPoolId={}",
                pools_url(p),
                s(d, "workloadIdentityPoolId")
            );
            let body = strip(d, POOL_WRITE_ONLY);
            create_rest(
                p,
                "iam.workloadIdentityPools.create",
                &url,
                &pool_url(p, d),
                &body,
                &p.data_plane,
            )
            .await?;
            let live = get_rest(p, "iam.workloadIdentityPools.get", &pool_url(p, d))
                .await?
                .ok_or_else(|| anyhow!("the pool is not there after its creation"))?;
            Ok(rest_observed(&live, d, POOL_WRITE_ONLY))
        }
        _ => {
            let url = format!(
                "{}/v1/{}/providers?workloadIdentityPoolProviderId={}",
                endpoint("iam"),
                s(d, "parent"),
                s(d, "workloadIdentityPoolProviderId")
            );
            let body = strip(d, PROVIDER_WRITE_ONLY);
            create_rest(
                p,
                "iam.workloadIdentityPoolProviders.create",
                &url,
                &provider_url(d),
                &body,
                &p.data_plane,
            )
            .await?;
            let live = get_rest(p, "iam.workloadIdentityPoolProviders.get", &provider_url(d))
                .await?
                .ok_or_else(|| anyhow!("the provider is not there after its creation"))?;
            Ok(rest_observed(&live, d, PROVIDER_WRITE_ONLY))
        }
    }
}

fn strip(d: &Value, pointers: &[&str]) -> Value {
    let mut v = d.clone();
    if let Some(m) = v.as_object_mut() {
        for k in pointers {
            m.remove(k.trim_start_matches('/'));
        }
    }
    v
}

/// Creates a pool or provider; one deleted within 30 days is undeleted and updated.
async fn create_rest(
    p: &GcpProvider,
    api: &'static str,
    create_url: &str,
    url: &str,
    body: &Value,
    data_plane: &str,
) -> Result<()> {
    match p
        .call(api, || {
            p.rest.send(reqwest::Method::POST, create_url, Some(body))
        })
        .await
    {
        Ok(op) => wait_operation(p, op).await,
        Err(e) if e.is(409) => {
            let existing = absent(
                p.call("iam.workloadIdentityPools.get", || {
                    p.rest.send(reqwest::Method::GET, url, None)
                })
                .await,
            )?;
            if let Some(live) = existing
                .as_ref()
                .filter(|v| v.get("state").and_then(Value::as_str) != Some("DELETED"))
            {
                check_description(url, s(live, "description"), data_plane, Claim::Found)?;
            }
            if existing
                .as_ref()
                .and_then(|v| v.get("state"))
                .and_then(Value::as_str)
                == Some("DELETED")
            {
                let (undelete, empty) = (format!("{url}:undelete"), json!({}));
                let op = p
                    .call("iam.workloadIdentityPools.undelete", || {
                        p.rest.send(reqwest::Method::POST, &undelete, Some(&empty))
                    })
                    .await?;
                wait_operation(p, op).await?;
            }
            patch_rest(p, url, body).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn patch_rest(p: &GcpProvider, url: &str, body: &Value) -> Result<()> {
    let mask: Vec<&str> = body
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let url = format!("{url}?updateMask={}", mask.join(","));
    let op = p
        .call("iam.workloadIdentityPools.patch", || {
            p.rest.send(reqwest::Method::PATCH, &url, Some(body))
        })
        .await?;
    wait_operation(p, op).await
}

async fn set_binding(p: &GcpProvider, d: &Value) -> Result<Observed> {
    let policy = policy::modify(p, &policy_target(d), |pol| policy::edit(pol, d, false)).await?;
    let settings = policy::settings(&policy, d).unwrap_or_else(|| d.clone());
    Ok(Observed {
        id: format!("{} {}", s(d, "resource"), s(d, "role")),
        outputs: Default::default(),
        settings,
    })
}

async fn update_role(p: &GcpProvider, d: &Value) -> Result<Observed> {
    let name = format!("projects/{}/roles/{}", p.project, s(d, "roleId"));
    let role: model::Role = typed(d["role"].clone())?;
    let mask: google_cloud_wkt::FieldMask =
        serde_json::from_value(json!("title,description,includedPermissions,stage"))
            .unwrap_or_default();
    let role = p
        .call("iam.roles.update", || {
            let f = p
                .iam
                .update_role()
                .set_name(&name)
                .set_role(role.clone())
                .set_update_mask(mask.clone())
                .send();
            async move { f.await.map_err(ApiError::from) }
        })
        .await?;
    Ok(role_observed(&role, d))
}

pub async fn update(
    p: &GcpProvider,
    r: &Resource,
    d: &Value,
    _live: &Observed,
    changed: &[String],
) -> Result<Observed> {
    match r.type_name() {
        "service_account" => {
            let name = p.service_account_name(s(d, "accountId"));
            let request: model::PatchServiceAccountRequest = typed(json!({
                "serviceAccount": { "name": name, "displayName": d["displayName"], "description": ours(p, &r.address) },
                "updateMask": "displayName,description",
            }))?;
            let a = p
                .call("iam.serviceAccounts.patch", || {
                    let f = p
                        .iam
                        .patch_service_account()
                        .with_request(request.clone())
                        .send();
                    async move { f.await.map_err(ApiError::from) }
                })
                .await?;
            Ok(account_observed(&a, d))
        }
        "service_account_iam_binding" | "service_account_iam_member" => set_binding(p, d).await,
        "project_iam_custom_role" => update_role(p, d).await,
        "iam_workload_identity_pool" => {
            patch_rest(p, &pool_url(p, d), &strip(d, POOL_WRITE_ONLY)).await?;
            read(p, r, d, Claim::Recorded)
                .await?
                .ok_or_else(|| anyhow!("the pool disappeared during the update"))
        }
        "iam_workload_identity_pool_provider" => {
            patch_rest(p, &provider_url(d), &strip(d, PROVIDER_WRITE_ONLY)).await?;
            read(p, r, d, Claim::Recorded)
                .await?
                .ok_or_else(|| anyhow!("the provider disappeared during the update"))
        }
        _ => Err(super::unsupported(r, changed)),
    }
}

pub async fn delete(p: &GcpProvider, r: &ResourceState) -> Result<()> {
    let d = &r.settings;
    match r.type_name() {
        "service_account" => {
            let name = p.service_account_name(s(d, "accountId"));
            gone(
                p.call("iam.serviceAccounts.delete", || {
                    let f = p.iam.delete_service_account().set_name(&name).send();
                    async move { f.await.map_err(ApiError::from) }
                })
                .await,
            )
        }
        "service_account_iam_binding" | "service_account_iam_member" => {
            match policy::modify(p, &policy_target(d), |pol| policy::edit(pol, d, true)).await {
                // The account is gone, and its policy with it.
                Err(e) if e.downcast_ref::<ApiError>().is_some_and(|a| a.is(404)) => Ok(()),
                other => other.map(|_| ()),
            }
        }
        "project_iam_custom_role" => {
            let name = format!("projects/{}/roles/{}", p.project, s(d, "roleId"));
            gone(
                p.call("iam.roles.delete", || {
                    let f = p.iam.delete_role().set_name(&name).send();
                    async move { f.await.map_err(ApiError::from) }
                })
                .await,
            )
        }
        kind => {
            let url = if kind == "iam_workload_identity_pool" {
                pool_url(p, d)
            } else {
                provider_url(d)
            };
            if get_rest(p, "iam.workloadIdentityPools.get", &url)
                .await?
                .is_none()
            {
                return Ok(());
            }
            match p
                .call("iam.workloadIdentityPools.delete", || {
                    p.rest.send(reqwest::Method::DELETE, &url, None)
                })
                .await
            {
                Ok(op) => wait_operation(p, op).await,
                Err(e) if e.is(404) => Ok(()),
                Err(e) => Err(e.into()),
            }
        }
    }
}
