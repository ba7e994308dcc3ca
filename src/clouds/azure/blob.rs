//! The Blob service, only to count what a container holds before it may be deleted
//! (ARM does not list blobs). List Blobs, page by page:
//! <https://learn.microsoft.com/rest/api/storageservices/list-blobs>.

use anyhow::{bail, Result};
use azure_core::http::Method;

use super::provider::AzureProvider;
use crate::state::ResourceState;

/// The Blob service version the request is written for.
const X_MS_VERSION: &str = "2023-11-03";

pub async fn count(p: &AzureProvider, container: &ResourceState) -> Result<u64> {
    let account = container
        .settings
        .get("storageAccount")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let base = p.endpoints.blob.replace("{account}", account);
    let mut total = 0;
    let mut marker = String::new();
    loop {
        let mut url = azure_core::http::Url::parse(&format!(
            "{}/{}",
            base.trim_end_matches('/'),
            container.name
        ))?;
        url.query_pairs_mut()
            .append_pair("restype", "container")
            .append_pair("comp", "list")
            .append_pair("maxresults", "5000");
        if !marker.is_empty() {
            // Markers are opaque and may hold `+`, `/` or `=`: encoded as a query value.
            url.query_pairs_mut().append_pair("marker", &marker);
        }
        let url = url.to_string();
        let reply = p
            .call("Blob List Blobs", false, || {
                p.blob
                    .send(Method::Get, &url, None, &[("x-ms-version", X_MS_VERSION)])
            })
            .await?;
        match reply.status {
            200 => {}
            404 => return Ok(total),
            // The account's firewall (it admits the nodes' subnet only) or a missing data role.
            403 if reply.text.contains("AuthorizationPermissionMismatch") => {
                return Err(crate::error::UserError::new(format!("cannot count the blobs of {account}/{}: listing them needs a data role", container.name))
                    .hint("grant your identity Storage Blob Data Reader on the storage account (Owner holds no data actions), then run again")
                    .into())
            }
            403 => {
                return Err(crate::error::UserError::new(format!("cannot count the blobs of {account}/{}: the storage account's network rules refuse this machine", container.name))
                    .hint("run from the data plane's network, or add this machine's address to the account's network rules for the destroy")
                    .into())
            }
            s => bail!("listing the blobs of {account}/{}: HTTP {s}: {}", container.name, reply.text.chars().take(300).collect::<String>()),
        }
        total += reply.text.matches("<Blob>").count() as u64;
        marker = between(&reply.text, "<NextMarker>", "</NextMarker>")
            .unwrap_or_default()
            .to_string();
        if marker.is_empty() {
            return Ok(total);
        }
    }
}

pub(super) fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = s.find(open)? + open.len();
    let end = s[start..].find(close)? + start;
    Some(&s[start..end])
}
