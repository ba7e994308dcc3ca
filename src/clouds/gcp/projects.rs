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
        None => format!("{} {}", d["role"].as_str().unwrap_or_default(), d["member"].as_str().unwrap_or_default()),
    }
}

fn audit_settings(policy: &Value, d: &Value) -> Option<Value> {
    let live = policy.get("auditConfigs")?.as_array()?.iter().find(|a| a.get("service") == d.get("service"))?;
    let normal = typed::<AuditConfig>(d.clone()).map(|a| to_json(&a)).unwrap_or_else(|_| d.clone());
    Some(project(live, d, &normal, &[]))
}

fn set_audit(policy: &mut Value, d: &Value, remove: bool) {
    let Some(m) = policy.as_object_mut() else { return };
    let configs = m.entry("auditConfigs").or_insert(json!([]));
    if let Some(list) = configs.as_array_mut() {
        list.retain(|a| a.get("service") != d.get("service"));
        if !remove {
            list.push(d.clone());
        }
    }
}

pub async fn read(p: &GcpProvider, r: &Resource, d: &Value) -> Result<Option<Observed>> {
    let live = policy::get(p, &Target::Project).await?;
    let settings = match r.type_name() {
        "project_iam_audit_config" => audit_settings(&live, d),
        _ => policy::settings(&live, d),
    };
    Ok(settings.map(|settings| Observed { id: id(d), outputs: Default::default(), settings }))
}

/// Creates or updates: both put the plan's entry into the policy.
pub async fn apply(p: &GcpProvider, r: &Resource, d: &Value) -> Result<Observed> {
    let audit = r.type_name() == "project_iam_audit_config";
    let live = policy::modify(p, &Target::Project, |pol| if audit { set_audit(pol, d, false) } else { policy::edit(pol, d, false) }).await?;
    let settings = if audit { audit_settings(&live, d) } else { policy::settings(&live, d) };
    Ok(Observed { id: id(d), outputs: Default::default(), settings: settings.unwrap_or_else(|| d.clone()) })
}

pub async fn delete(p: &GcpProvider, r: &ResourceState) -> Result<()> {
    let d = r.settings.clone();
    let audit = r.type_name() == "project_iam_audit_config";
    policy::modify(p, &Target::Project, |pol| if audit { set_audit(pol, &d, true) } else { policy::edit(pol, &d, true) }).await.map(|_| ())
}
