//! Changes between the desired resources and what exists. Pure: the caller supplies what
//! state recorded and what was read live; rendering never computes a diff.

use serde_json::Value;

use super::resource::{Mode, Observed, Resource};
use super::Action;
use super::Change;

/// The changes when nothing exists yet: create every managed resource, read every data source.
pub fn against_nothing(resources: &[Resource]) -> Vec<Change> {
    resources
        .iter()
        .map(|r| Change {
            address: r.address.clone(),
            action: if r.mode == Mode::Data { Action::Read } else { Action::Create },
            owner: r.owner,
            stage: r.stage,
            before: Value::Null,
            after: r.settings.clone(),
            changed_paths: Vec::new(),
            replace_paths: Vec::new(),
            drift: false,
        })
        .collect()
}

/// JSON pointers where `live` and `desired` differ, looking only at what `live` has: a
/// provider reads back the fields it manages, and fields it cannot read are not drift.
/// Lists of scalars compare as sets (clouds reorder them); objects compare key by key.
pub fn changed_paths(live: &Value, desired: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(live, desired, String::new(), &mut out);
    out
}

fn walk(live: &Value, desired: &Value, path: String, out: &mut Vec<String>) {
    match (live, desired) {
        (Value::Object(l), Value::Object(d)) => {
            for (k, lv) in l {
                let child = format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
                walk(lv, d.get(k).unwrap_or(&Value::Null), child, out);
            }
        }
        (Value::Array(l), Value::Array(d)) => {
            if !same_list(l, d) {
                out.push(if path.is_empty() { "/".into() } else { path });
            }
        }
        _ => {
            if !same_scalar(live, desired) {
                out.push(if path.is_empty() { "/".into() } else { path });
            }
        }
    }
}

fn same_scalar(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    match (a, b) {
        // Clouds echo numbers as strings and back ("443" / 443, "1.2" / 1.2).
        (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => s.parse::<f64>().ok() == n.as_f64(),
        (Value::String(s), Value::Bool(x)) | (Value::Bool(x), Value::String(s)) => s.eq_ignore_ascii_case(&x.to_string()),
        // An empty list or map read back where nothing was asked for is no difference.
        (Value::Null, Value::Array(v)) | (Value::Array(v), Value::Null) => v.is_empty(),
        (Value::Null, Value::Object(m)) | (Value::Object(m), Value::Null) => m.is_empty(),
        _ => false,
    }
}

fn same_list(a: &[Value], b: &[Value]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let canon = |v: &[Value]| {
        let mut items: Vec<String> = v.iter().map(canonical).collect();
        items.sort();
        items
    };
    canon(a) == canon(b)
}

/// A key-order-independent text form, for comparing lists of objects as sets.
fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, String)> = m.iter().map(|(k, v)| (k.clone(), canonical(v))).collect();
            entries.sort();
            format!("{{{}}}", entries.iter().map(|(k, v)| format!("{k:?}:{v}")).collect::<Vec<_>>().join(","))
        }
        Value::Array(items) => {
            let mut parts: Vec<String> = items.iter().map(canonical).collect();
            parts.sort();
            format!("[{}]", parts.join(","))
        }
        Value::Number(n) => n.as_f64().map_or(n.to_string(), |f| f.to_string()),
        other => other.to_string(),
    }
}

/// Paths whose change the cloud cannot apply in place, per kind: the resource is replaced.
pub fn forces_replacement(kind: &str, path: &str) -> bool {
    const REPLACE: &[(&str, &str)] = &[
        ("aws.vpc", "/CidrBlock"),
        ("aws.subnet", "/CidrBlock"),
        ("aws.subnet", "/AvailabilityZone"),
        ("aws.eks_cluster", "/name"),
        ("aws.eks_cluster", "/encryptionConfig"),
        ("aws.eks_cluster", "/kubernetesNetworkConfig"),
        ("aws.eks_node_group", "/instanceTypes"),
        ("aws.eks_node_group", "/amiType"),
        ("aws.s3_bucket", "/Bucket"),
        ("aws.lb", "/Scheme"),
        ("aws.lb_target_group", "/Port"),
    ];
    REPLACE.iter().any(|(k, p)| *k == kind && path.starts_with(p))
}

/// Inputs of a diff against existing resources.
pub struct Known<'a> {
    /// Settings recorded in state after the last apply, by address.
    pub recorded: &'a std::collections::BTreeMap<String, crate::state::ResourceState>,
    /// Desired settings with references resolved from state (where possible), by address.
    pub resolved: &'a std::collections::HashMap<String, Value>,
    /// What was read live, by address (`None`: it is gone). Absent: not refreshed.
    pub live: &'a std::collections::HashMap<String, Option<Observed>>,
}

/// The changes that bring what exists to the desired resources.
pub fn against(resources: &[Resource], known: &Known<'_>) -> Vec<Change> {
    let mut changes = Vec::new();
    for r in resources {
        let after = known.resolved.get(&r.address).cloned().unwrap_or_else(|| r.settings.clone());
        let recorded = known.recorded.get(&r.address).filter(|s| !s.pending);
        let live = known.live.get(&r.address);
        let mut change = Change {
            address: r.address.clone(),
            action: Action::Create,
            owner: r.owner,
            stage: r.stage,
            before: Value::Null,
            after: after.clone(),
            changed_paths: Vec::new(),
            replace_paths: Vec::new(),
            drift: false,
        };
        if r.mode == Mode::Data {
            change.action = Action::Read;
            change.before = recorded.map_or(Value::Null, |s| s.settings.clone());
            changes.push(change);
            continue;
        }
        match (recorded, live) {
            (None, Some(Some(obs))) => {
                // Not in state but found by name or tag (an apply died before recording it):
                // apply will adopt it.
                change.before = obs.settings.clone();
                change.changed_paths = changed_paths(&obs.settings, &after);
                change.action = if change.changed_paths.is_empty() { Action::NoOp } else { Action::Update };
            }
            (None, _) => {}
            (Some(_), Some(None)) => {
                change.drift = true;
            }
            (Some(rec), Some(Some(obs))) => {
                change.before = obs.settings.clone();
                change.changed_paths = changed_paths(&obs.settings, &after);
                change.drift = !changed_paths(&obs.settings, &rec.settings).is_empty();
            }
            (Some(rec), None) => {
                change.before = rec.settings.clone();
                change.changed_paths = changed_paths(&rec.settings, &after);
            }
        }
        if recorded.is_some() && !matches!(live, Some(None)) {
            change.replace_paths = change.changed_paths.iter().filter(|p| forces_replacement(&r.kind, p)).cloned().collect();
            change.action = if change.changed_paths.is_empty() {
                Action::NoOp
            } else if change.replace_paths.is_empty() {
                Action::Update
            } else {
                Action::Replace
            };
        }
        changes.push(change);
    }
    let desired: std::collections::HashSet<&str> = resources.iter().map(|r| r.address.as_str()).collect();
    for (address, rec) in known.recorded {
        if desired.contains(address.as_str()) || rec.mode == Mode::Data {
            continue;
        }
        changes.push(Change {
            address: address.clone(),
            action: Action::Delete,
            owner: rec.owner,
            stage: rec.stage,
            before: rec.settings.clone(),
            after: Value::Null,
            changed_paths: Vec::new(),
            replace_paths: Vec::new(),
            drift: false,
        });
    }
    changes
}

/// Re-computes a plan's changes against state (and what was read live), and records which
/// state the plan was made against.
pub fn with_state(plan: &mut super::Plan, state: &crate::state::State, live: &std::collections::HashMap<String, Option<Observed>>) {
    let resolved: std::collections::HashMap<String, Value> = plan
        .resources
        .iter()
        .filter_map(|r| super::resolve::resolve(&r.settings, state).ok().map(|v| (r.address.clone(), v)))
        .collect();
    plan.resource_changes = against(&plan.resources, &Known { recorded: &state.resources, resolved: &resolved, live });
    plan.prior_state = Some(state.reference());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compares_only_what_was_read() {
        let live = json!({ "A": true, "B": { "C": "aws:kms" }, "L": ["x", "y"], "N": "443" });
        let desired = json!({ "A": true, "B": { "C": "aws:kms", "D": 1 }, "L": ["y", "x"], "N": 443, "Z": "not read" });
        assert!(changed_paths(&live, &desired).is_empty());
        let drifted = json!({ "A": false, "B": { "C": "AES256" }, "L": ["x"], "N": "443" });
        assert_eq!(changed_paths(&drifted, &desired), vec!["/A", "/B/C", "/L"]);
    }
}
