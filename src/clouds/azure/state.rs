//! Remote state in Azure Blob Storage (`azblob://ACCOUNT/CONTAINER/KEY`), signed in as the
//! customer (Entra ID; the identity needs a data role such as Storage Blob Data
//! Contributor on the container):
//! - the lock `KEY.lock` is written with Put Blob `If-None-Match: *`, which succeeds only
//!   if no blob has the name (a second writer gets 409 BlobAlreadyExists);
//! - it is deleted with Delete Blob `If-Match: ETAG`, so only the lock that was read;
//! - the account must keep versions: the Blob service says so only in answer to a write
//!   (`x-ms-version-id`), so it is checked on the lock's write, before anything else is
//!   written, and a lock written to an account without versions is taken back.
//!
//! References: <https://learn.microsoft.com/rest/api/storageservices/put-blob>,
//! <https://learn.microsoft.com/rest/api/storageservices/get-blob>,
//! <https://learn.microsoft.com/rest/api/storageservices/delete-blob>,
//! <https://learn.microsoft.com/rest/api/storageservices/specifying-conditional-headers-for-blob-service-operations>,
//! <https://learn.microsoft.com/azure/storage/blobs/versioning-overview>.

use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use azure_core::http::Method;
use futures_util::future::BoxFuture;

use super::arm::{self, Api, Endpoints, Reply};
use super::blob::between;
use super::provider::STORAGE_SCOPE;
use crate::error::UserError;
use crate::state::remote::{Object, ObjectStore, RemoteBackend};

/// The Blob service version the requests are written for.
const X_MS_VERSION: &str = "2023-11-03";

pub struct BlobStore {
    api: Arc<Api>,
    /// `https://ACCOUNT.blob.core.windows.net/CONTAINER`.
    base: String,
    account: String,
    container: String,
}

/// Signs in as the customer, in the profile's tenant (else `AZURE_TENANT_ID`).
pub fn backend(
    account: &str,
    container: &str,
    key: &str,
    tenant: Option<String>,
) -> Result<RemoteBackend> {
    let tenant = tenant.or_else(|| std::env::var("AZURE_TENANT_ID").ok().filter(|t| !t.is_empty())).ok_or_else(|| {
        UserError::new(format!("signing in to the state's storage account `{account}` needs a tenant, and this profile names no Azure tenant"))
            .hint("set AZURE_TENANT_ID to the tenant of the storage account")
    })?;
    let credential = super::customer_credential(&tenant)?;
    let api = Arc::new(Api::new(credential, STORAGE_SCOPE, &arm::transport()?));
    let base = format!(
        "{}/{container}",
        Endpoints::from_env()
            .blob
            .replace("{account}", account)
            .trim_end_matches('/')
    );
    let store = BlobStore {
        api,
        base,
        account: account.to_string(),
        container: container.to_string(),
    };
    RemoteBackend::connect(
        key,
        async move { Ok(Box::new(store) as Box<dyn ObjectStore>) },
    )
}

impl BlobStore {
    /// The blob's URL: its name's `/`-separated parts as path segments, each encoded.
    fn blob_url(&self, key: &str) -> Result<String> {
        let mut url = azure_core::http::Url::parse(&self.base)?;
        url.path_segments_mut()
            .map_err(|_| anyhow!("bad blob endpoint {}", self.base))?
            .extend(key.split('/'));
        Ok(url.to_string())
    }

    /// A request's failure, in words a user can act on.
    fn refused(account: &str, container: &str, what: &str, reply: &Reply) -> anyhow::Error {
        let code = code(reply);
        match (reply.status, code.as_str()) {
            (403, "AuthorizationPermissionMismatch") => UserError::new(format!("{what} in {account}/{container} is refused: the state needs a data role on the container"))
                .hint("grant your identity Storage Blob Data Contributor on the container or the storage account (Owner and Contributor hold no data actions)")
                .into(),
            (403, _) => UserError::new(format!("{what} in {account}/{container} is refused ({code}): the storage account's network rules or keys-only access refuse this request"))
                .hint("run from a network the storage account admits, and allow Entra ID (Azure AD) authorization on it")
                .into(),
            (404, "ContainerNotFound") => UserError::new(format!("the container `{container}` does not exist in the storage account `{account}`")).hint("create it, or name another container").into(),
            (404, "ResourceNotFound") | (404, "AccountNotFound") => UserError::new(format!("the storage account `{account}` does not exist")).into(),
            (s, _) => anyhow!("{what}: HTTP {s} {code}: {}", between(&reply.text, "<Message>", "</Message>").unwrap_or_default()),
        }
    }
}

impl ObjectStore for BlobStore {
    fn url(&self, key: &str) -> String {
        format!("azblob://{}/{}/{key}", self.account, self.container)
    }

    fn get(&self, key: &str) -> BoxFuture<'static, Result<Option<Object>>> {
        let (api, url, account, container) = (
            self.api.clone(),
            self.blob_url(key),
            self.account.clone(),
            self.container.clone(),
        );
        Box::pin(async move {
            let url = url?;
            let reply = api
                .send_bytes(Method::Get, &url, None, &[("x-ms-version", X_MS_VERSION)])
                .await?;
            match reply.status {
                200 => Ok(Some(Object {
                    version: reply.etag.clone().unwrap_or_default(),
                    bytes: reply.text.into_bytes(),
                })),
                404 if code(&reply) == "BlobNotFound" => Ok(None),
                _ => Err(BlobStore::refused(&account, &container, "Get Blob", &reply)),
            }
        })
    }

    fn put(&self, key: &str, bytes: Vec<u8>) -> BoxFuture<'static, Result<()>> {
        let (api, url, account, container) = (
            self.api.clone(),
            self.blob_url(key),
            self.account.clone(),
            self.container.clone(),
        );
        Box::pin(async move {
            let url = url?;
            let reply = api
                .send_bytes(
                    Method::Put,
                    &url,
                    Some(bytes),
                    &[
                        ("x-ms-version", X_MS_VERSION),
                        ("x-ms-blob-type", "BlockBlob"),
                    ],
                )
                .await?;
            if reply.status != 201 {
                return Err(BlobStore::refused(&account, &container, "Put Blob", &reply));
            }
            Ok(())
        })
    }

    fn create(&self, key: &str, bytes: Vec<u8>) -> BoxFuture<'static, Result<bool>> {
        let (api, url, account, container) = (
            self.api.clone(),
            self.blob_url(key),
            self.account.clone(),
            self.container.clone(),
        );
        Box::pin(async move {
            let url = url?;
            let headers = [
                ("x-ms-version", X_MS_VERSION),
                ("x-ms-blob-type", "BlockBlob"),
                ("if-none-match", "*"),
            ];
            let reply = api
                .send_bytes(Method::Put, &url, Some(bytes), &headers)
                .await?;
            match reply.status {
                201 if reply.version_id.is_some() => Ok(true),
                201 => {
                    // Take the lock back before refusing: nothing else was written.
                    let etag = reply.etag.clone().unwrap_or_default();
                    let _ = api
                        .send_bytes(
                            Method::Delete,
                            &url,
                            None,
                            &[("x-ms-version", X_MS_VERSION), ("if-match", &etag)],
                        )
                        .await;
                    Err(UserError::new(format!("the storage account `{account}` does not keep blob versions; remote state needs them to bring back an earlier state"))
                        .hint(format!("az storage account blob-service-properties update --account-name {account} --enable-versioning true"))
                        .into())
                }
                // Someone holds it (409 BlobAlreadyExists); 412 if a proxy turned it into
                // a precondition failure.
                409 | 412 => Ok(false),
                _ => Err(BlobStore::refused(
                    &account,
                    &container,
                    "Put Blob (If-None-Match)",
                    &reply,
                )),
            }
        })
    }

    fn delete(&self, key: &str, version: &str) -> BoxFuture<'static, Result<()>> {
        let (api, url, account, container, etag) = (
            self.api.clone(),
            self.blob_url(key),
            self.account.clone(),
            self.container.clone(),
            version.to_string(),
        );
        Box::pin(async move {
            let url = url?;
            let reply = api
                .send_bytes(
                    Method::Delete,
                    &url,
                    None,
                    &[("x-ms-version", X_MS_VERSION), ("if-match", &etag)],
                )
                .await?;
            match reply.status {
                202 => Ok(()),
                404 if code(&reply) == "BlobNotFound" => Ok(()),
                412 => bail!(
                    "it changed since it was read (taken by someone else); nothing was deleted"
                ),
                _ => Err(BlobStore::refused(
                    &account,
                    &container,
                    "Delete Blob (If-Match)",
                    &reply,
                )),
            }
        })
    }
}

/// The Blob service's error code: the `x-ms-error-code` header, else the body's `<Code>`.
fn code(reply: &Reply) -> String {
    reply.error_code.clone().unwrap_or_else(|| {
        between(&reply.text, "<Code>", "</Code>")
            .unwrap_or_default()
            .to_string()
    })
}
