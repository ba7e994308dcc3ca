//! AWS's security invariant checks, on settings as the plan writes them and as the
//! provider reads them back (so `verify` runs the same code on live resources).

use serde_json::Value;

use super::plan::{CLUSTER_LOG_TYPES, EGRESS_PORTS};
use crate::plan::invariants::{cidr_is_private, public_endpoint, str_of, strings, truthy, Checker, Invariant};
use crate::plan::ownership::Component;
use crate::plan::resource::{Mode, Resource};
use crate::profile::Model;

/// Checks of one resource's settings.
pub fn check_resource(c: &mut Checker<'_>, r: &Resource) {
    match r.kind.as_str() {
        "aws.eks_cluster" => cluster(c, r),
        "aws.s3_bucket" => bucket(c, r),
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
        "aws.security_group" => security_group(c, r),
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
        "aws.iam_role" => role(c, r),
        _ => {}
    }
    policies(c, r);
}

/// What must exist somewhere in an AWS plan: flow logs, a trail, and in BYOC the admin role.
pub fn check_plan(c: &mut Checker<'_>, resources: &[Resource]) {
    let has = |kind: &str| resources.iter().any(|r| r.kind == kind);
    let anchor = |kind: &str| resources.iter().find(|r| r.kind == kind).cloned();
    if let Some(vpc) = anchor("aws.vpc").or_else(|| anchor("aws.eks_cluster")) {
        if !has("aws.flow_log") {
            c.fail(Invariant::AuditLogging, &vpc, "", "spec.audit.flowLogs", "VPC flow logs are off");
        }
        if !has("aws.cloudtrail") {
            c.fail(Invariant::AuditLogging, &vpc, "", "spec.audit.trail", "no CloudTrail trail covers the admin identity");
        }
    }
    if c.cx.model == Model::Byoc {
        let has_admin = resources.iter().any(|r| r.component == Component::AdminIdentity && r.kind == "aws.iam_role" && r.mode == Mode::Managed);
        if let (false, Some(first)) = (has_admin, resources.first()) {
            c.fail(Invariant::AdminTrust, first, "", "spec.model", "BYOC needs the admin identity, and the plan has none");
        }
    }
}

fn cluster(c: &mut Checker<'_>, r: &Resource) {
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
    let missing: Vec<&&str> = CLUSTER_LOG_TYPES.iter().filter(|t| !enabled.contains(t)).collect();
    if !missing.is_empty() {
        c.fail(Invariant::AuditLogging, r, "/logging/clusterLogging", "spec.audit.clusterLogs", format!("control-plane log types off: {}", missing.iter().map(|s| **s).collect::<Vec<_>>().join(", ")));
    }
}

fn bucket(c: &mut Checker<'_>, r: &Resource) {
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

fn security_group(c: &mut Checker<'_>, r: &Resource) {
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
        let allowed = EGRESS_PORTS.iter().any(|(p, port)| *p == proto && from == Some(*port as u64) && to == Some(*port as u64));
        if !allowed {
            c.fail(Invariant::OutboundOnly, r, &format!("/IpPermissionsEgress/{i}"), "spec.network", format!("egress to the internet on {proto} {from:?}-{to:?}; only 443 and 7844 are allowed"));
        }
    }
}

/// Trust of IAM roles: workload roles name exact service accounts; the admin role requires
/// the external ID.
fn role(c: &mut Checker<'_>, r: &Resource) {
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
            let needs_external_id = principal.contains(c.cx.union_account) || r.component == Component::AdminIdentity;
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
                        if r.component == Component::WorkloadIdentity {
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

