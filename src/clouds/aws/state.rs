//! Remote state in S3 (`s3://BUCKET/KEY`), as Terraform's S3 backend keeps it: the
//! bucket must keep versions; the lock `KEY.lock` is created with PutObject
//! `If-None-Match: *` (S3 answers a second writer 412 Precondition Failed, or 409
//! ConditionalRequestConflict while the first is in flight) and deleted with
//! DeleteObject `If-Match: ETAG`. References:
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html> (general
//! purpose buckets since September 2025: 412 if the ETag moved, 404 if the object is gone).

use anyhow::{anyhow, Context, Result};
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures_util::future::BoxFuture;

use crate::error::UserError;
use crate::state::remote::{Object, ObjectStore, RemoteBackend};

pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
}

/// Connects with the caller's AWS configuration and checks that the bucket keeps versions.
/// The bucket's region is the caller's configured one (AWS_REGION, the AWS profile's), else
/// the data plane's: a team's state bucket may live elsewhere than its data planes.
pub fn backend(bucket: &str, key: &str, data_plane_region: &str) -> Result<RemoteBackend> {
    let fallback = aws_types::region::Region::new(data_plane_region.to_string());
    let bucket = bucket.to_string();
    RemoteBackend::connect(key, async move {
        let region =
            aws_config::meta::region::RegionProviderChain::default_provider().or_else(fallback);
        let config = super::provider::sdk_defaults().region(region).load().await;
        // An endpoint override (an emulator) cannot serve virtual-hosted buckets.
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(config.endpoint_url().is_some())
            .build();
        let client = aws_sdk_s3::Client::from_conf(s3);
        match client.get_bucket_versioning().bucket(&bucket).send().await {
            Ok(v) if v.status().map(|s| s.as_str()) == Some("Enabled") => Ok(Box::new(S3Store { client, bucket }) as Box<dyn ObjectStore>),
            Ok(_) => Err(UserError::new(format!("the state bucket `{bucket}` does not keep versions; remote state needs them to bring back an earlier state"))
                .hint(format!("aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled"))
                .into()),
            Err(e) => Err(anyhow!("s3:GetBucketVersioning: {}", message(&e))).with_context(|| format!("cannot reach the state bucket s3://{bucket}")),
        }
    })
}

impl ObjectStore for S3Store {
    fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    fn get(&self, key: &str) -> BoxFuture<'static, Result<Option<Object>>> {
        let request = self.client.get_object().bucket(&self.bucket).key(key);
        Box::pin(async move {
            match request.send().await {
                Ok(o) => {
                    let version = o.e_tag().unwrap_or_default().to_string();
                    let bytes = o
                        .body
                        .collect()
                        .await
                        .map_err(|e| anyhow!("reading the object: {e}"))?
                        .into_bytes()
                        .to_vec();
                    Ok(Some(Object { bytes, version }))
                }
                Err(e) if e.code() == Some("NoSuchKey") => Ok(None),
                Err(e) => Err(anyhow!("s3:GetObject: {}", message(&e))),
            }
        })
    }

    fn put(&self, key: &str, bytes: Vec<u8>) -> BoxFuture<'static, Result<()>> {
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(bytes));
        Box::pin(async move {
            request
                .send()
                .await
                .map(|_| ())
                .map_err(|e| anyhow!("s3:PutObject: {}", message(&e)))
        })
    }

    fn create(&self, key: &str, bytes: Vec<u8>) -> BoxFuture<'static, Result<bool>> {
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .if_none_match("*")
            .content_type("application/json")
            .body(ByteStream::from(bytes));
        Box::pin(async move {
            match request.send().await {
                Ok(_) => Ok(true),
                // Someone holds it (412), or is taking it at this moment (409).
                Err(e)
                    if matches!(
                        e.code(),
                        Some("PreconditionFailed" | "ConditionalRequestConflict")
                    ) =>
                {
                    Ok(false)
                }
                Err(e) => Err(anyhow!("s3:PutObject (If-None-Match): {}", message(&e))),
            }
        })
    }

    fn delete(&self, key: &str, version: &str) -> BoxFuture<'static, Result<()>> {
        let request = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .if_match(version);
        Box::pin(async move {
            match request.send().await {
                Ok(_) => Ok(()),
                Err(e) if e.code() == Some("NoSuchKey") => Ok(()),
                Err(e) if e.code() == Some("PreconditionFailed") => Err(anyhow!(
                    "it changed since it was read (taken by someone else); nothing was deleted"
                )),
                Err(e) => Err(anyhow!("s3:DeleteObject (If-Match): {}", message(&e))),
            }
        })
    }
}

fn message<E: ProvideErrorMetadata + std::error::Error + 'static>(
    e: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> String {
    super::errors::describe(e)
}
