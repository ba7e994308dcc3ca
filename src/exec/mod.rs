//! The executor: reads what exists (refresh), and carries out a plan's changes by walking
//! its DAG with bounded parallelism, asking a provider to read, create, update or delete
//! each resource and recording state after every node.
//!
//! It executes exactly the changes the plan shows. Each step is still level-triggered
//! (kube-rs style) where that is what makes a re-run safe: a create first looks for the
//! resource by its fixed name or tag (a killed run may have made it), and a planned
//! update re-reads the resource and refuses to touch anything the plan did not show.

pub mod adoption;
pub mod interrupt;
pub mod ratelimit;
mod walk;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use futures_util::future::LocalBoxFuture;
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::plan::diff::{changed_paths, Known, Recorded};
use crate::plan::resolve::resolve;
use crate::plan::{Action, Change, CloudPlan, Mode, Party, Plan, Resource};
use crate::state::{ResourceState, State};

pub use crate::plan::resource::Observed;

/// What a cloud provider does for the executor. Implementations keep "already exists
/// (ours)" and "not found on delete" as successes. Futures are boxed so that the
/// executor and the commands hold any cloud's provider as `dyn Provider`.
pub trait Provider {
    /// Finds and reads the resource: by the id recorded in state, else by its fixed name
    /// or its address tag. `None` when it does not exist.
    fn read<'a>(
        &'a self,
        r: &'a Resource,
        desired: &'a Value,
        prior: Option<&'a ResourceState>,
    ) -> LocalBoxFuture<'a, Result<Option<Observed>>>;
    /// Creates it. `token` is the create's idempotency token: the same when a killed run's
    /// create is resumed, new for every new create (a token AWS has seen returns what it
    /// made then, even if that was deleted since).
    fn create<'a>(
        &'a self,
        r: &'a Resource,
        desired: &'a Value,
        token: &'a str,
    ) -> LocalBoxFuture<'a, Result<Observed>>;
    /// Brings the settings at `changed` (JSON pointers) to `desired`.
    fn update<'a>(
        &'a self,
        r: &'a Resource,
        desired: &'a Value,
        live: &'a Observed,
        changed: &'a [String],
    ) -> LocalBoxFuture<'a, Result<Observed>>;
    /// Deletes; a resource that is already gone is not an error. `with_data`: empty a
    /// resource that holds data (a bucket's objects, every version) first.
    fn delete<'a>(
        &'a self,
        r: &'a ResourceState,
        with_data: bool,
    ) -> LocalBoxFuture<'a, Result<()>>;
    /// How many objects a resource that holds data holds; `None` for other kinds.
    fn contents<'a>(&'a self, r: &'a ResourceState) -> LocalBoxFuture<'a, Result<Option<u64>>>;
    /// API calls made so far.
    fn calls(&self) -> CallCounts;
    /// Where the credentials act, as the cloud reported it when the provider connected.
    fn signed_in(&self) -> &SignedIn;
}

/// Where a provider's credentials act, as the cloud reported it when they signed in: the
/// account (AWS), the project's number (GCP), the subscription and its tenant (Azure), and
/// who signed in. Compared with the profile before anything changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignedIn {
    pub account: String,
    pub tenant: Option<String>,
    /// The caller (an ARN, an email, an object id), for messages; may be empty.
    pub principal: String,
}

/// API calls made by a provider, for the apply summary and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CallCounts {
    pub total: u64,
    pub mutating: u64,
}

impl std::ops::Sub for CallCounts {
    type Output = CallCounts;
    /// The calls made between two readings of one provider's counts.
    fn sub(self, earlier: CallCounts) -> CallCounts {
        CallCounts {
            total: self.total - earlier.total,
            mutating: self.mutating - earlier.mutating,
        }
    }
}

impl std::ops::Add for CallCounts {
    type Output = CallCounts;
    fn add(self, o: CallCounts) -> CallCounts {
        CallCounts {
            total: self.total + o.total,
            mutating: self.mutating + o.mutating,
        }
    }
}

/// Progress of a walk, for the UI (bars, plain lines or JSON events).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Start {
        address: String,
        action: String,
        stage: Party,
        total: usize,
    },
    Done {
        address: String,
        action: String,
        outcome: String,
        elapsed_ms: u128,
        done: usize,
        total: usize,
    },
    Error {
        address: String,
        message: String,
    },
}

pub trait Reporter: Sync {
    fn event(&self, event: Event);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    /// Found by name or tag with no record in state (a killed run made it): recorded.
    Adopted,
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
            Outcome::Adopted => "adopted",
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
    /// Every step's outcome, in the order they finished (a replaced resource has two).
    pub outcomes: Vec<(String, Outcome)>,
    pub elapsed_ms: u128,
}

impl WalkReport {
    pub fn count(&self, o: Outcome) -> usize {
        self.outcomes.iter().filter(|(_, x)| *x == o).count()
    }
}

/// What one party did in one walk.
#[derive(Debug, Clone, Serialize)]
pub struct StageDone {
    pub stage: Party,
    #[serde(serialize_with = "outcome_counts")]
    pub outcomes: WalkReport,
    pub elapsed_ms: u128,
    pub calls: CallCounts,
}

/// Every outcome, in a fixed order.
pub const OUTCOMES: [Outcome; 8] = [
    Outcome::Created,
    Outcome::Adopted,
    Outcome::Updated,
    Outcome::Deleted,
    Outcome::Unchanged,
    Outcome::Checked,
    Outcome::Read,
    Outcome::Gone,
];

/// `{"created": 3, "adopted": 0, …}`: the counts of a walk's outcomes.
fn outcome_counts<S: serde::Serializer>(report: &WalkReport, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(OUTCOMES.len()))?;
    for o in OUTCOMES {
        map.serialize_entry(&o.as_str().replace(' ', "_"), &report.count(o))?;
    }
    map.end()
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
#[error("{} of {} steps failed ({}; each error is above)", .failures.len(), .total, .failures.iter().map(|(a, _)| format!("`{a}`")).collect::<Vec<_>>().join(", "))]
pub struct WalkFailed {
    pub failures: Vec<(String, String)>,
    pub total: usize,
}

/// A customer-owned resource that the union stage depends on differs from the plan (or
/// is missing). The union stage never changes customer-owned resources.
#[derive(Debug, thiserror::Error)]
#[error("`{address}` is owned by the {owner} and {problem}; the union stage never changes customer-owned resources")]
pub struct NotCompliant {
    pub address: String,
    pub owner: &'static str,
    pub problem: String,
}

/// What was read live for a plan: each resource (`None`: gone), and how much data each
/// data-holding resource that the plan would delete holds.
#[derive(Debug, Default, Clone)]
pub struct Refreshed {
    pub live: HashMap<String, Option<Observed>>,
    pub contents: HashMap<String, u64>,
}

/// Reads what exists for `resources`: those state records, and those it does not whose
/// settings are fully known, so that what a killed run created is found. Resources that
/// carry this data plane's names or tags but were made by another state are collected and
/// refused together (`adoption::Conflicts`): nothing is read as ours that is not.
pub async fn refresh(
    resources: &[Resource],
    provider: &dyn Provider,
    state: &State,
    parallelism: usize,
) -> Result<HashMap<String, Option<Observed>>> {
    let mut live = HashMap::new();
    let mut conflicts = Vec::new();
    let mut pending = FuturesUnordered::new();
    // (resource, settings, probe): a probe is a resource not yet recorded whose settings
    // refer to what does not exist yet; it is looked up by name or tag only to find another
    // owner's resource, and what else it finds or fails on is not a reading.
    let mut queue: Vec<(&Resource, Value, bool)> = Vec::new();
    for r in resources.iter().filter(|r| !is_local(&r.kind)) {
        if let Ok(desired) = resolve(&r.settings, state) {
            queue.push((r, desired, false));
        } else if state.resources.contains_key(&r.address) {
            queue.push((r, r.settings.clone(), false));
        } else {
            queue.push((
                r,
                crate::plan::resolve::resolve_known(&r.settings, state),
                true,
            ));
        }
    }
    queue.reverse();
    loop {
        while pending.len() < parallelism.max(1) {
            let Some((r, desired, probe)) = queue.pop() else {
                break;
            };
            let prior = state.resources.get(&r.address);
            pending.push(async move {
                let read = provider.read(r, &desired, prior).await;
                (r.address.clone(), read, probe)
            });
        }
        let Some((address, result, probe)) = pending.next().await else {
            break;
        };
        match result {
            Ok(found) if !probe => {
                live.insert(address, found);
            }
            Ok(_) => {}
            Err(e) => match e
                .chain()
                .find_map(|c| c.downcast_ref::<adoption::NotOurs>())
            {
                Some(not_ours) => conflicts.push((address, not_ours.clone())),
                None if probe => {}
                None => return Err(e),
            },
        }
    }
    if !conflicts.is_empty() {
        conflicts.sort_by(|a, b| a.0.cmp(&b.0));
        return Err(adoption::Conflicts {
            state: String::new(),
            found: conflicts,
        }
        .into());
    }
    Ok(live)
}

/// Intents of `stage` that never got an id (a run killed between a create and its record):
/// looked up by name or tag, and recorded when found, so that a destroy can name what the
/// killed run made. Returns whether any was found.
pub async fn find_pending(
    resources: &[Resource],
    stage: Party,
    provider: &dyn Provider,
    state: &mut State,
) -> Result<bool> {
    let pending: Vec<ResourceState> = state
        .resources
        .values()
        .filter(|r| r.pending && r.id.is_empty() && r.stage == stage && !is_local(&r.kind))
        .cloned()
        .collect();
    let mut found = false;
    for prior in pending {
        let Some(r) = resources.iter().find(|r| r.address == prior.address) else {
            continue;
        };
        let desired = crate::plan::resolve::resolve_known(&r.settings, &*state);
        // A lookup with what is known: one that cannot be made leaves the intent as it is.
        if let Ok(Some(obs)) = provider.read(r, &desired, Some(&prior)).await {
            let mut record = ResourceState::of(r, obs, desired);
            record.depends_on = prior.depends_on.clone();
            state.resources.insert(prior.address.clone(), record);
            found = true;
        }
    }
    Ok(found)
}

/// How much data each data-holding resource that state records but `desired` no longer
/// has holds: a delete of one that holds data is refused.
pub async fn orphan_contents(
    desired: &[Resource],
    provider: &dyn Provider,
    state: &State,
) -> Result<HashMap<String, u64>> {
    let wanted: BTreeSet<&str> = desired.iter().map(|r| r.address.as_str()).collect();
    let mut contents = HashMap::new();
    for rec in state
        .resources
        .values()
        .filter(|r| !wanted.contains(r.address.as_str()) && r.mode == Mode::Managed)
    {
        if let Some(n) = provider.contents(rec).await? {
            contents.insert(rec.address.clone(), n);
        }
    }
    Ok(contents)
}

/// The plan's changes against state and what was read live; records which state the plan
/// was made against.
pub fn diff(plan: &mut Plan, state: &State, refreshed: &Refreshed, cloud: &dyn CloudPlan) {
    let recorded: BTreeMap<&str, Recorded<'_>> = state
        .resources
        .iter()
        .map(|(a, r)| (a.as_str(), r.recorded()))
        .collect();
    let known = Known {
        recorded,
        outputs: state,
        live: &refreshed.live,
        contents: &refreshed.contents,
    };
    plan.resource_changes = crate::plan::diff::changes(&plan.resources, &known, cloud);
    plan.prior_state = Some(state.reference());
}

fn is_local(kind: &str) -> bool {
    kind.starts_with("local.")
}

/// One step of a walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Carry out the change at this index of `plan.resource_changes` (create, update,
    /// no-op, read; the create half of a replace).
    Apply(usize),
    /// Delete the resource of this change (a delete, or the first half of a replace).
    Delete(usize),
    /// Read a customer-owned resource the union stage depends on and check it.
    Check(usize),
}

impl Step {
    /// The address of the resource the step works on.
    fn address(self, plan: &Plan) -> &str {
        match self {
            Step::Apply(i) | Step::Delete(i) | Step::Check(i) => {
                plan.resource_changes[i].address.as_str()
            }
        }
    }
}

/// Carries out the changes of `plan` that `select` picks (by address), each with its own
/// stage's provider, exactly: creates, updates, replaces, deletes (a destroy plan's too)
/// and reads; when the union stage walks, also a check of every customer-owned resource
/// its resources depend on.
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    plan: &Plan,
    stages: &[(Party, &dyn Provider)],
    select: &dyn Fn(&str) -> bool,
    refreshed: &Refreshed,
    state: &mut State,
    sink: &mut dyn StateSink,
    reporter: &dyn Reporter,
    parallelism: usize,
) -> Result<WalkReport> {
    let provider_of = |stage: Party| stages.iter().find(|(s, _)| *s == stage).map(|(_, p)| *p);
    let steps = steps_of(plan, &|stage| provider_of(stage).is_some(), select, state);
    let waits_for = order(plan, &steps, state);
    let address = |s: &Step| s.address(plan);
    let total = steps.len();
    let label = |s: &Step| -> &'static str {
        match s {
            Step::Check(_) => "check",
            Step::Delete(_) => "delete",
            Step::Apply(i) => plan.resource_changes[*i].action.as_str(),
        }
    };
    // A check reads with the union stage's identity; everything else with its own stage's.
    let stage_of = |s: &Step| match s {
        Step::Check(_) => Party::Union,
        Step::Apply(i) | Step::Delete(i) => plan.resource_changes[*i].stage,
    };
    let mut cx = walk::WalkState::new(state, sink);
    let t0 = Instant::now();
    walk::walk(
        &mut cx,
        &waits_for,
        parallelism,
        |cx, n| {
            let s = steps[n];
            let a = address(&s);
            let stage = stage_of(&s);
            let provider =
                provider_of(stage).ok_or_else(|| anyhow!("no {stage} credentials for `{a}`"))?;
            cx.begin(reporter, a, label(&s), stage, total);
            let prior = cx.state.resources.get(a).cloned();
            match s {
                Step::Delete(i) => {
                    let rec = prior.ok_or_else(|| {
                        anyhow!("`{}` is not in state", plan.resource_changes[i].address)
                    })?;
                    let with_data = plan.delete_data;
                    Ok(Box::pin(async move {
                        delete_one(provider, &rec, with_data)
                            .await
                            .map(|o| (o, None))
                    }) as LocalBoxFuture<'_, _>)
                }
                Step::Apply(i) | Step::Check(i) => {
                    let c = &plan.resource_changes[i];
                    let r = plan
                        .resource(a)
                        .ok_or_else(|| anyhow!("`{a}` is not in the plan"))?;
                    let desired = resolve(&r.settings, &*cx.state)?;
                    let creates = matches!(c.action, Action::Create | Action::Replace);
                    let mut token = prior
                        .as_ref()
                        .filter(|p| p.pending)
                        .map(|p| p.token.clone().unwrap_or_else(|| legacy_token(&p.address)));
                    if matches!(s, Step::Apply(_))
                        && creates
                        && r.mode == Mode::Managed
                        && !is_local(&r.kind)
                        && prior.is_none()
                    {
                        // Intent first (a saga's fixed identifier): the next run knows it
                        // may find this resource without our tag, and sends the same token.
                        let mut intent = ResourceState::of(
                            r,
                            Observed {
                                id: String::new(),
                                outputs: Map::new(),
                                settings: Value::Null,
                            },
                            desired.clone(),
                        );
                        intent.pending = true;
                        intent.token = Some(new_token());
                        token = intent.token.clone();
                        cx.state.resources.insert(r.address.clone(), intent);
                        cx.sink.save(cx.state)?;
                    }
                    let token = token.unwrap_or_else(new_token);
                    let observed = refreshed.live.get(a).cloned().flatten();
                    let check = matches!(s, Step::Check(_));
                    Ok(Box::pin(async move {
                        let (outcome, obs) = if check {
                            check_one(provider, r, &desired, prior.as_ref()).await?
                        } else {
                            apply_one(provider, r, c, &desired, prior.as_ref(), observed, &token)
                                .await?
                        };
                        Ok((outcome, obs.map(|o| (o, desired))))
                    }))
                }
            }
        },
        |cx, n, result: Result<(Outcome, Option<(Observed, Value)>)>| {
            let s = steps[n];
            let a = address(&s);
            match result {
                Ok((outcome, recorded)) => {
                    match (s, recorded) {
                        (Step::Delete(_), _) => {
                            cx.state.resources.remove(a);
                        }
                        (_, Some((obs, desired))) => {
                            if let Some(r) = plan.resource(a) {
                                cx.state
                                    .resources
                                    .insert(a.to_string(), ResourceState::of(r, obs, desired));
                            }
                        }
                        (_, None) => {}
                    }
                    if !matches!(outcome, Outcome::Unchanged | Outcome::Checked) {
                        cx.sink.save(cx.state)?;
                    }
                    Ok(cx.done(reporter, a, label(&s), outcome, total))
                }
                Err(e) => Ok(cx.failed(reporter, a, &e)),
            }
        },
    )
    .await?;
    cx.into_result(total, t0)
}

/// The steps of one walk: each selected change of a stage that walks (a replace is a
/// delete and an apply); when the union stage walks, a check of each customer-owned
/// resource it depends on.
fn steps_of(
    plan: &Plan,
    walks: &dyn Fn(Party) -> bool,
    select: &dyn Fn(&str) -> bool,
    state: &State,
) -> Vec<Step> {
    let union = walks(Party::Union);
    let inputs = crate::plan::schedule::stage_inputs(&plan.resources, Party::Union);
    let mut steps = Vec::new();
    for (i, c) in plan.resource_changes.iter().enumerate() {
        if !walks(c.stage) || !select(&c.address) {
            // Not worked on in this walk: checked when the union stage depends on it.
            if union
                && c.stage != Party::Union
                && inputs.contains(c.address.as_str())
                && c.action != Action::Delete
            {
                steps.push(Step::Check(i));
            }
            continue;
        }
        let recorded = state.resources.get(&c.address).is_some_and(|r| !r.pending);
        match c.action {
            // Recorded and unchanged: nothing to do, nothing to show.
            Action::NoOp if recorded => {}
            Action::Delete => steps.push(Step::Delete(i)),
            Action::Replace => steps.extend([Step::Delete(i), Step::Apply(i)]),
            _ => steps.push(Step::Apply(i)),
        }
    }
    steps
}

/// What each step waits for: applies after the applies and checks of what they refer to
/// and after their own delete (replace); deletes after the deletes of what refers to them.
fn order(plan: &Plan, steps: &[Step], state: &State) -> Vec<Vec<usize>> {
    let address = |s: &Step| s.address(plan);
    let mut index: HashMap<(&str, bool), usize> = HashMap::new();
    for (n, s) in steps.iter().enumerate() {
        index.insert((address(s), matches!(s, Step::Delete(_))), n);
    }
    let recorded_deps = |a: &str| -> Vec<String> {
        state
            .resources
            .get(a)
            .map(|r| r.depends_on.clone())
            .unwrap_or_default()
    };
    let mut waits_for: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
    for (n, s) in steps.iter().enumerate() {
        let a = address(s);
        match s {
            Step::Apply(_) | Step::Check(_) => {
                for d in plan
                    .resource(a)
                    .map(|r| r.depends_on.clone())
                    .unwrap_or_default()
                {
                    waits_for[n].extend(index.get(&(d.as_str(), false)));
                }
                if matches!(s, Step::Apply(_)) {
                    waits_for[n].extend(index.get(&(a, true)));
                }
            }
            Step::Delete(_) => {
                for d in recorded_deps(a) {
                    if let Some(&dep_delete) = index.get(&(d.as_str(), true)) {
                        waits_for[dep_delete].push(n);
                    }
                }
            }
        }
    }

    waits_for
}

/// One apply step. Returns what to record (`None`: state already has it).
#[allow(clippy::too_many_arguments)]
async fn apply_one(
    provider: &dyn Provider,
    r: &Resource,
    c: &Change,
    desired: &Value,
    prior: Option<&ResourceState>,
    refreshed: Option<Observed>,
    token: &str,
) -> Result<(Outcome, Option<Observed>)> {
    if is_local(&r.kind) {
        return local(r, desired, prior).map(|(o, obs)| (o, Some(obs)));
    }
    match c.action {
        Action::Read => match provider.read(r, desired, prior).await? {
            Some(obs) => Ok((Outcome::Read, Some(obs))),
            None => Err(anyhow!(
                "`{}` ({}) does not exist; the profile names it as existing",
                r.address,
                r.name
            )),
        },
        // Recorded and unchanged: nothing to call. Found but not recorded (adopted at
        // plan time): record what was read.
        Action::NoOp => match (prior.filter(|p| !p.pending), refreshed) {
            (Some(_), _) => Ok((Outcome::Unchanged, None)),
            (None, Some(obs)) => Ok((Outcome::Adopted, Some(obs))),
            (None, None) => Err(anyhow!(
                "`{}` was planned as unchanged but was not read",
                r.address
            )),
        },
        Action::Create | Action::Replace => {
            // A killed run may have created it after the plan was made: find it first.
            let found = if c.action == Action::Create {
                provider.read(r, desired, prior).await?
            } else {
                None
            };
            match found {
                None => Ok((
                    Outcome::Created,
                    Some(provider.create(r, desired, token).await?),
                )),
                Some(obs) => {
                    let changed = changed_paths(&obs.settings, desired);
                    let obs = if changed.is_empty() {
                        obs
                    } else {
                        provider.update(r, desired, &obs, &changed).await?
                    };
                    Ok((Outcome::Adopted, Some(obs)))
                }
            }
        }
        Action::Update => {
            let Some(live) = provider.read(r, desired, prior).await? else {
                return Err(anyhow!(
                    "`{}` vanished after the plan was made; plan again",
                    r.address
                ));
            };
            let changed = changed_paths(&live.settings, desired);
            let unplanned: Vec<&String> = changed
                .iter()
                .filter(|p| {
                    !c.changed_paths
                        .iter()
                        .any(|q| p.starts_with(q.as_str()) || q.starts_with(p.as_str()))
                })
                .collect();
            if !unplanned.is_empty() {
                return Err(anyhow!(
                    "`{}` changed at {} after the plan was made; nothing outside the plan is changed: plan again",
                    r.address,
                    unplanned.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                ));
            }
            if changed.is_empty() {
                return Ok((Outcome::Unchanged, Some(live)));
            }
            Ok((
                Outcome::Updated,
                Some(provider.update(r, desired, &live, &changed).await?),
            ))
        }
        Action::Delete => Err(anyhow!("`{}`: a delete is not an apply step", r.address)),
    }
}

/// The union stage's check of a customer-owned resource it depends on: read with the
/// stage's credentials and compare; never change.
async fn check_one(
    provider: &dyn Provider,
    r: &Resource,
    desired: &Value,
    prior: Option<&ResourceState>,
) -> Result<(Outcome, Option<Observed>)> {
    if is_local(&r.kind) {
        return Ok((Outcome::Checked, None));
    }
    let not_compliant = |problem: String| {
        anyhow::Error::new(NotCompliant {
            address: r.address.clone(),
            owner: r.owner.display_name(),
            problem,
        })
    };
    let Some(live) = provider.read(r, desired, prior).await? else {
        return Err(not_compliant("does not exist".into()));
    };
    let changed = changed_paths(&live.settings, desired);
    if !changed.is_empty() {
        return Err(not_compliant(format!(
            "does not comply with the plan at {}",
            changed.join(", ")
        )));
    }
    Ok((
        if r.mode == Mode::Data {
            Outcome::Read
        } else {
            Outcome::Checked
        },
        None,
    ))
}

async fn delete_one(
    provider: &dyn Provider,
    r: &ResourceState,
    with_data: bool,
) -> Result<Outcome> {
    // A data source is only forgotten; a pending entry never got an id, so there is
    // nothing unionctl can name to delete.
    if r.mode == Mode::Data || is_local(&r.kind) || (r.pending && r.id.is_empty()) {
        return Ok(Outcome::Gone);
    }
    provider.delete(r, with_data).await?;
    Ok(Outcome::Deleted)
}

/// A fresh idempotency token for one create.
fn new_token() -> String {
    let mut bytes = [0u8; 16];
    rand::Rng::fill(&mut rand::rng(), &mut bytes);
    hex::encode(bytes)
}

/// The token of a create left pending by a version that did not record tokens: it sent
/// one derived from the address.
fn legacy_token(address: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(address.as_bytes())[..16])
}

/// Resources that live only in state: the BYOC external ID, generated once.
fn local(
    r: &Resource,
    desired: &Value,
    prior: Option<&ResourceState>,
) -> Result<(Outcome, Observed)> {
    if let Some(p) = prior.filter(|p| !p.pending) {
        let obs = Observed {
            id: p.id.clone(),
            outputs: p.outputs.clone(),
            settings: desired.clone(),
        };
        return Ok((Outcome::Unchanged, obs));
    }
    match r.kind.as_str() {
        "local.external_id" => {
            use rand::Rng;
            let len = desired.get("length").and_then(Value::as_u64).unwrap_or(24) as usize;
            const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
            let mut rng = rand::rng();
            let value: String = (0..len)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect();
            let mut outputs = Map::new();
            outputs.insert("value".into(), Value::String(value));
            Ok((
                Outcome::Created,
                Observed {
                    id: "external-id".into(),
                    outputs,
                    settings: desired.clone(),
                },
            ))
        }
        other => Err(anyhow!("unknown local resource kind {other}")),
    }
}

/// Waits for `check` to report done, polling with capped exponential backoff. Providers
/// use it for long operations (clusters and node groups, NAT gateways). A failing poll
/// (after the SDK's own retries) is tried again a few times before the wait gives up: a
/// cluster that takes fifteen minutes should not fail on one throttled Describe.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    poll(what, timeout, Duration::from_millis(250), check).await
}

async fn poll<F, Fut>(
    what: &str,
    timeout: Duration,
    first_delay: Duration,
    mut check: F,
) -> Result<()>
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
                    return Err(e.context(format!(
                        "waiting for {what}: {failed_polls} polls in a row failed"
                    )));
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
        let err = poll("y", Duration::from_secs(600), tick, || async {
            Err::<bool, _>(anyhow!("gone"))
        })
        .await
        .unwrap_err();
        assert!(format!("{err:#}").contains("5 polls in a row failed"));
    }
}
