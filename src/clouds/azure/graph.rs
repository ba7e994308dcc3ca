//! Microsoft Graph: the application Union.ai signs in as, its service principal, and the
//! application's one federated identity credential (Union.ai's token).
//!
//! Applications and service principals are written by upsert (`PATCH
//! /applications(uniqueName='…')`, `PATCH /servicePrincipals(appId='…')` with `Prefer:
//! create-if-missing`): idempotent by a name unionctl chooses, so a re-run after a lost
//! response finds what the first run made instead of making a second one.
//! References: <https://learn.microsoft.com/graph/api/application-upsert>,
//! <https://learn.microsoft.com/graph/api/serviceprincipal-upsert>,
//! <https://learn.microsoft.com/graph/api/application-post-federatedidentitycredentials>.

use anyhow::{anyhow, Result};
use azure_core::http::Method;
use serde_json::{json, Map, Value};

use super::provider::AzureProvider;
use crate::clouds::live::project;
use crate::exec::adoption::{Claim, TAG_LINEAGE};
use crate::exec::Observed;
use crate::plan::builder::{TAG_DATA_PLANE, TAG_OWNER};
use crate::plan::Resource;
use crate::state::ResourceState;

const UPSERT: (&str, &str) = ("prefer", "create-if-missing");

fn quoted(s: &str) -> String {
    s.replace('\'', "''")
}

/// Graph tags are plain strings: ours say which data plane and owner, like ARM's tags.
fn tags(p: &AzureProvider, owner: &str) -> Value {
    json!([
        format!("{TAG_DATA_PLANE}={}", p.data_plane),
        format!("{TAG_OWNER}={owner}"),
        format!("{TAG_LINEAGE}={}", p.lineage)
    ])
}

/// Whether this state may take a Graph object found as `claim` says (`exec::adoption`).
fn ours(p: &AzureProvider, what: &str, live: &Value, claim: Claim) -> Result<()> {
    let tag = |key: &str| {
        live.get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .find_map(|t| t.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
    };
    p.check_marks(what, tag(TAG_DATA_PLANE), tag(TAG_LINEAGE), claim)
}

async fn get(p: &AzureProvider, what: &str, path: &str) -> Result<Option<Value>> {
    let url = format!("{}/v1.0/{path}", p.endpoints.graph);
    let reply = p
        .call(what, false, || p.graph.send(Method::Get, &url, None, &[]))
        .await?;
    match reply.status {
        200 => Ok(Some(reply.json)),
        404 => Ok(None),
        _ => Err(reply.error(what).into()),
    }
}

async fn write(
    p: &AzureProvider,
    what: &str,
    method: Method,
    path: &str,
    body: &Value,
    headers: &[(&'static str, &str)],
) -> Result<u16> {
    let url = format!("{}/v1.0/{path}", p.endpoints.graph);
    let reply = p
        .call(what, true, || {
            p.graph.send(method, &url, Some(body), headers)
        })
        .await?;
    if !reply.ok() {
        return Err(reply.error(what).into());
    }
    Ok(reply.status)
}

fn observed(id: &str, live: &Value, desired: &Value, outputs: &[&str]) -> Observed {
    let outputs: Map<String, Value> = outputs
        .iter()
        .filter_map(|k| live.get(*k).map(|v| ((*k).to_string(), v.clone())))
        .collect();
    Observed {
        id: id.to_string(),
        outputs,
        settings: project(live, desired, desired, &[]),
    }
}

fn app_path(r: &Resource) -> String {
    format!("applications(uniqueName='{}')", quoted(&r.name))
}

pub async fn read(
    p: &AzureProvider,
    r: &Resource,
    d: &Value,
    claim: Claim,
) -> Result<Option<Observed>> {
    match r.type_name() {
        "application" => {
            let Some(live) = get(p, "Graph applications.get", &app_path(r)).await? else {
                return Ok(None);
            };
            ours(p, &format!("application {}", r.name), &live, claim)?;
            Ok(Some(observed(
                live["id"].as_str().unwrap_or_default(),
                &live,
                d,
                &["id", "appId"],
            )))
        }
        "service_principal" => {
            let app_id = d["appId"].as_str().unwrap_or_default();
            let Some(live) = get(
                p,
                "Graph servicePrincipals.get",
                &format!("servicePrincipals(appId='{}')", quoted(app_id)),
            )
            .await?
            else {
                return Ok(None);
            };
            ours(p, &format!("service principal of {app_id}"), &live, claim)?;
            Ok(Some(observed(
                live["id"].as_str().unwrap_or_default(),
                &live,
                d,
                &["id", "appId"],
            )))
        }
        _ => {
            let path = credential_path(d);
            let Some(mut live) = get(p, "Graph federatedIdentityCredentials.get", &path).await?
            else {
                return Ok(None);
            };
            live["application"] = d["application"].clone();
            Ok(Some(observed(&path, &live, d, &["id", "name"])))
        }
    }
}

fn credential_path(d: &Value) -> String {
    format!(
        "applications/{}/federatedIdentityCredentials/{}",
        d["application"].as_str().unwrap_or_default(),
        d["name"].as_str().unwrap_or_default()
    )
}

fn credential_body(d: &Value) -> Value {
    json!({ "name": d["name"], "issuer": d["issuer"], "subject": d["subject"], "audiences": d["audiences"], "description": "Union.ai's sign-in (unionctl)" })
}

pub async fn create(p: &AzureProvider, r: &Resource, d: &Value) -> Result<Observed> {
    match r.type_name() {
        "application" => {
            // No certificate (keyCredentials can be written) and no password (passwords are
            // only removed one by one: removePassword).
            let body = json!({ "displayName": d["displayName"], "signInAudience": d["signInAudience"], "keyCredentials": [], "tags": tags(p, "customer") });
            write(
                p,
                "Graph applications.upsert",
                Method::Patch,
                &app_path(r),
                &body,
                &[UPSERT],
            )
            .await?;
            if let Some(live) = get(p, "Graph applications.get", &app_path(r)).await? {
                for password in live["passwordCredentials"].as_array().into_iter().flatten() {
                    let path = format!(
                        "applications/{}/removePassword",
                        live["id"].as_str().unwrap_or_default()
                    );
                    write(
                        p,
                        "Graph applications.removePassword",
                        Method::Post,
                        &path,
                        &json!({ "keyId": password["keyId"] }),
                        &[],
                    )
                    .await?;
                }
            }
        }
        "service_principal" => {
            let path = format!(
                "servicePrincipals(appId='{}')",
                quoted(d["appId"].as_str().unwrap_or_default())
            );
            write(
                p,
                "Graph servicePrincipals.upsert",
                Method::Patch,
                &path,
                &json!({ "tags": tags(p, "customer") }),
                &[UPSERT],
            )
            .await?;
        }
        _ => {
            let list = format!(
                "applications/{}/federatedIdentityCredentials",
                d["application"].as_str().unwrap_or_default()
            );
            match write(
                p,
                "Graph federatedIdentityCredentials.create",
                Method::Post,
                &list,
                &credential_body(d),
                &[],
            )
            .await
            {
                Ok(_) => {}
                // Made by an earlier run whose answer was lost: bring it to the plan.
                Err(e)
                    if e.downcast_ref::<super::arm::ApiError>()
                        .is_some_and(|a| a.is(409)) =>
                {
                    write(
                        p,
                        "Graph federatedIdentityCredentials.update",
                        Method::Patch,
                        &credential_path(d),
                        &credential_body(d),
                        &[],
                    )
                    .await?;
                }
                Err(e) => return Err(e),
            }
        }
    }
    read(p, r, d, Claim::Recorded)
        .await?
        .ok_or_else(|| anyhow!("{} is not there after it was written", r.address))
}

pub async fn update(p: &AzureProvider, r: &Resource, d: &Value) -> Result<Observed> {
    match r.type_name() {
        "application" | "service_principal" => create(p, r, d).await,
        _ => {
            write(
                p,
                "Graph federatedIdentityCredentials.update",
                Method::Patch,
                &credential_path(d),
                &credential_body(d),
                &[],
            )
            .await?;
            read(p, r, d, Claim::Recorded)
                .await?
                .ok_or_else(|| anyhow!("{} is not there after it was written", r.address))
        }
    }
}

pub async fn delete(p: &AzureProvider, r: &ResourceState) -> Result<()> {
    let path = match r.type_name() {
        "application" => format!("applications/{}", r.id),
        "service_principal" => format!("servicePrincipals/{}", r.id),
        _ => r.id.clone(),
    };
    let url = format!("{}/v1.0/{path}", p.endpoints.graph);
    let what = format!("Graph {}.delete", r.type_name());
    let reply = p
        .call(&what, true, || {
            p.graph.send(Method::Delete, &url, None, &[])
        })
        .await?;
    match reply.status {
        404 => Ok(()),
        s if (200..300).contains(&s) => Ok(()),
        _ => Err(reply.error(&what).into()),
    }
}
