//! The dependency DAG of a plan: dependencies derived from references, a stable
//! topological order, and cycle detection.

use std::collections::{BTreeSet, HashMap};

use super::resource::{references, Resource};

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
