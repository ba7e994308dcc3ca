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
    let mut s: String = profile
        .metadata
        .name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
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

/// Azure agent pool name: 1-12 lowercase letters and digits.
pub fn azure_pool(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(12)
        .collect()
}

/// The native name of a node pool on the profile's cloud (two pools must not share one).
pub fn node_pool(profile: &Profile, name: &str) -> String {
    match profile.spec.cloud.provider {
        Provider::Azure => azure_pool(name),
        _ => name.to_string(),
    }
}

/// Name of the workload identity of tenant namespace `ns` (an IAM role, a GCP service
/// account id of at most 30 characters, an Azure identity): `<prefix>-w-<namespace>`,
/// shortened with a stable suffix when the cloud's limit needs it.
pub fn worker_identity(profile: &Profile, ns: &str) -> String {
    let full = format!("{}-w-{ns}", profile.metadata.name);
    let limit = match profile.spec.cloud.provider {
        Provider::Gcp => 30,
        Provider::Aws => 64,
        Provider::Azure => 128,
    };
    if full.len() <= limit {
        return full;
    }
    // Deterministic: the same namespace always gets the same name.
    let digest = full.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let suffix = format!("-{:06x}", digest & 0xff_ffff);
    let keep = limit - suffix.len();
    format!("{}{suffix}", full[..keep].trim_end_matches('-'))
}

/// Namespaces a tenant may not use: Kubernetes' own, the cloud's, and the ones the data
/// plane's platform (the Union operator, monitoring, logging, serving) installs into.
pub const RESERVED_NAMESPACES: &[&str] = &[
    "default",
    "union",
    "monitoring",
    "logging",
    "kourier-system",
    "cert-manager",
    "gatekeeper-system",
    "calico-system",
    "tigera-operator",
];
pub const RESERVED_NAMESPACE_PREFIXES: &[&str] = &[
    "kube-", "knative-", "istio-", "gke-", "gmp-", "amazon-", "aws-", "azure-",
];

/// Service account namespace and names of Union.ai's platform components.
pub const PLATFORM_NAMESPACE: &str = "union";
pub const PLATFORM_SERVICE_ACCOUNTS: &[&str] =
    &["union-operator", "flytepropeller", "operator-proxy"];
/// Service account that task pods run as in each tenant namespace.
pub const TASK_SERVICE_ACCOUNT: &str = "default";
