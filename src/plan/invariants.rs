//! The security invariants (docs/security.md), checked on resource settings.
//!
//! The checks read the same settings shape whether it comes from a plan (what unionctl
//! will send) or from live resources read back from the cloud (`verify`), so there is one
//! implementation of each invariant. A violation names the invariant, the resource, the
//! setting, and the profile field that controls it.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::cloud::CloudPlan;
use super::resource::{Mode, Party, Resource};
use crate::profile::schema::UNION_AWS_ACCOUNT_ID;
use crate::profile::validate::is_private;
use crate::profile::Model;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Invariant {
    PrivateEndpoint,
    EncryptionAtRest,
    EncryptionInTransit,
    NoPublicBuckets,
    OutboundOnly,
    AdminTrust,
    LeastPrivilege,
    AuditLogging,
    TenantIsolation,
}

impl Invariant {
    pub const ALL: [Invariant; 9] = [
        Invariant::PrivateEndpoint,
        Invariant::EncryptionAtRest,
        Invariant::EncryptionInTransit,
        Invariant::NoPublicBuckets,
        Invariant::OutboundOnly,
        Invariant::AdminTrust,
        Invariant::LeastPrivilege,
        Invariant::AuditLogging,
        Invariant::TenantIsolation,
    ];

    /// The invariant's number in docs/security.md.
    pub fn number(self) -> usize {
        Invariant::ALL
            .iter()
            .position(|i| *i == self)
            .map_or(0, |p| p + 1)
    }

    pub fn slug(self) -> &'static str {
        match self {
            Invariant::PrivateEndpoint => "private-endpoint",
            Invariant::EncryptionAtRest => "encryption-at-rest",
            Invariant::EncryptionInTransit => "encryption-in-transit",
            Invariant::NoPublicBuckets => "no-public-buckets",
            Invariant::OutboundOnly => "outbound-only",
            Invariant::AdminTrust => "admin-trust",
            Invariant::LeastPrivilege => "least-privilege",
            Invariant::AuditLogging => "audit-logging",
            Invariant::TenantIsolation => "tenant-isolation",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Invariant::PrivateEndpoint => "the cluster API endpoint is private",
            Invariant::EncryptionAtRest => "encryption at rest with a customer-managed key",
            Invariant::EncryptionInTransit => "buckets refuse non-TLS and TLS < 1.2",
            Invariant::NoPublicBuckets => "no public buckets",
            Invariant::OutboundOnly => "outbound-only networking",
            Invariant::AdminTrust => {
                "the admin trust is conditioned; no Union.ai principal in self-managed"
            }
            Invariant::LeastPrivilege => "least privilege",
            Invariant::AuditLogging => "audit logging on",
            Invariant::TenantIsolation => "tenant isolation",
        }
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invariant {} ({})", self.number(), self.slug())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    pub invariant: Invariant,
    pub address: String,
    /// JSON pointer into the resource's settings, empty when the problem is a missing resource.
    pub setting: String,
    pub message: String,
    /// The profile field that controls this setting.
    pub profile_field: String,
    /// Self-managed may opt into a public endpoint: that is reported, not refused.
    pub warning_only: bool,
}

/// What the checks need to know beyond the resources.
pub struct Context<'a> {
    pub model: Model,
    /// Union.ai's AWS account (BYOC), or the default one (searched for in self-managed).
    pub union_account: &'a str,
    /// Other identifiers of Union.ai (GCP project, Azure subscription) that must never
    /// appear in self-managed.
    pub union_identifiers: Vec<String>,
    /// In BYOC: the Union.ai identifiers the private connection may accept.
    pub union_identifiers_byoc: Vec<String>,
    /// The data plane's name prefix: workload policies may only name its buckets.
    pub prefix: &'a str,
    /// The customer's account, project or subscription (where existing keys must live).
    pub home: &'a str,
}

/// Collects violations; each cloud's checks write into it.
pub struct Checker<'a> {
    pub cx: &'a Context<'a>,
    pub out: Vec<Violation>,
}

impl Checker<'_> {
    pub fn fail(
        &mut self,
        inv: Invariant,
        r: &Resource,
        setting: &str,
        field: &str,
        message: impl Into<String>,
    ) {
        self.out.push(Violation {
            invariant: inv,
            address: r.address.clone(),
            setting: setting.to_string(),
            message: message.into(),
            profile_field: field.to_string(),
            warning_only: false,
        });
    }
}

pub fn truthy(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool).unwrap_or(false)
}

pub fn str_of(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or("")
}

/// Values of a field that may be a string or a list of strings (IAM's `Action`, `Resource`).
pub fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

/// Checks every invariant over `resources`; returns violations (errors and warnings).
/// Checks every invariant over `resources`: the cloud's own checks, then the ones that
/// hold whatever the cloud. Returns violations (errors and warnings).
pub fn check(resources: &[Resource], cx: &Context<'_>, cloud: &dyn CloudPlan) -> Vec<Violation> {
    let mut c = Checker {
        cx,
        out: Vec::new(),
    };
    let managed: Vec<&Resource> = resources
        .iter()
        .filter(|r| r.mode == Mode::Managed)
        .collect();
    for r in &managed {
        cloud.check_resource(&mut c, r);
    }
    for r in resources.iter().filter(|r| r.mode == Mode::Data) {
        cloud.check_existing(&mut c, r);
    }
    cloud.check_plan(&mut c, resources);
    if cx.model == Model::SelfManaged {
        no_union_principal(&mut c, resources);
    }
    c.out
}

/// The checks of existing resources only (the ones the profile names), e.g. on what was
/// just read of them.
pub fn check_existing(
    resources: &[Resource],
    cx: &Context<'_>,
    cloud: &dyn CloudPlan,
) -> Vec<Violation> {
    let mut c = Checker {
        cx,
        out: Vec::new(),
    };
    for r in resources.iter().filter(|r| r.mode == Mode::Data) {
        cloud.check_existing(&mut c, r);
    }
    c.out
}

/// Something about an existing resource that only reading it can tell: a warning while it
/// has not been read (offline), an error once it is read and wrong.
pub fn unverified(c: &mut Checker<'_>, inv: Invariant, r: &Resource, field: &str, what: &str) {
    c.out.push(Violation {
        invariant: inv,
        address: r.address.clone(),
        setting: String::new(),
        message: format!("unverified until read: {what} (checked by `plan` with credentials and state, `apply` and `verify`)"),
        profile_field: field.into(),
        warning_only: true,
    });
}

pub fn public_endpoint(c: &mut Checker<'_>, r: &Resource, setting: &str) {
    let warning_only = c.cx.model == Model::SelfManaged;
    c.out.push(Violation {
        invariant: Invariant::PrivateEndpoint,
        address: r.address.clone(),
        setting: setting.into(),
        message: if warning_only {
            "the cluster API also listens on the internet (self-managed opt-in)".into()
        } else {
            "BYOC clusters have no public endpoint: Union.ai reaches the API only through the private connection".into()
        },
        profile_field: "spec.cluster.endpointAccess".into(),
        warning_only,
    });
}

pub fn cidr_is_private(cidr: &str) -> bool {
    if cidr.contains("${") {
        return true;
    }
    cidr.parse::<ipnet::Ipv4Net>().is_ok_and(is_private)
}
fn no_union_principal(c: &mut Checker<'_>, resources: &[Resource]) {
    let mut needles = vec![
        c.cx.union_account.to_string(),
        UNION_AWS_ACCOUNT_ID.to_string(),
    ];
    needles.extend(c.cx.union_identifiers.iter().cloned());
    needles.retain(|n| !n.is_empty());
    for r in resources {
        let text = r.settings.to_string();
        if let Some(n) = needles.iter().find(|n| text.contains(n.as_str())) {
            c.fail(Invariant::AdminTrust, r, "", "spec.model", format!("self-managed gives Union.ai no access, but this resource names Union.ai's `{n}`"));
        }
        if r.owner == Party::Union || r.stage == Party::Union {
            c.fail(
                Invariant::AdminTrust,
                r,
                "",
                "spec.model",
                "self-managed has no Union.ai-owned resource and no union stage",
            );
        }
    }
}
