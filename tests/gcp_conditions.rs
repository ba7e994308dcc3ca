//! GCP's conditions, evaluated: the workload-identity provider's attribute mapping and
//! condition on the assertions Union.ai (and others) would present, and the IAM conditions
//! that keep Union.ai's grants and each tenant's bucket access to their own resources.
//! cel-python (PyPI, installed into `.venv` by `scripts/test`) evaluates the CEL, with
//! GCP's `extract` and `api.getAttribute` as documented (tests/support/gcp_cel.py).

mod common;
use common::python;

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use unionctl::plan::Plan;

/// Evaluates each (expression, activation); returns the results in order.
fn evaluate(cases: &[(String, Value)]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cases.json");
    let doc: Vec<Value> = cases
        .iter()
        .map(|(e, a)| json!({ "expression": e, "activation": a }))
        .collect();
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let out = Command::new(python())
        .arg("tests/support/gcp_cel.py")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gcp_cel.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn plan() -> Plan {
    let loaded = unionctl::profile::load_file(Path::new("profiles/gcp-byoc.yaml")).unwrap();
    unionctl::clouds::plan(&loaded.profile, &loaded.digest).unwrap()
}

fn setting<'a>(plan: &'a Plan, address: &str, pointer: &str) -> &'a Value {
    plan.resource(address)
        .and_then(|r| r.setting(pointer))
        .unwrap_or_else(|| panic!("{address}{pointer}"))
}

/// Who signs in through the pool: the attribute mapping gives `attribute.aws_role`, then
/// the provider's condition decides.
#[test]
fn only_union_ais_role_in_union_ais_account_signs_in() {
    let plan = plan();
    let provider = "gcp.iam_workload_identity_pool_provider.unionai_aws";
    let mapping = setting(&plan, provider, "/attributeMapping/attribute.aws_role")
        .as_str()
        .unwrap()
        .to_string();
    let condition = setting(&plan, provider, "/attributeCondition")
        .as_str()
        .unwrap()
        .to_string();
    let union_role = "arn:aws:sts::479331373192:assumed-role/unionai-onboarding";
    let callers = [
        (format!("{union_role}/onboarding-session"), true),
        (
            "arn:aws:sts::479331373192:assumed-role/some-other-role/s".to_string(),
            false,
        ),
        (
            "arn:aws:sts::111122223333:assumed-role/unionai-onboarding/s".to_string(),
            false,
        ),
        (
            "arn:aws:iam::479331373192:user/unionai-onboarding".to_string(),
            false,
        ),
        // A role whose name only starts like Union.ai's.
        (
            "arn:aws:sts::479331373192:assumed-role/unionai-onboarding-copy/s".to_string(),
            false,
        ),
    ];
    let mapped = evaluate(
        &callers
            .iter()
            .map(|(arn, _)| (mapping.clone(), json!({ "assertion": { "arn": arn } })))
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        mapped[0],
        json!(union_role),
        "the documented mapping drops the session name"
    );
    let decided = evaluate(
        &mapped
            .iter()
            .map(|role| {
                (
                    condition.clone(),
                    json!({ "attribute": { "aws_role": role } }),
                )
            })
            .collect::<Vec<_>>(),
    );
    for ((arn, allowed), result) in callers.iter().zip(&decided) {
        assert_eq!(result, &json!(allowed), "{arn}: {result}");
    }
    // The mapping the plan had before (`extract('{role}/')`) yields `…:assumed-role` for
    // every caller: its condition could never hold, and Union.ai could never sign in.
    let old = evaluate(&[(
        "assertion.arn.extract('{role}/')".to_string(),
        json!({ "assertion": { "arn": callers[0].0 } }),
    )]);
    assert_eq!(old[0], json!("arn:aws:sts::479331373192:assumed-role"));
}

fn grant_condition(plan: &Plan, address: &str) -> String {
    setting(plan, address, "/condition/expression")
        .as_str()
        .unwrap()
        .to_string()
}

/// Union.ai's project-level grants reach this data plane's cluster and Private Service
/// Connect pieces, and nothing else of the project.
#[test]
fn union_ais_project_grants_reach_only_this_data_plane() {
    let plan = plan();
    let cluster = grant_condition(&plan, "gcp.project_iam_member.unionai_cluster");
    let network = grant_condition(&plan, "gcp.project_iam_member.unionai_network");
    let on = |name: &str| json!({ "resource": { "name": name, "type": "" } });
    let cases = [
        (
            &cluster,
            "projects/acme-ml-prod/locations/us-central1/clusters/acme-prod",
            true,
        ),
        (
            &cluster,
            "projects/acme-ml-prod/locations/us-central1/clusters/acme-prod/nodePools/gpu",
            true,
        ),
        (
            &cluster,
            "projects/acme-ml-prod/locations/us-central1",
            true,
        ), // create: checked on the location
        (
            &cluster,
            "projects/acme-ml-prod/locations/us-central1/clusters/payments",
            false,
        ),
        (
            &cluster,
            "projects/acme-ml-prod/locations/us-central1/clusters/acme-prod-2",
            false,
        ),
        (
            &network,
            "projects/acme-ml-prod/regions/us-central1/serviceAttachments/acme-prod-api",
            true,
        ),
        (
            &network,
            "projects/acme-ml-prod/regions/us-central1/forwardingRules/acme-prod-api",
            true,
        ),
        (
            &network,
            "projects/acme-ml-prod/regions/us-central1/forwardingRules/payments-lb",
            false,
        ),
        (
            &network,
            "projects/acme-ml-prod/regions/us-central1/serviceAttachments/other-api",
            false,
        ),
        (
            &network,
            "projects/acme-ml-prod/zones/us-central1-b/networkEndpointGroups/acme-prod-api",
            true,
        ),
        (
            &network,
            "projects/acme-ml-prod/regions/us-central1/targetTcpProxies/acme-prod-api",
            true,
        ),
        (
            &network,
            "projects/acme-ml-prod/zones/us-central1-c/networkEndpointGroups/acme-prod-api",
            false,
        ),
        // The data plane's own firewall rules, to read them (the role's only firewall
        // permission is `compute.firewalls.get`); nobody else's.
        (
            &network,
            "projects/acme-ml-prod/global/firewalls/acme-prod-egress-allow",
            true,
        ),
        (
            &network,
            "projects/acme-ml-prod/global/firewalls/payments-allow-all",
            false,
        ),
    ];
    let firewall: Vec<&str> = unionctl::clouds::gcp::plan::NETWORK_PERMISSIONS
        .iter()
        .copied()
        .filter(|p| p.starts_with("compute.firewalls."))
        .collect();
    assert_eq!(firewall, ["compute.firewalls.get"]);
    let results = evaluate(
        &cases
            .iter()
            .map(|(e, name, _)| (e.to_string(), on(name)))
            .collect::<Vec<_>>(),
    );
    for ((_, name, allowed), result) in cases.iter().zip(&results) {
        assert_eq!(result, &json!(allowed), "{name}: {result}");
    }
}

/// A tenant's identity reads, writes and lists under its namespace's prefix only; the
/// platform's identity has no condition.
#[test]
fn a_tenant_reaches_its_own_prefix_only() {
    let plan = plan();
    let condition = grant_condition(
        &plan,
        "gcp.storage_bucket_iam_member.worker_development_acme_prod_metadata",
    );
    let request = |name: &str, prefix: Option<&str>| {
        let api = prefix.map_or(
            json!({}),
            |p| json!({ "storage.googleapis.com/objectListPrefix": p }),
        );
        json!({ "resource": { "name": name }, "api": api })
    };
    let cases = [
        (
            request(
                "projects/_/buckets/acme-prod-metadata/objects/development/run-1/out.pb",
                None,
            ),
            true,
        ),
        (
            request(
                "projects/_/buckets/acme-prod-metadata/objects/production/run-1/out.pb",
                None,
            ),
            false,
        ),
        (
            request(
                "projects/_/buckets/acme-prod-metadata/objects/development-evil/x",
                None,
            ),
            false,
        ),
        (
            request(
                "projects/_/buckets/acme-prod-metadata",
                Some("development/"),
            ),
            true,
        ),
        (
            request("projects/_/buckets/acme-prod-metadata", Some("")),
            false,
        ),
        (
            request("projects/_/buckets/acme-prod-metadata", Some("production/")),
            false,
        ),
        (
            request(
                "projects/_/buckets/acme-prod-fast-registration/objects/development/x",
                None,
            ),
            false,
        ),
    ];
    let results = evaluate(
        &cases
            .iter()
            .map(|(a, _)| (condition.clone(), a.clone()))
            .collect::<Vec<_>>(),
    );
    for ((activation, allowed), result) in cases.iter().zip(&results) {
        assert_eq!(result, &json!(allowed), "{activation}: {result}");
    }
    assert!(plan
        .resource("gcp.storage_bucket_iam_member.backend_acme_prod_metadata")
        .unwrap()
        .setting("/condition")
        .is_none());
}
