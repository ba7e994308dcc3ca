//! CloudTrail: the multi-region trail with log-file validation, encrypted with the data
//! plane's key, that records every action of the admin identity.

use anyhow::{anyhow, Result};
use aws_sdk_cloudtrail::types::Tag;
use serde_json::{json, Value};

use super::provider::{absent, gone, outputs, s, tag_subset, AwsProvider};
use crate::exec::adoption::Claim;
use crate::exec::Observed;
use crate::plan::{Mode, Resource};
use crate::state::ResourceState;

const MISSING: &[&str] = &["TrailNotFoundException"];

fn tags(p: &AwsProvider, r: &Resource, d: &Value) -> Vec<Tag> {
    p.tags_for(r, d)
        .into_iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

pub async fn read(
    p: &AwsProvider,
    r: &Resource,
    d: &Value,
    claim: Claim,
) -> Result<Option<Observed>> {
    let name = s(d, "Name");
    let Some(out) = absent(
        p.call("GetTrail", p.trail.get_trail().name(&name).send())
            .await,
        MISSING,
    )?
    else {
        return Ok(None);
    };
    let Some(t) = out.trail() else {
        return Ok(None);
    };
    let arn = t.trail_arn().unwrap_or_default().to_string();
    let status = p
        .call(
            "GetTrailStatus",
            p.trail.get_trail_status().name(&name).send(),
        )
        .await?;
    if r.mode == Mode::Data {
        // What the existing-trail checks need: that it logs, everywhere, verifiably.
        let settings = json!({
            "Name": name,
            "IsLogging": status.is_logging().unwrap_or(false),
            "IsMultiRegionTrail": t.is_multi_region_trail().unwrap_or(false),
            "LogFileValidationEnabled": t.log_file_validation_enabled().unwrap_or(false),
        });
        return Ok(Some(Observed {
            id: arn.clone(),
            outputs: outputs(&[("arn", json!(arn))]),
            settings,
        }));
    }
    let live_tags = p
        .call(
            "ListTags",
            p.trail.list_tags().resource_id_list(&arn).send(),
        )
        .await?;
    let tag_pairs: Vec<(String, String)> = live_tags
        .resource_tag_list()
        .iter()
        .flat_map(|rt| rt.tags_list())
        .map(|t| {
            (
                t.key().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect();
    p.ensure_ours(&format!("trail {name}"), &tag_pairs, claim)?;
    let mut settings = json!({
        "Name": name,
        "S3BucketName": t.s3_bucket_name(),
        "IsMultiRegionTrail": t.is_multi_region_trail().unwrap_or(false),
        "IncludeGlobalServiceEvents": t.include_global_service_events().unwrap_or(false),
        "EnableLogFileValidation": t.log_file_validation_enabled().unwrap_or(false),
        "IsLogging": status.is_logging().unwrap_or(false),
        "Tags": tag_subset(tag_pairs, d),
    });
    if d.get("KmsKeyId").is_some() {
        settings["KmsKeyId"] = json!(t.kms_key_id());
    }
    Ok(Some(Observed {
        id: arn.clone(),
        outputs: outputs(&[("arn", json!(arn))]),
        settings,
    }))
}

pub async fn create(p: &AwsProvider, r: &Resource, d: &Value) -> Result<Observed> {
    let flag = |k: &str| d.get(k).and_then(Value::as_bool).unwrap_or(true);
    let mut req = p
        .trail
        .create_trail()
        .name(s(d, "Name"))
        .s3_bucket_name(s(d, "S3BucketName"))
        .is_multi_region_trail(flag("IsMultiRegionTrail"))
        .include_global_service_events(flag("IncludeGlobalServiceEvents"))
        .enable_log_file_validation(flag("EnableLogFileValidation"))
        .set_tags_list(Some(tags(p, r, d)));
    if let Some(k) = d.get("KmsKeyId").and_then(Value::as_str) {
        req = req.kms_key_id(k);
    }
    match p.call("CreateTrail", req.send()).await {
        Ok(_) => {}
        Err(e) if e.is(&["TrailAlreadyExistsException"]) => {}
        Err(e) => return Err(e.into()),
    }
    p.call(
        "StartLogging",
        p.trail.start_logging().name(s(d, "Name")).send(),
    )
    .await?;
    read(p, r, d, Claim::Recorded)
        .await?
        .ok_or_else(|| anyhow!("{} was created but cannot be read", r.address))
}

pub async fn update(
    p: &AwsProvider,
    r: &Resource,
    d: &Value,
    live: &Observed,
    changed: &[String],
) -> Result<Observed> {
    let touched = |prefix: &str| changed.iter().any(|c| c.starts_with(prefix));
    let name = s(d, "Name");
    if changed
        .iter()
        .any(|c| !c.starts_with("/IsLogging") && !c.starts_with("/Tags"))
    {
        let flag = |k: &str| d.get(k).and_then(Value::as_bool).unwrap_or(true);
        let mut req = p
            .trail
            .update_trail()
            .name(&name)
            .s3_bucket_name(s(d, "S3BucketName"))
            .is_multi_region_trail(flag("IsMultiRegionTrail"))
            .include_global_service_events(flag("IncludeGlobalServiceEvents"))
            .enable_log_file_validation(flag("EnableLogFileValidation"));
        if let Some(k) = d.get("KmsKeyId").and_then(Value::as_str) {
            req = req.kms_key_id(k);
        }
        p.call("UpdateTrail", req.send()).await?;
    }
    if touched("/IsLogging") {
        p.call("StartLogging", p.trail.start_logging().name(&name).send())
            .await?;
    }
    if touched("/Tags") {
        p.call(
            "AddTags",
            p.trail
                .add_tags()
                .resource_id(&live.id)
                .set_tags_list(Some(tags(p, r, d)))
                .send(),
        )
        .await?;
    }
    read(p, r, d, Claim::Recorded)
        .await?
        .ok_or_else(|| anyhow!("{} disappeared while being updated", r.address))
}

pub async fn delete(p: &AwsProvider, st: &ResourceState) -> Result<()> {
    // By name: the name is what the plan fixed (some implementations do not take the ARN).
    gone(
        p.call(
            "DeleteTrail",
            p.trail.delete_trail().name(s(&st.settings, "Name")).send(),
        )
        .await,
        MISSING,
    )
}
