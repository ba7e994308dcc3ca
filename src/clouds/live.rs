//! Live resources in the plan's shape, for every cloud whose API answers in JSON: what a
//! provider's read returns is compared, key by key, with the plan's settings.

use serde_json::{Map, Value};

/// The live resource in the plan's shape: every key the plan sets, with the live value.
///
/// `normal` is the desired settings as the API's own message would say them (the
/// desired JSON parsed into the client's type and written back): proto JSON leaves out
/// defaults and writes enums as numbers, so a live value equal to the normal one is
/// reported as the plan wrote it. `write_only` keys (create-time inputs the API does not
/// return) are taken as desired.
pub fn project(live: &Value, desired: &Value, normal: &Value, write_only: &[&str]) -> Value {
    project_at(live, desired, normal, write_only, "")
}

fn project_at(
    live: &Value,
    desired: &Value,
    normal: &Value,
    write_only: &[&str],
    path: &str,
) -> Value {
    match desired {
        Value::Object(d) => {
            let mut out = Map::new();
            for (k, dv) in d {
                let p = format!("{path}/{k}");
                if write_only.contains(&p.as_str()) {
                    out.insert(k.clone(), dv.clone());
                    continue;
                }
                let lv = live.get(k).unwrap_or(&Value::Null);
                let nv = normal.get(k).unwrap_or(&Value::Null);
                out.insert(k.clone(), project_at(lv, dv, nv, write_only, &p));
            }
            Value::Object(out)
        }
        Value::Array(d) => match live {
            Value::Array(l) if l.len() == d.len() => {
                let n = normal.as_array();
                Value::Array(
                    l.iter()
                        .zip(d)
                        .enumerate()
                        .map(|(i, (lv, dv))| {
                            project_at(
                                lv,
                                dv,
                                n.and_then(|n| n.get(i)).unwrap_or(&Value::Null),
                                write_only,
                                &format!("{path}/{i}"),
                            )
                        })
                        .collect(),
                )
            }
            Value::Null
                if same(normal, &Value::Null)
                    || normal.as_array().is_some_and(|a| a.is_empty()) =>
            {
                desired.clone()
            }
            other => other.clone(),
        },
        _ => {
            if same(live, normal) || same(live, desired) || same_link(live, desired) {
                desired.clone()
            } else if live.is_null() && desired.is_boolean() {
                // Proto JSON leaves `false` out.
                Value::Bool(false)
            } else {
                live.clone()
            }
        }
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::Number(n)) | (Value::Number(n), Value::String(x)) => {
            x == &n.to_string()
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Compute and GKE name one resource several ways: a full URL, a `projects/…` path, a bare
/// name (GKE's `network`), a region's URL for a region's name.
pub fn same_link(live: &Value, desired: &Value) -> bool {
    let (Some(l), Some(d)) = (live.as_str(), desired.as_str()) else {
        return false;
    };
    let tail = |s: &str| {
        s.split("/projects/")
            .last()
            .unwrap_or(s)
            .trim_start_matches("projects/")
            .to_string()
    };
    if l.contains('/') && d.contains('/') {
        return tail(l) == tail(d);
    }
    l.rsplit('/').next() == d.rsplit('/').next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn projection_reports_live_values_in_the_plans_shape() {
        let desired = json!({ "a": false, "b": { "c": "NO_SCHEDULE", "d": 3 }, "net": "https://www.googleapis.com/compute/v1/projects/p/global/networks/n", "only": "x" });
        let normal = json!({ "b": { "c": 2, "d": 3 }, "net": "https://www.googleapis.com/compute/v1/projects/p/global/networks/n", "only": "x" });
        let live = json!({ "b": { "c": 2, "d": "3" }, "net": "n", "extra": 1 });
        assert_eq!(project(&live, &desired, &normal, &["/only"]), desired);
        let drifted = json!({ "a": true, "b": { "c": 1, "d": 3 }, "net": "other" });
        assert_eq!(
            project(&drifted, &desired, &normal, &["/only"]),
            json!({ "a": true, "b": { "c": 1, "d": 3 }, "net": "other", "only": "x" })
        );
    }
}
