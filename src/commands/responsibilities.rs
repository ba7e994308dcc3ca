use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use serde_json::json;

use crate::cli::{MatrixFormat, ResponsibilitiesArgs};
use crate::error::ExitStatus;
use crate::plan::ownership::{responsibility, Component};
use crate::profile::{self, template, Model, Provider};
use crate::ui::Ui;

/// The resource kinds of each component on `cloud`, taken from the plan of the example
/// profile: the matrix lists exactly what the builders produce.
fn kinds(cloud: Provider, model: Model) -> Result<BTreeMap<Component, Vec<String>>> {
    let text = template::example(cloud, model);
    let loaded = profile::load_bytes(text.as_bytes(), Path::new("<example profile>"))?;
    let resources = crate::plan::desired_resources(&loaded.profile, crate::clouds::of(cloud))?;
    let mut map: BTreeMap<Component, Vec<String>> = BTreeMap::new();
    for r in resources {
        let list = map.entry(r.component).or_default();
        if !list.contains(&r.kind) {
            list.push(r.kind);
        }
    }
    Ok(map)
}

pub fn run(args: ResponsibilitiesArgs, ui: &Ui) -> Result<ExitStatus> {
    let model: Model = args.model.into();
    let cloud: Option<Provider> = args.cloud.map(Into::into);
    let kinds = match cloud {
        Some(c) => Some(kinds(c, model)?),
        None => None,
    };
    let rows: Vec<_> = Component::ALL
        .iter()
        .map(|c| {
            let r = responsibility(model, *c);
            let resources = kinds
                .as_ref()
                .map(|k| k.get(c).cloned().unwrap_or_default());
            (*c, r, resources)
        })
        .collect();

    let who = |p: Option<crate::plan::Party>| p.map_or("—", |p| p.display_name());
    let components: Vec<_> = rows
        .iter()
        .map(|(c, r, res)| {
            json!({
                "component": c,
                "title": c.title(),
                "present": r.is_some(),
                "owner": r.map(|r| r.owner),
                "operator": r.map(|r| r.operator),
                "patches": r.map(|r| r.patches),
                "stage": r.map(|r| r.stage),
                "resources": res,
            })
        })
        .collect();
    let matrix = json!({ "model": model, "cloud": cloud, "components": components });
    let text = match args.format {
        MatrixFormat::Json => format!("{}\n", serde_json::to_string_pretty(&matrix)?),
        MatrixFormat::Markdown => {
            let mut out = format!("| component | owns | operates | patches | created by |{}\n|---|---|---|---|---|{}\n", if cloud.is_some() { " resources |" } else { "" }, if cloud.is_some() { "---|" } else { "" });
            for (c, r, res) in &rows {
                let _ = write!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    c.title(),
                    who(r.map(|r| r.owner)),
                    who(r.map(|r| r.operator)),
                    who(r.map(|r| r.patches)),
                    r.map_or("absent", |r| r.stage.display_name())
                );
                if let Some(res) = res {
                    let _ = write!(
                        out,
                        " {} |",
                        res.iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                out.push('\n');
            }
            out
        }
        MatrixFormat::Table => {
            let mut out = format!(
                "Responsibilities, {model}{}\n\n",
                cloud.map(|c| format!(" on {c}")).unwrap_or_default()
            );
            let _ = writeln!(
                out,
                "{:<58}  {:<9} {:<9} {:<9} {:<10}",
                "COMPONENT", "OWNS", "OPERATES", "PATCHES", "CREATED BY"
            );
            for (c, r, res) in &rows {
                let _ = writeln!(
                    out,
                    "{:<58}  {:<9} {:<9} {:<9} {:<10}",
                    c.title(),
                    who(r.map(|r| r.owner)),
                    who(r.map(|r| r.operator)),
                    who(r.map(|r| r.patches)),
                    r.map_or("absent", |r| r.stage.display_name())
                );
                if let Some(res) = res.as_ref().filter(|r| !r.is_empty()) {
                    let _ = writeln!(out, "    {}", res.join(", "));
                }
            }
            if model == Model::SelfManaged {
                out.push_str("\nSelf-managed: Union.ai has no access. The data plane reaches the control plane only over connections it opens (outbound).\n");
            } else {
                out.push_str("\nBYOC: the customer keeps the account, network, keys and buckets; Union.ai runs the cluster through the admin identity and the private connection.\n");
            }
            out
        }
    };
    ui.show("responsibilities", matrix, &text);
    Ok(ExitStatus::Success)
}
