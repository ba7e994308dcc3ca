//! IAM policies on a project, a service account, a Cloud KMS key or a bucket, and the
//! bindings the plan manages in them: an authoritative binding (`members` is the whole
//! list for the role) or one additive member, each optionally under a condition.
//!
//! Every change is read-modify-write with the policy's `etag`: a concurrent change makes
//! the write fail with 409 (ABORTED), and the change is read and applied again.

use std::time::Duration;

use anyhow::{anyhow, Result};
use serde_json::{json, Value};

use super::provider::{to_json, typed, ApiError, GcpProvider};

#[derive(Debug, Clone)]
pub enum Target {
    Project,
    ServiceAccount(String),
    KmsKey(String),
    Bucket(String),
}

impl Target {
    fn label(&self) -> String {
        match self {
            Target::Project => "the project".into(),
            Target::ServiceAccount(n) => format!("service account {n}"),
            Target::KmsKey(k) => format!("key {k}"),
            Target::Bucket(b) => format!("bucket {b}"),
        }
    }
}

/// Policy version 3: the only one that carries conditions.
const VERSION: i32 = 3;

pub async fn get(p: &GcpProvider, t: &Target) -> Result<Value, ApiError> {
    let options: google_cloud_iam_v1::model::GetPolicyOptions =
        serde_json::from_value(json!({ "requestedPolicyVersion": VERSION })).unwrap_or_default();
    match t {
        Target::Project => {
            let resource = format!("projects/{}", p.project);
            let policy = p.call("resourcemanager.projects.getIamPolicy", || {
                let f = p
                    .projects
                    .get_iam_policy()
                    .set_resource(&resource)
                    .set_options(options.clone())
                    .send();
                async move { f.await.map_err(ApiError::from) }
            });
            policy.await.map(|x| to_json(&x))
        }
        Target::ServiceAccount(name) => p
            .call("iam.serviceAccounts.getIamPolicy", || {
                let f = p
                    .iam
                    .get_iam_policy()
                    .set_resource(name)
                    .set_options(options.clone())
                    .send();
                async move { f.await.map_err(ApiError::from) }
            })
            .await
            .map(|x| to_json(&x)),
        Target::KmsKey(key) => p
            .call("cloudkms.cryptoKeys.getIamPolicy", || {
                let f = p
                    .kms
                    .get_iam_policy()
                    .set_resource(key)
                    .set_options(options.clone())
                    .send();
                async move { f.await.map_err(ApiError::from) }
            })
            .await
            .map(|x| to_json(&x)),
        Target::Bucket(b) => {
            let url = format!(
                "{}/storage/v1/b/{b}/iam?optionsRequestedPolicyVersion={VERSION}",
                super::provider::endpoint("storage")
            );
            p.call("storage.buckets.getIamPolicy", || {
                p.rest.send(reqwest::Method::GET, &url, None)
            })
            .await
        }
    }
}

async fn set(p: &GcpProvider, t: &Target, policy: Value) -> Result<Value, ApiError> {
    let typed_policy = || {
        typed::<google_cloud_iam_v1::model::Policy>(policy.clone())
            .map_err(|e| ApiError::other(e.to_string()))
    };
    match t {
        Target::Project => {
            let resource = format!("projects/{}", p.project);
            let pol = typed_policy()?;
            let mask: google_cloud_wkt::FieldMask =
                serde_json::from_value(json!("bindings,etag,auditConfigs")).unwrap_or_default();
            p.call("resourcemanager.projects.setIamPolicy", || {
                let f = p
                    .projects
                    .set_iam_policy()
                    .set_resource(&resource)
                    .set_policy(pol.clone())
                    .set_update_mask(mask.clone())
                    .send();
                async move { f.await.map_err(ApiError::from) }
            })
            .await
            .map(|x| to_json(&x))
        }
        Target::ServiceAccount(name) => {
            let pol = typed_policy()?;
            p.call("iam.serviceAccounts.setIamPolicy", || {
                let f = p
                    .iam
                    .set_iam_policy()
                    .set_resource(name)
                    .set_policy(pol.clone())
                    .send();
                async move { f.await.map_err(ApiError::from) }
            })
            .await
            .map(|x| to_json(&x))
        }
        Target::KmsKey(key) => {
            let pol = typed_policy()?;
            p.call("cloudkms.cryptoKeys.setIamPolicy", || {
                let f = p
                    .kms
                    .set_iam_policy()
                    .set_resource(key)
                    .set_policy(pol.clone())
                    .send();
                async move { f.await.map_err(ApiError::from) }
            })
            .await
            .map(|x| to_json(&x))
        }
        Target::Bucket(b) => {
            let url = format!(
                "{}/storage/v1/b/{b}/iam",
                super::provider::endpoint("storage")
            );
            p.call("storage.buckets.setIamPolicy", || {
                p.rest.send(reqwest::Method::PUT, &url, Some(&policy))
            })
            .await
        }
    }
}

/// Changes the policy with `edit`, retrying on a concurrent change (stale etag) and while
/// a just-created principal is not yet visible to IAM (eventual consistency).
pub async fn modify(p: &GcpProvider, t: &Target, edit: impl Fn(&mut Value)) -> Result<Value> {
    let _one_at_a_time = p.policy_lock.lock().await;
    let mut delay = Duration::from_secs(1);
    for attempt in 1..=8 {
        // A resource created seconds ago can be missing from IAM for a moment.
        let mut policy = match get(p, t).await {
            Err(e) if e.is(404) && attempt < 4 => {
                tokio::time::sleep(delay).await;
                delay *= 2;
                continue;
            }
            other => other?,
        };
        let before = policy.clone();
        edit(&mut policy);
        if policy == before {
            return Ok(policy);
        }
        policy["version"] = json!(VERSION);
        match set(p, t, policy).await {
            Ok(v) => return Ok(v),
            Err(e)
                if attempt < 8
                    && (e.is(409)
                        || e.is(412)
                        || (e.is(400) && e.message.contains("does not exist"))) =>
            {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(20));
            }
            Err(e) => {
                return Err(anyhow!(e).context(format!("setting the IAM policy of {}", t.label())))
            }
        }
    }
    unreachable!("the loop returns")
}

fn condition_of(b: &Value) -> Option<&str> {
    b.pointer("/condition/expression").and_then(Value::as_str)
}

fn same_binding(b: &Value, d: &Value) -> bool {
    b.get("role") == d.get("role") && condition_of(b) == condition_of(d)
}

/// The binding's settings as live: `members` (authoritative) or `member` (additive);
/// `None` when the binding (or the additive member) is absent.
pub fn settings(policy: &Value, d: &Value) -> Option<Value> {
    let bindings = policy
        .get("bindings")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let found = bindings.iter().find(|b| same_binding(b, d));
    let mut s = d.clone();
    if let Some(member) = d.get("member") {
        let present = found
            .and_then(|b| b.get("members"))
            .and_then(Value::as_array)
            .is_some_and(|m| m.contains(member));
        return present.then_some(s);
    }
    // IAM keeps members as a set (and answers them sorted): the same set is no change.
    let live = found?.get("members").cloned().unwrap_or(json!([]));
    s["members"] = if same_set(&live, &d["members"]) {
        d["members"].clone()
    } else {
        live
    };
    Some(s)
}

/// Two JSON lists with the same items, in any order.
pub fn same_set(a: &Value, b: &Value) -> bool {
    let sorted = |v: &Value| {
        let mut items: Vec<String> = v
            .as_array()
            .map(|a| a.iter().map(Value::to_string).collect())
            .unwrap_or_default();
        items.sort();
        items
    };
    a.is_array() && b.is_array() && sorted(a) == sorted(b)
}

/// Puts the binding of `d` into `policy` (or takes it out).
pub fn edit(policy: &mut Value, d: &Value, remove: bool) {
    let bindings = policy
        .as_object_mut()
        .map(|m| m.entry("bindings").or_insert(json!([])))
        .and_then(Value::as_array_mut);
    let Some(bindings) = bindings else { return };
    let index = bindings.iter().position(|b| same_binding(b, d));
    match (d.get("member"), index) {
        (Some(member), Some(i)) => {
            let members = bindings[i]
                .as_object_mut()
                .map(|m| m.entry("members").or_insert(json!([])))
                .and_then(Value::as_array_mut);
            if let Some(members) = members {
                members.retain(|m| m != member);
                if !remove {
                    members.push(member.clone());
                }
            }
            if bindings[i]
                .get("members")
                .and_then(Value::as_array)
                .is_some_and(|m| m.is_empty())
            {
                bindings.remove(i);
            }
        }
        (Some(member), None) if !remove => {
            let mut b = json!({ "role": d["role"], "members": [member] });
            if let Some(c) = d.get("condition") {
                b["condition"] = c.clone();
            }
            bindings.push(b);
        }
        (None, i) => {
            if let Some(i) = i {
                bindings.remove(i);
            }
            if !remove {
                let mut b = json!({ "role": d["role"], "members": d.get("members").cloned().unwrap_or(json!([])) });
                if let Some(c) = d.get("condition") {
                    b["condition"] = c.clone();
                }
                bindings.push(b);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_are_added_replaced_and_removed_without_touching_others() {
        let mut policy =
            json!({ "bindings": [{ "role": "roles/viewer", "members": ["user:a@x.com"] }] });
        let member = json!({ "role": "roles/viewer", "member": "user:b@x.com" });
        let conditioned = json!({ "role": "roles/viewer", "member": "user:b@x.com", "condition": { "title": "t", "expression": "true" } });
        edit(&mut policy, &member, false);
        edit(&mut policy, &conditioned, false);
        assert_eq!(
            policy["bindings"][0]["members"],
            json!(["user:a@x.com", "user:b@x.com"])
        );
        assert_eq!(policy["bindings"][1]["condition"]["expression"], "true");
        assert!(settings(&policy, &member).is_some());
        edit(&mut policy, &member, true);
        assert!(settings(&policy, &member).is_none());
        assert_eq!(policy["bindings"][0]["members"], json!(["user:a@x.com"]));
        let binding = json!({ "role": "roles/owner", "members": ["user:c@x.com"] });
        edit(&mut policy, &binding, false);
        assert_eq!(
            settings(&policy, &binding).unwrap()["members"],
            json!(["user:c@x.com"])
        );
        edit(&mut policy, &binding, true);
        assert_eq!(policy["bindings"].as_array().unwrap().len(), 2);
    }
}
