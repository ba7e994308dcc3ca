//! Checks a document against the profile's JSON Schema before deserializing it.
//!
//! serde stops at the first problem; a person fixing a profile wants every unknown key,
//! wrong type and bad enum value at once, each at its line. The JSON Schema generated from
//! the types in `schema.rs` is the single description of the structure: `unionctl schema`
//! prints it and this walker enforces it, so the two cannot disagree.

use std::sync::OnceLock;

use serde_json::Value as J;

use super::diagnostic::{did_you_mean, join, Diagnostic};
use super::schema::Profile;
use super::yaml::{Node, Value};

/// The profile's JSON Schema (draft 2020-12), generated once.
pub fn json_schema() -> &'static J {
    static SCHEMA: OnceLock<J> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let schema = schemars::schema_for!(Profile);
        serde_json::to_value(schema).expect("a generated schema serializes")
    })
}

/// Every structural problem of `root`.
pub fn check(root: &Node) -> Vec<Diagnostic> {
    check_and_repair(root, &J::Null).diagnostics
}

/// The structure check's findings, and what of the document can still be read.
pub struct Checked {
    pub diagnostics: Vec<Diagnostic>,
    /// The document without the parts that broke the schema (unknown fields dropped,
    /// invalid values removed), and with invalid or missing required fields taken from
    /// `skeleton` so that it deserializes: semantic checks then run on what did parse.
    pub repaired: J,
    /// Field paths whose value was removed or taken from the skeleton: semantic findings
    /// there are about a value the user did not write, and are not reported.
    pub replaced: Vec<String>,
}

/// Checks `root` against the schema, reporting every problem, and repairs what it can.
pub fn check_and_repair(root: &Node, skeleton: &J) -> Checked {
    let schema = json_schema();
    let mut w = Walk::default();
    let repaired = walk(root, schema, schema, "", Some(skeleton), &mut w).unwrap_or(J::Null);
    Checked {
        diagnostics: w.out,
        repaired,
        replaced: w.replaced,
    }
}

#[derive(Default)]
struct Walk {
    out: Vec<Diagnostic>,
    replaced: Vec<String>,
}

fn resolve<'s>(schema: &'s J, root: &'s J) -> &'s J {
    let mut s = schema;
    // `$ref` chains are short; the bound only guards against a cycle.
    for _ in 0..8 {
        match s
            .get("$ref")
            .and_then(J::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
        {
            Some(name) => match root.get("$defs").and_then(|d| d.get(name)) {
                Some(target) => s = target,
                None => break,
            },
            None => break,
        }
    }
    s
}

/// Checks one node; returns its valid part (`None` when the node itself is invalid).
fn walk(
    node: &Node,
    schema: &J,
    root: &J,
    path: &str,
    skeleton: Option<&J>,
    w: &mut Walk,
) -> Option<J> {
    let schema = resolve(schema, root);
    if let Some(branches) = schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))
        .and_then(J::as_array)
    {
        let mut best: Option<(Walk, Option<J>)> = None;
        for branch in branches {
            // `Option<T>` is `anyOf: [T, null]`; a null value for it is fine.
            let mut trial = Walk::default();
            let projection = walk(node, branch, root, path, skeleton, &mut trial);
            if trial.out.is_empty() {
                return projection;
            }
            let null_branch = resolve(branch, root).get("type").and_then(J::as_str) == Some("null");
            if !null_branch
                && best
                    .as_ref()
                    .is_none_or(|(b, _)| trial.out.len() < b.out.len())
            {
                best = Some((trial, projection));
            }
        }
        let (trial, projection) = best?;
        w.out.extend(trial.out);
        w.replaced.extend(trial.replaced);
        return projection;
    }

    if let Some(expected) = schema.get("type") {
        let types: Vec<&str> = match expected {
            J::String(t) => vec![t.as_str()],
            J::Array(ts) => ts.iter().filter_map(J::as_str).collect(),
            _ => vec![],
        };
        if !types.is_empty() && !types.iter().any(|t| matches_type(node, t)) {
            w.out.push(type_error(node, &types, path));
            return None;
        }
    }

    if let Some(allowed) = schema.get("enum").and_then(J::as_array) {
        let json = node.to_json();
        if !allowed.contains(&json) {
            let names: Vec<&str> = allowed.iter().filter_map(J::as_str).collect();
            let shown = scalar_text(node);
            let mut d = error(
                node,
                path,
                format!("`{shown}` is not one of: {}", names.join(", ")),
            );
            if let Some(s) = did_you_mean(&shown, names.iter().copied()) {
                d.hint = Some(format!("did you mean `{s}`?"));
            }
            w.out.push(d);
            return None;
        }
    }

    match &node.value {
        Value::Int(i) => {
            let (lo, hi) = integer_range(schema);
            if (*i as i128) < lo || (*i as i128) > hi {
                w.out.push(error(
                    node,
                    path,
                    format!("{i} is out of range ({lo}..={hi})"),
                ));
                return None;
            }
            Some(node.to_json())
        }
        Value::Map(entries) => {
            let props = schema.get("properties").and_then(J::as_object);
            let additional = schema.get("additionalProperties");
            let mut valid = serde_json::Map::new();
            for (key, key_mark, value) in entries {
                let child = join(path, key);
                let child_skeleton = skeleton.and_then(|s| s.get(key));
                let projection = match props.and_then(|p| p.get(key)) {
                    Some(sub) => walk(value, sub, root, &child, child_skeleton, w),
                    None => match additional {
                        Some(J::Bool(false)) => {
                            let known: Vec<&str> = props
                                .map(|p| p.keys().map(String::as_str).collect())
                                .unwrap_or_default();
                            let hint = match did_you_mean(key, known.iter().copied()) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None => format!("known fields here: {}", known.join(", ")),
                            };
                            w.out.push(Diagnostic {
                                severity: super::diagnostic::Severity::Error,
                                path: child,
                                mark: Some(*key_mark),
                                message: format!("unknown field `{key}`"),
                                hint: Some(hint),
                            });
                            continue;
                        }
                        Some(sub @ J::Object(_)) => {
                            walk(value, sub, root, &child, child_skeleton, w)
                        }
                        _ => Some(value.to_json()),
                    },
                };
                match projection {
                    Some(v) => {
                        valid.insert(key.clone(), v);
                    }
                    None => w.replaced.push(child),
                }
            }
            if let Some(required) = schema.get("required").and_then(J::as_array) {
                for name in required.iter().filter_map(J::as_str) {
                    if !entries.iter().any(|(k, _, _)| k == name) {
                        let where_ = if path.is_empty() {
                            "the profile".to_string()
                        } else {
                            format!("`{path}`")
                        };
                        w.out.push(
                            error(
                                node,
                                &join(path, name),
                                format!("missing required field `{name}` in {where_}"),
                            )
                            .with_hint(format!(
                                "add `{name}:`; `unionctl schema` describes every field"
                            )),
                        );
                    }
                    if !valid.contains_key(name) {
                        if let Some(v) = skeleton.and_then(|s| s.get(name)) {
                            valid.insert(name.to_string(), v.clone());
                            w.replaced.push(join(path, name));
                        }
                    }
                }
            }
            Some(J::Object(valid))
        }
        Value::Seq(items) => {
            let Some(item_schema) = schema.get("items") else {
                return Some(node.to_json());
            };
            let mut valid = Vec::with_capacity(items.len());
            let mut whole = true;
            for (i, item) in items.iter().enumerate() {
                let item_skeleton = skeleton.and_then(|s| s.get(i).or_else(|| s.get(0)));
                match walk(
                    item,
                    item_schema,
                    root,
                    &format!("{path}[{i}]"),
                    item_skeleton,
                    w,
                ) {
                    Some(v) => valid.push(v),
                    None => whole = false,
                }
            }
            // Dropping one item would shift the positions of the ones after it.
            whole.then_some(J::Array(valid))
        }
        _ => Some(node.to_json()),
    }
}

fn integer_range(schema: &J) -> (i128, i128) {
    let by_format = match schema.get("format").and_then(J::as_str) {
        Some("uint16") => (0, u16::MAX as i128),
        Some("uint32") => (0, u32::MAX as i128),
        Some("int32") => (i32::MIN as i128, i32::MAX as i128),
        _ => (i64::MIN as i128, i64::MAX as i128),
    };
    let lo = schema
        .get("minimum")
        .and_then(J::as_i64)
        .map_or(by_format.0, |m| (m as i128).max(by_format.0));
    let hi = schema
        .get("maximum")
        .and_then(J::as_i64)
        .map_or(by_format.1, |m| (m as i128).min(by_format.1));
    (lo, hi)
}

fn matches_type(node: &Node, t: &str) -> bool {
    matches!(
        (t, &node.value),
        ("string", Value::Str(_))
            | ("integer", Value::Int(_))
            | ("number", Value::Int(_) | Value::Float(_))
            | ("boolean", Value::Bool(_))
            | ("null", Value::Null)
            | ("object", Value::Map(_))
            | ("array", Value::Seq(_))
    )
}

fn type_name(t: &str) -> &str {
    match t {
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "true or false",
        "null" => "null",
        "object" => "a mapping",
        "array" => "a list",
        other => other,
    }
}

fn scalar_text(node: &Node) -> String {
    match &node.value {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Seq(_) => "[…]".into(),
        Value::Map(_) => "{…}".into(),
    }
}

fn type_error(node: &Node, types: &[&str], path: &str) -> Diagnostic {
    let wanted: Vec<&str> = types
        .iter()
        .filter(|t| **t != "null")
        .map(|t| type_name(t))
        .collect();
    let found = match &node.value {
        Value::Seq(_) | Value::Map(_) | Value::Null => node.type_name().to_string(),
        _ => format!("{} `{}`", node.type_name(), scalar_text(node)),
    };
    let d = error(
        node,
        path,
        format!("expected {}, found {found}", wanted.join(" or ")),
    );
    match (&node.value, types.contains(&"string")) {
        (Value::Int(_) | Value::Float(_) | Value::Bool(_), true) => {
            d.with_hint("quote it: YAML reads unquoted 1.30 as the number 1.3 and 0123 as 123")
        }
        (Value::Null, _) => d.with_hint("give it a value, or remove the key to use the default"),
        _ => d,
    }
}

fn error(node: &Node, path: &str, message: String) -> Diagnostic {
    Diagnostic {
        severity: super::diagnostic::Severity::Error,
        path: path.to_string(),
        mark: Some(node.mark),
        message,
        hint: None,
    }
}
