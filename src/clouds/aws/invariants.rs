//! AWS's security invariant checks, on settings as the plan writes them and as the
//! provider reads them back (so `verify` runs the same code on live resources).

use serde_json::Value;

use super::plan::{CLUSTER_LOG_TYPES, EGRESS_PORTS};
use crate::plan::invariants::{
    cidr_is_private, public_endpoint, str_of, strings, truthy, unverified, Checker, Invariant,
};
use crate::plan::ownership::Component;
use crate::plan::resource::{Mode, Resource};
use crate::profile::Model;

/// Checks of one resource's settings.
pub fn check_resource(c: &mut Checker<'_>, r: &Resource) {
    match r.kind.as_str() {
        "aws.eks_cluster" => cluster(c, r),
        "aws.s3_bucket" => bucket(c, r),
        "aws.launch_template" => {
            // Without it nodes get the security group EKS creates, which allows all egress.
            let groups = strings(r.setting("/LaunchTemplateData/SecurityGroupIds"));
            if groups.len() != 1
                || (groups[0].contains("${") && groups[0] != "${aws.security_group.cluster.id}")
            {
                c.fail(
                    Invariant::OutboundOnly,
                    r,
                    "/LaunchTemplateData/SecurityGroupIds",
                    "spec.network",
                    "nodes must run with the data plane's restricted security group only",
                );
            }
            let ebs = r.setting("/LaunchTemplateData/BlockDeviceMappings/0/Ebs");
            if !truthy(ebs.and_then(|e| e.get("Encrypted")))
                || ebs.and_then(|e| e.get("KmsKeyId")).is_none()
            {
                c.fail(
                    Invariant::EncryptionAtRest,
                    r,
                    "/LaunchTemplateData/BlockDeviceMappings/0/Ebs",
                    "spec.storage.encryption.key",
                    "node disks are not encrypted with the customer-managed key",
                );
            }
        }
        "aws.cloudtrail" => {
            if !truthy(r.setting("/IsMultiRegionTrail"))
                || !truthy(r.setting("/EnableLogFileValidation"))
            {
                c.fail(
                    Invariant::AuditLogging,
                    r,
                    "/IsMultiRegionTrail",
                    "spec.audit.trail",
                    "the trail must be multi-region with log-file validation",
                );
            }
            if r.setting("/KmsKeyId").is_none() {
                c.fail(
                    Invariant::EncryptionAtRest,
                    r,
                    "/KmsKeyId",
                    "spec.storage.encryption.key",
                    "the audit trail is not encrypted with the customer-managed key",
                );
            }
        }
        "aws.security_group" => security_group(c, r),
        "aws.vpc_endpoint_service" => {
            if !truthy(r.setting("/AcceptanceRequired")) {
                c.fail(
                    Invariant::OutboundOnly,
                    r,
                    "/AcceptanceRequired",
                    "spec.model",
                    "the endpoint service must require acceptance of each connection",
                );
            }
            let union_root = format!("arn:aws:iam::{}:root", c.cx.union_account);
            let principals = strings(r.setting("/AllowedPrincipals"));
            if principals.is_empty() || principals.iter().any(|p| *p != union_root) {
                c.fail(
                    Invariant::OutboundOnly,
                    r,
                    "/AllowedPrincipals",
                    "spec.union.awsAccountId",
                    format!("the endpoint service must allow only {union_root}"),
                );
            }
        }
        "aws.iam_role" => role(c, r),
        _ => {}
    }
    policies(c, r);
}

/// An existing key must be a customer-managed key of this account; an existing trail must
/// log every region with file validation. The profile gives a key's account when the key
/// is named by ARN; the rest is known once read (`KeyManager`, `IsLogging`, …).
pub fn check_existing(c: &mut Checker<'_>, r: &Resource) {
    match r.kind.as_str() {
        "aws.kms_key" => {
            let key = str_of(r.setting("/KeyId"));
            let account = r
                .setting("/AWSAccountId")
                .and_then(Value::as_str)
                .or_else(|| {
                    key.strip_prefix("arn:aws:kms:")
                        .and_then(|rest| rest.split(':').nth(1))
                });
            match account {
                Some(a) if a != c.cx.home || a == c.cx.union_account => {
                    let whose = if a == c.cx.union_account {
                        "Union.ai's account"
                    } else {
                        "another account"
                    };
                    c.fail(
                        Invariant::EncryptionAtRest,
                        r,
                        "/KeyId",
                        "spec.storage.encryption.key",
                        format!(
                            "the key is in {whose} ({a}), not this data plane's account {}",
                            c.cx.home
                        ),
                    );
                }
                Some(_) => {}
                None => unverified(
                    c,
                    Invariant::EncryptionAtRest,
                    r,
                    "spec.storage.encryption.key",
                    "the key's account and that it is customer-managed",
                ),
            }
            match r.setting("/KeyManager").and_then(Value::as_str) {
                Some("CUSTOMER") => {}
                Some(other) => c.fail(
                    Invariant::EncryptionAtRest,
                    r,
                    "/KeyManager",
                    "spec.storage.encryption.key",
                    format!("the key is managed by {other}, not the customer"),
                ),
                None if account.is_some() => unverified(
                    c,
                    Invariant::EncryptionAtRest,
                    r,
                    "spec.storage.encryption.key",
                    "that the key is customer-managed and enabled",
                ),
                None => {}
            }
            if r.setting("/KeyState")
                .and_then(Value::as_str)
                .is_some_and(|s| s != "Enabled")
            {
                c.fail(
                    Invariant::EncryptionAtRest,
                    r,
                    "/KeyState",
                    "spec.storage.encryption.key",
                    "the key is not enabled",
                );
            }
        }
        "aws.cloudtrail" => {
            if r.setting("/IsLogging").is_none() {
                unverified(
                    c,
                    Invariant::AuditLogging,
                    r,
                    "spec.audit.trail",
                    "that the trail exists, logs every region and validates its files",
                );
            } else if !truthy(r.setting("/IsLogging"))
                || !truthy(r.setting("/IsMultiRegionTrail"))
                || !truthy(r.setting("/LogFileValidationEnabled"))
            {
                c.fail(
                    Invariant::AuditLogging,
                    r,
                    "/IsLogging",
                    "spec.audit.trail",
                    "the existing trail must be logging, multi-region and validate its log files",
                );
            }
        }
        _ => {}
    }
}

/// What must exist somewhere in an AWS plan: flow logs, a trail, and in BYOC the admin role.
pub fn check_plan(c: &mut Checker<'_>, resources: &[Resource]) {
    let has = |kind: &str| resources.iter().any(|r| r.kind == kind);
    let anchor = |kind: &str| resources.iter().find(|r| r.kind == kind).cloned();
    if let Some(vpc) = anchor("aws.vpc").or_else(|| anchor("aws.eks_cluster")) {
        if !has("aws.flow_log") {
            c.fail(
                Invariant::AuditLogging,
                &vpc,
                "",
                "spec.audit.flowLogs",
                "VPC flow logs are off",
            );
        }
        if !has("aws.cloudtrail") {
            c.fail(
                Invariant::AuditLogging,
                &vpc,
                "",
                "spec.audit.trail",
                "no CloudTrail trail covers the admin identity",
            );
        }
    }
    if c.cx.model == Model::Byoc {
        let has_admin = resources.iter().any(|r| {
            r.component == Component::AdminIdentity
                && r.kind == "aws.iam_role"
                && r.mode == Mode::Managed
        });
        if let (false, Some(first)) = (has_admin, resources.first()) {
            c.fail(
                Invariant::AdminTrust,
                first,
                "",
                "spec.model",
                "BYOC needs the admin identity, and the plan has none",
            );
        }
    }
}

fn cluster(c: &mut Checker<'_>, r: &Resource) {
    if !truthy(r.setting("/resourcesVpcConfig/endpointPrivateAccess")) {
        c.fail(
            Invariant::PrivateEndpoint,
            r,
            "/resourcesVpcConfig/endpointPrivateAccess",
            "spec.cluster.endpointAccess",
            "the private endpoint is off",
        );
    }
    if truthy(r.setting("/resourcesVpcConfig/endpointPublicAccess")) {
        public_endpoint(c, r, "/resourcesVpcConfig/endpointPublicAccess");
    }
    let keys = r
        .setting("/encryptionConfig")
        .and_then(Value::as_array)
        .map_or(0, |a| {
            a.iter()
                .filter(|e| {
                    e.pointer("/provider/keyArn").is_some()
                        && strings(e.get("resources")).contains(&"secrets")
                })
                .count()
        });
    if keys == 0 {
        c.fail(
            Invariant::EncryptionAtRest,
            r,
            "/encryptionConfig",
            "spec.storage.encryption.key",
            "cluster secrets are not envelope-encrypted with the customer-managed key",
        );
    }
    let mut enabled: Vec<&str> = Vec::new();
    for entry in r
        .setting("/logging/clusterLogging")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if truthy(entry.get("enabled")) {
            enabled.extend(strings(entry.get("types")));
        }
    }
    let missing: Vec<&&str> = CLUSTER_LOG_TYPES
        .iter()
        .filter(|t| !enabled.contains(t))
        .collect();
    if !missing.is_empty() {
        c.fail(
            Invariant::AuditLogging,
            r,
            "/logging/clusterLogging",
            "spec.audit.clusterLogs",
            format!(
                "control-plane log types off: {}",
                missing.iter().map(|s| **s).collect::<Vec<_>>().join(", ")
            ),
        );
    }
}

fn bucket(c: &mut Checker<'_>, r: &Resource) {
    let rule = r.setting("/ServerSideEncryptionConfiguration/Rules/0");
    let sse = rule.and_then(|x| x.pointer("/ApplyServerSideEncryptionByDefault"));
    if str_of(sse.and_then(|s| s.get("SSEAlgorithm"))) != "aws:kms"
        || sse.and_then(|s| s.get("KMSMasterKeyID")).is_none()
    {
        c.fail(
            Invariant::EncryptionAtRest,
            r,
            "/ServerSideEncryptionConfiguration",
            "spec.storage.encryption.key",
            "the bucket is not encrypted with SSE-KMS and the customer-managed key",
        );
    } else if !truthy(rule.and_then(|x| x.get("BucketKeyEnabled"))) {
        c.fail(
            Invariant::EncryptionAtRest,
            r,
            "/ServerSideEncryptionConfiguration/Rules/0/BucketKeyEnabled",
            "spec.storage.encryption.key",
            "the S3 bucket key is off",
        );
    }
    for flag in [
        "BlockPublicAcls",
        "IgnorePublicAcls",
        "BlockPublicPolicy",
        "RestrictPublicBuckets",
    ] {
        let pointer = format!("/PublicAccessBlockConfiguration/{flag}");
        if !truthy(r.setting(&pointer)) {
            c.fail(
                Invariant::NoPublicBuckets,
                r,
                &pointer,
                "spec.storage.blockPublicAccess",
                format!("public-access block flag {flag} is off"),
            );
        }
    }
    if str_of(r.setting("/ObjectOwnership")) != "BucketOwnerEnforced" {
        c.fail(
            Invariant::NoPublicBuckets,
            r,
            "/ObjectOwnership",
            "spec.storage.blockPublicAccess",
            "ACLs must be disabled (BucketOwnerEnforced)",
        );
    }
    let statements: Vec<&Value> = r
        .setting("/Policy/Statement")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let denies = |key: &str| {
        statements
            .iter()
            .filter(|s| str_of(s.get("Effect")) == "Deny")
            .filter_map(move |s| s.pointer("/Condition").map(|c| (c, key)))
            .filter_map(|(cond, key)| {
                cond.as_object()?
                    .values()
                    .find_map(|ops| ops.get(key).cloned())
            })
            .collect::<Vec<Value>>()
    };
    if !denies("aws:SecureTransport")
        .iter()
        .any(|v| v.as_str() == Some("false") || v.as_bool() == Some(false))
    {
        c.fail(
            Invariant::EncryptionInTransit,
            r,
            "/Policy",
            "spec.storage.minimumTlsVersion",
            "the bucket policy does not deny requests without TLS (aws:SecureTransport)",
        );
    }
    let tls_ok = denies("s3:TlsVersion").iter().any(|v| {
        let n = v
            .as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .or_else(|| v.as_f64());
        n.is_some_and(|n| n >= 1.2)
    });
    if !tls_ok {
        c.fail(
            Invariant::EncryptionInTransit,
            r,
            "/Policy",
            "spec.storage.minimumTlsVersion",
            "the bucket policy does not deny TLS below 1.2 (s3:TlsVersion)",
        );
    }
}

fn security_group(c: &mut Checker<'_>, r: &Resource) {
    for (i, perm) in r
        .setting("/IpPermissions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        for range in perm
            .get("IpRanges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let cidr = str_of(range.get("CidrIp"));
            if !cidr_is_private(cidr) {
                c.fail(
                    Invariant::OutboundOnly,
                    r,
                    &format!("/IpPermissions/{i}"),
                    "spec.network.ingress",
                    format!("ingress from {cidr}, which is not a private range"),
                );
            }
        }
        if perm
            .get("Ipv6Ranges")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            c.fail(
                Invariant::OutboundOnly,
                r,
                &format!("/IpPermissions/{i}"),
                "spec.network.ingress",
                "IPv6 ingress is not allowed",
            );
        }
    }
    for (i, perm) in r
        .setting("/IpPermissionsEgress")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let public = perm
            .get("IpRanges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|rg| !cidr_is_private(str_of(rg.get("CidrIp"))));
        if !public {
            continue;
        }
        let proto = perm
            .get("IpProtocol")
            .map(|v| v.to_string().trim_matches('"').to_string())
            .unwrap_or_default();
        let from = perm.get("FromPort").and_then(Value::as_u64);
        let to = perm.get("ToPort").and_then(Value::as_u64);
        let allowed = EGRESS_PORTS
            .iter()
            .any(|(p, port)| *p == proto && from == Some(*port as u64) && to == Some(*port as u64));
        if !allowed {
            c.fail(Invariant::OutboundOnly, r, &format!("/IpPermissionsEgress/{i}"), "spec.network", format!("egress to the internet on {proto} {from:?}-{to:?}; only 443 and 7844 are allowed"));
        }
    }
}

/// Trust of IAM roles: workload roles name exact service accounts; the admin role requires
/// the external ID.
fn role(c: &mut Checker<'_>, r: &Resource) {
    let statements = r
        .setting("/AssumeRolePolicyDocument/Statement")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, s) in statements.iter().enumerate() {
        let at = format!("/AssumeRolePolicyDocument/Statement/{i}");
        if strings(s.get("Action")).contains(&"sts:AssumeRoleWithWebIdentity") {
            let subjects: Vec<String> = s
                .pointer("/Condition")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|ops| ops.iter())
                .flat_map(|(op, keys)| {
                    keys.as_object()
                        .into_iter()
                        .flatten()
                        .map(move |(k, v)| (op.clone(), k.clone(), v.clone()))
                })
                .filter(|(_, k, _)| k.ends_with(":sub"))
                .flat_map(|(op, _, v)| {
                    let values: Vec<String> =
                        strings(Some(&v)).into_iter().map(String::from).collect();
                    values.into_iter().map(move |x| format!("{op}|{x}"))
                })
                .collect();
            if subjects.is_empty() {
                c.fail(
                    Invariant::LeastPrivilege,
                    r,
                    &at,
                    "spec.tenancy.namespaces",
                    "web-identity trust names no service account subject",
                );
            }
            let namespaces: std::collections::BTreeSet<&str> = subjects
                .iter()
                .filter_map(|x| x.split(':').nth(2))
                .collect();
            if namespaces.len() > 1 {
                c.fail(Invariant::TenantIsolation, r, &at, "spec.tenancy.namespaces", format!("one identity is trusted by {} namespaces ({}): each namespace needs its own", namespaces.len(), namespaces.into_iter().collect::<Vec<_>>().join(", ")));
            }
            for sub in subjects {
                let (op, value) = sub.split_once('|').unwrap_or(("", &sub));
                let parts: Vec<&str> = value.split(':').collect();
                let explicit = op == "StringEquals"
                    && parts.len() == 4
                    && parts[0] == "system"
                    && parts[1] == "serviceaccount"
                    && !value.contains('*')
                    && !value.contains('?');
                if !explicit {
                    c.fail(Invariant::LeastPrivilege, r, &at, "spec.tenancy.namespaces", format!("workload trust must name exact system:serviceaccount:<namespace>:<sa> subjects, not `{value}`"));
                }
            }
        }
        if strings(s.pointer("/Principal/Service")).contains(&"pods.eks.amazonaws.com") {
            pod_identity_trust(c, r, s, &at);
        }
        let principal = s
            .pointer("/Principal/AWS")
            .map(|p| strings(Some(p)).join(","))
            .unwrap_or_default();
        if !principal.is_empty() {
            let needs_external_id =
                principal.contains(c.cx.union_account) || r.component == Component::AdminIdentity;
            let external_id = s
                .pointer("/Condition/StringEquals/sts:ExternalId")
                .map(|v| str_of(Some(v)).to_string())
                .unwrap_or_default();
            if needs_external_id && external_id.is_empty() {
                c.fail(
                    Invariant::AdminTrust,
                    r,
                    &format!("{at}/Condition"),
                    "spec.union.externalId",
                    "the admin trust does not require sts:ExternalId",
                );
            }
            if principal.contains('*') {
                c.fail(
                    Invariant::AdminTrust,
                    r,
                    &format!("{at}/Principal"),
                    "spec.union.awsAccountId",
                    "the trust names a wildcard principal",
                );
            }
        }
    }
}

/// Every IAM policy document in a resource's settings: no `*` action on `*` resource;
/// workload policies name only this data plane's buckets.
/// EKS Pod Identity trust: the session tags EKS sets name this data plane's cluster, one
/// namespace and exact service accounts.
fn pod_identity_trust(c: &mut Checker<'_>, r: &Resource, s: &Value, at: &str) {
    let equals = |key: &str| {
        strings(s.pointer(&format!(
            "/Condition/StringEquals/{}",
            key.replace('/', "~1")
        )))
    };
    let cluster = equals("aws:RequestTag/eks-cluster-arn");
    let namespaces = equals("aws:RequestTag/kubernetes-namespace");
    let accounts = equals("aws:RequestTag/kubernetes-service-account");
    let own_cluster = format!(":cluster/{}", c.cx.prefix);
    if cluster.len() != 1 || !cluster[0].ends_with(&own_cluster) {
        c.fail(Invariant::LeastPrivilege, r, &format!("{at}/Condition"), "metadata.name", "the Pod Identity trust must name this data plane's cluster (aws:RequestTag/eks-cluster-arn)");
    }
    if namespaces.is_empty()
        || accounts.is_empty()
        || namespaces
            .iter()
            .chain(&accounts)
            .any(|v| v.contains('*') || v.contains('?'))
    {
        c.fail(Invariant::LeastPrivilege, r, &format!("{at}/Condition"), "spec.tenancy.namespaces", "the Pod Identity trust must name exact namespaces and service accounts (StringEquals on aws:RequestTag/kubernetes-namespace and kubernetes-service-account)");
    }
    if namespaces.len() > 1 {
        c.fail(
            Invariant::TenantIsolation,
            r,
            &format!("{at}/Condition"),
            "spec.tenancy.namespaces",
            format!(
                "one identity is trusted by {} namespaces ({}): each namespace needs its own",
                namespaces.len(),
                namespaces.join(", ")
            ),
        );
    }
}

/// The one namespace a workload role's trust names, if it names exactly one.
fn trusted_namespace(r: &Resource) -> Option<String> {
    let statements = r
        .setting("/AssumeRolePolicyDocument/Statement")
        .and_then(Value::as_array)?;
    let mut found = std::collections::BTreeSet::new();
    for s in statements {
        found.extend(
            strings(s.pointer("/Condition/StringEquals/aws:RequestTag~1kubernetes-namespace"))
                .into_iter()
                .map(String::from),
        );
        for (k, v) in s
            .pointer("/Condition/StringEquals")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if k.ends_with(":sub") {
                found.extend(
                    strings(Some(v))
                        .iter()
                        .filter_map(|x| x.split(':').nth(2))
                        .map(String::from),
                );
            }
        }
    }
    (found.len() == 1).then(|| found.into_iter().next().unwrap_or_default())
}

/// The admin identity's policy: no trust authoring, no tagging outside a create, changes
/// only to what carries Union.ai's ownership tags, key grants only for AWS services.
fn admin_policy(c: &mut Checker<'_>, r: &Resource, at: &str, s: &Value) {
    let actions = strings(s.get("Action"));
    let resources = strings(s.get("Resource"));
    let cond = |path: &str| s.pointer(path).is_some();
    let tag_cond = |kind: &str| {
        cond(&format!(
            "/Condition/StringEquals/{kind}~1{}",
            crate::plan::builder::TAG_OWNER.replace('/', "~1")
        )) && cond(&format!(
            "/Condition/StringEquals/{kind}~1{}",
            crate::plan::builder::TAG_DATA_PLANE.replace('/', "~1")
        ))
    };
    let prefix = c.cx.prefix;
    // Tagging outside a create is allowed only on what already carries Union.ai's
    // ownership, restating it unchanged: a later edit of the profile's tags reaches its
    // own resources, and no tag brings anything else into its reach.
    let owned = |kind: &str| {
        let value = |tag: &str| {
            s.pointer(&format!(
                "/Condition/StringEquals/{kind}~1{}",
                tag.replace('/', "~1")
            ))
            .and_then(Value::as_str)
            .map(String::from)
        };
        value(crate::plan::builder::TAG_OWNER).as_deref() == Some("union")
            && value(crate::plan::builder::TAG_DATA_PLANE).as_deref() == Some(prefix)
    };
    let retags_own = owned("aws:ResourceTag") && owned("aws:RequestTag");
    let mut fail =
        |message: String| c.fail(Invariant::LeastPrivilege, r, at, "spec.model", message);
    const TRUST_AUTHORING: &[&str] = &[
        "iam:CreateRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:CreateOpenIDConnectProvider",
        "iam:UpdateRole",
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:CreateUser",
        "iam:CreateAccessKey",
    ];
    for a in &actions {
        if a.ends_with(":*") || *a == "*" || a.starts_with("iam:*") {
            fail(format!("the admin identity is granted `{a}`: every action of a service, including ones that change what it does not own"));
        }
        if TRUST_AUTHORING.iter().any(|t| t == a) {
            fail(format!(
                "the admin identity may `{a}`: it could author a trust or identity policy"
            ));
        }
        if *a == "ec2:CreateTags"
            && !cond("/Condition/StringEquals/ec2:CreateAction")
            && !retags_own
        {
            fail("ec2:CreateTags without ec2:CreateAction would let Union.ai tag existing resources into its reach".into());
        }
        if *a == "elasticloadbalancing:AddTags"
            && !cond("/Condition/StringEquals/elasticloadbalancing:CreateAction")
            && !retags_own
        {
            fail("elasticloadbalancing:AddTags without elasticloadbalancing:CreateAction would let Union.ai tag existing load balancers".into());
        }
        if matches!(
            *a,
            "ec2:DeleteTags" | "elasticloadbalancing:RemoveTags" | "eks:UntagResource"
        ) {
            fail(format!(
                "the admin identity may `{a}`: it could remove unionctl's ownership tags"
            ));
        }
        if *a == "kms:CreateGrant"
            && s.pointer("/Condition/Bool/kms:GrantIsForAWSResource")
                .and_then(|v| {
                    v.as_str()
                        .map(String::from)
                        .or_else(|| v.as_bool().map(|b| b.to_string()))
                })
                .as_deref()
                != Some("true")
        {
            fail("kms:CreateGrant without kms:GrantIsForAWSResource lets Union.ai grant the key to any principal".into());
        }
    }
    // A change on what this data plane does not name must be bound to what Union.ai
    // creates or owns, by the ownership tags (customer resources carry the data-plane tag
    // too, with owner `customer`).
    let read_only = |a: &str| {
        ["Describe", "List", "Get"]
            .iter()
            .any(|p| a.split(':').nth(1).is_some_and(|x| x.starts_with(p)))
    };
    // Named: a reference to one of the plan's resources, a name with the data plane's
    // prefix, or one key (keys have ids, not names; the key is the plan's own).
    let named = |res: &str| {
        res.contains("${")
            || res.ends_with(&format!(":cluster/{prefix}"))
            || res.contains(&format!("/{prefix}/"))
            || res.contains(&format!("/{prefix}-"))
            || (res.starts_with("arn:aws:kms:") && res.contains(":key/") && !res.contains('*'))
    };
    let unnamed = resources.iter().any(|res| !named(res));
    let changes: Vec<&&str> = actions
        .iter()
        .filter(|a| {
            !read_only(a)
                && !matches!(
                    **a,
                    "ec2:CreateTags"
                        | "elasticloadbalancing:AddTags"
                        | "iam:CreateServiceLinkedRole"
                )
        })
        .collect();
    if unnamed && !changes.is_empty() && !tag_cond("aws:ResourceTag") && !tag_cond("aws:RequestTag")
    {
        fail(format!("{} on resources this data plane does not name, without Union.ai's ownership tags as a condition", changes.iter().map(|a| **a).collect::<Vec<_>>().join(", ")));
    }
}

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
                            c.fail(
                                Invariant::LeastPrivilege,
                                r,
                                &format!("{path}/Statement/{i}"),
                                "spec",
                                "a policy allows every action on every resource",
                            );
                        }
                        if r.component == Component::WorkloadIdentity {
                            let own = format!("arn:aws:s3:::{}-", c.cx.prefix);
                            let tenant = trusted_namespace(r)
                                .filter(|ns| ns != crate::profile::names::PLATFORM_NAMESPACE);
                            for res in resources.iter().filter(|x| x.starts_with("arn:aws:s3:::")) {
                                if !res.starts_with(&own) || res.contains("*-") {
                                    c.fail(Invariant::TenantIsolation, r, &format!("{path}/Statement/{i}"), "spec.storage.buckets", format!("a workload identity reaches `{res}`, which is not a bucket of this data plane"));
                                }
                                // A tenant's identity reaches objects under its own prefix only.
                                if let Some(ns) = &tenant {
                                    let object = res.split_once('/').map(|(_, key)| key);
                                    if object.is_some_and(|key| !key.starts_with(&format!("{ns}/")))
                                    {
                                        c.fail(Invariant::TenantIsolation, r, &format!("{path}/Statement/{i}"), "spec.tenancy.namespaces", format!("namespace {ns}'s identity reaches `{res}`, outside its prefix `{ns}/`"));
                                    }
                                }
                            }
                        }
                        if r.component == Component::AdminIdentity && r.kind == "aws.iam_role" {
                            admin_policy(c, r, &format!("{path}/Statement/{i}"), s);
                        }
                    }
                    continue;
                }
                for (k, child) in map {
                    todo.push((
                        format!("{path}/{}", k.replace('~', "~0").replace('/', "~1")),
                        child,
                    ));
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
