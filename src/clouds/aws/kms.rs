//! KMS: the data plane's customer-managed key, with rotation and an alias (the alias is
//! the key's fixed name; a key created by a run killed before the alias is found by tag).

use anyhow::{anyhow, Result};
use aws_sdk_kms::types::Tag;
use serde_json::{json, Value};

use super::provider::{
    absent, outputs, s, send_once_then_look_up, tag_subset, AwsProvider, TAG_ADDRESS,
};
use crate::exec::adoption::Claim;
use crate::exec::Observed;
use crate::plan::builder::TAG_DATA_PLANE;
use crate::plan::{Mode, Resource};
use crate::state::ResourceState;

const MISSING: &[&str] = &["NotFoundException"];

async fn key_for_alias_or_tag(
    p: &AwsProvider,
    r: &Resource,
    alias: &str,
) -> Result<Option<String>> {
    if let Some(k) = absent(
        p.call("DescribeKey", p.kms.describe_key().key_id(alias).send())
            .await,
        MISSING,
    )? {
        return Ok(k.key_metadata().map(|m| m.key_id().to_string()));
    }
    // No alias: a run may have died between CreateKey and CreateAlias. Find it by tag.
    // ListKeys answers in pages (`Truncated`, `NextMarker`).
    let mut marker = None;
    loop {
        let keys = p
            .call(
                "ListKeys",
                p.kms.list_keys().set_marker(marker.clone()).send(),
            )
            .await?;
        for k in keys.keys() {
            let Some(id) = k.key_id() else { continue };
            let tags = p
                .call(
                    "ListResourceTags",
                    p.kms.list_resource_tags().key_id(id).send(),
                )
                .await?;
            let has = |k: &str, v: &str| {
                tags.tags()
                    .iter()
                    .any(|t| t.tag_key() == k && t.tag_value() == v)
            };
            // Both tags: the data planes of a fleet share accounts, and each has this address.
            if has(TAG_ADDRESS, &r.address) && has(TAG_DATA_PLANE, &p.data_plane) {
                let meta = p
                    .call("DescribeKey", p.kms.describe_key().key_id(id).send())
                    .await?;
                if meta
                    .key_metadata()
                    .and_then(|m| m.key_state())
                    .map(|s| s.as_str())
                    != Some("PendingDeletion")
                {
                    return Ok(Some(id.to_string()));
                }
            }
        }
        match keys.next_marker() {
            Some(next) if keys.truncated() => marker = Some(next.to_string()),
            _ => return Ok(None),
        }
    }
}

pub async fn read(
    p: &AwsProvider,
    r: &Resource,
    d: &Value,
    id: Option<&str>,
    claim: Claim,
) -> Result<Option<Observed>> {
    if r.mode == Mode::Data {
        let Some(k) = absent(
            p.call(
                "DescribeKey",
                p.kms.describe_key().key_id(s(d, "KeyId")).send(),
            )
            .await,
            MISSING,
        )?
        else {
            return Ok(None);
        };
        let meta = k
            .key_metadata()
            .ok_or_else(|| anyhow!("DescribeKey returned no metadata"))?;
        // What the existing-key checks need: whose key it is, who manages it, its state.
        let settings = json!({
            "KeyId": s(d, "KeyId"),
            "AWSAccountId": meta.aws_account_id(),
            "KeyManager": meta.key_manager().map(|m| m.as_str()),
            "KeyState": meta.key_state().map(|k| k.as_str()),
        });
        return Ok(Some(Observed {
            id: meta.key_id().to_string(),
            outputs: outputs(&[("arn", json!(meta.arn())), ("id", json!(meta.key_id()))]),
            settings,
        }));
    }
    let alias = s(d, "AliasName");
    let key_id = match id {
        Some(id) => Some(id.to_string()),
        None => key_for_alias_or_tag(p, r, &alias).await?,
    };
    let Some(key_id) = key_id else {
        return Ok(None);
    };
    let Some(k) = absent(
        p.call("DescribeKey", p.kms.describe_key().key_id(&key_id).send())
            .await,
        MISSING,
    )?
    else {
        return Ok(None);
    };
    let meta = k
        .key_metadata()
        .ok_or_else(|| anyhow!("DescribeKey returned no metadata"))?;
    if meta.key_state().map(|s| s.as_str()) == Some("PendingDeletion") {
        return Ok(None);
    }
    let rotation = p
        .call(
            "GetKeyRotationStatus",
            p.kms.get_key_rotation_status().key_id(&key_id).send(),
        )
        .await?;
    let tags = p
        .call(
            "ListResourceTags",
            p.kms.list_resource_tags().key_id(&key_id).send(),
        )
        .await?;
    let pairs: Vec<(String, String)> = tags
        .tags()
        .iter()
        .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
        .collect();
    // Found by its alias or tags (not the id state recorded): this state's only if marked so.
    let claim = if id.is_some() { Claim::Recorded } else { claim };
    p.ensure_ours(&format!("KMS key {key_id} ({alias})"), &pairs, claim)?;
    let aliases = p
        .call("ListAliases", p.kms.list_aliases().key_id(&key_id).send())
        .await?;
    let has_alias = aliases
        .aliases()
        .iter()
        .any(|a| a.alias_name() == Some(alias.as_str()));
    let policy = p
        .call(
            "GetKeyPolicy",
            p.kms
                .get_key_policy()
                .key_id(&key_id)
                .policy_name("default")
                .send(),
        )
        .await?;
    let settings = json!({
        "Description": meta.description(),
        "KeySpec": meta.key_spec().map(|k| k.as_str()),
        "KeyUsage": meta.key_usage().map(|k| k.as_str()),
        "EnableKeyRotation": rotation.key_rotation_enabled(),
        "AliasName": if has_alias { Value::String(alias.clone()) } else { Value::Null },
        "Policy": policy.policy().and_then(|t| serde_json::from_str::<Value>(t).ok()),
        "Tags": tag_subset(tags.tags().iter().map(|t| (t.tag_key().to_string(), t.tag_value().to_string())), d),
    });
    Ok(Some(Observed {
        id: key_id.clone(),
        outputs: outputs(&[("arn", json!(meta.arn())), ("id", json!(key_id))]),
        settings,
    }))
}

pub async fn create(p: &AwsProvider, r: &Resource, d: &Value) -> Result<Observed> {
    let tags: Vec<Tag> = p
        .tags_for(r, d)
        .into_iter()
        .filter_map(|(k, v)| Tag::builder().tag_key(k).tag_value(v).build().ok())
        .collect();
    // CreateKey has no idempotency token and keys have no unique name: the SDK sends it
    // once, and after a failure that may have happened anyway the key is looked up by its
    // address tag before it is sent again (a second key would be a second bill and a
    // second trust root).
    let send = || {
        let req = p
            .kms
            .create_key()
            .description(s(d, "Description"))
            .key_spec(aws_sdk_kms::types::KeySpec::SymmetricDefault)
            .key_usage(aws_sdk_kms::types::KeyUsageType::EncryptDecrypt)
            .set_tags(Some(tags.clone()))
            .set_policy(d.get("Policy").map(Value::to_string));
        req.customize()
            .config_override(
                aws_sdk_kms::config::Builder::default()
                    .retry_config(aws_smithy_types::retry::RetryConfig::disabled()),
            )
            .send()
    };
    let key_id = |out: &aws_sdk_kms::operation::create_key::CreateKeyOutput| {
        out.key_metadata()
            .map(|m| m.key_id().to_string())
            .unwrap_or_default()
    };
    let id = send_once_then_look_up(p, "CreateKey", send, key_id, || async {
        Ok(read(p, r, d, None, Claim::Intent).await?.map(|o| o.id))
    })
    .await?;
    let live = read(p, r, d, Some(&id), Claim::Recorded)
        .await?
        .ok_or_else(|| anyhow!("key {id} was created but cannot be read"))?;
    let changed = crate::plan::diff::changed_paths(&live.settings, d);
    update(p, r, d, &live, &changed).await
}

pub async fn update(
    p: &AwsProvider,
    r: &Resource,
    d: &Value,
    live: &Observed,
    changed: &[String],
) -> Result<Observed> {
    let id = live.id.as_str();
    let touched = |prefix: &str| changed.iter().any(|c| c.starts_with(prefix));
    if touched("/AliasName") {
        p.call(
            "CreateAlias",
            p.kms
                .create_alias()
                .alias_name(s(d, "AliasName"))
                .target_key_id(id)
                .send(),
        )
        .await?;
    }
    if touched("/EnableKeyRotation") {
        if d.get("EnableKeyRotation")
            .and_then(Value::as_bool)
            .unwrap_or(true)
        {
            let mut req = p.kms.enable_key_rotation().key_id(id);
            if let Some(days) = d.get("RotationPeriodInDays").and_then(Value::as_i64) {
                req = req.rotation_period_in_days(days as i32);
            }
            p.call("EnableKeyRotation", req.send()).await?;
        } else {
            p.call(
                "DisableKeyRotation",
                p.kms.disable_key_rotation().key_id(id).send(),
            )
            .await?;
        }
    }
    if touched("/Policy") {
        if let Some(policy) = d.get("Policy") {
            p.call(
                "PutKeyPolicy",
                p.kms
                    .put_key_policy()
                    .key_id(id)
                    .policy_name("default")
                    .policy(policy.to_string())
                    .send(),
            )
            .await?;
        }
    }
    if touched("/Tags") {
        let tags: Vec<Tag> = p
            .tags_for(r, d)
            .into_iter()
            .filter_map(|(k, v)| Tag::builder().tag_key(k).tag_value(v).build().ok())
            .collect();
        p.call(
            "TagResource",
            p.kms.tag_resource().key_id(id).set_tags(Some(tags)).send(),
        )
        .await?;
    }
    if touched("/Description") {
        p.call(
            "UpdateKeyDescription",
            p.kms
                .update_key_description()
                .key_id(id)
                .description(s(d, "Description"))
                .send(),
        )
        .await?;
    }
    if touched("/KeySpec") || touched("/KeyUsage") {
        return Err(super::provider::unsupported(r, changed));
    }
    read(p, r, d, Some(id), Claim::Recorded)
        .await?
        .ok_or_else(|| anyhow!("key {id} disappeared while being updated"))
}

/// KMS never deletes a key at once: schedule the shortest waiting period (7 days), during
/// which it can be cancelled.
pub async fn delete(p: &AwsProvider, st: &ResourceState) -> Result<()> {
    if let Some(alias) = st.settings.get("AliasName").and_then(Value::as_str) {
        super::provider::gone(
            p.call("DeleteAlias", p.kms.delete_alias().alias_name(alias).send())
                .await,
            MISSING,
        )?;
    }
    match p
        .call(
            "ScheduleKeyDeletion",
            p.kms
                .schedule_key_deletion()
                .key_id(&st.id)
                .pending_window_in_days(7)
                .send(),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.is(&["NotFoundException", "KMSInvalidStateException"]) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
