//! The executor: walks the plan's DAG with bounded parallelism, asks a provider to read,
//! create, update or delete each resource, and records state after every node.
//!
//! Every step is level-triggered (kube-rs style): read what exists (by the id in state, else
//! by name or tag), create it if missing, update it if it differs, and record it. A re-run
//! after a crash is therefore the resume path: nothing is created twice.

pub mod ratelimit;


use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::plan::diff::changed_paths;
use crate::plan::{Mode, Party, Resource};
use crate::state::{ResourceState, State};

pub use crate::plan::resource::Observed;

/// What a cloud provider does for the executor. Implementations keep "already exists
/// (ours)" and "not found on delete" as successes.
#[allow(async_fn_in_trait)]
pub trait Provider {
    /// Finds and reads the resource: by the id recorded in state, else by its fixed name
    /// or its `unionctl.union.ai/address` tag. `None` when it does not exist.
    async fn read(&self, r: &Resource, desired: &Value, prior: Option<&ResourceState>) -> Result<Option<Observed>>;
    async fn create(&self, r: &Resource, desired: &Value) -> Result<Observed>;
    /// Brings the settings at `changed` (JSON pointers) to `desired`.
    async fn update(&self, r: &Resource, desired: &Value, live: &Observed, changed: &[String]) -> Result<Observed>;
    /// Deletes; a resource that is already gone is not an error.
    async fn delete(&self, r: &ResourceState) -> Result<()>;
}

/// Progress of a walk, for the UI (bars, plain lines or JSON events).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Start { address: String, action: String, stage: Party, total: usize },
    Done { address: String, action: String, outcome: String, elapsed_ms: u128, done: usize, total: usize },
    Error { address: String, message: String },
}

pub trait Reporter: Sync {
    fn event(&self, event: Event);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    Read,
    Checked,
    Deleted,
    Gone,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Read => "read",
            Outcome::Checked => "checked",
            Outcome::Deleted => "deleted",
            Outcome::Gone => "already gone",
        }
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct WalkReport {
    pub outcomes: BTreeMap<String, Outcome>,
    pub elapsed_ms: u128,
}

impl WalkReport {
    pub fn count(&self, o: Outcome) -> usize {
        self.outcomes.values().filter(|x| **x == o).count()
    }
}

/// Persists state after each node.
pub trait StateSink {
    fn save(&mut self, state: &mut State) -> Result<()>;
}

impl<F: FnMut(&mut State) -> Result<()>> StateSink for F {
    fn save(&mut self, state: &mut State) -> Result<()> {
        self(state)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{} of {} resources failed", .failures.len(), .total)]
pub struct WalkFailed {
    pub failures: Vec<(String, String)>,
    pub total: usize,
}

/// What one stage of an apply works on: the resources this stage creates, plus (for the
/// union stage) the customer-owned resources they depend on, which it only reads and checks.
pub fn stage_nodes(resources: &[Resource], stage: Party) -> Vec<(Resource, bool)> {
    let own: BTreeSet<&str> = resources.iter().filter(|r| r.stage == stage).map(|r| r.address.as_str()).collect();
    let mut needed: BTreeSet<&str> = BTreeSet::new();
    for r in resources.iter().filter(|r| r.stage == stage) {
        for d in &r.depends_on {
            if !own.contains(d.as_str()) {
                needed.insert(d.as_str());
            }
        }
    }
    resources
        .iter()
        .filter(|r| own.contains(r.address.as_str()) || needed.contains(r.address.as_str()))
        .map(|r| (r.clone(), !own.contains(r.address.as_str())))
        .collect()
}

/// Runs nodes `0..waits_for.len()` in dependency order: node `i` starts once every node in
/// `waits_for[i]` has succeeded, at most `parallelism` at a time, the lowest ready index
/// first (plan order). `start` makes a node's future from the context; `finish` records
/// its result in the context and says whether it succeeded. After a failure no new node
/// starts; the ones in flight finish and are recorded. Shared by apply and destroy.
async fn walk<C, T, Fut>(
    ctx: &mut C,
    waits_for: &[Vec<usize>],
    parallelism: usize,
    mut start: impl FnMut(&mut C, usize) -> Result<Fut>,
    mut finish: impl FnMut(&mut C, usize, Result<T>) -> Result<bool>,
) -> Result<bool>
where
    Fut: Future<Output = Result<T>>,
{
    let n = waits_for.len();
    let mut pending: Vec<usize> = waits_for.iter().map(Vec::len).collect();
    let mut unblocks: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, deps) in waits_for.iter().enumerate() {
        for &d in deps {
            unblocks[d].push(i);
        }
    }
    let mut ready: BTreeSet<usize> = (0..n).filter(|&i| pending[i] == 0).collect();
    let mut in_flight = FuturesUnordered::new();
    let mut failed = false;
    loop {
        while !failed && in_flight.len() < parallelism.max(1) {
            let Some(i) = ready.pop_first() else { break };
            match start(ctx, i) {
                Ok(fut) => in_flight.push(async move { (i, fut.await) }),
                Err(e) => failed |= !finish(ctx, i, Err(e))?,
            }
        }
        let Some((i, result)) = in_flight.next().await else { break };
        if finish(ctx, i, result)? {
            for &k in &unblocks[i] {
                pending[k] -= 1;
                if pending[k] == 0 {
                    ready.insert(k);
                }
            }
        } else {
            failed = true;
        }
    }
    Ok(!failed)
}

/// What a walk records as it goes.
struct WalkState<'s> {
    state: &'s mut State,
    sink: &'s mut dyn StateSink,
    report: WalkReport,
    failures: Vec<(String, String)>,
    done: usize,
}

impl<'s> WalkState<'s> {
    fn new(state: &'s mut State, sink: &'s mut dyn StateSink) -> Self {
        WalkState { state, sink, report: WalkReport::default(), failures: Vec::new(), done: 0 }
    }

    fn failed(&mut self, reporter: &dyn Reporter, address: &str, e: &anyhow::Error) -> bool {
        let message = format!("{e:#}");
        reporter.event(Event::Error { address: address.to_string(), message: message.clone() });
        self.failures.push((address.to_string(), message));
        false
    }

    fn into_result(self, total: usize, t0: Instant) -> Result<WalkReport> {
        let mut report = self.report;
        report.elapsed_ms = t0.elapsed().as_millis();
        if !self.failures.is_empty() {
            return Err(anyhow::Error::new(WalkFailed { failures: self.failures, total }));
        }
        Ok(report)
    }
}

/// Indices each node waits for, from addresses.
fn waits_for<'a>(addresses: &[&'a str], deps: impl Fn(usize) -> Vec<&'a str>) -> Vec<Vec<usize>> {
    let index: HashMap<&str, usize> = addresses.iter().enumerate().map(|(i, a)| (*a, i)).collect();
    (0..addresses.len()).map(|i| deps(i).iter().filter_map(|d| index.get(d).copied()).collect()).collect()
}

/// Applies one stage. `check_only` nodes are read and compared, never changed: a
/// difference is an error naming the resource and the settings.
pub async fn apply<P: Provider>(
    nodes: &[(Resource, bool)],
    provider: &P,
    state: &mut State,
    sink: &mut dyn StateSink,
    reporter: &dyn Reporter,
    parallelism: usize,
) -> Result<WalkReport> {
    let t0 = Instant::now();
    let total = nodes.len();
    let addresses: Vec<&str> = nodes.iter().map(|(r, _)| r.address.as_str()).collect();
    let graph = waits_for(&addresses, |i| nodes[i].0.depends_on.iter().map(String::as_str).collect());
    let action = |i: usize| {
        let (r, check_only) = &nodes[i];
        if *check_only { "check" } else if r.mode == Mode::Data { "read" } else { "apply" }
    };
    let mut cx = WalkState::new(state, sink);
    walk(
        &mut cx,
        &graph,
        parallelism,
        |cx, i| {
            let (r, check_only) = &nodes[i];
            reporter.event(Event::Start { address: r.address.clone(), action: action(i).into(), stage: r.stage, total });
            let (desired, prior) = prepare(r, cx.state)?;
            if prior.is_none() && !*check_only && r.mode == Mode::Managed && !r.kind.starts_with("local.") {
                // Intent first (a saga's fixed identifier): the next run knows it may
                // find this resource without our tag.
                let mut intent = resource_state(r, Observed { id: String::new(), outputs: Map::new(), settings: Value::Null }, desired.clone());
                intent.pending = true;
                cx.state.resources.insert(r.address.clone(), intent);
                cx.sink.save(cx.state)?;
            }
            Ok(run_node(provider, r, *check_only, desired, prior))
        },
        |cx, i, result| {
            let r = &nodes[i].0;
            match result {
                Ok((t_node, (outcome, observed, desired))) => {
                    cx.done += 1;
                    record(cx.state, r, observed, desired);
                    cx.sink.save(cx.state)?;
                    cx.report.outcomes.insert(r.address.clone(), outcome);
                    let (done, elapsed_ms) = (cx.done, t_node.elapsed().as_millis());
                    reporter.event(Event::Done { address: r.address.clone(), action: action(i).into(), outcome: outcome.as_str().into(), elapsed_ms, done, total });
                    Ok(true)
                }
                Err(e) => Ok(cx.failed(reporter, &r.address, &e)),
            }
        },
    )
    .await?;
    cx.into_result(total, t0)
}

fn prepare(r: &Resource, state: &State) -> Result<(Value, Option<ResourceState>)> {
    let desired = crate::plan::resolve::resolve(&r.settings, state)?;
    Ok((desired, state.resources.get(&r.address).cloned()))
}

type NodeResult = Result<(Outcome, Observed, Value)>;

/// A node's work, timed.
async fn run_node<'a, P: Provider>(
    provider: &'a P,
    r: &'a Resource,
    check_only: bool,
    desired: Value,
    prior: Option<ResourceState>,
) -> Result<(Instant, (Outcome, Observed, Value))> {
    let t0 = Instant::now();
    converge(provider, r, check_only, desired, prior).await.map(|out| (t0, out))
}

async fn converge<P: Provider>(provider: &P, r: &Resource, check_only: bool, desired: Value, prior: Option<ResourceState>) -> NodeResult {
    if r.kind.starts_with("local.") {
        return local(r, &desired, prior.as_ref());
    }
    let live = provider.read(r, &desired, prior.as_ref()).await?;
    match live {
        None if r.mode == Mode::Data => Err(anyhow!("`{}` ({}) does not exist; the profile names it as existing", r.address, r.name)),
        None if check_only => Err(anyhow!(
            "`{}` is owned by the {} and does not exist; this stage never creates it: run the {} stage first",
            r.address,
            r.owner.display_name(),
            r.stage
        )),
        None => {
            let created = provider.create(r, &desired).await?;
            Ok((Outcome::Created, created, desired))
        }
        Some(obs) if r.mode == Mode::Data => Ok((Outcome::Read, obs, desired)),
        Some(obs) => {
            let changed = changed_paths(&obs.settings, &desired);
            if changed.is_empty() {
                return Ok((if check_only { Outcome::Checked } else { Outcome::Unchanged }, obs, desired));
            }
            if check_only {
                return Err(anyhow::Error::new(crate::error::UserError::new(format!(
                    "`{}` is owned by the {} and does not comply with the plan at {}; the union stage never changes customer-owned resources",
                    r.address,
                    r.owner.display_name(),
                    changed.join(", ")
                ))
                .hint("the customer runs `unionctl apply --stage customer` to repair it, then the union stage again")));
            }
            let updated = provider.update(r, &desired, &obs, &changed).await?;
            Ok((Outcome::Updated, updated, desired))
        }
    }
}

/// Resources that live only in state: the BYOC external ID, generated once.
fn local(r: &Resource, desired: &Value, prior: Option<&ResourceState>) -> NodeResult {
    if let Some(p) = prior.filter(|p| !p.pending) {
        let obs = Observed { id: p.id.clone(), outputs: p.outputs.clone(), settings: desired.clone() };
        return Ok((Outcome::Unchanged, obs, desired.clone()));
    }
    match r.kind.as_str() {
        "local.external_id" => {
            use rand::Rng;
            let len = desired.get("length").and_then(Value::as_u64).unwrap_or(24) as usize;
            const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
            let mut rng = rand::rng();
            let value: String = (0..len).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
            let mut outputs = Map::new();
            outputs.insert("value".into(), Value::String(value));
            Ok((Outcome::Created, Observed { id: "external-id".into(), outputs, settings: desired.clone() }, desired.clone()))
        }
        other => Err(anyhow!("unknown local resource kind {other}")),
    }
}

fn resource_state(r: &Resource, observed: Observed, desired: Value) -> ResourceState {
    ResourceState {
        address: r.address.clone(),
        kind: r.kind.clone(),
        name: r.name.clone(),
        mode: r.mode,
        owner: r.owner,
        stage: r.stage,
        id: observed.id,
        outputs: observed.outputs,
        settings: desired,
        depends_on: r.depends_on.clone(),
        pending: false,
    }
}

fn record(state: &mut State, r: &Resource, observed: Observed, desired: Value) {
    state.resources.insert(r.address.clone(), resource_state(r, observed, desired));
}

/// Deletes the state's resources that `select` picks (managed ones; data sources are only
/// forgotten), every dependent before what it depends on.
pub async fn destroy<P: Provider>(
    select: &dyn Fn(&ResourceState) -> bool,
    provider: &P,
    state: &mut State,
    sink: &mut dyn StateSink,
    reporter: &dyn Reporter,
    parallelism: usize,
) -> Result<WalkReport> {
    let t0 = Instant::now();
    let targets: Vec<ResourceState> = state.resources.values().filter(|r| select(r)).cloned().collect();
    let total = targets.len();
    let addresses: Vec<&str> = targets.iter().map(|r| r.address.as_str()).collect();
    // Reverse edges: a target waits for every target that depends on it.
    let graph = waits_for(&addresses, |i| targets.iter().filter(|t| t.depends_on.iter().any(|d| d == addresses[i])).map(|t| t.address.as_str()).collect());
    let mut cx = WalkState::new(state, sink);
    walk(
        &mut cx,
        &graph,
        parallelism,
        |_, i| {
            let r = &targets[i];
            reporter.event(Event::Start { address: r.address.clone(), action: "delete".into(), stage: r.stage, total });
            Ok(async move {
                let t_node = Instant::now();
                // A pending entry never got an id: there is nothing unionctl can name to delete.
                let outcome = if r.mode == Mode::Data || r.kind.starts_with("local.") || (r.pending && r.id.is_empty()) {
                    Outcome::Gone
                } else {
                    provider.delete(r).await?;
                    Outcome::Deleted
                };
                Ok((t_node, outcome))
            })
        },
        |cx, i, result: Result<(Instant, Outcome)>| {
            let r = &targets[i];
            match result {
                Ok((t_node, outcome)) => {
                    cx.done += 1;
                    cx.state.resources.remove(&r.address);
                    cx.sink.save(cx.state)?;
                    cx.report.outcomes.insert(r.address.clone(), outcome);
                    reporter.event(Event::Done { address: r.address.clone(), action: "delete".into(), outcome: outcome.as_str().into(), elapsed_ms: t_node.elapsed().as_millis(), done: cx.done, total });
                    Ok(true)
                }
                Err(e) => Ok(cx.failed(reporter, &r.address, &e)),
            }
        },
    )
    .await?;
    cx.into_result(total, t0)
}

/// Reads every resource state knows of (and every desired one), for drift and verify.
/// Unresolvable desired settings (a dependency not applied yet) are read without them.
pub async fn refresh<P: Provider>(resources: &[Resource], provider: &P, state: &State, parallelism: usize) -> Result<HashMap<String, Option<Observed>>> {
    let mut out = HashMap::new();
    let mut pending = FuturesUnordered::new();
    let mut queue: Vec<&Resource> = resources.iter().filter(|r| state.resources.contains_key(&r.address) && !r.kind.starts_with("local.")).collect();
    queue.reverse();
    loop {
        while pending.len() < parallelism.max(1) {
            let Some(r) = queue.pop() else { break };
            let desired = crate::plan::resolve::resolve(&r.settings, state).unwrap_or_else(|_| r.settings.clone());
            let prior = state.resources.get(&r.address);
            pending.push(async move { (r.address.clone(), provider.read(r, &desired, prior).await) });
        }
        let Some((address, result)) = pending.next().await else { break };
        out.insert(address, result?);
    }
    Ok(out)
}

/// Waits for `check` to report done, polling with capped exponential backoff. Providers
/// use it for long operations (EKS clusters and node groups, NAT gateways). A failing poll
/// (after the SDK's own retries) is tried again a few times before the wait gives up: a
/// cluster that takes fifteen minutes should not fail on one throttled Describe.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    poll(what, timeout, Duration::from_millis(250), check).await
}

async fn poll<F, Fut>(what: &str, timeout: Duration, first_delay: Duration, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    const MAX_FAILED_POLLS: u32 = 5;
    let t0 = Instant::now();
    let mut delay = first_delay;
    let mut failed_polls = 0;
    loop {
        match check().await {
            Ok(true) => return Ok(()),
            Ok(false) => failed_polls = 0,
            Err(e) => {
                failed_polls += 1;
                if failed_polls >= MAX_FAILED_POLLS {
                    return Err(e.context(format!("waiting for {what}: {failed_polls} polls in a row failed")));
                }
            }
        }
        if t0.elapsed() > timeout {
            anyhow::bail!("timed out after {:?} waiting for {what}", timeout);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waits_through_transient_poll_failures() {
        let mut polls = 0;
        let tick = Duration::from_millis(1);
        poll("x", Duration::from_secs(600), tick, || {
            polls += 1;
            let n = polls;
            async move {
                match n {
                    1 | 2 => Err(anyhow!("throttled")),
                    3 => Ok(false),
                    _ => Ok(true),
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(polls, 4);
        let err = poll("y", Duration::from_secs(600), tick, || async { Err::<bool, _>(anyhow!("gone")) }).await.unwrap_err();
        assert!(format!("{err:#}").contains("5 polls in a row failed"));
    }

    #[test]
    fn union_stage_reads_only_the_customer_resources_it_needs() {
        let text = std::fs::read_to_string("profiles/aws-byoc.yaml").unwrap();
        let loaded = crate::profile::load_bytes(text.as_bytes(), std::path::Path::new("p.yaml")).unwrap();
        let resources = crate::plan::desired_resources(&loaded.profile).unwrap();
        let nodes = stage_nodes(&resources, Party::Union);
        for (r, check_only) in &nodes {
            assert_eq!(*check_only, r.stage == Party::Customer, "{}", r.address);
        }
        let checked: Vec<&str> = nodes.iter().filter(|(_, c)| *c).map(|(r, _)| r.address.as_str()).collect();
        assert!(checked.contains(&"aws.iam_role.union_admin") && checked.contains(&"aws.kms_key.main"), "{checked:?}");
        assert!(!checked.contains(&"aws.cloudtrail.main"), "the trail is not an input of any union resource");
        assert_eq!(stage_nodes(&resources, Party::Customer).iter().filter(|(_, c)| *c).count(), 0);
    }
}
