use std::path::Path;

use anyhow::Result;

use crate::error::ExitStatus;
use crate::settings::Settings;

/// What state records: address, cloud id, owner, stage.
pub fn run(profile: &Path, settings: &Settings) -> Result<ExitStatus> {
    let ui = &settings.ui;
    let loaded = super::load_profile(profile, ui)?;
    let backend = super::state_backend(settings, &loaded)?;
    let Some(state) = super::load_state(backend.as_ref(), &loaded)? else {
        ui.status(&format!("No state at {}.", backend.location()));
        return Ok(ExitStatus::Success);
    };
    let width = state.resources.keys().map(String::len).max().unwrap_or(7);
    let mut out = format!(
        "State {} (lineage {}, serial {}): {} resources\n\n{:<width$}  {:<8}  {:<8}  ID\n",
        backend.location(),
        state.lineage,
        state.serial,
        state.resources.len(),
        "ADDRESS",
        "OWNER",
        "STAGE"
    );
    for r in state.resources.values() {
        out.push_str(&format!(
            "{:<width$}  {:<8}  {:<8}  {}\n",
            r.address,
            r.owner.as_str(),
            r.stage.as_str(),
            r.id
        ));
    }
    ui.out(&out);
    Ok(ExitStatus::Success)
}
