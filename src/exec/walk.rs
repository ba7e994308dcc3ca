//! The DAG walker shared by apply and destroy: bounded parallelism on one task, the
//! lowest ready index first, state recorded as each step finishes.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::time::Instant;

use anyhow::Result;
use futures_util::stream::{FuturesUnordered, StreamExt};

use super::{Event, Outcome, Reporter, StateSink, WalkFailed, WalkReport};
use crate::plan::Party;
use crate::state::State;

/// Runs steps `0..waits_for.len()` in dependency order: step `i` starts once every step in
/// `waits_for[i]` has succeeded, at most `parallelism` at a time, the lowest ready index
/// first (plan order). `start` makes a step's future from the context; `finish` records
/// its result in the context and says whether it succeeded. After a failure no new step
/// starts; the ones in flight finish and are recorded.
pub(super) async fn walk<C, T, Fut>(
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
        while !failed && !super::interrupt::requested() && in_flight.len() < parallelism.max(1) {
            let Some(i) = ready.pop_first() else { break };
            match start(ctx, i) {
                Ok(fut) => in_flight.push(async move { (i, fut.await) }),
                Err(e) => failed |= !finish(ctx, i, Err(e))?,
            }
        }
        let Some((i, result)) = in_flight.next().await else {
            break;
        };
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
pub(super) struct WalkState<'s> {
    pub state: &'s mut State,
    pub sink: &'s mut dyn StateSink,
    report: WalkReport,
    failures: Vec<(String, String)>,
    finished: usize,
    /// When each running step started, by address and action.
    started: HashMap<(String, String), Instant>,
}

impl<'s> WalkState<'s> {
    pub fn new(state: &'s mut State, sink: &'s mut dyn StateSink) -> Self {
        WalkState {
            state,
            sink,
            report: WalkReport::default(),
            failures: Vec::new(),
            finished: 0,
            started: HashMap::new(),
        }
    }

    /// Records that a step starts.
    pub fn begin(
        &mut self,
        reporter: &dyn Reporter,
        address: &str,
        action: &str,
        stage: Party,
        total: usize,
    ) {
        self.started
            .insert((address.to_string(), action.to_string()), Instant::now());
        reporter.event(Event::Start {
            address: address.to_string(),
            action: action.to_string(),
            stage,
            total,
        });
    }

    /// Records a finished step; always a success for the walk.
    pub fn done(
        &mut self,
        reporter: &dyn Reporter,
        address: &str,
        action: &str,
        outcome: Outcome,
        total: usize,
    ) -> bool {
        self.finished += 1;
        self.report.outcomes.push((address.to_string(), outcome));
        let t0 = self
            .started
            .remove(&(address.to_string(), action.to_string()));
        reporter.event(Event::Done {
            address: address.to_string(),
            action: action.to_string(),
            outcome: outcome.as_str().into(),
            elapsed_ms: t0.map_or(0, |t| t.elapsed().as_millis()),
            done: self.finished,
            total,
        });
        true
    }

    /// Records a failed step; always a failure for the walk.
    pub fn failed(&mut self, reporter: &dyn Reporter, address: &str, e: &anyhow::Error) -> bool {
        let message = format!("{e:#}");
        reporter.event(Event::Error {
            address: address.to_string(),
            message: message.clone(),
        });
        self.failures.push((address.to_string(), message));
        false
    }

    pub fn into_result(self, total: usize, t0: Instant) -> Result<WalkReport> {
        let mut report = self.report;
        report.elapsed_ms = t0.elapsed().as_millis();
        if !self.failures.is_empty() {
            return Err(anyhow::Error::new(WalkFailed {
                failures: self.failures,
                total,
            }));
        }
        if super::interrupt::requested() && self.finished < total {
            return Err(anyhow::Error::new(super::interrupt::Interrupted {
                done: self.finished,
                total,
            }));
        }
        Ok(report)
    }
}
