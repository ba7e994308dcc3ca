//! GCP: the plan builder, invariant checks, the provider over the official
//! google-cloud-rust clients (one file per service), and the hand-off.

mod compute;
mod container;
mod iam;
pub mod invariants;
mod kms;
mod logging;
pub mod outputs;
pub mod plan;
mod policy;
mod projects;
pub mod provider;
pub mod state;
mod storage;

use super::unsupported;
use anyhow::Result;
use futures_util::future::LocalBoxFuture;
use serde_json::Value;

use crate::error::UserError;
use crate::exec::Provider;
use crate::plan::Party;
use crate::profile::{self, Profile};
use crate::state::State;
use provider::GcpProvider;

pub struct Gcp;

super::cloud_plan!(Gcp, profile::Provider::Gcp);

impl super::Cloud for Gcp {
    fn connect<'a>(
        &'a self,
        stage: Party,
        profile: &'a Profile,
        state: &'a State,
    ) -> LocalBoxFuture<'a, Result<Box<dyn Provider>>> {
        Box::pin(async move {
            let gcp = profile.spec.cloud.gcp.as_ref().ok_or_else(|| {
                UserError::new("spec.cloud.gcp (projectId, projectNumber) is missing")
            })?;
            let credentials = match stage {
                Party::Customer => google_cloud_auth::credentials::Builder::default().build().map_err(|e| {
                    UserError::new(format!("no Google Cloud credentials: {e}"))
                        .hint("run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS")
                })?,
                Party::Union => {
                    let pool_provider = state.output(plan::UNION_PROVIDER, "name").and_then(Value::as_str).ok_or_else(|| {
                        UserError::new("the workload identity pool does not exist yet, so the union stage cannot sign in through it")
                            .hint("the customer stage creates it: `unionctl apply --stage customer` with the customer's credentials")
                    })?;
                    provider::union_credentials(&gcp.project_id, &gcp.project_number, pool_provider)?
                }
            };
            // Sign in once now, so that missing or refused credentials are one clear
            // error instead of one per resource.
            if let Err(e) = credentials.headers(http::Extensions::new()).await {
                let (what, hint) = match stage {
                    Party::Customer => ("cannot sign in to Google Cloud with Application Default Credentials", "run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS"),
                    Party::Union => (
                        "cannot sign in as unionai-administrator through the workload identity pool",
                        "the union stage needs the AWS credentials of Union.ai's role (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, or an instance role); only that role in Union.ai's account is admitted",
                    ),
                };
                return Err(UserError::new(format!("{what}: {}", sign_in_error(&e)))
                    .hint(hint)
                    .into());
            }
            let p = GcpProvider::new(
                &gcp.project_id,
                (stage == Party::Union).then_some(gcp.project_number.as_str()),
                &profile.spec.cloud.region,
                &profile.metadata.name,
                &state.lineage,
                credentials,
            )
            .await?;
            Ok(Box::new(p) as Box<dyn Provider>)
        })
    }
    fn hand_off(&self, profile: &Profile, state: &State) -> Result<Value> {
        Ok(outputs::hand_off(profile, state))
    }
}

/// What went wrong signing in, from google-cloud-auth's error chain: the innermost cause,
/// the URL it was fetching when one is named, and what the server answered when it did
/// answer (google-cloud-auth keeps a refusal's body as `body=<...>` in one layer's message;
/// an OAuth error body says why, e.g. `unauthorized_client`).
fn sign_in_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut url = None;
    let mut answer = None;
    let mut last = e;
    let mut next = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if let Some(u) = text
            .split("for url (")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
        {
            url = Some(u.to_string());
        }
        if let Some(body) = text
            .split("body=<")
            .nth(1)
            .and_then(|rest| rest.rsplit_once('>'))
            .map(|(b, _)| b)
        {
            answer = Some(oauth_error(body));
        }
        last = err;
        next = err.source();
    }
    let root = last.to_string();
    let root = root.rsplit(": ").next().unwrap_or(&root);
    let root = root.split(" for url (").next().unwrap_or(root).to_string();
    match (url, answer) {
        (Some(u), Some(a)) => format!("{u} refused: {root}: {a}"),
        (Some(u), None) => format!("cannot reach {u}: {root}"),
        (None, Some(a)) => format!("{root}: {a}"),
        (None, None) => root,
    }
}

/// `error: error_description` of an OAuth error body (RFC 6749 section 5.2), else the body.
fn oauth_error(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let field = |k: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match (field("error"), field("error_description")) {
        (Some(e), Some(d)) => format!("{e}: {d}"),
        (Some(e), None) => e,
        _ => body.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::sign_in_error;

    /// An error with a message and an optional cause, like the layers google-cloud-auth nests.
    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);
    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn a_refusal_says_who_refused_and_why() {
        let chain = Layer(
            "cannot exchange the subject token, body=<{\"error\":\"unauthorized_client\",\"error_description\":\"The given credential is rejected by the attribute condition.\"}>",
            Some(Box::new(Layer("HTTP status client error (403 Forbidden) for url (https://sts.googleapis.com/v1/token)", None))),
        );
        assert_eq!(
            sign_in_error(&chain),
            "https://sts.googleapis.com/v1/token refused: HTTP status client error (403 Forbidden): unauthorized_client: The given credential is rejected by the attribute condition."
        );
    }

    #[test]
    fn an_unreachable_endpoint_is_named() {
        let chain = Layer(
            "request failed",
            Some(Box::new(Layer(
                "error sending request for url (http://127.0.0.1:9/token)",
                Some(Box::new(Layer(
                    "tcp connect error: Connection refused (os error 111)",
                    None,
                ))),
            ))),
        );
        assert_eq!(
            sign_in_error(&chain),
            "cannot reach http://127.0.0.1:9/token: Connection refused (os error 111)"
        );
    }
}
