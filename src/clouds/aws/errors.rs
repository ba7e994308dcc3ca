//! AWS failures as a person reads them: the service's error code, message and request id;
//! for a failure without an answer, what happened in words (connection refused by which
//! endpoint, a timeout, no credentials) — never the SDK's debug structures. And every
//! attempt of every call, logged (`-v`), with each retry said as it happens.

use std::error::Error as StdError;
use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::UserError;

/// The error chain in words, each cause once: `Display` of every source, skipping one
/// that only repeats its parent.
pub fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    parts.join(": ")
}

/// The innermost cause (`Connection refused (os error 111)`): what the layers above it
/// wrap adds nothing a person acts on.
fn root_cause(e: &(dyn StdError + 'static)) -> String {
    let mut last = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// What went wrong with a call, in one line.
pub fn describe<E>(e: &SdkError<E, HttpResponse>) -> String
where
    E: StdError + ProvideErrorMetadata + 'static,
{
    match e {
        SdkError::ServiceError(se) => match e.code() {
            Some(code) => {
                let id = e
                    .meta()
                    .extra("aws_request_id")
                    .map(|id| format!(" (request id {id})"))
                    .unwrap_or_default();
                format!("{code}: {}{id}", e.message().unwrap_or("no message"))
            }
            // An answer that is not a documented error (an HTML 500 page, say).
            None => format!(
                "HTTP {} with a body that is not an AWS error",
                se.raw().status().as_u16()
            ),
        },
        SdkError::TimeoutError(_) => "no answer in time (timeout)".to_string(),
        SdkError::DispatchFailure(d) => {
            let cause = d
                .as_connector_error()
                .map(|c| root_cause(c))
                .unwrap_or_default();
            if d.is_timeout() {
                format!("no answer in time: {cause}")
            } else if d.is_io() {
                format!("cannot connect: {cause}")
            } else {
                cause
            }
        }
        SdkError::ResponseError(r) => format!(
            "an answer that cannot be read (HTTP {}): {}",
            r.raw().status().as_u16(),
            chain(e)
        ),
        SdkError::ConstructionFailure(_) => chain(e),
        _ => chain(e),
    }
}

/// Whether the failure means there were no credentials to sign with.
fn no_credentials<E: StdError + 'static>(e: &SdkError<E, HttpResponse>) -> bool {
    let text = chain(e).to_lowercase();
    text.contains("credentials")
        && (text.contains("no providers in chain")
            || text.contains("not loaded")
            || text.contains("not enabled")
            || text.contains("no credentials"))
}

/// The error of a first call (`sts:GetCallerIdentity`) that failed: no credentials, refused
/// ones, or no connection to the endpoint, each with what to do.
pub fn sign_in_failed<E>(
    e: &SdkError<E, HttpResponse>,
    config: &aws_types::SdkConfig,
) -> anyhow::Error
where
    E: StdError + ProvideErrorMetadata + 'static,
{
    let endpoint = config.endpoint_url().map(String::from).unwrap_or_else(|| {
        format!(
            "https://sts.{}.amazonaws.com",
            config.region().map(|r| r.to_string()).unwrap_or_default()
        )
    });
    if no_credentials(e) {
        return UserError::new("no AWS credentials were found")
            .hint(
                "set AWS_PROFILE to a profile of ~/.aws/config (and run `aws sso login` if it uses SSO), or AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN); on EC2, ECS or EKS the instance, task or pod role is used",
            )
            .into();
    }
    match e.code() {
        Some(code @ ("InvalidClientTokenId" | "SignatureDoesNotMatch" | "ExpiredToken" | "ExpiredTokenException" | "UnrecognizedClientException" | "AccessDenied")) => {
            UserError::new(format!("AWS refused the credentials: {}", describe(e)))
                .hint(if code.starts_with("Expired") {
                    "they have expired: sign in again (`aws sso login`, or new session credentials)"
                } else {
                    "check AWS_PROFILE and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY: these keys are not valid"
                })
                .into()
        }
        _ if matches!(e, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) => UserError::new(format!("cannot reach AWS STS at {endpoint}: {}", describe(e)))
            .hint("check the network (or proxy) to that endpoint; AWS_ENDPOINT_URL, when set, names it")
            .into(),
        _ => UserError::new(format!("sts:GetCallerIdentity at {endpoint}: {}", describe(e))).into(),
    }
}

/// When the current attempt started, and where the one before it went and how it ended.
#[derive(Debug, Clone, Default)]
struct Attempt {
    started: Option<Instant>,
    last_target: String,
    last_failure: Option<String>,
}

impl Storable for Attempt {
    type Storer = StoreReplace<Self>;
}

/// Logs every attempt of every call (target `unionctl::api`, debug: operation, endpoint,
/// status, request id, time; never headers or bodies) and says each retry as it starts
/// (target `unionctl::retry`, info), with where the previous attempt went and why it failed.
#[derive(Debug)]
pub struct Attempts;

impl Intercept for Attempts {
    fn name(&self) -> &'static str {
        "unionctl attempts"
    }

    fn read_before_attempt(
        &self,
        _ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let n = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
        let mut attempt = cfg.load::<Attempt>().cloned().unwrap_or_default();
        if n > 1 {
            let why = attempt.last_failure.as_deref().unwrap_or("no answer");
            tracing::info!(target: "unionctl::retry", "retrying {} at {} (attempt {n}): {why}", operation(cfg), attempt.last_target);
        }
        attempt.started = Some(Instant::now());
        cfg.interceptor_state().store_put(attempt);
        Ok(())
    }

    /// The endpoint is known once the request is about to be sent (not before the attempt).
    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut attempt = cfg.load::<Attempt>().cloned().unwrap_or_default();
        attempt.last_target = ctx
            .request()
            .uri()
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        cfg.interceptor_state().store_put(attempt);
        Ok(())
    }

    fn read_after_attempt(
        &self,
        ctx: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = operation(cfg);
        let mut attempt = cfg.load::<Attempt>().cloned().unwrap_or_default();
        let elapsed = attempt.started.map_or(0, |t| t.elapsed().as_millis());
        let target = attempt.last_target.clone();
        let (status, request_id) = match ctx.response() {
            Some(r) => {
                let headers = r.headers();
                let id = headers
                    .get("x-amzn-requestid")
                    .or_else(|| headers.get("x-amz-request-id"))
                    .unwrap_or("-")
                    .to_string();
                (r.status().as_u16().to_string(), id)
            }
            None => ("no answer".to_string(), "-".to_string()),
        };
        let failure = match ctx.output_or_error() {
            Some(Err(e)) => Some(match ctx.response() {
                Some(r) => format!("HTTP {}", r.status().as_u16()),
                None => root_cause(e),
            }),
            _ => None,
        };
        let because = failure
            .as_ref()
            .map(|f| format!(": {f}"))
            .unwrap_or_default();
        tracing::debug!(target: "unionctl::api", "{op} {target} -> {status} (request id {request_id}, {elapsed} ms){because}");
        attempt.last_failure = failure;
        cfg.interceptor_state().store_put(attempt);
        Ok(())
    }
}

fn operation(cfg: &ConfigBag) -> String {
    cfg.load::<Metadata>()
        .map(|m| format!("{}:{}", m.service().to_lowercase(), m.name()))
        .unwrap_or_else(|| "AWS call".into())
}
