//! Carries out a plan, apply or destroy alike: its schedule's walks in order, each with
//! the providers of its parties (connected when first needed: the union stage's through
//! the admin identity that the customer's first walk has made by then), state saved after
//! every step.

use anyhow::{Context, Result};

use crate::exec::{self, CallCounts, Outcome, Provider, Refreshed, StageDone, WalkReport};
use crate::plan::schedule::{Schedule, Walk};
use crate::plan::{Change, Party, Plan, PlanMode};
use crate::profile::LoadedProfile;
use crate::state::{Backend, State};
use crate::ui::progress::Progress;
use crate::ui::Ui;

/// The providers signed in so far, one per party.
#[derive(Default)]
pub struct Providers(Vec<(Party, Box<dyn Provider>)>);

impl Providers {
    pub fn with(party: Party, provider: Box<dyn Provider>) -> Self {
        Providers(vec![(party, provider)])
    }

    /// The party's provider, signing in when it is not yet.
    pub async fn get(
        &mut self,
        loaded: &LoadedProfile,
        party: Party,
        state: &State,
    ) -> Result<&dyn Provider> {
        if !self.0.iter().any(|(p, _)| *p == party) {
            let provider = super::connect(loaded, party, state).await?;
            self.0.push((party, provider));
        }
        Ok(self.find(party).expect("signed in above"))
    }

    fn find(&self, party: Party) -> Option<&dyn Provider> {
        self.0
            .iter()
            .find(|(p, _)| *p == party)
            .map(|(_, p)| p.as_ref())
    }

    /// Every call made so far, by every party.
    pub fn calls(&self) -> CallCounts {
        self.0
            .iter()
            .fold(CallCounts::default(), |sum, (_, p)| sum + p.calls())
    }
}

/// What carrying out a plan did.
#[derive(Debug, Default)]
pub struct Executed {
    pub stages: Vec<StageDone>,
    /// Every step's outcome, all walks together.
    pub all: WalkReport,
}

/// What is needed to carry out a plan besides the plan.
pub struct Run<'a> {
    pub loaded: &'a LoadedProfile,
    pub plan: &'a Plan,
    pub refreshed: &'a Refreshed,
    pub backend: &'a dyn Backend,
    pub ui: &'a Ui,
    pub parallelism: usize,
}

/// Runs `schedule`'s walks in order; `done` hears of each party's part as it finishes.
/// A failed walk stops the run: state records what was done, and a re-run resumes.
pub async fn execute(
    run: &Run<'_>,
    schedule: &Schedule,
    state: &mut State,
    providers: &mut Providers,
    done: &mut dyn FnMut(&StageDone),
) -> Result<Executed> {
    let plan = run.plan;
    let verb = match plan.mode {
        PlanMode::Apply => "Applying",
        PlanMode::Destroy => "Destroying",
    };
    let mut executed = Executed::default();
    for walk in &schedule.walks {
        // A change, or a resource to record: found but not in state, or only its intent
        // is (a killed run made it; adopting it is a step).
        let work = |c: &&Change| {
            walk.addresses.contains(&c.address)
                && (c.action.is_change()
                    || state.resources.get(&c.address).is_none_or(|r| r.pending))
        };
        let todo = plan.resource_changes.iter().filter(work).count();
        // Only the parties with work sign in: a customer-only change needs no Union.ai
        // credentials, and the union stage checks its inputs only when it works.
        let parties: Vec<Party> = walk
            .parties
            .iter()
            .copied()
            .filter(|p| {
                plan.resource_changes
                    .iter()
                    .filter(work)
                    .any(|c| c.stage == *p)
            })
            .collect();
        if todo == 0 || parties.is_empty() {
            continue;
        }
        for &party in &parties {
            let provider = providers.get(run.loaded, party, state).await?;
            // What a killed run made before it could record an id is looked up before a
            // destroy deletes: it must be named to be deleted.
            if plan.mode == PlanMode::Destroy
                && exec::find_pending(&plan.resources, party, provider, state).await?
            {
                run.backend.save(state)?;
            }
        }
        let walkers: Vec<(Party, &dyn Provider)> = parties
            .iter()
            .map(|p| (*p, providers.find(*p).expect("signed in above")))
            .collect();
        let before: Vec<CallCounts> = walkers.iter().map(|(_, p)| p.calls()).collect();
        let title = parties
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(" and ");
        let progress = Progress::new(
            run.ui,
            &format!(
                "{verb} stage {title}: {}, {} at a time",
                crate::plan::count(todo as u64, "change"),
                run.parallelism
            ),
        );
        let mut sink = |s: &mut State| run.backend.save(s);
        let result = exec::apply(
            plan,
            &walkers,
            &|a| walk.addresses.contains(a),
            run.refreshed,
            state,
            &mut sink,
            &progress,
            run.parallelism,
        )
        .await;
        progress.finish();
        let report = result.with_context(|| {
            format!(
                "stage {title} stopped; state records what was done, and re-running {} resumes",
                plan.mode.as_str()
            )
        })?;
        executed
            .all
            .outcomes
            .extend(report.outcomes.iter().cloned());
        // One part per party: what each side did, with its own calls.
        for ((party, p), before) in walkers.iter().zip(before) {
            let part = StageDone {
                stage: *party,
                outcomes: WalkReport {
                    outcomes: outcomes_of(plan, walk, *party, &report),
                    elapsed_ms: report.elapsed_ms,
                },
                elapsed_ms: report.elapsed_ms,
                calls: p.calls() - before,
            };
            if parties.len() > 1 && part.outcomes.outcomes.is_empty() {
                continue;
            }
            done(&part);
            executed.stages.push(part);
        }
    }
    Ok(executed)
}

/// The outcomes of a walk that were `party`'s: its own changes, and for the union stage
/// also what it only checked (what the walk did not select).
fn outcomes_of(
    plan: &Plan,
    walk: &Walk,
    party: Party,
    report: &WalkReport,
) -> Vec<(String, Outcome)> {
    report
        .outcomes
        .iter()
        .filter(|(a, _)| {
            plan.resource_changes
                .iter()
                .find(|c| &c.address == a)
                .is_some_and(|c| {
                    let by = if walk.addresses.contains(a) {
                        c.stage
                    } else {
                        Party::Union
                    };
                    by == party
                })
        })
        .cloned()
        .collect()
}
