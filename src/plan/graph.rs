//! The dependency DAG of a plan: dependencies derived from references, a stable
//! topological order, and cycle detection.

use std::collections::{BTreeSet, HashMap};

use super::resource::{references, Party, Resource};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GraphError {
    #[error("`{from}` refers to `{to}`, which is not in the plan")]
    Dangling { from: String, to: String },
    #[error("dependency cycle through `{0}`")]
    Cycle(String),
    #[error("address `{0}` is used twice")]
    Duplicate(String),
}

/// Fills `depends_on` from the references in each resource's settings (keeping explicit
/// entries), then returns the resources in an order where every dependency comes first.
/// Ties keep the builder's order, so plans are stable run to run.
pub fn link_and_sort(mut resources: Vec<Resource>) -> Result<Vec<Resource>, GraphError> {
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, r) in resources.iter().enumerate() {
        if index.insert(r.address.clone(), i).is_some() {
            return Err(GraphError::Duplicate(r.address.clone()));
        }
    }
    for r in &mut resources {
        let mut deps: BTreeSet<String> = r.depends_on.iter().cloned().collect();
        for reference in references(&r.settings) {
            deps.insert(reference.address);
        }
        deps.remove(&r.address);
        for d in &deps {
            if !index.contains_key(d) {
                return Err(GraphError::Dangling {
                    from: r.address.clone(),
                    to: d.clone(),
                });
            }
        }
        r.depends_on = deps.into_iter().collect();
    }

    // Kahn's algorithm, always taking the earliest ready resource in builder order.
    let n = resources.len();
    let mut indegree = vec![0usize; n];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, r) in resources.iter().enumerate() {
        for d in &r.depends_on {
            let j = index[d];
            indegree[i] += 1;
            dependents[j].push(i);
        }
    }
    let mut ready: BTreeSet<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &k in &dependents[i] {
            indegree[k] -= 1;
            if indegree[k] == 0 {
                ready.insert(k);
            }
        }
    }
    if order.len() != n {
        let stuck = (0..n)
            .find(|i| indegree[*i] > 0)
            .map(|i| resources[i].address.clone())
            .unwrap_or_default();
        return Err(GraphError::Cycle(stuck));
    }
    let mut slots: Vec<Option<Resource>> = resources.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}

/// The customer-stage resources that depend, directly or not, on a union-stage resource:
/// in BYOC they are applied after the union stage (e.g. a workload identity's trust in
/// the cluster's issuer), in a second customer step. `resources` are in plan order.
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
