//! Names of cloud resources, derived from the profile in one place so that the plan
//! builders, validation (length limits) and the executor (finding existing resources after
//! a crash) all agree on them.

use super::schema::{Profile, Provider};

/// Prefix of every resource name.
pub fn prefix(profile: &Profile) -> &str {
    &profile.metadata.name
}

/// Native name of a logical bucket. S3 and GCS bucket names are global, so the name carries
/// the account / project to stay unique across customers with the same data-plane name.
pub fn bucket(profile: &Profile, logical: &str) -> String {
    match profile.spec.cloud.provider {
        // Azure containers live inside the storage account: the logical name is enough.
        Provider::Azure => logical.to_string(),
        _ => format!("{}-{}", profile.metadata.name, logical),
    }
}

/// The bucket that receives audit trail and flow logs.
pub fn audit_bucket(profile: &Profile) -> String {
    bucket(profile, "audit-logs")
}

/// Azure storage account name: 3-24 lowercase letters and digits, globally unique.
pub fn azure_storage_account(profile: &Profile) -> String {
    let mut s: String = profile.metadata.name.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    s.truncate(20);
    s.push_str("data");
    s
}

/// Azure Key Vault name: 3-24 characters, letters, digits and hyphens.
pub fn azure_key_vault(profile: &Profile) -> String {
    let mut s = profile.metadata.name.clone();
    s.truncate(21);
    format!("{}-kv", s.trim_end_matches('-'))
}

/// Service account namespace and names of Union.ai's platform components.
pub const PLATFORM_NAMESPACE: &str = "union";
pub const PLATFORM_SERVICE_ACCOUNTS: &[&str] = &["union-operator", "flytepropeller", "operator-proxy"];
/// Service account that task pods run as in each tenant namespace.
pub const TASK_SERVICE_ACCOUNT: &str = "default";
