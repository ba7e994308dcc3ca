use anyhow::Result;

use crate::error::ExitStatus;
use crate::profile::structure::json_schema;
use crate::ui::Ui;

pub fn run(ui: &Ui) -> Result<ExitStatus> {
    let schema = json_schema();
    ui.show(
        "schema",
        serde_json::json!({ "schema": schema }),
        &format!("{}\n", serde_json::to_string_pretty(schema)?),
    );
    Ok(ExitStatus::Success)
}
