//! The security invariants of SPEC §6, checked on resource settings.
//!
//! The checks read the same settings shape whether it comes from a plan (what unionctl
//! will send) or from live resources read back from the cloud (`verify`), so there is one
//! implementation of each invariant. A violation names the invariant, the resource, the
//! setting, and the profile field that controls it.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::resource::{Mode, Resource};
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

    /// The number in SPEC §6.
    pub fn number(self) -> usize {
        Invariant::ALL.iter().position(|i| *i == self).map_or(0, |p| p + 1)
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
            Invariant::AdminTrust => "the admin trust is conditioned; no Union.ai principal in self-managed",
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
}

struct Checker<'a> {
    cx: &'a Context<'a>,
    out: Vec<Violation>,
}

impl Checker<'_> {
    fn fail(&mut self, inv: Invariant, r: &Resource, setting: &str, field: &str, message: impl Into<String>) {
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

fn truthy(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool).unwrap_or(false)
}

fn str_of(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or("")
}

/// Values of a field that may be a string or a list of strings (IAM's `Action`, `Resource`).
fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

/// Checks every invariant over `resources`; returns violations (errors and warnings).
pub fn check(resources: &[Resource], cx: &Context<'_>) -> Vec<Violation> {
    let mut c = Checker { cx, out: Vec::new() };
    let has = |kind: &str| resources.iter().any(|r| r.kind == kind);
    for r in resources {
        if r.mode == Mode::Data {
            continue;
        }
        match r.kind.as_str() {
            "aws.eks_cluster" => aws_cluster(&mut c, r),
            "aws.s3_bucket" => aws_bucket(&mut c, r),
            "aws.launch_template" => {
                let ebs = r.setting("/LaunchTemplateData/BlockDeviceMappings/0/Ebs");
                if !truthy(ebs.and_then(|e| e.get("Encrypted"))) || ebs.and_then(|e| e.get("KmsKeyId")).is_none() {
                    c.fail(Invariant::EncryptionAtRest, r, "/LaunchTemplateData/BlockDeviceMappings/0/Ebs", "spec.storage.encryption.key", "node disks are not encrypted with the customer-managed key");
                }
            }
            "aws.cloudtrail" => {
                if !truthy(r.setting("/IsMultiRegionTrail")) || !truthy(r.setting("/EnableLogFileValidation")) {
                    c.fail(Invariant::AuditLogging, r, "/IsMultiRegionTrail", "spec.audit.trail", "the trail must be multi-region with log-file validation");
                }
                if r.setting("/KmsKeyId").is_none() {
                    c.fail(Invariant::EncryptionAtRest, r, "/KmsKeyId", "spec.storage.encryption.key", "the audit trail is not encrypted with the customer-managed key");
                }
            }
            "aws.security_group" => aws_security_group(&mut c, r),
            "aws.vpc_endpoint_service" => {
                if !truthy(r.setting("/AcceptanceRequired")) {
                    c.fail(Invariant::OutboundOnly, r, "/AcceptanceRequired", "spec.model", "the endpoint service must require acceptance of each connection");
                }
                let union_root = format!("arn:aws:iam::{}:root", c.cx.union_account);
                let principals = strings(r.setting("/AllowedPrincipals"));
                if principals.is_empty() || principals.iter().any(|p| *p != union_root) {
                    c.fail(Invariant::OutboundOnly, r, "/AllowedPrincipals", "spec.union.awsAccountId", format!("the endpoint service must allow only {union_root}"));
                }
            }
            _ => {}
        }
        if r.kind == "aws.iam_role" {
            aws_role(&mut c, r);
        }
        policies(&mut c, r);
        match r.cloud() {
            "gcp" => gcp_resource(&mut c, r),
            "azure" => azure_resource(&mut c, r),
            _ => {}
        }
    }

    // Presence checks: what must exist somewhere in the plan.
    let cloud = resources.first().map(|r| r.cloud().to_string()).unwrap_or_default();
    let anchor = |kind: &str| resources.iter().find(|r| r.kind == kind).cloned();
    if cloud == "aws" {
        if let Some(vpc) = anchor("aws.vpc").or_else(|| anchor("aws.eks_cluster")) {
            if !has("aws.flow_log") {
                c.fail(Invariant::AuditLogging, &vpc, "", "spec.audit.flowLogs", "VPC flow logs are off");
            }
            if !has("aws.cloudtrail") {
                c.fail(Invariant::AuditLogging, &vpc, "", "spec.audit.trail", "no CloudTrail trail covers the admin identity");
            }
        }
    }
    if cloud == "gcp" && !has("gcp.project_iam_audit_config") {
        if let Some(first) = resources.first() {
            c.fail(Invariant::AuditLogging, first, "", "spec.audit.trail", "Cloud Audit Logs (data access) are not configured");
        }
    }
    if cloud == "azure" && !resources.iter().any(|r| r.kind == "azure.monitor_diagnostic_setting" && r.name.ends_with("activity-log") || r.address == "data.azure.monitor_diagnostic_setting.existing") {
        if let Some(first) = resources.first() {
            c.fail(Invariant::AuditLogging, first, "", "spec.audit.trail", "the subscription's Activity Log is not exported");
        }
    }
    if cx.model == Model::Byoc {
        let admin_kinds = ["aws.iam_role", "gcp.iam_workload_identity_pool_provider", "azure.federated_identity_credential"];
        let has_admin = resources.iter().any(|r| r.component == super::ownership::Component::AdminIdentity && admin_kinds.contains(&r.kind.as_str()));
        if !has_admin {
            if let Some(first) = resources.first() {
                c.fail(Invariant::AdminTrust, first, "", "spec.model", "BYOC needs the admin identity, and the plan has none");
            }
        }
    } else {
        no_union_principal(&mut c, resources);
    }
    c.out
}

fn aws_cluster(c: &mut Checker<'_>, r: &Resource) {
    if !truthy(r.setting("/resourcesVpcConfig/endpointPrivateAccess")) {
        c.fail(Invariant::PrivateEndpoint, r, "/resourcesVpcConfig/endpointPrivateAccess", "spec.cluster.endpointAccess", "the private endpoint is off");
    }
    if truthy(r.setting("/resourcesVpcConfig/endpointPublicAccess")) {
        public_endpoint(c, r, "/resourcesVpcConfig/endpointPublicAccess");
    }
    let keys = r.setting("/encryptionConfig").and_then(Value::as_array).map_or(0, |a| {
        a.iter().filter(|e| e.pointer("/provider/keyArn").is_some() && strings(e.get("resources")).contains(&"secrets")).count()
    });
    if keys == 0 {
        c.fail(Invariant::EncryptionAtRest, r, "/encryptionConfig", "spec.storage.encryption.key", "cluster secrets are not envelope-encrypted with the customer-managed key");
    }
    let mut enabled: Vec<&str> = Vec::new();
    for entry in r.setting("/logging/clusterLogging").and_then(Value::as_array).into_iter().flatten() {
        if truthy(entry.get("enabled")) {
            enabled.extend(strings(entry.get("types")));
        }
    }
    let missing: Vec<&&str> = super::aws::CLUSTER_LOG_TYPES.iter().filter(|t| !enabled.contains(t)).collect();
    if !missing.is_empty() {
        c.fail(Invariant::AuditLogging, r, "/logging/clusterLogging", "spec.audit.clusterLogs", format!("control-plane log types off: {}", missing.iter().map(|s| **s).collect::<Vec<_>>().join(", ")));
    }
}

fn public_endpoint(c: &mut Checker<'_>, r: &Resource, setting: &str) {
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

fn aws_bucket(c: &mut Checker<'_>, r: &Resource) {
    let rule = r.setting("/ServerSideEncryptionConfiguration/Rules/0");
    let sse = rule.and_then(|x| x.pointer("/ApplyServerSideEncryptionByDefault"));
    if str_of(sse.and_then(|s| s.get("SSEAlgorithm"))) != "aws:kms" || sse.and_then(|s| s.get("KMSMasterKeyID")).is_none() {
        c.fail(Invariant::EncryptionAtRest, r, "/ServerSideEncryptionConfiguration", "spec.storage.encryption.key", "the bucket is not encrypted with SSE-KMS and the customer-managed key");
    } else if !truthy(rule.and_then(|x| x.get("BucketKeyEnabled"))) {
        c.fail(Invariant::EncryptionAtRest, r, "/ServerSideEncryptionConfiguration/Rules/0/BucketKeyEnabled", "spec.storage.encryption.key", "the S3 bucket key is off");
    }
    for flag in ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"] {
        let pointer = format!("/PublicAccessBlockConfiguration/{flag}");
        if !truthy(r.setting(&pointer)) {
            c.fail(Invariant::NoPublicBuckets, r, &pointer, "spec.storage.blockPublicAccess", format!("public-access block flag {flag} is off"));
        }
    }
    if str_of(r.setting("/ObjectOwnership")) != "BucketOwnerEnforced" {
        c.fail(Invariant::NoPublicBuckets, r, "/ObjectOwnership", "spec.storage.blockPublicAccess", "ACLs must be disabled (BucketOwnerEnforced)");
    }
    let statements: Vec<&Value> = r.setting("/Policy/Statement").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
    let denies = |key: &str| statements.iter().filter(|s| str_of(s.get("Effect")) == "Deny").filter_map(move |s| s.pointer("/Condition").map(|c| (c, key))).filter_map(|(cond, key)| {
        cond.as_object()?.values().find_map(|ops| ops.get(key).cloned())
    }).collect::<Vec<Value>>();
    if !denies("aws:SecureTransport").iter().any(|v| v.as_str() == Some("false") || v.as_bool() == Some(false)) {
        c.fail(Invariant::EncryptionInTransit, r, "/Policy", "spec.storage.minimumTlsVersion", "the bucket policy does not deny requests without TLS (aws:SecureTransport)");
    }
    let tls_ok = denies("s3:TlsVersion").iter().any(|v| {
        let n = v.as_str().and_then(|s| s.parse::<f64>().ok()).or_else(|| v.as_f64());
        n.is_some_and(|n| n >= 1.2)
    });
    if !tls_ok {
        c.fail(Invariant::EncryptionInTransit, r, "/Policy", "spec.storage.minimumTlsVersion", "the bucket policy does not deny TLS below 1.2 (s3:TlsVersion)");
    }
}

fn aws_security_group(c: &mut Checker<'_>, r: &Resource) {
    for (i, perm) in r.setting("/IpPermissions").and_then(Value::as_array).into_iter().flatten().enumerate() {
        for range in perm.get("IpRanges").and_then(Value::as_array).into_iter().flatten() {
            let cidr = str_of(range.get("CidrIp"));
            if !cidr_is_private(cidr) {
                c.fail(Invariant::OutboundOnly, r, &format!("/IpPermissions/{i}"), "spec.network.ingress", format!("ingress from {cidr}, which is not a private range"));
            }
        }
        if perm.get("Ipv6Ranges").and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
            c.fail(Invariant::OutboundOnly, r, &format!("/IpPermissions/{i}"), "spec.network.ingress", "IPv6 ingress is not allowed");
        }
    }
    for (i, perm) in r.setting("/IpPermissionsEgress").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let public = perm.get("IpRanges").and_then(Value::as_array).into_iter().flatten().any(|rg| !cidr_is_private(str_of(rg.get("CidrIp"))));
        if !public {
            continue;
        }
        let proto = perm.get("IpProtocol").map(|v| v.to_string().trim_matches('"').to_string()).unwrap_or_default();
        let from = perm.get("FromPort").and_then(Value::as_u64);
        let to = perm.get("ToPort").and_then(Value::as_u64);
        let allowed = super::aws::EGRESS_PORTS.iter().any(|(p, port)| *p == proto && from == Some(*port as u64) && to == Some(*port as u64));
        if !allowed {
            c.fail(Invariant::OutboundOnly, r, &format!("/IpPermissionsEgress/{i}"), "spec.network", format!("egress to the internet on {proto} {from:?}-{to:?}; only 443 and 7844 are allowed"));
        }
    }
}

/// A CIDR that is private, or a reference resolved at apply time (the VPC's own range).
fn cidr_is_private(cidr: &str) -> bool {
    if cidr.contains("${") {
        return true;
    }
    cidr.parse::<ipnet::Ipv4Net>().is_ok_and(is_private)
}

/// Trust of IAM roles: workload roles name exact service accounts; the admin role requires
/// the external ID.
fn aws_role(c: &mut Checker<'_>, r: &Resource) {
    let statements = r.setting("/AssumeRolePolicyDocument/Statement").and_then(Value::as_array).cloned().unwrap_or_default();
    for (i, s) in statements.iter().enumerate() {
        let at = format!("/AssumeRolePolicyDocument/Statement/{i}");
        if strings(s.get("Action")).contains(&"sts:AssumeRoleWithWebIdentity") {
            let subjects: Vec<String> = s
                .pointer("/Condition")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|ops| ops.iter())
                .flat_map(|(op, keys)| keys.as_object().into_iter().flatten().map(move |(k, v)| (op.clone(), k.clone(), v.clone())))
                .filter(|(_, k, _)| k.ends_with(":sub"))
                .flat_map(|(op, _, v)| {
                    let values: Vec<String> = strings(Some(&v)).into_iter().map(String::from).collect();
                    values.into_iter().map(move |x| format!("{op}|{x}"))
                })
                .collect();
            if subjects.is_empty() {
                c.fail(Invariant::LeastPrivilege, r, &at, "spec.tenancy.namespaces", "web-identity trust names no service account subject");
            }
            for sub in subjects {
                let (op, value) = sub.split_once('|').unwrap_or(("", &sub));
                let parts: Vec<&str> = value.split(':').collect();
                let explicit = op == "StringEquals" && parts.len() == 4 && parts[0] == "system" && parts[1] == "serviceaccount" && !value.contains('*') && !value.contains('?');
                if !explicit {
                    c.fail(Invariant::LeastPrivilege, r, &at, "spec.tenancy.namespaces", format!("workload trust must name exact system:serviceaccount:<namespace>:<sa> subjects, not `{value}`"));
                }
            }
        }
        let principal = s.pointer("/Principal/AWS").map(|p| strings(Some(p)).join(",")).unwrap_or_default();
        if !principal.is_empty() {
            let needs_external_id = principal.contains(c.cx.union_account) || r.component == super::ownership::Component::AdminIdentity;
            let external_id = s.pointer("/Condition/StringEquals/sts:ExternalId").map(|v| str_of(Some(v)).to_string()).unwrap_or_default();
            if needs_external_id && external_id.is_empty() {
                c.fail(Invariant::AdminTrust, r, &format!("{at}/Condition"), "spec.union.externalId", "the admin trust does not require sts:ExternalId");
            }
            if principal.contains('*') {
                c.fail(Invariant::AdminTrust, r, &format!("{at}/Principal"), "spec.union.awsAccountId", "the trust names a wildcard principal");
            }
        }
    }
}

/// Every IAM policy document in a resource's settings: no `*` action on `*` resource;
/// workload policies name only this data plane's buckets.
fn policies(c: &mut Checker<'_>, r: &Resource) {
    let mut todo: Vec<(String, &Value)> = vec![(String::new(), &r.settings)];
    while let Some((path, v)) = todo.pop() {
        match v {
            Value::Object(map) => {
                if let Some(Value::Array(statements)) = map.get("Statement") {
                    if path.ends_with("AssumeRolePolicyDocument") {
                        continue;
                    }
                    for (i, s) in statements.iter().enumerate() {
                        if str_of(s.get("Effect")) != "Allow" {
                            continue;
                        }
                        let actions = strings(s.get("Action"));
                        let resources = strings(s.get("Resource"));
                        if actions.contains(&"*") && resources.contains(&"*") {
                            c.fail(Invariant::LeastPrivilege, r, &format!("{path}/Statement/{i}"), "spec", "a policy allows every action on every resource");
                        }
                        if r.component == super::ownership::Component::WorkloadIdentity {
                            let own = format!("arn:aws:s3:::{}-", c.cx.prefix);
                            for res in resources.iter().filter(|x| x.starts_with("arn:aws:s3:::")) {
                                if !res.starts_with(&own) || res.contains("*-") {
                                    c.fail(Invariant::TenantIsolation, r, &format!("{path}/Statement/{i}"), "spec.storage.buckets", format!("a workload identity reaches `{res}`, which is not a bucket of this data plane"));
                                }
                            }
                        }
                    }
                    continue;
                }
                for (k, child) in map {
                    todo.push((format!("{path}/{}", k.replace('~', "~0").replace('/', "~1")), child));
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    todo.push((format!("{path}/{i}"), child));
                }
            }
            _ => {}
        }
    }
}

/// Self-managed: no principal of Union.ai anywhere, in any setting.
fn no_union_principal(c: &mut Checker<'_>, resources: &[Resource]) {
    let mut needles = vec![c.cx.union_account.to_string(), UNION_AWS_ACCOUNT_ID.to_string()];
    needles.extend(c.cx.union_identifiers.iter().cloned());
    needles.retain(|n| !n.is_empty());
    for r in resources {
        let text = r.settings.to_string();
        if let Some(n) = needles.iter().find(|n| text.contains(n.as_str())) {
            c.fail(Invariant::AdminTrust, r, "", "spec.model", format!("self-managed gives Union.ai no access, but this resource names Union.ai's `{n}`"));
        }
        if r.owner == super::resource::Party::Union || r.stage == super::resource::Party::Union {
            c.fail(Invariant::AdminTrust, r, "", "spec.model", "self-managed has no Union.ai-owned resource and no union stage");
        }
    }
}

fn gcp_resource(c: &mut Checker<'_>, r: &Resource) {
    match r.type_name() {
        "container_cluster" => {
            if !truthy(r.setting("/privateClusterConfig/enablePrivateNodes")) {
                c.fail(Invariant::OutboundOnly, r, "/privateClusterConfig/enablePrivateNodes", "spec.cluster.endpointAccess", "nodes must have private addresses only");
            }
            if !truthy(r.setting("/privateClusterConfig/enablePrivateEndpoint")) {
                public_endpoint(c, r, "/privateClusterConfig/enablePrivateEndpoint");
            }
            if str_of(r.setting("/databaseEncryption/state")) != "ENCRYPTED" || r.setting("/databaseEncryption/keyName").is_none() {
                c.fail(Invariant::EncryptionAtRest, r, "/databaseEncryption", "spec.storage.encryption.key", "application-layer secrets encryption with the customer-managed key is off");
            }
            if !strings(r.setting("/loggingConfig/componentConfig/enableComponents")).contains(&"APISERVER") {
                c.fail(Invariant::AuditLogging, r, "/loggingConfig/componentConfig/enableComponents", "spec.audit.clusterLogs", "API server logs are off");
            }
            if str_of(r.setting("/workloadIdentityConfig/workloadPool")).is_empty() {
                c.fail(Invariant::TenantIsolation, r, "/workloadIdentityConfig", "spec.tenancy", "Workload Identity is off: pods would share the node's identity");
            }
        }
        "container_node_pool"
            if r.setting("/config/bootDiskKmsKey").is_none() => {
                c.fail(Invariant::EncryptionAtRest, r, "/config/bootDiskKmsKey", "spec.storage.encryption.key", "node boot disks are not encrypted with the customer-managed key");
            }
        "storage_bucket" => {
            if r.setting("/encryption/defaultKmsKeyName").is_none() {
                c.fail(Invariant::EncryptionAtRest, r, "/encryption/defaultKmsKeyName", "spec.storage.encryption.key", "the bucket has no customer-managed key");
            }
            if str_of(r.setting("/iamConfiguration/publicAccessPrevention")) != "enforced" {
                c.fail(Invariant::NoPublicBuckets, r, "/iamConfiguration/publicAccessPrevention", "spec.storage.blockPublicAccess", "public access prevention is not enforced");
            }
            if !truthy(r.setting("/iamConfiguration/uniformBucketLevelAccess/enabled")) {
                c.fail(Invariant::NoPublicBuckets, r, "/iamConfiguration/uniformBucketLevelAccess", "spec.storage.blockPublicAccess", "uniform bucket-level access is off (object ACLs possible)");
            }
        }
        "compute_subnetwork"
            if str_of(r.setting("/purpose")) != "PRIVATE_SERVICE_CONNECT" && !truthy(r.setting("/logConfig/enable")) => {
                c.fail(Invariant::AuditLogging, r, "/logConfig/enable", "spec.audit.flowLogs", "VPC flow logs are off");
            }
        "compute_firewall" => {
            let allows = r.setting("/allowed").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
            match str_of(r.setting("/direction")) {
                "INGRESS" if allows => {
                    for range in strings(r.setting("/sourceRanges")) {
                        if !cidr_is_private(range) {
                            c.fail(Invariant::OutboundOnly, r, "/sourceRanges", "spec.network.ingress", format!("ingress from {range}, which is not a private range"));
                        }
                    }
                }
                "EGRESS" if allows => {
                    let public = strings(r.setting("/destinationRanges")).iter().any(|d| !cidr_is_private(d));
                    if public {
                        for rule in r.setting("/allowed").and_then(Value::as_array).into_iter().flatten() {
                            let proto = str_of(rule.get("IPProtocol"));
                            let ports = strings(rule.get("ports"));
                            let ok = match proto {
                                "tcp" => !ports.is_empty() && ports.iter().all(|p| *p == "443" || *p == "7844"),
                                "udp" => !ports.is_empty() && ports.iter().all(|p| *p == "7844"),
                                _ => false,
                            };
                            if !ok {
                                c.fail(Invariant::OutboundOnly, r, "/allowed", "spec.network", format!("egress to the internet on {proto} {ports:?}; only 443 and 7844 are allowed"));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        "compute_service_attachment" => {
            if str_of(r.setting("/connectionPreference")) != "ACCEPT_MANUAL" {
                c.fail(Invariant::OutboundOnly, r, "/connectionPreference", "spec.model", "connections must be accepted by hand (ACCEPT_MANUAL)");
            }
            let accepted: Vec<&str> = r.setting("/consumerAcceptLists").and_then(Value::as_array).into_iter().flatten().map(|e| str_of(e.get("projectIdOrNum"))).collect();
            if accepted.is_empty() || accepted.iter().any(|p| p.is_empty() || !c.cx.union_identifiers_byoc.iter().any(|u| u == p)) {
                c.fail(Invariant::OutboundOnly, r, "/consumerAcceptLists", "spec.union.gcpProjectId", "the attachment must accept Union.ai's project only");
            }
        }
        "iam_workload_identity_pool_provider"
            if str_of(r.setting("/attributeCondition")).trim().is_empty() => {
                c.fail(Invariant::AdminTrust, r, "/attributeCondition", "spec.union", "the workload-identity pool is open: it needs an attribute condition");
            }
        "service_account_iam_binding" | "service_account_iam_member" => {
            let members: Vec<&str> = strings(r.setting("/members")).into_iter().chain(strings(r.setting("/member"))).collect();
            for m in members {
                if m.contains('*') || m.contains("svc.id.goog[") && m.contains("[/") {
                    c.fail(Invariant::LeastPrivilege, r, "/members", "spec.tenancy.namespaces", format!("workload trust must name exact namespaces and service accounts, not `{m}`"));
                }
            }
        }
        "project_iam_custom_role"
            if strings(r.setting("/role/includedPermissions")).iter().any(|p| p.contains('*')) => {
                c.fail(Invariant::LeastPrivilege, r, "/role/includedPermissions", "spec", "custom roles list permissions explicitly");
            }
        "project_iam_member" => {
            let role = str_of(r.setting("/role"));
            if role == "roles/owner" || role == "roles/editor" {
                c.fail(Invariant::LeastPrivilege, r, "/role", "spec", format!("{role} is a basic role: far more than needed"));
            }
        }
        _ => {}
    }
}

fn azure_resource(c: &mut Checker<'_>, r: &Resource) {
    match r.type_name() {
        "kubernetes_cluster" => {
            if !truthy(r.setting("/properties/apiServerAccessProfile/enablePrivateCluster")) {
                public_endpoint(c, r, "/properties/apiServerAccessProfile/enablePrivateCluster");
            }
            if !truthy(r.setting("/properties/securityProfile/azureKeyVaultKms/enabled")) {
                c.fail(Invariant::EncryptionAtRest, r, "/properties/securityProfile/azureKeyVaultKms", "spec.storage.encryption.key", "Key Vault KMS encryption of etcd is off");
            }
            if r.setting("/properties/diskEncryptionSetID").is_none() {
                c.fail(Invariant::EncryptionAtRest, r, "/properties/diskEncryptionSetID", "spec.storage.encryption.key", "node disks are not encrypted with the customer-managed key");
            }
            if !truthy(r.setting("/properties/oidcIssuerProfile/enabled")) || !truthy(r.setting("/properties/securityProfile/workloadIdentity/enabled")) {
                c.fail(Invariant::TenantIsolation, r, "/properties/securityProfile/workloadIdentity", "spec.tenancy", "workload identity is off");
            }
        }
        "storage_account" => {
            if truthy(r.setting("/properties/allowBlobPublicAccess")) {
                c.fail(Invariant::NoPublicBuckets, r, "/properties/allowBlobPublicAccess", "spec.storage.blockPublicAccess", "blob public access is allowed");
            }
            if !["TLS1_2", "TLS1_3"].contains(&str_of(r.setting("/properties/minimumTlsVersion"))) {
                c.fail(Invariant::EncryptionInTransit, r, "/properties/minimumTlsVersion", "spec.storage.minimumTlsVersion", "the storage account accepts TLS below 1.2");
            }
            if !truthy(r.setting("/properties/supportsHttpsTrafficOnly")) {
                c.fail(Invariant::EncryptionInTransit, r, "/properties/supportsHttpsTrafficOnly", "spec.storage.minimumTlsVersion", "the storage account accepts plain HTTP");
            }
            if str_of(r.setting("/properties/encryption/keySource")) != "Microsoft.Keyvault" {
                c.fail(Invariant::EncryptionAtRest, r, "/properties/encryption/keySource", "spec.storage.encryption.key", "the storage account has no customer-managed key");
            }
        }
        "storage_container"
            if str_of(r.setting("/properties/publicAccess")) != "None" => {
                c.fail(Invariant::NoPublicBuckets, r, "/properties/publicAccess", "spec.storage.blockPublicAccess", "the container allows anonymous reads");
            }
        "network_security_group" => {
            for (i, rule) in r.setting("/properties/securityRules").and_then(Value::as_array).into_iter().flatten().enumerate() {
                let p = rule.get("properties").cloned().unwrap_or(Value::Null);
                if str_of(p.get("access")) != "Allow" {
                    continue;
                }
                let at = format!("/properties/securityRules/{i}");
                match str_of(p.get("direction")) {
                    "Inbound" => {
                        let src = str_of(p.get("sourceAddressPrefix"));
                        let private = src == "VirtualNetwork" || src == "AzureLoadBalancer" || cidr_is_private(src);
                        if !private {
                            c.fail(Invariant::OutboundOnly, r, &at, "spec.network.ingress", format!("inbound from {src}, which is not private"));
                        }
                    }
                    "Outbound" => {
                        let dst = str_of(p.get("destinationAddressPrefix"));
                        let port = str_of(p.get("destinationPortRange"));
                        let proto = str_of(p.get("protocol"));
                        let to_internet = dst == "Internet" || dst == "*" || (!dst.is_empty() && !cidr_is_private(dst) && dst != "VirtualNetwork");
                        let ok = matches!((proto, port), ("Tcp", "443") | ("Tcp", "7844") | ("Udp", "7844"));
                        if to_internet && !ok {
                            c.fail(Invariant::OutboundOnly, r, &at, "spec.network", format!("egress to the internet on {proto} {port}; only 443 and 7844 are allowed"));
                        }
                    }
                    _ => {}
                }
            }
        }
        "private_link_service" => {
            let visible = strings(r.setting("/properties/visibility/subscriptions"));
            let approved = strings(r.setting("/properties/autoApproval/subscriptions"));
            let union_only = |list: &[&str]| list.iter().all(|s| c.cx.union_identifiers_byoc.iter().any(|u| u == s) && !s.is_empty());
            if visible.is_empty() || visible.contains(&"*") || !union_only(&visible) || !union_only(&approved) {
                c.fail(Invariant::OutboundOnly, r, "/properties/visibility", "spec.union.azureSubscriptionId", "the Private Link service must be visible to and approved for Union.ai's subscription only");
            }
        }
        "federated_identity_credential" => {
            let subject = r.setting("/properties/subject").or_else(|| r.setting("/subject")).and_then(Value::as_str).unwrap_or("");
            let field = if r.component == super::ownership::Component::AdminIdentity { "spec.union.azureFederatedSubject" } else { "spec.tenancy.namespaces" };
            if subject.is_empty() || subject.contains('*') {
                let inv = if r.component == super::ownership::Component::AdminIdentity { Invariant::AdminTrust } else { Invariant::LeastPrivilege };
                c.fail(inv, r, "/properties/subject", field, format!("a federated credential must name an exact subject, not `{subject}`"));
            }
        }
        "role_definition"
            if r.setting("/properties/permissions").and_then(Value::as_array).into_iter().flatten().any(|p| strings(p.get("actions")).contains(&"*")) => {
                c.fail(Invariant::LeastPrivilege, r, "/properties/permissions", "spec", "a custom role allows every action");
            }
        "monitor_diagnostic_setting" if r.name.ends_with("aks-audit") => {
            let on = r.setting("/properties/logs").and_then(Value::as_array).into_iter().flatten().any(|l| str_of(l.get("category")) == "kube-audit" && truthy(l.get("enabled")));
            if !on {
                c.fail(Invariant::AuditLogging, r, "/properties/logs", "spec.audit.clusterLogs", "kube-audit logs are not exported");
            }
        }
        "network_watcher_flow_log"
            if !truthy(r.setting("/properties/enabled")) => {
                c.fail(Invariant::AuditLogging, r, "/properties/enabled", "spec.audit.flowLogs", "VNet flow logs are off");
            }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan_of(name: &str) -> (crate::profile::Profile, Vec<Resource>) {
        let text = std::fs::read_to_string(format!("profiles/{name}.yaml")).unwrap();
        let loaded = crate::profile::load_bytes(text.as_bytes(), std::path::Path::new("p.yaml")).unwrap();
        let resources = crate::plan::desired_resources(&loaded.profile).unwrap();
        (loaded.profile, resources)
    }

    fn violations(profile: &crate::profile::Profile, resources: &[Resource]) -> Vec<Invariant> {
        check(resources, &crate::plan::invariant_context(profile)).into_iter().filter(|v| !v.warning_only).map(|v| v.invariant).collect()
    }

    fn edit(resources: &mut [Resource], address: &str, pointer: &str, value: Value) {
        let r = resources.iter_mut().find(|r| r.address == address).unwrap();
        *r.settings.pointer_mut(pointer).unwrap() = value;
    }

    #[test]
    fn examples_hold_every_invariant() {
        for name in ["aws-byoc", "aws-self-managed", "gcp-byoc", "gcp-self-managed", "azure-byoc", "azure-self-managed"] {
            let (profile, resources) = plan_of(name);
            assert_eq!(violations(&profile, &resources), vec![], "{name}");
        }
    }

    #[test]
    fn admin_trust_without_external_id_is_refused() {
        let (profile, mut resources) = plan_of("aws-byoc");
        edit(&mut resources, "aws.iam_role.union_admin", "/AssumeRolePolicyDocument/Statement/0/Condition", json!({}));
        assert_eq!(violations(&profile, &resources), vec![Invariant::AdminTrust]);
        let (profile, mut resources) = plan_of("gcp-byoc");
        edit(&mut resources, "gcp.iam_workload_identity_pool_provider.unionai_aws", "/attributeCondition", json!(""));
        assert_eq!(violations(&profile, &resources), vec![Invariant::AdminTrust]);
        let (profile, mut resources) = plan_of("azure-byoc");
        edit(&mut resources, "azure.federated_identity_credential.unionai", "/subject", json!("*"));
        assert_eq!(violations(&profile, &resources), vec![Invariant::AdminTrust]);
    }

    #[test]
    fn a_union_principal_in_self_managed_is_refused() {
        let (profile, mut resources) = plan_of("aws-self-managed");
        edit(&mut resources, "aws.iam_role.node", "/AssumeRolePolicyDocument/Statement/0/Principal", json!({ "AWS": "arn:aws:iam::479331373192:root" }));
        assert!(violations(&profile, &resources).contains(&Invariant::AdminTrust));
    }

    #[test]
    fn workload_reaching_other_buckets_breaks_tenant_isolation() {
        let (profile, mut resources) = plan_of("aws-byoc");
        edit(&mut resources, "aws.iam_role.workload_worker", "/Policies/acme-prod-workload-worker-buckets/Statement/1/Resource", json!(["arn:aws:s3:::*"]));
        assert_eq!(violations(&profile, &resources), vec![Invariant::TenantIsolation]);
    }

    #[test]
    fn star_on_star_breaks_least_privilege() {
        let (profile, mut resources) = plan_of("aws-byoc");
        edit(&mut resources, "aws.iam_role.union_admin", "/Policies/acme-prod-union-ai-admin/Statement/1", json!({ "Effect": "Allow", "Action": "*", "Resource": "*" }));
        assert_eq!(violations(&profile, &resources), vec![Invariant::LeastPrivilege]);
    }

    #[test]
    fn endpoint_service_open_to_anyone_is_refused() {
        let (profile, mut resources) = plan_of("aws-byoc");
        edit(&mut resources, "aws.vpc_endpoint_service.api", "/AllowedPrincipals", json!(["*"]));
        edit(&mut resources, "aws.vpc_endpoint_service.api", "/AcceptanceRequired", json!(false));
        assert_eq!(violations(&profile, &resources), vec![Invariant::OutboundOnly, Invariant::OutboundOnly]);
    }
}
