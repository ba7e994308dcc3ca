//! Cloud Storage: the data plane's buckets and who may use them, over the JSON API
//! (`storage.googleapis.com/storage/v1`) with the provider's credentials: the Rust
//! crate's bucket administration (`StorageControl`) is gRPC only.

use anyhow::{anyhow, Result};
use reqwest::Method;
use serde_json::{json, Value};

use super::policy::{self, Target};
use super::provider::{absent, endpoint, gone, project, ApiError, GcpProvider};
use crate::exec::adoption::Claim;
use crate::exec::Observed;
use crate::plan::Resource;
use crate::state::ResourceState;

fn s<'a>(d: &'a Value, key: &str) -> &'a str {
    d.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn bucket_url(name: &str) -> String {
    format!("{}/storage/v1/b/{name}", endpoint("storage"))
}

async fn get(p: &GcpProvider, name: &str) -> Result<Option<Value>> {
    let url = bucket_url(name);
    absent(
        p.call("storage.buckets.get", || {
            p.rest.send(Method::GET, &url, None)
        })
        .await,
    )
}

fn observed(live: &Value, d: &Value) -> Observed {
    let settings = project(live, d, d, &[]);
    let outputs = [
        ("name", live.get("name")),
        ("selfLink", live.get("selfLink")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), json!(v)))
    .collect();
    Observed {
        id: s(live, "name").to_string(),
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
    if r.type_name() == "storage_bucket_iam_member" {
        let Some(policy) =
            absent(policy::get(p, &Target::Bucket(s(d, "bucket").to_string())).await)?
        else {
            return Ok(None);
        };
        return Ok(policy::settings(&policy, d).map(|settings| Observed {
            id: format!("{} {}", s(d, "bucket"), s(d, "member")),
            outputs: Default::default(),
            settings,
        }));
    }
    let Some(live) = get(p, s(d, "name")).await? else {
        return Ok(None);
    };
    // Bucket names are global: one under our name must be this state's.
    p.check_labels(
        &format!("bucket {}", s(&live, "name")),
        live.get("labels"),
        claim,
    )?;
    Ok(Some(observed(&live, d)))
}

pub async fn create(p: &GcpProvider, r: &Resource, d: &Value) -> Result<Observed> {
    if r.type_name() == "storage_bucket_iam_member" {
        return set_member(p, d).await;
    }
    let mut body = d.clone();
    body["labels"] = p.labels_for(r, d.get("labels"));
    let url = format!("{}/storage/v1/b?project={}", endpoint("storage"), p.project);
    match p
        .call("storage.buckets.insert", || {
            p.rest.send(Method::POST, &url, Some(&body))
        })
        .await
    {
        Ok(live) => Ok(observed(&live, d)),
        Err(e) if e.is(409) => {
            let live = get(p, s(d, "name")).await?.ok_or_else(|| {
                anyhow!("bucket {} exists in another project (409)", s(d, "name"))
            })?;
            p.check_labels(
                &format!("bucket {}", s(&live, "name")),
                live.get("labels"),
                Claim::Found,
            )?;
            update(p, r, d, &observed(&live, d), &[]).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn set_member(p: &GcpProvider, d: &Value) -> Result<Observed> {
    let live = policy::modify(p, &Target::Bucket(s(d, "bucket").to_string()), |pol| {
        policy::edit(pol, d, false)
    })
    .await?;
    Ok(Observed {
        id: format!("{} {}", s(d, "bucket"), s(d, "member")),
        outputs: Default::default(),
        settings: policy::settings(&live, d).unwrap_or_else(|| d.clone()),
    })
}

pub async fn update(
    p: &GcpProvider,
    r: &Resource,
    d: &Value,
    _live: &Observed,
    _changed: &[String],
) -> Result<Observed> {
    if r.type_name() == "storage_bucket_iam_member" {
        return set_member(p, d).await;
    }
    let mut body = d.clone();
    if let Some(m) = body.as_object_mut() {
        m.remove("name");
        m.remove("location");
    }
    body["labels"] = p.labels_for(r, d.get("labels"));
    let url = bucket_url(s(d, "name"));
    let live = p
        .call("storage.buckets.patch", || {
            p.rest.send(Method::PATCH, &url, Some(&body))
        })
        .await?;
    Ok(observed(&live, d))
}

/// Every version of every object (a versioned bucket keeps noncurrent ones).
async fn objects(p: &GcpProvider, bucket: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut url = reqwest::Url::parse(&format!("{}/o", bucket_url(bucket)))?;
        url.query_pairs_mut().append_pair("versions", "true");
        if let Some(t) = &token {
            url.query_pairs_mut().append_pair("pageToken", t);
        }
        let url = url.to_string();
        let page = p
            .call("storage.objects.list", || {
                p.rest.send(Method::GET, &url, None)
            })
            .await?;
        for o in page
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.push((
                s(o, "name").to_string(),
                o.get("generation")
                    .map(|g| {
                        g.as_str()
                            .map(String::from)
                            .unwrap_or_else(|| g.to_string())
                    })
                    .unwrap_or_default(),
            ));
        }
        token = page
            .get("nextPageToken")
            .and_then(Value::as_str)
            .map(String::from);
        if token.is_none() {
            return Ok(out);
        }
    }
}

pub async fn object_count(p: &GcpProvider, bucket: &str) -> Result<u64> {
    match objects(p, bucket).await {
        Err(e) if e.downcast_ref::<ApiError>().is_some_and(|a| a.is(404)) => Ok(0),
        other => other.map(|o| o.len() as u64),
    }
}

pub async fn delete(p: &GcpProvider, r: &ResourceState, with_data: bool) -> Result<()> {
    let d = &r.settings;
    if r.type_name() == "storage_bucket_iam_member" {
        return match policy::modify(p, &Target::Bucket(s(d, "bucket").to_string()), |pol| {
            policy::edit(pol, d, true)
        })
        .await
        {
            Err(e) if e.downcast_ref::<ApiError>().is_some_and(|a| a.is(404)) => Ok(()),
            other => other.map(|_| ()),
        };
    }
    let name = if r.id.is_empty() {
        s(d, "name").to_string()
    } else {
        r.id.clone()
    };
    if with_data {
        for (object, generation) in objects(p, &name).await.or_else(|e| {
            if e.downcast_ref::<ApiError>().is_some_and(|a| a.is(404)) {
                Ok(vec![])
            } else {
                Err(e)
            }
        })? {
            let mut url = reqwest::Url::parse(&format!("{}/o", bucket_url(&name)))?;
            url.path_segments_mut()
                .map_err(|_| anyhow!("bad bucket URL"))?
                .push(&object);
            url.query_pairs_mut().append_pair("generation", &generation);
            gone(
                p.call("storage.objects.delete", || {
                    p.rest.send(Method::DELETE, url.as_str(), None)
                })
                .await,
            )?;
        }
    }
    let url = bucket_url(&name);
    gone(
        p.call("storage.buckets.delete", || {
            p.rest.send(Method::DELETE, &url, None)
        })
        .await,
    )
}
