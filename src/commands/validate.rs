use std::path::Path;

use anyhow::Result;

use super::fleet::{self, Targets};
use crate::cli::ProfilesArgs;
use crate::error::ExitStatus;
use crate::settings::Settings;

pub fn run(args: &ProfilesArgs, settings: &Settings) -> Result<ExitStatus> {
    match fleet::targets(&args.profiles)? {
        Targets::One(path) => one(&path, settings),
        Targets::Fleet(files) => {
            let rows = fleet::run_all(
                &files,
                args.fleet_parallelism.into(),
                settings,
                "validate",
                &|file, own| one(file, own),
            );
            Ok(fleet::report(&rows, "validate", false, &settings.ui))
        }
    }
}

/// Validates the profile and builds its plan, so that invariant violations are reported too.
pub fn one(profile: &Path, settings: &Settings) -> Result<ExitStatus> {
    let ui = &settings.ui;
    let loaded = crate::ops::load_profile(profile, ui)?;
    let plan = crate::ops::build_plan(&loaded)?;
    crate::ops::show_plan_warnings(&plan, &loaded, ui);
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
