//! Remote state in Cloud Storage (`gs://BUCKET/KEY`), signed in with Application Default
//! Credentials, over the JSON API:
//! - the bucket must keep versions (`versioning.enabled`);
//! - the lock `KEY.lock` is uploaded with `ifGenerationMatch=0`, which succeeds only if
//!   no live object has the name (a second writer gets 412 Precondition Failed);
//! - it is deleted with `ifGenerationMatch=GENERATION`, so only the lock that was read.
//!
//! References: <https://cloud.google.com/storage/docs/json_api/v1/objects/insert>,
//! <https://cloud.google.com/storage/docs/json_api/v1/objects/get> (`alt=media`),
//! <https://cloud.google.com/storage/docs/json_api/v1/objects/delete>,
//! <https://cloud.google.com/storage/docs/request-preconditions>.

use anyhow::{anyhow, Context, Result};
use futures_util::future::BoxFuture;
use reqwest::Method;
use serde_json::Value;

use super::provider::{endpoint, retrying, Rest};
use crate::error::UserError;
use crate::state::remote::{Object, ObjectStore, RemoteBackend};

pub struct GcsStore {
    rest: Rest,
    bucket: String,
}

/// Signs in and checks that the bucket keeps versions.
pub fn backend(bucket: &str, key: &str) -> Result<RemoteBackend> {
    let bucket = bucket.to_string();
    RemoteBackend::connect(key, async move {
        let creds = google_cloud_auth::credentials::Builder::default().build().map_err(|e| {
            UserError::new(format!("no Google Cloud credentials for the state bucket gs://{bucket}: {e}"))
                .hint("run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS")
        })?;
        let store = GcsStore {
            rest: Rest::new(creds),
            bucket,
        };
        let url = format!("{}/storage/v1/b/{}", endpoint("storage"), store.bucket);
        let bucket = &store.bucket;
        match retrying("storage.buckets.get", || store.rest.send(Method::GET, &url, None)).await {
            Ok(b) if b.pointer("/versioning/enabled").and_then(Value::as_bool) == Some(true) => Ok(Box::new(store) as Box<dyn ObjectStore>),
            Ok(_) => Err(UserError::new(format!("the state bucket `{bucket}` does not keep versions; remote state needs them to bring back an earlier state"))
                .hint(format!("gcloud storage buckets update gs://{bucket} --versioning"))
                .into()),
            Err(e) if e.is(404) => Err(UserError::new(format!("the state bucket gs://{bucket} does not exist")).hint("create it with versioning, or name another bucket").into()),
            Err(e) => Err(anyhow!(e)).with_context(|| format!("cannot reach the state bucket gs://{bucket}")),
        }
    })
}

impl GcsStore {
    /// The object's URL (its name one path segment, `/` encoded), with `query`.
    fn object_url(&self, key: &str, query: &[(&str, &str)]) -> Result<String> {
        let mut url = reqwest::Url::parse(&format!(
            "{}/storage/v1/b/{}/o",
            endpoint("storage"),
            self.bucket
        ))?;
        url.path_segments_mut()
            .map_err(|_| anyhow!("bad bucket URL"))?
            .push(key);
        url.query_pairs_mut().extend_pairs(query);
        Ok(url.to_string())
    }

    /// The media upload URL of the object, with `query` besides its name.
    fn upload_url(&self, key: &str, query: &[(&str, &str)]) -> Result<String> {
        let mut url = reqwest::Url::parse(&format!(
            "{}/upload/storage/v1/b/{}/o",
            endpoint("storage"),
            self.bucket
        ))?;
        url.query_pairs_mut()
            .append_pair("uploadType", "media")
            .append_pair("name", key)
            .extend_pairs(query);
        Ok(url.to_string())
    }
}

impl ObjectStore for GcsStore {
    fn url(&self, key: &str) -> String {
        format!("gs://{}/{key}", self.bucket)
    }

    fn get(&self, key: &str) -> BoxFuture<'static, Result<Option<Object>>> {
        let (rest, url) = (self.rest.clone(), self.object_url(key, &[("alt", "media")]));
        Box::pin(async move {
            let url = url?;
            match retrying("storage.objects.get", || {
                rest.send_media(Method::GET, &url, None)
            })
            .await
            {
                Ok(m) => Ok(Some(Object {
                    bytes: m.bytes,
                    version: m.generation,
                })),
                Err(e) if e.is(404) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn put(&self, key: &str, bytes: Vec<u8>) -> BoxFuture<'static, Result<()>> {
        let (rest, url) = (self.rest.clone(), self.upload_url(key, &[]));
        Box::pin(async move {
            let url = url?;
            retrying("storage.objects.insert", || {
                rest.send_media(Method::POST, &url, Some(bytes.clone()))
            })
            .await?;
            Ok(())
        })
    }

    fn create(&self, key: &str, bytes: Vec<u8>) -> BoxFuture<'static, Result<bool>> {
        let (rest, url) = (
            self.rest.clone(),
            self.upload_url(key, &[("ifGenerationMatch", "0")]),
        );
        Box::pin(async move {
            let url = url?;
            match retrying("storage.objects.insert", || {
                rest.send_media(Method::POST, &url, Some(bytes.clone()))
            })
            .await
            {
                Ok(_) => Ok(true),
                Err(e) if e.is(412) => Ok(false),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn delete(&self, key: &str, version: &str) -> BoxFuture<'static, Result<()>> {
        let (rest, url) = (
            self.rest.clone(),
            self.object_url(key, &[("ifGenerationMatch", version)]),
        );
        Box::pin(async move {
            let url = url?;
            match retrying("storage.objects.delete", || {
                rest.send(Method::DELETE, &url, None)
            })
            .await
            {
                Ok(_) => Ok(()),
                Err(e) if e.is(404) => Ok(()),
                Err(e) if e.is(412) => Err(anyhow!(
                    "it changed since it was read (taken by someone else); nothing was deleted"
                )),
                Err(e) => Err(e.into()),
            }
        })
    }
}
