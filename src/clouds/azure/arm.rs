//! Azure Resource Manager, Microsoft Graph and the Blob service over the `azure_core`
//! HTTP pipeline: bearer tokens from `azure_identity`, the SDK's retries (429 and 5xx,
//! honouring `Retry-After`), and what the pipeline leaves to each client: long-running
//! operations followed through `Azure-AsyncOperation` / `Location`, and 409 conflicts
//! with an operation in progress retried.
//!
//! References: <https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations>,
//! <https://learn.microsoft.com/rest/api/azure/#async-operations-throttling-and-paging>.

use std::sync::Arc;
use std::time::{Duration, Instant};

use azure_core::credentials::TokenCredential;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::policies::Policy;
use azure_core::http::{
    ClientOptions, Context, Method, Pipeline, PipelineSendOptions, Request, Transport, Url,
};
use serde_json::Value;

/// Where each API is: Azure's public cloud, or (`UNIONCTL_AZURE_*`) a contract server.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub arm: String,
    pub graph: String,
    /// `{account}` is replaced by the storage account's name.
    pub blob: String,
}

impl Endpoints {
    pub fn from_env() -> Self {
        let var = |name: &str, default: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        Endpoints {
            arm: var(
                "UNIONCTL_AZURE_ARM_ENDPOINT",
                "https://management.azure.com",
            )
            .trim_end_matches('/')
            .to_string(),
            graph: var(
                "UNIONCTL_AZURE_GRAPH_ENDPOINT",
                "https://graph.microsoft.com",
            )
            .trim_end_matches('/')
            .to_string(),
            blob: var(
                "UNIONCTL_AZURE_BLOB_ENDPOINT_TEMPLATE",
                "https://{account}.blob.core.windows.net",
            ),
        }
    }
}

/// The HTTP client every pipeline (and the credentials' token requests) uses: the
/// platform's roots, plus `UNIONCTL_AZURE_CA_FILE` when set (a contract server's test CA).
pub fn transport() -> anyhow::Result<Transport> {
    let mut builder = reqwest::Client::builder();
    if let Some(path) = std::env::var_os("UNIONCTL_AZURE_CA_FILE").filter(|p| !p.is_empty()) {
        let pem = std::fs::read(&path).map_err(|e| {
            anyhow::anyhow!(
                "UNIONCTL_AZURE_CA_FILE {}: {e}",
                std::path::Path::new(&path).display()
            )
        })?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .map_err(|e| anyhow::anyhow!("UNIONCTL_AZURE_CA_FILE is not a PEM certificate: {e}"))?;
        builder = builder.add_root_certificate(cert);
    }
    let client = builder
        .build()
        .map_err(|e| anyhow::anyhow!("cannot set up HTTPS: {e}"))?;
    Ok(Transport::new(Arc::new(client)))
}

pub fn client_options(transport: &Transport) -> ClientOptions {
    ClientOptions {
        transport: Some(transport.clone()),
        ..Default::default()
    }
}

/// One API (ARM, Graph or Blob) with its token audience.
pub struct Api {
    pipeline: Pipeline,
}

impl Api {
    pub fn new(
        credential: Arc<dyn TokenCredential>,
        scope: &'static str,
        transport: &Transport,
    ) -> Self {
        let auth: Arc<dyn Policy> =
            Arc::new(BearerTokenAuthorizationPolicy::new(credential, [scope]));
        let pipeline = Pipeline::new(
            option_env!("CARGO_PKG_NAME"),
            option_env!("CARGO_PKG_VERSION"),
            client_options(transport),
            Vec::new(),
            vec![auth],
            None,
        );
        Api { pipeline }
    }

    /// Sends one request (the pipeline retries 429/5xx); any status comes back as a `Reply`.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        headers: &[(&'static str, &str)],
    ) -> Result<Reply, ApiError> {
        self.send_bytes(
            method,
            url,
            body.map(|b| serde_json::to_vec(b).unwrap_or_default()),
            headers,
        )
        .await
    }

    /// The same with a JSON document already serialized (a blob's content).
    pub async fn send_bytes(
        &self,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
        headers: &[(&'static str, &str)],
    ) -> Result<Reply, ApiError> {
        let parsed = Url::parse(url).map_err(|e| ApiError::other(format!("{url}: {e}")))?;
        let mut req = Request::new(parsed, method);
        for (k, v) in headers {
            req.insert_header(*k, v.to_string());
        }
        if let Some(b) = body {
            req.insert_header("content-type", "application/json");
            req.set_body(b);
        }
        let options = PipelineSendOptions {
            skip_checks: true,
            ..Default::default()
        };
        let resp = self
            .pipeline
            .send(&Context::new(), &mut req, Some(options))
            .await
            .map_err(|e| ApiError::other(format!("{url}: {}", error_chain(&e))))?;
        let (status, headers, body) = resp.deconstruct();
        let header = |name: &'static str| {
            headers.get_optional_string(&azure_core::http::headers::HeaderName::from_static(name))
        };
        let text = String::from_utf8_lossy(body.as_ref()).to_string();
        Ok(Reply {
            status: u16::from(status),
            async_operation: header("azure-asyncoperation"),
            location: header("location"),
            retry_after: header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
            etag: header("etag"),
            version_id: header("x-ms-version-id"),
            error_code: header("x-ms-error-code"),
            json: if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
            },
            text,
        })
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut next = e.source();
    while let Some(err) = next {
        let s = err.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        next = err.source();
    }
    parts.join(": ")
}

/// A response: status, the headers ARM's operations are driven by, and the body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub async_operation: Option<String>,
    pub location: Option<String>,
    pub retry_after: Option<Duration>,
    /// The Blob service's: the blob's ETag, the version a write made (only where the
    /// account keeps versions), and its error code.
    pub etag: Option<String>,
    pub version_id: Option<String>,
    pub error_code: Option<String>,
    pub json: Value,
    pub text: String,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The error ARM or Graph wrote (`{"error": {"code", "message"}}`).
    pub fn error(&self, what: &str) -> ApiError {
        let code = self
            .json
            .pointer("/error/code")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let message = self
            .json
            .pointer("/error/message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| self.text.chars().take(300).collect());
        ApiError {
            api: what.to_string(),
            status: Some(self.status),
            code,
            message,
        }
    }
}

/// An Azure API failure: the HTTP status and Azure's error code.
#[derive(Debug, thiserror::Error)]
#[error("{api}: {} {code}: {message}", status.map_or(String::new(), |s| s.to_string()))]
pub struct ApiError {
    pub api: String,
    pub status: Option<u16>,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn other(message: String) -> Self {
        ApiError {
            api: String::new(),
            status: None,
            code: String::new(),
            message,
        }
    }
    pub fn is(&self, status: u16) -> bool {
        self.status == Some(status)
    }
    /// A conflict with an operation still running on the same resource (or, for federated
    /// credentials, on the same identity): ARM asks to try again later.
    pub fn in_progress(&self) -> bool {
        // AKS's OperationNotAllowed also refuses for good (quota, say): only its "in progress"
        // form is waited out.
        let busy = self.message.to_ascii_lowercase().contains("in progress");
        self.is(409)
            && (matches!(
                self.code.as_str(),
                "AnotherOperationInProgress"
                    | "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity"
                    | "RetryableError"
            ) || (self.code == "OperationNotAllowed" && busy))
    }

    /// A principal or grant just made that Azure has not spread to every region yet
    /// (Entra ID and RBAC replicate in seconds to minutes).
    pub fn propagating(&self) -> bool {
        (self.is(400) && self.code == "PrincipalNotFound")
            || (self.is(400)
                && self
                    .message
                    .contains("does not reference a valid application"))
    }
}

/// How an operation ended.
pub enum Done {
    Succeeded,
    Failed(String),
}

/// Follows a long-running operation to its end: `Azure-AsyncOperation` (a status
/// resource: InProgress → Succeeded/Failed/Canceled) or `Location` (202 until done).
/// Waits what `Retry-After` says (1 s when it says nothing shorter is documented).
pub async fn wait(api: &Api, first: &Reply, timeout: Duration) -> Result<Done, ApiError> {
    let started = Instant::now();
    let mut delay = first
        .retry_after
        .unwrap_or(Duration::from_secs(1))
        .max(Duration::from_secs(1));
    if let Some(url) = &first.async_operation {
        loop {
            tokio::time::sleep(delay).await;
            let r = api.send(Method::Get, url, None, &[]).await?;
            if !r.ok() {
                return Err(r.error("operation status"));
            }
            match r
                .json
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("InProgress")
            {
                "Succeeded" => return Ok(Done::Succeeded),
                "Failed" | "Canceled" => {
                    let why = r
                        .json
                        .pointer("/error/message")
                        .and_then(Value::as_str)
                        .unwrap_or("no reason given");
                    return Ok(Done::Failed(why.to_string()));
                }
                _ => {}
            }
            delay = r
                .retry_after
                .unwrap_or(delay)
                .clamp(Duration::from_secs(1), Duration::from_secs(10));
            if started.elapsed() > timeout {
                return Ok(Done::Failed(format!(
                    "still running after {} s",
                    timeout.as_secs()
                )));
            }
        }
    }
    if let (202, Some(url)) = (first.status, &first.location) {
        loop {
            tokio::time::sleep(delay).await;
            let r = api.send(Method::Get, url, None, &[]).await?;
            match r.status {
                202 => {}
                s if (200..300).contains(&s) => return Ok(Done::Succeeded),
                _ => return Err(r.error("operation location")),
            }
            delay = r
                .retry_after
                .unwrap_or(delay)
                .clamp(Duration::from_secs(1), Duration::from_secs(10));
            if started.elapsed() > timeout {
                return Ok(Done::Failed(format!(
                    "still running after {} s",
                    timeout.as_secs()
                )));
            }
        }
    }
    Ok(Done::Succeeded)
}
