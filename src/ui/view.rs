//! Views of the commands that carry out a plan (apply and destroy): what a person reads
//! and the JSON result, from the typed results of the operations. Views render; they
//! never decide. `--output json` (chosen once, in `Ui`) turns the lines into events on
//! stderr and the result into one JSON object on stdout.

use std::time::Duration;

use serde_json::json;

use super::Ui;
use crate::error::ExitStatus;
use crate::exec::{CallCounts, Outcome, StageDone, WalkReport, OUTCOMES};
use crate::plan::{render, Plan, PlanMode};

/// The view of one apply or destroy.
pub struct RunView<'a> {
    ui: &'a Ui,
    mode: PlanMode,
}

/// How a run ended, for its last line and its result.
pub struct Finished<'a> {
    pub plan: &'a Plan,
    pub stages: &'a [StageDone],
    pub all: &'a WalkReport,
    pub calls: CallCounts,
    pub elapsed: Duration,
    pub state_location: &'a str,
    pub state_serial: u64,
}

impl<'a> RunView<'a> {
    pub fn new(ui: &'a Ui, mode: PlanMode) -> Self {
        RunView { ui, mode }
    }

    fn command(&self) -> &'static str {
        self.mode.as_str()
    }

    /// The plan before it is carried out: unattended, its summary; the whole table when
    /// someone answers, or when something in it is refused.
    pub fn plan(&self, plan: &Plan, auto_approve: bool) {
        if self.ui.json_events {
            return;
        }
        if auto_approve && plan.summary().blocked == 0 {
            self.ui.status(&render::summary_line(plan));
        } else {
            self.ui.out(&self.ui.plan_table(plan));
        }
    }

    /// One party's part of a walk, as it finishes.
    pub fn stage_done(&self, part: &StageDone) {
        let verb = match self.mode {
            PlanMode::Apply => "done",
            PlanMode::Destroy => "destroyed",
        };
        self.ui.success(&format!(
            "Stage {} {verb}: {} in {:.1}s ({} API calls, {} mutating).",
            part.stage,
            describe(&part.outcomes),
            part.elapsed_ms as f64 / 1000.0,
            part.calls.total,
            part.calls.mutating
        ));
    }

    /// The customer's changes that wait for Union.ai's resources.
    pub fn waiting(&self, count: usize) {
        if count > 0 {
            self.ui.warning(&format!(
                "{count} of the customer's changes refer to Union.ai's resources and wait for the union stage; run `unionctl apply --stage customer` again after it"
            ));
        }
    }

    /// Nothing to do: the plan has no changes.
    pub fn nothing_to_do(&self, plan: &Plan, calls: CallCounts, elapsed: Duration, serial: u64) {
        let line = match self.mode {
            PlanMode::Apply => format!(
                "Apply complete in {:.1}s: no changes. {} API calls ({} mutating).",
                elapsed.as_secs_f64(),
                calls.total,
                calls.mutating
            ),
            PlanMode::Destroy => render::summary_line(plan),
        };
        self.ui.success(&line);
        self.result(plan, &[], calls, elapsed, serial);
    }

    /// The last line, "3 created, 2 updated, 0 deleted", and the result.
    pub fn finished(&self, f: &Finished<'_>) {
        let verb = match self.mode {
            PlanMode::Apply => "Apply",
            PlanMode::Destroy => "Destroy",
        };
        self.ui.success(&format!(
            "{verb} complete in {:.1}s: {}; {} API calls ({} mutating). State: {} (serial {}).",
            f.elapsed.as_secs_f64(),
            match self.mode {
                PlanMode::Apply => changes_made(f.all),
                PlanMode::Destroy => deleted(f.all),
            },
            f.calls.total,
            f.calls.mutating,
            f.state_location,
            f.state_serial
        ));
        self.result(f.plan, f.stages, f.calls, f.elapsed, f.state_serial);
    }

    /// The result of apply and destroy alike (`docs/results-format.md`).
    fn result(
        &self,
        plan: &Plan,
        stages: &[StageDone],
        calls: CallCounts,
        elapsed: Duration,
        serial: u64,
    ) {
        self.ui.result(
            self.command(),
            ExitStatus::Success,
            json!({
                "plan": render::changes_result(plan),
                "stages": stages,
                "calls": calls,
                "elapsed_ms": elapsed.as_millis(),
                "state_serial": serial,
            }),
        );
    }

    /// A destroy that deletes the data its buckets hold.
    pub fn deletes_data(&self, plan: &Plan) {
        for c in plan
            .resource_changes
            .iter()
            .filter(|c| c.action == crate::plan::Action::Delete)
        {
            if let Some(n) = c.holds {
                self.ui.warning(&format!(
                    "{} holds {}, which will be deleted (--delete-data)",
                    c.address,
                    crate::plan::count(n, "object")
                ));
            }
        }
    }

    /// No state, so nothing to carry out.
    pub fn no_state(&self) {
        self.ui
            .success("No state: unionctl created nothing here, so there is nothing to destroy.");
        self.ui
            .result(self.command(), ExitStatus::Success, json!({ "stages": [] }));
    }

    /// A plan saved by `--out`, and how to carry it out.
    pub fn saved(&self, plan: &Plan, file: &std::path::Path, profile: &std::path::Path) {
        let how = match plan.mode {
            PlanMode::Apply => format!("unionctl apply --model {}", plan.model),
            PlanMode::Destroy => "unionctl destroy".to_string(),
        };
        self.ui.status(&format!(
            "Saved the plan to {}; carry out exactly it with: {how} -f {} {}",
            file.display(),
            profile.display(),
            file.display()
        ));
    }

    /// A plan that was only saved (`destroy --out`): its changes as the result.
    pub fn planned(&self, plan: &Plan, status: ExitStatus) {
        self.ui
            .result(self.command(), status, render::changes_result(plan));
    }
}

/// "3 created, 1 updated, 40 unchanged".
pub fn describe(report: &WalkReport) -> String {
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

/// "56 deleted, 1 already gone": what a destroy did.
fn deleted(report: &WalkReport) -> String {
    let mut line = format!("{} deleted", report.count(Outcome::Deleted));
    if report.count(Outcome::Gone) > 0 {
        line.push_str(&format!(", {} already gone", report.count(Outcome::Gone)));
    }
    line
}

/// "3 created, 2 updated, 0 deleted", and the adoptions when there were any: what the
/// run changed, as Terraform's last line says it.
pub fn changes_made(report: &WalkReport) -> String {
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
    if n(Outcome::Gone) > 0 {
        line.push_str(&format!(", {} already gone", n(Outcome::Gone)));
    }
    line
}

/// Verify's report and result: each invariant, pass or fail with what breaks it, and what
/// is missing. Returns the exit status they mean.
pub fn verified(
    ui: &Ui,
    data_plane: &str,
    checked: usize,
    violations: &[crate::plan::Violation],
    missing: &[String],
) -> ExitStatus {
    use crate::plan::invariants::Invariant;
    let mut report = format!(
        "Verified {} live resources of {data_plane} against the security invariants (docs/security.md):\n",
        checked,
    );
    let mut results = Vec::new();
    for inv in Invariant::ALL {
        let failed: Vec<_> = violations.iter().filter(|x| x.invariant == inv).collect();
        let mark = if failed.is_empty() { "PASS" } else { "FAIL" };
        report.push_str(&format!(
            "  {mark}  {:>2}. {:<22} {}\n",
            inv.number(),
            inv.slug(),
            inv.title()
        ));
        for x in &failed {
            let setting = if x.setting.is_empty() {
                String::new()
            } else {
                format!(" {}", x.setting)
            };
            report.push_str(&format!(
                "          {}{setting}: {}\n",
                x.address, x.message
            ));
        }
        results.push(json!({ "number": inv.number(), "invariant": inv, "title": inv.title(), "status": mark.to_lowercase(), "violations": failed }));
    }
    if !missing.is_empty() {
        report.push_str(&format!(
            "  MISSING {} resource(s) recorded or planned but not found: {}\n",
            missing.len(),
            missing.join(", ")
        ));
    }
    if !ui.json_events {
        ui.out(&report);
    }
    let status = if !violations.is_empty() {
        ExitStatus::Invariant
    } else if !missing.is_empty() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    };
    ui.result(
        "verify",
        status,
        json!({ "resources_checked": checked, "invariants": results, "missing": missing }),
    );
    status
}
