//! The walks that carry out a plan: which parties' credentials, which addresses, in what
//! order. The one place that knows the BYOC stage order; the executor runs what this
//! returns and commands never decide it.
//!
//! Apply, BYOC: the customer first makes what Union.ai's side needs (the admin identity
//! it signs in as, and what its resources refer to); then Union.ai's resources, and beside
//! them the customer's that neither side waits for; last the customer's resources that
//! refer to Union.ai's (a workload identity's trust in the cluster's issuer). Destroy runs
//! the same order backwards: the late customer resources, Union.ai's, then the rest.

use std::collections::{BTreeSet, HashMap};

use super::resource::{Party, Resource};
use super::{Change, Plan, PlanMode};

/// One walk of the executor: the parties whose credentials it uses, and the addresses of
/// the changes it carries out (each with its own party's credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walk {
    pub parties: Vec<Party>,
    pub addresses: BTreeSet<String>,
}

/// The walks of a plan, in order, and the changes none of them carries out yet (the
/// customer's changes that refer to Union.ai resources not applied, when the customer
/// stage runs alone).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    pub walks: Vec<Walk>,
    pub waiting: Vec<String>,
}

/// The schedule of `plan` for the stages being run (`stages`, as the user chose them, in
/// apply order). `applied` says whether a resource is recorded as made: a late customer
/// resource runs with the customer stage alone once the Union.ai resources it refers to
/// are.
pub fn schedule(plan: &Plan, stages: &[Party], applied: &dyn Fn(&str) -> bool) -> Schedule {
    let walks = match plan.mode {
        PlanMode::Apply => apply_walks(plan, stages, applied),
        PlanMode::Destroy => destroy_walks(&plan.resource_changes, stages),
    };
    let walks: Vec<Walk> = walks
        .into_iter()
        .filter(|w| !w.addresses.is_empty())
        .collect();
    let waiting = plan
        .resource_changes
        .iter()
        .filter(|c| c.action.is_change() && stages.contains(&c.stage))
        .filter(|c| !walks.iter().any(|w| w.addresses.contains(&c.address)))
        .map(|c| c.address.clone())
        .collect();
    Schedule { walks, waiting }
}

fn of_stage(changes: &[Change], stage: Party, pick: &dyn Fn(&str) -> bool) -> BTreeSet<String> {
    changes
        .iter()
        .filter(|c| c.stage == stage && pick(&c.address))
        .map(|c| c.address.clone())
        .collect()
}

fn apply_walks(plan: &Plan, stages: &[Party], applied: &dyn Fn(&str) -> bool) -> Vec<Walk> {
    let changes = &plan.resource_changes;
    let late = after_union(&plan.resources);
    let walk = |parties: &[Party], addresses| Walk {
        parties: parties.to_vec(),
        addresses,
    };
    match stages {
        [Party::Customer, Party::Union] => {
            let before = before_union(&plan.resources);
            let alongside = of_stage(changes, Party::Union, &|_| true)
                .into_iter()
                .chain(of_stage(changes, Party::Customer, &|a| {
                    !late.contains(a) && !before.contains(a)
                }))
                .collect();
            vec![
                walk(
                    &[Party::Customer],
                    of_stage(changes, Party::Customer, &|a| before.contains(a)),
                ),
                walk(&[Party::Union, Party::Customer], alongside),
                walk(
                    &[Party::Customer],
                    of_stage(changes, Party::Customer, &|a| late.contains(a)),
                ),
            ]
        }
        [Party::Customer] => vec![walk(
            &[Party::Customer],
            of_stage(changes, Party::Customer, &|a| {
                !late.contains(a) || ready_now(plan, &late, applied, a)
            }),
        )],
        _ => stages
            .iter()
            .map(|s| walk(&[*s], of_stage(changes, *s, &|_| true)))
            .collect(),
    }
}

/// Destroy: dependents first, so the customer's resources that refer to Union.ai's go
/// before Union.ai's, and the rest of the customer's after them.
fn destroy_walks(changes: &[Change], stages: &[Party]) -> Vec<Walk> {
    let stage: HashMap<&str, Party> = changes
        .iter()
        .map(|c| (c.address.as_str(), c.stage))
        .collect();
    let mut late: BTreeSet<&str> = BTreeSet::new();
    loop {
        let more: Vec<&str> = changes
            .iter()
            .filter(|c| c.stage == Party::Customer && !late.contains(c.address.as_str()))
            .filter(|c| {
                c.depends_on.iter().any(|d| {
                    late.contains(d.as_str()) || stage.get(d.as_str()) == Some(&Party::Union)
                })
            })
            .map(|c| c.address.as_str())
            .collect();
        if more.is_empty() {
            break;
        }
        late.extend(more);
    }
    let both = stages.contains(&Party::Union) && stages.contains(&Party::Customer);
    let mut walks = Vec::new();
    if both {
        walks.push(Walk {
            parties: vec![Party::Customer],
            addresses: of_stage(changes, Party::Customer, &|a| late.contains(a)),
        });
    }
    for s in stages.iter().rev() {
        let rest = |a: &str| !both || *s != Party::Customer || !late.contains(a);
        walks.push(Walk {
            parties: vec![*s],
            addresses: of_stage(changes, *s, &rest),
        });
    }
    walks
}

/// The customer-stage resources that depend, directly or not, on a union-stage resource:
/// in BYOC they are applied after the union stage (e.g. a workload identity's trust in
/// the cluster's issuer). `resources` are in plan order.
pub fn after_union(resources: &[Resource]) -> BTreeSet<&str> {
    let mut late: BTreeSet<&str> = BTreeSet::new();
    let stage: HashMap<&str, Party> = resources
        .iter()
        .map(|r| (r.address.as_str(), r.stage))
        .collect();
    for r in resources.iter().filter(|r| r.stage == Party::Customer) {
        if r.depends_on
            .iter()
            .any(|d| stage.get(d.as_str()) == Some(&Party::Union) || late.contains(d.as_str()))
        {
            late.insert(r.address.as_str());
        }
    }
    late
}

/// The customer-stage resources the union stage needs before it starts: the admin
/// identity it signs in as (and what that identity's grants refer to), and every
/// customer resource a union-stage resource depends on, with what those depend on. The
/// other customer resources that do not wait for the union stage are applied alongside
/// it, so a slow customer resource that Union.ai's side never uses (an endpoint held back
/// by its API's rate limit, say) does not delay the cluster. `resources` are in plan
/// order.
pub fn before_union(resources: &[Resource]) -> BTreeSet<&str> {
    let late = after_union(resources);
    let by_address: HashMap<&str, &Resource> =
        resources.iter().map(|r| (r.address.as_str(), r)).collect();
    let mut needed: BTreeSet<&str> = BTreeSet::new();
    let mut todo: Vec<&str> = Vec::new();
    for r in resources {
        if r.stage == Party::Customer
            && r.component == crate::plan::ownership::Component::AdminIdentity
        {
            todo.push(&r.address);
        }
        if r.stage == Party::Union {
            todo.extend(r.depends_on.iter().map(String::as_str));
        }
    }
    while let Some(a) = todo.pop() {
        let Some(r) = by_address.get(a) else { continue };
        if r.stage != Party::Customer || late.contains(a) || !needed.insert(a) {
            continue;
        }
        todo.extend(r.depends_on.iter().map(String::as_str));
    }
    needed
}

/// What a stage works on: its own resources, plus (for the union stage) the
/// customer-owned resources they depend on, which it only reads and checks.
pub fn stage_inputs(resources: &[Resource], stage: Party) -> BTreeSet<&str> {
    let mut needed = BTreeSet::new();
    for r in resources.iter().filter(|r| r.stage == stage) {
        needed.insert(r.address.as_str());
        needed.extend(r.depends_on.iter().map(String::as_str));
    }
    needed
}

/// Whether a late customer resource can be applied with the customer stage alone: every
/// Union.ai resource it depends on, directly or through other late resources, is applied.
fn ready_now(
    plan: &Plan,
    late: &BTreeSet<&str>,
    applied: &dyn Fn(&str) -> bool,
    address: &str,
) -> bool {
    plan.resource(address).is_some_and(|r| {
        r.depends_on.iter().all(|d| match plan.resource(d) {
            Some(x) if x.stage == Party::Union => applied(d),
            Some(_) if late.contains(d.as_str()) => ready_now(plan, late, applied, d),
            _ => true,
        })
    })
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::plan::ownership::Component;
    use crate::plan::{diff, Action, FORMAT_VERSION};
    use crate::profile::{Model, Provider};

    /// A BYOC data plane in miniature: the network and the admin role (the customer's,
    /// needed by Union.ai's side), the cluster (Union.ai's), a bucket neither side waits
    /// for, and a workload role that trusts the cluster's issuer (the customer's, late).
    fn resources() -> Vec<Resource> {
        let r = |address: &str, stage: Party, component: Component, deps: &[&str]| Resource {
            address: address.into(),
            kind: format!("t.{}", address.split('.').nth(1).unwrap_or("x")),
            name: address.into(),
            mode: crate::plan::Mode::Managed,
            component,
            owner: stage,
            stage,
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            settings: Value::Null,
            controls: Vec::new(),
        };
        vec![
            r("t.net.main", Party::Customer, Component::Network, &[]),
            r(
                "t.role.admin",
                Party::Customer,
                Component::AdminIdentity,
                &[],
            ),
            r("t.bucket.data", Party::Customer, Component::Storage, &[]),
            r(
                "t.cluster.main",
                Party::Union,
                Component::Cluster,
                &["t.net.main"],
            ),
            r(
                "t.role.workload",
                Party::Customer,
                Component::WorkloadIdentity,
                &["t.cluster.main"],
            ),
        ]
    }

    fn plan(mode: PlanMode, resources: Vec<Resource>, action: Action) -> Plan {
        let resource_changes = resources
            .iter()
            .map(|r| Change {
                address: r.address.clone(),
                action,
                owner: r.owner,
                stage: r.stage,
                before: Value::Null,
                after: Value::Null,
                changed_paths: Vec::new(),
                replace_paths: Vec::new(),
                drift: false,
                depends_on: if mode == PlanMode::Destroy {
                    r.depends_on.clone()
                } else {
                    Vec::new()
                },
                holds: None,
                blocked: None,
            })
            .collect();
        Plan {
            format_version: FORMAT_VERSION.into(),
            mode,
            delete_data: false,
            unionctl_version: String::new(),
            data_plane: "t".into(),
            org: "t".into(),
            cloud: Provider::Aws,
            region: "r".into(),
            model: Model::Byoc,
            profile_digest: String::new(),
            prior_state: None,
            resources,
            resource_changes,
            warnings: Vec::new(),
        }
    }

    fn walks(s: &Schedule) -> Vec<(Vec<Party>, Vec<&str>)> {
        s.walks
            .iter()
            .map(|w| {
                (
                    w.parties.clone(),
                    w.addresses.iter().map(String::as_str).collect(),
                )
            })
            .collect()
    }

    const BOTH: [Party; 2] = [Party::Customer, Party::Union];

    #[test]
    fn byoc_apply_makes_what_union_needs_then_union_beside_the_rest_then_the_late() {
        let p = plan(PlanMode::Apply, resources(), Action::Create);
        let s = schedule(&p, &BOTH, &|_| false);
        assert_eq!(
            walks(&s),
            vec![
                (vec![Party::Customer], vec!["t.net.main", "t.role.admin"]),
                (
                    vec![Party::Union, Party::Customer],
                    vec!["t.bucket.data", "t.cluster.main"]
                ),
                (vec![Party::Customer], vec!["t.role.workload"]),
            ]
        );
        assert!(s.waiting.is_empty());
    }

    #[test]
    fn the_customer_stage_alone_holds_back_what_refers_to_union_resources_not_made() {
        let p = plan(PlanMode::Apply, resources(), Action::Create);
        let s = schedule(&p, &[Party::Customer], &|_| false);
        assert_eq!(
            walks(&s),
            vec![(
                vec![Party::Customer],
                vec!["t.bucket.data", "t.net.main", "t.role.admin"]
            )]
        );
        assert_eq!(s.waiting, vec!["t.role.workload".to_string()]);
        // Once the cluster is recorded, the customer stage alone applies the late role.
        let s = schedule(&p, &[Party::Customer], &|a| a == "t.cluster.main");
        assert!(s.walks[0].addresses.contains("t.role.workload") && s.waiting.is_empty());
    }

    #[test]
    fn the_union_stage_alone_walks_only_its_own() {
        let p = plan(PlanMode::Apply, resources(), Action::Create);
        let s = schedule(&p, &[Party::Union], &|_| false);
        assert_eq!(
            walks(&s),
            vec![(vec![Party::Union], vec!["t.cluster.main"])]
        );
    }

    #[test]
    fn destroy_runs_the_stages_backwards_dependents_first() {
        let p = plan(PlanMode::Destroy, resources(), Action::Delete);
        let s = schedule(&p, &BOTH, &|_| true);
        assert_eq!(
            walks(&s),
            vec![
                (vec![Party::Customer], vec!["t.role.workload"]),
                (vec![Party::Union], vec!["t.cluster.main"]),
                (
                    vec![Party::Customer],
                    vec!["t.bucket.data", "t.net.main", "t.role.admin"]
                ),
            ]
        );
        // One stage alone deletes only its own, in one walk.
        let s = schedule(&p, &[Party::Customer], &|_| true);
        assert_eq!(walks(&s).len(), 1);
        assert_eq!(s.walks[0].addresses.len(), 4);
    }

    #[test]
    fn a_destroy_plan_refuses_a_bucket_that_holds_data_unless_asked() {
        use crate::plan::diff::tests::TestCloud as Cloud;
        let settings = Value::Null;
        let deps = vec!["t.net.main".to_string()];
        let rec = |stage| diff::Recorded {
            kind: "t.bucket",
            mode: crate::plan::Mode::Managed,
            owner: stage,
            stage,
            settings: &settings,
            pending: false,
            depends_on: &deps,
            id: "acme-data",
        };
        let live = std::collections::HashMap::new();
        let contents = [("t.bucket.data".to_string(), 3u64)].into_iter().collect();
        let known = diff::Known {
            recorded: [
                ("t.bucket.data", rec(Party::Customer)),
                ("t.cluster.main", rec(Party::Union)),
            ]
            .into_iter()
            .collect(),
            outputs: &|_: &str, _: &str| None,
            live: &live,
            contents: &contents,
        };
        let refused = diff::destroy_changes(&known, &BOTH, false, &Cloud);
        assert_eq!(refused.len(), 2);
        let bucket = &refused[0];
        assert_eq!(
            (bucket.action, bucket.holds, bucket.depends_on.clone()),
            (Action::Delete, Some(3), deps.clone())
        );
        assert!(bucket.blocked.as_deref().is_some_and(|b| b
            .contains("(acme-data) holds 3 objects")
            && b.contains("--delete-data")));
        let asked = diff::destroy_changes(&known, &BOTH, true, &Cloud);
        assert!(asked.iter().all(|c| c.blocked.is_none()));
        let customer_only = diff::destroy_changes(&known, &[Party::Customer], false, &Cloud);
        assert_eq!(customer_only.len(), 1);
    }
}
