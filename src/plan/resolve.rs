//! Substitutes `${address.attribute}` references with values recorded in state.

use serde_json::Value;

use crate::plan::resource::references_in;
use crate::state::State;

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("`{address}.{attribute}` is not known yet: `{address}` has not been applied")]
pub struct Unresolved {
    pub address: String,
    pub attribute: String,
}

/// The settings with every reference replaced. A string that is exactly one reference
/// takes the referenced value whatever its type (a list of ids, a number); a reference
/// inside a longer string is spliced in as text.
pub fn resolve(settings: &Value, state: &State) -> Result<Value, Unresolved> {
    Ok(match settings {
        Value::String(s) => resolve_str(s, state)?,
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(v, state)).collect::<Result<_, _>>()?),
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let key = match resolve_str(k, state)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                out.insert(key, resolve(v, state)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

fn resolve_str(s: &str, state: &State) -> Result<Value, Unresolved> {
    let refs = references_in(s);
    if refs.is_empty() {
        return Ok(Value::String(s.to_string()));
    }
    let lookup = |address: &str, attribute: &str| {
        state.output(address, attribute).cloned().ok_or_else(|| Unresolved { address: address.into(), attribute: attribute.into() })
    };
    if refs.len() == 1 && s == format!("${{{}.{}}}", refs[0].address, refs[0].attribute) {
        return lookup(&refs[0].address, &refs[0].attribute);
    }
    let mut out = s.to_string();
    for r in refs {
        let v = lookup(&r.address, &r.attribute)?;
        let text = match v {
            Value::String(t) => t,
            other => other.to_string(),
        };
        out = out.replace(&format!("${{{}.{}}}", r.address, r.attribute), &text);
    }
    Ok(Value::String(out))
}
