use anyhow::{Context, Result};
use serde_json::{json, Map, Value};

use crate::cli::{DataFormat, OutputsArgs};
use crate::error::{ExitStatus, UserError};
use crate::profile::Model;
use crate::settings::Settings;
use crate::state::{write_atomically, State};

/// The hand-off after apply, and the `unionai/dataplane` Helm values.
pub fn hand_off(loaded: &crate::profile::LoadedProfile, state: &State) -> Value {
    let p = &loaded.profile;
    let out = |address: &str, attribute: &str| state.output(address, attribute).cloned().unwrap_or(Value::Null);
    let mut buckets = Map::new();
    for b in &p.spec.storage.buckets {
        buckets.insert(b.clone(), out(&format!("aws.s3_bucket.{}", b.replace('-', "_")), "name"));
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
            "worker": out("aws.iam_role.workload_worker", "arn"),
        },
    });
    if p.spec.model == Model::Byoc {
        doc["union_access"] = json!({
            "admin_role_arn": out("aws.iam_role.union_admin", "arn"),
            "external_id": p.spec.union.as_ref().and_then(|u| u.external_id.clone()).map(Value::String).unwrap_or_else(|| out("local.external_id.union", "value")),
            "endpoint_service_name": out("aws.vpc_endpoint_service.api", "service_name"),
        });
    }
    let bucket = |logical: &str| out(&format!("aws.s3_bucket.{}", logical.replace('-', "_")), "name");
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
            "WORKER_IAM_ROLE_ARN": out("aws.iam_role.workload_worker", "arn"),
        }
    });
    doc
}

pub fn run(args: OutputsArgs, settings: &Settings) -> Result<ExitStatus> {
    let ui = &settings.ui;
    let loaded = super::load_profile(&args.profile.profile, ui)?;
    super::require_aws(&loaded, "outputs")?;
    let paths = super::state_paths(settings, &loaded);
    let state = super::load_state(&paths, &loaded)?
        .ok_or_else(|| UserError::new("no state: nothing has been applied yet").hint(format!("run `unionctl apply --model {} -f {}`", loaded.profile.spec.model, loaded.path.display())))?;
    let doc = hand_off(&loaded, &state);
    let text = match args.format {
        DataFormat::Json => format!("{}\n", serde_json::to_string_pretty(&doc)?),
        DataFormat::Yaml => {
            let mut y = serde_saphyr::to_string(&doc).map_err(|e| UserError::new(format!("cannot render YAML: {e}")))?;
            if !y.ends_with('\n') {
                y.push('\n');
            }
            y
        }
    };
    ui.out(&text);
    if let Some(file) = &args.helm_values {
        let values = serde_saphyr::to_string(&doc["helm_values"]).map_err(|e| UserError::new(format!("cannot render YAML: {e}")))?;
        write_atomically(file, values.as_bytes()).with_context(|| format!("cannot write {}", file.display()))?;
        ui.status(&format!("Wrote the unionai/dataplane Helm values to {}", file.display()));
    }
    Ok(ExitStatus::Success)
}
