//! S3 buckets: SSE-KMS with the bucket key, all four public-access-block flags, versioning,
//! `BucketOwnerEnforced`, the TLS-only policy, CORS, tags. Each part is read, compared and
//! written only when it differs, so a converged apply makes no S3 write.

use anyhow::{anyhow, Result};
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CorsConfiguration, CorsRule,
    CreateBucketConfiguration, ObjectOwnership, OwnershipControls, OwnershipControlsRule,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
    VersioningConfiguration,
};
use serde_json::{json, Value};

use super::provider::{absent, gone, outputs, s, strings, tag_subset, AwsProvider};
use crate::exec::adoption::Claim;
use crate::exec::Observed;
use crate::plan::Resource;
use crate::state::ResourceState;

const MISSING: &[&str] = &[
    "NoSuchBucket",
    "NotFound",
    "NoSuchTagSet",
    "NoSuchBucketPolicy",
    "NoSuchCORSConfiguration",
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchPublicAccessBlockConfiguration",
    "OwnershipControlsNotFoundError",
];

pub async fn read(
    p: &AwsProvider,
    _r: &Resource,
    d: &Value,
    claim: Claim,
) -> Result<Option<Observed>> {
    let bucket = s(d, "Bucket");
    if absent(
        p.call("HeadBucket", p.s3.head_bucket().bucket(&bucket).send())
            .await,
        MISSING,
    )?
    .is_none()
    {
        return Ok(None);
    }
    let tags: Vec<(String, String)> = absent(
        p.call(
            "GetBucketTagging",
            p.s3.get_bucket_tagging().bucket(&bucket).send(),
        )
        .await,
        MISSING,
    )?
    .map(|t| {
        t.tag_set()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect()
    })
    .unwrap_or_default();
    p.ensure_ours(&format!("bucket {bucket}"), &tags, claim)?;

    let sse = absent(
        p.call(
            "GetBucketEncryption",
            p.s3.get_bucket_encryption().bucket(&bucket).send(),
        )
        .await,
        MISSING,
    )?;
    let sse = sse.and_then(|o| o.server_side_encryption_configuration().cloned()).map_or(Value::Null, |c| {
        json!({ "Rules": c.rules().iter().map(|rule| {
            let by_default = rule.apply_server_side_encryption_by_default();
            let mut d = json!({ "SSEAlgorithm": by_default.map(|b| b.sse_algorithm().as_str()) });
            if let Some(k) = by_default.and_then(|b| b.kms_master_key_id()) {
                d["KMSMasterKeyID"] = json!(k);
            }
            json!({ "ApplyServerSideEncryptionByDefault": d, "BucketKeyEnabled": rule.bucket_key_enabled().unwrap_or(false) })
        }).collect::<Vec<_>>() })
    });
    let pab = absent(
        p.call(
            "GetPublicAccessBlock",
            p.s3.get_public_access_block().bucket(&bucket).send(),
        )
        .await,
        MISSING,
    )?
    .and_then(|o| o.public_access_block_configuration().cloned());
    let flag = |f: Option<bool>| f.unwrap_or(false);
    let pab = json!({
        "BlockPublicAcls": flag(pab.as_ref().and_then(|c| c.block_public_acls())),
        "IgnorePublicAcls": flag(pab.as_ref().and_then(|c| c.ignore_public_acls())),
        "BlockPublicPolicy": flag(pab.as_ref().and_then(|c| c.block_public_policy())),
        "RestrictPublicBuckets": flag(pab.as_ref().and_then(|c| c.restrict_public_buckets())),
    });
    let versioning = p
        .call(
            "GetBucketVersioning",
            p.s3.get_bucket_versioning().bucket(&bucket).send(),
        )
        .await?;
    let ownership = absent(
        p.call(
            "GetBucketOwnershipControls",
            p.s3.get_bucket_ownership_controls().bucket(&bucket).send(),
        )
        .await,
        MISSING,
    )?
    .and_then(|o| {
        o.ownership_controls()
            .and_then(|c| c.rules().first())
            .map(|r| r.object_ownership().as_str().to_string())
    });
    let policy = absent(
        p.call(
            "GetBucketPolicy",
            p.s3.get_bucket_policy().bucket(&bucket).send(),
        )
        .await,
        MISSING,
    )?
    .and_then(|o| {
        o.policy()
            .map(|t| serde_json::from_str::<Value>(t).unwrap_or(Value::String(t.to_string())))
    })
    .unwrap_or(Value::Null);
    let mut settings = json!({
        "Bucket": bucket,
        "ObjectOwnership": ownership,
        "PublicAccessBlockConfiguration": pab,
        "VersioningConfiguration": { "Status": versioning.status().map(|s| s.as_str()).unwrap_or("Suspended") },
        "ServerSideEncryptionConfiguration": sse,
        "Policy": policy,
        "Tags": tag_subset(tags, d),
    });
    if d.get("CORSConfiguration").is_some() {
        let cors = absent(
            p.call(
                "GetBucketCors",
                p.s3.get_bucket_cors().bucket(&bucket).send(),
            )
            .await,
            MISSING,
        )?;
        settings["CORSConfiguration"] = cors.map_or(Value::Null, |c| {
            json!({ "CORSRules": c.cors_rules().iter().map(|rule| json!({
                "AllowedOrigins": rule.allowed_origins(),
                "AllowedMethods": rule.allowed_methods(),
                "AllowedHeaders": rule.allowed_headers(),
                "ExposeHeaders": rule.expose_headers(),
                "MaxAgeSeconds": rule.max_age_seconds(),
            })).collect::<Vec<_>>() })
        });
    }
    let arn = format!("arn:aws:s3:::{bucket}");
    Ok(Some(Observed {
        id: bucket.clone(),
        outputs: outputs(&[("arn", json!(arn)), ("name", json!(bucket))]),
        settings,
    }))
}

pub async fn create(p: &AwsProvider, r: &Resource, d: &Value) -> Result<Observed> {
    let bucket = s(d, "Bucket");
    let mut req =
        p.s3.create_bucket()
            .bucket(&bucket)
            .object_ownership(ObjectOwnership::BucketOwnerEnforced);
    if let Some(region) = d
        .pointer("/CreateBucketConfiguration/LocationConstraint")
        .and_then(Value::as_str)
    {
        req = req.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    match p.call("CreateBucket", req.send()).await {
        Ok(_) => {}
        // A run killed after CreateBucket: ours, resume.
        Err(e) if e.is(&["BucketAlreadyOwnedByYou"]) => {}
        Err(e) => return Err(e.into()),
    }
    // Tag first: the tag is what marks the bucket as ours for a resumed run.
    put_tags(p, r, &bucket, d).await?;
    let live = read(p, r, d, Claim::Recorded)
        .await?
        .ok_or_else(|| anyhow!("bucket {bucket} was created but cannot be read"))?;
    let changed = crate::plan::diff::changed_paths(&live.settings, d);
    update(p, r, d, &live, &changed).await
}

async fn put_tags(p: &AwsProvider, r: &Resource, bucket: &str, d: &Value) -> Result<()> {
    let tags: Vec<Tag> = p
        .tags_for(r, d)
        .into_iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect();
    let tagging = Tagging::builder().set_tag_set(Some(tags)).build()?;
    p.call(
        "PutBucketTagging",
        p.s3.put_bucket_tagging()
            .bucket(bucket)
            .tagging(tagging)
            .send(),
    )
    .await?;
    Ok(())
}

pub async fn update(
    p: &AwsProvider,
    r: &Resource,
    d: &Value,
    _live: &Observed,
    changed: &[String],
) -> Result<Observed> {
    let bucket = s(d, "Bucket");
    let touched = |prefix: &str| changed.iter().any(|c| c.starts_with(prefix));
    if touched("/Tags") {
        put_tags(p, r, &bucket, d).await?;
    }
    if touched("/ObjectOwnership") {
        let rule = OwnershipControlsRule::builder()
            .object_ownership(ObjectOwnership::from(s(d, "ObjectOwnership").as_str()))
            .build()?;
        p.call(
            "PutBucketOwnershipControls",
            p.s3.put_bucket_ownership_controls()
                .bucket(&bucket)
                .ownership_controls(OwnershipControls::builder().rules(rule).build()?)
                .send(),
        )
        .await?;
    }
    if touched("/PublicAccessBlockConfiguration") {
        let c = d
            .get("PublicAccessBlockConfiguration")
            .cloned()
            .unwrap_or(Value::Null);
        let f = |k: &str| c.get(k).and_then(Value::as_bool).unwrap_or(true);
        let cfg = PublicAccessBlockConfiguration::builder()
            .block_public_acls(f("BlockPublicAcls"))
            .ignore_public_acls(f("IgnorePublicAcls"))
            .block_public_policy(f("BlockPublicPolicy"))
            .restrict_public_buckets(f("RestrictPublicBuckets"))
            .build();
        p.call(
            "PutPublicAccessBlock",
            p.s3.put_public_access_block()
                .bucket(&bucket)
                .public_access_block_configuration(cfg)
                .send(),
        )
        .await?;
    }
    if touched("/VersioningConfiguration") {
        let status = BucketVersioningStatus::from(
            d.pointer("/VersioningConfiguration/Status")
                .and_then(Value::as_str)
                .unwrap_or("Enabled"),
        );
        p.call(
            "PutBucketVersioning",
            p.s3.put_bucket_versioning()
                .bucket(&bucket)
                .versioning_configuration(VersioningConfiguration::builder().status(status).build())
                .send(),
        )
        .await?;
    }
    if touched("/ServerSideEncryptionConfiguration") {
        match d.pointer("/ServerSideEncryptionConfiguration/Rules/0") {
            Some(rule) => {
                let by_default = rule
                    .get("ApplyServerSideEncryptionByDefault")
                    .cloned()
                    .unwrap_or(Value::Null);
                let mut b = ServerSideEncryptionByDefault::builder().sse_algorithm(
                    ServerSideEncryption::from(s(&by_default, "SSEAlgorithm").as_str()),
                );
                if let Some(k) = by_default.get("KMSMasterKeyID").and_then(Value::as_str) {
                    b = b.kms_master_key_id(k);
                }
                let rule = ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(b.build()?)
                    .bucket_key_enabled(
                        rule.get("BucketKeyEnabled")
                            .and_then(Value::as_bool)
                            .unwrap_or(true),
                    )
                    .build();
                let cfg = ServerSideEncryptionConfiguration::builder()
                    .rules(rule)
                    .build()?;
                p.call(
                    "PutBucketEncryption",
                    p.s3.put_bucket_encryption()
                        .bucket(&bucket)
                        .server_side_encryption_configuration(cfg)
                        .send(),
                )
                .await?;
            }
            None => {
                gone(
                    p.call(
                        "DeleteBucketEncryption",
                        p.s3.delete_bucket_encryption().bucket(&bucket).send(),
                    )
                    .await,
                    MISSING,
                )?;
            }
        }
    }
    if touched("/Policy") {
        match d.get("Policy").filter(|v| !v.is_null()) {
            Some(policy) => {
                p.call(
                    "PutBucketPolicy",
                    p.s3.put_bucket_policy()
                        .bucket(&bucket)
                        .policy(policy.to_string())
                        .send(),
                )
                .await?;
            }
            None => {
                gone(
                    p.call(
                        "DeleteBucketPolicy",
                        p.s3.delete_bucket_policy().bucket(&bucket).send(),
                    )
                    .await,
                    MISSING,
                )?;
            }
        }
    }
    if touched("/CORSConfiguration") {
        let rules: Vec<CorsRule> = d
            .pointer("/CORSConfiguration/CORSRules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|rule| {
                CorsRule::builder()
                    .set_allowed_origins(Some(strings(rule.get("AllowedOrigins"))))
                    .set_allowed_methods(Some(strings(rule.get("AllowedMethods"))))
                    .set_allowed_headers(Some(strings(rule.get("AllowedHeaders"))))
                    .set_expose_headers(Some(strings(rule.get("ExposeHeaders"))))
                    .set_max_age_seconds(
                        rule.get("MaxAgeSeconds")
                            .and_then(Value::as_i64)
                            .map(|m| m as i32),
                    )
                    .build()
                    .ok()
            })
            .collect();
        let cfg = CorsConfiguration::builder()
            .set_cors_rules(Some(rules))
            .build()?;
        p.call(
            "PutBucketCors",
            p.s3.put_bucket_cors()
                .bucket(&bucket)
                .cors_configuration(cfg)
                .send(),
        )
        .await?;
    }
    read(p, r, d, Claim::Recorded)
        .await?
        .ok_or_else(|| anyhow!("bucket {bucket} disappeared while being updated"))
}

/// Object versions and delete markers in a bucket: what deleting it would lose.
pub async fn object_count(p: &AwsProvider, bucket: &str) -> Result<u64> {
    let mut count = 0u64;
    let (mut key, mut version) = (None::<String>, None::<String>);
    loop {
        let req =
            p.s3.list_object_versions()
                .bucket(bucket)
                .set_key_marker(key.clone())
                .set_version_id_marker(version.clone());
        let Some(page) = absent(p.call("ListObjectVersions", req.send()).await, MISSING)? else {
            return Ok(0);
        };
        count += (page.versions().len() + page.delete_markers().len()) as u64;
        if !page.is_truncated().unwrap_or(false) {
            return Ok(count);
        }
        key = page.next_key_marker().map(String::from);
        version = page.next_version_id_marker().map(String::from);
    }
}

/// Deletes every object version and delete marker, a page (up to 1,000) at a time.
async fn empty(p: &AwsProvider, bucket: &str) -> Result<()> {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    loop {
        let Some(page) = absent(
            p.call(
                "ListObjectVersions",
                p.s3.list_object_versions().bucket(bucket).send(),
            )
            .await,
            MISSING,
        )?
        else {
            return Ok(());
        };
        let ids: Vec<ObjectIdentifier> = page
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                page.delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id())),
            )
            .filter_map(|(k, v)| {
                ObjectIdentifier::builder()
                    .set_key(k.map(String::from))
                    .set_version_id(v.map(String::from))
                    .build()
                    .ok()
            })
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let batch = Delete::builder()
            .set_objects(Some(ids))
            .quiet(true)
            .build()?;
        let out = p
            .call(
                "DeleteObjects",
                p.s3.delete_objects().bucket(bucket).delete(batch).send(),
            )
            .await?;
        // Quiet mode answers only the failures; one is enough to stop (listing again would
        // find the same objects forever).
        if let Some(e) = out.errors().first() {
            return Err(anyhow!(
                "DeleteObjects: {} of bucket {bucket}: {}: {}",
                e.key().unwrap_or("?"),
                e.code().unwrap_or("error"),
                e.message().unwrap_or("no message")
            ));
        }
    }
}

pub async fn delete(p: &AwsProvider, st: &ResourceState, with_data: bool) -> Result<()> {
    let bucket = st.id.clone();
    if with_data {
        empty(p, &bucket).await?;
    }
    let listing = absent(
        p.call(
            "ListObjectVersions",
            p.s3.list_object_versions()
                .bucket(&bucket)
                .max_keys(1)
                .send(),
        )
        .await,
        MISSING,
    )?;
    if let Some(l) = listing {
        if !l.versions().is_empty() || !l.delete_markers().is_empty() {
            return Err(crate::error::UserError::new(format!("bucket {bucket} is not empty; unionctl does not delete data"))
                .hint("empty it yourself (all object versions) if its data may go, then run destroy again")
                .into());
        }
    }
    gone(
        p.call("DeleteBucket", p.s3.delete_bucket().bucket(&bucket).send())
            .await,
        MISSING,
    )
}
