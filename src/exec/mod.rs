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
    Start { address: String, action: String, stage: Party, index: usize, total: usize },
    Done { address: String, action: String, outcome: String, elapsed_ms: u128, done: usize, total: usize },
    Error { address: String, message: String },
}

pub trait Reporter: Sync {
    fn event(&self, event: Event);
}

/// Discards events.
pub struct Silent;
impl Reporter for Silent {
    fn event(&self, _: Event) {}
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
    let started = Instant::now();
    let index: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, (r, _))| (r.address.as_str(), i)).collect();
    let mut waiting_on: Vec<usize> = vec![0; nodes.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, (r, _)) in nodes.iter().enumerate() {
        for d in &r.depends_on {
            if let Some(&j) = index.get(d.as_str()) {
                waiting_on[i] += 1;
                dependents[j].push(i);
            }
        }
    }
    let total = nodes.len();
    let mut ready: BTreeSet<usize> = (0..total).filter(|&i| waiting_on[i] == 0).collect();
    let mut in_flight = FuturesUnordered::new();
    let mut report = WalkReport::default();
    let mut failures: Vec<(String, String)> = Vec::new();
    let mut done = 0usize;
    let mut started_count = 0usize;

    loop {
        while failures.is_empty() && in_flight.len() < parallelism.max(1) {
            let Some(i) = ready.pop_first() else { break };
            let (r, check_only) = &nodes[i];
            started_count += 1;
            let action = if *check_only { "check" } else if r.mode == Mode::Data { "read" } else { "apply" };
            reporter.event(Event::Start { address: r.address.clone(), action: action.into(), stage: r.stage, index: started_count, total });
            match prepare(r, state) {
                Ok((desired, prior)) => in_flight.push(run_node(provider, i, r, *check_only, desired, prior)),
                Err(e) => {
                    reporter.event(Event::Error { address: r.address.clone(), message: format!("{e:#}") });
                    failures.push((r.address.clone(), format!("{e:#}")));
                }
            }
        }
        let Some((i, t0, result)) = in_flight.next().await else { break };
        let (r, check_only) = &nodes[i];
        match result {
            Ok((outcome, observed, desired)) => {
                done += 1;
                record(state, r, observed, desired);
                sink.save(state)?;
                report.outcomes.insert(r.address.clone(), outcome);
                let action = if *check_only { "check" } else { "apply" };
                reporter.event(Event::Done { address: r.address.clone(), action: action.into(), outcome: outcome.as_str().into(), elapsed_ms: t0.elapsed().as_millis(), done, total });
                for &k in &dependents[i] {
                    waiting_on[k] -= 1;
                    if waiting_on[k] == 0 {
                        ready.insert(k);
                    }
                }
            }
            Err(e) => {
                let message = format!("{e:#}");
                reporter.event(Event::Error { address: r.address.clone(), message: message.clone() });
                failures.push((r.address.clone(), message));
            }
        }
    }
    report.elapsed_ms = started.elapsed().as_millis();
    if !failures.is_empty() {
        return Err(anyhow::Error::new(WalkFailed { failures, total }));
    }
    Ok(report)
}

fn prepare(r: &Resource, state: &State) -> Result<(Value, Option<ResourceState>)> {
    let desired = crate::plan::resolve::resolve(&r.settings, state)?;
    Ok((desired, state.resources.get(&r.address).cloned()))
}

type NodeResult = Result<(Outcome, Observed, Value)>;

fn run_node<'a, P: Provider>(
    provider: &'a P,
    i: usize,
    r: &'a Resource,
    check_only: bool,
    desired: Value,
    prior: Option<ResourceState>,
) -> impl Future<Output = (usize, Instant, NodeResult)> + 'a {
    async move {
        let t0 = Instant::now();
        let result = converge(provider, r, check_only, desired, prior).await;
        (i, t0, result)
    }
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
    if let Some(p) = prior {
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

fn record(state: &mut State, r: &Resource, observed: Observed, desired: Value) {
    state.resources.insert(
        r.address.clone(),
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
        },
    );
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
    let started = Instant::now();
    let targets: Vec<ResourceState> = state.resources.values().filter(|r| select(r)).cloned().collect();
    let addresses: BTreeSet<String> = targets.iter().map(|r| r.address.clone()).collect();
    // A target may go once every target that depends on it is gone.
    let mut blockers: HashMap<String, usize> = targets.iter().map(|r| (r.address.clone(), 0)).collect();
    let mut unblocks: HashMap<String, Vec<String>> = HashMap::new();
    for r in &targets {
        for d in &r.depends_on {
            if addresses.contains(d) {
                *blockers.get_mut(d).expect("target") += 1;
                unblocks.entry(r.address.clone()).or_default().push(d.clone());
            }
        }
    }
    let total = targets.len();
    let by_address: HashMap<String, ResourceState> = targets.into_iter().map(|r| (r.address.clone(), r)).collect();
    let mut ready: BTreeSet<String> = blockers.iter().filter(|(_, n)| **n == 0).map(|(a, _)| a.clone()).collect();
    let mut in_flight = FuturesUnordered::new();
    let mut report = WalkReport::default();
    let mut failures = Vec::new();
    let mut done = 0;
    let mut started_count = 0;
    loop {
        while failures.is_empty() && in_flight.len() < parallelism.max(1) {
            let Some(a) = ready.pop_first() else { break };
            let r = by_address[&a].clone();
            started_count += 1;
            reporter.event(Event::Start { address: a.clone(), action: "delete".into(), stage: r.stage, index: started_count, total });
            in_flight.push(async move {
                let t0 = Instant::now();
                let result = if r.mode == Mode::Data || r.kind.starts_with("local.") { Ok(Outcome::Gone) } else { provider.delete(&r).await.map(|_| Outcome::Deleted) };
                (r.address.clone(), t0, result)
            });
        }
        let Some((a, t0, result)) = in_flight.next().await else { break };
        match result {
            Ok(outcome) => {
                done += 1;
                state.resources.remove(&a);
                sink.save(state)?;
                report.outcomes.insert(a.clone(), outcome);
                reporter.event(Event::Done { address: a.clone(), action: "delete".into(), outcome: outcome.as_str().into(), elapsed_ms: t0.elapsed().as_millis(), done, total });
                for d in unblocks.get(&a).cloned().unwrap_or_default() {
                    let n = blockers.get_mut(&d).expect("target");
                    *n -= 1;
                    if *n == 0 {
                        ready.insert(d);
                    }
                }
            }
            Err(e) => {
                let message = format!("{e:#}");
                reporter.event(Event::Error { address: a.clone(), message: message.clone() });
                failures.push((a, message));
            }
        }
    }
    report.elapsed_ms = started.elapsed().as_millis();
    if !failures.is_empty() {
        return Err(anyhow::Error::new(WalkFailed { failures, total }));
    }
    Ok(report)
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
/// use it for long operations (EKS clusters and node groups, NAT gateways).
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let t0 = Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        if check().await? {
            return Ok(());
        }
        if t0.elapsed() > timeout {
            anyhow::bail!("timed out after {:?} waiting for {what}", timeout);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}
