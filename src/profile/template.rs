//! Starter profiles, rendered from `templates/profile.yaml`.
//!
//! One template serves every cloud and model: `{{#key}}` … `{{/key}}` keeps its lines only
//! when `key` is the cloud or the model, and `{{cloud_title}}` / `{{model_title}}` are
//! replaced. The example profiles in `profiles/` are this template's output (a test keeps
//! them equal), so the examples and `init` cannot drift apart.

use super::schema::{Model, Provider};

const TEMPLATE: &str = include_str!("../../templates/profile.yaml");

pub fn render(cloud: Provider, model: Model) -> String {
    let keys = [cloud.as_str(), model.as_str()];
    let cloud_title = cloud.title();
    let model_title = match model {
        Model::Byoc => "BYOC",
        Model::SelfManaged => "self-managed",
    };
    let mut out = String::new();
    // Sections whose key does not apply, innermost first: skip lines while any is open.
    let mut skipping: Vec<bool> = Vec::new();
    for line in TEMPLATE.lines() {
        let t = line.trim();
        if let Some(key) = t.strip_prefix("{{#").and_then(|s| s.strip_suffix("}}")) {
            skipping.push(!keys.contains(&key));
            continue;
        }
        if t.starts_with("{{/") && t.ends_with("}}") {
            skipping.pop();
            continue;
        }
        if skipping.iter().any(|s| *s) {
            continue;
        }
        out.push_str(
            &line
                .replace("{{cloud_title}}", cloud_title)
                .replace("{{model_title}}", model_title),
        );
        out.push('\n');
    }
    out
}
