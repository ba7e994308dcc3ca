//! `state unlock ID`: releases a lock that a dead run left behind.

use std::path::Path;

use anyhow::Result;
use serde_json::json;

use crate::error::ExitStatus;
use crate::settings::Settings;

pub fn run(id: &str, profile: &Path, settings: &Settings) -> Result<ExitStatus> {
    let ui = &settings.ui;
    let loaded = crate::ops::load_profile(profile, ui)?;
    let backend = crate::ops::state_backend(settings, &loaded)?;
    let held = backend.unlock(id)?;
    ui.success(&format!(
        "Released the lock on {} held by {} (pid {}, unionctl {}). Run the command again to resume from its state.",
        backend.location(),
        held.who,
        held.pid,
        held.operation
    ));
    ui.result(
        "state unlock",
        ExitStatus::Success,
        json!({ "location": backend.location(), "released": held }),
    );
    Ok(ExitStatus::Success)
}
