//! Every IAM policy of every AWS plan, checked under AWS's real authorization rules. The
//! emulator accepts any policy, so this is where policies are proven: parliament (PyPI)
//! checks each action, resource ARN and condition key against AWS's service authorization
//! tables. `scripts/test` installs it into `.venv`.

mod common;
use common::python;

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use unionctl::plan::Plan;

/// Findings that mean real IAM would refuse a statement, or never let it allow anything.
const FATAL: &[&str] = &[
    "UNKNOWN_ACTION",
    "UNKNOWN_PREFIX",
    "UNKNOWN_CONDITION_FOR_ACTION",
    "RESOURCE_MISMATCH",
    "MALFORMED",
    "INVALID_ARN",
];

/// Findings of those types that are kept on purpose, with why: (source, issue, detail
/// contains, why).
const KEPT: &[(&str, &str, &str, &str)] = &[
    (
        "aws.iam_role.union_admin",
        "UNKNOWN_CONDITION_FOR_ACTION",
        "elasticloadbalancing:CreateAction for action elasticloadbalancing:AddTags",
        "parliament's tables predate the key; AWS documents it for exactly this use: \
         https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/tagging-resources-during-creation.html",
    ),
    (
        "aws.iam_role.union_admin",
        "RESOURCE_MISMATCH",
        "elasticloadbalancing:DeleteListener",
        "parliament looks up only the `listener/app` type of DeleteListener/ModifyListener and refuses every \
         `listener/net` ARN, even a complete one from AWS's documentation \
         (`parliament_refuses_every_network_listener_arn` below proves it)",
    ),
    (
        "aws.s3_bucket.",
        "UNKNOWN_CONDITION_FOR_ACTION",
        "s3:TlsVersion for action s3:InitiateReplication",
        "AWS's documented TLS-floor statement denies s3:* when s3:TlsVersion < 1.2; S3 Batch Replication's own \
         action has no TLS version to compare, and the aws:SecureTransport statement still refuses it without TLS",
    ),
    (
        "aws.s3_bucket.",
        "UNKNOWN_CONDITION_FOR_ACTION",
        "s3:TlsVersion for action s3:PutAccessPointPublicAccessBlock",
        "an account-level action that never matches a bucket ARN; listed only because the statement names s3:*",
    ),
];

/// The example profiles and variants of them: an existing network, an existing key, an
/// existing trail, and both at once in the other model.
fn profiles() -> Vec<(String, String)> {
    let byoc = std::fs::read_to_string("profiles/aws-byoc.yaml").unwrap();
    let sm = std::fs::read_to_string("profiles/aws-self-managed.yaml").unwrap();
    let network = (
        "    # existing: { networkId: ..., subnetIds: [...] }   # use a network you already have (read, never written)\n",
        "    existing: { networkId: vpc-0a1b2c3d4e5f60718, subnetIds: [subnet-0a1b2c3d, subnet-1a2b3c4d, subnet-2a3b4c5d] }\n",
    );
    let key = ("encryption: { key: create }", "encryption: { key: \"arn:aws:kms:us-east-2:482916350047:key/1234abcd-12ab-34cd-56ef-1234567890ab\" }");
    let trail = ("trail: create", "trail: org-trail");
    let edit = |text: &str, edits: &[(&str, &str)]| {
        let mut t = text.to_string();
        for (from, to) in edits {
            assert!(t.contains(from), "no `{from}`");
            t = t.replace(from, to);
        }
        t
    };
    vec![
        ("aws-byoc".into(), byoc.clone()),
        ("aws-self-managed".into(), sm.clone()),
        ("aws-byoc existing network".into(), edit(&byoc, &[network])),
        ("aws-byoc existing key".into(), edit(&byoc, &[key])),
        ("aws-byoc existing trail".into(), edit(&byoc, &[trail])),
        (
            "aws-self-managed existing network, key and trail".into(),
            edit(&sm, &[network, key, trail]),
        ),
    ]
}

fn plan_of(text: &str) -> Plan {
    let loaded = unionctl::profile::load_bytes(text.as_bytes(), Path::new("p.yaml")).unwrap();
    unionctl::clouds::plan(&loaded.profile, &loaded.digest).unwrap()
}

/// A well-formed value for `${address.attribute}`, as the resource will have it.
fn placeholder(address: &str, attribute: &str) -> String {
    let account = "482916350047";
    let region = "us-east-2";
    let name = address.rsplit('.').next().unwrap_or("x").replace('_', "-");
    let kind = address
        .trim_start_matches("data.")
        .rsplit_once('.')
        .map_or("", |(kind, _)| kind);
    match (kind, attribute) {
        ("aws.kms_key", "arn") => format!("arn:aws:kms:{region}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        ("aws.iam_role", "arn") => format!("arn:aws:iam::{account}:role/acme-prod-{name}"),
        ("aws.iam_policy", "arn") => format!("arn:aws:iam::{account}:policy/acme-prod-{name}"),
        ("aws.iam_openid_connect_provider", "arn") => format!("arn:aws:iam::{account}:oidc-provider/oidc.eks.{region}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"),
        ("aws.iam_openid_connect_provider", "issuer_host") => format!("oidc.eks.{region}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"),
        ("aws.s3_bucket", "arn") => format!("arn:aws:s3:::acme-prod-{name}"),
        ("aws.s3_bucket", "name") => format!("acme-prod-{name}"),
        ("aws.eks_cluster", "arn") => format!("arn:aws:eks:{region}:{account}:cluster/acme-prod"),
        ("aws.eks_cluster", "name") => "acme-prod".into(),
        ("local.external_id", "value") => "Xk9pQ2wErT5yU8iO3aS6dF1g".into(),
        (_, "arn") => panic!("no placeholder ARN for {address}"),
        _ => format!("{name}-{attribute}"),
    }
}

fn fill(v: &Value) -> Value {
    match v {
        Value::String(s) => {
            let mut out = s.clone();
            for r in unionctl::plan::resource::references_in(s) {
                out = out.replace(
                    &format!("${{{}.{}}}", r.address, r.attribute),
                    &placeholder(&r.address, &r.attribute),
                );
            }
            Value::String(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(fill).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    (
                        fill(&Value::String(k.clone()))
                            .as_str()
                            .unwrap()
                            .to_string(),
                        fill(v),
                    )
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Every policy document in a plan: identity policies, resource policies (buckets, keys)
/// and trust policies, with `${…}` filled.
fn policies(label: &str, plan: &Plan) -> Vec<Value> {
    let mut out = Vec::new();
    for r in plan.resources.iter().filter(|r| r.cloud() == "aws") {
        let mut todo = vec![(String::new(), &r.settings)];
        while let Some((path, v)) = todo.pop() {
            if let Value::Object(m) = v {
                if m.contains_key("Statement") {
                    let kind = if path.ends_with("AssumeRolePolicyDocument") {
                        "trust"
                    } else if matches!(r.kind.as_str(), "aws.s3_bucket" | "aws.kms_key") {
                        "resource"
                    } else {
                        "identity"
                    };
                    let mut document = fill(v);
                    if kind == "trust" {
                        // A trust policy's resource is the role itself.
                        let role = format!("arn:aws:iam::482916350047:role/{}", r.name);
                        for st in document["Statement"].as_array_mut().into_iter().flatten() {
                            st["Resource"] = json!(role);
                        }
                    }
                    out.push(json!({ "source": format!("{label}: {}{path}", r.address), "kind": kind, "document": document }));
                    continue;
                }
                for (k, child) in m {
                    todo.push((format!("{path}/{k}"), child));
                }
            }
        }
    }
    out
}

fn lint(policies: &[Value]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policies.json");
    std::fs::write(&file, serde_json::to_vec(policies).unwrap()).unwrap();
    if let Some(keep) = std::env::var_os("UNIONCTL_KEEP_POLICIES") {
        std::fs::copy(&file, keep).unwrap();
    }
    let out = Command::new(python())
        .arg("tests/support/lint_iam.py")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "parliament failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

#[test]
fn every_aws_policy_is_valid_under_real_iam_rules() {
    let mut all = Vec::new();
    for (label, text) in profiles() {
        all.extend(policies(&label, &plan_of(&text)));
    }
    assert!(
        all.len() > 20,
        "the extraction found too few policies: {}",
        all.len()
    );
    let findings = lint(&all);
    let fatal: Vec<&Value> = findings
        .iter()
        .filter(|f| FATAL.contains(&f["issue"].as_str().unwrap_or("")))
        .filter(|f| {
            !KEPT.iter().any(|(src, issue, detail, _why)| {
                f["source"].as_str().unwrap_or("").contains(src)
                    && f["issue"] == *issue
                    && f["detail"].as_str().unwrap_or("").contains(detail)
            })
        })
        .collect();
    assert!(
        fatal.is_empty(),
        "{} finding(s) real IAM would act on:\n{}",
        fatal.len(),
        serde_json::to_string_pretty(&fatal).unwrap()
    );
    // Every exception is still needed: a stale one would hide the next real finding.
    for (src, issue, detail, _) in KEPT {
        assert!(
            findings
                .iter()
                .any(|f| f["source"].as_str().unwrap_or("").contains(src)
                    && f["issue"] == *issue
                    && f["detail"].as_str().unwrap_or("").contains(detail)),
            "the kept finding {issue} `{detail}` no longer occurs: remove it from KEPT"
        );
    }
    let kept = findings
        .iter()
        .filter(|f| FATAL.contains(&f["issue"].as_str().unwrap_or("")))
        .count();
    eprintln!(
        "{} policies linted; {} findings, {kept} of them kept on purpose (KEPT)",
        all.len(),
        findings.len()
    );
}

#[test]
fn the_linter_sees_what_real_iam_refuses() {
    // The check itself: a condition key an action does not have, an action that takes no
    // such resource, an unknown action.
    let bad = json!({ "Version": "2012-10-17", "Statement": [
        { "Effect": "Allow", "Action": "iam:DeleteRole", "Resource": "arn:aws:iam::123456789012:role/x", "Condition": { "StringEquals": { "iam:PermissionsBoundary": "arn:aws:iam::123456789012:policy/b" } } },
        { "Effect": "Allow", "Action": "eks:CreateCluster", "Resource": "arn:aws:eks:us-east-2:123456789012:cluster/x" },
        { "Effect": "Allow", "Action": "ec2:CreateTagz", "Resource": "*" }
    ]});
    let findings = lint(&[json!({ "source": "bad", "kind": "identity", "document": bad })]);
    let issues: Vec<&str> = findings
        .iter()
        .filter_map(|f| f["issue"].as_str())
        .collect();
    for expected in [
        "UNKNOWN_CONDITION_FOR_ACTION",
        "RESOURCE_MISMATCH",
        "UNKNOWN_ACTION",
    ] {
        assert!(
            issues.contains(&expected),
            "parliament did not report {expected}: {issues:?}"
        );
    }
}

#[test]
fn parliament_refuses_every_network_listener_arn() {
    // The defect behind one KEPT entry: a complete network-listener ARN, in the format of
    // AWS's service authorization reference, is a RESOURCE_MISMATCH for DeleteListener.
    // When parliament is fixed this test fails: then drop the entry.
    let arn = "arn:aws:elasticloadbalancing:us-east-2:123456789012:listener/net/my-lb/50dc6c495c0c9188/f2f7dc8efc522ab2";
    let doc = json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "elasticloadbalancing:DeleteListener", "Resource": arn }] });
    let findings = lint(&[json!({ "source": "listener", "kind": "identity", "document": doc })]);
    assert!(
        findings.iter().any(|f| f["issue"] == "RESOURCE_MISMATCH"),
        "{findings:?}"
    );
}
