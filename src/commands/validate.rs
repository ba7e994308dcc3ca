use std::path::Path;

use anyhow::Result;

use crate::error::ExitStatus;
use crate::ui::Ui;

/// Validates the profile and builds its plan, so that invariant violations are reported too.
pub fn run(profile: &Path, ui: &Ui) -> Result<ExitStatus> {
    let loaded = super::load_profile(profile, ui)?;
    let plan = super::build_plan(&loaded)?;
    super::show_plan_warnings(&plan, &loaded, ui);
    ui.success(&format!(
        "{} is valid: {} {}, {} resources planned",
        loaded.path.display(),
        plan.cloud,
        plan.model,
        plan.resources.len()
    ));
    ui.result("validate", ExitStatus::Success, serde_json::json!({ "file": loaded.path, "cloud": plan.cloud, "model": plan.model, "resources": plan.resources.len(), "warnings": plan.warnings }));
    Ok(ExitStatus::Success)
}
