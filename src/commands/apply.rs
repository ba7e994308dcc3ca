//! `apply`: the plan against what exists, shown; then exactly its changes, stage by stage.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use serde_json::json;

use super::fleet::{self, Targets};
use crate::cli::ApplyArgs;
use crate::error::{ExitStatus, UserError};
use crate::exec::{self, CallCounts, Outcome, Provider, WalkReport};
use crate::plan::{graph, render, Change, Party, Plan};
use crate::profile::LoadedProfile;
use crate::settings::Settings;
use crate::state::State;
use crate::ui::progress::Progress;

pub fn run(args: ApplyArgs, settings: &Settings) -> Result<ExitStatus> {
    match fleet::targets(&args.profile.profiles)? {
        Targets::One(path) => one(&path, &args, settings),
        Targets::Fleet(files) => apply_fleet(&files, &args, settings),
    }
}

/// A fleet: unattended, each data plane applied as a single one is. Otherwise each is
/// planned and its plan saved, the fleet's table shown and one answer asked for; then
/// exactly the saved plans are applied (each refused if its state moved since).
fn apply_fleet(
    files: &[std::path::PathBuf],
    args: &ApplyArgs,
    settings: &Settings,
) -> Result<ExitStatus> {
    if args.plan_file.is_some() {
        return Err(
            UserError::new("a saved plan is one data plane's; a fleet is planned again").into(),
        );
    }
    super::refuse_shared_state(settings)?;
    let limit = args.profile.fleet_parallelism.into();
    if args.auto_approve {
        let rows = fleet::run_all(files, limit, settings, "apply", &|file, own| {
            one(file, args, own)
        });
        return Ok(fleet::report(&rows, "apply", false, &settings.ui));
    }
    let saved_dir = settings.state_dir.join("fleet-plans");
    // By position in the fleet: two profiles of one file name (in two directories) are two
    // data planes.
    let saved = |file: &Path| {
        let i = files.iter().position(|f| f == file).unwrap_or(0);
        saved_dir.join(format!(
            "{i}-{}.plan.json",
            file.file_stem().unwrap_or_default().to_string_lossy()
        ))
    };
    let plan_args = |file: &Path| crate::cli::PlanArgs {
        profile: args.profile.clone(),
        model: Some(args.model),
        refresh: false,
        out: Some(saved(file)),
        format: crate::cli::PlanFormat::Table,
        detailed_exitcode: true,
    };
    let planned = fleet::run_all(files, limit, settings, "plan", &|file, own| {
        super::plan::one(file, &plan_args(file), own)
    });
    let to_apply: Vec<std::path::PathBuf> = planned
        .iter()
        .filter(|r| r.status == ExitStatus::Changes)
        .map(|r| r.file.clone())
        .collect();
    if to_apply.is_empty() {
        return Ok(fleet::report(&planned, "apply", false, &settings.ui));
    }
    if !settings.ui.json_events {
        settings.ui.out(&fleet::table(&planned));
    }
    if !settings.ui.confirm(&format!(
        "Apply the changes of {} data planes?",
        to_apply.len()
    ))? {
        return Err(UserError::new("apply cancelled; nothing was changed").into());
    }
    let applied = fleet::run_all(&to_apply, limit, settings, "apply", &|file, own| {
        let exact = ApplyArgs {
            plan_file: Some(saved(file)),
            auto_approve: true,
            ..args.clone()
        };
        one(file, &exact, own)
    });
    let _ = std::fs::remove_dir_all(&saved_dir);
    let mut rows = applied;
    rows.extend(
        planned
            .into_iter()
            .filter(|r| r.status != ExitStatus::Changes),
    );
    Ok(fleet::report(&rows, "apply", false, &settings.ui))
}

/// One data plane's apply.
pub fn one(profile: &Path, args: &ApplyArgs, settings: &Settings) -> Result<ExitStatus> {
    let ui = &settings.ui;
    let loaded = super::load_profile(profile, ui)?;
    super::check_model(&loaded, Some(args.model.into()))?;
    let stages = super::stages(loaded.profile.spec.model, args.stage)?;
    let backend = super::state_backend(settings, &loaded)?;
    let _lock = super::lock(backend.as_ref(), "apply", &loaded)?;
    let prior = super::load_state(backend.as_ref(), &loaded)?;
    let saved = args
        .plan_file
        .as_deref()
        .map(|file| saved_plan(file, &loaded, prior.as_ref()))
        .transpose()?;
    let mut plan = super::build_plan(&loaded)?;
    let mut state = super::state_or_new(prior, &loaded);
    let union_alone = stages == [Party::Union];
    let parallelism = usize::from(args.parallelism);

    super::runtime()?.block_on(async {
        let t0 = Instant::now();
        // The union stage alone reads with Union.ai's identity (all it has); otherwise the
        // customer's credentials read everything.
        let first = if union_alone { Party::Union } else { Party::Customer };
        let mut provider = Some(super::connect(&loaded, first, &state).await?);
        let refreshed = super::refresh_plan(&mut plan, &loaded, &state, &backend.location(), provider.as_deref().expect("just connected"), union_alone.then_some(Party::Union)).await?;
        super::show_plan_warnings(&plan, &loaded, ui);
        if let Some(saved) = &saved {
            same_changes(saved, &plan, args.plan_file.as_deref().unwrap_or(Path::new("")))?;
        }
        plan.resource_changes.retain(|c| shown_for(&plan.resources, &stages, c));
        if union_alone {
            super::refuse_customer_changes(&plan)?;
        }
        if !ui.json_events {
            // Unattended, the summary; the whole plan when someone answers, or when
            // something in it is refused.
            if args.auto_approve && plan.summary().blocked == 0 {
                ui.status(&render::summary_line(&plan));
            } else {
                ui.out(&ui.plan_table(&plan));
            }
        }
        super::refuse_blocked(&plan)?;
        // What a killed run made and this run found is recorded, even when nothing in the
        // cloud changes (a destroy could not name it otherwise).
        let to_record = plan.resource_changes.iter().any(|c| {
            c.action == crate::plan::Action::NoOp && state.resources.get(&c.address).is_none_or(|r| r.pending) && refreshed.live.get(&c.address).is_some_and(Option::is_some)
        });
        if !plan.has_changes() && !to_record {
            let calls = provider.as_ref().map_or(CallCounts::default(), |p| p.calls());
            ui.success(&format!("Apply complete in {:.1}s: no changes. {} API calls ({} mutating).", t0.elapsed().as_secs_f64(), calls.total, calls.mutating));
            ui.result("apply", ExitStatus::Success, json!({ "plan": render::changes_result(&plan), "stages": [], "calls": calls, "elapsed_ms": t0.elapsed().as_millis(), "state_serial": state.serial }));
            return Ok(());
        }
        if plan.has_changes() && !args.auto_approve && !ui.confirm("Apply these changes?")? {
            return Err(UserError::new("apply cancelled; nothing was changed").into());
        }
        super::watch_interrupts(ui, "apply");

        // The steps: the customer's resources, Union.ai's, then the customer's that refer
        // to Union.ai's (BYOC: e.g. a workload identity's trust in the cluster's issuer).
        let late: BTreeSet<String> = graph::after_union(&plan.resources).into_iter().map(String::from).collect();
        let ready = |a: &str| ready_now(&plan, &state, &late, a);
        // In BYOC the customer stage first makes what the union stage needs (the admin
        // identity, what Union.ai's resources refer to); then the union stage runs, and
        // beside it the customer's resources that neither side waits for.
        let before: BTreeSet<String> = graph::before_union(&plan.resources).into_iter().map(String::from).collect();
        let runs: Vec<(Vec<Party>, BTreeSet<String>)> = {
            let of_stage = |stage: Party, pick: &dyn Fn(&str) -> bool| -> BTreeSet<String> {
                plan.resource_changes.iter().filter(|c| c.stage == stage && pick(&c.address)).map(|c| c.address.clone()).collect()
            };
            match stages.as_slice() {
                [Party::Customer, Party::Union] => vec![
                    (vec![Party::Customer], of_stage(Party::Customer, &|a| before.contains(a))),
                    (
                        vec![Party::Union, Party::Customer],
                        of_stage(Party::Union, &|_| true).into_iter().chain(of_stage(Party::Customer, &|a| !late.contains(a) && !before.contains(a))).collect(),
                    ),
                    (vec![Party::Customer], of_stage(Party::Customer, &|a| late.contains(a))),
                ],
                [Party::Customer] => vec![(vec![Party::Customer], of_stage(Party::Customer, &|a| !late.contains(a) || ready(a)))],
                _ => stages.iter().map(|s| (vec![*s], of_stage(*s, &|_| true))).collect(),
            }
        };
        let waiting = plan.resource_changes.iter().filter(|c| c.action.is_change() && c.stage == Party::Customer && !runs.iter().any(|(_, set)| set.contains(&c.address))).count();

        let mut providers: Vec<(Party, Box<dyn Provider>)> = provider.take().map(|p| (first, p)).into_iter().collect();
        let mut stage_results = Vec::new();
        let mut all = WalkReport::default();
        for (parties, selected) in &runs {
            // A change, or a resource to record: found but not in state, or only its intent is
            // (a killed run made it; adopting it is a step).
            let work = |c: &&Change| selected.contains(&c.address) && (c.action.is_change() || state.resources.get(&c.address).is_none_or(|r| r.pending));
            let todo = plan.resource_changes.iter().filter(work).count();
            // Only the parties with work sign in: a customer-only change needs no Union.ai
            // credentials, and the union stage checks its inputs only when it works.
            let parties: Vec<Party> = parties.iter().copied().filter(|p| plan.resource_changes.iter().filter(work).any(|c| c.stage == *p)).collect();
            if todo == 0 || parties.is_empty() {
                continue;
            }
            // One provider per party, connected when first needed: the union stage's through
            // the admin identity that the customer stage has made by then.
            for &party in &parties {
                if !providers.iter().any(|(s, _)| *s == party) {
                    let p = super::connect(&loaded, party, &state).await?;
                    providers.push((party, p));
                }
            }
            let walkers: Vec<(Party, &dyn Provider)> = parties.iter().map(|party| (*party, providers.iter().find(|(s, _)| s == party).map(|(_, p)| p.as_ref()).expect("connected above"))).collect();
            let before_calls: Vec<CallCounts> = walkers.iter().map(|(_, p)| p.calls()).collect();
            let title = parties.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" and ");
            let progress = Progress::new(ui, &format!("Applying stage {title}: {}, {parallelism} at a time", crate::plan::count(todo as u64, "change")));
            let mut sink = |s: &mut State| backend.save(s);
            let result = exec::apply(&plan, &walkers, &|a| selected.contains(a), &refreshed, &mut state, &mut sink, &progress, parallelism).await;
            progress.finish();
            let report = result.with_context(|| format!("stage {title} stopped; state records what was done, and re-running apply resumes"))?;
            all.outcomes.extend(report.outcomes.iter().cloned());
            // One line and one result per party: what each side did, with its own calls.
            for ((party, p), before) in walkers.iter().zip(before_calls) {
                let after = p.calls();
                let calls = CallCounts { total: after.total - before.total, mutating: after.mutating - before.mutating };
                let outcomes: Vec<(String, Outcome)> = report
                    .outcomes
                    .iter()
                    // What was not selected was only checked, by the union stage.
                    .filter(|(a, _)| match plan.resource_changes.iter().find(|c| &c.address == a) {
                        Some(c) => (if selected.contains(a) { c.stage } else { Party::Union }) == *party,
                        None => false,
                    })
                    .cloned()
                    .collect();
                let part = WalkReport { outcomes, elapsed_ms: report.elapsed_ms };
                if parties.len() > 1 && part.outcomes.is_empty() {
                    continue;
                }
                ui.success(&format!("Stage {party} done: {} in {:.1}s ({} API calls, {} mutating).", describe(&part), part.elapsed_ms as f64 / 1000.0, calls.total, calls.mutating));
                stage_results.push(json!({ "stage": party, "outcomes": counts(&part), "elapsed_ms": part.elapsed_ms, "calls": calls }));
            }
        }
        if waiting > 0 {
            ui.warning(&format!(
                "{} of the customer's changes refer to Union.ai's resources and wait for the union stage; run `unionctl apply --stage customer` again after it",
                waiting
            ));
        }
        let calls = providers.iter().fold(CallCounts::default(), |sum, (_, p)| sum + p.calls());
        ui.success(&format!(
            "Apply complete in {:.1}s: {}; {} API calls ({} mutating). State: {} (serial {}).",
            t0.elapsed().as_secs_f64(),
            changes_made(&all),
            calls.total,
            calls.mutating,
            backend.location(),
            state.serial
        ));
        ui.result("apply", ExitStatus::Success, json!({ "plan": render::changes_result(&plan), "stages": stage_results, "calls": calls, "elapsed_ms": t0.elapsed().as_millis(), "state_serial": state.serial }));
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitStatus::Success)
}

/// Whether a change belongs to the stages being applied: its own stage, or (the union
/// stage) a customer-owned resource that stage depends on and checks.
fn shown_for(resources: &[crate::plan::Resource], stages: &[Party], c: &Change) -> bool {
    stages.contains(&c.stage)
        || (stages.contains(&Party::Union)
            && exec::stage_inputs(resources, Party::Union).contains(c.address.as_str()))
}

const OUTCOMES: [Outcome; 8] = [
    Outcome::Created,
    Outcome::Adopted,
    Outcome::Updated,
    Outcome::Deleted,
    Outcome::Unchanged,
    Outcome::Checked,
    Outcome::Read,
    Outcome::Gone,
];

/// "3 created, 1 updated, 40 unchanged".
fn describe(report: &WalkReport) -> String {
    let parts: Vec<String> = OUTCOMES
        .iter()
        .filter(|o| report.count(**o) > 0)
        .map(|o| format!("{} {}", report.count(*o), o.as_str()))
        .collect();
    if parts.is_empty() {
        "nothing to do".into()
    } else {
        parts.join(", ")
    }
}

/// "3 created, 2 updated, 0 deleted", and the adoptions when there were any: what the
/// apply changed, as Terraform's last line says it.
fn changes_made(report: &WalkReport) -> String {
    let n = |o| report.count(o);
    let mut line = format!(
        "{} created, {} updated, {} deleted",
        n(Outcome::Created),
        n(Outcome::Updated),
        n(Outcome::Deleted)
    );
    if n(Outcome::Adopted) > 0 {
        line.push_str(&format!(", {} adopted", n(Outcome::Adopted)));
    }
    line
}

fn counts(report: &WalkReport) -> serde_json::Value {
    OUTCOMES
        .iter()
        .map(|o| (o.as_str().replace(' ', "_"), json!(report.count(*o))))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// A plan saved by `plan --out`: applied exactly, and only if neither the profile nor the
/// state moved since it was made.
fn saved_plan(file: &Path, loaded: &LoadedProfile, state: Option<&State>) -> Result<Plan> {
    let text =
        std::fs::read(file).with_context(|| format!("cannot read plan {}", file.display()))?;
    let plan: Plan = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a unionctl plan", file.display()))?;
    if plan.format_version.split('.').next() != crate::plan::FORMAT_VERSION.split('.').next() {
        return Err(UserError::new(format!(
            "plan {} has format {}; this unionctl reads {}",
            file.display(),
            plan.format_version,
            crate::plan::FORMAT_VERSION
        ))
        .into());
    }
    if plan.profile_digest != loaded.digest {
        return Err(UserError::new(format!(
            "the profile changed since plan {} was made",
            file.display()
        ))
        .hint("make a new plan with `unionctl plan --out`")
        .into());
    }
    let current = state.map(State::reference);
    if plan.prior_state != current {
        let describe = |s: &Option<crate::plan::StateRef>| {
            s.as_ref().map_or("no state".to_string(), |s| {
                format!("serial {} of lineage {}", s.serial, s.lineage)
            })
        };
        return Err(UserError::new(format!(
            "plan {} is stale: it was made against {}, and state is now at {}",
            file.display(),
            describe(&plan.prior_state),
            describe(&current)
        ))
        .hint("make a new plan with `unionctl plan --out`")
        .into());
    }
    if plan.model != loaded.profile.spec.model {
        return Err(UserError::new("the saved plan is for another model").into());
    }
    Ok(plan)
}

/// A saved plan is carried out only if what exists still gives exactly its changes.
fn same_changes(saved: &Plan, fresh: &Plan, file: &Path) -> Result<()> {
    let key = |c: &Change| {
        (
            c.address.clone(),
            c.action,
            c.changed_paths.clone(),
            c.replace_paths.clone(),
        )
    };
    let mut a: Vec<_> = saved
        .resource_changes
        .iter()
        .filter(|c| c.action.is_change())
        .map(key)
        .collect();
    let mut b: Vec<_> = fresh
        .resource_changes
        .iter()
        .filter(|c| c.action.is_change())
        .map(key)
        .collect();
    a.sort();
    b.sort();
    if a != b {
        let differ: Vec<String> = b
            .iter()
            .filter(|x| !a.contains(x))
            .chain(a.iter().filter(|x| !b.contains(x)))
            .map(|x| x.0.clone())
            .collect();
        return Err(UserError::new(format!(
            "the live resources changed since plan {} was made ({}); nothing was changed",
            file.display(),
            differ.join(", ")
        ))
        .hint("make a new plan with `unionctl plan --out` and review it")
        .into());
    }
    Ok(())
}

/// Whether a late customer resource can be applied now (`--stage customer` alone): every
/// Union.ai resource it depends on, directly or through other late resources, is applied.
fn ready_now(
    plan: &crate::plan::Plan,
    state: &crate::state::State,
    late: &BTreeSet<String>,
    address: &str,
) -> bool {
    plan.resource(address).is_some_and(|r| {
        r.depends_on.iter().all(|d| match plan.resource(d) {
            Some(x) if x.stage == Party::Union => {
                state.resources.get(d).is_some_and(|s| !s.pending)
            }
            Some(_) if late.contains(d) => ready_now(plan, state, late, d),
            _ => true,
        })
    })
}
