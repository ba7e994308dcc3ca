//! Azure: the plan builder, invariant checks, the provider over Azure Resource Manager and
//! Microsoft Graph (the `azure_core` pipeline, `azure_identity` credentials), and the
//! hand-off.

mod arm;
mod blob;
mod graph;
pub mod invariants;
pub mod outputs;
pub mod plan;
pub mod provider;
mod resources;
pub mod state;

use std::sync::Arc;

use anyhow::Result;
use azure_core::credentials::TokenCredential;
use azure_identity::{
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    DeveloperToolsCredential, WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use futures_util::future::LocalBoxFuture;
use serde_json::Value;

use crate::error::UserError;
use crate::exec::Provider;
use crate::plan::Party;
use crate::profile::{self, Profile};
use crate::state::State;
use provider::AzureProvider;

pub struct Azure;

super::cloud_plan!(Azure, profile::Provider::Azure);

/// The plan address of Union.ai's application (its `appId` is the client id the union
/// stage signs in with).
pub const UNION_APPLICATION: &str = "azure.application.unionai";

impl super::Cloud for Azure {
    fn connect<'a>(
        &'a self,
        stage: Party,
        profile: &'a Profile,
        state: &'a State,
    ) -> LocalBoxFuture<'a, Result<Box<dyn Provider>>> {
        Box::pin(async move {
            let az = profile.spec.cloud.azure.as_ref().ok_or_else(|| {
                UserError::new(
                    "spec.cloud.azure (subscriptionId, tenantId, resourceGroup) is missing",
                )
            })?;
            let credential = match stage {
                Party::Customer => customer_credential(&az.tenant_id)?,
                Party::Union => union_credential(&az.tenant_id, state)?,
            };
            // Sign in once now, so that missing or refused credentials are one clear error
            // instead of one per resource.
            if let Err(e) = credential.get_token(&[provider::ARM_SCOPE], None).await {
                let (what, hint) = match stage {
                    Party::Customer => (
                        format!("cannot sign in to Azure tenant {} at {}", az.tenant_id, authority()),
                        "set AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a service principal), AZURE_FEDERATED_TOKEN_FILE (workload identity), or run `az login`",
                    ),
                    Party::Union => (
                        "cannot sign in as Union.ai's application with its federated token".to_string(),
                        "the union stage needs Union.ai's token in AZURE_FEDERATED_TOKEN_FILE; only the subject and audience the customer's federated credential names are admitted",
                    ),
                };
                return Err(UserError::new(format!("{what}: {}", sign_in_error(&e)))
                    .hint(hint)
                    .into());
            }
            let p = AzureProvider::new(
                &az.subscription_id,
                &az.resource_group,
                &profile.metadata.name,
                &state.lineage,
                credential,
            )
            .await?;
            Ok(Box::new(p) as Box<dyn Provider>)
        })
    }
    fn hand_off(&self, profile: &Profile, state: &State) -> Result<Value> {
        Ok(outputs::hand_off(profile, state))
    }
}

/// The credentials' options: a sign-in that cannot reach Entra ID fails in seconds (three
/// tries within ten), not the pipeline's minute.
fn options() -> Result<azure_core::http::ClientOptions> {
    use azure_core::http::{ExponentialRetryOptions, RetryOptions};
    use azure_core::time::Duration;
    let mut o = arm::client_options(&arm::transport()?);
    o.retry = RetryOptions::exponential(ExponentialRetryOptions {
        initial_delay: Duration::milliseconds(500),
        max_retries: 2,
        max_total_elapsed: Duration::seconds(10),
        max_delay: Duration::seconds(2),
    });
    Ok(o)
}

/// Where Entra ID is asked for tokens.
fn authority() -> String {
    var("AZURE_AUTHORITY_HOST").unwrap_or_else(|| "https://login.microsoftonline.com".into())
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The customer's credential, as the Azure SDKs look for one: a service principal's secret
/// in the environment, else a workload identity's federated token, else the developer's
/// Azure CLI (or Azure Developer CLI) login. Always in the profile's tenant.
pub(super) fn customer_credential(tenant: &str) -> Result<Arc<dyn TokenCredential>> {
    let failed =
        |e: azure_core::Error| UserError::new(format!("cannot set up Azure credentials: {e}"));
    if let (Some(client), Some(secret)) = (var("AZURE_CLIENT_ID"), var("AZURE_CLIENT_SECRET")) {
        return Ok(ClientSecretCredential::new(
            tenant,
            client,
            secret.into(),
            Some(ClientSecretCredentialOptions {
                client_options: options()?,
            }),
        )
        .map_err(failed)?);
    }
    if var("AZURE_FEDERATED_TOKEN_FILE").is_some() {
        let o = WorkloadIdentityCredentialOptions {
            credential_options: ClientAssertionCredentialOptions {
                client_options: options()?,
            },
            tenant_id: Some(tenant.to_string()),
            ..Default::default()
        };
        return Ok(WorkloadIdentityCredential::new(Some(o)).map_err(failed)?);
    }
    Ok(DeveloperToolsCredential::new(None).map_err(failed)?)
}

/// Union.ai's credential: its application (from state: the customer stage made it) and the
/// token Union.ai's identity provider issued, which the application's only federated
/// credential admits.
fn union_credential(tenant: &str, state: &State) -> Result<Arc<dyn TokenCredential>> {
    let app_id = state.output(UNION_APPLICATION, "appId").and_then(Value::as_str).ok_or_else(|| {
        UserError::new("Union.ai's application does not exist yet, so the union stage cannot sign in as it")
            .hint("the customer stage creates it: `unionctl apply --stage customer` with the customer's credentials")
    })?;
    let token_file = var("AZURE_FEDERATED_TOKEN_FILE").ok_or_else(|| {
        UserError::new("the union stage signs in with Union.ai's federated token, and AZURE_FEDERATED_TOKEN_FILE is not set")
            .hint("point AZURE_FEDERATED_TOKEN_FILE at the file holding Union.ai's identity token")
    })?;
    let o = WorkloadIdentityCredentialOptions {
        credential_options: ClientAssertionCredentialOptions {
            client_options: options()?,
        },
        client_id: Some(app_id.to_string()),
        tenant_id: Some(tenant.to_string()),
        token_file_path: Some(token_file.into()),
    };
    WorkloadIdentityCredential::new(Some(o))
        .map(|c| c as Arc<dyn TokenCredential>)
        .map_err(|e| {
            UserError::new(format!(
                "cannot set up Union.ai's federated credential: {e}"
            ))
            .into()
        })
}

/// What went wrong signing in: the credential's message (its first line: later lines
/// carry a troubleshooting link) and, when it wraps one, the innermost cause (a refused
/// connection, say).
fn sign_in_error(e: &azure_core::Error) -> String {
    let first = first_line(&e.to_string());
    let mut last: &dyn std::error::Error = e;
    while let Some(next) = last.source() {
        last = next;
    }
    let root = first_line(&last.to_string());
    if root == first || first.contains(&root) {
        first
    } else {
        format!("{first}: {root}")
    }
}

/// Azure identity errors carry a troubleshooting link on later lines.
fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}
