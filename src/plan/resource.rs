//! One resource of a plan: what it is, who owns it, which identity creates it, what it
//! sends to the cloud, and which security controls it implements.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::invariants::Invariant;
use super::ownership::Component;

/// The two parties of the ownership model. Used for both `owner` (who owns and operates
/// the resource) and `stage` (whose credentials create it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Party {
    Customer,
    Union,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Customer => "customer",
            Party::Union => "union",
        }
    }
    /// How the party is named in sentences.
    pub fn display_name(self) -> &'static str {
        match self {
            Party::Customer => "customer",
            Party::Union => "Union.ai",
        }
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `managed`: unionctl creates, updates and deletes it. `data`: it exists already (an
/// existing network, key or trail named in the profile) and is only read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Managed,
    Data,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// Stable address: `aws.eks_cluster.main`, or `data.aws.vpc.existing` for read-only data.
    pub address: String,
    /// Cloud and type: `aws.eks_cluster`.
    pub kind: String,
    /// The name the cloud knows it by (or will).
    pub name: String,
    pub mode: Mode,
    pub component: Component,
    pub owner: Party,
    pub stage: Party,
    /// Addresses this resource needs first: every `${address.attribute}` reference in
    /// `settings`, plus explicit ordering.
    pub depends_on: Vec<String>,
    /// The request fields, spelled as the cloud's API spells them. `${address.attribute}`
    /// marks a value known only once that resource exists.
    pub settings: Value,
    /// The security invariants (docs/security.md) this resource implements.
    pub controls: Vec<Invariant>,
}

impl Resource {
    pub fn cloud(&self) -> &str {
        self.kind.split('.').next().unwrap_or("")
    }
    /// The type without the cloud: `eks_cluster`.
    pub fn type_name(&self) -> &str {
        self.kind
            .split_once('.')
            .map_or(self.kind.as_str(), |(_, t)| t)
    }
    pub fn setting(&self, pointer: &str) -> Option<&Value> {
        self.settings.pointer(pointer)
    }
}

/// A resource as found in the cloud (read by a provider; the plan only compares it).
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// The cloud's id for it.
    pub id: String,
    /// Attributes other resources refer to.
    pub outputs: serde_json::Map<String, Value>,
    /// Live settings in the plan's shape: only the fields the provider reads back.
    pub settings: Value,
}

/// A reference to an attribute of another resource inside a settings string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub address: String,
    pub attribute: String,
}

/// Every `${address.attribute}` in `s`.
pub fn references_in(s: &str) -> Vec<Reference> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        if let Some(r) = parse_reference(&after[..end]) {
            out.push(r);
        }
        rest = &after[end + 1..];
    }
    out
}

fn parse_reference(inner: &str) -> Option<Reference> {
    let parts: Vec<&str> = inner.split('.').collect();
    let address_parts = if parts.first() == Some(&"data") { 4 } else { 3 };
    if parts.len() <= address_parts {
        return None;
    }
    Some(Reference {
        address: parts[..address_parts].join("."),
        attribute: parts[address_parts..].join("."),
    })
}

/// Every reference anywhere in a settings tree (string values and object keys).
pub fn references(value: &Value) -> Vec<Reference> {
    let mut out = Vec::new();
    let mut todo = vec![value];
    while let Some(v) = todo.pop() {
        match v {
            Value::String(s) => out.extend(references_in(s)),
            Value::Array(items) => todo.extend(items),
            Value::Object(map) => {
                for (k, v) in map {
                    out.extend(references_in(k));
                    todo.push(v);
                }
            }
            _ => {}
        }
    }
    out
}

/// `${address.attribute}` as written in settings.
pub fn reference(address: &str, attribute: &str) -> String {
    format!("${{{address}.{attribute}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_references_in_values_and_keys() {
        let v = serde_json::json!({
            "VpcId": "${aws.vpc.main.id}",
            "${aws.iam_openid_connect_provider.main.issuer_host}:sub": ["x"],
            "Arn": "${data.aws.kms_key.existing.arn}/x",
            "Plain": "no ${reference here",
        });
        let mut found: Vec<String> = references(&v)
            .into_iter()
            .map(|r| format!("{}|{}", r.address, r.attribute))
            .collect();
        found.sort();
        assert_eq!(
            found,
            vec![
                "aws.iam_openid_connect_provider.main|issuer_host",
                "aws.vpc.main|id",
                "data.aws.kms_key.existing|arn"
            ]
        );
    }
}
