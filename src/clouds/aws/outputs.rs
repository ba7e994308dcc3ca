//! The AWS hand-off: what Union.ai (BYOC) or the customer's platform team needs after
//! apply, and the `unionai/dataplane` Helm values (`global.*` keys for AWS).

use serde_json::{json, Map, Value};

use crate::profile::{Model, Profile};
use crate::state::State;

/// The hand-off after apply, and the `unionai/dataplane` Helm values.
pub fn hand_off(p: &Profile, state: &State) -> Value {
    let out = |address: &str, attribute: &str| {
        state
            .output(address, attribute)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let mut buckets = Map::new();
    for b in &p.spec.storage.buckets {
        buckets.insert(
            b.clone(),
            out(&format!("aws.s3_bucket.{}", b.replace('-', "_")), "name"),
        );
    }
    let account = state
        .resources
        .get("aws.iam_role.cluster")
        .and_then(|r| r.outputs.get("arn"))
        .and_then(Value::as_str)
        .and_then(|arn| arn.split(':').nth(4))
        .map(String::from)
        .or_else(|| p.spec.cloud.aws.as_ref().map(|a| a.account_id.clone()))
        .unwrap_or_default();
    let mut doc = json!({
        "data_plane": p.metadata.name,
        "org": p.metadata.org,
        "model": p.spec.model,
        "cloud": p.spec.cloud.provider,
        "region": p.spec.cloud.region,
        "account_id": account,
        "cluster": {
            "name": out("aws.eks_cluster.main", "name"),
            "arn": out("aws.eks_cluster.main", "arn"),
            "endpoint": out("aws.eks_cluster.main", "endpoint"),
            "oidc_issuer": out("aws.eks_cluster.main", "oidc_issuer"),
        },
        "buckets": buckets,
        "workload_roles": {
            "backend": out("aws.iam_role.workload_backend", "arn"),
            "workers": workers(p, state),
        },
    });
    if p.spec.model == Model::Byoc {
        doc["union_access"] = json!({
            "admin_role_arn": out(super::plan::ADMIN_ROLE, "arn"),
            "external_id": p.spec.union.as_ref().and_then(|u| u.external_id.clone()).map(Value::String).unwrap_or_else(|| out(super::plan::EXTERNAL_ID, "value")),
            "endpoint_service_name": out("aws.vpc_endpoint_service.api", "service_name"),
        });
    }
    let bucket = |logical: &str| {
        out(
            &format!("aws.s3_bucket.{}", logical.replace('-', "_")),
            "name",
        )
    };
    doc["helm_values"] = json!({
        "global": {
            "CLUSTER_NAME": out("aws.eks_cluster.main", "name"),
            "ORG_NAME": p.metadata.org,
            "CONTROLPLANE_HOST": p.spec.control_plane.host,
            "METADATA_BUCKET": bucket("metadata"),
            "FAST_REGISTRATION_BUCKET": bucket("fast-registration"),
            "AWS_REGION": p.spec.cloud.region,
            "AWS_ACCOUNT_ID": account,
            "BACKEND_IAM_ROLE_ARN": out("aws.iam_role.workload_backend", "arn"),
            // One identity per tenant namespace, and where that namespace's task data goes
            // (the only prefix its identity may read and write).
            "NAMESPACES": p.spec.tenancy.namespaces.iter().map(|ns| {
                let metadata = bucket("metadata");
                (ns.clone(), json!({
                    "IAM_ROLE_ARN": out(&worker_address(ns), "arn"),
                    "RAW_OUTPUT_PREFIX": metadata.as_str().map(|b| format!("s3://{b}/{ns}/")),
                }))
            }).collect::<Map<String, Value>>(),
        }
    });
    doc
}

fn worker_address(ns: &str) -> String {
    format!(
        "aws.iam_role.workload_worker_{}",
        crate::plan::builder::address_name(ns)
    )
}

/// The role of each tenant namespace.
fn workers(p: &Profile, state: &State) -> Value {
    p.spec
        .tenancy
        .namespaces
        .iter()
        .map(|ns| {
            (
                ns.clone(),
                state
                    .output(&worker_address(ns), "arn")
                    .cloned()
                    .unwrap_or(Value::Null),
            )
        })
        .collect::<Map<String, Value>>()
        .into()
}
