//! The GCP provider: the official google-cloud-rust clients (REST transport), one file per
//! service, and plain REST with the same credentials where no client exists (Cloud
//! Storage bucket administration is gRPC-only in the Rust crate; workload identity pools
//! are in no crate).
//!
//! Credentials: the customer stage uses Application Default Credentials; the union stage
//! signs in as Union.ai would, through the data plane's workload identity pool with AWS
//! credentials, impersonating `unionai-administrator` ([`union_credentials`]).
//!
//! Endpoints: `https://{service}.googleapis.com`, or `UNIONCTL_GCP_ENDPOINT_TEMPLATE`
//! (e.g. `http://127.0.0.1:8123/{service}`, a contract server) for every service at once.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use google_cloud_auth::credentials::Credentials;
use serde_json::{json, Value};

use super::{compute, container, iam, kms, logging, projects, storage};
use crate::exec::adoption::{judge, Claim, Marks};
use crate::exec::ratelimit::{Limit, RateLimiter};
use crate::exec::{CallCounts, Observed, SignedIn};
use crate::plan::Resource;
use crate::state::ResourceState;

/// The label that names the plan address a resource was created for (GCP label values
/// cannot hold dots: the address is written with `-` for `.`).
pub const LABEL_ADDRESS: &str = "unionctl-address";
/// The label that names the state a resource was made for (`exec::adoption`).
pub const LABEL_LINEAGE: &str = "unionctl-lineage";

pub struct GcpProvider {
    pub(super) project: String,
    pub(super) region: String,
    pub(super) data_plane: String,
    /// The lineage of the state this provider works for: labelled on what it creates.
    pub(super) lineage: String,
    pub(super) signed_in: SignedIn,
    pub(super) networks: google_cloud_compute_v1::client::Networks,
    pub(super) subnetworks: google_cloud_compute_v1::client::Subnetworks,
    pub(super) routers: google_cloud_compute_v1::client::Routers,
    pub(super) firewalls: google_cloud_compute_v1::client::Firewalls,
    pub(super) backends: google_cloud_compute_v1::client::RegionBackendServices,
    pub(super) forwarding_rules: google_cloud_compute_v1::client::ForwardingRules,
    pub(super) attachments: google_cloud_compute_v1::client::ServiceAttachments,
    pub(super) zonal_negs: google_cloud_compute_v1::client::NetworkEndpointGroups,
    pub(super) health_checks: google_cloud_compute_v1::client::RegionHealthChecks,
    pub(super) tcp_proxies: google_cloud_compute_v1::client::RegionTargetTcpProxies,
    pub(super) gke: google_cloud_container_v1::client::ClusterManager,
    pub(super) iam: google_cloud_iam_admin_v1::client::Iam,
    pub(super) projects: google_cloud_resourcemanager_v3::client::Projects,
    pub(super) kms: google_cloud_kms_v1::client::KeyManagementService,
    pub(super) logging: google_cloud_logging_v2::client::ConfigServiceV2,
    pub(super) rest: Rest,
    /// IAM policies are read-modify-write: one change at a time from this process, so
    /// parallel grants do not race each other's etags.
    pub(super) policy_lock: tokio::sync::Mutex<()>,
    /// GKE runs one operation per cluster at a time.
    pub(super) cluster_lock: tokio::sync::Mutex<()>,
    limiter: std::sync::Arc<RateLimiter>,
    calls: AtomicU64,
    mutating: AtomicU64,
    /// Upper bound for long operations (a GKE cluster takes 5-10 minutes).
    pub(super) wait_timeout: Duration,
}

/// The endpoint of a service (`compute`, `container`, `iam`, …).
pub fn endpoint(service: &str) -> String {
    match std::env::var("UNIONCTL_GCP_ENDPOINT_TEMPLATE") {
        Ok(t) if !t.is_empty() => t.replace("{service}", service),
        _ => format!("https://{service}.googleapis.com"),
    }
}

fn limiter() -> RateLimiter {
    // Compute's and GKE's write quotas are per project and per minute; a data plane's
    // apply stays far below them, but a fleet shares one project's quota.
    RateLimiter::new(
        Default::default(),
        Limit {
            burst: 20.0,
            per_second: 10.0,
        },
    )
}

/// The workload identity pool provider Union.ai signs in through, and the service account
/// it impersonates.
pub fn union_credentials(
    project: &str,
    project_number: &str,
    provider: &str,
) -> Result<Credentials> {
    let admin = format!("unionai-administrator@{project}.iam.gserviceaccount.com");
    let config = json!({
        "type": "external_account",
        "audience": format!("//iam.googleapis.com/projects/{project_number}/locations/global/workloadIdentityPools/{}", provider.split("/workloadIdentityPools/").nth(1).unwrap_or(provider)),
        "subject_token_type": "urn:ietf:params:aws:token-type:aws4_request",
        "token_url": format!("{}/v1/token", endpoint("sts")),
        "service_account_impersonation_url": format!("{}/v1/projects/-/serviceAccounts/{admin}:generateAccessToken", endpoint("iamcredentials")),
        "credential_source": {
            "environment_id": "aws1",
            "regional_cred_verification_url": "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15"
        }
    });
    // AWS credentials from the environment; without them, from the instance metadata
    // service (IMDSv2), as GCP's generated configurations for AWS say. (google-cloud-auth
    // asks IMDS for a session token whenever its URL is given, so it is given only then.)
    let mut config = config;
    let from_env = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        .iter()
        .all(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
    if !from_env {
        let source = &mut config["credential_source"];
        source["region_url"] =
            json!("http://169.254.169.254/latest/meta-data/placement/availability-zone");
        source["url"] = json!("http://169.254.169.254/latest/meta-data/iam/security-credentials");
        source["imdsv2_session_token_url"] = json!("http://169.254.169.254/latest/api/token");
    }
    google_cloud_auth::credentials::external_account::Builder::new(config)
        .build()
        .map_err(|e| anyhow!("cannot build the workload identity federation credentials: {e}"))
}

/// Long-running operations are polled from 250 ms, backing off to 10 s (a GKE cluster
/// takes minutes; a firewall rule, seconds).
fn polling() -> google_cloud_gax::exponential_backoff::ExponentialBackoff {
    google_cloud_gax::exponential_backoff::ExponentialBackoffBuilder::new()
        .with_initial_delay(Duration::from_millis(250))
        .with_maximum_delay(Duration::from_secs(10))
        .build()
        .expect("valid backoff")
}

macro_rules! client {
    ($t:ty, $service:expr, $creds:expr) => {
        <$t>::builder()
            .with_endpoint(endpoint($service))
            .with_credentials($creds.clone())
            .with_polling_backoff_policy(polling())
            .build()
            .await
            .map_err(|e| anyhow!("cannot set up the {} client: {e}", $service))?
    };
}

impl GcpProvider {
    /// Signs in to `project` and reads it: the number GCP gives the project is compared
    /// with the profile's before any change (`commands::connect`).
    ///
    /// `known_number`: the project's number when the credentials already prove it (Union.ai's,
    /// whose token exchange names the number in its audience); the project is then not read
    /// (Union.ai's role grants no `resourcemanager.projects.get`).
    pub async fn new(
        project: &str,
        known_number: Option<&str>,
        region: &str,
        data_plane: &str,
        lineage: &str,
        creds: Credentials,
    ) -> Result<Self> {
        use google_cloud_compute_v1::client as c;
        let projects = client!(
            google_cloud_resourcemanager_v3::client::Projects,
            "cloudresourcemanager",
            creds
        );
        let read = match known_number {
            Some(n) => Ok(google_cloud_resourcemanager_v3::model::Project::new()
                .set_name(format!("projects/{n}"))),
            None => {
                retrying("resourcemanager.projects.get", || async {
                    projects
                        .get_project()
                        .set_name(format!("projects/{project}"))
                        .send()
                        .await
                        .map_err(ApiError::from)
                })
                .await
            }
        };
        let number = match read {
            Ok(found) => found.name.trim_start_matches("projects/").to_string(),
            // GCP answers 403 for a project that does not exist as for one the caller may
            // not read, so that existence does not leak.
            Err(e) if e.is(403) || e.is(404) => {
                return Err(crate::error::UserError::new(format!("project `{project}` does not exist, or these credentials may not read it: {e}"))
                    .hint("check spec.cloud.gcp.projectId, and that the signed-in account (`gcloud auth application-default print-access-token` works for it) holds a role on the project")
                    .into())
            }
            Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot reach GCP to read project {project} at {}", endpoint("cloudresourcemanager")))),
        };
        Ok(GcpProvider {
            project: project.into(),
            region: region.into(),
            data_plane: data_plane.into(),
            lineage: lineage.into(),
            signed_in: SignedIn {
                account: number,
                tenant: None,
                principal: String::new(),
            },
            networks: client!(c::Networks, "compute", creds),
            subnetworks: client!(c::Subnetworks, "compute", creds),
            routers: client!(c::Routers, "compute", creds),
            firewalls: client!(c::Firewalls, "compute", creds),
            backends: client!(c::RegionBackendServices, "compute", creds),
            forwarding_rules: client!(c::ForwardingRules, "compute", creds),
            attachments: client!(c::ServiceAttachments, "compute", creds),
            zonal_negs: client!(c::NetworkEndpointGroups, "compute", creds),
            health_checks: client!(c::RegionHealthChecks, "compute", creds),
            tcp_proxies: client!(c::RegionTargetTcpProxies, "compute", creds),
            gke: client!(
                google_cloud_container_v1::client::ClusterManager,
                "container",
                creds
            ),
            iam: client!(google_cloud_iam_admin_v1::client::Iam, "iam", creds),
            projects,
            kms: client!(
                google_cloud_kms_v1::client::KeyManagementService,
                "cloudkms",
                creds
            ),
            logging: client!(
                google_cloud_logging_v2::client::ConfigServiceV2,
                "logging",
                creds
            ),
            rest: Rest::new(creds),
            policy_lock: tokio::sync::Mutex::new(()),
            cluster_lock: tokio::sync::Mutex::new(()),
            limiter: crate::exec::ratelimit::shared(&format!("gcp:{project}"), limiter),
            calls: AtomicU64::new(0),
            mutating: AtomicU64::new(0),
            wait_timeout: Duration::from_secs(45 * 60),
        })
    }

    /// Every call goes through here: rate limit, count, retry what GCP says to retry (429
    /// with `Retry-After`, 503), and an error that names the API and keeps GCP's status.
    pub(super) async fn call<T, F, Fut>(
        &self,
        api: &'static str,
        mut send: F,
    ) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let mutating =
            !(api.contains(".get") || api.contains(".list") || api.ends_with("getIamPolicy"));
        retrying(api, || {
            let sent = send();
            async move {
                if mutating {
                    self.limiter.acquire(api).await;
                    self.mutating.fetch_add(1, Ordering::Relaxed);
                }
                self.calls.fetch_add(1, Ordering::Relaxed);
                let t0 = std::time::Instant::now();
                let result = sent.await;
                let outcome = match &result {
                    Ok(_) => "ok".to_string(),
                    Err(e) => e.status.map_or_else(|| format!("failed: {}", e.message), |s| format!("HTTP {s}")),
                };
                tracing::debug!(target: "unionctl::api", "gcp {api} -> {outcome} ({} ms)", t0.elapsed().as_millis());
                result
            }
        })
        .await
    }

    /// The zone of zonal pieces (the hybrid connectivity endpoint group), as the plan says.
    pub(super) fn zone(&self) -> String {
        super::plan::zone_of(&self.region)
    }

    pub(super) fn labels_for(&self, r: &Resource, desired_labels: Option<&Value>) -> Value {
        let mut m = desired_labels
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        m.insert(
            LABEL_ADDRESS.into(),
            Value::String(address_label(&r.address)),
        );
        m.insert(LABEL_LINEAGE.into(), Value::String(self.lineage.clone()));
        Value::Object(m)
    }

    /// Whether this state may take a labelled resource found as `claim` says
    /// (`exec::adoption`): never what another data plane or another state made.
    pub(super) fn check_labels(
        &self,
        what: &str,
        labels: Option<&Value>,
        claim: Claim,
    ) -> Result<()> {
        let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        let marks = Marks {
            data_plane: label(super::plan::LABEL_DATA_PLANE),
            lineage: label(LABEL_LINEAGE),
        };
        judge(
            what,
            marks,
            &super::plan::label_value(&self.data_plane),
            &self.lineage,
            claim,
        )
        .map_err(anyhow::Error::new)
    }
}

/// Refuses to adopt or change what exists under one of our fixed names but was not made
/// for this data plane (its description does not say so): unionctl never takes over
/// what it did not create, and two data planes never share a piece.
pub(super) fn check_description(
    what: &str,
    description: &str,
    data_plane: &str,
    claim: Claim,
) -> anyhow::Result<()> {
    let adopt = claim != Claim::Found;
    let ours = description.ends_with(&format!("data plane {data_plane}"))
        || description.starts_with(&format!("unionctl data plane {data_plane} ("));
    if ours || adopt {
        return Ok(());
    }
    Err(crate::error::UserError::new(format!("{what} exists but was not created for data plane `{data_plane}` (its description is {description:?})"))
        .hint("rename or remove it; on GCP, one project holds one BYOC data plane (Union.ai's pool, service account and roles have fixed names)")
        .into())
}

/// A plan address as a label value: lowercase letters, digits, `-` and `_`, at most 63.
pub fn address_label(address: &str) -> String {
    address
        .chars()
        .map(|c| {
            if c == '.' {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .take(63)
        .collect()
}

/// A GCP API failure with its HTTP status.
#[derive(Debug, thiserror::Error)]
#[error("{api}: {message}")]
pub struct ApiError {
    pub api: &'static str,
    pub status: Option<u16>,
    pub message: String,
    retry_after: Option<Duration>,
}

impl ApiError {
    pub fn is(&self, status: u16) -> bool {
        self.status == Some(status)
    }
    fn retryable(&self) -> bool {
        matches!(self.status, Some(429 | 502 | 503 | 504))
    }
    pub fn other(message: impl Into<String>) -> Self {
        ApiError {
            api: "",
            status: None,
            message: message.into(),
            retry_after: None,
        }
    }
}

impl From<google_cloud_gax::error::Error> for ApiError {
    fn from(e: google_cloud_gax::error::Error) -> Self {
        let status = e.http_status_code().or_else(|| {
            e.status().map(|s| match s.code {
                google_cloud_gax::error::rpc::Code::NotFound => 404,
                google_cloud_gax::error::rpc::Code::AlreadyExists
                | google_cloud_gax::error::rpc::Code::Aborted => 409,
                google_cloud_gax::error::rpc::Code::PermissionDenied => 403,
                google_cloud_gax::error::rpc::Code::Unauthenticated => 401,
                google_cloud_gax::error::rpc::Code::ResourceExhausted => 429,
                google_cloud_gax::error::rpc::Code::Unavailable => 503,
                google_cloud_gax::error::rpc::Code::FailedPrecondition => 412,
                _ => 400,
            })
        });
        let retry_after = e.http_headers().and_then(retry_after);
        let message = match e.status() {
            Some(s) => format!(
                "{} ({:?}): {}",
                status.map_or(String::new(), |c| c.to_string()),
                s.code,
                s.message
            ),
            None => e.to_string(),
        };
        ApiError {
            api: "",
            status,
            message,
            retry_after,
        }
    }
}

fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// Sends until GCP stops saying to retry (429 with `Retry-After`, 502-504), at most 8
/// times, backing off from 500 ms to 30 s; the error names the API and keeps GCP's status.
pub(super) async fn retrying<T, F, Fut>(api: &'static str, mut send: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut delay = Duration::from_millis(500);
    for attempt in 1.. {
        match send().await {
            Err(e) if e.retryable() && attempt < 8 => {
                let wait = e
                    .retry_after
                    .unwrap_or(delay)
                    .max(Duration::from_millis(100));
                tracing::info!(target: "unionctl::retry", "retrying {api} in {:.1} s (attempt {}): {}", wait.as_secs_f64(), attempt + 1, e.message);
                tokio::time::sleep(wait).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
            Err(mut e) => {
                e.api = api;
                return Err(e);
            }
            Ok(v) => return Ok(v),
        }
    }
    unreachable!("the loop returns")
}

/// `Ok(None)` for 404.
pub(super) fn absent<T>(r: Result<T, ApiError>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is(404) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `Ok(())` for 404: deleting what is already gone succeeds.
pub(super) fn gone(r: Result<impl Sized, ApiError>) -> Result<()> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.is(404) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Plain REST with the provider's credentials, for the services no Rust client covers.
#[derive(Clone)]
pub struct Rest {
    http: reqwest::Client,
    creds: Credentials,
}

/// A Cloud Storage object's bytes and its generation (`x-goog-generation`).
pub struct Media {
    pub bytes: Vec<u8>,
    pub generation: String,
}

impl Rest {
    pub fn new(creds: Credentials) -> Rest {
        Rest {
            http: reqwest::Client::new(),
            creds,
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let mut req = self.request(method, url).await?;
        if let Some(b) = body {
            req = req.json(b);
        }
        let (_, text) = answer(url, req).await?;
        let text = String::from_utf8_lossy(&text);
        Ok(if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        })
    }

    /// A request whose body and answer are an object's bytes (Cloud Storage media
    /// upload and download).
    pub async fn send_media(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Media, ApiError> {
        let mut req = self.request(method, url).await?;
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let (headers, bytes) = answer(url, req).await?;
        let generation = headers
            .get("x-goog-generation")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Ok(Media { bytes, generation })
    }

    async fn request(
        &self,
        method: reqwest::Method,
        url: &str,
    ) -> Result<reqwest::RequestBuilder, ApiError> {
        let headers = match self.creds.headers(http::Extensions::new()).await {
            Ok(google_cloud_auth::credentials::CacheableResource::New { data, .. }) => data,
            Ok(google_cloud_auth::credentials::CacheableResource::NotModified) => {
                http::HeaderMap::new()
            }
            Err(e) => return Err(ApiError::other(format!("credentials: {e}"))),
        };
        Ok(self.http.request(method, url).headers(headers))
    }
}

/// A 2xx answer's headers and body, or GCP's error (`{"error": {"message"}}`) with its status.
async fn answer(
    url: &str,
    req: reqwest::RequestBuilder,
) -> Result<(http::HeaderMap, Vec<u8>), ApiError> {
    let resp = req.send().await.map_err(|e| ApiError {
        api: "",
        status: None,
        message: format!("{url}: {e}"),
        retry_after: None,
    })?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    if (200..300).contains(&status) {
        return Ok((headers, body));
    }
    let text = String::from_utf8_lossy(&body);
    let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let message = parsed
        .pointer("/error/message")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| text.chars().take(300).collect());
    Err(ApiError {
        api: "",
        status: Some(status),
        message: format!("{status}: {message}"),
        retry_after: retry_after(&headers),
    })
}

pub(super) use crate::clouds::live::project;

/// Converts between the plan's JSON (REST field names) and a client's typed message.
pub(super) fn typed<T: serde::de::DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v)
        .map_err(|e| anyhow!("the plan's settings do not fit the API's message: {e}"))
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

impl GcpProvider {
    async fn read_resource(
        &self,
        r: &Resource,
        desired: &Value,
        prior: Option<&ResourceState>,
    ) -> Result<Option<Observed>> {
        let claim = Claim::of(prior);
        match r.type_name() {
            t if t.starts_with("compute_") => compute::read(self, r, desired, claim).await,
            "container_cluster" | "container_node_pool" => {
                container::read(self, r, desired, claim).await
            }
            "service_account"
            | "service_account_iam_binding"
            | "service_account_iam_member"
            | "project_iam_custom_role"
            | "iam_workload_identity_pool"
            | "iam_workload_identity_pool_provider" => iam::read(self, r, desired, claim).await,
            "project_iam_member" | "project_iam_audit_config" => {
                projects::read(self, r, desired).await
            }
            "kms_key_ring"
            | "kms_crypto_key"
            | "kms_crypto_key_iam_binding"
            | "kms_crypto_key_iam_member" => kms::read(self, r, desired, claim).await,
            "storage_bucket" | "storage_bucket_iam_member" => {
                storage::read(self, r, desired, claim).await
            }
            "logging_project_sink" => logging::read(self, r, desired, claim).await,
            other => Err(anyhow!("the GCP provider does not know `{other}`")),
        }
        .with_context(|| format!("reading {}", r.address))
    }

    async fn create_resource(
        &self,
        r: &Resource,
        desired: &Value,
        _token: &str,
    ) -> Result<Observed> {
        match r.type_name() {
            t if t.starts_with("compute_") => compute::create(self, r, desired).await,
            t if t.starts_with("container_") => container::create(self, r, desired).await,
            "service_account"
            | "service_account_iam_binding"
            | "service_account_iam_member"
            | "project_iam_custom_role"
            | "iam_workload_identity_pool"
            | "iam_workload_identity_pool_provider" => iam::create(self, r, desired).await,
            "project_iam_member" | "project_iam_audit_config" => {
                projects::apply(self, r, desired).await
            }
            t if t.starts_with("kms_") => kms::create(self, r, desired).await,
            t if t.starts_with("storage_") => storage::create(self, r, desired).await,
            "logging_project_sink" => logging::create(self, r, desired).await,
            other => Err(anyhow!("the GCP provider does not know `{other}`")),
        }
        .with_context(|| format!("creating {}", r.address))
    }

    async fn update_resource(
        &self,
        r: &Resource,
        desired: &Value,
        live: &Observed,
        changed: &[String],
    ) -> Result<Observed> {
        match r.type_name() {
            t if t.starts_with("compute_") => {
                compute::update(self, r, desired, live, changed).await
            }
            t if t.starts_with("container_") => {
                container::update(self, r, desired, live, changed).await
            }
            "service_account"
            | "service_account_iam_binding"
            | "service_account_iam_member"
            | "project_iam_custom_role"
            | "iam_workload_identity_pool"
            | "iam_workload_identity_pool_provider" => {
                iam::update(self, r, desired, live, changed).await
            }
            "project_iam_member" | "project_iam_audit_config" => {
                projects::apply(self, r, desired).await
            }
            t if t.starts_with("kms_") => kms::update(self, r, desired, live, changed).await,
            t if t.starts_with("storage_") => {
                storage::update(self, r, desired, live, changed).await
            }
            "logging_project_sink" => logging::update(self, desired).await,
            other => Err(anyhow!("the GCP provider does not know `{other}`")),
        }
        .with_context(|| format!("updating {}", r.address))
    }

    async fn delete_resource(&self, r: &ResourceState, with_data: bool) -> Result<()> {
        let kind = r.kind.split_once('.').map_or(r.kind.as_str(), |(_, t)| t);
        match kind {
            t if t.starts_with("compute_") => compute::delete(self, r).await,
            t if t.starts_with("container_") => container::delete(self, r).await,
            "service_account"
            | "service_account_iam_binding"
            | "service_account_iam_member"
            | "project_iam_custom_role"
            | "iam_workload_identity_pool"
            | "iam_workload_identity_pool_provider" => iam::delete(self, r).await,
            "project_iam_member" | "project_iam_audit_config" => projects::delete(self, r).await,
            t if t.starts_with("kms_") => kms::delete(self, r).await,
            t if t.starts_with("storage_") => storage::delete(self, r, with_data).await,
            "logging_project_sink" => logging::delete(self, r).await,
            other => Err(anyhow!("the GCP provider does not know `{other}`")),
        }
        .with_context(|| format!("deleting {}", r.address))
    }
}

impl GcpProvider {
    async fn contents_of(&self, r: &ResourceState) -> Result<Option<u64>> {
        match r.kind.as_str() {
            "gcp.storage_bucket" => storage::object_count(self, &r.id).await.map(Some),
            _ => Ok(None),
        }
    }

    fn calls_made(&self) -> CallCounts {
        CallCounts {
            total: self.calls.load(Ordering::Relaxed),
            mutating: self.mutating.load(Ordering::Relaxed),
        }
    }
}

crate::clouds::boxed_provider!(GcpProvider);
