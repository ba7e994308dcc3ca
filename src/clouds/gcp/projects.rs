//! Resource Manager: the project's IAM policy (`google-cloud-resourcemanager-v3`) — the
//! members the plan grants, each under its condition, and the Cloud Audit Logs config.

use anyhow::Result;
use google_cloud_iam_v1::model::AuditConfig;
use serde_json::{json, Value};

use super::policy::{self, Target};
use super::provider::{project, to_json, typed, GcpProvider};
use crate::exec::Observed;
use crate::plan::Resource;
use crate::state::ResourceState;

fn id(d: &Value) -> String {
    match d.get("service") {
        Some(service) => format!("auditConfigs/{}", service.as_str().unwrap_or_default()),
        None => format!(
            "{} {}",
            d["role"].as_str().unwrap_or_default(),
            d["member"].as_str().unwrap_or_default()
        ),
    }
}

fn audit_settings(policy: &Value, d: &Value) -> Option<Value> {
    let live = policy
        .get("auditConfigs")?
        .as_array()?
        .iter()
        .find(|a| a.get("service") == d.get("service"))?;
    let normal = typed::<AuditConfig>(d.clone())
        .map(|a| to_json(&a))
        .unwrap_or_else(|_| d.clone());
    Some(project(live, d, &normal, &[]))
}

/// Adds the plan's log types to the service's audit config, keeping what the project
/// already logs and whom it exempts.
fn set_audit(policy: &mut Value, d: &Value) {
    let Some(m) = policy.as_object_mut() else {
        return;
    };
    let configs = m.entry("auditConfigs").or_insert(json!([]));
    let Some(list) = configs.as_array_mut() else {
        return;
    };
    let Some(existing) = list
        .iter_mut()
        .find(|a| a.get("service") == d.get("service"))
    else {
        list.push(d.clone());
        return;
    };
    let logs = existing
        .as_object_mut()
        .map(|e| e.entry("auditLogConfigs").or_insert(json!([])));
    let Some(Value::Array(logs)) = logs else {
        return;
    };
    for wanted in d["auditLogConfigs"].as_array().into_iter().flatten() {
        let same_type = |l: &Value| {
            l.get("logType") == wanted.get("logType")
                || normal_log_type(l) == normal_log_type(wanted)
        };
        if !logs.iter().any(same_type) {
            logs.push(wanted.clone());
        }
    }
}

/// A log type by name (IAM answers them by number: ADMIN_READ 1, DATA_WRITE 2, DATA_READ 3).
fn normal_log_type(l: &Value) -> Option<String> {
    match l.get("logType")? {
        Value::Number(n) => [
            "LOG_TYPE_UNSPECIFIED",
            "ADMIN_READ",
            "DATA_WRITE",
            "DATA_READ",
        ]
        .get(n.as_u64()? as usize)
        .map(|s| s.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

pub async fn read(p: &GcpProvider, r: &Resource, d: &Value) -> Result<Option<Observed>> {
    let live = policy::get(p, &Target::Project).await?;
    let settings = match r.type_name() {
        "project_iam_audit_config" => audit_settings(&live, d),
        _ => policy::settings(&live, d),
    };
    Ok(settings.map(|settings| Observed {
        id: id(d),
        outputs: Default::default(),
        settings,
    }))
}

/// Creates or updates: both put the plan's entry into the policy.
pub async fn apply(p: &GcpProvider, r: &Resource, d: &Value) -> Result<Observed> {
    let audit = r.type_name() == "project_iam_audit_config";
    let live = policy::modify(p, &Target::Project, |pol| {
        if audit {
            set_audit(pol, d)
        } else {
            policy::edit(pol, d, false)
        }
    })
    .await?;
    let settings = if audit {
        audit_settings(&live, d)
    } else {
        policy::settings(&live, d)
    };
    Ok(Observed {
        id: id(d),
        outputs: Default::default(),
        settings: settings.unwrap_or_else(|| d.clone()),
    })
}

/// Removes the plan's grant. The audit config stays: what unionctl turned on may have been
/// on before it, and switching audit logs off is the customer's decision, not destroy's.
pub async fn delete(p: &GcpProvider, r: &ResourceState) -> Result<()> {
    if r.type_name() == "project_iam_audit_config" {
        return Ok(());
    }
    let d = r.settings.clone();
    policy::modify(p, &Target::Project, |pol| policy::edit(pol, &d, true))
        .await
        .map(|_| ())
}
