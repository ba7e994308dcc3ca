//! IAM: roles (trust, inline and managed policies, permissions boundary), customer-managed
//! policies and the cluster's OpenID Connect provider. Names are fixed by the plan, so a
//! repeated create finds the existing one; it is adopted only if it carries our tag.

use anyhow::{anyhow, Result};
use aws_sdk_iam::types::Tag;
use serde_json::{json, Map, Value};

use super::provider::{absent, gone, outputs, s, strings, tag_subset, AwsProvider};
use crate::exec::adoption::Claim;
use crate::exec::Observed;
use crate::plan::Resource;
use crate::state::ResourceState;

const NO_ENTITY: &[&str] = &["NoSuchEntity", "NoSuchEntityException"];

/// IAM returns policy documents URL-encoded (some emulators return them plain).
fn decode_policy(text: &str) -> Value {
    if let Ok(v) = serde_json::from_str(text) {
        return v;
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = hex {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    serde_json::from_slice(&out).unwrap_or_else(|_| Value::String(text.to_string()))
}

fn tags(p: &AwsProvider, r: &Resource, d: &Value) -> Vec<Tag> {
    p.tags_for(r, d)
        .into_iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

fn pairs(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

fn doc(v: Option<&Value>) -> String {
    v.map(|d| d.to_string()).unwrap_or_else(|| "{}".into())
}

fn policy_arn(p: &AwsProvider, name: &str) -> String {
    format!("arn:aws:iam::{}:policy/{name}", p.account)
}

fn oidc_arn(p: &AwsProvider, url: &str) -> String {
    format!(
        "arn:aws:iam::{}:oidc-provider/{}",
        p.account,
        url.trim_start_matches("https://")
    )
}

pub async fn read(
    p: &AwsProvider,
    r: &Resource,
    d: &Value,
    claim: Claim,
) -> Result<Option<Observed>> {
    match r.type_name() {
        "iam_role" => {
            let name = s(d, "RoleName");
            let Some(out) = absent(
                p.call("GetRole", p.iam.get_role().role_name(&name).send())
                    .await,
                NO_ENTITY,
            )?
            else {
                return Ok(None);
            };
            let Some(role) = out.role() else {
                return Ok(None);
            };
            let live_tags = p
                .call(
                    "ListRoleTags",
                    p.iam.list_role_tags().role_name(&name).send(),
                )
                .await?;
            p.ensure_ours(&format!("IAM role {name}"), &pairs(live_tags.tags()), claim)?;
            let attached = p
                .call(
                    "ListAttachedRolePolicies",
                    p.iam.list_attached_role_policies().role_name(&name).send(),
                )
                .await?;
            let managed: Vec<&str> = attached
                .attached_policies()
                .iter()
                .filter_map(|a| a.policy_arn())
                .collect();
            let inline = p
                .call(
                    "ListRolePolicies",
                    p.iam.list_role_policies().role_name(&name).send(),
                )
                .await?;
            let mut policies = Map::new();
            for pname in inline.policy_names() {
                let got = p
                    .call(
                        "GetRolePolicy",
                        p.iam
                            .get_role_policy()
                            .role_name(&name)
                            .policy_name(pname)
                            .send(),
                    )
                    .await?;
                policies.insert(pname.clone(), decode_policy(got.policy_document()));
            }
            let mut settings = json!({
                "RoleName": name,
                "AssumeRolePolicyDocument": role.assume_role_policy_document().map(decode_policy),
                "ManagedPolicyArns": managed,
                "Policies": policies,
                "Tags": tag_subset(pairs(live_tags.tags()), d),
            });
            if let Some(b) = role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
            {
                settings["PermissionsBoundary"] = json!(b);
            } else if d.get("PermissionsBoundary").is_some() {
                settings["PermissionsBoundary"] = Value::Null;
            }
            if let Some(m) = role.max_session_duration() {
                if d.get("MaxSessionDuration").is_some() {
                    settings["MaxSessionDuration"] = json!(m);
                }
            }
            let arn = role.arn().to_string();
            Ok(Some(Observed {
                id: arn.clone(),
                outputs: outputs(&[("arn", json!(arn)), ("name", json!(name))]),
                settings,
            }))
        }
        "iam_policy" => {
            let name = s(d, "PolicyName");
            let arn = policy_arn(p, &name);
            let Some(out) = absent(
                p.call("GetPolicy", p.iam.get_policy().policy_arn(&arn).send())
                    .await,
                NO_ENTITY,
            )?
            else {
                return Ok(None);
            };
            let Some(policy) = out.policy() else {
                return Ok(None);
            };
            let live_tags = p
                .call(
                    "ListPolicyTags",
                    p.iam.list_policy_tags().policy_arn(&arn).send(),
                )
                .await?;
            p.ensure_ours(
                &format!("IAM policy {name}"),
                &pairs(live_tags.tags()),
                claim,
            )?;
            let version = policy.default_version_id().unwrap_or("v1");
            let v = p
                .call(
                    "GetPolicyVersion",
                    p.iam
                        .get_policy_version()
                        .policy_arn(&arn)
                        .version_id(version)
                        .send(),
                )
                .await?;
            let document = v
                .policy_version()
                .and_then(|pv| pv.document())
                .map(decode_policy)
                .unwrap_or(Value::Null);
            let settings = json!({ "PolicyName": name, "PolicyDocument": document, "Tags": tag_subset(pairs(live_tags.tags()), d) });
            Ok(Some(Observed {
                id: arn.clone(),
                outputs: outputs(&[("arn", json!(arn))]),
                settings,
            }))
        }
        "iam_openid_connect_provider" => {
            let url = s(d, "Url");
            let arn = oidc_arn(p, &url);
            let Some(out) = absent(
                p.call(
                    "GetOpenIDConnectProvider",
                    p.iam
                        .get_open_id_connect_provider()
                        .open_id_connect_provider_arn(&arn)
                        .send(),
                )
                .await,
                NO_ENTITY,
            )?
            else {
                return Ok(None);
            };
            let live_url = out.url().unwrap_or_default();
            let settings = json!({
                "Url": if live_url.starts_with("https://") { live_url.to_string() } else { format!("https://{live_url}") },
                "ClientIDList": out.client_id_list(),
                "Tags": tag_subset(pairs(out.tags()), d),
            });
            let host = url.trim_start_matches("https://").to_string();
            Ok(Some(Observed {
                id: arn.clone(),
                outputs: outputs(&[("arn", json!(arn)), ("issuer_host", json!(host))]),
                settings,
            }))
        }
        other => Err(anyhow!("iam does not handle {other}")),
    }
}

pub async fn create(p: &AwsProvider, r: &Resource, d: &Value) -> Result<Observed> {
    match r.type_name() {
        "iam_role" => {
            let name = s(d, "RoleName");
            let mut req = p
                .iam
                .create_role()
                .role_name(&name)
                .assume_role_policy_document(doc(d.get("AssumeRolePolicyDocument")))
                .description(s(d, "Description"))
                .set_tags(Some(tags(p, r, d)));
            if let Some(b) = d.get("PermissionsBoundary").and_then(Value::as_str) {
                req = req.permissions_boundary(b);
            }
            if let Some(m) = d.get("MaxSessionDuration").and_then(Value::as_i64) {
                req = req.max_session_duration(m as i32);
            }
            p.call("CreateRole", req.send()).await?;
            let empty = json!({ "ManagedPolicyArns": [], "Policies": {} });
            sync_role_policies(p, &name, d, &empty).await?;
        }
        "iam_policy" => {
            p.call(
                "CreatePolicy",
                p.iam
                    .create_policy()
                    .policy_name(s(d, "PolicyName"))
                    .description(s(d, "Description"))
                    .policy_document(doc(d.get("PolicyDocument")))
                    .set_tags(Some(tags(p, r, d)))
                    .send(),
            )
            .await?;
        }
        "iam_openid_connect_provider" => {
            p.call(
                "CreateOpenIDConnectProvider",
                p.iam
                    .create_open_id_connect_provider()
                    .url(s(d, "Url"))
                    .set_client_id_list(Some(strings(d.get("ClientIDList"))))
                    .set_tags(Some(tags(p, r, d)))
                    .send(),
            )
            .await?;
        }
        other => return Err(anyhow!("iam cannot create {other}")),
    }
    read(p, r, d, Claim::Recorded)
        .await?
        .ok_or_else(|| anyhow!("{} was created but cannot be read", r.address))
}

/// Inline and managed policies exactly as the plan says.
async fn sync_role_policies(p: &AwsProvider, name: &str, d: &Value, live: &Value) -> Result<()> {
    let want_managed = strings(d.get("ManagedPolicyArns"));
    let have_managed = strings(live.get("ManagedPolicyArns"));
    for arn in want_managed.iter().filter(|a| !have_managed.contains(a)) {
        p.call(
            "AttachRolePolicy",
            p.iam
                .attach_role_policy()
                .role_name(name)
                .policy_arn(arn)
                .send(),
        )
        .await?;
    }
    for arn in have_managed.iter().filter(|a| !want_managed.contains(a)) {
        gone(
            p.call(
                "DetachRolePolicy",
                p.iam
                    .detach_role_policy()
                    .role_name(name)
                    .policy_arn(arn)
                    .send(),
            )
            .await,
            NO_ENTITY,
        )?;
    }
    let empty = Map::new();
    let want = d
        .get("Policies")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let have = live
        .get("Policies")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (pname, document) in want {
        if have.get(pname) != Some(document) {
            p.call(
                "PutRolePolicy",
                p.iam
                    .put_role_policy()
                    .role_name(name)
                    .policy_name(pname)
                    .policy_document(document.to_string())
                    .send(),
            )
            .await?;
        }
    }
    for pname in have.keys().filter(|k| !want.contains_key(*k)) {
        p.call(
            "DeleteRolePolicy",
            p.iam
                .delete_role_policy()
                .role_name(name)
                .policy_name(pname)
                .send(),
        )
        .await?;
    }
    Ok(())
}

pub async fn update(
    p: &AwsProvider,
    r: &Resource,
    d: &Value,
    live: &Observed,
    changed: &[String],
) -> Result<Observed> {
    let touched = |prefix: &str| changed.iter().any(|c| c.starts_with(prefix));
    match r.type_name() {
        "iam_role" => {
            let name = s(d, "RoleName");
            if touched("/AssumeRolePolicyDocument") {
                p.call(
                    "UpdateAssumeRolePolicy",
                    p.iam
                        .update_assume_role_policy()
                        .role_name(&name)
                        .policy_document(doc(d.get("AssumeRolePolicyDocument")))
                        .send(),
                )
                .await?;
            }
            if touched("/ManagedPolicyArns") || touched("/Policies") {
                sync_role_policies(p, &name, d, &live.settings).await?;
            }
            if touched("/PermissionsBoundary") {
                if let Some(b) = d.get("PermissionsBoundary").and_then(Value::as_str) {
                    p.call(
                        "PutRolePermissionsBoundary",
                        p.iam
                            .put_role_permissions_boundary()
                            .role_name(&name)
                            .permissions_boundary(b)
                            .send(),
                    )
                    .await?;
                }
            }
            if touched("/MaxSessionDuration") {
                let m = d
                    .get("MaxSessionDuration")
                    .and_then(Value::as_i64)
                    .unwrap_or(3600) as i32;
                p.call(
                    "UpdateRole",
                    p.iam
                        .update_role()
                        .role_name(&name)
                        .max_session_duration(m)
                        .send(),
                )
                .await?;
            }
            if touched("/Tags") {
                p.call(
                    "TagRole",
                    p.iam
                        .tag_role()
                        .role_name(&name)
                        .set_tags(Some(tags(p, r, d)))
                        .send(),
                )
                .await?;
            }
        }
        "iam_policy" => {
            let arn = live.id.clone();
            if touched("/PolicyDocument") {
                // IAM keeps at most five versions: drop the oldest non-default one first.
                let versions = p
                    .call(
                        "ListPolicyVersions",
                        p.iam.list_policy_versions().policy_arn(&arn).send(),
                    )
                    .await?;
                if versions.versions().len() >= 5 {
                    if let Some(old) = versions
                        .versions()
                        .iter()
                        .filter(|v| !v.is_default_version())
                        .filter_map(|v| v.version_id())
                        .next_back()
                    {
                        p.call(
                            "DeletePolicyVersion",
                            p.iam
                                .delete_policy_version()
                                .policy_arn(&arn)
                                .version_id(old)
                                .send(),
                        )
                        .await?;
                    }
                }
                p.call(
                    "CreatePolicyVersion",
                    p.iam
                        .create_policy_version()
                        .policy_arn(&arn)
                        .policy_document(doc(d.get("PolicyDocument")))
                        .set_as_default(true)
                        .send(),
                )
                .await?;
            }
            if touched("/Tags") {
                p.call(
                    "TagPolicy",
                    p.iam
                        .tag_policy()
                        .policy_arn(&arn)
                        .set_tags(Some(tags(p, r, d)))
                        .send(),
                )
                .await?;
            }
        }
        "iam_openid_connect_provider" => {
            if touched("/Tags") {
                p.call(
                    "TagOpenIDConnectProvider",
                    p.iam
                        .tag_open_id_connect_provider()
                        .open_id_connect_provider_arn(&live.id)
                        .set_tags(Some(tags(p, r, d)))
                        .send(),
                )
                .await?;
            }
            if touched("/ClientIDList") || touched("/Url") {
                return Err(super::provider::unsupported(r, changed));
            }
        }
        other => return Err(anyhow!("iam cannot update {other}")),
    }
    read(p, r, d, Claim::Recorded)
        .await?
        .ok_or_else(|| anyhow!("{} disappeared while being updated", r.address))
}

pub async fn delete(p: &AwsProvider, st: &ResourceState) -> Result<()> {
    let kind = st.kind.split_once('.').map_or(st.kind.as_str(), |(_, t)| t);
    match kind {
        "iam_role" => {
            let name = s(&st.settings, "RoleName");
            if let Some(attached) = absent(
                p.call(
                    "ListAttachedRolePolicies",
                    p.iam.list_attached_role_policies().role_name(&name).send(),
                )
                .await,
                NO_ENTITY,
            )? {
                for a in attached.attached_policies() {
                    if let Some(arn) = a.policy_arn() {
                        gone(
                            p.call(
                                "DetachRolePolicy",
                                p.iam
                                    .detach_role_policy()
                                    .role_name(&name)
                                    .policy_arn(arn)
                                    .send(),
                            )
                            .await,
                            NO_ENTITY,
                        )?;
                    }
                }
            }
            if let Some(inline) = absent(
                p.call(
                    "ListRolePolicies",
                    p.iam.list_role_policies().role_name(&name).send(),
                )
                .await,
                NO_ENTITY,
            )? {
                for pname in inline.policy_names() {
                    gone(
                        p.call(
                            "DeleteRolePolicy",
                            p.iam
                                .delete_role_policy()
                                .role_name(&name)
                                .policy_name(pname)
                                .send(),
                        )
                        .await,
                        NO_ENTITY,
                    )?;
                }
            }
            gone(
                p.call("DeleteRole", p.iam.delete_role().role_name(&name).send())
                    .await,
                NO_ENTITY,
            )
        }
        "iam_policy" => {
            if let Some(versions) = absent(
                p.call(
                    "ListPolicyVersions",
                    p.iam.list_policy_versions().policy_arn(&st.id).send(),
                )
                .await,
                NO_ENTITY,
            )? {
                for v in versions
                    .versions()
                    .iter()
                    .filter(|v| !v.is_default_version())
                {
                    if let Some(id) = v.version_id() {
                        gone(
                            p.call(
                                "DeletePolicyVersion",
                                p.iam
                                    .delete_policy_version()
                                    .policy_arn(&st.id)
                                    .version_id(id)
                                    .send(),
                            )
                            .await,
                            NO_ENTITY,
                        )?;
                    }
                }
            }
            gone(
                p.call(
                    "DeletePolicy",
                    p.iam.delete_policy().policy_arn(&st.id).send(),
                )
                .await,
                NO_ENTITY,
            )
        }
        "iam_openid_connect_provider" => gone(
            p.call(
                "DeleteOpenIDConnectProvider",
                p.iam
                    .delete_open_id_connect_provider()
                    .open_id_connect_provider_arn(&st.id)
                    .send(),
            )
            .await,
            NO_ENTITY,
        ),
        other => Err(anyhow!("iam cannot delete {other}")),
    }
}
