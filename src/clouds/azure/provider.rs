//! The Azure provider: Azure Resource Manager for every resource of the data plane
//! (resources.rs, one table of kinds), Microsoft Graph for Union.ai's application
//! (graph.rs), and the Blob service only to count what a container holds (blob.rs), all
//! over the `azure_core` pipeline with `azure_identity` credentials (arm.rs).
//!
//! Credentials: the customer stage signs in with a client secret (`AZURE_TENANT_ID`,
//! `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`), a federated token (`AZURE_FEDERATED_TOKEN_FILE`,
//! workload identity), or else the Azure CLI / Azure Developer CLI login; the union stage
//! signs in as Union.ai's application with Union.ai's federated token
//! (`AZURE_FEDERATED_TOKEN_FILE`), the only credential that application has.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use azure_core::credentials::TokenCredential;
use serde_json::Value;

use super::arm::{self, Api, ApiError, Endpoints, Reply};
use super::{blob, graph, resources};
use crate::exec::adoption::{judge, Claim, Marks};
use crate::exec::ratelimit::{Limit, RateLimiter};
use crate::exec::{CallCounts, Observed, SignedIn};
use crate::plan::Resource;
use crate::state::ResourceState;

pub const ARM_SCOPE: &str = "https://management.azure.com/.default";
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
pub const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";

pub struct AzureProvider {
    pub(super) subscription: String,
    pub(super) resource_group: String,
    pub(super) data_plane: String,
    /// The lineage of the state this provider works for: tagged on what it creates.
    pub(super) lineage: String,
    pub(super) signed_in: SignedIn,
    pub(super) endpoints: Endpoints,
    pub(super) arm: Api,
    pub(super) graph: Api,
    pub(super) blob: Api,
    /// AKS runs one operation per cluster (and its agent pools) at a time.
    pub(super) cluster_lock: tokio::sync::Mutex<()>,
    /// Managed identities refuse concurrent writes of their federated credentials.
    pub(super) credential_lock: tokio::sync::Mutex<()>,
    limiter: std::sync::Arc<RateLimiter>,
    calls: AtomicU64,
    mutating: AtomicU64,
    /// Upper bound for long operations (an AKS cluster takes 5-15 minutes).
    pub(super) wait_timeout: Duration,
}

impl AzureProvider {
    /// Signs in and reads the subscription: its tenant is compared with the profile's
    /// before any change (`commands::connect`).
    pub async fn new(
        subscription: &str,
        resource_group: &str,
        data_plane: &str,
        lineage: &str,
        credential: Arc<dyn TokenCredential>,
    ) -> Result<Self> {
        let transport = arm::transport()?;
        let mut p = AzureProvider {
            subscription: subscription.into(),
            resource_group: resource_group.into(),
            data_plane: data_plane.into(),
            lineage: lineage.into(),
            signed_in: SignedIn::default(),
            endpoints: Endpoints::from_env(),
            arm: Api::new(credential.clone(), ARM_SCOPE, &transport),
            graph: Api::new(credential.clone(), GRAPH_SCOPE, &transport),
            blob: Api::new(credential, STORAGE_SCOPE, &transport),
            cluster_lock: tokio::sync::Mutex::new(()),
            credential_lock: tokio::sync::Mutex::new(()),
            // ARM allows 1,200 writes per hour per principal and subscription (12,000
            // reads): a data plane's apply is far below, a fleet is not.
            limiter: crate::exec::ratelimit::shared(&format!("azure:{subscription}"), || {
                RateLimiter::new(
                    Default::default(),
                    Limit {
                        burst: 20.0,
                        per_second: 5.0,
                    },
                )
            }),
            calls: AtomicU64::new(0),
            mutating: AtomicU64::new(0),
            wait_timeout: Duration::from_secs(45 * 60),
        };
        p.signed_in = p.read_subscription().await?;
        Ok(p)
    }

    /// Subscriptions - Get: the subscription the profile names, and its tenant. ARM answers
    /// 404 for one that does not exist and for one the caller holds no role in.
    async fn read_subscription(&self) -> Result<SignedIn> {
        let url = format!(
            "{}/subscriptions/{}?api-version=2022-12-01",
            self.endpoints.arm, self.subscription
        );
        let reply = self
            .call("GET subscription", false, || {
                self.arm
                    .send(azure_core::http::Method::Get, &url, None, &[])
            })
            .await
            .with_context(|| {
                format!(
                    "cannot reach Azure Resource Manager at {}",
                    self.endpoints.arm
                )
            })?;
        match reply.status {
            200 => Ok(SignedIn {
                account: reply.json["subscriptionId"].as_str().unwrap_or(&self.subscription).to_string(),
                tenant: reply.json["tenantId"].as_str().map(String::from),
                principal: String::new(),
            }),
            404 => Err(crate::error::UserError::new(format!("subscription {} does not exist, or the signed-in identity holds no role in it", self.subscription))
                .hint("check spec.cloud.azure.subscriptionId, and `az account list` for the subscriptions these credentials reach")
                .into()),
            _ => Err(reply.error("reading the subscription").into()),
        }
    }

    /// Whether this state may take a resource with these marks, found as `claim` says
    /// (`exec::adoption`).
    pub(super) fn check_marks(
        &self,
        what: &str,
        data_plane: Option<&str>,
        lineage: Option<&str>,
        claim: Claim,
    ) -> Result<()> {
        judge(
            what,
            Marks {
                data_plane,
                lineage,
            },
            &self.data_plane,
            &self.lineage,
            claim,
        )
        .map_err(anyhow::Error::new)
    }

    pub(super) fn arm_url(&self, id: &str, api_version: &str) -> String {
        format!("{}{id}?api-version={api_version}", self.endpoints.arm)
    }

    /// A stable GUID for a name unionctl gives (role assignments and role definitions are
    /// named by GUIDs): the same data plane and name always give the same GUID, so a re-run
    /// writes the same assignment instead of adding one.
    pub(super) fn guid(&self, name: &str) -> String {
        uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_URL,
            format!(
                "unionctl:/subscriptions/{}/{}/{name}",
                self.subscription, self.data_plane
            )
            .as_bytes(),
        )
        .to_string()
    }

    /// Every request goes through here: rate limit, count, and retry a conflict with an
    /// operation in progress (the pipeline already retries 429 and 5xx, honouring
    /// `Retry-After`).
    pub(super) async fn call<F, Fut>(
        &self,
        what: &str,
        mutating: bool,
        mut send: F,
    ) -> Result<Reply, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Reply, ApiError>>,
    {
        let mut delay = Duration::from_secs(2);
        for attempt in 1.. {
            if mutating {
                self.limiter.acquire("arm-write").await;
                self.mutating.fetch_add(1, Ordering::Relaxed);
            }
            self.calls.fetch_add(1, Ordering::Relaxed);
            let t0 = std::time::Instant::now();
            let reply = send().await.map_err(|mut e| {
                e.api = what.to_string();
                tracing::debug!(target: "unionctl::api", "azure {what} -> failed: {e} ({} ms)", t0.elapsed().as_millis());
                e
            })?;
            tracing::debug!(target: "unionctl::api", "azure {what} -> {} ({} ms)", reply.status, t0.elapsed().as_millis());
            let e = reply.error(what);
            // An operation in progress ends (AKS's take minutes); a principal that is still
            // missing after about two minutes is not propagating, it is wrong.
            if (e.in_progress() && attempt < 30) || (e.propagating() && attempt < 8) {
                tracing::info!(target: "unionctl::retry", "retrying {what} (attempt {}): {e}", attempt + 1);
                tokio::time::sleep(reply.retry_after.unwrap_or(delay)).await;
                delay = (delay * 2).min(Duration::from_secs(30));
                continue;
            }
            return Ok(reply);
        }
        unreachable!("the loop returns")
    }

    async fn read_resource(
        &self,
        r: &Resource,
        desired: &Value,
        prior: Option<&ResourceState>,
    ) -> Result<Option<Observed>> {
        let claim = Claim::of(prior);
        if is_graph(r.type_name(), desired) {
            graph::read(self, r, desired, claim).await
        } else {
            resources::read(self, r, desired, claim).await
        }
        .with_context(|| format!("reading {}", r.address))
    }

    async fn create_resource(
        &self,
        r: &Resource,
        desired: &Value,
        _token: &str,
    ) -> Result<Observed> {
        if is_graph(r.type_name(), desired) {
            graph::create(self, r, desired).await
        } else {
            resources::put(self, r, desired).await
        }
        .with_context(|| format!("creating {}", r.address))
    }

    async fn update_resource(
        &self,
        r: &Resource,
        desired: &Value,
        _live: &Observed,
        changed: &[String],
    ) -> Result<Observed> {
        if r.type_name() == "key_vault_key" {
            // A key's PUT returns the existing key unchanged (ARM's Keys - Create If Not Exist).
            return Err(crate::clouds::unsupported(r, changed));
        }
        if is_graph(r.type_name(), desired) {
            graph::update(self, r, desired).await
        } else {
            // PUT carries the whole desired resource: what drifted is put back.
            resources::put(self, r, desired).await
        }
        .with_context(|| format!("updating {}", r.address))
    }

    async fn delete_resource(&self, r: &ResourceState, _with_data: bool) -> Result<()> {
        if is_graph(r.type_name(), &r.settings) {
            graph::delete(self, r).await
        } else {
            resources::delete(self, r).await
        }
        .with_context(|| format!("deleting {}", r.address))
    }

    async fn contents_of(&self, r: &ResourceState) -> Result<Option<u64>> {
        match r.type_name() {
            "storage_container" => blob::count(self, r).await.map(Some),
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

/// Union.ai's application, its service principal and its federated credential are
/// Microsoft Graph objects; everything else is an ARM resource.
fn is_graph(kind: &str, settings: &Value) -> bool {
    matches!(kind, "application" | "service_principal")
        || (kind == "federated_identity_credential" && settings.get("application").is_some())
}

crate::clouds::boxed_provider!(AzureProvider);
