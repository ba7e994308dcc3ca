//! `verify`: the security invariants on what the cloud reports, not on what was sent.

use std::path::Path;

use anyhow::Result;

use crate::error::{ExitStatus, UserError};
use crate::ops::verify::Verified;
use crate::settings::Settings;
use crate::ui::view;

/// Reads every live resource and checks the security invariants on what the cloud
/// reports: the same checks as for plans, on observed settings.
pub fn run(args: &crate::cli::ProfilesArgs, settings: &Settings) -> Result<ExitStatus> {
    match super::fleet::targets(&args.profiles)? {
        super::fleet::Targets::One(path) => one(&path, settings),
        super::fleet::Targets::Fleet(files) => {
            let rows = super::fleet::run_all(
                &files,
                args.fleet_parallelism.into(),
                settings,
                "verify",
                &|file, own| one(file, own),
            );
            Ok(super::fleet::report(&rows, "verify", false, &settings.ui))
        }
    }
}

/// One data plane's verify.
pub fn one(profile: &Path, settings: &Settings) -> Result<ExitStatus> {
    let ui = &settings.ui;
    let loaded = crate::ops::load_profile(profile, ui)?;
    let backend = crate::ops::state_backend(settings, &loaded)?;
    let verified = crate::ops::verify::verify(&loaded, backend.as_ref())?;
    let Verified {
        observed,
        violations,
        missing,
        ids,
    } = verified;
    let status = view::verified(
        ui,
        &loaded.profile.metadata.name,
        observed.len(),
        &violations,
        &missing,
    );
    if !violations.is_empty() {
        return Err(anyhow::Error::new(crate::ops::live_failure(
            &loaded,
            "the live data plane breaks",
            violations,
            &observed,
            &ids,
        )));
    }
    if !missing.is_empty() {
        return Err(
            UserError::new(format!("{} resource(s) are missing", missing.len()))
                .hint(format!(
                    "run `unionctl apply --model {} -f {}` to re-create them",
                    loaded.profile.spec.model,
                    loaded.path.display()
                ))
                .into(),
        );
    }
    ui.success("All security invariants hold.");
    Ok(status)
}
