//! Plans as text: table (for people), JSON and YAML (for tools), Markdown (for a
//! pull-request comment), DOT (the DAG). Rendering only formats: the changes it shows were
//! computed by `diff`.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::ownership::Component;
use super::resolve::is_unknown;
use super::resource::{Mode, Party};
use super::{Action, Change, Plan};

/// The summary line: `32 to create: 21 customer-owned, 11 Union.ai-managed.`
pub fn summary_line(plan: &Plan) -> String {
    let s = plan.summary();
    let changes = s.create + s.update + s.replace + s.delete;
    if changes == 0 {
        return "No changes: the data plane matches the profile.".to_string();
    }
    let owners = format!(
        "{} customer-owned, {} Union.ai-managed",
        s.customer_owned, s.union_managed
    );
    let line = if s.create == changes {
        format!("Plan: {} to create: {owners}.", s.create)
    } else {
        format!(
            "Plan: {} to create, {} to update, {} to replace, {} to delete ({owners}).",
            s.create, s.update, s.replace, s.delete
        )
    };
    if s.blocked > 0 {
        return format!(
            "{line} {} refused: apply never deletes data or identity.",
            s.blocked
        );
    }
    line
}

/// The order in which stages run: customer, union, then the customer's resources that
/// refer to Union.ai's (BYOC only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Customer,
    Union,
    CustomerAfterUnion,
}

fn stage_heading(plan: &Plan, step: Step) -> String {
    match step {
        Step::Customer => match plan.model {
            crate::profile::Model::Byoc => "Stage customer: created with the customer's credentials".to_string(),
            crate::profile::Model::SelfManaged => "Stage customer: created with the customer's credentials (self-managed: the only stage)".to_string(),
        },
        Step::Union => "Stage union: created by Union.ai through the admin identity".to_string(),
        Step::CustomerAfterUnion => "Stage customer, after the union stage: the customer's resources that refer to Union.ai's (the customer's credentials)".to_string(),
    }
}

fn controls(plan: &Plan, address: &str) -> String {
    plan.resource(address)
        .map(|r| {
            r.controls
                .iter()
                .map(|c| c.slug())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn name_of(plan: &Plan, c: &Change) -> String {
    plan.resource(&c.address)
        .map(|r| r.name.clone())
        .unwrap_or_else(|| {
            c.before
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        })
}

/// Changes grouped by the step that carries them out, each group in plan order.
fn by_stage(plan: &Plan) -> Vec<(Step, Vec<&Change>)> {
    let late = super::graph::after_union(&plan.resources);
    let step = |c: &Change| match c.stage {
        Party::Union => Step::Union,
        Party::Customer if late.contains(c.address.as_str()) => Step::CustomerAfterUnion,
        Party::Customer => Step::Customer,
    };
    [Step::Customer, Step::Union, Step::CustomerAfterUnion]
        .into_iter()
        .map(|s| {
            (
                s,
                plan.resource_changes
                    .iter()
                    .filter(|c| step(c) == s)
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, cs)| !cs.is_empty())
        .collect()
}

pub fn table(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "unionctl plan: {} ({} {}, {}), org {}",
        plan.data_plane, plan.cloud, plan.region, plan.model, plan.org
    );
    let width = plan
        .resource_changes
        .iter()
        .map(|c| c.address.len())
        .max()
        .unwrap_or(10)
        .max(7);
    let name_width = plan
        .resource_changes
        .iter()
        .map(|c| name_of(plan, c).len())
        .max()
        .unwrap_or(4)
        .clamp(4, 40);
    for (stage, changes) in by_stage(plan) {
        let unchanged = changes.iter().filter(|c| c.action == Action::NoOp).count();
        if unchanged == changes.len() {
            let _ = writeln!(
                out,
                "\n{}: {unchanged} unchanged",
                stage_heading(plan, stage)
            );
            continue;
        }
        let _ = writeln!(out, "\n{}", stage_heading(plan, stage));
        let _ = writeln!(
            out,
            "  {:<11} {:<width$}  {:<name_width$}  {:<8}  CONTROLS",
            "ACTION", "ADDRESS", "NAME", "OWNER"
        );
        for c in changes.iter().filter(|c| c.action != Action::NoOp) {
            let action = format!("{} {}", c.action.symbol(), c.action.as_str());
            let mut name = name_of(plan, c);
            if name.len() > name_width {
                name.truncate(name_width - 1);
                name.push('…');
            }
            let drift = if c.drift {
                "  (changed outside unionctl)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  {:<11} {:<width$}  {:<name_width$}  {:<8}  {}{drift}",
                action.trim_end(),
                c.address,
                name,
                c.owner.as_str(),
                controls(plan, &c.address)
            );
            for path in &c.changed_paths {
                let forces = if c.replace_paths.contains(path) {
                    "  # forces replacement"
                } else {
                    ""
                };
                let before = c
                    .before
                    .pointer(path)
                    .map_or("(none)".to_string(), short_value);
                let after = c
                    .after
                    .pointer(path)
                    .map_or("(none)".to_string(), short_value);
                let _ = writeln!(
                    out,
                    "  {:<11} {:<width$}    {path}: {before} → {after}{forces}",
                    "", ""
                );
            }
            if let Some(reason) = &c.blocked {
                let _ = writeln!(out, "  {:<11} {:<width$}    ! refused: {reason}", "", "");
            }
        }
    }
    let unchanged = plan
        .resource_changes
        .iter()
        .filter(|c| c.action == Action::NoOp)
        .count();
    if unchanged > 0 && plan.has_changes() {
        let _ = writeln!(out, "\n({unchanged} resources unchanged, not listed)");
    }
    for w in &plan.warnings {
        let _ = writeln!(
            out,
            "\nwarning: {} — {}: {}",
            w.invariant, w.address, w.message
        );
    }
    let _ = writeln!(out, "\n{}", summary_line(plan));
    out
}

fn short_value(v: &Value) -> String {
    if is_unknown(v) {
        return "(known after apply)".to_string();
    }
    let s = v.to_string();
    if s.len() > 60 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(59).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

/// The plan's changes as the `--output json` result of `plan` and `apply`: what CI gates
/// on, without the settings (the saved plan has those).
pub fn changes_result(plan: &Plan) -> Value {
    let changes: Vec<Value> = plan
        .resource_changes
        .iter()
        .map(|c| {
            json!({
                "address": c.address,
                "action": c.action,
                "owner": c.owner,
                "stage": c.stage,
                "drift": c.drift,
                "changed_paths": c.changed_paths,
                "replace_paths": c.replace_paths,
                "blocked": c.blocked,
            })
        })
        .collect();
    json!({
        "data_plane": plan.data_plane,
        "cloud": plan.cloud,
        "region": plan.region,
        "model": plan.model,
        "prior_state": plan.prior_state,
        "summary": plan.summary(),
        "changes": changes,
    })
}

pub fn json(plan: &Plan) -> String {
    let mut s =
        serde_json::to_string_pretty(plan).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

pub fn yaml(plan: &Plan) -> Result<String, String> {
    serde_saphyr::to_string(plan).map_err(|e| e.to_string())
}

pub fn markdown(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### unionctl plan: `{}` ({} {}, {})\n",
        plan.data_plane, plan.cloud, plan.region, plan.model
    );
    let _ = writeln!(out, "**{}**\n", summary_line(plan));
    for (stage, changes) in by_stage(plan) {
        let _ = writeln!(out, "#### {}\n", stage_heading(plan, stage));
        let _ = writeln!(out, "| action | address | name | owner | controls |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for c in changes {
            let _ = writeln!(
                out,
                "| {} | `{}` | `{}` | {} | {} |",
                c.action.as_str(),
                c.address,
                name_of(plan, c),
                c.owner.display_name(),
                controls(plan, &c.address)
            );
        }
        out.push('\n');
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "#### Warnings\n");
        for w in &plan.warnings {
            let _ = writeln!(out, "- {}: `{}` — {}", w.invariant, w.address, w.message);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "<details><summary>Components and owners</summary>\n");
    let _ = writeln!(out, "| component | owner | resources |");
    let _ = writeln!(out, "|---|---|---|");
    for component in Component::ALL {
        let rs: Vec<&str> = plan
            .resources
            .iter()
            .filter(|r| r.component == component)
            .map(|r| r.address.as_str())
            .collect();
        if rs.is_empty() {
            continue;
        }
        let owner = plan
            .resources
            .iter()
            .find(|r| r.component == component)
            .map_or("", |r| r.owner.display_name());
        let _ = writeln!(out, "| {} | {} | {} |", component.title(), owner, rs.len());
    }
    let _ = writeln!(out, "\n</details>");
    out
}

/// The DAG in Graphviz DOT: customer-owned nodes blue, Union.ai-managed orange, data
/// sources dashed; edges point from a dependency to what needs it.
pub fn dot(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", plan.data_plane);
    let _ = writeln!(out, "  rankdir=LR;");
    let _ = writeln!(
        out,
        "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];"
    );
    for stage in [Party::Customer, Party::Union] {
        let members: Vec<_> = plan.resources.iter().filter(|r| r.stage == stage).collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  subgraph \"cluster_{}\" {{", stage.as_str());
        let _ = writeln!(out, "    label=\"stage {}\";", stage.as_str());
        for r in members {
            let fill = match r.owner {
                Party::Customer => "#cfe2ff",
                Party::Union => "#ffd8a8",
            };
            let style = if r.mode == Mode::Data {
                "rounded,filled,dashed"
            } else {
                "rounded,filled"
            };
            let _ = writeln!(
                out,
                "    \"{}\" [fillcolor=\"{fill}\", style=\"{style}\", tooltip=\"owner: {}\"];",
                r.address,
                r.owner.as_str()
            );
        }
        let _ = writeln!(out, "  }}");
    }
    for r in &plan.resources {
        for d in &r.depends_on {
            let _ = writeln!(out, "  \"{d}\" -> \"{}\";", r.address);
        }
    }
    let _ = writeln!(out, "}}");
    out
}
