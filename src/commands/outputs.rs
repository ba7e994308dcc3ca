//! `outputs`: the hand-off after apply, and the `unionai/dataplane` Helm values.

use anyhow::{Context, Result};

use crate::cli::{DataFormat, OutputsArgs};
use crate::error::{ExitStatus, UserError};
use crate::settings::Settings;
use crate::state::write_atomically;

pub fn run(args: OutputsArgs, settings: &Settings) -> Result<ExitStatus> {
    let ui = &settings.ui;
    let loaded = crate::ops::load_profile(&args.profile.profile, ui)?;
    let backend = crate::ops::state_backend(settings, &loaded)?;
    let state = crate::ops::require_state(backend.as_ref(), &loaded)?;
    let doc = crate::ops::cloud_of(&loaded).hand_off(&loaded.profile, &state)?;
    let text = match args.format {
        DataFormat::Json => format!("{}\n", serde_json::to_string_pretty(&doc)?),
        DataFormat::Yaml => {
            let mut y = serde_saphyr::to_string(&doc)
                .map_err(|e| UserError::new(format!("cannot render YAML: {e}")))?;
            if !y.ends_with('\n') {
                y.push('\n');
            }
            y
        }
    };
    if ui.json_events {
        ui.result("outputs", ExitStatus::Success, doc.clone());
    } else {
        ui.out(&text);
    }
    if let Some(file) = &args.helm_values {
        let values = serde_saphyr::to_string(&doc["helm_values"])
            .map_err(|e| UserError::new(format!("cannot render YAML: {e}")))?;
        write_atomically(file, values.as_bytes())
            .with_context(|| format!("cannot write {}", file.display()))?;
        ui.status(&format!(
            "Wrote the unionai/dataplane Helm values to {}",
            file.display()
        ));
    }
    Ok(ExitStatus::Success)
}
