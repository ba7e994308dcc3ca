//! The AWS provider: the official `aws-sdk-*` crates, one file per service.
//!
//! Credentials come from the standard chain (`aws-config`), which also honours
//! `AWS_ENDPOINT_URL`, `AWS_REGION` and `AWS_MAX_ATTEMPTS`. Every call goes through
//! [`AwsProvider::call`], which waits for the API's rate-limit token and counts calls (the
//! apply summary reports them; tests assert that a converged apply makes no mutating call).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use aws_config::BehaviorVersion;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{Map, Value};

use super::errors::{describe, Attempts};
use super::{cloudtrail, ec2, eks, elb, iam, kms, s3};
use crate::exec::adoption::{judge, Claim, Marks, TAG_LINEAGE};
use crate::exec::ratelimit::{Limit, RateLimiter};
use crate::exec::{CallCounts, Observed, SignedIn};
use crate::plan::builder::TAG_DATA_PLANE;
use crate::plan::Resource;
use crate::profile::Profile;
use crate::state::ResourceState;

/// Tag that names the plan address a resource was created for: how a re-run after a crash
/// finds what the previous run created but did not record.
pub const TAG_ADDRESS: &str = "unionctl.union.ai/address";

pub struct AwsProvider {
    pub(super) ec2: aws_sdk_ec2::Client,
    pub(super) eks: aws_sdk_eks::Client,
    pub(super) iam: aws_sdk_iam::Client,
    pub(super) s3: aws_sdk_s3::Client,
    pub(super) kms: aws_sdk_kms::Client,
    pub(super) elb: aws_sdk_elasticloadbalancingv2::Client,
    pub(super) trail: aws_sdk_cloudtrail::Client,
    pub account: String,
    pub region: String,
    pub(super) data_plane: String,
    /// The lineage of the state this provider works for: what it creates is marked with
    /// it, and what it finds is adopted only when it carries it.
    pub(super) lineage: String,
    pub(super) signed_in: SignedIn,
    limiter: Arc<RateLimiter>,
    calls: AtomicU64,
    mutating: AtomicU64,
    /// Upper bound for long operations (EKS clusters take 10-15 minutes on AWS).
    pub(super) wait_timeout: Duration,
}

fn limiter() -> RateLimiter {
    // Request-token buckets AWS documents for EC2's mutating actions; others default to a
    // generous bucket that still keeps a large apply from bursting hundreds of calls.
    let limits = HashMap::from([
        (
            "CreateVpcEndpoint",
            Limit {
                burst: 4.0,
                per_second: 0.3,
            },
        ),
        (
            "CreateNatGateway",
            Limit {
                burst: 4.0,
                per_second: 0.5,
            },
        ),
        (
            "CreateVpc",
            Limit {
                burst: 5.0,
                per_second: 1.0,
            },
        ),
        (
            "CreateCluster",
            Limit {
                burst: 2.0,
                per_second: 0.2,
            },
        ),
    ]);
    RateLimiter::new(
        limits,
        Limit {
            burst: 50.0,
            per_second: 20.0,
        },
    )
}

/// The region always comes from the profile: `AWS_REGION` or an AWS profile's region
/// never decide where a data plane is made.
fn region_of(profile: &Profile) -> aws_types::region::Region {
    aws_types::region::Region::new(profile.spec.cloud.region.clone())
}

/// The SDK's configuration chain, with more attempts than its default of 3: an apply is
/// hundreds of calls, and three throttled answers in a row on one of them (likely when
/// AWS throttles an account) would stop it halfway. `AWS_MAX_ATTEMPTS` still decides when
/// set. Retries back off exponentially with jitter (the SDK's standard mode).
pub(super) fn sdk_defaults() -> aws_config::ConfigLoader {
    let loader = aws_config::defaults(BehaviorVersion::latest());
    if std::env::var_os("AWS_MAX_ATTEMPTS").is_some() {
        return loader;
    }
    loader.retry_config(aws_smithy_types::retry::RetryConfig::standard().with_max_attempts(10))
}

impl AwsProvider {
    /// With the caller's credentials (the customer stage), in the profile's region.
    pub async fn from_environment(profile: &Profile, lineage: &str) -> Result<Self> {
        let config = sdk_defaults().region(region_of(profile)).load().await;
        Self::with_config(&config, profile, lineage).await
    }

    /// As the BYOC admin identity: `sts:AssumeRole` with the external ID, from the
    /// caller's credentials (the union stage).
    pub async fn assume_role(
        profile: &Profile,
        lineage: &str,
        role_arn: &str,
        external_id: &str,
    ) -> Result<Self> {
        let base = sdk_defaults().region(region_of(profile)).load().await;
        let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
            .external_id(external_id)
            .session_name(format!("unionctl-{}", profile.metadata.name))
            .configure(&base)
            .build()
            .await;
        let config = sdk_defaults()
            .region(region_of(profile))
            .credentials_provider(provider)
            .load()
            .await;
        Self::with_config(&config, profile, lineage)
            .await
            .with_context(|| format!("cannot act as {role_arn}"))
    }

    async fn with_config(
        config: &aws_types::SdkConfig,
        profile: &Profile,
        lineage: &str,
    ) -> Result<Self> {
        let region = profile.spec.cloud.region.clone();
        // Who the credentials are, before anything else: the account they act in is
        // compared with the profile's before any change (`commands::connect`). Few
        // attempts: an endpoint that cannot be reached fails in seconds, not a minute.
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(config)
                .interceptor(Attempts)
                .build(),
        );
        let quick = aws_sdk_sts::config::Builder::default()
            .retry_config(aws_smithy_types::retry::RetryConfig::standard().with_max_attempts(3));
        let identity = sts
            .get_caller_identity()
            .customize()
            .config_override(quick)
            .send()
            .await
            .map_err(|e| super::errors::sign_in_failed(&e, config))?;
        let account = identity.account().unwrap_or_default().to_string();
        Ok(AwsProvider {
            ec2: aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::config::Builder::from(config)
                    .interceptor(Attempts)
                    .build(),
            ),
            eks: aws_sdk_eks::Client::from_conf(
                aws_sdk_eks::config::Builder::from(config)
                    .interceptor(Attempts)
                    .build(),
            ),
            iam: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(config)
                    .interceptor(Attempts)
                    .build(),
            ),
            // An endpoint override (an emulator, a proxy) cannot serve virtual-hosted buckets.
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(config)
                    .force_path_style(config.endpoint_url().is_some())
                    .interceptor(Attempts)
                    .build(),
            ),
            kms: aws_sdk_kms::Client::from_conf(
                aws_sdk_kms::config::Builder::from(config)
                    .interceptor(Attempts)
                    .build(),
            ),
            elb: aws_sdk_elasticloadbalancingv2::Client::from_conf(
                aws_sdk_elasticloadbalancingv2::config::Builder::from(config)
                    .interceptor(Attempts)
                    .build(),
            ),
            trail: aws_sdk_cloudtrail::Client::from_conf(
                aws_sdk_cloudtrail::config::Builder::from(config)
                    .interceptor(Attempts)
                    .build(),
            ),
            limiter: crate::exec::ratelimit::shared(&format!("aws:{account}:{region}"), limiter),
            signed_in: SignedIn {
                account: account.clone(),
                tenant: None,
                principal: identity.arn().unwrap_or_default().to_string(),
            },
            account,
            region,
            data_plane: profile.metadata.name.clone(),
            lineage: lineage.to_string(),
            calls: AtomicU64::new(0),
            mutating: AtomicU64::new(0),
            wait_timeout: Duration::from_secs(45 * 60),
        })
    }

    /// Every SDK call goes through here: rate limit, count, and an error that names the
    /// API and keeps the service's code, message and request id.
    pub(super) async fn call<T, E, F>(&self, api: &'static str, fut: F) -> Result<T, ApiError>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    {
        let mutating = !(api.starts_with("Describe")
            || api.starts_with("Get")
            || api.starts_with("List")
            || api.starts_with("Head"));
        if mutating {
            self.limiter.acquire(api).await;
            self.mutating.fetch_add(1, Ordering::Relaxed);
        }
        self.calls.fetch_add(1, Ordering::Relaxed);
        fut.await.map_err(|e| ApiError {
            api,
            code: e.code().map(String::from),
            message: describe(&e),
        })
    }

    pub(super) fn tags_for(&self, r: &Resource, desired: &Value) -> Vec<(String, String)> {
        let mut tags: Vec<(String, String)> = desired_tags(desired);
        tags.push((TAG_ADDRESS.to_string(), r.address.clone()));
        tags.push((TAG_LINEAGE.to_string(), self.lineage.clone()));
        tags
    }
}

/// What AWS answers to a create of something that exists under that name already.
const ALREADY_EXISTS: &[&str] = &[
    "EntityAlreadyExists",
    "InvalidGroup.Duplicate",
    "InvalidLaunchTemplateName.AlreadyExistsException",
    "BucketAlreadyOwnedByYou",
    "ResourceInUseException",
    "TrailAlreadyExistsException",
    "DuplicateLoadBalancerName",
    "DuplicateTargetGroupName",
    "DuplicateListener",
    "AlreadyExistsException",
];

/// An AWS API failure with its error code.
#[derive(Debug, thiserror::Error)]
#[error("{api}: {message}")]
pub struct ApiError {
    pub api: &'static str,
    pub code: Option<String>,
    pub message: String,
}

impl ApiError {
    pub(super) fn is(&self, codes: &[&str]) -> bool {
        self.code.as_deref().is_some_and(|c| codes.contains(&c))
    }

    /// A failure after which the request may or may not have been carried out: no answer
    /// (connection reset, timeout, a response that never came), a server error, or
    /// throttling (AWS's retryable error codes).
    pub(super) fn transient(&self) -> bool {
        match self.code.as_deref() {
            None => true,
            Some(c) => matches!(
                c,
                "InternalError"
                    | "InternalFailure"
                    | "ServiceUnavailable"
                    | "Unavailable"
                    | "RequestLimitExceeded"
                    | "Throttling"
                    | "ThrottlingException"
                    | "RequestTimeout"
                    | "SlowDown"
            ),
        }
    }
}

/// Sends a create that AWS does not make idempotent (no token, no unique name) and that
/// carries the plan address as a tag from the start. The SDK sends it once (`send` must
/// disable its retry): its own retry would send it again after an answer was lost, and AWS
/// would make a second resource. After a failure the create may have happened anyway (no
/// answer, a 5xx or throttling after the work was done), so `find` looks for it by its tag
/// before it is sent again, with backoff. Returns the new resource's id.
pub(super) async fn send_once_then_look_up<T, E, Fut, Found>(
    p: &AwsProvider,
    api: &'static str,
    mut send: impl FnMut() -> Fut,
    id_of: impl Fn(&T) -> String,
    mut find: impl FnMut() -> Found,
) -> Result<String>
where
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    Found: Future<Output = Result<Option<String>>>,
{
    let mut delay = Duration::from_millis(500);
    for attempt in 1.. {
        match p.call(api, send()).await {
            Ok(out) => {
                let id = id_of(&out);
                return if id.is_empty() {
                    Err(anyhow!("{api} returned no id"))
                } else {
                    Ok(id)
                };
            }
            Err(e) if e.transient() && attempt < 8 => {
                if let Some(found) = find().await? {
                    return Ok(found);
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(20));
            }
            Err(e) => return Err(e.into()),
        }
    }
    unreachable!("the loop returns")
}

/// `Ok(None)` for the listed "does not exist" codes.
pub(super) fn absent<T>(r: Result<T, ApiError>, codes: &[&str]) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is(codes) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `Ok(())` for the listed "already gone" codes.
pub(super) fn gone(r: Result<impl Sized, ApiError>, codes: &[&str]) -> Result<()> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.is(codes) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// `Ok(())` for the listed "that is so already" codes: what a call's retry hears when the
/// first attempt, whose answer was lost, did the work (an attach, an association, a rule).
pub(super) fn already_done(r: Result<impl Sized, ApiError>, codes: &[&str]) -> Result<()> {
    gone(r, codes)
}

/// The `Tags` / `tags` map of desired settings as pairs.
pub(super) fn desired_tags(desired: &Value) -> Vec<(String, String)> {
    desired
        .get("Tags")
        .or_else(|| desired.get("tags"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Live tags restricted to the keys the plan sets (other tools may add their own), with
/// `null` for each such key the resource lacks: a tag that is missing (removed by hand,
/// or never written by a run killed before it tagged) is a difference like any other.
pub(super) fn tag_subset(
    live: impl IntoIterator<Item = (String, String)>,
    desired: &Value,
) -> Value {
    let live: Vec<(String, String)> = live.into_iter().collect();
    let mut m = Map::new();
    for (k, _) in desired_tags(desired) {
        let v = live
            .iter()
            .find(|(lk, _)| *lk == k)
            .map_or(Value::Null, |(_, v)| Value::String(v.clone()));
        m.insert(k, v);
    }
    Value::Object(m)
}

impl AwsProvider {
    /// Whether this state may take a resource with these tags, found as `claim` says
    /// (`exec::adoption`): never what another data plane, another state, or someone else
    /// made.
    pub(super) fn ensure_ours(
        &self,
        what: &str,
        tags: &[(String, String)],
        claim: Claim,
    ) -> Result<()> {
        let tag = |k: &str| tags.iter().find(|(t, _)| t == k).map(|(_, v)| v.as_str());
        let marks = Marks {
            data_plane: tag(TAG_DATA_PLANE),
            lineage: tag(TAG_LINEAGE),
        };
        judge(what, marks, &self.data_plane, &self.lineage, claim).map_err(anyhow::Error::new)
    }
}

pub(super) fn s(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

pub(super) fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(String::from))
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => vec![],
    }
}

pub(super) fn outputs(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

pub(super) use crate::clouds::unsupported;

impl AwsProvider {
    async fn read_resource(
        &self,
        r: &Resource,
        desired: &Value,
        prior: Option<&ResourceState>,
    ) -> Result<Option<Observed>> {
        let id = prior.map(|p| p.id.as_str()).filter(|i| !i.is_empty());
        // A run that died between creating this resource and tagging it recorded the intent
        // first: such a resource is ours even without the tag (its tags are then repaired).
        let claim = Claim::of(prior);
        match r.type_name() {
            "vpc"
            | "subnet"
            | "internet_gateway"
            | "eip"
            | "nat_gateway"
            | "route_table"
            | "route_tables"
            | "security_group"
            | "vpc_endpoint"
            | "flow_log"
            | "launch_template"
            | "vpc_endpoint_service" => ec2::read(self, r, desired, id, claim).await,
            "iam_role" | "iam_policy" | "iam_openid_connect_provider" => {
                iam::read(self, r, desired, claim).await
            }
            "s3_bucket" => s3::read(self, r, desired, claim).await,
            "kms_key" => kms::read(self, r, desired, id, claim).await,
            "eks_cluster"
            | "eks_node_group"
            | "eks_access_entry"
            | "eks_addon"
            | "eks_pod_identity_association" => eks::read(self, r, desired, claim).await,
            "lb" | "lb_target_group" | "lb_listener" => elb::read(self, r, desired, claim).await,
            "cloudtrail" => cloudtrail::read(self, r, desired, claim).await,
            other => Err(anyhow!("the AWS provider does not know `{other}`")),
        }
        .with_context(|| format!("reading {}", r.address))
    }

    async fn create_resource(
        &self,
        r: &Resource,
        desired: &Value,
        token: &str,
    ) -> Result<Observed> {
        match self.send_create(r, desired, token).await {
            Err(e)
                if e.chain().any(|c| {
                    c.downcast_ref::<ApiError>()
                        .is_some_and(|a| a.is(ALREADY_EXISTS))
                }) =>
            {
                // The SDK sent the create again after its first answer was lost, and the
                // first one made it; or a killed run made it before it could record it.
                // Either way this run's intent is on record, so what carries the name is
                // adopted as a killed run's resource is, and brought to the plan.
                let mut intent = ResourceState::of(
                    r,
                    Observed {
                        id: String::new(),
                        outputs: Map::new(),
                        settings: Value::Null,
                    },
                    desired.clone(),
                );
                intent.pending = true;
                let Some(found) = self.read_resource(r, desired, Some(&intent)).await? else {
                    return Err(e);
                };
                let changed = crate::plan::diff::changed_paths(&found.settings, desired);
                if changed.is_empty() {
                    Ok(found)
                } else {
                    self.update_resource(r, desired, &found, &changed).await
                }
            }
            result => result,
        }
    }

    async fn send_create(&self, r: &Resource, desired: &Value, token: &str) -> Result<Observed> {
        match r.type_name() {
            "iam_role" | "iam_policy" | "iam_openid_connect_provider" => {
                iam::create(self, r, desired).await
            }
            "s3_bucket" => s3::create(self, r, desired).await,
            "kms_key" => kms::create(self, r, desired).await,
            "eks_cluster"
            | "eks_node_group"
            | "eks_access_entry"
            | "eks_addon"
            | "eks_pod_identity_association" => eks::create(self, r, desired, token).await,
            "lb" | "lb_target_group" | "lb_listener" => elb::create(self, r, desired).await,
            "cloudtrail" => cloudtrail::create(self, r, desired).await,
            _ => ec2::create(self, r, desired, token).await,
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
        // Tags are one change for every kind, through each service's tagging call: a tag
        // change never depends on what else the kind can change in place.
        let is_tag = |c: &String| c.starts_with("/Tags") || c.starts_with("/tags");
        if changed.iter().any(is_tag) {
            self.put_tags(r, desired, live)
                .await
                .with_context(|| format!("tagging {}", r.address))?;
        }
        let rest: Vec<String> = changed.iter().filter(|c| !is_tag(c)).cloned().collect();
        if rest.is_empty() {
            return self
                .read_resource(r, desired, None)
                .await?
                .ok_or_else(|| anyhow!("{} disappeared while being tagged", r.address));
        }
        let changed = rest.as_slice();
        match r.type_name() {
            "iam_role" | "iam_policy" | "iam_openid_connect_provider" => {
                iam::update(self, r, desired, live, changed).await
            }
            "s3_bucket" => s3::update(self, r, desired, live, changed).await,
            "kms_key" => kms::update(self, r, desired, live, changed).await,
            "eks_cluster"
            | "eks_node_group"
            | "eks_access_entry"
            | "eks_addon"
            | "eks_pod_identity_association" => eks::update(self, r, desired, live, changed).await,
            "lb" | "lb_target_group" | "lb_listener" => Err(unsupported(r, changed)),
            "cloudtrail" => cloudtrail::update(self, r, desired, live, changed).await,
            _ => ec2::update(self, r, desired, live, changed).await,
        }
        .with_context(|| format!("updating {}", r.address))
    }

    async fn delete_resource(&self, r: &ResourceState, with_data: bool) -> Result<()> {
        let kind = r.kind.split_once('.').map_or(r.kind.as_str(), |(_, t)| t);
        match kind {
            "iam_role" | "iam_policy" | "iam_openid_connect_provider" => iam::delete(self, r).await,
            "s3_bucket" => s3::delete(self, r, with_data).await,
            "kms_key" => kms::delete(self, r).await,
            "eks_cluster"
            | "eks_node_group"
            | "eks_access_entry"
            | "eks_addon"
            | "eks_pod_identity_association" => eks::delete(self, r).await,
            "lb" | "lb_target_group" | "lb_listener" => elb::delete(self, r).await,
            "cloudtrail" => cloudtrail::delete(self, r).await,
            _ => ec2::delete(self, r).await,
        }
        .with_context(|| format!("deleting {}", r.address))
    }
}

impl AwsProvider {
    /// Writes the plan's tags (and unionctl's own) on a live resource, with its service's
    /// tagging call. Tags the plan no longer names are left as they are.
    async fn put_tags(&self, r: &Resource, desired: &Value, live: &Observed) -> Result<()> {
        let pairs = self.tags_for(r, desired);
        let id = live.id.as_str();
        let arn = live
            .outputs
            .get("arn")
            .and_then(Value::as_str)
            .unwrap_or(id)
            .to_string();
        match r.type_name() {
            "iam_role" | "iam_policy" | "iam_openid_connect_provider" => {
                let tags: Vec<_> = pairs
                    .iter()
                    .filter_map(|(k, v)| {
                        aws_sdk_iam::types::Tag::builder()
                            .key(k)
                            .value(v)
                            .build()
                            .ok()
                    })
                    .collect();
                match r.type_name() {
                    "iam_role" => self
                        .call(
                            "TagRole",
                            self.iam
                                .tag_role()
                                .role_name(s(desired, "RoleName"))
                                .set_tags(Some(tags))
                                .send(),
                        )
                        .await
                        .map(|_| ())?,
                    "iam_policy" => self
                        .call(
                            "TagPolicy",
                            self.iam
                                .tag_policy()
                                .policy_arn(id)
                                .set_tags(Some(tags))
                                .send(),
                        )
                        .await
                        .map(|_| ())?,
                    _ => self
                        .call(
                            "TagOpenIDConnectProvider",
                            self.iam
                                .tag_open_id_connect_provider()
                                .open_id_connect_provider_arn(id)
                                .set_tags(Some(tags))
                                .send(),
                        )
                        .await
                        .map(|_| ())?,
                }
            }
            "s3_bucket" => {
                let tags = pairs
                    .iter()
                    .filter_map(|(k, v)| {
                        aws_sdk_s3::types::Tag::builder()
                            .key(k)
                            .value(v)
                            .build()
                            .ok()
                    })
                    .collect();
                let tagging = aws_sdk_s3::types::Tagging::builder()
                    .set_tag_set(Some(tags))
                    .build()?;
                self.call(
                    "PutBucketTagging",
                    self.s3
                        .put_bucket_tagging()
                        .bucket(id)
                        .tagging(tagging)
                        .send(),
                )
                .await?;
            }
            "kms_key" => {
                let tags = pairs
                    .iter()
                    .filter_map(|(k, v)| {
                        aws_sdk_kms::types::Tag::builder()
                            .tag_key(k)
                            .tag_value(v)
                            .build()
                            .ok()
                    })
                    .collect();
                self.call(
                    "TagResource",
                    self.kms
                        .tag_resource()
                        .key_id(id)
                        .set_tags(Some(tags))
                        .send(),
                )
                .await?;
            }
            "eks_cluster"
            | "eks_node_group"
            | "eks_access_entry"
            | "eks_addon"
            | "eks_pod_identity_association" => {
                self.call(
                    "TagResource",
                    self.eks
                        .tag_resource()
                        .resource_arn(arn)
                        .set_tags(Some(pairs.into_iter().collect()))
                        .send(),
                )
                .await?;
            }
            "lb" | "lb_target_group" | "lb_listener" => {
                let tags = pairs
                    .iter()
                    .map(|(k, v)| {
                        aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                            .key(k)
                            .value(v)
                            .build()
                    })
                    .collect();
                self.call(
                    "AddTags",
                    self.elb
                        .add_tags()
                        .resource_arns(id)
                        .set_tags(Some(tags))
                        .send(),
                )
                .await?;
            }
            "cloudtrail" => {
                let tags = pairs
                    .iter()
                    .filter_map(|(k, v)| {
                        aws_sdk_cloudtrail::types::Tag::builder()
                            .key(k)
                            .value(v)
                            .build()
                            .ok()
                    })
                    .collect();
                self.call(
                    "AddTags",
                    self.trail
                        .add_tags()
                        .resource_id(id)
                        .set_tags_list(Some(tags))
                        .send(),
                )
                .await?;
            }
            // Every EC2 kind: CreateTags on its id.
            _ => {
                let tags = pairs
                    .iter()
                    .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build())
                    .collect();
                self.call(
                    "CreateTags",
                    self.ec2
                        .create_tags()
                        .resources(id)
                        .set_tags(Some(tags))
                        .send(),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn contents_of(&self, r: &ResourceState) -> Result<Option<u64>> {
        match r.kind.as_str() {
            "aws.s3_bucket" => s3::object_count(self, &r.id).await.map(Some),
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

crate::clouds::boxed_provider!(AwsProvider);
