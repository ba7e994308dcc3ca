//! Changes between the desired resources and what exists: the one function that decides
//! what `plan` shows and `apply` executes. Pure: the caller supplies what state recorded,
//! what was read live and the cloud's lifecycle rules; rendering never computes a diff.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::cloud::CloudPlan;
use super::resolve::{resolve_known, Outputs};
use super::resource::{Mode, Observed, Party, Resource};
use super::{Action, Change};

/// What state recorded for one resource, as far as planning needs it.
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    pub kind: &'a str,
    pub mode: Mode,
    pub owner: Party,
    pub stage: Party,
    /// The settings last applied, references resolved.
    pub settings: &'a Value,
    /// An intent written before a create that was never confirmed (a killed run).
    pub pending: bool,
    /// What it depended on when recorded.
    pub depends_on: &'a [String],
    /// The cloud's id for it.
    pub id: &'a str,
}

/// What is known besides the desired resources.
pub struct Known<'a> {
    /// State's records, by address.
    pub recorded: BTreeMap<&'a str, Recorded<'a>>,
    /// Values of `${address.attribute}` recorded in state.
    pub outputs: &'a dyn Outputs,
    /// What was read live, by address (`None`: it is gone). Absent: not read.
    pub live: &'a HashMap<String, Option<Observed>>,
    /// How many objects a data-holding resource that would be deleted holds, as read live.
    pub contents: &'a HashMap<String, u64>,
}

fn change(
    address: &str,
    action: Action,
    owner: Party,
    stage: Party,
    before: Value,
    after: Value,
) -> Change {
    Change {
        address: address.to_string(),
        action,
        owner,
        stage,
        before,
        after,
        changed_paths: Vec::new(),
        replace_paths: Vec::new(),
        drift: false,
        depends_on: Vec::new(),
        holds: None,
        blocked: None,
    }
}

/// The changes when nothing exists yet: create every managed resource, read every data source.
pub fn against_nothing(resources: &[Resource]) -> Vec<Change> {
    resources
        .iter()
        .map(|r| {
            let action = if r.mode == Mode::Data {
                Action::Read
            } else {
                Action::Create
            };
            change(
                &r.address,
                action,
                r.owner,
                r.stage,
                Value::Null,
                r.settings.clone(),
            )
        })
        .collect()
}

/// The changes that bring what exists to the desired resources (given in dependency
/// order), and the deletes of what state records that the profile no longer wants.
///
/// A resource that will get a new identity in this run (replaced, or re-created because it
/// vanished) makes every reference to it unknown until apply: its dependents see their
/// referring settings change, and are replaced in turn where such a setting forces it.
/// Deleting or replacing what the cloud says holds data or identity is marked `blocked`.
pub fn changes(resources: &[Resource], known: &Known<'_>, cloud: &dyn CloudPlan) -> Vec<Change> {
    let mut renewed: HashSet<&str> = HashSet::new();
    // Attributes that an update in place of this run gives new values.
    let mut updated: HashMap<&str, &[&str]> = HashMap::new();
    let mut out = Vec::with_capacity(resources.len());
    for r in resources {
        let hide_renewed = |address: &str, attribute: &str| {
            if renewed.contains(address)
                || updated.get(address).is_some_and(|a| a.contains(&attribute))
            {
                None
            } else {
                known.outputs.output(address, attribute)
            }
        };
        let after = resolve_known(&r.settings, &hide_renewed);
        let recorded = known
            .recorded
            .get(r.address.as_str())
            .filter(|s| !s.pending);
        let live = known.live.get(&r.address);
        let mut c = change(
            &r.address,
            Action::Create,
            r.owner,
            r.stage,
            Value::Null,
            after.clone(),
        );
        if r.mode == Mode::Data {
            c.action = Action::Read;
            c.before = recorded.map_or(Value::Null, |s| s.settings.clone());
            out.push(c);
            continue;
        }
        match (recorded, live) {
            // Not in state but found by name or tag (an apply died before recording it):
            // apply adopts it.
            (None, Some(Some(obs))) => {
                c.before = obs.settings.clone();
                c.changed_paths = changed_paths(&obs.settings, &after);
            }
            (None, _) => {}
            // Recorded, and gone: re-created, and everything that refers to it follows.
            (Some(_), Some(None)) => c.drift = true,
            (Some(rec), Some(Some(obs))) => {
                // What the cloud reports, and for the settings it does not report back,
                // what the last apply sent: a profile change to those still shows.
                c.before = overlay(rec.settings, &obs.settings);
                c.changed_paths = changed_paths(&c.before, &after);
                c.drift = !changed_paths(&obs.settings, rec.settings).is_empty();
            }
            (Some(rec), None) => {
                c.before = rec.settings.clone();
                c.changed_paths = changed_paths(rec.settings, &after);
            }
        }
        let exists = !c.before.is_null() || matches!(live, Some(Some(_)));
        if exists {
            c.replace_paths = c
                .changed_paths
                .iter()
                .filter(|p| cloud.forces_replacement(&r.kind, p))
                .cloned()
                .collect();
            c.action = if c.changed_paths.is_empty() {
                Action::NoOp
            } else if c.replace_paths.is_empty() {
                Action::Update
            } else {
                Action::Replace
            };
        }
        if c.action == Action::Replace || (c.action == Action::Create && recorded.is_some()) {
            renewed.insert(r.address.as_str());
        }
        if c.action == Action::Update {
            updated.insert(r.address.as_str(), cloud.renewed_by_update(&r.kind));
        }
        if matches!(c.action, Action::Update | Action::Replace) {
            let at = |v: &Value, p: &str| v.pointer(p).cloned().unwrap_or(Value::Null);
            let refused = c.changed_paths.iter().find_map(|p| {
                cloud.refuses_change(&r.kind, p, &at(&c.before, p), &at(&c.after, p))
            });
            if let Some(reason) = refused {
                c.blocked = Some(format!("`{}`: {reason}", r.address));
            }
        }
        if c.action == Action::Replace {
            if let Some(reason) = cloud.retains(&r.kind) {
                c.blocked = Some(format!(
                    "apply never replaces `{}`: {reason}; revert the change at {}, or remove the data plane with `unionctl destroy` and apply again",
                    r.address,
                    c.replace_paths.join(", ")
                ));
            }
        }
        out.push(c);
    }
    let desired: HashSet<&str> = resources.iter().map(|r| r.address.as_str()).collect();
    for (address, rec) in &known.recorded {
        if desired.contains(address) || rec.mode == Mode::Data {
            continue;
        }
        let mut c = delete(address, rec, known);
        if let Some(reason) = cloud.retains(rec.kind) {
            c.blocked = match known.contents.get(*address) {
                // Empty: deleting it loses nothing.
                Some(0) => None,
                Some(n) => Some(format!("`{address}` holds {}: apply never deletes data; empty it first, or keep it in the profile", super::count(*n, "object"))),
                None => Some(format!("apply never deletes `{address}`: {reason}; keep it in the profile, or remove the data plane with `unionctl destroy`")),
            };
        }
        out.push(c);
    }
    out
}

/// The delete of what state records at `address`: its recorded settings and dependencies
/// (dependents are deleted first), and what it holds when that was read.
fn delete(address: &str, rec: &Recorded<'_>, known: &Known<'_>) -> Change {
    let mut c = change(
        address,
        Action::Delete,
        rec.owner,
        rec.stage,
        rec.settings.clone(),
        Value::Null,
    );
    c.depends_on = rec.depends_on.to_vec();
    c.holds = known.contents.get(address).copied().filter(|n| *n > 0);
    c
}

/// A destroy's changes: every resource state records for `stages` is deleted, the
/// customer's and Union.ai's alike (a data source is only forgotten). A data-holding
/// resource that holds something (`known.contents`, read live) is blocked unless
/// `delete_data`: destroy never deletes data unless asked.
pub fn destroy_changes(
    known: &Known<'_>,
    stages: &[Party],
    delete_data: bool,
    cloud: &dyn CloudPlan,
) -> Vec<Change> {
    let mut out = Vec::new();
    for (address, rec) in &known.recorded {
        if !stages.contains(&rec.stage) {
            continue;
        }
        let mut c = delete(address, rec, known);
        if cloud.retains(rec.kind).is_some() && !delete_data {
            if let Some(n) = c.holds {
                c.blocked = Some(format!(
                    "`{address}` ({}) holds {}: copy out what must be kept, then destroy with --delete-data (every object version is deleted)",
                    rec.id,
                    super::count(n, "object")
                ));
            }
        }
        out.push(c);
    }
    out
}

/// The live settings, plus the top-level settings the provider does not read back, as
/// the last apply sent them. Below the top level what the cloud reports is whole: a key
/// missing there was removed.
fn overlay(recorded: &Value, live: &Value) -> Value {
    match (recorded, live) {
        (Value::Object(r), Value::Object(l)) => {
            let mut out = l.clone();
            for (k, v) in r {
                if !l.contains_key(k) {
                    out.insert(k.clone(), v.clone());
                }
            }
            Value::Object(out)
        }
        _ => live.clone(),
    }
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
            if same_list(l, d) {
                return;
            }
            // Lists of documents (policy statements, rules) of the same length: name the
            // items that differ, so a reviewer sees which statement changed.
            if l.len() == d.len() && l.iter().all(|v| v.is_object()) {
                for (i, (lv, dv)) in l.iter().zip(d).enumerate() {
                    if canonical(lv) != canonical(dv) {
                        let before = out.len();
                        walk(lv, dv, format!("{path}/{i}"), out);
                        // An item the cloud reports whole: what it lacks was removed.
                        if out.len() == before {
                            out.push(format!("{path}/{i}"));
                        }
                    }
                }
            } else {
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
        (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => {
            s.parse::<f64>().ok() == n.as_f64()
        }
        (Value::String(s), Value::Bool(x)) | (Value::Bool(x), Value::String(s)) => {
            s.eq_ignore_ascii_case(&x.to_string())
        }
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

/// A key-order-independent text form, for comparing lists of objects as sets (and for
/// showing which elements of a list were added or removed).
pub(super) fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, String)> =
                m.iter().map(|(k, v)| (k.clone(), canonical(v))).collect();
            entries.sort();
            format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{k:?}:{v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            )
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

#[cfg(test)]
pub(super) mod tests {
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

    /// A cloud with two kinds: `t.net` (its `/cidr` forces a new one; it holds identity)
    /// and `t.node` (its `/net` forces a new one).
    pub(in crate::plan) struct TestCloud;
    impl CloudPlan for TestCloud {
        fn provider(&self) -> crate::profile::Provider {
            crate::profile::Provider::Aws
        }
        fn build(&self, _: &mut super::super::builder::Builder<'_>) {}
        fn check_resource(&self, _: &mut super::super::invariants::Checker<'_>, _: &Resource) {}
        fn check_existing(&self, _: &mut super::super::invariants::Checker<'_>, _: &Resource) {}
        fn check_plan(&self, _: &mut super::super::invariants::Checker<'_>, _: &[Resource]) {}
        fn forces_replacement(&self, kind: &str, path: &str) -> bool {
            (kind, path) == ("t.net", "/cidr") || (kind, path) == ("t.node", "/net")
        }
        fn retains(&self, kind: &str) -> Option<&'static str> {
            (kind == "t.bucket").then_some("it holds objects")
        }
    }

    fn resource(address: &str, kind: &str, settings: Value) -> Resource {
        Resource {
            address: address.into(),
            kind: kind.into(),
            name: address.into(),
            mode: Mode::Managed,
            component: super::super::ownership::Component::Network,
            owner: Party::Customer,
            stage: Party::Customer,
            depends_on: Vec::new(),
            settings,
            controls: Vec::new(),
        }
    }

    fn plan_changes(
        resources: &[Resource],
        recorded: &[(&str, &str, Value)],
        live: &[(&str, Value)],
        contents: &[(&str, u64)],
    ) -> Vec<Change> {
        let ids: HashMap<String, String> = recorded
            .iter()
            .map(|(a, _, _)| (a.to_string(), format!("id-{a}")))
            .collect();
        let outputs =
            move |a: &str, at: &str| (at == "id").then(|| ids.get(a).map(|i| json!(i))).flatten();
        let recorded_map = recorded
            .iter()
            .map(|(a, kind, settings)| {
                (
                    *a,
                    Recorded {
                        kind,
                        mode: Mode::Managed,
                        owner: Party::Customer,
                        stage: Party::Customer,
                        settings,
                        pending: false,
                        depends_on: &[],
                        id: "",
                    },
                )
            })
            .collect();
        let live: HashMap<String, Option<Observed>> = live
            .iter()
            .map(|(a, v)| {
                (
                    a.to_string(),
                    Some(Observed {
                        id: format!("id-{a}"),
                        outputs: Default::default(),
                        settings: v.clone(),
                    }),
                )
            })
            .collect();
        let contents: HashMap<String, u64> =
            contents.iter().map(|(a, n)| (a.to_string(), *n)).collect();
        let known = Known {
            recorded: recorded_map,
            outputs: &outputs,
            live: &live,
            contents: &contents,
        };
        changes(resources, &known, &TestCloud)
    }

    #[test]
    fn a_replacement_makes_what_refers_to_it_change_too() {
        let resources = vec![
            resource("t.net.a", "t.net", json!({ "cidr": "10.1.0.0/16" })),
            resource(
                "t.node.b",
                "t.node",
                json!({ "net": "${t.net.a.id}", "size": 1 }),
            ),
            resource("t.node.c", "t.other", json!({ "peer": "${t.net.a.id}" })),
        ];
        let recorded = [
            ("t.net.a", "t.net", json!({ "cidr": "10.0.0.0/16" })),
            (
                "t.node.b",
                "t.node",
                json!({ "net": "id-t.net.a", "size": 1 }),
            ),
            ("t.node.c", "t.other", json!({ "peer": "id-t.net.a" })),
        ];
        let live = [
            ("t.net.a", json!({ "cidr": "10.0.0.0/16" })),
            ("t.node.b", json!({ "net": "id-t.net.a", "size": 1 })),
            ("t.node.c", json!({ "peer": "id-t.net.a" })),
        ];
        let c = plan_changes(&resources, &recorded, &live, &[]);
        assert_eq!(
            (c[0].action, c[0].replace_paths.clone()),
            (Action::Replace, vec!["/cidr".to_string()])
        );
        assert_eq!(
            (c[1].action, c[1].replace_paths.clone()),
            (Action::Replace, vec!["/net".to_string()]),
            "its network is new"
        );
        assert_eq!(
            (c[2].action, c[2].changed_paths.clone()),
            (Action::Update, vec!["/peer".to_string()])
        );
        assert_eq!(
            c[2].after["peer"],
            json!("${t.net.a.id}"),
            "known after apply"
        );
        assert!(c.iter().all(|c| !c.drift && c.blocked.is_none()));
    }

    #[test]
    fn drift_is_live_against_recorded_and_unread_settings_still_diff() {
        let resources = vec![resource(
            "t.node.b",
            "t.node",
            json!({ "net": "n", "size": 2, "unread": "new" }),
        )];
        let recorded = [(
            "t.node.b",
            "t.node",
            json!({ "net": "n", "size": 2, "unread": "old" }),
        )];
        let c = plan_changes(
            &resources,
            &recorded,
            &[("t.node.b", json!({ "net": "n", "size": 5 }))],
            &[],
        );
        assert_eq!((c[0].action, c[0].drift), (Action::Update, true));
        assert_eq!(
            c[0].changed_paths,
            vec!["/size".to_string(), "/unread".to_string()]
        );
        let c = plan_changes(&resources, &recorded, &[], &[]);
        assert_eq!(
            (c[0].action, c[0].drift),
            (Action::Update, false),
            "not read: diffed against state"
        );
        let gone: HashMap<String, Option<Observed>> =
            HashMap::from([("t.node.b".to_string(), None)]);
        let known = Known {
            recorded: recorded
                .iter()
                .map(|(a, k, v)| {
                    (
                        *a,
                        Recorded {
                            kind: k,
                            mode: Mode::Managed,
                            owner: Party::Customer,
                            stage: Party::Customer,
                            settings: v,
                            pending: false,
                            depends_on: &[],
                            id: "",
                        },
                    )
                })
                .collect(),
            outputs: &|_: &str, _: &str| None,
            live: &gone,
            contents: &HashMap::new(),
        };
        let c = changes(&resources, &known, &TestCloud);
        assert_eq!(
            (c[0].action, c[0].drift),
            (Action::Create, true),
            "vanished: re-created"
        );
    }

    #[test]
    fn what_holds_data_is_deleted_only_when_empty() {
        let recorded = [
            ("t.bucket.x", "t.bucket", json!({})),
            ("t.bucket.y", "t.bucket", json!({})),
            ("t.bucket.z", "t.bucket", json!({})),
            ("t.node.d", "t.node", json!({})),
        ];
        let c = plan_changes(&[], &recorded, &[], &[("t.bucket.x", 0), ("t.bucket.y", 3)]);
        let blocked: Vec<(&str, bool)> = c
            .iter()
            .map(|c| (c.address.as_str(), c.blocked.is_some()))
            .collect();
        assert!(c.iter().all(|c| c.action == Action::Delete));
        assert_eq!(
            blocked,
            vec![
                ("t.bucket.x", false),
                ("t.bucket.y", true),
                ("t.bucket.z", true),
                ("t.node.d", false)
            ]
        );
        assert!(
            c[1].blocked.as_deref().unwrap().contains("holds 3 objects"),
            "{:?}",
            c[1].blocked
        );
    }
}
