//! The GCP hand-off: what Union.ai (BYOC) or the customer's platform team needs after
//! apply, and the `unionai/dataplane` Helm values for GCP.

use serde_json::{json, Map, Value};

use crate::plan::builder::address_name;
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
    let gcp = p
        .spec
        .cloud
        .gcp
        .clone()
        .unwrap_or_else(|| crate::profile::schema::GcpProject {
            project_id: String::new(),
            project_number: String::new(),
        });
    let bucket = |logical: &str| {
        out(
            &format!("gcp.storage_bucket.{}", address_name(logical)),
            "name",
        )
    };
    let buckets: Map<String, Value> = p
        .spec
        .storage
        .buckets
        .iter()
        .map(|b| (b.clone(), bucket(b)))
        .collect();
    let email = |address: &str| out(address, "email");
    let worker = |ns: &str| format!("gcp.service_account.workload_worker_{}", address_name(ns));
    let mut doc = json!({
        "data_plane": p.metadata.name,
        "org": p.metadata.org,
        "model": p.spec.model,
        "cloud": p.spec.cloud.provider,
        "region": p.spec.cloud.region,
        "project_id": gcp.project_id,
        "project_number": gcp.project_number,
        "cluster": {
            "name": out("gcp.container_cluster.main", "name"),
            "self_link": out("gcp.container_cluster.main", "selfLink"),
            "private_endpoint": out("gcp.container_cluster.main", "privateClusterConfig.privateEndpoint"),
            "workload_pool": format!("{}.svc.id.goog", gcp.project_id),
        },
        "buckets": buckets,
        "workload_service_accounts": {
            "backend": email("gcp.service_account.workload_backend"),
            "workers": p.spec.tenancy.namespaces.iter().map(|ns| (ns.clone(), email(&worker(ns)))).collect::<Map<String, Value>>(),
        },
    });
    if p.spec.model == Model::Byoc {
        doc["union_access"] = json!({
            "service_account": email("gcp.service_account.unionai_administrator"),
            "workload_identity_provider": out("gcp.iam_workload_identity_pool_provider.unionai_aws", "name"),
            "service_attachment": out("gcp.compute_service_attachment.api", "selfLink"),
        });
    }
    let metadata = bucket("metadata");
    doc["helm_values"] = json!({
        "global": {
            "CLUSTER_NAME": out("gcp.container_cluster.main", "name"),
            "ORG_NAME": p.metadata.org,
            "CONTROLPLANE_HOST": p.spec.control_plane.host,
            "METADATA_BUCKET": metadata,
            "FAST_REGISTRATION_BUCKET": bucket("fast-registration"),
            "GCP_REGION": p.spec.cloud.region,
            "GCP_PROJECT_ID": gcp.project_id,
            "BACKEND_SERVICE_ACCOUNT": email("gcp.service_account.workload_backend"),
            // One Google service account per tenant namespace (its Kubernetes service
            // account is annotated with it), and the only prefix it may read and write.
            "NAMESPACES": p.spec.tenancy.namespaces.iter().map(|ns| {
                (ns.clone(), json!({
                    "SERVICE_ACCOUNT": email(&worker(ns)),
                    "RAW_OUTPUT_PREFIX": metadata.as_str().map(|b| format!("gs://{b}/{ns}/")),
                }))
            }).collect::<Map<String, Value>>(),
        }
    });
    doc
}
