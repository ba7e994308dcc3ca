//! Substitutes `${address.attribute}` references with values known from earlier applies.

use serde_json::Value;

use crate::plan::resource::references_in;

/// Where referenced values come from: state implements it with what it recorded; the
/// planner wraps it to hide the outputs of resources that this run will re-create.
pub trait Outputs {
    fn output(&self, address: &str, attribute: &str) -> Option<Value>;
}

impl<F: Fn(&str, &str) -> Option<Value>> Outputs for F {
    fn output(&self, address: &str, attribute: &str) -> Option<Value> {
        self(address, attribute)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("`{address}.{attribute}` is not known yet: `{address}` has not been applied")]
pub struct Unresolved {
    pub address: String,
    pub attribute: String,
}

/// The settings with every reference replaced, or the first reference that is not known.
/// A string that is exactly one reference takes the referenced value whatever its type (a
/// list of ids, a number); a reference inside a longer string is spliced in as text.
pub fn resolve(settings: &Value, known: &dyn Outputs) -> Result<Value, Unresolved> {
    let mut missing = None;
    let value = substitute(settings, known, &mut missing);
    match missing {
        Some(m) => Err(m),
        None => Ok(value),
    }
}

/// The settings with every known reference replaced and the unknown ones left as written
/// (`${…}`): values that will be "known after apply".
pub fn resolve_known(settings: &Value, known: &dyn Outputs) -> Value {
    substitute(settings, known, &mut None)
}

/// Whether a resolved value still holds a reference that was not known.
pub fn is_unknown(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains("${"),
        Value::Array(items) => items.iter().any(is_unknown),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains("${") || is_unknown(v)),
        _ => false,
    }
}

fn substitute(settings: &Value, known: &dyn Outputs, missing: &mut Option<Unresolved>) -> Value {
    match settings {
        Value::String(s) => substitute_str(s, known, missing),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| substitute(v, known, missing))
                .collect(),
        ),
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let key = match substitute_str(k, known, missing) {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                out.insert(key, substitute(v, known, missing));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn substitute_str(s: &str, known: &dyn Outputs, missing: &mut Option<Unresolved>) -> Value {
    let refs = references_in(s);
    if refs.is_empty() {
        return Value::String(s.to_string());
    }
    let mut lookup = |address: &str, attribute: &str| {
        let v = known.output(address, attribute);
        if v.is_none() && missing.is_none() {
            *missing = Some(Unresolved {
                address: address.into(),
                attribute: attribute.into(),
            });
        }
        v
    };
    if refs.len() == 1 && s == format!("${{{}.{}}}", refs[0].address, refs[0].attribute) {
        return lookup(&refs[0].address, &refs[0].attribute)
            .unwrap_or_else(|| Value::String(s.to_string()));
    }
    let mut out = s.to_string();
    for r in refs {
        if let Some(v) = lookup(&r.address, &r.attribute) {
            let text = match v {
                Value::String(t) => t,
                other => other.to_string(),
            };
            out = out.replace(&format!("${{{}.{}}}", r.address, r.attribute), &text);
        }
    }
    Value::String(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_references_are_replaced_and_unknown_ones_kept() {
        let known = |a: &str, at: &str| (a == "aws.vpc.main" && at == "id").then(|| json!("vpc-1"));
        let settings = json!({ "VpcId": "${aws.vpc.main.id}", "Arn": "x/${aws.subnet.a.id}", "Ids": ["${aws.vpc.main.id}"] });
        assert_eq!(
            resolve(&settings, &known),
            Err(Unresolved {
                address: "aws.subnet.a".into(),
                attribute: "id".into()
            })
        );
        let partial = resolve_known(&settings, &known);
        assert_eq!(
            partial,
            json!({ "VpcId": "vpc-1", "Arn": "x/${aws.subnet.a.id}", "Ids": ["vpc-1"] })
        );
        assert!(is_unknown(&partial["Arn"]) && !is_unknown(&partial["VpcId"]));
    }
}
