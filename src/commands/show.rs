use std::path::Path;

use anyhow::Result;

use crate::error::ExitStatus;
use crate::settings::Settings;

/// What state records: address, cloud id, owner, stage.
pub fn run(profile: &Path, command: &str, settings: &Settings) -> Result<ExitStatus> {
    let ui = &settings.ui;
    let loaded = crate::ops::load_profile(profile, ui)?;
    let backend = crate::ops::state_backend(settings, &loaded)?;
    let Some(state) = crate::ops::load_state(backend.as_ref(), &loaded)? else {
        ui.status(&format!("No state at {}.", backend.location()));
        ui.result(
            command,
            ExitStatus::Success,
            serde_json::json!({ "location": backend.location(), "state": null }),
        );
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
    let resources: Vec<_> = state
        .resources
        .values()
        .map(|r| serde_json::json!({ "address": r.address, "kind": r.kind, "id": r.id, "owner": r.owner, "stage": r.stage, "pending": r.pending }))
        .collect();
    let body = serde_json::json!({ "location": backend.location(), "state": { "lineage": state.lineage, "serial": state.serial, "data_plane": state.data_plane, "cloud": state.cloud, "model": state.model, "resources": resources } });
    ui.show(command, body, &out);
    Ok(ExitStatus::Success)
}
